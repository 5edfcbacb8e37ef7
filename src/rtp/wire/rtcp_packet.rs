//! RTCP compound packets (RFC 3550 §6), through `rtcp-types`.
//!
//! We model what a telephony endpoint sends and reads: SR, RR, SDES (CNAME) and BYE. Other
//! packet types (APP, feedback, XR) are validated for length and kept as
//! [`RtcpPacket::Other`] with their type.

use crate::rtp::Error;
use rtcp_types::prelude::*;
use rtcp_types::{
    Bye, ByeBuilder, Compound, Packet, ReceiverReport, ReportBlockBuilder, Sdes, SdesChunk,
    SdesItem, SenderReport,
};

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost: a signed 24-bit value (negative with duplicates).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub extended_highest_seq: u32,
    /// Interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received (LSR), or 0.
    pub lsr: u32,
    /// Delay since that SR, in 1/65536 s (DLSR), or 0.
    pub dlsr: u32,
}

/// The sender information of an SR (RFC 3550 §6.4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp (32.32 fixed point seconds).
    pub ntp_timestamp: u64,
    /// The RTP timestamp of the same instant.
    pub rtp_timestamp: u32,
    pub packet_count: u32,
    pub octet_count: u32,
}

/// One packet of a compound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtcpPacket {
    SenderReport {
        ssrc: u32,
        info: SenderInfo,
        reports: Vec<ReportBlock>,
    },
    ReceiverReport {
        ssrc: u32,
        reports: Vec<ReportBlock>,
    },
    /// SDES with one CNAME per chunk (other items are skipped on parse).
    SourceDescription { chunks: Vec<(u32, Option<String>)> },
    Goodbye {
        ssrcs: Vec<u32>,
        reason: Option<String>,
    },
    /// A packet type we do not interpret (APP, feedback, XR, unknown).
    Other { packet_type: u8 },
}

/// A validated RTCP compound packet.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RtcpCompound {
    pub packets: Vec<RtcpPacket>,
}

/// Sign-extends a 24-bit two's complement value.
fn cumulative_from_wire(v: u32) -> i32 {
    ((v << 8) as i32) >> 8
}

/// Clamps to the 24-bit signed range (RFC 3550 §6.4.1 / A.3) and encodes it.
fn cumulative_to_wire(v: i32) -> u32 {
    (v.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff
}

fn rtcp_err(e: impl std::fmt::Display) -> Error {
    Error::Rtcp(e.to_string())
}

fn blocks<'a>(it: impl Iterator<Item = rtcp_types::ReportBlock<'a>>) -> Vec<ReportBlock> {
    it.map(|b| ReportBlock {
        ssrc: b.ssrc(),
        fraction_lost: b.fraction_lost(),
        cumulative_lost: cumulative_from_wire(b.cumulative_lost()),
        extended_highest_seq: b.extended_sequence_number(),
        jitter: b.interarrival_jitter(),
        lsr: b.last_sender_report_timestamp(),
        dlsr: b.delay_since_last_sender_report_timestamp(),
    })
    .collect()
}

fn block_builder(b: &ReportBlock) -> ReportBlockBuilder {
    rtcp_types::ReportBlock::builder(b.ssrc)
        .fraction_lost(b.fraction_lost)
        .cumulative_lost(cumulative_to_wire(b.cumulative_lost))
        .extended_sequence_number(b.extended_highest_seq)
        .interarrival_jitter(b.jitter)
        .last_sender_report_timestamp(b.lsr)
        .delay_since_last_sender_report_timestamp(b.dlsr)
}

impl RtcpCompound {
    /// Parses a compound packet and applies the RFC 3550 A.2 checks: version 2, lengths that
    /// add up to the datagram, padding only in the last packet, and a first packet that is
    /// an SR or RR.
    pub fn parse(data: &[u8]) -> Result<Self, Error> {
        // `Compound::parse` checks only the first packet's version; check every header.
        let mut off = 0;
        while off + 4 <= data.len() {
            if data[off] >> 6 != 2 {
                return Err(Error::InvalidField {
                    what: "RTCP header",
                    field: "version",
                    value: u64::from(data[off] >> 6),
                });
            }
            off += (usize::from(u16::from_be_bytes([data[off + 2], data[off + 3]])) + 1) * 4;
        }
        let compound = Compound::parse(data).map_err(rtcp_err)?;
        let mut packets = Vec::new();
        for p in compound {
            let p = p.map_err(rtcp_err)?;
            packets.push(match p {
                Packet::Sr(sr) => RtcpPacket::SenderReport {
                    ssrc: sr.ssrc(),
                    info: SenderInfo {
                        ntp_timestamp: sr.ntp_timestamp(),
                        rtp_timestamp: sr.rtp_timestamp(),
                        packet_count: sr.packet_count(),
                        octet_count: sr.octet_count(),
                    },
                    reports: blocks(sr.report_blocks()),
                },
                Packet::Rr(rr) => RtcpPacket::ReceiverReport {
                    ssrc: rr.ssrc(),
                    reports: blocks(rr.report_blocks()),
                },
                Packet::Sdes(sdes) => RtcpPacket::SourceDescription {
                    chunks: sdes_chunks(&sdes)?,
                },
                Packet::Bye(bye) => RtcpPacket::Goodbye {
                    ssrcs: bye.ssrcs().collect(),
                    reason: match bye.reason() {
                        None | Some([]) => None,
                        Some(r) => Some(
                            std::str::from_utf8(r)
                                .map_err(|_| Error::Rtcp("BYE reason is not UTF-8".into()))?
                                .to_owned(),
                        ),
                    },
                },
                other => RtcpPacket::Other {
                    packet_type: other.type_(),
                },
            });
        }
        match packets.first() {
            Some(RtcpPacket::SenderReport { .. } | RtcpPacket::ReceiverReport { .. }) => {}
            _ => {
                return Err(Error::Rtcp(
                    "a compound packet must begin with an SR or RR (RFC 3550 §6.1)".into(),
                ));
            }
        }
        Ok(RtcpCompound { packets })
    }

