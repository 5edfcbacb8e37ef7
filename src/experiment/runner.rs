//! The parallel runner: executes a plan's units on a rayon pool and stores each one as it
//! finishes, skipping units already stored (resume).

use super::doc::Node;
use super::plan::{Needed, Plan, PlannedPoint};
use super::sink::CdrSink;
use super::spec::{Experiment, ScenarioDoc};
use super::store::{OutDir, UnitMeta, UnitStatus, commit};
use super::{ExperimentError, PathError, PointRunner, RunUnit};
use crate::metrics::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::IsTerminal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A deterministic share of the points: shard `index` (0-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole sweep.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses the command line's `K/N` (1-based `K`).
    pub fn parse(text: &str) -> Result<Shard, ExperimentError> {
        let bad = || {
            ExperimentError::Usage(format!(
                "--shard {text}: expected K/N with 1 <= K <= N, e.g. 2/8"
            ))
        };
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let k: u32 = k.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    pub fn is_whole(&self) -> bool {
        self.count <= 1
    }

    fn tag(&self) -> String {
        format!("s{}of{}", self.index + 1, self.count)
    }
}

/// Whether to draw a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// On stderr when stderr is a terminal; nothing otherwise.
    Auto,
    Hidden,
}

/// How to run a plan.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    /// Worker threads; `None` uses every core.
    pub jobs: Option<usize>,
    pub shard: Shard,
    /// Discard results of another experiment in `out` instead of refusing to run.
    pub fresh: bool,
    pub progress: Progress,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Units of this shard found already stored when the run started.
    pub already_done: u64,
    /// Units run now.
    pub ran: u64,
    /// Of those, how many failed.
    pub failed: u64,
    /// Whether the directory held results of this plan before.
    pub resumed: bool,
}

/// The documents and parameter values of a point, or the first parameter that does not
/// apply.
pub(crate) fn scenario_for(
    exp: &Experiment,
    point: &PlannedPoint,
) -> Result<(ScenarioDoc, Vec<(String, Node)>), PathError> {
    let index = exp
        .deployments
        .iter()
        .position(|d| d.name == point.deployment)
        .ok_or_else(|| PathError {
            path: String::new(),
            message: format!("unknown deployment `{}`", point.deployment),
        })?;
    let mut doc = exp.base_scenario(index);
    let params = point.param_nodes();
    for ((path_text, value), param) in params.iter().zip(&exp.parameters) {
        doc.set(&param.path, value.clone()).map_err(|e| PathError {
            path: path_text.clone(),
            message: e.message,
        })?;
    }
    Ok((doc, params))
}

