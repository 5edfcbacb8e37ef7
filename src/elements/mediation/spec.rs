//! The Mediation Server as written in a deployment, and its construction.

use super::super::build::{BuildEnv, BuildError};
use super::super::element::Element;
use super::super::spec::ElementKindSpec;
use super::caps::{codec_by_name, model_codecs};
use super::keepalive::KeepaliveSpec;
use super::{MediationConfig, MediationServer, TrunkRuntime};
use crate::sim::SimDuration;
use crate::sip::Transport;
use crate::sip::sdp::Codec;
use crate::vendor::{LyncServer, LyncSetting, Setting, SipTransport, TrunkConfig};
use serde::{Deserialize, Serialize};
use std::net::SocketAddrV4;

/// What the Mediation Server does with a non-bypass call beyond its media capacity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Overload {
    /// Refuses it at once with `status` (503 by default) and notes `RejectedCapacity`.
    Reject { status: u16 },
    /// Holds the INVITE (after 100 Trying) until a relay frees up, at most `max_wait_s`
    /// and with at most `max_depth` calls waiting; then refuses it as `Reject` would.
    Queue { max_wait_s: f64, max_depth: u32 },
}

impl Default for Overload {
    fn default() -> Self {
        Overload::Reject { status: 503 }
    }
}

/// One Direct SIP trunk of a Mediation Server: its peer (gateway, IP-PBX or SIP trunk
/// provider) and the Lync trunk configuration toward it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediationTrunkSpec {
    /// The peer element.
    pub peer: String,
    /// The peer's vendor model: its recommended configuration is the starting point and
    /// its codecs are what the trunk offers.
    #[serde(default)]
    pub model: Option<String>,
    /// The Lync release (when no model gives it): `Lync2013` by default.
    #[serde(default)]
    pub server: Option<LyncServer>,
    /// Lync trunk knobs applied on top: `[MediaBypass(true), Refer(false), ...]`.
    #[serde(default)]
    pub settings: Vec<LyncSetting>,
    /// `ForwardPAI`: send P-Asserted-Identity with the caller's number to the peer.
    #[serde(default)]
    pub forward_pai: bool,
    /// The peer's SIP port, when it is not the peer's main SIP port.
    #[serde(default)]
    pub peer_port: Option<u16>,
    /// Codecs offered to the peer instead of the model's (`"PCMU"`, `"G729"`...).
    #[serde(default)]
    pub codecs: Option<Vec<String>>,
}

/// `Mediation((name: ..., node: ..., front_end: ..., trunks: [...]))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediationSpec {
    pub name: String,
    pub node: String,
    /// The Front End side port (5070 by default).
    #[serde(default)]
    pub sip_port: Option<u16>,
    /// The Front End pool that inbound calls go to.
    pub front_end: String,
    /// The SIP domain of Request-URIs toward the Front End (the pool's address if unset).
    #[serde(default)]
    pub domain: Option<String>,
    /// Transport to the Front End (Lync uses MTLS).
    #[serde(default = "default_fe_transport")]
    pub fe_transport: SipTransport,
    pub trunks: Vec<MediationTrunkSpec>,
    /// Collocated with a Front End: the media capacity defaults to 150 instead of 1,000.
    #[serde(default)]
    pub collocated: bool,
    /// Concurrent non-bypass (relayed) calls; overrides the default.
    #[serde(default)]
    pub media_capacity: Option<u32>,
    #[serde(default)]
    pub overload: Overload,
    /// Processing delay of a relay without transcoding, ms (assumed: 5).
    #[serde(default = "default_relay_delay")]
    pub relay_delay_ms: f64,
    /// Processing delay of a transcoding relay, ms (assumed: 10, one DSP frame).
    #[serde(default = "default_transcode_delay")]
    pub transcode_delay_ms: f64,
    #[serde(default)]
    pub keepalive: KeepaliveSpec,
    /// Codecs offered toward the Front End side, in preference order.
    #[serde(default = "default_fe_codecs")]
    pub fe_codecs: Vec<String>,
}

/// A stand-alone Mediation Server handles about 1,000 concurrent non-bypass calls, and
/// about 150 when collocated with a Front End (Lync 2010/2013 capacity planning guidance).
pub const STANDALONE_MEDIA_CAPACITY: u32 = 1000;
pub const COLLOCATED_MEDIA_CAPACITY: u32 = 150;

fn default_fe_transport() -> SipTransport {
    SipTransport::Tls
}
fn default_relay_delay() -> f64 {
    5.0
}
fn default_transcode_delay() -> f64 {
    10.0
}
fn default_fe_codecs() -> Vec<String> {
    vec!["PCMU".into(), "PCMA".into(), "x-msrta".into()]
}

/// The SIP transport of a trunk knob.
pub(crate) fn transport(t: SipTransport) -> Transport {
    match t {
        SipTransport::Udp => Transport::Udp,
        SipTransport::Tcp => Transport::Tcp,
        SipTransport::Tls => Transport::Tls,
    }
}

pub(crate) fn codec_list(
    element: &str,
    field: &str,
    names: &[String],
) -> Result<Vec<Codec>, BuildError> {
    if names.is_empty() {
        return Err(BuildError::new(element, field, "needs at least one codec"));
    }
    names
        .iter()
        .map(|n| {
            codec_by_name(n).ok_or_else(|| {
                BuildError::new(
                    element,
                    field,
                    format!("unknown codec `{n}` (PCMU, PCMA, G729, G722, x-msrta)"),
                )
            })
        })
        .collect()
}

