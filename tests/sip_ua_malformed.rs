//! What a user agent answers to malformed, unsupported and out-of-dialog requests
//! (RFC 3261 §8.2, RFC 4475 application-level vectors). Nothing panics, nothing is left
//! behind.

mod sip_support;

use sip_support::*;
use voicetwin::sip::ua::UaConfig;
use voicetwin::sip::wire::{HeaderName, Response};

/// Sends `bytes` from a fake peer to a fresh UA and returns its responses.
fn answers(bytes: &[u8]) -> Vec<Response> {
    let mut net = Net::new();
    let ua = net.add_ua(UaConfig::new("uas", addr("192.0.2.1:5060")));
    let peer = addr("192.0.2.99:5060");
    net.inject(peer, ua, bytes);
    net.run(secs(1));
    let out: Vec<Response> = net
        .wire
        .iter()
        .filter(|s| s.src == ua)
        .map(|s| Response::parse(&s.bytes).expect("the UA sends valid responses"))
        .collect();
    net.run(secs(60));
    // Nothing is left behind, except a new call waiting for the application to answer.
    let waiting = usize::from(out.iter().any(|r| r.status == 100));
    assert_eq!(net.ua(ua).active_calls(), waiting);
    assert_eq!(net.ua(ua).transactions(), waiting);
    out
}

fn status_of(name: &str) -> (u16, Response) {
    let r = answers(&load(name));
    assert!(!r.is_empty(), "{name}: no response");
    let last = r.last().unwrap().clone();
    (last.status, last)
}

#[test]
fn rfc4475_vectors_get_the_rfc_response() {
    let cases: &[(&str, u16)] = &[
        ("ltgtruri", 400),
        ("lwsruri", 400),
        ("lwsstart", 400),
        ("trws", 400),
        ("badinv01", 400),
        ("clerr", 400),
        ("ncl", 400),
        ("mcl01", 400),
        ("scalar02", 400),
        ("quotbal", 400),
        ("escruri", 400),
        ("baddate", 400),
        ("regbadct", 400),
        ("badaspec", 400),
        ("baddn", 400),
        ("insuf", 400),
        ("multi01", 400),
        ("badbranch", 400),
        ("badvers", 505),
        ("mismatch01", 400),
        ("mismatch02", 501),
        ("unkscm", 416),
        ("novelsc", 416),
        ("bext01", 420),
        ("invut", 415),
        ("sdp01", 406),
        ("zeromf", 200),
        ("intmeth", 501),
        ("esc02", 501),
        ("escnull", 405),
        ("unksm2", 405),
        ("regaut01", 405),
        ("cparam01", 405),
        ("mpart01", 405),
        ("semiuri", 200),
        ("lwsdisp", 200),
        ("transports", 200),
    ];
    for &(name, want) in cases {
        let (got, resp) = status_of(name);
        assert_eq!(got, want, "{name}: {} {}", resp.status, resp.reason);
    }
    let (_, r) = status_of("bext01");
    assert_eq!(
        r.headers.get(HeaderName::Unsupported),
        Some("nothingSupportsThis, nothingSupportsThisEither")
    );
    let (_, r) = status_of("invut");
    assert_eq!(r.headers.get(HeaderName::Accept), Some("application/sdp"));
    let (_, r) = status_of("escnull");
    assert!(r.headers.get(HeaderName::Allow).unwrap().contains("INVITE"));
    let (_, r) = status_of("insuf");
    assert!(r.reason.contains("Missing"), "{}", r.reason);
    // Valid INVITEs with SDP become calls: the UA sends 100 Trying and waits.
    // wsinv has a To tag: a re-INVITE for a dialog this UA does not have.
    assert_eq!(status_of("wsinv").0, 481);
    for name in ["esc01", "longreq"] {
        let r = answers(&load(name));
        assert_eq!(
            r.iter().map(|x| x.status).collect::<Vec<_>>(),
            vec![100],
            "{name}"
        );
    }
    // Responses that match nothing are dropped silently.
    for name in ["bcast", "unreason", "noreason", "scalarlg", "bigcode"] {
        assert!(answers(&load(name)).is_empty(), "{name}");
    }
}

#[test]
fn out_of_dialog_and_unknown_methods() {
    let base = |m: &str, to_tag: &str| {
        format!(
            "{m} sip:uas@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.99;branch=z9hG4bK{m}\r\nMax-Forwards: 70\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:uas@192.0.2.1>{to_tag}\r\nCall-ID: c-{m}\r\nCSeq: 1 {m}\r\nContact: <sip:x@192.0.2.99>\r\n\r\n"
        )
    };
    for (m, tag, want) in [
        ("BYE", "", 481),
        ("BYE", ";tag=nope", 481),
        ("CANCEL", "", 481),
        ("PRACK", "", 481),
        ("UPDATE", ";tag=nope", 481),
        ("NOTIFY", ";tag=nope", 481),
        ("REGISTER", "", 405),
        ("SUBSCRIBE", "", 405),
        ("MESSAGE", "", 405),
        ("FOO", "", 501),
        ("OPTIONS", "", 200),
        ("INFO", ";tag=nope", 481),
    ] {
        let r = answers(base(m, tag).as_bytes());
        assert_eq!(r.last().map(|x| x.status), Some(want), "{m}{tag}");
    }
    // An ACK that matches nothing gets nothing.
    assert!(answers(base("ACK", ";tag=x").as_bytes()).is_empty());
}

