//! The house style shared by every chart: font, palette, text sizes, tick formatting, axis
//! ranges and the legend strip drawn under each title.

use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::OnceLock;

/// The family name the embedded DejaVu Sans is registered under. SVG files name it in
/// `font-family`, with the generic family as the viewer's fallback.
pub(crate) const FAMILY: &str = "DejaVu Sans, sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static FONT_REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers the embedded font with plotters once per process. Text is measured (and, in
/// PNGs, rasterised) with it, so layout does not depend on the fonts of the machine.
pub(crate) fn ensure_font() -> Result<(), ReportError> {
    FONT_REGISTERED
        .get_or_init(|| {
            for name in [FAMILY, "sans-serif"] {
                plotters::style::register_font(name, FontStyle::Normal, FONT_BYTES)
                    .map_err(|_| "DejaVuSans.ttf is not a valid OpenType font".to_string())?;
            }
            Ok(())
        })
        .clone()
        .map_err(ReportError::Font)
}

/// Default canvas, pixels (the SVG uses the same size in user units).
pub(crate) const DEFAULT_SIZE: (u32, u32) = (1200, 750);

pub(crate) const TITLE_PX: u32 = 28;
pub(crate) const AXIS_DESC_PX: u32 = 20;
pub(crate) const TICK_PX: u32 = 16;
pub(crate) const LEGEND_PX: u32 = 17;
pub(crate) const NOTE_PX: u32 = 15;

pub(crate) const GRID_LIGHT: RGBColor = RGBColor(238, 238, 238);
pub(crate) const GRID_BOLD: RGBColor = RGBColor(210, 210, 210);
pub(crate) const AXIS: RGBColor = RGBColor(90, 90, 90);
pub(crate) const TEXT: RGBColor = RGBColor(30, 30, 30);
pub(crate) const MUTED: RGBColor = RGBColor(110, 110, 110);

/// The Okabe–Ito colour-blind-safe palette (yellow left out: unreadable on white).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];

/// The colour of the `i`-th series (cycling).
pub(crate) fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub(crate) fn font(px: u32) -> TextStyle<'static> {
    TextStyle::from((FAMILY, px).into_font()).color(&TEXT)
}

pub(crate) fn title_font() -> TextStyle<'static> {
    font(TITLE_PX)
}

/// Formats a tick value with at most the decimals the axis span needs, trailing zeros
/// trimmed, and never "-0".
pub(crate) fn fmt_tick(v: f64, span: f64) -> String {
    let span = if span > 0.0 && span.is_finite() {
        span
    } else {
        1.0
    };
    let decimals = (3.0 - libm::floor(libm::log10(span))).clamp(0.0, 8.0) as usize;
    let mut s = format!("{v:.decimals$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".to_string() } else { s }
}

/// Formats a value for a label ("4.12", "98.6", "1,250") with `decimals` decimals.
pub(crate) fn fmt_value(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        return s.trim_start_matches('-').to_string();
    }
    s
}

/// A "nice" step (1, 2, 2.5 or 5 × 10^k) giving about `target` intervals over `span`.
pub(crate) fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let mag = libm::pow(10.0, libm::floor(libm::log10(raw)));
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 2.5 {
        2.5
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Pads `[lo, hi]` outward to multiples of a nice step (about six intervals). A degenerate
/// range grows around its value.
pub(crate) fn nice_range(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if hi - lo > 1e-12 * hi.abs().max(1.0) {
        (lo, hi)
    } else {
        let pad = (lo.abs() * 0.1).max(1.0);
        (lo - pad, hi + pad)
    };
    let step = nice_step(hi - lo, 6);
    let nlo = libm::floor(lo / step) * step;
    let nhi = libm::ceil(hi / step) * step;
    (nlo, nhi)
}

/// Fails when a value that must be drawn is not finite.
pub(crate) fn check_finite(chart: &'static str, what: &str, v: f64) -> Result<(), ReportError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(ReportError::invalid(
            chart,
            format!("{what} is {v}, not a finite number"),
        ))
    }
}

