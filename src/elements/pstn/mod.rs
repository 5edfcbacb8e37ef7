//! The public network: one element with ISDN trunk groups to every gateway and TDM PBX,
//! DID ranges routed to the trunk groups that serve them, and the PSTN parties of the
//! number plan, who follow their call scripts.
//!
//! - A PSTN caller dials: the switch hunts the route's trunk groups for a B-channel (every
//!   channel busy: the caller is blocked), sends SETUP, and the caller hears ringback on
//!   ALERTING, gives up at its abandon time, hangs up after its holding time. A SETUP left
//!   unanswered is sent again after T303 and cleared after the second expiry.
//! - A PSTN callee answers, is busy (cause 17) or declines (cause 21) as its script says;
//!   a call that rings past the switch's no-answer timer is cleared with cause 19.
//! - Service numbers (the plan's `Service` ranges hosted here) are IVRs: PROGRESS with
//!   in-band information (the announcement, as early media), then CONNECT.
//!
//! A PSTN party's voice is the business of the gateway (or PBX) at the far end of the span:
//! it terminates the party's RTP and runs the party's talk-spurt model; the PSTN only signals.
//! The caller's notes (ringback, answer, final status mapped with RFC 3398, abandon, end)
//! are the PSTN's.

mod spec;

pub use spec::{PstnRouteSpec, PstnSpec};

use super::callbook::CallNote;
use super::element::{Command, NetworkElement};
use super::gateway::isdn::{CallRefs, Guard, IsdnLeg, LegState, T303};
use super::host::Cx;
use super::numbering::{NumberKind, NumberPlan};
use super::script::AnswerAction;
use super::tdm::{CallRef, Cause, Channel, IsdnMessage, SeizeError};
use super::timers::{TimerId, TimerQueue};
use super::{CallTag, ElementId, TdmPort};
use crate::sim::{SimDuration, SimRng, SimTime};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddrV4;

#[derive(Clone, Debug)]
pub(crate) struct PstnConfig {
    pub(crate) name: String,
    pub(crate) numbers: NumberPlan,
    pub(crate) no_answer: SimDuration,
    pub(crate) inband_ringback: bool,
    pub(crate) ivr_answer: SimDuration,
    pub(crate) network_setup: SetupTime,
}

/// The carrier's setup time for a call: fixed, or lognormal around a mean.
#[derive(Clone, Debug)]
pub(crate) struct SetupTime {
    mean_s: f64,
    /// The distribution, when the time varies.
    lognormal: Option<rand_distr::LogNormal<f64>>,
}

impl SetupTime {
    /// Mean `mean_s` and coefficient of variation `cv` (validated ≥ 0 by the spec).
    pub(crate) fn new(mean_s: f64, cv: f64) -> Self {
        let lognormal = (mean_s > 0.0 && cv > 0.0)
            .then(|| {
                let sigma2 = (1.0 + cv * cv).ln();
                rand_distr::LogNormal::new(mean_s.ln() - sigma2 / 2.0, sigma2.sqrt()).ok()
            })
            .flatten();
        SetupTime { mean_s, lognormal }
    }

    fn is_zero(&self) -> bool {
        self.mean_s <= 0.0
    }

    pub(crate) fn draw(&self, rng: &mut SimRng) -> SimDuration {
        let s = self
            .lognormal
            .map_or(self.mean_s, |d| rand::Rng::sample(rng, d));
        SimDuration::from_secs_f64(s)
    }
}

/// A trunk group of the PSTN.
#[derive(Clone, Debug)]
pub(crate) struct PstnLink {
    pub(crate) port: TdmPort,
    pub(crate) far_id: ElementId,
}

