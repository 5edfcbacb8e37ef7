//! A SIP trunk provider (ITSP): SIP toward the enterprise's Mediation Server over the WAN,
//! and the PSTN behind it. It terminates calls to and from its PSTN numbers itself: its
//! parties follow their scripts (answer, busy, decline, no answer; IVRs play early media)
//! and their media terminates at the provider's media address with the party's role and
//! the PSTN tail's delay.
//!
//! Two provider policies act on the enterprise's calls:
//! - a concurrent-session limit: a call beyond it gets 503 and is `Blocked`;
//! - "requires call history": a redirected call (forwarded, transferred, simultaneous ring:
//!   its calling identity is not one of the enterprise's numbers, or it reaches a number
//!   other than the one the caller dialled) without History-Info (RFC 4244) or Diversion
//!   (RFC 5806) is refused with 403. Providers do this so that they never present a
//!   calling number that is not the customer's without a record of the redirection; the
//!   seeds describe forwarded, transferred and simul-ring calls failing with such providers
//!   when the PBX or Lync sends no call history (VENDORS.md, CU862-L3; Lync's
//!   ForwardCallHistory).

mod spec;

pub use spec::SipTrunkSpec;

use super::CallTag;
use super::callbook::{CallNote, PartyRole};
use super::element::{Command, NetworkElement};
use super::gateway::party_media::PartyMedia;
use super::host::Cx;
use super::media_policy::MediaPolicy;
use super::mediation::{calling_user, phone_uri};
use super::numbering::{NumberKind, NumberPlan};
use super::script::AnswerAction;
use super::timers::TimerQueue;
use crate::rtp::{CallPhase, SessionEvent};
use crate::sim::{SimDuration, SimRng, SimTime};
use crate::sip::Transport;
use crate::sip::sdp::{MediaCapabilities, Negotiated};
use crate::sip::ua::{CallHandle, CallParams, UaConfig, UaEvent, UserAgent};
use crate::sip::wire::{HeaderName, NameAddr, Request};
use std::collections::{BTreeMap, HashMap};
use std::net::{SocketAddr, SocketAddrV4};

#[derive(Clone, Debug)]
pub(crate) struct SipTrunkConfig {
    pub(crate) name: String,
    pub(crate) sip: SocketAddrV4,
    pub(crate) peer: SocketAddrV4,
    pub(crate) transport: Transport,
    pub(crate) max_sessions: u32,
    pub(crate) media: MediaCapabilities,
    pub(crate) policy: MediaPolicy,
    pub(crate) requires_call_history: bool,
    pub(crate) no_answer: SimDuration,
    pub(crate) ivr_answer: SimDuration,
    pub(crate) pstn_delay: SimDuration,
    pub(crate) numbers: NumberPlan,
}

struct TrunkCall {
    tag: Option<CallTag>,
    caller: bool,
    media: Option<PartyMedia>,
    answered: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TTimer {
    Answer(CallHandle),
    NoAnswer(CallHandle),
    Hangup(CallHandle),
    Abandon(CallHandle),
}

impl TTimer {
    fn call(&self) -> CallHandle {
        match self {
            TTimer::Answer(h) | TTimer::NoAnswer(h) | TTimer::Hangup(h) | TTimer::Abandon(h) => *h,
        }
    }
}

/// What the provider did, for reports and tests.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SipTrunkStats {
    pub calls_in: u64,
    pub calls_out: u64,
    /// Refused beyond the session limit.
    pub blocked: u64,
    /// Refused for lack of call history.
    pub rejected_no_history: u64,
    pub peak_sessions: u32,
}

/// The SIP trunk provider element (see the module docs).
pub struct SipTrunkProvider {
    cfg: SipTrunkConfig,
    ua: UserAgent,
    calls: BTreeMap<CallHandle, TrunkCall>,
    by_tag: HashMap<CallTag, CallHandle>,
    timers: TimerQueue<TTimer>,
    failed: bool,
    stats: SipTrunkStats,
}

impl SipTrunkProvider {
    pub(crate) fn new(cfg: SipTrunkConfig, rng: SimRng) -> Self {
        let mut ua = UaConfig::new("itsp", SocketAddr::V4(cfg.sip));
        ua.transport = cfg.transport;
        ua.media = cfg.media.clone();
        ua.follow_redirects = false;
        SipTrunkProvider {
            ua: UserAgent::new(ua, rng),
            cfg,
            calls: BTreeMap::new(),
            by_tag: HashMap::new(),
            timers: TimerQueue::default(),
            failed: false,
            stats: SipTrunkStats::default(),
        }
    }

