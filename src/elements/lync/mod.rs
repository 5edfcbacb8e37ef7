//! Lync clients: the Enterprise Voice users of one site, as one element (a client pool).
//!
//! Every number of the plan's Enterprise Voice ranges hosted by the pool is a user; the
//! users share one SIP user agent at the pool's address (each user is a line: its calls
//! carry its own From and Request-URI). The pool registers nothing on the wire: the Front
//! End routes to it from the number plan, which stands for the registrations.
//!
//! Each user follows the call's script: places calls (dialling the script's `dialled`
//! digits toward its Front End), hears ringback or early media, abandons, hangs up after
//! `holding`, sends DTMF; answers, declines (603), is busy (486) or does not answer;
//! holds and resumes (re-INVITE sendonly, then sendrecv), with the client left muted
//! when a hold is refused with one of `hold_failure_mutes` (OXE-L1's symptom); transfers
//! blind (REFER with Referred-By) or consultative (hold, consultation call, REFER with
//! Replaces); and, as the transferee, follows a REFER (INVITE to the target with
//! Referred-By and Replaces, NOTIFY with the progress) and inherits the caller's
//! hang-up time. Media runs with the negotiated codec, VAD and comfort noise, RFC 4733
//! and RTCP, unless the pool's media mode is `Off`.
//!
//! Invariants: every media session opened is closed when its call ends; the caller's side
//! notes `Ended` once all of the caller's calls for the tag are over.

mod call;
mod spec;
mod transfer;

pub use spec::{LyncPoolSpec, MediaMode, default_codecs};

use super::CallTag;
use super::callbook::PartyRole;
use super::element::{Command, NetworkElement};
use super::host::{Cx, MediaSpec, MediaUpdate};
use super::media_policy::{MediaPolicy, media_config, rtp_direction};
use super::numbering::NumberRange;
use super::script::CallScript;
use super::timers::{TimerId, TimerQueue};
use crate::rtp::{CallPhase, SessionEvent};
use crate::sim::{SimDuration, SimRng, SimTime};
use crate::sip::Transport;
use crate::sip::sdp::{MediaCapabilities, Negotiated};
use crate::sip::ua::hash::FastMap;
use crate::sip::ua::{CallHandle, ReferId, UaConfig, UserAgent};
use rand::SeedableRng;
use std::net::{SocketAddr, SocketAddrV4};
use std::rc::Rc;

/// The checked configuration of a pool.
#[derive(Clone, Debug)]
pub(crate) struct PoolConfig {
    pub(crate) name: String,
    pub(crate) sip: SocketAddrV4,
    pub(crate) front_end: SocketAddr,
    pub(crate) transport: Transport,
    pub(crate) domain: String,
    pub(crate) media: MediaCapabilities,
    pub(crate) media_on: bool,
    pub(crate) policy: MediaPolicy,
    pub(crate) users: Vec<NumberRange>,
    pub(crate) hold_failure_mutes: Vec<u16>,
    pub(crate) consult_talk: SimDuration,
}

/// Why a SIP call of the pool exists.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Purpose {
    /// The scripted call itself (placed by or offered to a user).
    Original,
    /// A transferor's consultation call to the transfer target.
    Consultation { original: CallHandle },
    /// A transferee's call to the transfer target, following a REFER received on
    /// `original`.
    Transferee {
        original: CallHandle,
        refer: ReferId,
    },
}

/// The hold state of a call, as its local user sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Hold {
    None,
    Holding,
    Held,
    Resuming,
}

/// The transfer a transferor is doing on a call.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Transferring {
    None,
    /// REFER sent (with the consultation call when consultative).
    Referred {
        consult: Option<CallHandle>,
    },
    Consulting {
        consult: CallHandle,
    },
}

