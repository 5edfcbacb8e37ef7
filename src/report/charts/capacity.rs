//! Capacity curves: offered load against blocking (or failure) and call success, one line
//! per deployment with its 95% band, the Erlang B curve of each bottleneck trunk group, the
//! grade-of-service line, and each deployment's capacity marked where it crosses.

use super::style::{
    self, LegendEntry, MUTED, NOTE_PX, Swatch, XyChart, check_estimate, check_finite, draw_err,
    font, nice_range, series_color,
};
use super::{Chart, Series};
use crate::metrics::erlang::erlang_b;
use crate::metrics::{Capacity, Crossing, Interpolation, LoadPoint, capacity_at_gos};
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

const NAME: &str = "capacity";
/// Points of the Erlang B overlay across the load axis.
const ERLANG_SAMPLES: usize = 240;

/// The theoretical Erlang B curve for a trunk group of `channels`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErlangBOverlay {
    pub channels: u32,
    /// Legend text; defaults to "Erlang B, N = {channels}".
    pub label: Option<String>,
    /// Draw it in the colour of this blocking series (the curve it describes); black when
    /// `None`.
    #[serde(default)]
    pub series: Option<usize>,
    /// The offered-load range to draw it over (default: the whole axis). Several trunk
    /// groups of very different sizes each get the range of their own curve, so a small
    /// group's curve does not climb off the chart over the large group's loads.
    #[serde(default)]
    pub x_range: Option<(f64, f64)>,
    /// The share of the axis's offered load that reaches the trunk group (calls that never
    /// touch it, and the time a channel is held while ringing, make it differ from 1): Erlang
    /// B is evaluated at `share × load`. `None` is 1.
    #[serde(default)]
    pub load_share: Option<f64>,
}

impl ErlangBOverlay {
    /// An overlay for `channels`, black, over the whole axis.
    pub fn new(channels: u32) -> Self {
        ErlangBOverlay {
            channels,
            label: None,
            series: None,
            x_range: None,
            load_share: None,
        }
    }

    /// Black, or a dark shade of its series' colour (drawn over the measured line, it must
    /// stay visible there).
    fn color(&self) -> RGBColor {
        self.series.map_or(BLACK, |i| {
            let RGBColor(r, g, b) = series_color(i);
            let dark = |c: u8| (f64::from(c) * 0.55) as u8;
            RGBColor(dark(r), dark(g), dark(b))
        })
    }
}

/// Offered load against blocking (lower panel) and, when given, call success (upper panel).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapacityChart {
    pub title: String,
    /// The load axis, e.g. "Offered load (Erlangs)".
    pub x_label: String,
    /// What the lower panel measures, e.g. "Blocking" or "Failure"; drawn as "... (%)".
    pub metric: String,
    /// Blocking (or failure) per deployment, as fractions.
    pub blocking: Vec<Series>,
    /// Call success per deployment, as fractions; an empty list leaves the panel out.
    pub success: Vec<Series>,
    /// Erlang B curves, one per trunk group size.
    pub erlang_b: Vec<ErlangBOverlay>,
    /// Grade of service (fraction) drawn as a line; each deployment's crossing is marked
    /// and its capacity written in the legend.
    pub gos: Option<f64>,
    pub size: (u32, u32),
}

impl CapacityChart {
    /// An empty chart with the usual axis names, a 1% grade of service and default size.
    pub fn new(title: impl Into<String>) -> Self {
        CapacityChart {
            title: title.into(),
            x_label: "Offered load (Erlangs)".into(),
            metric: "Blocking".into(),
            blocking: Vec::new(),
            success: Vec::new(),
            erlang_b: Vec::new(),
            gos: Some(crate::metrics::DEFAULT_GOS),
            size: style::DEFAULT_SIZE,
        }
    }

    fn validate(&self) -> Result<(), ReportError> {
        if let Some(g) = self.gos {
            if !(g > 0.0 && g < 1.0) {
                return Err(ReportError::invalid(
                    NAME,
                    format!("grade of service {g} is not a probability in (0, 1)"),
                ));
            }
        }
        for s in self.blocking.iter().chain(&self.success) {
            for p in &s.points {
                check_finite(NAME, &format!("{}: load", s.label), p.x)?;
                check_estimate(NAME, &s.label, p.y.mean, p.y.ci)?;
            }
        }
        Ok(())
    }

    fn x_range(&self) -> (f64, f64) {
        let xs = self
            .blocking
            .iter()
            .chain(&self.success)
            .flat_map(|s| s.points.iter().map(|p| p.x));
        let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        if !lo.is_finite() {
            return (0.0, 10.0);
        }
        if hi - lo <= 0.0 {
            return nice_range(lo, hi);
        }
        // The swept range itself, padded so the end markers are not cut.
        let pad = 0.02 * (hi - lo);
        (lo - pad, hi + pad)
    }

