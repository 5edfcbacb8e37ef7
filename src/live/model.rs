//! What a MODEL argument becomes on a live socket: the element that stands for it, and
//! which of the model's behaviours that element applies on the wire.
//!
//! `uas` is the plain RFC 3261 user agent server: a [`SipEndpoint`] built from its
//! [`EndpointSpec`] exactly as a deployment builds it. An IP-PBX model is served by the
//! IP-PBX element built from its [`PbxSpec`] with [`build_from_spec`], behaviour engine and
//! limitation rules included: its extensions [`PBX_EXTENSIONS`] ring its stations, other
//! numbers go out over its Direct SIP trunk. A gateway model (whose element needs its TDM
//! side) and a PBX model the element refuses are served by a `SipEndpoint` stand-in with
//! the model's capabilities applied where an endpoint can apply them (codecs, comfort
//! noise, RFC 4733 events, RTCP). Every behaviour not applied is listed as such.

use super::error::LiveError;
use crate::elements::Element;
use crate::elements::build::{BuildEnv, Directory, Placement};
use crate::elements::endpoint::{EndpointConfig, SipEndpoint};
use crate::elements::media_policy::MediaPolicy;
use crate::elements::numbering::{NumberKind, NumberPlan, NumberRange};
use crate::elements::pbx::PbxSpec;
use crate::elements::spec::{ElementKindSpec, ElementSpec, EndpointSpec};
use crate::net::Network;
use crate::scenario::topology::Topology;
use crate::sim::{RngFactory, SimDuration};
use crate::sip::Transport;
use crate::sip::sdp::{Codec as SdpCodec, MediaCapabilities};
use crate::vendor::{self, Capabilities, Codec, Deployment, Role, Support, VendorModel};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddrV4;
use std::path::Path;

/// A MODEL argument, resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveModel {
    /// The built-in plain RFC 3261 UAS.
    Uas,
    /// A vendor product model (by id, or from a `.ron` file).
    Vendor(Box<VendorModel>),
}

impl LiveModel {
    /// `uas`, a vendor id (from `models_dir` when the file exists there, else the embedded
    /// copy) or a path to a `.ron` model file.
    pub fn resolve(arg: &str, models_dir: &Path) -> Result<LiveModel, LiveError> {
        if arg == "uas" {
            return Ok(LiveModel::Uas);
        }
        Ok(LiveModel::Vendor(Box::new(vendor::resolve(
            arg, models_dir,
        )?)))
    }

    /// The model's id (`uas` for the built-in).
    pub fn id(&self) -> &str {
        match self {
            LiveModel::Uas => "uas",
            LiveModel::Vendor(m) => &m.id,
        }
    }
}

/// One behaviour of a model and whether the live element applies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub behaviour: String,
    pub applied: bool,
    /// How it is applied, or why not.
    pub detail: String,
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.applied {
            "applied"
        } else {
            "not applied"
        };
        write!(f, "{state}: {}: {}", self.behaviour, self.detail)
    }
}

/// The element standing for a model, with what it applies.
pub struct Served {
    pub element: Element,
    /// One line saying which element serves the model.
    pub description: String,
    pub applied: Vec<Applied>,
}

