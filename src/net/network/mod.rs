//! The running network: sending, forwarding hop by hop, delivering, faults and background
//! traffic, driven by the kernel through [`NetEvent`]s.

mod fault;
mod query;
pub use query::PathProfile;

pub use fault::{Fault, FaultAction};

use super::arena::{Flow, InFlight, PacketArena, PacketId};
use super::background::{BackgroundPath, Generator};
use super::counters::NetStats;
use super::direction::{Direction, FifoOutcome, PriorityOutcome};
use super::packet::{Packet, ZEROS};
use super::routing::{Routes, RoutingView};
use super::spec::{FaultSpec, NetworkSpec};
use super::{GeneratorId, LinkId, NetError, NodeId};
use crate::sim::{RngFactory, Scheduler, SimTime, TraceEvent};
use bytes::Bytes;
use petgraph::graph::{NodeIndex, UnGraph};
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};

/// A fixed, fast hasher for address keys. The address table is only ever looked up (never
/// iterated), so neither its seed nor its order can reach an output; SipHash's resistance
/// to flooding buys nothing here and costs a few percent of every send.
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl std::hash::Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn finish(&self) -> u64 {
        let h = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^ (h >> 29)
    }
}

type AddrMap = HashMap<Ipv4Addr, NodeId, std::hash::BuildHasherDefault<AddrHasher>>;

/// The hop limit of every packet (the usual initial IPv4 TTL).
const TTL: u8 = 64;

/// The UDP port of background packets (discard, RFC 863).
const DISCARD_PORT: u16 = 9;

/// An event of the network, scheduled by it and handed back to [`Network::handle`]. It
/// carries only indices (12 bytes); the packets stay in the network.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NetEvent(Kind);

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// A packet reaches the far end of a direction.
    Arrive { packet: u32, dir: u32 },
    /// A strict-priority direction finishes a transmission.
    Transmitted { dir: u32, epoch: u32 },
    /// A fault takes effect.
    Fault { index: u32 },
    /// A background generator emits a packet.
    Emit { generator: u32 },
    /// A packet between two addresses of one node.
    Local { packet: u32 },
}

impl TraceEvent for NetEvent {
    fn component(&self) -> Cow<'_, str> {
        Cow::Owned(match self.0 {
            Kind::Arrive { dir, .. } | Kind::Transmitted { dir, .. } => format!("net:dir{dir}"),
            Kind::Fault { index } => format!("net:fault{index}"),
            Kind::Emit { generator } => format!("net:bg{generator}"),
            Kind::Local { .. } => return Cow::Borrowed("net:local"),
        })
    }

    fn kind(&self) -> &'static str {
        match self.0 {
            Kind::Arrive { .. } => "arrive",
            Kind::Transmitted { .. } => "transmitted",
            Kind::Fault { .. } => "fault",
            Kind::Emit { .. } => "emit",
            Kind::Local { .. } => "local",
        }
    }
}

/// A packet that reached the node owning its destination address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub node: NodeId,
    pub packet: Packet,
    /// When [`Network::send`] took it.
    pub sent_at: SimTime,
    /// Links crossed.
    pub hops: u8,
}

/// Why the network refused a packet at once. Losses further along are silent, as on a real
/// network, and only show in the counters.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DropReason {
    UnknownSource,
    UnknownDestination,
    SourceDown,
    NoRoute,
    /// The first link's queue was full.
    QueueFull,
}

/// What [`Network::send`] did with a packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// On its way (it may still be lost further along).
    Sent,
    Dropped(DropReason),
}

struct NodeInfo {
    name: String,
    role: String,
    site: String,
    address: Ipv4Addr,
}

/// What happened to a packet offered to a direction.
enum Hop {
    Travelling,
    TailDrop,
    Gone,
}

/// The virtual network of one run.
pub struct Network {
    nodes: Vec<NodeInfo>,
    link_names: Vec<String>,
    dirs: Vec<Direction>,
    /// Directions leaving each node.
    out_dirs: Vec<Vec<u32>>,
    graph: UnGraph<(), u32>,
    node_up: Vec<bool>,
    transit: Vec<bool>,
    link_up: Vec<bool>,
    latency_ns: Vec<u64>,
    link_a: Vec<NodeId>,
    routes: Routes,
    addresses: AddrMap,
    node_by_name: HashMap<String, NodeId>,
    link_by_name: HashMap<String, LinkId>,
    generator_by_name: HashMap<String, GeneratorId>,
    arena: PacketArena,
    generators: Vec<Generator>,
    planned: Vec<FaultSpec>,
    faults: Vec<Fault>,
    /// Counts failures; packets remember its value to find the failures they lived through.
    fault_seq: u64,
    stats: NetStats,
    started: bool,
}

