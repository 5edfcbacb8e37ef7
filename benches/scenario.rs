//! Whole-scenario throughput on the full incremental deployment (PSTN → IP-PBX → Mediation
//! Server → Front End → Lync client: 3–4 SIP hops per call, every message serialised and
//! parsed at each hop), at a load that keeps about 400 calls up at once (450 offered Erlangs,
//! 180 s mean holding time, 16 T1 PRIs). The documents are `benches/data/scenario-bench.ron`.
//!
//! - `scenario/media_off` and `scenario/media_sampled` (5% of calls get per-packet media):
//!   simulated calls per second of wall time on one core (criterion's "elements" are calls).
//! - `scenario/media_per_packet`: every call's RTP and RTCP cross the network packet by
//!   packet; criterion's "elements" are packet-hops (packets offered to a link direction,
//!   counted by the network, SIP included but RTP/RTCP dominate).
//!
//! Each iteration is one complete run: building the world, the workload, the calls and their
//! CDR rows (built as the experiment runner builds them, then dropped).
//!
//! Run: `cargo bench --bench scenario`.

use criterion::{Criterion, Throughput, criterion_group};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;
use voicetwin::experiment::Experiment;
use voicetwin::experiment::scenario_runner::Prepared;
use voicetwin::metrics::record::call_record;
use voicetwin::report::charts::register_embedded_font;
use voicetwin::scenario::run::{RunOptions, RunReport, run};

/// Runs the deployment's scenario once; returns (calls, report).
fn run_once(p: &Prepared, deployment: &str) -> (u64, RunReport) {
    let mut calls = 0_u64;
    let report = run(&p.input(), 7, &RunOptions::default(), &mut |log, meta| {
        black_box(call_record(&log, &meta, &p.names, deployment));
        calls += 1;
    })
    .expect("the bench scenario runs");
    (calls, report)
}

/// The name filter given on the command line (criterion's positional argument), so that the
/// untimed first run that counts calls and packet-hops is done only for benches that run.
fn filter() -> Option<String> {
    const WITH_VALUE: &[&str] = &[
        "--profile-time",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--save-baseline",
        "--baseline",
        "--load-baseline",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--plotting-backend",
        "--output-format",
        "--color",
        "--format",
        "-b",
        "-s",
        "-c",
    ];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if WITH_VALUE.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            return Some(a);
        }
    }
    None
}

fn scenario(c: &mut Criterion) {
    let filter = filter();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/scenario-bench.ron");
    let exp = Experiment::load(&path).expect("bench experiment loads");
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for (i, d) in exp.deployments.iter().enumerate() {
        let name = d.name.replace('-', "_");
        if filter.as_ref().is_some_and(|f| !format!("scenario/{name}").contains(f.as_str())) {
            continue;
        }
        let doc = exp.base_scenario(i);
        let p = Prepared::new(&doc, 0).expect("bench documents deserialize");
        let (calls, report) = run_once(&p, &d.name);
        let simulated = report.end_time.as_secs_f64();
        let carried: f64 = report.trunks.iter().map(|t| t.peak_busy as f64).sum();
        eprintln!(
            "{}: {calls} calls over {simulated:.0} s simulated, {} events, {} SIP messages, \
             {} media packets, {} packet-hops, peak busy B-channels {carried}, peak relays {}",
            d.name,
            report.events,
            report.world.sip_sent,
            report.world.media_sent,
            report.link_transmissions,
            report.relay_peak,
        );
        let per_packet = d.name == "media-per-packet";
        g.throughput(Throughput::Elements(if per_packet {
            report.link_transmissions
        } else {
            calls
        }));
        g.bench_function(name, |b| b.iter(|| black_box(run_once(&p, &d.name))));
    }
    g.finish();
}

criterion_group!(benches, scenario);

fn main() {
    // plotters is built with ab_glyph only, so criterion's own report plots need the
    // embedded font registered before they are drawn.
    register_embedded_font().expect("embedded font");
    benches();
    Criterion::default().configure_from_args().final_summary();
}
