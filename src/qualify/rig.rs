//! The qualification rig: a complete deployment around the product under test, built from a
//! generated topology with the scenario layer's builder, driven by scripted calls.
//!
//! IP-PBX (incremental, Enterprise Voice behind the PBX): Lync clients → Front End →
//! Mediation Server → Direct SIP → the PBX → PRI → PSTN, plus a second PSTN gateway on the
//! same Lync route as the alternate for failover, and Exchange UM. With `provider`, the PBX
//! reaches the PSTN through a SIP trunking provider that requires call history instead.
//! Gateway: Lync clients → Front End → Mediation Server (Basic Gateway; none for Basic
//! Hybrid) → two gateways of the model, tried in order → PRIs → PSTN.

use crate::elements::callbook::CallLog;
use crate::elements::host::{Captured, WorldEvent};
use crate::elements::script::{AnswerAction, CallScript};
use crate::elements::{CallTag, Command, Element, ElementId};
use crate::net::NetEvent;
use crate::scenario::build::{BuiltWorld, build_world};
use crate::scenario::topology::Topology;
use crate::sim::{RngFactory, Scheduler, SimDuration, SimTime, TraceEvent};
use crate::vendor::{
    Deployment, GatewayConfiguration, LyncSetting, PbxSetting, Role, Setting, TrunkConfig,
    VendorModel,
};
use std::borrow::Cow;

use std::net::Ipv4Addr;
use std::path::Path;

/// The alternate gateway behind the product on the Lync route (a plain, limitation-free
/// gateway model) for IP-PBX deployments.
const ALTERNATE_GATEWAY: &str = "audiocodes-mediant-2000";

/// Node addresses of the rig.
pub(crate) const PRODUCT_IP: Ipv4Addr = Ipv4Addr::new(10, 1, 2, 10);
pub(crate) const MEDIATION_IP: Ipv4Addr = Ipv4Addr::new(10, 1, 1, 21);

/// The i-th Enterprise Voice (Lync) number.
pub(crate) fn ev(i: u32) -> String {
    format!("+{}", 14255550000u64 + u64::from(i))
}
/// The i-th PBX extension.
pub(crate) fn ext(i: u32) -> String {
    format!("+{}", 14255560000u64 + u64::from(i))
}
/// The i-th PSTN number.
pub(crate) fn pstn(i: u32) -> String {
    format!("+{}", 12065550000u64 + u64::from(i))
}
/// The i-th IVR on the PSTN (plays early media, answers after its announcement).
pub(crate) fn ivr(i: u32) -> String {
    format!("+{}", 18005550000u64 + u64::from(i))
}
/// The PBX voicemail pilot.
pub(crate) const PBX_VOICEMAIL: &str = "+14255569999";

/// What to build.
#[derive(Clone, Debug)]
pub(crate) struct RigSpec<'a> {
    pub model: &'a VendorModel,
    pub deployment: Deployment,
    pub config: TrunkConfig,
    /// Spans on the product's PRI.
    pub spans: u16,
    /// IP-PBX only: PSTN access through a SIP provider that requires call history.
    pub provider: bool,
    /// IP-PBX only: the PBX's alternate route for calls Lync does not take.
    pub alternate_route: bool,
}

/// Every Lync-side knob of `config`, to hand to the Front End and the Mediation Server (the
/// Front End starts from the server's defaults, not from the model's recommendation).
fn lync_settings(config: &TrunkConfig) -> Vec<LyncSetting> {
    let l = &config.lync;
    let mut out = vec![
        LyncSetting::Server(l.server),
        LyncSetting::MediaBypass(l.media_bypass),
        LyncSetting::Refer(l.refer),
        LyncSetting::SessionTimer(l.session_timer),
        LyncSetting::Rtcp(l.rtcp),
        LyncSetting::CentralizedMediaProcessing(l.centralized_media_processing),
        LyncSetting::ForwardCallHistory(l.forward_call_history),
        LyncSetting::Encryption(l.encryption),
        LyncSetting::Transport(l.transport),
        LyncSetting::GatewayPort(l.gateway_port),
        LyncSetting::MediationPort(l.mediation_port),
        LyncSetting::SdpConnection(l.sdp_connection),
    ];
    out.extend(
        l.response_code_translations
            .iter()
            .map(|t| LyncSetting::TranslateResponseCode(*t)),
    );
    out.extend(l.updates.iter().map(|u| LyncSetting::Install(*u)));
    out
}