    pub fn stats(&self) -> SipTrunkStats {
        self.stats
    }

    /// Sessions in progress.
    pub fn active_sessions(&self) -> usize {
        self.calls.len()
    }

    fn caps_at(&self, local: SocketAddrV4) -> MediaCapabilities {
        let mut caps = self.cfg.media.clone();
        caps.address = local.ip().to_string();
        caps.port = local.port();
        caps
    }

    /// Whether `number` is one of the provider's PSTN numbers, and whether it is an IVR.
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

    fn is_enterprise(&self, number: &str) -> bool {
        self.cfg
            .numbers
            .lookup(number)
            .is_some_and(|(r, _)| matches!(r.kind, NumberKind::EnterpriseVoice | NumberKind::Pbx))
    }

    fn pump(&mut self, cx: &mut Cx<'_>) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.ua.poll_transmit() {
                progressed = true;
                if let SocketAddr::V4(dst) = t.dst {
                    cx.send(self.cfg.sip, dst, t.bytes);
                }
            }
            while let Some(ev) = self.ua.poll_event() {
                progressed = true;
                self.on_event(cx, ev);
            }
            if !progressed {
                break;
            }
        }
    }

    fn full(&self) -> bool {
        self.calls.len() as u32 >= self.cfg.max_sessions
    }

    fn opened(&mut self) {
        self.stats.peak_sessions = self.stats.peak_sessions.max(self.calls.len() as u32);
    }

    /// A PSTN party of the provider dials into the enterprise.
    fn place(&mut self, cx: &mut Cx<'_>, tag: CallTag) {
        let now = cx.now();
        let Some(script) = cx.script(tag) else { return };
        cx.note(tag, CallNote::Hop);
        self.stats.calls_out += 1;
        if self.full() {
            self.stats.blocked += 1;
            cx.note(tag, CallNote::Blocked);
            cx.note(
                tag,
                CallNote::FinalStatus {
                    status: 503,
                    detail: "SIP trunk session limit".into(),
                },
            );
            cx.note(tag, CallNote::Ended);
            return;
        }
        let me = self.cfg.sip.ip().to_string();
        let peer = self.cfg.peer;
        let local = cx.allocate_media(*self.cfg.sip.ip());
        let mut params = CallParams::new(phone_uri(
            &script.dialled,
            &peer.ip().to_string(),
            Some(peer.port()),
        ));
        params.from = Some(NameAddr::new(phone_uri(&script.caller, &me, None)));
        if script.anonymous {
            params.headers.push((HeaderName::Privacy, "id".into()));
        }
        params.media = Some(self.caps_at(local));
        params.next_hop = Some(SocketAddr::V4(peer));
        let Ok(h) = self.ua.call(now, params) else {
            cx.note(
                tag,
                CallNote::FinalStatus {
                    status: 500,
                    detail: "could not build the INVITE".into(),
                },
            );
            cx.note(tag, CallNote::Ended);
            return;
        };
        if let Some(id) = self.ua.call_id(h) {
            cx.bind_call_id(id, tag);
        }
        self.calls.insert(
            h,
            TrunkCall {
                tag: Some(tag),
                caller: true,
                media: Some(PartyMedia::new(
                    local,
                    tag,
                    PartyRole::Caller,
                    self.cfg.pstn_delay,
                )),
                answered: false,
            },
        );
        self.by_tag.insert(tag, h);
        self.opened();
        self.timers
            .arm(now + script.abandon_after, TTimer::Abandon(h));
    }

    /// Whether the provider's call-history policy refuses this INVITE.
    fn lacks_history(
        &self,
        cx: &Cx<'_>,
        req: &Request,
        called: &str,
        tag: Option<CallTag>,
    ) -> bool {
        if !self.cfg.requires_call_history {
            return false;
        }
        let identity = req
            .headers
            .p_asserted_identity()
            .ok()
            .and_then(|p| p.into_iter().next())
            .and_then(|p| p.uri.user().map(str::to_string))
            .unwrap_or_else(|| calling_user(req));
        let rerouted = tag
            .and_then(|t| cx.script(t))
            .is_some_and(|s| s.dialled != called && s.callee != called);
        let redirected = !self.is_enterprise(&identity) || rerouted;
        let has_history = req.headers.contains(HeaderName::HistoryInfo)
            || req.headers.contains(HeaderName::Diversion);
        redirected && !has_history
    }

    fn incoming(&mut self, cx: &mut Cx<'_>, call: CallHandle, req: Box<Request>) {
        let now = cx.now();
        let tag = req
            .headers
            .get(HeaderName::CallId)
            .and_then(|id| cx.tag_of(id));
        if let Some(t) = tag {
            cx.note(t, CallNote::Hop);
        }
        self.stats.calls_in += 1;
        if self.full() {
            self.stats.blocked += 1;
            if let Some(t) = tag {
                cx.note(t, CallNote::Blocked);
            }
            let _ = self.ua.reject(now, call, 503, "Service Unavailable", &[]);
            return;
        }
        let called = req.uri.user().unwrap_or_default().to_string();
        let Some(ivr) = self.hosted(&called) else {
            let _ = self.ua.reject(now, call, 404, "Not Found", &[]);
            return;
        };
        if self.lacks_history(cx, &req, &called, tag) {
            self.stats.rejected_no_history += 1;
            let _ = self.ua.reject_with_headers(
                now,
                call,
                403,
                "Forbidden",
                &[(
                    "Reason",
                    "SIP;cause=403;text=\"redirected call without History-Info or Diversion\"",
                )],
            );
            return;
        }
        let local = cx.allocate_media(*self.cfg.sip.ip());
        let _ = self.ua.set_media(call, self.caps_at(local));
        let role = match tag.and_then(|t| cx.script(t)) {
            Some(s) if s.caller == called => PartyRole::Caller,
            Some(_) => PartyRole::Callee,
            None => PartyRole::Other,
        };
        self.calls.insert(
            call,
            TrunkCall {
                tag,
                caller: false,
                media: tag.map(|t| PartyMedia::new(local, t, role, self.cfg.pstn_delay)),
                answered: false,
            },
        );
        if let Some(t) = tag {
            self.by_tag.insert(t, call);
        }
        self.opened();
        if ivr {
            let _ = self.ua.ring(now, call, 183, true, false);
            self.early_media(cx, call);
            self.timers
                .arm(now + self.cfg.ivr_answer, TTimer::Answer(call));
            return;
        }
        let action = tag
            .and_then(|t| cx.script(t))
            .map(|s| s.action_for(&called))
            .unwrap_or(AnswerAction::Answer {
                after: SimDuration::from_secs(3),
            });
        match action {
            AnswerAction::Busy => self.refuse(cx, call, 486),
            AnswerAction::Decline => self.refuse(cx, call, 603),
            AnswerAction::Answer { after } | AnswerAction::Voicemail { after } => {
                let _ = self.ua.ring(now, call, 180, false, false);
                if after < self.cfg.no_answer {
                    self.timers.arm(now + after, TTimer::Answer(call));
                } else {
                    self.timers
                        .arm(now + self.cfg.no_answer, TTimer::NoAnswer(call));
                }
            }
            AnswerAction::NoAnswer => {
                let _ = self.ua.ring(now, call, 180, false, false);
                self.timers
                    .arm(now + self.cfg.no_answer, TTimer::NoAnswer(call));
            }
        }
    }

    fn refuse(&mut self, cx: &mut Cx<'_>, call: CallHandle, status: u16) {
        let reason = crate::sip::wire::reason_phrase(status);
        let _ = self.ua.reject(cx.now(), call, status, reason, &[]);
        self.end(cx, call);
    }

    fn early_media(&mut self, cx: &mut Cx<'_>, call: CallHandle) {
        let neg = self.ua.media(call).cloned();
        self.apply(cx, call, neg, CallPhase::EarlyMedia);
    }

    fn apply(
        &mut self,
        cx: &mut Cx<'_>,
        call: CallHandle,
        neg: Option<Negotiated>,
        phase: CallPhase,
    ) {
        let policy = self.cfg.policy.clone();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if let (Some(neg), Some(m)) = (neg, c.media.as_mut()) {
            m.apply(cx, &neg, phase, &policy, &self.cfg.name);
            if phase == CallPhase::Connected {
                m.connect(cx);
            }
        }
    }

    fn end(&mut self, cx: &mut Cx<'_>, call: CallHandle) {
        let Some(mut c) = self.calls.remove(&call) else {
            return;
        };
        self.timers.retain(|t| t.call() != call);
        if let Some(m) = c.media.as_mut() {
            m.close(cx);
        }
        if let Some(t) = c.tag {
            if self.by_tag.get(&t) == Some(&call) {
                self.by_tag.remove(&t);
            }
            if c.caller {
                cx.note(t, CallNote::Ended);
            }
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, ev: UaEvent) {
        let now = cx.now();
        match ev {
            UaEvent::IncomingCall { call, request, .. } => self.incoming(cx, call, request),
            UaEvent::Progress {
                call,
                status,
                media,
                ..
            } => {
                let Some(tag) = self.calls.get(&call).and_then(|c| c.tag) else {
                    return;
                };
                match media {
                    Some(neg) => self.apply(cx, call, Some(neg), CallPhase::EarlyMedia),
                    None if status == 180 => cx.note(tag, CallNote::RingbackHeard),
                    None => {}
                }
            }
            UaEvent::Answered { call, media } => {
                let neg = media.or_else(|| self.ua.media(call).cloned());
                self.apply(cx, call, neg, CallPhase::Connected);
                let Some(c) = self.calls.get_mut(&call) else {
                    return;
                };
                c.answered = true;
                if let Some(tag) = c.tag {
                    cx.note(tag, CallNote::Answered);
                    self.timers.retain(|t| *t != TTimer::Abandon(call));
                    if let Some(s) = cx.script(tag) {
                        self.timers.arm(now + s.holding, TTimer::Hangup(call));
                        if let (Some(d), Some(m)) = (&s.dtmf, c.media.as_mut()) {
                            m.dtmf(cx, d);
                        }
                    }
                }
            }
            UaEvent::Failed {
                call,
                status,
                reason,
                ..
            } => {
                if let Some(tag) = self.calls.get(&call).and_then(|c| c.tag) {
                    cx.note(
                        tag,
                        CallNote::FinalStatus {
                            status,
                            detail: format!("{status} {reason}"),
                        },
                    );
                }
                self.end(cx, call);
            }
            UaEvent::Cancelled { call }
            | UaEvent::Terminated { call, .. }
            | UaEvent::PrackTimeout { call } => self.end(cx, call),
            UaEvent::MediaChanged { call, media, .. } => {
                if let Some(m) = self.calls.get_mut(&call).and_then(|c| c.media.as_mut()) {
                    m.direction(cx, media.direction);
                }
            }
            _ => {}
        }
    }

    fn fire(&mut self, cx: &mut Cx<'_>, t: TTimer) {
        let now = cx.now();
        match t {
            TTimer::Answer(call) => {
                if self.calls.get(&call).is_some_and(|c| !c.answered) {
                    if let Some(c) = self.calls.get_mut(&call) {
                        c.answered = true;
                    }
                    if self.ua.answer(now, call).is_ok() {
                        let neg = self.ua.media(call).cloned();
                        self.apply(cx, call, neg, CallPhase::Connected);
                    }
                }
            }
            TTimer::NoAnswer(call) => self.refuse(cx, call, 480),
            TTimer::Hangup(call) => {
                let _ = self.ua.hangup(now, call);
            }
            TTimer::Abandon(call) => {
                if let Some(tag) = self.calls.get(&call).and_then(|c| c.tag) {
                    cx.note(tag, CallNote::Abandoned);
                }
                let _ = self.ua.cancel(now, call);
            }
        }
    }
}