/// The element that serves `model` on `sip`, answering unscripted calls after `answer`.
pub fn serving_element(
    model: &LiveModel,
    sip: SocketAddrV4,
    answer: SimDuration,
    rngs: &RngFactory,
) -> Result<Served, LiveError> {
    match model {
        LiveModel::Uas => {
            let spec = ElementSpec::Endpoint(EndpointSpec {
                name: "uas".into(),
                node: LIVE_NODE.into(),
                sip_port: Some(sip.port()),
                proxy: None,
                auto_answer_s: answer.as_secs_f64(),
                media: MediaPolicy::default(),
            });
            let element = build_from_spec(
                &spec,
                sip,
                &[],
                NumberPlan::default(),
                &BTreeMap::new(),
                rngs,
            )?;
            Ok(Served {
                element,
                description: "uas: plain RFC 3261 user agent server (SipEndpoint)".into(),
                applied: Vec::new(),
            })
        }
        LiveModel::Vendor(m) => {
            let refused = match m.role {
                Role::IpPbx => match pbx_element(m, sip, rngs) {
                    Ok(served) => return Ok(served),
                    Err(e) => Some(format!("the IP-PBX element refused the model: {e}")),
                },
                // Hook: the gateway element is built here once a live host can give it its
                // TDM side (PRI links to a PSTN element of the same host).
                Role::Gateway(_) => None,
            };
            let (caps, policy, mut applied) = apply_capabilities(m, sip);
            if let Some(why) = refused {
                applied.insert(
                    0,
                    Applied {
                        behaviour: "element".into(),
                        applied: false,
                        detail: why,
                    },
                );
            }
            let cfg = EndpointConfig {
                name: m.id.clone(),
                sip,
                transport: Transport::Udp,
                domain: sip.ip().to_string(),
                proxy: None,
                media: caps,
                policy,
                auto_answer: answer,
                require_100rel: false,
            };
            let element = Element::Endpoint(SipEndpoint::new(cfg, rngs.stream(&m.id, "sip")));
            Ok(Served {
                element,
                description: format!(
                    "{} ({} {} {}, {:?}): served by a SipEndpoint stand-in (no live element for its role)",
                    m.id, m.vendor, m.product, m.version, m.role
                ),
                applied,
            })
        }
    }
}

/// The extensions an IP-PBX model serves live: `1000`..`9999` (with or without `+`).
pub const PBX_EXTENSIONS: (u64, u32) = (1000, 9000);

/// The IP-PBX element for a model, placed at `sip`, its Direct SIP trunk pointing at the
/// Mediation Server port of the same host.
fn pbx_element(m: &VendorModel, sip: SocketAddrV4, rngs: &RngFactory) -> Result<Served, LiveError> {
    let deployment = m
        .deployments
        .iter()
        .copied()
        .find(|d| !matches!(d, Deployment::DualForking | Deployment::DualForkingWithRcc))
        .or_else(|| m.deployments.first().copied())
        .unwrap_or(Deployment::IncrementalBehindPbx);
    let spec = PbxSpec {
        name: m.id.clone(),
        node: LIVE_NODE.into(),
        sip_port: Some(sip.port()),
        model: m.id.clone(),
        factory_config: false,
        settings: Vec::new(),
        deployment,
        lync: "lync".into(),
        provider: None,
        pri: Vec::new(),
        voicemail: None,
        alternate_route: None,
        hunt_groups: Vec::new(),
        forwards: Vec::new(),
        dual_forking: Default::default(),
        rcc_target: None,
        options_interval_s: 30,
        options_down_after: 2,
        sip_trunk_calls: None,
        pstn_delay_ms: 15.0,
        media: MediaPolicy::default(),
    };
    let config = spec.trunk_config(m);
    let (first, count) = PBX_EXTENSIONS;
    let numbers = NumberPlan {
        ranges: vec![NumberRange {
            kind: NumberKind::Pbx,
            first,
            count,
            element: m.id.clone(),
            site: "live".into(),
        }],
    };
    let lync = SocketAddrV4::new(*sip.ip(), config.lync.mediation_port);
    let models = BTreeMap::from([(m.id.clone(), m.clone())]);
    let element = build_from_spec(
        &ElementSpec::Pbx(spec),
        sip,
        &[("lync", "mediation", lync)],
        numbers,
        &models,
        rngs,
    )?;
    let yes = |behaviour: &str, detail: String| Applied {
        behaviour: behaviour.into(),
        applied: true,
        detail,
    };
    let ids: Vec<&str> = m.limitation_ids().map(|id| id.as_str()).collect();
    let applied = vec![
        yes(
            "element",
            format!(
                "the IP-PBX element in deployment {deployment:?}, recommended trunk configuration"
            ),
        ),
        yes(
            "limitation rules",
            format!(
                "{} rule(s) ({}) in the behaviour engine",
                ids.len(),
                ids.join(", ")
            ),
        ),
        yes(
            "extensions",
            format!(
                "{first}..{} ring the PBX's stations; other numbers go over the Direct SIP trunk to {lync}",
                first + u64::from(count) - 1
            ),
        ),
        Applied {
            behaviour: "transport".into(),
            applied: false,
            detail: format!(
                "the trunk runs {} on {}; the live driver carries its SIP over UDP, and the element sends no SIP retransmissions, as on a reliable transport",
                config.lync.transport, config.lync.gateway_port
            ),
        },
    ];
    Ok(Served {
        element,
        description: format!(
            "{} ({} {} {}): the IP-PBX element",
            m.id, m.vendor, m.product, m.version
        ),
        applied,
    })
}

