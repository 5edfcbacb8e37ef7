//! The `VendorModel(...)` schema: identity, role and deployments, transports, capabilities,
//! recommended configuration, preconditions, capacity, failover profile and limitation rules.
//!
//! Elements honour the capability table (a `No` is neither offered, sent nor accepted; an
//! `Unknown` behaves as the RFCs say), and the limitation rules add the documented
//! misbehaviours on top.

use super::behaviour::{Behaviour, HistoryHeader};
use super::capacity::{Basis, Capacity, Failover};
use super::ids::{LimitationId, SoftwareVersion};
use super::rule::{CallScenario, LimitationRule};
use super::trunk::{
    EncryptionLevel, LyncServer, PbxKnob, PbxSetting, Setting, SipTransport, TrunkConfig,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The source document a model comes from (see the catalogue).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SourceKey {
    /// Microsoft's Lync IP-PBX support list, table 1 (Lync 2013).
    #[serde(rename = "LYNC13")]
    Lync13,
    /// The same document, table 2 (Lync 2010).
    #[serde(rename = "LYNC10")]
    Lync10,
    /// The UCOIP qualified gateways and IP-PBXs for OCS 2007.
    #[serde(rename = "OCS07")]
    Ocs07,
    /// Aastra's MX-ONE / Lync Server 2010 Direct SIP integration guide.
    #[serde(rename = "MXONE")]
    Mxone,
}

impl SourceKey {
    /// The Microsoft server release the source qualified the product against.
    pub fn server(self) -> LyncServer {
        match self {
            SourceKey::Lync13 => LyncServer::Lync2013,
            SourceKey::Lync10 | SourceKey::Mxone => LyncServer::Lync2010,
            SourceKey::Ocs07 => LyncServer::Ocs2007,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKey::Lync13 => "LYNC13",
            SourceKey::Lync10 => "LYNC10",
            SourceKey::Ocs07 => "OCS07",
            SourceKey::Mxone => "MXONE",
        }
    }
}

impl fmt::Display for SourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the model's facts come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub key: SourceKey,
    /// The document and the part of it (table, row, section).
    pub document: String,
    /// The vendor integration guide the source points to, when it names one.
    #[serde(default)]
    pub guide: Option<String>,
}

/// The two gateway configurations of the OCS 2007 telephony white paper.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GatewayConfiguration {
    /// Talks SIP to a separate Mediation Server.
    BasicGateway,
    /// Runs the Mediation Server role on the appliance itself.
    BasicHybrid,
}

/// What the product is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    IpPbx,
    Gateway(GatewayConfiguration),
}

/// A deployment the product can be placed in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Deployment {
    /// Incremental, Enterprise Voice behind the PBX: PSTN calls arrive at the PBX, which
    /// sends Enterprise Voice users' calls over Direct SIP to the Mediation Server.
    IncrementalBehindPbx,
    /// Incremental, Enterprise Voice in front of the PBX: PSTN calls arrive at the gateway,
    /// which sends Lync users' calls to Lync and PBX users' calls to the PBX.
    IncrementalInFrontOfPbx,
    /// VoIP-only: no PBX; PSTN calls go through a gateway.
    VoipOnly,
    /// Direct SIP connectivity via a gateway (a TDM PBX or the PSTN behind a gateway).
    DirectSipViaGateway,
    /// PSTN access through a SIP trunking service provider behind the product.
    SipTrunking,
    /// Dual forking: one number rings the PBX phone and the Lync client at once.
    DualForking,
    /// Dual forking with remote call control (PBX line state for presence).
    DualForkingWithRcc,
}

impl Deployment {
    /// Whether a product of `role` can take part in this deployment.
    pub fn allowed_for(self, role: Role) -> bool {
        match role {
            Role::IpPbx => matches!(
                self,
                Deployment::IncrementalBehindPbx
                    | Deployment::IncrementalInFrontOfPbx
                    | Deployment::SipTrunking
                    | Deployment::DualForking
                    | Deployment::DualForkingWithRcc
            ),
            Role::Gateway(_) => matches!(
                self,
                Deployment::DirectSipViaGateway
                    | Deployment::IncrementalInFrontOfPbx
                    | Deployment::VoipOnly
            ),
        }
    }
}