fn all_settings(config: &TrunkConfig) -> Vec<Setting> {
    let p = &config.pbx;
    let mut out: Vec<Setting> = lync_settings(config)
        .into_iter()
        .map(Setting::Lync)
        .collect();
    if let Some(v) = &p.version {
        out.push(Setting::Pbx(PbxSetting::Version(v.clone())));
    }
    out.extend([
        Setting::Pbx(PbxSetting::Mtp(p.mtp)),
        Setting::Pbx(PbxSetting::Prack(p.prack)),
        Setting::Pbx(PbxSetting::AlternateRouteTimer(p.alternate_route_timer_s)),
        Setting::Pbx(PbxSetting::ForcedGateway(p.forced_gateway)),
        Setting::Pbx(PbxSetting::SkipUnavailableSpans(p.skip_unavailable_spans)),
    ]);
    out
}

fn ron<T: serde::Serialize>(v: &T) -> String {
    // Invariant: settings are plain enums of numbers, strings and booleans, which RON can
    // always write.
    ron::to_string(v).expect("settings serialize to RON")
}

fn list<T: serde::Serialize>(items: &[T]) -> String {
    let parts: Vec<String> = items.iter().map(ron).collect();
    format!("[{}]", parts.join(", "))
}

/// Only the PBX knobs the product has (others would be configuration conflicts).
fn product_settings(model: &VendorModel, config: &TrunkConfig) -> Vec<Setting> {
    let defaults = TrunkConfig::defaults(config.lync.server);
    all_settings(config)
        .into_iter()
        .filter(|s| match s {
            Setting::Lync(_) => true,
            Setting::Pbx(PbxSetting::Version(_)) => true,
            Setting::Pbx(p) => {
                model.pbx_knobs.contains(&p.knob()) || defaults.current(s).as_ref() == Some(s)
            }
        })
        .collect()
}

