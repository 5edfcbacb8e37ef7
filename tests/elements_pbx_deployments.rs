//! Deployment behaviours of the PBX: dual forking and remote call control (Nortel CS 1000),
//! the Cisco UCM 6.1.1 precondition, transports and ports per model, SIP trunk capacity,
//! anonymous calls.

mod common;

use common::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::pbx::LineState;
use voicetwin::elements::script::AnswerAction;
use voicetwin::sim::SimDuration;
use voicetwin::vendor::{Deployment, EncryptionLevel, LyncSetting, Setting, SipTransport};

const NORTEL: &str = "nortel-cs1000";

fn dual(rcc: bool) -> BenchBuilder {
    bench(NORTEL).spec(|s| {
        s.deployment = if rcc {
            Deployment::DualForkingWithRcc
        } else {
            Deployment::DualForking
        }
    })
}

#[test]
fn dual_forking_phone_answers_first_and_lync_is_cancelled() {
    let mut b = dual(false)
        .lync(|l| l.answer_after = Some(SimDuration::from_secs(6)))
        .build();
    b.place(1.0, PSTN, script(1, &pstn(1), &ext(1)));
    b.run(2.0);
    let _g0 = b.ladder_on_failure();
    assert_eq!(b.pbx().station(&ext(1)).unwrap().line, LineState::Ringing);
    assert!(
        b.sip()
            .iter()
            .any(|m| m.is_request("INVITE") && m.first_line().contains(&ext(1)))
    );
    b.run(40.0);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    let cancel = sip
        .iter()
        .find(|m| m.sent_by_pbx() && m.is_request("CANCEL"))
        .expect("CANCEL to Lync");
    assert!(
        (cancel.t - 3.0).abs() < 0.1,
        "when the phone answered: {}",
        cancel.t
    );
    let log = b.log(1);
    assert_eq!(log.outcome, CallOutcome::Answered);
    assert!(log.two_way_audio());
    assert_eq!(
        b.pbx().station(&ext(1)).unwrap().last_display,
        Some(pstn(1))
    );
}

#[test]
fn dual_forking_lync_answers_first_and_the_phone_stops_ringing() {
    let mut b = dual(false)
        .lync(|l| l.answer_after = Some(SimDuration::from_secs(1)))
        .build();
    let mut s = script(2, &pstn(1), &ext(2));
    s.callee_action = AnswerAction::Answer {
        after: SimDuration::from_secs(8),
    };
    b.place(1.0, PSTN, s);
    b.run(4.0);
    let _g = b.ladder_on_failure();
    let phone = b.pbx().station(&ext(2)).unwrap().clone();
    assert_eq!(phone.line, LineState::Idle, "the phone leg was cancelled");
    b.run(40.0);
    let log = b.log(2);
    assert_eq!(log.outcome, CallOutcome::Answered);
    let answered = log.answered_at.unwrap().as_secs_f64();
    assert!(answered < 3.0, "Lync took it: {answered}");
    assert!(log.two_way_audio());
    assert!(!b.sip().iter().any(|m| m.is_request("CANCEL")));
}

#[test]
fn rcc_reports_the_line_states_to_the_lync_side() {
    let mut b = dual(true)
        .lync(|l| l.answer_after = Some(SimDuration::from_secs(9)))
        .build();
    b.place(1.0, PSTN, script(3, &pstn(1), &ext(3)));
    b.run(40.0);
    let _g = b.ladder_on_failure();
    let states: Vec<LineState> = b.pbx().rcc_log().iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [LineState::Ringing, LineState::Busy, LineState::Idle]
    );
    let notifies: Vec<SipLine> = b
        .sip()
        .into_iter()
        .filter(|m| m.sent_by_pbx() && m.is_request("NOTIFY"))
        .collect();
    assert_eq!(notifies.len(), 3);
    assert_eq!(notifies[0].header("Event"), Some("dialog"));
    assert!(notifies[0].text.contains("<state>early</state>"));
    assert!(notifies[1].text.contains("<state>confirmed</state>"));
    assert!(notifies[2].text.contains("<state>terminated</state>"));
    assert_eq!(b.pbx().report().rcc_notifies, 3);
    // Without RCC, no reports.
    let mut plain = dual(false).build();
    plain.place(1.0, PSTN, script(3, &pstn(1), &ext(3)));
    plain.run(40.0);
    assert!(plain.pbx().rcc_log().is_empty());
    assert!(!plain.sip().iter().any(|m| m.is_request("NOTIFY")));
}

