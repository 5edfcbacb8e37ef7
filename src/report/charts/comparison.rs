//! Deployments side by side over several metrics: one small panel per metric (each with its
//! own unit and scale), one colour per deployment throughout, a shared legend on top.

use super::bars::{BarPanel, BarSeries};
use super::style::{self, LegendEntry, Swatch, check_estimate, series_color};
use super::{Chart, Estimate};
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

const NAME: &str = "comparison";
const PANEL_H: u32 = 330;

/// One metric across the deployments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparisonMetric {
    /// e.g. "Call success".
    pub name: String,
    /// e.g. "%", "ms", "MOS"; shown in the panel title.
    pub unit: String,
    /// One value per deployment, in the chart's deployment order.
    pub values: Vec<Option<Estimate>>,
    /// Panel value range; `None` fits the data from zero.
    pub y_range: Option<(f64, f64)>,
    /// Decimals of the value labels.
    pub decimals: usize,
}

/// Small multiples comparing deployments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparisonChart {
    pub title: String,
    pub deployments: Vec<String>,
    pub metrics: Vec<ComparisonMetric>,
    /// Panels per row (default: up to three).
    pub columns: Option<usize>,
    /// Canvas size; `None` grows the height with the number of panel rows.
    pub size: Option<(u32, u32)>,
}

impl ComparisonChart {
    pub fn new(title: impl Into<String>, deployments: Vec<String>) -> Self {
        ComparisonChart {
            title: title.into(),
            deployments,
            metrics: Vec::new(),
            columns: None,
            size: None,
        }
    }

    fn grid(&self) -> (usize, usize) {
        let n = self.metrics.len().max(1);
        let cols = self.columns.unwrap_or(3).clamp(1, n);
        (n.div_ceil(cols), cols)
    }

    fn validate(&self) -> Result<(), ReportError> {
        for m in &self.metrics {
            if m.values.len() != self.deployments.len() {
                return Err(ReportError::invalid(
                    NAME,
                    format!(
                        "metric {:?} has {} values for {} deployments",
                        m.name,
                        m.values.len(),
                        self.deployments.len()
                    ),
                ));
            }
            for v in m.values.iter().flatten() {
                check_estimate(NAME, &m.name, v.mean, v.ci)?;
            }
            if let Some((lo, hi)) = m.y_range {
                if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                    return Err(ReportError::invalid(
                        NAME,
                        format!("metric {:?}: bad range {lo}..{hi}", m.name),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Chart for ComparisonChart {
    fn size(&self) -> (u32, u32) {
        self.size.unwrap_or_else(|| {
            let (rows, _) = self.grid();
            (style::DEFAULT_SIZE.0, 150 + PANEL_H * rows as u32)
        })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ReportError> {
        self.validate()?;
        let legend: Vec<LegendEntry> = self
            .deployments
            .iter()
            .enumerate()
            .map(|(i, d)| LegendEntry {
                label: d.clone(),
                swatch: Swatch::Bar {
                    color: series_color(i),
                },
            })
            .collect();
        let area = style::frame(root, &self.title, &legend)?;
        if self.metrics.is_empty() {
            return style::draw_note(&area, "No metrics");
        }
        let (rows, cols) = self.grid();
        let panels = area.split_evenly((rows, cols));
        for (m, panel) in self.metrics.iter().zip(panels.iter()) {
            let caption = if m.unit.is_empty() {
                m.name.clone()
            } else {
                format!("{} ({})", m.name, m.unit)
            };
            let series = [BarSeries {
                label: String::new(),
                values: m.values.clone(),
            }];
            BarPanel {
                categories: &self.deployments,
                series: &series,
                y_range: m.y_range,
                references: &[],
                x_desc: "",
                y_desc: "",
                caption: Some(&caption),
                value_decimals: m.decimals,
                color_by_category: true,
                category_labels: false,
            }
            .draw(&panel.margin(6, 6, 4, 4))?;
        }
        Ok(())
    }
}
