//! Gateway routing and resilience: the "Enterprise Voice in front of the PBX" gateway
//! routes PSTN calls by called number (Lync DIDs to Lync, PBX DIDs to the PBX trunk);
//! calls from the TDM side fail over to the next Mediation Server on 503; a 502 reaches the
//! Front End as 502 unless a translation rule makes it 503; a gateway crash clears its TDM
//! calls at the far end.

mod elements_edge;

use elements_edge::*;
use voicetwin::elements::numbering::{NumberKind, NumberPlan};
use voicetwin::elements::tdm::SpanKind;
use voicetwin::elements::{CallOutcome, Command, Element};
use voicetwin::sim::SimDuration;

const TOPOLOGY: &str = r#"Topology(
    name: "in-front-of-pbx",
    nodes: [
        (name: "fe", role: "front-end", site: "hq", address: "10.0.1.10"),
        (name: "med", role: "mediation", site: "hq", address: "10.0.1.20"),
        (name: "med2", role: "mediation", site: "hq", address: "10.0.1.21"),
        (name: "gw", role: "gateway", site: "hq", address: "10.0.1.30"),
        (name: "pstn", role: "pstn", site: "carrier", address: "10.9.0.1"),
        (name: "pbx", role: "pbx", site: "hq", address: "10.0.1.40"),
        (name: "lan", role: "lan", site: "hq"),
    ],
    links: [
        (a: "fe", b: "lan", latency_ms: 1),
        (a: "med", b: "lan", latency_ms: 1),
        (a: "med2", b: "lan", latency_ms: 1),
        (a: "gw", b: "lan", latency_ms: 1),
        (a: "pbx", b: "lan", latency_ms: 1),
        (a: "pstn", b: "gw", latency_ms: 1),
    ],
)"#;

/// A gateway with a T1 to the PSTN and a T1 to a TDM PBX (stood in for by a second PSTN
/// element hosting the PBX's DIDs), and two Mediation Servers; the first refuses every
/// relayed call (no media capacity), so the gateway must fail over.
fn bench(first_med_capacity: u32) -> Harness {
    let med = |name: &str, cap: u32| {
        Item::Spec(spec(&format!(
            r#"Mediation((name: "{name}", node: "{name}", front_end: "fe",
                trunks: [(peer: "gw", model: Some("audiocodes-mediant-2000"),
                          settings: [Server(Lync2013), MediaBypass(false)])],
                media_capacity: Some({cap}), keepalive: (enabled: false)))"#
        )))
    };
    let gw = spec(
        r#"Gateway((name: "gw", node: "gw", model: "audiocodes-mediant-2000",
            peers: [(element: "med"), (element: "med2")], links: Some(["t-pstn", "t-pbx"])))"#,
    );
    let pstn = spec(
        r#"Pstn((name: "pstn", node: "pstn", routes: [(hosts: ["fe", "pbx"], links: ["t-pstn"])]))"#,
    );
    let pbx = spec(r#"Pstn((name: "pbx", node: "pbx", routes: [(links: ["t-pbx"])]))"#);
    Bench {
        topology: TOPOLOGY.into(),
        items: vec![
            endpoint("fe", "fe", 5060, Some(("med2", 5070))),
            med("med", first_med_capacity),
            med("med2", 100),
            Item::Spec(gw),
            Item::Spec(pstn),
            Item::Spec(pbx),
        ],
        tdm: vec![
            ("t-pstn".into(), "gw".into(), "pstn".into(), SpanKind::T1, 1),
            ("t-pbx".into(), "gw".into(), "pbx".into(), SpanKind::E1, 1),
        ],
        numbers: NumberPlan {
            ranges: vec![
                range(NumberKind::EnterpriseVoice, 14255550000, 100, "fe"),
                range(NumberKind::Pstn, 14255560000, 100, "pbx"),
                range(NumberKind::Pstn, 12065550000, 100, "pstn"),
            ],
        },
        seed: 21,
        capture: true,
    }
    .build()
}

fn names(h: &Harness, tag: voicetwin::elements::CallTag) -> Vec<String> {
    h.log(tag)
        .route
        .iter()
        .map(|e| h.sim.world.name(*e).to_string())
        .collect()
}

