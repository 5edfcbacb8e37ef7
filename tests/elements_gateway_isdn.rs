//! ISDN ↔ SIP interworking at the gateway (RFC 3398): busy, decline, no answer, ringback
//! on ALERTING, and an IVR's in-band early media heard by the SIP caller; both directions.
//! A SIP endpoint stands in for the Front End and the Lync client.

mod elements_edge;

use elements_edge::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::callbook::PartyRole;
use voicetwin::elements::script::AnswerAction;
use voicetwin::sim::SimDuration;

const LYNC: &str = "+14255550001";
const PSTN: &str = "+12065550001";
const IVR: &str = "+18005550001";

fn out_call(
    edge: Edge,
    callee: &str,
    action: AnswerAction,
    until: f64,
) -> (Harness, voicetwin::elements::callbook::CallLog) {
    let mut h = edge.build();
    let tag = h.place(
        1.0,
        "fe",
        script(0, LYNC, callee, action, SimDuration::from_secs(5)),
    );
    h.run_until(until);
    let log = h.log(tag).clone();
    (h, log)
}

fn in_call(
    edge: Edge,
    action: AnswerAction,
    until: f64,
) -> (Harness, voicetwin::elements::callbook::CallLog) {
    let mut h = edge.build();
    let tag = h.place(
        1.0,
        "pstn",
        script(0, PSTN, LYNC, action, SimDuration::from_secs(5)),
    );
    h.run_until(until);
    let log = h.log(tag).clone();
    (h, log)
}

fn has_isdn(h: &mut Harness, label: &str) -> bool {
    h.isdn().iter().any(|(_, _, l)| l == label)
}

fn sip_from_gateway(h: &mut Harness, start: &str) -> bool {
    h.sip_sent()
        .iter()
        .any(|(src, _, m)| src.ip().octets() == [10, 0, 1, 30] && m.starts_with(start))
}

#[test]
fn pstn_busy_maps_cause_17_to_486() {
    let (mut h, log) = out_call(Edge::default(), PSTN, AnswerAction::Busy, 20.0);
    assert_eq!(log.outcome, CallOutcome::Busy, "{log:#?}");
    assert_eq!(log.final_status, Some(486));
    assert!(sip_from_gateway(&mut h, "SIP/2.0 486"));
    let (mut h, _) = out_call(Edge::default(), PSTN, AnswerAction::Busy, 20.0);
    assert!(has_isdn(&mut h, "DISCONNECT (17 user busy)"));
    assert_eq!(h.link_usage("t1").0, 0, "the channel is released");
}

#[test]
fn pstn_decline_maps_cause_21_to_603_unless_strict() {
    let (_, log) = out_call(Edge::default(), PSTN, AnswerAction::Decline, 20.0);
    assert_eq!(log.outcome, CallOutcome::Declined, "{log:#?}");
    assert_eq!(log.final_status, Some(603));
    let strict = Edge {
        gw_extra: "strict_rfc3398: true".into(),
        ..Edge::default()
    };
    let (_, log) = out_call(strict, PSTN, AnswerAction::Decline, 20.0);
    assert_eq!(
        log.final_status,
        Some(403),
        "RFC 3398 §7.2.4.1 maps cause 21 to 403"
    );
}

#[test]
fn pstn_no_answer_is_cleared_by_the_switch_with_cause_19() {
    let edge = Edge {
        pstn_extra: "no_answer_s: 30".into(),
        ..Edge::default()
    };
    let (mut h, log) = out_call(edge, PSTN, AnswerAction::NoAnswer, 60.0);
    assert_eq!(log.outcome, CallOutcome::NoAnswer, "{log:#?}");
    assert_eq!(log.final_status, Some(480));
    let ended = log.ended_at.unwrap() - log.started_at;
    assert!(
        ended >= SimDuration::from_secs(30) && ended < SimDuration::from_secs(31),
        "{ended}"
    );
    assert!(log.ringback_at.is_some());
    let _ = h.sip_sent();
}

