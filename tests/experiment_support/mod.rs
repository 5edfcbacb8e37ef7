//! Fixtures shared by the `experiment_*` tests: small topologies and experiments for the
//! synthetic M/M/c/c runner, written into temporary directories, and helpers to run, merge
//! and compare result directories.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use voicetwin::experiment::{
    self, Experiment, Plan, Progress, RunOptions, RunReport, Shard, SweepResults,
    synthetic::SyntheticRunner,
};
use voicetwin::report::output;

pub const SMALL: &str = "Topology(name: \"small\", channels: 8, \
    links: [(name: \"wan1\", latency_ms: 20.0, loss: 0.0)])";
pub const LARGE: &str = "Topology(name: \"large\", channels: 12, pdd_ms: 1100.0, \
    links: [(name: \"wan1\", latency_ms: 60.0, loss: 0.005), (name: \"wan2\", latency_ms: 10.0, loss: 0.0)])";

/// An experiment over both topologies with `sweep` and `scenario_extra` spliced in.
pub fn experiment_text(sweep: &str, scenario_extra: &str, replications: u32) -> String {
    format!(
        r#"// A test sweep for the synthetic runner.
Experiment(
    name: "synthetic-test",
    description: "two trunk groups",
    seed: 20261121,
    replications: {replications},
    deployments: [
        (name: "small", topology: "../topologies/small.ron"),
        (name: "large", topology: "large"),
    ],
    scenario: (
        workload: (offered_erlangs: 4.0, load_factor: 1.0, warmup_s: 300.0, measure_s: 1800.0),
        {scenario_extra}
    ),
    sweep: {sweep},
    metrics: ["blocking", "success_rate", "pdd_ms_mean", "mos_mean"],
    charts: [Capacity, PddCdf, Mos, Comparison],
)
"#
    )
}

/// The default sweep: load factor × (zipped) WAN latency and loss.
pub const SWEEP: &str = r#"(
        grid: [("workload.load_factor", [0.5, 1.0, 1.5])],
        zip: [[("topology.links[name=wan1].latency_ms", [20.0, 150.0]),
               ("topology.links[name=wan1].loss", [0.0, 0.02])]],
    )"#;

/// Writes the topologies and the experiment under `root`; returns the experiment path.
pub fn fixture(root: &Path, experiment: &str) -> PathBuf {
    std::fs::create_dir_all(root.join("topologies")).unwrap();
    std::fs::create_dir_all(root.join("experiments")).unwrap();
    std::fs::write(root.join("topologies/small.ron"), SMALL).unwrap();
    std::fs::write(root.join("topologies/large.ron"), LARGE).unwrap();
    let path = root.join("experiments/test.ron");
    std::fs::write(&path, experiment).unwrap();
    path
}

pub fn plan(exp: &Experiment) -> Plan {
    Plan::new(exp, None, None, "synthetic")
}

/// Runs (a shard of) an experiment in-process.
pub fn run_shard(
    exp: &Experiment,
    plan: &Plan,
    out: &Path,
    jobs: usize,
    shard: Shard,
) -> RunReport {
    let opts = RunOptions {
        out: out.to_path_buf(),
        jobs: Some(jobs),
        shard,
        fresh: false,
        progress: Progress::Hidden,
    };
    experiment::run(exp, plan, &SyntheticRunner, &opts).expect("run")
}

/// Runs a whole experiment in-process and writes its outputs.
pub fn run_all(exp: &Experiment, plan: &Plan, out: &Path, jobs: usize) -> RunReport {
    let report = run_shard(exp, plan, out, jobs, Shard::WHOLE);
    let results = SweepResults::collect(&[out.to_path_buf()]).expect("collect");
    output::write_results(&results, out).expect("write outputs");
    report
}

/// Every published output file (not the store), by relative path.
pub fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for name in [
        "summary.json",
        "points.csv",
        "calls.csv",
        "distributions.json",
    ] {
        out.insert(name.to_string(), std::fs::read(dir.join(name)).unwrap());
    }
    let mut charts: Vec<_> = std::fs::read_dir(dir.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    charts.sort();
    for c in charts {
        let name = format!("charts/{}", c.file_name().unwrap().to_str().unwrap());
        out.insert(name, std::fs::read(&c).unwrap());
    }
    out
}

/// Asserts two result directories have byte-identical outputs, naming the first file that
/// differs.
pub fn assert_same_outputs(a: &Path, b: &Path) {
    let (oa, ob) = (outputs(a), outputs(b));
    assert_eq!(
        oa.keys().collect::<Vec<_>>(),
        ob.keys().collect::<Vec<_>>(),
        "different files in {} and {}",
        a.display(),
        b.display()
    );
    for (name, bytes) in &oa {
        assert!(
            *bytes == ob[name],
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Runs the `voicetwin` binary with the synthetic runner selected.
pub fn voicetwin(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voicetwin"))
        .args(args)
        .current_dir(cwd)
        .env("VOICETWIN_SYNTHETIC_RUNNER", "1")
        .output()
        .expect("spawn voicetwin")
}

/// Like [`voicetwin`], asserting success; returns stdout.
pub fn voicetwin_ok(args: &[&str], cwd: &Path) -> String {
    let out = voicetwin(args, cwd);
    assert!(
        out.status.success(),
        "voicetwin {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The CSV rows of a file, each split into cells (header first).
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    std::iter::once(header)
        .chain(
            r.records()
                .map(|rec| rec.unwrap().iter().map(String::from).collect()),
        )
        .collect()
}
