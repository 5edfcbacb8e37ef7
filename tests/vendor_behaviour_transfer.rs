//! Transfer behaviours: the PBX phone's display after a transfer by a Lync user, a blind
//! transfer that cannot be recovered, and ringback to the transferee during a REFER
//! transfer.

mod common;

use common::scenarios::*;
use common::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::pbx::StationTone;

const SIEMENS: &str = "siemens-openscape-voice-6";

fn display(b: &Bench, number: &str) -> Option<String> {
    b.pbx().station(number).and_then(|s| s.display.clone())
}

#[test]
fn stale_display_after_a_transfer_by_identity_update() {
    // PBX phone ext(1) calls Lync ev(1); Lync transfers it to PBX phone ext(2) (REFER off:
    // Lync re-INVITEs the PBX with the new P-Asserted-Identity).
    let mut b = lync_transfers(
        "cisco-ucm-7.0.1",
        &[],
        (PBX, ext(1)),
        ev(1),
        ext(2),
        true,
        false,
    );
    b.run(15.0);
    let _g = b.ladder_on_failure();
    let reinvite = b
        .sip()
        .into_iter()
        .find(|m| !m.sent_by_pbx() && m.is_request("INVITE"))
        .expect("identity update");
    assert!(
        reinvite
            .header("P-Asserted-Identity")
            .unwrap()
            .contains(&ext(2))
    );
    assert_eq!(
        display(&b, &ext(1)),
        Some(ev(1)),
        "still the first Lync user"
    );
    b.run(90.0);
    assert!(b.log(16).limitations.contains("CU701-L1"));
    let mut ok = lync_transfers(SIEMENS, &[], (PBX, ext(1)), ev(1), ext(2), true, false);
    ok.run(15.0);
    assert_eq!(display(&ok, &ext(1)), Some(ext(2)));
}

#[test]
fn refer_transfer_updates_the_display_and_connects_the_target() {
    let mut b = lync_transfers(
        SIEMENS,
        &[refer(true)],
        (PBX, ext(1)),
        ev(1),
        ext(2),
        true,
        true,
    );
    b.run(15.0);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    assert!(sip.iter().any(|m| m.is_request("REFER")));
    assert!(
        sip.iter()
            .any(|m| m.sent_by_pbx() && m.is_request("NOTIFY") && m.text.contains("SIP/2.0 200"))
    );
    assert_eq!(display(&b, &ext(1)), Some(ext(2)));
    assert_eq!(display(&b, &ext(2)), Some(ext(1)));
    let tones = &b.pbx().station(&ext(1)).unwrap().tones;
    assert!(
        tones
            .iter()
            .any(|(t, tone)| *tone == StationTone::Ringback && t.as_secs_f64() > 8.0)
    );
    b.run(90.0);
    let log = b.log(16);
    assert_eq!(log.outcome, CallOutcome::Answered);
    // The transferee and the target talk through the PBX.
    assert!(log.media.iter().filter(|m| m.audio_heard).count() >= 3);
}

#[test]
fn unrecoverable_blind_transfer_drops_the_original_call() {
    // PSTN pstn(1) calls Lync ev(1); Lync blind-transfers to PBX phone ext(3), which does
    // not answer. OXE released the original dialog at once: the PSTN caller is cut off.
    let mut b = lync_transfers(
        "alcatel-oxe-r9.1",
        &[refer(true)],
        (PSTN, pstn(1)),
        ev(1),
        ext(3),
        false,
        true,
    );
    b.run(60.0);
    let _g = b.ladder_on_failure();
    let sip = b.sip();
    let refer_at = sip.iter().find(|m| m.is_request("REFER")).unwrap().t;
    let bye = sip
        .iter()
        .find(|m| m.sent_by_pbx() && m.is_request("BYE"))
        .expect("BYE");
    assert!(bye.t - refer_at < 0.1, "the original dialog goes at once");
    let log = b.log(16);
    assert!(log.limitations.contains("OXE-L2"));
    let disconnect = b
        .isdn()
        .into_iter()
        .find(|(_, p, l)| *p && l.starts_with("DISCONNECT"))
        .expect("the caller is cut off");
    assert!(
        disconnect.0 < 40.0,
        "at the transfer recall, not at the caller's hang-up"
    );
    // Without the rule, the target's no-answer is reported and the original call stays.
    let mut ok = lync_transfers(
        SIEMENS,
        &[refer(true)],
        (PSTN, pstn(1)),
        ev(1),
        ext(3),
        false,
        true,
    );
    ok.run(60.0);
    let sip = ok.sip();
    assert!(
        sip.iter()
            .any(|m| m.sent_by_pbx() && m.is_request("NOTIFY") && m.text.contains("SIP/2.0 480"))
    );
    assert!(
        !ok.isdn()
            .iter()
            .any(|(t, p, l)| *p && l.starts_with("DISCONNECT") && *t < 60.0)
    );
}

#[test]
fn no_ringback_during_a_refer_transfer() {
    // MX-L1: inbound PSTN call answered by Lync, transferred (REFER) to a PSTN phone.
    let mut b = lync_transfers(
        "aastra-mx-one-4.1",
        &[refer(true)],
        (PSTN, pstn(1)),
        ev(1),
        pstn(2),
        true,
        true,
    );
    b.run(20.0);
    let _g = b.ladder_on_failure();
    let isdn = b.isdn();
    let refer_at = b.sip().iter().find(|m| m.is_request("REFER")).unwrap().t;
    // The transferee's line gets no in-band ringback while pstn(2) rings.
    assert!(
        !isdn
            .iter()
            .any(|(t, p, l)| *p && *t > refer_at && l.starts_with("PROGRESS"))
    );
    b.run(90.0);
    let log = b.log(16);
    assert!(log.limitations.contains("MX-L1"));
    assert_eq!(log.outcome, CallOutcome::Answered);
    let mut ok = lync_transfers(
        SIEMENS,
        &[refer(true)],
        (PSTN, pstn(1)),
        ev(1),
        pstn(2),
        true,
        true,
    );
    ok.run(20.0);
    let refer_at = ok.sip().iter().find(|m| m.is_request("REFER")).unwrap().t;
    assert!(
        ok.isdn()
            .iter()
            .any(|(t, p, l)| *p && *t > refer_at && l.starts_with("PROGRESS"))
    );
}
