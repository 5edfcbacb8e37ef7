//! Bandwidth and queues: queueing delay under overload, tail drop, and EF strict priority
//! against saturating best-effort background traffic.

mod net_common;

use net_common::*;
use voicetwin::net::{Network, Packet};
use voicetwin::sim::{SimDuration, SimTime, TraceMode};

const LAT_NS: u64 = 10_000_000;
/// 1000-byte IP packets + 18 bytes of Ethernet at 1 Mbit/s: 8144 bits, 8.144 ms.
const S_NS: u64 = 8_144_000;
/// One packet every 6.5 ms: offered load 8.144 / 6.5 = 1.253 of capacity.
const T_NS: u64 = 6_500_000;
const K: u64 = 50;

fn overload(queueing: &str, n: u64) -> (Vec<Received>, voicetwin::net::DirCounters) {
    let net = network(
        &format!(
            r#"Topology(
                name: "bottleneck",
                nodes: [(name: "a"), (name: "b")],
                links: [(a: "a", b: "b", latency_ms: 10, bandwidth_mbps: 1,
                         queue: Packets({K}), queueing: {queueing})],
            )"#
        ),
        1,
    );
    let probes = stream(&net, "a", "b", SimTime::ZERO, T_NS / 1000, n, 1000, 0);
    let (world, _) = run(net, probes, vec![], SimTime::MAX, TraceMode::Off);
    let (link, a) = (
        world.net.link_id("a-b").unwrap(),
        world.net.node_id("a").unwrap(),
    );
    let c = world.net.dir_counters(link, a).unwrap();
    (world.received, c)
}

#[test]
fn queueing_delay_grows_under_overload_then_tail_drop_starts() {
    const N: u64 = 2000;
    let (rx, c) = overload("Fifo", N);
    // Packets leave back to back from the first one, so packet k departs at (k+1)·S and
    // its delay is L + S + k·(S − T): it grows by S − T = 1.644 ms per packet. Packet k
    // finds k − ⌊kT/S⌋ packets in the system; the first to find K is tail-dropped.
    let first_drop = (0..N).find(|&k| k - k * T_NS / S_NS >= K).unwrap();
    assert_eq!(first_drop, 243);
    for r in rx.iter().take_while(|r| r.seq < first_drop) {
        let expected = LAT_NS + S_NS + r.seq * (S_NS - T_NS);
        assert_eq!((r.at - r.sent_at).as_nanos(), expected, "packet {}", r.seq);
    }
    assert!(
        rx.iter()
            .take(first_drop as usize)
            .enumerate()
            .all(|(i, r)| r.seq == i as u64),
        "nothing is lost before the queue fills"
    );
    assert_ne!(
        rx[first_drop as usize].seq, first_drop,
        "packet 243 is dropped"
    );
    // Once full, an accepted packet waits behind K − 1 others plus a partial transmission:
    // its delay lies in (L + (K−1)·S, L + K·S].
    for r in rx.iter().skip_while(|r| r.seq < first_drop) {
        let d = (r.at - r.sent_at).as_nanos();
        assert!(
            d > LAT_NS + (K - 1) * S_NS && d <= LAT_NS + K * S_NS,
            "{r:?}"
        );
    }
    // Accepted = departed by the last arrival + what is still in the system (K − 1 or K).
    let accepted = (N - 1) * T_NS / S_NS + K;
    assert!(c.dropped_queue.abs_diff(N - accepted) <= 1, "{c:?}");
    assert_eq!(c.delivered, rx.len() as u64);
    assert_eq!(c.delivered + c.dropped_queue, N);
    assert_eq!(c.max_queue_packets, K);
}

#[test]
fn priority_queue_without_ef_behaves_as_fifo() {
    // The event-driven strict-priority transmitter and the analytic FIFO must agree to the
    // nanosecond when there is only best-effort traffic.
    let (fifo, cf) = overload("Fifo", 800);
    let (prio, cp) = overload("StrictPriority", 800);
    assert_eq!(fifo, prio);
    assert_eq!(cf, cp);
}

