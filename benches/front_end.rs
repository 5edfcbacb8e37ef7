//! Lync ↔ Lync calls per second through the Front End, signalling only: two client pools
//! with media off, one Front End, real SIP bytes over the virtual network. Each call is
//! INVITE / 100 / 180 / 200 / ACK / BYE / 200 across two proxied hops (14 messages sent
//! and parsed), record-routed, with CAC and dial plan normalization in the path.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use voicetwin::elements::build::{BuildEnv, Directory, Placement};
use voicetwin::elements::front_end::{
    CacOverflow, CacSpec, DialPlanSpec, FrontEndSpec, HealthSpec, NormalizationRuleSpec, Scope,
};
use voicetwin::elements::host::{World, WorldEvent};
use voicetwin::elements::lync::{LyncPoolSpec, MediaMode, default_codecs};
use voicetwin::elements::media_policy::MediaPolicy;
use voicetwin::elements::numbering::{NumberKind, NumberPlan, NumberRange};
use voicetwin::elements::script::{AnswerAction, CallScript};
use voicetwin::elements::spec::{ElementKindSpec, ElementSpec};
use voicetwin::elements::{CallOutcome, CallTag, Command, ElementId};
use voicetwin::net::{NetEvent, Network};
use voicetwin::scenario::topology::Topology;
use voicetwin::sim::{Model, RngFactory, Scheduler, SimDuration, SimTime, TraceEvent};
use voicetwin::vendor::{LyncServer, SipTransport};

const TOPOLOGY: &str = r#"Topology(
    name: "fe-bench",
    nodes: [
        (name: "lan", role: "lan", site: "hq"),
        (name: "wan", role: "router", site: "wan"),
        (name: "lan-br", role: "lan", site: "br"),
        (name: "fe", role: "front-end", site: "hq", address: "10.1.0.5"),
        (name: "pool-a", role: "clients", site: "hq", address: "10.1.0.10"),
        (name: "pool-b", role: "clients", site: "br", address: "10.2.0.10"),
    ],
    links: [
        (a: "fe", b: "lan", latency_ms: 0.2),
        (a: "pool-a", b: "lan", latency_ms: 0.2),
        (a: "lan", b: "wan", latency_ms: 5),
        (a: "wan", b: "lan-br", latency_ms: 5),
        (a: "pool-b", b: "lan-br", latency_ms: 0.2),
    ],
)"#;

enum Ev {
    World(WorldEvent),
    Place(u64),
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
        Cow::Borrowed("bench")
    }
    fn kind(&self) -> &'static str {
        "ev"
    }
}

struct Bench {
    world: World,
    caller: ElementId,
    answered: u64,
    finished: u64,
}

impl Model for Bench {
    type Event = Ev;
    fn handle(&mut self, sched: &mut Scheduler<Ev>, ev: Ev) {
        match ev {
            Ev::World(e) => self.world.handle(sched, e),
            Ev::Place(i) => {
                let s = CallScript {
                    tag: CallTag(i),
                    caller: format!("+1425555{:04}", i % 5000),
                    dialled: format!("9206555{:04}", i % 5000),
                    callee: format!("+1206555{:04}", i % 5000),
                    anonymous: false,
                    callee_action: AnswerAction::Answer {
                        after: SimDuration::from_secs(1),
                    },
                    holding: SimDuration::from_secs(10),
                    abandon_after: SimDuration::from_secs(60),
                    hold: None,
                    transfer: None,
                    forward: None,
                    simul_ring: None,
                    dtmf: None,
                    secondary_ring: SimDuration::from_secs(1),
                };
                self.world.calls.open(sched.now(), s);
                self.world
                    .command(sched, self.caller, Command::PlaceCall { tag: CallTag(i) });
            }
        }
        while let Some(log) = self.world.calls.pop_finished() {
            self.finished += 1;
            if log.outcome == CallOutcome::Answered {
                self.answered += 1;
            }
        }
    }
}

fn pool(name: &str) -> LyncPoolSpec {
    LyncPoolSpec {
        name: name.into(),
        node: name.into(),
        sip_port: None,
        front_end: "fe".into(),
        transport: SipTransport::Tcp,
        domain: Some("contoso.com".into()),
        media: MediaMode::Off,
        media_policy: MediaPolicy::default(),
        codecs: default_codecs(),
        hold_failure_mutes: vec![488],
        consult_talk_s: 3.0,
    }
}

