//! The signalling behaviours of the vocabulary, each shown on the wire and in the call log
//! with its trigger on, and gone with the trigger off (another configuration, or a product
//! without the rule).

mod common;

use common::scenarios::*;
use common::*;
use voicetwin::elements::CallOutcome;
use voicetwin::vendor::{LyncSetting, PbxSetting, Setting, StatusCode};

const SIEMENS: &str = "siemens-openscape-voice-6";

fn pbx_response<'a>(sip: &'a [SipLine], method: &str) -> Vec<&'a SipLine> {
    sip.iter()
        .filter(|m| {
            m.sent_by_pbx()
                && m.first_line().starts_with("SIP/2.0")
                && m.cseq_method() == Some(method)
        })
        .collect()
}

#[test]
fn hold_fails_refuses_the_hold_reinvite() {
    let b = lync_holds_pbx_call("alcatel-oxe-r9.1", &[]);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    let invites = pbx_response(&sip, "INVITE");
    let refusal = invites
        .iter()
        .find(|m| m.is_response(488))
        .expect("488 to the hold");
    assert!(
        refusal
            .header("Warning")
            .unwrap()
            .contains("could not be put on hold")
    );
    assert_eq!(b.lync_log.borrow().modify_failed, vec![488]);
    let log = b.log(1);
    assert!(log.muted, "OXE-L1 leaves the client muted");
    assert!(log.limitations.contains("OXE-L1"));
    // The muted client sends no more RTP after the refusal (about 8 s after the start).
    let late_from_lync = b
        .media()
        .iter()
        .filter(|(t, s, _, p)| {
            *t > 9.0 && *s.ip() == MED_IP && s.port() % 2 == 0 && p[1] & 0x7f == 0
        })
        .count();
    assert_eq!(late_from_lync, 0);
    // Trigger off (inbound direction would be another call; here another product): 200.
    let ok = lync_holds_pbx_call(SIEMENS, &[]);
    let sip = ok.sip();
    assert!(
        pbx_response(&sip, "INVITE")
            .iter()
            .filter(|m| m.is_response(200))
            .count()
            >= 3
    );
    assert!(ok.lync_log.borrow().modify_failed.is_empty());
    assert!(!ok.log(1).muted);
}

#[test]
fn no_ringback_swallows_lyncs_180() {
    let b = inbound_call("alcatel-oxe-r9.1", &[], true);
    let _g = b.ladder_on_failure();
    assert!(
        b.sip()
            .iter()
            .any(|m| !m.sent_by_pbx() && m.is_response(180)),
        "Lync rang"
    );
    assert!(
        !b.isdn()
            .iter()
            .any(|(_, from_pbx, l)| *from_pbx && l.starts_with("ALERTING"))
    );
    let log = b.log(2);
    assert_eq!(log.ringback_at, None);
    assert!(log.limitations.contains("OXE-L3"));
    assert_eq!(log.outcome, CallOutcome::Answered);
    let ok = inbound_call(SIEMENS, &[], true);
    assert!(
        ok.isdn()
            .iter()
            .any(|(_, from_pbx, l)| *from_pbx && l.starts_with("ALERTING"))
    );
    assert!(ok.log(2).ringback_at.is_some());
}

#[test]
fn ringback_instead_of_early_media() {
    let b = inbound_simul_ring_early_media("avaya-aura-sm-6.3", &[bypass(true)]);
    let _g = b.ladder_on_failure();
    let isdn = b.isdn();
    assert!(isdn.iter().any(|(_, p, l)| *p && l == "ALERTING (in-band)"));
    assert!(!isdn.iter().any(|(_, p, l)| *p && l.starts_with("PROGRESS")));
    let log = b.log(3);
    assert_eq!(log.early_media_at, None);
    assert!(log.ringback_at.is_some());
    assert!(log.limitations.contains("AV63-L1"));
    // Early RTP arrived from Lync but the PBX played none of it to the PSTN caller.
    assert!(
        b.media()
            .iter()
            .any(|(t, s, _, _)| *t < 6.0 && *s.ip() == MED_IP)
    );
    let ok = inbound_simul_ring_early_media("avaya-aura-sm-6.3", &[]);
    assert!(
        ok.isdn()
            .iter()
            .any(|(_, p, l)| *p && l.starts_with("PROGRESS"))
    );
    assert!(ok.log(3).early_media_at.is_some());
}

#[test]
fn no_disconnect_on_decline_keeps_the_pstn_caller_up() {
    let b = pstn_call_declined("avaya-aura-sm-6.3", &[]);
    let _g = b.ladder_on_failure();
    assert!(b.sip().iter().any(|m| m.is_response(603)));
    let isdn = b.isdn();
    // No DISCONNECT from the PBX: the caller (overflow tone) hangs up after 20 s.
    assert!(
        !isdn
            .iter()
            .any(|(_, p, l)| *p && l.starts_with("DISCONNECT"))
    );
    assert!(
        isdn.iter()
            .any(|(t, p, l)| !*p && l.starts_with("DISCONNECT") && *t > 20.0)
    );
    let log = b.log(4);
    assert_eq!(log.outcome, CallOutcome::Abandoned);
    assert!(log.limitations.contains("AV63-L2"));
    let ok = pstn_call_declined(SIEMENS, &[]);
    assert!(
        ok.isdn()
            .iter()
            .any(|(_, p, l)| *p && l == "DISCONNECT (21 call rejected)")
    );
    assert_eq!(ok.log(4).outcome, CallOutcome::Declined);
}

