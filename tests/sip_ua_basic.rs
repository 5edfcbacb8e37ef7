//! Two user agents in memory: basic call, CANCEL, 603, 486, 302, OPTIONS, late offer.

mod sip_support;

use sip_support::*;
use voicetwin::sip::sdp::Direction;
use voicetwin::sip::ua::{CallParams, EndReason, UaConfig, UaEvent};
use voicetwin::sip::wire::NameAddr;

fn pair() -> (Net, std::net::SocketAddr, std::net::SocketAddr) {
    let mut net = Net::new();
    let a = net.add_ua(UaConfig::new("alice", addr("10.0.0.1:5060")));
    let b = net.add_ua(UaConfig::new("bob", addr("10.0.0.2:5060")));
    (net, a, b)
}

#[test]
fn basic_call_seven_messages() {
    let (mut net, a, b) = pair();
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b).ring(now, inc, 180, false, false).unwrap();
    net.run(ms(50));
    let ev = net.take(a);
    assert!(
        matches!(
            &ev[..],
            [UaEvent::Progress {
                status: 180,
                reliable: false,
                media: None,
                ..
            }]
        ),
        "{ev:?}"
    );
    let now = net.now;
    net.ua(b).answer(now, inc).unwrap();
    net.run(ms(50));
    let ev = net.take(a);
    let UaEvent::Answered { media: Some(m), .. } = &ev[0] else {
        panic!("{ev:?}")
    };
    assert_eq!(m.codec.name, "PCMU");
    assert_eq!(m.direction, Direction::SendRecv);
    assert_eq!(m.remote_address, "10.0.0.2");
    let ev = net.take(b);
    assert!(
        matches!(&ev[..], [UaEvent::Confirmed { media: Some(_), .. }]),
        "{ev:?}"
    );
    let now = net.now;
    net.ua(a).hangup(now, call).unwrap();
    net.run(ms(50));
    assert_eq!(
        net.take(a),
        vec![UaEvent::Terminated {
            call,
            reason: EndReason::LocalBye
        }]
    );
    assert_eq!(
        net.take(b),
        vec![UaEvent::Terminated {
            call: inc,
            reason: EndReason::RemoteBye
        }]
    );
    assert_eq!(
        net.ladder(),
        vec![
            "5060>5060 INVITE sip:bob@10.0.0.2:5060 SIP/2.0",
            "5060>5060 SIP/2.0 100 Trying",
            "5060>5060 SIP/2.0 180 Ringing",
            "5060>5060 SIP/2.0 200 OK",
            "5060>5060 ACK sip:bob@10.0.0.2:5060 SIP/2.0",
            "5060>5060 BYE sip:bob@10.0.0.2:5060 SIP/2.0",
            "5060>5060 SIP/2.0 200 OK",
        ]
    );
    // Everything is cleaned up once the transactions have run out.
    net.run(secs(40));
    assert_eq!(net.ua(a).active_calls(), 0);
    assert_eq!(net.ua(b).active_calls(), 0);
    assert_eq!(net.ua(a).transactions(), 0);
    assert_eq!(net.ua(b).transactions(), 0);
    assert_eq!(net.ua(a).poll_timeout(), None);
    assert_eq!(net.ua(b).poll_timeout(), None);
}

#[test]
fn cancel_before_answer() {
    let (mut net, a, b) = pair();
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    // Cancel at once: held until a provisional arrives (§9.1).
    net.ua(a).cancel(now, call).unwrap();
    assert_eq!(net.count("CANCEL"), 0);
    net.run(ms(15));
    let inc = net.incoming(b);
    net.run(ms(100));
    assert_eq!(net.take(b), vec![UaEvent::Cancelled { call: inc }]);
    let ev = net.take(a);
    assert!(
        matches!(&ev[..], [UaEvent::Failed { status: 487, .. }]),
        "{ev:?}"
    );
    assert_eq!(net.count("CANCEL"), 1);
    assert_eq!(net.count("ACK"), 1, "the 487 is ACKed by the transaction");
    let _ = inc;
}