/// Checks a mean and its optional interval (`lo <= mean <= hi`, all finite).
pub(crate) fn check_estimate(
    chart: &'static str,
    what: &str,
    mean: f64,
    ci: Option<(f64, f64)>,
) -> Result<(), ReportError> {
    check_finite(chart, what, mean)?;
    if let Some((lo, hi)) = ci {
        check_finite(chart, what, lo)?;
        check_finite(chart, what, hi)?;
        // A float mean may sit a rounding error outside bounds computed from it.
        let slack = 1e-9 * mean.abs().max(1.0);
        if lo > mean + slack || hi < mean - slack {
            return Err(ReportError::invalid(
                chart,
                format!("{what}: interval [{lo}, {hi}] excludes the mean {mean}"),
            ));
        }
    }
    Ok(())
}

/// Maps any plotters error into ours.
pub(crate) fn draw_err<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Draw(e.to_string())
}

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Swatch {
    /// A line, solid or dashed, optionally with a point marker.
    Line {
        color: RGBColor,
        dashed: bool,
        marker: bool,
    },
    /// A line over a translucent band (a mean with its confidence interval).
    LineBand { color: RGBColor },
    /// A filled box (bars, heatmap cells).
    Bar { color: RGBColor },
}

#[derive(Clone, Debug)]
pub(crate) struct LegendEntry {
    pub label: String,
    pub swatch: Swatch,
}

const SWATCH_W: i32 = 34;
const SWATCH_GAP: i32 = 8;
const ENTRY_GAP: i32 = 30;
const ROW_H: i32 = 28;

/// Lays entries out in centred rows that fit `width`: returns the rows of `(entry, x)`.
fn legend_rows<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<Vec<Vec<(usize, i32)>>, ReportError> {
    let width = area.dim_in_pixel().0 as i32;
    let style = font(LEGEND_PX);
    let mut rows: Vec<Vec<(usize, i32)>> = Vec::new();
    let mut widths: Vec<i32> = Vec::new();
    let mut x = 0;
    for (i, e) in entries.iter().enumerate() {
        let (tw, _) = area
            .estimate_text_size(&e.label, &style)
            .map_err(draw_err)?;
        let w = SWATCH_W + SWATCH_GAP + tw as i32;
        if rows.is_empty() || (x > 0 && x + w > width - 40) {
            rows.push(Vec::new());
            widths.push(0);
            x = 0;
        }
        if let (Some(row), Some(rw)) = (rows.last_mut(), widths.last_mut()) {
            row.push((i, x));
            x += w + ENTRY_GAP;
            *rw = x - ENTRY_GAP;
        }
    }
    for (row, w) in rows.iter_mut().zip(widths) {
        let left = (width - w) / 2;
        row.iter_mut().for_each(|(_, x)| *x += left.max(0));
    }
    Ok(rows)
}

/// The height the legend strip needs for `entries` at this area's width.
pub(crate) fn legend_height<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<u32, ReportError> {
    if entries.is_empty() {
        return Ok(0);
    }
    let rows = legend_rows(area, entries)?.len() as i32;
    Ok((rows * ROW_H + 8) as u32)
}

/// Draws the legend strip: swatches and labels in centred rows.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<(), ReportError> {
    let style = font(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center));
    for (r, row) in legend_rows(area, entries)?.iter().enumerate() {
        let cy = 4 + r as i32 * ROW_H + ROW_H / 2;
        for &(i, x) in row {
            let e = &entries[i];
            draw_swatch(area, e.swatch, x, cy)?;
            area.draw_text(&e.label, &style, (x + SWATCH_W + SWATCH_GAP, cy))
                .map_err(draw_err)?;
        }
    }
    Ok(())
}

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    x: i32,
    cy: i32,
) -> Result<(), ReportError> {
    match swatch {
        Swatch::Line {
            color,
            dashed,
            marker,
        } => {
            let style = color.stroke_width(3);
            if dashed {
                for k in 0..3 {
                    let x0 = x + k * 13;
                    area.draw(&PathElement::new(vec![(x0, cy), (x0 + 8, cy)], style))
                        .map_err(draw_err)?;
                }
            } else {
                area.draw(&PathElement::new(vec![(x, cy), (x + SWATCH_W, cy)], style))
                    .map_err(draw_err)?;
            }
            if marker {
                area.draw(&Circle::new((x + SWATCH_W / 2, cy), 4, color.filled()))
                    .map_err(draw_err)?;
            }
        }
        Swatch::LineBand { color } => {
            area.draw(&Rectangle::new(
                [(x, cy - 8), (x + SWATCH_W, cy + 8)],
                color.mix(0.2).filled(),
            ))
            .map_err(draw_err)?;
            area.draw(&PathElement::new(
                vec![(x, cy), (x + SWATCH_W, cy)],
                color.stroke_width(3),
            ))
            .map_err(draw_err)?;
        }
        Swatch::Bar { color } => {
            area.draw(&Rectangle::new(
                [(x + 6, cy - 9), (x + SWATCH_W - 6, cy + 9)],
                color.filled(),
            ))
            .map_err(draw_err)?;
        }
    }
    Ok(())
}

