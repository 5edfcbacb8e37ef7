//! `Pbx((...))` in a deployment: the IP-PBX element's spec, validated into its setup.

use super::station::{ForwardWhen, HuntGroup, StaticForward, Stations};
use super::{Pbx, PbxSetup};
use crate::elements::build::{BuildEnv, BuildError};
use crate::elements::element::Element;
use crate::elements::media_policy::MediaPolicy;
use crate::elements::spec::ElementKindSpec;
use crate::sim::SimDuration;
use crate::vendor::{
    BehaviourEngine, Codec as VendorCodec, Deployment, DeploymentFeature, Role, Setting,
    TrunkConfig, VendorModel,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddrV4;
use std::sync::Arc;

/// A hunt group as written in RON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuntGroupSpec {
    /// The pilot number callers dial.
    pub pilot: String,
    /// Members, hunted in order (linear hunting): the first idle one rings.
    pub members: Vec<String>,
}

/// A static call forward of one extension.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardSpec {
    pub extension: String,
    pub when: ForwardWhen,
    pub target: String,
}

/// Which extensions ring the PBX phone and the Lync client at once (Nortel CS 1000).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub enum DualForkingSpec {
    /// Every extension of a dual-forking deployment.
    #[default]
    All,
    /// Only these numbers.
    Numbers(Vec<String>),
}

/// The IP-PBX, driven by a vendor model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PbxSpec {
    pub name: String,
    pub node: String,
    /// Listening port; defaults to the trunk configuration's gateway port (5060 TCP,
    /// 5061 TLS).
    #[serde(default)]
    pub sip_port: Option<u16>,
    /// The vendor model id, e.g. `alcatel-oxe-r9.1`.
    pub model: String,
    /// Start from the product's factory configuration instead of the recommended one.
    #[serde(default)]
    pub factory_config: bool,
    /// Knobs applied on top (the experiment's what-ifs).
    #[serde(default)]
    pub settings: Vec<Setting>,
    #[serde(default = "default_deployment")]
    pub deployment: Deployment,
    /// The Direct SIP trunk's far end (a Mediation Server, or a gateway for Lync).
    pub lync: String,
    /// A SIP trunk toward a provider or gateway on the PSTN side.
    #[serde(default)]
    pub provider: Option<String>,
    /// TDM links toward the PSTN (PRI), hunted in order.
    #[serde(default)]
    pub pri: Vec<String>,
    /// The pilot number of the PBX's own voicemail.
    #[serde(default)]
    pub voicemail: Option<String>,
    /// Where calls to Lync go when the trunk fails or the Alternate Route Timer expires.
    #[serde(default)]
    pub alternate_route: Option<String>,
    #[serde(default)]
    pub hunt_groups: Vec<HuntGroupSpec>,
    #[serde(default)]
    pub forwards: Vec<ForwardSpec>,
    /// Dual-forked extensions (only in a dual-forking deployment).
    #[serde(default)]
    pub dual_forking: DualForkingSpec,
    /// Where remote call control reports line states (default: the Lync trunk's peer).
    #[serde(default)]
    pub rcc_target: Option<String>,
    /// OPTIONS keepalive period, seconds.
    #[serde(default = "default_options_interval")]
    pub options_interval_s: u32,
    /// Consecutive unanswered OPTIONS before the trunk is considered down.
    #[serde(default = "default_options_down_after")]
    pub options_down_after: u32,
    /// Concurrent SIP trunk calls (licences); default: the model's capacity.
    #[serde(default)]
    pub sip_trunk_calls: Option<u32>,
    /// One-way delay of the PSTN beyond the PRI (TDM switching and transit), ms.
    #[serde(default = "default_pstn_delay")]
    pub pstn_delay_ms: f64,
    #[serde(default)]
    pub media: MediaPolicy,
}

fn default_deployment() -> Deployment {
    Deployment::IncrementalBehindPbx
}
fn default_options_interval() -> u32 {
    30
}
fn default_options_down_after() -> u32 {
    2
}
fn default_pstn_delay() -> f64 {
    // Assumed: ITU-T G.114 puts national PSTN transit at about 10-20 ms one way.
    15.0
}

impl PbxSpec {
    fn base_model(&self) -> Option<&'static VendorModel> {
        crate::vendor::lookup(&self.model).ok()
    }

    /// The trunk configuration the PBX runs with.
    pub fn trunk_config(&self, model: &VendorModel) -> TrunkConfig {
        let base = if self.factory_config {
            model.factory_config()
        } else {
            model.recommended_config()
        };
        base.with(&self.settings)
    }
}

impl ElementKindSpec for PbxSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn node(&self) -> &str {
        &self.node
    }
    fn kind(&self) -> &'static str {
        "pbx"
    }
    fn sip_port(&self) -> u16 {
        self.sip_port.unwrap_or_else(|| {
            self.base_model()
                .map(|m| self.trunk_config(m).lync.gateway_port)
                .unwrap_or(5060)
        })
    }
    fn build(&self, env: &BuildEnv<'_>) -> Result<Element, BuildError> {
        Ok(Element::Pbx(Box::new(build(self, env)?)))
    }
}

