//! A scheduled element fault on the VoIP-only deployment: when a PSTN gateway dies, its PRIs
//! lose layers 1 and 2, so the carrier takes their spans out of service and offers inbound
//! calls on the other gateway's PRIs only (rather than timing out on the dead one), and
//! puts them back when the gateway restarts.

use std::path::Path;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::callbook::CallLog;
use voicetwin::scenario::build::builtin_model_map;
use voicetwin::scenario::run::{RunInput, RunOptions, run};
use voicetwin::scenario::spec::{MediaMode, ScenarioSpec, ScheduledEvent};
use voicetwin::scenario::topology::Topology;
use voicetwin::sim::SimTime;
use voicetwin::workload::{CallMix, FeatureSpec, HoldingSpec, LoadSpec, WorkloadSpec};

fn inbound_calls(events: Vec<ScheduledEvent>) -> Vec<CallLog> {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/topologies/voip-only.ron"
    ));
    let text = std::fs::read_to_string(path).unwrap();
    let topology = Topology::parse(path, &text).unwrap();
    let spec = ScenarioSpec {
        workload: WorkloadSpec {
            load: LoadSpec::OfferedErlangs(10.0),
            load_factor: 1.0,
            holding: HoldingSpec::Exponential { mean_s: 60.0 },
            mix: vec![(CallMix::PstnToLync, 1.0)],
            features: FeatureSpec::default(),
            redial: None,
            warmup_s: 0.0,
            measure_s: 900.0,
        },
        media: MediaMode::Off,
        drain_s: 300.0,
        events,
    };
    let models = builtin_model_map();
    let input = RunInput {
        topology_path: path,
        topology_text: &text,
        topology: &topology,
        scenario: &spec,
        models: &models,
    };
    let mut logs = Vec::new();
    run(&input, 11, &RunOptions::default(), &mut |l, _| logs.push(l)).unwrap();
    logs
}

fn failed_between(logs: &[CallLog], from_s: u64, to_s: u64) -> (usize, usize) {
    let window: Vec<&CallLog> = logs
        .iter()
        .filter(|l| {
            l.started_at >= SimTime::from_secs(from_s) && l.started_at < SimTime::from_secs(to_s)
        })
        .collect();
    let failed = window
        .iter()
        .filter(|l| l.outcome != CallOutcome::Answered)
        .count();
    (failed, window.len())
}

#[test]
fn a_dead_gateway_takes_its_spans_out_of_service_at_the_carrier() {
    // Gateway 1 is dead from 300 s to 600 s.
    let logs = inbound_calls(vec![ScheduledEvent::ElementDown {
        element: "gw1".into(),
        at_s: 300.0,
        for_s: Some(300.0),
    }]);
    // Calls that arrive while it is dead go to gateway 2 and are answered (a few seconds
    // after the crash are spared: calls set up just before it are dropped with it).
    let (failed, total) = failed_between(&logs, 305, 600);
    assert!(total > 30, "{total} calls in the outage");
    assert_eq!(
        failed, 0,
        "{failed} of {total} inbound calls failed during the outage"
    );
    // Once it is back, the carrier uses its spans again: the first trunk group in the
    // carrier's hunting order carries calls after the repair.
    let after: Vec<&CallLog> = logs
        .iter()
        .filter(|l| l.started_at >= SimTime::from_secs(620))
        .collect();
    assert!(after.iter().all(|l| l.outcome == CallOutcome::Answered));
    // Without the fix, calls offered on the dead gateway's PRI time out (504, T303).
    assert!(
        logs.iter().all(|l| l.final_status != Some(504)),
        "a call timed out on the dead gateway's PRI"
    );
}
