//! `points.csv` and `calls.csv`.
//!
//! `points.csv` columns: `point`, `replication`, `seed`, `deployment`, one column per swept
//! parameter (named by its path), `status` (`ok` or `failed`), `error`, then the metrics:
//! the DESIGN.md minimum (`offered_erlangs`, `calls_offered`, `calls_answered`,
//! `calls_blocked`, `blocking`, `success_rate`, `pdd_ms_mean`, `pdd_ms_p95`, `mos_mean`)
//! followed by every other metric in name order, then the runners' `extra` facts in name
//! order. Counts (`calls_*`) are integers; other metrics have six decimals; an absent value
//! is an empty cell.

use super::{commit, io, temp_path};
use crate::experiment::{SweepResults, UnitStatus};
use crate::metrics::cdr::{calls_csv_header, fmt_f64};
use crate::report::ReportError;
use crate::sim::Fnv1a;
use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The metric columns every `points.csv` has, in this order (DESIGN.md's minimum).
pub const POINTS_METRIC_COLUMNS: [&str; 9] = [
    "offered_erlangs",
    "calls_offered",
    "calls_answered",
    "calls_blocked",
    "blocking",
    "success_rate",
    "pdd_ms_mean",
    "pdd_ms_p95",
    "mos_mean",
];

fn csv_err(path: &Path) -> impl FnOnce(csv::Error) -> ReportError + '_ {
    move |e| ReportError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    }
}

/// A metric value as a cell.
pub fn format_metric(name: &str, v: f64) -> String {
    if name.starts_with("calls_") && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        fmt_f64(v, 6)
    }
}

/// Writes `points.csv`.
pub fn write_points_csv(results: &SweepResults, path: &Path) -> Result<PathBuf, ReportError> {
    let plan = &results.plan;
    let metric_cols: Vec<String> = POINTS_METRIC_COLUMNS
        .iter()
        .map(|s| s.to_string())
        .chain(
            results
                .metric_names
                .iter()
                .filter(|m| !POINTS_METRIC_COLUMNS.contains(&m.as_str()))
                .cloned(),
        )
        .collect();
    let mut header: Vec<String> = ["point", "replication", "seed", "deployment"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(plan.parameters.iter().cloned());
    header.push("status".into());
    header.push("error".into());
    header.extend(metric_cols.iter().cloned());
    let extra_cols: Vec<String> = results
        .extra_names
        .iter()
        .filter(|e| !header.contains(e))
        .cloned()
        .collect();
    header.extend(extra_cols.iter().cloned());

    let tmp = temp_path(path);
    let file = fs::File::create(&tmp).map_err(io(&tmp))?;
    let mut w = csv::Writer::from_writer(BufWriter::new(file));
    w.write_record(&header).map_err(csv_err(&tmp))?;
    for u in &results.units {
        let m = &u.meta;
        let planned = &plan.points[m.point as usize];
        let mut row = vec![
            m.point.to_string(),
            m.replication.to_string(),
            m.seed.to_string(),
            m.deployment.clone(),
        ];
        row.extend(planned.param_nodes().iter().map(|(_, v)| v.display_text()));
        row.push(m.status.as_str().to_string());
        row.push(m.error.clone().unwrap_or_default());
        for c in &metric_cols {
            row.push(match (m.status, m.metrics.get(c)) {
                (UnitStatus::Ok, Some(&v)) => format_metric(c, v),
                _ => String::new(),
            });
        }
        for e in &extra_cols {
            row.push(m.extra.get(e).cloned().unwrap_or_default());
        }
        w.write_record(&row).map_err(csv_err(&tmp))?;
    }
    let buf = w
        .into_inner()
        .map_err(|e| ReportError::Results(format!("{}: {e}", tmp.display())))?;
    let file = buf
        .into_inner()
        .map_err(|e| ReportError::Results(format!("{}: {e}", tmp.display())))?;
    commit(file, &tmp, path)?;
    Ok(path.to_path_buf())
}

/// Writes `calls.csv`: the header, then each unit's stored rows, streamed.
pub fn write_calls_csv(results: &SweepResults, path: &Path) -> Result<PathBuf, ReportError> {
    let tmp = temp_path(path);
    let file = fs::File::create(&tmp).map_err(io(&tmp))?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(calls_csv_header()).map_err(csv_err(&tmp))?;
        w.flush().map_err(io(&tmp))?;
    }
    let mut buf = vec![0_u8; 1 << 16];
    for u in &results.units {
        let Some(src) = &u.calls_file else { continue };
        let mut f = fs::File::open(src).map_err(io(src))?;
        let mut hash = Fnv1a::new();
        let mut bytes = 0_u64;
        loop {
            let n = f.read(&mut buf).map_err(io(src))?;
            if n == 0 {
                break;
            }
            hash.write(&buf[..n]);
            bytes += n as u64;
            out.write_all(&buf[..n]).map_err(io(&tmp))?;
        }
        let hex = format!("{:016x}", hash.finish());
        if bytes != u.meta.calls_bytes || hex != u.meta.calls_hash {
            let _ = fs::remove_file(&tmp);
            return Err(ReportError::Results(format!(
                "{}: {bytes} bytes with hash {hex}, but the unit was stored with {} bytes and \
                 hash {}; the file was changed after the run",
                src.display(),
                u.meta.calls_bytes,
                u.meta.calls_hash
            )));
        }
    }
    let file = out
        .into_inner()
        .map_err(|e| ReportError::Results(format!("{}: {e}", tmp.display())))?;
    commit(file, &tmp, path)?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_cells() {
        assert_eq!(format_metric("calls_offered", 1234.0), "1234");
        assert_eq!(format_metric("calls_offered", 0.5), "0.500000");
        assert_eq!(format_metric("blocking", 0.0123456789), "0.012346");
        assert_eq!(format_metric("blocking", -0.0), "0.000000");
        assert_eq!(format_metric("mos_mean", f64::NAN), "");
    }
}
