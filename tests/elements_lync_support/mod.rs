//! A small Enterprise Voice deployment for the Lync-side tests: two sites (hq, br) over a
//! WAN, a Front End, two Lync pools, Exchange UM, and trunk peers. Trunk peers are either
//! `SipEndpoint`s standing in for Mediation Servers, or raw responders written here: an
//! address nobody listens on whose requests the harness answers from the capture with a
//! chosen status and headers (or never answers).
#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use voicetwin::elements::build::{BuildEnv, Directory, Placement};
use voicetwin::elements::callbook::CallLog;
use voicetwin::elements::front_end::{
    DialPlanSpec, FrontEndSpec, HealthSpec, NormalizationRuleSpec, RouteSpec, Scope, TrunkSpec,
    VoicePolicySpec,
};
use voicetwin::elements::host::{Captured, World, WorldEvent};
use voicetwin::elements::lync::{LyncPoolSpec, MediaMode, default_codecs};
use voicetwin::elements::media_policy::MediaPolicy;
use voicetwin::elements::numbering::{NumberKind, NumberPlan, NumberRange};
use voicetwin::elements::script::{AnswerAction, CallScript};
use voicetwin::elements::spec::{ElementKindSpec, ElementSpec, EndpointSpec};
use voicetwin::elements::voicemail::VoicemailSpec;
use voicetwin::elements::{CallTag, Command, Element, ElementId};
use voicetwin::net::{NetEvent, Network, Packet};
use voicetwin::scenario::topology::Topology;
use voicetwin::sim::{Model, RngFactory, Scheduler, SimDuration, SimTime, TraceEvent, TraceMode};
use voicetwin::sip::sdp::{Direction as SdpDirection, MediaCapabilities, SessionDescription};
use voicetwin::sip::wire::{HeaderName, Message, Request, Response, make_response};
use voicetwin::vendor::{LyncServer, SipTransport};

pub const TOPOLOGY: &str = r#"Topology(
    name: "lync-lab",
    nodes: [
        (name: "lan-hq", role: "lan", site: "hq"),
        (name: "wan", role: "router", site: "wan"),
        (name: "lan-br", role: "lan", site: "br"),
        (name: "fe", role: "front-end", site: "hq", address: "10.1.0.5"),
        (name: "pool-hq", role: "clients", site: "hq", address: "10.1.0.10"),
        (name: "um", role: "voicemail", site: "hq", address: "10.1.0.30"),
        (name: "med1", role: "mediation", site: "hq", address: "10.1.0.21"),
        (name: "med2", role: "mediation", site: "hq", address: "10.1.0.22"),
        (name: "pool-br", role: "clients", site: "br", address: "10.2.0.10"),
        (name: "med3", role: "mediation", site: "br", address: "10.2.0.23"),
    ],
    links: [
        (a: "fe", b: "lan-hq", latency_ms: 0.5),
        (a: "pool-hq", b: "lan-hq", latency_ms: 0.5),
        (a: "um", b: "lan-hq", latency_ms: 0.5),
        (a: "med1", b: "lan-hq", latency_ms: 0.5),
        (a: "med2", b: "lan-hq", latency_ms: 0.5),
        (a: "lan-hq", b: "wan", latency_ms: 10),
        (a: "wan", b: "lan-br", latency_ms: 10),
        (a: "pool-br", b: "lan-br", latency_ms: 0.5),
        (a: "med3", b: "lan-br", latency_ms: 0.5),
    ],
)"#;

/// HQ users: +1 425 555 0100..0199; branch users: +1 206 555 0100..0199; the voicemail
/// pilot +1 425 555 9000; PBX extensions +1 425 556 0000..0999 (hosted by the peer `med3`
/// stands for, reached through trunk `t3` when a test adds it).
pub const HQ1: &str = "+14255550101";
pub const HQ2: &str = "+14255550102";
pub const HQ3: &str = "+14255550103";
pub const BR1: &str = "+12065550101";
pub const BR2: &str = "+12065550102";
pub const PILOT: &str = "+14255559000";
pub const PSTN1: &str = "+14155551234";
pub const PSTN2: &str = "+14155555678";

