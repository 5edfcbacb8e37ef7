//! An interrupted sweep (kill -9 or SIGINT) resumes in the same output directory: the
//! finished units are kept as they are (same inode, same modification time), only the rest
//! runs, and the final outputs are byte-identical to an uninterrupted run. A changed
//! experiment is refused unless `--fresh`.

mod experiment_support;

use experiment_support::*;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// 2 deployments × 3 loads × 2 replications = 12 units of at least 150 ms each.
fn slow_experiment() -> String {
    experiment_text(
        r#"(grid: [("workload.load_factor", [0.5, 1.0, 1.5])])"#,
        "pause_ms: 150,",
        2,
    )
}

/// `(inode, mtime in ns)` of every finished unit file.
fn unit_files(dir: &Path) -> BTreeMap<String, (u64, i128)> {
    let Ok(entries) = std::fs::read_dir(dir.join(".units")) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| e.unwrap())
        .filter_map(|e| {
            let name = e.file_name().into_string().unwrap();
            let is_unit =
                name.starts_with('p') && (name.ends_with(".json") || name.ends_with(".csv"));
            is_unit.then(|| {
                let m = e.metadata().unwrap();
                let mtime = i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
                (name, (m.ino(), mtime))
            })
        })
        .collect()
}

fn finished_units(dir: &Path) -> usize {
    unit_files(dir)
        .keys()
        .filter(|n| n.ends_with(".json"))
        .count()
}

/// Starts a run, waits until at least `at_least` units are stored, then sends `signal`.
/// Returns how many units were stored once the process was gone.
fn interrupt(root: &Path, exp: &str, out: &str, at_least: usize, signal: &str) -> usize {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voicetwin"))
        .args(["run", exp, "--jobs", "1", "--out", out])
        .current_dir(root)
        .env("VOICETWIN_SYNTHETIC_RUNNER", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while finished_units(&root.join(out)) < at_least {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the run made no progress"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the interrupt"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(!exit.success(), "the run was not interrupted: {exit:?}");
    finished_units(&root.join(out))
}

fn counts(stdout: &str) -> (u64, u64) {
    let num_before = |marker: &str| -> u64 {
        let at = stdout
            .find(marker)
            .unwrap_or_else(|| panic!("{marker:?} in {stdout}"));
        stdout[..at]
            .rsplit(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())
            .unwrap()
            .parse()
            .unwrap()
    };
    let done = if stdout.contains("already done") {
        num_before(" already done")
    } else {
        0
    };
    (num_before(" run(s) now"), done)
}

fn resume_after(signal: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let exp_path = fixture(t, &slow_experiment());
    let exp = exp_path.to_str().unwrap();
    voicetwin_ok(&["run", exp, "--out", "straight", "--jobs", "2"], t);

    let stored = interrupt(t, exp, "resumed", 3, signal);
    assert!(
        (3..12).contains(&stored),
        "{stored} of 12 units stored at the interrupt"
    );
    let before = unit_files(&t.join("resumed"));
    assert!(!t.join("resumed/points.csv").exists());
    // A temporary file left by the kill (or by anything else) is not a result.
    std::fs::write(
        t.join("resumed/.units/.p000000-r0000.json.s1of1.tmp"),
        "{\"half\": ",
    )
    .unwrap();

    let stdout = voicetwin_ok(&["run", exp, "--out", "resumed", "--jobs", "2"], t);
    let (ran, done) = counts(&stdout);
    assert_eq!(done as usize, stored, "{stdout}");
    assert_eq!(ran + done, 12, "{stdout}");
    let after = unit_files(&t.join("resumed"));
    for (name, id) in &before {
        assert_eq!(
            after.get(name),
            Some(id),
            "{name} was rewritten by the resume"
        );
    }
    assert_same_outputs(&t.join("straight"), &t.join("resumed"));
    assert!(
        !t.join("resumed/.units/.p000000-r0000.json.s1of1.tmp")
            .exists()
    );

    // Running again redoes nothing.
    let stdout = voicetwin_ok(&["run", exp, "--out", "resumed"], t);
    assert_eq!(counts(&stdout), (0, 12), "{stdout}");
    assert_eq!(unit_files(&t.join("resumed")), after);
}

#[test]
fn a_sweep_killed_with_sigkill_resumes_without_redoing_or_losing_units() {
    resume_after("-KILL");
}

#[test]
fn a_sweep_interrupted_with_sigint_resumes_without_redoing_or_losing_units() {
    resume_after("-INT");
}

#[test]
fn a_changed_experiment_is_refused_unless_fresh() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let sweep = r#"(grid: [("workload.load_factor", [0.5, 1.0])])"#;
    let exp_path = fixture(t, &experiment_text(sweep, "", 1));
    let exp = exp_path.to_str().unwrap();
    voicetwin_ok(&["run", exp, "--out", "r"], t);
    let first = outputs(&t.join("r"));

    // Another topology value changes what every unit would compute.
    std::fs::write(
        t.join("topologies/small.ron"),
        SMALL.replace("channels: 8", "channels: 9"),
    )
    .unwrap();
    let out = voicetwin(&["run", exp, "--out", "r"], t);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds results of another experiment"), "{err}");
    assert!(err.contains("--fresh"), "{err}");
    // Nothing was touched.
    assert_eq!(first, outputs(&t.join("r")));

    let stdout = voicetwin_ok(&["run", exp, "--out", "r", "--fresh"], t);
    assert_eq!(counts(&stdout), (4, 0), "{stdout}");
    assert_ne!(first["points.csv"], outputs(&t.join("r"))["points.csv"]);

    // So does another seed.
    let out = voicetwin(&["run", exp, "--out", "r", "--seed", "1"], t);
    assert!(String::from_utf8_lossy(&out.stderr).contains("seed 1"));
}

#[test]
fn a_tampered_unit_is_reported_not_silently_used() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let sweep = r#"(grid: [("workload.load_factor", [0.5])])"#;
    let exp_path = fixture(t, &experiment_text(sweep, "", 1));
    let exp = exp_path.to_str().unwrap();
    voicetwin_ok(&["run", exp, "--out", "r"], t);
    let csv = t.join("r/.units/p000000-r0000.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text = text.replacen("answered", "declined", 1);
    std::fs::write(&csv, text).unwrap();
    let out = voicetwin(&["run", exp, "--out", "r"], t);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("p000000-r0000.csv"), "{err}");
    assert!(err.contains("changed after the run"), "{err}");
}
