//! Running one scenario: the world, the workload's arrivals and the scheduled events in
//! one deterministic event loop.

use super::build::{BuiltWorld, build_world};
use super::deployment::{Deployment, Dialling};
use super::spec::{MediaMode, ScenarioSpec, ScheduledEvent};
use super::topology::Topology;
use crate::config::ConfigError;
use crate::elements::callbook::CallLog;
use crate::elements::host::{MediaFidelity, World, WorldEvent, WorldStats};
use crate::elements::numbering::{NumberKind, NumberPlan};
use crate::elements::script::{
    AnswerAction, CallScript, ForwardMode, ForwardScript, HoldScript, SimulRingScript,
    TransferMode, TransferScript,
};
use crate::elements::spec::ElementKindSpec;
use crate::elements::{CallOutcome, CallTag, Command, ElementId, TdmPort};
use crate::net::{Fault, FaultAction, NetEvent};
use crate::sim::{RngFactory, Scheduler, SimDuration, SimTime, TraceEvent, TraceMode};
use crate::vendor::VendorModel;
use crate::workload::{
    CallGenerator, CallPlan, CalleeAction, ForwardKind, Party, PopulationKind, Populations,
    TransferKind, Workload,
};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;

/// Everything a run needs, parsed.
pub struct RunInput<'a> {
    /// The topology file (for error locations) and its text after parameter overrides.
    pub topology_path: &'a Path,
    pub topology_text: &'a str,
    pub topology: &'a Topology,
    pub scenario: &'a ScenarioSpec,
    pub models: &'a BTreeMap<String, VendorModel>,
}

/// What the workload knew about a call, handed out with its log.
#[derive(Clone, Debug, PartialEq)]
pub struct CallMeta {
    /// The workload's call number (redials carry the first attempt's).
    pub call_id: u64,
    pub attempt: u32,
    /// The call kind, e.g. `lync-pstn`.
    pub mix: &'static str,
    /// `inbound`, `outbound` or `internal`.
    pub direction: &'static str,
    /// Arrived inside the measurement window.
    pub measured: bool,
}

impl CallMeta {
    fn of(plan: &CallPlan) -> CallMeta {
        CallMeta {
            call_id: plan.number.first_attempt().0,
            attempt: plan.attempt,
            mix: plan.mix.label(),
            direction: plan.mix.direction(),
            measured: plan.measured,
        }
    }
}

/// Options that do not change the simulated behaviour.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub trace: TraceMode,
    /// Record every datagram and ISDN message.
    pub capture: bool,
    /// Record only what belongs to this call (for `trace`); implies capturing.
    pub watch: Option<CallTag>,
}

/// Trunk group usage at the end of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrunkUsage {
    pub name: String,
    /// The link reaches the PSTN element (it is part of the PSTN access trunk group).
    pub to_pstn: bool,
    pub capacity: usize,
    pub peak_busy: usize,
    pub seizures: u64,
    pub blocked: u64,
    /// Channel occupancy over the whole run, channel-seconds.
    pub channel_seconds: f64,
}

/// What a run reports besides its call logs.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The fingerprint of the event trajectory (0 unless tracing).
    pub fingerprint: u64,
    pub events: u64,
    pub end_time: SimTime,
    /// Offered traffic of the workload, Erlangs.
    pub offered_erlangs: f64,
    /// The workload's mean holding time, seconds.
    pub mean_holding_s: f64,
    /// How long calls arrived for (warm-up and measurement), seconds.
    pub arrivals_s: f64,
    pub calls_started: u64,
    pub world: WorldStats,
    /// Packets offered to link directions over the run (one per packet per hop: the
    /// packet-hops of SIP, RTP and RTCP together).
    pub link_transmissions: u64,
    pub trunks: Vec<TrunkUsage>,
    /// The most Mediation Server relays (non-bypass calls) open at once.
    pub relay_peak: usize,
    /// What the capture recorded, if asked for.
    pub capture: Vec<crate::elements::host::Captured>,
    /// Element names by id.
    pub element_names: Vec<String>,
    /// Each element's SIP address and node address, by id.
    pub element_addresses: Vec<(SocketAddrV4, Ipv4Addr)>,
}

