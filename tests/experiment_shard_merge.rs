//! `--shard K/N` and `voicetwin merge`: shards of one sweep merge into outputs that are
//! byte-identical to the unsharded run; mixed or incomplete shard sets are refused; charts
//! can be redrawn from a result directory alone.

mod experiment_support;

use experiment_support::*;
use std::path::Path;

fn unit_points(dir: &Path) -> Vec<u32> {
    let mut points: Vec<u32> = std::fs::read_dir(dir.join(".units"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            let stem = name.strip_suffix(".json")?.strip_prefix('p')?;
            stem.split_once("-r")?.0.parse().ok()
        })
        .collect();
    points.sort();
    points.dedup();
    points
}

#[test]
fn three_shards_merged_equal_the_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let exp_path = fixture(tmp.path(), &experiment_text(SWEEP, "", 2));
    let exp = exp_path.to_str().unwrap();
    let t = tmp.path();
    voicetwin_ok(&["run", exp, "--out", "whole", "--jobs", "2"], t);
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let out = format!("s{k}");
        let stdout = voicetwin_ok(&["run", exp, "--shard", &shard, "--out", &out], t);
        assert!(stdout.contains(&format!("shard {k}/3")), "{stdout}");
        // A shard stores only its points (index mod 3 = k - 1) and publishes nothing.
        let points = unit_points(&t.join(&out));
        assert_eq!(points.len(), 4);
        assert!(points.iter().all(|p| p % 3 == k - 1), "{points:?}");
        assert!(!t.join(&out).join("points.csv").exists());
    }
    voicetwin_ok(&["merge", "s1", "s2", "s3", "--out", "merged"], t);
    assert_same_outputs(&t.join("whole"), &t.join("merged"));
    // The order of the shard directories does not matter.
    voicetwin_ok(&["merge", "s3", "s1", "s2", "--out", "merged2"], t);
    assert_same_outputs(&t.join("whole"), &t.join("merged2"));
    // Merging into one of the shards works too.
    voicetwin_ok(&["merge", "s1", "s2", "s3", "--out", "s1"], t);
    assert_same_outputs(&t.join("whole"), &t.join("s1"));
}

#[test]
fn shards_sharing_one_directory_merge_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let exp_path = fixture(tmp.path(), &experiment_text(SWEEP, "", 1));
    let exp = exp_path.to_str().unwrap();
    let t = tmp.path();
    voicetwin_ok(&["run", exp, "--out", "whole"], t);
    // As on a cluster file system: every array task writes to the same directory.
    for k in 1..=4 {
        voicetwin_ok(
            &["run", exp, "--shard", &format!("{k}/4"), "--out", "shared"],
            t,
        );
    }
    voicetwin_ok(&["merge", "shared", "--out", "shared"], t);
    assert_same_outputs(&t.join("whole"), &t.join("shared"));
}

#[test]
fn incomplete_or_mixed_shard_sets_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let exp_path = fixture(tmp.path(), &experiment_text(SWEEP, "", 1));
    let exp = exp_path.to_str().unwrap();
    let t = tmp.path();
    voicetwin_ok(&["run", exp, "--shard", "1/3", "--out", "s1"], t);
    voicetwin_ok(&["run", exp, "--shard", "2/3", "--out", "s2"], t);
    let out = voicetwin(&["merge", "s1", "s2", "--out", "merged"], t);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // Shard 3/3 holds points 2, 5, 8, 11.
    assert!(err.contains("4 unit(s) have no result yet"), "{err}");
    for p in [2, 5, 8, 11] {
        assert!(err.contains(&format!("point {p} (replication 0)")), "{err}");
    }
    assert!(!t.join("merged/points.csv").exists());

    // Shard 3 of the same file with another seed is another experiment.
    voicetwin_ok(
        &["run", exp, "--shard", "3/3", "--out", "s3", "--seed", "5"],
        t,
    );
    let out = voicetwin(&["merge", "s1", "s2", "s3", "--out", "merged"], t);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("shards of different experiments"), "{err}");
    assert!(err.contains("seed 5"), "{err}");

    // A directory with no results at all.
    std::fs::create_dir_all(t.join("empty")).unwrap();
    let out = voicetwin(&["merge", "s1", "empty", "--out", "merged"], t);
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no results"));
}

#[test]
fn chart_redraws_identical_charts_from_results_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let exp_path = fixture(tmp.path(), &experiment_text(SWEEP, "", 2));
    let t = tmp.path();
    voicetwin_ok(&["run", exp_path.to_str().unwrap(), "--out", "r"], t);
    let before = outputs(&t.join("r"));
    std::fs::remove_dir_all(t.join("r/charts")).unwrap();
    // Without the units: charts come from summary.json, distributions.json and the plan.
    for entry in std::fs::read_dir(t.join("r/.units")).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name().unwrap() != "manifest.json" {
            std::fs::remove_file(p).unwrap();
        }
    }
    let stdout = voicetwin_ok(&["chart", "r"], t);
    assert!(stdout.contains("drew 8 chart file(s)"), "{stdout}");
    assert_eq!(before, outputs(&t.join("r")));

    let out = voicetwin(&["chart", "nowhere"], t);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no sweep results"));
}
