//! The element runtime end to end: two plain SIP endpoints call each other across a small
//! network, with real SIP bytes, RTP media and the call book joining their reports.

use std::borrow::Cow;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use voicetwin::elements::callbook::{CallLog, PartyRole};
use voicetwin::elements::endpoint::{EndpointConfig, SipEndpoint};
use voicetwin::elements::host::{World, WorldEvent};
use voicetwin::elements::media_policy::MediaPolicy;
use voicetwin::elements::script::{AnswerAction, CallScript};
use voicetwin::elements::{CallOutcome, CallTag, Command, Element, ElementId};
use voicetwin::net::{NetEvent, Network};
use voicetwin::scenario::topology::Topology;
use voicetwin::sim::{Model, RngFactory, Scheduler, SimDuration, SimTime, TraceEvent, TraceMode};
use voicetwin::sip::Transport;
use voicetwin::sip::sdp::MediaCapabilities;

const TOPOLOGY: &str = r#"Topology(
    name: "two-sites",
    nodes: [
        (name: "a", role: "phone", site: "one", address: "10.1.0.10"),
        (name: "r", role: "router", site: "wan"),
        (name: "b", role: "phone", site: "two", address: "10.2.0.10"),
    ],
    links: [
        (a: "a", b: "r", latency_ms: 20, loss: Bernoulli(p: LOSS)),
        (a: "r", b: "b", latency_ms: 20),
    ],
)"#;

enum Ev {
    World(WorldEvent),
    Place(CallTag),
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
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Ev::World(e) => e.kind(),
            Ev::Place(_) => "place",
        }
    }
}

struct Harness {
    world: World,
    caller: ElementId,
    logs: Vec<CallLog>,
}

impl Model for Harness {
    type Event = Ev;
    fn handle(&mut self, sched: &mut Scheduler<Ev>, ev: Ev) {
        match ev {
            Ev::World(e) => self.world.handle(sched, e),
            Ev::Place(tag) => self
                .world
                .command(sched, self.caller, Command::PlaceCall { tag }),
        }
        while let Some(log) = self.world.calls.pop_finished() {
            self.logs.push(log);
        }
    }
}

fn endpoint(name: &str, ip: Ipv4Addr, proxy: Option<SocketAddrV4>) -> SipEndpoint {
    let sip = SocketAddrV4::new(ip, 5060);
    SipEndpoint::new(
        EndpointConfig {
            name: name.into(),
            sip,
            transport: Transport::Udp,
            domain: ip.to_string(),
            proxy,
            media: MediaCapabilities::g711(&ip.to_string(), 0),
            policy: MediaPolicy::default(),
            auto_answer: SimDuration::from_secs(1),
            require_100rel: false,
        },
        RngFactory::new(1).stream(name, "sip"),
    )
}

fn script(tag: u64, action: AnswerAction) -> CallScript {
    CallScript {
        tag: CallTag(tag),
        caller: "1001".into(),
        dialled: "2002".into(),
        callee: "2002".into(),
        anonymous: false,
        callee_action: action,
        holding: SimDuration::from_secs(30),
        abandon_after: SimDuration::from_secs(60),
        hold: None,
        transfer: None,
        forward: None,
        simul_ring: None,
        dtmf: None,
        secondary_ring: SimDuration::from_secs(3),
    }
}

/// Runs one call from a to b and returns its log and the run's fingerprint.
fn run(loss: f64, action: AnswerAction, seed: u64) -> (CallLog, u64) {
    let text = TOPOLOGY.replace("LOSS", &format!("{loss}"));
    let path = Path::new("two-sites.ron");
    let topo = Topology::parse(path, &text).unwrap();
    let net = Network::new(topo.to_spec(path, &text).unwrap(), &RngFactory::new(seed)).unwrap();
    let rngs = RngFactory::new(seed);
    let mut world = World::new(net, rngs);
    let a_ip = Ipv4Addr::new(10, 1, 0, 10);
    let b_ip = Ipv4Addr::new(10, 2, 0, 10);
    let a_node = world.net.node_id("a").unwrap();
    let b_node = world.net.node_id("b").unwrap();
    let caller = world.add(
        Element::Endpoint(endpoint("a", a_ip, Some(SocketAddrV4::new(b_ip, 5060)))),
        a_node,
        &[SocketAddrV4::new(a_ip, 5060)],
    );
    let _callee = world.add(
        Element::Endpoint(endpoint("b", b_ip, None)),
        b_node,
        &[SocketAddrV4::new(b_ip, 5060)],
    );
    let mut s = script(7, action);
    // The callee's number is dialled at its host.
    s.dialled = "2002".into();
    let mut sched = Scheduler::with_trace(TraceMode::Fingerprint);
    let mut h = Harness {
        world,
        caller,
        logs: Vec::new(),
    };
    h.world.start(&mut sched);
    h.world.calls.open(SimTime::from_secs(1), s);
    sched.schedule_at(SimTime::from_secs(1), Ev::Place(CallTag(7)));
    sched.run_until(&mut h, SimTime::from_secs(120));
    assert_eq!(h.logs.len(), 1, "the call finished");
    (h.logs.pop().unwrap(), sched.trace().fingerprint())
}

