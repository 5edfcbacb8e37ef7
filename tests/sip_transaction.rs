//! RFC 3261 §17 transactions in virtual time: retransmission schedules, timeouts,
//! reliable transports, ACK handling and matching keys.

use std::net::SocketAddr;
use voicetwin::sim::{SimDuration, SimTime};
use voicetwin::sip::Transport;
use voicetwin::sip::transaction::{
    InviteClient, InviteServer, KeyMethod, NonInviteClient, NonInviteServer, Timers, Transaction,
    TxEvent, TxKey, response_destination,
};
use voicetwin::sip::wire::{
    HeaderName, Method, Policy, Request, Response, Uri, Via, check_request, make_response,
};

fn dst() -> SocketAddr {
    "192.0.2.20:5060".parse().unwrap()
}

fn request(method: Method) -> Request {
    let text = format!(
        "{m} sip:bob@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKtx1\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCall-ID: tx@192.0.2.10\r\nCSeq: 1 {m}\r\nRoute: <sip:p1.example.com;lr>\r\n\r\n",
        m = method
    );
    Request::parse(text.as_bytes()).unwrap()
}

fn response_to(req: &Request, status: u16) -> Response {
    make_response(
        req,
        status,
        voicetwin::sip::wire::reason_phrase(status),
        Some("b"),
    )
}

/// Runs a transaction alone until `until`, returning when it sent something and what it
/// reported.
fn run(tx: &mut Transaction, until: SimTime) -> (Vec<SimTime>, Vec<(SimTime, TxEvent)>) {
    let mut sent = Vec::new();
    let mut events = Vec::new();
    let mut now = SimTime::ZERO;
    loop {
        while tx.poll_transmit().is_some() {
            sent.push(now);
        }
        match tx.next_timeout() {
            Some(t) if t <= until => {
                now = t;
                if let Some(e) = tx.on_timeout(now) {
                    events.push((now, e));
                }
            }
            _ => break,
        }
    }
    (sent, events)
}

fn secs(v: &[f64]) -> Vec<SimTime> {
    v.iter()
        .map(|s| SimTime::ZERO + SimDuration::from_secs_f64(*s))
        .collect()
}

#[test]
fn unanswered_udp_invite_is_retransmitted_then_times_out_at_32s() {
    let mut tx = Transaction::InviteClient(InviteClient::new(
        SimTime::ZERO,
        request(Method::Invite),
        dst(),
        Transport::Udp,
        Timers::default(),
    ));
    let (sent, events) = run(&mut tx, SimTime::from_secs(100));
    assert_eq!(sent, secs(&[0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]));
    assert_eq!(events, vec![(SimTime::from_secs(32), TxEvent::Timeout)]);
    assert!(tx.is_terminated());
}

#[test]
fn non_invite_retransmissions_are_capped_at_t2() {
    let mut tx = Transaction::NonInviteClient(NonInviteClient::new(
        SimTime::ZERO,
        request(Method::Options),
        dst(),
        Transport::Udp,
        Timers::default(),
    ));
    let (sent, events) = run(&mut tx, SimTime::from_secs(100));
    assert_eq!(
        sent,
        secs(&[0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5])
    );
    assert_eq!(events, vec![(SimTime::from_secs(32), TxEvent::Timeout)]);
}

#[test]
fn no_retransmissions_over_tcp_or_tls() {
    for transport in [Transport::Tcp, Transport::Tls] {
        let mut inv = Transaction::InviteClient(InviteClient::new(
            SimTime::ZERO,
            request(Method::Invite),
            dst(),
            transport,
            Timers::default(),
        ));
        let (sent, events) = run(&mut inv, SimTime::from_secs(100));
        assert_eq!(sent, secs(&[0.0]));
        assert_eq!(events, vec![(SimTime::from_secs(32), TxEvent::Timeout)]);
        let mut nict = Transaction::NonInviteClient(NonInviteClient::new(
            SimTime::ZERO,
            request(Method::Bye),
            dst(),
            transport,
            Timers::default(),
        ));
        let (sent, events) = run(&mut nict, SimTime::from_secs(100));
        assert_eq!(sent, secs(&[0.0]));
        assert_eq!(events, vec![(SimTime::from_secs(32), TxEvent::Timeout)]);
    }
}