    /// Each overlay's Erlang B curve in percent over its part of the load axis.
    fn erlang_curves(&self, x: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
        self.erlang_b
            .iter()
            .map(|o| {
                let (lo, hi) = o
                    .x_range
                    .map_or(x, |(a, b)| (a.min(b).max(x.0), a.max(b).min(x.1)));
                (0..=ERLANG_SAMPLES)
                    .filter_map(|i| {
                        let a = lo + (hi - lo) * i as f64 / ERLANG_SAMPLES as f64;
                        let offered = a * o.load_share.unwrap_or(1.0);
                        erlang_b(o.channels, offered.max(0.0))
                            .ok()
                            .map(|b| (a, 100.0 * b))
                    })
                    .collect()
            })
            .collect()
    }

    /// Each blocking series' capacity at the grade of service (with its interval when every
    /// point has one).
    fn crossings(&self) -> Vec<Option<Capacity>> {
        let Some(gos) = self.gos else {
            return vec![None; self.blocking.len()];
        };
        self.blocking
            .iter()
            .map(|s| {
                let pts: Vec<LoadPoint> = s
                    .points
                    .iter()
                    .map(|p| LoadPoint {
                        offered: p.x,
                        value: p.y.mean.max(0.0),
                        ci: p.y.ci.map(|(lo, hi)| (lo.max(0.0), hi.max(0.0))),
                    })
                    .collect();
                capacity_at_gos(&pts, gos, Interpolation::LogLinear).ok()
            })
            .collect()
    }

    fn legend(&self, crossings: &[Option<Capacity>]) -> Vec<LegendEntry> {
        let mut out: Vec<LegendEntry> = self
            .blocking
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let cap = crossings[i].map(|c| capacity_text(&c)).unwrap_or_default();
                LegendEntry {
                    label: format!("{}{cap}", s.label),
                    swatch: Swatch::LineBand {
                        color: series_color(i),
                    },
                }
            })
            .collect();
        // Success-only deployments (no blocking series) still need their colour explained.
        for (i, s) in self.success.iter().enumerate().skip(self.blocking.len()) {
            out.push(LegendEntry {
                label: s.label.clone(),
                swatch: Swatch::LineBand {
                    color: series_color(i),
                },
            });
        }
        for o in &self.erlang_b {
            out.push(LegendEntry {
                label: o
                    .label
                    .clone()
                    .unwrap_or_else(|| format!("Erlang B, N = {}", o.channels)),
                swatch: Swatch::Line {
                    color: o.color(),
                    dashed: true,
                    marker: false,
                },
            });
        }
        out
    }
}

/// " (capacity at 1%: 13.9 E, 95% CI 13.5–14.3)", or "> 26.0 E" / "< 8.0 E" outside the sweep.
fn capacity_text(c: &Capacity) -> String {
    let gos = style::fmt_tick(100.0 * c.gos, 1.0);
    let est = match c.estimate {
        Crossing::At { erlangs, .. } => format!("{erlangs:.1} E"),
        Crossing::AboveSweep { max_offered } => format!("> {max_offered:.1} E"),
        Crossing::BelowSweep { min_offered } => format!("< {min_offered:.1} E"),
    };
    let bound = |b: Option<Crossing>| match b {
        Some(Crossing::At { erlangs, .. }) => Some(format!("{erlangs:.1}")),
        Some(Crossing::AboveSweep { max_offered }) => Some(format!(">{max_offered:.1}")),
        Some(Crossing::BelowSweep { min_offered }) => Some(format!("<{min_offered:.1}")),
        None => None,
    };
    match (bound(c.low), bound(c.high)) {
        (Some(lo), Some(hi)) if c.estimate.erlangs().is_some() => {
            format!(" (capacity at {gos}%: {est}, 95% CI {lo}–{hi})")
        }
        _ => format!(" (capacity at {gos}%: {est})"),
    }
}

/// Draws the bands, then the lines with point markers, of percent-scaled series.
fn draw_series<DB: DrawingBackend>(
    chart: &mut XyChart<'_, DB>,
    series: &[Series],
) -> Result<(), ReportError> {
    for (i, s) in series.iter().enumerate() {
        let color = series_color(i);
        let pts = &s.points;
        if pts.iter().any(|p| p.y.ci.is_some()) {
            if pts.len() >= 2 {
                let mut poly: Vec<(f64, f64)> =
                    pts.iter().map(|p| (p.x, 100.0 * p.y.low())).collect();
                poly.extend(pts.iter().rev().map(|p| (p.x, 100.0 * p.y.high())));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        color.mix(0.18).filled(),
                    )))
                    .map_err(draw_err)?;
            } else {
                chart
                    .draw_series(pts.iter().map(|p| {
                        PathElement::new(
                            vec![(p.x, 100.0 * p.y.low()), (p.x, 100.0 * p.y.high())],
                            color.stroke_width(2),
                        )
                    }))
                    .map_err(draw_err)?;
            }
        }
    }
    for (i, s) in series.iter().enumerate() {
        let color = series_color(i);
        let line: Vec<(f64, f64)> = s.points.iter().map(|p| (p.x, 100.0 * p.y.mean)).collect();
        chart
            .draw_series(LineSeries::new(line.iter().copied(), color.stroke_width(3)))
            .map_err(draw_err)?;
        chart
            .draw_series(
                line.iter()
                    .map(|&p| Circle::new(p, 4, color.filled().stroke_width(1))),
            )
            .map_err(draw_err)?;
    }
    Ok(())
}

