//! The SIP trunk provider as written in a deployment.

use super::super::build::{BuildEnv, BuildError};
use super::super::element::Element;
use super::super::media_policy::MediaPolicy;
use super::super::mediation::sip_transport;
use super::super::mediation::spec_codecs;
use super::super::spec::ElementKindSpec;
use super::{SipTrunkConfig, SipTrunkProvider};
use crate::sim::SimDuration;
use crate::sip::sdp::MediaCapabilities;
use crate::vendor::SipTransport;
use serde::{Deserialize, Serialize};
use std::net::SocketAddrV4;

/// `SipTrunk((name: "itsp", node: "itsp-sbc", peer: "med", ...))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipTrunkSpec {
    pub name: String,
    pub node: String,
    #[serde(default)]
    pub sip_port: Option<u16>,
    /// The enterprise side of the trunk (a Mediation Server, or an SBC in front of it).
    pub peer: String,
    /// The peer's port (a Mediation Server's gateway-side 5068 by default).
    #[serde(default)]
    pub peer_port: Option<u16>,
    #[serde(default = "default_transport")]
    pub transport: SipTransport,
    /// Concurrent sessions the trunk is provisioned for.
    #[serde(default = "default_sessions")]
    pub max_sessions: u32,
    #[serde(default = "default_codecs")]
    pub codecs: Vec<String>,
    /// Rejects a redirected call (forwarded, transferred, simultaneous ring) that carries
    /// no History-Info or Diversion naming the enterprise number, with 403.
    #[serde(default)]
    pub requires_call_history: bool,
    /// The network's no-answer timer, s (assumed 180, as for the PSTN).
    #[serde(default = "default_no_answer")]
    pub no_answer_s: f64,
    /// IVRs answer after their announcement, s (assumed 8).
    #[serde(default = "default_ivr")]
    pub ivr_answer_s: f64,
    /// One-way delay of the PSTN tail behind the provider, ms (assumed 10).
    #[serde(default = "default_tail")]
    pub pstn_delay_ms: f64,
    #[serde(default)]
    pub media: MediaPolicy,
}

fn default_transport() -> SipTransport {
    SipTransport::Udp
}
fn default_sessions() -> u32 {
    100
}
fn default_codecs() -> Vec<String> {
    vec!["PCMU".into(), "PCMA".into(), "G729".into()]
}
fn default_no_answer() -> f64 {
    180.0
}
fn default_ivr() -> f64 {
    8.0
}
fn default_tail() -> f64 {
    10.0
}

impl ElementKindSpec for SipTrunkSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn node(&self) -> &str {
        &self.node
    }
    fn kind(&self) -> &'static str {
        "sip-trunk"
    }
    fn sip_port(&self) -> u16 {
        self.sip_port.unwrap_or(5060)
    }

    fn build(&self, env: &BuildEnv<'_>) -> Result<Element, BuildError> {
        let me = env.me()?;
        let peer = env.peer("peer", &self.peer, &[])?;
        let port = self.peer_port.unwrap_or(if peer.kind == "mediation" {
            5068
        } else {
            peer.sip.port()
        });
        for (field, v) in [
            ("no_answer_s", self.no_answer_s),
            ("ivr_answer_s", self.ivr_answer_s),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(BuildError::new(&self.name, field, "must be > 0"));
            }
        }
        if !(self.pstn_delay_ms.is_finite() && self.pstn_delay_ms >= 0.0) {
            return Err(BuildError::new(&self.name, "pstn_delay_ms", "must be ≥ 0"));
        }
        if self.max_sessions == 0 {
            return Err(BuildError::new(&self.name, "max_sessions", "must be ≥ 1"));
        }
        let mut media = MediaCapabilities::g711(&me.ip.to_string(), 0);
        media.codecs = spec_codecs(&self.name, "codecs", &self.codecs)?;
        let cfg = SipTrunkConfig {
            name: self.name.clone(),
            sip: me.sip,
            peer: SocketAddrV4::new(peer.ip, port),
            transport: sip_transport(self.transport),
            max_sessions: self.max_sessions,
            media,
            policy: self.media.clone(),
            requires_call_history: self.requires_call_history,
            no_answer: SimDuration::from_secs_f64(self.no_answer_s),
            ivr_answer: SimDuration::from_secs_f64(self.ivr_answer_s),
            pstn_delay: SimDuration::from_millis_f64(self.pstn_delay_ms),
            numbers: env.directory.numbers.clone(),
        };
        Ok(Element::SipTrunk(SipTrunkProvider::new(
            cfg,
            env.rng("sip"),
        )))
    }
}