pub fn plan() -> NumberPlan {
    let r = |kind, first, count, element: &str, site: &str| NumberRange {
        kind,
        first,
        count,
        element: element.into(),
        site: site.into(),
    };
    NumberPlan {
        ranges: vec![
            r(
                NumberKind::EnterpriseVoice,
                14255550100,
                100,
                "pool-hq",
                "hq",
            ),
            r(
                NumberKind::EnterpriseVoice,
                12065550100,
                100,
                "pool-br",
                "br",
            ),
            r(NumberKind::Service, 14255559000, 1, "um", "hq"),
            r(NumberKind::Pbx, 14255560000, 1000, "med3", "br"),
            r(NumberKind::Pstn, 14155550000, 10000, "pstn", "pstn"),
        ],
    }
}

/// A trunk peer standing in for a Mediation Server.
#[derive(Clone, Debug, PartialEq)]
pub enum Peer {
    /// A `SipEndpoint` answering as the call's script says.
    Endpoint,
    /// A `SipEndpoint` that also places calls through the Front End (a Mediation Server
    /// bringing PSTN or PBX calls in).
    Caller,
    /// Answers every INVITE at once with this status and headers.
    Reject(u16, Vec<(String, String)>),
    /// Never answers.
    Silent,
    /// Answers INVITEs at once with 200 and G.711 SDP, refuses re-INVITEs with this
    /// status, accepts BYE.
    RefuseReinvite(u16),
}

pub fn fe_spec() -> FrontEndSpec {
    FrontEndSpec {
        name: "fe".into(),
        node: "fe".into(),
        sip_port: None,
        transport: SipTransport::Tls,
        server: LyncServer::Lync2013,
        domain: Some("contoso.com".into()),
        dial_plans: vec![
            DialPlanSpec {
                name: "global".into(),
                scope: Scope::Global,
                rules: vec![
                    rule("4-digit", r"^(\d{4})$", "+1425555$1"),
                    rule("national", r"^9(\d{10})$", "+1$1"),
                ],
            },
            DialPlanSpec {
                name: "branch".into(),
                scope: Scope::Site("br".into()),
                rules: vec![
                    rule("4-digit", r"^(\d{4})$", "+1206555$1"),
                    rule("national", r"^9(\d{10})$", "+1$1"),
                ],
            },
        ],
        voice_policies: vec![VoicePolicySpec {
            name: "global".into(),
            scope: Scope::Global,
            pstn_usages: vec!["Local".into()],
        }],
        routes: vec![RouteSpec {
            name: "universal".into(),
            pattern: r"^\+".into(),
            pstn_usages: vec!["Local".into()],
            trunks: vec!["t1".into(), "t2".into()],
            failover_codes: vec![503, 504],
        }],
        trunks: vec![trunk("t1", "med1"), trunk("t2", "med2")],
        voicemail: Some("um".into()),
        unanswered_timer_s: 20.0,
        fast_failover_timer_s: 10.0,
        cac: Vec::new(),
        health: HealthSpec::default(),
    }
}

pub fn rule(name: &str, pattern: &str, translation: &str) -> NormalizationRuleSpec {
    NormalizationRuleSpec {
        name: name.into(),
        pattern: pattern.into(),
        translation: translation.into(),
    }
}

pub fn trunk(name: &str, mediation: &str) -> TrunkSpec {
    TrunkSpec {
        name: name.into(),
        mediation: mediation.into(),
        peer: mediation.into(),
        translations: Vec::new(),
        fast_failover: true,
        pstn_usages: Vec::new(),
        site: None,
        settings: Vec::new(),
    }
}

pub fn pool_spec(name: &str) -> LyncPoolSpec {
    LyncPoolSpec {
        name: name.into(),
        node: name.into(),
        sip_port: None,
        front_end: "fe".into(),
        transport: SipTransport::Tls,
        domain: Some("contoso.com".into()),
        media: MediaMode::On,
        media_policy: MediaPolicy::default(),
        codecs: default_codecs(),
        hold_failure_mutes: vec![488],
        consult_talk_s: 3.0,
    }
}

pub fn script(
    tag: u64,
    caller: &str,
    dialled: &str,
    callee: &str,
    action: AnswerAction,
) -> CallScript {
    CallScript {
        tag: CallTag(tag),
        caller: caller.into(),
        dialled: dialled.into(),
        callee: callee.into(),
        anonymous: false,
        callee_action: action,
        holding: SimDuration::from_secs(20),
        abandon_after: SimDuration::from_secs(60),
        hold: None,
        transfer: None,
        forward: None,
        simul_ring: None,
        dtmf: None,
        secondary_ring: SimDuration::from_secs(2),
    }
}

