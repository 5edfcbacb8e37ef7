//! `experiment`: experiment files, parameter sweeps, replications, the parallel runner,
//! crash-safe resume, and sharding and merging.
//!
//! An [`Experiment`] is loaded from an `Experiment(...)` file: deployments (each a
//! topology document, optional vendor model documents and overrides), a base scenario, a
//! sweep (a grid plus zipped groups of parameters, addressed by [`ParamPath`]s into the
//! documents), replications, metrics and charts. A [`Plan`] fixes the points, their seeds and
//! the experiment's identity. [`run`] executes the plan's (point, replication) units on a
//! rayon pool through a [`PointRunner`] (the scenario layer's simulator, or a test double)
//! and stores each unit durably under `DIR/.units/`; [`SweepResults::collect`] reads the
//! units of one or more (shard) directories back, checks they are complete, and summarises
//! them for the report layer, which writes `points.csv`, `calls.csv`, `summary.json` and the
//! charts.
//!
//! Invariants:
//! - A unit's seed comes from the experiment seed, the point's parameter values and the
//!   replication ([`unit_seed`]), never from its position, the thread count or the shard.
//! - Every output is assembled from the stored units in (point, replication) order, so it is
//!   byte-identical for any `--jobs`, any sharding and any number of interruptions.
//! - A unit is stored by writing a temporary file and renaming it; a unit file that exists is
//!   complete, and is never recomputed.
//! - A failing unit (an error or a panic of the runner, an invalid parameter) is stored as
//!   failed with its error and seed; the sweep goes on.
//! - Nothing here reads the wall clock or depends on `HashMap` order.
//!
//! # Output directory
//!
//! `voicetwin run` writes `DIR/.units/` as it goes (`manifest.json`, the plan with the
//! experiment's identity; per unit a `.json` meta file and a `.csv` of its CDR rows), and,
//! once every unit exists, `points.csv`, `calls.csv`, `summary.json`, `distributions.json`
//! and `charts/`. Rerunning the same command after an interruption runs only the missing
//! units. A different experiment (other documents, seed, runner, replications or
//! `--target-ci`) in the same `DIR` is refused; `--fresh` discards it.
//!
//! # Running a sweep on a cluster
//!
//! `--shard K/N` runs the points whose index is `K-1` modulo `N` (all replications of a point
//! stay in one shard, so `--target-ci` works per shard). Each shard writes its own
//! directory, or all write one directory on a shared file system; `voicetwin merge` then
//! checks that the shards belong to one experiment and are complete, and writes outputs
//! byte-identical to an unsharded run. A shard that is killed and restarted resumes.
//!
//! Slurm job array (`SLURM_ARRAY_TASK_ID` runs from 1):
//!
//! ```sh
//! #!/bin/bash
//! #SBATCH --job-name=voicetwin-capacity
//! #SBATCH --array=1-16
//! #SBATCH --cpus-per-task=8
//! voicetwin run experiments/capacity.ron \
//!     --shard "${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}" \
//!     --jobs "${SLURM_CPUS_PER_TASK}" \
//!     --out "results/capacity/shard-${SLURM_ARRAY_TASK_ID}"
//! ```
//!
//! then, after the array (`sbatch --dependency=afterok:<array job id> merge.sh`):
//! `voicetwin merge results/capacity/shard-* --out results/capacity`.
//!
//! Kubernetes Indexed Job (`JOB_COMPLETION_INDEX` runs from 0):
//!
//! ```yaml
//! apiVersion: batch/v1
//! kind: Job
//! metadata: { name: voicetwin-capacity }
//! spec:
//!   completions: 16
//!   parallelism: 16
//!   completionMode: Indexed
//!   template:
//!     spec:
//!       restartPolicy: OnFailure   # a restarted pod resumes its shard
//!       containers:
//!         - name: shard
//!           image: voicetwin:latest
//!           command: ["sh", "-c", "voicetwin run /work/experiments/capacity.ron
//!             --shard $((JOB_COMPLETION_INDEX + 1))/16 --out /results/shard-$JOB_COMPLETION_INDEX"]
//!           volumeMounts: [{ name: results, mountPath: /results }]
//!       volumes:
//!         - name: results
//!           persistentVolumeClaim: { claimName: voicetwin-results }
//! ```
//!
//! then `voicetwin merge /results/shard-* --out /results/capacity` in a follow-up Job.

