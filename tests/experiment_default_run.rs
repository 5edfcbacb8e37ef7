//! `voicetwin run` with no argument runs the embedded default experiment, also outside the
//! repository: from an empty directory it finds its experiment, topologies and vendor models
//! in the binary and writes every output of the command-line contract.
//!
//! The default experiment is the real study (36 simulator runs, about 15 s in release on
//! two cores; CI runs the tests with `--release`), so the test runs it once and checks
//! everything on that one output.

use std::process::Command;

#[test]
fn run_without_an_argument_works_outside_the_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_voicetwin"))
        .args(["run", "--seed", "7", "--out", "r", "--jobs", "2"])
        .current_dir(tmp.path())
        .env_remove("VOICETWIN_SYNTHETIC_RUNNER")
        .output()
        .expect("spawn voicetwin");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("`incremental-vs-voip-only`: 12 point(s), 36 run(s) now"),
        "{stdout}"
    );
    let r = tmp.path().join("r");
    for f in [
        "summary.json",
        "points.csv",
        "calls.csv",
        "distributions.json",
    ] {
        let len = std::fs::metadata(r.join(f)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{f} missing or empty");
    }
    for chart in ["capacity", "pdd_cdf", "mos", "comparison"] {
        for ext in ["svg", "png"] {
            let f = r.join("charts").join(format!("{chart}.{ext}"));
            assert!(f.exists(), "{} missing", f.display());
        }
    }
    // Every point ran on the simulator (none failed) and the seed override took effect.
    let points = std::fs::read_to_string(r.join("points.csv")).unwrap();
    let mut rows = points.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (status, deployment, answered) = (col("status"), col("deployment"), col("calls_answered"));
    let rows: Vec<Vec<&str>> = rows.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 36);
    for row in &rows {
        assert_eq!(row[status], "ok", "{row:?}");
        assert!(row[answered].parse::<f64>().unwrap() > 50.0, "{row:?}");
    }
    assert!(rows.iter().any(|r| r[deployment] == "incremental"));
    assert!(rows.iter().any(|r| r[deployment] == "voip-only"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["experiment"], "incremental-vs-voip-only");
    assert_eq!(summary["points"].as_array().unwrap().len(), 12);
    // Nothing was written outside the output directory.
    let entries: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["r"]);
}
