//! The live path: whole calls (INVITE, 180, 200, ACK, BYE, 200) between two live hosts
//! over real UDP sockets on loopback, both driven from this one thread. It measures what
//! the simulator's stack costs once sockets, the wall clock and the live host's
//! bookkeeping are added, signalling only and with RTP media sockets per call.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::net::SocketAddrV4;
use std::time::Duration;
use voicetwin::elements::CallTag;
use voicetwin::elements::script::{AnswerAction, CallScript};
use voicetwin::live::{
    HostOptions, LiveHost, LiveModel, SipSocket, calling_element, serving_element,
};
use voicetwin::sim::{RngFactory, SimDuration};

struct Pair {
    caller: LiveHost,
    callee: LiveHost,
    caller_id: voicetwin::elements::ElementId,
    next_tag: u64,
}

impl Pair {
    fn new(media: bool) -> Pair {
        let rngs = RngFactory::new(1);
        let loopback: SocketAddrV4 = "127.0.0.1:0".parse().unwrap();
        let options = |script_inbound| HostOptions {
            script_inbound,
            bind_media: media,
            ..HostOptions::default()
        };
        let mut callee = LiveHost::new(rngs, options(media.then_some(SimDuration::ZERO))).unwrap();
        let sock = SipSocket::bind(loopback).unwrap();
        let target = sock.local();
        let served = serving_element(&LiveModel::Uas, target, SimDuration::ZERO, &rngs).unwrap();
        callee.add(served.element, vec![sock]).unwrap();
        let mut caller = LiveHost::new(rngs, options(None)).unwrap();
        let sock = SipSocket::bind(loopback).unwrap();
        let (element, _) =
            calling_element(&LiveModel::Uas, sock.local(), "127.0.0.1", target, &rngs);
        let caller_id = caller.add(element, vec![sock]).unwrap();
        Pair {
            caller,
            callee,
            caller_id,
            next_tag: 1,
        }
    }

    /// One call, from INVITE to the caller's log; returns the number of turns taken.
    fn call(&mut self) -> usize {
        let tag = CallTag(self.next_tag);
        self.next_tag += 1;
        let script = CallScript {
            tag,
            caller: "bench".into(),
            dialled: "service".into(),
            callee: "service".into(),
            anonymous: false,
            callee_action: AnswerAction::Answer {
                after: SimDuration::ZERO,
            },
            holding: SimDuration::ZERO,
            abandon_after: SimDuration::from_secs(10),
            hold: None,
            transfer: None,
            forward: None,
            simul_ring: None,
            dtmf: None,
            secondary_ring: SimDuration::ZERO,
        };
        let now = self.caller.now();
        self.caller.place_call_at(now, self.caller_id, script);
        let mut turns = 0;
        loop {
            self.caller.turn(Duration::ZERO).unwrap();
            self.callee.turn(Duration::ZERO).unwrap();
            turns += 1;
            if let Some(log) = self.caller.pop_finished() {
                assert_eq!(log.tag, tag);
                while self.callee.pop_finished().is_some() {}
                return turns;
            }
            assert!(turns < 1_000_000, "the call never finished");
        }
    }
}

fn calls(c: &mut Criterion) {
    let mut g = c.benchmark_group("live");
    g.throughput(Throughput::Elements(1));
    for (name, media) in [
        ("basic_call_loopback", false),
        ("basic_call_loopback_media", true),
    ] {
        let mut pair = Pair::new(media);
        for _ in 0..50 {
            pair.call();
        }
        g.bench_function(name, |b| b.iter(|| black_box(pair.call())));
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = calls
}
criterion_main!(benches);
