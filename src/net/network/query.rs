//! What the layers above may ask of the network: addresses, names, state, routes,
//! counters.

use super::{Kind, NetEvent, Network};
use crate::net::counters::{DirCounters, GeneratorCounters, LinkStats, NetStats};
use crate::net::spec::FaultTarget;
use crate::net::{GeneratorId, LinkId, NetError, NodeId};
use crate::sim::{SimDuration, TraceEvent};
use std::net::Ipv4Addr;

impl Network {
    /// Hangs an extra address on `node` (e.g. the many clients of a site LAN).
    pub fn bind_address(&mut self, node: NodeId, addr: Ipv4Addr) -> Result<(), NetError> {
        let Some(info) = self.nodes.get(node.index()) else {
            return Err(NetError::UnknownNode(format!("#{}", node.index())));
        };
        match self.addresses.get(&addr) {
            Some(&owner) if owner == node => Ok(()),
            Some(&owner) => Err(NetError::AddressInUse {
                addr,
                node: self.nodes[owner.index()].name.clone(),
            }),
            None if addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast() => {
                Err(NetError::InvalidValue {
                    what: "address",
                    detail: format!("{addr} cannot be bound to `{}`", info.name),
                })
            }
            None => {
                self.addresses.insert(addr, node);
                Ok(())
            }
        }
    }

    /// Removes an extra address; a node's own address stays. Returns whether it was bound.
    pub fn unbind_address(&mut self, addr: Ipv4Addr) -> bool {
        match self.addresses.get(&addr) {
            Some(&n) if self.nodes[n.index()].address != addr => {
                self.addresses.remove(&addr);
                true
            }
            _ => false,
        }
    }