/// The caller for `voicetwin call`: an endpoint at `sip` that sends its INVITEs to
/// `target`, with `domain` in its Request-URIs, shaped by `model` when given.
pub fn calling_element(
    model: &LiveModel,
    sip: SocketAddrV4,
    domain: &str,
    target: SocketAddrV4,
    rngs: &RngFactory,
) -> (Element, Vec<Applied>) {
    let (media, policy, applied) = match model {
        LiveModel::Uas => (
            MediaCapabilities::g711(&sip.ip().to_string(), 0),
            MediaPolicy::default(),
            Vec::new(),
        ),
        LiveModel::Vendor(m) => apply_capabilities(m, sip),
    };
    let cfg = EndpointConfig {
        name: "voicetwin".into(),
        sip,
        transport: Transport::Udp,
        domain: domain.to_string(),
        proxy: Some(target),
        media,
        policy,
        auto_answer: SimDuration::ZERO,
        require_100rel: false,
    };
    let element = Element::Endpoint(SipEndpoint::new(cfg, rngs.stream("voicetwin", "sip")));
    (element, applied)
}

/// The node every live element is placed on.
const LIVE_NODE: &str = "live";

/// Builds any element from its spec, placed at `sip` on a one-node network, exactly as a
/// deployment builds it. `peers` are the (name, kind, address) of the elements the spec
/// names (outside the host), `numbers` the number plan, `models` the vendor models the
/// spec may name.
pub fn build_from_spec(
    spec: &ElementSpec,
    sip: SocketAddrV4,
    peers: &[(&str, &'static str, SocketAddrV4)],
    numbers: NumberPlan,
    models: &BTreeMap<String, VendorModel>,
    rngs: &RngFactory,
) -> Result<Element, LiveError> {
    let text = format!(
        "Topology(name: \"live\", nodes: [(name: \"{LIVE_NODE}\", role: \"host\", site: \"live\", address: \"{}\")])",
        sip.ip()
    );
    let path = Path::new("live.ron");
    let build_error = |msg: String| {
        LiveError::Build(crate::elements::build::BuildError::new(
            spec.name(),
            "node",
            msg,
        ))
    };
    let topology = Topology::parse(path, &text).map_err(|e| build_error(e.to_string()))?;
    let net_spec = topology.to_spec(path, &text).map_err(|errs| {
        build_error(
            errs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let net = Network::new(net_spec, rngs).map_err(|e| build_error(e.to_string()))?;
    let node = net
        .node_id(LIVE_NODE)
        .ok_or_else(|| build_error("the live node is missing".into()))?;
    let mut directory = Directory {
        numbers,
        ..Directory::default()
    };
    for (i, (name, kind, addr)) in peers.iter().enumerate() {
        directory.elements.insert(
            name.to_string(),
            Placement {
                id: crate::elements::ElementId(i as u32 + 1),
                node,
                ip: *addr.ip(),
                sip: *addr,
                kind,
                site: "live".into(),
            },
        );
    }
    directory.elements.insert(
        spec.name().to_string(),
        Placement {
            id: crate::elements::ElementId(0),
            node,
            ip: *sip.ip(),
            sip,
            kind: spec.kind(),
            site: "live".into(),
        },
    );
    let env = BuildEnv {
        name: spec.name(),
        directory: &directory,
        rngs,
        models,
    };
    Ok(spec.build(&env)?)
}

/// The SDP codec for a vendor codec, when the media engine can run it.
fn sdp_codec(c: Codec) -> Option<SdpCodec> {
    match c {
        Codec::Pcmu => Some(SdpCodec::pcmu()),
        Codec::Pcma => Some(SdpCodec::pcma()),
        Codec::G729 => Some(SdpCodec::g729()),
        Codec::G722 => Some(SdpCodec::g722()),
        Codec::G723 | Codec::G726 | Codec::Ilbc => None,
    }
}

/// Media capabilities and policy of an endpoint shaped by a model's capability table, and
/// the list of what is applied.
fn apply_capabilities(
    m: &VendorModel,
    sip: SocketAddrV4,
) -> (MediaCapabilities, MediaPolicy, Vec<Applied>) {
    let caps: &Capabilities = &m.capabilities;
    let mut media = MediaCapabilities::g711(&sip.ip().to_string(), 0);
    let mut policy = MediaPolicy::default();
    let mut applied = Vec::new();
    let mut yes = |behaviour: &str, detail: String| {
        applied.push(Applied {
            behaviour: behaviour.into(),
            applied: true,
            detail,
        })
    };
    let (usable, unusable): (Vec<_>, Vec<_>) = caps
        .codecs
        .iter()
        .map(|&c| (c, sdp_codec(c)))
        .partition(|(_, s)| s.is_some());
    if !usable.is_empty() {
        media.codecs = usable.into_iter().filter_map(|(_, s)| s).collect();
    }
    let names: Vec<&str> = media.codecs.iter().map(|c| c.name.as_str()).collect();
    yes("codecs", format!("offers and accepts {}", names.join(", ")));
    media.comfort_noise = caps.comfort_noise != Support::No;
    yes(
        "comfort noise",
        format!(
            "{:?}: CN {}",
            caps.comfort_noise,
            if media.comfort_noise {
                "offered and accepted"
            } else {
                "neither offered nor accepted"
            }
        ),
    );
    if caps.dtmf_rfc4733 == Support::No {
        media.telephone_event = None;
    }
    yes(
        "DTMF (RFC 4733)",
        format!(
            "{:?}: telephone-event {}",
            caps.dtmf_rfc4733,
            if media.telephone_event.is_some() {
                "on payload type 101"
            } else {
                "not offered"
            }
        ),
    );
    policy.rtcp = caps.rtcp != Support::No;
    yes(
        "RTCP",
        format!(
            "{:?}: {}",
            caps.rtcp,
            if policy.rtcp { "sent" } else { "not sent" }
        ),
    );
    policy.dtmf_in_early_media = caps.dtmf_in_early_media != Support::No;
    yes(
        "DTMF in early media",
        format!("{:?}", caps.dtmf_in_early_media),
    );
    let mut no = |behaviour: &str, detail: String| {
        applied.push(Applied {
            behaviour: behaviour.into(),
            applied: false,
            detail,
        })
    };
    if !unusable.is_empty() {
        let names: Vec<String> = unusable.iter().map(|(c, _)| format!("{c:?}")).collect();
        no(
            "codecs",
            format!("{} have no media profile here", names.join(", ")),
        );
    }
    let stand_in = "the endpoint stand-in";
    no(
        "PRACK / 100rel",
        format!(
            "{:?}: {stand_in} always supports 100rel and answers with unreliable 180",
            caps.prack
        ),
    );
    no(
        "OPTIONS keepalive",
        format!(
            "{:?}: {stand_in} always answers OPTIONS with 200",
            caps.options_keepalive
        ),
    );
    no(
        "session timers",
        format!(
            "{:?}: {stand_in} asks for none and honours the peer's",
            caps.session_timers
        ),
    );
    no(
        "early media",
        format!(
            "{:?}: {stand_in} rings with 180 without SDP",
            caps.early_media
        ),
    );
    no(
        "REFER",
        format!(
            "{:?}: {stand_in} accepts REFER but places no call",
            caps.refer
        ),
    );
    no(
        "TLS / SRTP",
        format!(
            "{:?} / {:?}: the live driver runs UDP and RTP",
            caps.tls, caps.srtp
        ),
    );
    no(
        "limitation rules",
        format!(
            "{} rule(s) ({}) act in the element of the model's role, not in {stand_in}",
            m.limitations.len(),
            m.limitation_ids()
                .map(|id| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    (media, policy, applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elements::NetworkElement;
    use std::net::Ipv4Addr;

    fn sip() -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5099)
    }

    #[test]
    fn uas_is_built_from_its_spec_and_vendor_ids_resolve() {
        let rngs = RngFactory::new(1);
        let m = LiveModel::resolve("uas", Path::new("vendor-models")).unwrap();
        let served = serving_element(&m, sip(), SimDuration::ZERO, &rngs).unwrap();
        assert_eq!(served.element.name(), "uas");
        assert!(served.applied.is_empty());
        let err = LiveModel::resolve("no-such-pbx", Path::new("vendor-models")).unwrap_err();
        assert!(err.to_string().contains("no-such-pbx"), "{err}");
    }

    #[test]
    fn a_vendor_model_shapes_the_stand_in_and_says_what_it_does_not_apply() {
        let model = vendor::builtin_models()
            .iter()
            .find(|m| m.capabilities.comfort_noise == Support::No)
            .or_else(|| vendor::builtin_models().first())
            .unwrap()
            .clone();
        let (media, policy, applied) = apply_capabilities(&model, sip());
        assert_eq!(
            media.comfort_noise,
            model.capabilities.comfort_noise != Support::No
        );
        assert_eq!(policy.rtcp, model.capabilities.rtcp != Support::No);
        assert!(!media.codecs.is_empty());
        for c in &media.codecs {
            assert!(
                crate::elements::media_policy::codec_profile(&c.name, c.payload_type).is_some()
            );
        }
        let rules = applied
            .iter()
            .find(|a| a.behaviour == "limitation rules")
            .unwrap();
        assert!(!rules.applied);
        assert!(
            rules
                .detail
                .starts_with(&model.limitations.len().to_string())
        );
    }

    #[test]
    fn pbx_models_get_the_pbx_element_and_gateways_the_stand_in() {
        let rngs = RngFactory::new(1);
        let serve = |m: &VendorModel| {
            serving_element(
                &LiveModel::Vendor(Box::new(m.clone())),
                sip(),
                SimDuration::ZERO,
                &rngs,
            )
            .unwrap()
        };
        let models = vendor::builtin_models();
        let pbx = models.iter().find(|m| m.role == Role::IpPbx).unwrap();
        let served = serve(pbx);
        assert!(
            matches!(served.element, Element::Pbx(_)),
            "{}",
            served.description
        );
        assert_eq!(served.element.name(), pbx.id);
        let rules = served
            .applied
            .iter()
            .find(|a| a.behaviour == "limitation rules")
            .unwrap();
        assert!(rules.applied, "{rules}");
        assert!(
            served
                .applied
                .iter()
                .any(|a| a.behaviour == "transport" && !a.applied)
        );
        let gateway = models.iter().find(|m| m.is_gateway()).unwrap();
        let served = serve(gateway);
        assert!(matches!(served.element, Element::Endpoint(_)));
        assert!(
            served.description.contains("stand-in"),
            "{}",
            served.description
        );
        // Every IP-PBX model of the catalogue builds as the element live.
        for m in models.iter().filter(|m| m.role == Role::IpPbx) {
            let served = serve(m);
            assert!(
                matches!(served.element, Element::Pbx(_)),
                "{}: {:?}",
                m.id,
                served.applied.first()
            );
        }
    }
}