#[test]
fn decline_busy_and_redirect() {
    for (status, reason) in [(603, "Decline"), (486, "Busy Here")] {
        let (mut net, a, b) = pair();
        let now = net.now;
        let call = net
            .ua(a)
            .call(now, CallParams::new(uri_of("bob", b)))
            .unwrap();
        net.run(ms(50));
        let inc = net.incoming(b);
        let now = net.now;
        net.ua(b).reject(now, inc, status, reason, &[]).unwrap();
        net.run(ms(50));
        let ev = net.take(a);
        assert_eq!(
            ev,
            vec![UaEvent::Failed {
                call,
                status,
                reason: reason.into(),
                contacts: vec![]
            }]
        );
        assert!(
            net.lines(b, a)
                .contains(&format!("SIP/2.0 {status} {reason}"))
        );
        assert_eq!(
            net.lines(a, b).last().unwrap(),
            &format!("ACK sip:bob@{b} SIP/2.0")
        );
    }

    // 302 to a third UA: the caller follows it.
    let (mut net, a, b) = pair();
    let c = net.add_ua(UaConfig::new("carol", addr("10.0.0.3:5060")));
    let now = net.now;
    let call = net
        .ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b)
        .reject(
            now,
            inc,
            302,
            "Moved Temporarily",
            &[NameAddr::new(uri_of("carol", c))],
        )
        .unwrap();
    net.run(ms(50));
    let ev = net.take(a);
    assert!(
        matches!(&ev[..], [UaEvent::Redirected { status: 302, target, .. }] if *target == uri_of("carol", c)),
        "{ev:?}"
    );
    let inc_c = net.incoming(c);
    let now = net.now;
    net.ua(c).answer(now, inc_c).unwrap();
    net.run(ms(50));
    assert!(matches!(&net.take(a)[..], [UaEvent::Answered { call: x, .. }] if *x == call));
    assert_eq!(
        net.ua(a).dialog(call).unwrap().remote_target,
        uri_of("carol", c)
    );

    // Without following, the caller gets the contacts.
    let mut net = Net::new();
    let mut cfg = UaConfig::new("alice", addr("10.0.0.1:5060"));
    cfg.follow_redirects = false;
    let a = net.add_ua(cfg);
    let b = net.add_ua(UaConfig::new("bob", addr("10.0.0.2:5060")));
    let now = net.now;
    net.ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let now = net.now;
    let vm = NameAddr::new(uri_of("vm", addr("10.0.0.9:5060")));
    net.ua(b)
        .reject(
            now,
            inc,
            302,
            "Moved Temporarily",
            std::slice::from_ref(&vm),
        )
        .unwrap();
    net.run(ms(50));
    let ev = net.take(a);
    assert!(
        matches!(&ev[..], [UaEvent::Failed { status: 302, contacts, .. }] if contacts[0].uri == vm.uri),
        "{ev:?}"
    );
}

#[test]
fn options_both_ways() {
    let (mut net, a, b) = pair();
    let now = net.now;
    let h = net.ua(a).options(now, uri_of("bob", b), None).unwrap();
    net.run(ms(50));
    assert_eq!(
        net.take(a),
        vec![UaEvent::OptionsResult {
            request: h,
            status: 200
        }]
    );
    let resp = net.wire.iter().find(|s| s.src == b).unwrap();
    let text = String::from_utf8_lossy(&resp.bytes);
    assert!(
        text.contains(
            "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, REFER, NOTIFY, INFO"
        )
    );
    assert!(text.contains("Accept: application/sdp"));
    // To a host that never answers: 408 after Timer F.
    let now = net.now;
    let h = net
        .ua(a)
        .options(now, uri_of("nobody", addr("10.0.0.99:5060")), None)
        .unwrap();
    net.run(secs(40));
    assert_eq!(
        net.take(a),
        vec![UaEvent::OptionsResult {
            request: h,
            status: 408
        }]
    );
}

#[test]
fn late_offer_answer_in_ack() {
    let (mut net, a, b) = pair();
    let now = net.now;
    let mut p = CallParams::new(uri_of("bob", b));
    p.offer = voicetwin::sip::ua::Offer::None;
    let call = net.ua(a).call(now, p).unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b).answer(now, inc).unwrap();
    net.run(ms(50));
    assert!(matches!(
        &net.take(a)[..],
        [UaEvent::Answered { media: Some(_), .. }]
    ));
    assert!(matches!(
        &net.take(b)[..],
        [UaEvent::Confirmed { media: Some(_), .. }]
    ));
    let ack = net
        .wire
        .iter()
        .find(|s| s.first_line().starts_with("ACK"))
        .unwrap();
    assert!(String::from_utf8_lossy(&ack.bytes).contains("m=audio"));
    let _ = call;
}