pub mod builtin;
pub mod doc;
mod error;
mod load;
mod plan;
mod results;
mod runner;
pub mod scenario_runner;
mod sink;
mod spec;
mod store;
pub mod synthetic;

pub use doc::{Document, Node, ParamPath, PathError};
pub use error::ExperimentError;
pub use plan::{CiBound, Needed, Plan, PlannedPoint, STORE_FORMAT, TargetCi, unit_seed};
pub use results::{CapacityResult, PointResult, SweepResults, UnitEntry};
pub use runner::{Progress, RunOptions, RunReport, Shard, run};
pub use sink::CDR_METRICS;
pub use spec::{ChartSpec, Deployment, Experiment, MAX_POINTS, Parameter, ScenarioDoc};
pub use store::{OutDir, UnitMeta, UnitStatus};

use crate::config::ConfigError;
use crate::metrics::cdr::CallRecord;
use std::collections::BTreeMap;
use std::path::Path;

/// A swept parameter's value: any RON value, names kept.
pub type ParamValue = Node;

/// One (point, replication) to run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunUnit {
    pub point: u32,
    pub replication: u32,
    /// The seed of this run: feed it to the run's `RngFactory`.
    pub seed: u64,
    pub deployment: String,
    /// The point's swept parameters, `(path, value)` in column order.
    pub params: Vec<(String, ParamValue)>,
    /// The deployment's documents with the parameters applied; the runner deserializes
    /// them into its typed structs ([`Document::deserialize`]).
    pub scenario: ScenarioDoc,
}

/// What a run returns besides the streamed CDRs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnitResult {
    /// Point-level metrics (e.g. `offered_erlangs`, trunk utilisation,
    /// `bottleneck_channels`). They join the metrics computed from the CDRs
    /// ([`CDR_METRICS`]) and take precedence over them on a name clash. Non-finite values
    /// are dropped.
    pub metrics: BTreeMap<String, f64>,
    /// Free-form point-level facts, written as `points.csv` columns.
    pub extra: BTreeMap<String, String>,
}

/// Runs one (point, replication). Implemented by the scenario layer's simulator; tests use
/// [`synthetic::SyntheticRunner`].
pub trait PointRunner: Sync {
    /// Runs the unit, streaming one [`CallRecord`] per call to `calls` in call order. The
    /// runner need not fill `point`, `replication` or `deployment`: the caller overwrites
    /// them. An `Err` (or a panic) marks the unit failed; its CDRs are then discarded.
    fn run(&self, unit: &RunUnit, calls: &mut dyn FnMut(CallRecord)) -> Result<UnitResult, String>;

    /// A stable name for the runner, part of the experiment's identity: results of one
    /// runner are never resumed or merged with another's.
    fn name(&self) -> &str {
        "scenario"
    }
}

/// What `voicetwin check` runs on an `Experiment(...)` file: loads it with everything it
/// references and applies every point's parameters. Returns a one-line description, or
/// every problem found, located. (At run time a point whose parameters do not apply is
/// recorded as failed instead, and the others run.)
pub fn check_file(path: &Path, text: &str) -> Result<String, Vec<ConfigError>> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let exp = Experiment::from_text(path, text, Some(&dir)).map_err(|e| vec![e])?;
    let plan = Plan::new(&exp, None, None, "check");
    let mut problems = Vec::new();
    for p in &plan.points {
        if let Err(e) = runner::scenario_for(&exp, p) {
            problems.push(ConfigError::semantic(
                path,
                text,
                Some(&e.path),
                None,
                format!("point {} (deployment `{}`): {e}", p.point, p.deployment),
            ));
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "experiment `{}`: {} deployment(s), {} point(s) × {} replication(s)",
            exp.name,
            exp.deployments.len(),
            plan.points.len(),
            exp.replications
        ))
    } else {
        Err(problems)
    }
}
