//! A heatmap over two swept parameters (MOS over WAN latency × loss), with a colour scale
//! legend and, for readable grids, the value written in each cell.

use super::Chart;
use super::style::{
    self, AXIS, AXIS_DESC_PX, MUTED, NOTE_PX, TICK_PX, check_finite, draw_err, font,
};
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

const NAME: &str = "heatmap";
/// Cells are annotated with their value when the grid has at most this many columns.
const ANNOTATE_MAX_COLS: usize = 14;
/// Slices of the colour bar.
const SCALE_STEPS: usize = 120;

/// ColorBrewer RdYlGn (11 classes): red for low, green for high.
const RD_YL_GN: [(u8, u8, u8); 11] = [
    (165, 0, 38),
    (215, 48, 39),
    (244, 109, 67),
    (253, 174, 97),
    (254, 224, 139),
    (255, 255, 191),
    (217, 239, 139),
    (166, 217, 106),
    (102, 189, 99),
    (26, 152, 80),
    (0, 104, 55),
];

/// Values on a grid of `x_values` (columns) × `y_values` (rows).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeatmapChart {
    pub title: String,
    /// Column parameter, e.g. "One-way latency (ms)".
    pub x_label: String,
    /// Row parameter, e.g. "Packet loss (%)".
    pub y_label: String,
    /// What the colour shows, e.g. "MOS".
    pub value_label: String,
    pub x_values: Vec<f64>,
    pub y_values: Vec<f64>,
    /// `values[row][col]`: row `i` is `y_values[i]`, column `j` is `x_values[j]`.
    pub values: Vec<Vec<Option<f64>>>,
    /// The colour scale's ends; values outside take the end colour.
    pub scale: (f64, f64),
    /// True when high values are good (green); false flips the colours.
    pub higher_is_better: bool,
    /// Decimals of the values written in the cells.
    pub decimals: usize,
    pub size: (u32, u32),
}

impl HeatmapChart {
    /// A MOS heatmap over one-way latency (ms) × packet loss (%), on the 1–4.5 E-model scale.
    pub fn mos(
        title: impl Into<String>,
        latency_ms: Vec<f64>,
        loss_pct: Vec<f64>,
        mos: Vec<Vec<Option<f64>>>,
    ) -> Self {
        HeatmapChart {
            title: title.into(),
            x_label: "One-way latency (ms)".into(),
            y_label: "Packet loss (%)".into(),
            value_label: "MOS (E-model)".into(),
            x_values: latency_ms,
            y_values: loss_pct,
            values: mos,
            scale: (1.0, 4.5),
            higher_is_better: true,
            decimals: 2,
            size: style::DEFAULT_SIZE,
        }
    }

    fn validate(&self) -> Result<(), ReportError> {
        if self.values.len() != self.y_values.len() {
            return Err(ReportError::invalid(
                NAME,
                format!(
                    "{} rows of values for {} y values",
                    self.values.len(),
                    self.y_values.len()
                ),
            ));
        }
        for (i, row) in self.values.iter().enumerate() {
            if row.len() != self.x_values.len() {
                return Err(ReportError::invalid(
                    NAME,
                    format!(
                        "row {i} has {} values for {} x values",
                        row.len(),
                        self.x_values.len()
                    ),
                ));
            }
            for v in row.iter().flatten() {
                check_finite(NAME, "cell value", *v)?;
            }
        }
        for v in self.x_values.iter().chain(&self.y_values) {
            check_finite(NAME, "axis value", *v)?;
        }
        check_finite(NAME, "scale", self.scale.0)?;
        check_finite(NAME, "scale", self.scale.1)?;
        if self.scale.0 >= self.scale.1 {
            return Err(ReportError::invalid(
                NAME,
                format!("empty colour scale {:?}", self.scale),
            ));
        }
        Ok(())
    }

    /// The colour of a value on the scale.
    fn color(&self, v: f64) -> RGBColor {
        let (lo, hi) = self.scale;
        let mut t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        if !self.higher_is_better {
            t = 1.0 - t;
        }
        let pos = t * (RD_YL_GN.len() - 1) as f64;
        let i = (libm::floor(pos) as usize).min(RD_YL_GN.len() - 2);
        let f = pos - i as f64;
        let (a, b) = (RD_YL_GN[i], RD_YL_GN[i + 1]);
        let mix =
            |x: u8, y: u8| libm::round(f64::from(x) + f * (f64::from(y) - f64::from(x))) as u8;
        RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    fn draw_grid<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), ReportError> {
        let (nx, ny) = (self.x_values.len().max(1), self.y_values.len().max(1));
        let mut chart = ChartBuilder::on(area)
            .margin(8)
            .x_label_area_size(64)
            .y_label_area_size(84)
            // An integer range a..b has b − a + 1 segments.
            .build_cartesian_2d((0..nx - 1).into_segmented(), (0..ny - 1).into_segmented())
            .map_err(draw_err)?;
        // Each axis names its cells by the swept value, at the cell centre.
        let axis_label = |vals: &[f64], v: &SegmentValue<usize>| -> String {
            let span = vals.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
            match v {
                SegmentValue::CenterOf(i) => vals
                    .get(*i)
                    .map(|x| style::fmt_tick(*x, span.max(1e-9)))
                    .unwrap_or_default(),
                _ => String::new(),
            }
        };
        let xf = |v: &SegmentValue<usize>| axis_label(&self.x_values, v);
        let yf = |v: &SegmentValue<usize>| axis_label(&self.y_values, v);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx + 1)
            .y_labels(ny + 1)
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .axis_style(AXIS)
            .label_style(font(TICK_PX))
            .axis_desc_style(font(AXIS_DESC_PX))
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .draw()
            .map_err(draw_err)?;