fn max_pct(series: &[Series]) -> f64 {
    series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| 100.0 * p.y.high()))
        .fold(0.0, f64::max)
}

fn min_pct(series: &[Series]) -> f64 {
    series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| 100.0 * p.y.low()))
        .fold(100.0, f64::min)
}

impl Chart for CapacityChart {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        self.validate()?;
        let crossings = self.crossings();
        let area = style::frame(root, &self.title, &self.legend(&crossings))?;
        let x = self.x_range();
        let (upper, lower) = if self.success.is_empty() {
            (None, area)
        } else {
            let h = area.dim_in_pixel().1;
            let (u, l) = area.split_vertically(h * 2 / 5);
            (Some(u), l)
        };

        if let Some(upper) = upper {
            let (lo, _) = nice_range(min_pct(&self.success).min(99.0), 100.0);
            let mut chart =
                style::xy_chart(&upper, x, (lo.max(0.0), 100.0), "", "Call success (%)")?;
            draw_series(&mut chart, &self.success)?;
        }

        let erlang = self.erlang_curves(x);
        let gos_pct = self.gos.map(|g| 100.0 * g);
        let top = max_pct(&self.blocking)
            .max(erlang.iter().flatten().map(|p| p.1).fold(0.0, f64::max))
            .max(gos_pct.map_or(0.0, |g| 2.0 * g));
        let (_, yhi) = nice_range(0.0, top.max(1e-3));
        let y_desc = format!("{} (%)", self.metric);
        let mut chart = style::xy_chart(&lower, x, (0.0, yhi), &self.x_label, &y_desc)?;

        if let Some(g) = gos_pct {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x.0, g), (x.1, g)],
                    MUTED.stroke_width(1),
                )))
                .map_err(draw_err)?;
            let label = format!("GoS {}%", style::fmt_tick(g, 1.0));
            let style = font(NOTE_PX)
                .color(&MUTED)
                .pos(Pos::new(HPos::Right, VPos::Bottom));
            chart
                .draw_series(std::iter::once(Text::new(label, (x.1, g), style)))
                .map_err(draw_err)?;
        }
        // Erlang B over the measured lines, so that where they agree it is still seen.
        draw_series(&mut chart, &self.blocking)?;
        for (o, curve) in self.erlang_b.iter().zip(erlang) {
            if !curve.is_empty() {
                chart
                    .draw_series(DashedLineSeries::new(
                        curve,
                        10,
                        6,
                        o.color().stroke_width(2),
                    ))
                    .map_err(draw_err)?;
            }
        }

        // Each capacity: a thin dashed vertical in the deployment's colour, labelled on top.
        let label_px = 20.0;
        let plot_h = f64::from(chart.plotting_area().dim_in_pixel().1.max(1));
        for (i, c) in crossings.iter().enumerate() {
            if let Some(Crossing::At { erlangs, .. }) = c.map(|c| c.estimate).as_ref() {
                let color = series_color(i);
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(*erlangs, 0.0), (*erlangs, yhi)],
                        5,
                        4,
                        color.stroke_width(2),
                    ))
                    .map_err(draw_err)?;
                let y = yhi - (4.0 + label_px * i as f64) * yhi / plot_h;
                let st = font(NOTE_PX)
                    .color(&color)
                    .pos(Pos::new(HPos::Left, VPos::Top));
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!(" {erlangs:.1} E"),
                        (*erlangs, y),
                        st,
                    )))
                    .map_err(draw_err)?;
            }
        }
        if self.blocking.is_empty() {
            style::draw_note(&lower, "No data")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An overlay with a load share evaluates Erlang B at that share of the axis load: at
    /// x = 40 E with share 0.5, N = 30 sees 20.337 E and blocks 1%.
    #[test]
    fn the_erlang_b_overlay_is_evaluated_at_the_trunk_share_of_the_load() {
        let mut chart = CapacityChart::new("t");
        chart.erlang_b = vec![
            ErlangBOverlay::new(30),
            ErlangBOverlay {
                load_share: Some(0.5),
                ..ErlangBOverlay::new(30)
            },
        ];
        let curves = chart.erlang_curves((0.0, 40.674));
        let (whole, half) = (curves[0].last().unwrap(), curves[1].last().unwrap());
        assert_eq!(whole.0, half.0);
        approx::assert_relative_eq!(half.1, 1.0, max_relative = 1e-3);
        assert!(whole.1 > 20.0, "{whole:?}");
    }
}
