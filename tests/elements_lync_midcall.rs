//! Mid-call features of Lync clients: hold and resume (SDP directions on the wire), a
//! refused hold that leaves the client muted, blind transfer (REFER, Referred-By) and
//! consultative transfer (consultation, REFER with Replaces) between Lync users.

mod elements_lync_support;

use elements_lync_support::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::callbook::PartyRole;
use voicetwin::elements::script::{HoldScript, TransferMode, TransferScript};
use voicetwin::sim::SimDuration;
use voicetwin::sip::wire::HeaderName;

fn hold(by_caller: bool) -> Option<HoldScript> {
    Some(HoldScript {
        after: SimDuration::from_secs(5),
        duration: SimDuration::from_secs(5),
        by_caller,
    })
}

/// The SDP directions of re-INVITEs (and their 200s) sent by `from`, in order.
fn directions(lab: &Lab, from: &str) -> Vec<String> {
    lab.between(from, "fe")
        .into_iter()
        .filter(|s| s.cseq().contains("INVITE") && !s.cseq().starts_with("1 "))
        .filter_map(|s| {
            let b = s.body();
            ["sendonly", "recvonly", "inactive", "sendrecv"]
                .iter()
                .find(|d| b.contains(&format!("a={d}")))
                .map(|d| {
                    format!(
                        "{} {d}",
                        if s.status().is_some() {
                            "200"
                        } else {
                            "INVITE"
                        }
                    )
                })
        })
        .collect()
}

#[test]
fn hold_and_resume_put_the_directions_on_the_wire() {
    let mut lab = Lab::new(Setup::default());
    let mut s = script(1, HQ1, "+12065550101", BR1, answer(1));
    s.hold = hold(true);
    lab.call_at(1.0, s, "pool-hq");
    lab.run_until(60.0);
    let log = lab.log(1);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    assert_eq!(
        directions(&lab, "pool-hq"),
        ["INVITE sendonly", "INVITE sendrecv"],
        "{ladder}"
    );
    assert_eq!(
        directions(&lab, "pool-br"),
        ["200 recvonly", "200 sendrecv"],
        "{ladder}"
    );
    // The re-INVITEs follow the Record-Route through the Front End.
    let reinvites: Vec<_> = lab
        .between("fe", "pool-br")
        .into_iter()
        .filter(|s| s.is_request("INVITE"))
        .map(|s| s.time.as_secs_f64())
        .collect();
    assert_eq!(reinvites.len(), 3);
    assert!(
        (reinvites[2] - reinvites[1] - 5.0).abs() < 0.1,
        "{reinvites:?}"
    );
    assert!(log.two_way_audio() && !log.muted);
}

#[test]
fn the_callee_can_hold_too() {
    let mut lab = Lab::new(Setup::default());
    let mut s = script(1, HQ1, "0102", HQ2, answer(1));
    s.hold = hold(false);
    lab.call_at(1.0, s, "pool-hq");
    lab.run_until(60.0);
    // Caller and callee share pool-hq: the hold comes from the callee's dialog.
    let holds: Vec<_> = lab
        .between("fe", "pool-hq")
        .into_iter()
        .filter(|s| s.is_request("INVITE") && s.body().contains("a=sendonly"))
        .collect();
    assert_eq!(holds.len(), 1, "{}", lab.ladder());
    assert_eq!(lab.log(1).outcome, CallOutcome::Answered);
}

#[test]
fn a_refused_hold_leaves_the_client_muted_only_for_the_configured_codes() {
    for (status, muted) in [(488, true), (500, false)] {
        let mut setup = Setup::default();
        setup
            .peers
            .insert("med1".into(), Peer::RefuseReinvite(status));
        let mut lab = Lab::new(setup);
        let mut s = script(1, HQ1, "94155551234", PSTN1, answer(1));
        s.hold = hold(true);
        lab.call_at(1.0, s, "pool-hq");
        lab.run_until(60.0);
        let log = lab.log(1);
        let ladder = lab.ladder();
        assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
        assert!(
            lab.between("fe", "pool-hq")
                .iter()
                .any(|s| s.status() == Some(status)),
            "the refusal reaches the client\n{ladder}"
        );
        assert_eq!(log.muted, muted, "{status}");
        // No resume after a hold that never happened.
        assert_eq!(directions(&lab, "pool-hq"), ["INVITE sendonly"], "{ladder}");
    }
}

