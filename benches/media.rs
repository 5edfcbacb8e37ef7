//! Media throughput: RTP packets built by a sender, parsed and accounted by the receiver
//! (RFC 3550 statistics, jitter buffer, loss runs), per second of wall time.
//!
//! Run: `cargo bench --bench media`. The network-hop version (packet-hops through links)
//! belongs with the network layer.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use voicetwin::rtp::{
    Channel, Codec, MediaConfig, MediaSession, RtcpConfig, TalkSpurtModel, Voice,
};
use voicetwin::sim::{RngFactory, SimDuration, SimTime};

const CALL_SECS: u64 = 60;

/// One two-way call of `CALL_SECS`: both sessions send every 20 ms and each packet is
/// delivered to the other side 30 ms later. Returns packets delivered.
fn call(cfg: &MediaConfig, seed: u64) -> u64 {
    let f = RngFactory::new(seed);
    let mk = |i| {
        MediaSession::new(
            cfg.clone(),
            TalkSpurtModel::constant(Voice::Talking),
            f.indexed_stream("call", "media", i),
            SimTime::ZERO,
        )
        .expect("valid config")
    };
    let (mut a, mut b) = (mk(0), mk(1));
    let delay = SimDuration::from_millis(30);
    let mut in_flight: std::collections::VecDeque<(SimTime, bool, Channel, Vec<u8>)> =
        Default::default();
    let end = SimTime::from_secs(CALL_SECS);
    let mut delivered = 0u64;
    loop {
        let next = [
            a.poll_timeout(),
            b.poll_timeout(),
            in_flight.front().map(|e| e.0),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(now) = next.filter(|&t| t <= end) else {
            break;
        };
        while in_flight.front().is_some_and(|e| e.0 <= now) {
            let (at, to_b, ch, pkt) = in_flight.pop_front().expect("checked");
            if to_b {
                b.handle_datagram(at, ch, &pkt);
            } else {
                a.handle_datagram(at, ch, &pkt);
            }
            delivered += 1;
        }
        if a.poll_timeout().is_some_and(|t| t <= now) {
            a.handle_timeout(now);
        }
        if b.poll_timeout().is_some_and(|t| t <= now) {
            b.handle_timeout(now);
        }
        // Constant delay keeps the queue in time order.
        while let Some(t) = a.poll_transmit() {
            in_flight.push_back((now + delay, true, t.channel, t.payload));
        }
        while let Some(t) = b.poll_transmit() {
            in_flight.push_back((now + delay, false, t.channel, t.payload));
        }
    }
    a.advance(end);
    b.advance(end);
    black_box((a.loss_runs().slots, b.reception_stats()));
    delivered
}

fn bench(c: &mut Criterion) {
    let plain = MediaConfig::new(Codec::Pcmu.profile());
    let mut full = plain.clone();
    full.rtcp = Some(RtcpConfig::new("bench@voicetwin", 80_000.0));
    let packets = call(&plain, 1);
    let mut g = c.benchmark_group("media");
    g.throughput(Throughput::Elements(packets));
    g.bench_function("g711_call_60s_send_receive_account", |b| {
        b.iter(|| call(black_box(&plain), 1))
    });
    g.throughput(Throughput::Elements(call(&full, 1)));
    g.bench_function("g711_call_60s_with_rtcp", |b| {
        b.iter(|| call(black_box(&full), 1))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // No plots: the machine has no fonts, and the figures are read from the text output.
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
