//! One regression test per limitation ID that the PBX alone (with the Lync side and the
//! PSTN as test stand-ins) can show. Each runs the product's model with the trigger
//! configuration and checks the documented symptom on the wire and in the call log; then
//! applies the documented workaround and checks the symptom is gone, or, where the source
//! gives no workaround, says so (the rule's `None` workaround) and checks that the
//! recommended configuration still shows it.

mod common;

use common::scenarios::*;
use common::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::callbook::PartyRole;
use voicetwin::vendor::{
    ConnectionAddress, LimitationRule, LyncServer, LyncSetting, PbxSetting,
    ResponseCodeTranslation, Setting, SoftwareVersion, StatusCode,
};

fn rule(model: &str, id: &str) -> LimitationRule {
    voicetwin::vendor::lookup(model)
        .unwrap()
        .rule(id)
        .unwrap_or_else(|| panic!("{model} has no rule {id}"))
        .clone()
}

/// The source gives no workaround for this limitation: the test says so by checking it.
fn no_workaround(model: &str, id: &str) {
    let r = rule(model, id);
    assert!(!r.workaround.exists(), "{id}: {}", r.workaround.text());
}

/// The workaround's settings, as the model declares them.
fn workaround(model: &str, id: &str) -> Vec<Setting> {
    let r = rule(model, id);
    assert!(r.workaround.exists(), "{id} has a workaround");
    r.workaround.settings()
}

fn pbx_sent(b: &Bench, status: u16) -> bool {
    b.sip()
        .iter()
        .any(|m| m.sent_by_pbx() && m.is_response(status))
}

// ---- comfort noise ------------------------------------------------------------------

fn no_comfort_noise(model: &str, id: &str) {
    let b = basic_outbound_from_pbx(model, &[]);
    let _g = b.ladder_on_failure();
    let offer = b
        .sip()
        .into_iter()
        .find(|m| m.is_request("INVITE"))
        .unwrap();
    assert!(!offer.text.contains("CN/8000"));
    assert_eq!(b.rtp_from(PBX_IP, 13), 0);
    let log = b.log(12);
    assert!(log.limitations.contains(id));
    assert!(
        !log.media_for(PartyRole::Callee)
            .unwrap()
            .comfort_noise_played
    );
    assert_eq!(
        b.pbx().report().limitations.get(id),
        Some(&1),
        "counted once per call"
    );
    no_workaround(model, id);
}

#[test]
fn av61_l2_no_comfort_noise() {
    no_comfort_noise("avaya-aura-sm-6.1", "AV61-L2");
}
#[test]
fn cu862_l1_no_comfort_noise() {
    no_comfort_noise("cisco-ucm-8.6.2", "CU862-L1");
}
#[test]
fn cu701_l2_no_comfort_noise() {
    no_comfort_noise("cisco-ucm-7.0.1", "CU701-L2");
}
#[test]
fn oxe_l4_no_comfort_noise() {
    no_comfort_noise("alcatel-oxe-r9.1", "OXE-L4");
}
#[test]
fn av601_l2_no_comfort_noise() {
    no_comfort_noise("avaya-aura-sm-6.0.1", "AV601-L2");
}
#[test]
fn avses_l4_no_comfort_noise() {
    no_comfort_noise("avaya-cm-ses-5.2.1", "AVSES-L4");
}
#[test]
fn cu851_l1_no_comfort_noise() {
    no_comfort_noise("cisco-ucm-8.5.1", "CU851-L1");
}
#[test]
fn cu803_l1_no_comfort_noise() {
    no_comfort_noise("cisco-ucm-8.0.3", "CU803-L1");
}
#[test]
fn cu4x_l2_no_comfort_noise() {
    no_comfort_noise("cisco-ucm-4.2-7.1.3", "CU4x-L2");
}

// ---- IVR early media on forward --------------------------------------------------------