/// A PBX line state reported by remote call control.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LineState {
    Idle,
    Ringing,
    Busy,
}

/// Element behaviour that only some deployments need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeploymentFeature {
    /// Dual forking: the PBX forks a call for a shared number to the PBX phone and to the
    /// OCS/Lync user at once; the first leg to answer (200 OK) takes the call and the PBX
    /// sends CANCEL on the other leg.
    DualForking,
    /// Remote call control: the PBX reports the PBX phone's line state to the OCS/Lync side
    /// (for presence) on every change among `states`.
    RemoteCallControl { states: Vec<LineState> },
    /// Basic Hybrid: the appliance runs the Mediation Server role (one hop fewer), and the
    /// Mediation capacity is the appliance's.
    CollocatedMediation {
        concurrent_calls: super::capacity::Quantity,
    },
}

/// A SIP transport the product offers on the trunk, with both ports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportOption {
    pub transport: SipTransport,
    /// The product's listening port (Lync's "gateway port").
    pub pbx_port: u16,
    /// The Mediation Server's listening port (the product's "remote port").
    pub lync_port: u16,
    pub basis: Basis,
}

/// Whether the product supports a capability.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Support {
    Yes,
    No,
    /// The source says it was not tested.
    Untested,
    /// The source is silent: elements behave as the RFCs say.
    Unknown,
}

/// How the product treats one call-history header. `pass: No` means the product drops the
/// header it receives; `convert_to` names the header it rewrites it into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderPolicy {
    /// Passes the header through when it receives it.
    pub pass: Support,
    /// Adds the header itself (on forwarding or transfer).
    pub originate: Support,
    /// Converts the received header to another one (e.g. History-Info → Diversion).
    #[serde(default)]
    pub convert_to: Option<HistoryHeader>,
}

/// An audio codec.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Codec {
    /// G.711 µ-law (PT 0).
    Pcmu,
    /// G.711 A-law (PT 8).
    Pcma,
    G729,
    G723,
    G726,
    G722,
    Ilbc,
}

/// The capability table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    pub refer: Support,
    pub prack: Support,
    pub rtcp: Support,
    pub comfort_noise: Support,
    pub media_bypass_inbound: Support,
    pub media_bypass_outbound: Support,
    pub session_timers: Support,
    pub tls: Support,
    pub srtp: Support,
    pub history_info: HeaderPolicy,
    pub referred_by: HeaderPolicy,
    pub diversion: HeaderPolicy,
    pub options_keepalive: Support,
    pub fqdn_in_sdp: Support,
    pub early_media: Support,
    pub dtmf_rfc4733: Support,
    pub dtmf_in_early_media: Support,
    pub ringback_generation: Support,
    pub codecs: Vec<Codec>,
    pub codecs_basis: Basis,
}

/// A capability, to look it up in the table.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    Refer,
    Prack,
    Rtcp,
    ComfortNoise,
    MediaBypassInbound,
    MediaBypassOutbound,
    SessionTimers,
    Tls,
    Srtp,
    HistoryPassThrough(HistoryHeader),
    OptionsKeepalive,
    FqdnInSdp,
    EarlyMedia,
    Dtmf,
    DtmfInEarlyMedia,
    RingbackGeneration,
}

impl Capabilities {
    pub fn support(&self, c: Capability) -> Support {
        match c {
            Capability::Refer => self.refer,
            Capability::Prack => self.prack,
            Capability::Rtcp => self.rtcp,
            Capability::ComfortNoise => self.comfort_noise,
            Capability::MediaBypassInbound => self.media_bypass_inbound,
            Capability::MediaBypassOutbound => self.media_bypass_outbound,
            Capability::SessionTimers => self.session_timers,
            Capability::Tls => self.tls,
            Capability::Srtp => self.srtp,
            Capability::HistoryPassThrough(h) => self.header(h).pass,
            Capability::OptionsKeepalive => self.options_keepalive,
            Capability::FqdnInSdp => self.fqdn_in_sdp,
            Capability::EarlyMedia => self.early_media,
            Capability::Dtmf => self.dtmf_rfc4733,
            Capability::DtmfInEarlyMedia => self.dtmf_in_early_media,
            Capability::RingbackGeneration => self.ringback_generation,
        }
    }

