//! Erlang B validation: a PSTN gateway with N channels offered Poisson traffic of A Erlangs
//! blocks, after a warm-up, as Erlang B says, with exponential holding times and (M/G/c/c is
//! insensitive to the holding-time distribution) with lognormal ones.
//!
//! The bench is the gateway element with a minimal front: a plain SIP endpoint hosting the
//! callers sends each call straight to the gateway, which seizes a B-channel on its T1 (23
//! channels) or E1 (30), or for N=10 a licence of its concurrent-call limit, and signals
//! the PSTN over ISDN. Blocking happens at the gateway exactly as on the full Lync path
//! (client → Front End → Mediation Server → gateway → PSTN), but that path costs about three
//! times more per call (measured: about 2,500 calls/s against 7,800 on one core, media off),
//! and the confidence-interval requirement needs about 230,000 calls here: the full path
//! would make this test run for minutes.
//!
//! Offered load: a channel is held from the SETUP to the release, that is the ring time
//! (1 s plus an exponential of 1 s, mean 2 s), the holding time (from answer to hang-up)
//! and about 0.06 s of signalling (the D-channel's 20 ms each way, the SIP hop, the
//! release). The workload's `OfferedErlangs` counts the holding time only, so the test
//! offers A·H/(H + 2.06) workload Erlangs to put exactly A Erlangs on the channels. An error
//! of 0.03 s in the signalling estimate moves A by 0.02% and B by under 0.3%.
//!
//! Statistics: batch means over the measurement window (30 batches, each hundreds of mean
//! holding times long, so the batches are nearly independent), with a Student-t 95%
//! interval. Each point asserts that Erlang B lies inside the interval and that the
//! interval's half-width is at most 15% of Erlang B, so a wide interval cannot pass.

mod deployment_support;

use deployment_support::scenario;
use std::path::Path;
use voicetwin::elements::CallOutcome;
use voicetwin::metrics::erlang::erlang_b;
use voicetwin::metrics::{Summary, Welford};
use voicetwin::scenario::build::builtin_model_map;
use voicetwin::scenario::run::{RunInput, RunOptions, run};
use voicetwin::scenario::spec::MediaMode;
use voicetwin::scenario::topology::Topology;
use voicetwin::workload::{CallMix, FeatureSpec, HoldingSpec, LoadSpec, WorkloadSpec};

const BENCH: &str = r#"Topology(
    name: "erlang-bench",
    nodes: [
        (name: "lan", role: "lan", site: "hq", address: "10.1.10.1"),
        (name: "gw", role: "gateway", site: "hq", address: "10.1.2.21"),
        (name: "pstn", role: "pstn", site: "carrier", address: "192.0.2.1"),
    ],
    links: [(a: "lan", b: "gw", latency_ms: 0.5), (a: "pstn", b: "gw", latency_ms: 1)],
    deployment: (
        kind: DirectSipViaGateway,
        populations: [
            (name: "ev", kind: EnterpriseVoice, count: 1000, first: "+14255550000", element: "ev"),
            (name: "pstn", kind: Pstn, count: 1000000, first: "+12060000000", element: "pstn"),
        ],
        elements: [
            Endpoint((name: "ev", node: "lan", proxy: "gw1")),
            Gateway((name: "gw1", node: "gw", model: "cisco-isr-3845", transport: Some(Udp),
                     peers: [(element: "ev")], max_calls: MAX_CALLS)),
            Pstn((name: "pstn", node: "pstn", network_setup_s: 0.0,
                  routes: [(hosts: ["ev"], links: ["pri"])])),
        ],
        tdm: [(name: "pri", a: "gw1", b: "pstn", kind: SPAN, spans: 1)],
    ),
)"#;

/// Mean ring time (1 s + Exp(1 s)) and the signalling part of a channel's holding time, s.
const RING_S: f64 = 2.0;
const SIGNALLING_S: f64 = 0.06;
const BATCHES: usize = 30;

struct Point {
    channels: u32,
    /// Erlangs on the channels.
    erlangs: f64,
    holding: HoldingSpec,
    /// Measured arrivals wanted (sized for a half-width under 15% of the target).
    calls: f64,
    seed: u64,
}

struct Measured {
    target: f64,
    blocking: Summary,
    arrival_rate: f64,
    expected_rate: f64,
    mean_holding_s: f64,
    answered: u64,
}

