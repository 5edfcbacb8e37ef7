//! The SIP trunk provider: its session limit blocks (503), its "requires call history"
//! policy refuses a redirected call without History-Info or Diversion (403) and accepts it
//! with them, and its PSTN parties call in, answer and play IVR early media.

mod elements_edge;

use bytes::Bytes;
use elements_edge::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use voicetwin::elements::callbook::PartyRole;
use voicetwin::elements::numbering::{NumberKind, NumberPlan};
use voicetwin::elements::script::AnswerAction;
use voicetwin::elements::{CallOutcome, Element};
use voicetwin::net::Packet;
use voicetwin::sim::SimDuration;
use voicetwin::sip::sdp::{Direction, MediaCapabilities};

const TOPOLOGY: &str = r#"Topology(
    name: "itsp-bench",
    nodes: [
        (name: "fe", role: "front-end", site: "hq", address: "10.0.1.10"),
        (name: "med", role: "mediation", site: "hq", address: "10.0.1.20"),
        (name: "lan", role: "lan", site: "hq"),
        (name: "internet", role: "internet", site: "internet"),
        (name: "itsp", role: "provider", site: "provider", address: "198.51.100.5"),
    ],
    links: [
        (a: "fe", b: "lan", latency_ms: 1),
        (a: "med", b: "lan", latency_ms: 1),
        (a: "lan", b: "internet", latency_ms: 8),
        (a: "internet", b: "itsp", latency_ms: 12),
    ],
)"#;

fn bench(provider: &str, trunk: &str) -> Harness {
    let med = spec(&format!(
        r#"Mediation((name: "med", node: "med", front_end: "fe",
            trunks: [(peer: "itsp", settings: [MediaBypass(false), {trunk}])],
            keepalive: (enabled: false)))"#
    ));
    let itsp = spec(&format!(
        r#"SipTrunk((name: "itsp", node: "itsp", peer: "med", {provider}))"#
    ));
    Bench {
        topology: TOPOLOGY.into(),
        items: vec![
            endpoint("fe", "fe", 5060, Some(("med", 5070))),
            Item::Spec(med),
            Item::Spec(itsp),
        ],
        tdm: vec![],
        numbers: NumberPlan {
            ranges: vec![
                range(NumberKind::EnterpriseVoice, 14255550000, 100, "fe"),
                range(NumberKind::Pstn, 12065550000, 100, "itsp"),
                range(NumberKind::Service, 18005550000, 10, "itsp"),
            ],
        },
        seed: 9,
        capture: true,
    }
    .build()
}

fn provider(h: &Harness) -> &voicetwin::elements::sip_trunk::SipTrunkProvider {
    match h.element("itsp") {
        Element::SipTrunk(p) => p,
        _ => unreachable!(),
    }
}

#[test]
fn calls_beyond_the_session_limit_are_blocked() {
    let mut h = bench("max_sessions: 2", "");
    let tags: Vec<_> = (0..3)
        .map(|i| {
            h.place(
                1.0 + i as f64 * 0.1,
                "fe",
                script(
                    0,
                    "+14255550001",
                    &format!("+1206555000{i}"),
                    answer(1),
                    SimDuration::from_secs(10),
                ),
            )
        })
        .collect();
    h.run_until(30.0);
    let outcomes: Vec<_> = tags.iter().map(|t| h.log(*t).outcome).collect();
    assert_eq!(
        outcomes,
        [
            CallOutcome::Answered,
            CallOutcome::Answered,
            CallOutcome::Blocked
        ]
    );
    assert_eq!(h.log(tags[2]).final_status, Some(503));
    assert_eq!(provider(&h).stats().blocked, 1);
    assert_eq!(provider(&h).stats().peak_sessions, 2);
    // The PSTN party's media terminates at the provider, over the Internet path.
    let log = h.log(tags[0]);
    let callee = log.media_for(PartyRole::Callee).unwrap();
    assert_eq!(h.sim.world.name(callee.element), "itsp");
    assert!(log.two_way_audio());
}

