//! User agents through the stateful proxy core: routing by the element, Record-Route and
//! in-dialog requests, CANCEL propagation, serial failover on 503 and timeout, best
//! response selection, Max-Forwards and 483.

mod sip_support;

use sip_support::*;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use voicetwin::sim::RngFactory;
use voicetwin::sip::proxy::{ProxyConfig, ProxyCore, ProxyEvent, Target};
use voicetwin::sip::sdp::Direction;
use voicetwin::sip::ua::{CallParams, EndReason, UaConfig, UaEvent};
use voicetwin::sip::wire::{HeaderName, Request, Response};

const A: &str = "10.0.0.1:5060";
const P: &str = "10.0.0.10:5060";
const B: &str = "10.0.0.2:5060";
const G2: &str = "10.0.0.3:5060";

fn proxy() -> ProxyCore {
    ProxyCore::new(
        ProxyConfig::new(addr(P)),
        RngFactory::new(3).stream("proxy", "ids"),
    )
}

/// A router that sends every new request to the targets in turn, failing over on each
/// BranchFailed, then finishing.
fn serial(targets: Vec<SocketAddr>) -> Router {
    let mut next: std::collections::BTreeMap<u64, usize> = Default::default();
    Box::new(move |p: &mut ProxyCore, now, ev| match ev {
        ProxyEvent::Request { ctx, .. } | ProxyEvent::BranchFailed { ctx, .. } => {
            let i = next.entry(ctx.0).or_insert(0);
            match targets.get(*i) {
                Some(t) => {
                    *i += 1;
                    p.forward(
                        now,
                        ctx,
                        Target {
                            request_uri: None,
                            next_hop: *t,
                        },
                    )
                    .unwrap();
                }
                None => p.finish(now, ctx).unwrap(),
            }
        }
        ProxyEvent::Completed { .. } => {}
    })
}

fn via_proxy(targets: Vec<SocketAddr>) -> (Net, SocketAddr, SocketAddr, SocketAddr) {
    let mut net = Net::new();
    let mut ca = UaConfig::new("alice", addr(A));
    ca.outbound_proxy = Some(addr(P));
    let a = net.add_ua(ca);
    let b = net.add_ua(UaConfig::new("bob", addr(B)));
    let p = net.add_proxy(proxy(), serial(targets));
    (net, a, b, p)
}

#[test]
fn basic_call_through_the_proxy_with_record_route() {
    let (mut net, a, b, p) = via_proxy(vec![addr(B)]);
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(100));
    let inc = net.incoming(b);
    let inv = net
        .wire
        .iter()
        .find(|s| s.src == p && s.first_line().starts_with("INVITE"))
        .unwrap();
    let inv = Request::parse(&inv.bytes).unwrap();
    let vias = inv.headers.vias().unwrap();
    assert_eq!(vias.len(), 2, "proxy Via on top of Alice's");
    assert_eq!(vias[0].sent_by_key(), "10.0.0.10:5060");
    assert_eq!(inv.headers.max_forwards().unwrap(), Some(69));
    assert_eq!(
        inv.headers.get(HeaderName::RecordRoute),
        Some("<sip:10.0.0.10:5060;lr>")
    );
    assert_eq!(
        net.lines(p, a),
        vec!["SIP/2.0 100 Trying"],
        "the proxy answers 100 itself"
    );
    let now = net.now;
    net.ua(b).ring(now, inc, 180, false, false).unwrap();
    net.run(ms(100));
    let now = net.now;
    net.ua(b).answer(now, inc).unwrap();
    net.run(ms(100));
    assert!(matches!(
        &net.take(a)[..],
        [
            UaEvent::Progress { status: 180, .. },
            UaEvent::Answered { .. }
        ]
    ));
    assert!(matches!(&net.take(b)[..], [UaEvent::Confirmed { .. }]));
    // Both dialogs route through the proxy.
    assert_eq!(
        net.ua(a).dialog(call).unwrap().route_set,
        vec!["<sip:10.0.0.10:5060;lr>"]
    );
    assert_eq!(
        net.ua(b).dialog(inc).unwrap().route_set,
        vec!["<sip:10.0.0.10:5060;lr>"]
    );
    assert_eq!(
        net.lines(a, p).last().unwrap(),
        &format!("ACK sip:bob@{b} SIP/2.0")
    );
    assert!(net.lines(p, b).iter().any(|l| l.starts_with("ACK")));
    // Hold from the callee and BYE from the caller both cross the proxy.
    let now = net.now;
    net.ua(b).hold(now, inc, Direction::SendOnly).unwrap();
    net.run(ms(100));
    assert!(net.lines(p, a).iter().any(|l| l.starts_with("INVITE")));
    assert!(matches!(
        &net.take(a)[..],
        [UaEvent::MediaChanged {
            remote_hold: true,
            ..
        }]
    ));
    assert!(matches!(
        &net.take(b)[..],
        [UaEvent::MediaChanged {
            remote_hold: false,
            ..
        }]
    ));
    let now = net.now;
    net.ua(a).hangup(now, call).unwrap();
    net.run(ms(100));
    assert!(net.lines(p, b).iter().any(|l| l.starts_with("BYE")));
    assert_eq!(
        net.take(b),
        vec![UaEvent::Terminated {
            call: inc,
            reason: EndReason::RemoteBye
        }]
    );
    // The whole ladder (ports: 5060 at every node, so the addresses tell them apart).
    let ladder: Vec<String> = net
        .wire
        .iter()
        .map(|s| format!("{} > {}  {}", s.src.ip(), s.dst.ip(), s.first_line()))
        .collect();
    insta::assert_snapshot!("call_through_proxy_ladder", ladder.join("\n"));
    net.run(secs(60));
    assert_eq!(net.proxy(p).contexts(), 0);
    assert_eq!(net.proxy(p).transactions(), 0);
}

