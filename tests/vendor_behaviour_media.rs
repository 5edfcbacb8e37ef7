//! The media behaviours of the vocabulary: what the SDP offers and which RTP/RTCP packets
//! flow, with the trigger on and off.

mod common;

use common::scenarios::*;
use common::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::callbook::PartyRole;

const SIEMENS: &str = "siemens-openscape-voice-6";

fn pbx_sdp_offer(b: &Bench) -> String {
    b.sip()
        .into_iter()
        .find(|m| m.sent_by_pbx() && m.is_request("INVITE"))
        .map(|m| m.text)
        .unwrap_or_default()
}

#[test]
fn no_comfort_noise_offers_no_pt13_and_sends_no_cn() {
    let b = basic_outbound_from_pbx("cisco-ucm-8.6.2", &[]);
    let _g = b.ladder_on_failure();
    let offer = pbx_sdp_offer(&b);
    assert!(offer.contains("m=audio") && !offer.contains("CN/8000") && !offer.contains(" 13"));
    assert_eq!(b.rtp_from(PBX_IP, 13), 0);
    assert_eq!(b.rtp_from(MED_IP, 13), 0, "CN was not negotiated");
    let log = b.log(12);
    assert!(log.limitations.contains("CU862-L1"));
    let lync_ear = log.media_for(PartyRole::Callee).unwrap();
    assert!(!lync_ear.comfort_noise_played);
    let ok = basic_outbound_from_pbx(SIEMENS, &[]);
    assert!(pbx_sdp_offer(&ok).contains("CN/8000"));
    assert!(ok.rtp_from(PBX_IP, 13) > 0);
    assert!(
        ok.log(12)
            .media_for(PartyRole::Callee)
            .unwrap()
            .comfort_noise_played
    );
}

#[test]
fn no_rtcp_leaves_lync_monitoring_without_jitter_and_loss() {
    let b = basic_outbound_from_pbx("avaya-cm-ses-5.2.1", &[]);
    let _g = b.ladder_on_failure();
    assert_eq!(b.rtcp_from(PBX_IP), 0);
    assert!(b.rtcp_from(MED_IP) > 0, "Lync still sends its reports");
    let log = b.log(12);
    assert!(log.limitations.contains("AVSES-L3"));
    let lync = log.media_for(PartyRole::Callee).unwrap();
    assert_eq!(lync.monitor_jitter_ms, None);
    assert_eq!(lync.monitor_loss_fraction, None);
    let ok = basic_outbound_from_pbx(SIEMENS, &[]);
    assert!(ok.rtcp_from(PBX_IP) > 0);
    assert!(
        ok.log(12)
            .media_for(PartyRole::Callee)
            .unwrap()
            .monitor_jitter_ms
            .is_some()
    );
}

#[test]
fn no_dtmf_in_early_media_loses_the_digits() {
    let b = dtmf_in_early_media("aastra-mx-one-4.1", &[]);
    let _g = b.ladder_on_failure();
    assert_eq!(
        b.rtp_from(PBX_IP, 101),
        0,
        "no telephone-event from the PBX"
    );
    let log = b.log(13);
    assert!(log.limitations.contains("MX-L4"));
    let lync = log.media_for(PartyRole::Callee).unwrap();
    assert_eq!((lync.dtmf_digits, lync.dtmf_in_early_media), (0, 0));
    let ok = dtmf_in_early_media(SIEMENS, &[]);
    let answer = ok.log(13).answered_at.unwrap().as_secs_f64();
    let early_events = ok
        .media()
        .iter()
        .filter(|(t, s, _, p)| *t < answer && *s.ip() == PBX_IP && p[1] & 0x7f == 101)
        .count();
    assert!(early_events > 0);
    let lync = ok.log(13).media_for(PartyRole::Callee).unwrap().clone();
    assert_eq!((lync.dtmf_digits, lync.dtmf_in_early_media), (4, 4));
}

#[test]
fn inbound_bypass_broken_sends_rtp_to_the_mediation_server() {
    let b = inbound_with_bypass_media("alcatel-oxe-r9.1", &[bypass(true)], true);
    let _g = b.ladder_on_failure();
    let to_client = b
        .media()
        .iter()
        .filter(|(_, s, d, _)| *s.ip() == PBX_IP && *d.ip() == CLIENT_IP)
        .count();
    let to_mediation = b
        .media()
        .iter()
        .filter(|(_, s, d, _)| *s.ip() == PBX_IP && *d.ip() == MED_IP)
        .count();
    assert_eq!(to_client, 0);
    assert!(to_mediation > 100);
    assert!(
        b.h.world.stats().undeliverable > 100,
        "nobody listens there"
    );
    let log = b.log(14);
    assert!(log.limitations.contains("OXE-C1"));
    assert!(log.one_way_audio(), "the client hears nothing");
    assert!(!log.media_for(PartyRole::Callee).unwrap().audio_heard);
    let ok = inbound_with_bypass_media("alcatel-oxe-r9.1", &[], false);
    assert!(ok.log(14).two_way_audio());
}

#[test]
fn voicemail_audio_cut_hangs_up_after_part_of_the_greeting() {
    let b = call_to_pbx_voicemail("avaya-aura-sm-6.0.1", &[]);
    let _g = b.ladder_on_failure();
    let log = b.log(15);
    assert_eq!(log.outcome, CallOutcome::Answered);
    let answered = log.answered_at.unwrap().as_secs_f64();
    let bye = b
        .sip()
        .into_iter()
        .find(|m| m.sent_by_pbx() && m.is_request("BYE"))
        .expect("the PBX hangs up");
    assert!(
        (bye.t - answered - 3.0).abs() < 0.1,
        "3 s of audio: {}",
        bye.t - answered
    );
    let last_rtp = b
        .media()
        .iter()
        .filter(|(_, s, _, p)| *s.ip() == PBX_IP && s.port() % 2 == 0 && p[1] & 0x7f != 101)
        .map(|(t, ..)| *t)
        .fold(0.0, f64::max);
    assert!(last_rtp < answered + 3.1);
    assert!(log.limitations.contains("AV601-L3"));
    let ok = call_to_pbx_voicemail(SIEMENS, &[]);
    assert!(
        !ok.sip()
            .iter()
            .any(|m| m.sent_by_pbx() && m.is_request("BYE"))
    );
    assert!(ok.log(15).ended_at.unwrap().as_secs_f64() > 20.0);
}

#[test]
fn no_early_media_on_forward_to_a_pstn_ivr() {
    let b = lync_forwards_to_pstn("cisco-ucm-8.5.1", &[], true, true);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    assert!(sip.iter().any(|m| m.sent_by_pbx() && m.is_response(180)));
    assert!(!sip.iter().any(|m| m.sent_by_pbx() && m.is_response(183)));
    let log = b.log(6);
    assert!(log.limitations.contains("CU851-L2"));
    assert_eq!(log.early_media_at, None);
    let answer = log.answered_at.unwrap().as_secs_f64();
    assert!(
        !b.media()
            .iter()
            .any(|(t, s, _, _)| *t < answer && *s.ip() == PBX_IP)
    );
    let ok = lync_forwards_to_pstn(SIEMENS, &[], true, true);
    assert!(
        ok.sip()
            .iter()
            .any(|m| m.sent_by_pbx() && m.is_response(183))
    );
    assert!(ok.log(6).early_media_at.is_some());
}
