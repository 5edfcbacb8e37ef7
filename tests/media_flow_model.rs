//! The media flow model against packet-by-packet media.
//!
//! Sampled media (`MediaMode::Sampled`) runs the flow model for the calls it does not
//! simulate packet by packet, so the flow model must agree with per-packet results on the
//! paths planners use. The same calls run both ways on several paths; the means of loss,
//! mouth-to-ear delay and MOS over every direction of every answered call must agree within
//! the tolerances stated per metric below.

use std::path::Path;
use voicetwin::elements::CallOutcome;
use voicetwin::metrics::record::direction_mos;
use voicetwin::scenario::build::builtin_model_map;
use voicetwin::scenario::run::{RunInput, RunOptions, run};
use voicetwin::scenario::spec::{MediaMode, ScenarioSpec};
use voicetwin::scenario::topology::Topology;
use voicetwin::workload::{CallMix, FeatureSpec, HoldingSpec, LoadSpec, WorkloadSpec};

const TOPOLOGY: &str = r#"Topology(
    name: "flow-vs-packets",
    nodes: [
        (name: "a", role: "phone", site: "one", address: "10.1.0.10"),
        (name: "r", role: "router", site: "wan"),
        (name: "b", role: "phone", site: "two", address: "10.2.0.10"),
    ],
    links: [
        (a: "a", b: "r", latency_ms: LAT, jitter: JITTER, loss: LOSS, bandwidth_mbps: 10),
        (a: "r", b: "b", latency_ms: 2, bandwidth_mbps: 100),
    ],
    deployment: (
        kind: VoipOnly,
        populations: [
            (name: "ev", kind: EnterpriseVoice, count: 200, first: "+14255550000", element: "a"),
            (name: "pstn", kind: Pstn, count: 500, first: "+12065550000", element: "b"),
        ],
        elements: [
            Endpoint((name: "a", node: "a", proxy: "b")),
            Endpoint((name: "b", node: "b", proxy: "a")),
        ],
    ),
)"#;

struct Means {
    loss: f64,
    delay: f64,
    mos: f64,
    n: usize,
}

fn measure(lat: &str, jitter: &str, loss: &str, media: MediaMode) -> Means {
    let text = TOPOLOGY
        .replace("LAT", lat)
        .replace("JITTER", jitter)
        .replace("LOSS", loss);
    let path = Path::new("flow.ron");
    let topo = Topology::parse(path, &text).unwrap();
    let spec = ScenarioSpec {
        workload: WorkloadSpec {
            load: LoadSpec::OfferedErlangs(6.0),
            load_factor: 1.0,
            holding: HoldingSpec::Fixed { s: 60.0 },
            mix: vec![(CallMix::LyncToPstn, 1.0), (CallMix::PstnToLync, 1.0)],
            features: FeatureSpec::default(),
            redial: None,
            warmup_s: 0.0,
            measure_s: 900.0,
        },
        media,
        drain_s: 300.0,
        events: vec![],
    };
    let models = builtin_model_map();
    let input = RunInput {
        topology_path: path,
        topology_text: &text,
        topology: &topo,
        scenario: &spec,
        models: &models,
    };
    let (mut loss, mut delay, mut mos, mut n) = (0.0, 0.0, 0.0, 0);
    run(&input, 11, &RunOptions::default(), &mut |log, _| {
        if log.outcome != CallOutcome::Answered {
            return;
        }
        for m in log.media.iter().filter(|m| m.audio_heard) {
            loss += m.loss_fraction;
            delay += m.mouth_to_ear_ms.unwrap_or(f64::NAN);
            mos += direction_mos(m).unwrap_or(f64::NAN);
            n += 1;
        }
    })
    .unwrap();
    let k = n as f64;
    Means {
        loss: loss / k,
        delay: delay / k,
        mos: mos / k,
        n,
    }
}

fn compare(lat: &str, jitter: &str, loss: &str, tol_loss: f64, tol_delay_ms: f64, tol_mos: f64) {
    let p = measure(lat, jitter, loss, MediaMode::PerPacket);
    let f = measure(lat, jitter, loss, MediaMode::Flow);
    let msg = format!(
        "{lat} ms / {jitter} / {loss}: packets loss {:.4} delay {:.1} MOS {:.3} (n {}) vs flow loss {:.4} delay {:.1} MOS {:.3} (n {})",
        p.loss, p.delay, p.mos, p.n, f.loss, f.delay, f.mos, f.n
    );
    eprintln!("{msg}");
    assert!(p.n > 100 && f.n > 100, "{msg}");
    assert!((p.loss - f.loss).abs() <= tol_loss, "loss: {msg}");
    assert!((p.delay - f.delay).abs() <= tol_delay_ms, "delay: {msg}");
    assert!((p.mos - f.mos).abs() <= tol_mos, "MOS: {msg}");
}

// Tolerances: loss within 0.5 percentage points (the per-packet estimate over ~200 call
// directions of 60 s each has a standard error below 0.1 pp at these rates, so the margin is
// the flow model's own approximation); delay within 5 ms (the adaptive buffer's margin is
// estimated from the mean absolute deviation); MOS within 0.1 (a tenth of a MOS point is
// below what listening tests resolve).

#[test]
fn clean_lan_path() {
    compare("1", "None", "None", 0.001, 5.0, 0.05);
}

#[test]
fn lossy_wan_random_loss() {
    compare("40", "None", "Bernoulli(p: 0.02)", 0.005, 5.0, 0.1);
}

#[test]
fn lossy_wan_bursty_loss() {
    compare(
        "40",
        "None",
        "GilbertElliott(p_good_to_bad: 0.005, p_bad_to_good: 0.25)",
        0.005,
        5.0,
        0.1,
    );
}

#[test]
fn wan_with_moderate_jitter() {
    compare(
        "30",
        "Normal(mean_ms: 4, std_ms: 1.5)",
        "Bernoulli(p: 0.005)",
        0.005,
        5.0,
        0.1,
    );
}
