//! Grouped bar charts with 95% whiskers: MOS by deployment, vendor comparisons.
//!
//! Categories run along the x axis (deployments, vendors); each [`BarSeries`] gives one bar
//! per category (e.g. caller and callee direction, or one bar per scenario). Long category
//! names wrap onto up to three lines under their group.

use super::style::{
    self, AXIS, AXIS_DESC_PX, GRID_BOLD, GRID_LIGHT, LegendEntry, MUTED, NOTE_PX, Swatch, TICK_PX,
    check_estimate, check_finite, draw_err, font, nice_range, series_color,
};
use super::{Chart, Estimate};
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

const NAME: &str = "bar";

/// One bar per category; `None` where there is no value (drawn as "n/a").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BarSeries {
    pub label: String,
    pub values: Vec<Option<Estimate>>,
}

/// A labelled horizontal line across the plot (a threshold).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceLine {
    pub label: String,
    pub y: f64,
}

/// Bars with confidence whiskers, grouped by category.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BarChart {
    pub title: String,
    /// The category axis, e.g. "Deployment" or "PBX model".
    pub x_label: String,
    /// The value axis with its unit, e.g. "MOS (E-model)".
    pub y_label: String,
    pub categories: Vec<String>,
    pub series: Vec<BarSeries>,
    /// Value axis range; `None` fits the data from zero.
    pub y_range: Option<(f64, f64)>,
    pub references: Vec<ReferenceLine>,
    /// Decimals of the value printed above each bar.
    pub value_decimals: usize,
    pub size: (u32, u32),
}

impl BarChart {
    /// An empty bar chart with a fitted range and two-decimal value labels.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        BarChart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            categories: Vec::new(),
            series: Vec::new(),
            y_range: None,
            references: Vec::new(),
            value_decimals: 2,
            size: style::DEFAULT_SIZE,
        }
    }

    /// MOS by deployment: the 1–5 MOS scale, with the G.107 Annex B lines at 3.6 ("some
    /// users dissatisfied") and 3.1 ("many users dissatisfied").
    pub fn mos(title: impl Into<String>, categories: Vec<String>, series: Vec<BarSeries>) -> Self {
        BarChart {
            categories,
            series,
            y_range: Some((1.0, 5.0)),
            references: vec![
                ReferenceLine {
                    label: "MOS 3.6: some users dissatisfied".into(),
                    y: crate::metrics::MOS_SOME_DISSATISFIED,
                },
                ReferenceLine {
                    label: "MOS 3.1: many users dissatisfied".into(),
                    y: crate::metrics::MOS_MANY_DISSATISFIED,
                },
            ],
            ..BarChart::new(title, "Deployment", "MOS (ITU-T G.107 E-model)")
        }
    }

    /// A vendor comparison: one group per vendor model, one bar per scenario or metric
    /// sharing the unit in `y_label`.
    pub fn vendor_comparison(
        title: impl Into<String>,
        y_label: impl Into<String>,
        vendors: Vec<String>,
        series: Vec<BarSeries>,
    ) -> Self {
        BarChart {
            categories: vendors,
            series,
            ..BarChart::new(title, "Vendor model", y_label)
        }
    }

    fn validate(&self) -> Result<(), ReportError> {
        for s in &self.series {
            if s.values.len() != self.categories.len() {
                return Err(ReportError::invalid(
                    NAME,
                    format!(
                        "series {:?} has {} values for {} categories",
                        s.label,
                        s.values.len(),
                        self.categories.len()
                    ),
                ));
            }
            for v in s.values.iter().flatten() {
                check_estimate(NAME, &s.label, v.mean, v.ci)?;
            }
        }
        if let Some((lo, hi)) = self.y_range {
            check_finite(NAME, "y range", lo)?;
            check_finite(NAME, "y range", hi)?;
            if lo >= hi {
                return Err(ReportError::invalid(
                    NAME,
                    format!("empty y range {lo}..{hi}"),
                ));
            }
        }
        for r in &self.references {
            check_finite(NAME, &r.label, r.y)?;
        }
        Ok(())
    }
}

/// The parts of a bar panel shared by [`BarChart`] and the comparison panels.
pub(crate) struct BarPanel<'a> {
    pub categories: &'a [String],
    pub series: &'a [BarSeries],
    pub y_range: Option<(f64, f64)>,
    pub references: &'a [ReferenceLine],
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    pub caption: Option<&'a str>,
    pub value_decimals: usize,
    /// Colour bars by category (one series, categories in the legend) instead of by series.
    pub color_by_category: bool,
    pub category_labels: bool,
}