    pub fn header(&self, h: HistoryHeader) -> &HeaderPolicy {
        match h {
            HistoryHeader::HistoryInfo => &self.history_info,
            HistoryHeader::ReferredBy => &self.referred_by,
            HistoryHeader::Diversion => &self.diversion,
        }
    }
}

/// A configuration note of the source (or an assumption), as typed knobs with its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationNote {
    pub text: String,
    #[serde(default)]
    pub set: Vec<Setting>,
    pub basis: Basis,
}

/// When a precondition applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Always,
    /// Only in these deployments.
    Deployments(Vec<Deployment>),
    /// Only when the knob has this value.
    When(Setting),
}

/// Something the configuration must contain for the product to be supported at all
/// (e.g. an update on the Microsoft side). Unmet, the configuration is unsupported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Precondition {
    pub scope: Scope,
    pub requires: Vec<Setting>,
    pub note: String,
}

impl Precondition {
    /// Whether the precondition applies to `config` in `deployment`.
    pub fn in_scope(&self, config: &TrunkConfig, deployment: Deployment) -> bool {
        match &self.scope {
            Scope::Always => true,
            Scope::Deployments(ds) => ds.contains(&deployment),
            Scope::When(s) => config.current(s).as_ref() == Some(s),
        }
    }

    /// The required settings `config` lacks.
    pub fn missing(&self, config: &TrunkConfig) -> Vec<&Setting> {
        self.requires
            .iter()
            .filter(|s| config.current(s).as_ref() != Some(*s))
            .collect()
    }
}

/// A vendor product model: the contents of `vendor-models/<id>.ron`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorModel {
    /// Equals the file stem and the catalogue's product id.
    pub id: String,
    pub vendor: String,
    pub product: String,
    /// The tested software version as the source writes it.
    pub version: String,
    /// The tested releases as comparable versions, oldest first, for version-specific
    /// rules; the last one is the default release of a trunk.
    #[serde(default)]
    pub tested_versions: Vec<SoftwareVersion>,
    /// Products the vendor supports with the same firmware (not tested).
    #[serde(default)]
    pub also_supported: Vec<String>,
    pub source: Source,
    /// The qualification level as the source names it ("Direct SIP", ...).
    pub qualification: String,
    pub role: Role,
    pub deployments: Vec<Deployment>,
    #[serde(default)]
    pub deployment_features: Vec<DeploymentFeature>,
    pub transports: Vec<TransportOption>,
    pub capabilities: Capabilities,
    /// The PBX-side knobs this product has.
    #[serde(default)]
    pub pbx_knobs: Vec<PbxKnob>,
    pub configuration: Vec<ConfigurationNote>,
    #[serde(default)]
    pub preconditions: Vec<Precondition>,
    pub capacity: Capacity,
    pub failover: Failover,
    pub limitations: Vec<LimitationRule>,
    #[serde(default)]
    pub notes: Vec<String>,
}

impl VendorModel {
    /// The Lync-side server the source qualified against.
    pub fn server(&self) -> LyncServer {
        self.source.key.server()
    }

    pub fn is_gateway(&self) -> bool {
        matches!(self.role, Role::Gateway(_))
    }

    /// The trunk as it comes out of the box: the product defaults of the source's server
    /// and the newest tested release, without the configuration notes.
    pub fn factory_config(&self) -> TrunkConfig {
        let mut config = TrunkConfig::defaults(self.server());
        if let Some(v) = self.tested_versions.last() {
            config.apply(&Setting::Pbx(PbxSetting::Version(v.clone())));
        }
        config
    }

    /// The recommended trunk configuration: the product defaults of the source's server,
    /// the newest tested release, and every configuration note applied in order.
    pub fn recommended_config(&self) -> TrunkConfig {
        let mut config = self.factory_config();
        for note in &self.configuration {
            for s in &note.set {
                config.apply(s);
            }
        }
        config
    }

    pub fn rule(&self, id: &str) -> Option<&LimitationRule> {
        self.limitations.iter().find(|r| r.id.as_str() == id)
    }

    pub fn limitation_ids(&self) -> impl Iterator<Item = &LimitationId> {
        self.limitations.iter().map(|r| &r.id)
    }

