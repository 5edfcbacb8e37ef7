//! Call transfer between in-memory user agents: blind (REFER, Referred-By, NOTIFY with
//! sipfrag) and consultative (REFER with Replaces, RFC 3891).

mod sip_support;

use sip_support::*;
use std::net::SocketAddr;
use voicetwin::sip::ua::{CallHandle, CallParams, EndReason, UaConfig, UaEvent};
use voicetwin::sip::wire::{HeaderName, Request};

fn connect(
    net: &mut Net,
    from: SocketAddr,
    to: SocketAddr,
    user: &str,
) -> (CallHandle, CallHandle) {
    let now = net.now;
    let call = net
        .ua(from)
        .call(now, CallParams::new(uri_of(user, to)))
        .unwrap();
    net.run(ms(50));
    let inc = net.incoming(to);
    let now = net.now;
    net.ua(to).answer(now, inc).unwrap();
    net.run(ms(50));
    assert!(matches!(&net.take(from)[..], [UaEvent::Answered { .. }]));
    assert!(matches!(&net.take(to)[..], [UaEvent::Confirmed { .. }]));
    (call, inc)
}

fn three() -> (Net, SocketAddr, SocketAddr, SocketAddr) {
    let mut net = Net::new();
    let a = net.add_ua(UaConfig::new("alice", addr("10.0.0.1:5060")));
    let b = net.add_ua(UaConfig::new("bob", addr("10.0.0.2:5060")));
    let c = net.add_ua(UaConfig::new("carol", addr("10.0.0.3:5060")));
    (net, a, b, c)
}