    /// The node owning an address.
    #[inline]
    pub fn resolve(&self, addr: Ipv4Addr) -> Option<NodeId> {
        self.addresses.get(&addr).copied()
    }

    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.node_by_name.get(name).copied()
    }

    pub fn link_id(&self, name: &str) -> Option<LinkId> {
        self.link_by_name.get(name).copied()
    }

    pub fn generator_id(&self, name: &str) -> Option<GeneratorId> {
        self.generator_by_name.get(name).copied()
    }

    /// Every node, in topology order.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len()).map(NodeId::from_index)
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn link_count(&self) -> usize {
        self.link_names.len()
    }

    pub fn node_name(&self, node: NodeId) -> &str {
        &self.nodes[node.index()].name
    }

    pub fn node_role(&self, node: NodeId) -> &str {
        &self.nodes[node.index()].role
    }

    pub fn node_site(&self, node: NodeId) -> &str {
        &self.nodes[node.index()].site
    }

    /// The node's own address.
    pub fn address(&self, node: NodeId) -> Ipv4Addr {
        self.nodes[node.index()].address
    }

    pub fn link_name(&self, link: LinkId) -> &str {
        &self.link_names[link.index()]
    }

    /// The two ends of a link, as given (a, b).
    pub fn link_ends(&self, link: LinkId) -> (NodeId, NodeId) {
        let ab = &self.dirs[2 * link.index()];
        (ab.from, ab.to)
    }

    pub fn is_node_up(&self, node: NodeId) -> bool {
        self.node_up[node.index()]
    }

    pub fn is_link_up(&self, link: LinkId) -> bool {
        self.link_up[link.index()]
    }

    /// The nodes a packet from `src` to `dst` would visit now, both included.
    pub fn route(&self, src: NodeId, dst: NodeId) -> Option<Vec<NodeId>> {
        let mut path = vec![src];
        let mut at = src;
        while at != dst {
            let dir = self.routes.next_dir(at, dst)?;
            at = self.dirs[dir as usize].to;
            path.push(at);
            if path.len() > self.nodes.len() {
                return None; // unreachable: next hops form a tree
            }
        }
        (self.node_up[src.index()] && self.node_up[dst.index()]).then_some(path)
    }

    /// The propagation latency of the current route from `src` to `dst`.
    pub fn path_latency(&self, src: NodeId, dst: NodeId) -> Option<SimDuration> {
        self.routes
            .latency_ns(src, dst)
            .map(SimDuration::from_nanos)
    }

    /// The counters of a link, by direction.
    pub fn link_stats(&self, link: LinkId) -> LinkStats {
        let (ab, ba) = (
            &self.dirs[2 * link.index()],
            &self.dirs[2 * link.index() + 1],
        );
        LinkStats {
            name: self.link_names[link.index()].clone(),
            a: ab.from,
            b: ab.to,
            a_to_b: ab.counters,
            b_to_a: ba.counters,
        }
    }

    /// The counters of the direction of `link` leaving `from`.
    pub fn dir_counters(&self, link: LinkId, from: NodeId) -> Option<DirCounters> {
        let ab = self.dirs.get(2 * link.index())?;
        if ab.from == from {
            Some(ab.counters)
        } else if ab.to == from {
            Some(self.dirs[2 * link.index() + 1].counters)
        } else {
            None
        }
    }

    pub fn generator_counters(&self, g: GeneratorId) -> GeneratorCounters {
        self.generators[g.index()].counters
    }

    /// Network-wide counters of the packets sent by the layers above.
    pub fn stats(&self) -> NetStats {
        self.stats
    }

    /// Packets currently in flight (including background).
    pub fn in_flight(&self) -> usize {
        self.arena.len()
    }

    /// A readable description of an event, with names instead of indices.
    pub fn describe(&self, event: &NetEvent) -> String {
        match event.0 {
            Kind::Arrive { dir, .. } | Kind::Transmitted { dir, .. } => {
                let label = self
                    .dirs
                    .get(dir as usize)
                    .map_or("?", |d| d.label.as_str());
                format!("{label} {}", event.kind())
            }
            Kind::Fault { index } => match self.faults.get(index as usize) {
                Some(f) => {
                    let what = match f.target {
                        FaultTarget::Link(l) => format!("link:{}", self.link_names[l.index()]),
                        FaultTarget::Node(n) => format!("node:{}", self.nodes[n.index()].name),
                    };
                    format!("{what} {:?}", f.action).to_lowercase()
                }
                None => "fault ?".into(),
            },
            Kind::Emit { generator } => match self.generators.get(generator as usize) {
                Some(g) => format!("bg:{} emit", g.spec.name),
                None => "bg:? emit".into(),
            },
            Kind::Local { .. } => "net:local local".into(),
        }
    }
}

/// The analytic view of a route: what a packet of a given size meets on it, without
/// queueing behind other traffic. The media flow model uses it for calls that are not
/// simulated packet by packet.
#[derive(Clone, Debug, PartialEq)]
pub struct PathProfile {
    /// Propagation plus serialisation, summed over the hops.
    pub latency: SimDuration,
    /// Mean of the summed jitter, ms.
    pub jitter_mean_ms: f64,
    /// Variance of the summed jitter, ms².
    pub jitter_var_ms2: f64,
    /// The jitter of each hop that has any, in path order.
    pub jitters: Vec<crate::net::Jitter>,
    /// Probability a packet is lost somewhere on the path.
    pub loss: f64,
    /// G.107 burst ratio of the path's loss (1 for random loss).
    pub burst_ratio: f64,
    pub hops: usize,
}

impl PathProfile {
    /// Mean absolute deviation of the summed jitter from its mean, ms: exact for one jittery
    /// hop, the normal approximation otherwise.
    pub fn jitter_mad_ms(&self) -> f64 {
        match self.jitters.as_slice() {
            [] => 0.0,
            [j] => jitter_mad_ms(*j),
            _ => self.jitter_var_ms2.sqrt() * (2.0 / std::f64::consts::PI).sqrt(),
        }
    }

    /// Probability that the summed jitter exceeds its mean by more than `x_ms`: exact for
    /// one jittery hop, the normal approximation otherwise.
    pub fn jitter_tail(&self, x_ms: f64) -> f64 {
        match self.jitters.as_slice() {
            [] => 0.0,
            [j] => jitter_tail(*j, x_ms),
            _ => normal_tail(x_ms / self.jitter_var_ms2.sqrt().max(1e-12)),
        }
    }
}

