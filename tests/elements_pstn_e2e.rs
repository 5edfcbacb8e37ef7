//! End to end across the PSTN edge: a SIP endpoint standing in for the Front End and the
//! Lync client, the Mediation Server, the gateway and the PSTN, both directions and both
//! media bypass settings; and a Basic Hybrid gateway (one hop fewer). The call logs show the
//! route, post-dial delay, answer and the media reports of both parties.

mod elements_edge;

use elements_edge::*;
use voicetwin::elements::callbook::{CallLog, PartyRole};
use voicetwin::elements::tdm::SpanKind;
use voicetwin::elements::{CallOutcome, CallTag};
use voicetwin::sim::SimDuration;

const LYNC: &str = "+14255550001";
const PSTN: &str = "+12065550001";

fn names(h: &Harness, log: &CallLog) -> Vec<String> {
    log.route
        .iter()
        .map(|e| h.sim.world.name(*e).to_string())
        .collect()
}

fn run(bypass: bool, outbound: bool) -> (Harness, CallLog) {
    let mut h = Edge {
        trunk: format!("MediaBypass({bypass})"),
        ..Edge::default()
    }
    .build();
    let tag: CallTag = if outbound {
        h.place(
            1.0,
            "fe",
            script(0, LYNC, PSTN, answer(3), SimDuration::from_secs(20)),
        )
    } else {
        h.place(
            1.0,
            "pstn",
            script(0, PSTN, LYNC, answer(3), SimDuration::from_secs(20)),
        )
    };
    h.run_until(40.0);
    let log = h.log(tag).clone();
    (h, log)
}

fn check_media(log: &CallLog, relayed: bool) -> (f64, f64) {
    assert!(log.two_way_audio(), "{log:#?}");
    let mut m2e = Vec::new();
    for role in [PartyRole::Caller, PartyRole::Callee] {
        let m = log.media_for(role).unwrap();
        assert_eq!(m.relayed, relayed, "{role:?}");
        assert_eq!(m.loss_fraction, 0.0);
        assert!(m.audio_packets > 50, "{role:?}: {}", m.audio_packets);
        m2e.push(m.mouth_to_ear_ms.unwrap());
    }
    (m2e[0], m2e[1])
}

#[test]
fn lync_to_pstn_with_and_without_bypass() {
    for bypass in [true, false] {
        let (h, log) = run(bypass, true);
        assert_eq!(log.outcome, CallOutcome::Answered, "{log:#?}");
        assert_eq!(names(&h, &log), ["fe", "med", "gw", "pstn"]);
        // PDD: INVITE across two IP hops to the gateway, SETUP/ALERTING over the D-channel
        // (5 ms each way), 180 back: tens of ms.
        let pdd = log.ringback_at.unwrap() - log.started_at;
        assert!(pdd < SimDuration::from_millis(60), "{pdd}");
        let setup = log.answered_at.unwrap() - log.started_at;
        assert!(setup >= SimDuration::from_secs(3) && setup < SimDuration::from_millis(3100));
        let (caller, callee) = check_media(&log, !bypass);
        // The PSTN party's ear includes the TDM tail (10 ms).
        assert!(callee >= caller, "{caller} {callee}");
        let pstn_leg = log.media_for(PartyRole::Callee).unwrap();
        assert_eq!(h.sim.world.name(pstn_leg.element), "gw");
    }
}

#[test]
fn pstn_to_lync_with_and_without_bypass() {
    let mut delays = Vec::new();
    for bypass in [true, false] {
        let (h, log) = run(bypass, false);
        assert_eq!(log.outcome, CallOutcome::Answered, "{log:#?}");
        assert_eq!(names(&h, &log), ["pstn", "gw", "med", "fe"]);
        assert!(log.ringback_at.is_some());
        let (caller, _) = check_media(&log, !bypass);
        delays.push(caller);
    }
    // The relay adds its 5 ms processing (and a longer path through the Mediation Server).
    assert!(delays[1] > delays[0] + 4.0, "{delays:?}");
}

#[test]
fn dtmf_crosses_tdm_in_band_and_ip_as_rfc4733() {
    let mut h = Edge::default().build();
    let mut s = script(0, PSTN, LYNC, answer(1), SimDuration::from_secs(10));
    s.dtmf = Some("123#".into());
    let tag = h.place(1.0, "pstn", s);
    h.run_until(30.0);
    let log = h.log(tag).clone();
    let callee = log.media_for(PartyRole::Callee).unwrap();
    assert_eq!(callee.dtmf_digits, 4, "{log:#?}");
    let mut s = script(0, LYNC, PSTN, answer(1), SimDuration::from_secs(10));
    s.dtmf = Some("42".into());
    h.place(40.0, "fe", s);
    h.run_until(70.0);
    let labels: Vec<_> = h.isdn().into_iter().map(|(_, _, l)| l).collect();
    assert!(
        labels
            .iter()
            .filter(|l| l.starts_with("DTMF in-band"))
            .count()
            >= 2,
        "{labels:?}"
    );
}

#[test]
fn basic_hybrid_gateway_is_one_hop_less() {
    let gw = spec(
        r#"Gateway((name: "gw", node: "gw", model: "audiocodes-mediant-2000-hybrid",
            peers: [(element: "fe")]))"#,
    );
    let pstn =
        spec(r#"Pstn((name: "pstn", node: "pstn", routes: [(hosts: ["fe"], links: ["t1"])]))"#);
    let mut h = Bench {
        topology: EDGE_TOPOLOGY.into(),
        items: vec![
            endpoint("fe", "fe", 5060, Some(("gw", 5060))),
            Item::Spec(gw),
            Item::Spec(pstn),
        ],
        tdm: vec![("t1".into(), "gw".into(), "pstn".into(), SpanKind::T1, 1)],
        numbers: edge_numbers(),
        seed: 5,
        capture: false,
    }
    .build();
    let out = h.place(
        1.0,
        "fe",
        script(0, LYNC, PSTN, answer(2), SimDuration::from_secs(10)),
    );
    let inb = h.place(
        1.0,
        "pstn",
        script(0, PSTN, LYNC, answer(2), SimDuration::from_secs(10)),
    );
    h.run_until(30.0);
    let out = h.log(out).clone();
    let inb = h.log(inb).clone();
    assert_eq!(out.outcome, CallOutcome::Answered, "{out:#?}");
    assert_eq!(inb.outcome, CallOutcome::Answered, "{inb:#?}");
    assert_eq!(names(&h, &out), ["fe", "gw", "pstn"]);
    assert_eq!(names(&h, &inb), ["pstn", "gw", "fe"]);
    check_media(&out, false);
    match h.element("gw") {
        voicetwin::elements::Element::Gateway(g) => assert!(g.is_hybrid()),
        _ => unreachable!(),
    }
}

#[test]
fn same_seed_same_trajectory_across_the_edge() {
    let fingerprint = |seed: u64| {
        let mut h = Edge {
            trunk: "MediaBypass(false)".into(),
            capture: false,
            seed,
            ..Edge::default()
        }
        .build();
        h.place(
            1.0,
            "fe",
            script(0, LYNC, PSTN, answer(2), SimDuration::from_secs(5)),
        );
        h.place(
            1.5,
            "pstn",
            script(0, PSTN, LYNC, answer(1), SimDuration::from_secs(5)),
        );
        h.run_until(20.0);
        assert_eq!(h.sim.logs.len(), 2);
        h.sched.trace().fingerprint()
    };
    assert_eq!(fingerprint(1), fingerprint(1));
    assert_ne!(fingerprint(1), fingerprint(2));
}
