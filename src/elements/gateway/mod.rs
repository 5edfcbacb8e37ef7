//! SIP-PSTN gateways: SIP toward a Mediation Server (Basic Gateway) or straight to the
//! Front End (Basic Hybrid: the appliance runs the Mediation role itself, one hop fewer),
//! and ISDN PRI trunk groups toward the PSTN and/or a TDM PBX.
//!
//! Capability and capacity come from the vendor model: spans, concurrent calls, codecs,
//! transport, PRACK, failover responses. Interworking follows RFC 3398:
//! - INVITE → seize a B-channel (hunting the links in order, lowest span and channel first)
//!   → SETUP; ALERTING → 180 (183 with SDP and early media when the tones are in-band);
//!   PROGRESS → 183 with SDP (an IVR's early media); CONNECT → 200; DISCONNECT causes →
//!   SIP statuses (`isdn::cause_to_status`). Every channel busy → the configured status
//!   (503) and `Blocked`; every span out of service → the span-down status, no `Blocked`.
//! - SETUP → INVITE to the Lync side (or the PBX that hosts the number), trying the next
//!   peer on 503/504/timeout; 180 → ALERTING, 183 with SDP → PROGRESS, 200 → CONNECT,
//!   failures → DISCONNECT with the RFC 3398 §8.2.6.1 cause.
//! - The gateway terminates RTP for the PSTN party (its role from the script), adding the
//!   TDM tail's delay; in-band DTMF on the TDM side ↔ RFC 4733 on the IP side.
//! - A span taken out of service (`Command::SpanState`) loses its calls (their SIP side is
//!   cleared), is skipped by hunting, and the far end of the link is told.
//! - A crash releases every TDM call (the far end sees the D-channel fail) and forgets the
//!   SIP side; repair restarts empty.
//!
//! Nothing here reads a clock: Q.931 timers (T303, T305, T308) live in the element's
//! `TimerQueue`.

pub(crate) mod isdn;
pub(crate) mod party_media;
mod routing;
mod sip_side;
mod spec;
mod tdm_side;

pub use spec::{GatewayPeerSpec, GatewaySpec};

use super::CallTag;
use super::TdmPort;
use super::element::{Command, NetworkElement};
use super::host::Cx;
use super::media_policy::MediaPolicy;
use super::mediation::KeepaliveSpec;
use super::mediation::keepalive::Keepalive;
use super::numbering::NumberPlan;
use super::tdm::{CallRef, Cause, IsdnMessage};
use super::timers::{TimerId, TimerQueue};
use crate::rtp::SessionEvent;
use crate::sim::{RngFactory, SimDuration, SimTime};
use crate::sip::Transport;
use crate::sip::sdp::MediaCapabilities;
use crate::sip::ua::{CallHandle, ReferId, UaConfig, UserAgent};
use isdn::{CallRefs, Guard, IsdnLeg};
use party_media::PartyMedia;
use routing::{Link, Peer, Routing};
use std::collections::{BTreeMap, HashMap};
use std::net::{SocketAddr, SocketAddrV4};

/// A gateway's settings, resolved from its spec and vendor model.
#[derive(Clone, Debug)]
pub(crate) struct GatewayConfig {
    pub(crate) name: String,
    pub(crate) sip: SocketAddrV4,
    pub(crate) transport: Transport,
    pub(crate) hybrid: bool,
    /// Codecs, DTMF and CN it offers and accepts (the port is chosen per call).
    pub(crate) media: MediaCapabilities,
    pub(crate) policy: MediaPolicy,
    pub(crate) max_calls: u32,
    pub(crate) no_circuit_status: u16,
    pub(crate) span_down_status: u16,
    pub(crate) strict_rfc3398: bool,
    pub(crate) tdm_delay: SimDuration,
    pub(crate) reliable_provisionals: bool,
    pub(crate) keepalive: KeepaliveSpec,
    pub(crate) numbers: NumberPlan,
    pub(crate) kinds: BTreeMap<String, &'static str>,
}

/// Which way a call crosses the gateway.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum GwDir {
    SipToTdm,
    TdmToSip,
    /// Switched from one TDM link to another (PSTN → TDM PBX).
    TdmToTdm,
}