fn build() -> (World, ElementId) {
    let path = Path::new("fe-bench.ron");
    let topo = Topology::parse(path, TOPOLOGY).unwrap();
    let rngs = RngFactory::new(1);
    let net = Network::new(topo.to_spec(path, TOPOLOGY).unwrap(), &rngs).unwrap();
    let mut world = World::new(net, RngFactory::new(1));
    let fe = FrontEndSpec {
        name: "fe".into(),
        node: "fe".into(),
        sip_port: None,
        transport: SipTransport::Tcp,
        server: LyncServer::Lync2013,
        domain: Some("contoso.com".into()),
        dial_plans: vec![DialPlanSpec {
            name: "global".into(),
            scope: Scope::Global,
            rules: vec![NormalizationRuleSpec {
                name: "national".into(),
                pattern: r"^9(\d{10})$".into(),
                translation: "+1$1".into(),
            }],
        }],
        voice_policies: Vec::new(),
        routes: Vec::new(),
        trunks: Vec::new(),
        voicemail: None,
        unanswered_timer_s: 20.0,
        fast_failover_timer_s: 10.0,
        cac: vec![CacSpec {
            sites: ("hq".into(), "br".into()),
            max_sessions: Some(100_000),
            max_kbps: None,
            overflow: CacOverflow::Reject,
        }],
        health: HealthSpec::default(),
    };
    let specs = [
        ElementSpec::FrontEnd(fe),
        ElementSpec::LyncPool(pool("pool-a")),
        ElementSpec::LyncPool(pool("pool-b")),
    ];
    let range = |first, element: &str, site: &str| NumberRange {
        kind: NumberKind::EnterpriseVoice,
        first,
        count: 5000,
        element: element.into(),
        site: site.into(),
    };
    let mut dir = Directory {
        numbers: NumberPlan {
            ranges: vec![
                range(14255550000, "pool-a", "hq"),
                range(12065550000, "pool-b", "br"),
            ],
        },
        ..Directory::default()
    };
    let ip = |n: &str| -> Ipv4Addr {
        topo.nodes
            .iter()
            .find(|x| x.name == n)
            .and_then(|x| x.address.as_ref())
            .map(|a| a.0)
            .unwrap()
    };
    for (i, s) in specs.iter().enumerate() {
        let site = topo
            .nodes
            .iter()
            .find(|x| x.name == s.node())
            .unwrap()
            .site
            .clone();
        dir.elements.insert(
            s.name().into(),
            Placement {
                id: ElementId(i as u32),
                node: world.net.node_id(s.node()).unwrap(),
                ip: ip(s.node()),
                sip: SocketAddrV4::new(ip(s.node()), s.sip_port()),
                kind: s.kind(),
                site,
            },
        );
    }
    let models = BTreeMap::new();
    for s in &specs {
        let env = BuildEnv {
            name: s.name(),
            directory: &dir,
            rngs: &rngs,
            models: &models,
        };
        let p = &dir.elements[s.name()];
        world.add(s.build(&env).unwrap(), p.node, &[p.sip]);
    }
    (world, ElementId(1))
}

/// Places `calls` calls, one every 2 ms of virtual time (about 5,500 up at once), and
/// runs until all have ended.
fn run(calls: u64) -> u64 {
    let (world, caller) = build();
    let mut sched = Scheduler::new();
    let mut b = Bench {
        world,
        caller,
        answered: 0,
        finished: 0,
    };
    b.world.start(&mut sched);
    for i in 0..calls {
        sched.schedule_at(SimTime::from_micros(1_000_000 + i * 2_000), Ev::Place(i));
    }
    sched.run_until(&mut b, SimTime::from_secs(60));
    assert_eq!(b.answered, calls);
    b.answered
}

fn front_end(c: &mut Criterion) {
    let calls = 5_000;
    let mut g = c.benchmark_group("front_end");
    g.sample_size(10);
    g.throughput(Throughput::Elements(calls));
    g.bench_function("lync_to_lync_calls", |b| b.iter(|| black_box(run(calls))));
    g.finish();
}

criterion_group!(benches, front_end);
criterion_main!(benches);
