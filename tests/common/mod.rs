//! A bench for PBX tests: the PBX under a vendor model, a stand-in for the Lync side on the
//! Direct SIP trunk, and a small PSTN on its PRI, in one world with a capture. A test places
//! calls, runs virtual time, and checks the wire, the PBX's state and the call logs. A
//! failing test prints the SIP/ISDN ladder of the run.

#![allow(dead_code)]

pub mod isdn_party;
pub mod lync_side;
pub mod scenarios;

use isdn_party::{IsdnLog, IsdnParty, PstnBehaviour};
use lync_side::{LyncBehaviour, LyncLog, LyncSide};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::rc::Rc;
use voicetwin::elements::build::{BuildEnv, Directory, Placement, TdmLinkEnds};
use voicetwin::elements::callbook::CallLog;
use voicetwin::elements::host::{Captured, TdmLinkSpec, World, WorldEvent};
use voicetwin::elements::numbering::{NumberKind, NumberPlan, NumberRange};
use voicetwin::elements::pbx::{Pbx, PbxSpec};
use voicetwin::elements::script::{AnswerAction, CallScript};
use voicetwin::elements::spec::ElementKindSpec;
use voicetwin::elements::tdm::SpanKind;
use voicetwin::elements::{CallTag, Command, Element, ElementId, TdmPort};
use voicetwin::net::{NetEvent, Network};
use voicetwin::scenario::topology::Topology;
use voicetwin::sim::{Model, RngFactory, Scheduler, SimDuration, SimTime, TraceEvent};
use voicetwin::sip::Transport;
use voicetwin::vendor::{Deployment, Setting, SipTransport, VendorModel};

pub const PBX_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const MED_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
pub const PROV_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 4);
pub const MED_FQDN: &str = "mediation.contoso.test";

/// The i-th Enterprise Voice (Lync) number.
pub fn ev(i: u32) -> String {
    format!("+{}", 14255550000u64 + u64::from(i))
}
/// The i-th PBX extension.
pub fn ext(i: u32) -> String {
    format!("+{}", 14255560000u64 + u64::from(i))
}
/// The i-th PSTN number.
pub fn pstn(i: u32) -> String {
    format!("+{}", 12065550000u64 + u64::from(i))
}
/// The PBX voicemail pilot.
pub const VOICEMAIL: &str = "+14255569999";

pub const PBX: ElementId = ElementId(0);
pub const LYNC: ElementId = ElementId(1);
pub const PSTN: ElementId = ElementId(2);
/// The SIP trunking provider (when the bench has one).
pub const PROVIDER: ElementId = ElementId(3);

const TOPOLOGY: &str = r#"Topology(
    name: "pbx-bench",
    nodes: [
        (name: "pbx", role: "pbx", site: "hq", address: "10.0.0.1"),
        (name: "med", role: "server", site: "hq", address: "10.0.0.2"),
        (name: "client", role: "client", site: "hq", address: "10.0.0.3"),
        (name: "prov", role: "server", site: "hq", address: "10.0.0.4"),
        (name: "sw", role: "router", site: "hq"),
    ],
    links: [
        (a: "pbx", b: "sw", latency_ms: 1),
        (a: "med", b: "sw", latency_ms: 1),
        (a: "client", b: "sw", latency_ms: 1),
        (a: "prov", b: "sw", latency_ms: 1),
    ],
)"#;

/// A call script with the usual defaults: answered after 2 s, 20 s of talk.
pub fn script(tag: u64, caller: &str, callee: &str) -> CallScript {
    CallScript {
        tag: CallTag(tag),
        caller: caller.into(),
        dialled: callee.into(),
        callee: callee.into(),
        anonymous: false,
        callee_action: AnswerAction::Answer {
            after: SimDuration::from_secs(2),
        },
        holding: SimDuration::from_secs(20),
        abandon_after: SimDuration::from_secs(60),
        hold: None,
        transfer: None,
        forward: None,
        simul_ring: None,
        dtmf: None,
        secondary_ring: SimDuration::from_secs(3),
    }
}

/// What a bench is built from.
pub struct BenchBuilder {
    pub spec: PbxSpec,
    pub lync: LyncBehaviour,
    pub pstn: PstnBehaviour,
    pub spans: u16,
    pub seed: u64,
    /// A SIP trunking provider instead of the PRI toward the PSTN.
    pub provider: bool,
}