#[test]
fn answered_call_has_two_way_audio_and_plausible_quality() {
    let (log, _) = run(
        0.0,
        AnswerAction::Answer {
            after: SimDuration::from_secs(2),
        },
        1,
    );
    assert_eq!(log.outcome, CallOutcome::Answered, "{log:#?}");
    assert!(log.ringback_at.is_some(), "180 gives local ringback");
    let setup = log.answered_at.unwrap() - log.started_at;
    // 2 s ring + a few 40 ms one-way trips.
    assert!(
        setup >= SimDuration::from_secs(2) && setup < SimDuration::from_millis(2400),
        "{setup}"
    );
    assert!(log.two_way_audio());
    let caller = log.media_for(PartyRole::Caller).unwrap();
    let callee = log.media_for(PartyRole::Callee).unwrap();
    assert_eq!(caller.codec, "PCMU");
    // Mouth-to-ear: 40 ms network + 20 ms packetisation + jitter buffer.
    let m2e = caller.mouth_to_ear_ms.unwrap();
    assert!((60.0..120.0).contains(&m2e), "{m2e}");
    assert_eq!(caller.loss_fraction, 0.0);
    // 30 s at 50 pps with VAD (P.59 activity ≈ 39%) gives hundreds of packets each way.
    assert!(
        caller.audio_packets > 200 && callee.audio_packets > 200,
        "{} {}",
        caller.audio_packets,
        callee.audio_packets
    );
    // Both ends negotiated CN (g711 caps offer it) and use VAD, so CN is played.
    assert!(caller.comfort_noise_played && callee.comfort_noise_played);
    assert!(caller.monitor_jitter_ms.is_some(), "RTCP is on by default");
}

#[test]
fn loss_on_the_path_shows_in_the_callee_report() {
    let (log, _) = run(
        0.05,
        AnswerAction::Answer {
            after: SimDuration::from_secs(1),
        },
        3,
    );
    assert_eq!(log.outcome, CallOutcome::Answered);
    // The a–r link drops 5% in each direction: both receivers see it. With VAD, each side
    // decides about 500-900 slots: the binomial SE of a 5% rate is ≤ 1%; 3 SE bound.
    for role in [PartyRole::Caller, PartyRole::Callee] {
        let m = log.media_for(role).unwrap();
        assert!(
            (m.loss_fraction - 0.05).abs() < 0.03,
            "{role:?} {}",
            m.loss_fraction
        );
        assert!(m.stages[0].ppl > 1.0);
    }
    let (clean, _) = run(
        0.0,
        AnswerAction::Answer {
            after: SimDuration::from_secs(1),
        },
        3,
    );
    assert_eq!(
        clean.media_for(PartyRole::Callee).unwrap().loss_fraction,
        0.0
    );
}

#[test]
fn busy_and_decline_are_classified() {
    assert_eq!(run(0.0, AnswerAction::Busy, 1).0.outcome, CallOutcome::Busy);
    assert_eq!(
        run(0.0, AnswerAction::Decline, 1).0.outcome,
        CallOutcome::Declined
    );
    let (log, _) = run(0.0, AnswerAction::NoAnswer, 1);
    assert_eq!(
        log.outcome,
        CallOutcome::Abandoned,
        "the caller gives up after 60 s"
    );
    assert!(log.media.is_empty());
}

#[test]
fn same_seed_same_trajectory() {
    let a = run(
        0.02,
        AnswerAction::Answer {
            after: SimDuration::from_secs(1),
        },
        5,
    )
    .1;
    let b = run(
        0.02,
        AnswerAction::Answer {
            after: SimDuration::from_secs(1),
        },
        5,
    )
    .1;
    let c = run(
        0.02,
        AnswerAction::Answer {
            after: SimDuration::from_secs(1),
        },
        6,
    )
    .1;
    assert_eq!(a, b);
    assert_ne!(a, c);
}
