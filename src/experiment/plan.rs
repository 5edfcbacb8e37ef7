//! The plan of a sweep: its points in a fixed order, their seeds, the stopping rule, and the
//! experiment's identity.
//!
//! **Order.** Deployments in file order, outermost; then the sweep's dimensions in file order
//! (grid parameters, then zip groups), the first outermost. Point `P` is the position in
//! that order, and outputs list points × replications in it.
//!
//! **Seeds.** A (point, replication) seed is `derive_seed(experiment seed, parts)` where the
//! parts are the deployment name, each `(path, canonical value)` pair of the point sorted by
//! path, and the replication number. Nothing positional enters, so adding a value to a grid
//! changes no other point's seed, and so none of its results.
//!
//! **Identity.** A hash of everything a unit's result depends on: the seed, the documents
//! after each deployment's overrides, the points, the replications and stopping rule, the
//! runner and this crate's version. A resume against a different identity is refused.

use super::ExperimentError;
use super::doc::{Node, parse_node};
use super::spec::{ChartSpec, Experiment};
use crate::metrics::Welford;
use crate::sim::{Fnv1a, derive_seed};
use serde::{Deserialize, Serialize};

/// Version of the files under `DIR/.units/`; bump it when their meaning changes.
pub const STORE_FORMAT: u32 = 1;

/// How narrow the key metric's 95% interval must be.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CiBound {
    /// Half-width at most this, in the metric's units.
    Absolute(f64),
    /// Half-width at most this fraction of |mean|.
    Relative(f64),
}

/// The `--target-ci` stopping rule: replications are added to a point until the 95% CI
/// half-width of `metric` meets `bound`, or `max_replications` is reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetCi {
    pub metric: String,
    pub bound: CiBound,
    pub max_replications: u32,
}

impl TargetCi {
    /// Parses `0.005` (absolute half-width) or `5%` (relative to the mean).
    pub fn parse(text: &str, metric: &str, max_replications: u32) -> Result<Self, ExperimentError> {
        let t = text.trim();
        let (num, relative) = match t.strip_suffix('%') {
            Some(n) => (n, true),
            None => (t, false),
        };
        let v: f64 = num.trim().parse().map_err(|_| {
            ExperimentError::Usage(format!(
                "--target-ci {text}: expected a half-width such as 0.005, or a percentage of \
                 the mean such as 5%"
            ))
        })?;
        if !(v.is_finite() && v > 0.0) {
            return Err(ExperimentError::Usage(format!(
                "--target-ci {text}: the half-width must be positive"
            )));
        }
        Ok(TargetCi {
            metric: metric.to_string(),
            bound: if relative {
                CiBound::Relative(v / 100.0)
            } else {
                CiBound::Absolute(v)
            },
            max_replications,
        })
    }

    /// Whether values (one per successful replication, in replication order) meet the bound.
    pub fn met_by(&self, values: &[f64]) -> bool {
        let mut w = Welford::new();
        values.iter().for_each(|&v| {
            let _ = w.try_push(v);
        });
        let s = w.summary();
        match self.bound {
            CiBound::Absolute(b) => s.half_width().is_some_and(|h| h <= b),
            // A zero mean with a zero-width interval meets any relative bound.
            CiBound::Relative(b) => match (s.half_width(), s.mean) {
                (Some(h), Some(m)) => h <= b * m.abs(),
                _ => false,
            },
        }
    }

    /// A one-line description for messages.
    pub fn describe(&self) -> String {
        let bound = match self.bound {
            CiBound::Absolute(b) => format!("{b}"),
            CiBound::Relative(b) => format!("{}% of the mean", (b * 1e11).round() / 1e9),
        };
        format!(
            "95% CI half-width of `{}` at most {bound} (at most {} replications)",
            self.metric, self.max_replications
        )
    }
}

/// One point of the sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedPoint {
    pub point: u32,
    pub deployment: String,
    /// `(path, canonical RON value)` in parameter (column) order.
    pub params: Vec<(String, String)>,
}

impl PlannedPoint {
    /// The seed of one replication of this point.
    pub fn seed(&self, experiment_seed: u64, replication: u32) -> u64 {
        unit_seed(experiment_seed, &self.deployment, &self.params, replication)
    }