impl Network {
    /// Builds the network of `spec`, drawing from streams of `rngs`.
    pub fn new(spec: NetworkSpec, rngs: &RngFactory) -> Result<Network, NetError> {
        let plan = spec.address_plan()?;
        let n = spec.nodes.len();
        let mut graph = UnGraph::with_capacity(n, spec.links.len());
        for _ in 0..n {
            graph.add_node(());
        }
        let mut nodes = Vec::with_capacity(n);
        let mut addresses = AddrMap::with_capacity_and_hasher(n, Default::default());
        let mut node_by_name = HashMap::with_capacity(n);
        let mut transit = Vec::with_capacity(n);
        for (i, (node, addr)) in spec.nodes.into_iter().zip(plan).enumerate() {
            let id = NodeId::from_index(i);
            addresses.insert(addr, id);
            node_by_name.insert(node.name.clone(), id);
            transit.push(node.transit);
            nodes.push(NodeInfo {
                name: node.name,
                role: node.role,
                site: node.site,
                address: addr,
            });
        }
        let mut dirs = Vec::with_capacity(2 * spec.links.len());
        let mut out_dirs = vec![Vec::new(); n];
        let mut link_names = Vec::with_capacity(spec.links.len());
        let mut link_by_name = HashMap::new();
        let mut latency_ns = Vec::new();
        let mut link_a = Vec::new();
        for (i, ((name, link), [ab, ba])) in spec.links.into_iter().zip(spec.labels).enumerate() {
            let id = LinkId::from_index(i);
            graph.add_edge(
                NodeIndex::new(link.a.index()),
                NodeIndex::new(link.b.index()),
                i as u32,
            );
            out_dirs[link.a.index()].push(2 * i as u32);
            out_dirs[link.b.index()].push(2 * i as u32 + 1);
            dirs.push(Direction::new(id, &link, link.a, link.b, ab, rngs));
            dirs.push(Direction::new(id, &link, link.b, link.a, ba, rngs));
            latency_ns.push(link.latency.as_nanos());
            link_a.push(link.a);
            link_by_name.insert(name.clone(), id);
            link_names.push(name);
        }
        let mut generator_by_name = HashMap::new();
        let generators: Vec<Generator> = spec
            .background
            .into_iter()
            .enumerate()
            .map(|(i, bg)| {
                generator_by_name.insert(bg.name.clone(), GeneratorId::from_index(i));
                Generator::new(bg, rngs)
            })
            .collect();
        let mut net = Network {
            nodes,
            link_names,
            dirs,
            out_dirs,
            graph,
            node_up: vec![true; n],
            transit,
            link_up: vec![true; latency_ns.len()],
            latency_ns,
            link_a,
            routes: Routes::default(),
            addresses,
            node_by_name,
            link_by_name,
            generator_by_name,
            arena: PacketArena::default(),
            generators,
            planned: spec.faults,
            faults: Vec::new(),
            fault_seq: 0,
            stats: NetStats::default(),
            started: false,
        };
        net.recompute_routes();
        Ok(net)
    }

    fn recompute_routes(&mut self) {
        self.routes = Routes::compute(&RoutingView {
            graph: &self.graph,
            node_up: &self.node_up,
            transit: &self.transit,
            link_up: &self.link_up,
            latency_ns: &self.latency_ns,
            link_a: &self.link_a,
        });
    }

