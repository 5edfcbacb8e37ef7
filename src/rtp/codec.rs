//! Codec profiles: what a codec puts on the wire and what it costs in the E-model.
//!
//! Sources for the E-model values (ITU-T G.113 (11/2007) Appendix I):
//! - Table I.1 gives the equipment impairment factor Ie: G.711 0, G.729A 11.
//! - Table I.3 gives the packet-loss robustness factor Bpl for random loss: G.711 with the
//!   G.711 Appendix I PLC 25.1, G.711 without PLC 4.3, G.729A (+VAD) 19.0.
//!
//! G.113 has no narrowband (G.107-scale) values for G.722 or Microsoft RTAudio; those are
//! marked [`CodecProfile::emodel_assumed`] and the assumption is explained on the variant.

use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// The codecs voicetwin models.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Codec {
    /// G.711 µ-law, RTP/AVP static payload type 0 (RFC 3551 §6).
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
    /// G.722 at 64 kbit/s, static payload type 9. Its RTP clock is 8000 Hz although it
    /// samples at 16 kHz (RFC 3551 §4.5.2). E-model: G.113 Appendix IV gives only a
    /// wideband Ie,wb; on the narrowband G.107 scale we *assume* Ie 0 (it is not worse than
    /// G.711 heard through a narrowband path) and Bpl 25.1 (G.722 Appendix III/IV PLC,
    /// assumed as robust as G.711 with its Appendix I PLC).
    G722,
    /// G.729 Annex A at 8 kbit/s, static payload type 18, 10 ms frames plus 5 ms look-ahead
    /// (G.729 §2). Ie 11, Bpl 19.0 (G.113 Tables I.1, I.3).
    G729a,
    /// Microsoft RTAudio narrowband (`x-msrta/8000`), the dynamic payload type 115 that Lync
    /// offers, 20 ms frames at a nominal 11.8 kbit/s (Lync bandwidth planning tables),
    /// rounded up to 30 octets a frame. Not in G.113: we *assume* Ie 11 and Bpl 19, the
    /// values of G.729A, the standard CELP codec of the same bit-rate class, and its 5 ms
    /// look-ahead. Treat RTAudio MOS as indicative.
    RtAudioNb,
}

/// Everything the media layer and the E-model need to know about one codec.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct CodecProfile {
    pub codec: Codec,
    /// The SDP `rtpmap` encoding name.
    pub encoding_name: &'static str,
    pub payload_type: u8,
    /// The RTP timestamp clock, in Hz.
    pub clock_rate: u32,
    /// The codec frame (the packetisation granularity).
    pub frame: SimDuration,
    /// Octets per frame.
    pub frame_bytes: u32,
    /// The default packetisation interval (SDP `ptime`), in ms.
    pub default_ptime_ms: u32,
    /// Nominal codec bit rate, in bit/s.
    pub bitrate_bps: u32,
    /// Algorithmic look-ahead added to the packetisation delay.
    pub lookahead: SimDuration,
    /// Packet loss concealment in the decoder.
    pub plc: bool,
    /// E-model equipment impairment factor Ie.
    pub ie: f64,
    /// E-model packet-loss robustness factor Bpl.
    pub bpl: f64,
    /// True when Ie/Bpl are our assumption rather than a G.113 value.
    pub emodel_assumed: bool,
}

/// Per-packet header bytes below the payload (RFC 3550, RFC 768, RFC 791, IEEE 802.3).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HeaderOverhead;

impl HeaderOverhead {
    pub const RTP: u32 = 12;
    pub const UDP: u32 = 8;
    pub const IPV4: u32 = 20;
    /// Ethernet II header (MACs + EtherType), as seen in a capture.
    pub const ETHERNET: u32 = 14;
    /// The frame check sequence, on the wire but not in a capture.
    pub const FCS: u32 = 4;
}

impl Codec {
    /// All modelled codecs, in a stable order.
    pub const ALL: [Codec; 5] = [
        Codec::Pcmu,
        Codec::Pcma,
        Codec::G722,
        Codec::G729a,
        Codec::RtAudioNb,
    ];

    /// The profile with the decoder's usual PLC (G.711 Appendix I for G.711).
    pub fn profile(self) -> CodecProfile {
        let ms = SimDuration::from_millis;
        let base = CodecProfile {
            codec: self,
            encoding_name: "PCMU",
            payload_type: 0,
            clock_rate: 8000,
            frame: ms(10),
            frame_bytes: 80,
            default_ptime_ms: 20,
            bitrate_bps: 64_000,
            lookahead: SimDuration::ZERO,
            plc: true,
            ie: 0.0,
            bpl: 25.1,
            emodel_assumed: false,
        };
        match self {
            Codec::Pcmu => base,
            Codec::Pcma => CodecProfile {
                encoding_name: "PCMA",
                payload_type: 8,
                ..base
            },
            Codec::G722 => CodecProfile {
                encoding_name: "G722",
                payload_type: 9,
                emodel_assumed: true,
                ..base
            },
            Codec::G729a => CodecProfile {
                encoding_name: "G729",
                payload_type: 18,
                frame_bytes: 10,
                bitrate_bps: 8_000,
                lookahead: ms(5),
                ie: 11.0,
                bpl: 19.0,
                ..base
            },
            Codec::RtAudioNb => CodecProfile {
                encoding_name: "x-msrta",
                payload_type: 115,
                frame: ms(20),
                frame_bytes: 30,
                bitrate_bps: 11_800,
                lookahead: ms(5),
                ie: 11.0,
                bpl: 19.0,
                emodel_assumed: true,
                ..base
            },
        }
    }

