//! Reading a sweep's stored units back: from one output directory, or from several shard
//! directories (merge). The units are checked (same experiment, complete, consistent) and
//! summarised per point, in point order, for the report layer.

use super::ExperimentError;
use super::doc::Node;
use super::plan::{Needed, Plan};
use super::runner::stored_units;
use super::store::{OutDir, UnitMeta, UnitStatus};
use crate::metrics::{
    Capacity, Histogram, Interpolation, LoadPoint, Summary, Welford, capacity_at_gos,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A unit used by the results (its PDD histogram is folded into its point's).
#[derive(Clone, Debug, PartialEq)]
pub struct UnitEntry {
    pub meta: UnitMeta,
    /// Its CDR rows, when it has any.
    pub calls_file: Option<PathBuf>,
}

/// One point: its parameters and its metrics across replications.
#[derive(Clone, Debug, PartialEq)]
pub struct PointResult {
    pub point: u32,
    pub deployment: String,
    pub params: Vec<(String, Node)>,
    /// Replications used.
    pub replications: u32,
    /// Of those, how many failed.
    pub failed: u32,
    /// Each metric over the successful replications, in replication order.
    pub metrics: BTreeMap<String, Summary>,
    /// Post-dial delays of every measured call of every replication, ms.
    pub pdd_ms: Histogram,
}

/// The capacity of one curve: a deployment with fixed values of the non-load parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityResult {
    pub deployment: String,
    /// The other swept parameters' values along this curve.
    pub group: Vec<(String, Node)>,
    /// A legend label: the deployment and the group in short form.
    pub label: String,
    /// What the load axis is: `offered_erlangs`, or the load parameter's path.
    pub x: String,
    /// The curve, in increasing load, of `plan.capacity_metric`.
    pub points: Vec<LoadPoint>,
    pub capacity: Option<Capacity>,
    /// Why there is no capacity, if there is none.
    pub note: Option<String>,
}

/// A complete sweep, read from its store.
#[derive(Clone, Debug)]
pub struct SweepResults {
    pub plan: Plan,
    /// Used units in (point, replication) order.
    pub units: Vec<UnitEntry>,
    pub points: Vec<PointResult>,
    pub capacity: Vec<CapacityResult>,
    /// Every metric name any used unit reported, sorted.
    pub metric_names: Vec<String>,
    /// Every `extra` key any used unit reported, sorted.
    pub extra_names: Vec<String>,
}

/// The last step of a path, for legends: `topology.links[name=wan1].loss` → `loss`.
pub fn short_name(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

impl SweepResults {
    /// Reads the units of `dirs` (one output directory, or the shards of one sweep). Refuses
    /// directories of different experiments, and reports every unit still missing.
    pub fn collect(dirs: &[PathBuf]) -> Result<SweepResults, ExperimentError> {
        let outs: Vec<OutDir> = dirs.iter().map(OutDir::new).collect();
        let Some(first_dir) = outs.first() else {
            return Err(ExperimentError::Usage("no result directory given".into()));
        };
        let mut plan: Option<Plan> = None;
        for d in &outs {
            let p = d.read_plan()?.ok_or_else(|| {
                ExperimentError::Merge(format!(
                    "{} holds no results (no {})",
                    d.root().display(),
                    d.manifest_path().display()
                ))
            })?;
            if let Some(first) = &plan {
                if first.identity != p.identity {
                    return Err(ExperimentError::Merge(format!(
                        "{} holds experiment `{}` (identity {}, seed {}) but {} holds `{}` \
                         (identity {}, seed {}): shards of different experiments",
                        first_dir.root().display(),
                        first.experiment,
                        first.identity,
                        first.seed,
                        d.root().display(),
                        p.experiment,
                        p.identity,
                        p.seed
                    )));
                }
                if first.comparable() != p.comparable() {
                    return Err(ExperimentError::Merge(format!(
                        "{} and {} ran the same units but with different report settings \
                         (metrics, charts, grade of service or description)",
                        first_dir.root().display(),
                        d.root().display()
                    )));
                }
            } else {
                plan = Some(p);
            }
        }
        // Invariant: `outs` is not empty, so the loop set `plan`.
        let plan = plan.ok_or_else(|| ExperimentError::Usage("no plan".into()))?;

        // Where each stored unit is (the first directory that has it).
        let mut located: BTreeMap<(u32, u32), usize> = BTreeMap::new();
        for (i, d) in outs.iter().enumerate() {
            for unit in stored_units(d)? {
                if (unit.0 as usize) >= plan.points.len() {
                    continue;
                }
                match located.get(&unit) {
                    None => {
                        located.insert(unit, i);
                    }
                    Some(&j) => check_same_unit(&plan, &outs[j], d, unit)?,
                }
            }
        }

        let key = plan.target.as_ref().map(|t| t.metric.clone());
        let mut units = Vec::new();
        let mut points = Vec::new();
        let mut missing: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut metric_names = BTreeSet::new();
        let mut extra_names = BTreeSet::new();
        for planned in &plan.points {
            let p = planned.point;
            let mut stored: BTreeMap<u32, (UnitMeta, usize)> = BTreeMap::new();
            for (&(_, r), &i) in located.range((p, 0)..=(p, u32::MAX)) {
                if let Some(meta) = outs[i].read_meta(&plan, p, r)? {
                    stored.insert(r, (meta, i));
                }
            }
            let lookup = |r: u32| {
                stored.get(&r).map(|(m, _)| match m.status {
                    UnitStatus::Ok => key.as_ref().and_then(|k| m.metrics.get(k).copied()),
                    UnitStatus::Failed => None,
                })
            };
            let used = match plan.needed(lookup) {
                Needed::Complete(k) => k,
                Needed::Run(reps) => {
                    missing.push((p, reps));
                    continue;
                }
            };
            let mut pdd = Histogram::new();
            let mut acc: BTreeMap<String, Welford> = BTreeMap::new();
            let mut failed = 0;
            for r in 0..used {
                let Some((mut meta, i)) = stored.remove(&r) else {
                    continue;
                };
                if meta.status == UnitStatus::Failed {
                    failed += 1;
                }
                for (k, &v) in &meta.metrics {
                    let _ = acc.entry(k.clone()).or_default().try_push(v);
                    metric_names.insert(k.clone());
                }
                extra_names.extend(meta.extra.keys().cloned());
                pdd.merge(&meta.pdd_ms).map_err(|e| {
                    ExperimentError::corrupt(outs[i].meta_path(p, r), e.to_string())
                })?;
                meta.pdd_ms = Histogram::new();
                let calls_file = (meta.calls > 0).then(|| outs[i].calls_path(p, r));
                units.push(UnitEntry { meta, calls_file });
            }
            points.push(PointResult {
                point: p,
                deployment: planned.deployment.clone(),
                params: planned.param_nodes(),
                replications: used,
                failed,
                metrics: acc.into_iter().map(|(k, w)| (k, w.summary())).collect(),
                pdd_ms: pdd,
            });
        }
        if !missing.is_empty() {
            return Err(incomplete(first_dir, dirs.len(), &missing));
        }
        let capacity = capacity_curves(&plan, &points);
        Ok(SweepResults {
            plan,
            units,
            points,
            capacity,
            metric_names: metric_names.into_iter().collect(),
            extra_names: extra_names.into_iter().collect(),
        })
    }
}

/// Two shard directories hold the same unit: they must agree (runs are deterministic).
fn check_same_unit(
    plan: &Plan,
    a: &OutDir,
    b: &OutDir,
    (p, r): (u32, u32),
) -> Result<(), ExperimentError> {
    let (Some(x), Some(y)) = (a.read_meta(plan, p, r)?, b.read_meta(plan, p, r)?) else {
        return Ok(());
    };
    if x.status != y.status || x.calls_hash != y.calls_hash || x.metrics != y.metrics {
        return Err(ExperimentError::Merge(format!(
            "point {p} replication {r} differs between {} and {}: the same unit gave different \
             results (a non-deterministic runner, or a different build)",
            a.root().display(),
            b.root().display()
        )));
    }
    Ok(())
}

fn incomplete(first: &OutDir, dirs: usize, missing: &[(u32, Vec<u32>)]) -> ExperimentError {
    let count = missing.iter().map(|(_, r)| r.len()).sum();
    let mut list: Vec<String> = missing
        .iter()
        .take(8)
        .map(|(p, reps)| {
            let reps: Vec<String> = reps.iter().map(u32::to_string).collect();
            format!("point {p} (replication {})", reps.join(", "))
        })
        .collect();
    if missing.len() > 8 {
        list.push(format!("and {} more point(s)", missing.len() - 8));
    }
    let dir = if dirs == 1 {
        first.root().to_path_buf()
    } else {
        PathBuf::from(format!(
            "{} and {} other shard(s)",
            first.root().display(),
            dirs - 1
        ))
    };
    ExperimentError::Incomplete {
        dir,
        count,
        list: list.join("; "),
    }
}

/// Groups points into curves over the swept load and finds each curve's capacity (none
/// when the load is not swept).
fn capacity_curves(plan: &Plan, points: &[PointResult]) -> Vec<CapacityResult> {
    let Some(load_idx) = plan
        .load_parameter
        .as_ref()
        .and_then(|l| plan.parameters.iter().position(|p| p == l))
    else {
        return Vec::new();
    };
    let load_idx = Some(load_idx);
    // Curves in order of first appearance, keyed by deployment and the other values.
    type Key = (String, Vec<String>);
    let mut groups: Vec<(Key, Vec<&PointResult>)> = Vec::new();
    for p in points {
        let others: Vec<String> = p
            .params
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != load_idx)
            .map(|(_, (_, v))| v.canonical())
            .collect();
        let key = (p.deployment.clone(), others);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(p),
            None => groups.push((key, vec![p])),
        }
    }
    let metric = &plan.capacity_metric;
    groups
        .into_iter()
        .map(|((deployment, _), members)| {
            let group: Vec<(String, Node)> = members[0]
                .params
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != load_idx)
                .map(|(_, pv)| pv.clone())
                .collect();
            let mut label = deployment.clone();
            for (path, v) in &group {
                label.push_str(&format!(", {}={}", short_name(path), v.display_text()));
            }
            let by_offered = members.iter().all(|m| {
                m.metrics
                    .get("offered_erlangs")
                    .and_then(|s| s.mean)
                    .is_some()
            });
            let x_of = |m: &PointResult| -> Option<f64> {
                if by_offered {
                    m.metrics.get("offered_erlangs").and_then(|s| s.mean)
                } else {
                    load_idx.and_then(|i| m.params[i].1.as_f64())
                }
            };
            let x = if by_offered {
                "offered_erlangs".to_string()
            } else {
                plan.load_parameter.clone().unwrap_or_default()
            };
            let mut curve: Vec<LoadPoint> = members
                .iter()
                .filter_map(|m| {
                    let s = m.metrics.get(metric)?;
                    let p = LoadPoint::from_summary(x_of(m)?, s)?;
                    // A Student-t interval of a probability can reach below 0 (or above 1)
                    // with few replications; the probability itself cannot.
                    Some(LoadPoint {
                        value: p.value.clamp(0.0, 1.0),
                        ci: p
                            .ci
                            .map(|(lo, hi)| (lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0))),
                        ..p
                    })
                })
                .collect();
            curve.sort_by(|a, b| a.offered.total_cmp(&b.offered));
            let (capacity, note) = if curve.is_empty() {
                (None, Some(format!("no point has `{metric}` and a load")))
            } else {
                match capacity_at_gos(&curve, plan.gos, Interpolation::LogLinear) {
                    Ok(c) => (Some(c), None),
                    Err(e) => (None, Some(e.to_string())),
                }
            };
            CapacityResult {
                deployment,
                group,
                label,
                x,
                points: curve,
                capacity,
                note,
            }
        })
        .collect()
}
