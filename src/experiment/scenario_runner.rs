//! The real [`PointRunner`]: one (point, replication) is one run of the scenario layer's
//! simulator on the deployment's topology, with the point's parameters applied.

use super::{PointRunner, RunUnit, ScenarioDoc, UnitResult};
use crate::elements::spec::ElementKindSpec;
use crate::metrics::cdr::CallRecord;
use crate::metrics::erlang::erlang_b;
use crate::metrics::record::call_record;
use crate::scenario::build::builtin_model_map;
use crate::scenario::run::{RunInput, RunOptions, RunReport, run, validate};
use crate::scenario::spec::ScenarioSpec;
use crate::scenario::topology::Topology;
use crate::vendor::VendorModel;
use std::collections::BTreeMap;
use std::path::Path;

/// Runs units with the simulator.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScenarioRunner;

/// A point's documents, typed.
pub struct Prepared {
    pub origin: String,
    pub text: String,
    pub topology: Topology,
    pub spec: ScenarioSpec,
    pub models: BTreeMap<String, VendorModel>,
    /// Element names in build order (element ids index it).
    pub names: Vec<String>,
}

impl Prepared {
    /// Deserializes a point's documents.
    pub fn new(doc: &ScenarioDoc, point: u32) -> Result<Prepared, String> {
        let origin = format!("{} (point {point})", doc.topology_origin);
        let text = doc.topology.to_ron(true);
        let topology = Topology::parse(Path::new(&origin), &text).map_err(|e| e.to_string())?;
        let spec: ScenarioSpec = doc
            .scenario
            .deserialize(&format!("scenario (point {point})"))
            .map_err(|e| e.to_string())?;
        let mut models = builtin_model_map();
        for (id, d) in &doc.models {
            let model: VendorModel = d
                .deserialize(&format!("model {id}"))
                .map_err(|e| e.to_string())?;
            models.insert(id.clone(), model);
        }
        let names = topology
            .deployment
            .as_ref()
            .map(|d| d.elements.iter().map(|e| e.name().to_string()).collect())
            .unwrap_or_default();
        Ok(Prepared {
            origin,
            text,
            topology,
            spec,
            models,
            names,
        })
    }

    pub fn input(&self) -> RunInput<'_> {
        RunInput {
            topology_path: Path::new(&self.origin),
            topology_text: &self.text,
            topology: &self.topology,
            scenario: &self.spec,
            models: &self.models,
        }
    }
}

fn joined(errors: Vec<crate::config::ConfigError>) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl PointRunner for ScenarioRunner {
    fn run(&self, unit: &RunUnit, calls: &mut dyn FnMut(CallRecord)) -> Result<UnitResult, String> {
        let p = Prepared::new(&unit.scenario, unit.point)?;
        let report = run(
            &p.input(),
            unit.seed,
            &RunOptions::default(),
            &mut |log, meta| {
                calls(call_record(&log, &meta, &p.names, &unit.deployment));
            },
        )
        .map_err(joined)?;
        Ok(UnitResult {
            metrics: run_metrics(&report),
            extra: BTreeMap::new(),
        })
    }
}

