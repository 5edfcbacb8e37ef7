//! Gateway capacity: calls beyond the B-channels are blocked (503 and `Blocked`), channels
//! come back at the end of every call whatever way it ends, a span out of service loses its
//! calls and is skipped by hunting, and with every span down calls fail with 503.

mod elements_edge;

use elements_edge::*;
use voicetwin::elements::script::AnswerAction;
use voicetwin::elements::{CallOutcome, Command, Element};
use voicetwin::sim::SimDuration;

fn gateway_of(h: &Harness) -> &voicetwin::elements::gateway::Gateway {
    match h.element("gw") {
        Element::Gateway(g) => g,
        _ => unreachable!(),
    }
}

fn pstn_of(h: &Harness) -> &voicetwin::elements::pstn::Pstn {
    match h.element("pstn") {
        Element::Pstn(p) => p,
        _ => unreachable!(),
    }
}

fn lync(i: u32) -> String {
    format!("+1425555{:04}", i % 1000)
}
fn pstn(i: u32) -> String {
    format!("+1206555{:04}", i % 10000)
}

#[test]
fn the_call_beyond_the_channels_is_blocked_with_503() {
    let mut h = Edge::default().build();
    let tags: Vec<_> = (0..24)
        .map(|i| {
            h.place(
                1.0 + 0.01 * i as f64,
                "fe",
                script(0, &lync(i), &pstn(i), answer(1), SimDuration::from_secs(30)),
            )
        })
        .collect();
    h.run_until(10.0);
    assert_eq!(
        h.link_usage("t1"),
        (23, 23),
        "every B-channel of the T1 is busy"
    );
    h.run_until(60.0);
    for t in &tags[..23] {
        assert_eq!(h.log(*t).outcome, CallOutcome::Answered);
    }
    let last = h.log(tags[23]);
    assert_eq!(last.outcome, CallOutcome::Blocked, "{last:#?}");
    assert_eq!(last.final_status, Some(503));
    assert_eq!(gateway_of(&h).stats().blocked, 1);
    assert_eq!(h.link_usage("t1").0, 0);
}

#[test]
fn thousands_of_calls_leave_no_channel_busy() {
    let mut h = Edge {
        capture: false,
        pstn_extra: "no_answer_s: 4".into(),
        ..Edge::default()
    }
    .build();
    let n = 2000u32;
    let mut tags = Vec::new();
    for i in 0..n {
        let action = match i % 5 {
            0 | 1 => answer(1),
            2 => AnswerAction::Busy,
            3 => AnswerAction::Decline,
            _ => AnswerAction::NoAnswer,
        };
        let mut s = if i % 2 == 0 {
            script(0, &lync(i), &pstn(i), action, SimDuration::from_secs(2))
        } else {
            script(0, &pstn(i), &lync(i), action, SimDuration::from_secs(2))
        };
        // Callers give up before the switch's 4 s no-answer timer half the time.
        s.abandon_after = SimDuration::from_secs(if i % 4 == 0 { 3 } else { 6 });
        let from = if i % 2 == 0 { "fe" } else { "pstn" };
        tags.push(h.place(1.0 + 0.07 * i as f64, from, s));
    }
    h.run_until(200.0);
    assert_eq!(h.sim.logs.len(), n as usize, "every call finished");
    assert_eq!(h.sim.world.calls.open_calls(), 0);
    assert_eq!(h.link_usage("t1").0, 0, "no B-channel leaked");
    assert_eq!(gateway_of(&h).active_calls(), 0);
    assert_eq!(pstn_of(&h).active_calls(), 0);
    assert_eq!(h.sim.world.media.relays_in_use().0, 0);
    let count = |o| h.sim.logs.iter().filter(|l| l.outcome == o).count();
    let (answered, blocked) = (count(CallOutcome::Answered), count(CallOutcome::Blocked));
    // About 30 Erlangs (14 calls/s holding a channel 2.1 s on average) offered to 23
    // channels: heavy blocking, both directions.
    assert!(answered > 300 && blocked > 300, "{answered} {blocked}");
    assert!(count(CallOutcome::Busy) > 0 && count(CallOutcome::Declined) > 0);
    assert!(count(CallOutcome::NoAnswer) + count(CallOutcome::Abandoned) > 0);
    assert_eq!(count(CallOutcome::Failed), 0, "no call failed");
    let s = gateway_of(&h).stats();
    assert!(s.blocked > 0 && pstn_of(&h).stats().blocked > 0, "{s:?}");
}

