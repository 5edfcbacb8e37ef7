//! Element specs: the `elements: [...]` list of a deployment, as written in RON.
//!
//! Each element kind has a spec struct with at least `name`, `node` and an optional
//! `sip_port`, and implements [`ElementKindSpec`]. [`ElementSpec`] is the closed set of
//! them; the scenario layer places each element, then builds it with a [`BuildEnv`].

use super::build::{BuildEnv, BuildError};
use super::element::Element;
use super::endpoint::{EndpointConfig, SipEndpoint};
use super::media_policy::MediaPolicy;
use crate::sim::SimDuration;
use crate::sip::Transport;
use crate::sip::sdp::MediaCapabilities;
use serde::{Deserialize, Serialize};

/// What every element spec provides.
pub trait ElementKindSpec {
    fn name(&self) -> &str;
    /// The topology node the element runs on.
    fn node(&self) -> &str;
    /// The element kind, e.g. `front-end` (used in errors and routes).
    fn kind(&self) -> &'static str;
    /// The SIP port it listens on.
    fn sip_port(&self) -> u16;
    /// Further SIP ports it listens on (e.g. a Mediation Server's gateway-side port).
    fn extra_sip_ports(&self) -> Vec<u16> {
        Vec::new()
    }
    /// Builds the element once every element is placed.
    fn build(&self, env: &BuildEnv<'_>) -> Result<Element, BuildError>;
}

/// A plain SIP endpoint (the built-in `uas`, or a test phone).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    pub name: String,
    pub node: String,
    #[serde(default)]
    pub sip_port: Option<u16>,
    /// The element its INVITEs go to (an outbound proxy), if any.
    #[serde(default)]
    pub proxy: Option<String>,
    /// Answer delay for calls without a script, seconds.
    #[serde(default = "default_auto_answer")]
    pub auto_answer_s: f64,
    #[serde(default)]
    pub media: MediaPolicy,
}

fn default_auto_answer() -> f64 {
    1.0
}

impl ElementKindSpec for EndpointSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn node(&self) -> &str {
        &self.node
    }
    fn kind(&self) -> &'static str {
        "endpoint"
    }
    fn sip_port(&self) -> u16 {
        self.sip_port.unwrap_or(5060)
    }
    fn build(&self, env: &BuildEnv<'_>) -> Result<Element, BuildError> {
        let me = env.me()?;
        let proxy = match &self.proxy {
            Some(p) => Some(env.peer("proxy", p, &[])?.sip),
            None => None,
        };
        if !(self.auto_answer_s.is_finite() && self.auto_answer_s >= 0.0) {
            return Err(BuildError::new(&self.name, "auto_answer_s", "must be ≥ 0"));
        }
        let cfg = EndpointConfig {
            name: self.name.clone(),
            sip: me.sip,
            transport: Transport::Udp,
            domain: me.ip.to_string(),
            proxy,
            media: MediaCapabilities::g711(&me.ip.to_string(), 0),
            policy: self.media.clone(),
            auto_answer: SimDuration::from_secs_f64(self.auto_answer_s),
            require_100rel: false,
        };
        Ok(Element::Endpoint(SipEndpoint::new(cfg, env.rng("sip"))))
    }
}

/// Declares the closed set of element specs and forwards [`ElementKindSpec`] to each.
macro_rules! element_specs {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// One element of a deployment, as written in RON: `FrontEnd((name: ...))`.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[allow(clippy::large_enum_variant)]
        pub enum ElementSpec {
            $($variant($ty),)*
        }

        impl ElementKindSpec for ElementSpec {
            fn name(&self) -> &str {
                match self { $(ElementSpec::$variant(s) => s.name(),)* }
            }
            fn node(&self) -> &str {
                match self { $(ElementSpec::$variant(s) => s.node(),)* }
            }
            fn kind(&self) -> &'static str {
                match self { $(ElementSpec::$variant(s) => s.kind(),)* }
            }
            fn sip_port(&self) -> u16 {
                match self { $(ElementSpec::$variant(s) => s.sip_port(),)* }
            }
            fn extra_sip_ports(&self) -> Vec<u16> {
                match self { $(ElementSpec::$variant(s) => s.extra_sip_ports(),)* }
            }
            fn build(&self, env: &BuildEnv<'_>) -> Result<Element, BuildError> {
                match self { $(ElementSpec::$variant(s) => s.build(env),)* }
            }
        }
    };
}

element_specs! {
    Endpoint(EndpointSpec),
    FrontEnd(super::front_end::FrontEndSpec),
    LyncPool(super::lync::LyncPoolSpec),
    Voicemail(super::voicemail::VoicemailSpec),
    Mediation(super::mediation::MediationSpec),
    Gateway(super::gateway::GatewaySpec),
    Pstn(super::pstn::PstnSpec),
    SipTrunk(super::sip_trunk::SipTrunkSpec),
    Pbx(super::pbx::PbxSpec),
}
