//! The RFC 4733 §2.3 telephone-event payload (DTMF named events).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |     event     |E|R| volume    |          duration             |
//! ```

use crate::rtp::Error;

/// A DTMF digit, coded as in RFC 4733 §3.2 Table 7 (events 0–15).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DtmfDigit(u8);

impl DtmfDigit {
    /// The digit for a keypad character: `0-9 * # A-D` (lower case accepted).
    pub fn from_char(c: char) -> Option<Self> {
        let code = match c {
            '0'..='9' => c as u8 - b'0',
            '*' => 10,
            '#' => 11,
            'A'..='D' => c as u8 - b'A' + 12,
            'a'..='d' => c as u8 - b'a' + 12,
            _ => return None,
        };
        Some(DtmfDigit(code))
    }

    /// The digit for an event code 0–15.
    pub fn from_event(code: u8) -> Option<Self> {
        (code <= 15).then_some(DtmfDigit(code))
    }

    /// The RFC 4733 event code.
    pub fn event(self) -> u8 {
        self.0
    }

    /// The keypad character.
    pub fn to_char(self) -> char {
        match self.0 {
            0..=9 => (b'0' + self.0) as char,
            10 => '*',
            11 => '#',
            // Invariant: the constructor keeps codes in 0..=15.
            _ => (b'A' + self.0 - 12) as char,
        }
    }
}

/// One telephone-event block.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0–255; DTMF digits are 0–15).
    pub event: u8,
    /// The E bit: this is (a retransmission of) the final packet of the event.
    pub end: bool,
    /// Power level in −dBm0, 0–63 (RFC 4733 §2.3.4).
    pub volume: u8,
    /// Duration so far, in timestamp units (RFC 4733 §2.3.5).
    pub duration: u16,
}

impl TelephoneEvent {
    /// The payload length of one block.
    pub const LEN: usize = 4;

    /// Parses the first event block of a payload. The payload length must be a non-zero
    /// multiple of 4 (RFC 4733 §2.5.1.5 allows redundant blocks; the first is the oldest).
    /// The R bit is ignored, as §2.3 requires of receivers.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        if payload.len() < Self::LEN {
            return Err(Error::Truncated {
                what: "telephone-event payload",
                needed: Self::LEN,
                got: payload.len(),
            });
        }
        if payload.len() % Self::LEN != 0 {
            return Err(Error::InvalidField {
                what: "telephone-event payload",
                field: "length (not a multiple of 4)",
                value: payload.len() as u64,
            });
        }
        Ok(TelephoneEvent {
            event: payload[0],
            end: payload[1] & 0x80 != 0,
            volume: payload[1] & 0x3f,
            duration: u16::from_be_bytes([payload[2], payload[3]]),
        })
    }

    /// Writes the 4-byte block. The volume must be 0–63.
    pub fn emit(&self) -> Result<[u8; 4], Error> {
        if self.volume > 63 {
            return Err(Error::Emit {
                what: "telephone-event",
                detail: format!("volume {} > 63", self.volume),
            });
        }
        let d = self.duration.to_be_bytes();
        Ok([
            self.event,
            (u8::from(self.end) << 7) | self.volume,
            d[0],
            d[1],
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_map_to_rfc4733_codes() {
        let all = "0123456789*#ABCD";
        for (i, c) in all.chars().enumerate() {
            let d = DtmfDigit::from_char(c).unwrap();
            assert_eq!(d.event() as usize, i);
            assert_eq!(d.to_char(), c);
        }
        assert_eq!(DtmfDigit::from_char('x'), None);
        assert_eq!(DtmfDigit::from_event(16), None);
    }

    #[test]
    fn end_bit_volume_and_duration_layout() {
        let e = TelephoneEvent {
            event: 5,
            end: true,
            volume: 10,
            duration: 800,
        };
        let b = e.emit().unwrap();
        assert_eq!(b, [5, 0x8a, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&b).unwrap(), e);
        // The R bit is ignored on receive.
        assert_eq!(TelephoneEvent::parse(&[5, 0xca, 3, 0x20]).unwrap(), e);
        assert!(TelephoneEvent::parse(&[1, 2, 3]).is_err());
        assert!(TelephoneEvent::parse(&[1, 2, 3, 4, 5]).is_err());
    }
}
