//! The callee's features applied by the Front End: call forward all and busy,
//! simultaneous ring in both answer orders, and no answer → Exchange UM voicemail, with
//! History-Info (RFC 4244) on the retargeted INVITEs.

mod elements_lync_support;

use elements_lync_support::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::Element;
use voicetwin::elements::callbook::PartyRole;
use voicetwin::elements::script::{AnswerAction, ForwardMode, ForwardScript, SimulRingScript};
use voicetwin::sim::SimDuration;
use voicetwin::sip::wire::HeaderName;

fn fe_invites(lab: &Lab) -> Vec<&Sent> {
    lab.h
        .sent
        .iter()
        .filter(|s| s.from == "fe" && s.is_request("INVITE"))
        .collect()
}

#[test]
fn call_forward_all_to_a_pstn_number_never_rings_the_client() {
    let mut lab = Lab::new(Setup::default());
    let mut s = script(1, HQ1, "0102", HQ2, answer(1));
    s.forward = Some(ForwardScript {
        mode: ForwardMode::All,
        target: PSTN1.into(),
    });
    lab.call_at(1.0, s, "pool-hq");
    lab.run_until(60.0);
    let log = lab.log(1);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    assert_eq!(lab.route_names(log), ["pool-hq", "fe", "med1"]);
    let inv = fe_invites(&lab);
    assert_eq!(inv.len(), 1, "{ladder}");
    assert_eq!(
        inv[0].first_line(),
        "INVITE sip:+14155551234@10.1.0.21:5070;user=phone"
    );
    let hi = inv[0].header(HeaderName::HistoryInfo).unwrap();
    assert_eq!(
        hi,
        "<sip:+14255550102@contoso.com;user=phone?Reason=SIP%3Bcause%3D302%3Btext%3D%22Moved%20Temporarily%22>;index=1, <sip:+14155551234@10.1.0.21:5070;user=phone>;index=1.1"
    );
    // The forward target answers after the secondary ring time.
    let setup = (log.answered_at.unwrap() - log.started_at).as_secs_f64();
    assert!((2.0..2.1).contains(&setup), "{setup}");
    assert!(log.two_way_audio());
}

#[test]
fn call_forward_busy_retargets_after_the_486() {
    let mut lab = Lab::new(Setup::default());
    let mut s = script(1, HQ1, "0102", HQ2, AnswerAction::Busy);
    s.forward = Some(ForwardScript {
        mode: ForwardMode::Busy,
        target: BR1.into(),
    });
    lab.call_at(1.0, s, "pool-hq");
    lab.run_until(60.0);
    let log = lab.log(1);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    // The Front End is one hop: it retargets within the same transaction.
    assert_eq!(
        lab.route_names(log),
        ["pool-hq", "fe", "pool-hq", "pool-br"]
    );
    let inv = fe_invites(&lab);
    assert_eq!(inv.len(), 2);
    assert!(inv[0].header(HeaderName::HistoryInfo).is_none());
    let hi = inv[1].header(HeaderName::HistoryInfo).unwrap();
    assert!(
        hi.contains("cause%3D486")
            && hi.contains("<sip:+12065550101@10.2.0.10:5060;user=phone>;index=1.1"),
        "{hi}"
    );
    // The 486 stays at the Front End.
    assert!(
        !lab.between("fe", "pool-hq")
            .iter()
            .any(|s| s.status() == Some(486)),
        "{ladder}"
    );
    assert!(log.two_way_audio());
}

fn simul(target_answers: bool) -> (Lab, u64) {
    let mut lab = Lab::new(Setup::default());
    let mut s = script(1, HQ1, "0102", HQ2, answer(4));
    s.simul_ring = Some(SimulRingScript {
        target: PSTN1.into(),
        target_answers,
    });
    lab.call_at(1.0, s, "pool-hq");
    lab.run_until(60.0);
    (lab, 1)
}

#[test]
fn simultaneous_ring_the_client_answers_first() {
    let (lab, t) = simul(false);
    let log = lab.log(t);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    let inv = fe_invites(&lab);
    assert_eq!(inv.len(), 2, "a parallel fork\n{ladder}");
    assert!((inv[1].time.as_secs_f64() - inv[0].time.as_secs_f64()).abs() < 0.001);
    let to_pstn = inv.iter().find(|s| s.to == "med1").unwrap();
    assert!(
        to_pstn
            .header(HeaderName::HistoryInfo)
            .unwrap()
            .ends_with("index=1.1")
    );
    // The simul-ring leg is cancelled when the client answers.
    assert!(
        lab.between("fe", "med1")
            .iter()
            .any(|s| s.is_request("CANCEL")),
        "{ladder}"
    );
    assert!(
        !lab.between("fe", "pool-hq")
            .iter()
            .any(|s| s.is_request("CANCEL"))
    );
    let setup = (log.answered_at.unwrap() - log.started_at).as_secs_f64();
    assert!((4.0..4.1).contains(&setup), "{setup}");
    let callee = log.media_for(PartyRole::Callee).unwrap();
    assert_eq!(callee.codec, "x-msrta", "the Lync client took it");
}

