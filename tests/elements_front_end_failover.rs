//! Outbound failover across a route's trunks: 503 fails over, a silent trunk fails over
//! after the 10 s fast-failover timer, 502 does not fail over by default but does with a
//! 502 → 503 translation rule, and a trunk its Mediation Server reports down is skipped
//! without waiting. Mediation Servers are SipEndpoints or raw responders.

mod elements_lync_support;

use elements_lync_support::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::Command;
use voicetwin::elements::front_end::TranslationSpec;

fn with_first(peer: Peer) -> Setup {
    let mut s = Setup::default();
    s.peers.insert("med1".into(), peer);
    s
}

/// INVITEs the Front End sent to each Mediation Server, in order.
fn invites_to(lab: &Lab) -> Vec<(f64, String)> {
    lab.h
        .sent
        .iter()
        .filter(|s| s.from == "fe" && s.is_request("INVITE"))
        .map(|s| (s.time.as_secs_f64(), s.to.clone()))
        .collect()
}

#[test]
fn a_503_fails_over_to_the_second_trunk() {
    let mut lab = Lab::new(with_first(Peer::Reject(503, vec![])));
    lab.call_at(
        1.0,
        script(1, HQ1, "94155551234", PSTN1, answer(2)),
        "pool-hq",
    );
    lab.run_until(60.0);
    let log = lab.log(1);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    assert_eq!(log.failovers, 1);
    assert_eq!(lab.route_names(log), ["pool-hq", "fe", "med2"]);
    let inv = invites_to(&lab);
    assert_eq!(
        inv.iter().map(|i| i.1.as_str()).collect::<Vec<_>>(),
        ["med1", "med2"]
    );
    assert!(inv[1].0 - inv[0].0 < 0.01, "immediate failover: {inv:?}");
    // The 503 is ACKed hop by hop and never reaches the caller.
    assert!(
        lab.between("fe", "med1")
            .iter()
            .any(|s| s.is_request("ACK"))
    );
    assert!(
        !lab.between("fe", "pool-hq")
            .iter()
            .any(|s| s.status() == Some(503))
    );
    assert_eq!(
        lab.front_end().trunk_state("t1", lab.sched.now()),
        Some("deprioritised")
    );
    assert_eq!(lab.front_end().stats().failovers, 1);
}

#[test]
fn a_silent_trunk_fails_over_after_the_fast_failover_timer() {
    let mut lab = Lab::new(with_first(Peer::Silent));
    lab.call_at(
        1.0,
        script(1, HQ1, "94155551234", PSTN1, answer(2)),
        "pool-hq",
    );
    lab.run_until(80.0);
    let log = lab.log(1);
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    assert_eq!(log.failovers, 1);
    let inv = invites_to(&lab);
    assert_eq!(inv.len(), 2, "{ladder}");
    assert_eq!(inv[1].1, "med2");
    let waited = inv[1].0 - inv[0].0;
    assert!(
        (waited - 10.0).abs() < 1e-6,
        "fast failover after 10 s: {waited}"
    );
    // Answer: 10 s + 2 s ring; well before Timer B (32 s).
    let setup = (log.answered_at.unwrap() - log.started_at).as_secs_f64();
    assert!((12.0..12.1).contains(&setup), "{setup}");
}

#[test]
fn without_the_fast_failover_timer_a_silent_trunk_costs_timer_b() {
    let mut setup = with_first(Peer::Silent);
    setup.fe.trunks[0].fast_failover = false;
    let mut lab = Lab::new(setup);
    lab.call_at(
        1.0,
        script(1, HQ1, "94155551234", PSTN1, answer(2)),
        "pool-hq",
    );
    lab.run_until(80.0);
    let log = lab.log(1);
    assert_eq!(log.outcome, CallOutcome::Answered, "{}", lab.ladder());
    let inv = invites_to(&lab);
    let waited = inv[1].0 - inv[0].0;
    // TLS: no retransmissions, Timer B = 64·T1 = 32 s, then 408 → failover.
    assert!((waited - 32.0).abs() < 1e-6, "{waited}");
    assert_eq!(log.failovers, 1);
}

#[test]
fn a_502_does_not_fail_over_by_default() {
    let mut lab = Lab::new(with_first(Peer::Reject(502, vec![])));
    lab.call_at(
        1.0,
        script(1, HQ1, "94155551234", PSTN1, answer(2)),
        "pool-hq",
    );
    lab.run_until(60.0);
    let log = lab.log(1);
    assert_eq!(log.outcome, CallOutcome::Failed, "{}", lab.ladder());
    assert_eq!(log.final_status, Some(502));
    assert_eq!(log.failovers, 0);
    assert_eq!(invites_to(&lab).len(), 1);
    // The trunk answered decisively: it stays up.
    assert_eq!(
        lab.front_end().trunk_state("t1", lab.sched.now()),
        Some("up")
    );
}

#[test]
fn a_502_to_503_translation_rule_restores_failover() {
    let mut setup = with_first(Peer::Reject(502, vec![]));
    setup.fe.trunks[0].translations = vec![TranslationSpec { from: 502, to: 503 }];
    let mut lab = Lab::new(setup);
    lab.call_at(
        1.0,
        script(1, HQ1, "94155551234", PSTN1, answer(2)),
        "pool-hq",
    );
    lab.run_until(60.0);
    let log = lab.log(1);
    assert_eq!(log.outcome, CallOutcome::Answered, "{}", lab.ladder());
    assert_eq!(log.failovers, 1);
    assert_eq!(lab.route_names(log), ["pool-hq", "fe", "med2"]);
}