fn codec_of(c: VendorCodec) -> Option<crate::sip::sdp::Codec> {
    use crate::sip::sdp::Codec;
    Some(match c {
        VendorCodec::Pcmu => Codec::pcmu(),
        VendorCodec::Pcma => Codec::pcma(),
        VendorCodec::G729 => Codec::g729(),
        VendorCodec::G722 => Codec::g722(),
        _ => return None,
    })
}

fn build(spec: &PbxSpec, env: &BuildEnv<'_>) -> Result<Pbx, BuildError> {
    let err = |field: &str, msg: String| BuildError::new(&spec.name, field, msg);
    let me = env.me()?;
    let model = env.model("model", &spec.model)?.clone();
    if model.role != Role::IpPbx {
        return Err(err(
            "model",
            format!("`{}` is not an IP-PBX model", model.id),
        ));
    }
    if !model.deployments.contains(&spec.deployment) {
        return Err(err(
            "deployment",
            format!(
                "{:?} is not a deployment of `{}` (it supports {:?})",
                spec.deployment, model.id, model.deployments
            ),
        ));
    }
    let config = spec.trunk_config(&model);
    let unmet = model.unmet_preconditions(&config, spec.deployment);
    if let Some(p) = unmet.first() {
        return Err(err(
            "settings",
            format!("unsupported configuration: {}", p.note),
        ));
    }
    if let Some(c) = model.config_conflicts(&config).first() {
        return Err(err("settings", c.clone()));
    }
    let lync = env.peer("lync", &spec.lync, &[])?;
    let lync_addr = SocketAddrV4::new(lync.ip, config.lync.mediation_port);
    let provider = match &spec.provider {
        Some(p) => Some(env.peer("provider", p, &[])?.sip),
        None => None,
    };
    let mut pri = Vec::new();
    for link in &spec.pri {
        pri.push(env.tdm_port("pri", link)?);
    }
    let has = |f: fn(&DeploymentFeature) -> bool| model.deployment_features.iter().any(f);
    let dual = matches!(
        spec.deployment,
        Deployment::DualForking | Deployment::DualForkingWithRcc
    );
    if dual && !has(|f| matches!(f, DeploymentFeature::DualForking)) {
        return Err(err("deployment", "the model has no dual forking".into()));
    }
    let rcc = spec.deployment == Deployment::DualForkingWithRcc;
    let rcc_target = match &spec.rcc_target {
        Some(t) => Some(env.peer("rcc_target", t, &[])?.sip),
        None if rcc => Some(lync_addr),
        None => None,
    };
    let dual_forking = if !dual {
        super::DualForking::None
    } else {
        match &spec.dual_forking {
            DualForkingSpec::All => super::DualForking::All,
            DualForkingSpec::Numbers(n) => {
                super::DualForking::Numbers(n.iter().cloned().collect::<BTreeSet<_>>())
            }
        }
    };
    if !(spec.pstn_delay_ms.is_finite() && spec.pstn_delay_ms >= 0.0) {
        return Err(err("pstn_delay_ms", "must be ≥ 0".into()));
    }
    if spec.options_interval_s == 0 || spec.options_down_after == 0 {
        return Err(err(
            "options_interval_s",
            "the OPTIONS period and the miss count must be ≥ 1".into(),
        ));
    }
    let codecs: Vec<_> = model
        .capabilities
        .codecs
        .iter()
        .filter_map(|c| codec_of(*c))
        .collect();
    if codecs.is_empty() {
        return Err(err(
            "model",
            "the model has no codec voicetwin can run".into(),
        ));
    }
    let mut stations = Stations::default();
    stations.rcc = rcc;
    let mut forwards: BTreeMap<String, Vec<StaticForward>> = BTreeMap::new();
    for f in &spec.forwards {
        forwards
            .entry(f.extension.clone())
            .or_default()
            .push(StaticForward {
                when: f.when,
                target: f.target.clone(),
            });
    }
    stations.forwards = forwards;
    stations.hunt_groups = spec
        .hunt_groups
        .iter()
        .map(|g| HuntGroup {
            pilot: g.pilot.clone(),
            members: g.members.clone(),
        })
        .collect();
    let sip_trunk_calls = spec
        .sip_trunk_calls
        .unwrap_or(model.capacity.concurrent_calls.value.get());
    let setup = PbxSetup {
        name: spec.name.clone(),
        sip: me.sip,
        ip: *me.sip.ip(),
        lync: lync_addr,
        provider,
        pri,
        voicemail: spec.voicemail.clone(),
        alternate_route: spec.alternate_route.clone(),
        dual_forking,
        rcc_target,
        options_interval: SimDuration::from_secs(u64::from(spec.options_interval_s)),
        options_down_after: spec.options_down_after,
        sip_trunk_calls,
        pstn_delay: SimDuration::from_secs_f64(spec.pstn_delay_ms / 1000.0),
        codecs,
        policy: spec.media.clone(),
        plan: env.directory.numbers.clone(),
    };
    let engine = BehaviourEngine::new(Arc::new(model), config);
    Ok(Pbx::new(
        setup,
        engine,
        stations,
        env.rng("sip"),
        env.rng("pbx"),
    ))
}
