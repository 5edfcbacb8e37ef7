//! A small test bench for the PSTN edge elements: builds a world from a topology, element
//! specs (RON), plain SIP endpoints standing in for the Front End and clients, TDM links and
//! a number plan, then places scripted calls and collects the call logs.
#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::path::Path;
use voicetwin::elements::build::{BuildEnv, Directory, Placement, TdmLinkEnds};
use voicetwin::elements::callbook::CallLog;
use voicetwin::elements::endpoint::{EndpointConfig, SipEndpoint};
use voicetwin::elements::host::{Captured, TdmLinkSpec, World, WorldEvent};
use voicetwin::elements::media_policy::MediaPolicy;
use voicetwin::elements::numbering::{NumberKind, NumberPlan, NumberRange};
use voicetwin::elements::script::{AnswerAction, CallScript};
use voicetwin::elements::spec::{ElementKindSpec, ElementSpec};
use voicetwin::elements::tdm::SpanKind;
use voicetwin::elements::{CallTag, Command, Element, ElementId, TdmPort};
use voicetwin::net::{NetEvent, Network};
use voicetwin::scenario::topology::Topology;
use voicetwin::sim::{Model, RngFactory, Scheduler, SimDuration, SimTime, TraceEvent, TraceMode};
use voicetwin::sip::Transport;
use voicetwin::sip::sdp::{Codec, MediaCapabilities};

pub enum Ev {
    World(WorldEvent),
    Place(usize),
    Command(usize),
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
            Ev::Place(_) => Cow::Borrowed("workload"),
            Ev::Command(_) => Cow::Borrowed("scenario"),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Ev::World(e) => e.kind(),
            Ev::Place(_) => "place",
            Ev::Command(_) => "command",
        }
    }
}

pub struct Sim {
    pub world: World,
    places: Vec<Option<(ElementId, CallScript)>>,
    commands: Vec<Option<(ElementId, Command)>>,
    pub logs: Vec<CallLog>,
}

impl Model for Sim {
    type Event = Ev;
    fn handle(&mut self, sched: &mut Scheduler<Ev>, ev: Ev) {
        match ev {
            Ev::World(e) => self.world.handle(sched, e),
            Ev::Place(i) => {
                if let Some((id, script)) = self.places[i].take() {
                    let tag = script.tag;
                    self.world.calls.open(sched.now(), script);
                    self.world.command(sched, id, Command::PlaceCall { tag });
                }
            }
            Ev::Command(i) => {
                if let Some((id, c)) = self.commands[i].take() {
                    self.world.command(sched, id, c);
                }
            }
        }
        while let Some(log) = self.world.calls.pop_finished() {
            self.logs.push(log);
        }
    }
}

/// A plain SIP endpoint to add (stands in for a Front End + client, or a peer).
pub struct EndpointItem {
    pub name: String,
    pub node: String,
    pub port: u16,
    pub proxy: Option<(String, u16)>,
    pub codecs: Vec<Codec>,
    pub kind: &'static str,
}

#[allow(clippy::large_enum_variant)]
pub enum Item {
    Spec(ElementSpec),
    Endpoint(EndpointItem),
}

pub struct Bench {
    pub topology: String,
    pub items: Vec<Item>,
    /// (name, a, b, kind, spans)
    pub tdm: Vec<(String, String, String, SpanKind, u16)>,
    pub numbers: NumberPlan,
    pub seed: u64,
    /// Record every datagram and ISDN message (for wire assertions).
    pub capture: bool,
}

pub struct Harness {
    pub sim: Sim,
    pub sched: Scheduler<Ev>,
    pub ids: BTreeMap<String, ElementId>,
    /// TDM links by name: (port of end a, port of end b).
    pub ports: BTreeMap<String, (TdmPort, TdmPort)>,
    next_tag: u64,
}

/// Parses one element spec written in RON, e.g. `Mediation((name: "med", ...))`.
pub fn spec(text: &str) -> ElementSpec {
    voicetwin::config::from_ron_str(Path::new("test.ron"), text)
        .unwrap_or_else(|e| panic!("bad spec: {e}\n{text}"))
}

