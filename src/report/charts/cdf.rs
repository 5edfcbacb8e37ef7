//! Empirical CDFs (post-dial delay, setup time) per deployment, as step curves, with guide
//! lines at chosen shares (p50, p95 by default) and those percentiles in the legend.

use super::Chart;
use super::style::{
    self, LegendEntry, MUTED, NOTE_PX, Swatch, check_finite, draw_err, font, nice_range,
    series_color,
};
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

const NAME: &str = "CDF";

/// One deployment's CDF as `(value, cumulative share)` points, ascending (e.g. from
/// [`Histogram::cdf_curve`](crate::metrics::Histogram::cdf_curve)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CdfSeries {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Empirical CDFs of one measure across deployments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CdfChart {
    pub title: String,
    /// The measured axis, e.g. "Post-dial delay (ms)".
    pub x_label: String,
    /// Unit written after the percentiles in the legend, e.g. "ms".
    pub unit: String,
    pub series: Vec<CdfSeries>,
    /// Clip the value axis here (a long tail would squash the body); `None` shows all.
    pub x_max: Option<f64>,
    /// Shares marked with guide lines and reported in the legend (fractions).
    pub guides: Vec<f64>,
    pub size: (u32, u32),
}

impl CdfChart {
    /// A post-dial-delay CDF with p50 and p95 guides.
    pub fn new(title: impl Into<String>) -> Self {
        CdfChart {
            title: title.into(),
            x_label: "Post-dial delay (ms)".into(),
            unit: "ms".into(),
            series: Vec::new(),
            x_max: None,
            guides: vec![0.5, 0.95],
            size: style::DEFAULT_SIZE,
        }
    }

    fn validate(&self) -> Result<(), ReportError> {
        for g in &self.guides {
            if !(0.0..=1.0).contains(g) {
                return Err(ReportError::invalid(
                    NAME,
                    format!("guide share {g} is outside [0, 1]"),
                ));
            }
        }
        if let Some(m) = self.x_max {
            check_finite(NAME, "x_max", m)?;
        }
        for s in &self.series {
            let mut prev = (f64::NEG_INFINITY, 0.0);
            for &(x, p) in &s.points {
                check_finite(NAME, &s.label, x)?;
                if !(0.0..=1.0).contains(&p) || x < prev.0 || p < prev.1 {
                    return Err(ReportError::invalid(
                        NAME,
                        format!(
                            "{}: point ({x}, {p}) breaks an ascending CDF in [0, 1]",
                            s.label
                        ),
                    ));
                }
                prev = (x, p);
            }
        }
        Ok(())
    }

    fn legend(&self) -> Vec<LegendEntry> {
        self.series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let marks: Vec<String> = self
                    .guides
                    .iter()
                    .filter_map(|&g| {
                        let v = quantile(&s.points, g)?;
                        Some(format!("{} {} {}", share_name(g), fmt_amount(v), self.unit))
                    })
                    .collect();
                let label = if marks.is_empty() {
                    s.label.clone()
                } else {
                    format!("{} ({})", s.label, marks.join(", "))
                };
                LegendEntry {
                    label,
                    swatch: Swatch::Line {
                        color: series_color(i),
                        dashed: false,
                        marker: false,
                    },
                }
            })
            .collect()
    }
}

/// The first value whose cumulative share reaches `share`.
fn quantile(points: &[(f64, f64)], share: f64) -> Option<f64> {
    points
        .iter()
        .find(|&&(_, p)| p >= share - 1e-12)
        .map(|p| p.0)
}

/// Curves with at most this many points are drawn as exact steps; denser ones (thinned or
/// bucketed) as a polyline through the points, which a step drawing would only make jagged.
const STEP_MAX_POINTS: usize = 60;