fn no_ivr_early_media(model: &str, id: &str) {
    let b = lync_forwards_to_pstn(model, &[], true, true);
    let _g = b.ladder_on_failure();
    assert!(pbx_sent(&b, 180) && !pbx_sent(&b, 183));
    let log = b.log(6);
    assert!(log.limitations.contains(id));
    assert_eq!(log.early_media_at, None);
    assert_eq!(log.outcome, CallOutcome::Answered);
    no_workaround(model, id);
}

#[test]
fn cu862_l2_no_ivr_early_media_on_forward() {
    no_ivr_early_media("cisco-ucm-8.6.2", "CU862-L2");
}
#[test]
fn cu701_l3_no_ivr_early_media_on_forward() {
    no_ivr_early_media("cisco-ucm-7.0.1", "CU701-L3");
}
#[test]
fn cu851_l2_no_ivr_early_media_on_forward() {
    no_ivr_early_media("cisco-ucm-8.5.1", "CU851-L2");
}
#[test]
fn cu803_l2_no_ivr_early_media_on_forward() {
    no_ivr_early_media("cisco-ucm-8.0.3", "CU803-L2");
}
#[test]
fn cu4x_l3_no_ivr_early_media_on_forward() {
    no_ivr_early_media("cisco-ucm-4.2-7.1.3", "CU4x-L3");
}

// ---- display after transfer ------------------------------------------------------------

fn stale_display(model: &str, id: &str) {
    let mut b = lync_transfers(model, &[], (PBX, ext(1)), ev(1), ext(2), true, false);
    b.run(15.0);
    let _g = b.ladder_on_failure();
    let shows = b.pbx().station(&ext(1)).unwrap().display.clone();
    assert_eq!(
        shows,
        Some(ev(1)),
        "the PBX phone still shows the first Lync user"
    );
    b.run(90.0);
    assert!(b.log(16).limitations.contains(id));
    no_workaround(model, id);
}

#[test]
fn cu701_l1_display_stale_after_transfer() {
    stale_display("cisco-ucm-7.0.1", "CU701-L1");
}
#[test]
fn avses_l1_display_stale_after_transfer() {
    stale_display("avaya-cm-ses-5.2.1", "AVSES-L1");
}
#[test]
fn cu4x_l1_display_stale_after_transfer() {
    stale_display("cisco-ucm-4.2-7.1.3", "CU4x-L1");
}

// ---- malformed PRACK -------------------------------------------------------------------

fn malformed_prack(model: &str, id: &str) {
    let b = reliable_early_media_from_lync(model, &[prack(true)]);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    assert!(
        sip.iter()
            .any(|m| m.is_request("PRACK") && m.header("Max-Forwards").is_none())
    );
    assert!(sip.iter().any(|m| !m.sent_by_pbx() && m.is_response(504)));
    let log = b.log(8);
    assert_eq!(
        (log.outcome, log.final_status),
        (CallOutcome::Failed, Some(504))
    );
    assert!(log.limitations.contains(id));
    let fixed = reliable_early_media_from_lync(model, &workaround(model, id));
    assert_eq!(fixed.log(8).outcome, CallOutcome::Answered);
    assert!(!fixed.sip().iter().any(|m| m.is_request("PRACK")));
}

#[test]
fn cu803_c1_malformed_prack_fails_the_call() {
    malformed_prack("cisco-ucm-8.0.3", "CU803-C1");
}
#[test]
fn cu4x_c1_malformed_prack_fails_the_call() {
    malformed_prack("cisco-ucm-4.2-7.1.3", "CU4x-C1");
}

// ---- the rest, one by one ---------------------------------------------------------------

