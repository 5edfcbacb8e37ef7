//! The IP-PBX element, driven by a vendor model through the behaviour engine.
//!
//! The PBX switches calls between three kinds of parties:
//! - its **stations**: the phones of its extensions (the number plan's `Pbx` ranges hosted
//!   by this element), internal TDM/proprietary sets with no SIP on the network, each with
//!   an observable line state (idle/ringing/busy) and display (who it shows as connected);
//!   hunt groups and call forwarding (all, busy, no answer) route among them;
//! - **PRI trunk groups** to the PSTN (Q.931 over the world's TDM links, B-channels hunted
//!   span by span);
//! - the **Direct SIP trunk** to the Mediation Server (SIP over the model's TCP/TLS transport
//!   and ports), and optionally a SIP trunk toward a provider.
//!
//! It is a B2BUA: every call has an origin leg and the destination legs it tried; two legs
//! are bridged once one answers. The PBX terminates media (RTP sessions at its own address)
//! for its phones, its voicemail and the PSTN parties behind its PRI (with the PSTN's delay
//! as `extra_delay`). Routing: Enterprise Voice numbers go over the Direct SIP trunk, its
//! extensions ring locally, everything else goes to the PRI (or the provider). It sends
//! OPTIONS keepalives (unless the model says it does not) and marks the trunk down after
//! missed ones, arms the Alternate Route Timer on INVITEs to Lync when the product has one,
//! fails over to its alternate route, enforces its SIP trunk licences, forks dual-forked
//! numbers to the phone and Lync at once, and reports line states by remote call control
//! (RFC 4235 `dialog` NOTIFYs to the Lync side, also kept in [`Pbx::rcc_log`]).
//!
//! Every product quirk is the behaviour engine's: the PBX asks it at each decision point
//! and notes the limitation IDs that acted. The PBX never reads a clock or a global RNG.

mod call;
mod control;
mod isdn_side;
mod media;
mod phones;
mod release;
mod route;
mod sip_side;
mod spec;
mod station;
mod transfer;

pub use spec::{DualForkingSpec, ForwardSpec, HuntGroupSpec, PbxSpec};
pub use station::{ForwardWhen, LineState, RccEvent, Station, StationTone};

use super::callbook::CallNote;
use super::element::{Command, NetworkElement};
use super::host::Cx;
use super::media_policy::MediaPolicy;
use super::numbering::NumberPlan;
use super::tdm::{CallRef, IsdnMessage};
use super::timers::TimerQueue;
use super::{CallTag, TdmPort};
use crate::rtp::SessionEvent;
use crate::sim::{SimDuration, SimRng, SimTime};
use crate::sip::Transport;
use crate::sip::sdp::MediaCapabilities;
use crate::sip::ua::{CallHandle, SessionTimerConfig, UaConfig, UserAgent};
use crate::vendor::{BehaviourEngine, SipTransport};
use call::{CallKey, PbxCall};
use station::Stations;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// Which extensions are dual-forked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DualForking {
    None,
    All,
    Numbers(BTreeSet<String>),
}

/// The resolved setup of a PBX (addresses instead of names).
#[derive(Clone, Debug)]
pub(crate) struct PbxSetup {
    pub name: String,
    pub sip: SocketAddrV4,
    pub ip: Ipv4Addr,
    /// The Mediation Server's gateway-side address.
    pub lync: SocketAddrV4,
    pub provider: Option<SocketAddrV4>,
    pub pri: Vec<TdmPort>,
    pub voicemail: Option<String>,
    pub alternate_route: Option<String>,
    pub dual_forking: DualForking,
    pub rcc_target: Option<SocketAddrV4>,
    pub options_interval: SimDuration,
    pub options_down_after: u32,
    pub sip_trunk_calls: u32,
    pub pstn_delay: SimDuration,
    pub codecs: Vec<crate::sip::sdp::Codec>,
    pub policy: MediaPolicy,
    pub plan: NumberPlan,
}

