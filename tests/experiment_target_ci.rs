//! `--target-ci`: replications are added to each point until the key metric's 95% interval
//! is narrow enough. The number each point gets depends only on its own results, so the
//! outputs are the same for any thread count and any sharding.

mod experiment_support;

use experiment_support::*;
use std::collections::BTreeMap;
use voicetwin::metrics::Summary;

const SWEEP_CI: &str = r#"(grid: [("workload.load_factor", [0.25, 1.0, 1.75])])"#;

fn replications_by_point(dir: &std::path::Path) -> BTreeMap<u32, Vec<f64>> {
    let rows = csv_rows(&dir.join("points.csv"));
    let b = rows[0].iter().position(|h| h == "blocking").unwrap();
    let mut out: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for r in &rows[1..] {
        out.entry(r[0].parse().unwrap())
            .or_default()
            .push(r[b].parse().unwrap());
    }
    out
}

#[test]
fn replications_are_added_until_the_interval_is_narrow_whatever_the_jobs_or_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let text = experiment_text(SWEEP_CI, "", 2)
        .replace("charts: [", "max_replications: 12,\n    charts: [");
    let exp = fixture(t, &text);
    let e = exp.to_str().unwrap();
    let bound = 0.01;
    let stdout = voicetwin_ok(
        &[
            "run",
            e,
            "--target-ci",
            "0.01",
            "--jobs",
            "1",
            "--out",
            "one",
        ],
        t,
    );
    assert!(
        stdout.contains("half-width of `blocking` at most 0.01"),
        "{stdout}"
    );
    voicetwin_ok(
        &[
            "run",
            e,
            "--target-ci",
            "0.01",
            "--jobs",
            "2",
            "--out",
            "two",
        ],
        t,
    );
    assert_same_outputs(&t.join("one"), &t.join("two"));
    for k in 1..=2 {
        let shard = format!("{k}/2");
        voicetwin_ok(
            &[
                "run",
                e,
                "--target-ci",
                "0.01",
                "--shard",
                &shard,
                "--out",
                &format!("s{k}"),
            ],
            t,
        );
    }
    voicetwin_ok(&["merge", "s1", "s2", "--out", "merged"], t);
    assert_same_outputs(&t.join("one"), &t.join("merged"));

    let reps = replications_by_point(&t.join("one"));
    let counts: Vec<usize> = reps.values().map(Vec::len).collect();
    // Light load never blocks: two identical values meet the bound at once. Heavy load on
    // the small group is noisy and needs more.
    assert_eq!(counts[0], 2, "{counts:?}");
    assert!(counts.iter().any(|&c| c > 2), "{counts:?}");
    for (p, values) in &reps {
        let n = values.len();
        assert!((2..=12).contains(&n), "point {p}: {n}");
        let hw = |k: usize| {
            Summary::from_values(&values[..k])
                .unwrap()
                .half_width()
                .unwrap()
        };
        // It stopped at the first count that meets the bound (or at the cap)...
        if n < 12 {
            assert!(hw(n) <= bound, "point {p}: half-width {} at {n}", hw(n));
        }
        // ...and not later than needed.
        for k in 2..n {
            assert!(hw(k) > bound, "point {p} met the bound at {k} but ran {n}");
        }
    }
    // The stored units past the stopping point (a batch runs in parallel) are not used.
    let stored = std::fs::read_dir(t.join("one/.units"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .ends_with(".json")
        })
        .count()
        - 1;
    assert!(stored >= counts.iter().sum::<usize>());
}

#[test]
fn a_relative_target_and_a_different_target_are_different_experiments() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let exp = fixture(t, &experiment_text(SWEEP_CI, "", 2));
    let e = exp.to_str().unwrap();
    let stdout = voicetwin_ok(&["run", e, "--target-ci", "20%", "--out", "r"], t);
    assert!(stdout.contains("20% of the mean"), "{stdout}");
    let out = voicetwin(&["run", e, "--target-ci", "10%", "--out", "r"], t);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another experiment"));
}
