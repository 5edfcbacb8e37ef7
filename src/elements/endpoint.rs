//! A plain SIP user agent element: the built-in `uas` model, and the simplest phone.
//!
//! It answers calls as their script says (or after a fixed delay when a call has no
//! script, as RFC 3261's plain UAS would), places calls when told to, and runs media for
//! each call with the media engine. Lync clients, PSTN parties behind SIP trunks and test
//! peers build on the same pattern.

use super::CallTag;
use super::callbook::{CallNote, PartyRole};
use super::element::{Command, NetworkElement};
use super::host::{Cx, MediaSpec, MediaUpdate};
use super::media_policy::{MediaPolicy, media_config, rtp_direction};
use super::script::{AnswerAction, CallScript};
use super::timers::TimerQueue;
use crate::rtp::{CallPhase, SessionEvent};
use crate::sim::{SimDuration, SimRng, SimTime};
use crate::sip::Transport;
use crate::sip::sdp::{Direction as SdpDirection, MediaCapabilities, Negotiated};
use crate::sip::ua::{CallHandle, CallParams, UaConfig, UaEvent, UserAgent};
use crate::sip::wire::{HeaderName, Host, NameAddr, SipUri, Uri};
use std::collections::BTreeMap;
use std::net::{SocketAddr, SocketAddrV4};
use std::rc::Rc;

/// How an endpoint is set up.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    pub name: String,
    /// Where it sends and receives SIP.
    pub sip: SocketAddrV4,
    pub transport: Transport,
    /// The domain of its From and Request-URIs.
    pub domain: String,
    /// Where outgoing INVITEs go (an outbound proxy), else straight to the callee's host.
    pub proxy: Option<SocketAddrV4>,
    /// Codecs, telephone-event and CN it offers; the port is chosen per call.
    pub media: MediaCapabilities,
    pub policy: MediaPolicy,
    /// Answer delay for calls without a script (a plain UAS).
    pub auto_answer: SimDuration,
    /// Ask for reliable provisional responses (100rel) on outgoing INVITEs.
    pub require_100rel: bool,
}