#[test]
fn cancel_is_propagated() {
    let (mut net, a, b, p) = via_proxy(vec![addr(B)]);
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(100));
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b).ring(now, inc, 180, false, false).unwrap();
    net.run(ms(100));
    let now = net.now;
    net.ua(a).cancel(now, call).unwrap();
    net.run(ms(200));
    assert_eq!(net.take(b), vec![UaEvent::Cancelled { call: inc }]);
    let ev = net.take(a);
    assert!(
        matches!(ev.last(), Some(UaEvent::Failed { status: 487, .. })),
        "{ev:?}"
    );
    assert_eq!(
        net.lines(a, p)
            .iter()
            .filter(|l| l.starts_with("CANCEL"))
            .count(),
        1
    );
    assert_eq!(
        net.lines(p, b)
            .iter()
            .filter(|l| l.starts_with("CANCEL"))
            .count(),
        1
    );
    assert!(
        net.lines(p, a)
            .contains(&"SIP/2.0 487 Request Terminated".to_string())
    );
    // ACKs for the 487 are hop by hop.
    assert_eq!(
        net.lines(a, p)
            .iter()
            .filter(|l| l.starts_with("ACK"))
            .count(),
        1
    );
    assert_eq!(
        net.lines(p, b)
            .iter()
            .filter(|l| l.starts_with("ACK"))
            .count(),
        1
    );
}

#[test]
fn failover_on_503_then_on_timeout() {
    let g1 = addr("10.0.0.4:5060");
    let dead = addr("10.0.0.99:5060");
    let (mut net, a, b, p) = via_proxy(vec![g1, dead, addr(G2)]);
    net.add_ua(UaConfig::new("gw1", g1));
    let g2 = net.add_ua(UaConfig::new("gw2", addr(G2)));
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(100));
    let inc1 = net.incoming(g1);
    let now = net.now;
    net.ua(g1)
        .reject(now, inc1, 503, "Service Unavailable", &[])
        .unwrap();
    // The proxy tries the dead gateway: Timer B (32 s), then the third.
    net.run(secs(40));
    let failed: Vec<(u16, bool)> = net
        .proxy_events()
        .iter()
        .filter_map(|(_, _, e)| match e {
            ProxyEvent::BranchFailed {
                status, timeout, ..
            } => Some((*status, *timeout)),
            _ => None,
        })
        .collect();
    assert_eq!(failed, vec![(503, false), (408, true)]);
    let inc2 = net.incoming(g2);
    let now = net.now;
    net.ua(g2).answer(now, inc2).unwrap();
    net.run(ms(100));
    let ev = net.take(a);
    assert!(
        matches!(ev.last(), Some(UaEvent::Answered { call: c, .. }) if *c == call),
        "{ev:?}"
    );
    // Seven INVITE sends to the dead gateway (0, .5, 1.5, 3.5, 7.5, 15.5, 31.5 s).
    assert_eq!(net.lines(p, dead).len(), 7);
    // The caller never saw the 503 nor the timeout.
    assert!(
        !net.lines(p, a)
            .iter()
            .any(|l| l.contains("503") || l.contains("408"))
    );
}

#[test]
fn best_response_when_every_target_fails() {
    let g1 = addr("10.0.0.4:5060");
    let g2 = addr(G2);
    for (first, second, upstream) in [(486, 503, 486), (503, 503, 500), (404, 603, 603)] {
        let (mut net, a, b, _p) = via_proxy(vec![g1, g2]);
        net.add_ua(UaConfig::new("gw1", g1));
        net.add_ua(UaConfig::new("gw2", g2));
        let now = net.now;
        net.ua(a)
            .call(now, CallParams::new(uri_of("bob", b)))
            .unwrap();
        net.run(ms(100));
        let i1 = net.incoming(g1);
        let now = net.now;
        net.ua(g1).reject(now, i1, first, "first", &[]).unwrap();
        net.run(ms(100));
        let i2 = net.incoming(g2);
        let now = net.now;
        net.ua(g2).reject(now, i2, second, "second", &[]).unwrap();
        net.run(ms(100));
        let ev = net.take(a);
        assert!(
            matches!(&ev[..], [UaEvent::Failed { status, .. }] if *status == upstream),
            "{first}/{second}: {ev:?}"
        );
    }
}

