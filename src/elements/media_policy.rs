//! From negotiated SDP to a media session: the element's media policy.

use crate::rtp::{self, CodecProfile, JitterBufferConfig, MediaConfig, RtcpConfig};
use crate::sip::sdp::{Direction as SdpDirection, Negotiated};
use serde::{Deserialize, Serialize};

/// How an element's endpoints send and receive media.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaPolicy {
    /// Voice activity detection (silence suppression).
    pub vad: bool,
    /// Sends RTCP sender/receiver reports.
    pub rtcp: bool,
    /// Sends RFC 4733 digits during early media.
    pub dtmf_in_early_media: bool,
    /// Playout: `fixed_ms` gives a fixed jitter buffer of that depth, otherwise adaptive.
    pub fixed_jitter_buffer_ms: Option<u32>,
}

impl Default for MediaPolicy {
    fn default() -> Self {
        MediaPolicy {
            vad: true,
            rtcp: true,
            dtmf_in_early_media: true,
            fixed_jitter_buffer_ms: None,
        }
    }
}

/// The rtp codec profile for an SDP encoding name, with the negotiated payload type.
pub fn codec_profile(name: &str, payload_type: u8) -> Option<CodecProfile> {
    let mut profile = rtp::Codec::from_encoding_name(name)?.profile();
    profile.payload_type = payload_type;
    Some(profile)
}

/// The media session configuration for what SDP negotiated, under `policy`.
pub fn media_config(
    neg: &Negotiated,
    policy: &MediaPolicy,
    cname: &str,
) -> Result<MediaConfig, String> {
    let codec = codec_profile(&neg.codec.name, neg.codec.payload_type)
        .ok_or_else(|| format!("codec {} has no media profile", neg.codec.name))?;
    let mut cfg = MediaConfig::new(codec);
    if codec.check_ptime(neg.ptime).is_ok() {
        cfg.ptime_ms = neg.ptime;
    }
    cfg.vad = policy.vad;
    cfg.comfort_noise = neg.comfort_noise.is_some();
    cfg.telephone_event_pt = neg.telephone_event;
    cfg.dtmf_in_early_media = policy.dtmf_in_early_media;
    cfg.rtcp = policy
        .rtcp
        .then(|| RtcpConfig::new(cname, codec.ip_bitrate(cfg.ptime_ms)));
    if let Some(ms) = policy.fixed_jitter_buffer_ms {
        let delay = crate::sim::SimDuration::from_millis(u64::from(ms));
        cfg.jitter_buffer = JitterBufferConfig::Fixed {
            delay,
            capacity: delay * 4,
        };
    }
    Ok(cfg)
}

/// The rtp sending direction for an SDP direction.
pub fn rtp_direction(d: SdpDirection) -> rtp::Direction {
    match d {
        SdpDirection::SendRecv => rtp::Direction::SendRecv,
        SdpDirection::SendOnly => rtp::Direction::SendOnly,
        SdpDirection::RecvOnly => rtp::Direction::RecvOnly,
        SdpDirection::Inactive => rtp::Direction::Inactive,
    }
}
