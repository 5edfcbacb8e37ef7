//! Our live caller against our live server over loopback: the same `SipEndpoint` code on
//! both sides of real sockets, with RTP flowing both ways, and a failure path (no common
//! codec → 488) that the caller reports as failed calls.

mod live_support;

use live_support::{serve_config, spawn_server};
use std::sync::atomic::AtomicBool;
use voicetwin::elements::CallOutcome;
use voicetwin::live::{CallConfig, Caller, LiveModel};
use voicetwin::sim::SimDuration;
use voicetwin::vendor;

fn call_config(uri: String, count: u32) -> CallConfig {
    CallConfig {
        uri,
        count,
        rate: 40.0,
        hold: SimDuration::from_millis(400),
        ring_timeout: SimDuration::from_secs(5),
        model: LiveModel::Uas,
        bind: None,
        seed: 3,
    }
}

#[test]
fn twenty_calls_with_media_both_ways() {
    let mut cfg = serve_config();
    cfg.answer_after = SimDuration::from_millis(50);
    let server = spawn_server(cfg);
    let uri = format!("sip:alice@{}", server.addr);
    let cfg = call_config(uri, 20);
    let mut caller = Caller::start(&cfg).unwrap();
    assert_eq!(caller.target().user, "alice");
    let mut seen = 0;
    let report = caller
        .run(&cfg, &AtomicBool::new(false), |_| seen += 1)
        .unwrap();
    assert_eq!(seen, 20);
    assert_eq!((report.answered(), report.failed()), (20, 0), "{report}");
    for r in &report.results {
        // 180 comes at once, the answer after the 50 ms ring time.
        let (pdd, setup) = (r.pdd_ms.unwrap(), r.setup_ms.unwrap());
        assert!(pdd < 45.0, "{r}");
        assert!((50.0..2_000.0).contains(&setup), "{r}");
        // Talk time is the 400 ms hold from answer to BYE (± one loop turn).
        let talk = r.talk_ms.unwrap();
        assert!((395.0..1_000.0).contains(&talk), "{r}");
    }
    let (summary, served) = server.stop();
    assert_eq!(summary.stats.inbound.completed, 20, "{summary}");
    assert_eq!(served.len(), 20);
    assert!(served.iter().all(|c| c.outcome == CallOutcome::Answered));
    assert!(
        served
            .iter()
            .all(|c| c.callee == "alice" && c.caller == "voicetwin")
    );
    // Both talk-spurt models talk in most 400 ms calls: across 20 calls each direction
    // carries audio (a silent side in every call has probability ~0.4^20).
    let heard_by_callee: u64 = served.iter().map(|c| c.audio_packets).sum();
    let heard_by_caller: u64 = report.results.iter().map(|r| r.audio_packets).sum();
    assert!(heard_by_callee > 20, "callee heard {heard_by_callee}");
    assert!(heard_by_caller > 20, "caller heard {heard_by_caller}");
    // Every media socket pair was closed when its session closed.
    assert_eq!(summary.stats.media_pairs, 0, "{summary}");
    assert!(report.stats.send_errors == 0 && summary.stats.send_errors == 0);
}

/// A copy of an embedded model with `codecs` replaced, written to `dir`; resolved from it.
fn patched_model(dir: &std::path::Path, id: &str, codecs: &str) -> LiveModel {
    let source = vendor::builtin_sources()
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, text)| *text)
        .expect("an embedded model");
    let patched = source
        .replace("codecs: [Pcmu, Pcma]", codecs)
        .replace("codecs: [Pcma, Pcmu]", codecs);
    assert_ne!(patched, source, "{id} lists both G.711 codecs");
    std::fs::write(dir.join(format!("{id}.ron")), patched).unwrap();
    LiveModel::resolve(id, dir).unwrap()
}

#[test]
fn no_common_codec_fails_every_call_with_488() {
    // The served model only takes A-law; our caller, shaped by another model, only µ-law.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = serve_config();
    cfg.model = patched_model(dir.path(), "cisco-ucm-8.6.2", "codecs: [Pcma]");
    let server = spawn_server(cfg);
    let mut cfg = call_config(format!("sip:bob@{}", server.addr), 3);
    cfg.model = patched_model(dir.path(), "avaya-aura-sm-6.3", "codecs: [Pcmu]");
    let mut caller = Caller::start(&cfg).unwrap();
    let codecs = caller
        .applied()
        .iter()
        .find(|a| a.behaviour == "codecs" && a.applied)
        .unwrap();
    assert!(codecs.detail.ends_with("PCMU"), "{codecs}");
    let report = caller.run(&cfg, &AtomicBool::new(false), |_| {}).unwrap();
    assert_eq!(report.failed(), 3, "{report}");
    assert!(
        report.results.iter().all(|r| r.status == Some(488)),
        "{report}"
    );
    assert!(
        report
            .results
            .iter()
            .all(|r| r.outcome == CallOutcome::Failed)
    );
    let (summary, _) = server.stop();
    assert_eq!(summary.stats.inbound.failed, 3, "{summary}");
}