#[test]
fn simultaneous_ring_the_second_number_answers_first() {
    let (lab, t) = simul(true);
    let log = lab.log(t);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    // The client (ringing without answer) gets CANCEL through the Front End.
    let cancels: Vec<_> = lab
        .between("fe", "")
        .into_iter()
        .filter(|s| s.is_request("CANCEL"))
        .map(|s| s.to.clone())
        .collect();
    assert_eq!(cancels, ["pool-hq"], "{ladder}");
    let setup = (log.answered_at.unwrap() - log.started_at).as_secs_f64();
    assert!((2.0..2.1).contains(&setup), "secondary ring 2 s: {setup}");
    assert_eq!(log.media_for(PartyRole::Callee).unwrap().codec, "PCMU");
    assert!(log.two_way_audio());
}

fn voicemail_messages(lab: &Lab) -> Vec<(String, u32)> {
    match lab.h.world.element(lab.id("um")) {
        Element::Voicemail(v) => v.messages().iter().map(|(k, v)| (k.clone(), *v)).collect(),
        _ => panic!(),
    }
}

#[test]
fn no_answer_goes_to_voicemail_after_the_unanswered_timer() {
    let mut lab = Lab::new(Setup::default());
    let s = script(
        1,
        BR1,
        "94255550102",
        HQ2,
        AnswerAction::Voicemail {
            after: SimDuration::ZERO,
        },
    );
    lab.call_at(1.0, s, "pool-br");
    lab.run_until(80.0);
    let log = lab.log(1);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    assert_eq!(lab.route_names(log), ["pool-br", "fe", "pool-hq", "um"]);
    let inv = fe_invites(&lab);
    let vm = inv.iter().find(|s| s.to == "um").unwrap();
    // 20 s (Lync's default) after the INVITE reached the Front End.
    let waited = vm.time.as_secs_f64() - inv[0].time.as_secs_f64();
    assert!((waited - 20.0).abs() < 1e-6, "{waited}");
    assert_eq!(
        vm.first_line(),
        "INVITE sip:+14255559000@10.1.0.30:5060;user=phone"
    );
    let hi = vm.header(HeaderName::HistoryInfo).unwrap();
    assert!(
        hi.starts_with("<sip:+14255550102@contoso.com;user=phone?Reason=SIP%3Bcause%3D408"),
        "{hi}"
    );
    assert!(
        lab.between("fe", "pool-hq")
            .iter()
            .any(|s| s.is_request("CANCEL"))
    );
    assert_eq!(voicemail_messages(&lab), [(HQ2.to_string(), 1)]);
    // The greeting is heard by the caller; the voicemail's session is the callee's.
    assert!(log.two_way_audio(), "{log:#?}");
    let setup = (log.answered_at.unwrap() - log.started_at).as_secs_f64();
    assert!((20.5..20.6).contains(&setup), "{setup}");
}

#[test]
fn the_scripted_ring_time_before_voicemail_wins() {
    let mut lab = Lab::new(Setup::default());
    let s = script(
        1,
        HQ1,
        "0102",
        HQ2,
        AnswerAction::Voicemail {
            after: SimDuration::from_secs(8),
        },
    );
    lab.call_at(1.0, s, "pool-hq");
    lab.run_until(80.0);
    let log = lab.log(1);
    let setup = (log.answered_at.unwrap() - log.started_at).as_secs_f64();
    assert!((8.5..8.6).contains(&setup), "{setup}\n{}", lab.ladder());
}

#[test]
fn voicemail_hangs_up_at_the_maximum_message_length() {
    let mut lab = Lab::new(Setup::default());
    let mut s = script(
        1,
        HQ1,
        "0102",
        HQ2,
        AnswerAction::Voicemail {
            after: SimDuration::from_secs(5),
        },
    );
    s.holding = SimDuration::from_secs(600);
    lab.call_at(1.0, s, "pool-hq");
    lab.run_until(400.0);
    let log = lab.log(1);
    assert!(
        lab.between("um", "fe").iter().any(|s| s.is_request("BYE")),
        "{}",
        lab.ladder()
    );
    // Greeting 4 s + 120 s maximum message.
    let talk = (log.ended_at.unwrap() - log.answered_at.unwrap()).as_secs_f64();
    assert!((124.0..124.1).contains(&talk), "{talk}");
}