/// The PBX's logical timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PbxTimer {
    /// A ringing phone answers.
    PhoneAnswer {
        call: CallKey,
        leg: usize,
    },
    /// A ringing phone forwards on no answer (to its target, or to voicemail).
    RingNoAnswer {
        call: CallKey,
        leg: usize,
        target: String,
    },
    /// A phone caller hangs up after talking.
    CallerHangup {
        call: CallKey,
    },
    /// A phone that is not the caller hangs up (a transferee once the transfer is done).
    PartyHangup {
        call: CallKey,
        leg: usize,
    },
    /// A phone caller gives up before answer.
    CallerAbandon {
        call: CallKey,
    },
    /// A phone caller holds and resumes.
    CallerHold {
        call: CallKey,
    },
    CallerResume {
        call: CallKey,
    },
    /// The Alternate Route Timer of an INVITE to Lync.
    AlternateRoute {
        call: CallKey,
        leg: usize,
    },
    /// An unanswered transfer target is given up (the transfer recall timer).
    TransferRecall {
        call: CallKey,
        leg: usize,
    },
    /// The voicemail stops playing (`VoicemailAudioCut`).
    VoicemailCut {
        call: CallKey,
        leg: usize,
    },
    /// The next OPTIONS keepalive.
    Keepalive,
}

/// What the PBX counted during a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PbxReport {
    pub calls: u64,
    pub options_sent: u64,
    pub options_failed: u64,
    /// Times the trunk to Lync was marked down by missed OPTIONS.
    pub trunk_down_events: u64,
    pub alternate_route_timer_expiries: u64,
    pub failovers: u64,
    /// Calls refused for lack of SIP trunk licences.
    pub rejected_capacity: u64,
    /// Calls that found no free B-channel.
    pub blocked: u64,
    /// Remote call control NOTIFYs sent.
    pub rcc_notifies: u64,
    /// Requests refused by an ingress behaviour (hold, FQDN).
    pub refused_requests: u64,
    /// Limitation ID → times it acted.
    pub limitations: BTreeMap<String, u64>,
}

/// The state of the Direct SIP trunk as OPTIONS tell it.
#[derive(Clone, Debug, Default)]
pub(crate) struct TrunkHealth {
    pub down: bool,
    pub misses: u32,
}

/// An IP-PBX (see the module docs).
pub struct Pbx {
    pub(crate) setup: PbxSetup,
    pub(crate) engine: BehaviourEngine,
    pub(crate) ua: UserAgent,
    pub(crate) stations: Stations,
    pub(crate) calls: BTreeMap<CallKey, PbxCall>,
    pub(crate) next_key: CallKey,
    pub(crate) by_handle: HashMap<CallHandle, (CallKey, usize)>,
    pub(crate) by_call_id: HashMap<String, CallHandle>,
    pub(crate) by_isdn: HashMap<(TdmPort, CallRef), (CallKey, usize)>,
    pub(crate) by_tag: HashMap<CallTag, CallKey>,
    pub(crate) timers: TimerQueue<PbxTimer>,
    pub(crate) next_call_ref: u32,
    pub(crate) health: TrunkHealth,
    pub(crate) rng: SimRng,
    pub(crate) failed: bool,
    pub(crate) report: PbxReport,
    /// SIP trunk calls in progress (licences in use).
    pub(crate) trunk_calls: u32,
    /// The provider-side scenario of the INVITE being sent (for the egress filter).
    pub(crate) egress_call: Option<crate::vendor::CallScenario>,
    pub(crate) rcc_cseq: u32,
    /// Where the datagram being handled came from.
    pub(crate) last_remote: Option<SocketAddrV4>,
    ua_rng: SimRng,
}

/// How long a transfer target may ring before the transfer is given up (the PBX's
/// transfer recall timer; 20 s is a common default, assumed).
pub(crate) const TRANSFER_RECALL: SimDuration = SimDuration::from_secs(20);

/// Call references this PBX allocates carry this bit, so that they never collide with the
/// far end's on the same link (Q.931's call-reference flag).
const OWN_CALL_REF: u32 = 0x0080_0000;