    /// Schedules the faults planned in the topology and the first emission of every
    /// background generator. Call it once, before running; later calls do nothing.
    pub fn start<E: From<NetEvent>>(&mut self, sched: &mut Scheduler<E>) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        for planned in std::mem::take(&mut self.planned) {
            let down = Fault {
                target: planned.target,
                action: FaultAction::Down,
            };
            self.schedule_fault(sched, planned.at, down);
            if let Some(d) = planned.duration {
                let up = Fault {
                    action: FaultAction::Up,
                    ..down
                };
                self.schedule_fault(sched, planned.at + d, up);
            }
        }
        for (i, g) in self.generators.iter_mut().enumerate() {
            if let Some(at) = g.first_emission() {
                let generator = i as u32;
                sched.schedule_at(at, NetEvent(Kind::Emit { generator }).into());
            }
        }
    }

    /// Sends a packet from the node owning its source address towards the node owning its
    /// destination address.
    pub fn send<E: From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        packet: Packet,
    ) -> SendOutcome {
        self.stats.sent += 1;
        let drop = |stat: &mut u64, reason| {
            *stat += 1;
            SendOutcome::Dropped(reason)
        };
        let Some(src) = self.resolve(*packet.src.ip()) else {
            return drop(
                &mut self.stats.dropped_unknown_source,
                DropReason::UnknownSource,
            );
        };
        if !self.node_up[src.index()] {
            return drop(&mut self.stats.dropped_node_down, DropReason::SourceDown);
        }
        let Some(dst) = self.resolve(*packet.dst.ip()) else {
            return drop(
                &mut self.stats.dropped_unknown_destination,
                DropReason::UnknownDestination,
            );
        };
        let now = sched.now();
        let record = InFlight {
            ip_bytes: packet.ip_bytes(),
            packet,
            flow: Flow::Element,
            sent_at: now,
            dst,
            dir: 0,
            departed: now,
            fault_mark: 0,
            hops: 0,
        };
        if src == dst {
            let id = self.arena.insert(record);
            sched.schedule_at(now, NetEvent(Kind::Local { packet: id.0 }).into());
            return SendOutcome::Sent;
        }
        let Some(dir) = self.routes.next_dir(src, dst) else {
            return drop(&mut self.stats.dropped_no_route, DropReason::NoRoute);
        };
        let id = self.arena.insert(record);
        match self.offer(sched, id, dir) {
            Hop::TailDrop => SendOutcome::Dropped(DropReason::QueueFull),
            Hop::Travelling | Hop::Gone => SendOutcome::Sent,
        }
    }

    /// Offers packet `id` to direction `dir` at the current time. Frees it if it does not
    /// survive the hop.
    fn offer<E: From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        id: PacketId,
        dir: u32,
    ) -> Hop {
        let now = sched.now();
        let d = &mut self.dirs[dir as usize];
        let Some(rec) = self.arena.get_mut(id) else {
            return Hop::Gone; // unreachable: the caller owns a live packet
        };
        rec.dir = dir;
        rec.fault_mark = self.fault_seq;
        rec.hops = rec.hops.saturating_add(1);
        let wire = rec.ip_bytes + d.l2_overhead;
        if !self.link_up[d.link.index()] || !self.node_up[d.from.index()] {
            // Only a generator pinned to a link gets here: routes avoid failed elements.
            d.counters.sent += 1;
            d.counters.bytes += u64::from(wire);
            d.counters.dropped_failure += 1;
            self.arena.remove(id);
            return Hop::Gone;
        }
        if d.is_priority() {
            match d.offer_priority(now, id, wire, rec.packet.is_ef()) {
                PriorityOutcome::TailDrop => {
                    self.arena.remove(id);
                    Hop::TailDrop
                }
                PriorityOutcome::Queued => Hop::Travelling,
                PriorityOutcome::Transmitting { done, epoch } => {
                    sched.schedule_at(done, NetEvent(Kind::Transmitted { dir, epoch }).into());
                    Hop::Travelling
                }
            }
        } else {
            match d.offer_fifo(now, wire) {
                FifoOutcome::TailDrop => {
                    self.arena.remove(id);
                    Hop::TailDrop
                }
                FifoOutcome::Lost => {
                    self.arena.remove(id);
                    Hop::Gone
                }
                FifoOutcome::Arrives { departed, arrival } => {
                    rec.departed = departed;
                    let packet = id.0;
                    sched.schedule_at(arrival, NetEvent(Kind::Arrive { packet, dir }).into());
                    Hop::Travelling
                }
            }
        }
    }

    /// Handles one of the network's events. Returns the packet when it reached the node
    /// owning its destination address; the caller hands it to the element bound there.
    pub fn handle<E: From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        event: NetEvent,
    ) -> Option<Delivery> {
        match event.0 {
            Kind::Arrive { packet, dir } => self.on_arrive(sched, PacketId(packet), dir),
            Kind::Transmitted { dir, epoch } => {
                self.on_transmitted(sched, dir, epoch);
                None
            }
            Kind::Fault { index } => {
                if let Some(&fault) = self.faults.get(index as usize) {
                    self.apply_fault(sched.now(), fault);
                }
                None
            }
            Kind::Emit { generator } => {
                self.on_emit(sched, generator as usize);
                None
            }
            Kind::Local { packet } => {
                let rec = self.arena.remove(PacketId(packet))?;
                if self.node_up[rec.dst.index()] {
                    self.stats.delivered += 1;
                    Some(Delivery {
                        node: rec.dst,
                        packet: rec.packet,
                        sent_at: rec.sent_at,
                        hops: 0,
                    })
                } else {
                    self.stats.dropped_node_down += 1;
                    None
                }
            }
        }
    }

    fn on_arrive<E: From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        id: PacketId,
        dir: u32,
    ) -> Option<Delivery> {
        let d = &mut self.dirs[dir as usize];
        let rec = self.arena.get(id)?;
        let node = d.to;
        if d.doomed(rec.fault_mark, rec.departed) || !self.node_up[node.index()] {
            d.counters.dropped_failure += 1;
            self.arena.remove(id);
            return None;
        }
        d.counters.delivered += 1;
        d.counters.delivered_bytes += u64::from(rec.ip_bytes + d.l2_overhead);
        if rec.dst == node {
            let rec = self.arena.remove(id)?;
            return match rec.flow {
                Flow::Element => {
                    self.stats.delivered += 1;
                    Some(Delivery {
                        node,
                        packet: rec.packet,
                        sent_at: rec.sent_at,
                        hops: rec.hops,
                    })
                }
                Flow::Background(g) => {
                    self.generators[g.index()].counters.delivered += 1;
                    None
                }
            };
        }
        let (dst, hops, flow) = (rec.dst, rec.hops, rec.flow);
        let next = self
            .routes
            .next_dir(node, dst)
            .filter(|_| self.transit[node.index()]);
        match next {
            Some(_) if hops >= TTL => {
                self.count_forward_drop(flow, |s| &mut s.dropped_ttl);
                self.arena.remove(id);
            }
            Some(next) => {
                self.offer(sched, id, next);
            }
            None => {
                self.count_forward_drop(flow, |s| &mut s.dropped_no_route);
                self.arena.remove(id);
            }
        }
        None
    }

    fn count_forward_drop(&mut self, flow: Flow, stat: impl Fn(&mut NetStats) -> &mut u64) {
        if flow == Flow::Element {
            *stat(&mut self.stats) += 1;
        }
    }

    fn on_transmitted<E: From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        dir: u32,
        epoch: u32,
    ) {
        let now = sched.now();
        let Some(((id, arrival), next_done)) = self.dirs[dir as usize].transmitted(now, epoch)
        else {
            return; // the queue was flushed by a failure since
        };
        if let Some(done) = next_done {
            sched.schedule_at(done, NetEvent(Kind::Transmitted { dir, epoch }).into());
        }
        match (arrival, self.arena.get_mut(id)) {
            (Some(at), Some(rec)) => {
                rec.departed = now;
                let packet = id.0;
                sched.schedule_at(at, NetEvent(Kind::Arrive { packet, dir }).into());
            }
            _ => {
                self.arena.remove(id);
            }
        }
    }

    fn on_emit<E: From<NetEvent>>(&mut self, sched: &mut Scheduler<E>, index: usize) {
        let now = sched.now();
        let Some(g) = self.generators.get_mut(index) else {
            return;
        };
        if let Some(at) = g.next_emission(now) {
            let generator = index as u32;
            sched.schedule_at(at, NetEvent(Kind::Emit { generator }).into());
        }
        g.counters.sent += 1;
        let (from, to, pinned) = match g.spec.path {
            BackgroundPath::Between { from, to } => (from, to, None),
            BackgroundPath::OnLink { link, from } => {
                let ab = 2 * link.index() as u32;
                if self.link_a[link.index()] == from {
                    (from, self.dirs[ab as usize].to, Some(ab))
                } else {
                    (from, self.dirs[ab as usize + 1].to, Some(ab + 1))
                }
            }
        };
        let dir = match pinned {
            Some(dir) => Some(dir),
            None if self.node_up[from.index()] => self.routes.next_dir(from, to),
            None => None,
        };
        let Some(dir) = dir else {
            g.counters.dropped_at_source += 1;
            return;
        };
        let payload = Bytes::from_static(&ZEROS[..g.payload_len()]);
        let packet = Packet {
            src: SocketAddrV4::new(self.nodes[from.index()].address, DISCARD_PORT),
            dst: SocketAddrV4::new(self.nodes[to.index()].address, DISCARD_PORT),
            dscp: g.spec.dscp,
            payload,
        };
        let id = self.arena.insert(InFlight {
            ip_bytes: packet.ip_bytes(),
            packet,
            flow: Flow::Background(GeneratorId::from_index(index)),
            sent_at: now,
            dst: to,
            dir,
            departed: now,
            fault_mark: 0,
            hops: 0,
        });
        self.offer(sched, id, dir);
    }
}
