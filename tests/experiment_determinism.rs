//! A sweep's outputs do not depend on the thread count, and a point's results do not depend
//! on which other points the sweep has.

mod experiment_support;

use experiment_support::*;
use std::collections::BTreeMap;
use voicetwin::experiment::Experiment;

#[test]
fn jobs_1_and_jobs_2_give_byte_identical_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let exp_path = fixture(tmp.path(), &experiment_text(SWEEP, "", 2));
    let exp_arg = exp_path.to_str().unwrap();
    voicetwin_ok(&["run", exp_arg, "--jobs", "1", "--out", "one"], tmp.path());
    voicetwin_ok(&["run", exp_arg, "--jobs", "2", "--out", "two"], tmp.path());
    assert_same_outputs(&tmp.path().join("one"), &tmp.path().join("two"));

    // The outputs are real: 2 deployments × 3 loads × 2 WAN settings × 2 replications.
    let points = csv_rows(&tmp.path().join("one/points.csv"));
    assert_eq!(points.len(), 1 + 24);
    for col in [
        "point",
        "replication",
        "seed",
        "deployment",
        "workload.load_factor",
        "topology.links[name=wan1].latency_ms",
        "topology.links[name=wan1].loss",
        "offered_erlangs",
        "calls_offered",
        "calls_answered",
        "calls_blocked",
        "blocking",
        "success_rate",
        "pdd_ms_mean",
        "pdd_ms_p95",
        "mos_mean",
    ] {
        assert!(points[0].iter().any(|h| h == col), "points.csv lacks {col}");
    }
    let calls = csv_rows(&tmp.path().join("one/calls.csv"));
    assert!(calls.len() > 1000, "{} calls", calls.len());
    // Calls are in (point, replication, call) order.
    let keys: Vec<(u32, u32, u64)> = calls[1..]
        .iter()
        .map(|r| {
            (
                r[0].parse().unwrap(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    for chart in ["capacity", "pdd_cdf", "mos", "comparison"] {
        for ext in ["svg", "png"] {
            assert!(
                tmp.path()
                    .join(format!("one/charts/{chart}.{ext}"))
                    .is_file()
            );
        }
    }
}

#[test]
fn the_default_output_directory_is_results_and_the_file_stem() {
    let tmp = tempfile::tempdir().unwrap();
    let exp_path = fixture(tmp.path(), &experiment_text(SWEEP, "", 1));
    let stdout = voicetwin_ok(&["run", exp_path.to_str().unwrap()], tmp.path());
    assert!(
        tmp.path().join("results/test/summary.json").is_file(),
        "{stdout}"
    );
    assert!(stdout.contains("12 point(s), 12 run(s) now"), "{stdout}");
}

/// `points.csv` rows keyed by (deployment, parameters, replication), without the point index.
fn rows_by_key(dir: &std::path::Path) -> BTreeMap<Vec<String>, Vec<String>> {
    let rows = csv_rows(&dir.join("points.csv"));
    let header = &rows[0];
    let params: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].contains('.'))
        .collect();
    rows[1..]
        .iter()
        .map(|r| {
            let mut key = vec![r[3].clone(), r[1].clone()];
            key.extend(params.iter().map(|&i| r[i].clone()));
            (key, r[1..].to_vec())
        })
        .collect()
}

/// `calls.csv` rows grouped by point key, without the point column.
fn calls_by_key(dir: &std::path::Path) -> BTreeMap<Vec<String>, Vec<Vec<String>>> {
    let points = csv_rows(&dir.join("points.csv"));
    let header = &points[0];
    let params: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].contains('.'))
        .collect();
    let key_of: BTreeMap<(String, String), Vec<String>> = points[1..]
        .iter()
        .map(|r| {
            let mut key = vec![r[3].clone(), r[1].clone()];
            key.extend(params.iter().map(|&i| r[i].clone()));
            ((r[0].clone(), r[1].clone()), key)
        })
        .collect();
    let mut out: BTreeMap<Vec<String>, Vec<Vec<String>>> = BTreeMap::new();
    for r in &csv_rows(&dir.join("calls.csv"))[1..] {
        let key = key_of[&(r[0].clone(), r[1].clone())].clone();
        out.entry(key).or_default().push(r[1..].to_vec());
    }
    out
}

#[test]
fn adding_points_to_the_grid_leaves_the_other_points_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let narrow = r#"(grid: [("workload.load_factor", [0.5, 1.5])],
        zip: [[("topology.links[name=wan1].latency_ms", [20.0, 150.0]),
               ("topology.links[name=wan1].loss", [0.0, 0.02])]])"#;
    // New values in the middle and at the end of the grid, and a new zip row first.
    let wide = r#"(grid: [("workload.load_factor", [0.5, 1.0, 1.5, 2.0])],
        zip: [[("topology.links[name=wan1].latency_ms", [80.0, 20.0, 150.0]),
               ("topology.links[name=wan1].loss", [0.01, 0.0, 0.02])]])"#;
    let a = fixture(&tmp.path().join("a"), &experiment_text(narrow, "", 2));
    let b = fixture(&tmp.path().join("b"), &experiment_text(wide, "", 2));
    let (ea, eb) = (Experiment::load(&a).unwrap(), Experiment::load(&b).unwrap());
    run_all(&ea, &plan(&ea), &tmp.path().join("out-a"), 2);
    run_all(&eb, &plan(&eb), &tmp.path().join("out-b"), 2);

    let (ra, rb) = (
        rows_by_key(&tmp.path().join("out-a")),
        rows_by_key(&tmp.path().join("out-b")),
    );
    assert_eq!(ra.len(), 16);
    assert_eq!(rb.len(), 48);
    for (key, row) in &ra {
        assert_eq!(rb.get(key), Some(row), "row {key:?} changed");
    }
    let (ca, cb) = (
        calls_by_key(&tmp.path().join("out-a")),
        calls_by_key(&tmp.path().join("out-b")),
    );
    for (key, rows) in &ca {
        assert!(rows.len() > 10);
        assert_eq!(cb.get(key), Some(rows), "calls of {key:?} changed");
    }
    // The point indices did move: the comparison above is not trivially true.
    let pa = csv_rows(&tmp.path().join("out-a/points.csv"));
    let pb = csv_rows(&tmp.path().join("out-b/points.csv"));
    let first_large = |rows: &[Vec<String>]| {
        rows.iter()
            .find(|r| r[3] == "large")
            .map(|r| r[0].clone())
            .unwrap()
    };
    assert_ne!(first_large(&pa), first_large(&pb));
}

#[test]
fn another_seed_gives_other_results() {
    let tmp = tempfile::tempdir().unwrap();
    let exp_path = fixture(tmp.path(), &experiment_text(SWEEP, "", 1));
    let exp_arg = exp_path.to_str().unwrap();
    voicetwin_ok(&["run", exp_arg, "--out", "a"], tmp.path());
    voicetwin_ok(&["run", exp_arg, "--out", "b", "--seed", "7"], tmp.path());
    let (a, b) = (
        outputs(&tmp.path().join("a")),
        outputs(&tmp.path().join("b")),
    );
    assert_ne!(a["calls.csv"], b["calls.csv"]);
    assert_ne!(a["points.csv"], b["points.csv"]);
}