/// The drawn path of a CDF in percent, from 0% at the first value, clipped at `x_end`
/// (interpolated there) or extended flat to it.
fn cdf_path(points: &[(f64, f64)], x_end: f64) -> Vec<(f64, f64)> {
    let Some(&(x0, _)) = points.first() else {
        return Vec::new();
    };
    if x0 > x_end {
        return Vec::new();
    }
    let step = points.len() <= STEP_MAX_POINTS;
    let mut path = vec![(x0, 0.0)];
    let mut prev = (x0, 0.0);
    for &(v, p) in points {
        if v > x_end {
            let level = if step || v <= prev.0 {
                prev.1
            } else {
                prev.1 + (p - prev.1) * (x_end - prev.0) / (v - prev.0)
            };
            path.push((x_end, 100.0 * level));
            return path;
        }
        if step {
            path.push((v, 100.0 * prev.1));
        }
        path.push((v, 100.0 * p));
        prev = (v, p);
    }
    if prev.0 < x_end {
        path.push((x_end, 100.0 * prev.1));
    }
    path
}

/// "p50", "p95", "p99.9".
fn share_name(g: f64) -> String {
    format!("p{}", style::fmt_tick(100.0 * g, 1.0))
}

/// Whole numbers for amounts >= 100, three significant digits below.
fn fmt_amount(v: f64) -> String {
    let a = v.abs();
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else {
        2
    };
    style::fmt_value(v, decimals)
}

impl Chart for CdfChart {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        self.validate()?;
        let area = style::frame(root, &self.title, &self.legend())?;
        let (lo, hi) = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
        let x = if lo.is_finite() {
            let hi = self.x_max.map_or(hi, |m| m.min(hi).max(lo));
            nice_range(lo.min(0.0), hi)
        } else {
            (0.0, self.x_max.unwrap_or(1000.0))
        };
        let mut chart = style::xy_chart(
            &area,
            x,
            (0.0, 100.0),
            &self.x_label,
            "Cumulative share of calls (%)",
        )?;

        for &g in &self.guides {
            let y = 100.0 * g;
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x.0, y), (x.1, y)],
                    6,
                    5,
                    MUTED.stroke_width(1),
                ))
                .map_err(draw_err)?;
            // Labelled at the left end: CDFs reach high shares on the right.
            let style = font(NOTE_PX)
                .color(&MUTED)
                .pos(Pos::new(HPos::Left, VPos::Bottom));
            let at = (x.0 + 0.005 * (x.1 - x.0), y);
            chart
                .draw_series(std::iter::once(Text::new(share_name(g), at, style)))
                .map_err(draw_err)?;
        }

        for (i, s) in self.series.iter().enumerate() {
            let path = cdf_path(&s.points, x.1);
            if path.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(path, series_color(i).stroke_width(3)))
                .map_err(draw_err)?;
        }
        if self.series.iter().all(|s| s.points.is_empty()) {
            style::draw_note(&area, "No data")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legend_names_percentiles() {
        let mut c = CdfChart::new("t");
        c.series.push(CdfSeries {
            label: "incremental".into(),
            points: vec![(100.0, 0.2), (850.0, 0.6), (1900.0, 0.96), (4000.0, 1.0)],
        });
        let l = c.legend();
        assert_eq!(l[0].label, "incremental (p50 850 ms, p95 1900 ms)");
        assert_eq!(share_name(0.999), "p99.9");
    }

    #[test]
    fn path_steps_and_clips() {
        let pts = [(10.0, 0.5), (20.0, 1.0)];
        assert_eq!(
            cdf_path(&pts, 30.0),
            vec![
                (10.0, 0.0),
                (10.0, 0.0),
                (10.0, 50.0),
                (20.0, 50.0),
                (20.0, 100.0),
                (30.0, 100.0)
            ]
        );
        assert_eq!(
            cdf_path(&pts, 15.0),
            vec![(10.0, 0.0), (10.0, 0.0), (10.0, 50.0), (15.0, 50.0)]
        );
        // Dense curves are interpolated at the clip.
        let dense: Vec<(f64, f64)> = (1..=100)
            .map(|i| (f64::from(i), f64::from(i) / 100.0))
            .collect();
        let path = cdf_path(&dense, 50.5);
        assert_eq!(path[path.len() - 1], (50.5, 50.5));
        assert!(cdf_path(&dense, 0.5).is_empty());
    }
}