#[test]
fn with_no_trunk_left_the_translated_code_goes_to_the_caller() {
    let mut setup = with_first(Peer::Reject(502, vec![]));
    setup.fe.trunks[0].translations = vec![TranslationSpec { from: 502, to: 503 }];
    setup.fe.routes[0].trunks = vec!["t1".into()];
    let mut lab = Lab::new(setup);
    lab.call_at(
        1.0,
        script(1, HQ1, "94155551234", PSTN1, answer(2)),
        "pool-hq",
    );
    lab.run_until(60.0);
    assert_eq!(lab.log(1).final_status, Some(503), "{}", lab.ladder());
    assert_eq!(lab.log(1).failovers, 0);
}

#[test]
fn a_trunk_reported_down_is_skipped_without_waiting() {
    let down = Peer::Reject(
        503,
        vec![(
            "Reason".into(),
            "SIP;cause=503;text=\"Gateway med1 is down (OPTIONS)\"".into(),
        )],
    );
    let mut lab = Lab::new(with_first(down));
    lab.call_at(
        1.0,
        script(1, HQ1, "94155551234", PSTN1, answer(2)),
        "pool-hq",
    );
    lab.call_at(
        5.0,
        script(2, HQ2, "94155555678", PSTN2, answer(2)),
        "pool-hq",
    );
    lab.run_until(60.0);
    let ladder = lab.ladder();
    // The first call learns it: the 503 naming the peer fails over at once.
    assert_eq!(lab.log(1).outcome, CallOutcome::Answered, "{ladder}");
    assert_eq!(lab.log(1).failovers, 1);
    // The second call never tries med1: no INVITE, no timeout, straight to med2.
    let inv = invites_to(&lab);
    let second: Vec<_> = inv.iter().filter(|i| i.0 >= 5.0).collect();
    assert_eq!(second.len(), 1, "{ladder}");
    assert_eq!(second[0].1, "med2");
    let log = lab.log(2);
    assert_eq!(log.outcome, CallOutcome::Answered);
    assert_eq!(log.failovers, 1, "skipping a down trunk is a failover");
    let setup = (log.answered_at.unwrap() - log.started_at).as_secs_f64();
    assert!(setup < 2.1, "{setup}");
    let fe = lab.front_end();
    assert_eq!(fe.trunk_state("t1", lab.sched.now()), Some("down"));
    assert_eq!(fe.stats().skipped_down, 1);
}

#[test]
fn a_down_trunk_is_probed_again_after_the_hold_down() {
    let down = Peer::Reject(
        503,
        vec![(
            "ms-diagnostics".into(),
            "1047;reason=\"med1 unreachable\"".into(),
        )],
    );
    let mut setup = with_first(down);
    setup.fe.health.hold_down_s = 30.0;
    let mut lab = Lab::new(setup);
    lab.call_at(
        1.0,
        script(1, HQ1, "94155551234", PSTN1, answer(1)),
        "pool-hq",
    );
    lab.call_at(
        20.0,
        script(2, HQ1, "94155551234", PSTN1, answer(1)),
        "pool-hq",
    );
    lab.call_at(
        40.0,
        script(3, HQ1, "94155551234", PSTN1, answer(1)),
        "pool-hq",
    );
    lab.run_until(100.0);
    let to_med1: Vec<f64> = invites_to(&lab)
        .into_iter()
        .filter(|i| i.1 == "med1")
        .map(|i| i.0)
        .collect();
    // Tried at 1 s (marked down until 31 s), skipped at 20 s, probed again at 40 s.
    assert_eq!(to_med1.len(), 2, "{}", lab.ladder());
    assert!(to_med1[1] >= 40.0);
    for t in 1..=3 {
        assert_eq!(lab.log(t).outcome, CallOutcome::Answered);
    }
}

#[test]
fn every_trunk_silent_gives_504_after_the_timers() {
    let mut setup = with_first(Peer::Silent);
    setup.peers.insert("med2".into(), Peer::Silent);
    let mut lab = Lab::new(setup);
    lab.call_at(
        1.0,
        script(1, HQ1, "94155551234", PSTN1, answer(1)),
        "pool-hq",
    );
    lab.run_until(80.0);
    let log = lab.log(1);
    assert_eq!(log.final_status, Some(504), "{}", lab.ladder());
    assert_eq!(log.failovers, 1);
    let failed_at = (log.ended_at.unwrap() - log.started_at).as_secs_f64();
    assert!((20.0..20.1).contains(&failed_at), "{failed_at}");
}

#[test]
fn a_failed_front_end_answers_nothing_until_repaired() {
    let mut lab = Lab::new(Setup::default());
    lab.command_at(0.5, "fe", Command::Fail);
    let mut s = script(1, HQ1, "+12065550101", BR1, answer(1));
    s.abandon_after = voicetwin::sim::SimDuration::from_secs(40);
    lab.call_at(1.0, s, "pool-hq");
    lab.command_at(50.0, "fe", Command::Repair);
    lab.call_at(
        60.0,
        script(2, HQ1, "+12065550101", BR1, answer(1)),
        "pool-hq",
    );
    lab.run_until(120.0);
    let ladder = lab.ladder();
    // The first INVITE gets nothing: Timer B ends it at 33 s with 408.
    let log = lab.log(1);
    assert_eq!(log.final_status, Some(408), "{ladder}");
    assert!(
        lab.between("fe", "")
            .iter()
            .all(|s| s.time.as_secs_f64() >= 50.0)
    );
    assert_eq!(lab.log(2).outcome, CallOutcome::Answered, "{ladder}");
}
