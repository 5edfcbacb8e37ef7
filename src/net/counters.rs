//! Counters of packets and bytes, per link direction, per generator and per network.

use super::NodeId;

/// Counters of one direction of a link. Every packet offered to the direction ends in
/// exactly one of `delivered`, `dropped_loss`, `dropped_queue` or `dropped_failure`, or is
/// still in flight: `sent = delivered + dropped + in_flight`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct DirCounters {
    /// Packets offered to the direction.
    pub sent: u64,
    /// Wire bytes (IP datagram plus layer-2 overhead) offered to the direction.
    pub bytes: u64,
    /// Packets that reached the far end.
    pub delivered: u64,
    /// Wire bytes that reached the far end.
    pub delivered_bytes: u64,
    /// Packets lost on the wire by the loss process.
    pub dropped_loss: u64,
    /// Packets refused by a full queue (tail drop).
    pub dropped_queue: u64,
    /// Packets lost because the link or one of its nodes was down or failed while they were
    /// queued or in flight.
    pub dropped_failure: u64,
    /// The most packets ever waiting or in transmission at once.
    pub max_queue_packets: u64,
}

impl DirCounters {
    /// All drops, whatever the cause.
    pub fn dropped(&self) -> u64 {
        self.dropped_loss + self.dropped_queue + self.dropped_failure
    }

    /// Packets offered but not yet delivered or dropped.
    pub fn in_flight(&self) -> u64 {
        self.sent
            .saturating_sub(self.delivered)
            .saturating_sub(self.dropped())
    }
}

/// The counters of a link, by direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkStats {
    pub name: String,
    pub a: NodeId,
    pub b: NodeId,
    pub a_to_b: DirCounters,
    pub b_to_a: DirCounters,
}

/// The counters of one background generator.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct GeneratorCounters {
    /// Packets emitted.
    pub sent: u64,
    /// Packets that reached their destination (then discarded).
    pub delivered: u64,
    /// Packets dropped before leaving their source (no route, source down).
    pub dropped_at_source: u64,
}

/// Network-wide counters of packets from the layers above (background excluded).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Packets handed to [`super::Network::send`].
    pub sent: u64,
    /// Packets delivered to their destination node.
    pub delivered: u64,
    /// Sent from an address no node owns.
    pub dropped_unknown_source: u64,
    /// Sent to an address no node owns.
    pub dropped_unknown_destination: u64,
    /// No path existed from the node holding the packet to its destination.
    pub dropped_no_route: u64,
    /// Sent by a node that was down.
    pub dropped_node_down: u64,
    /// The hop limit ran out.
    pub dropped_ttl: u64,
}
