//! A back-to-back user agent built from one UserAgent and the B2bua helper: calls from A
//! to C through it, with SDP passed through or anchored, failure translation, CANCEL,
//! BYE from either side and hold relayed.

mod sip_support;

use sip_support::*;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use voicetwin::sim::SimTime;
use voicetwin::sip::b2bua::{Agents, B2bua, B2buaConfig, B2buaEvent, MediaMode};
use voicetwin::sip::sdp::{Direction, MediaCapabilities};
use voicetwin::sip::ua::{CallParams, EndReason, UaConfig, UaEvent, UserAgent};

const A: &str = "10.0.0.1:5060";
const M: &str = "10.0.0.5:5060";
const C: &str = "10.0.0.3:5060";

type Log = Rc<RefCell<Vec<B2buaEvent>>>;

/// An element that bridges every incoming call to C.
fn element(cfg: B2buaConfig, log: Log) -> Hook {
    let mut b2b = B2bua::new(cfg);
    Box::new(move |ua: &mut UserAgent, now: SimTime, ev: UaEvent| {
        let mut agents = Agents {
            inbound: ua,
            outbound: None,
        };
        if let UaEvent::IncomingCall { call, request, .. } = &ev {
            let mut p = CallParams::new(uri_of("carol", addr(C)));
            p.headers.push((
                voicetwin::sip::wire::HeaderName::PAssertedIdentity,
                "<sip:alice@example.com>".into(),
            ));
            b2b.bridge(now, &mut agents, *call, request, p).unwrap();
            return vec![ev];
        }
        let which = match &ev {
            UaEvent::OptionsResult { .. } => None,
            _ => b2b.leg_of(call_of(&ev)),
        };
        if let Some(which) = which {
            if let Some(out) = b2b.handle(now, which, ev.clone(), &mut agents).unwrap() {
                log.borrow_mut().push(out);
            }
        }
        vec![ev]
    })
}

fn call_of(ev: &UaEvent) -> voicetwin::sip::ua::CallHandle {
    match ev {
        UaEvent::Progress { call, .. }
        | UaEvent::Answered { call, .. }
        | UaEvent::Confirmed { call, .. }
        | UaEvent::Failed { call, .. }
        | UaEvent::Cancelled { call }
        | UaEvent::Terminated { call, .. }
        | UaEvent::MediaChanged { call, .. }
        | UaEvent::PrackTimeout { call }
        | UaEvent::ModifyFailed { call, .. }
        | UaEvent::SessionRefreshed { call }
        | UaEvent::Redirected { call, .. }
        | UaEvent::ReferRequested { call, .. }
        | UaEvent::ReferStatus { call, .. }
        | UaEvent::IncomingCall { call, .. } => *call,
        UaEvent::OptionsResult { .. } => unreachable!(),
    }
}

fn setup(cfg: B2buaConfig) -> (Net, SocketAddr, SocketAddr, Log) {
    let mut net = Net::new();
    let log: Log = Default::default();
    let a = net.add_ua(UaConfig::new("alice", addr(A)));
    let mut mc = UaConfig::new("med", addr(M));
    mc.media = MediaCapabilities::g711("10.0.0.5", 30000);
    net.add_app(mc, element(cfg, log.clone()));
    let c = net.add_ua(UaConfig::new("carol", addr(C)));
    (net, a, c, log)
}

