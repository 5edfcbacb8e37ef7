//! PBX basics: PBX phone ↔ Lync over the Direct SIP trunk, PSTN ↔ Lync through the PRI and
//! the trunk, busy / no answer / forwarding, display and line state, the Alternate Route
//! Timer, span faults, capacity and the Cisco UCM 6.1.1 precondition.

mod common;

use common::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::callbook::PartyRole;
use voicetwin::elements::pbx::LineState;
use voicetwin::elements::script::{AnswerAction, ForwardMode, ForwardScript};
use voicetwin::sim::SimDuration;

const SIEMENS: &str = "siemens-openscape-voice-6";

#[test]
fn pbx_phone_calls_lync_over_the_trunk() {
    let mut b = bench(SIEMENS).build();
    b.place(1.0, PBX, script(1, &ext(1), &ev(1)));
    b.run(2.5);
    let st = b.pbx().station(&ext(1)).unwrap().clone();
    b.run(40.0);
    let _g = b.ladder_on_failure();
    let log = b.log(1);
    assert_eq!(log.outcome, CallOutcome::Answered);
    assert!(log.ringback_at.is_some());
    assert!(log.two_way_audio(), "{log:#?}");
    assert_eq!(st.line, LineState::Busy);
    assert_eq!(st.display.as_deref(), Some(ev(1).as_str()));
    // The trunk runs TCP from the PBX's 5060 to the Mediation Server's 5068.
    let sip = b.sip();
    let invite = sip.iter().find(|m| m.is_request("INVITE")).unwrap();
    assert_eq!((invite.src.port(), invite.dst.port()), (5060, 5068));
    assert!(invite.header("Via").unwrap().contains("SIP/2.0/TCP"));
    assert!(
        invite.text.contains("CN/8000"),
        "Siemens offers comfort noise"
    );
    assert!(sip.iter().any(|m| m.is_request("BYE") && m.sent_by_pbx()));
    let after = b.pbx().station(&ext(1)).unwrap();
    assert_eq!(after.line, LineState::Idle);
    assert_eq!(after.display, None);
    assert_eq!(after.last_display.as_deref(), Some(ev(1).as_str()));
    assert_eq!(b.pbx().active_calls(), 0);
    // The PBX terminated the phone's media: both parties' reports exist.
    assert!(log.media_for(PartyRole::Caller).unwrap().audio_packets > 100);
}

#[test]
fn lync_calls_a_pbx_phone() {
    let mut b = bench(SIEMENS).build();
    b.place(1.0, LYNC, script(2, &ev(1), &ext(2)));
    b.run(2.0);
    let ringing = b.pbx().station(&ext(2)).unwrap().clone();
    b.run(40.0);
    let _g = b.ladder_on_failure();
    assert_eq!(ringing.line, LineState::Ringing);
    assert_eq!(ringing.display.as_deref(), Some(ev(1).as_str()));
    let log = b.log(2);
    assert_eq!(log.outcome, CallOutcome::Answered);
    assert!(log.two_way_audio());
    let sip = b.sip();
    assert!(sip.iter().any(|m| m.sent_by_pbx() && m.is_response(180)));
    assert!(
        sip.iter()
            .any(|m| m.sent_by_pbx() && m.is_response(200) && m.cseq_method() == Some("INVITE"))
    );
}

#[test]
fn pstn_to_lync_through_the_pri_and_the_trunk() {
    let mut b = bench(SIEMENS).build();
    b.place(1.0, PSTN, script(3, &pstn(7), &ev(3)));
    b.run(40.0);
    let _g = b.ladder_on_failure();
    let log = b.log(3);
    assert_eq!(log.outcome, CallOutcome::Answered);
    assert!(
        log.ringback_at.is_some(),
        "ALERTING reached the PSTN caller"
    );
    assert!(log.two_way_audio());
    let labels: Vec<String> = b.isdn().into_iter().map(|(_, _, l)| l).collect();
    assert_eq!(labels[0], format!("SETUP {}", ev(3)));
    assert!(labels.contains(&"ALERTING (in-band)".to_string()));
    assert!(labels.contains(&"CONNECT".to_string()));
    // The PSTN caller's media is the PBX's, with the PSTN's delay added.
    let caller = log.media_for(PartyRole::Caller).unwrap();
    assert!(caller.mouth_to_ear_ms.unwrap() > 15.0);
    assert_eq!(b.pbx().active_calls(), 0);
}