#[derive(Debug)]
enum Ev {
    World(WorldEvent),
    Arrival,
    Redial(u32),
    Scheduled(u32, bool),
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
            Ev::Arrival | Ev::Redial(_) => Cow::Borrowed("workload"),
            Ev::Scheduled(..) => Cow::Borrowed("experiment"),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Ev::World(e) => e.kind(),
            Ev::Arrival => "arrival",
            Ev::Redial(_) => "redial",
            Ev::Scheduled(..) => "scheduled",
        }
    }
}

fn number_kind(kind: PopulationKind) -> NumberKind {
    match kind {
        PopulationKind::EnterpriseVoice => NumberKind::EnterpriseVoice,
        PopulationKind::Pbx => NumberKind::Pbx,
        PopulationKind::Pstn => NumberKind::Pstn,
    }
}

struct Sim {
    world: World,
    ids: BTreeMap<String, ElementId>,
    deployment: Deployment,
    numbers: NumberPlan,
    generator: CallGenerator,
    workload: Workload,
    next_plan: Option<CallPlan>,
    plans: HashMap<CallTag, CallPlan>,
    redials: Vec<Option<CallPlan>>,
    events: Vec<ScheduledEvent>,
    calls_started: u64,
}

impl Sim {
    fn party_number(&self, p: Party) -> Option<String> {
        self.numbers.nth(number_kind(p.kind), p.index)
    }

    fn script(&self, plan: &CallPlan) -> Option<(CallScript, ElementId)> {
        let caller = self.party_number(plan.caller)?;
        let callee = self.party_number(plan.callee)?;
        let dialling: &Dialling = &self.deployment.dialling;
        let dialled = match plan.caller.kind {
            PopulationKind::EnterpriseVoice => {
                dialling.dial(&callee, number_kind(plan.callee.kind))
            }
            _ => callee.clone(),
        };
        let callee_action = match plan.callee_action {
            CalleeAction::Answer { ring } => AnswerAction::Answer { after: ring },
            CalleeAction::Busy => AnswerAction::Busy,
            CalleeAction::Decline => AnswerAction::Decline,
            CalleeAction::NoAnswer => AnswerAction::NoAnswer,
            CalleeAction::Voicemail { ring } => AnswerAction::Voicemail { after: ring },
        };
        // Hold and transfer are done by the Enterprise Voice party (the callee first).
        let by_caller = plan.callee.kind != PopulationKind::EnterpriseVoice
            && plan.caller.kind == PopulationKind::EnterpriseVoice;
        let script = CallScript {
            tag: CallTag(plan.number.0),
            caller: caller.clone(),
            dialled,
            callee,
            anonymous: false,
            callee_action,
            holding: plan.holding,
            abandon_after: plan.abandon_after,
            hold: plan.hold.map(|h| HoldScript {
                after: h.after,
                duration: h.duration,
                by_caller,
            }),
            transfer: plan.transfer.and_then(|t| {
                Some(TransferScript {
                    mode: match t.kind {
                        TransferKind::Blind => TransferMode::Blind,
                        TransferKind::Consultative => TransferMode::Consultative,
                    },
                    after: t.after,
                    target: self.party_number(t.target)?,
                    target_answers: t.target_answers,
                    by_caller,
                })
            }),
            forward: plan.forward.and_then(|f| {
                Some(ForwardScript {
                    mode: match f.kind {
                        ForwardKind::All => ForwardMode::All,
                        ForwardKind::Busy => ForwardMode::Busy,
                    },
                    target: self.party_number(f.target)?,
                })
            }),
            simul_ring: plan.simul_ring.and_then(|s| {
                Some(SimulRingScript {
                    target: self.party_number(s.target)?,
                    target_answers: s.target_answers,
                })
            }),
            dtmf: plan.dtmf.clone(),
            secondary_ring: SimDuration::from_secs_f64(self.workload.features.ring_mean_s),
        };
        let (range, _) = self.numbers.lookup(&caller)?;
        let element = *self.ids.get(&range.element)?;
        Some((script, element))
    }