pub fn endpoint(name: &str, node: &str, port: u16, proxy: Option<(&str, u16)>) -> Item {
    Item::Endpoint(EndpointItem {
        name: name.into(),
        node: node.into(),
        port,
        proxy: proxy.map(|(n, p)| (n.to_string(), p)),
        codecs: vec![Codec::pcmu(), Codec::pcma()],
        kind: "front-end",
    })
}

pub fn range(kind: NumberKind, first: u64, count: u32, element: &str) -> NumberRange {
    NumberRange {
        kind,
        first,
        count,
        element: element.into(),
        site: "hq".into(),
    }
}

impl Bench {
    pub fn build(self) -> Harness {
        let path = Path::new("bench.ron");
        let topo = Topology::parse(path, &self.topology).unwrap();
        let rngs = RngFactory::new(self.seed);
        let net = Network::new(topo.to_spec(path, &self.topology).unwrap(), &rngs).unwrap();
        let mut world = World::new(net, rngs);
        let mut dir = Directory {
            numbers: self.numbers.clone(),
            ..Directory::default()
        };
        let mut ids = BTreeMap::new();
        let mut ports = BTreeMap::new();
        for (i, item) in self.items.iter().enumerate() {
            let (name, node, port, kind) = match item {
                Item::Spec(s) => (
                    s.name().to_string(),
                    s.node().to_string(),
                    s.sip_port(),
                    s.kind(),
                ),
                Item::Endpoint(e) => (e.name.clone(), e.node.clone(), e.port, e.kind),
            };
            let node_id = world
                .net
                .node_id(&node)
                .unwrap_or_else(|| panic!("node {node}"));
            let ip = world.net.address(node_id);
            let id = ElementId(i as u32);
            ids.insert(name.clone(), id);
            dir.elements.insert(
                name,
                Placement {
                    id,
                    node: node_id,
                    ip,
                    sip: SocketAddrV4::new(ip, port),
                    kind,
                    site: world.net.node_site(node_id).to_string(),
                },
            );
        }
        for (name, a, b, kind, spans) in &self.tdm {
            let (pa, pb) = world.tdm.add(TdmLinkSpec {
                name: name.clone(),
                a: ids[a],
                b: ids[b],
                kind: *kind,
                spans: *spans,
                d_channel_delay: SimDuration::from_millis(5),
            });
            ports.insert(name.clone(), (pa, pb));
            dir.tdm.insert(
                name.clone(),
                TdmLinkEnds {
                    a: a.clone(),
                    a_port: pa,
                    b: b.clone(),
                    b_port: pb,
                },
            );
        }
        let models: BTreeMap<String, _> = voicetwin::vendor::builtin_models()
            .iter()
            .map(|m| (m.id.clone(), m.clone()))
            .collect();
        for item in &self.items {
            match item {
                Item::Spec(s) => {
                    let env = BuildEnv {
                        name: s.name(),
                        directory: &dir,
                        rngs: &rngs,
                        models: &models,
                    };
                    let el = s.build(&env).unwrap_or_else(|e| panic!("{e}"));
                    let p = &dir.elements[s.name()];
                    let id = world.add(el, p.node, &[p.sip]);
                    for port in s.extra_sip_ports() {
                        world.listen(id, SocketAddrV4::new(p.ip, port));
                    }
                }
                Item::Endpoint(e) => {
                    let p = &dir.elements[&e.name];
                    let mut media = MediaCapabilities::g711(&p.ip.to_string(), 0);
                    media.codecs = e.codecs.clone();
                    let proxy = e
                        .proxy
                        .as_ref()
                        .map(|(n, port)| SocketAddrV4::new(dir.elements[n].ip, *port));
                    let ep = SipEndpoint::new(
                        EndpointConfig {
                            name: e.name.clone(),
                            sip: p.sip,
                            transport: Transport::Udp,
                            domain: p.ip.to_string(),
                            proxy,
                            media,
                            policy: MediaPolicy::default(),
                            auto_answer: SimDuration::from_secs(1),
                            require_100rel: false,
                        },
                        rngs.stream(&e.name, "sip"),
                    );
                    world.add(Element::Endpoint(ep), p.node, &[p.sip]);
                }
            }
        }
        if self.capture {
            world.enable_capture();
        }
        let mut sched = Scheduler::with_trace(TraceMode::Fingerprint);
        let mut sim = Sim {
            world,
            places: Vec::new(),
            commands: Vec::new(),
            logs: Vec::new(),
        };
        sim.world.start(&mut sched);
        Harness {
            sim,
            sched,
            ids,
            ports,
            next_tag: 1,
        }
    }
}

