//! Packet-hops per second over a 3-hop path (host — router — router — host).
//!
//! A closed loop keeps `WINDOW` probes in flight: each delivery at the far host sends the
//! next probe from the near host, until `PACKETS` have been delivered. Every packet crosses
//! three links, so hops = 3 × delivered. Variants: FIFO links with latency and bandwidth
//! (one event per hop); the same with Bernoulli loss and uniform jitter; and strict-priority
//! links (two events per hop). Setup (topology, scheduler) is outside the timing.
//!
//! `cargo bench --bench net` (target: ≥ 5 M packet-hops/s on one core for FIFO links).

use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::net::SocketAddrV4;
use voicetwin::net::{
    Jitter, LinkSpec, LossModel, NetEvent, Network, NetworkSpec, NodeSpec, Packet, Probability,
    QueueLimit, Queueing, Rate,
};
use voicetwin::sim::{RngFactory, Scheduler, SimDuration, SimTime};

const WINDOW: usize = 256;
const PACKETS: u64 = 200_000;
const HOPS: u64 = 3;

#[derive(Copy, Clone)]
enum Variant {
    Fifo,
    FifoLossJitter,
    StrictPriority,
}

fn network(variant: Variant) -> Network {
    let mut spec = NetworkSpec::new();
    let a = spec.add_node(NodeSpec::new("a", "host", "s1")).unwrap();
    let r1 = spec.add_node(NodeSpec::new("r1", "router", "s1")).unwrap();
    let r2 = spec.add_node(NodeSpec::new("r2", "router", "s2")).unwrap();
    let b = spec.add_node(NodeSpec::new("b", "host", "s2")).unwrap();
    for (x, y, ms, mbps) in [(a, r1, 1, 1000.0), (r1, r2, 20, 100.0), (r2, b, 1, 1000.0)] {
        let mut l = LinkSpec::new(x, y, SimDuration::from_millis(ms));
        l.bandwidth = Some(Rate::from_mbps(mbps).unwrap());
        l.queue = QueueLimit::packets(4 * WINDOW as u32).unwrap();
        match variant {
            Variant::Fifo => {}
            Variant::FifoLossJitter => {
                l.loss = LossModel::Bernoulli {
                    p: Probability::new(0.001).unwrap(),
                };
                l.jitter = Jitter::Uniform {
                    max: SimDuration::from_millis(2),
                };
            }
            Variant::StrictPriority => l.queueing = Queueing::StrictPriority,
        }
        spec.add_link(l).unwrap();
    }
    Network::new(spec, &RngFactory::new(1)).unwrap()
}

fn run(mut net: Network) -> u64 {
    let a = net.address(net.node_id("a").unwrap());
    let b = net.address(net.node_id("b").unwrap());
    let probe = Packet::new(
        SocketAddrV4::new(a, 5004),
        SocketAddrV4::new(b, 5004),
        Bytes::from(vec![0u8; 172]),
    )
    .with_dscp(Packet::DSCP_EF);
    let mut sched: Scheduler<NetEvent> = Scheduler::new();
    for _ in 0..WINDOW {
        net.send(&mut sched, probe.clone());
    }
    let mut sent = WINDOW as u64;
    let mut delivered = 0u64;
    while let Some(ev) = sched.next_event(SimTime::MAX) {
        if net.handle(&mut sched, ev).is_some() {
            delivered += 1;
        }
        // Keep the window full; a lost packet is replaced too.
        if sent < PACKETS && net.in_flight() < WINDOW {
            net.send(&mut sched, probe.clone());
            sent += 1;
        }
    }
    delivered
}

fn hops(c: &mut Criterion) {
    let mut g = c.benchmark_group("net_3_hop_path");
    g.throughput(Throughput::Elements(PACKETS * HOPS));
    g.sample_size(20);
    for (name, variant) in [
        ("fifo", Variant::Fifo),
        ("fifo_loss_jitter", Variant::FifoLossJitter),
        ("strict_priority", Variant::StrictPriority),
    ] {
        g.bench_function(name, |bch| {
            bch.iter_batched(
                || network(variant),
                |net| black_box(run(net)),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // No plots: they need system fonts, and the figures are what matters.
    config = Criterion::default().without_plots();
    targets = hops
}
criterion_main!(benches);