#[test]
fn av61_c1_history_info_breaks_forwarding_at_the_pri() {
    let m = "avaya-aura-sm-6.1";
    let fch = Setting::Lync(LyncSetting::ForwardCallHistory(true));
    let b = lync_forwards_to_pstn(m, &[fch], true, false);
    let _g = b.ladder_on_failure();
    assert!(pbx_sent(&b, 500));
    let log = b.log(6);
    assert_eq!(log.outcome, CallOutcome::Failed);
    assert!(log.limitations.contains("AV61-C1"));
    // Workaround: ForwardCallHistory off, so Lync sends no History-Info.
    assert_eq!(
        workaround(m, "AV61-C1"),
        [Setting::Lync(LyncSetting::ForwardCallHistory(false))]
    );
    let fixed = lync_forwards_to_pstn(m, &workaround(m, "AV61-C1"), false, false);
    assert!(!pbx_sent(&fixed, 500));
    assert!(
        fixed
            .isdn()
            .iter()
            .any(|(_, p, l)| *p && l.starts_with("SETUP"))
    );
}

#[test]
fn av61_l1_hold_fails_with_media_bypass() {
    let m = "avaya-aura-sm-6.1";
    let b = lync_holds_pbx_call(m, &[bypass(true)]);
    let _g = b.ladder_on_failure();
    assert!(pbx_sent(&b, 488));
    assert_eq!(b.lync_log.borrow().modify_failed, [488]);
    let log = b.log(1);
    assert!(log.limitations.contains("AV61-L1"));
    assert!(!log.muted);
    let fixed = lync_holds_pbx_call(m, &workaround(m, "AV61-L1"));
    assert!(fixed.lync_log.borrow().modify_failed.is_empty());
    assert!(!fixed.log(1).limitations.contains("AV61-L1"));
}

#[test]
fn av63_l1_ringback_instead_of_simul_ring_early_media() {
    let m = "avaya-aura-sm-6.3";
    let b = inbound_simul_ring_early_media(m, &[bypass(true)]);
    let _g = b.ladder_on_failure();
    let log = b.log(3);
    assert!(log.limitations.contains("AV63-L1"));
    assert!(log.ringback_at.is_some() && log.early_media_at.is_none());
    let fixed = inbound_simul_ring_early_media(m, &workaround(m, "AV63-L1"));
    assert!(fixed.log(3).early_media_at.is_some());
}

#[test]
fn av63_l2_603_leaves_the_pstn_caller_up() {
    let m = "avaya-aura-sm-6.3";
    let b = pstn_call_declined(m, &[]);
    let _g = b.ladder_on_failure();
    assert!(
        b.isdn()
            .iter()
            .any(|(_, p, l)| *p && l.starts_with("PROGRESS")),
        "overflow tone in-band"
    );
    assert!(
        !b.isdn()
            .iter()
            .any(|(_, p, l)| *p && l.starts_with("DISCONNECT"))
    );
    let log = b.log(4);
    assert_eq!(log.outcome, CallOutcome::Abandoned);
    assert!(log.limitations.contains("AV63-L2"));
    no_workaround(m, "AV63-L2");
}

#[test]
fn cu862_l3_history_not_passed_toward_providers() {
    let m = "cisco-ucm-8.6.2";
    let b = lync_forwards_to_pstn(m, &[], true, false);
    let _g = b.ladder_on_failure();
    let log = b.log(6);
    assert!(log.limitations.contains("CU862-L3"));
    assert_eq!(
        log.outcome,
        CallOutcome::Failed,
        "a provider that needs history refuses it"
    );
    no_workaround(m, "CU862-L3");
}

#[test]
fn cu701_l4_no_options_delays_failover() {
    let m = "cisco-ucm-7.0.1";
    let b = call_to_dead_lync(m, &[]);
    let _g = b.ladder_on_failure();
    assert!(!b.sip().iter().any(|m| m.is_request("OPTIONS")));
    let log = b.log(7);
    let wait = (log.answered_at.unwrap() - log.started_at).as_secs_f64();
    assert!(wait > 30.0, "{wait}");
    no_workaround(m, "CU701-L4");
}