#[derive(Clone, Debug)]
pub(crate) struct PstnRoute {
    pub(crate) hosts: Vec<String>,
    pub(crate) links: Vec<usize>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Side {
    /// A PSTN party placed the call.
    Caller,
    /// A PSTN party (or IVR) receives it.
    Callee,
}

struct PstnCall {
    tag: CallTag,
    side: Side,
    leg: IsdnLeg,
    guard: Option<TimerId>,
    timers: Vec<(PTimer, TimerId)>,
    answered: bool,
    /// The caller's final status was noted.
    final_noted: bool,
    t303_expiries: u8,
    setup: Option<IsdnMessage>,
    /// The called number (callee side).
    called: String,
    /// The called number is an IVR.
    ivr: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum PTimer {
    Guard(u64),
    /// The SETUP reaches the called party's exchange (after the carrier's setup time).
    Deliver(u64),
    T303(u64),
    Answer(u64),
    NoAnswer(u64),
    Hangup(u64),
    Abandon(u64),
}

/// What the PSTN did, for reports and tests.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PstnStats {
    pub calls_placed: u64,
    pub calls_received: u64,
    /// Calls from PSTN parties that found every trunk of their route busy.
    pub blocked: u64,
    pub unroutable: u64,
}

/// The PSTN element (see the module docs).
pub struct Pstn {
    cfg: PstnConfig,
    links: Vec<PstnLink>,
    routes: Vec<PstnRoute>,
    calls: BTreeMap<u64, PstnCall>,
    by_tdm: HashMap<(TdmPort, CallRef), u64>,
    next_id: u64,
    timers: TimerQueue<PTimer>,
    refs: CallRefs,
    failed: bool,
    stats: PstnStats,
    /// Draws the carrier's setup time per call.
    rng: SimRng,
}

impl Pstn {
    pub(crate) fn new(
        cfg: PstnConfig,
        links: Vec<PstnLink>,
        routes: Vec<PstnRoute>,
        rng: SimRng,
    ) -> Self {
        Pstn {
            cfg,
            links,
            routes,
            calls: BTreeMap::new(),
            by_tdm: HashMap::new(),
            next_id: 0,
            timers: TimerQueue::default(),
            refs: CallRefs::new(),
            failed: false,
            stats: PstnStats::default(),
            rng,
        }
    }