fn measure(p: &Point) -> Measured {
    let mean_h = match p.holding {
        HoldingSpec::Exponential { mean_s } | HoldingSpec::Lognormal { mean_s, .. } => mean_s,
        HoldingSpec::Fixed { s } => s,
    };
    let service_s = mean_h + RING_S + SIGNALLING_S;
    let rate = p.erlangs / service_s;
    // Warm-up: 20 mean service times, far beyond the loss system's relaxation time.
    let warmup_s = 20.0 * service_s;
    let measure_s = p.calls / rate;
    let batch_s = measure_s / BATCHES as f64;
    let mut wl = WorkloadSpec {
        load: LoadSpec::OfferedErlangs(rate * mean_h),
        load_factor: 1.0,
        holding: p.holding.clone(),
        mix: vec![(CallMix::LyncToPstn, 1.0)],
        features: FeatureSpec::default(),
        redial: None,
        warmup_s,
        measure_s,
    };
    wl.features.ring_mean_s = RING_S;
    let spec = scenario(wl, MediaMode::Off, vec![]);
    // 23 and 30 channels are a T1 and an E1 whose B-channels block (`Blocked`); fewer
    // are the gateway's concurrent-call licence on an E1 (`RejectedCapacity`).
    let (span, max_calls) = match p.channels {
        23 => ("T1", "None".to_string()),
        30 => ("E1", "None".to_string()),
        n => ("E1", format!("Some({n})")),
    };
    let text = BENCH.replace("MAX_CALLS", &max_calls).replace("SPAN", span);
    let path = Path::new("erlang-bench.ron");
    let topology = Topology::parse(path, &text).expect("the bench parses");
    let models = builtin_model_map();
    let input = RunInput {
        topology_path: path,
        topology_text: &text,
        topology: &topology,
        scenario: &spec,
        models: &models,
    };
    let mut offered = [0u64; BATCHES];
    let mut blocked = [0u64; BATCHES];
    let mut talk = Welford::new();
    let mut answered = 0;
    run(&input, p.seed, &RunOptions::default(), &mut |log, meta| {
        if !meta.measured {
            return;
        }
        let t = log.started_at.as_secs_f64() - warmup_s;
        let b = ((t / batch_s) as usize).min(BATCHES - 1);
        offered[b] += 1;
        match log.outcome {
            CallOutcome::Blocked if p.channels >= 23 => blocked[b] += 1,
            CallOutcome::RejectedCapacity if p.channels < 23 => blocked[b] += 1,
            CallOutcome::Answered => {
                answered += 1;
                if let (Some(a), Some(e)) = (log.answered_at, log.ended_at) {
                    let _ = talk.try_push(e.saturating_since(a).as_secs_f64());
                }
            }
            other => panic!(
                "only answered or blocked calls, got {other:?}: {}",
                log.detail
            ),
        }
    })
    .expect("the bench runs");
    let batch: Vec<f64> = offered
        .iter()
        .zip(&blocked)
        .map(|(o, b)| *b as f64 / *o as f64)
        .collect();
    Measured {
        target: erlang_b(p.channels, p.erlangs).expect("valid Erlang B input"),
        blocking: Summary::from_values(&batch).expect("finite batch means"),
        arrival_rate: offered.iter().sum::<u64>() as f64 / measure_s,
        expected_rate: rate,
        mean_holding_s: talk.mean().unwrap_or(0.0),
        answered,
    }
}

fn check(p: Point) {
    let m = measure(&p);
    let (lo, hi) = (m.blocking.ci95_low.unwrap(), m.blocking.ci95_high.unwrap());
    let hw = m.blocking.half_width().unwrap();
    let mean = m.blocking.mean.unwrap();
    println!(
        "N={} A={:.3} {:?}: measured {:.5} CI [{:.5}, {:.5}] (hw {:.1}% of target), Erlang B {:.5}",
        p.channels,
        p.erlangs,
        p.holding,
        mean,
        lo,
        hi,
        100.0 * hw / m.target,
        m.target
    );
    // The workload offers what it says: Poisson arrivals at the rate asked (the count over
    // the window has a relative SE of 1/sqrt(n), under 0.7% here; 3%), holding times of the
    // mean asked (SE of a mean of n exponential draws: mean/sqrt(n); 3%).
    let rate_err = m.arrival_rate / m.expected_rate - 1.0;
    assert!(rate_err.abs() < 0.03, "arrival rate off by {rate_err}");
    let mean_h = match p.holding {
        HoldingSpec::Exponential { mean_s } | HoldingSpec::Lognormal { mean_s, .. } => mean_s,
        HoldingSpec::Fixed { s } => s,
    };
    assert!(m.answered > 10_000, "{} answered", m.answered);
    let h_err = m.mean_holding_s / mean_h - 1.0;
    assert!(h_err.abs() < 0.03, "mean holding off by {h_err}");
    assert!(
        hw <= 0.15 * m.target,
        "the interval is too wide to test anything: half-width {hw} vs target {}",
        m.target
    );
    assert!(
        (lo..=hi).contains(&m.target),
        "Erlang B {} outside the measured 95% CI [{lo}, {hi}]",
        m.target
    );
}

#[test]
fn ten_channels_at_2_percent_exponential() {
    check(Point {
        channels: 10,
        erlangs: 5.084,
        holding: HoldingSpec::Exponential { mean_s: 180.0 },
        calls: 45_000.0,
        seed: 1,
    });
}

#[test]
fn thirty_channels_at_1_percent_exponential() {
    check(Point {
        channels: 30,
        erlangs: 20.337,
        holding: HoldingSpec::Exponential { mean_s: 180.0 },
        calls: 150_000.0,
        seed: 2,
    });
}

#[test]
fn twenty_three_channels_at_3_6_percent_exponential() {
    // One T1 at about 3.6%.
    check(Point {
        channels: 23,
        erlangs: 17.13,
        holding: HoldingSpec::Exponential { mean_s: 180.0 },
        calls: 60_000.0,
        seed: 3,
    });
}

#[test]
fn insensitive_to_lognormal_holding_times() {
    // Lognormal with a coefficient of variation of 1.5 (heavier-tailed than exponential).
    for (channels, erlangs, calls, seed) in [(10, 5.084, 55_000.0, 4), (23, 17.13, 60_000.0, 5)] {
        check(Point {
            channels,
            erlangs,
            holding: HoldingSpec::Lognormal {
                mean_s: 180.0,
                sd_s: 270.0,
            },
            calls,
            seed,
        });
    }
}