#[test]
fn blind_transfer_by_the_callee() {
    let mut lab = Lab::new(Setup::default());
    let mut s = script(1, HQ1, "0102", HQ2, answer(1));
    s.transfer = Some(TransferScript {
        mode: TransferMode::Blind,
        after: SimDuration::from_secs(5),
        target: BR1.into(),
        target_answers: true,
        by_caller: false,
    });
    lab.call_at(1.0, s, "pool-hq");
    lab.run_until(80.0);
    let log = lab.log(1);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    // REFER from the transferor (HQ2) to the transferee (HQ1), through the Front End.
    let refer = lab
        .h
        .sent
        .iter()
        .find(|s| s.from == "fe" && s.is_request("REFER"))
        .expect("REFER");
    assert!(
        refer
            .header(HeaderName::ReferTo)
            .unwrap()
            .contains("+12065550101")
    );
    assert!(refer.header(HeaderName::ReferredBy).is_some());
    // The transferee calls the target with Referred-By.
    let inv = lab
        .between("fe", "pool-br")
        .into_iter()
        .find(|s| s.is_request("INVITE"))
        .expect("INVITE to the target");
    assert!(inv.header(HeaderName::ReferredBy).is_some(), "{ladder}");
    assert!(inv.header(HeaderName::Replaces).is_none());
    // NOTIFY back to the transferor, which then hangs up.
    assert!(
        lab.h
            .sent
            .iter()
            .any(|s| s.is_request("NOTIFY") && s.body().contains("200 OK"))
    );
    // The transferee ends up talking to the target: the target's session heard audio,
    // and the caller hangs up the new call at answer + holding.
    let target = log
        .media
        .iter()
        .filter(|m| m.role == PartyRole::Callee)
        .find(|m| m.opened_at.as_secs_f64() > 5.0)
        .expect("the target's session");
    assert!(target.audio_heard);
    let bye = lab
        .between("pool-hq", "fe")
        .into_iter()
        .filter(|s| s.is_request("BYE"))
        .map(|s| s.time.as_secs_f64())
        .collect::<Vec<_>>();
    let answered = log.answered_at.unwrap().as_secs_f64();
    assert!(
        bye.iter().any(|t| (t - (answered + 20.0)).abs() < 0.01),
        "{bye:?} {answered}\n{ladder}"
    );
    assert_eq!(
        lab.route_names(log),
        ["pool-hq", "fe", "pool-hq", "fe", "pool-br"]
    );
}

#[test]
fn consultative_transfer_by_the_caller() {
    let mut lab = Lab::new(Setup::default());
    let mut s = script(1, HQ1, "+12065550101", BR1, answer(1));
    s.transfer = Some(TransferScript {
        mode: TransferMode::Consultative,
        after: SimDuration::from_secs(5),
        target: HQ3.into(),
        target_answers: true,
        by_caller: true,
    });
    lab.call_at(1.0, s, "pool-hq");
    lab.run_until(80.0);
    let log = lab.log(1);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    // Hold, consultation call to the target, then REFER with Replaces.
    assert!(
        lab.between("pool-hq", "fe")
            .iter()
            .any(|s| s.is_request("INVITE") && s.body().contains("a=sendonly")),
        "{ladder}"
    );
    let refer = lab
        .between("fe", "pool-br")
        .into_iter()
        .find(|s| s.is_request("REFER"))
        .expect("REFER");
    let refer_to = refer.header(HeaderName::ReferTo).unwrap();
    assert!(refer_to.contains("Replaces="), "{refer_to}");
    // The transferee (BR1) calls the target with Replaces and Referred-By.
    let inv = lab
        .between("pool-br", "fe")
        .into_iter()
        .find(|s| s.is_request("INVITE") && s.header(HeaderName::Replaces).is_some())
        .expect("INVITE with Replaces");
    assert!(inv.header(HeaderName::ReferredBy).is_some());
    // The target replaces the consultation: it sends BYE on it.
    let consult_call_id = lab
        .between("pool-hq", "fe")
        .into_iter()
        .filter(|s| s.is_request("INVITE") && s.time.as_secs_f64() > 5.0)
        .filter(|s| s.header(HeaderName::Replaces).is_none() && !s.body().contains("a=sendonly"))
        .map(|s| s.header(HeaderName::CallId).unwrap().to_string())
        .next()
        .expect("consultation INVITE");
    assert!(
        lab.h.sent.iter().any(|s| s.is_request("BYE")
            && s.header(HeaderName::CallId) == Some(consult_call_id.as_str())),
        "{ladder}"
    );
    // Transferee and target talk: the target's sessions heard audio, and the transferee
    // (the callee) hangs up when the call would have ended.
    let target_heard = log
        .media
        .iter()
        .any(|m| m.role == PartyRole::Callee && m.audio_heard && m.opened_at.as_secs_f64() > 9.0);
    assert!(target_heard, "{log:#?}");
    // The caller's side ended when it left (after the NOTIFY 200); the log stays open
    // until the transferee hangs up on the target.
    let left = (log.ended_at.unwrap() - log.started_at).as_secs_f64();
    assert!((11.0..12.5).contains(&left), "{left}\n{ladder}");
    let last = log.media.iter().map(|m| m.closed_at).max().unwrap();
    let talk = (last - log.answered_at.unwrap()).as_secs_f64();
    assert!((19.9..20.2).contains(&talk), "{talk}\n{ladder}");
    assert!(
        log.media.iter().any(|m| m.role == PartyRole::Other),
        "the consultation leg"
    );
}

#[test]
fn blind_transfer_to_a_target_that_does_not_answer_keeps_the_call() {
    let mut lab = Lab::new(Setup::default());
    let mut s = script(1, HQ1, "0102", HQ2, answer(1));
    s.abandon_after = SimDuration::from_secs(10);
    s.holding = SimDuration::from_secs(40);
    s.transfer = Some(TransferScript {
        mode: TransferMode::Blind,
        after: SimDuration::from_secs(5),
        target: BR1.into(),
        target_answers: false,
        by_caller: false,
    });
    lab.call_at(1.0, s, "pool-hq");
    lab.run_until(90.0);
    let log = lab.log(1);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    // The transferee gives up on the target and reports it; the original call goes on
    // until the caller hangs up.
    assert!(
        lab.h
            .sent
            .iter()
            .any(|s| s.is_request("NOTIFY") && s.body().contains("487")),
        "{ladder}"
    );
    let end = (log.ended_at.unwrap() - log.answered_at.unwrap()).as_secs_f64();
    assert!((40.0..40.1).contains(&end), "{end}");
}
