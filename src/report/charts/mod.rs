//! Charts for capacity, post-dial delay, voice quality and comparisons, drawn with plotters
//! to SVG and PNG from the same data and the same drawing code.
//!
//! Inputs are plain structs (series of means with optional 95% intervals, CDF curves,
//! grids); nothing here knows the simulator. Each chart type implements [`Chart`];
//! [`write_chart`] writes `STEM.svg` and `STEM.png` into a directory, each through a
//! temporary file renamed into place, so a reader never sees half a chart.
//!
//! Text is measured and rasterised with DejaVu Sans embedded in the binary
//! (`fonts/DejaVuSans.ttf`, Bitstream Vera licence in `fonts/LICENSE-DejaVu.txt`): no system
//! font library is used, and the same input gives byte-identical SVG and PNG files.
//!
//! Probabilities (blocking, success, CDF shares) are given as fractions in [0, 1] and drawn as
//! percentages.

mod bars;
mod capacity;
mod cdf;
mod comparison;
mod heatmap;
mod style;

pub use bars::{BarChart, BarSeries, ReferenceLine};
pub use capacity::{CapacityChart, ErlangBOverlay};
pub use cdf::{CdfChart, CdfSeries};
pub use comparison::{ComparisonChart, ComparisonMetric};
pub use heatmap::HeatmapChart;

use crate::metrics::Summary;
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use style::draw_err;

/// A chart that can draw itself on any plotters backend.
pub trait Chart {
    /// Canvas size in pixels (SVG user units), width × height.
    fn size(&self) -> (u32, u32);
    /// Draws the whole chart on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError>;
}

/// A mean with its optional 95% interval `(low, high)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci: Option<(f64, f64)>,
}

impl Estimate {
    /// A value without an interval.
    pub fn exact(mean: f64) -> Self {
        Estimate { mean, ci: None }
    }

    /// From a metrics [`Summary`]; `None` when it has no mean (n = 0).
    pub fn from_summary(s: &Summary) -> Option<Self> {
        let mean = s.mean?;
        let ci = s.ci95_low.zip(s.ci95_high);
        Some(Estimate { mean, ci })
    }

    /// The interval's low end, or the mean without one.
    pub fn low(&self) -> f64 {
        self.ci.map_or(self.mean, |c| c.0)
    }

    /// The interval's high end, or the mean without one.
    pub fn high(&self) -> f64 {
        self.ci.map_or(self.mean, |c| c.1)
    }
}

/// One point of a [`Series`]: an x value and the estimate there.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub x: f64,
    pub y: Estimate,
}

/// A labelled line of points with optional confidence intervals (drawn as a band).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub label: String,
    pub points: Vec<SeriesPoint>,
}

impl SeriesPoint {
    /// A point at `x` with `mean` and an optional `(low, high)` interval.
    pub fn new(x: f64, mean: f64, ci: Option<(f64, f64)>) -> Self {
        SeriesPoint {
            x,
            y: Estimate { mean, ci },
        }
    }
}

impl Series {
    pub fn new(label: impl Into<String>, points: impl IntoIterator<Item = SeriesPoint>) -> Self {
        Series {
            label: label.into(),
            points: points.into_iter().collect(),
        }
    }
}

/// Registers the embedded DejaVu Sans with plotters as "sans-serif" (and as the family the
/// charts name). Rendering does this itself; call it only when other plotters users in the
/// process, such as criterion's report plots, need a font before any chart is drawn: with
/// plotters' `ab_glyph` feature there are no system fonts.
pub fn register_embedded_font() -> Result<(), ReportError> {
    style::ensure_font()
}

/// Renders a chart to an SVG document.
pub fn render_svg<C: Chart>(chart: &C) -> Result<String, ReportError> {
    style::ensure_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, chart.size()).into_drawing_area();
        chart.draw(&root)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// Renders a chart to a PNG file at `path` (written directly; see [`write_chart`] for the
/// atomic version).
pub fn render_png<C: Chart>(chart: &C, path: &Path) -> Result<(), ReportError> {
    style::ensure_font()?;
    let root = BitMapBackend::new(path, chart.size()).into_drawing_area();
    chart.draw(&root)?;
    root.present().map_err(draw_err)?;
    Ok(())
}

/// The two files written for one chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartFiles {
    pub svg: PathBuf,
    pub png: PathBuf,
}

/// Writes `dir/STEM.svg` and `dir/STEM.png`, creating `dir` if needed. Each file is written
/// under a temporary name in `dir` and renamed into place.
pub fn write_chart<C: Chart>(chart: &C, dir: &Path, stem: &str) -> Result<ChartFiles, ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let svg_path = dir.join(format!("{stem}.svg"));
    let png_path = dir.join(format!("{stem}.png"));
    // The PNG encoder picks the format from the extension, so the temporary keeps ".png".
    let svg_tmp = dir.join(format!(".{stem}.svg.tmp"));
    let png_tmp = dir.join(format!(".{stem}.tmp.png"));

    let svg = render_svg(chart)?;
    std::fs::write(&svg_tmp, svg).map_err(io(&svg_tmp))?;
    std::fs::rename(&svg_tmp, &svg_path).map_err(io(&svg_path))?;

    render_png(chart, &png_tmp)?;
    std::fs::rename(&png_tmp, &png_path).map_err(io(&png_path))?;
    Ok(ChartFiles {
        svg: svg_path,
        png: png_path,
    })
}
