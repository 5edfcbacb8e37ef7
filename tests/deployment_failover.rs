//! Outbound failover at deployment level, on the Direct SIP via gateways topology (Lync →
//! Front End → Mediation Server → gw1 or gw2 → PSTN; the route tries t-gw1 then t-gw2):
//! - gw1 answers 503 (both its T1 spans out of service): the call completes on gw2 at once;
//! - gw1 is dead: the call completes on gw2 after the 10 s fast-failover timer;
//! - gw1 answers 502 (the OXE-L6 symptom: 502 for a T1 out of service): no failover under
//!   the default route settings (503, 504, timeout), the call fails with 502;
//! - a 502 → 503 translation rule on the trunk restores the failover;
//! - gw1 marked down by missed OPTIONS keepalives is skipped with no timeout.
//!
//! Every case checks the CDR's outcome, SIP code, route and failover count.

mod deployment_support;

use deployment_support::*;
use voicetwin::elements::CallOutcome;
use voicetwin::scenario::run::RunOptions;
use voicetwin::scenario::spec::{MediaMode, ScheduledEvent};
use voicetwin::workload::CallMix;

const NAME: &str = "direct-sip-gateway";
const VIA_GW1: &str = "pool-hq>fe1>med1>gw1>pstn";
const VIA_GW2: &str = "pool-hq>fe1>med1>gw2>pstn";
/// Tried gw1, failed over to gw2.
const GW1_THEN_GW2: &str = "pool-hq>fe1>med1>gw1>med1>gw2>pstn";

/// Outbound PSTN calls only: 0.5 E of 10 s calls, about one call every 20 s for `measure_s`.
fn outbound(
    measure_s: f64,
    events: Vec<ScheduledEvent>,
) -> voicetwin::scenario::spec::ScenarioSpec {
    scenario(
        workload(&[CallMix::LyncToPstn], 0.5, 10.0, measure_s),
        MediaMode::Off,
        events,
    )
}

fn spans_down(link: &str) -> Vec<ScheduledEvent> {
    (0..2)
        .map(|span| ScheduledEvent::SpanDown {
            link: link.into(),
            span,
            at_s: 0.0,
            for_s: None,
        })
        .collect()
}

fn run(text: &str, spec: &voicetwin::scenario::spec::ScenarioSpec) -> Vec<Call> {
    let out = run_text(NAME, text, spec, 5, &RunOptions::default());
    assert!(out.calls.len() >= 5, "{} calls", out.calls.len());
    out.calls
}

fn pdd_s(c: &Call) -> f64 {
    c.cdr.pdd_ms.expect("a PDD") / 1000.0
}

#[test]
fn baseline_calls_take_the_first_gateway() {
    let calls = run(
        &fixed_carrier_setup(&topology_text(NAME)),
        &outbound(300.0, vec![]),
    );
    for c in &calls {
        assert_eq!(c.cdr.outcome, CallOutcome::Answered);
        assert_eq!((c.cdr.route.as_str(), c.cdr.failover), (VIA_GW1, 0));
        // The carrier's 1.5 s setup, plus milliseconds of signalling.
        assert!(pdd_s(c) < 2.0, "{}", pdd_s(c));
    }
}

#[test]
fn a_503_from_the_first_gateway_fails_over_to_the_second_at_once() {
    let calls = run(
        &fixed_carrier_setup(&topology_text(NAME)),
        &outbound(300.0, spans_down("gw1-pri")),
    );
    let first = &calls[0];
    assert_eq!(first.cdr.outcome, CallOutcome::Answered, "{:#?}", first.log);
    assert_eq!(first.cdr.sip_code, Some(200));
    assert_eq!(
        (first.cdr.route.as_str(), first.cdr.failover),
        (GW1_THEN_GW2, 1)
    );
    assert!(pdd_s(first) < 2.0, "no timer involved: {}", pdd_s(first));
    for c in &calls {
        assert_eq!(c.cdr.outcome, CallOutcome::Answered);
        assert!(c.cdr.route.ends_with("gw2>pstn"), "{}", c.cdr.route);
        // After a failover gw1 is deprioritised for 60 s: calls then go to gw2 first.
        assert!(
            (c.cdr.route == GW1_THEN_GW2 && c.cdr.failover == 1)
                || (c.cdr.route == VIA_GW2 && c.cdr.failover == 0),
            "{} {}",
            c.cdr.route,
            c.cdr.failover
        );
    }
    assert!(
        calls.iter().any(|c| c.cdr.route == VIA_GW2),
        "gw1 was deprioritised"
    );
}

#[test]
fn a_dead_first_gateway_fails_over_after_the_fast_failover_timer() {
    let down = vec![ScheduledEvent::ElementDown {
        element: "gw1".into(),
        at_s: 0.0,
        for_s: None,
    }];
    let calls = run(
        &fixed_carrier_setup(&topology_text(NAME)),
        &outbound(200.0, down),
    );
    let first = &calls[0];
    assert_eq!(first.cdr.outcome, CallOutcome::Answered, "{:#?}", first.log);
    // A dead gw1 handles nothing, so it is not on the route; the failover is counted.
    assert_eq!((first.cdr.route.as_str(), first.cdr.failover), (VIA_GW2, 1));
    // 10 s without a provisional response, then gw2 and the carrier's 1.5 s.
    let pdd = pdd_s(first);
    assert!((11.4..12.5).contains(&pdd), "PDD {pdd}");
    for c in &calls {
        assert_eq!(c.cdr.outcome, CallOutcome::Answered);
        assert!(c.cdr.route.ends_with("gw2>pstn"), "{}", c.cdr.route);
    }
}