#[test]
fn oxe_c1_inbound_media_bypass_broken() {
    let m = "alcatel-oxe-r9.1";
    let b = inbound_with_bypass_media(m, &[bypass(true)], true);
    let _g = b.ladder_on_failure();
    let log = b.log(14);
    assert!(log.limitations.contains("OXE-C1"));
    assert!(!log.two_way_audio());
    let fixed = inbound_with_bypass_media(m, &workaround(m, "OXE-C1"), false);
    assert!(fixed.log(14).two_way_audio());
}

#[test]
fn oxe_l1_hold_leaves_the_lync_client_muted() {
    let m = "alcatel-oxe-r9.1";
    let b = lync_holds_pbx_call(m, &[]);
    let _g = b.ladder_on_failure();
    assert!(pbx_sent(&b, 488));
    assert_eq!(b.lync_log.borrow().muted, 1);
    let log = b.log(1);
    assert!(log.muted && log.limitations.contains("OXE-L1"));
    no_workaround(m, "OXE-L1");
}

#[test]
fn oxe_l2_blind_transfer_unrecoverable_and_display_stale() {
    let m = "alcatel-oxe-r9.1";
    // Target does not answer: the PSTN caller is cut off at the transfer recall.
    let mut b = lync_transfers(
        m,
        &[refer(true)],
        (PSTN, pstn(1)),
        ev(1),
        ext(3),
        false,
        true,
    );
    b.run(60.0);
    let _g = b.ladder_on_failure();
    assert!(
        b.isdn()
            .iter()
            .any(|(t, p, l)| *p && l.starts_with("DISCONNECT") && *t < 40.0)
    );
    assert!(b.log(16).limitations.contains("OXE-L2"));
    // Target answers: the PBX phone still shows the first Lync user.
    let mut b = lync_transfers(m, &[refer(true)], (PBX, ext(1)), ev(1), ext(2), true, true);
    b.run(15.0);
    assert_eq!(b.pbx().station(&ext(1)).unwrap().display, Some(ev(1)));
    no_workaround(m, "OXE-L2");
}

#[test]
fn oxe_l3_no_ringback_while_lync_rings() {
    let m = "alcatel-oxe-r9.1";
    for from_pstn in [true, false] {
        let b = inbound_call(m, &[], from_pstn);
        let _g = b.ladder_on_failure();
        let log = b.log(2);
        assert_eq!(log.ringback_at, None, "from PSTN: {from_pstn}");
        assert!(log.limitations.contains("OXE-L3"));
    }
    no_workaround(m, "OXE-L3");
}

#[test]
fn oxe_l5_declined_pstn_caller_hears_ringback() {
    let m = "alcatel-oxe-r9.1";
    let b = pstn_call_declined(m, &[]);
    let _g = b.ladder_on_failure();
    assert!(
        b.isdn()
            .iter()
            .any(|(_, p, l)| *p && l == "ALERTING (in-band)")
    );
    assert!(
        !b.isdn()
            .iter()
            .any(|(_, p, l)| *p && l.starts_with("DISCONNECT"))
    );
    let log = b.log(4);
    assert_eq!(log.outcome, CallOutcome::Abandoned);
    assert!(log.ringback_at.is_some());
    assert!(log.limitations.contains("OXE-L5"));
    no_workaround(m, "OXE-L5");
}

#[test]
fn oxe_l6_502_blocks_failover() {
    let m = "alcatel-oxe-r9.1";
    let b = outbound_with_span_down(m, &[], 1);
    let _g = b.ladder_on_failure();
    assert!(pbx_sent(&b, 502));
    let log = b.log(5);
    assert_eq!(log.final_status, Some(502));
    assert!(log.limitations.contains("OXE-L6"));
    let c502 = StatusCode::new(502).unwrap();
    assert!(!b.pbx().engine().config().fails_over_on(c502));
    no_workaround(m, "OXE-L6");
    // The Lync 2013 what-if: the PBX still sends 502, and Lync's translation rule turns it
    // into a failover code. (Failing over to the second gateway is the Front End's.)
    let what_if = rule(m, "OXE-L6").workaround.what_if().unwrap().set.clone();
    assert!(what_if.contains(&Setting::Lync(LyncSetting::Server(LyncServer::Lync2013))));
    assert!(
        what_if.contains(&Setting::Lync(LyncSetting::TranslateResponseCode(
            ResponseCodeTranslation {
                from: c502,
                to: StatusCode::new(503).unwrap(),
            }
        )))
    );
    let b = outbound_with_span_down(m, &what_if, 1);
    assert!(pbx_sent(&b, 502));
    assert!(b.pbx().engine().config().fails_over_on(c502));
}

