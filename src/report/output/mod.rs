//! A sweep's published outputs, assembled from its stored units
//! ([`crate::experiment::SweepResults`]):
//!
//! - `points.csv`: one row per point × replication ([`tables`]);
//! - `calls.csv`: every unit's CDR rows, concatenated in (point, replication, call) order and
//!   streamed file to file, each unit's bytes checked against the size and hash it was
//!   stored with;
//! - `summary.json`: per point, every metric's mean and 95% interval across replications,
//!   each deployment's capacity at the grade of service, and the failed runs ([`summary`]);
//! - `distributions.json`: per point, the post-dial-delay histogram (the CDF chart's input);
//! - `charts/`: drawn from `summary.json`, `distributions.json` and the stored plan only
//!   ([`charts`]), so `voicetwin chart DIR` redraws them identically without rerunning.
//!
//! Every file is written to a temporary name and renamed into place. Floats are formatted
//! with fixed rules (CSV: [`fmt_f64`](crate::metrics::cdr::fmt_f64); JSON: shortest
//! round-trip), and nothing depends on the thread count, the sharding or the clock.

pub mod charts;
pub mod summary;
pub mod tables;

use crate::experiment::{OutDir, Plan, SweepResults};
use crate::report::ReportError;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use summary::{Distributions, SummaryDoc};

/// The files written by [`write_results`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub files: Vec<PathBuf>,
}

/// Writes every output of a complete sweep into `out`, charts included.
pub fn write_results(results: &SweepResults, out: &Path) -> Result<Written, ReportError> {
    fs::create_dir_all(out).map_err(io(out))?;
    let mut files = vec![
        tables::write_points_csv(results, &out.join("points.csv"))?,
        tables::write_calls_csv(results, &out.join("calls.csv"))?,
    ];
    let doc = SummaryDoc::from_results(results);
    files.push(write_json(&out.join("summary.json"), &doc)?);
    files.push(write_json(
        &out.join("distributions.json"),
        &Distributions::from_results(results),
    )?);
    files.extend(redraw_charts(out)?);
    Ok(Written { files })
}

/// Redraws `out/charts/` from `summary.json`, `distributions.json` and the stored plan.
pub fn redraw_charts(out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let plan = read_plan(out)?;
    let summary: SummaryDoc = read_json(&out.join("summary.json"))?;
    let dists: Distributions = read_json(&out.join("distributions.json"))?;
    charts::draw_all(&plan, &summary, &dists, &out.join("charts"))
}

fn read_plan(out: &Path) -> Result<Plan, ReportError> {
    let dir = OutDir::new(out);
    dir.read_plan()
        .map_err(|e| ReportError::Results(e.to_string()))?
        .ok_or_else(|| {
            ReportError::Results(format!(
                "{} holds no sweep results (no {})",
                out.display(),
                dir.manifest_path().display()
            ))
        })
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The temporary name `path` is written under before the rename.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    path.with_file_name(format!(".{name}.tmp"))
}

/// Flushes, syncs and renames a finished temporary file into place.
pub(crate) fn commit(file: fs::File, tmp: &Path, path: &Path) -> Result<(), ReportError> {
    file.sync_all().map_err(io(tmp))?;
    drop(file);
    fs::rename(tmp, path).map_err(io(path))
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<PathBuf, ReportError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| ReportError::Results(format!("{}: {e}", path.display())))?;
    text.push('\n');
    let tmp = temp_path(path);
    let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(text.as_bytes()).map_err(io(&tmp))?;
    commit(f, &tmp, path)?;
    Ok(path.to_path_buf())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|e| {
        ReportError::Results(format!("{}: not a voicetwin output: {e}", path.display()))
    })
}