/// A chart context over plain `f64 × f64` coordinates.
pub(crate) type XyChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Builds an `f64 × f64` chart on `area` with the house axes: labelled, light grid, clean
/// tick labels. `x_desc` may be empty (an upper panel sharing the x axis of the one below).
pub(crate) fn xy_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: (f64, f64),
    y: (f64, f64),
    x_desc: &str,
    y_desc: &str,
) -> Result<XyChart<'a, DB>, ReportError> {
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .margin_right(24)
        .x_label_area_size(if x_desc.is_empty() { 36 } else { 64 })
        .y_label_area_size(84)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(draw_err)?;
    let (xspan, yspan) = (x.1 - x.0, y.1 - y.0);
    let xfmt = move |v: &f64| fmt_tick(*v, xspan);
    let yfmt = move |v: &f64| fmt_tick(*v, yspan);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(12)
        .y_labels(8)
        .max_light_lines(1)
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .axis_style(AXIS)
        .label_style(font(TICK_PX))
        .axis_desc_style(font(AXIS_DESC_PX))
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .draw()
        .map_err(draw_err)?;
    Ok(chart)
}

/// Writes a centred grey note (e.g. "No data") in an area.
pub(crate) fn draw_note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
) -> Result<(), ReportError> {
    let (w, h) = area.dim_in_pixel();
    let style = font(AXIS_DESC_PX)
        .color(&MUTED)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(text, &style, (w as i32 / 2, h as i32 / 2))
        .map_err(draw_err)
}

/// Fills the canvas, writes the title and the legend strip, and returns the plot area
/// below them (with an outer margin).
pub(crate) fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[LegendEntry],
) -> Result<DrawingArea<DB, Shift>, ReportError> {
    root.fill(&WHITE).map_err(draw_err)?;
    let area = root.margin(14, 10, 16, 24);
    let area = area.titled(title, title_font()).map_err(draw_err)?;
    let lh = legend_height(&area, legend)?;
    if lh == 0 {
        return Ok(area);
    }
    let (top, rest) = area.split_vertically(lh + 6);
    draw_legend(&top, legend)?;
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_clean() {
        assert_eq!(fmt_tick(0.30000000000000004, 1.0), "0.3");
        assert_eq!(fmt_tick(-0.0000001, 10.0), "0");
        assert_eq!(fmt_tick(1250.0, 5000.0), "1250");
        assert_eq!(fmt_tick(2.5, 10.0), "2.5");
        assert_eq!(fmt_tick(0.0125, 0.05), "0.0125");
        assert_eq!(fmt_value(4.1234, 2), "4.12");
        assert_eq!(fmt_value(-0.001, 2), "0.00");
    }

    #[test]
    fn nice_ranges() {
        assert_eq!(nice_range(0.0, 9.3), (0.0, 10.0));
        assert_eq!(nice_range(3.2, 27.9), (0.0, 30.0));
        assert_eq!(nice_range(1.0, 4.5), (1.0, 5.0));
        let (lo, hi) = nice_range(5.0, 5.0);
        assert!(lo < 5.0 && hi > 5.0);
        assert_eq!(nice_step(100.0, 5), 20.0);
        assert_eq!(nice_step(12.0, 5), 2.5);
    }
}
