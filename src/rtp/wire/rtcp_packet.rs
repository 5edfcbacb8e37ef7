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
    /// SDES: the CNAME of each chunk (RFC 3550 §6.5.1 makes CNAME mandatory). Other items,
    /// and chunks without a CNAME, are skipped on parse.
    SourceDescription { chunks: Vec<(u32, String)> },
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
        if data.is_empty() {
            return Err(Error::Truncated {
                what: "RTCP compound",
                needed: 4,
                got: 0,
            });
        }
        // Split the compound ourselves (A.2 checks on every header), then parse each packet.
        let mut packets = Vec::new();
        let mut off = 0;
        while off < data.len() {
            let Some(hdr) = data.get(off..off + 4) else {
                return Err(Error::Truncated {
                    what: "RTCP header",
                    needed: off + 4,
                    got: data.len(),
                });
            };
            if hdr[0] >> 6 != 2 {
                return Err(Error::InvalidField {
                    what: "RTCP header",
                    field: "version",
                    value: u64::from(hdr[0] >> 6),
                });
            }
            let len = (usize::from(u16::from_be_bytes([hdr[2], hdr[3]])) + 1) * 4;
            let Some(pkt) = data.get(off..off + len) else {
                return Err(Error::Truncated {
                    what: "RTCP packet",
                    needed: off + len,
                    got: data.len(),
                });
            };
            off += len;
            if hdr[0] & 0x20 != 0 && off < data.len() {
                return Err(Error::Rtcp(
                    "padding is only allowed in the last packet of a compound".into(),
                ));
            }
            packets.push(if hdr[1] == 202 {
                // `rtcp-types` 0.3 skips every zero byte after a chunk's items, eating the
                // leading zero bytes of the next chunk's SSRC; parse SDES ourselves.
                RtcpPacket::SourceDescription {
                    chunks: parse_sdes(pkt)?,
                }
            } else {
                match Packet::parse(pkt).map_err(rtcp_err)? {
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
                }
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
                        // Every chunk carries an item: `rtcp-types` writes an item-less chunk
                        // without its null terminator, which no parser accepts.
                        let ch = SdesChunk::builder(*ssrc)
                            .add_item(SdesItem::builder(SdesItem::CNAME, cname.as_str()));
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

/// Parses an SDES packet (RFC 3550 §6.5): `SC` chunks, each an SSRC, items (type, length,
/// value) ended by a null octet, and zero padding to the next 32-bit boundary. Keeps the
/// CNAME of each chunk that has one.
fn parse_sdes(pkt: &[u8]) -> Result<Vec<(u32, String)>, Error> {
    let trunc = |needed: usize| Error::Truncated {
        what: "SDES packet",
        needed,
        got: pkt.len(),
    };
    let mut end = pkt.len();
    if pkt[0] & 0x20 != 0 {
        let pad = usize::from(pkt[pkt.len() - 1]);
        if pad == 0 || pad + 4 > pkt.len() {
            return Err(Error::InvalidField {
                what: "SDES packet",
                field: "padding",
                value: pad as u64,
            });
        }
        end -= pad;
    }
    let count = usize::from(pkt[0] & 0x1f);
    let mut out = Vec::new();
    let mut off = 4;
    for _ in 0..count {
        let ssrc = pkt.get(off..off + 4).ok_or(trunc(off + 4))?;
        let ssrc = u32::from_be_bytes([ssrc[0], ssrc[1], ssrc[2], ssrc[3]]);
        off += 4;
        let mut cname = None;
        loop {
            let &kind = pkt.get(off).filter(|_| off < end).ok_or(trunc(off + 1))?;
            if kind == 0 {
                // The null item, then zero padding to the next 32-bit boundary.
                off = (off + 4) & !3;
                if off > end {
                    return Err(trunc(off));
                }
                break;
            }
            let len = usize::from(
                *pkt.get(off + 1)
                    .filter(|_| off + 1 < end)
                    .ok_or(trunc(off + 2))?,
            );
            let value = pkt
                .get(off + 2..off + 2 + len)
                .filter(|_| off + 2 + len <= end)
                .ok_or(trunc(off + 2 + len))?;
            if kind == SdesItem::CNAME && cname.is_none() {
                cname = Some(
                    std::str::from_utf8(value)
                        .map_err(|_| Error::Rtcp("SDES CNAME is not UTF-8".into()))?
                        .to_owned(),
                );
            }
            off += 2 + len;
        }
        if let Some(c) = cname {
            out.push((ssrc, c));
        }
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
                    chunks: vec![(0x1111_2222, "alice@lync.example".into())],
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
    fn sdes_with_several_chunks_and_small_ssrcs() {
        // Chunks whose SSRC starts with zero octets right after a chunk's padding.
        for name in ["", "a", "ab", "abcd", "abcdef"] {
            let c = RtcpCompound {
                packets: vec![
                    RtcpPacket::ReceiverReport {
                        ssrc: 1,
                        reports: vec![],
                    },
                    RtcpPacket::SourceDescription {
                        chunks: vec![(7, name.into()), (0x100, name.into()), (9, "x".into())],
                    },
                ],
            };
            assert_eq!(
                RtcpCompound::parse(&c.to_vec().unwrap()).unwrap(),
                c,
                "{name:?}"
            );
        }
        // A chunk without the null terminator is rejected, not misread.
        let bad = [
            0x80, 201, 0, 1, 0, 0, 0, 1, 0x81, 202, 0, 2, 0, 0, 0, 7, 1, 2, b'a', b'b',
        ];
        assert!(RtcpCompound::parse(&bad).is_err());
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