#[test]
fn wrong_failover_code_sends_502_for_a_dead_span() {
    let b = outbound_with_span_down("alcatel-oxe-r9.1", &[], 1);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    assert!(
        pbx_response(&sip, "INVITE")
            .iter()
            .any(|m| m.is_response(502))
    );
    let log = b.log(5);
    assert_eq!(log.final_status, Some(502));
    assert!(log.limitations.contains("OXE-L6"));
    let c502 = StatusCode::new(502).unwrap();
    assert!(
        !b.pbx().engine().config().fails_over_on(c502),
        "Lync 2010 keeps the call failed"
    );
    let ok = outbound_with_span_down(SIEMENS, &[], 1);
    let sip = ok.sip();
    assert!(
        pbx_response(&sip, "INVITE")
            .iter()
            .any(|m| m.is_response(503))
    );
    assert_eq!(ok.log(5).final_status, Some(503));
}

#[test]
fn no_isdn_failover_refuses_when_the_assigned_t1_is_down() {
    let b = outbound_with_span_down("avaya-cm-ses-5.2.1", &[], 2);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    assert!(
        pbx_response(&sip, "INVITE")
            .iter()
            .any(|m| m.is_response(500))
    );
    assert!(b.isdn().is_empty(), "no SETUP on the second T1");
    assert!(b.log(5).limitations.contains("AVSES-L5"));
    let skip = Setting::Pbx(PbxSetting::SkipUnavailableSpans(true));
    let ok = outbound_with_span_down("avaya-cm-ses-5.2.1", &[skip], 2);
    assert_eq!(ok.log(5).outcome, CallOutcome::Answered);
    assert!(
        ok.isdn()
            .iter()
            .any(|(_, p, l)| *p && l.starts_with("SETUP"))
    );
}

#[test]
fn history_headers_dropped_toward_the_pstn() {
    let b = lync_forwards_to_pstn("cisco-ucm-8.6.2", &[], true, false);
    let _g = b.ladder_on_failure();
    let invite = b
        .sip()
        .into_iter()
        .find(|m| m.is_request("INVITE"))
        .unwrap();
    assert!(
        invite.header("History-Info").is_some(),
        "Lync sent the history"
    );
    let setup = b.isdn_log.borrow().iter().find_map(|(_, m)| match m {
        voicetwin::elements::tdm::IsdnMessage::Setup { redirecting, .. } => {
            Some(redirecting.clone())
        }
        _ => None,
    });
    assert_eq!(setup, Some(None), "no redirecting number in the SETUP");
    let log = b.log(6);
    assert!(log.limitations.contains("CU862-L3"));
    assert_eq!(log.outcome, CallOutcome::Failed, "the provider refused it");
    let ok = lync_forwards_to_pstn(SIEMENS, &[], true, false);
    let setup = ok.isdn_log.borrow().iter().find_map(|(_, m)| match m {
        voicetwin::elements::tdm::IsdnMessage::Setup { redirecting, .. } => {
            Some(redirecting.clone())
        }
        _ => None,
    });
    assert_eq!(setup, Some(Some(ev(6))));
    assert_eq!(ok.log(6).outcome, CallOutcome::Answered);
}

#[test]
fn history_info_breaks_pri_forwarding() {
    let fch = Setting::Lync(LyncSetting::ForwardCallHistory(true));
    let b = lync_forwards_to_pstn("avaya-aura-sm-6.1", std::slice::from_ref(&fch), true, false);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    assert!(
        pbx_response(&sip, "INVITE")
            .iter()
            .any(|m| m.is_response(500))
    );
    assert!(b.isdn().is_empty());
    assert!(b.log(6).limitations.contains("AV61-C1"));
    let ok = lync_forwards_to_pstn("avaya-aura-sm-6.1", &[], false, false);
    assert!(
        ok.isdn()
            .iter()
            .any(|(_, p, l)| *p && l.starts_with("SETUP"))
    );
}

#[test]
fn no_options_keepalive_learns_of_a_dead_trunk_only_by_timeout() {
    let b = call_to_dead_lync("cisco-ucm-7.0.1", &[]);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    assert!(!sip.iter().any(|m| m.is_request("OPTIONS")));
    let log = b.log(7);
    assert_eq!(
        log.outcome,
        CallOutcome::Answered,
        "the alternate route took it"
    );
    let delay = (log.answered_at.unwrap() - log.started_at).as_secs_f64();
    assert!(delay > 30.0, "INVITE timeout (Timer B) first: {delay}");
    assert_eq!(log.failovers, 1);
    let ok = call_to_dead_lync("cisco-ucm-8.6.2", &[]);
    assert!(ok.sip().iter().any(|m| m.is_request("OPTIONS")));
    assert!(ok.pbx().trunk_down());
    let log = ok.log(7);
    let delay = (log.answered_at.unwrap() - log.started_at).as_secs_f64();
    assert!(delay < 1.0, "skipped without a timeout: {delay}");
    assert!(
        !ok.sip()
            .iter()
            .any(|m| m.is_request("INVITE") && m.t > 99.0)
    );
}