    /// Appends the compound to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let emit_err = |e: rtcp_types::RtcpWriteError| Error::Emit {
            what: "RTCP compound",
            detail: e.to_string(),
        };
        let mut c = Compound::builder();
        for p in &self.packets {
            match p {
                RtcpPacket::SenderReport {
                    ssrc,
                    info,
                    reports,
                } => {
                    let mut b = SenderReport::builder(*ssrc)
                        .ntp_timestamp(info.ntp_timestamp)
                        .rtp_timestamp(info.rtp_timestamp)
                        .packet_count(info.packet_count)
                        .octet_count(info.octet_count);
                    for r in reports {
                        b = b.add_report_block(block_builder(r));
                    }
                    c = c.add_packet(b);
                }
                RtcpPacket::ReceiverReport { ssrc, reports } => {
                    let mut b = ReceiverReport::builder(*ssrc);
                    for r in reports {
                        b = b.add_report_block(block_builder(r));
                    }
                    c = c.add_packet(b);
                }
                RtcpPacket::SourceDescription { chunks } => {
                    let mut b = Sdes::builder();
                    for (ssrc, cname) in chunks {
                        let mut ch = SdesChunk::builder(*ssrc);
                        if let Some(name) = cname {
                            ch = ch.add_item(SdesItem::builder(SdesItem::CNAME, name.as_str()));
                        }
                        b = b.add_chunk(ch);
                    }
                    c = c.add_packet(b);
                }
                RtcpPacket::Goodbye { ssrcs, reason } => {
                    let mut b: ByeBuilder<'_> = Bye::builder();
                    for s in ssrcs {
                        b = b.add_source(*s);
                    }
                    if let Some(r) = reason {
                        b = b.reason(r.as_str());
                    }
                    c = c.add_packet(b);
                }
                RtcpPacket::Other { packet_type } => {
                    return Err(Error::Emit {
                        what: "RTCP compound",
                        detail: format!("packet type {packet_type} cannot be emitted"),
                    });
                }
            }
        }
        let size = c.calculate_size().map_err(emit_err)?;
        let start = out.len();
        out.resize(start + size, 0);
        c.write_into(&mut out[start..]).map_err(emit_err)?;
        Ok(())
    }

    /// Emits into a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>, Error> {
        let mut v = Vec::new();
        self.emit(&mut v)?;
        Ok(v)
    }
}

fn sdes_chunks(sdes: &Sdes<'_>) -> Result<Vec<(u32, Option<String>)>, Error> {
    let mut out = Vec::new();
    for chunk in sdes.chunks() {
        let mut cname = None;
        for item in chunk.items() {
            if item.type_() == SdesItem::CNAME {
                cname = Some(
                    std::str::from_utf8(item.value())
                        .map_err(|_| Error::Rtcp("SDES CNAME is not UTF-8".into()))?
                        .to_owned(),
                );
            }
        }
        out.push((chunk.ssrc(), cname));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RtcpCompound {
        RtcpCompound {
            packets: vec![
                RtcpPacket::SenderReport {
                    ssrc: 0x1111_2222,
                    info: SenderInfo {
                        ntp_timestamp: 0x8000_0000_4000_0000,
                        rtp_timestamp: 1234,
                        packet_count: 50,
                        octet_count: 8000,
                    },
                    reports: vec![ReportBlock {
                        ssrc: 0x3333_4444,
                        fraction_lost: 3,
                        cumulative_lost: -2,
                        extended_highest_seq: 0x0001_0005,
                        jitter: 17,
                        lsr: 0xabcd_0000,
                        dlsr: 65536,
                    }],
                },
                RtcpPacket::SourceDescription {
                    chunks: vec![(0x1111_2222, Some("alice@lync.example".into()))],
                },
                RtcpPacket::Goodbye {
                    ssrcs: vec![0x1111_2222],
                    reason: Some("hangup".into()),
                },
            ],
        }
    }

    #[test]
    fn compound_round_trips_with_signed_cumulative_loss() {
        let c = sample();
        let v = c.to_vec().unwrap();
        assert_eq!(v[1], 200); // SR first
        assert_eq!(RtcpCompound::parse(&v).unwrap(), c);
    }

    #[test]
    fn cumulative_loss_clamps_to_24_bits() {
        assert_eq!(cumulative_to_wire(10_000_000), 0x7f_ffff);
        assert_eq!(
            cumulative_from_wire(cumulative_to_wire(-10_000_000)),
            -0x80_0000
        );
        assert_eq!(cumulative_from_wire(0x00ff_ffff), -1);
    }

    #[test]
    fn rejects_a_compound_not_starting_with_a_report() {
        let c = RtcpCompound {
            packets: vec![RtcpPacket::Goodbye {
                ssrcs: vec![1],
                reason: None,
            }],
        };
        let v = c.to_vec().unwrap();
        assert!(RtcpCompound::parse(&v).is_err());
        // A second packet with version 1 is caught even though the first is fine.
        let mut v = sample().to_vec().unwrap();
        v[52] = 0x41; // SR with one block is 52 bytes
        assert!(RtcpCompound::parse(&v).is_err());
    }
}