    pub fn stats(&self) -> PstnStats {
        self.stats
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// The trunk groups that serve `number`, in hunting order.
    fn route(&self, number: &str) -> Option<&[usize]> {
        let host = self
            .cfg
            .numbers
            .lookup(number)
            .map(|(r, _)| r.element.as_str());
        let exact = host.and_then(|h| self.routes.iter().find(|r| r.hosts.iter().any(|x| x == h)));
        exact
            .or_else(|| self.routes.iter().find(|r| r.hosts.is_empty()))
            .map(|r| r.links.as_slice())
    }

    /// Whether `number` is a party or service of this PSTN, and whether it is an IVR.
    fn hosted(&self, number: &str) -> Option<bool> {
        let (r, _) = self.cfg.numbers.lookup(number)?;
        if r.element != self.cfg.name {
            return None;
        }
        match r.kind {
            NumberKind::Pstn => Some(false),
            NumberKind::Service => Some(true),
            _ => None,
        }
    }

    fn arm(&mut self, id: u64, at: SimTime, t: PTimer) {
        let tid = self.timers.arm(at, t);
        if let Some(c) = self.calls.get_mut(&id) {
            c.timers.push((t, tid));
        }
    }

    fn note_final(cx: &mut Cx<'_>, c: &mut PstnCall, cause: Cause) {
        if c.side == Side::Caller && !c.answered && !c.final_noted {
            c.final_noted = true;
            cx.note(
                c.tag,
                CallNote::FinalStatus {
                    status: cause.to_sip_final(false),
                    detail: format!("Q.850 cause {} {}", cause.0, cause.describe()),
                },
            );
        }
    }

    /// A caller dials (the scenario's `PlaceCall`).
    fn place(&mut self, cx: &mut Cx<'_>, tag: CallTag) {
        let Some(script) = cx.script(tag) else { return };
        cx.note(tag, CallNote::Hop);
        self.stats.calls_placed += 1;
        let called = script.dialled.clone();
        let Some(links) = self.route(&called).map(<[usize]>::to_vec) else {
            self.stats.unroutable += 1;
            cx.note(
                tag,
                CallNote::FinalStatus {
                    status: 404,
                    detail: "Q.850 cause 1 unallocated number".into(),
                },
            );
            cx.note(tag, CallNote::Ended);
            return;
        };
        let mut busy = false;
        let mut seized = None;
        for li in links {
            let port = self.links[li].port;
            match cx.seize(port) {
                Ok(ch) => {
                    seized = Some((port, ch));
                    break;
                }
                Err(SeizeError::AllBusy) => busy = true,
                Err(SeizeError::OutOfService) => {}
            }
        }
        let Some((port, ch)) = seized else {
            let cause = if busy {
                self.stats.blocked += 1;
                cx.note(tag, CallNote::Blocked);
                Cause::NO_CIRCUIT_AVAILABLE
            } else {
                Cause::NETWORK_OUT_OF_ORDER
            };
            cx.note(
                tag,
                CallNote::FinalStatus {
                    status: cause.to_sip_final(false),
                    detail: format!("Q.850 cause {} {}", cause.0, cause.describe()),
                },
            );
            cx.note(tag, CallNote::Ended);
            return;
        };
        let call_ref = self.refs.next(cx.me());
        let kind = cx.trunk_group(port).kind();
        let setup = IsdnMessage::Setup {
            call_ref,
            call: tag,
            called,
            calling: Some(script.caller.clone()),
            restricted: script.anonymous,
            redirecting: None,
            channel: ch.number(kind),
        };
        let leg = IsdnLeg::new(port, call_ref, ch, true);
        leg.send(cx, setup.clone());
        let id = self.next_id;
        self.next_id += 1;
        self.calls.insert(
            id,
            PstnCall {
                tag,
                side: Side::Caller,
                leg,
                guard: None,
                timers: Vec::new(),
                answered: false,
                final_noted: false,
                t303_expiries: 0,
                setup: Some(setup),
                called: String::new(),
                ivr: false,
            },
        );
        self.by_tdm.insert((port, call_ref), id);
        let now = cx.now();
        self.arm(id, now + T303, PTimer::T303(id));
        self.arm(id, now + script.abandon_after, PTimer::Abandon(id));
    }

    /// A SETUP toward a PSTN party or service.
    #[allow(clippy::too_many_arguments)]
    fn incoming(
        &mut self,
        cx: &mut Cx<'_>,
        port: TdmPort,
        call_ref: CallRef,
        tag: CallTag,
        called: String,
        channel: u16,
    ) {
        self.stats.calls_received += 1;
        let b = cx.trunk_group(port).kind().b_channels() as u16;
        let ch = Channel {
            span: channel / b,
            index: channel % b,
        };
        let mut leg = IsdnLeg::new(port, call_ref, ch, false);
        let Some(ivr) = self.hosted(&called) else {
            leg.refuse(cx, Cause::UNALLOCATED_NUMBER);
            return;
        };
        cx.note(tag, CallNote::Hop);
        let id = self.next_id;
        self.next_id += 1;
        leg.send(cx, IsdnMessage::CallProceeding { call_ref });
        leg.state = LegState::Proceeding;
        self.calls.insert(
            id,
            PstnCall {
                tag,
                side: Side::Callee,
                leg,
                guard: None,
                timers: Vec::new(),
                answered: false,
                final_noted: false,
                t303_expiries: 0,
                setup: None,
                called,
                ivr,
            },
        );
        self.by_tdm.insert((port, call_ref), id);
        // The carrier network routes the call to the called party's exchange.
        if self.cfg.network_setup.is_zero() {
            self.deliver(cx, id);
        } else {
            let at = cx.now() + self.cfg.network_setup.draw(&mut self.rng);
            self.arm(id, at, PTimer::Deliver(id));
        }
    }

    /// The called party's exchange: alert, answer later, or refuse, as the script says.
    fn deliver(&mut self, cx: &mut Cx<'_>, id: u64) {
        let Some(c) = self.calls.get(&id) else { return };
        let (tag, ivr) = (c.tag, c.ivr);
        let now = cx.now();
        let action =
            cx.script(tag)
                .map(|s| s.action_for(&c.called))
                .unwrap_or(AnswerAction::Answer {
                    after: SimDuration::from_secs(3),
                });
        if ivr {
            self.alert(cx, id, None);
            self.arm(id, now + self.cfg.ivr_answer, PTimer::Answer(id));
            return;
        }
        match action {
            AnswerAction::Busy => self.clear(cx, id, Cause::USER_BUSY),
            AnswerAction::Decline => self.clear(cx, id, Cause::CALL_REJECTED),
            AnswerAction::Answer { after } | AnswerAction::Voicemail { after } => {
                self.alert(cx, id, Some(true));
                if after < self.cfg.no_answer {
                    self.arm(id, now + after, PTimer::Answer(id));
                } else {
                    self.arm(id, now + self.cfg.no_answer, PTimer::NoAnswer(id));
                }
            }
            AnswerAction::NoAnswer => {
                self.alert(cx, id, Some(true));
                self.arm(id, now + self.cfg.no_answer, PTimer::NoAnswer(id));
            }
        }
    }

    /// ALERTING (`Some`) or, for an IVR, PROGRESS with in-band information (`None`).
    fn alert(&mut self, cx: &mut Cx<'_>, id: u64, alerting: Option<bool>) {
        let inband = self.cfg.inband_ringback;
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        c.leg.state = LegState::Alerting;
        let call_ref = c.leg.call_ref;
        let msg = match alerting {
            Some(_) => IsdnMessage::Alerting { call_ref, inband },
            None => IsdnMessage::Progress { call_ref },
        };
        c.leg.send(cx, msg);
    }

    /// Starts clearing a call from the PSTN side.
    fn clear(&mut self, cx: &mut Cx<'_>, id: u64, cause: Cause) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let g = c.leg.disconnect(cx, cause);
        self.guard(cx, id, g);
    }

    fn guard(&mut self, cx: &mut Cx<'_>, id: u64, g: Guard) {
        match g {
            Guard::Arm(d) => {
                let t = self.timers.arm(cx.now() + d, PTimer::Guard(id));
                if let Some(c) = self.calls.get_mut(&id) {
                    if let Some(old) = c.guard.replace(t) {
                        self.timers.cancel(old);
                    }
                }
            }
            Guard::Cleared => self.finish(cx, id),
            Guard::None => {}
        }
    }

    /// The call is cleared on the span: the caller's side is done.
    fn finish(&mut self, cx: &mut Cx<'_>, id: u64) {
        let Some(c) = self.calls.remove(&id) else {
            return;
        };
        self.by_tdm.remove(&(c.leg.port, c.leg.call_ref));
        for t in c.timers.iter().map(|(_, t)| t).chain(c.guard.iter()) {
            self.timers.cancel(*t);
        }
        if c.side == Side::Caller {
            cx.note(c.tag, CallNote::Ended);
        }
    }

    fn on_message(&mut self, cx: &mut Cx<'_>, id: u64, msg: IsdnMessage) {
        let now = cx.now();
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let g = match msg {
            IsdnMessage::CallProceeding { .. } => {
                if c.leg.state == LegState::Present {
                    c.leg.state = LegState::Proceeding;
                }
                Guard::None
            }
            IsdnMessage::Alerting { .. } => {
                if c.side == Side::Caller && !c.leg.is_clearing() {
                    c.leg.state = LegState::Alerting;
                    cx.note(c.tag, CallNote::RingbackHeard);
                }
                Guard::None
            }
            IsdnMessage::Progress { .. } => {
                if !c.leg.is_clearing() {
                    c.leg.state = LegState::Alerting;
                }
                Guard::None
            }
            IsdnMessage::Connect { call_ref } => {
                if c.side == Side::Caller && !c.answered && !c.leg.is_clearing() {
                    c.answered = true;
                    c.leg.state = LegState::Active;
                    c.leg.send(cx, IsdnMessage::ConnectAck { call_ref });
                    cx.note(c.tag, CallNote::Answered);
                    let tag = c.tag;
                    let script = cx.script(tag);
                    if let Some(s) = &script {
                        if let Some(d) = &s.dtmf {
                            c.leg.send(
                                cx,
                                IsdnMessage::InbandDigits {
                                    call_ref,
                                    digits: d.clone(),
                                },
                            );
                        }
                    }
                    self.cancel_timers(id, |t| matches!(t, PTimer::Abandon(_)));
                    if let Some(s) = script {
                        self.arm(id, now + s.holding, PTimer::Hangup(id));
                    }
                }
                Guard::None
            }
            IsdnMessage::ConnectAck { .. } => {
                if c.leg.state != LegState::Active && !c.leg.is_clearing() {
                    c.leg.state = LegState::Active;
                }
                Guard::None
            }
            IsdnMessage::Disconnect { cause, .. } => {
                Self::note_final(cx, c, cause);
                c.leg.on_disconnect(cx, cause)
            }
            IsdnMessage::Release { cause, .. } => {
                Self::note_final(cx, c, cause);
                c.leg.on_release(cx)
            }
            IsdnMessage::ReleaseComplete { cause, .. } => {
                Self::note_final(cx, c, cause);
                c.leg.on_release_complete(cx)
            }
            IsdnMessage::InbandDigits { .. } | IsdnMessage::Setup { .. } => Guard::None,
        };
        if !matches!(g, Guard::None) {
            self.cancel_timers(id, |t| !matches!(t, PTimer::Guard(_)));
        }
        self.guard(cx, id, g);
    }

    /// Cancels the call's timers that `which` selects.
    fn cancel_timers(&mut self, id: u64, which: impl Fn(&PTimer) -> bool) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let timers = &mut self.timers;
        c.timers.retain(|(what, t)| {
            if which(what) {
                timers.cancel(*t);
                false
            } else {
                true
            }
        });
    }

