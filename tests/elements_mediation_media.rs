//! The Mediation Server's media: bypass passes the peer's SDP through; without bypass it
//! anchors media in a relay (with its processing delay in the mouth-to-ear delay), transcodes
//! RTAudio ↔ G.711, and refuses (or queues) relayed calls beyond its media capacity.
//! SIP endpoints stand in for the Front End + Lync client and for the trunk peer.

mod elements_edge;

use elements_edge::*;
use voicetwin::elements::callbook::PartyRole;
use voicetwin::elements::numbering::NumberPlan;
use voicetwin::elements::{CallOutcome, Element};
use voicetwin::sim::SimDuration;
use voicetwin::sip::sdp::Codec;

const TOPOLOGY: &str = r#"Topology(
    name: "med-bench",
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

fn mediation(extra: &str, trunk_settings: &str) -> Item {
    Item::Spec(spec(&format!(
        r#"Mediation((name: "med", node: "med", front_end: "fe",
            trunks: [(peer: "gw", settings: [{trunk_settings}])],
            keepalive: (enabled: false), {extra}))"#
    )))
}

fn bench(med: Item, fe_codecs: Vec<Codec>) -> Harness {
    let mut fe = endpoint("fe", "fe", 5060, Some(("med", 5070)));
    if let Item::Endpoint(e) = &mut fe {
        e.codecs = fe_codecs;
    }
    Bench {
        topology: TOPOLOGY.into(),
        items: vec![fe, med, endpoint("gw", "gw", 5060, Some(("med", 5068)))],
        tdm: vec![],
        numbers: NumberPlan::default(),
        seed: 7,
        capture: true,
    }
    .build()
}

fn g711() -> Vec<Codec> {
    vec![Codec::pcmu(), Codec::pcma()]
}

/// The SDP `c=` address of the 200 OK the Mediation Server sent to the Front End.
fn answer_address(h: &mut Harness) -> String {
    let msgs = h.sip_sent();
    let (_, _, ok) = msgs
        .iter()
        .find(|(src, dst, m)| {
            src.port() == 5070
                && dst.port() == 5060
                && m.starts_with("SIP/2.0 200")
                && m.contains("c=IN")
        })
        .expect("a 200 OK with SDP toward the Front End");
    ok.lines()
        .find(|l| l.starts_with("c=IN IP4 "))
        .unwrap()
        .trim_start_matches("c=IN IP4 ")
        .trim()
        .to_string()
}

fn mediation_of(h: &Harness) -> &voicetwin::elements::mediation::MediationServer {
    match h.element("med") {
        Element::Mediation(m) => m,
        _ => unreachable!(),
    }
}

#[test]
fn bypass_passes_the_gateway_media_address_to_the_front_end() {
    let mut h = bench(mediation("", "MediaBypass(true)"), g711());
    let tag = h.place(
        1.0,
        "fe",
        script(
            0,
            "+14255550001",
            "+12065550001",
            answer(2),
            SimDuration::from_secs(10),
        ),
    );
    h.run_until(30.0);
    assert_eq!(
        answer_address(&mut h),
        "10.0.1.30",
        "bypass: the gateway's own address"
    );
    let log = h.log(tag).clone();
    assert_eq!(log.outcome, CallOutcome::Answered, "{log:#?}");
    assert!(log.two_way_audio());
    assert!(!log.media_for(PartyRole::Caller).unwrap().relayed);
    let med = mediation_of(&h);
    assert_eq!((med.stats().bypass, med.stats().anchored), (1, 0));
    assert_eq!(h.sim.world.media.relays_in_use(), (0, 0));
    // The route: caller endpoint, Mediation, peer.
    assert_eq!(log.route.len(), 3);
}