#[test]
fn pstn_calls_are_routed_by_called_number_in_front_of_the_pbx() {
    let mut h = bench(100);
    let to_pbx = h.place(
        1.0,
        "pstn",
        script(
            0,
            "+12065550001",
            "+14255560001",
            answer(1),
            SimDuration::from_secs(5),
        ),
    );
    let to_lync = h.place(
        1.0,
        "pstn",
        script(
            0,
            "+12065550002",
            "+14255550001",
            answer(1),
            SimDuration::from_secs(5),
        ),
    );
    let lync_to_pbx = h.place(
        20.0,
        "fe",
        script(
            0,
            "+14255550002",
            "+14255560002",
            answer(1),
            SimDuration::from_secs(5),
        ),
    );
    h.run_until(40.0);
    assert_eq!(h.log(to_pbx).outcome, CallOutcome::Answered);
    assert_eq!(
        names(&h, to_pbx),
        ["pstn", "gw", "pbx"],
        "switched TDM to TDM"
    );
    assert_eq!(h.log(to_lync).outcome, CallOutcome::Answered);
    assert_eq!(names(&h, to_lync), ["pstn", "gw", "med", "fe"]);
    assert_eq!(h.log(lync_to_pbx).outcome, CallOutcome::Answered);
    assert_eq!(names(&h, lync_to_pbx), ["fe", "med2", "gw", "pbx"]);
    assert_eq!(h.link_usage("t-pbx").1, 30, "an E1 has 30 B-channels");
    assert_eq!((h.link_usage("t-pstn").0, h.link_usage("t-pbx").0), (0, 0));
}

#[test]
fn the_gateway_fails_over_to_the_next_mediation_server_on_503() {
    let mut h = bench(0);
    let tag = h.place(
        1.0,
        "pstn",
        script(
            0,
            "+12065550002",
            "+14255550001",
            answer(1),
            SimDuration::from_secs(5),
        ),
    );
    h.run_until(20.0);
    let log = h.log(tag).clone();
    assert_eq!(log.outcome, CallOutcome::Answered, "{log:#?}");
    assert_eq!(log.failovers, 1);
    assert_eq!(names(&h, tag), ["pstn", "gw", "med", "med2", "fe"]);
    match h.element("gw") {
        Element::Gateway(g) => assert_eq!(g.stats().failovers, 1),
        _ => unreachable!(),
    }
}

#[test]
fn a_502_is_translated_to_503_only_by_a_rule() {
    let run = |rule: &str| {
        let mut h = Edge {
            trunk: format!("MediaBypass(true){rule}"),
            gw_extra: "span_down_status: Some(502)".into(),
            ..Edge::default()
        }
        .build();
        let (port, _) = h.ports["t1"];
        h.command(
            0.5,
            "gw",
            Command::SpanState {
                port,
                span: 0,
                in_service: false,
            },
        );
        let tag = h.place(
            1.0,
            "fe",
            script(
                0,
                "+14255550001",
                "+12065550001",
                answer(1),
                SimDuration::from_secs(5),
            ),
        );
        h.run_until(10.0);
        h.log(tag).final_status
    };
    assert_eq!(run(""), Some(502));
    assert_eq!(
        run(", TranslateResponseCode((from: 502, to: 503))"),
        Some(503)
    );
}

#[test]
fn a_gateway_crash_clears_its_calls_at_the_pstn() {
    let mut h = Edge::default().build();
    let tag = h.place(
        1.0,
        "pstn",
        script(
            0,
            "+12065550002",
            "+14255550001",
            answer(1),
            SimDuration::from_secs(100),
        ),
    );
    h.command(20.0, "gw", Command::Fail);
    h.run_until(30.0);
    assert_eq!(h.link_usage("t1").0, 0);
    let late = h.place(
        40.0,
        "pstn",
        script(
            0,
            "+12065550003",
            "+14255550002",
            answer(1),
            SimDuration::from_secs(5),
        ),
    );
    h.command(60.0, "gw", Command::Repair);
    let after = h.place(
        70.0,
        "pstn",
        script(
            0,
            "+12065550004",
            "+14255550003",
            answer(1),
            SimDuration::from_secs(5),
        ),
    );
    h.run_until(200.0);
    // The Lync leg of the crashed call is orphaned (no session timer on it): close the books.
    h.sim
        .world
        .calls
        .finish_all(voicetwin::sim::SimTime::from_secs(200));
    while let Some(l) = h.sim.world.calls.pop_finished() {
        h.sim.logs.push(l);
    }
    let crashed = h.log(tag);
    assert_eq!(crashed.outcome, CallOutcome::Answered);
    assert!(crashed.ended_at.unwrap() < voicetwin::sim::SimTime::from_secs(21));
    // Nobody answers the SETUP while the gateway is down: T303 twice, then cause 102.
    let late = h.log(late);
    assert_eq!(late.outcome, CallOutcome::Failed);
    assert_eq!(late.final_status, Some(504));
    assert_eq!(h.log(after).outcome, CallOutcome::Answered);
}
