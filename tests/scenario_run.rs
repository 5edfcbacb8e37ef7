//! The scenario run loop end to end on a minimal deployment of plain SIP endpoints: the
//! workload's calls are placed, answered as scripted and streamed back as call logs.

use std::path::Path;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::callbook::{CallLog, PartyRole};
use voicetwin::scenario::build::builtin_model_map;
use voicetwin::scenario::run::{RunInput, RunOptions, run};
use voicetwin::scenario::spec::{MediaMode, ScenarioSpec};
use voicetwin::scenario::topology::Topology;
use voicetwin::sim::TraceMode;
use voicetwin::workload::{CallMix, FeatureSpec, HoldingSpec, LoadSpec, WorkloadSpec};

const TOPOLOGY: &str = r#"Topology(
    name: "two-endpoints",
    nodes: [
        (name: "a", role: "phone", site: "one", address: "10.1.0.10"),
        (name: "r", role: "router", site: "wan"),
        (name: "b", role: "phone", site: "two", address: "10.2.0.10"),
    ],
    links: [
        (a: "a", b: "r", latency_ms: 15, jitter: JITTER, loss: LOSS),
        (a: "r", b: "b", latency_ms: 5),
    ],
    deployment: (
        kind: VoipOnly,
        populations: [
            (name: "ev", kind: EnterpriseVoice, count: 50, first: "+14255550000", element: "a"),
            (name: "pstn", kind: Pstn, count: 500, first: "+12065550000", element: "b"),
        ],
        elements: [
            Endpoint((name: "a", node: "a", proxy: "b")),
            Endpoint((name: "b", node: "b", proxy: "a")),
        ],
    ),
)"#;

fn scenario(media: MediaMode, busy: f64) -> ScenarioSpec {
    ScenarioSpec {
        workload: WorkloadSpec {
            load: LoadSpec::OfferedErlangs(4.0),
            load_factor: 1.0,
            holding: HoldingSpec::Exponential { mean_s: 60.0 },
            mix: vec![(CallMix::LyncToPstn, 1.0), (CallMix::PstnToLync, 1.0)],
            features: FeatureSpec {
                busy,
                ..FeatureSpec::default()
            },
            redial: None,
            warmup_s: 60.0,
            measure_s: 600.0,
        },
        media,
        drain_s: 600.0,
        events: vec![],
    }
}

fn run_with(topology: &str, spec: &ScenarioSpec, seed: u64) -> (Vec<CallLog>, u64) {
    let path = Path::new("two-endpoints.ron");
    let topo = Topology::parse(path, topology).unwrap();
    let models = builtin_model_map();
    let input = RunInput {
        topology_path: path,
        topology_text: topology,
        topology: &topo,
        scenario: spec,
        models: &models,
    };
    let mut logs = Vec::new();
    let report = run(
        &input,
        seed,
        &RunOptions {
            trace: TraceMode::Fingerprint,
            capture: false,
            watch: None,
        },
        &mut |l, _| logs.push(l),
    )
    .unwrap();
    assert_eq!(
        report.calls_started as usize,
        logs.len(),
        "every call started is logged once"
    );
    (logs, report.fingerprint)
}

fn topo(jitter: &str, loss: &str) -> String {
    TOPOLOGY.replace("JITTER", jitter).replace("LOSS", loss)
}

#[test]
fn calls_complete_and_are_classified() {
    let t = topo("None", "None");
    let (logs, _) = run_with(&t, &scenario(MediaMode::PerPacket, 0.2), 1);
    // λ = 4/60 per s over 660 s ≈ 44 calls.
    assert!(logs.len() > 25 && logs.len() < 70, "{}", logs.len());
    let busy = logs
        .iter()
        .filter(|l| l.outcome == CallOutcome::Busy)
        .count();
    let answered = logs
        .iter()
        .filter(|l| l.outcome == CallOutcome::Answered)
        .count();
    assert_eq!(
        busy + answered,
        logs.len(),
        "only busy or answered: {:?}",
        logs.iter().map(|l| l.outcome).collect::<Vec<_>>()
    );
    assert!(busy > 0 && answered > busy);
    for l in logs.iter().filter(|l| l.outcome == CallOutcome::Answered) {
        assert!(l.two_way_audio(), "call {:?}", l.tag);
        assert!(
            l.media_for(PartyRole::Caller)
                .unwrap()
                .mouth_to_ear_ms
                .unwrap()
                > 40.0
        );
    }
}

#[test]
fn runs_are_reproducible() {
    let t = topo("Normal(mean_ms: 3, std_ms: 1)", "Bernoulli(p: 0.01)");
    let s = scenario(MediaMode::PerPacket, 0.1);
    assert_eq!(run_with(&t, &s, 7).1, run_with(&t, &s, 7).1);
    assert_ne!(run_with(&t, &s, 7).1, run_with(&t, &s, 8).1);
}

#[test]
fn media_off_keeps_signalling_and_drops_media() {
    let t = topo("None", "None");
    let (logs, _) = run_with(&t, &scenario(MediaMode::Off, 0.0), 3);
    assert!(
        logs.iter()
            .all(|l| l.outcome == CallOutcome::Answered && l.media.is_empty())
    );
}