/// What `voicetwin check` adds for experiments: every point's documents deserialize into
/// the simulator's types, its deployment builds and its workload fits the populations.
pub fn check_points(path: &Path, text: &str) -> Result<String, Vec<crate::config::ConfigError>> {
    let summary = super::check_file(path, text)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let exp = super::Experiment::from_text(path, text, Some(&dir)).map_err(|e| vec![e])?;
    let plan = super::Plan::new(&exp, None, None, "check");
    let mut problems = Vec::new();
    for point in &plan.points {
        let result = super::runner::scenario_for(&exp, point)
            .map_err(|e| e.to_string())
            .and_then(|(doc, _)| Prepared::new(&doc, point.point))
            .and_then(|p| validate(&p.input()).map_err(joined));
        if let Err(e) = result {
            problems.push(crate::config::ConfigError::unlocated(
                path,
                format!(
                    "point {} (deployment `{}`): {e}",
                    point.point, point.deployment
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(problems)
    }
}

/// Point metrics a run knows beyond its CDRs: the offered load, the PSTN access trunk group
/// (`bottleneck_channels`, for the Erlang B overlay), the busiest span group's peak
/// utilisation and the Mediation Server relays.
pub fn run_metrics(report: &RunReport) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    m.insert("offered_erlangs".into(), report.offered_erlangs);
    m.insert("calls_started".into(), report.calls_started as f64);
    m.insert("mediation_relays_peak".into(), report.relay_peak as f64);
    // The PSTN access trunk group (every span to the PSTN) is what Erlang B describes.
    let access: usize = report
        .trunks
        .iter()
        .filter(|t| t.to_pstn)
        .map(|t| t.capacity)
        .sum();
    if access > 0 {
        m.insert("bottleneck_channels".into(), access as f64);
        // The load the access group is offered: the load A whose carried traffic on
        // `access` channels, A·(1 − B(A)), equals what the group carried (its channel
        // occupancy over the arrival period; calls still up then finish in the drain and
        // are counted). Counting blocked attempts instead would count a call refused by one
        // gateway and carried by the next twice.
        let carried_s: f64 = report
            .trunks
            .iter()
            .filter(|t| t.to_pstn)
            .map(|t| t.channel_seconds)
            .sum();
        if report.arrivals_s > 0.0 && carried_s > 0.0 {
            let carried = carried_s / report.arrivals_s;
            if let Some(a) = offered_for_carried(access as u32, carried) {
                m.insert("bottleneck_offered_erlangs".into(), a);
            }
        }
    }
    let peak = report
        .trunks
        .iter()
        .filter(|t| t.capacity > 0)
        .map(|t| t.peak_busy as f64 / t.capacity as f64)
        .fold(None, |acc: Option<f64>, u| {
            Some(acc.map_or(u, |a| a.max(u)))
        });
    if let Some(u) = peak {
        m.insert("trunk_peak_utilisation".into(), u);
    }
    m.insert("sip_messages".into(), report.world.sip_sent as f64);
    m.insert("media_packets".into(), report.world.media_sent as f64);
    m
}

/// The offered load A on `channels` whose carried load A·(1 − B(channels, A)) is
/// `carried` (bisection; the carried load rises with A towards `channels`). `None` when
/// `carried` is at or above the channel count.
fn offered_for_carried(channels: u32, carried: f64) -> Option<f64> {
    let carried_by = |a: f64| a * (1.0 - erlang_b(channels, a).unwrap_or(1.0));
    if !(carried > 0.0 && carried < f64::from(channels)) {
        return None;
    }
    let (mut lo, mut hi) = (carried, carried.max(1.0));
    while carried_by(hi) < carried {
        hi *= 2.0;
        if hi > 1e9 {
            return None;
        }
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if carried_by(mid) < carried {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// A traced call: its log and the run's capture of it.
pub struct TracedCall {
    pub log: crate::elements::callbook::CallLog,
    pub meta: crate::scenario::run::CallMeta,
    pub report: RunReport,
    pub seed: u64,
}

/// Re-runs one (point, replication) of an experiment with a capture of call `call` (its
/// first attempt). The run is the same as in the sweep: same seed, same documents.
pub fn trace_call(
    exp: &super::Experiment,
    point: u32,
    replication: u32,
    call: u64,
) -> Result<TracedCall, String> {
    let plan = super::Plan::new(exp, None, None, "scenario");
    let planned = plan
        .points
        .iter()
        .find(|p| p.point == point)
        .ok_or_else(|| {
            format!(
                "the experiment has no point {point} (it has {})",
                plan.points.len()
            )
        })?;
    if replication >= exp.replications.max(1) {
        return Err(format!(
            "replication {replication} is out of range (the experiment runs {})",
            exp.replications
        ));
    }
    let (doc, _) = super::runner::scenario_for(exp, planned).map_err(|e| e.to_string())?;
    let seed = super::unit_seed(plan.seed, &planned.deployment, &planned.params, replication);
    let p = Prepared::new(&doc, point)?;
    let options = RunOptions {
        watch: Some(crate::elements::CallTag(call)),
        ..RunOptions::default()
    };
    let mut found = None;
    let report = run(&p.input(), seed, &options, &mut |log, meta| {
        if meta.call_id == call && meta.attempt == 0 {
            found = Some((log, meta));
        }
    })
    .map_err(joined)?;
    let (log, meta) = found
        .ok_or_else(|| format!("point {point} replication {replication} has no call {call}"))?;
    Ok(TracedCall {
        log,
        meta,
        report,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::offered_for_carried;
    use crate::metrics::erlang::erlang_b;

    /// N = 30 at 20.337 E blocks 1%, so it carries 20.134 E: the inverse gives 20.337 back.
    #[test]
    fn the_offered_load_is_recovered_from_the_carried_load() {
        let a = 20.337;
        let carried = a * (1.0 - erlang_b(30, a).unwrap());
        approx::assert_relative_eq!(
            offered_for_carried(30, carried).unwrap(),
            a,
            max_relative = 1e-9
        );
        // Heavy overload: 92 channels carrying 90 E were offered far more than 92 E.
        let heavy = offered_for_carried(92, 90.0).unwrap();
        assert!(heavy > 110.0, "{heavy}");
        assert_eq!(offered_for_carried(10, 10.0), None);
        assert_eq!(offered_for_carried(10, 0.0), None);
    }
}