struct LyncCall {
    tag: Option<CallTag>,
    /// The local user's E.164 number.
    user: String,
    role: PartyRole,
    purpose: Purpose,
    outgoing: bool,
    media_local: SocketAddrV4,
    media_open: bool,
    answered_at: Option<SimTime>,
    script: Option<Rc<CallScript>>,
    /// When this side hangs up after answer (the caller, or a transferee that inherits).
    hangup_at: Option<SimTime>,
    hold: Hold,
    /// Resume this long after the hold is accepted (a scripted hold, not a transfer's).
    resume_after: Option<SimDuration>,
    muted: bool,
    transfer: Transferring,
    timers: Vec<TimerId>,
}

impl LyncCall {
    fn is_callers(&self) -> bool {
        self.script.as_ref().is_some_and(|s| s.caller == self.user)
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum PoolTimer {
    Answer(CallHandle),
    Hangup(CallHandle),
    Abandon(CallHandle),
    Hold(CallHandle),
    Resume(CallHandle),
    Transfer(CallHandle),
    Refer(CallHandle),
    GiveUp(CallHandle),
}

/// Counters of a pool.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub calls_placed: u64,
    pub calls_offered: u64,
    pub holds_refused: u64,
    pub transfers_completed: u64,
    pub transfers_failed: u64,
}

/// A pool of Lync clients (see the module docs).
pub struct LyncPool {
    cfg: PoolConfig,
    ua: UserAgent,
    calls: FastMap<CallHandle, LyncCall>,
    by_tag: FastMap<CallTag, Vec<CallHandle>>,
    /// Live calls of each tag's caller in this pool.
    caller_calls: FastMap<CallTag, u32>,
    timers: TimerQueue<PoolTimer>,
    failed: bool,
    restart: SimRng,
    stats: PoolStats,
}

impl LyncPool {
    pub(crate) fn new(cfg: PoolConfig, mut rng: SimRng) -> LyncPool {
        let restart = SimRng::from_rng(&mut rng);
        LyncPool {
            ua: Self::user_agent(&cfg, rng),
            cfg,
            calls: FastMap::default(),
            by_tag: FastMap::default(),
            caller_calls: FastMap::default(),
            timers: TimerQueue::default(),
            failed: false,
            restart,
            stats: PoolStats::default(),
        }
    }

    fn user_agent(cfg: &PoolConfig, rng: SimRng) -> UserAgent {
        let mut ua = UaConfig::new(&cfg.name, SocketAddr::V4(cfg.sip));
        ua.transport = cfg.transport;
        ua.domain = cfg.domain.clone();
        ua.media = cfg.media.clone();
        ua.outbound_proxy = Some(cfg.front_end);
        ua.product = Some("UCCAPI/15.0 OC/15.0 (Microsoft Lync)".into());
        UserAgent::new(ua, rng)
    }

    pub fn stats(&self) -> PoolStats {
        self.stats
    }

    /// SIP calls in progress.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Whether `number` is one of the pool's users.
    pub fn hosts(&self, number: &str) -> bool {
        self.cfg.users.iter().any(|r| r.index_of(number).is_some())
    }