/// Runs the units of `opts.shard` that `out` does not hold yet, until every point of the
/// shard is complete under the plan's stopping rule.
pub fn run(
    exp: &Experiment,
    plan: &Plan,
    runner: &dyn PointRunner,
    opts: &RunOptions,
) -> Result<RunReport, ExperimentError> {
    if plan.runner != runner.name() {
        return Err(ExperimentError::Usage(format!(
            "the plan is for runner `{}`, not `{}`",
            plan.runner,
            runner.name()
        )));
    }
    let dir = OutDir::new(&opts.out);
    let tag = opts.shard.tag();
    let resumed = dir.prepare(plan, opts.fresh, &tag)?;
    if opts.shard.is_whole() {
        // Temporaries of interrupted runs (nobody else writes here during a whole run).
        remove_temporaries(&dir)?;
    }
    let shard_points: Vec<&PlannedPoint> = plan
        .shard_points(opts.shard.index, opts.shard.count)
        .collect();
    let key = plan.target.as_ref().map(|t| t.metric.as_str());

    // What is stored already: the key metric of each stored unit of this shard.
    let mut known: BTreeMap<(u32, u32), Option<f64>> = BTreeMap::new();
    let in_shard: BTreeSet<u32> = shard_points.iter().map(|p| p.point).collect();
    for (p, r) in stored_units(&dir)? {
        if in_shard.contains(&p) && (p as usize) < plan.points.len() {
            if let Some(meta) = dir.read_meta(plan, p, r)? {
                known.insert((p, r), key_value(&meta, key));
            }
        }
    }
    let mut report = RunReport {
        already_done: known.len() as u64,
        resumed,
        ..RunReport::default()
    };

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .build()
        .map_err(|e| ExperimentError::Pool(e.to_string()))?;
    let bar = progress_bar(opts.progress);
    let done = AtomicU64::new(0);
    let failed = AtomicU64::new(0);
    loop {
        let mut todo: Vec<(u32, u32)> = Vec::new();
        let mut complete = 0_u64;
        for p in &shard_points {
            match plan.needed(|r| known.get(&(p.point, r)).copied()) {
                Needed::Complete(k) => complete += u64::from(k),
                Needed::Run(reps) => todo.extend(reps.into_iter().map(|r| (p.point, r))),
            }
        }
        if todo.is_empty() {
            break;
        }
        let before = done.load(Ordering::Relaxed);
        bar.set_length(complete + before + todo.len() as u64);
        bar.set_position(complete + before);
        let results: Vec<((u32, u32), Option<f64>)> = pool.install(|| {
            todo.par_iter()
                .map(|&(p, r)| {
                    let meta = run_unit(exp, plan, &dir, runner, p, r, &tag)?;
                    done.fetch_add(1, Ordering::Relaxed);
                    if meta.status == UnitStatus::Failed {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    bar.inc(1);
                    Ok(((p, r), key_value(&meta, key)))
                })
                .collect::<Result<Vec<_>, ExperimentError>>()
        })?;
        known.extend(results);
    }
    bar.finish_and_clear();
    report.ran = done.load(Ordering::Relaxed);
    report.failed = failed.load(Ordering::Relaxed);
    Ok(report)
}

fn key_value(meta: &UnitMeta, key: Option<&str>) -> Option<f64> {
    match meta.status {
        UnitStatus::Ok => key.and_then(|k| meta.metrics.get(k).copied()),
        UnitStatus::Failed => None,
    }
}

fn progress_bar(mode: Progress) -> ProgressBar {
    if mode == Progress::Hidden || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::default_bar()
        .template("{elapsed_precise} [{wide_bar}] {pos}/{len} runs, ETA {eta} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// The (point, replication) of every unit meta file in the store.
pub(crate) fn stored_units(dir: &OutDir) -> Result<Vec<(u32, u32)>, ExperimentError> {
    let units = dir.units_dir();
    let entries = match fs::read_dir(&units) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ExperimentError::io(&units)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(ExperimentError::io(&units))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(unit) = parse_unit_name(name) {
            out.push(unit);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Removes `.NAME.TAG.tmp` files from the store.
fn remove_temporaries(dir: &OutDir) -> Result<(), ExperimentError> {
    let units = dir.units_dir();
    for entry in fs::read_dir(&units).map_err(ExperimentError::io(&units))? {
        let entry = entry.map_err(ExperimentError::io(&units))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            let path = entry.path();
            fs::remove_file(&path).map_err(ExperimentError::io(&path))?;
        }
    }
    Ok(())
}

/// `pPPPPPP-rRRRR.json` → `(P, R)`.
fn parse_unit_name(name: &str) -> Option<(u32, u32)> {
    let stem = name.strip_suffix(".json")?.strip_prefix('p')?;
    let (p, r) = stem.split_once("-r")?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(p) && all_digits(r)) {
        return None;
    }
    Some((p.parse().ok()?, r.parse().ok()?))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
}

/// Runs and stores one unit; returns its meta as stored (read back, so that decisions use
/// exactly what the assembly will read).
fn run_unit(
    exp: &Experiment,
    plan: &Plan,
    dir: &OutDir,
    runner: &dyn PointRunner,
    point: u32,
    replication: u32,
    tag: &str,
) -> Result<UnitMeta, ExperimentError> {
    let planned = &plan.points[point as usize];
    let seed = planned.seed(plan.seed, replication);
    let mut meta = UnitMeta {
        format: plan.format,
        identity: plan.identity.clone(),
        point,
        replication,
        seed,
        deployment: planned.deployment.clone(),
        status: UnitStatus::Ok,
        error: None,
        metrics: BTreeMap::new(),
        extra: BTreeMap::new(),
        calls: 0,
        calls_bytes: 0,
        calls_hash: String::new(),
        pdd_ms: Histogram::new(),
    };
    match scenario_for(exp, planned) {
        Err(e) => {
            meta.status = UnitStatus::Failed;
            meta.error = Some(format!("invalid parameter {e}"));
        }
        Ok((scenario, params)) => {
            let unit = RunUnit {
                point,
                replication,
                seed,
                deployment: planned.deployment.clone(),
                params,
                scenario,
            };
            let csv_path = dir.calls_path(point, replication);
            let tmp = OutDir::temp_for(&csv_path, tag);
            let file = fs::File::create(&tmp).map_err(ExperimentError::io(&tmp))?;
            let mut sink = CdrSink::new(file, point, replication, &planned.deployment);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                runner.run(&unit, &mut |rec| sink.push(rec))
            }));
            let failure = match outcome {
                Ok(Ok(result)) => {
                    let (calls, bytes, hash, stats) =
                        sink.finish().map_err(ExperimentError::io(&tmp))?;
                    if calls > 0 {
                        commit(&tmp, &csv_path)?;
                    } else {
                        let _ = fs::remove_file(&tmp);
                    }
                    meta.calls = calls;
                    meta.calls_bytes = bytes;
                    meta.calls_hash = hash;
                    meta.metrics = stats.metrics();
                    for (k, v) in result.metrics {
                        if v.is_finite() {
                            meta.metrics.insert(k, v);
                        } else {
                            meta.metrics.remove(&k);
                        }
                    }
                    meta.extra = result.extra;
                    meta.pdd_ms = stats.pdd_hist;
                    None
                }
                Ok(Err(message)) => Some(message),
                Err(payload) => Some(format!("panicked: {}", panic_message(payload.as_ref()))),
            };
            if let Some(message) = failure {
                let _ = fs::remove_file(&tmp);
                meta.status = UnitStatus::Failed;
                meta.error = Some(message);
            }
        }
    }
    dir.write_meta(&meta, tag)?;
    dir.read_meta(plan, point, replication)?.ok_or_else(|| {
        ExperimentError::corrupt(dir.meta_path(point, replication), "vanished after writing")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_and_unit_names() {
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { index: 1, count: 3 });
        for bad in ["0/3", "4/3", "1/0", "x", "1/", "/2", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_unit_name("p000012-r0003.json"), Some((12, 3)));
        assert_eq!(parse_unit_name("p1-r2.json"), Some((1, 2)));
        for bad in [
            "p000012-r0003.csv",
            ".p000012-r0003.json.s1of1.tmp",
            "manifest.json",
            "p-r1.json",
            "px-r1.json",
        ] {
            assert_eq!(parse_unit_name(bad), None, "{bad}");
        }
    }
}
