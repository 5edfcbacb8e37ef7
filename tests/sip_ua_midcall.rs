//! Mid-call features between two in-memory user agents: hold and resume (re-INVITE),
//! UPDATE, glare (491), and session timers (RFC 4028) refresh, expiry and 422.

mod sip_support;

use sip_support::*;
use std::net::SocketAddr;
use voicetwin::sip::sdp::Direction;
use voicetwin::sip::ua::{
    CallHandle, CallParams, EndReason, SessionTimerConfig, UaConfig, UaEvent,
};

fn established(
    a_cfg: UaConfig,
    b_cfg: UaConfig,
) -> (Net, SocketAddr, SocketAddr, CallHandle, CallHandle) {
    let mut net = Net::new();
    let a = net.add_ua(a_cfg);
    let b = net.add_ua(b_cfg);
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b).answer(now, inc).unwrap();
    net.run(ms(50));
    assert!(matches!(&net.take(a)[..], [UaEvent::Answered { .. }]));
    assert!(matches!(&net.take(b)[..], [UaEvent::Confirmed { .. }]));
    (net, a, b, call, inc)
}

fn plain() -> (Net, SocketAddr, SocketAddr, CallHandle, CallHandle) {
    established(
        UaConfig::new("alice", addr("10.0.0.1:5060")),
        UaConfig::new("bob", addr("10.0.0.2:5060")),
    )
}

fn media_change(ev: &[UaEvent]) -> (Direction, bool) {
    match ev {
        [
            UaEvent::MediaChanged {
                media, remote_hold, ..
            },
        ] => (media.direction, *remote_hold),
        other => panic!("expected one MediaChanged, got {other:?}"),
    }
}

#[test]
fn hold_and_resume_with_reinvite() {
    let (mut net, a, b, call, inc) = plain();
    for (dir, a_sees, b_sees) in [
        (
            Direction::SendOnly,
            Direction::SendOnly,
            Direction::RecvOnly,
        ),
        (
            Direction::Inactive,
            Direction::Inactive,
            Direction::Inactive,
        ),
        (
            Direction::SendRecv,
            Direction::SendRecv,
            Direction::SendRecv,
        ),
    ] {
        let now = net.now;
        if dir == Direction::SendRecv {
            net.ua(a).resume(now, call).unwrap();
        } else {
            net.ua(a).hold(now, call, dir).unwrap();
        }
        net.run(ms(100));
        assert_eq!(media_change(&net.take(a)), (a_sees, false));
        assert_eq!(
            media_change(&net.take(b)),
            (b_sees, dir != Direction::SendRecv)
        );
        assert_eq!(net.ua(a).local_direction(call), Some(dir));
        assert_eq!(net.ua(b).media(inc).unwrap().direction, b_sees);
    }
    // Each offer bumped the SDP version: 1 (INVITE) then 2, 3, 4.
    let versions: Vec<u64> = net
        .wire
        .iter()
        .filter(|s| s.src == a && s.first_line().starts_with("INVITE"))
        .map(|s| {
            let r = voicetwin::sip::wire::Request::parse(&s.bytes).unwrap();
            voicetwin::sip::sdp::SessionDescription::parse(&r.body)
                .unwrap()
                .origin
                .session_version
        })
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4]);
    assert_eq!(net.count("INVITE"), 4);
    assert_eq!(net.count("ACK"), 4);
    // The held party can put the call on hold too (peer-initiated re-INVITE).
    let now = net.now;
    net.ua(b).hold(now, inc, Direction::SendOnly).unwrap();
    net.run(ms(100));
    assert_eq!(media_change(&net.take(b)), (Direction::SendOnly, false));
    assert_eq!(media_change(&net.take(a)), (Direction::RecvOnly, true));
}

#[test]
fn reinvite_glare_gets_491() {
    let (mut net, a, b, call, inc) = plain();
    let now = net.now;
    net.ua(a).hold(now, call, Direction::SendOnly).unwrap();
    net.ua(b).hold(now, inc, Direction::SendOnly).unwrap();
    net.run(ms(100));
    let ea = net.take(a);
    let eb = net.take(b);
    assert!(
        ea.contains(&UaEvent::ModifyFailed { call, status: 491 }),
        "{ea:?}"
    );
    assert!(
        eb.contains(&UaEvent::ModifyFailed {
            call: inc,
            status: 491
        }),
        "{eb:?}"
    );
    // Both stay where they were and can try again.
    assert_eq!(net.ua(a).local_direction(call), Some(Direction::SendRecv));
    let now = net.now;
    net.ua(a).hold(now, call, Direction::SendOnly).unwrap();
    net.run(ms(100));
    assert_eq!(media_change(&net.take(a)).0, Direction::SendOnly);
}

#[test]
fn update_changes_media_and_refreshes() {
    let (mut net, a, b, call, _inc) = plain();
    let now = net.now;
    net.ua(a)
        .update(now, call, Some(Direction::Inactive))
        .unwrap();
    net.run(ms(100));
    assert_eq!(media_change(&net.take(a)).0, Direction::Inactive);
    assert_eq!(media_change(&net.take(b)).0, Direction::Inactive);
    assert_eq!(net.count("UPDATE"), 1);
    assert_eq!(net.count("ACK"), 1, "UPDATE has no ACK");
    let now = net.now;
    net.ua(a).update(now, call, None).unwrap();
    net.run(ms(100));
    assert_eq!(net.take(a), vec![UaEvent::SessionRefreshed { call }]);
}