impl BarPanel<'_> {
    fn y_range(&self) -> (f64, f64) {
        if let Some(r) = self.y_range {
            return r;
        }
        let vals = self.series.iter().flat_map(|s| s.values.iter().flatten());
        let (lo, hi) = vals.fold((0.0_f64, f64::NEG_INFINITY), |(a, b), e| {
            (a.min(e.low()), b.max(e.high()))
        });
        let hi = self.references.iter().map(|r| r.y).fold(hi, f64::max);
        if !hi.is_finite() {
            return (0.0, 1.0);
        }
        // Headroom for the value labels above the bars.
        let (nlo, nhi) = nice_range(lo, hi + 0.12 * (hi - lo).abs().max(1e-9));
        (nlo, nhi)
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), ReportError> {
        let ncat = self.categories.len().max(1);
        let (ylo, yhi) = self.y_range();
        let wrapped = if self.category_labels {
            self.wrap_labels(area)?
        } else {
            Vec::new()
        };
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(0) as u32;
        let x_area = 12 + lines * 20 + if self.x_desc.is_empty() { 0 } else { 34 };

        let mut builder = ChartBuilder::on(area);
        builder
            .margin(8)
            .margin_right(24)
            .x_label_area_size(x_area.max(12))
            .y_label_area_size(if self.y_desc.is_empty() { 56 } else { 84 });
        if let Some(c) = self.caption {
            builder.caption(c, font(AXIS_DESC_PX));
        }
        let mut chart = builder
            .build_cartesian_2d(0.0..ncat as f64, ylo..yhi)
            .map_err(draw_err)?;
        let span = yhi - ylo;
        let yfmt = move |v: &f64| style::fmt_tick(*v, span);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(8)
            .max_light_lines(1)
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .light_line_style(GRID_LIGHT)
            .bold_line_style(GRID_BOLD)
            .axis_style(AXIS)
            .label_style(font(TICK_PX))
            .axis_desc_style(font(AXIS_DESC_PX))
            .y_label_formatter(&yfmt)
            .draw()
            .map_err(draw_err)?;

        // Thresholds go behind the bars; the legend names them.
        for (i, r) in self.references.iter().enumerate() {
            if r.y < ylo || r.y > yhi {
                continue;
            }
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, r.y), (ncat as f64, r.y)],
                    8,
                    5,
                    reference_color(i).stroke_width(2),
                ))
                .map_err(draw_err)?;
        }

        let base = if ylo <= 0.0 && 0.0 <= yhi { 0.0 } else { ylo };
        let nser = self.series.len().max(1);
        let group = 0.76;
        let width = group / nser as f64;
        let label_style = font(NOTE_PX).pos(Pos::new(HPos::Center, VPos::Bottom));
        let plot_h = f64::from(chart.plotting_area().dim_in_pixel().1.max(1));
        let unit_per_px = (yhi - ylo) / plot_h;
        for (si, s) in self.series.iter().enumerate() {
            for (ci, v) in s.values.iter().enumerate() {
                let x0 = ci as f64 + (1.0 - group) / 2.0 + si as f64 * width;
                let (l, r) = (x0 + 0.06 * width, x0 + 0.94 * width);
                let mid = 0.5 * (l + r);
                let color = if self.color_by_category {
                    series_color(ci)
                } else {
                    series_color(si)
                };
                let Some(e) = v else {
                    let t = Text::new("n/a".to_string(), (mid, base), label_style.color(&MUTED));
                    chart.draw_series(std::iter::once(t)).map_err(draw_err)?;
                    continue;
                };
                let top = e.mean.clamp(ylo, yhi);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(l, base), (r, top)],
                        color.mix(0.85).filled(),
                    )))
                    .map_err(draw_err)?;
                let mut label_y = top;
                if let Some((lo, hi)) = e.ci {
                    let (lo, hi) = (lo.clamp(ylo, yhi), hi.clamp(ylo, yhi));
                    let cap = 0.18 * (r - l);
                    let whisker = TEXT_DARK.stroke_width(2);
                    let segs = [
                        vec![(mid, lo), (mid, hi)],
                        vec![(mid - cap, lo), (mid + cap, lo)],
                        vec![(mid - cap, hi), (mid + cap, hi)],
                    ];
                    chart
                        .draw_series(segs.into_iter().map(|p| PathElement::new(p, whisker)))
                        .map_err(draw_err)?;
                    label_y = label_y.max(hi);
                }
                let text = style::fmt_value(e.mean, self.value_decimals);
                // Above the whisker when there is room under the top of the plot; otherwise
                // inside the bar, in white, under the whisker's low end.
                let (pos, st) = if label_y + 22.0 * unit_per_px <= yhi {
                    ((mid, label_y + 4.0 * unit_per_px), label_style.clone())
                } else {
                    let below = e.low().min(top) - 6.0 * unit_per_px;
                    let inside = font(NOTE_PX)
                        .color(&WHITE)
                        .pos(Pos::new(HPos::Center, VPos::Top));
                    ((mid, below), inside)
                };
                chart
                    .draw_series(std::iter::once(Text::new(text, pos, st)))
                    .map_err(draw_err)?;
            }
        }

        // Category names, wrapped, centred under their group.
        let base_px = area.get_base_pixel();
        let st = font(TICK_PX).pos(Pos::new(HPos::Center, VPos::Top));
        for (ci, lines) in wrapped.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(ci as f64 + 0.5, ylo));
            for (k, line) in lines.iter().enumerate() {
                let pos = (px - base_px.0, py - base_px.1 + 8 + 20 * k as i32);
                area.draw_text(line, &st, pos).map_err(draw_err)?;
            }
        }
        if self
            .series
            .iter()
            .all(|s| s.values.iter().all(Option::is_none))
        {
            style::draw_note(area, "No data")?;
        }
        Ok(())
    }

    /// Greedy word wrap of each category name into its slot width (long hyphenated words
    /// break after a hyphen), at most three lines.
    fn wrap_labels<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<Vec<Vec<String>>, ReportError> {
        let plot_w = area.dim_in_pixel().0.saturating_sub(120) as f64;
        let slot = (0.9 * plot_w / self.categories.len().max(1) as f64 - 10.0).max(40.0);
        let st = font(TICK_PX);
        let width = |s: &str| -> Result<f64, ReportError> {
            Ok(f64::from(
                area.estimate_text_size(s, &st).map_err(draw_err)?.0,
            ))
        };
        let mut out = Vec::with_capacity(self.categories.len());
        for name in self.categories {
            // Words, and a word too wide for the slot (a vendor id such as
            // `siemens-openscape-voice-6`) split after its hyphens: `(glue, piece)`.
            let mut tokens: Vec<(&str, &str)> = Vec::new();
            for word in name.split_whitespace() {
                if width(word)? <= slot || !word.contains('-') {
                    tokens.push((" ", word));
                    continue;
                }
                let mut glue = " ";
                for piece in word.split_inclusive('-') {
                    tokens.push((glue, piece));
                    glue = "";
                }
            }
            let mut lines: Vec<String> = Vec::new();
            for (glue, word) in tokens {
                let joined = lines.last().map(|l| format!("{l}{glue}{word}"));
                match joined {
                    Some(j) if width(&j)? <= slot => {
                        if let Some(last) = lines.last_mut() {
                            *last = j;
                        }
                    }
                    _ => lines.push(word.to_string()),
                }
            }
            if lines.len() > 3 {
                let rest = lines.split_off(2).join(" ");
                lines.push(rest);
            }
            out.push(lines);
        }
        Ok(out)
    }
}

