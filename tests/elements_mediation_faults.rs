//! Session timers toward the peer, and a Mediation Server crash: its relays stop, the
//! gateway's session timer clears the orphaned PSTN call (without a session timer the
//! B-channel stays held), and after repair new calls go through.

mod elements_edge;

use elements_edge::*;
use voicetwin::elements::{CallOutcome, Command};
use voicetwin::sim::SimDuration;

fn bench(session_timer: bool) -> Harness {
    Edge {
        trunk: format!("MediaBypass(false), SessionTimer({session_timer})"),
        ..Edge::default()
    }
    .build()
}

#[test]
fn session_timer_is_requested_and_refreshed_toward_the_peer() {
    let mut h = bench(true);
    let tag = h.place(
        1.0,
        "fe",
        script(
            0,
            "+14255550001",
            "+12065550001",
            answer(1),
            SimDuration::from_secs(1000),
        ),
    );
    h.run_until(10.0);
    let msgs = h.sip_sent();
    let (_, _, invite) = msgs
        .iter()
        .find(|(s, d, m)| {
            s.ip().octets() == [10, 0, 1, 20]
                && d.ip().octets() == [10, 0, 1, 30]
                && m.starts_with("INVITE")
        })
        .unwrap();
    assert!(invite.contains("Session-Expires: 1800"), "{invite}");
    let (_, _, ok) = msgs
        .iter()
        .find(|(s, _, m)| s.ip().octets() == [10, 0, 1, 30] && m.starts_with("SIP/2.0 200"))
        .unwrap();
    assert!(ok.contains("Session-Expires: 1800;refresher=uac"), "{ok}");
    h.run_until(1100.0);
    let refreshes = h
        .sip_sent()
        .into_iter()
        .filter(|(s, d, m)| {
            s.ip().octets() == [10, 0, 1, 20]
                && d.ip().octets() == [10, 0, 1, 30]
                && m.starts_with("INVITE")
        })
        .count();
    assert_eq!(refreshes, 1, "one refresh at half the interval (900 s)");
    assert_eq!(h.log(tag).outcome, CallOutcome::Answered);
}

#[test]
fn a_crash_orphans_the_pstn_call_until_the_session_timer_clears_it() {
    for session_timer in [true, false] {
        let mut h = bench(session_timer);
        h.place(
            1.0,
            "fe",
            script(
                0,
                "+14255550001",
                "+12065550001",
                answer(1),
                SimDuration::from_secs(1900),
            ),
        );
        h.run_until(40.0);
        let relayed = h.sim.world.media.relays_in_use();
        assert_eq!(relayed.0, 1);
        h.command(50.0, "med", Command::Fail);
        h.command(100.0, "med", Command::Repair);
        h.run_until(60.0);
        assert_eq!(
            h.sim.world.media.relays_in_use().0,
            0,
            "the crash drops the relay"
        );
        let after = h.place(
            110.0,
            "fe",
            script(
                0,
                "+14255550002",
                "+12065550002",
                answer(1),
                SimDuration::from_secs(10),
            ),
        );
        h.run_until(200.0);
        assert_eq!(
            h.log(after).outcome,
            CallOutcome::Answered,
            "works after repair"
        );
        assert_eq!(
            h.link_usage("t1").0,
            1,
            "the orphaned call still holds its channel"
        );
        // The gateway expects a refresh before 1800 − 32 s after the answer (RFC 4028 §10).
        h.run_until(1800.0);
        let busy = h.link_usage("t1").0;
        if session_timer {
            assert_eq!(busy, 0, "session expiry cleared the PSTN side");
        } else {
            assert_eq!(busy, 1, "without a session timer the channel is held");
        }
    }
}
