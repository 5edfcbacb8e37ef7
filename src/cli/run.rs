//! `voicetwin run [EXPERIMENT] [--seed N] [--out DIR] [--jobs N] [--shard K/N]`: runs a sweep
//! (or one shard of it) and, for a whole sweep, writes its outputs.

use crate::experiment::{
    self, Experiment, Plan, PointRunner, Progress, RunOptions, Shard, SweepResults, TargetCi,
    builtin::DEFAULT_EXPERIMENT, scenario_runner::ScenarioRunner, synthetic::SyntheticRunner,
};
use crate::metrics::Crossing;
use crate::report::output;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `voicetwin run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The experiment file (default: the embedded `incremental-vs-voip-only`).
    pub experiment: Option<PathBuf>,
    /// Overrides the experiment's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default: `results/<experiment file stem>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: every core). Outputs do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only shard K of N (points with index mod N = K-1); combine with `voicetwin merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Discard results of a different experiment found in the output directory.
    #[arg(long)]
    pub fresh: bool,
    /// Add replications until the 95% CI half-width of the experiment's key metric is at
    /// most X (e.g. 0.002), or X% of its mean (e.g. 5%).
    #[arg(long, value_name = "X")]
    pub target_ci: Option<String>,
}

/// Environment variable that selects the synthetic M/M/c/c runner (for tests of the
/// experiment machinery).
pub const SYNTHETIC_RUNNER_ENV: &str = "VOICETWIN_SYNTHETIC_RUNNER";

/// The runner behind `voicetwin run`: the simulator, or the synthetic M/M/c/c runner that
/// tests of the experiment machinery select with the environment variable above.
fn point_runner() -> Result<Box<dyn PointRunner>, String> {
    if std::env::var_os(SYNTHETIC_RUNNER_ENV).is_some_and(|v| v == "1") {
        return Ok(Box::new(SyntheticRunner));
    }
    Ok(Box::new(ScenarioRunner))
}

fn load(arg: Option<&Path>) -> Result<(Experiment, String), String> {
    match arg {
        Some(path) => {
            let exp = Experiment::load(path).map_err(|e| e.to_string())?;
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("experiment")
                .to_string();
            Ok((exp, stem))
        }
        None => {
            let exp = Experiment::builtin(DEFAULT_EXPERIMENT).map_err(|e| e.to_string())?;
            Ok((exp, DEFAULT_EXPERIMENT.to_string()))
        }
    }
}

/// Runs `voicetwin run`.
pub fn main(args: RunArgs) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> Result<(), String> {
    let (exp, stem) = load(args.experiment.as_deref())?;
    let runner = point_runner()?;
    let shard = match &args.shard {
        Some(s) => Shard::parse(s).map_err(|e| e.to_string())?,
        None => Shard::WHOLE,
    };
    let target = args
        .target_ci
        .as_deref()
        .map(|t| TargetCi::parse(t, &exp.key_metric, exp.max_replications))
        .transpose()
        .map_err(|e| e.to_string())?;
    let plan = Plan::new(&exp, args.seed, target, runner.name());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&stem));
    let opts = RunOptions {
        out: out.clone(),
        jobs: args.jobs,
        shard,
        fresh: args.fresh,
        progress: Progress::Auto,
    };
    let report = experiment::run(&exp, &plan, runner.as_ref(), &opts).map_err(|e| e.to_string())?;
    let failed = if report.failed > 0 {
        format!(", {} failed (see points.csv)", report.failed)
    } else {
        String::new()
    };
    let resumed = if report.already_done > 0 {
        format!(", {} already done", report.already_done)
    } else {
        String::new()
    };
    if let Some(t) = &plan.target {
        println!("stopping rule: {}", t.describe());
    }
    if !shard.is_whole() {
        println!(
            "shard {}/{} of `{}`: {} run(s) now{resumed}{failed}; stored in {}.\n\
             When every shard is done: voicetwin merge DIR... --out DIR",
            shard.index + 1,
            shard.count,
            plan.experiment,
            report.ran,
            out.display()
        );
        return Ok(());
    }
    let results = SweepResults::collect(std::slice::from_ref(&out)).map_err(|e| e.to_string())?;
    output::write_results(&results, &out).map_err(|e| e.to_string())?;
    println!(
        "`{}`: {} point(s), {} run(s) now{resumed}{failed}; results in {}",
        plan.experiment,
        plan.points.len(),
        report.ran,
        out.display()
    );
    print_capacity(&results);
    Ok(())
}

/// One line per load curve with a capacity.
pub(crate) fn print_capacity(results: &SweepResults) {
    for c in &results.capacity {
        let Some(cap) = &c.capacity else { continue };
        let unit = if c.x == "offered_erlangs" { " E" } else { "" };
        let est = match cap.estimate {
            Crossing::At { erlangs, .. } => format!("{erlangs:.2}{unit}"),
            Crossing::AboveSweep { max_offered } => format!("above {max_offered:.2}{unit}"),
            Crossing::BelowSweep { min_offered } => format!("below {min_offered:.2}{unit}"),
        };
        println!(
            "  capacity at {}% {}: {}: {est}",
            100.0 * cap.gos,
            results.plan.capacity_metric,
            c.label
        );
    }
}
