//! The output directory's durable store: `DIR/.units/`.
//!
//! - `manifest.json`: the [`Plan`], written before any unit.
//! - `pPPPPPP-rRRRR.csv`: a unit's CDR rows (no header), present when it produced calls.
//! - `pPPPPPP-rRRRR.json`: the unit's [`UnitMeta`]: status, error, seed, metrics, PDD
//!   histogram, and the size and hash of its CSV. Its existence marks the unit complete.
//!
//! Every file is written under a temporary name, flushed to disk, and renamed into place
//! (then the directory is synced), so a kill at any instant leaves either the old state or
//! the new one; a stray temporary is ignored and overwritten by the rerun. The CSV is renamed
//! before the meta file, so a complete unit always has its rows.
//!
//! Shards may share a directory (e.g. on a cluster file system): every unit belongs to one
//! shard, and temporary names carry the writer's tag so that writers never collide.

use super::ExperimentError;
use super::plan::Plan;
use crate::metrics::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the store directory inside an output directory.
pub const UNITS_DIR: &str = ".units";
/// Output files of an assembled result (removed by `--fresh`).
pub const OUTPUT_FILES: [&str; 4] = [
    "summary.json",
    "points.csv",
    "calls.csv",
    "distributions.json",
];

/// How a unit ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    Ok,
    Failed,
}

impl UnitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitStatus::Ok => "ok",
            UnitStatus::Failed => "failed",
        }
    }
}

/// Everything stored about one (point, replication) except its CDR rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitMeta {
    pub format: u32,
    /// The experiment identity the unit belongs to.
    pub identity: String,
    pub point: u32,
    pub replication: u32,
    pub seed: u64,
    pub deployment: String,
    pub status: UnitStatus,
    /// Why the unit failed.
    pub error: Option<String>,
    /// CDR-derived and runner metrics (finite values only).
    pub metrics: BTreeMap<String, f64>,
    pub extra: BTreeMap<String, String>,
    /// CDR rows in the CSV file, and its size and FNV-1a hash (hex).
    pub calls: u64,
    pub calls_bytes: u64,
    pub calls_hash: String,
    /// Post-dial delays of the measured calls, ms.
    pub pdd_ms: Histogram,
}

/// An output directory and its store.
#[derive(Clone, Debug)]
pub struct OutDir {
    root: PathBuf,
}

