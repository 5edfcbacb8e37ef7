//! Reliable provisional responses (RFC 3262): PRACK, RSeq/RAck, retransmission of the
//! provisional until PRACK, and the 504 outcome when no PRACK ever arrives.

mod sip_support;

use sip_support::*;
use voicetwin::sip::ua::{CallParams, UaConfig, UaEvent};
use voicetwin::sip::wire::{HeaderName, Request, Response};

fn pair(require: bool, b_supports: bool) -> (Net, std::net::SocketAddr, std::net::SocketAddr) {
    let mut net = Net::new();
    let mut ca = UaConfig::new("alice", addr("10.0.0.1:5060"));
    ca.require_100rel = require;
    let mut cb = UaConfig::new("bob", addr("10.0.0.2:5060"));
    cb.supports_100rel = b_supports;
    let a = net.add_ua(ca);
    let b = net.add_ua(cb);
    (net, a, b)
}

#[test]
fn reliable_183_with_early_media_is_pracked() {
    let (mut net, a, b) = pair(false, true);
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
    let [
        UaEvent::Progress {
            status: 183,
            media: Some(m),
            reliable: true,
            ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(m.codec.name, "PCMU");
    let p183 = net
        .wire
        .iter()
        .find(|s| s.first_line().starts_with("SIP/2.0 183"))
        .unwrap();
    let p183 = Response::parse(&p183.bytes).unwrap();
    assert!(p183.headers.lists_option(HeaderName::Require, "100rel"));
    let rseq = p183.headers.rseq().unwrap().unwrap();
    let prack = net
        .wire
        .iter()
        .find(|s| s.first_line().starts_with("PRACK"))
        .unwrap();
    let prack = Request::parse(&prack.bytes).unwrap();
    let rack = prack.headers.rack().unwrap().unwrap();
    assert_eq!((rack.rseq, rack.cseq), (rseq, 1));
    assert_eq!(prack.headers.cseq().unwrap().seq, 2);
    assert_eq!(
        net.lines(b, a)
            .iter()
            .filter(|l| *l == "SIP/2.0 200 OK")
            .count(),
        1,
        "200 to PRACK"
    );
    // No retransmission of the 183 once PRACKed.
    net.run(secs(5));
    assert_eq!(net.count("SIP/2.0 183"), 1);
    let now = net.now;
    net.ua(b).answer(now, inc).unwrap();
    net.run(ms(100));
    let ev = net.take(a);
    assert!(
        matches!(&ev[..], [UaEvent::Answered { media: Some(_), .. }]),
        "{ev:?}"
    );
    // The 2xx repeats the answer already given in the reliable 183.
    let ok = net
        .wire
        .iter()
        .rev()
        .find(|s| s.src == b && s.first_line() == "SIP/2.0 200 OK")
        .unwrap();
    assert_eq!(Response::parse(&ok.bytes).unwrap().body, p183.body);
    assert_eq!(p183.content_length(), p183.body.len());
    let _ = call;
}

#[test]
fn unacknowledged_reliable_provisional_ends_in_504() {
    let (mut net, a, b) = pair(false, true);
    net.drop = Some(Box::new(|s: &Seen| s.first_line().starts_with("PRACK")));
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let t0 = net.now;
    net.ua(b).ring(t0, inc, 180, false, true).unwrap();
    net.run(secs(40));
    // Retransmitted at T1, 2T1, 4T1... (0, .5, 1.5, 3.5, 7.5, 15.5, 31.5 s after the
    // first send), then the INVITE is rejected with 504 at 64·T1.
    let sent: Vec<f64> = net
        .wire
        .iter()
        .filter(|s| s.first_line().starts_with("SIP/2.0 180"))
        .map(|s| (s.at - t0).as_secs_f64())
        .collect();
    assert_eq!(sent, vec![0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]);
    let r504 = net
        .wire
        .iter()
        .find(|s| s.first_line().starts_with("SIP/2.0 504"))
        .unwrap();
    assert_eq!((r504.at - t0).as_secs_f64(), 32.0);
    assert_eq!(net.take(b), vec![UaEvent::PrackTimeout { call: inc }]);
    let ev = net.take(a);
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, UaEvent::Progress { .. }))
            .count(),
        1,
        "retransmissions are not reported again"
    );
    assert!(
        matches!(ev.last(), Some(UaEvent::Failed { status: 504, .. })),
        "{ev:?}"
    );
    let _ = call;
}

#[test]
fn second_reliable_provisional_waits_for_the_first_prack() {
    let (mut net, a, b) = pair(false, true);
    let now = net.now;
    net.ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b).ring(now, inc, 180, false, true).unwrap();
    net.ua(b).ring(now, inc, 183, true, true).unwrap();
    assert_eq!(net.count("SIP/2.0 183"), 0);
    net.run(ms(200));
    let rseqs: Vec<u32> = net
        .wire
        .iter()
        .filter(|s| s.first_line().starts_with("SIP/2.0 18"))
        .map(|s| {
            Response::parse(&s.bytes)
                .unwrap()
                .headers
                .rseq()
                .unwrap()
                .unwrap()
        })
        .collect();
    assert_eq!(rseqs.len(), 2);
    assert_eq!(rseqs[1], rseqs[0] + 1);
    assert_eq!(net.count("PRACK"), 2);
    let ev = net.take(a);
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, UaEvent::Progress { reliable: true, .. }))
            .count(),
        2
    );
}

#[test]
fn require_and_support_decide_reliability() {
    // The caller requires 100rel: even a plain ring is reliable.
    let (mut net, a, b) = pair(true, true);
    let now = net.now;
    net.ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b).ring(now, inc, 180, false, false).unwrap();
    net.run(ms(100));
    assert_eq!(net.count("PRACK"), 1);

    // A callee without 100rel support rejects a required 100rel with 420.
    let (mut net, a, b) = pair(true, false);
    let now = net.now;
    net.ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(100));
    let ev = net.take(a);
    assert!(
        matches!(&ev[..], [UaEvent::Failed { status: 420, .. }]),
        "{ev:?}"
    );
    let r420 = net
        .wire
        .iter()
        .find(|s| s.first_line().starts_with("SIP/2.0 420"))
        .unwrap();
    assert_eq!(
        Response::parse(&r420.bytes)
            .unwrap()
            .headers
            .get(HeaderName::Unsupported),
        Some("100rel")
    );

    // A caller that only supports 100rel, to a callee that asks for reliability.
    let (mut net, a, b) = pair(false, true);
    let now = net.now;
    net.ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b).ring(now, inc, 180, false, false).unwrap();
    net.run(ms(100));
    assert_eq!(net.count("PRACK"), 0, "not asked for: unreliable");
}