/// gw1 answers 502 when its spans are out of service (as the Alcatel OXE-L6 rule does).
fn gw1_sends_502(text: &str) -> String {
    edit(
        text,
        r#"Gateway((name: "gw1", node: "hq-gw1", model: "cisco-isr-3845", peers: [(element: "med1")]))"#,
        r#"Gateway((name: "gw1", node: "hq-gw1", model: "cisco-isr-3845", peers: [(element: "med1")], span_down_status: Some(502)))"#,
    )
}

#[test]
fn a_502_does_not_fail_over_under_default_route_settings() {
    let text = gw1_sends_502(&fixed_carrier_setup(&topology_text(NAME)));
    let calls = run(&text, &outbound(300.0, spans_down("gw1-pri")));
    for c in &calls {
        assert_eq!(c.cdr.outcome, CallOutcome::Failed, "{:#?}", c.log);
        assert_eq!(c.cdr.sip_code, Some(502));
        assert_eq!(c.cdr.failover, 0);
        assert_eq!(c.cdr.route, "pool-hq>fe1>med1>gw1");
    }
}

#[test]
fn a_502_to_503_translation_rule_restores_failover() {
    let text = edit(
        &gw1_sends_502(&fixed_carrier_setup(&topology_text(NAME))),
        r#"(name: "t-gw1", mediation: "med1", peer: "gw1", settings"#,
        r#"(name: "t-gw1", mediation: "med1", peer: "gw1", translations: [(from: 502, to: 503)], settings"#,
    );
    let calls = run(&text, &outbound(300.0, spans_down("gw1-pri")));
    let first = &calls[0];
    assert_eq!(first.cdr.outcome, CallOutcome::Answered, "{:#?}", first.log);
    assert_eq!(
        (first.cdr.route.as_str(), first.cdr.failover),
        (GW1_THEN_GW2, 1)
    );
    assert!(pdd_s(first) < 2.0, "{}", pdd_s(first));
    assert!(calls.iter().all(|c| c.cdr.outcome == CallOutcome::Answered));
}

/// gw1 dead from the start; the Front End never deprioritises (so only a mark-down can
/// keep calls away from gw1); the Mediation Server polls every 10 s and marks a peer down
/// after 2 unanswered OPTIONS (each a 32 s Timer F): gw1 is down by about 42 s.
fn dead_gw1_no_deprioritising(keepalive: bool) -> (String, Vec<Call>) {
    let mut text = edit(
        &fixed_carrier_setup(&topology_text(NAME)),
        "voicemail: \"um1\",\n            )),",
        "voicemail: \"um1\",\n                health: (deprioritise_s: 0.0, max_failures: 1000),\n            )),",
    );
    let ka = if keepalive {
        "keepalive: (interval_s: 10.0, missed: 2, repoll_s: 30.0),"
    } else {
        "keepalive: (enabled: false),"
    };
    text = edit(
        &text,
        "overload: Reject(status: 503),",
        &format!("overload: Reject(status: 503), {ka}"),
    );
    let down = vec![ScheduledEvent::ElementDown {
        element: "gw1".into(),
        at_s: 0.0,
        for_s: None,
    }];
    let calls = run(&text, &outbound(400.0, down));
    (text, calls)
}

#[test]
fn a_gateway_marked_down_by_keepalive_is_skipped_without_a_timeout() {
    let (_, calls) = dead_gw1_no_deprioritising(true);
    let late: Vec<&Call> = calls.iter().filter(|c| c.cdr.start_s > 60.0).collect();
    assert!(late.len() >= 5, "{}", late.len());
    for c in &late {
        assert_eq!(c.cdr.outcome, CallOutcome::Answered, "{:#?}", c.log);
        assert!(c.cdr.route.ends_with("med1>gw2>pstn"), "{}", c.cdr.route);
        assert!(
            !c.cdr.route.contains("gw1"),
            "no INVITE reached gw1: {}",
            c.cdr.route
        );
        // The call took its alternate route (the Front End skipped, or the Mediation
        // Server refused at once, the trunk of the gateway marked down).
        assert_eq!(c.cdr.failover, 1);
        // No 10 s timer: the carrier's 1.5 s and milliseconds of signalling.
        assert!(pdd_s(c) < 2.0, "PDD {}", pdd_s(c));
    }
    // Before the mark-down the same calls waited for the fast-failover timer.
    let early = calls
        .iter()
        .find(|c| c.cdr.start_s < 30.0)
        .expect("an early call");
    assert!(pdd_s(early) > 10.0, "PDD {}", pdd_s(early));
    assert_eq!(early.cdr.failover, 1);

    // Without keepalives nothing marks gw1 down: late calls still wait 10 s.
    let (_, calls) = dead_gw1_no_deprioritising(false);
    for c in calls.iter().filter(|c| c.cdr.start_s > 60.0) {
        assert_eq!(c.cdr.outcome, CallOutcome::Answered);
        assert_eq!((c.cdr.route.as_str(), c.cdr.failover), (VIA_GW2, 1));
        assert!(pdd_s(c) > 10.0, "PDD {}", pdd_s(c));
    }
}
