//! Wire formats (smoltcp style): each format has a validated `Repr` with `parse`, which
//! checks everything once and never panics, and `emit`, which cannot produce an invalid
//! packet from a valid `Repr`.
//!
//! - [`RtpRepr`]: the RFC 3550 §5.1 fixed header, CSRCs and payload, parsed and built with
//!   the `rtp-types` crate.
//! - [`RtcpCompound`]: RFC 3550 §6 compound packets (SR, RR, SDES CNAME, BYE), parsed and
//!   built with the `rtcp-types` crate, plus the A.2 header validity checks.
//! - [`TelephoneEvent`]: the RFC 4733 §2.3 telephone-event payload (DTMF).
//! - [`ComfortNoise`]: the RFC 3389 §3 comfort-noise payload.

mod cn;
mod dtmf;
mod rtcp_packet;
mod rtp_packet;

pub use cn::ComfortNoise;
pub use dtmf::{DtmfDigit, TelephoneEvent};
pub use rtcp_packet::{ReportBlock, RtcpCompound, RtcpPacket, SenderInfo};
pub use rtp_packet::{MAX_CSRCS, RtpRepr};

/// The first octet values that mark a datagram as RTCP rather than RTP when both share a
/// port (RFC 5761 §4: RTCP packet types 192–223 fall in RTP payload types 64–95).
pub fn looks_like_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 2 && (192..=223).contains(&datagram[1])
}