pub fn bench(model: &str) -> BenchBuilder {
    BenchBuilder {
        spec: PbxSpec {
            name: "pbx".into(),
            node: "pbx".into(),
            sip_port: None,
            model: model.into(),
            factory_config: false,
            settings: Vec::new(),
            deployment: Deployment::IncrementalBehindPbx,
            lync: "lync".into(),
            provider: None,
            pri: vec!["pri".into()],
            voicemail: Some(VOICEMAIL.into()),
            alternate_route: None,
            hunt_groups: Vec::new(),
            forwards: Vec::new(),
            dual_forking: Default::default(),
            rcc_target: None,
            options_interval_s: 30,
            options_down_after: 2,
            sip_trunk_calls: None,
            pstn_delay_ms: 15.0,
            media: Default::default(),
        },
        lync: LyncBehaviour::default(),
        pstn: PstnBehaviour::default(),
        spans: 1,
        seed: 1,
        provider: false,
    }
}

impl BenchBuilder {
    pub fn set(mut self, s: Setting) -> Self {
        self.spec.settings.push(s);
        self
    }
    pub fn factory(mut self) -> Self {
        self.spec.factory_config = true;
        self
    }
    pub fn lync(mut self, f: impl FnOnce(&mut LyncBehaviour)) -> Self {
        f(&mut self.lync);
        self
    }
    pub fn pstn(mut self, f: impl FnOnce(&mut PstnBehaviour)) -> Self {
        f(&mut self.pstn);
        self
    }
    pub fn spec(mut self, f: impl FnOnce(&mut PbxSpec)) -> Self {
        f(&mut self.spec);
        self
    }
    /// PSTN access through a SIP trunking provider (a plain user agent at 10.0.0.4:5060).
    pub fn provider(mut self) -> Self {
        self.provider = true;
        self.spec.provider = Some("prov".into());
        self.spec.pri.clear();
        self
    }

    pub fn spans(mut self, n: u16) -> Self {
        self.spans = n;
        self
    }

    /// Builds the PBX (or the error its spec gives).
    pub fn try_build(self) -> Result<Bench, voicetwin::elements::build::BuildError> {
        let path = Path::new("pbx-bench.ron");
        let topo = Topology::parse(path, TOPOLOGY).unwrap();
        let rngs = RngFactory::new(self.seed);
        let net = Network::new(topo.to_spec(path, TOPOLOGY).unwrap(), &rngs).unwrap();
        let mut world = World::new(net, rngs);
        world.add_host(MED_FQDN, MED_IP);
        let models: BTreeMap<String, VendorModel> = voicetwin::vendor::builtin_models()
            .iter()
            .map(|m| (m.id.clone(), m.clone()))
            .collect();
        let model = &models[&self.spec.model];
        let config = self.spec.trunk_config(model);
        let transport = match config.lync.transport {
            SipTransport::Udp => Transport::Udp,
            SipTransport::Tcp => Transport::Tcp,
            SipTransport::Tls => Transport::Tls,
        };
        let span_kind = match model.capacity.spans.kind {
            voicetwin::vendor::SpanKind::T1 => SpanKind::T1,
            voicetwin::vendor::SpanKind::E1 => SpanKind::E1,
        };
        let (pbx_port, pstn_port) = world.tdm.add(TdmLinkSpec {
            name: "pri".into(),
            a: PBX,
            b: PSTN,
            kind: span_kind,
            spans: self.spans,
            d_channel_delay: SimDuration::from_millis(10),
        });
        let pbx_sip = SocketAddrV4::new(PBX_IP, self.spec.sip_port());
        let med_sip = SocketAddrV4::new(MED_IP, config.lync.mediation_port);
        let pbx_node = world.net.node_id("pbx").unwrap();
        let med_node = world.net.node_id("med").unwrap();
        let mut dir = Directory::default();
        let place = |id: u32, node, ip, sip, kind| Placement {
            id: ElementId(id),
            node,
            ip,
            sip,
            kind,
            site: "hq".into(),
        };
        dir.elements
            .insert("pbx".into(), place(0, pbx_node, PBX_IP, pbx_sip, "pbx"));
        dir.elements.insert(
            "lync".into(),
            place(
                1,
                med_node,
                MED_IP,
                SocketAddrV4::new(MED_IP, 5070),
                "mediation",
            ),
        );
        let prov_node = world.net.node_id("prov").unwrap();
        let prov_sip = SocketAddrV4::new(PROV_IP, 5060);
        if self.provider {
            dir.elements.insert(
                "prov".into(),
                place(3, prov_node, PROV_IP, prov_sip, "sip-trunk"),
            );
        }
        dir.tdm.insert(
            "pri".into(),
            TdmLinkEnds {
                a: "pbx".into(),
                a_port: pbx_port,
                b: "pstn".into(),
                b_port: pstn_port,
            },
        );
        dir.hosts.insert(MED_FQDN.into(), MED_IP);
        let range = |kind, first, count, element: &str| NumberRange {
            kind,
            first,
            count,
            element: element.into(),
            site: "hq".into(),
        };
        dir.numbers = NumberPlan {
            ranges: vec![
                range(NumberKind::EnterpriseVoice, 14255550000, 100, "lync"),
                range(NumberKind::Pbx, 14255560000, 100, "pbx"),
                range(NumberKind::Service, 14255569999, 1, "pbx"),
                range(NumberKind::Pstn, 12065550000, 1000, "pstn"),
            ],
        };
        let env = BuildEnv {
            name: "pbx",
            directory: &dir,
            rngs: &rngs,
            models: &models,
        };
        let pbx = self.spec.build(&env)?;
        world.add(pbx, pbx_node, &[pbx_sip]);
        let lync = LyncSide::new(med_sip, pbx_sip, transport, self.lync);
        let lync_log = Rc::clone(&lync.log);
        world.add(Element::Custom(Box::new(lync)), med_node, &[med_sip]);
        let party = IsdnParty::new("pstn", pstn_port, self.pstn);
        let isdn_log = Rc::clone(&party.log);
        world.add(Element::Custom(Box::new(party)), pbx_node, &[]);
        let mut provider_log = None;
        if self.provider {
            let prov = LyncSide::new(prov_sip, pbx_sip, transport, LyncBehaviour::default());
            provider_log = Some(Rc::clone(&prov.log));
            world.add(Element::Custom(Box::new(prov)), prov_node, &[prov_sip]);
        }
        world.enable_capture();
        let mut sched = Scheduler::new();
        let mut h = Harness {
            world,
            logs: Vec::new(),
        };
        h.world.start(&mut sched);
        Ok(Bench {
            h,
            sched,
            lync_log,
            isdn_log,
            provider_log,
            capture: Rc::new(RefCell::new(Vec::new())),
            pbx_port,
        })
    }