#[test]
fn without_bypass_the_relay_carries_the_media_and_its_delay_shows() {
    let run = |delay_ms: u32| {
        let mut h = bench(
            mediation(&format!("relay_delay_ms: {delay_ms}"), "MediaBypass(false)"),
            g711(),
        );
        let tag = h.place(
            1.0,
            "fe",
            script(
                0,
                "+14255550001",
                "+12065550001",
                answer(2),
                SimDuration::from_secs(20),
            ),
        );
        h.run_until(40.0);
        let addr = answer_address(&mut h);
        let log = h.log(tag).clone();
        let relayed = h.sim.world.media.relayed_packets();
        let peak = h.sim.world.media.relays_in_use().1;
        (addr, log, relayed, peak)
    };
    let (addr, log, relayed, peak) = run(0);
    assert_eq!(
        addr, "10.0.1.20",
        "anchored: the Mediation Server's address"
    );
    assert_eq!(log.outcome, CallOutcome::Answered);
    assert!(log.two_way_audio());
    assert_eq!(peak, 1);
    // 20 s of talk, both directions, VAD (~40% activity at 50 pps): hundreds of packets.
    assert!(relayed > 400, "relayed {relayed}");
    let caller = log.media_for(PartyRole::Caller).unwrap();
    assert!(caller.relayed);
    let base = caller.mouth_to_ear_ms.unwrap();
    let (_, slow, _, _) = run(40);
    let slower = slow
        .media_for(PartyRole::Caller)
        .unwrap()
        .mouth_to_ear_ms
        .unwrap();
    // The relay's 40 ms shows one for one; the jitter buffer sees no jitter on this LAN, so
    // 3 ms covers its adaptation steps.
    assert!(((slower - base) - 40.0).abs() < 3.0, "{base} → {slower}");
}

#[test]
fn rtaudio_client_is_transcoded_to_g711() {
    let mut h = bench(
        mediation("", "MediaBypass(true)"),
        vec![Codec::rtaudio(115, 8000)],
    );
    let tag = h.place(
        1.0,
        "fe",
        script(
            0,
            "+14255550001",
            "+12065550001",
            answer(1),
            SimDuration::from_secs(20),
        ),
    );
    h.run_until(40.0);
    let log = h.log(tag).clone();
    assert_eq!(log.outcome, CallOutcome::Answered, "{log:#?}");
    // No common codec with the gateway: bypass is impossible, the call is anchored.
    let stats = mediation_of(&h).stats();
    assert_eq!((stats.bypass, stats.anchored, stats.transcoded), (0, 1, 1));
    let caller = log.media_for(PartyRole::Caller).unwrap();
    let callee = log.media_for(PartyRole::Callee).unwrap();
    assert_eq!((caller.codec, callee.codec), ("x-msrta", "PCMU"));
    assert!(caller.audio_heard && callee.audio_heard, "{log:#?}");
    assert!(caller.audio_packets > 200 && callee.audio_packets > 200);
    assert!(h.sim.world.media.relayed_packets() > 400);
    // Both legs' media went through the (transcoding) relay.
    assert!(caller.relayed && callee.relayed, "{log:#?}");
}

#[test]
fn relayed_calls_beyond_capacity_are_refused_and_bypass_calls_do_not_count() {
    let scenario = |bypass: bool, overload: &str| {
        let mut h = bench(
            mediation(
                &format!("media_capacity: Some(2), {overload}"),
                &format!("MediaBypass({bypass})"),
            ),
            g711(),
        );
        let tags: Vec<_> = (0..3)
            .map(|i| {
                h.place(
                    1.0 + i as f64,
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
        h.run_until(60.0);
        let outcomes: Vec<_> = tags.iter().map(|t| h.log(*t).outcome).collect();
        let answered_at: Vec<_> = tags.iter().map(|t| h.log(*t).answered_at).collect();
        (
            outcomes,
            answered_at,
            mediation_of(&h).stats(),
            h.sip_sent(),
        )
    };
    let (outcomes, _, stats, msgs) = scenario(false, "");
    assert_eq!(
        outcomes,
        vec![
            CallOutcome::Answered,
            CallOutcome::Answered,
            CallOutcome::RejectedCapacity
        ]
    );
    assert_eq!((stats.rejected_capacity, stats.peak_media), (1, 2));
    assert!(
        msgs.iter()
            .any(|(src, _, m)| src.port() == 5070 && m.starts_with("SIP/2.0 503")),
        "a 503 to the Front End"
    );
    let (outcomes, _, stats, _) = scenario(true, "");
    assert!(outcomes.iter().all(|o| *o == CallOutcome::Answered));
    assert_eq!((stats.bypass, stats.rejected_capacity), (3, 0));
    // Queued instead: the third call waits for the first to end (1 s ring + 10 s talk).
    let (outcomes, answered, stats, _) =
        scenario(false, "overload: Queue(max_wait_s: 30, max_depth: 4)");
    assert!(
        outcomes.iter().all(|o| *o == CallOutcome::Answered),
        "{outcomes:?}"
    );
    assert_eq!(stats.queued, 1);
    let waited = answered[2].unwrap() - answered[0].unwrap();
    assert!(waited >= SimDuration::from_secs(11), "{waited}");
}
