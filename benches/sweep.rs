//! Sweep throughput: the same CPU-bound sweep (8 units of about the same size: the synthetic
//! M/M/c/c runner at 20 E for an hour, ~400 calls, with extra integer work per call) with `--jobs 1` and `--jobs 2`. The speed-up is the ratio of
//! the two times (target ≥ 1.8× on two free cores). Every iteration starts from an empty
//! store, so it includes writing and syncing the unit files, as a real sweep does.
//!
//! Run with `cargo bench --bench sweep`. Peak memory of a long sweep is measured on the
//! binary with `/usr/bin/time -v` (see the experiment module's docs).

use criterion::{Criterion, Throughput, criterion_group};
use std::path::Path;
use voicetwin::experiment::{
    self, Experiment, Plan, Progress, RunOptions, Shard, synthetic::SyntheticRunner,
};
use voicetwin::report::charts::register_embedded_font;

const UNITS: u64 = 8;

fn experiment(dir: &Path) -> Experiment {
    std::fs::create_dir_all(dir.join("topologies")).unwrap();
    std::fs::write(
        dir.join("topologies/t.ron"),
        "Topology(name: \"t\", channels: 30)",
    )
    .unwrap();
    let path = dir.join("bench.ron");
    std::fs::write(
        &path,
        r#"Experiment(
    name: "bench",
    seed: 1,
    replications: 4,
    deployments: [(name: "t", topology: "topologies/t.ron")],
    scenario: (workload: (offered_erlangs: 20.0, load_factor: 1.0, warmup_s: 0.0, measure_s: 3600.0), work: 300000),
    sweep: (grid: [("topology.channels", [30, 31])]),
)"#,
    )
    .unwrap();
    Experiment::load(&path).unwrap()
}

fn sweep(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let exp = experiment(tmp.path());
    let plan = Plan::new(&exp, None, None, "synthetic");
    assert_eq!(plan.points.len() as u64 * 4, UNITS);
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.throughput(Throughput::Elements(UNITS));
    for jobs in [1_usize, 2] {
        let opts = RunOptions {
            out: tmp.path().join(format!("out{jobs}")),
            jobs: Some(jobs),
            shard: Shard::WHOLE,
            fresh: true,
            progress: Progress::Hidden,
        };
        g.bench_function(format!("cpu_bound_8_units_jobs_{jobs}"), |b| {
            b.iter(|| {
                let r = experiment::run(&exp, &plan, &SyntheticRunner, &opts).unwrap();
                assert_eq!((r.ran, r.failed), (UNITS, 0));
            })
        });
    }
    g.finish();
}

criterion_group!(benches, sweep);

fn main() {
    // plotters is built with ab_glyph only, so criterion's own report plots need the
    // embedded font registered before they are drawn.
    register_embedded_font().expect("embedded font");
    benches();
    Criterion::default().configure_from_args().final_summary();
}