    /// The rules whose behaviours act on the wire for `call` under `config` (their trigger
    /// holds), in file order.
    pub fn active_rules<'a>(
        &'a self,
        config: &TrunkConfig,
        call: &CallScenario,
    ) -> Vec<&'a LimitationRule> {
        self.limitations
            .iter()
            .filter(|r| r.triggered(config, call))
            .collect()
    }

    /// The rules whose documented symptom `call` should show under `config`: active and not
    /// neutralized by the configuration. This is what `qualify` expects to observe.
    pub fn expected_symptoms<'a>(
        &'a self,
        config: &TrunkConfig,
        call: &CallScenario,
    ) -> Vec<&'a LimitationRule> {
        self.limitations
            .iter()
            .filter(|r| r.symptom_expected(config, call))
            .collect()
    }

    /// The behaviours the element must execute on `call`, each with the ID of its rule.
    pub fn behaviours<'a>(
        &'a self,
        config: &TrunkConfig,
        call: &CallScenario,
    ) -> Vec<(&'a LimitationId, &'a Behaviour)> {
        self.active_rules(config, call)
            .into_iter()
            .flat_map(|r| r.behaviours.iter().map(move |b| (&r.id, b)))
            .collect()
    }

    /// Preconditions that `config` does not meet in `deployment`: the configuration is
    /// unsupported while any remain.
    pub fn unmet_preconditions(
        &self,
        config: &TrunkConfig,
        deployment: Deployment,
    ) -> Vec<&Precondition> {
        self.preconditions
            .iter()
            .filter(|p| p.in_scope(config, deployment) && !p.missing(config).is_empty())
            .collect()
    }

    /// Ways `config` contradicts what the product or the server can do (transport and ports
    /// not offered, TLS/SRTP unsupported, bypass or translation rules the server lacks,
    /// PBX knobs the product does not have). Empty when the trunk can work.
    pub fn config_conflicts(&self, config: &TrunkConfig) -> Vec<String> {
        let mut out = Vec::new();
        let l = &config.lync;
        let offered = self.transports.iter().any(|t| {
            t.transport == l.transport
                && t.pbx_port == l.gateway_port
                && t.lync_port == l.mediation_port
        });
        if !offered {
            out.push(format!(
                "{} with the product on port {} and the Mediation Server on port {} is not a transport the product offers",
                l.transport, l.gateway_port, l.mediation_port
            ));
        }
        let caps = &self.capabilities;
        if l.transport == SipTransport::Tls && caps.tls == Support::No {
            out.push("TLS transport, but the product does not support TLS".into());
        }
        if l.encryption == EncryptionLevel::Required && caps.srtp == Support::No {
            out.push("SRTP required, but the product does not support SRTP".into());
        }
        if l.media_bypass && !l.server.has_media_bypass() {
            out.push(format!("media bypass is not available on {:?}", l.server));
        }
        let bypass_unsupported =
            caps.media_bypass_inbound == Support::No && caps.media_bypass_outbound == Support::No;
        if l.media_bypass && bypass_unsupported {
            out.push(
                "media bypass enabled, but the product supports it in neither direction".into(),
            );
        }
        if !l.response_code_translations.is_empty() && !l.server.has_response_code_translation() {
            out.push(format!(
                "response-code translation rules are not available on {:?}",
                l.server
            ));
        }
        let p = &config.pbx;
        let defaults = TrunkConfig::defaults(l.server).pbx;
        let knob_set = [
            (PbxKnob::Mtp, p.mtp != defaults.mtp),
            (PbxKnob::Prack, p.prack != defaults.prack),
            (
                PbxKnob::AlternateRouteTimer,
                p.alternate_route_timer_s != defaults.alternate_route_timer_s,
            ),
            (
                PbxKnob::ForcedGateway,
                p.forced_gateway != defaults.forced_gateway,
            ),
            (
                PbxKnob::SkipUnavailableSpans,
                p.skip_unavailable_spans != defaults.skip_unavailable_spans,
            ),
        ];
        for (knob, changed) in knob_set {
            if changed && !self.pbx_knobs.contains(&knob) {
                out.push(format!("the product has no PBX knob {knob:?}"));
            }
        }
        out
    }
}
