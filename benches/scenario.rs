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
//! Time is the CPU time of the benchmarking thread (`/proc/thread-self/schedstat`), not the
//! wall clock: a run is single-threaded, so this is its cost on one core, and it stays
//! meaningful on a machine shared with other work (wall time would include the time the
//! thread waited for a core). Set `VOICETWIN_BENCH_WALL=1` to measure wall time instead.
//!
//! Run: `cargo bench --bench scenario` (one group: `cargo bench --bench scenario -- media_off`).

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput};
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

/// The name filter given on the command line (criterion's positional argument, a regex), so
/// that the untimed first run that counts calls and packet-hops is done only for benches
/// that run.
fn filter() -> Option<regex::Regex> {
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
            return regex::Regex::new(&a).ok();
        }
    }
    None
}

/// CPU time of the calling thread, ns, from `/proc/thread-self/schedstat` (its first field is
/// the time spent on a CPU).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat is readable (Linux)")
}

/// Criterion measurement: CPU time of the benchmarking thread.
struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

/// Formats nanoseconds of CPU time, and elements per CPU second.
struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical >= 1e9 {
            (1e9, "s (cpu)")
        } else if typical >= 1e6 {
            (1e6, "ms (cpu)")
        } else {
            (1e3, "µs (cpu)")
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }
    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let n = match *t {
            Throughput::Elements(n)
            | Throughput::Bytes(n)
            | Throughput::BytesDecimal(n)
            | Throughput::Bits(n) => n as f64,
            _ => 1.0,
        };
        values.iter_mut().for_each(|v| *v = n * 1e9 / *v / 1e3);
        "Kelem/cpu-s"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn scenario<M: Measurement>(c: &mut Criterion<M>) {
    let filter = filter();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/scenario-bench.ron");
    let exp = Experiment::load(&path).expect("bench experiment loads");
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for (i, d) in exp.deployments.iter().enumerate() {
        let name = d.name.replace('-', "_");
        if filter
            .as_ref()
            .is_some_and(|f| !f.is_match(&format!("scenario/{name}")))
        {
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

fn main() {
    // plotters is built with ab_glyph only, so criterion's own report plots need the
    // embedded font registered before they are drawn.
    register_embedded_font().expect("embedded font");
    if std::env::var_os("VOICETWIN_BENCH_WALL").is_some() {
        let mut c = Criterion::default().configure_from_args();
        scenario(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default()
            .with_measurement(ThreadCpu)
            .configure_from_args();
        scenario(&mut c);
        c.final_summary();
    }
}