#[test]
fn lync_to_pstn_through_the_trunk_and_the_pri() {
    let mut b = bench(SIEMENS).build();
    b.place(1.0, LYNC, script(4, &ev(4), &pstn(9)));
    b.run(40.0);
    let _g = b.ladder_on_failure();
    let log = b.log(4);
    assert_eq!(log.outcome, CallOutcome::Answered);
    assert!(log.two_way_audio());
    let isdn = b.isdn();
    assert!(
        isdn.iter()
            .any(|(_, from_pbx, l)| *from_pbx && l == &format!("SETUP {}", pstn(9)))
    );
    assert!(
        isdn.iter()
            .any(|(_, from_pbx, l)| *from_pbx && l.starts_with("DISCONNECT"))
    );
    // The channel the PBX seized is free again.
    assert_eq!(b.h.world.tdm.group(b.pbx_port).busy(), 0);
}

#[test]
fn busy_and_no_answer_and_forwarding() {
    let mut b = bench(SIEMENS).build();
    let mut busy = script(5, &ev(1), &ext(5));
    busy.callee_action = AnswerAction::Busy;
    b.place(1.0, LYNC, busy);
    let mut na = script(6, &ev(2), &ext(6));
    na.callee_action = AnswerAction::NoAnswer;
    na.abandon_after = SimDuration::from_secs(15);
    b.place(1.0, LYNC, na);
    let mut cfb = script(7, &ev(3), &ext(7));
    cfb.callee_action = AnswerAction::Busy;
    cfb.forward = Some(ForwardScript {
        mode: ForwardMode::Busy,
        target: ev(9),
    });
    b.place(1.0, PSTN, cfb);
    b.run(60.0);
    let _g = b.ladder_on_failure();
    assert_eq!(b.log(5).outcome, CallOutcome::Busy);
    assert_eq!(b.log(5).final_status, Some(486));
    assert_eq!(b.log(6).outcome, CallOutcome::Abandoned);
    let fwd = b.log(7);
    assert_eq!(fwd.outcome, CallOutcome::Answered, "CFB to a Lync user");
    let invite = b
        .sip()
        .into_iter()
        .find(|m| m.is_request("INVITE") && m.first_line().contains(&ev(9)))
        .expect("forwarded INVITE to Lync");
    assert!(invite.header("Diversion").unwrap().contains("user-busy"));
}

#[test]
fn no_answer_goes_to_the_pbx_voicemail() {
    let mut b = bench(SIEMENS).build();
    let mut s = script(8, &ev(1), &ext(8));
    s.callee_action = AnswerAction::Voicemail {
        after: SimDuration::from_secs(5),
    };
    b.place(1.0, LYNC, s);
    b.run(40.0);
    let _g = b.ladder_on_failure();
    let log = b.log(8);
    assert_eq!(log.outcome, CallOutcome::Answered);
    let setup = log.answered_at.unwrap() - log.started_at;
    assert!(setup >= SimDuration::from_secs(5));
    assert!(log.two_way_audio());
}

#[test]
fn hunt_group_rings_the_first_idle_member() {
    let mut b = bench(SIEMENS)
        .spec(|s| {
            s.hunt_groups = vec![voicetwin::elements::pbx::HuntGroupSpec {
                pilot: ext(50),
                members: vec![ext(51), ext(52)],
            }]
        })
        .build();
    let mut first = script(9, &ev(1), &ext(51));
    first.holding = SimDuration::from_secs(30);
    b.place(1.0, LYNC, first);
    b.place(5.0, LYNC, script(10, &ev(2), &ext(50)));
    b.run(6.0);
    let _g = b.ladder_on_failure();
    assert_eq!(b.pbx().station(&ext(52)).unwrap().line, LineState::Ringing);
    b.run(60.0);
    assert_eq!(b.log(10).outcome, CallOutcome::Answered);
}