    fn on_timer(&mut self, cx: &mut Cx<'_>, t: PTimer) {
        match t {
            PTimer::Deliver(id) => self.deliver(cx, id),
            PTimer::Guard(id) => {
                let Some(c) = self.calls.get_mut(&id) else {
                    return;
                };
                c.guard = None;
                let g = c.leg.on_guard(cx);
                self.guard(cx, id, g);
            }
            PTimer::T303(id) => {
                let now = cx.now();
                let Some(c) = self.calls.get_mut(&id) else {
                    return;
                };
                if c.leg.state != LegState::Present {
                    return;
                }
                c.t303_expiries += 1;
                if c.t303_expiries < 2 {
                    if let Some(s) = c.setup.clone() {
                        c.leg.send(cx, s);
                    }
                    self.arm(id, now + T303, PTimer::T303(id));
                } else {
                    Self::note_final(cx, c, Cause::RECOVERY_ON_TIMER_EXPIRY);
                    let g = c.leg.refuse(cx, Cause::RECOVERY_ON_TIMER_EXPIRY);
                    self.guard(cx, id, g);
                }
            }
            PTimer::Answer(id) => {
                let Some(c) = self.calls.get_mut(&id) else {
                    return;
                };
                if c.leg.is_clearing() || c.answered {
                    return;
                }
                c.answered = true;
                c.leg.state = LegState::Active;
                let call_ref = c.leg.call_ref;
                c.leg.send(cx, IsdnMessage::Connect { call_ref });
            }
            PTimer::NoAnswer(id) => self.clear(cx, id, Cause::NO_ANSWER),
            PTimer::Hangup(id) => self.clear(cx, id, Cause::NORMAL_CLEARING),
            PTimer::Abandon(id) => {
                let Some(c) = self.calls.get(&id) else { return };
                if c.answered || c.leg.is_clearing() {
                    return;
                }
                cx.note(c.tag, CallNote::Abandoned);
                self.clear(cx, id, Cause::NORMAL_CLEARING);
            }
        }
    }

