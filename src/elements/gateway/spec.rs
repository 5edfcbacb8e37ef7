//! The PSTN gateway as written in a deployment, and its construction from its vendor model.

use super::super::build::{BuildEnv, BuildError};
use super::super::element::Element;
use super::super::media_policy::MediaPolicy;
use super::super::mediation::KeepaliveSpec;
use super::super::mediation::caps::{RTAUDIO_PT, model_codecs};
use super::super::mediation::sip_transport as transport;
use super::super::spec::ElementKindSpec;
use super::routing::{Link, Peer};
use super::{Gateway, GatewayConfig};
use crate::sim::SimDuration;
use crate::sip::sdp::{Codec, MediaCapabilities};
use crate::vendor::{
    DeploymentFeature, GatewayConfiguration, Role, SipTransport, Support, VendorModel,
};
use serde::{Deserialize, Serialize};
use std::net::SocketAddrV4;

/// A SIP peer of the gateway.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayPeerSpec {
    /// A Mediation Server (Basic Gateway), a Front End pool (Basic Hybrid) or an IP-PBX.
    pub element: String,
    /// The peer's SIP port: by default a Mediation Server's gateway-side port from the
    /// model's transport ("remote port"), else the peer's main SIP port.
    #[serde(default)]
    pub port: Option<u16>,
}

/// `Gateway((name: ..., node: ..., model: "audiocodes-mediant-2000", peers: [...]))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySpec {
    pub name: String,
    pub node: String,
    /// The SIP port (the model's "gateway port" by default).
    #[serde(default)]
    pub sip_port: Option<u16>,
    /// The vendor model: capacity, codecs, transport and failover responses.
    pub model: String,
    /// SIP peers, in the order calls from the TDM side try them.
    pub peers: Vec<GatewayPeerSpec>,
    /// SIP transport (the model's first by default).
    #[serde(default)]
    pub transport: Option<SipTransport>,
    /// TDM links in hunting order (default: every link of the gateway, by name).
    #[serde(default)]
    pub links: Option<Vec<String>>,
    /// Response when every B-channel is busy (the model's by default, 503).
    #[serde(default)]
    pub no_circuit_status: Option<u16>,
    /// Response when every span needed is out of service (the model's by default).
    #[serde(default)]
    pub span_down_status: Option<u16>,
    /// Concurrent calls (the model's capacity by default).
    #[serde(default)]
    pub max_calls: Option<u32>,
    /// Map Q.850 cause 21 to 403 as RFC 3398 does, instead of 603 Decline.
    #[serde(default)]
    pub strict_rfc3398: bool,
    /// One-way delay of the TDM tail to the PSTN party, ms (assumed 10: a national digital
    /// PSTN connection, well inside ITU-T G.114's planning values).
    #[serde(default = "default_tdm_delay")]
    pub tdm_delay_ms: f64,
    #[serde(default)]
    pub media: MediaPolicy,
    /// OPTIONS keepalive toward the peers (on when the model says the product sends them).
    #[serde(default)]
    pub keepalive: Option<KeepaliveSpec>,
}

fn default_tdm_delay() -> f64 {
    10.0
}

fn is_hybrid(model: &VendorModel) -> bool {
    model.role == Role::Gateway(GatewayConfiguration::BasicHybrid)
}

impl GatewaySpec {
    fn vendor<'a>(&self, env: &'a BuildEnv<'_>) -> Result<&'a VendorModel, BuildError> {
        let m = env.model("model", &self.model)?;
        if !m.is_gateway() {
            return Err(BuildError::new(
                &self.name,
                "model",
                format!("`{}` is not a gateway model", self.model),
            ));
        }
        Ok(m)
    }
}