#[test]
fn cisco_611_without_the_mediation_update_is_unsupported() {
    let err = bench("cisco-ucm-6.1.1")
        .factory()
        .try_build()
        .err()
        .expect("refused");
    assert_eq!(err.field, "settings");
    assert!(err.message.contains("unsupported configuration"), "{err}");
    assert!(err.message.contains("August 2008"), "{err}");
    assert!(
        bench("cisco-ucm-6.1.1").try_build().is_ok(),
        "the recommended config has it"
    );
    let nortel = dual(false).factory().try_build().err().expect("refused");
    assert!(nortel.message.contains("unsupported configuration"));
    let wrong = bench(NORTEL).try_build().err().expect("refused");
    assert_eq!(wrong.field, "deployment");
}

#[test]
fn mx_one_runs_tcp_5060_to_5068_and_tls_5061_to_5067() {
    let mut tcp = bench("aastra-mx-one-4.1").build();
    tcp.place(1.0, PBX, script(4, &ext(4), &ev(4)));
    tcp.run(30.0);
    let invite = tcp
        .sip()
        .into_iter()
        .find(|m| m.is_request("INVITE"))
        .unwrap();
    assert_eq!((invite.src.port(), invite.dst.port()), (5060, 5068));
    assert!(invite.header("Via").unwrap().contains("TCP"));
    assert_eq!(tcp.log(4).outcome, CallOutcome::Answered);
    let tls = [
        Setting::Lync(LyncSetting::Transport(SipTransport::Tls)),
        Setting::Lync(LyncSetting::GatewayPort(5061)),
        Setting::Lync(LyncSetting::MediationPort(5067)),
        Setting::Lync(LyncSetting::Encryption(EncryptionLevel::Required)),
        Setting::Lync(LyncSetting::MediaBypass(true)),
    ];
    let mut b = bench("aastra-mx-one-4.1");
    for s in tls {
        b = b.set(s);
    }
    let mut tls = b.build();
    tls.place(1.0, PBX, script(4, &ext(4), &ev(4)));
    tls.run(30.0);
    let _g = tls.ladder_on_failure();
    let invite = tls
        .sip()
        .into_iter()
        .find(|m| m.is_request("INVITE"))
        .unwrap();
    assert_eq!((invite.src.port(), invite.dst.port()), (5061, 5067));
    assert!(invite.header("Via").unwrap().contains("TLS"));
    assert_eq!(tls.log(4).outcome, CallOutcome::Answered);
    // Bypass over TCP breaks the model's precondition (TLS and SRTP required).
    let err = bench("aastra-mx-one-4.1")
        .set(Setting::Lync(LyncSetting::MediaBypass(true)))
        .try_build()
        .err()
        .expect("refused");
    assert!(err.message.contains("unsupported configuration"));
}

#[test]
fn sip_trunk_licences_limit_concurrent_calls() {
    let mut b = bench("siemens-openscape-voice-6")
        .spec(|s| s.sip_trunk_calls = Some(2))
        .build();
    for i in 0..3 {
        b.place(
            1.0 + f64::from(i) * 0.1,
            LYNC,
            script(10 + u64::from(i), &ev(i), &ext(i)),
        );
    }
    b.run(40.0);
    let _g = b.ladder_on_failure();
    assert_eq!(b.log(10).outcome, CallOutcome::Answered);
    assert_eq!(b.log(11).outcome, CallOutcome::Answered);
    let third = b.log(12);
    assert_eq!(third.outcome, CallOutcome::RejectedCapacity);
    assert_eq!(third.final_status, Some(503));
    assert_eq!(b.pbx().report().rejected_capacity, 1);
}