    /// The parameter values as nodes.
    pub fn param_nodes(&self) -> Vec<(String, Node)> {
        self.params
            .iter()
            .map(|(p, v)| {
                // Invariant: the values are canonical emissions of parsed nodes (the plan is
                // built from them, and a stored plan is checked by `Plan::validate`).
                let node = parse_node(v).unwrap_or_else(|_| Node::String(v.clone()));
                (p.clone(), node)
            })
            .collect()
    }
}

/// The seed of a (point, replication): from the experiment seed, the deployment name, the
/// point's `(path, canonical value)` pairs sorted by path, and the replication.
pub fn unit_seed(
    seed: u64,
    deployment: &str,
    params: &[(String, String)],
    replication: u32,
) -> u64 {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let rep = replication.to_le_bytes();
    let mut parts: Vec<&[u8]> = vec![b"deployment", deployment.as_bytes()];
    for (p, v) in sorted {
        parts.extend_from_slice(&[b"param", p.as_bytes(), v.as_bytes()]);
    }
    parts.extend_from_slice(&[b"replication", &rep]);
    derive_seed(seed, &parts)
}

/// Everything needed to run, resume, merge and assemble a sweep without the experiment
/// file. Stored as `DIR/.units/manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format: u32,
    /// Hex hash of everything the units' results depend on.
    pub identity: String,
    pub experiment: String,
    pub description: String,
    /// The experiment file it came from (informational).
    pub source: String,
    /// The [`PointRunner`](super::PointRunner) that produced the units.
    pub runner: String,
    pub seed: u64,
    pub replications: u32,
    pub target: Option<TargetCi>,
    /// Swept parameter paths, in column order.
    pub parameters: Vec<String>,
    pub deployments: Vec<String>,
    pub points: Vec<PlannedPoint>,
    pub metrics: Vec<String>,
    pub charts: Vec<ChartSpec>,
    pub gos: f64,
    pub capacity_metric: String,
    /// The swept parameter that sets the offered load, if any.
    pub load_parameter: Option<String>,
}

/// What a point still needs under the plan's stopping rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Needed {
    /// Done: replications `0..n` are its results.
    Complete(u32),
    /// These replications must run first.
    Run(Vec<u32>),
}

impl Plan {
    /// Plans an experiment. `seed` overrides the file's seed (`--seed`).
    pub fn new(
        exp: &Experiment,
        seed: Option<u64>,
        target: Option<TargetCi>,
        runner: &str,
    ) -> Plan {
        let seed = seed.unwrap_or(exp.seed);
        let mut points = Vec::with_capacity(exp.point_count());
        let sizes: Vec<usize> = exp
            .dimensions
            .iter()
            .map(|d| exp.parameters[d[0]].values.len())
            .collect();
        for d in &exp.deployments {
            let mut combo = vec![0_usize; sizes.len()];
            loop {
                let params = exp
                    .dimensions
                    .iter()
                    .zip(&combo)
                    .flat_map(|(dim, &at)| {
                        dim.iter().map(move |&p| {
                            let param = &exp.parameters[p];
                            (
                                param.path.as_str().to_string(),
                                param.values[at].canonical(),
                            )
                        })
                    })
                    .collect();
                points.push(PlannedPoint {
                    // Invariant: `MAX_POINTS` (checked at load) is far below u32::MAX.
                    point: points.len() as u32,
                    deployment: d.name.clone(),
                    params,
                });
                // Odometer: the last dimension turns fastest.
                let mut wrapped = true;
                for i in (0..sizes.len()).rev() {
                    combo[i] += 1;
                    if combo[i] < sizes[i] {
                        wrapped = false;
                        break;
                    }
                    combo[i] = 0;
                }
                if wrapped {
                    break;
                }
            }
        }
        let mut plan = Plan {
            format: STORE_FORMAT,
            identity: String::new(),
            experiment: exp.name.clone(),
            description: exp.description.clone(),
            source: exp.source.display().to_string(),
            runner: runner.to_string(),
            seed,
            replications: exp.replications,
            target,
            parameters: exp
                .parameters
                .iter()
                .map(|p| p.path.as_str().to_string())
                .collect(),
            deployments: exp.deployments.iter().map(|d| d.name.clone()).collect(),
            points,
            metrics: exp.metrics.clone(),
            charts: exp.charts.clone(),
            gos: exp.gos,
            capacity_metric: exp.capacity_metric.clone(),
            load_parameter: exp.load_parameter.clone(),
        };
        plan.identity = identity(exp, &plan);
        plan
    }