impl RigSpec<'_> {
    /// The topology text with its deployment section.
    pub(crate) fn topology(&self) -> String {
        let m = self.model;
        let c = &self.config;
        let lync = list(&lync_settings(c));
        let fe_lync: Vec<Setting> = lync_settings(c).into_iter().map(Setting::Lync).collect();
        let fe_lync = list(&fe_lync);
        let server = ron(&c.lync.server);
        let hybrid = m.role == Role::Gateway(GatewayConfiguration::BasicHybrid);
        let dial_plan = r#"dial_plans: [(name: "global", rules: [
                    (name: "e164", pattern: "^(\\+\\d+)$", translation: "$1"),
                ])],
                voice_policies: [(name: "global", pstn_usages: ["PSTN"])],"#;
        let mut nodes = vec![
            ("clients", "lan", "10.1.10.1"),
            ("fe1", "front-end", "10.1.1.11"),
            ("med1", "mediation", "10.1.1.21"),
            ("um1", "voicemail", "10.1.1.31"),
            ("product", "pbx", "10.1.2.10"),
            ("alt", "gateway", "10.1.2.20"),
            ("prov", "sip-trunk", "10.1.3.10"),
            ("pstn", "pstn", "192.0.2.1"),
        ];
        if hybrid {
            nodes.retain(|n| n.0 != "med1");
        }
        let node_text: Vec<String> = nodes
            .iter()
            .map(|(n, r, a)| format!(r#"(name: "{n}", role: "{r}", site: "hq", address: "{a}"),"#))
            .collect();
        let link_text: Vec<String> = nodes
            .iter()
            .map(|(n, ..)| {
                format!(r#"(a: "{n}", b: "sw", latency_ms: 0.5, bandwidth_mbps: 1000),"#)
            })
            .collect();
        let mut elements = vec![
            r#"LyncPool((name: "pool", node: "clients", front_end: "fe1"))"#.to_string(),
            r#"Voicemail((name: "um1", node: "um1"))"#.to_string(),
        ];
        let mut tdm = Vec::new();
        let pstn_host;
        let mut pstn_links = Vec::new();
        let populations_pbx;
        let pstn_element;
        if m.is_gateway() {
            let mediation = if hybrid { "product" } else { "med1" };
            let mediation2 = if hybrid { "alt" } else { "med1" };
            elements.push(format!(
                r#"FrontEnd((name: "fe1", node: "fe1", server: {server}, {dial_plan}
                    routes: [(name: "pstn", pattern: "^\\+", pstn_usages: ["PSTN"], trunks: ["t1", "t2"])],
                    trunks: [(name: "t1", mediation: "{mediation}", peer: "product", settings: {fe_lync}),
                             (name: "t2", mediation: "{mediation2}", peer: "alt", settings: {fe_lync})],
                    voicemail: "um1"))"#
            ));
            let peer = if hybrid { "fe1" } else { "med1" };
            if !hybrid {
                elements.push(format!(
                    r#"Mediation((name: "med1", node: "med1", front_end: "fe1",
                        trunks: [(peer: "product", model: Some("{id}"), settings: {lync}),
                                 (peer: "alt", model: Some("{id}"), settings: {lync})]))"#,
                    id = m.id
                ));
            }
            for (name, link) in [("product", "product-pri"), ("alt", "alt-pri")] {
                elements.push(format!(
                    r#"Gateway((name: "{name}", node: "{name}", model: "{id}", peers: [(element: "{peer}")]))"#,
                    id = m.id
                ));
                tdm.push(format!(
                    r#"(name: "{link}", a: "{name}", b: "pstn", kind: {kind:?}, spans: {spans}),"#,
                    kind = m.capacity.spans.kind,
                    spans = self.spans
                ));
                pstn_links.push(format!(r#""{link}""#));
            }
            pstn_host = r#"["pool"]"#.to_string();
            populations_pbx = String::new();
            pstn_element = "pstn";
        } else {
            let product_settings = list(&product_settings(m, c));
            let alt_lync = list(&[
                LyncSetting::Server(c.lync.server),
                LyncSetting::MediaBypass(false),
            ]);
            elements.push(format!(
                r#"FrontEnd((name: "fe1", node: "fe1", server: {server}, {dial_plan}
                    routes: [
                        (name: "pbx", pattern: "^\\+1425556", pstn_usages: ["PSTN"], trunks: ["t-pbx"]),
                        (name: "pstn", pattern: "^\\+", pstn_usages: ["PSTN"], trunks: ["t-pbx", "t-alt"]),
                    ],
                    trunks: [(name: "t-pbx", mediation: "med1", peer: "product", settings: {fe_lync}),
                             (name: "t-alt", mediation: "med1", peer: "alt", settings: [Lync(Server({server})), Lync(MediaBypass(false))])],
                    voicemail: "um1"))"#
            ));
            elements.push(format!(
                r#"Mediation((name: "med1", node: "med1", front_end: "fe1",
                    trunks: [(peer: "product", model: Some("{id}"), settings: {lync}),
                             (peer: "alt", model: Some("{ALTERNATE_GATEWAY}"), settings: {alt_lync})]))"#,
                id = m.id
            ));
            let (pri, provider) = if self.provider {
                ("[]".to_string(), r#"provider: Some("prov"),"#.to_string())
            } else {
                (r#"["product-pri"]"#.to_string(), String::new())
            };
            let alternate = if self.alternate_route {
                format!(r#"alternate_route: Some("{PBX_VOICEMAIL}"),"#)
            } else {
                String::new()
            };
            elements.push(format!(
                r#"Pbx((name: "product", node: "product", model: "{id}", deployment: {dep:?},
                    lync: "med1", pri: {pri}, {provider} {alternate}
                    voicemail: Some("{PBX_VOICEMAIL}"), settings: {product_settings}))"#,
                id = m.id,
                dep = self.deployment,
            ));
            elements.push(format!(
                r#"Gateway((name: "alt", node: "alt", model: "{ALTERNATE_GATEWAY}", peers: [(element: "med1")]))"#
            ));
            if self.provider {
                elements.push(format!(
                    r#"SipTrunk((name: "prov", node: "prov", peer: "product", peer_port: Some({port}),
                        transport: {transport}, requires_call_history: true))"#,
                    port = c.lync.gateway_port,
                    transport = ron(&c.lync.transport),
                ));
                pstn_element = "prov";
            } else {
                tdm.push(format!(
                    r#"(name: "product-pri", a: "product", b: "pstn", kind: {kind:?}, spans: {spans}),"#,
                    kind = m.capacity.spans.kind,
                    spans = self.spans
                ));
                pstn_links.push(r#""product-pri""#.to_string());
                pstn_element = "pstn";
            }
            tdm.push(r#"(name: "alt-pri", a: "alt", b: "pstn", kind: T1, spans: 1),"#.into());
            if self.provider {
                pstn_links.push(r#""alt-pri""#.to_string());
            }
            pstn_host = r#"["pool", "product"]"#.to_string();
            populations_pbx = r#"(name: "pbx", kind: Pbx, site: "hq", count: 9999, first: "+14255560000", element: "product"),"#.to_string();
        }
        elements.push(format!(
            r#"Pstn((name: "pstn", node: "pstn", routes: [(hosts: {pstn_host}, links: [{}])]))"#,
            pstn_links.join(", ")
        ));
        let pbx_voicemail = if m.is_gateway() {
            String::new()
        } else {
            format!(r#"(name: "pbx-vm", number: "{PBX_VOICEMAIL}", element: "product"),"#)
        };
        format!(
            r#"Topology(
    name: "qualify",
    nodes: [
        (name: "sw", role: "switch", site: "hq", address: "10.1.0.1"),
        {nodes}
    ],
    links: [
        {links}
    ],
    deployment: (
        kind: {kind:?},
        domain: "contoso.com",
        populations: [
            (name: "ev", kind: EnterpriseVoice, site: "hq", count: 100, first: "+14255550000", element: "pool"),
            {populations_pbx}
            (name: "pstn", kind: Pstn, site: "carrier", count: 1000, first: "+12065550000", element: "{pstn_element}"),
        ],
        services: [
            (name: "voicemail", number: "+14255559999", element: "um1"),
            {pbx_voicemail}
            (name: "ivr1", number: "{ivr1}", element: "pstn"),
            (name: "ivr2", number: "{ivr2}", element: "pstn"),
        ],
        elements: [
            {elements}
        ],
        tdm: [
            {tdm}
        ],
        hosts: [("pool.contoso.com", "fe1"), ("mediation.contoso.com", "{med}")],
    ),
)"#,
            nodes = node_text.join("\n        "),
            links = link_text.join("\n        "),
            kind = self.deployment,
            elements = elements.join(",\n            "),
            tdm = tdm.join("\n            "),
            ivr1 = ivr(1),
            ivr2 = ivr(2),
            med = if hybrid { "product" } else { "med1" },
        )
    }

    /// Builds the world. Errors are the builder's messages (e.g. an unsupported
    /// configuration), joined.
    pub(crate) fn build(&self, seed: u64) -> Result<Rig, String> {
        let text = self.topology();
        let path = Path::new("qualify.ron");
        let topology = Topology::parse(path, &text).map_err(|e| e.to_string())?;
        let mut models = crate::scenario::build::builtin_model_map();
        models.insert(self.model.id.clone(), self.model.clone());
        let rngs = RngFactory::new(seed);
        let built = build_world(path, &text, &topology, &models, &rngs).map_err(|es| {
            es.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let mut rig = Rig {
            sim: Sim {
                built,
                logs: Vec::new(),
                pending: Vec::new(),
            },
            sched: Scheduler::new(),
            capture: Vec::new(),
        };
        rig.sim.built.world.enable_capture();
        rig.sim.built.world.start(&mut rig.sched);
        Ok(rig)
    }
}

pub(crate) enum Ev {
    World(WorldEvent),
    Place(usize),
    Command(ElementId, Command),
}

impl From<WorldEvent> for Ev {
    fn from(e: WorldEvent) -> Self {
        Ev::World(e)
    }
}
impl From<NetEvent> for Ev {
    fn from(e: NetEvent) -> Self {
        Ev::World(WorldEvent::Net(e))
    }
}
impl TraceEvent for Ev {
    fn component(&self) -> Cow<'_, str> {
        match self {
            Ev::World(e) => e.component(),
            _ => Cow::Borrowed("qualify"),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Ev::World(e) => e.kind(),
            Ev::Place(_) => "place",
            Ev::Command(..) => "command",
        }
    }
}

pub(crate) struct Sim {
    pub built: BuiltWorld,
    pub logs: Vec<CallLog>,
    pending: Vec<Option<(ElementId, CallScript)>>,
}

impl crate::sim::Model for Sim {
    type Event = Ev;
    fn handle(&mut self, sched: &mut Scheduler<Ev>, ev: Ev) {
        let world = &mut self.built.world;
        match ev {
            Ev::World(e) => world.handle(sched, e),
            Ev::Place(i) => {
                if let Some((id, script)) = self.pending.get_mut(i).and_then(Option::take) {
                    let tag = script.tag;
                    world.calls.open(sched.now(), script);
                    world.command(sched, id, Command::PlaceCall { tag });
                }
            }
            Ev::Command(id, c) => world.command(sched, id, c),
        }
        while let Some(log) = self.built.world.calls.pop_finished() {
            self.logs.push(log);
        }
    }
}

/// A built deployment in motion.
pub(crate) struct Rig {
    pub sim: Sim,
    sched: Scheduler<Ev>,
    capture: Vec<Captured>,
}

fn at(s: f64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs_f64(s)
}

/// A call script with the rig's defaults: answered after 3 s, 15 s of talk.
pub(crate) fn script(tag: u64, caller: &str, callee: &str) -> CallScript {
    CallScript {
        tag: CallTag(tag),
        caller: caller.into(),
        dialled: callee.into(),
        callee: callee.into(),
        anonymous: false,
        callee_action: AnswerAction::Answer {
            after: SimDuration::from_secs(3),
        },
        holding: SimDuration::from_secs(15),
        abandon_after: SimDuration::from_secs(60),
        hold: None,
        transfer: None,
        forward: None,
        simul_ring: None,
        dtmf: None,
        secondary_ring: SimDuration::from_secs(3),
    }
}

impl Rig {
    /// Media as flows (no packets): for long calls that only check signalling.
    pub(crate) fn flow_media(&mut self) {
        self.sim
            .built
            .world
            .media
            .set_fidelity(crate::elements::host::MediaFidelity::Flow);
    }

    pub(crate) fn id(&self, name: &str) -> Option<ElementId> {
        self.sim.built.ids.get(name).copied()
    }

    /// The element hosting `number` (the caller's side).
    fn host_of(&self, number: &str) -> Option<ElementId> {
        let (range, _) = self.sim.built.directory.numbers.lookup(number)?;
        let el = range.element.clone();
        // Lync users dial through their pool; PSTN parties behind the provider call from it.
        self.id(&el)
    }

    /// Places `script` at `at_s` seconds from the caller's element.
    pub(crate) fn place(&mut self, at_s: f64, script: CallScript) {
        let Some(id) = self.host_of(&script.caller) else {
            return;
        };
        self.sim.pending.push(Some((id, script)));
        let i = self.sim.pending.len() - 1;
        self.sched.schedule_at(at(at_s), Ev::Place(i));
    }

    pub(crate) fn command(&mut self, at_s: f64, element: &str, c: Command) {
        if let Some(id) = self.id(element) {
            self.sched.schedule_at(at(at_s), Ev::Command(id, c));
        }
    }

    /// Takes span `span` of the TDM link `link` out of service at `at_s` on both ends.
    pub(crate) fn span_down(&mut self, at_s: f64, link: &str, span: u16) {
        let Some(t) = self
            .sim
            .built
            .deployment
            .tdm
            .iter()
            .find(|t| t.name == link)
            .cloned()
        else {
            return;
        };
        let Some((a_port, b_port)) = self.sim.built.world.tdm.ports(link) else {
            return;
        };
        for (el, port) in [(t.a, a_port), (t.b, b_port)] {
            self.command(
                at_s,
                &el,
                Command::SpanState {
                    port,
                    span,
                    in_service: false,
                },
            );
        }
    }

    pub(crate) fn run(&mut self, until_s: f64) {
        self.sched.run_until(&mut self.sim, at(until_s));
        let more = self.sim.built.world.take_capture();
        self.capture.extend(more);
        self.sim.built.world.enable_capture();
    }

    /// The finished log of a call.
    pub(crate) fn log(&self, tag: u64) -> Option<&CallLog> {
        self.sim.logs.iter().find(|l| l.tag == CallTag(tag))
    }

    pub(crate) fn element(&self, name: &str) -> Option<&Element> {
        self.id(name).map(|id| self.sim.built.world.element(id))
    }

    pub(crate) fn element_name(&self, id: ElementId) -> &str {
        self.sim.built.world.name(id)
    }

    pub(crate) fn capture(&self) -> &[Captured] {
        &self.capture
    }

    /// Per element name, the elements by id (for the ladder).
    #[cfg(test)]
    pub(crate) fn names(&self) -> std::collections::BTreeMap<ElementId, String> {
        self.sim
            .built
            .ids
            .iter()
            .map(|(n, id)| (*id, n.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str) -> (VendorModel, Deployment) {
        let m = crate::vendor::lookup(id).unwrap().clone();
        let d = if m.is_gateway() {
            Deployment::DirectSipViaGateway
        } else {
            Deployment::IncrementalBehindPbx
        };
        (m, d)
    }

    #[test]
    fn rigs_build_and_carry_a_call() {
        for id in [
            "siemens-openscape-voice-6",
            "audiocodes-mediant-2000",
            "dialogic-4000",
        ] {
            let (m, d) = spec(id);
            let s = RigSpec {
                model: &m,
                deployment: d,
                config: m.recommended_config(),
                spans: 1,
                provider: false,
                alternate_route: false,
            };
            let mut rig = s
                .build(1)
                .unwrap_or_else(|e| panic!("{id}: {e}\n{}", s.topology()));
            rig.place(1.0, script(1, &ev(1), &pstn(1)));
            rig.run(30.0);
            let log = rig.log(1).unwrap_or_else(|| panic!("{}", rig.ladder()));
            assert_eq!(
                log.outcome,
                crate::elements::CallOutcome::Answered,
                "{id}\n{}",
                rig.ladder()
            );
        }
    }
}