pub fn answer(after_s: u64) -> AnswerAction {
    AnswerAction::Answer {
        after: SimDuration::from_secs(after_s),
    }
}

/// What the lab is built from.
#[derive(Clone)]
pub struct Setup {
    pub fe: FrontEndSpec,
    pub pools: Vec<LyncPoolSpec>,
    pub voicemail: bool,
    /// Trunk peers by Mediation name (`med1`, `med2`, `med3`).
    pub peers: BTreeMap<String, Peer>,
    pub seed: u64,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            fe: fe_spec(),
            pools: vec![pool_spec("pool-hq"), pool_spec("pool-br")],
            voicemail: true,
            peers: [
                ("med1", Peer::Endpoint),
                ("med2", Peer::Endpoint),
                ("med3", Peer::Endpoint),
            ]
            .into_iter()
            .map(|(n, p)| (n.to_string(), p))
            .collect(),
            seed: 7,
        }
    }
}

pub enum Ev {
    World(WorldEvent),
    Place(CallTag, ElementId),
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
            _ => Cow::Borrowed("test"),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Ev::World(e) => e.kind(),
            Ev::Place(..) => "place",
            Ev::Command(..) => "command",
        }
    }
}

/// One SIP message handed to the network.
#[derive(Clone, Debug)]
pub struct Sent {
    pub time: SimTime,
    pub from: String,
    pub to: String,
    pub message: Message,
}

impl Sent {
    pub fn first_line(&self) -> String {
        match &self.message {
            Message::Request(r) => format!("{} {}", r.method, r.uri),
            Message::Response(r) => format!("{} {} ({})", r.status, r.reason, self.cseq()),
        }
    }
    pub fn cseq(&self) -> String {
        self.message
            .headers()
            .get(HeaderName::CSeq)
            .unwrap_or_default()
            .to_string()
    }
    pub fn is_request(&self, method: &str) -> bool {
        matches!(&self.message, Message::Request(r) if r.method.as_str() == method)
    }
    pub fn status(&self) -> Option<u16> {
        match &self.message {
            Message::Response(r) => Some(r.status),
            _ => None,
        }
    }
    pub fn header(&self, name: HeaderName) -> Option<&str> {
        self.message.headers().get(name)
    }
    pub fn body(&self) -> String {
        String::from_utf8_lossy(self.message.body()).to_string()
    }
}

pub struct Harness {
    pub world: World,
    pub logs: Vec<CallLog>,
    pub sent: Vec<Sent>,
    pub media_packets: u64,
    scripts: BTreeMap<CallTag, CallScript>,
    names: BTreeMap<SocketAddrV4, String>,
    responders: BTreeMap<SocketAddrV4, Peer>,
}