#[test]
fn invite_client_stops_on_provisional_and_acks_failures() {
    let req = request(Method::Invite);
    let mut ict = InviteClient::new(
        SimTime::ZERO,
        req.clone(),
        dst(),
        Transport::Udp,
        Timers::default(),
    );
    assert!(ict.poll_transmit().is_some());
    let t1 = SimTime::from_millis(700);
    ict.on_timeout(SimTime::from_millis(500));
    assert!(ict.poll_transmit().is_some());
    let ringing = response_to(&req, 180);
    assert_eq!(
        ict.on_response(t1, ringing.clone()),
        Some(TxEvent::Response(ringing))
    );
    assert!(ict.is_proceeding());
    assert_eq!(ict.next_timeout(), None, "no timer A or B once proceeding");

    let busy = response_to(&req, 486);
    let t2 = SimTime::from_secs(5);
    assert!(
        matches!(ict.on_response(t2, busy.clone()), Some(TxEvent::Response(r)) if r.status == 486)
    );
    let ack = ict.poll_transmit().unwrap();
    let ack = Request::parse(&ack.bytes).unwrap();
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, req.uri);
    assert_eq!(ack.headers.cseq().unwrap().seq, 1);
    assert_eq!(ack.headers.cseq().unwrap().method, Method::Ack);
    assert_eq!(ack.headers.to_addr().unwrap().tag(), Some("b"));
    assert_eq!(ack.headers.via_top().unwrap().branch(), Some("z9hG4bKtx1"));
    assert_eq!(
        ack.headers.get(HeaderName::Route),
        Some("<sip:p1.example.com;lr>")
    );
    // A retransmitted 486 is absorbed and re-ACKed.
    assert_eq!(ict.on_response(t2 + SimDuration::from_secs(1), busy), None);
    assert!(ict.poll_transmit().is_some());
    // Timer D.
    assert_eq!(ict.next_timeout(), Some(t2 + SimDuration::from_secs(32)));
    ict.on_timeout(t2 + SimDuration::from_secs(32));
    assert!(ict.is_terminated());

    // Over TCP the transaction ends with the ACK.
    let mut ict = InviteClient::new(
        SimTime::ZERO,
        req.clone(),
        dst(),
        Transport::Tcp,
        Timers::default(),
    );
    ict.on_response(t1, response_to(&req, 603));
    assert!(ict.is_terminated());
}

#[test]
fn invite_client_hands_2xx_up_and_terminates() {
    let req = request(Method::Invite);
    let mut ict = InviteClient::new(
        SimTime::ZERO,
        req.clone(),
        dst(),
        Transport::Udp,
        Timers::default(),
    );
    let ok = response_to(&req, 200);
    assert_eq!(
        ict.on_response(SimTime::from_millis(40), ok.clone()),
        Some(TxEvent::Response(ok))
    );
    assert!(ict.is_terminated());
}

#[test]
fn non_invite_client_in_proceeding_retransmits_every_t2() {
    let req = request(Method::Bye);
    let mut tx = Transaction::NonInviteClient(NonInviteClient::new(
        SimTime::ZERO,
        req.clone(),
        dst(),
        Transport::Udp,
        Timers::default(),
    ));
    tx.poll_transmit();
    tx.on_timeout(SimTime::from_millis(500));
    tx.poll_transmit();
    tx.on_response(SimTime::from_millis(600), response_to(&req, 100));
    let mut sent = Vec::new();
    while let Some(t) = tx.next_timeout() {
        if tx.on_timeout(t).is_some() {
            assert_eq!(t, SimTime::from_secs(32));
            break;
        }
        while tx.poll_transmit().is_some() {
            sent.push(t);
        }
    }
    assert_eq!(sent, secs(&[1.5, 5.5, 9.5, 13.5, 17.5, 21.5, 25.5, 29.5]));
    // After a final response, Timer K (T4) absorbs retransmissions.
    let mut tx = NonInviteClient::new(
        SimTime::ZERO,
        req.clone(),
        dst(),
        Transport::Udp,
        Timers::default(),
    );
    let ok = response_to(&req, 200);
    assert!(tx.on_response(SimTime::from_secs(1), ok.clone()).is_some());
    assert!(tx.on_response(SimTime::from_secs(2), ok).is_none());
    assert_eq!(tx.next_timeout(), Some(SimTime::from_secs(6)));
}

#[test]
fn invite_server_retransmits_final_until_ack_then_timer_i() {
    let req = request(Method::Invite);
    let mut ist = InviteServer::new(dst(), Transport::Udp, Timers::default());
    ist.send_response(SimTime::ZERO, &response_to(&req, 180));
    assert!(ist.poll_transmit().is_some());
    // A retransmitted INVITE gets the last provisional again.
    assert!(ist.on_request(SimTime::from_millis(500), &req));
    assert!(ist.poll_transmit().is_some());
    ist.send_response(SimTime::from_secs(1), &response_to(&req, 486));
    let mut tx = Transaction::InviteServer(ist);
    // Timer G: 1.5, 2.5, 4.5, 8.5, then every T2; Timer H at 33 s.
    let (sent, events) = run_from(&mut tx, SimTime::from_secs(1), SimTime::from_secs(100));
    assert_eq!(
        sent,
        secs(&[1.0, 1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5])
    );
    assert_eq!(events, vec![(SimTime::from_secs(33), TxEvent::AckTimeout)]);

    let mut ist = InviteServer::new(dst(), Transport::Udp, Timers::default());
    ist.send_response(SimTime::ZERO, &response_to(&req, 486));
    let mut ack = req.clone();
    ack.method = Method::Ack;
    assert!(ist.on_request(SimTime::from_millis(100), &ack));
    assert_eq!(ist.next_timeout(), Some(SimTime::from_millis(5100)));
    ist.on_timeout(SimTime::from_millis(5100));
    assert!(ist.is_terminated());

    // A 2xx leaves the transaction at once (the UA core retransmits it).
    let mut ist = InviteServer::new(dst(), Transport::Udp, Timers::default());
    ist.send_response(SimTime::ZERO, &response_to(&req, 200));
    assert!(ist.is_terminated());
}