#[test]
fn a_span_out_of_service_drops_its_calls_and_hunting_skips_it() {
    let mut h = Edge {
        spans: 2,
        ..Edge::default()
    }
    .build();
    let first: Vec<_> = (0..30)
        .map(|i| {
            h.place(
                1.0 + 0.01 * i as f64,
                "fe",
                script(
                    0,
                    &lync(i),
                    &pstn(i),
                    answer(1),
                    SimDuration::from_secs(100),
                ),
            )
        })
        .collect();
    h.run_until(10.0);
    assert_eq!(h.link_usage("t1"), (30, 46));
    let (gw_port, _) = h.ports["t1"];
    h.command(
        20.0,
        "gw",
        Command::SpanState {
            port: gw_port,
            span: 0,
            in_service: false,
        },
    );
    h.run_until(21.0);
    // The 23 calls of span 0 (hunted first) are gone; 7 remain on span 1.
    assert_eq!(h.link_usage("t1"), (7, 23));
    assert_eq!(gateway_of(&h).stats().dropped_by_span, 23);
    assert_eq!(
        pstn_of(&h).active_calls(),
        7,
        "the PSTN cleared its end too"
    );
    for t in &first[..23] {
        let log = h.log(*t);
        assert_eq!(log.outcome, CallOutcome::Answered);
        let ended = log.ended_at.unwrap() - log.started_at;
        assert!(ended < SimDuration::from_secs(21), "{ended}");
    }
    // New calls hunt span 1 only: 16 fit, the rest are blocked.
    let second: Vec<_> = (30..50)
        .map(|i| {
            h.place(
                25.0 + 0.01 * i as f64,
                "fe",
                script(0, &lync(i), &pstn(i), answer(1), SimDuration::from_secs(10)),
            )
        })
        .collect();
    h.run_until(30.0);
    assert_eq!(h.link_usage("t1"), (23, 23));
    h.command(
        31.0,
        "gw",
        Command::SpanState {
            port: gw_port,
            span: 1,
            in_service: false,
        },
    );
    let late = h.place(
        35.0,
        "fe",
        script(
            0,
            &lync(99),
            &pstn(99),
            answer(1),
            SimDuration::from_secs(10),
        ),
    );
    h.run_until(80.0);
    let blocked = second
        .iter()
        .filter(|t| h.log(**t).outcome == CallOutcome::Blocked)
        .count();
    assert_eq!(blocked, 4);
    let late = h.log(late);
    assert_eq!(
        late.outcome,
        CallOutcome::Failed,
        "all spans down is not blocking: {late:#?}"
    );
    assert_eq!(late.final_status, Some(503));
    assert_eq!(h.link_usage("t1"), (0, 0));
    assert_eq!(gateway_of(&h).active_calls(), 0);
    assert_eq!(pstn_of(&h).active_calls(), 0);
    // Back in service: calls go through again.
    h.command(
        90.0,
        "pstn",
        Command::SpanState {
            port: h.ports["t1"].1,
            span: 0,
            in_service: true,
        },
    );
    let again = h.place(
        95.0,
        "fe",
        script(0, &lync(1), &pstn(1), answer(1), SimDuration::from_secs(5)),
    );
    h.run_until(120.0);
    assert_eq!(h.link_usage("t1"), (0, 23));
    assert_eq!(h.log(again).outcome, CallOutcome::Answered);
}