impl Harness {
    fn name_of(&self, a: SocketAddrV4) -> String {
        self.names
            .get(&a)
            .cloned()
            .or_else(|| {
                self.names
                    .iter()
                    .find(|(k, _)| k.ip() == a.ip())
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or_else(|| a.to_string())
    }

    fn drain_capture(&mut self, sched: &mut Scheduler<Ev>) {
        let cap = self.world.take_capture();
        self.world.enable_capture();
        for c in cap {
            let Captured::Datagram {
                time,
                packet,
                delivered: false,
                media,
            } = c
            else {
                continue;
            };
            if media {
                self.media_packets += 1;
                continue;
            }
            let Ok(message) = Message::parse(&packet.payload) else {
                continue;
            };
            if let (Some(peer), Message::Request(req)) =
                (self.responders.get(&packet.dst).cloned(), &message)
            {
                if let Some(resp) = raw_response(&peer, req, packet.dst) {
                    let back = Packet::new(packet.dst, packet.src, resp.to_bytes());
                    let _ = self.world.net.send(sched, back);
                }
            }
            self.sent.push(Sent {
                time,
                from: self.name_of(packet.src),
                to: self.name_of(packet.dst),
                message,
            });
        }
    }
}

/// What a raw responder answers to a request, if anything.
fn raw_response(peer: &Peer, req: &Request, me: SocketAddrV4) -> Option<Response> {
    let in_dialog = req.headers.to_addr().is_ok_and(|t| t.tag().is_some());
    let method = req.method.as_str();
    let reply = |status: u16| {
        make_response(
            req,
            status,
            voicetwin::sip::wire::reason_phrase(status),
            Some("raw1"),
        )
    };
    match (peer, method) {
        (_, "ACK") | (Peer::Silent, _) | (Peer::Endpoint | Peer::Caller, _) => None,
        (Peer::Reject(status, headers), "INVITE") => {
            let mut resp = reply(*status);
            for (n, v) in headers {
                resp.headers.push_named(n, v.as_str());
            }
            Some(resp)
        }
        (Peer::RefuseReinvite(status), "INVITE") if in_dialog => Some(reply(*status)),
        (Peer::RefuseReinvite(_), "INVITE") => {
            let mut resp = reply(200);
            for rr in req.headers.get_all(HeaderName::RecordRoute) {
                resp.headers.push(HeaderName::RecordRoute, rr);
            }
            resp.headers
                .push(HeaderName::Contact, format!("<sip:raw@{me}>"));
            let offer = SessionDescription::parse(&req.body).ok()?;
            let caps = MediaCapabilities::g711(&me.ip().to_string(), 30000);
            let answer = caps.answer(&offer, 1, 1, SdpDirection::SendRecv).ok()?;
            resp.set_body("application/sdp", answer.to_text().into_bytes().into());
            Some(resp)
        }
        _ => Some(reply(200)),
    }
}

impl Model for Harness {
    type Event = Ev;
    fn handle(&mut self, sched: &mut Scheduler<Ev>, ev: Ev) {
        match ev {
            Ev::World(e) => self.world.handle(sched, e),
            Ev::Place(tag, el) => {
                if let Some(s) = self.scripts.remove(&tag) {
                    self.world.calls.open(sched.now(), s);
                }
                self.world.command(sched, el, Command::PlaceCall { tag });
            }
            Ev::Command(el, c) => self.world.command(sched, el, c),
        }
        self.drain_capture(sched);
        while let Some(log) = self.world.calls.pop_finished() {
            self.logs.push(log);
        }
    }
}

pub struct Lab {
    pub h: Harness,
    pub sched: Scheduler<Ev>,
    pub ids: BTreeMap<String, ElementId>,
    pub directory: Directory,
}

impl Lab {
    pub fn new(setup: Setup) -> Lab {
        let path = Path::new("lync-lab.ron");
        let topo = Topology::parse(path, TOPOLOGY).unwrap();
        let rngs = RngFactory::new(setup.seed);
        let net = Network::new(topo.to_spec(path, TOPOLOGY).unwrap(), &rngs).unwrap();
        let mut world = World::new(net, RngFactory::new(setup.seed));
        let ip = |n: &str| -> Ipv4Addr {
            topo.nodes
                .iter()
                .find(|x| x.name == n)
                .and_then(|x| x.address.as_ref())
                .map(|a| a.0)
                .unwrap()
        };
        let site = |n: &str| -> String {
            topo.nodes
                .iter()
                .find(|x| x.name == n)
                .map(|x| x.site.clone())
                .unwrap()
        };
        // Every element to place: (spec or raw peer).
        let mut specs: Vec<ElementSpec> = vec![ElementSpec::FrontEnd(setup.fe.clone())];
        for p in &setup.pools {
            specs.push(ElementSpec::LyncPool(p.clone()));
        }
        if setup.voicemail {
            specs.push(ElementSpec::Voicemail(VoicemailSpec {
                name: "um".into(),
                node: "um".into(),
                sip_port: None,
                answer_after_s: 0.5,
                greeting_s: 4.0,
                max_message_s: 120.0,
                media: MediaMode::On,
                media_policy: MediaPolicy::default(),
            }));
        }
        let mut raw = Vec::new();
        for (name, peer) in &setup.peers {
            match peer {
                Peer::Endpoint | Peer::Caller => specs.push(ElementSpec::Endpoint(EndpointSpec {
                    name: name.clone(),
                    node: name.clone(),
                    sip_port: Some(5070),
                    proxy: (*peer == Peer::Caller).then(|| "fe".to_string()),
                    auto_answer_s: 1.0,
                    media: MediaPolicy::default(),
                })),
                p => raw.push((name.clone(), p.clone())),
            }
        }
        let mut directory = Directory {
            numbers: plan(),
            ..Directory::default()
        };
        directory.hosts.insert("fe.contoso.com".into(), ip("fe"));
        let mut names = BTreeMap::new();
        for (i, s) in specs.iter().enumerate() {
            let addr = SocketAddrV4::new(ip(s.node()), s.sip_port());
            names.insert(addr, s.name().to_string());
            directory.elements.insert(
                s.name().to_string(),
                Placement {
                    id: ElementId(i as u32),
                    node: world.net.node_id(s.node()).unwrap(),
                    ip: ip(s.node()),
                    sip: addr,
                    kind: s.kind(),
                    site: site(s.node()),
                },
            );
        }
        let mut responders = BTreeMap::new();
        for (i, (name, peer)) in raw.iter().enumerate() {
            let addr = SocketAddrV4::new(ip(name), 5070);
            names.insert(addr, name.clone());
            responders.insert(addr, peer.clone());
            directory.elements.insert(
                name.clone(),
                Placement {
                    id: ElementId(1000 + i as u32),
                    node: world.net.node_id(name).unwrap(),
                    ip: ip(name),
                    sip: addr,
                    kind: "mediation",
                    site: site(name),
                },
            );
        }
        let models = BTreeMap::new();
        let mut ids = BTreeMap::new();
        for s in &specs {
            let env = BuildEnv {
                name: s.name(),
                directory: &directory,
                rngs: &rngs,
                models: &models,
            };
            let element: Element = s.build(&env).unwrap_or_else(|e| panic!("{e}"));
            let p = &directory.elements[s.name()];
            let id = world.add(element, p.node, &[p.sip]);
            assert_eq!(id, p.id);
            ids.insert(s.name().to_string(), id);
        }
        world.enable_capture();
        let mut sched = Scheduler::with_trace(TraceMode::Fingerprint);
        world.start(&mut sched);
        Lab {
            h: Harness {
                world,
                logs: Vec::new(),
                sent: Vec::new(),
                media_packets: 0,
                scripts: BTreeMap::new(),
                names,
                responders,
            },
            sched,
            ids,
            directory,
        }
    }

    pub fn id(&self, name: &str) -> ElementId {
        self.ids[name]
    }

    /// Schedules a call placed by the element hosting the script's caller.
    pub fn call_at(&mut self, at_s: f64, s: CallScript, from: &str) {
        let tag = s.tag;
        self.h.scripts.insert(tag, s);
        let id = self.id(from);
        self.sched
            .schedule_at(SimTime::from_nanos((at_s * 1e9) as u64), Ev::Place(tag, id));
    }

    pub fn command_at(&mut self, at_s: f64, element: &str, c: Command) {
        let id = self.id(element);
        self.sched
            .schedule_at(SimTime::from_nanos((at_s * 1e9) as u64), Ev::Command(id, c));
    }

    pub fn run_until(&mut self, s: f64) {
        self.sched
            .run_until(&mut self.h, SimTime::from_nanos((s * 1e9) as u64));
    }

    /// The finished call log of a tag.
    pub fn log(&self, tag: u64) -> &CallLog {
        self.h
            .logs
            .iter()
            .find(|l| l.tag == CallTag(tag))
            .unwrap_or_else(|| panic!("call {tag} did not finish\n{}", self.ladder()))
    }

    pub fn route_names(&self, log: &CallLog) -> Vec<String> {
        log.route
            .iter()
            .map(|id| self.h.world.name(*id).to_string())
            .collect()
    }

    /// The SIP messages sent, as a ladder (for failure messages).
    pub fn ladder(&self) -> String {
        let mut out = String::new();
        for s in &self.h.sent {
            out.push_str(&format!(
                "{:>10.3} {:>8} -> {:<8} {}\n",
                s.time.as_secs_f64(),
                s.from,
                s.to,
                s.first_line()
            ));
        }
        out
    }

    /// Messages sent from `from` to `to` (element names; "" for any).
    pub fn between(&self, from: &str, to: &str) -> Vec<&Sent> {
        self.h
            .sent
            .iter()
            .filter(|s| (from.is_empty() || s.from == from) && (to.is_empty() || s.to == to))
            .collect()
    }

    pub fn front_end(&self) -> &voicetwin::elements::front_end::FrontEnd {
        match self.h.world.element(self.id("fe")) {
            Element::FrontEnd(f) => f,
            _ => panic!("fe is not a Front End"),
        }
    }
}
