//! A Lync client pool as written in a deployment.

use super::{LyncPool, PoolConfig};
use crate::elements::Element;
use crate::elements::build::{BuildEnv, BuildError};
use crate::elements::front_end::{FRONT_END_KIND, LYNC_POOL_KIND};
use crate::elements::media_policy::MediaPolicy;
use crate::elements::numbering::NumberKind;
use crate::elements::spec::ElementKindSpec;
use crate::sim::SimDuration;
use crate::sip::sdp::{Codec, MediaCapabilities};
use crate::vendor::SipTransport;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Whether the clients run media sessions.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MediaMode {
    /// Every answered call carries RTP/RTCP through the media engine.
    #[default]
    On,
    /// Signalling only: SDP is still negotiated, no media session is opened (for
    /// signalling benchmarks and very large runs).
    Off,
}

/// The Enterprise Voice users of one site: every number of the plan's ranges hosted by
/// this element. They share one SIP user agent at the pool's address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LyncPoolSpec {
    pub name: String,
    pub node: String,
    /// Default 5060.
    #[serde(default)]
    pub sip_port: Option<u16>,
    /// The Front End the clients register with (their outbound proxy).
    pub front_end: String,
    #[serde(default = "tls")]
    pub transport: SipTransport,
    /// The SIP domain of the users' URIs (default: the Front End's address).
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub media: MediaMode,
    #[serde(default)]
    pub media_policy: MediaPolicy,
    /// Audio codecs offered, in preference order, by SDP encoding name: `x-msrta`
    /// (RTAudio narrowband, PT 115), `G722`, `PCMU`, `PCMA`, `G729`.
    #[serde(default = "default_codecs")]
    pub codecs: Vec<String>,
    /// Final responses to a hold re-INVITE that leave the client muted ("call could not
    /// be put on hold" and the microphone stays muted, as with OXE-L1). Other failures
    /// only show the message.
    #[serde(default = "default_mutes")]
    pub hold_failure_mutes: Vec<u16>,
    /// Talk time in a consultation before a consultative transfer completes, seconds.
    #[serde(default = "default_consult")]
    pub consult_talk_s: f64,
}

fn tls() -> SipTransport {
    SipTransport::Tls
}

/// Lync 2010/2013 offer RTAudio first to other Lync endpoints (peer-to-peer calls use
/// RTAudio wideband in 2010 and SILK in 2013). The media layer models RTAudio
/// narrowband only, so it stands for Lync's own codec here (assumed); G.722 and G.711
/// follow, and Direct SIP peers pick G.711.
pub fn default_codecs() -> Vec<String> {
    ["x-msrta", "G722", "PCMU", "PCMA"]
        .map(String::from)
        .to_vec()
}

/// 488 Not Acceptable Here is what a PBX that cannot hold (OXE-L1) returns in our
/// models; the pbx models trigger the symptom with it.
fn default_mutes() -> Vec<u16> {
    vec![488]
}

fn default_consult() -> f64 {
    3.0
}

/// The SDP codec for an encoding name the pool may offer.
pub(crate) fn sdp_codec(name: &str) -> Option<Codec> {
    match name.to_ascii_uppercase().as_str() {
        "X-MSRTA" => Some(Codec::rtaudio(115, 8000)),
        "G722" => Some(Codec::g722()),
        "PCMU" => Some(Codec::pcmu()),
        "PCMA" => Some(Codec::pcma()),
        "G729" => Some(Codec::g729()),
        _ => None,
    }
}

impl ElementKindSpec for LyncPoolSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn node(&self) -> &str {
        &self.node
    }
    fn kind(&self) -> &'static str {
        LYNC_POOL_KIND
    }
    fn sip_port(&self) -> u16 {
        self.sip_port.unwrap_or(5060)
    }
    fn build(&self, env: &BuildEnv<'_>) -> Result<Element, BuildError> {
        let me = env.me()?;
        let fe = env.peer("front_end", &self.front_end, &[FRONT_END_KIND])?;
        let mut codecs = Vec::new();
        for (i, c) in self.codecs.iter().enumerate() {
            let codec = sdp_codec(c).ok_or_else(|| {
                BuildError::new(
                    &self.name,
                    &format!("codecs[{i}]"),
                    format!("unknown codec `{c}` (x-msrta, G722, PCMU, PCMA, G729)"),
                )
            })?;
            codecs.push(codec);
        }
        if codecs.is_empty() {
            return Err(BuildError::new(
                &self.name,
                "codecs",
                "offer at least one codec",
            ));
        }
        if !(self.consult_talk_s.is_finite() && self.consult_talk_s >= 0.0) {
            return Err(BuildError::new(&self.name, "consult_talk_s", "must be ≥ 0"));
        }
        let users: Vec<_> = env
            .directory
            .numbers
            .of_element(&self.name)
            .filter(|r| r.kind == NumberKind::EnterpriseVoice)
            .cloned()
            .collect();
        let ip = me.ip.to_string();
        let media = MediaCapabilities {
            codecs,
            ..MediaCapabilities::g711(&ip, 0)
        };
        let cfg = PoolConfig {
            name: self.name.clone(),
            sip: me.sip,
            front_end: SocketAddr::V4(fe.sip),
            transport: crate::elements::front_end::transport_of(self.transport),
            domain: self.domain.clone().unwrap_or_else(|| fe.ip.to_string()),
            media,
            media_on: self.media == MediaMode::On,
            policy: self.media_policy.clone(),
            users,
            hold_failure_mutes: self.hold_failure_mutes.clone(),
            consult_talk: SimDuration::from_secs_f64(self.consult_talk_s),
        };
        Ok(Element::LyncPool(LyncPool::new(cfg, env.rng("sip"))))
    }
}