    fn caps_at(&self, local: SocketAddrV4) -> MediaCapabilities {
        let mut caps = self.cfg.media.clone();
        caps.address = local.ip().to_string();
        caps.port = local.port();
        caps
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

    fn arm(&mut self, at: SimTime, t: PoolTimer) {
        let h = match t {
            PoolTimer::Answer(h)
            | PoolTimer::Hangup(h)
            | PoolTimer::Abandon(h)
            | PoolTimer::Hold(h)
            | PoolTimer::Resume(h)
            | PoolTimer::Transfer(h)
            | PoolTimer::Refer(h)
            | PoolTimer::GiveUp(h) => h,
        };
        let id = self.timers.arm(at, t);
        if let Some(c) = self.calls.get_mut(&h) {
            c.timers.push(id);
        }
    }

    /// Registers a new call of the pool.
    fn insert(&mut self, handle: CallHandle, call: LyncCall) {
        if let Some(t) = call.tag {
            self.by_tag.entry(t).or_default().push(handle);
            if call.is_callers() {
                *self.caller_calls.entry(t).or_default() += 1;
            }
        }
        self.calls.insert(handle, call);
    }

    /// Opens the call's media session, or updates it (direction, remote, phase).
    fn media(&mut self, cx: &mut Cx<'_>, handle: CallHandle, neg: &Negotiated, phase: CallPhase) {
        if !self.cfg.media_on {
            return;
        }
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let Some(tag) = call.tag else { return };
        let Some(ip) = cx.resolve_host(&neg.remote_address) else {
            return;
        };
        let remote = SocketAddrV4::new(ip, neg.remote_port);
        let direction = rtp_direction(neg.direction);
        if call.media_open {
            cx.update_media(call.media_local, MediaUpdate::Remote(remote));
            cx.update_media(call.media_local, MediaUpdate::Phase(phase));
            cx.update_media(call.media_local, MediaUpdate::Direction(direction));
            return;
        }
        let Ok(config) = media_config(neg, &self.cfg.policy, &call.user) else {
            return;
        };
        let spec = MediaSpec {
            local: call.media_local,
            remote,
            config,
            tag,
            role: call.role,
            phase,
            direction,
            upstream: Vec::new(),
            extra_delay: SimDuration::ZERO,
            muted: call.muted,
        };
        if cx.open_media(spec).is_ok() {
            call.media_open = true;
        }
    }

    /// Forgets a finished call: its timers, its media, and, for the caller's last call,
    /// notes `Ended`.
    fn end(&mut self, cx: &mut Cx<'_>, handle: CallHandle) {
        let Some(call) = self.calls.remove(&handle) else {
            return;
        };
        for id in &call.timers {
            self.timers.cancel(*id);
        }
        if call.media_open {
            cx.close_media(call.media_local);
        }
        let Some(tag) = call.tag else { return };
        if let Some(v) = self.by_tag.get_mut(&tag) {
            v.retain(|h| *h != handle);
            if v.is_empty() {
                self.by_tag.remove(&tag);
            }
        }
        if call.is_callers() {
            let left = self.caller_calls.get_mut(&tag).map(|n| {
                *n = n.saturating_sub(1);
                *n
            });
            if left == Some(0) {
                self.caller_calls.remove(&tag);
                cx.note(tag, super::callbook::CallNote::Ended);
            }
        }
    }
}

impl NetworkElement for LyncPool {
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
        if self.failed {
            return;
        }
        let now = cx.now();
        if self.ua.poll_timeout().is_some_and(|t| t <= now) {
            self.ua.handle_timeout(now);
        }
        self.pump(cx);
        while let Some(t) = self.timers.pop_due(now) {
            self.fire(cx, t);
            self.pump(cx);
        }
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
        let caller_early = self.by_tag.get(&tag).is_some_and(|hs| {
            hs.iter().any(|h| {
                self.calls.get(h).is_some_and(|c| {
                    c.role == PartyRole::Caller && c.outgoing && c.answered_at.is_none()
                })
            })
        });
        if caller_early {
            cx.note(tag, super::callbook::CallNote::EarlyMediaHeard);
        }
    }

    fn on_command(&mut self, cx: &mut Cx<'_>, command: Command) {
        match command {
            Command::PlaceCall { tag } if !self.failed => {
                self.place_call(cx, tag);
                self.pump(cx);
            }
            Command::Fail => {
                self.failed = true;
                let mut handles: Vec<CallHandle> = self.calls.keys().copied().collect();
                handles.sort();
                for h in handles {
                    self.end(cx, h);
                }
                let rng = SimRng::from_rng(&mut self.restart);
                self.ua = Self::user_agent(&self.cfg, rng);
                self.timers = TimerQueue::default();
                self.by_tag = FastMap::default();
                self.caller_calls = FastMap::default();
            }
            Command::Repair => self.failed = false,
            _ => {}
        }
    }
}