    fn start_call(&mut self, sched: &mut Scheduler<Ev>, plan: CallPlan) {
        let Some((script, element)) = self.script(&plan) else {
            return;
        };
        let tag = script.tag;
        self.calls_started += 1;
        self.world.calls.open(sched.now(), script);
        self.plans.insert(tag, plan);
        self.world
            .command(sched, element, Command::PlaceCall { tag });
    }

    fn apply(&mut self, sched: &mut Scheduler<Ev>, index: u32, down: bool) {
        let Some(ev) = self.events.get(index as usize).cloned() else {
            return;
        };
        match ev {
            ScheduledEvent::ElementDown { element, .. } => {
                let Some(&id) = self.ids.get(&element) else {
                    return;
                };
                let node = self.world.home(id);
                let action = if down {
                    FaultAction::Down
                } else {
                    FaultAction::Up
                };
                self.world
                    .net
                    .apply_fault(sched.now(), Fault::node(node, action));
                self.world.command(
                    sched,
                    id,
                    if down { Command::Fail } else { Command::Repair },
                );
                // A dead element's PRIs lose layers 1 and 2: the far end (the carrier, a
                // PBX) takes their spans out of service and stops offering calls on them,
                // until the element restarts.
                for (far, port, spans) in self.tdm_far_ends(&element) {
                    for span in 0..spans {
                        self.world.command(
                            sched,
                            far,
                            Command::SpanState {
                                port,
                                span,
                                in_service: !down,
                            },
                        );
                    }
                }
            }
            ScheduledEvent::SpanDown { link, span, .. } => {
                let Some((a, a_port, b, b_port)) = self.tdm_ends(&link) else {
                    return;
                };
                for (id, port) in [(a, a_port), (b, b_port)] {
                    self.world.command(
                        sched,
                        id,
                        Command::SpanState {
                            port,
                            span,
                            in_service: !down,
                        },
                    );
                }
            }
            ScheduledEvent::LinkDown { link, .. } => {
                if let Some(l) = self.world.net.link_id(&link) {
                    let action = if down {
                        FaultAction::Down
                    } else {
                        FaultAction::Up
                    };
                    self.world
                        .net
                        .apply_fault(sched.now(), Fault::link(l, action));
                }
            }
            ScheduledEvent::NodeDown { node, .. } => {
                if let Some(n) = self.world.net.node_id(&node) {
                    let action = if down {
                        FaultAction::Down
                    } else {
                        FaultAction::Up
                    };
                    self.world
                        .net
                        .apply_fault(sched.now(), Fault::node(n, action));
                }
            }
        }
    }

    /// For each TDM link of `element`: the element at its other end, that end's port and
    /// the link's span count.
    fn tdm_far_ends(&self, element: &str) -> Vec<(ElementId, TdmPort, u16)> {
        self.deployment
            .tdm
            .iter()
            .filter(|t| t.a == element || t.b == element)
            .filter_map(|t| {
                let (a, a_port, b, b_port) = self.tdm_ends(&t.name)?;
                Some(if t.a == element {
                    (b, b_port, t.spans)
                } else {
                    (a, a_port, t.spans)
                })
            })
            .collect()
    }

    fn tdm_ends(&self, link: &str) -> Option<(ElementId, TdmPort, ElementId, TdmPort)> {
        let t = self.deployment.tdm.iter().find(|t| t.name == link)?;
        let (a, b) = (*self.ids.get(&t.a)?, *self.ids.get(&t.b)?);
        let (a_port, b_port) = self.world.tdm.ports(link)?;
        Some((a, a_port, b, b_port))
    }