/// a — r — b: a gigabit LAN hop then a 2 Mbit/s access link, with 3 Mbit/s of best-effort
/// background from a to b and a G.711 voice stream (200-byte packets every 20 ms).
fn voice_against_background(queueing: &str) -> (Vec<Received>, Network) {
    let net = network(
        &format!(
            r#"Topology(
                name: "access",
                nodes: [(name: "a"), (name: "r", role: "router"), (name: "b")],
                links: [
                    (a: "a", b: "r", latency_ms: 0.1, bandwidth_mbps: 1000),
                    (a: "r", b: "b", latency_ms: 10, bandwidth_mbps: 2,
                     queue: Packets(50), queueing: {queueing}),
                ],
                background: [(name: "bulk", from: "a", to: "b",
                              pattern: ConstantRate(rate_mbps: 3, packet_bytes: 1500))],
            )"#
        ),
        1,
    );
    let probes = stream(
        &net,
        "a",
        "b",
        SimTime::from_secs(1),
        20_000,
        500,
        200,
        Packet::DSCP_EF,
    );
    let (world, _) = run(net, probes, vec![], SimTime::from_secs(12), TraceMode::Off);
    (world.received, world.net)
}

#[test]
fn ef_keeps_low_delay_while_best_effort_saturates_the_link() {
    let (rx, net) = voice_against_background("StrictPriority");
    assert_eq!(rx.len(), 500, "no voice packet lost");
    // Non-preemptive priority: an EF packet waits at most for the best-effort packet in
    // transmission (1518 B at 2 Mbit/s = 6.072 ms), then its own 0.872 ms, plus the LAN
    // hop (0.1 ms + 1.744 µs + waiting for at most one 1518-byte frame, 12.144 µs).
    let bound = SimDuration::from_nanos(10_100_000 + 6_072_000 + 872_000 + 1_744 + 12_144);
    let worst = rx.iter().map(|r| r.at - r.sent_at).max().unwrap();
    assert!(worst <= bound, "worst EF delay {worst}");
    let (mean, _) = mean_sd(&rx.iter().map(Received::delay_ms).collect::<Vec<_>>());
    // Voice (every 20 ms) lands at phases spread over the 6.072 ms best-effort
    // transmissions, so it waits on average half of one: 10.1 + 0.872 + 3.036 = 14.01 ms.
    // The residual has sd 1.75 ms; over 500 packets ±0.5 ms is about 6 standard errors.
    assert!((mean - 14.01).abs() < 0.5, "mean EF delay {mean} ms");

    // Meanwhile best effort is overloaded and tail-dropped at the access link.
    let link = net.link_id("r-b").unwrap();
    let c = net.dir_counters(link, net.node_id("r").unwrap()).unwrap();
    let bg = net.generator_counters(net.generator_id("bulk").unwrap());
    assert!(c.dropped_queue > 0);
    // 3 Mbit/s of 1500-byte packets is one every 4 ms: 3001 in [0 s, 12 s] (both ends run).
    // The link carries at most (2 Mbit/s − voice) / 12144 bits ≈ 161 packets/s of them.
    assert_eq!(bg.sent, 3001);
    let carried = bg.delivered as f64 / 12.0;
    assert!(
        (150.0..=165.0).contains(&carried),
        "{carried} best-effort packets/s"
    );
}

#[test]
fn without_priority_voice_queues_behind_the_background() {
    let (rx, _) = voice_against_background("Fifo");
    let (mean, _) = mean_sd(&rx.iter().map(Received::delay_ms).collect::<Vec<_>>());
    // The FIFO stays full: 50 packets, of which ~15 are voice (a 300 ms queue sees a voice
    // packet every 20 ms) and ~35 are 1518-byte frames: about 35 × 6.07 + 15 × 0.87 ≈
    // 226 ms of waiting, twenty times the ~14 ms that priority gives.
    assert!(mean > 200.0, "mean voice delay {mean} ms");
    assert!(
        rx.len() < 480,
        "voice is tail-dropped too: {} of 500",
        rx.len()
    );
}