/// A script for a call from `caller` to `callee` answered after `ring` and held `hold`.
pub fn script(
    tag: u64,
    caller: &str,
    callee: &str,
    action: AnswerAction,
    hold: SimDuration,
) -> CallScript {
    CallScript {
        tag: CallTag(tag),
        caller: caller.into(),
        dialled: callee.into(),
        callee: callee.into(),
        anonymous: false,
        callee_action: action,
        holding: hold,
        abandon_after: SimDuration::from_secs(120),
        hold: None,
        transfer: None,
        forward: None,
        simul_ring: None,
        dtmf: None,
        secondary_ring: SimDuration::from_secs(3),
    }
}

pub fn answer(secs: u64) -> AnswerAction {
    AnswerAction::Answer {
        after: SimDuration::from_secs(secs),
    }
}

impl Harness {
    pub fn id(&self, name: &str) -> ElementId {
        self.ids[name]
    }

    /// Places a call from `element` at `at` (seconds); returns its tag.
    pub fn place(&mut self, at: f64, element: &str, mut s: CallScript) -> CallTag {
        let tag = CallTag(self.next_tag);
        self.next_tag += 1;
        s.tag = tag;
        let id = self.id(element);
        self.sim.places.push(Some((id, s)));
        let i = self.sim.places.len() - 1;
        self.sched
            .schedule_at(SimTime::ZERO + SimDuration::from_secs_f64(at), Ev::Place(i));
        tag
    }

    pub fn command(&mut self, at: f64, element: &str, c: Command) {
        let id = self.id(element);
        self.sim.commands.push(Some((id, c)));
        let i = self.sim.commands.len() - 1;
        self.sched.schedule_at(
            SimTime::ZERO + SimDuration::from_secs_f64(at),
            Ev::Command(i),
        );
    }

    pub fn run_until(&mut self, secs: f64) {
        self.sched.run_until(
            &mut self.sim,
            SimTime::ZERO + SimDuration::from_secs_f64(secs),
        );
    }

    pub fn log(&self, tag: CallTag) -> &CallLog {
        self.sim
            .logs
            .iter()
            .find(|l| l.tag == tag)
            .unwrap_or_else(|| {
                panic!(
                    "call {tag:?} did not finish; finished: {}",
                    self.sim.logs.len()
                )
            })
    }

    pub fn element(&self, name: &str) -> &Element {
        self.sim.world.element(self.id(name))
    }

    /// SIP messages handed to the network, as text, with (src, dst).
    pub fn sip_sent(&mut self) -> Vec<(SocketAddrV4, SocketAddrV4, String)> {
        let cap = self.sim.world.take_capture();
        let out = cap
            .iter()
            .filter_map(|c| match c {
                Captured::Datagram {
                    packet,
                    delivered: false,
                    media: false,
                    ..
                } => Some((
                    packet.src,
                    packet.dst,
                    String::from_utf8_lossy(&packet.payload).into_owned(),
                )),
                _ => None,
            })
            .collect();
        self.sim.world.enable_capture();
        out
    }

    /// ISDN message labels (from, to, label).
    pub fn isdn(&mut self) -> Vec<(ElementId, ElementId, String)> {
        let cap = self.sim.world.take_capture();
        let out = cap
            .iter()
            .filter_map(|c| match c {
                Captured::Isdn {
                    from, to, label, ..
                } => Some((*from, *to, label.clone())),
                _ => None,
            })
            .collect();
        self.sim.world.enable_capture();
        out
    }
}

