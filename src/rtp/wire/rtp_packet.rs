//! The RTP fixed header and payload (RFC 3550 §5.1), through `rtp-types`.

use crate::rtp::Error;
use rtp_types::{RtpPacket, RtpPacketBuilder};

/// At most 15 contributing sources fit the 4-bit CC field.
pub const MAX_CSRCS: usize = 15;

/// A validated RTP packet: the header fields we use and a view of the payload (without
/// padding). Header extensions are validated and skipped: nothing in voicetwin sends them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpRepr<'a> {
    pub marker: bool,
    /// 0..=127.
    pub payload_type: u8,
    pub sequence_number: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// Contributing sources (mixers only); at most [`MAX_CSRCS`].
    pub csrcs: Vec<u32>,
    pub payload: &'a [u8],
}

impl<'a> RtpRepr<'a> {
    /// Parses and validates `data` (version 2, lengths of CSRC list, extension and padding).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let p = RtpPacket::parse(data).map_err(|e| Error::Rtp(e.to_string()))?;
        // RFC 3550 A.1: payload types 72..=76 collide with RTCP SR/RR; such a packet is
        // RTCP sent to the wrong port, not RTP.
        if (72..=76).contains(&p.payload_type()) {
            return Err(Error::InvalidField {
                what: "RTP header",
                field: "payload type (RTCP range 72-76)",
                value: u64::from(p.payload_type()),
            });
        }
        // `RtpPacket::payload` borrows the view; slice `data` for the caller's lifetime. The
        // parse above checked offset + length against `data`.
        let start = p.payload_offset();
        let payload = data
            .get(start..start + p.payload_len())
            .ok_or(Error::Truncated {
                what: "RTP payload",
                needed: start + p.payload_len(),
                got: data.len(),
            })?;
        Ok(RtpRepr {
            marker: p.marker_bit(),
            payload_type: p.payload_type(),
            sequence_number: p.sequence_number(),
            timestamp: p.timestamp(),
            ssrc: p.ssrc(),
            csrcs: if p.n_csrcs() == 0 {
                Vec::new()
            } else {
                p.csrc().collect()
            },
            payload,
        })
    }

    /// The number of bytes [`RtpRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        12 + 4 * self.csrcs.len() + self.payload.len()
    }

    /// Appends the packet to `out`. Fails only on an invalid `Repr` (payload type > 127,
    /// more than 15 CSRCs, or a payload type in the RTCP range).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        if (72..=76).contains(&self.payload_type) {
            return Err(Error::Emit {
                what: "RTP packet",
                detail: format!("payload type {} is in the RTCP range", self.payload_type),
            });
        }
        let mut b = RtpPacketBuilder::<&[u8], &[u8]>::new()
            .marker_bit(self.marker)
            .payload_type(self.payload_type)
            .sequence_number(self.sequence_number)
            .timestamp(self.timestamp)
            .ssrc(self.ssrc)
            .payload(self.payload);
        for &c in &self.csrcs {
            b = b.add_csrc(c);
        }
        b.write_into_vec(out).map_err(|e| Error::Emit {
            what: "RTP packet",
            detail: e.to_string(),
        })
    }

    /// Emits into a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>, Error> {
        let mut v = Vec::with_capacity(self.buffer_len());
        self.emit(&mut v)?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_header_bytes_match_rfc3550_layout() {
        let payload = [0xffu8; 160];
        let r = RtpRepr {
            marker: true,
            payload_type: 0,
            sequence_number: 0x1234,
            timestamp: 0xdead_beef,
            ssrc: 0x0102_0304,
            csrcs: vec![],
            payload: &payload,
        };
        let v = r.to_vec().unwrap();
        assert_eq!(v.len(), 172);
        assert_eq!(
            &v[..12],
            &[0x80, 0x80, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]
        );
        assert_eq!(RtpRepr::parse(&v).unwrap(), r);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(RtpRepr::parse(&[]).is_err());
        assert!(RtpRepr::parse(&[0x40; 12]).is_err()); // version 1
        // CC = 15 but no CSRC list.
        assert!(RtpRepr::parse(&[0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        // Padding bit with a padding count larger than the packet.
        let mut p = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 200];
        assert!(RtpRepr::parse(&p).is_err());
        p[13] = 0;
        assert!(RtpRepr::parse(&p).is_err());
        // PT 72 (an SR on the RTP port).
        assert!(RtpRepr::parse(&[0x80, 72, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