#[test]
fn update_in_early_dialog() {
    let mut net = Net::new();
    let a = net.add_ua(UaConfig::new("alice", addr("10.0.0.1:5060")));
    let b = net.add_ua(UaConfig::new("bob", addr("10.0.0.2:5060")));
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b).ring(now, inc, 183, true, true).unwrap();
    net.run(ms(100));
    let ev = net.take(a);
    assert!(
        matches!(
            &ev[..],
            [UaEvent::Progress {
                status: 183,
                media: Some(_),
                reliable: true,
                ..
            }]
        ),
        "{ev:?}"
    );
    let now = net.now;
    net.ua(a)
        .update(now, call, Some(Direction::SendOnly))
        .unwrap();
    net.run(ms(100));
    assert_eq!(media_change(&net.take(a)).0, Direction::SendOnly);
    assert_eq!(media_change(&net.take(b)).0, Direction::RecvOnly);
    let now = net.now;
    net.ua(b).answer(now, inc).unwrap();
    net.run(ms(100));
    assert!(matches!(&net.take(a)[..], [UaEvent::Answered { .. }]));
}

fn with_timer(user: &str, a: &str, expires: u32, min_se: u32) -> UaConfig {
    let mut c = UaConfig::new(user, addr(a));
    c.session_timer = Some(SessionTimerConfig {
        expires,
        min_se,
        refresh_with_update: false,
    });
    c
}

#[test]
fn session_timer_refresh_at_half_interval() {
    let (mut net, a, b, call, inc) = established(
        with_timer("alice", "10.0.0.1:5060", 120, 90),
        with_timer("bob", "10.0.0.2:5060", 1800, 90),
    );
    // The caller supports timer, so it refreshes (refresher=uac) every 60 s.
    let ok = net
        .wire
        .iter()
        .find(|s| s.first_line() == "SIP/2.0 200 OK")
        .unwrap();
    let text = String::from_utf8_lossy(&ok.bytes).to_string();
    assert!(
        text.contains("Session-Expires: 120;refresher=uac"),
        "{text}"
    );
    assert!(text.contains("Require: timer"));
    net.run(secs(200));
    let refreshes: Vec<u64> = net
        .wire
        .iter()
        .filter(|s| s.src == a && s.first_line().starts_with("INVITE"))
        .map(|s| s.at.as_nanos() / 1_000_000_000)
        .collect();
    assert_eq!(refreshes, vec![0, 60, 120, 180]);
    let ea = net.take(a);
    assert_eq!(
        ea.iter()
            .filter(|e| matches!(e, UaEvent::SessionRefreshed { .. }))
            .count(),
        3
    );
    let eb = net.take(b);
    assert_eq!(
        eb.iter()
            .filter(|e| matches!(e, UaEvent::SessionRefreshed { .. }))
            .count(),
        3
    );
    assert!(
        !eb.iter().any(|e| matches!(e, UaEvent::MediaChanged { .. })),
        "a refresh is not a change"
    );
    assert_eq!(net.ua(a).active_calls(), 1);
    assert_eq!(net.ua(b).active_calls(), 1);
    let _ = (call, inc);
}

#[test]
fn session_expires_without_refresh() {
    let (mut net, a, b, call, inc) = established(
        with_timer("alice", "10.0.0.1:5060", 90, 90),
        with_timer("bob", "10.0.0.2:5060", 1800, 90),
    );
    // The refresher's re-INVITEs are all lost: the UAS ends the call at
    // 90 - min(32, 90/3) = 60 s after the 2xx.
    net.drop = Some(Box::new(|s: &Seen| s.first_line().starts_with("INVITE")));
    net.run(secs(100));
    let eb = net.take(b);
    assert!(
        eb.contains(&UaEvent::Terminated {
            call: inc,
            reason: EndReason::SessionExpired
        }),
        "{eb:?}"
    );
    let bye = net
        .wire
        .iter()
        .find(|s| s.first_line().starts_with("BYE"))
        .unwrap();
    assert_eq!(bye.src, b);
    let at = bye.at.as_millis_f64();
    assert!((60_000.0..60_200.0).contains(&at), "BYE at {at} ms");
    let ea = net.take(a);
    assert!(
        ea.contains(&UaEvent::Terminated {
            call,
            reason: EndReason::RemoteBye
        }),
        "{ea:?}"
    );
}

#[test]
fn too_small_session_interval_gets_422_and_a_retry() {
    let mut net = Net::new();
    let a = net.add_ua(with_timer("alice", "10.0.0.1:5060", 100, 90));
    let b = net.add_ua(with_timer("bob", "10.0.0.2:5060", 1800, 300));
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(100));
    let lines = net.lines(b, a);
    assert!(
        lines.contains(&"SIP/2.0 422 Session Interval Too Small".to_string()),
        "{lines:?}"
    );
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b).answer(now, inc).unwrap();
    net.run(ms(100));
    assert!(matches!(&net.take(a)[..], [UaEvent::Answered { .. }]));
    let invites: Vec<_> = net
        .wire
        .iter()
        .filter(|s| s.first_line().starts_with("INVITE"))
        .collect();
    assert_eq!(invites.len(), 2);
    let second = String::from_utf8_lossy(&invites[1].bytes).to_string();
    assert!(
        second.contains("Session-Expires: 300") && second.contains("CSeq: 2 INVITE"),
        "{second}"
    );
    let _ = call;
}

#[test]
fn refresh_with_update() {
    let mut ca = with_timer("alice", "10.0.0.1:5060", 90, 90);
    ca.session_timer.as_mut().unwrap().refresh_with_update = true;
    let (mut net, a, _b, _call, _inc) =
        established(ca, UaConfig::new("bob", addr("10.0.0.2:5060")));
    net.run(secs(100));
    let updates = net
        .lines(a, addr("10.0.0.2:5060"))
        .iter()
        .filter(|l| l.starts_with("UPDATE"))
        .count();
    assert_eq!(updates, 2, "refreshes at 45 s and 90 s");
}