struct GwCall {
    tag: Option<CallTag>,
    dir: GwDir,
    sip: Option<CallHandle>,
    /// The TDM leg (for a switched call: the incoming one).
    tdm: Option<IsdnLeg>,
    /// A switched call's outgoing TDM leg.
    tdm_out: Option<IsdnLeg>,
    guard: Option<TimerId>,
    guard_out: Option<TimerId>,
    t303: Option<TimerId>,
    t303_expiries: u8,
    media: Option<PartyMedia>,
    answered: bool,
    /// 183 with SDP sent, or PROGRESS sent.
    early: bool,
    alerted: bool,
    /// TDM → SIP: the peers to try, and which one is being tried.
    peers: Vec<usize>,
    peer_try: usize,
    called: String,
    calling: Option<String>,
    restricted: bool,
    redirecting: Option<String>,
    /// Counts against the concurrent-call capacity.
    counted: bool,
    /// A transfer the peer asked for (REFER): (old leg, new leg, the REFER).
    transfer: Option<(CallHandle, CallHandle, ReferId)>,
    /// The SETUP sent (for T303 retransmission).
    setup: Option<IsdnMessage>,
    /// The SIP peer the call is with.
    peer_addr: Option<SocketAddrV4>,
}

impl GwCall {
    fn new(dir: GwDir, tag: Option<CallTag>, called: String) -> Self {
        GwCall {
            tag,
            dir,
            sip: None,
            tdm: None,
            tdm_out: None,
            guard: None,
            guard_out: None,
            t303: None,
            t303_expiries: 0,
            media: None,
            answered: false,
            early: false,
            alerted: false,
            peers: Vec::new(),
            peer_try: 0,
            called,
            calling: None,
            restricted: false,
            redirecting: None,
            counted: false,
            transfer: None,
            setup: None,
            peer_addr: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum GwTimer {
    /// T305/T308 of a call's leg (`out`: the switched call's outgoing leg).
    Guard {
        id: u64,
        out: bool,
    },
    T303(u64),
    Keepalive,
}

/// What the gateway did, for reports and tests.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// INVITEs from the SIP side.
    pub sip_calls: u64,
    /// SETUPs from the TDM side.
    pub tdm_calls: u64,
    /// Calls refused because every B-channel was busy.
    pub blocked: u64,
    /// Calls refused because every span needed was out of service.
    pub spans_down: u64,
    /// Calls refused beyond the concurrent-call capacity.
    pub rejected_capacity: u64,
    /// Calls lost when their span went out of service.
    pub dropped_by_span: u64,
    /// Calls from the TDM side moved to the next SIP peer.
    pub failovers: u64,
    pub transfers: u64,
}

/// A SIP-PSTN gateway (see the module docs).
pub struct Gateway {
    cfg: GatewayConfig,
    routing: Routing,
    ua: UserAgent,
    keepalive: Keepalive,
    calls: BTreeMap<u64, GwCall>,
    by_sip: HashMap<CallHandle, u64>,
    by_tdm: HashMap<(TdmPort, CallRef), u64>,
    by_tag: HashMap<CallTag, u64>,
    next_id: u64,
    timers: TimerQueue<GwTimer>,
    refs: CallRefs,
    active: u32,
    failed: bool,
    rngs: RngFactory,
    restarts: u64,
    stats: GatewayStats,
    /// Where the datagram being handled came from.
    last_remote: Option<SocketAddrV4>,
}

impl Gateway {
    pub(crate) fn new(
        cfg: GatewayConfig,
        peers: Vec<Peer>,
        links: Vec<Link>,
        rngs: RngFactory,
    ) -> Self {
        let keepalive = Keepalive::new(&cfg.keepalive, peers.len(), SimTime::ZERO);
        let routing = Routing::new(peers, links, cfg.numbers.clone(), cfg.kinds.clone());
        let ua = Self::agent(&cfg, &rngs, 0);
        let mut g = Gateway {
            cfg,
            routing,
            ua,
            keepalive,
            calls: BTreeMap::new(),
            by_sip: HashMap::new(),
            by_tdm: HashMap::new(),
            by_tag: HashMap::new(),
            next_id: 0,
            timers: TimerQueue::default(),
            refs: CallRefs::new(),
            active: 0,
            failed: false,
            rngs,
            restarts: 0,
            stats: GatewayStats::default(),
            last_remote: None,
        };
        g.arm_keepalive();
        g
    }

    fn agent(cfg: &GatewayConfig, rngs: &RngFactory, restarts: u64) -> UserAgent {
        let mut c = UaConfig::new("gateway", SocketAddr::V4(cfg.sip));
        c.transport = cfg.transport;
        c.media = cfg.media.clone();
        c.media.address = cfg.sip.ip().to_string();
        c.follow_redirects = false;
        c.supports_100rel = cfg.reliable_provisionals;
        UserAgent::new(c, rngs.indexed_stream(&cfg.name, "sip", restarts))
    }

    /// What the gateway did so far.
    pub fn stats(&self) -> GatewayStats {
        self.stats
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Runs the Basic Hybrid configuration (the Mediation role on the appliance).
    pub fn is_hybrid(&self) -> bool {
        self.cfg.hybrid
    }

    /// Whether the keepalive holds SIP peer `name` up.
    pub fn peer_up(&self, name: &str) -> Option<bool> {
        let i = self.routing.peers.iter().position(|p| p.name == name)?;
        Some(self.keepalive.is_up(i))
    }

    fn arm_keepalive(&mut self) {
        self.timers.retain(|t| *t != GwTimer::Keepalive);
        if let Some(at) = self.keepalive.next() {
            self.timers.arm(at, GwTimer::Keepalive);
        }
    }

    fn run_keepalive(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now();
        for i in self.keepalive.due(now) {
            let peer = self.routing.peers[i].addr;
            let target = crate::sip::wire::Uri::Sip(crate::sip::wire::SipUri::new(
                None,
                crate::sip::wire::Host::from(std::net::IpAddr::V4(*peer.ip())),
                Some(peer.port()),
            ));
            if let Ok(h) = self.ua.options(now, target, Some(SocketAddr::V4(peer))) {
                self.keepalive.sent(h.0, i);
            }
        }
        self.arm_keepalive();
    }

    fn new_call(&mut self, call: GwCall) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        if let Some(t) = call.tag {
            self.by_tag.insert(t, id);
        }
        self.calls.insert(id, call);
        id
    }

    /// Takes a concurrent-call slot; false when the gateway is full.
    fn take_slot(&mut self, id: u64) -> bool {
        if self.active >= self.cfg.max_calls {
            return false;
        }
        self.active += 1;
        if let Some(c) = self.calls.get_mut(&id) {
            c.counted = true;
        }
        true
    }

    /// Acts on what a clearing step of a leg asked for.
    fn guard(&mut self, cx: &mut Cx<'_>, id: u64, out: bool, g: Guard) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let slot = if out { &mut c.guard_out } else { &mut c.guard };
        match g {
            Guard::Arm(d) => {
                if let Some(t) = slot.take() {
                    self.timers.cancel(t);
                }
                *slot = Some(self.timers.arm(cx.now() + d, GwTimer::Guard { id, out }));
            }
            Guard::Cleared => {
                if let Some(t) = slot.take() {
                    self.timers.cancel(t);
                }
                if let Some(t) = c.t303.take() {
                    self.timers.cancel(t);
                }
                self.maybe_done(cx, id);
            }
            Guard::None => {}
        }
    }

    /// Forgets a call once both its sides are over.
    fn maybe_done(&mut self, cx: &mut Cx<'_>, id: u64) {
        let done = self.calls.get(&id).is_some_and(|c| {
            let cleared = |l: &Option<IsdnLeg>| {
                l.as_ref()
                    .is_none_or(|l| l.state == isdn::LegState::Cleared)
            };
            c.sip.is_none() && c.transfer.is_none() && cleared(&c.tdm) && cleared(&c.tdm_out)
        });
        if !done {
            return;
        }
        let Some(mut c) = self.calls.remove(&id) else {
            return;
        };
        if let Some(m) = c.media.as_mut() {
            m.close(cx);
        }
        for leg in [&c.tdm, &c.tdm_out].into_iter().flatten() {
            self.by_tdm.remove(&(leg.port, leg.call_ref));
        }
        for t in [c.guard, c.guard_out, c.t303].into_iter().flatten() {
            self.timers.cancel(t);
        }
        if let Some(t) = c.tag {
            if self.by_tag.get(&t) == Some(&id) {
                self.by_tag.remove(&t);
            }
        }
        if c.counted {
            self.active = self.active.saturating_sub(1);
        }
    }

    /// The Q.850 cause for a SIP failure (RFC 3398 §8.2.6.1).
    fn cause_for(status: u16) -> Cause {
        Cause::from_sip_status(status)
    }

    fn on_guard(&mut self, cx: &mut Cx<'_>, id: u64, out: bool) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if out {
            c.guard_out = None;
        } else {
            c.guard = None;
        }
        let leg = if out {
            c.tdm_out.as_mut()
        } else {
            c.tdm.as_mut()
        };
        let Some(leg) = leg else { return };
        let g = leg.on_guard(cx);
        self.guard(cx, id, out, g);
    }

    fn crash(&mut self, cx: &mut Cx<'_>) {
        self.failed = true;
        let ids: Vec<u64> = self.calls.keys().copied().collect();
        for id in ids {
            let Some(mut c) = self.calls.remove(&id) else {
                continue;
            };
            if let Some(m) = c.media.as_mut() {
                m.close(cx);
            }
            // The far end sees the D-channel fail and clears the calls (the layer 2
            // failure is signalled as RELEASE COMPLETE, cause 38 network out of order).
            for leg in [c.tdm.as_mut(), c.tdm_out.as_mut()].into_iter().flatten() {
                if leg.state != isdn::LegState::Cleared {
                    leg.send(
                        cx,
                        IsdnMessage::ReleaseComplete {
                            call_ref: leg.call_ref,
                            cause: Cause::NETWORK_OUT_OF_ORDER,
                        },
                    );
                    leg.clear(cx);
                }
            }
        }
        self.by_sip.clear();
        self.by_tdm.clear();
        self.by_tag.clear();
        self.timers = TimerQueue::default();
        self.active = 0;
        self.restarts += 1;
        self.ua = Self::agent(&self.cfg, &self.rngs, self.restarts);
    }

    /// A span of one of the gateway's links went out of service or came back.
    fn span_state(&mut self, cx: &mut Cx<'_>, port: TdmPort, span: u16, in_service: bool) {
        let Some(link) = self.routing.link_of(port) else {
            return;
        };
        let was = cx.trunk_group(port).span_in_service(span);
        let changed = was != in_service;
        cx.set_span(port, span, in_service);
        if !in_service {
            let lost: Vec<(u64, bool)> = self
                .calls
                .iter()
                .flat_map(|(id, c)| {
                    [(&c.tdm, false), (&c.tdm_out, true)]
                        .into_iter()
                        .filter_map(move |(l, out)| {
                            l.as_ref()
                                .filter(|l| {
                                    l.port == port
                                        && l.channel.span == span
                                        && l.state != isdn::LegState::Cleared
                                })
                                .map(|_| (*id, out))
                        })
                })
                .collect();
            for (id, out) in lost {
                self.stats.dropped_by_span += 1;
                self.lose_leg(cx, id, out);
            }
        }
        if changed {
            // Both ends of a span see it fail: tell the far end (which then finds the span
            // already down and only clears its own calls).
            let far = self.routing.links[link].far_id;
            cx.command(
                far,
                Command::SpanState {
                    port: port.peer(),
                    span,
                    in_service,
                },
            );
        }
    }

    /// A leg's span died under it: the rest of the call is cleared.
    fn lose_leg(&mut self, cx: &mut Cx<'_>, id: u64, out: bool) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let leg = if out {
            c.tdm_out.as_mut()
        } else {
            c.tdm.as_mut()
        };
        if let Some(l) = leg {
            l.span_lost();
        }
        let status = self.cfg.span_down_status;
        match c.dir {
            GwDir::TdmToTdm => {
                let other = if out {
                    c.tdm.as_mut()
                } else {
                    c.tdm_out.as_mut()
                };
                if let Some(o) = other {
                    let g = o.disconnect(cx, Cause::NETWORK_OUT_OF_ORDER);
                    self.guard(cx, id, !out, g);
                }
            }
            _ => self.end_sip(cx, id, status),
        }
        self.guard(cx, id, out, Guard::Cleared);
    }
}