        let annotate = self.x_values.len() <= ANNOTATE_MAX_COLS;
        let centre = Pos::new(HPos::Center, VPos::Center);
        for (r, row) in self.values.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                use SegmentValue::{CenterOf, Exact};
                let corners = [(Exact(c), Exact(r)), (Exact(c + 1), Exact(r + 1))];
                let fill = v.map_or(RGBColor(225, 225, 225), |v| self.color(v));
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        corners.clone(),
                        fill.filled(),
                    )))
                    .map_err(draw_err)?;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        corners,
                        WHITE.stroke_width(1),
                    )))
                    .map_err(draw_err)?;
                if !annotate {
                    continue;
                }
                let (text, ink) = match v {
                    Some(v) => {
                        // Dark text on light cells, white on dark ones (Rec. 709 luma).
                        let luma = 0.2126 * f64::from(fill.0)
                            + 0.7152 * f64::from(fill.1)
                            + 0.0722 * f64::from(fill.2);
                        let ink = if luma < 120.0 {
                            WHITE
                        } else {
                            RGBColor(20, 20, 20)
                        };
                        (style::fmt_value(*v, self.decimals), ink)
                    }
                    None => ("n/a".to_string(), MUTED),
                };
                let st = font(NOTE_PX).color(&ink).pos(centre);
                chart
                    .draw_series(std::iter::once(Text::new(
                        text,
                        (CenterOf(c), CenterOf(r)),
                        st,
                    )))
                    .map_err(draw_err)?;
            }
        }
        Ok(())
    }

    fn draw_scale<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), ReportError> {
        let (lo, hi) = self.scale;
        let mut chart = ChartBuilder::on(area)
            .margin_top(8)
            .margin_bottom(72)
            .margin_left(10)
            .right_y_label_area_size(90)
            .build_cartesian_2d(0.0..1.0, lo..hi)
            .map_err(draw_err)?;
        let span = hi - lo;
        let yf = move |v: &f64| style::fmt_tick(*v, span);
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(8)
            .y_desc(self.value_label.as_str())
            .axis_style(AXIS)
            .label_style(font(TICK_PX))
            .axis_desc_style(font(AXIS_DESC_PX))
            .y_label_formatter(&yf)
            .draw()
            .map_err(draw_err)?;
        let step = span / SCALE_STEPS as f64;
        chart
            .draw_series((0..SCALE_STEPS).map(|i| {
                let y0 = lo + step * i as f64;
                Rectangle::new(
                    [(0.0, y0), (1.0, y0 + step)],
                    self.color(y0 + 0.5 * step).filled(),
                )
            }))
            .map_err(draw_err)?;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, lo), (1.0, hi)],
                AXIS.stroke_width(1),
            )))
            .map_err(draw_err)?;
        Ok(())
    }
}

impl Chart for HeatmapChart {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        self.validate()?;
        let area = style::frame(root, &self.title, &[])?;
        let w = area.dim_in_pixel().0;
        let (grid, scale) = area.split_horizontally(w.saturating_sub(150));
        self.draw_grid(&grid)?;
        self.draw_scale(&scale)?;
        if self.values.iter().all(|r| r.iter().all(Option::is_none)) {
            style::draw_note(&grid, "No data")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_scale_ends_and_direction() {
        let mut h = HeatmapChart::mos("t", vec![], vec![], vec![]);
        assert_eq!(h.color(1.0), RGBColor(165, 0, 38));
        assert_eq!(h.color(0.0), RGBColor(165, 0, 38), "clamped below");
        assert_eq!(h.color(4.5), RGBColor(0, 104, 55));
        assert_eq!(
            h.color(2.75),
            RGBColor(255, 255, 191),
            "midpoint is the neutral colour"
        );
        h.higher_is_better = false;
        assert_eq!(h.color(4.5), RGBColor(165, 0, 38));
    }
}
