//! OPTIONS keepalive at the Mediation Server: a dead peer is marked down after the missed
//! count, INVITEs for it are refused at once with 503 and headers naming it (so the Front
//! End fails over without a timeout), and the peer is seen back at the next re-poll.

mod elements_edge;

use elements_edge::*;
use voicetwin::elements::numbering::NumberPlan;
use voicetwin::elements::{CallOutcome, Command, Element};
use voicetwin::sim::SimDuration;

const TOPOLOGY: &str = r#"Topology(
    name: "med-options",
    nodes: [
        (name: "fe", role: "front-end", site: "hq", address: "10.0.1.10"),
        (name: "med", role: "mediation", site: "hq", address: "10.0.1.20"),
        (name: "gw", role: "gateway", site: "hq", address: "10.0.1.30"),
        (name: "lan", role: "lan", site: "hq"),
    ],
    links: [
        (a: "fe", b: "lan", latency_ms: 1),
        (a: "med", b: "lan", latency_ms: 1),
        (a: "gw", b: "lan", latency_ms: 1),
    ],
)"#;

fn bench() -> Harness {
    let med = spec(
        r#"Mediation((name: "med", node: "med", front_end: "fe",
            trunks: [(peer: "gw", settings: [MediaBypass(true)])],
            keepalive: (interval_s: 10, missed: 3, repoll_s: 20)))"#,
    );
    Bench {
        topology: TOPOLOGY.into(),
        items: vec![
            endpoint("fe", "fe", 5060, Some(("med", 5070))),
            Item::Spec(med),
            endpoint("gw", "gw", 5060, None),
        ],
        tdm: vec![],
        numbers: NumberPlan::default(),
        seed: 3,
        capture: true,
    }
    .build()
}

fn peer_up(h: &Harness) -> bool {
    match h.element("med") {
        Element::Mediation(m) => m.peer_up("gw").unwrap(),
        _ => unreachable!(),
    }
}

#[test]
fn a_dead_peer_is_marked_down_refused_at_once_and_seen_back_at_the_repoll() {
    let mut h = bench();
    h.run_until(5.0);
    assert!(peer_up(&h));
    let msgs = h.sip_sent();
    assert!(
        msgs.iter().any(|(_, _, m)| m.starts_with("OPTIONS ")),
        "the first OPTIONS goes out at start"
    );
    assert!(msgs.iter().any(|(src, _, m)| src.port() == 5060
        && src.ip().octets() == [10, 0, 1, 30]
        && m.starts_with("SIP/2.0 200")));
    h.command(6.0, "gw", Command::Fail);
    // OPTIONS at 10, 20 and 30 s go unanswered; each times out after Timer F (64·T1 = 32 s),
    // so the third miss lands at 62 s.
    h.run_until(61.9);
    assert!(peer_up(&h), "two misses are not enough");
    h.run_until(62.1);
    assert!(!peer_up(&h), "marked down at the third consecutive miss");
    let _ = h.sip_sent();
    let refused = h.place(
        65.0,
        "fe",
        script(
            0,
            "+14255550001",
            "+12065550001",
            answer(1),
            SimDuration::from_secs(5),
        ),
    );
    h.run_until(66.0);
    let log = h.log(refused).clone();
    assert_eq!(log.outcome, CallOutcome::Failed);
    assert_eq!(log.final_status, Some(503));
    let took = log.ended_at.unwrap() - log.started_at;
    assert!(
        took < SimDuration::from_millis(20),
        "refused without a timeout: {took}"
    );
    let msgs = h.sip_sent();
    let (_, _, resp) = msgs
        .iter()
        .find(|(src, _, m)| src.port() == 5070 && m.starts_with("SIP/2.0 503"))
        .expect("503 to the Front End");
    assert!(resp.contains("ms-diagnostics: "), "{resp}");
    assert!(resp.contains("Reason: SIP;cause=503"), "{resp}");
    assert!(resp.contains("gw"), "names the down peer: {resp}");
    assert!(
        !msgs
            .iter()
            .any(|(_, dst, m)| dst.ip().octets() == [10, 0, 1, 30] && m.starts_with("INVITE")),
        "nothing is sent to the dead peer"
    );
    // Repaired at 80 s; the down peer is polled every 20 s (70, 90...): back at 90 s.
    h.command(80.0, "gw", Command::Repair);
    h.run_until(89.9);
    assert!(!peer_up(&h));
    h.run_until(90.1);
    assert!(peer_up(&h), "seen back at the re-poll");
    let ok = h.place(
        95.0,
        "fe",
        script(
            0,
            "+14255550001",
            "+12065550001",
            answer(1),
            SimDuration::from_secs(5),
        ),
    );
    h.run_until(110.0);
    assert_eq!(h.log(ok).outcome, CallOutcome::Answered);
}
