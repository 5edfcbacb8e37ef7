//! Calls arriving from a Mediation Server (PSTN or PBX callers) to Lync users, calls from
//! Lync users to numbers a PBX hosts (over the PBX's own trunk), inter-trunk routing, and
//! call admission control on inbound calls.

mod elements_lync_support;

use elements_lync_support::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::callbook::PartyRole;
use voicetwin::elements::front_end::{CacOverflow, CacSpec};

/// `med3` (site br) is a Mediation Server bringing calls in, on trunk `t3`.
fn inbound(usages: &[&str]) -> Setup {
    let mut s = Setup::default();
    s.peers.insert("med3".into(), Peer::Caller);
    let mut t3 = trunk("t3", "med3");
    t3.pstn_usages = usages.iter().map(|u| u.to_string()).collect();
    s.fe.trunks.push(t3);
    s
}

#[test]
fn a_pstn_call_from_a_mediation_server_reaches_the_lync_user() {
    let mut lab = Lab::new(inbound(&[]));
    lab.call_at(
        1.0,
        script(1, PSTN1, "+14255550101", HQ1, answer(2)),
        "med3",
    );
    lab.run_until(60.0);
    let log = lab.log(1);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    assert_eq!(lab.route_names(log), ["med3", "fe", "pool-hq"]);
    assert!(log.two_way_audio());
    assert_eq!(log.media_for(PartyRole::Callee).unwrap().codec, "PCMU");
    // No identity assertion for a trunk caller: the Front End adds P-Asserted-Identity
    // only for its own users.
    let inv = lab.between("fe", "pool-hq");
    let inv = inv.iter().find(|s| s.is_request("INVITE")).unwrap();
    assert!(
        inv.header(voicetwin::sip::wire::HeaderName::PAssertedIdentity)
            .is_none()
    );
}

#[test]
fn inbound_short_numbers_use_the_dial_plan_of_the_trunk_site() {
    let mut lab = Lab::new(inbound(&[]));
    // The branch PBX sends a 4-digit extension: the branch dial plan makes it a branch
    // Lync user's number.
    lab.call_at(
        1.0,
        script(1, "+14255560007", "0101", BR1, answer(1)),
        "med3",
    );
    lab.run_until(30.0);
    assert_eq!(
        lab.log(1).outcome,
        CallOutcome::Answered,
        "{}",
        lab.ladder()
    );
    assert_eq!(lab.route_names(lab.log(1)), ["med3", "fe", "pool-br"]);
}

#[test]
fn inter_trunk_routing_needs_the_trunk_pstn_usages() {
    for (usages, expect) in [(vec![], Some(404)), (vec!["Local"], None)] {
        let mut lab = Lab::new(inbound(&usages));
        lab.call_at(
            1.0,
            script(1, "+14255560007", "+14155555678", PSTN2, answer(1)),
            "med3",
        );
        lab.run_until(30.0);
        let log = lab.log(1);
        match expect {
            Some(code) => assert_eq!(log.final_status, Some(code), "{}", lab.ladder()),
            None => {
                assert_eq!(log.outcome, CallOutcome::Answered, "{}", lab.ladder());
                assert_eq!(lab.route_names(log), ["med3", "fe", "med1"]);
            }
        }
    }
}

#[test]
fn pbx_numbers_go_over_the_pbx_trunk() {
    // Without a trunk to the PBX the number follows the voice routes (med1).
    let mut lab = Lab::new(Setup::default());
    lab.call_at(
        1.0,
        script(1, HQ1, "+14255560001", "+14255560001", answer(1)),
        "pool-hq",
    );
    lab.run_until(30.0);
    assert_eq!(lab.route_names(lab.log(1)), ["pool-hq", "fe", "med1"]);
    // With trunk t3 whose peer hosts the range, it goes there.
    let mut lab = Lab::new(inbound(&[]));
    lab.call_at(
        1.0,
        script(1, HQ1, "+14255560001", "+14255560001", answer(1)),
        "pool-hq",
    );
    lab.run_until(30.0);
    let log = lab.log(1);
    assert_eq!(log.outcome, CallOutcome::Answered, "{}", lab.ladder());
    assert_eq!(lab.route_names(log), ["pool-hq", "fe", "med3"]);
    let inv = lab.between("fe", "med3");
    assert_eq!(
        inv.iter()
            .find(|s| s.is_request("INVITE"))
            .unwrap()
            .first_line(),
        "INVITE sip:+14255560001@10.2.0.23:5070;user=phone"
    );
}

#[test]
fn inbound_calls_over_a_full_wan_are_rejected() {
    let mut setup = inbound(&[]);
    setup.fe.cac = vec![CacSpec {
        sites: ("hq".into(), "br".into()),
        max_sessions: Some(0),
        max_kbps: None,
        overflow: CacOverflow::RerouteViaPstn,
    }];
    let mut lab = Lab::new(setup);
    // The branch trunk to an HQ user crosses the WAN: refused (no PSTN reroute for a
    // call that comes from the PSTN).
    lab.call_at(
        1.0,
        script(1, PSTN1, "+14255550101", HQ1, answer(1)),
        "med3",
    );
    // To a branch user it stays local.
    lab.call_at(
        1.0,
        script(2, PSTN2, "+12065550101", BR1, answer(1)),
        "med3",
    );
    lab.run_until(30.0);
    assert_eq!(
        lab.log(1).outcome,
        CallOutcome::RejectedCapacity,
        "{}",
        lab.ladder()
    );
    assert_eq!(lab.log(2).outcome, CallOutcome::Answered);
}
