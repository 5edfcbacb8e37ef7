//! A point that cannot run (a parameter path that does not exist in its deployment, a value
//! the runner rejects, a runner error or panic) is recorded as failed with its seed and
//! error, and every other point completes.

mod experiment_support;

use experiment_support::*;
use serde_json::Value;
use voicetwin::experiment::{self, Experiment};

fn summary(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0].iter().position(|h| h == name).unwrap()
}

#[test]
fn a_point_with_an_invalid_parameter_fails_and_the_others_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // Only the large topology has a link named wan2.
    let sweep = r#"(grid: [("workload.load_factor", [0.5, 1.0]),
                           ("topology.links[name=wan2].latency_ms", [10.0, 40.0])])"#;
    let exp_path = fixture(t, &experiment_text(sweep, "", 2));
    let stdout = voicetwin_ok(&["run", exp_path.to_str().unwrap(), "--out", "r"], t);
    assert!(stdout.contains("8 failed"), "{stdout}");

    let rows = csv_rows(&t.join("r/points.csv"));
    let (dep, status, error, blocking, seed) = (
        column(&rows, "deployment"),
        column(&rows, "status"),
        column(&rows, "error"),
        column(&rows, "blocking"),
        column(&rows, "seed"),
    );
    assert_eq!(rows.len(), 1 + 16);
    for r in &rows[1..] {
        if r[dep] == "small" {
            assert_eq!(r[status], "failed");
            assert!(
                r[error].contains("invalid parameter `topology.links[name=wan2].latency_ms`")
                    && r[error].contains("names: wan1"),
                "{}",
                r[error]
            );
            assert_eq!(r[blocking], "");
            assert!(r[seed].parse::<u64>().is_ok());
        } else {
            assert_eq!(r[status], "ok", "{r:?}");
            assert_eq!(r[error], "");
            assert!(r[blocking].parse::<f64>().is_ok());
        }
    }
    // No call rows for the failed points; all of them for the others.
    let calls = csv_rows(&t.join("r/calls.csv"));
    assert!(calls[1..].iter().all(|c| c[3] == "large"));
    assert!(calls.len() > 100);

    let s = summary(&t.join("r"));
    let failures = s["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 8);
    assert!(
        failures
            .iter()
            .all(|f| f["seed"].is_u64() && f["deployment"] == "small")
    );
    for p in s["points"].as_array().unwrap() {
        let n = &p["metrics"]["blocking"]["n"];
        if p["deployment"] == "small" {
            assert_eq!(p["failed"], 2);
            assert!(n.is_null(), "{p}");
        } else {
            assert_eq!(p["failed"], 0);
            assert_eq!(*n, 2);
        }
    }

    // `check` finds the same problem before running, located at the path.
    let text = std::fs::read_to_string(&exp_path).unwrap();
    let errs = experiment::check_file(&exp_path, &text).unwrap_err();
    assert_eq!(errs.len(), 4);
    assert!(
        errs[0].to_string().contains("point 0 (deployment `small`)"),
        "{}",
        errs[0]
    );
    assert!(errs[0].line > 0);
}

#[test]
fn runner_errors_panics_and_rejected_values_are_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let sweep = r#"(
        grid: [("fault", [Never, Error("gateway on fire"), Panic("assertion in the runner")])],
        zip: [[("topology.channels", [8, -3])]],
    )"#;
    let exp_path = fixture(t, &experiment_text(sweep, "fault: Never,", 1));
    let exp = Experiment::load(&exp_path).unwrap();
    let p = plan(&exp);
    let report = run_all(&exp, &p, &t.join("r"), 2);
    assert_eq!(report.ran, 12);
    assert_eq!(report.failed, 2 * (2 + 3));

    let rows = csv_rows(&t.join("r/points.csv"));
    let (status, error, fault, channels) = (
        column(&rows, "status"),
        column(&rows, "error"),
        column(&rows, "fault"),
        column(&rows, "topology.channels"),
    );
    for r in &rows[1..] {
        match (r[fault].as_str(), r[channels].as_str()) {
            ("Never", "8") => assert_eq!(r[status], "ok", "{r:?}"),
            (_, "-3") => {
                assert_eq!(r[status], "failed");
                assert!(r[error].contains("channels"), "{}", r[error]);
            }
            ("Error(\"gateway on fire\")", _) => assert_eq!(r[error], "gateway on fire"),
            ("Panic(\"assertion in the runner\")", _) => {
                assert_eq!(r[error], "panicked: assertion in the runner")
            }
            other => panic!("unexpected row {other:?}"),
        }
    }
    // Rerunning keeps the failures: they are results, not missing units.
    let again = run_shard(
        &exp,
        &p,
        &t.join("r"),
        2,
        voicetwin::experiment::Shard::WHOLE,
    );
    assert_eq!((again.ran, again.already_done), (0, 12));
}
