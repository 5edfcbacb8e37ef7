//! A minimal world for the network tests: probes sent at planned times, deliveries logged.
//! Each probe's payload starts with its sequence number, so tests can match deliveries to
//! sends.
#![allow(dead_code)]

use bytes::Bytes;
use std::borrow::Cow;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use voicetwin::net::{Delivery, Fault, NetEvent, Network, Packet, SendOutcome};
use voicetwin::scenario::topology::Topology;
use voicetwin::sim::{Model, RngFactory, Scheduler, SimTime, TraceEvent, TraceMode};

/// The world's events: the network's own, and "send probe i now".
#[derive(Debug)]
pub enum Ev {
    Net(NetEvent),
    Send(usize),
    Fault(Fault),
}

impl From<NetEvent> for Ev {
    fn from(e: NetEvent) -> Self {
        Ev::Net(e)
    }
}

impl TraceEvent for Ev {
    fn component(&self) -> Cow<'_, str> {
        match self {
            Ev::Net(e) => e.component(),
            Ev::Send(_) => Cow::Borrowed("probe"),
            Ev::Fault(_) => Cow::Borrowed("experiment"),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Ev::Net(e) => e.kind(),
            Ev::Send(_) => "send",
            Ev::Fault(_) => "fault",
        }
    }
}

/// A probe to send.
#[derive(Clone, Debug)]
pub struct Probe {
    pub at: SimTime,
    pub packet: Packet,
}

/// A delivered probe.
#[derive(Clone, Debug, PartialEq)]
pub struct Received {
    pub seq: u64,
    pub at: SimTime,
    pub sent_at: SimTime,
    pub node: String,
    pub hops: u8,
}

impl Received {
    pub fn delay_ms(&self) -> f64 {
        (self.at - self.sent_at).as_millis_f64()
    }
}

pub struct World {
    pub net: Network,
    pub probes: Vec<Probe>,
    pub outcomes: Vec<Option<SendOutcome>>,
    pub received: Vec<Received>,
}

impl Model for World {
    type Event = Ev;
    fn handle(&mut self, sched: &mut Scheduler<Ev>, ev: Ev) {
        match ev {
            Ev::Net(e) => {
                if let Some(d) = self.net.handle(sched, e) {
                    let r = received(&self.net, sched.now(), d);
                    self.received.push(r);
                }
            }
            Ev::Send(i) => {
                let p = self.probes[i].packet.clone();
                self.outcomes[i] = Some(self.net.send(sched, p));
            }
            Ev::Fault(f) => self.net.apply_fault(sched.now(), f),
        }
    }
}

fn received(net: &Network, at: SimTime, d: Delivery) -> Received {
    let mut seq = [0u8; 8];
    let n = d.packet.payload.len().min(8);
    seq[..n].copy_from_slice(&d.packet.payload[..n]);
    Received {
        seq: u64::from_le_bytes(seq),
        at,
        sent_at: d.sent_at,
        node: net.node_name(d.node).to_string(),
        hops: d.hops,
    }
}

/// Builds a network from a topology's RON text.
pub fn network(text: &str, seed: u64) -> Network {
    let path = Path::new("test.ron");
    let topology = Topology::parse(path, text).unwrap_or_else(|e| panic!("{e}"));
    let spec = topology
        .to_spec(path, text)
        .unwrap_or_else(|e| panic!("{e:?}"));
    Network::new(spec, &RngFactory::new(seed)).expect("network")
}

/// A probe packet of `ip_bytes` (≥ 36) from `src` to `dst` carrying `seq`.
pub fn probe(net: &Network, src: &str, dst: &str, seq: u64, ip_bytes: usize) -> Packet {
    let addr = |n: &str| net.address(net.node_id(n).unwrap_or_else(|| panic!("node {n}")));
    let mut payload = vec![0u8; ip_bytes - 28];
    payload[..8].copy_from_slice(&seq.to_le_bytes());
    Packet::new(
        SocketAddrV4::new(addr(src), 5004),
        SocketAddrV4::new(addr(dst), 5004),
        Bytes::from(payload),
    )
}

/// `count` probes from `src` to `dst`, one every `interval_us` from `start`.
#[allow(clippy::too_many_arguments)] // a flat call reads best in the statistical tests
pub fn stream(
    net: &Network,
    src: &str,
    dst: &str,
    start: SimTime,
    interval_us: u64,
    count: u64,
    ip_bytes: usize,
    dscp: u8,
) -> Vec<Probe> {
    (0..count)
        .map(|i| Probe {
            at: start + voicetwin::sim::SimDuration::from_micros(i * interval_us),
            packet: probe(net, src, dst, i, ip_bytes).with_dscp(dscp),
        })
        .collect()
}

/// Runs `net` with the probes and faults until `until`; the scheduler is returned for its
/// trace.
pub fn run(
    mut net: Network,
    probes: Vec<Probe>,
    faults: Vec<(SimTime, Fault)>,
    until: SimTime,
    trace: TraceMode,
) -> (World, Scheduler<Ev>) {
    let mut sched = Scheduler::with_trace(trace);
    net.start(&mut sched);
    for (i, p) in probes.iter().enumerate() {
        sched.schedule_at(p.at, Ev::Send(i));
    }
    for (at, f) in faults {
        sched.schedule_at(at, Ev::Fault(f));
    }
    let mut world = World {
        net,
        outcomes: vec![None; probes.len()],
        probes,
        received: Vec::new(),
    };
    sched.run_until(&mut world, until);
    (world, sched)
}

pub fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

/// Mean and sample standard deviation.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}