#[test]
fn max_forwards_is_decremented_and_reaches_483() {
    let mut net = Net::new();
    let p = net.add_proxy(proxy(), serial(vec![addr(B)]));
    let b = net.add_ua(UaConfig::new("bob", addr(B)));
    let src = addr(A);
    let opts = |mf: u32| {
        format!(
            "OPTIONS sip:bob@{b} SIP/2.0\r\nVia: SIP/2.0/UDP {src};branch=z9hG4bKmf{mf}\r\nMax-Forwards: {mf}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@x>\r\nCall-ID: mf{mf}\r\nCSeq: 1 OPTIONS\r\n\r\n"
        )
    };
    net.inject(src, p, opts(0).as_bytes());
    net.inject(src, p, opts(1).as_bytes());
    net.run(ms(100));
    let to_src: Vec<String> = net
        .wire
        .iter()
        .filter(|s| s.dst == src)
        .map(Seen::first_line)
        .collect();
    assert!(
        to_src.contains(&"SIP/2.0 483 Too Many Hops".to_string()),
        "{to_src:?}"
    );
    assert!(to_src.contains(&"SIP/2.0 200 OK".to_string()), "{to_src:?}");
    let fwd = net.wire.iter().find(|s| s.src == p && s.dst == b).unwrap();
    assert_eq!(
        Request::parse(&fwd.bytes)
            .unwrap()
            .headers
            .max_forwards()
            .unwrap(),
        Some(0)
    );
    // The 200 relayed upstream carries only the original Via.
    let ok = net
        .wire
        .iter()
        .find(|s| s.dst == src && s.first_line() == "SIP/2.0 200 OK")
        .unwrap();
    assert_eq!(
        Response::parse(&ok.bytes)
            .unwrap()
            .headers
            .vias()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_loop_back_to_the_proxy_is_cut() {
    let mut net = Net::new();
    // A misconfigured element routes everything back to itself.
    let router: Router = Box::new(|p: &mut ProxyCore, now, ev| match ev {
        ProxyEvent::Request { ctx, .. } => {
            p.forward(
                now,
                ctx,
                Target {
                    request_uri: None,
                    next_hop: addr(P),
                },
            )
            .unwrap();
        }
        ProxyEvent::BranchFailed { ctx, .. } => p.finish(now, ctx).unwrap(),
        ProxyEvent::Completed { .. } => {}
    });
    let p = net.add_proxy(proxy(), router);
    let src = addr(A);
    let text = format!(
        "OPTIONS sip:x@{P} SIP/2.0\r\nVia: SIP/2.0/UDP {src};branch=z9hG4bKloop\r\nMax-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: loop\r\nCSeq: 1 OPTIONS\r\n\r\n"
    );
    net.inject(src, p, text.as_bytes());
    net.run(secs(1));
    let to_src: Vec<String> = net
        .wire
        .iter()
        .filter(|s| s.dst == src)
        .map(Seen::first_line)
        .collect();
    assert_eq!(to_src, vec!["SIP/2.0 482 Loop Detected"]);
}

#[test]
fn element_can_reject_and_retarget() {
    let decisions = Rc::new(RefCell::new(Vec::new()));
    let seen = decisions.clone();
    let router: Router = Box::new(move |p: &mut ProxyCore, now, ev| {
        if let ProxyEvent::Request { ctx, request } = ev {
            let user = request.uri.user().unwrap_or("").to_string();
            seen.borrow_mut().push(user.clone());
            if user == "nobody" {
                p.respond(now, ctx, 404, "Not Found").unwrap();
            } else {
                let t = Target {
                    request_uri: Some(uri_of("bob", addr(B))),
                    next_hop: addr(B),
                };
                p.forward(now, ctx, t).unwrap();
            }
        }
    });
    let mut net = Net::new();
    let mut ca = UaConfig::new("alice", addr(A));
    ca.outbound_proxy = Some(addr(P));
    let a = net.add_ua(ca);
    let b = net.add_ua(UaConfig::new("bob", addr(B)));
    net.add_proxy(proxy(), router);
    let now = net.now;
    net.ua(a)
        .call(now, CallParams::new(uri_of("nobody", addr(P))))
        .unwrap();
    net.ua(a)
        .call(now, CallParams::new(uri_of("+14255550100", addr(P))))
        .unwrap();
    net.run(ms(100));
    let ev = net.take(a);
    assert!(
        ev.iter()
            .any(|e| matches!(e, UaEvent::Failed { status: 404, .. })),
        "{ev:?}"
    );
    let inc = net.incoming(b);
    let _ = inc;
    assert_eq!(
        *decisions.borrow(),
        vec!["nobody".to_string(), "+14255550100".to_string()]
    );
}