#[test]
fn blind_transfer() {
    let (mut net, a, b, c) = three();
    let (a_call, b_call) = connect(&mut net, a, b, "bob");
    // Bob (transferor) sends Alice (transferee) to Carol.
    let now = net.now;
    net.ua(b)
        .refer(now, b_call, uri_of("carol", c), None)
        .unwrap();
    net.run(ms(50));
    let ev = net.take(a);
    let [
        UaEvent::ReferRequested {
            call,
            refer,
            target,
            referred_by: Some(rb),
            replaces: None,
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(*call, a_call);
    assert_eq!(target.uri, uri_of("carol", c));
    assert_eq!(
        rb.uri.to_string(),
        "sip:bob@10.0.0.2:5060",
        "Bob's address of record in this dialog"
    );
    let refer = *refer;
    let rb = rb.clone();
    assert_eq!(
        net.take(b),
        vec![
            UaEvent::ReferStatus {
                call: b_call,
                status: 202,
                last: false
            },
            UaEvent::ReferStatus {
                call: b_call,
                status: 100,
                last: false
            },
        ]
    );
    // Alice calls Carol, saying who referred her.
    let now = net.now;
    let mut p = CallParams::new(target.uri.clone());
    p.referred_by = Some(*rb);
    let a_new = net.ua(a).call(now, p).unwrap();
    net.run(ms(50));
    let ev = net.take(c);
    let [
        UaEvent::IncomingCall {
            call: c_call,
            request,
            ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(
        request
            .headers
            .referred_by()
            .unwrap()
            .unwrap()
            .uri
            .to_string(),
        "sip:bob@10.0.0.2:5060"
    );
    let c_call = *c_call;
    let now = net.now;
    net.ua(c).answer(now, c_call).unwrap();
    net.run(ms(50));
    assert!(matches!(&net.take(a)[..], [UaEvent::Answered { call, .. }] if *call == a_new));
    // Report success; Bob then hangs up on Alice.
    let now = net.now;
    net.ua(a).notify_refer(now, a_call, refer, 200).unwrap();
    net.run(ms(50));
    assert_eq!(
        net.take(b),
        vec![UaEvent::ReferStatus {
            call: b_call,
            status: 200,
            last: true
        }]
    );
    let notify = net
        .wire
        .iter()
        .rev()
        .find(|s| s.first_line().starts_with("NOTIFY"))
        .unwrap();
    let notify = Request::parse(&notify.bytes).unwrap();
    assert_eq!(
        notify.headers.get(HeaderName::Event),
        Some("refer;id=1"),
        "the CSeq of Bob's first request in the dialog"
    );
    assert_eq!(
        notify.headers.get(HeaderName::SubscriptionState),
        Some("terminated;reason=noresource")
    );
    assert_eq!(
        notify.headers.get(HeaderName::ContentType),
        Some("message/sipfrag;version=2.0")
    );
    assert_eq!(&notify.body[..], b"SIP/2.0 200 OK\r\n");
    let now = net.now;
    net.ua(b).hangup(now, b_call).unwrap();
    net.run(ms(50));
    assert_eq!(
        net.take(a),
        vec![UaEvent::Terminated {
            call: a_call,
            reason: EndReason::RemoteBye
        }]
    );
    assert_eq!(net.ua(a).active_calls(), 1);
    assert!(net.ua(a).notify_refer(now, a_call, refer, 200).is_err());
}

#[test]
fn consultative_transfer_with_replaces() {
    let (mut net, a, b, c) = three();
    // Alice talks to Bob, puts him on hold and consults Carol.
    let (ab, ba) = connect(&mut net, a, b, "bob");
    let now = net.now;
    net.ua(a)
        .hold(now, ab, voicetwin::sip::sdp::Direction::SendOnly)
        .unwrap();
    net.run(ms(100));
    net.take(a);
    net.take(b);
    let (ac, ca) = connect(&mut net, a, c, "carol");
    // Alice transfers Bob to Carol, replacing her own call with Carol.
    let now = net.now;
    net.ua(a)
        .refer(now, ab, uri_of("carol", c), Some(ac))
        .unwrap();
    net.run(ms(50));
    let ev = net.take(b);
    let [
        UaEvent::ReferRequested {
            refer,
            target,
            referred_by,
            replaces: Some(rep),
            ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    let d = net.ua(a).dialog(ac).unwrap().clone();
    assert_eq!(rep.call_id, d.id.call_id);
    assert_eq!(rep.to_tag, d.id.remote_tag, "Carol's local tag");
    assert_eq!(rep.from_tag, d.id.local_tag, "Alice's tag");
    assert!(target.uri.as_sip().unwrap().headers.is_empty());
    let (refer, target, rep, rb) = (*refer, target.clone(), rep.clone(), referred_by.clone());
    // Bob calls Carol with Replaces.
    let now = net.now;
    let mut p = CallParams::new(target.uri);
    p.replaces = Some(rep);
    p.referred_by = rb.map(|b| *b);
    let bc = net.ua(b).call(now, p).unwrap();
    net.run(ms(50));
    let ev = net.take(c);
    let [
        UaEvent::IncomingCall {
            call: cb,
            replaces: Some(old),
            ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(*old, ca);
    let cb = *cb;
    let now = net.now;
    net.ua(c).answer(now, cb).unwrap();
    net.run(ms(50));
    // Carol's old call with Alice is ended by Carol.
    assert_eq!(
        net.take(c),
        vec![
            UaEvent::Terminated {
                call: ca,
                reason: EndReason::Replaced
            },
            UaEvent::Confirmed {
                call: cb,
                media: net.ua(c).media(cb).cloned()
            },
        ]
    );
    let ea = net.take(a);
    assert!(
        ea.contains(&UaEvent::ReferStatus {
            call: ab,
            status: 202,
            last: false
        }),
        "{ea:?}"
    );
    assert_eq!(
        ea.last(),
        Some(&UaEvent::Terminated {
            call: ac,
            reason: EndReason::RemoteBye
        })
    );
    assert!(matches!(&net.take(b)[..], [UaEvent::Answered { call, .. }] if *call == bc));
    // Bob reports, Alice hangs up on Bob: Bob and Carol remain.
    let now = net.now;
    net.ua(b).notify_refer(now, ba, refer, 200).unwrap();
    net.run(ms(50));
    assert!(net.take(a).contains(&UaEvent::ReferStatus {
        call: ab,
        status: 200,
        last: true
    }));
    let now = net.now;
    net.ua(a).hangup(now, ab).unwrap();
    net.run(ms(50));
    assert_eq!(
        net.take(b),
        vec![UaEvent::Terminated {
            call: ba,
            reason: EndReason::RemoteBye
        }]
    );
    assert_eq!(net.ua(b).active_calls(), 1);
    assert_eq!(net.ua(c).active_calls(), 1);
}

#[test]
fn replaces_for_an_unknown_dialog_gets_481() {
    let (mut net, a, b, _c) = three();
    let now = net.now;
    let mut p = CallParams::new(uri_of("bob", b));
    p.replaces = Some(voicetwin::sip::wire::Replaces {
        call_id: "nope@x".into(),
        to_tag: "1".into(),
        from_tag: "2".into(),
        early_only: false,
    });
    net.ua(a).call(now, p).unwrap();
    net.run(ms(100));
    assert!(matches!(
        &net.take(a)[..],
        [UaEvent::Failed { status: 481, .. }]
    ));
    assert!(net.take(b).is_empty());
}

#[test]
fn refer_rejected_without_refer_to() {
    let (mut net, a, b, _c) = three();
    let (_ab, ba) = connect(&mut net, a, b, "bob");
    // Hand-craft a REFER without Refer-To inside the dialog.
    let d = net.ua(b).dialog(ba).unwrap().clone();
    let text = format!(
        "REFER sip:alice@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKhand\r\nMax-Forwards: 70\r\nFrom: <sip:bob@10.0.0.2>;tag={}\r\nTo: <sip:alice@10.0.0.1>;tag={}\r\nCall-ID: {}\r\nCSeq: 99 REFER\r\nContact: <sip:bob@10.0.0.2>\r\n\r\n",
        d.id.local_tag, d.id.remote_tag, d.id.call_id
    );
    net.inject(b, a, text.as_bytes());
    net.run(ms(50));
    assert!(
        net.lines(a, b)
            .contains(&"SIP/2.0 400 Bad Request".to_string())
    );
}
