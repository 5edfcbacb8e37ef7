//! `serve uas` on a real socket, driven by hand-written SIP: an initial INVITE with media,
//! re-INVITEs for hold and resume, out-of-dialog OPTIONS, BYE; and a CANCELled call. RTP
//! sent to the answered SDP reaches the served element's media session.

mod live_support;

use live_support::{RawClient, header, serve_config, spawn_server, status, to_tag};
use std::net::UdpSocket;
use std::time::Duration;
use voicetwin::elements::CallOutcome;
use voicetwin::sim::SimDuration;

const WAIT: Duration = Duration::from_secs(5);

/// An offer; `version` must grow with each new offer (RFC 3264 §8: the same version
/// means nothing changed).
fn sdp(port: u16, direction: &str, version: u32) -> String {
    format!(
        "v=0\r\no=- 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na={direction}\r\n"
    )
}

/// An INVITE (initial when `to_tag` is None) with an SDP offer.
fn invite(call_id: &str, cseq: u32, to_tag: Option<&str>, body: &str) -> String {
    let to = match to_tag {
        Some(t) => format!("<sip:service@127.0.0.1>;tag={t}"),
        None => "<sip:service@127.0.0.1>".into(),
    };
    format!(
        "INVITE sip:service@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP LOCAL;branch=z9hG4bK-{call_id}-{cseq}\r\n\
         Max-Forwards: 70\r\nFrom: \"Tester\" <sip:tester@127.0.0.1>;tag=ft\r\nTo: {to}\r\n\
         Call-ID: {call_id}\r\nCSeq: {cseq} INVITE\r\nContact: <sip:tester@LOCAL>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn in_dialog(method: &str, call_id: &str, cseq: u32, to_tag: &str, branch: &str) -> String {
    format!(
        "{method} sip:service@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP LOCAL;branch=z9hG4bK-{branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:tester@127.0.0.1>;tag=ft\r\n\
         To: <sip:service@127.0.0.1>;tag={to_tag}\r\nCall-ID: {call_id}\r\n\
         CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
    )
}

/// The `m=audio` port and direction attribute of a response's SDP.
fn media_of(msg: &str) -> (u16, String) {
    let port = msg
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no m=audio in {msg}"));
    let dir = ["sendrecv", "sendonly", "recvonly", "inactive"]
        .into_iter()
        .find(|d| msg.contains(&format!("a={d}")))
        .unwrap_or("sendrecv")
        .to_string();
    (port, dir)
}

/// An RTP packet: PCMU, 160 bytes of silence-free payload.
fn rtp(seq: u16, ts: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.extend(std::iter::repeat_n(0x55u8, 160));
    p
}

#[test]
fn a_call_with_hold_resume_options_and_bye_then_a_cancelled_call() {
    let server = spawn_server(serve_config());
    let c = RawClient::new(server.addr);
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    let my_rtp = media.local_addr().unwrap().port();

    c.send(&invite("live-1", 1, None, &sdp(my_rtp, "sendrecv", 1)));
    let got = c.until_final("INVITE", WAIT);
    let ok = got.last().unwrap();
    assert_eq!(status(ok), 200, "{got:#?}");
    assert!(
        got.iter().any(|m| status(m) == 180),
        "rings first: {got:#?}"
    );
    let tag = to_tag(ok).expect("200 carries a To tag");
    let (their_rtp, dir) = media_of(ok);
    assert_eq!(dir, "sendrecv");
    assert_ne!(their_rtp, 0);
    c.send(&in_dialog("ACK", "live-1", 1, &tag, "ack1"));

    // RTP to the answered address reaches the element's session (a real bound socket).
    for i in 0..25u16 {
        let pkt = rtp(i, u32::from(i) * 160);
        media.send_to(&pkt, ("127.0.0.1", their_rtp)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }

    // Hold: our offer is sendonly, the answer must be recvonly (RFC 3264 §6.1).
    c.send(&invite(
        "live-1",
        2,
        Some(&tag),
        &sdp(my_rtp, "sendonly", 2),
    ));
    let got = c.until_final("INVITE", WAIT);
    let ok = got.last().unwrap();
    assert_eq!(status(ok), 200, "{got:#?}");
    assert_eq!(media_of(ok).1, "recvonly", "{ok}");
    c.send(&in_dialog("ACK", "live-1", 2, &tag, "ack2"));
    // On hold (recvonly) the served session must stop sending RTP to us. Packets already in
    // flight get 50 ms to arrive; then nothing may come for 400 ms (20 packet times).
    media
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut buf = [0u8; 2048];
    let drain_until = std::time::Instant::now() + Duration::from_millis(200);
    while std::time::Instant::now() < drain_until && media.recv_from(&mut buf).is_ok() {}
    let quiet_until = std::time::Instant::now() + Duration::from_millis(400);
    while std::time::Instant::now() < quiet_until {
        if let Ok((n, _)) = media.recv_from(&mut buf) {
            panic!("RTP ({n} bytes) received while the served side holds recvonly");
        }
    }

    // Resume.
    c.send(&invite(
        "live-1",
        3,
        Some(&tag),
        &sdp(my_rtp, "sendrecv", 3),
    ));
    let got = c.until_final("INVITE", WAIT);
    assert_eq!(media_of(got.last().unwrap()).1, "sendrecv");
    c.send(&in_dialog("ACK", "live-1", 3, &tag, "ack3"));

    // OPTIONS out of dialog.
    let options = in_dialog("OPTIONS", "live-opt", 1, "x", "opt").replace(";tag=x", "");
    c.send(&options);
    let got = c.until_final("OPTIONS", WAIT);
    assert_eq!(status(got.last().unwrap()), 200);

    // BYE.
    c.send(&in_dialog("BYE", "live-1", 4, &tag, "bye"));
    let got = c.until_final("BYE", WAIT);
    assert_eq!(status(got.last().unwrap()), 200);

    // The served side sent RTP to us as well (the callee talks too), unless it happened to
    // be silent for the whole call; the talk-spurt model starts talking within a second.
    media
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let heard_back = media.recv_from(&mut buf).is_ok();

    let (summary, calls) = server.stop();
    let i = summary.stats.inbound;
    assert_eq!((i.offered, i.answered, i.completed), (1, 1, 1), "{summary}");
    assert!(summary.stats.media_in >= 25, "{summary}");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].outcome, CallOutcome::Answered);
    assert_eq!(
        (calls[0].caller.as_str(), calls[0].callee.as_str()),
        ("tester", "service")
    );
    assert!(calls[0].audio_packets >= 20, "{calls:?}");
    assert!(heard_back || summary.stats.media_out > 0, "{summary}");
}