impl Pbx {
    pub(crate) fn new(
        setup: PbxSetup,
        engine: BehaviourEngine,
        stations: Stations,
        ua_rng: SimRng,
        rng: SimRng,
    ) -> Pbx {
        let ua = Self::make_ua(&setup, &engine, ua_rng.clone());
        let mut timers = TimerQueue::default();
        if engine.keepalive() == crate::vendor::Keepalive::Send {
            timers.arm(SimTime::ZERO + setup.options_interval, PbxTimer::Keepalive);
        }
        Pbx {
            setup,
            engine,
            ua,
            stations,
            calls: BTreeMap::new(),
            next_key: 1,
            by_handle: HashMap::new(),
            by_call_id: HashMap::new(),
            by_isdn: HashMap::new(),
            by_tag: HashMap::new(),
            timers,
            next_call_ref: 1,
            health: TrunkHealth::default(),
            rng,
            failed: false,
            report: PbxReport::default(),
            trunk_calls: 0,
            egress_call: None,
            rcc_cseq: 0,
            last_remote: None,
            ua_rng,
        }
    }

    fn make_ua(setup: &PbxSetup, engine: &BehaviourEngine, rng: SimRng) -> UserAgent {
        let mut cfg = UaConfig::new(&setup.name, SocketAddr::V4(setup.sip));
        cfg.transport = match engine.config().lync.transport {
            SipTransport::Udp => Transport::Udp,
            SipTransport::Tcp => Transport::Tcp,
            SipTransport::Tls => Transport::Tls,
        };
        cfg.domain = setup.ip.to_string();
        cfg.product = Some(format!(
            "{} {}",
            engine.model().product,
            engine.model().version
        ));
        cfg.media = MediaCapabilities {
            codecs: setup.codecs.clone(),
            ..MediaCapabilities::g711(&setup.ip.to_string(), 0)
        };
        cfg.supports_100rel = engine.prack();
        cfg.session_timer = engine.session_timers().then(SessionTimerConfig::default);
        cfg.policy.accept_tel = true;
        UserAgent::new(cfg, rng)
    }

    /// The vendor model's behaviour engine (model and effective trunk configuration).
    pub fn engine(&self) -> &BehaviourEngine {
        &self.engine
    }

    /// A phone's state, once the PBX has used it.
    pub fn station(&self, number: &str) -> Option<&Station> {
        self.stations.get(number)
    }

    /// Every phone the PBX has used, by number.
    pub fn stations(&self) -> impl Iterator<Item = &Station> {
        self.stations.all()
    }

    /// Line-state reports sent by remote call control, in order.
    pub fn rcc_log(&self) -> &[RccEvent] {
        &self.stations.rcc_log
    }

    pub fn report(&self) -> &PbxReport {
        &self.report
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Whether OPTIONS have marked the trunk to Lync down.
    pub fn trunk_down(&self) -> bool {
        self.health.down
    }

    pub(crate) fn note_limitation(
        &mut self,
        cx: &mut Cx<'_>,
        tag: CallTag,
        id: &crate::vendor::LimitationId,
    ) {
        // Once per call: media decisions are asked again for every session of a call.
        if let Some(call) = self.by_tag.get(&tag).and_then(|k| self.calls.get_mut(k)) {
            if call.noted.iter().any(|n| n == id.as_str()) {
                return;
            }
            call.noted.push(id.as_str().to_string());
        }
        *self
            .report
            .limitations
            .entry(id.as_str().to_string())
            .or_default() += 1;
        cx.note(tag, CallNote::Limitation(id.as_str().to_string()));
    }

    pub(crate) fn new_call_ref(&mut self) -> CallRef {
        let r = CallRef(OWN_CALL_REF | self.next_call_ref);
        self.next_call_ref = (self.next_call_ref + 1) & (OWN_CALL_REF - 1);
        r
    }

    /// Everything queued after handling one input: SIP out, UA events in, RCC reports.
    fn after(&mut self, cx: &mut Cx<'_>) {
        self.pump(cx);
        self.send_rcc(cx);
    }

    fn fire(&mut self, cx: &mut Cx<'_>, timer: PbxTimer) {
        match timer {
            PbxTimer::PhoneAnswer { call, leg } => self.phone_answers(cx, call, leg),
            PbxTimer::RingNoAnswer { call, leg, target } => {
                self.phone_no_answer(cx, call, leg, &target)
            }
            PbxTimer::CallerHangup { call } => self.caller_hangs_up(cx, call),
            PbxTimer::CallerAbandon { call } => self.caller_abandons(cx, call),
            PbxTimer::PartyHangup { call, leg } => self.party_hangs_up(cx, call, leg),
            PbxTimer::CallerHold { call } => self.caller_holds(cx, call, true),
            PbxTimer::CallerResume { call } => self.caller_holds(cx, call, false),
            PbxTimer::AlternateRoute { call, leg } => self.alternate_route_expired(cx, call, leg),
            PbxTimer::VoicemailCut { call, leg } => self.voicemail_cut(cx, call, leg),
            PbxTimer::TransferRecall { call, leg } => self.transfer_recall(cx, call, leg),
            PbxTimer::Keepalive => self.send_keepalive(cx),
        }
    }

    /// The element crashes: every call is lost without signalling.
    fn crash(&mut self, cx: &mut Cx<'_>) {
        self.failed = true;
        let keys: Vec<CallKey> = self.calls.keys().copied().collect();
        for key in keys {
            self.drop_call(cx, key);
        }
        self.timers = TimerQueue::default();
    }

    /// Restarts with empty state.
    fn restart(&mut self) {
        self.failed = false;
        // A restarted PBX draws new identifiers (Call-IDs, tags, branches): a fresh stream
        // seeded from its own.
        use rand::{Rng, SeedableRng};
        self.ua_rng = SimRng::seed_from_u64(self.rng.random());
        self.ua = Self::make_ua(&self.setup, &self.engine, self.ua_rng.clone());
        self.calls.clear();
        self.by_handle.clear();
        self.by_call_id.clear();
        self.by_isdn.clear();
        self.by_tag.clear();
        self.health = TrunkHealth::default();
        self.trunk_calls = 0;
        if self.engine.keepalive() == crate::vendor::Keepalive::Send {
            self.timers.arm(
                SimTime::ZERO + self.setup.options_interval,
                PbxTimer::Keepalive,
            );
        }
    }
}

impl NetworkElement for Pbx {
    fn name(&self) -> &str {
        &self.setup.name
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
        if self.screen_ingress(cx, remote, payload) {
            self.after(cx);
            return;
        }
        self.ua
            .handle_datagram(cx.now(), SocketAddr::V4(remote), payload);
        self.after(cx);
    }

