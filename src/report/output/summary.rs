//! `summary.json` and `distributions.json`.
//!
//! `summary.json` follows DESIGN.md: `{"experiment": NAME, "points": [{"point", "deployment",
//! "params", "metrics": {METRIC: {"mean", "ci95_low", "ci95_high", "n"}}}]}`, where a
//! metric's interval is the Student-t 95% interval over the point's successful
//! replications (`null` bounds below two). It adds the run's seed, identity and stopping
//! rule, each point's replication and failure counts, the capacity of each load curve at the
//! grade of service (`capacity`), and every failed run with its seed and error (`failures`).

use crate::experiment::{SweepResults, TargetCi, UnitStatus};
use crate::metrics::{Capacity, Histogram, Summary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The content of `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryDoc {
    pub experiment: String,
    pub description: String,
    pub seed: u64,
    pub identity: String,
    pub runner: String,
    /// Replications per point (the minimum under a stopping rule).
    pub replications: u32,
    pub target_ci: Option<TargetCi>,
    /// Swept parameter paths in column order.
    pub parameters: Vec<String>,
    /// The headline metrics the experiment names.
    pub headline: Vec<String>,
    pub points: Vec<PointSummary>,
    pub gos: f64,
    pub capacity_metric: String,
    pub capacity: Vec<CapacitySummary>,
    pub failures: Vec<Failure>,
}

/// One point of `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointSummary {
    pub point: u32,
    pub deployment: String,
    /// Parameter values: numbers, strings and booleans as such, other RON values as text.
    pub params: serde_json::Map<String, serde_json::Value>,
    pub replications: u32,
    pub failed: u32,
    pub metrics: BTreeMap<String, Summary>,
}

/// The capacity of one load curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacitySummary {
    pub deployment: String,
    /// The other parameters' values along the curve.
    pub group: serde_json::Map<String, serde_json::Value>,
    pub label: String,
    /// The load axis: `offered_erlangs` or a parameter path.
    pub x: String,
    pub capacity: Option<Capacity>,
    pub note: Option<String>,
}

/// A failed (point, replication).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    pub point: u32,
    pub replication: u32,
    pub seed: u64,
    pub deployment: String,
    pub error: String,
}

/// The content of `distributions.json`: per point, the PDD histogram of every measured call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distributions {
    pub points: Vec<PointDistribution>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointDistribution {
    pub point: u32,
    pub pdd_ms: Histogram,
}

fn json_map<'a>(
    pairs: impl IntoIterator<Item = &'a (String, crate::experiment::Node)>,
) -> serde_json::Map<String, serde_json::Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect()
}

impl SummaryDoc {
    pub fn from_results(r: &SweepResults) -> SummaryDoc {
        let plan = &r.plan;
        SummaryDoc {
            experiment: plan.experiment.clone(),
            description: plan.description.clone(),
            seed: plan.seed,
            identity: plan.identity.clone(),
            runner: plan.runner.clone(),
            replications: plan.replications,
            target_ci: plan.target.clone(),
            parameters: plan.parameters.clone(),
            headline: plan.metrics.clone(),
            points: r
                .points
                .iter()
                .map(|p| PointSummary {
                    point: p.point,
                    deployment: p.deployment.clone(),
                    params: json_map(&p.params),
                    replications: p.replications,
                    failed: p.failed,
                    metrics: p.metrics.clone(),
                })
                .collect(),
            gos: plan.gos,
            capacity_metric: plan.capacity_metric.clone(),
            capacity: r
                .capacity
                .iter()
                .map(|c| CapacitySummary {
                    deployment: c.deployment.clone(),
                    group: json_map(&c.group),
                    label: c.label.clone(),
                    x: c.x.clone(),
                    capacity: c.capacity,
                    note: c.note.clone(),
                })
                .collect(),
            failures: r
                .units
                .iter()
                .filter(|u| u.meta.status == UnitStatus::Failed)
                .map(|u| Failure {
                    point: u.meta.point,
                    replication: u.meta.replication,
                    seed: u.meta.seed,
                    deployment: u.meta.deployment.clone(),
                    error: u.meta.error.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

impl Distributions {
    pub fn from_results(r: &SweepResults) -> Distributions {
        Distributions {
            points: r
                .points
                .iter()
                .map(|p| PointDistribution {
                    point: p.point,
                    pdd_ms: p.pdd_ms.clone(),
                })
                .collect(),
        }
    }
}