#[test]
fn alerting_gives_180_and_ringback_then_connect_gives_200() {
    let (mut h, log) = out_call(Edge::default(), PSTN, answer(3), 30.0);
    assert_eq!(log.outcome, CallOutcome::Answered, "{log:#?}");
    let rb = log.ringback_at.unwrap() - log.started_at;
    assert!(rb < SimDuration::from_millis(100), "PDD {rb}");
    assert!(log.early_media_at.is_none());
    let msgs = h.sip_sent();
    assert!(
        msgs.iter()
            .any(|(src, _, m)| src.ip().octets() == [10, 0, 1, 30] && m.starts_with("SIP/2.0 180"))
    );
    assert!(log.two_way_audio());
    // The PSTN callee's media is the gateway's, with the TDM tail's delay.
    let callee = log.media_for(PartyRole::Callee).unwrap();
    assert_eq!(h.sim.world.name(callee.element), "gw");
}

#[test]
fn inband_ringback_gives_183_with_early_media() {
    let edge = Edge {
        pstn_extra: "inband_ringback: true".into(),
        ..Edge::default()
    };
    let (mut h, log) = out_call(edge, PSTN, answer(4), 30.0);
    assert_eq!(log.outcome, CallOutcome::Answered);
    assert!(log.early_media_at.is_some(), "{log:#?}");
    assert!(log.ringback_at.is_none(), "no 180: the ringback is in-band");
    assert!(sip_from_gateway(&mut h, "SIP/2.0 183"));
}

#[test]
fn ivr_early_media_is_heard_by_the_sip_caller_before_answer() {
    let (mut h, log) = out_call(Edge::default(), IVR, AnswerAction::NoAnswer, 40.0);
    assert_eq!(
        log.outcome,
        CallOutcome::Answered,
        "the IVR answers: {log:#?}"
    );
    let early = log.early_media_at.unwrap() - log.started_at;
    let answered = log.answered_at.unwrap() - log.started_at;
    assert!(early < SimDuration::from_secs(1), "{early}");
    assert!(answered >= SimDuration::from_secs(8), "{answered}");
    assert!(log.media_for(PartyRole::Caller).unwrap().early_media_heard);
    assert!(has_isdn(&mut h, "PROGRESS (in-band info)"));
}

#[test]
fn lync_busy_and_decline_reach_the_pstn_caller_as_causes() {
    let (mut h, log) = in_call(Edge::default(), AnswerAction::Busy, 20.0);
    assert_eq!(log.outcome, CallOutcome::Busy, "{log:#?}");
    assert!(has_isdn(&mut h, "DISCONNECT (17 user busy)"));
    let (mut h, log) = in_call(Edge::default(), AnswerAction::Decline, 20.0);
    assert_eq!(log.outcome, CallOutcome::Declined, "{log:#?}");
    assert_eq!(log.final_status, Some(603));
    assert!(has_isdn(&mut h, "DISCONNECT (21 call rejected)"));
}

#[test]
fn pstn_caller_hears_ringback_on_alerting_and_talks_to_lync() {
    let (mut h, log) = in_call(Edge::default(), answer(2), 30.0);
    assert_eq!(log.outcome, CallOutcome::Answered, "{log:#?}");
    assert!(log.ringback_at.is_some());
    assert!(has_isdn(&mut h, "ALERTING"));
    assert!(log.two_way_audio());
    let caller = log.media_for(PartyRole::Caller).unwrap();
    assert_eq!(h.sim.world.name(caller.element), "gw");
    // Route: PSTN, gateway, Mediation Server, the Lync side.
    let names: Vec<_> = log
        .route
        .iter()
        .map(|e| h.sim.world.name(*e).to_string())
        .collect();
    assert_eq!(names, ["pstn", "gw", "med", "fe"]);
}