    fn on_isdn(&mut self, cx: &mut Cx<'_>, port: TdmPort, msg: IsdnMessage) {
        if self.failed {
            return;
        }
        self.handle_isdn(cx, port, msg);
        self.after(cx);
    }

    fn on_timeout(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now();
        if self.ua.poll_timeout().is_some_and(|t| t <= now) {
            self.ua.handle_timeout(now);
        }
        while let Some(timer) = self.timers.pop_due(now) {
            self.fire(cx, timer);
            self.pump(cx);
        }
        self.after(cx);
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
        // Only the caller's ear counts, and only while its media is in early phase. A call
        // that loops through Lync back to us (a PBX caller forwarded or simul-ringing to
        // the PSTN) has two calls of the same tag here, and `by_tag` names the later one
        // (Lync's leg to the PSTN), so the caller's call is looked for among them all.
        let caller_early = |c: &PbxCall| {
            let origin = c.origin();
            origin.is_local()
                && origin
                    .media
                    .as_ref()
                    .is_some_and(|m| m.open && m.phase == crate::rtp::CallPhase::EarlyMedia)
        };
        let latest = self.by_tag.get(&tag).and_then(|k| self.calls.get(k));
        let heard = latest.is_some_and(caller_early)
            || self.calls.values().any(|c| c.tag == tag && caller_early(c));
        if heard {
            cx.note(tag, CallNote::EarlyMediaHeard);
        }
    }

    fn on_command(&mut self, cx: &mut Cx<'_>, command: Command) {
        match command {
            Command::PlaceCall { tag } if !self.failed => {
                self.place_call(cx, tag);
                self.after(cx);
            }
            Command::PlaceCall { tag } => {
                // A dead PBX: the phone gets no dial tone.
                cx.note(
                    tag,
                    CallNote::FinalStatus {
                        status: 503,
                        detail: "PBX out of service".into(),
                    },
                );
                cx.note(tag, CallNote::Ended);
            }
            Command::Fail => self.crash(cx),
            Command::Repair => self.restart(),
            Command::SpanState {
                port,
                span,
                in_service,
            } => {
                let lost = cx.set_span(port, span, in_service);
                self.span_lost(cx, port, &lost);
                self.after(cx);
            }
        }
    }
}