const TEXT_DARK: RGBColor = RGBColor(40, 40, 40);

/// Threshold lines: dark amber, dark red, then grey.
const REFERENCE_COLORS: [RGBColor; 3] = [
    RGBColor(190, 120, 0),
    RGBColor(180, 30, 30),
    RGBColor(100, 100, 100),
];

fn reference_color(i: usize) -> RGBColor {
    REFERENCE_COLORS[i.min(REFERENCE_COLORS.len() - 1)]
}

/// Legend entries for threshold lines.
pub(crate) fn reference_legend(refs: &[ReferenceLine]) -> Vec<LegendEntry> {
    refs.iter()
        .enumerate()
        .map(|(i, r)| LegendEntry {
            label: r.label.clone(),
            swatch: Swatch::Line {
                color: reference_color(i),
                dashed: true,
                marker: false,
            },
        })
        .collect()
}

impl Chart for BarChart {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        self.validate()?;
        let mut legend: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.label.is_empty())
            .map(|(i, s)| LegendEntry {
                label: s.label.clone(),
                swatch: Swatch::Bar {
                    color: series_color(i),
                },
            })
            .collect();
        legend.extend(reference_legend(&self.references));
        let area = style::frame(root, &self.title, &legend)?;
        BarPanel {
            categories: &self.categories,
            series: &self.series,
            y_range: self.y_range,
            references: &self.references,
            x_desc: &self.x_label,
            y_desc: &self.y_label,
            caption: None,
            value_decimals: self.value_decimals,
            color_by_category: false,
            category_labels: true,
        }
        .draw(&area)
    }
}