    /// Finds a codec by its static payload type or its SDP encoding name.
    pub fn from_encoding_name(name: &str) -> Option<Codec> {
        Codec::ALL
            .into_iter()
            .find(|c| c.profile().encoding_name.eq_ignore_ascii_case(name))
    }
}

impl CodecProfile {
    /// The same codec without packet loss concealment. Only G.711 has a published value
    /// (Bpl 4.3, G.113 Table I.3); other codecs keep theirs, since their PLC is part of
    /// the codec.
    pub fn without_plc(self) -> Self {
        match self.codec {
            Codec::Pcmu | Codec::Pcma => CodecProfile {
                plc: false,
                bpl: 4.3,
                ..self
            },
            _ => self,
        }
    }

    /// Checks that `ptime_ms` is a whole number of frames between one frame and 200 ms.
    pub fn check_ptime(&self, ptime_ms: u32) -> Result<(), crate::rtp::Error> {
        let frame_ms = self.frame.as_nanos() / 1_000_000;
        if ptime_ms == 0 || u64::from(ptime_ms) % frame_ms != 0 || ptime_ms > 200 {
            return Err(crate::rtp::Error::Config {
                field: "ptime",
                msg: format!(
                    "{ptime_ms} ms is not a multiple of the {frame_ms} ms {} frame in 1..=200 ms",
                    self.encoding_name
                ),
            });
        }
        Ok(())
    }

    /// RTP timestamp units per packet.
    pub fn samples_per_packet(&self, ptime_ms: u32) -> u32 {
        self.clock_rate / 1000 * ptime_ms
    }

    /// Payload octets per packet.
    pub fn payload_bytes(&self, ptime_ms: u32) -> u32 {
        let frame_ms = (self.frame.as_nanos() / 1_000_000) as u32;
        self.frame_bytes * ptime_ms / frame_ms.max(1)
    }

    /// Packets per second while talking.
    pub fn packets_per_second(&self, ptime_ms: u32) -> f64 {
        1000.0 / f64::from(ptime_ms)
    }

    /// IPv4 packet size (IP + UDP + RTP + payload).
    pub fn ip_packet_bytes(&self, ptime_ms: u32) -> u32 {
        self.payload_bytes(ptime_ms)
            + HeaderOverhead::RTP
            + HeaderOverhead::UDP
            + HeaderOverhead::IPV4
    }

    /// Bit rate at the IP layer for continuous sending, in bit/s.
    pub fn ip_bitrate(&self, ptime_ms: u32) -> f64 {
        f64::from(self.ip_packet_bytes(ptime_ms) * 8) * self.packets_per_second(ptime_ms)
    }

    /// Bit rate on Ethernet, with or without the 4-byte FCS, in bit/s.
    pub fn ethernet_bitrate(&self, ptime_ms: u32, with_fcs: bool) -> f64 {
        let l2 = HeaderOverhead::ETHERNET + if with_fcs { HeaderOverhead::FCS } else { 0 };
        f64::from((self.ip_packet_bytes(ptime_ms) + l2) * 8) * self.packets_per_second(ptime_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_20ms_numbers() {
        let p = Codec::Pcmu.profile();
        assert_eq!(p.payload_bytes(20), 160);
        assert_eq!(p.samples_per_packet(20), 160);
        assert_eq!(p.ip_packet_bytes(20), 200);
        assert_eq!(p.ip_bitrate(20), 80_000.0);
        assert_eq!(p.ethernet_bitrate(20, true), 87_200.0);
        assert_eq!(p.ethernet_bitrate(20, false), 85_600.0);
    }

    #[test]
    fn g729_and_plc_values() {
        let p = Codec::G729a.profile();
        assert_eq!(p.payload_bytes(20), 20);
        assert_eq!(p.ip_bitrate(20), 24_000.0);
        assert_eq!((p.ie, p.bpl), (11.0, 19.0));
        assert_eq!(Codec::Pcma.profile().bpl, 25.1);
        assert_eq!(Codec::Pcma.profile().without_plc().bpl, 4.3);
        assert!(Codec::G722.profile().emodel_assumed);
        assert!(Codec::RtAudioNb.profile().emodel_assumed);
        assert_eq!(Codec::from_encoding_name("pcma"), Some(Codec::Pcma));
    }

    #[test]
    fn ptime_must_be_whole_frames() {
        let p = Codec::RtAudioNb.profile();
        assert!(p.check_ptime(20).is_ok());
        assert!(p.check_ptime(30).is_err());
        assert!(Codec::Pcmu.profile().check_ptime(0).is_err());
        assert!(Codec::Pcmu.profile().check_ptime(30).is_ok());
    }
}