fn positive_ms(element: &str, field: &str, v: f64) -> Result<SimDuration, BuildError> {
    if v.is_finite() && v >= 0.0 {
        Ok(SimDuration::from_millis_f64(v))
    } else {
        Err(BuildError::new(element, field, "must be ≥ 0"))
    }
}

impl MediationSpec {
    /// The trunk configuration of each trunk (model recommendation, then the settings).
    fn trunk_config(
        &self,
        env: &BuildEnv<'_>,
        i: usize,
        t: &MediationTrunkSpec,
    ) -> Result<TrunkConfig, BuildError> {
        let mut config = match &t.model {
            Some(id) => env
                .model(&format!("trunks[{i}].model"), id)?
                .recommended_config(),
            None => TrunkConfig::defaults(t.server.unwrap_or(LyncServer::Lync2013)),
        };
        if let (Some(s), Some(_)) = (t.server, &t.model) {
            config.apply(&Setting::Lync(LyncSetting::Server(s)));
        }
        for s in &t.settings {
            config.apply(&Setting::Lync(s.clone()));
        }
        Ok(config)
    }
}

impl ElementKindSpec for MediationSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn node(&self) -> &str {
        &self.node
    }
    fn kind(&self) -> &'static str {
        "mediation"
    }
    fn sip_port(&self) -> u16 {
        self.sip_port.unwrap_or(5070)
    }

    /// The gateway-side ports: each trunk's `MediationPort` (5068 for TCP, 5067 for TLS by
    /// Lync's conventions).
    fn extra_sip_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .trunks
            .iter()
            .filter_map(|t| {
                let server = t.server.unwrap_or(LyncServer::Lync2013);
                let mut c = TrunkConfig::defaults(server);
                if let Some(m) = t
                    .model
                    .as_ref()
                    .and_then(|id| crate::vendor::lookup(id).ok())
                {
                    c = m.recommended_config();
                }
                for s in &t.settings {
                    c.apply(&Setting::Lync(s.clone()));
                }
                (c.lync.mediation_port != self.sip_port()).then_some(c.lync.mediation_port)
            })
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    fn build(&self, env: &BuildEnv<'_>) -> Result<Element, BuildError> {
        let me = env.me()?;
        let fe = env.peer("front_end", &self.front_end, &[])?;
        if self.trunks.is_empty() {
            return Err(BuildError::new(
                &self.name,
                "trunks",
                "needs at least one trunk",
            ));
        }
        self.keepalive
            .validate()
            .map_err(|(f, m)| BuildError::new(&self.name, f, m))?;
        let relay_delay = positive_ms(&self.name, "relay_delay_ms", self.relay_delay_ms)?;
        let transcode_delay =
            positive_ms(&self.name, "transcode_delay_ms", self.transcode_delay_ms)?;
        let fe_codecs = codec_list(&self.name, "fe_codecs", &self.fe_codecs)?;
        match &self.overload {
            Overload::Reject { status } if !(300..=699).contains(status) => {
                return Err(BuildError::new(
                    &self.name,
                    "overload.status",
                    "must be a final error status (300..=699)",
                ));
            }
            Overload::Queue {
                max_wait_s,
                max_depth,
            } if !(max_wait_s.is_finite() && *max_wait_s > 0.0) || *max_depth == 0 => {
                return Err(BuildError::new(
                    &self.name,
                    "overload",
                    "a queue needs max_wait_s > 0 and max_depth ≥ 1",
                ));
            }
            _ => {}
        }
        let mut trunks = Vec::with_capacity(self.trunks.len());
        for (i, t) in self.trunks.iter().enumerate() {
            let field = format!("trunks[{i}].peer");
            let peer = env.peer(&field, &t.peer, &[])?;
            if peer.id == me.id {
                return Err(BuildError::new(&self.name, &field, "a trunk to itself"));
            }
            let config = self.trunk_config(env, i, t)?;
            if config.lync.mediation_port == self.sip_port() {
                return Err(BuildError::new(
                    &self.name,
                    &format!("trunks[{i}].settings"),
                    "the Mediation port toward the peer is the Front End side port",
                ));
            }
            let codecs = match (&t.codecs, &t.model) {
                (Some(names), _) => codec_list(&self.name, &format!("trunks[{i}].codecs"), names)?,
                (None, Some(id)) => model_codecs(env.model(&format!("trunks[{i}].model"), id)?),
                (None, None) => vec![Codec::pcmu(), Codec::pcma()],
            };
            let mut aliases = vec![t.peer.clone(), peer.ip.to_string()];
            for (host, ip) in &env.directory.hosts {
                if *ip == peer.ip {
                    aliases.push(host.clone());
                }
            }
            trunks.push(TrunkRuntime::new(
                t.peer.clone(),
                SocketAddrV4::new(peer.ip, t.peer_port.unwrap_or(peer.sip.port())),
                config,
                codecs,
                t.forward_pai,
                aliases,
            ));
        }
        let capacity = self.media_capacity.unwrap_or(if self.collocated {
            COLLOCATED_MEDIA_CAPACITY
        } else {
            STANDALONE_MEDIA_CAPACITY
        });
        let cfg = MediationConfig {
            name: self.name.clone(),
            fe_side: me.sip,
            front_end: fe.sip,
            domain: self.domain.clone().unwrap_or_else(|| fe.ip.to_string()),
            fe_transport: transport(self.fe_transport),
            capacity,
            overload: self.overload.clone(),
            relay_delay,
            transcode_delay,
            keepalive: self.keepalive.clone(),
            fe_codecs,
        };
        Ok(Element::Mediation(MediationServer::new(
            cfg, trunks, *env.rngs,
        )))
    }
}
