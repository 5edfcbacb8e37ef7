//! SIP throughput: the wire layer against raw rsip on the same messages, and complete
//! basic calls between two sans-IO user agents in memory.
//!
//! `cargo bench --bench sip` (add `-- wire` or `-- calls` to run one group).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use voicetwin::sip::wire::Message;

/// The messages of a basic call (INVITE with SDP, 100, 180, 200 with SDP, ACK, BYE, 200).
fn call_messages() -> Vec<Vec<u8>> {
    let sdp = "v=0\r\no=- 1000 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101 13\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=rtpmap:13 CN/8000\r\na=ptime:20\r\na=sendrecv\r\n";
    let head = "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\nMax-Forwards: 70\r\nFrom: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\nTo: <sip:bob@example.com>TOTAG\r\nCall-ID: a84b4c76e66710@192.0.2.10\r\n";
    let with = |start: &str, to_tag: &str, cseq: &str, extra: &str, body: &str| {
        let mut s = String::from(start);
        s.push_str("\r\n");
        s.push_str(&head.replace("TOTAG", to_tag));
        s.push_str(&format!("CSeq: {cseq}\r\n{extra}"));
        if !body.is_empty() {
            s.push_str("Content-Type: application/sdp\r\n");
        }
        s.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        s.into_bytes()
    };
    let contact = "Contact: <sip:alice@192.0.2.10:5060>\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, REFER, NOTIFY\r\nSupported: 100rel, timer, replaces\r\n";
    vec![
        with(
            "INVITE sip:bob@192.0.2.20:5060 SIP/2.0",
            "",
            "314159 INVITE",
            contact,
            sdp,
        ),
        with("SIP/2.0 100 Trying", "", "314159 INVITE", "", ""),
        with(
            "SIP/2.0 180 Ringing",
            ";tag=a6c85cf",
            "314159 INVITE",
            contact,
            "",
        ),
        with(
            "SIP/2.0 200 OK",
            ";tag=a6c85cf",
            "314159 INVITE",
            contact,
            sdp,
        ),
        with(
            "ACK sip:bob@192.0.2.20:5060 SIP/2.0",
            ";tag=a6c85cf",
            "314159 ACK",
            "",
            "",
        ),
        with(
            "BYE sip:bob@192.0.2.20:5060 SIP/2.0",
            ";tag=a6c85cf",
            "314160 BYE",
            "",
            "",
        ),
        with("SIP/2.0 200 OK", ";tag=a6c85cf", "314160 BYE", "", ""),
    ]
}

fn wire(c: &mut Criterion) {
    let msgs = call_messages();
    let mut g = c.benchmark_group("wire");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("voicetwin_parse_emit", |b| {
        b.iter(|| {
            for m in &msgs {
                let parsed = Message::parse(black_box(m)).expect("valid");
                black_box(parsed.to_bytes());
            }
        })
    });
    g.bench_function("rsip_parse_emit", |b| {
        b.iter(|| {
            for m in &msgs {
                let parsed = rsip::SipMessage::try_from(black_box(&m[..])).expect("valid");
                black_box(parsed.to_string().into_bytes());
            }
        })
    });
    g.finish();
}

fn config() -> Criterion {
    // Plots are off: the PDF/SVG plotting backend is not needed for the figures.
    Criterion::default().without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = wire
}
criterion_main!(benches);