#[test]
fn malformed_prack_has_no_max_forwards() {
    let b = reliable_early_media_from_lync("cisco-ucm-8.0.3", &[prack(true)]);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    let pracks: Vec<_> = sip.iter().filter(|m| m.is_request("PRACK")).collect();
    assert!(!pracks.is_empty());
    assert!(pracks.iter().all(|m| m.header("Max-Forwards").is_none()));
    assert!(
        sip.iter()
            .any(|m| !m.sent_by_pbx() && m.is_response(400) && m.cseq_method() == Some("PRACK"))
    );
    let log = b.log(8);
    assert_ne!(log.outcome, CallOutcome::Answered);
    assert!(log.limitations.contains("CU803-C1"));
    let ok = reliable_early_media_from_lync("cisco-ucm-8.0.3", &[]);
    assert!(!ok.sip().iter().any(|m| m.is_request("PRACK")));
    assert_eq!(ok.log(8).outcome, CallOutcome::Answered);
}

#[test]
fn fqdn_in_c_is_refused() {
    let fqdn = Setting::Lync(LyncSetting::SdpConnection(
        voicetwin::vendor::ConnectionAddress::Fqdn,
    ));
    let b = calls_with_sdp_address("avaya-aura-sm-6.0.1", std::slice::from_ref(&fqdn), true);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    assert!(
        pbx_response(&sip, "INVITE")
            .iter()
            .any(|m| m.is_response(488))
    );
    assert_ne!(b.log(9).outcome, CallOutcome::Answered);
    assert!(b.log(9).limitations.contains("AV601-L1"));
    // The answer with an FQDN is refused too: ACK, then BYE.
    assert_ne!(b.log(10).outcome, CallOutcome::Answered);
    let ok = calls_with_sdp_address("avaya-aura-sm-6.0.1", &[], false);
    assert_eq!(ok.log(9).outcome, CallOutcome::Answered);
    assert_eq!(ok.log(10).outcome, CallOutcome::Answered);
}

#[test]
fn alternate_route_timer_cancels_a_ringing_lync_call() {
    let b = slow_answer_with_alternate_route("avaya-cm-ses-5.2.1", &[], true);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    let cancel = sip.iter().find(|m| m.is_request("CANCEL")).expect("CANCEL");
    assert!(
        (cancel.t - 11.0).abs() < 0.1,
        "10 s after the INVITE: {}",
        cancel.t
    );
    let log = b.log(11);
    assert!(log.limitations.contains("AVSES-C1"));
    assert_eq!(log.failovers, 1);
    assert!(
        log.answered_at.unwrap().as_secs_f64() < 12.0,
        "the voicemail took it"
    );
    let ok = slow_answer_with_alternate_route("avaya-cm-ses-5.2.1", &[], false);
    assert!(!ok.sip().iter().any(|m| m.is_request("CANCEL")));
    assert!(
        ok.log(11).answered_at.unwrap().as_secs_f64() > 15.0,
        "Lync answered"
    );
}

#[test]
fn history_headers_dropped_toward_a_sip_provider() {
    let run = |model: &str| {
        let mut b = bench(model)
            .provider()
            .lync(|l| l.history_info = true)
            .build();
        let mut s = script(6, &pstn(9), &ev(6));
        s.dialled = pstn(60);
        s.forward = Some(voicetwin::elements::script::ForwardScript {
            mode: voicetwin::elements::script::ForwardMode::All,
            target: pstn(60),
        });
        b.place(1.0, LYNC, s);
        b.run(40.0);
        b
    };
    let b = run("cisco-ucm-8.6.2");
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    let from_lync = sip
        .iter()
        .find(|m| m.is_request("INVITE") && !m.sent_by_pbx())
        .unwrap();
    assert!(from_lync.header("History-Info").is_some());
    let to_provider = sip
        .iter()
        .find(|m| m.is_request("INVITE") && *m.dst.ip() == PROV_IP)
        .expect("INVITE to the provider");
    assert!(to_provider.header("History-Info").is_none());
    assert!(b.log(6).limitations.contains("CU862-L3"));
    let ok = run(SIEMENS);
    let sip = ok.sip();
    let to_provider = sip
        .iter()
        .find(|m| m.is_request("INVITE") && *m.dst.ip() == PROV_IP)
        .unwrap();
    assert!(to_provider.header("History-Info").unwrap().contains(&ev(6)));
    assert_eq!(ok.log(6).outcome, CallOutcome::Answered);
}