    fn span_state(&mut self, cx: &mut Cx<'_>, port: TdmPort, span: u16, in_service: bool) {
        let Some(link) = self.links.iter().find(|l| l.port == port).cloned() else {
            return;
        };
        let changed = cx.trunk_group(port).span_in_service(span) != in_service;
        cx.set_span(port, span, in_service);
        if !in_service {
            let lost: Vec<u64> = self
                .calls
                .iter()
                .filter(|(_, c)| {
                    c.leg.port == port
                        && c.leg.channel.span == span
                        && c.leg.state != LegState::Cleared
                })
                .map(|(id, _)| *id)
                .collect();
            for id in lost {
                if let Some(c) = self.calls.get_mut(&id) {
                    Self::note_final(cx, c, Cause::NETWORK_OUT_OF_ORDER);
                    c.leg.span_lost();
                }
                self.finish(cx, id);
            }
        }
        if changed {
            cx.command(
                link.far_id,
                Command::SpanState {
                    port: port.peer(),
                    span,
                    in_service,
                },
            );
        }
    }

    fn crash(&mut self, cx: &mut Cx<'_>) {
        self.failed = true;
        let ids: Vec<u64> = self.calls.keys().copied().collect();
        for id in ids {
            if let Some(c) = self.calls.get_mut(&id) {
                if c.leg.state != LegState::Cleared {
                    let call_ref = c.leg.call_ref;
                    c.leg.send(
                        cx,
                        IsdnMessage::ReleaseComplete {
                            call_ref,
                            cause: Cause::NETWORK_OUT_OF_ORDER,
                        },
                    );
                    Self::note_final(cx, c, Cause::NETWORK_OUT_OF_ORDER);
                    c.leg.clear(cx);
                }
            }
            self.finish(cx, id);
        }
        self.timers = TimerQueue::default();
    }
}

impl NetworkElement for Pstn {
    fn name(&self) -> &str {
        &self.cfg.name
    }