    pub fn build(self) -> Bench {
        self.try_build().expect("the PBX builds")
    }
}

pub enum Ev {
    World(WorldEvent),
    Place(ElementId, Box<CallScript>),
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
            _ => "test",
        }
    }
}

pub struct Harness {
    pub world: World,
    pub logs: Vec<CallLog>,
}

impl Model for Harness {
    type Event = Ev;
    fn handle(&mut self, sched: &mut Scheduler<Ev>, ev: Ev) {
        match ev {
            Ev::World(e) => self.world.handle(sched, e),
            Ev::Place(id, script) => {
                let tag = script.tag;
                self.world.calls.open(sched.now(), *script);
                self.world.command(sched, id, Command::PlaceCall { tag });
            }
            Ev::Command(id, c) => self.world.command(sched, id, c),
        }
        while let Some(log) = self.world.calls.pop_finished() {
            self.logs.push(log);
        }
    }
}

/// One captured SIP message.
#[derive(Clone, Debug)]
pub struct SipLine {
    pub t: f64,
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
    pub text: String,
}

impl SipLine {
    pub fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }
    pub fn sent_by_pbx(&self) -> bool {
        *self.src.ip() == PBX_IP
    }
    pub fn is_request(&self, method: &str) -> bool {
        self.first_line().starts_with(&format!("{method} "))
    }
    pub fn is_response(&self, status: u16) -> bool {
        self.first_line().starts_with(&format!("SIP/2.0 {status} "))
    }
    pub fn cseq_method(&self) -> Option<&str> {
        self.header("CSeq")
            .and_then(|v| v.split_whitespace().nth(1))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.text.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

pub struct Bench {
    pub h: Harness,
    pub sched: Scheduler<Ev>,
    pub lync_log: Rc<RefCell<LyncLog>>,
    pub isdn_log: IsdnLog,
    pub provider_log: Option<Rc<RefCell<LyncLog>>>,
    capture: Rc<RefCell<Vec<Captured>>>,
    pub pbx_port: TdmPort,
}

impl Bench {
    /// Places a call from `who` at `at_s` seconds.
    pub fn place(&mut self, at_s: f64, who: ElementId, script: CallScript) {
        self.sched.schedule_at(
            SimTime::ZERO + SimDuration::from_secs_f64(at_s),
            Ev::Place(who, Box::new(script)),
        );
    }

    pub fn command(&mut self, at_s: f64, who: ElementId, c: Command) {
        self.sched.schedule_at(
            SimTime::ZERO + SimDuration::from_secs_f64(at_s),
            Ev::Command(who, c),
        );
    }

    /// Runs virtual time up to `until_s` seconds.
    pub fn run(&mut self, until_s: f64) {
        self.sched.run_until(
            &mut self.h,
            SimTime::ZERO + SimDuration::from_secs_f64(until_s),
        );
        let more = self.h.world.take_capture();
        self.capture.borrow_mut().extend(more);
        self.h.world.enable_capture();
    }

    pub fn pbx(&self) -> &Pbx {
        match self.h.world.element(PBX) {
            Element::Pbx(p) => p,
            _ => unreachable!("element 0 is the PBX"),
        }
    }

    /// The finished log of a call.
    pub fn log(&self, tag: u64) -> &CallLog {
        self.h
            .logs
            .iter()
            .find(|l| l.tag == CallTag(tag))
            .unwrap_or_else(|| panic!("call {tag} has not finished\n{}", self.ladder()))
    }

    pub fn finished(&self, tag: u64) -> bool {
        self.h.logs.iter().any(|l| l.tag == CallTag(tag))
    }

    /// Every SIP message sent, in order.
    pub fn sip(&self) -> Vec<SipLine> {
        self.capture
            .borrow()
            .iter()
            .filter_map(|c| match c {
                Captured::Datagram {
                    time,
                    packet,
                    delivered: false,
                    media: false,
                } => Some(SipLine {
                    t: time.as_secs_f64(),
                    src: packet.src,
                    dst: packet.dst,
                    text: String::from_utf8_lossy(&packet.payload).into_owned(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Every ISDN message, as (time, from PBX?, label).
    pub fn isdn(&self) -> Vec<(f64, bool, String)> {
        self.capture
            .borrow()
            .iter()
            .filter_map(|c| match c {
                Captured::Isdn {
                    time, from, label, ..
                } => Some((time.as_secs_f64(), *from == PBX, label.clone())),
                _ => None,
            })
            .collect()
    }

    /// RTP/RTCP packets sent, as (time, src, dst, payload).
    pub fn media(&self) -> Vec<(f64, SocketAddrV4, SocketAddrV4, Vec<u8>)> {
        self.capture
            .borrow()
            .iter()
            .filter_map(|c| match c {
                Captured::Datagram {
                    time,
                    packet,
                    delivered: false,
                    media: true,
                } => Some((
                    time.as_secs_f64(),
                    packet.src,
                    packet.dst,
                    packet.payload.to_vec(),
                )),
                _ => None,
            })
            .collect()
    }

    /// RTP packets (not RTCP) sent from `ip` with payload type `pt`.
    pub fn rtp_from(&self, ip: Ipv4Addr, pt: u8) -> usize {
        self.media()
            .iter()
            .filter(|(_, s, _, p)| {
                *s.ip() == ip && s.port() % 2 == 0 && p.len() > 1 && (p[1] & 0x7f) == pt
            })
            .count()
    }

    /// RTCP packets sent from `ip`.
    pub fn rtcp_from(&self, ip: Ipv4Addr) -> usize {
        self.media()
            .iter()
            .filter(|(_, s, _, _)| *s.ip() == ip && s.port() % 2 == 1)
            .count()
    }

    /// A SIP/ISDN ladder of the run.
    pub fn ladder(&self) -> String {
        let name = |a: &SocketAddrV4| match *a.ip() {
            PBX_IP => "pbx",
            MED_IP => "lync",
            CLIENT_IP => "client",
            PROV_IP => "prov",
            _ => "?",
        };
        let mut out = String::new();
        for c in self.capture.borrow().iter() {
            match c {
                Captured::Datagram {
                    time,
                    packet,
                    delivered: false,
                    media: false,
                } => {
                    let text = String::from_utf8_lossy(&packet.payload);
                    let first = text.lines().next().unwrap_or("");
                    out.push_str(&format!(
                        "{:>9.3}s {:>6} -> {:<6} {first}\n",
                        time.as_secs_f64(),
                        name(&packet.src),
                        name(&packet.dst)
                    ));
                }
                Captured::Isdn {
                    time, from, label, ..
                } => {
                    let (a, b) = if *from == PBX {
                        ("pbx", "pstn")
                    } else {
                        ("pstn", "pbx")
                    };
                    out.push_str(&format!(
                        "{:>9.3}s {a:>6} => {b:<6} {label}\n",
                        time.as_secs_f64()
                    ));
                }
                _ => {}
            }
        }
        out
    }

    /// Prints the ladder if the test panics after this point.
    pub fn ladder_on_failure(&self) -> LadderOnFailure {
        LadderOnFailure(self.ladder())
    }
}

/// Prints its ladder when dropped during a panic.
pub struct LadderOnFailure(pub String);

impl Drop for LadderOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- SIP / ISDN ladder ----\n{}", self.0);
        }
    }
}