    fn handle(
        &mut self,
        sched: &mut Scheduler<Ev>,
        ev: Ev,
        on_call: &mut dyn FnMut(CallLog, CallMeta),
    ) {
        match ev {
            Ev::World(e) => self.world.handle(sched, e),
            Ev::Arrival => {
                if let Some(plan) = self.next_plan.take() {
                    self.next_plan = self.generator.next_call();
                    if let Some(next) = &self.next_plan {
                        sched.schedule_at(next.start, Ev::Arrival);
                    }
                    self.start_call(sched, plan);
                }
            }
            Ev::Redial(i) => {
                if let Some(plan) = self.redials.get_mut(i as usize).and_then(Option::take) {
                    self.start_call(sched, plan);
                }
            }
            Ev::Scheduled(i, down) => self.apply(sched, i, down),
        }
        while let Some(log) = self.world.calls.pop_finished() {
            let Some(plan) = self.plans.remove(&log.tag) else {
                continue;
            };
            if log.outcome == CallOutcome::Blocked {
                if let Some(redial) = self.generator.redial(&plan, sched.now()) {
                    let i = self.redials.len() as u32;
                    sched.schedule_at(redial.start, Ev::Redial(i));
                    self.redials.push(Some(redial));
                }
            }
            on_call(log, CallMeta::of(&plan));
        }
    }
}

/// Checks that a scenario can run: builds its world and validates its workload against the
/// deployment's populations, without running anything.
pub fn validate(input: &RunInput<'_>) -> Result<(), Vec<ConfigError>> {
    let rngs = RngFactory::new(0);
    let built = build_world(
        input.topology_path,
        input.topology_text,
        input.topology,
        input.models,
        &rngs,
    )?;
    let numbers = &built.directory.numbers;
    let pops = Populations {
        enterprise_voice: numbers.count(NumberKind::EnterpriseVoice),
        pbx: numbers.count(NumberKind::Pbx),
        pstn: numbers.count(NumberKind::Pstn),
    };
    input.scenario.workload.validate(pops).map_err(|e| {
        vec![ConfigError::unlocated(
            input.topology_path,
            format!("scenario {e}"),
        )]
    })?;
    Ok(())
}