#[test]
fn av601_l1_fqdn_in_the_connection_line() {
    let m = "avaya-aura-sm-6.0.1";
    let fqdn = Setting::Lync(LyncSetting::SdpConnection(ConnectionAddress::Fqdn));
    let b = calls_with_sdp_address(m, &[fqdn], true);
    let _g = b.ladder_on_failure();
    assert!(pbx_sent(&b, 488));
    assert!(b.log(9).limitations.contains("AV601-L1"));
    let fixed = calls_with_sdp_address(m, &workaround(m, "AV601-L1"), false);
    assert_eq!(fixed.log(9).outcome, CallOutcome::Answered);
}

#[test]
fn av601_l3_voicemail_audio_cut() {
    let m = "avaya-aura-sm-6.0.1";
    let b = call_to_pbx_voicemail(m, &[]);
    let _g = b.ladder_on_failure();
    let log = b.log(15);
    let talk = (log.ended_at.unwrap() - log.answered_at.unwrap()).as_secs_f64();
    assert!(talk < 4.0, "partial audio then disconnection: {talk}");
    assert!(log.limitations.contains("AV601-L3"));
    no_workaround(m, "AV601-L3");
}

#[test]
fn avses_c1_alternate_route_timer_of_10_s_reroutes() {
    let m = "avaya-cm-ses-5.2.1";
    let b = slow_answer_with_alternate_route(m, &[], true);
    let _g = b.ladder_on_failure();
    assert!(b.sip().iter().any(|m| m.is_request("CANCEL")));
    assert!(b.log(11).limitations.contains("AVSES-C1"));
    assert_eq!(
        workaround(m, "AVSES-C1"),
        [Setting::Pbx(PbxSetting::AlternateRouteTimer(30))]
    );
    let fixed = slow_answer_with_alternate_route(m, &workaround(m, "AVSES-C1"), true);
    assert!(!fixed.sip().iter().any(|m| m.is_request("CANCEL")));
    assert!(fixed.log(11).answered_at.unwrap().as_secs_f64() > 15.0);
}

#[test]
fn avses_l2_no_ringback_before_5_2_1_sp1() {
    let m = "avaya-cm-ses-5.2.1";
    let b = inbound_call(m, &[], true);
    let _g = b.ladder_on_failure();
    assert_eq!(b.log(2).ringback_at, None);
    assert!(b.log(2).limitations.contains("AVSES-L2"));
    let up = workaround(m, "AVSES-L2");
    assert_eq!(
        up,
        [Setting::Pbx(PbxSetting::Version(
            SoftwareVersion::parse("5.2.1 SP1").unwrap()
        ))]
    );
    let fixed = inbound_call(m, &up, true);
    assert!(fixed.log(2).ringback_at.is_some());
}

#[test]
fn avses_l3_monitoring_without_jitter_or_loss() {
    let m = "avaya-cm-ses-5.2.1";
    let b = basic_outbound_from_pbx(m, &[]);
    let _g = b.ladder_on_failure();
    assert_eq!(b.rtcp_from(PBX_IP), 0);
    let log = b.log(12);
    assert_eq!(
        log.media_for(PartyRole::Callee).unwrap().monitor_jitter_ms,
        None
    );
    assert!(log.limitations.contains("AVSES-L3"));
    no_workaround(m, "AVSES-L3");
}

