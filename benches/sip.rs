//! SIP throughput: the wire layer against raw rsip on the same messages, and complete
//! basic calls between two sans-IO user agents in memory.
//!
//! `cargo bench --bench sip` (add `-- wire` or `-- calls` to run one group).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

/// Calls completed by the `calls` group, printed at its end so that CPU time measured
/// outside (e.g. `perf stat -e task-clock` with `--profile-time`) can be divided by it.
static CALLS_DONE: AtomicU64 = AtomicU64::new(0);
use voicetwin::sim::{RngFactory, SimDuration, SimTime};
use voicetwin::sip::ua::{CallParams, UaConfig, UaEvent, UserAgent};
use voicetwin::sip::wire::{Message, Uri};

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

/// Two user agents wired back to back in memory; each call is INVITE, 100, 180, 200,
/// ACK, BYE, 200 driven through the full sans-IO API (events, timers, retransmission
/// bookkeeping).
struct Pair {
    a: UserAgent,
    b: UserAgent,
    a_addr: SocketAddr,
    b_addr: SocketAddr,
    now: SimTime,
    target: Uri,
}

impl Pair {
    fn new() -> Pair {
        let a_addr: SocketAddr = "10.0.0.1:5060".parse().expect("literal");
        let b_addr: SocketAddr = "10.0.0.2:5060".parse().expect("literal");
        let f = RngFactory::new(1);
        Pair {
            a: UserAgent::new(UaConfig::new("alice", a_addr), f.stream("a", "ua")),
            b: UserAgent::new(UaConfig::new("bob", b_addr), f.stream("b", "ua")),
            a_addr,
            b_addr,
            now: SimTime::ZERO,
            target: Uri::parse("sip:bob@10.0.0.2:5060").expect("literal"),
        }
    }

    /// One complete call; returns the number of datagrams exchanged.
    fn call(&mut self) -> usize {
        let now = self.now;
        self.a
            .call(now, CallParams::new(self.target.clone()))
            .expect("resolvable");
        let mut sent = 0;
        loop {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit() {
                self.b.handle_datagram(now, self.a_addr, &t.bytes);
                sent += 1;
                moved = true;
            }
            while let Some(t) = self.b.poll_transmit() {
                self.a.handle_datagram(now, self.b_addr, &t.bytes);
                sent += 1;
                moved = true;
            }
            while let Some(e) = self.b.poll_event() {
                if let UaEvent::IncomingCall { call, .. } = e {
                    self.b.ring(now, call, 180, false, false).expect("ringing");
                    self.b.answer(now, call).expect("answer");
                    moved = true;
                }
            }
            while let Some(e) = self.a.poll_event() {
                if let UaEvent::Answered { call, .. } = e {
                    self.a.hangup(now, call).expect("hangup");
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
        // 10 ms of virtual time per call; expire finished transactions.
        self.now += SimDuration::from_millis(10);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        CALLS_DONE.fetch_add(1, Ordering::Relaxed);
        sent
    }
}

fn calls(c: &mut Criterion) {
    // `SIP_BENCH_CALLS=N` runs exactly N calls and skips the measurement: for counting
    // instructions under a tool (e.g. `valgrind --tool=callgrind`), which unlike wall
    // time does not depend on what else the machine runs.
    if let Some(n) = std::env::var("SIP_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        let mut pair = Pair::new();
        for _ in 0..n {
            black_box(pair.call());
        }
        eprintln!("calls performed: {n}");
        return;
    }
    let mut g = c.benchmark_group("calls");
    g.throughput(Throughput::Elements(1));
    let mut pair = Pair::new();
    assert_eq!(pair.call(), 7, "a basic call is seven messages");
    g.bench_function("basic_call_two_uas", |b| b.iter(|| black_box(pair.call())));
    g.finish();
    eprintln!("calls performed: {}", CALLS_DONE.load(Ordering::Relaxed));
}

fn config() -> Criterion {
    // Plots are off: the PDF/SVG plotting backend is not needed for the figures.
    Criterion::default().without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = wire, calls
}
criterion_main!(benches);