    /// The most replications any point may get.
    pub fn max_replications(&self) -> u32 {
        self.target.as_ref().map_or(self.replications, |t| {
            t.max_replications.max(self.replications)
        })
    }

    /// The points of shard `index` of `count` (0-based): point `P` belongs to shard
    /// `P mod count`. All replications of a point stay in one shard, so the stopping rule
    /// can be applied without the other shards.
    pub fn shard_points(&self, index: u32, count: u32) -> impl Iterator<Item = &PlannedPoint> {
        self.points
            .iter()
            .filter(move |p| count <= 1 || p.point % count == index)
    }

    /// What a point needs, given `lookup(r)`: `None` when replication `r` has no result yet,
    /// else the key metric's value (`None` if the replication failed or lacks the metric).
    ///
    /// Without a target, replications `0..replications`. With one, the smallest `k` at or
    /// above `replications` whose first `k` values meet the bound (or the maximum). Missing
    /// replications are asked for in batches of `replications`, so a point needing more
    /// runs a batch in parallel; results past `k` are never used, so the outputs do not
    /// depend on the batching.
    pub fn needed(&self, lookup: impl Fn(u32) -> Option<Option<f64>>) -> Needed {
        let base = self.replications.max(1);
        let max = self.max_replications();
        let missing_below =
            |end: u32| -> Vec<u32> { (0..end).filter(|&r| lookup(r).is_none()).collect() };
        let Some(target) = &self.target else {
            let missing = missing_below(base);
            return if missing.is_empty() {
                Needed::Complete(base)
            } else {
                Needed::Run(missing)
            };
        };
        let mut values = Vec::new();
        let mut k = 0;
        loop {
            // Replications 0..k are present: stop here, or look at replication k.
            if k >= base && (k >= max || target.met_by(&values)) {
                return Needed::Complete(k);
            }
            match lookup(k) {
                None => {
                    let batch_end = (k / base + 1).saturating_mul(base).min(max);
                    return Needed::Run(missing_below(batch_end.max(k + 1)));
                }
                Some(v) => {
                    if let Some(v) = v.filter(|v| v.is_finite()) {
                        values.push(v);
                    }
                    k += 1;
                }
            }
        }
    }

    /// The plan without what may legitimately differ between shards (where the file was).
    pub(crate) fn comparable(&self) -> Plan {
        Plan {
            source: String::new(),
            ..self.clone()
        }
    }

    /// Checks a stored plan's internal consistency.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.format != STORE_FORMAT {
            return Err(format!(
                "written by a version with store format {} (this one reads {STORE_FORMAT})",
                self.format
            ));
        }
        for (i, p) in self.points.iter().enumerate() {
            if p.point as usize != i {
                return Err(format!("point {} listed at position {i}", p.point));
            }
            if p.params.len() != self.parameters.len() {
                return Err(format!("point {i} has the wrong number of parameters"));
            }
            if let Some((path, v)) = p.params.iter().find(|(_, v)| parse_node(v).is_err()) {
                return Err(format!("point {i}: `{path}` = `{v}` is not a RON value"));
            }
        }
        if self.replications == 0 {
            return Err("zero replications".into());
        }
        Ok(())
    }
}

