//! The packets in flight, in a slab: events carry a 4-byte [`PacketId`], not the packet.
//!
//! A slot is taken when a packet enters the network and freed when it is delivered or
//! dropped. Each live packet has exactly one owner at a time (a pending arrival event, a
//! priority queue, or a transmission in progress), so ids never dangle.

use super::packet::Packet;
use super::{GeneratorId, NodeId};
use crate::sim::SimTime;

/// The slot of a packet in flight.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PacketId(pub(crate) u32);

/// Who sent a packet, which decides what happens when it reaches its destination.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// A layer above: the packet is delivered.
    Element,
    /// A background generator: the packet is counted and discarded.
    Background(GeneratorId),
}

/// A packet in flight with what the network knows about it.
#[derive(Clone, Debug)]
pub(crate) struct InFlight {
    pub(crate) packet: Packet,
    pub(crate) flow: Flow,
    pub(crate) sent_at: SimTime,
    pub(crate) dst: NodeId,
    /// The direction the packet is queued on or travelling along.
    pub(crate) dir: u32,
    /// When its last bit left the transmitter of `dir`.
    pub(crate) departed: SimTime,
    /// The network's fault counter when the packet was offered to `dir`.
    pub(crate) fault_mark: u64,
    /// IP datagram size, cached.
    pub(crate) ip_bytes: u32,
    pub(crate) hops: u8,
}

#[derive(Default)]
pub(crate) struct PacketArena {
    slots: Vec<Option<InFlight>>,
    free: Vec<u32>,
    live: usize,
}

impl PacketArena {
    pub(crate) fn insert(&mut self, p: InFlight) -> PacketId {
        self.live += 1;
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(p);
                PacketId(i)
            }
            None => {
                // Fewer than 2^32 packets are ever in flight at once (each takes > 64 bytes).
                let i = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(Some(p));
                PacketId(i)
            }
        }
    }

    pub(crate) fn get(&self, id: PacketId) -> Option<&InFlight> {
        self.slots.get(id.0 as usize)?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: PacketId) -> Option<&mut InFlight> {
        self.slots.get_mut(id.0 as usize)?.as_mut()
    }

    pub(crate) fn remove(&mut self, id: PacketId) -> Option<InFlight> {
        let p = self.slots.get_mut(id.0 as usize)?.take()?;
        self.free.push(id.0);
        self.live -= 1;
        Some(p)
    }

    /// Packets in flight.
    pub(crate) fn len(&self) -> usize {
        self.live
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::net::{Ipv4Addr, SocketAddrV4};

    fn pkt(hops: u8) -> InFlight {
        let a = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1);
        InFlight {
            packet: Packet::new(a, a, Bytes::new()),
            flow: Flow::Element,
            sent_at: SimTime::ZERO,
            dst: NodeId(0),
            dir: 0,
            departed: SimTime::ZERO,
            fault_mark: 0,
            ip_bytes: 28,
            hops,
        }
    }

    #[test]
    fn slots_are_reused_and_removal_is_exact() {
        let mut a = PacketArena::default();
        let x = a.insert(pkt(1));
        let y = a.insert(pkt(2));
        assert_eq!(a.remove(x).map(|p| p.hops), Some(1));
        assert!(a.remove(x).is_none());
        let z = a.insert(pkt(3));
        assert_eq!(z, x);
        assert_eq!(a.get(y).map(|p| p.hops), Some(2));
        assert_eq!(a.len(), 2);
    }
}