struct EpCall {
    tag: Option<CallTag>,
    role: PartyRole,
    media_local: SocketAddrV4,
    media_open: bool,
    answered: bool,
    script: Option<Rc<CallScript>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum EpTimer {
    Answer(CallHandle),
    Hangup(CallHandle),
    Abandon(CallHandle),
    Hold(CallHandle),
    Resume(CallHandle),
}

/// A plain SIP endpoint.
pub struct SipEndpoint {
    cfg: EndpointConfig,
    ua: UserAgent,
    calls: BTreeMap<CallHandle, EpCall>,
    timers: TimerQueue<EpTimer>,
    failed: bool,
}

impl SipEndpoint {
    pub fn new(cfg: EndpointConfig, rng: SimRng) -> SipEndpoint {
        let mut ua_cfg = UaConfig::new(&cfg.name, SocketAddr::V4(cfg.sip));
        ua_cfg.transport = cfg.transport;
        ua_cfg.domain = cfg.domain.clone();
        ua_cfg.media = cfg.media.clone();
        ua_cfg.require_100rel = cfg.require_100rel;
        ua_cfg.outbound_proxy = cfg.proxy.map(SocketAddr::V4);
        SipEndpoint {
            ua: UserAgent::new(ua_cfg, rng),
            cfg,
            calls: BTreeMap::new(),
            timers: TimerQueue::default(),
            failed: false,
        }
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    fn caps_at(&self, local: SocketAddrV4) -> MediaCapabilities {
        let mut caps = self.cfg.media.clone();
        caps.address = local.ip().to_string();
        caps.port = local.port();
        caps
    }

    /// Moves everything the user agent queued out: datagrams to the network, events to
    /// [`SipEndpoint::on_event`], until both are empty.
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

    fn place_call(&mut self, cx: &mut Cx<'_>, tag: CallTag) {
        let Some(script) = cx.script(tag) else { return };
        let local = cx.allocate_media(*self.cfg.sip.ip());
        let to = sip_uri(&script.dialled, &self.cfg.domain);
        let mut params = CallParams::new(to);
        params.from = Some(NameAddr::new(sip_uri(&script.caller, &self.cfg.domain)));
        params.media = Some(self.caps_at(local));
        if script.anonymous {
            params.headers.push((HeaderName::Privacy, "id".to_string()));
        }
        let Ok(handle) = self.ua.call(cx.now(), params) else {
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
        if let Some(id) = self.ua.call_id(handle) {
            cx.bind_call_id(id, tag);
        }
        cx.note(tag, CallNote::Hop);
        self.timers
            .arm(cx.now() + script.abandon_after, EpTimer::Abandon(handle));
        self.calls.insert(
            handle,
            EpCall {
                tag: Some(tag),
                role: PartyRole::Caller,
                media_local: local,
                media_open: false,
                answered: false,
                script: Some(script),
            },
        );
    }

    fn open_or_update_media(
        &mut self,
        cx: &mut Cx<'_>,
        handle: CallHandle,
        neg: &Negotiated,
        phase: CallPhase,
    ) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let Some(tag) = call.tag else {
            // Unscripted calls still carry media so that a live peer hears something; the
            // call book ignores them.
            return;
        };
        let Some(ip) = cx.resolve_host(&neg.remote_address) else {
            return;
        };
        let remote = SocketAddrV4::new(ip, neg.remote_port);
        if call.media_open {
            cx.update_media(call.media_local, MediaUpdate::Remote(remote));
            cx.update_media(call.media_local, MediaUpdate::Phase(phase));
            cx.update_media(
                call.media_local,
                MediaUpdate::Direction(rtp_direction(neg.direction)),
            );
            return;
        }
        let Ok(config) = media_config(neg, &self.cfg.policy, &self.cfg.name) else {
            return;
        };
        let spec = MediaSpec {
            local: call.media_local,
            remote,
            config,
            tag,
            role: call.role,
            phase,
            direction: rtp_direction(neg.direction),
            upstream: Vec::new(),
            extra_delay: SimDuration::ZERO,
            muted: false,
        };
        if cx.open_media(spec).is_ok() {
            call.media_open = true;
        }
    }

    fn end(&mut self, cx: &mut Cx<'_>, handle: CallHandle) {
        let Some(call) = self.calls.remove(&handle) else {
            return;
        };
        self.timers.retain(|t| !matches!(t, EpTimer::Answer(h) | EpTimer::Hangup(h) | EpTimer::Abandon(h) | EpTimer::Hold(h) | EpTimer::Resume(h) if *h == handle));
        if call.media_open {
            cx.close_media(call.media_local);
        }
        if let (Some(tag), PartyRole::Caller) = (call.tag, call.role) {
            cx.note(tag, CallNote::Ended);
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, ev: UaEvent) {
        let now = cx.now();
        match ev {
            UaEvent::IncomingCall { call, request, .. } => {
                let tag = request
                    .headers
                    .get(HeaderName::CallId)
                    .and_then(|id| cx.tag_of(id));
                let number = request.uri.user().unwrap_or_default().to_string();
                let script = tag.and_then(|t| cx.script(t));
                let local = cx.allocate_media(*self.cfg.sip.ip());
                self.calls.insert(
                    call,
                    EpCall {
                        tag,
                        role: PartyRole::Callee,
                        media_local: local,
                        media_open: false,
                        answered: false,
                        script: script.clone(),
                    },
                );
                if let Some(t) = tag {
                    cx.note(t, CallNote::Hop);
                }
                let action = match &script {
                    Some(s) => s.action_for(&number),
                    None => AnswerAction::Answer {
                        after: self.cfg.auto_answer,
                    },
                };
                match action {
                    AnswerAction::Busy => {
                        let _ = self.ua.reject(now, call, 486, "Busy Here", &[]);
                    }
                    AnswerAction::Decline => {
                        let _ = self.ua.reject(now, call, 603, "Decline", &[]);
                    }
                    AnswerAction::Answer { after } => {
                        let _ = self.ua.ring(now, call, 180, false, false);
                        self.timers.arm(now + after, EpTimer::Answer(call));
                    }
                    AnswerAction::NoAnswer | AnswerAction::Voicemail { .. } => {
                        let _ = self.ua.ring(now, call, 180, false, false);
                    }
                }
            }
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
                    Some(neg) => self.open_or_update_media(cx, call, &neg, CallPhase::EarlyMedia),
                    None if status == 180 => cx.note(tag, CallNote::RingbackHeard),
                    None => {}
                }
            }
            UaEvent::Answered { call, media } | UaEvent::Confirmed { call, media } => {
                let Some(c) = self.calls.get_mut(&call) else {
                    return;
                };
                if c.answered {
                    return;
                }
                c.answered = true;
                let (tag, role, script) = (c.tag, c.role, c.script.clone());
                if let Some(neg) = media.or_else(|| self.ua.media(call).cloned()) {
                    self.open_or_update_media(cx, call, &neg, CallPhase::Connected);
                }
                if let (Some(tag), PartyRole::Caller) = (tag, role) {
                    cx.note(tag, CallNote::Answered);
                    self.timers.retain(|t| *t != EpTimer::Abandon(call));
                    if let Some(s) = script {
                        self.timers.arm(now + s.holding, EpTimer::Hangup(call));
                        if let Some(h) = s.hold.filter(|h| h.by_caller) {
                            self.timers.arm(now + h.after, EpTimer::Hold(call));
                        }
                        if let Some(digits) = &s.dtmf {
                            if let Some(c) = self.calls.get(&call).filter(|c| c.media_open) {
                                cx.update_media(c.media_local, MediaUpdate::Dtmf(digits.clone()));
                            }
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
            UaEvent::Cancelled { call } | UaEvent::Terminated { call, .. } => self.end(cx, call),
            UaEvent::MediaChanged { call, media, .. } => {
                if let Some(c) = self.calls.get(&call).filter(|c| c.media_open) {
                    cx.update_media(
                        c.media_local,
                        MediaUpdate::Direction(rtp_direction(media.direction)),
                    );
                }
            }
            _ => {}
        }
    }

    fn fire(&mut self, cx: &mut Cx<'_>, timer: EpTimer) {
        let now = cx.now();
        match timer {
            EpTimer::Answer(call) => {
                if let Some(c) = self.calls.get(&call) {
                    let caps = self.caps_at(c.media_local);
                    let answer = self.ua.remote_offer(call).and_then(|offer| {
                        caps.answer(offer, call.0, 1, SdpDirection::SendRecv).ok()
                    });
                    let _ = match answer {
                        Some(sdp) => self.ua.answer_with_sdp(now, call, sdp),
                        None => self.ua.answer(now, call),
                    };
                }
            }
            EpTimer::Hangup(call) => {
                let _ = self.ua.hangup(now, call);
            }
            EpTimer::Abandon(call) => {
                if let Some(tag) = self.calls.get(&call).and_then(|c| c.tag) {
                    cx.note(tag, CallNote::Abandoned);
                }
                let _ = self.ua.cancel(now, call);
            }
            EpTimer::Hold(call) => {
                let _ = self.ua.hold(now, call, SdpDirection::SendOnly);
                let duration = self
                    .calls
                    .get(&call)
                    .and_then(|c| c.script.as_ref())
                    .and_then(|s| s.hold)
                    .map(|h| h.duration);
                if let Some(d) = duration {
                    self.timers.arm(now + d, EpTimer::Resume(call));
                }
            }
            EpTimer::Resume(call) => {
                let _ = self.ua.resume(now, call);
            }
        }
    }
}

impl NetworkElement for SipEndpoint {
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
        while let Some(timer) = self.timers.pop_due(now) {
            self.fire(cx, timer);
        }
        self.pump(cx);
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        match (self.ua.poll_timeout(), self.timers.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_media(&mut self, cx: &mut Cx<'_>, tag: CallTag, event: SessionEvent) {
        let caller = self
            .calls
            .values()
            .any(|c| c.tag == Some(tag) && c.role == PartyRole::Caller);
        if caller && event == SessionEvent::EarlyMediaStarted {
            cx.note(tag, CallNote::EarlyMediaHeard);
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
                let handles: Vec<CallHandle> = self.calls.keys().copied().collect();
                for h in handles {
                    self.end(cx, h);
                }
            }
            Command::Repair => self.failed = false,
            _ => {}
        }
    }
}

/// `sip:user@domain` (the domain may be a host name or an IPv4 literal).
pub fn sip_uri(user: &str, domain: &str) -> Uri {
    let host = Host::parse(domain).unwrap_or_else(|_| Host::Domain(domain.to_string()));
    Uri::Sip(SipUri::new(Some(user), host, None))
}