impl OutDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        OutDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn units_dir(&self) -> PathBuf {
        self.root.join(UNITS_DIR)
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.units_dir().join("manifest.json")
    }

    fn stem(point: u32, replication: u32) -> String {
        format!("p{point:06}-r{replication:04}")
    }

    pub fn meta_path(&self, point: u32, replication: u32) -> PathBuf {
        self.units_dir()
            .join(format!("{}.json", Self::stem(point, replication)))
    }

    pub fn calls_path(&self, point: u32, replication: u32) -> PathBuf {
        self.units_dir()
            .join(format!("{}.csv", Self::stem(point, replication)))
    }

    /// A temporary path next to `path`, unique to the writer `tag`.
    pub(crate) fn temp_for(path: &Path, tag: &str) -> PathBuf {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        path.with_file_name(format!(".{name}.{tag}.tmp"))
    }

    /// The stored plan, if this directory has one.
    pub fn read_plan(&self) -> Result<Option<Plan>, ExperimentError> {
        let path = self.manifest_path();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ExperimentError::io(&path)(e)),
        };
        let plan: Plan = serde_json::from_str(&text)
            .map_err(|e| ExperimentError::corrupt(&path, format!("not a voicetwin plan: {e}")))?;
        plan.validate()
            .map_err(|m| ExperimentError::corrupt(&path, m))?;
        Ok(Some(plan))
    }

    /// Makes the directory ready for `plan`: checks that stored units belong to it (or
    /// discards everything with `fresh`), and writes the manifest. Returns whether results
    /// of this plan were already there.
    pub fn prepare(&self, plan: &Plan, fresh: bool, tag: &str) -> Result<bool, ExperimentError> {
        let stored = match self.read_plan() {
            Ok(p) => p,
            Err(_) if fresh => None,
            Err(e) => return Err(e),
        };
        if fresh {
            self.discard()?;
        }
        let resumed = match stored {
            Some(s) if !fresh && s.identity != plan.identity => {
                return Err(ExperimentError::ChangedExperiment {
                    dir: self.root.clone(),
                    found: describe(&s),
                    expected: describe(plan),
                });
            }
            Some(s) => !fresh && s.identity == plan.identity,
            None => false,
        };
        fs::create_dir_all(self.units_dir()).map_err(ExperimentError::io(self.units_dir()))?;
        let json = serde_json::to_string_pretty(plan)
            .map_err(|e| ExperimentError::corrupt(self.manifest_path(), e.to_string()))?;
        write_atomic(&self.manifest_path(), json.as_bytes(), tag)?;
        Ok(resumed)
    }

    /// Removes the store and the assembled outputs (only files this program writes).
    fn discard(&self) -> Result<(), ExperimentError> {
        let units = self.units_dir();
        if units.exists() {
            fs::remove_dir_all(&units).map_err(ExperimentError::io(&units))?;
        }
        for f in OUTPUT_FILES {
            let p = self.root.join(f);
            if p.exists() {
                fs::remove_file(&p).map_err(ExperimentError::io(&p))?;
            }
        }
        let charts = self.root.join("charts");
        if charts.is_dir() {
            fs::remove_dir_all(&charts).map_err(ExperimentError::io(&charts))?;
        }
        Ok(())
    }

    /// The stored meta of a unit, checked against the plan; `None` when the unit has not
    /// completed.
    pub fn read_meta(
        &self,
        plan: &Plan,
        point: u32,
        replication: u32,
    ) -> Result<Option<UnitMeta>, ExperimentError> {
        let path = self.meta_path(point, replication);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ExperimentError::io(&path)(e)),
        };
        let meta: UnitMeta = serde_json::from_str(&text)
            .map_err(|e| ExperimentError::corrupt(&path, format!("not a unit file: {e}")))?;
        let planned = plan
            .points
            .get(point as usize)
            .ok_or_else(|| ExperimentError::corrupt(&path, "point outside the plan"))?;
        let expected_seed = planned.seed(plan.seed, replication);
        if meta.identity != plan.identity
            || meta.point != point
            || meta.replication != replication
            || meta.seed != expected_seed
            || meta.deployment != planned.deployment
        {
            return Err(ExperimentError::corrupt(
                &path,
                format!(
                    "belongs to another experiment or unit (identity {}, point {}, replication \
                     {}, seed {}; expected {}, {point}, {replication}, {expected_seed})",
                    meta.identity, meta.point, meta.replication, meta.seed, plan.identity
                ),
            ));
        }
        if meta.calls > 0 {
            let csv = self.calls_path(point, replication);
            let len = fs::metadata(&csv).map_err(ExperimentError::io(&csv))?.len();
            if len != meta.calls_bytes {
                return Err(ExperimentError::corrupt(
                    &csv,
                    format!("{len} bytes where the unit file says {}", meta.calls_bytes),
                ));
            }
        }
        Ok(Some(meta))
    }

    /// Writes a unit's meta file (the CSV, if any, must already be in place).
    pub(crate) fn write_meta(&self, meta: &UnitMeta, tag: &str) -> Result<(), ExperimentError> {
        let path = self.meta_path(meta.point, meta.replication);
        let json = serde_json::to_string(meta)
            .map_err(|e| ExperimentError::corrupt(&path, e.to_string()))?;
        write_atomic(&path, json.as_bytes(), tag)
    }
}

fn describe(plan: &Plan) -> String {
    format!(
        "experiment `{}` from {}, seed {}, runner `{}`, identity {}",
        plan.experiment, plan.source, plan.seed, plan.runner, plan.identity
    )
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], tag: &str) -> Result<(), ExperimentError> {
    let tmp = OutDir::temp_for(path, tag);
    let mut f = fs::File::create(&tmp).map_err(ExperimentError::io(&tmp))?;
    f.write_all(bytes).map_err(ExperimentError::io(&tmp))?;
    f.sync_all().map_err(ExperimentError::io(&tmp))?;
    drop(f);
    commit(&tmp, path)
}

/// Renames a finished temporary file into place and syncs the directory entry.
pub(crate) fn commit(tmp: &Path, path: &Path) -> Result<(), ExperimentError> {
    fs::rename(tmp, path).map_err(ExperimentError::io(path))?;
    if let Some(dir) = path.parent() {
        // Syncing a directory makes the rename itself durable. Some file systems refuse to
        // open directories for syncing; the rename is then as durable as they allow.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