impl ElementKindSpec for GatewaySpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn node(&self) -> &str {
        &self.node
    }
    fn kind(&self) -> &'static str {
        "gateway"
    }
    fn sip_port(&self) -> u16 {
        self.sip_port.unwrap_or_else(|| {
            crate::vendor::lookup(&self.model)
                .ok()
                .and_then(|m| m.transports.first().map(|t| t.pbx_port))
                .unwrap_or(5060)
        })
    }

    fn build(&self, env: &BuildEnv<'_>) -> Result<Element, BuildError> {
        let me = env.me()?;
        let model = self.vendor(env)?;
        let hybrid = is_hybrid(model);
        let option = model.transports.first();
        let transport_knob = self
            .transport
            .or(option.map(|t| t.transport))
            .unwrap_or(SipTransport::Tcp);
        let remote_port = option.map(|t| t.lync_port).unwrap_or(5068);
        if self.peers.is_empty() {
            return Err(BuildError::new(
                &self.name,
                "peers",
                "needs at least one SIP peer",
            ));
        }
        let mut peers = Vec::new();
        for (i, p) in self.peers.iter().enumerate() {
            let field = format!("peers[{i}].element");
            let pl = env.peer(&field, &p.element, &[])?;
            let port = p.port.unwrap_or(if pl.kind == "mediation" {
                remote_port
            } else {
                pl.sip.port()
            });
            peers.push(Peer {
                name: p.element.clone(),
                addr: SocketAddrV4::new(pl.ip, port),
                kind: pl.kind,
            });
        }
        let mine = env.my_tdm_ports();
        if mine.is_empty() {
            return Err(BuildError::new(
                &self.name,
                "links",
                "the gateway has no TDM link",
            ));
        }
        let order: Vec<String> = match &self.links {
            Some(l) => l.clone(),
            None => mine.iter().map(|(n, _, _)| n.clone()).collect(),
        };
        let mut links = Vec::new();
        for (i, name) in order.iter().enumerate() {
            let Some((_, port, far)) = mine.iter().find(|(n, _, _)| n == name) else {
                return Err(BuildError::new(
                    &self.name,
                    &format!("links[{i}]"),
                    format!("no TDM link `{name}` ends at this gateway"),
                ));
            };
            let fp = env.peer(&format!("links[{i}]"), far, &[])?;
            links.push(Link {
                port: *port,
                far: far.clone(),
                far_id: fp.id,
                far_kind: fp.kind,
            });
        }
        if !(self.tdm_delay_ms.is_finite() && self.tdm_delay_ms >= 0.0) {
            return Err(BuildError::new(&self.name, "tdm_delay_ms", "must be ≥ 0"));
        }
        for (field, s) in [
            ("no_circuit_status", self.no_circuit_status),
            ("span_down_status", self.span_down_status),
        ] {
            if s.is_some_and(|s| !(300..=699).contains(&s)) {
                return Err(BuildError::new(&self.name, field, "must be in 300..=699"));
            }
        }
        let collocated = model.deployment_features.iter().find_map(|f| match f {
            DeploymentFeature::CollocatedMediation { concurrent_calls } => {
                Some(concurrent_calls.value.get())
            }
            _ => None,
        });
        let max_calls = self.max_calls.unwrap_or_else(|| {
            let c = model.capacity.concurrent_calls.value.get();
            collocated.map_or(c, |m| m.min(c))
        });
        let mut codecs = model_codecs(model);
        if hybrid {
            // The appliance runs the Mediation Server role: it speaks RTAudio to clients.
            codecs.push(Codec::rtaudio(RTAUDIO_PT, 8000));
        }
        let mut media = MediaCapabilities::g711(&me.ip.to_string(), 0);
        media.codecs = codecs;
        media.comfort_noise = model.capabilities.comfort_noise != Support::No;
        if model.capabilities.dtmf_rfc4733 == Support::No {
            media.telephone_event = None;
        }
        let mut policy = self.media.clone();
        if model.capabilities.rtcp == Support::No {
            policy.rtcp = false;
        }
        if model.capabilities.dtmf_in_early_media == Support::No {
            policy.dtmf_in_early_media = false;
        }
        let keepalive = self.keepalive.clone().unwrap_or_else(|| KeepaliveSpec {
            enabled: model.capabilities.options_keepalive == Support::Yes,
            ..KeepaliveSpec::default()
        });
        keepalive
            .validate()
            .map_err(|(f, m)| BuildError::new(&self.name, f, m))?;
        let cfg = GatewayConfig {
            name: self.name.clone(),
            sip: SocketAddrV4::new(me.ip, self.sip_port.unwrap_or(me.sip.port())),
            transport: transport(transport_knob),
            hybrid,
            media,
            policy,
            max_calls,
            no_circuit_status: self
                .no_circuit_status
                .unwrap_or(model.failover.no_circuit_response.get()),
            span_down_status: self
                .span_down_status
                .unwrap_or(model.failover.span_down_response.get()),
            strict_rfc3398: self.strict_rfc3398,
            tdm_delay: SimDuration::from_millis_f64(self.tdm_delay_ms),
            reliable_provisionals: model.capabilities.prack == Support::Yes,
            keepalive,
            numbers: env.directory.numbers.clone(),
            kinds: env
                .directory
                .elements
                .iter()
                .map(|(n, p)| (n.clone(), p.kind))
                .collect(),
        };
        Ok(Element::Gateway(Gateway::new(cfg, peers, links, *env.rngs)))
    }
}
