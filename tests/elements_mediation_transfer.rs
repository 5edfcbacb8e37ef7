//! Transfers through the Mediation Server. A PSTN call answered by a Lync user is blind
//! transferred (REFER from the Lync side, injected on the wire from the Front End's
//! address, since the stand-in endpoint does not transfer). With the trunk's REFER support
//! off, the Mediation Server calls the target itself and re-INVITEs the gateway toward the
//! target's media; with it on, it passes the REFER to the gateway, which does the transfer.

mod elements_edge;

use bytes::Bytes;
use elements_edge::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use voicetwin::elements::script::{TransferMode, TransferScript};
use voicetwin::elements::{CallOutcome, CallTag, Element};
use voicetwin::net::Packet;
use voicetwin::sim::SimDuration;

const FE: [u8; 4] = [10, 0, 1, 10];
const MED: [u8; 4] = [10, 0, 1, 20];
const GW: [u8; 4] = [10, 0, 1, 30];

fn header(msg: &str, name: &str) -> String {
    msg.lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
        .map(|l| l[name.len() + 1..].trim().to_string())
        .unwrap_or_else(|| panic!("no {name} in\n{msg}"))
}

/// A PSTN call to Lync user 0001 that the user will transfer to Lync user 0002.
fn start(refer: bool) -> (Harness, CallTag) {
    let mut h = Edge {
        trunk: format!("MediaBypass(true), Refer({refer})"),
        ..Edge::default()
    }
    .build();
    let mut s = script(
        0,
        "+12065550001",
        "+14255550001",
        answer(1),
        SimDuration::from_secs(40),
    );
    s.transfer = Some(TransferScript {
        mode: TransferMode::Blind,
        after: SimDuration::from_secs(5),
        target: "+14255550002".into(),
        target_answers: true,
        by_caller: false,
    });
    let tag = h.place(1.0, "pstn", s);
    h.run_until(8.0);
    (h, tag)
}

/// The REFER the Lync client would send in its dialog with the Mediation Server.
fn inject_refer(h: &mut Harness) -> (String, String, String) {
    let msgs = h.sip_sent();
    let (_, _, invite) = msgs
        .iter()
        .find(|(s, d, m)| {
            s.ip().octets() == MED && d.ip().octets() == FE && m.starts_with("INVITE")
        })
        .unwrap();
    let (_, _, ok) = msgs
        .iter()
        .find(|(s, _, m)| {
            s.ip().octets() == FE && m.starts_with("SIP/2.0 200") && m.contains("INVITE")
        })
        .unwrap();
    let (from, to, call_id) = (
        header(ok, "To"),
        header(invite, "From"),
        header(invite, "Call-ID"),
    );
    let refer = format!(
        "REFER sip:mediation@10.0.1.20:5070 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.0.1.10:5060;branch=z9hG4bKrefer0001\r\n\
         Max-Forwards: 70\r\n\
         From: {from}\r\n\
         To: {to}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 10 REFER\r\n\
         Contact: <sip:fe@10.0.1.10:5060>\r\n\
         Refer-To: <sip:+14255550002@10.0.1.10;user=phone>\r\n\
         Referred-By: <sip:+14255550001@10.0.1.10;user=phone>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    let packet = Packet::new(
        SocketAddrV4::new(Ipv4Addr::from(FE), 5060),
        SocketAddrV4::new(Ipv4Addr::from(MED), 5070),
        Bytes::from(refer),
    );
    let _ = h.sim.world.net.send(&mut h.sched, packet);
    (from, to, call_id)
}

fn mediation(h: &Harness) -> voicetwin::elements::mediation::MediationStats {
    match h.element("med") {
        Element::Mediation(m) => m.stats(),
        _ => unreachable!(),
    }
}