#[test]
fn cancel_before_answer_gets_200_and_487() {
    let mut cfg = serve_config();
    cfg.answer_after = SimDuration::from_secs(30);
    let server = spawn_server(cfg);
    let c = RawClient::new(server.addr);
    let offer = invite("live-2", 1, None, &sdp(40_000, "sendrecv", 1));
    c.send(&offer);
    let ringing = loop {
        let m = c.recv(WAIT).expect("a provisional response");
        if status(&m) == 180 {
            break m;
        }
    };
    let cancel = "CANCEL sip:service@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP LOCAL;branch=z9hG4bK-live-2-1\r\n\
         Max-Forwards: 70\r\nFrom: \"Tester\" <sip:tester@127.0.0.1>;tag=ft\r\n\
         To: <sip:service@127.0.0.1>\r\nCall-ID: live-2\r\nCSeq: 1 CANCEL\r\n\
         Content-Length: 0\r\n\r\n";
    c.send(cancel);
    let got = c.until_final("CANCEL", WAIT);
    assert_eq!(status(got.last().unwrap()), 200);
    let got = c.until_final("INVITE", WAIT);
    let final_ = got.last().unwrap();
    assert_eq!(status(final_), 487, "{got:#?}");
    assert_eq!(to_tag(final_), to_tag(&ringing));
    assert_eq!(header(final_, "Call-ID"), Some("live-2"));
    let tag = to_tag(final_).unwrap();
    c.send(&in_dialog("ACK", "live-2", 1, &tag, "live-2-1"));
    let (summary, calls) = server.stop();
    let i = summary.stats.inbound;
    assert_eq!((i.offered, i.answered, i.cancelled), (1, 0, 1), "{summary}");
    // The element took a media address (RTP/RTCP sockets) for the call but never opened a
    // session on it: the sockets are closed with the call, not left to a timeout.
    assert_eq!(summary.stats.peak_media_pairs, 1, "{summary}");
    assert_eq!(summary.stats.media_pairs, 0, "{summary}");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].outcome, CallOutcome::NoAnswer);
}