#[test]
fn pass_through_call_and_bye_from_the_far_end() {
    let (mut net, a, c, log) = setup(B2buaConfig::default());
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("med", addr(M))))
        .unwrap();
    net.run(ms(100));
    let ev = net.take(c);
    let [
        UaEvent::IncomingCall {
            call: inc, request, ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(
        request.headers.p_asserted_identity().unwrap()[0]
            .uri
            .to_string(),
        "sip:alice@example.com"
    );
    // Alice's offer reached Carol untouched.
    let offer = voicetwin::sip::sdp::SessionDescription::parse(&request.body).unwrap();
    assert_eq!(offer.connection.unwrap().address, "10.0.0.1");
    let inc = *inc;
    let now = net.now;
    net.ua(c).ring(now, inc, 183, true, false).unwrap();
    net.run(ms(100));
    let ev = net.take(a);
    assert!(
        matches!(&ev[..], [UaEvent::Progress { status: 183, media: Some(m), .. }] if m.remote_address == "10.0.0.3"),
        "{ev:?}"
    );
    let now = net.now;
    net.ua(c).answer(now, inc).unwrap();
    net.run(ms(100));
    let ev = net.take(a);
    assert!(
        matches!(&ev[..], [UaEvent::Answered { media: Some(m), .. }] if m.remote_address == "10.0.0.3"),
        "{ev:?}"
    );
    assert!(matches!(
        log.borrow().last(),
        Some(B2buaEvent::Bridged { .. })
    ));
    let now = net.now;
    net.ua(c).hangup(now, inc).unwrap();
    net.run(ms(100));
    assert_eq!(
        net.take(a),
        vec![UaEvent::Terminated {
            call,
            reason: EndReason::RemoteBye
        }]
    );
    assert!(matches!(
        log.borrow().last(),
        Some(B2buaEvent::Ended { .. })
    ));
    assert_eq!(net.ua(addr(M)).active_calls(), 0);
}

#[test]
fn anchored_media_and_hold_relay() {
    let cfg = B2buaConfig {
        media: MediaMode::Anchor,
        ..B2buaConfig::default()
    };
    let (mut net, a, c, _log) = setup(cfg);
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("med", addr(M))))
        .unwrap();
    net.run(ms(100));
    let inc = net.incoming(c);
    let now = net.now;
    net.ua(c).answer(now, inc).unwrap();
    net.run(ms(200));
    let ev = net.take(a);
    // Alice talks to the element's media address, not Carol's.
    assert!(
        matches!(&ev[..], [UaEvent::Answered { media: Some(m), .. }] if m.remote_address == "10.0.0.5" && m.remote_port == 30000),
        "{ev:?}"
    );
    assert_eq!(net.ua(c).media(inc).unwrap().remote_address, "10.0.0.5");
    assert!(matches!(&net.take(c)[..], [UaEvent::Confirmed { .. }]));
    // Alice holds: the element holds Carol.
    let now = net.now;
    net.ua(a).hold(now, call, Direction::SendOnly).unwrap();
    net.run(ms(300));
    let ev = net.take(c);
    assert!(
        matches!(
            &ev[..],
            [UaEvent::MediaChanged {
                remote_hold: true,
                ..
            }]
        ),
        "{ev:?}"
    );
    let now = net.now;
    net.ua(a).resume(now, call).unwrap();
    net.run(ms(300));
    let ev = net.take(c);
    assert!(
        matches!(&ev[..], [UaEvent::MediaChanged { remote_hold: false, media, .. }] if media.direction == Direction::SendRecv),
        "{ev:?}"
    );
    // Alice hangs up: Carol's leg ends too.
    let now = net.now;
    net.ua(a).hangup(now, call).unwrap();
    net.run(ms(200));
    assert_eq!(
        net.take(c),
        vec![UaEvent::Terminated {
            call: inc,
            reason: EndReason::RemoteBye
        }]
    );
}

#[test]
fn failures_are_translated_and_cancel_crosses_over() {
    let cfg = B2buaConfig {
        status_map: vec![(502, 503)],
        ..B2buaConfig::default()
    };
    let (mut net, a, c, log) = setup(cfg);
    let now = net.now;
    net.ua(a)
        .call(now, CallParams::new(uri_of("med", addr(M))))
        .unwrap();
    net.run(ms(100));
    let inc = net.incoming(c);
    let now = net.now;
    net.ua(c).reject(now, inc, 502, "Bad Gateway", &[]).unwrap();
    net.run(ms(100));
    let ev = net.take(a);
    assert!(
        matches!(&ev[..], [UaEvent::Failed { status: 503, reason, .. }] if reason == "Service Unavailable"),
        "{ev:?}"
    );
    assert!(matches!(
        log.borrow().last(),
        Some(B2buaEvent::Failed {
            received: 502,
            sent: 503,
            ..
        })
    ));

    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("med", addr(M))))
        .unwrap();
    net.run(ms(100));
    let inc = net.incoming(c);
    let now = net.now;
    net.ua(c).ring(now, inc, 180, false, false).unwrap();
    net.run(ms(100));
    net.take(a);
    let now = net.now;
    net.ua(a).cancel(now, call).unwrap();
    net.run(ms(300));
    assert!(matches!(
        net.take(a).last(),
        Some(UaEvent::Failed { status: 487, .. })
    ));
    assert_eq!(net.take(c), vec![UaEvent::Cancelled { call: inc }]);
    assert_eq!(net.ua(addr(M)).active_calls(), 0);
}