#[test]
fn with_refer_off_the_mediation_server_transfers_and_reinvites_the_gateway() {
    let (mut h, tag) = start(false);
    let (from, to, call_id) = inject_refer(&mut h);
    h.run_until(20.0);
    let msgs = h.sip_sent();
    // A new INVITE to the target through the Front End, with Referred-By.
    let (_, _, invite) = msgs
        .iter()
        .find(|(s, d, m)| {
            s.ip().octets() == MED
                && d.ip().octets() == FE
                && m.starts_with("INVITE sip:+14255550002")
        })
        .expect("INVITE to the transfer target");
    assert!(invite.contains("Referred-By: "), "{invite}");
    let target_ok = msgs
        .iter()
        .find(|(s, _, m)| {
            s.ip().octets() == FE && m.starts_with("SIP/2.0 200") && !m.contains(&call_id)
        })
        .map(|(_, _, m)| m.clone())
        .unwrap();
    let target_media = target_ok
        .lines()
        .find(|l| l.starts_with("m=audio "))
        .and_then(|l| l.split(' ').nth(1))
        .expect("the target's answer has SDP")
        .to_string();
    // The transferor hears 200 in a NOTIFY.
    assert!(msgs.iter().any(|(s, d, m)| s.ip().octets() == MED
        && d.ip().octets() == FE
        && m.starts_with("NOTIFY")
        && m.contains("SIP/2.0 200")));
    // The gateway is re-INVITEd toward the target's media (bypass: the client's own port).
    let (_, _, reinvite) = msgs
        .iter()
        .find(|(s, d, m)| {
            s.ip().octets() == MED && d.ip().octets() == GW && m.starts_with("INVITE")
        })
        .expect("re-INVITE to the gateway");
    assert!(
        reinvite.contains(&format!("m=audio {target_media} ")),
        "{reinvite}"
    );
    assert!(reinvite.contains("c=IN IP4 10.0.1.10"));
    assert_eq!(mediation(&h).transfers_performed, 1);
    // The transferor leaves with BYE; the PSTN caller stays with the target and hangs up.
    let bye = format!(
        "BYE sip:mediation@10.0.1.20:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.1.10:5060;branch=z9hG4bKbye0001\r\n\
         Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: 11 BYE\r\nContent-Length: 0\r\n\r\n"
    );
    let _ = h.sim.world.net.send(
        &mut h.sched,
        Packet::new(
            SocketAddrV4::new(Ipv4Addr::from(FE), 5060),
            SocketAddrV4::new(Ipv4Addr::from(MED), 5070),
            Bytes::from(bye),
        ),
    );
    h.run_until(25.0);
    assert_eq!(
        h.link_usage("t1").0,
        1,
        "the PSTN call survives the transferor's BYE"
    );
    h.run_until(60.0);
    assert_eq!(h.link_usage("t1").0, 0);
    match h.element("gw") {
        Element::Gateway(g) => assert_eq!(g.active_calls(), 0),
        _ => unreachable!(),
    }
    let _ = tag;
}

#[test]
fn with_refer_on_the_gateway_transfers() {
    let (mut h, tag) = start(true);
    inject_refer(&mut h);
    h.run_until(20.0);
    let msgs = h.sip_sent();
    assert!(
        msgs.iter().any(|(s, d, m)| s.ip().octets() == MED
            && d.ip().octets() == GW
            && m.starts_with("REFER ")),
        "the REFER goes on to the gateway"
    );
    let (_, _, invite) = msgs
        .iter()
        .find(|(s, d, m)| {
            s.ip().octets() == GW
                && d.ip().octets() == MED
                && m.starts_with("INVITE sip:+14255550002")
        })
        .expect("the gateway calls the target");
    assert!(invite.contains("Referred-By: "));
    assert!(msgs.iter().any(|(s, d, m)| s.ip().octets() == MED
        && d.ip().octets() == FE
        && m.starts_with("NOTIFY")
        && m.contains("SIP/2.0 200")));
    assert_eq!(mediation(&h).refers_passed, 1);
    h.run_until(80.0);
    let log = h.log(tag);
    assert_eq!(log.outcome, CallOutcome::Answered);
    assert!(log.two_way_audio());
    assert_eq!(h.link_usage("t1").0, 0);
}