impl NetworkElement for Gateway {
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
        self.last_remote = Some(remote);
        self.ua
            .handle_datagram(cx.now(), SocketAddr::V4(remote), payload);
        self.pump(cx);
        self.last_remote = None;
    }

    fn on_isdn(&mut self, cx: &mut Cx<'_>, port: TdmPort, msg: IsdnMessage) {
        if self.failed {
            return;
        }
        self.handle_isdn(cx, port, msg);
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
        while let Some(t) = self.timers.pop_due(now) {
            match t {
                GwTimer::Keepalive => self.run_keepalive(cx),
                GwTimer::Guard { id, out } => self.on_guard(cx, id, out),
                GwTimer::T303(id) => self.on_t303(cx, id),
            }
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
        let Some(&id) = self.by_tag.get(&tag) else {
            return;
        };
        let Some(c) = self.calls.get(&id) else { return };
        match event {
            SessionEvent::EarlyMediaStarted => {
                let caller = c
                    .media
                    .as_ref()
                    .is_some_and(|m| m.role == super::callbook::PartyRole::Caller);
                if caller && !c.answered {
                    cx.note(tag, super::callbook::CallNote::EarlyMediaHeard);
                }
            }
            SessionEvent::DtmfReceived { digit, .. } => {
                if let Some(leg) = c.tdm.as_ref() {
                    leg.send(
                        cx,
                        IsdnMessage::InbandDigits {
                            call_ref: leg.call_ref,
                            digits: digit.to_string(),
                        },
                    );
                }
            }
            _ => {}
        }
    }

    fn on_command(&mut self, cx: &mut Cx<'_>, command: Command) {
        match command {
            Command::Fail if !self.failed => self.crash(cx),
            Command::Repair if self.failed => {
                self.failed = false;
                self.keepalive.reset(cx.now());
                self.arm_keepalive();
            }
            Command::SpanState {
                port,
                span,
                in_service,
            } => {
                self.span_state(cx, port, span, in_service);
                self.pump(cx);
            }
            _ => {}
        }
    }
}