    fn on_datagram(
        &mut self,
        _cx: &mut Cx<'_>,
        _local: SocketAddrV4,
        _remote: SocketAddrV4,
        _payload: &[u8],
    ) {
        // The PSTN speaks ISDN only.
    }

    fn on_isdn(&mut self, cx: &mut Cx<'_>, port: TdmPort, msg: IsdnMessage) {
        if self.failed {
            return;
        }
        if let IsdnMessage::Setup {
            call_ref,
            call,
            called,
            channel,
            ..
        } = msg
        {
            return self.incoming(cx, port, call_ref, call, called, channel);
        }
        let call_ref = msg.call_ref();
        match self.by_tdm.get(&(port, call_ref)) {
            Some(&id) => self.on_message(cx, id, msg),
            None => {
                if let IsdnMessage::Release { .. } = msg {
                    cx.send_isdn(
                        port,
                        IsdnMessage::ReleaseComplete {
                            call_ref,
                            cause: Cause::NORMAL_CLEARING,
                        },
                    );
                }
            }
        }
    }

    fn on_timeout(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now();
        while let Some(t) = self.timers.pop_due(now) {
            self.on_timer(cx, t);
        }
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        self.timers.next()
    }

    fn on_command(&mut self, cx: &mut Cx<'_>, command: Command) {
        match command {
            Command::PlaceCall { tag } if !self.failed => self.place(cx, tag),
            Command::PlaceCall { tag } => {
                cx.note(
                    tag,
                    CallNote::FinalStatus {
                        status: 503,
                        detail: "the PSTN is down".into(),
                    },
                );
                cx.note(tag, CallNote::Ended);
            }
            Command::Fail if !self.failed => self.crash(cx),
            Command::Repair => self.failed = false,
            Command::SpanState {
                port,
                span,
                in_service,
            } => self.span_state(cx, port, span, in_service),
            _ => {}
        }
    }
}
