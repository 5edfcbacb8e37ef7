//! An IP-PBX vendor model served live: the simulator's IP-PBX element (behaviour engine
//! included) on a real UDP socket. Its extensions answer, media flows, and a station
//! already on a call is busy — the element's own behaviour, on the wire.

mod live_support;

use live_support::{serve_config, spawn_server};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use voicetwin::elements::CallOutcome;
use voicetwin::live::{CallConfig, Caller, LiveModel};
use voicetwin::sim::SimDuration;

const MODEL: &str = "avaya-aura-sm-6.3";

fn calls(uri: String, count: u32, rate: f64, hold_ms: u64) -> CallConfig {
    CallConfig {
        uri,
        count,
        rate,
        hold: SimDuration::from_millis(hold_ms),
        ring_timeout: SimDuration::from_secs(5),
        model: LiveModel::Uas,
        bind: None,
        seed: 11,
    }
}

#[test]
fn a_pbx_extension_answers_with_media_and_is_busy_while_on_a_call() {
    let mut cfg = serve_config();
    cfg.model = LiveModel::resolve(MODEL, Path::new("vendor-models")).unwrap();
    cfg.answer_after = SimDuration::from_millis(20);
    let server = spawn_server(cfg);

    // One call after the other to extension 1000: each is answered, RTP both ways.
    let sequential = calls(format!("sip:1000@{}", server.addr), 3, 2.0, 300);
    let report = Caller::start(&sequential)
        .unwrap()
        .run(&sequential, &AtomicBool::new(false), |_| {})
        .unwrap();
    assert_eq!(report.answered(), 3, "{report}");

    // Two calls 50 ms apart to extension 2000, the first held 600 ms: the station's line
    // is busy for the second (486 Busy Here).
    let mut overlapping = calls(format!("sip:2000@{}", server.addr), 2, 20.0, 600);
    // Another run, another seed: Call-IDs must not repeat against the same peer.
    overlapping.seed = 12;
    let report = Caller::start(&overlapping)
        .unwrap()
        .run(&overlapping, &AtomicBool::new(false), |_| {})
        .unwrap();
    let outcomes: Vec<_> = report
        .results
        .iter()
        .map(|r| (r.outcome, r.status))
        .collect();
    assert_eq!(
        outcomes,
        [
            (CallOutcome::Answered, None),
            (CallOutcome::Busy, Some(486))
        ],
        "{report}"
    );

    let (summary, served) = server.stop();
    let i = summary.stats.inbound;
    assert_eq!((i.offered, i.answered, i.failed), (5, 4, 1), "{summary}");
    assert!(
        summary.stats.media_in > 0 && summary.stats.media_out > 0,
        "{summary}"
    );
    assert_eq!(served.len(), 5);
    assert!(served.iter().any(|c| c.audio_packets > 0), "{served:?}");
}