/// The edge topology: a Front End stand-in (SIP endpoint at `fe`), a Mediation Server, a
/// gateway with one T1 link (`t1`, `spans` spans) to the PSTN.
pub const EDGE_TOPOLOGY: &str = r#"Topology(
    name: "edge-bench",
    nodes: [
        (name: "fe", role: "front-end", site: "hq", address: "10.0.1.10"),
        (name: "med", role: "mediation", site: "hq", address: "10.0.1.20"),
        (name: "gw", role: "gateway", site: "hq", address: "10.0.1.30"),
        (name: "pstn", role: "pstn", site: "carrier", address: "10.9.0.1"),
        (name: "lan", role: "lan", site: "hq"),
    ],
    links: [
        (a: "fe", b: "lan", latency_ms: 1),
        (a: "med", b: "lan", latency_ms: 1),
        (a: "gw", b: "lan", latency_ms: 1),
        (a: "pstn", b: "gw", latency_ms: 1),
    ],
)"#;

/// Enterprise Voice +1425555xxxx at `fe`, PSTN parties +1206555xxxx, IVRs +1800555xxxx.
pub fn edge_numbers() -> NumberPlan {
    NumberPlan {
        ranges: vec![
            range(NumberKind::EnterpriseVoice, 14255550000, 1000, "fe"),
            range(NumberKind::Pstn, 12065550000, 10000, "pstn"),
            range(NumberKind::Service, 18005550000, 10, "pstn"),
        ],
    }
}

/// Knobs of the edge bench.
pub struct Edge {
    /// Lync trunk settings of the Mediation Server toward the gateway.
    pub trunk: String,
    pub med_extra: String,
    pub gw_extra: String,
    pub pstn_extra: String,
    pub spans: u16,
    pub seed: u64,
    pub capture: bool,
}

impl Default for Edge {
    fn default() -> Self {
        Edge {
            trunk: "MediaBypass(true)".into(),
            med_extra: String::new(),
            gw_extra: String::new(),
            pstn_extra: String::new(),
            spans: 1,
            seed: 11,
            capture: true,
        }
    }
}

impl Edge {
    pub fn build(self) -> Harness {
        let med = spec(&format!(
            r#"Mediation((name: "med", node: "med", front_end: "fe",
                trunks: [(peer: "gw", model: Some("audiocodes-mediant-2000"),
                          settings: [Server(Lync2013), {}])],
                keepalive: (enabled: false), {}))"#,
            self.trunk, self.med_extra
        ));
        let gw = spec(&format!(
            r#"Gateway((name: "gw", node: "gw", model: "audiocodes-mediant-2000",
                peers: [(element: "med")], {}))"#,
            self.gw_extra
        ));
        let pstn = spec(&format!(
            // The carrier's setup time is zero here so that timings test the elements alone.
            r#"Pstn((name: "pstn", node: "pstn", routes: [(hosts: ["fe"], links: ["t1"])], network_setup_s: 0, {}))"#,
            self.pstn_extra
        ));
        Bench {
            topology: EDGE_TOPOLOGY.into(),
            items: vec![
                endpoint("fe", "fe", 5060, Some(("med", 5070))),
                Item::Spec(med),
                Item::Spec(gw),
                Item::Spec(pstn),
            ],
            tdm: vec![(
                "t1".into(),
                "gw".into(),
                "pstn".into(),
                SpanKind::T1,
                self.spans,
            )],
            numbers: edge_numbers(),
            seed: self.seed,
            capture: self.capture,
        }
        .build()
    }
}

impl Harness {
    /// (busy channels, capacity) of the TDM link `name`.
    pub fn link_usage(&self, name: &str) -> (usize, usize) {
        self.sim
            .world
            .tdm
            .usage(self.sched.now())
            .into_iter()
            .find(|u| u.name == name)
            .map(|u| (u.busy, u.capacity))
            .unwrap()
    }
}
