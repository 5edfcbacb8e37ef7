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