#[test]
fn lost_200_is_retransmitted_and_lost_ack_is_recovered() {
    let (mut net, a, b) = pair();
    // Lose the first 200 OK and the first ACK.
    let mut lost_200 = false;
    let mut lost_ack = false;
    net.drop = Some(Box::new(move |s: &Seen| {
        let l = s.first_line();
        if l.starts_with("SIP/2.0 200") && !lost_200 {
            lost_200 = true;
            return true;
        }
        if l.starts_with("ACK") && !lost_ack {
            lost_ack = true;
            return true;
        }
        false
    }));
    let now = net.now;
    net.ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b).answer(now, inc).unwrap();
    net.run(secs(3));
    assert!(matches!(&net.take(a)[..], [UaEvent::Answered { .. }]));
    assert!(matches!(&net.take(b)[..], [UaEvent::Confirmed { .. }]));
    assert_eq!(
        net.count("SIP/2.0 200"),
        3,
        "2xx sent, retransmitted at T1 and 2T1"
    );
    assert_eq!(
        net.count("ACK"),
        2,
        "the ACK is repeated for the retransmitted 2xx"
    );
}

#[test]
fn no_ack_ends_the_call_with_bye() {
    let (mut net, a, b) = pair();
    net.drop = Some(Box::new(|s: &Seen| s.first_line().starts_with("ACK")));
    let now = net.now;
    net.ua(a)
        .call(now, CallParams::new(uri_of("bob", b)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(b);
    let now = net.now;
    net.ua(b).answer(now, inc).unwrap();
    net.run(secs(40));
    let ev = net.take(b);
    assert_eq!(
        ev,
        vec![UaEvent::Terminated {
            call: inc,
            reason: EndReason::NoAck
        }]
    );
    // 2xx at 0, .5, 1.5, 3.5, 7.5, 11.5 ... every T2 until 32 s: 11 sends in all.
    assert_eq!(net.count("SIP/2.0 200 OK") - 1, 11, "{:#?}", net.ladder());
}

/// A complete call with hold, PRACK and BYE under `seed`; every byte on the wire.
fn wire_of(seed: u64) -> Vec<(u64, Vec<u8>)> {
    let mut net = Net::with_seed(seed);
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
    net.run(ms(50));
    let now = net.now;
    net.ua(b).answer(now, inc).unwrap();
    net.run(ms(50));
    let now = net.now;
    net.ua(a).hold(now, call, Direction::Inactive).unwrap();
    net.run(ms(50));
    let now = net.now;
    net.ua(a).hangup(now, call).unwrap();
    net.run(secs(40));
    net.wire
        .iter()
        .map(|s| (s.at.as_nanos(), s.bytes.to_vec()))
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_identifiers() {
    let digest = |w: &[(u64, Vec<u8>)]| {
        let mut h = voicetwin::sim::Fnv1a::new();
        for (t, b) in w {
            h.write_u64(*t);
            h.write(b);
        }
        h.finish()
    };
    let one = wire_of(42);
    assert_eq!(digest(&one), digest(&wire_of(42)), "byte-identical replay");
    let other = wire_of(43);
    assert_eq!(one.len(), other.len(), "same flow");
    let times = |w: &[(u64, Vec<u8>)]| w.iter().map(|x| x.0).collect::<Vec<_>>();
    assert_eq!(times(&one), times(&other), "same timing");
    assert_ne!(
        digest(&one),
        digest(&other),
        "Call-IDs, tags and branches follow the seed"
    );
    // Nothing looks like a UUID: identifiers are hex from the seeded stream.
    let text = String::from_utf8_lossy(&one[0].1).to_string();
    let call_id = text
        .lines()
        .find_map(|l| l.strip_prefix("Call-ID: "))
        .unwrap();
    let (id, host) = call_id.split_once('@').unwrap();
    assert!(
        host == "10.0.0.1" && id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{call_id}"
    );
}