fn identity(exp: &Experiment, plan: &Plan) -> String {
    let mut h = Fnv1a::new();
    let mut put = |s: &str| {
        h.write_u64(s.len() as u64);
        h.write(s.as_bytes());
    };
    put("voicetwin-experiment");
    put(env!("CARGO_PKG_VERSION"));
    put(&plan.format.to_string());
    put(&plan.runner);
    put(&plan.seed.to_string());
    put(&plan.replications.to_string());
    put(&serde_json::to_string(&plan.target).unwrap_or_default());
    for d in &exp.deployments {
        put(&d.name);
        put(&d.topology.to_ron(false));
        put(&d.scenario.to_ron(false));
        for (k, m) in &d.models {
            put(k);
            put(&m.to_ron(false));
        }
    }
    for p in &plan.points {
        put(&p.deployment);
        for (path, v) in &p.params {
            put(path);
            put(v);
        }
    }
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_with(target: Option<TargetCi>, reps: u32) -> Plan {
        Plan {
            format: STORE_FORMAT,
            identity: String::new(),
            experiment: "e".into(),
            description: String::new(),
            source: String::new(),
            runner: "r".into(),
            seed: 1,
            replications: reps,
            target,
            parameters: vec![],
            deployments: vec!["d".into()],
            points: vec![],
            metrics: vec![],
            charts: vec![],
            gos: 0.01,
            capacity_metric: "blocking".into(),
            load_parameter: None,
        }
    }

    #[test]
    fn seeds_ignore_order_and_position() {
        let a = vec![
            ("b".to_string(), "1".to_string()),
            ("a".into(), "2.0".into()),
        ];
        let b = vec![
            ("a".to_string(), "2.0".to_string()),
            ("b".into(), "1".into()),
        ];
        assert_eq!(unit_seed(5, "d", &a, 0), unit_seed(5, "d", &b, 0));
        assert_ne!(unit_seed(5, "d", &a, 0), unit_seed(5, "d", &a, 1));
        assert_ne!(unit_seed(5, "d", &a, 0), unit_seed(5, "e", &a, 0));
        assert_ne!(unit_seed(5, "d", &a, 0), unit_seed(6, "d", &a, 0));
        // Pinned: a change here changes every stored result, so it must be deliberate.
        let pinned = unit_seed(20261121, "voip-only", &a, 2);
        assert_eq!(
            pinned, 17179538011953590045,
            "update deliberately: {pinned}"
        );
    }

    #[test]
    fn without_target_needs_the_fixed_replications() {
        let p = plan_with(None, 3);
        assert_eq!(p.needed(|_| None), Needed::Run(vec![0, 1, 2]));
        assert_eq!(
            p.needed(|r| (r != 1).then_some(Some(1.0))),
            Needed::Run(vec![1])
        );
        assert_eq!(p.needed(|_| Some(None)), Needed::Complete(3));
    }

    #[test]
    fn target_adds_replications_until_the_interval_is_narrow() {
        let t = TargetCi::parse("0.5", "m", 9).unwrap();
        let p = plan_with(Some(t), 3);
        // Values 0, 10, 0, 10, ... never narrow: stops at the maximum, asking in batches.
        let noisy = |n: u32| move |r: u32| (r < n).then_some(Some(f64::from(r % 2) * 10.0));
        assert_eq!(p.needed(noisy(3)), Needed::Run(vec![3, 4, 5]));
        assert_eq!(p.needed(noisy(5)), Needed::Run(vec![5]));
        assert_eq!(p.needed(noisy(6)), Needed::Run(vec![6, 7, 8]));
        assert_eq!(p.needed(noisy(9)), Needed::Complete(9));
        assert_eq!(p.needed(noisy(12)), Needed::Complete(9));
        // Constant values meet any bound at the base count; extra results are ignored.
        assert_eq!(
            p.needed(|r| (r < 7).then_some(Some(2.0))),
            Needed::Complete(3)
        );
        let vals = [1.0, 3.0, 1.0, 1.0, 1.0, 1.0];
        let p2 = plan_with(Some(TargetCi::parse("0.8", "m", 20).unwrap()), 2);
        let got = p2.needed(|r| vals.get(r as usize).map(|v| Some(*v)));
        // k=2: {1,3}: hw = 12.7·1.41/1.41 = 12.7; k=3: hw = 4.30·1.155/1.73 = 2.87;
        // k=4: hw = 3.18·1/2 = 1.59; k=5: hw = 2.78·0.894/2.24 = 1.11; k=6: 2.57·0.816/2.45 = 0.86.
        assert_eq!(got, Needed::Run(vec![6, 7]));
        assert!(TargetCi::parse("x", "m", 2).is_err());
        assert!(TargetCi::parse("-1", "m", 2).is_err());
        assert_eq!(
            TargetCi::parse("5%", "m", 2).unwrap().bound,
            CiBound::Relative(0.05)
        );
    }
}