impl NetworkElement for SipTrunkProvider {
    fn name(&self) -> &str {
        &self.cfg.name
    }

    fn on_datagram(
        &mut self,
        cx: &mut Cx<'_>,
        _local: SocketAddrV4,
        remote: SocketAddrV4,
        payload: &[u8],
    ) {
        if self.failed {
            return;
        }
        self.ua
            .handle_datagram(cx.now(), SocketAddr::V4(remote), payload);
        self.pump(cx);
    }

    fn on_timeout(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now();
        if self.ua.poll_timeout().is_some_and(|t| t <= now) {
            self.ua.handle_timeout(now);
        }
        while let Some(t) = self.timers.pop_due(now) {
            self.fire(cx, t);
        }
        self.pump(cx);
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        if self.failed {
            return None;
        }
        match (self.ua.poll_timeout(), self.timers.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_media(&mut self, cx: &mut Cx<'_>, tag: CallTag, event: SessionEvent) {
        if event != SessionEvent::EarlyMediaStarted {
            return;
        }
        let caller = self
            .by_tag
            .get(&tag)
            .and_then(|h| self.calls.get(h))
            .is_some_and(|c| c.caller && !c.answered);
        if caller {
            cx.note(tag, CallNote::EarlyMediaHeard);
        }
    }

    fn on_command(&mut self, cx: &mut Cx<'_>, command: Command) {
        match command {
            Command::PlaceCall { tag } if !self.failed => {
                self.place(cx, tag);
                self.pump(cx);
            }
            Command::Fail if !self.failed => {
                self.failed = true;
                let calls: Vec<CallHandle> = self.calls.keys().copied().collect();
                for c in calls {
                    self.end(cx, c);
                }
            }
            Command::Repair => self.failed = false,
            _ => {}
        }
    }
}