fn jitter_moments(j: crate::net::Jitter) -> (f64, f64) {
    use crate::net::Jitter;
    match j {
        Jitter::None => (0.0, 0.0),
        Jitter::Uniform { max } => {
            let m = max.as_millis_f64();
            (m / 2.0, m * m / 12.0)
        }
        Jitter::Normal { mean, std } => (mean.as_millis_f64(), std.as_millis_f64().powi(2)),
        Jitter::Exponential { mean } => {
            let m = mean.as_millis_f64();
            (m, m * m)
        }
    }
}

fn jitter_mad_ms(j: crate::net::Jitter) -> f64 {
    use crate::net::Jitter;
    match j {
        Jitter::None => 0.0,
        // Uniform on [0, a]: E|X − a/2| = a/4.
        Jitter::Uniform { max } => max.as_millis_f64() / 4.0,
        // Normal: σ·√(2/π).
        Jitter::Normal { std, .. } => std.as_millis_f64() * (2.0 / std::f64::consts::PI).sqrt(),
        // Exponential with mean m: 2m/e.
        Jitter::Exponential { mean } => 2.0 * mean.as_millis_f64() / std::f64::consts::E,
    }
}

fn jitter_tail(j: crate::net::Jitter, x_ms: f64) -> f64 {
    use crate::net::Jitter;
    if x_ms < 0.0 {
        return 1.0;
    }
    match j {
        Jitter::None => 0.0,
        Jitter::Uniform { max } => {
            let a = max.as_millis_f64();
            ((a / 2.0 - x_ms) / a).clamp(0.0, 1.0)
        }
        Jitter::Normal { std, .. } => normal_tail(x_ms / std.as_millis_f64().max(1e-12)),
        // P(X > m + x) = e^{−(m + x)/m}.
        Jitter::Exponential { mean } => {
            let m = mean.as_millis_f64().max(1e-12);
            libm::exp(-(m + x_ms) / m)
        }
    }
}

/// P(Z > z) for a standard normal Z.
fn normal_tail(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

impl Network {
    /// The analytic profile of the current route from `src` to `dst` for packets of
    /// `ip_bytes`; `None` when either address is unknown or there is no route.
    pub fn path_profile(&self, src: Ipv4Addr, dst: Ipv4Addr, ip_bytes: u32) -> Option<PathProfile> {
        let (mut at, to) = (self.resolve(src)?, self.resolve(dst)?);
        let mut p = PathProfile {
            latency: SimDuration::ZERO,
            jitter_mean_ms: 0.0,
            jitter_var_ms2: 0.0,
            jitters: Vec::new(),
            loss: 0.0,
            burst_ratio: 1.0,
            hops: 0,
        };
        let mut delivered = 1.0;
        let (mut burst_weighted, mut hop_loss_sum) = (0.0, 0.0);
        while at != to {
            let dir = self.routes.next_dir(at, to)?;
            let hop = self.dirs[dir as usize].hop_profile(ip_bytes);
            p.latency += hop.latency;
            let (m, v) = jitter_moments(hop.jitter);
            p.jitter_mean_ms += m;
            p.jitter_var_ms2 += v;
            if !matches!(hop.jitter, crate::net::Jitter::None) {
                p.jitters.push(hop.jitter);
            }
            delivered *= 1.0 - hop.loss;
            burst_weighted += hop.loss * hop.burst_ratio;
            hop_loss_sum += hop.loss;
            at = self.dirs[dir as usize].to;
            p.hops += 1;
            if p.hops > self.nodes.len() {
                return None;
            }
        }
        p.loss = 1.0 - delivered;
        // The loss-weighted mean of the hops' burst ratios.
        if hop_loss_sum > 0.0 {
            p.burst_ratio = (burst_weighted / hop_loss_sum).max(1.0);
        }
        Some(p)
    }
}
