//! Packets: real bytes between `address:port` pairs, and their size on the wire.

use bytes::Bytes;
use std::net::SocketAddrV4;

/// IPv4 header (20 bytes, no options) plus UDP header (8 bytes).
pub const IPV4_UDP_OVERHEAD: u32 = 28;

/// Ethernet II framing counted by a link: 14-byte header plus 4-byte FCS. Preamble and
/// inter-frame gap are not counted (the usual convention in VoIP bandwidth tables: G.711 at
/// 20 ms is 87.2 kbit/s on Ethernet).
pub const ETHERNET_OVERHEAD: u32 = 18;

/// The largest UDP payload carried by one IPv4 datagram.
pub(crate) const MAX_PAYLOAD: usize = 65_507;

/// A UDP/IPv4 datagram in flight: source and destination `address:port`, the DSCP of its
/// IP header, and its payload bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
    /// Differentiated Services code point (6 bits); 46 is Expedited Forwarding (voice).
    pub dscp: u8,
    pub payload: Bytes,
}

impl Packet {
    /// DSCP Expedited Forwarding (RFC 3246), the marking of voice media.
    pub const DSCP_EF: u8 = 46;

    /// A best-effort packet (DSCP 0).
    pub fn new(src: SocketAddrV4, dst: SocketAddrV4, payload: Bytes) -> Self {
        Packet {
            src,
            dst,
            dscp: 0,
            payload,
        }
    }

    /// The same packet with another DSCP (only the low 6 bits are kept).
    pub fn with_dscp(mut self, dscp: u8) -> Self {
        self.dscp = dscp & 0x3f;
        self
    }

    /// Size of the IP datagram: payload plus IPv4 and UDP headers. A payload too large for
    /// one datagram counts as the largest one (the sender would have fragmented it).
    pub fn ip_bytes(&self) -> u32 {
        let payload = self.payload.len().min(MAX_PAYLOAD) as u32;
        payload + IPV4_UDP_OVERHEAD
    }

    /// True when the packet is marked Expedited Forwarding.
    pub fn is_ef(&self) -> bool {
        self.dscp == Self::DSCP_EF
    }
}

/// Zeros that background packets borrow as their payload, so they cost no allocation.
pub(crate) static ZEROS: [u8; MAX_PAYLOAD] = [0; MAX_PAYLOAD];

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn g711_packet_is_200_bytes_at_ip_and_87_2_kbps_on_ethernet() {
        let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 5004);
        // 12-byte RTP header + 160 bytes of G.711 at 20 ms.
        let p = Packet::new(a, a, Bytes::from(vec![0u8; 172]));
        assert_eq!(p.ip_bytes(), 200);
        let bits_per_s = (p.ip_bytes() + ETHERNET_OVERHEAD) * 8 * 50;
        assert_eq!(bits_per_s, 87_200);
    }

    #[test]
    fn dscp_keeps_six_bits() {
        let a = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1);
        let p = Packet::new(a, a, Bytes::new()).with_dscp(0xff);
        assert_eq!(p.dscp, 0x3f);
        assert!(Packet::new(a, a, Bytes::new()).with_dscp(46).is_ef());
    }
}