/// Runs a scenario with `seed`, handing each finished call's log to `on_call` as soon as
/// it is complete (logs are streamed, never held).
pub fn run(
    input: &RunInput<'_>,
    seed: u64,
    options: &RunOptions,
    on_call: &mut dyn FnMut(CallLog, CallMeta),
) -> Result<RunReport, Vec<ConfigError>> {
    let rngs = RngFactory::new(seed);
    let BuiltWorld {
        mut world,
        directory,
        ids,
        deployment,
    } = build_world(
        input.topology_path,
        input.topology_text,
        input.topology,
        input.models,
        &rngs,
    )?;
    let mut element_addresses = vec![
        (
            SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            Ipv4Addr::UNSPECIFIED
        );
        ids.len()
    ];
    for p in directory.elements.values() {
        if let Some(slot) = element_addresses.get_mut(p.id.0 as usize) {
            *slot = (p.sip, p.ip);
        }
    }
    let numbers = directory.numbers.clone();
    let pops = Populations {
        enterprise_voice: numbers.count(NumberKind::EnterpriseVoice),
        pbx: numbers.count(NumberKind::Pbx),
        pstn: numbers.count(NumberKind::Pstn),
    };
    let workload = input.scenario.workload.validate(pops).map_err(|e| {
        vec![ConfigError::unlocated(
            input.topology_path,
            format!("scenario {e}"),
        )]
    })?;
    world.media.set_fidelity(match input.scenario.media {
        MediaMode::PerPacket => MediaFidelity::PerPacket,
        MediaMode::Sampled(f) => MediaFidelity::Sampled {
            fraction: f.clamp(0.0, 1.0),
            seed,
        },
        MediaMode::Flow => MediaFidelity::Flow,
        MediaMode::Off => MediaFidelity::Off,
    });
    if let Some(tag) = options.watch {
        world.enable_capture_for(tag);
        world.media.record_packets_for(tag);
    } else if options.capture {
        world.enable_capture();
    }
    let mut generator = workload.generator(&rngs);
    let next_plan = generator.next_call();
    let mut sched: Scheduler<Ev> = Scheduler::with_trace(options.trace);
    world.start(&mut sched);
    if let Some(p) = &next_plan {
        sched.schedule_at(p.start, Ev::Arrival);
    }
    for (i, ev) in input.scenario.events.iter().enumerate() {
        let (at, for_s) = match ev {
            ScheduledEvent::ElementDown { at_s, for_s, .. }
            | ScheduledEvent::SpanDown { at_s, for_s, .. }
            | ScheduledEvent::LinkDown { at_s, for_s, .. }
            | ScheduledEvent::NodeDown { at_s, for_s, .. } => (*at_s, *for_s),
        };
        let at = SimTime::ZERO + SimDuration::from_secs_f64(at);
        sched.schedule_at(at, Ev::Scheduled(i as u32, true));
        if let Some(d) = for_s {
            sched.schedule_at(
                at + SimDuration::from_secs_f64(d),
                Ev::Scheduled(i as u32, false),
            );
        }
    }
    let horizon =
        workload.arrivals_end() + SimDuration::from_secs_f64(input.scenario.drain_s.max(0.0));
    let mut sim = Sim {
        world,
        ids,
        deployment,
        numbers,
        generator,
        workload: workload.clone(),
        next_plan,
        plans: HashMap::new(),
        redials: Vec::new(),
        events: input.scenario.events.clone(),
        calls_started: 0,
    };
    let arrivals_end = workload.arrivals_end();
    while let Some(ev) = sched.next_event(horizon) {
        sim.handle(&mut sched, ev, on_call);
        if sched.now() >= arrivals_end
            && sim.next_plan.is_none()
            && sim.world.calls.open_calls() == 0
            && sim.redials.iter().all(Option::is_none)
        {
            break;
        }
    }
    let end_time = sched.now();
    sim.world.calls.finish_all(end_time);
    while let Some(log) = sim.world.calls.pop_finished() {
        if let Some(plan) = sim.plans.remove(&log.tag) {
            on_call(log, CallMeta::of(&plan));
        }
    }
    let pstn_elements: std::collections::BTreeSet<&str> = sim
        .deployment
        .elements
        .iter()
        .filter(|e| e.kind() == "pstn")
        .map(|e| e.name())
        .collect();
    let trunks = sim
        .world
        .tdm
        .usage(end_time)
        .into_iter()
        .map(|u| TrunkUsage {
            to_pstn: sim.deployment.tdm.iter().any(|t| {
                t.name == u.name
                    && [&t.a, &t.b]
                        .iter()
                        .any(|e| pstn_elements.contains(e.as_str()))
            }),
            name: u.name,
            capacity: u.capacity,
            peak_busy: u.peak_busy,
            seizures: u.seizures,
            blocked: u.blocked,
            channel_seconds: u.channel_seconds,
        })
        .collect();
    let link_transmissions = (0..sim.world.net.link_count())
        .map(|i| {
            let l = sim.world.net.link_stats(crate::net::LinkId::from_index(i));
            l.a_to_b.sent + l.b_to_a.sent
        })
        .sum();
    let element_names = (0..sim.world.element_count())
        .map(|i| sim.world.name(ElementId(i as u32)).to_string())
        .collect();
    Ok(RunReport {
        fingerprint: sched.trace().fingerprint(),
        events: sched.processed(),
        end_time,
        offered_erlangs: workload.offered_erlangs(),
        mean_holding_s: workload.holding.mean_s(),
        arrivals_s: workload.arrivals_end().as_secs_f64(),
        calls_started: sim.calls_started,
        world: sim.world.stats(),
        link_transmissions,
        trunks,
        relay_peak: sim.world.media.relays_in_use().1,
        capture: sim.world.take_capture(),
        element_names,
        element_addresses,
    })
}
