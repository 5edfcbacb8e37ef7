//! `net`: the virtual network.
//!
//! A petgraph topology of hosts (each with a role, a site and an IPv4 address) joined by
//! full-duplex links. Each direction of a link has its own propagation latency, jitter,
//! loss process (Bernoulli or Gilbert–Elliott), bandwidth with a finite queue (FIFO, or
//! strict priority for EF-marked packets), counters and RNG streams. Packets carry real
//! bytes between `address:port` pairs and are delivered to the node that owns the
//! destination address. Routing is least-latency with deterministic tie-breaks and is
//! recomputed whenever a link or node fails or is repaired. Background traffic generators
//! load links so that voice competes with data.
//!
//! The layer plugs into the kernel without knowing the layers above: the world's event enum
//! wraps a [`NetEvent`] (`E: From<NetEvent>`), the world hands those events back to
//! [`Network::handle`], and a [`Delivery`] comes out when a packet reaches its destination.
//!
//! Invariants:
//! - depends only on `sim`; knows nothing of SIP, RTP or the elements;
//! - every random draw comes from a named stream: `link:<from>-<to>` with purpose `loss` or
//!   `jitter` per link direction, `bg:<name>` per background generator, so adding a link or
//!   a generator never changes the draws of the others;
//! - events carry indices only (packets live in an arena), so the kernel's heap stays small;
//! - nothing observable iterates a `HashMap`: addresses are looked up, never listed.
//!
//! Timing model of one hop: a packet offered to a direction at `t` waits behind the packets
//! already queued, is serialised at the link rate (`wire bytes × 8 / rate`), may be lost on
//! the wire (the lost packet still used the bandwidth), then arrives after the propagation
//! latency plus a non-negative jitter draw. Jitter does not reorder packets unless the link
//! says `reorder`: a packet never arrives before the one sent ahead of it on the same
//! direction, as on a real FIFO path. A FIFO direction costs one event per hop (its
//! departure times are computed analytically); a strict-priority direction adds one
//! transmission-complete event per packet.

mod arena;
mod background;
mod counters;
mod direction;
mod impair;
mod network;
mod packet;
mod routing;
mod spec;

pub use background::{BackgroundPath, BackgroundSpec, TrafficPattern};
pub use counters::{DirCounters, GeneratorCounters, LinkStats, NetStats};
pub use network::{
    Delivery, DropReason, Fault, FaultAction, NetEvent, Network, PathProfile, SendOutcome,
};
pub use packet::{ETHERNET_OVERHEAD, IPV4_UDP_OVERHEAD, Packet};
pub use spec::{
    FaultSpec, FaultTarget, Jitter, LinkSpec, LossModel, NetworkSpec, NodeSpec, Probability,
    QueueLimit, Queueing, Rate,
};

use crate::sim::SimTime;
use std::net::Ipv4Addr;

/// A node of the network, by its index in the topology (file order).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

/// A link of the network, by its index in the topology (file order).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(u32);

/// A background traffic generator, by its index in the topology (file order).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GeneratorId(u32);

macro_rules! index_id {
    ($t:ty) => {
        impl $t {
            /// The position in the topology, from 0.
            pub fn index(self) -> usize {
                self.0 as usize
            }

            /// The id at `index`; meaningful only for an index below the count.
            pub(crate) fn from_index(index: usize) -> Self {
                // A topology never holds 2^32 nodes, links or generators: NetworkSpec
                // refuses more than `MAX_ITEMS`.
                Self(u32::try_from(index).unwrap_or(u32::MAX))
            }
        }
    };
}
index_id!(NodeId);
index_id!(LinkId);
index_id!(GeneratorId);

/// The most nodes, links or generators one network may hold.
pub(crate) const MAX_ITEMS: usize = 1 << 24;

/// Errors of the `net` layer: invalid values and inconsistent topologies.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NetError {
    /// A number out of its domain (negative, NaN, infinite, outside [0, 1], zero rate...).
    #[error("invalid {what}: {detail}")]
    InvalidValue { what: &'static str, detail: String },
    #[error("invalid name `{0}`: use letters, digits, `-`, `_` or `.`")]
    InvalidName(String),
    #[error("node `{0}` is defined twice")]
    DuplicateNode(String),
    #[error("link `{0}` is defined twice (give parallel links distinct names)")]
    DuplicateLink(String),
    #[error("background generator `{0}` is defined twice")]
    DuplicateGenerator(String),
    #[error("address {addr} is already used by node `{node}`")]
    AddressInUse { addr: Ipv4Addr, node: String },
    #[error("undefined node `{0}`")]
    UnknownNode(String),
    #[error("undefined link `{0}`")]
    UnknownLink(String),
    #[error("link `{0}` joins a node to itself")]
    SelfLoop(String),
    #[error("node `{node}` is not an end of link `{link}`")]
    NotOnLink { node: String, link: String },
    #[error("fault on {target} at {at} overlaps another fault on it (from {other_at})")]
    FaultOverlap {
        target: String,
        at: SimTime,
        other_at: SimTime,
    },
    #[error("too many {0} (at most {MAX_ITEMS})")]
    TooMany(&'static str),
    #[error("cannot assign an address automatically: {0}")]
    AddressPlan(String),
}

/// Checks a node, link or generator name: non-empty, ASCII letters, digits, `-`, `_`, `.`.
pub(crate) fn check_name(name: &str) -> Result<(), NetError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(NetError::InvalidName(name.to_string()))
    }
}