#[test]
fn avses_l5_no_isdn_failover() {
    let m = "avaya-cm-ses-5.2.1";
    let b = outbound_with_span_down(m, &[], 2);
    let _g = b.ladder_on_failure();
    assert!(pbx_sent(&b, 500));
    assert!(b.log(5).limitations.contains("AVSES-L5"));
    no_workaround(m, "AVSES-L5");
    let what_if = rule(m, "AVSES-L5")
        .workaround
        .what_if()
        .unwrap()
        .set
        .clone();
    let b = outbound_with_span_down(m, &what_if, 2);
    assert_eq!(b.log(5).outcome, CallOutcome::Answered);
}

fn no_ringback_in_transfer(
    id: &str,
    origin: (voicetwin::elements::ElementId, String),
    target: String,
) {
    let m = "aastra-mx-one-4.1";
    let mut b = lync_transfers(
        m,
        &[refer(true)],
        origin.clone(),
        ev(1),
        target.clone(),
        true,
        true,
    );
    b.run(90.0);
    let _g = b.ladder_on_failure();
    let log = b.log(16);
    assert!(log.limitations.contains(id), "{:?}", log.limitations);
    assert_eq!(
        log.outcome,
        CallOutcome::Answered,
        "two-way audio after answer"
    );
    // The transferee heard no ringback: no in-band PROGRESS, no tone at its phone.
    let refer_at = b.sip().iter().find(|m| m.is_request("REFER")).unwrap().t;
    assert!(
        !b.isdn()
            .iter()
            .any(|(t, p, l)| *p && *t > refer_at && l.starts_with("PROGRESS"))
    );
    if let Some(st) = b.pbx().station(&origin.1) {
        assert!(!st.tones.iter().any(|(t, _)| t.as_secs_f64() > refer_at));
    }
    // Workaround: REFER disabled; Lync transfers by itself and the rule no longer acts.
    let w = workaround(m, id);
    assert_eq!(w, [refer(false)]);
    let mut fixed = lync_transfers(m, &w, origin, ev(1), target, true, false);
    fixed.run(90.0);
    assert!(!fixed.log(16).limitations.contains(id));
}

#[test]
fn mx_l1_no_ringback_on_inbound_transfer_to_pstn() {
    no_ringback_in_transfer("MX-L1", (PSTN, pstn(1)), pstn(2));
}

#[test]
fn mx_l2_no_ringback_on_outbound_blind_transfer_to_a_client() {
    no_ringback_in_transfer("MX-L2", (LYNC, ext(1)), ev(2));
}

#[test]
fn mx_l3_no_ringback_on_inbound_blind_transfer_to_a_pbx_user() {
    no_ringback_in_transfer("MX-L3", (PSTN, pstn(1)), ext(3));
}

#[test]
fn mx_l4_no_dtmf_in_early_media() {
    let m = "aastra-mx-one-4.1";
    let b = dtmf_in_early_media(m, &[]);
    let _g = b.ladder_on_failure();
    assert_eq!(b.rtp_from(PBX_IP, 101), 0);
    let log = b.log(13);
    assert_eq!(
        log.media_for(PartyRole::Callee)
            .unwrap()
            .dtmf_in_early_media,
        0
    );
    assert!(log.limitations.contains("MX-L4"));
    no_workaround(m, "MX-L4");
}

/// Every limitation ID of the catalogue that belongs to an IP-PBX has a regression test in
/// this file, or is listed as needing the full deployment.
#[test]
fn every_pbx_limitation_has_a_regression_test() {
    let source = include_str!("elements_pbx_regressions.rs");
    let names: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fn "))
        .map(|l| l.split('(').next().unwrap_or(""))
        .collect();
    let missing = voicetwin::vendor::catalogue().ids_without_test(&names);
    assert!(missing.is_empty(), "no test for {missing:?}");
}