/// What the Front End sends for a PSTN caller's call forwarded by a Lync user to another
/// PSTN number: the original caller's identity, the forward target, and (optionally) the
/// call history. Injected on the wire from the Front End's address.
fn forwarded_invite(h: &mut Harness, history: Option<&str>) {
    let fe = SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 10), 5062);
    let sdp = MediaCapabilities::g711("10.0.1.10", 30000)
        .offer(1, 1, Direction::SendRecv)
        .to_text();
    let mut msg = String::from(
        "INVITE sip:+12065550002@10.0.1.20;user=phone SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.0.1.10:5062;branch=z9hG4bKfwd0001\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:+12065550001@10.0.1.10;user=phone>;tag=fwd1\r\n\
         To: <sip:+12065550002@10.0.1.20;user=phone>\r\n\
         Call-ID: forwarded-1@10.0.1.10\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:fe@10.0.1.10:5062>\r\n",
    );
    if let Some(hdr) = history {
        msg.push_str(hdr);
        msg.push_str("\r\n");
    }
    msg.push_str(&format!(
        "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    ));
    let packet = Packet::new(
        fe,
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 20), 5070),
        Bytes::from(msg),
    );
    let _ = h.sim.world.net.send(&mut h.sched, packet);
}

/// The first final response the Mediation Server sent back toward the Front End.
fn final_to_fe(h: &mut Harness) -> u16 {
    h.sip_sent()
        .into_iter()
        .filter(|(src, dst, m)| {
            src.port() == 5070 && dst.port() == 5062 && m.starts_with("SIP/2.0 ")
        })
        .map(|(_, _, m)| m[8..11].parse::<u16>().unwrap())
        .find(|s| *s >= 200)
        .expect("a final response")
}

#[test]
fn a_forwarded_call_needs_call_history() {
    const HI: &str = "History-Info: <sip:+14255550001@10.0.1.10;user=phone>;index=1,<sip:+12065550002@10.0.1.10;user=phone?Reason=SIP%3Bcause%3D302>;index=1.1";
    const DIVERSION: &str =
        "Diversion: <sip:+14255550001@10.0.1.10;user=phone>;reason=unconditional";
    let run = |history: Option<&str>, forward: bool| {
        let mut h = bench(
            "requires_call_history: true",
            &format!("ForwardCallHistory({forward})"),
        );
        h.run_until(1.0);
        forwarded_invite(&mut h, history);
        h.run_until(10.0);
        (
            final_to_fe(&mut h),
            provider(&h).stats().rejected_no_history,
        )
    };
    assert_eq!(run(None, true), (403, 1), "no call history: refused");
    assert_eq!(
        run(Some(HI), true).0,
        200,
        "History-Info passed on: accepted"
    );
    assert_eq!(run(Some(DIVERSION), true).0, 200, "Diversion: accepted");
    assert_eq!(
        run(Some(HI), false),
        (403, 1),
        "ForwardCallHistory off: the Mediation Server strips it and the provider refuses"
    );
    // A plain call from an enterprise number needs no history.
    let mut h = bench("requires_call_history: true", "");
    let tag = h.place(
        1.0,
        "fe",
        script(
            0,
            "+14255550001",
            "+12065550003",
            answer(1),
            SimDuration::from_secs(5),
        ),
    );
    h.run_until(20.0);
    assert_eq!(h.log(tag).outcome, CallOutcome::Answered);
}

#[test]
fn provider_parties_call_in_and_ivrs_play_early_media() {
    let mut h = bench("", "");
    let inbound = h.place(
        1.0,
        "itsp",
        script(
            0,
            "+12065550009",
            "+14255550002",
            answer(2),
            SimDuration::from_secs(10),
        ),
    );
    let ivr = h.place(
        1.0,
        "fe",
        script(
            0,
            "+14255550003",
            "+18005550001",
            AnswerAction::NoAnswer,
            SimDuration::from_secs(5),
        ),
    );
    h.run_until(40.0);
    let log = h.log(inbound).clone();
    assert_eq!(log.outcome, CallOutcome::Answered, "{log:#?}");
    assert!(log.ringback_at.is_some());
    assert!(log.two_way_audio());
    let names: Vec<_> = log
        .route
        .iter()
        .map(|e| h.sim.world.name(*e).to_string())
        .collect();
    assert_eq!(names, ["itsp", "med", "fe"]);
    let caller = log.media_for(PartyRole::Caller).unwrap();
    assert_eq!(h.sim.world.name(caller.element), "itsp");
    assert!(caller.relayed, "bypass off: the Mediation Server relays");
    let ivr = h.log(ivr);
    assert!(ivr.early_media_at.is_some(), "{ivr:#?}");
    assert_eq!(ivr.outcome, CallOutcome::Answered);
}