fn run_from(
    tx: &mut Transaction,
    start: SimTime,
    until: SimTime,
) -> (Vec<SimTime>, Vec<(SimTime, TxEvent)>) {
    let mut sent = Vec::new();
    let mut events = Vec::new();
    let mut now = start;
    loop {
        while tx.poll_transmit().is_some() {
            sent.push(now);
        }
        match tx.next_timeout() {
            Some(t) if t <= until => {
                now = t;
                if let Some(e) = tx.on_timeout(now) {
                    events.push((now, e));
                }
            }
            _ => break,
        }
    }
    (sent, events)
}

#[test]
fn non_invite_server_absorbs_retransmissions() {
    let req = request(Method::Options);
    let mut nist = NonInviteServer::new(dst(), Transport::Udp, Timers::default());
    assert!(nist.on_request(SimTime::ZERO, &req));
    assert!(
        nist.poll_transmit().is_none(),
        "nothing to repeat before a response"
    );
    nist.send_response(SimTime::ZERO, &response_to(&req, 200));
    assert!(nist.poll_transmit().is_some());
    nist.on_request(SimTime::from_secs(1), &req);
    assert!(nist.poll_transmit().is_some());
    assert_eq!(nist.next_timeout(), Some(SimTime::from_secs(32)));
    nist.on_timeout(SimTime::from_secs(32));
    assert!(nist.is_terminated());
    let mut nist = NonInviteServer::new(dst(), Transport::Tcp, Timers::default());
    nist.send_response(SimTime::ZERO, &response_to(&req, 200));
    assert!(nist.is_terminated());
}

#[test]
fn matching_keys() {
    let p = Policy::default();
    let inv = request(Method::Invite);
    let e = check_request(&inv, &p).unwrap();
    let k_inv = TxKey::for_request(&e, &Method::Invite, &inv.uri);
    let k_ack = TxKey::for_request(&e, &Method::Ack, &inv.uri);
    let k_cancel = TxKey::for_request(&e, &Method::Cancel, &inv.uri);
    assert_eq!(k_inv, k_ack);
    assert_ne!(k_inv, k_cancel);
    assert_eq!(k_cancel.method, KeyMethod::Cancel);
    // Same branch from another sent-by is another transaction (§17.2.3).
    let mut other = inv.clone();
    other.headers.set(
        HeaderName::Via,
        "SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKtx1",
    );
    let e2 = check_request(&other, &p).unwrap();
    assert_ne!(TxKey::for_request(&e2, &Method::Invite, &other.uri), k_inv);
    // A response matches the client key by branch and CSeq method.
    let resp = response_to(&inv, 180);
    let re = voicetwin::sip::wire::check_response(&resp).unwrap();
    assert_eq!(
        TxKey::for_response(&re),
        Some(TxKey::client("z9hG4bKtx1", &Method::Invite))
    );
    // RFC 2543 requests (no magic cookie): INVITE and ACK share a key.
    let mut old = inv.clone();
    old.headers.set(HeaderName::Via, "SIP/2.0/UDP 192.0.2.10");
    let eo = check_request(&old, &p).unwrap();
    assert_eq!(
        TxKey::for_request(&eo, &Method::Invite, &old.uri),
        TxKey::for_request(
            &eo,
            &Method::Ack,
            &Uri::parse("sip:bob@192.0.2.20").unwrap()
        )
    );
}

#[test]
fn responses_follow_via_received_and_rport() {
    let src: SocketAddr = "198.51.100.7:40000".parse().unwrap();
    let v = Via::parse("SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bK1").unwrap();
    assert_eq!(
        response_destination(&v, src, Transport::Udp),
        "198.51.100.7:5070".parse().unwrap()
    );
    let v = Via::parse("SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bK1;rport").unwrap();
    assert_eq!(response_destination(&v, src, Transport::Udp), src);
    let v = Via::parse("SIP/2.0/TCP 10.0.0.5;branch=z9hG4bK1").unwrap();
    assert_eq!(response_destination(&v, src, Transport::Tcp), src);
}