#[test]
fn anonymous_pstn_caller_reaches_lync_with_privacy() {
    let mut b = bench("siemens-openscape-voice-6").build();
    let mut s = script(20, &pstn(3), &ev(3));
    s.anonymous = true;
    b.place(1.0, PSTN, s);
    b.run(30.0);
    let _g = b.ladder_on_failure();
    let invite = b
        .sip()
        .into_iter()
        .find(|m| m.is_request("INVITE"))
        .unwrap();
    assert!(invite.header("From").unwrap().contains("anonymous"));
    assert_eq!(invite.header("Privacy"), Some("id"));
    assert_eq!(b.log(20).outcome, CallOutcome::Answered);
}

#[test]
fn same_seed_same_wire() {
    let run = || {
        let mut b = bench("alcatel-oxe-r9.1").build();
        b.place(1.0, PSTN, script(1, &pstn(1), &ev(1)));
        b.place(1.5, LYNC, script(2, &ev(2), &ext(2)));
        b.place(2.0, PBX, script(3, &ext(3), &pstn(3)));
        b.run(40.0);
        (b.ladder(), b.media().len())
    };
    assert_eq!(run(), run());
}

#[test]
fn session_timers_follow_the_trunk_configuration() {
    let mut b = bench("avaya-aura-sm-6.3").build();
    b.place(1.0, PBX, script(30, &ext(1), &ev(1)));
    b.run(30.0);
    let invite = b
        .sip()
        .into_iter()
        .find(|m| m.is_request("INVITE"))
        .unwrap();
    assert_eq!(invite.header("Session-Expires"), Some("1800"));
    let mut plain = bench("alcatel-oxe-r9.1").build();
    plain.place(1.0, PBX, script(30, &ext(1), &ev(1)));
    plain.run(30.0);
    let invite = plain
        .sip()
        .into_iter()
        .find(|m| m.is_request("INVITE"))
        .unwrap();
    assert_eq!(invite.header("Session-Expires"), None);
}

#[test]
fn a_pbx_phone_holds_and_resumes() {
    let mut b = bench("siemens-openscape-voice-6").build();
    let mut s = script(31, &ext(1), &ev(1));
    s.hold = Some(voicetwin::elements::script::HoldScript {
        after: SimDuration::from_secs(5),
        duration: SimDuration::from_secs(4),
        by_caller: true,
    });
    b.place(1.0, PBX, s);
    b.run(40.0);
    let _g = b.ladder_on_failure();
    let reinvites: Vec<SipLine> = b
        .sip()
        .into_iter()
        .filter(|m| m.sent_by_pbx() && m.is_request("INVITE"))
        .collect();
    assert_eq!(reinvites.len(), 3, "INVITE, hold, resume");
    assert!(reinvites[1].text.contains("a=sendonly"));
    assert!(reinvites[2].text.contains("a=sendrecv"));
    assert_eq!(b.log(31).outcome, CallOutcome::Answered);
}

#[test]
fn a_gateway_model_cannot_drive_the_pbx() {
    let err = bench("audiocodes-mediant-1000")
        .try_build()
        .err()
        .expect("refused");
    assert_eq!(err.field, "model");
}

#[test]
fn a_failed_pbx_drops_its_calls_and_comes_back() {
    let mut b = bench("siemens-openscape-voice-6").build();
    b.place(1.0, PBX, script(40, &ext(1), &ev(1)));
    b.command(5.0, PBX, voicetwin::elements::Command::Fail);
    b.command(10.0, PBX, voicetwin::elements::Command::Repair);
    b.place(12.0, PBX, script(41, &ext(2), &ev(2)));
    b.run(60.0);
    let _g = b.ladder_on_failure();
    // The crash lost call 40 without a word to Lync (whose side stays up until a session
    // timer or a hang-up); the restarted PBX carries new calls.
    assert!(!b.finished(40));
    assert_eq!(b.pbx().station(&ext(1)).unwrap().line, LineState::Idle);
    assert_eq!(b.log(41).outcome, CallOutcome::Answered);
    assert_eq!(b.pbx().active_calls(), 0);
}