#[test]
fn offers_without_a_common_codec_get_488() {
    let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.99\r\ns=-\r\nc=IN IP4 192.0.2.99\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n";
    let inv = format!(
        "INVITE sip:uas@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.99;branch=z9hG4bK488\r\nMax-Forwards: 70\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:uas@192.0.2.1>\r\nCall-ID: c488\r\nCSeq: 1 INVITE\r\nContact: <sip:x@192.0.2.99>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    let r = answers(inv.as_bytes());
    let statuses: Vec<u16> = r.iter().map(|x| x.status).collect();
    // 488 is retransmitted (Timer G) because the fake peer never ACKs.
    assert!(statuses.iter().all(|s| *s == 488), "{statuses:?}");
    assert_eq!(r[0].reason, "Not Acceptable Here");
    assert!(r[0].headers.to_addr().unwrap().tag().is_some());
}

#[test]
fn garbage_never_panics_and_gets_no_answer() {
    for junk in [
        &b""[..],
        b"\r\n\r\n",
        b"\x00\xff\xfe",
        b"SIP/2.0",
        b"INVITE",
        b"INVITE sip:x SIP/2.0\r\n",
    ] {
        assert!(answers(junk).is_empty());
    }
}

#[test]
fn ua_and_proxy_survive_mutated_traffic() {
    use voicetwin::sim::{RngFactory, SimDuration, SimTime};
    use voicetwin::sip::proxy::{ProxyConfig, ProxyCore};
    use voicetwin::sip::ua::UserAgent;
    let names = [
        "wsinv", "esc01", "longreq", "dblreq", "mpart01", "unreason", "bcast", "inv2543", "zeromf",
        "cparam02",
    ];
    let mut ua = UserAgent::new(
        UaConfig::new("uas", addr("192.0.2.1:5060")),
        RngFactory::new(1).stream("ua", "x"),
    );
    let mut px = ProxyCore::new(
        ProxyConfig::new(addr("192.0.2.2:5060")),
        RngFactory::new(1).stream("px", "x"),
    );
    let peer = addr("192.0.2.99:5060");
    let mut now = SimTime::ZERO;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in names {
        let base = load(name);
        for _ in 0..300 {
            let mut m = base.clone();
            for _ in 0..(next() % 4) {
                let i = (next() as usize) % m.len();
                m[i] = (next() & 0xff) as u8;
            }
            let cut = (next() as usize) % (m.len() + 1);
            m.truncate(cut.max(m.len() / 2));
            ua.handle_datagram(now, peer, &m);
            px.handle_datagram(now, peer, &m);
            while let Some(e) = ua.poll_event() {
                if let voicetwin::sip::ua::UaEvent::IncomingCall { call, .. } = e {
                    let _ = ua.answer(now, call);
                }
            }
            while let Some(e) = px.poll_event() {
                element(&mut px, now, e, peer);
            }
            while ua.poll_transmit().is_some() {}
            while px.poll_transmit().is_some() {}
            now += SimDuration::from_millis(7);
            ua.handle_timeout(now);
            px.handle_timeout(now);
        }
    }
    // Everything times out eventually.
    let end = now + SimDuration::from_secs(120);
    while let Some(t) = ua.poll_timeout().into_iter().chain(px.poll_timeout()).min() {
        if t > end {
            break;
        }
        ua.handle_timeout(t);
        px.handle_timeout(t);
        while ua.poll_transmit().is_some() {}
        while px.poll_transmit().is_some() {}
        while ua.poll_event().is_some() {}
        while let Some(e) = px.poll_event() {
            element(&mut px, t, e, peer);
        }
    }
    assert_eq!(px.transactions(), 0);
    assert_eq!(
        px.contexts(),
        0,
        "forwarded requests time out and are answered"
    );
}

/// A trivial routing element: everything to `peer`, failures answered upstream.
fn element(
    px: &mut voicetwin::sip::proxy::ProxyCore,
    now: voicetwin::sim::SimTime,
    e: voicetwin::sip::proxy::ProxyEvent,
    peer: std::net::SocketAddr,
) {
    use voicetwin::sip::proxy::{ProxyEvent, Target};
    match e {
        ProxyEvent::Request { ctx, .. } => {
            let _ = px.forward(
                now,
                ctx,
                Target {
                    request_uri: None,
                    next_hop: peer,
                },
            );
        }
        ProxyEvent::BranchFailed { ctx, .. } => {
            let _ = px.finish(now, ctx);
        }
        ProxyEvent::Completed { .. } => {}
    }
}
