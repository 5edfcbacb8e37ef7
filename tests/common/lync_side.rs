//! A stand-in for the Lync side of the Direct SIP trunk (the Mediation Server with the Lync
//! clients behind it), for PBX tests: a real user agent on the Mediation Server's gateway
//! port that answers, rings with or without early media, holds, transfers (REFER, or a
//! connected-identity re-INVITE as Lync does with REFER off), and runs the Lync parties'
//! media. It reacts to a hold refusal that leaves the client muted as the Lync client does.

use bytes::Bytes;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::rc::Rc;
use voicetwin::elements::callbook::{CallNote, PartyRole};
use voicetwin::elements::host::{Cx, MediaSpec, MediaUpdate};
use voicetwin::elements::media_policy::{MediaPolicy, media_config, rtp_direction};
use voicetwin::elements::script::{AnswerAction, CallScript};
use voicetwin::elements::timers::TimerQueue;
use voicetwin::elements::{CallTag, Command, NetworkElement};
use voicetwin::rtp::{CallPhase, SessionEvent};
use voicetwin::sim::{RngFactory, SimDuration, SimTime};
use voicetwin::sip::Transport;
use voicetwin::sip::sdp::{AddrType, Direction, MediaCapabilities, Negotiated};
use voicetwin::sip::ua::{CallHandle, CallParams, UaConfig, UaEvent, UserAgent};
use voicetwin::sip::wire::{HeaderName, Host, Message, NameAddr, SipUri, Uri};
use voicetwin::vendor::hold_refusal_mutes_client;

/// How the Lync side behaves.
#[derive(Clone, Debug)]
pub struct LyncBehaviour {
    /// Incoming calls ring with 183 and SDP, and early RTP flows (a simul-ring target or
    /// an IVR behind Lync).
    pub early_media: bool,
    /// Provisional responses ask for PRACK (100rel).
    pub reliable: bool,
    /// The Mediation Server writes this FQDN in `c=`.
    pub fqdn: Option<String>,
    /// Media runs at this address (the Lync client, media bypass) instead of the
    /// Mediation Server's.
    pub media_ip: Option<Ipv4Addr>,
    /// Transfers go to the PBX as REFER; otherwise Lync re-INVITEs with the new identity.
    pub refer_transfers: bool,
    /// Outgoing INVITEs of forwarded calls carry History-Info (ForwardCallHistory on).
    pub history_info: bool,
    /// Incoming calls are rejected with this status.
    pub reject: Option<u16>,
    /// The Lync client answers after this long, whatever the script says.
    pub answer_after: Option<SimDuration>,
}

impl Default for LyncBehaviour {
    fn default() -> Self {
        LyncBehaviour {
            early_media: false,
            reliable: false,
            fqdn: None,
            media_ip: None,
            refer_transfers: true,
            history_info: false,
            reject: None,
            answer_after: None,
        }
    }
}

/// What the Lync side saw, for assertions.
#[derive(Clone, Debug, Default)]
pub struct LyncLog {
    pub incoming: Vec<(SimTime, String)>,
    pub modify_failed: Vec<u16>,
    pub refer_status: Vec<u16>,
    pub muted: u32,
    pub terminated: Vec<SimTime>,
}

struct LCall {
    tag: Option<CallTag>,
    role: PartyRole,
    local: SocketAddrV4,
    media_open: bool,
    answered: bool,
    caller: bool,
    script: Option<Rc<CallScript>>,
    number: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum LTimer {
    Answer(CallHandle),
    Hangup(CallHandle),
    Abandon(CallHandle),
    Hold(CallHandle),
    Resume(CallHandle),
    Transfer(CallHandle),
}

pub struct LyncSide {
    name: String,
    sip: SocketAddrV4,
    pbx: SocketAddrV4,
    cfg: LyncBehaviour,
    ua: UserAgent,
    calls: BTreeMap<CallHandle, LCall>,
    by_call_id: HashMap<String, CallHandle>,
    timers: TimerQueue<LTimer>,
    /// Call-ID → identity to assert on the next re-INVITE of that call.
    identity: HashMap<String, String>,
    dead: bool,
    /// Call-IDs whose reliable provisional got a valid PRACK.
    pracked: std::collections::HashSet<String>,
    /// Call-IDs whose INVITE supports 100rel.
    rel_ok: std::collections::HashSet<String>,
    pub log: Rc<RefCell<LyncLog>>,
}

impl LyncSide {
    pub fn new(
        sip: SocketAddrV4,
        pbx: SocketAddrV4,
        transport: Transport,
        cfg: LyncBehaviour,
    ) -> Self {
        let mut ua_cfg = UaConfig::new("mediation", SocketAddr::V4(sip));
        ua_cfg.transport = transport;
        ua_cfg.media = MediaCapabilities::g711(&sip.ip().to_string(), 0);
        LyncSide {
            name: "lync".into(),
            sip,
            pbx,
            cfg,
            ua: UserAgent::new(ua_cfg, RngFactory::new(9).stream("lync", "sip")),
            calls: BTreeMap::new(),
            by_call_id: HashMap::new(),
            timers: TimerQueue::default(),
            identity: HashMap::new(),
            dead: false,
            pracked: Default::default(),
            rel_ok: Default::default(),
            log: Rc::new(RefCell::new(LyncLog::default())),
        }
    }

    fn media_ip(&self) -> Ipv4Addr {
        self.cfg.media_ip.unwrap_or(*self.sip.ip())
    }

    fn caps_at(&self, local: SocketAddrV4) -> MediaCapabilities {
        let mut caps = MediaCapabilities::g711(&local.ip().to_string(), local.port());
        if let Some(f) = &self.cfg.fqdn {
            caps.address = f.clone();
            caps.addr_type = AddrType::Ip4;
        }
        caps
    }

    fn pump(&mut self, cx: &mut Cx<'_>) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.ua.poll_transmit() {
                progressed = true;
                let bytes = self.with_identity(t.bytes);
                if let SocketAddr::V4(dst) = t.dst {
                    cx.send(self.sip, dst, bytes);
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

    /// Adds P-Asserted-Identity to a re-INVITE when a transfer identity is pending.
    fn with_identity(&mut self, bytes: Bytes) -> Bytes {
        if self.identity.is_empty() || !bytes.starts_with(b"INVITE ") {
            return bytes;
        }
        let Ok(Message::Request(mut req)) = Message::parse(&bytes) else {
            return bytes;
        };
        let id = req
            .headers
            .get(HeaderName::CallId)
            .unwrap_or("")
            .to_string();
        match self.identity.remove(&id) {
            Some(who) => {
                req.headers.push(
                    HeaderName::PAssertedIdentity,
                    format!("<sip:{who}@{}>", self.sip.ip()),
                );
                req.to_bytes()
            }
            None => bytes,
        }
    }

    fn open_media(&mut self, cx: &mut Cx<'_>, h: CallHandle, neg: &Negotiated, phase: CallPhase) {
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        let Some(tag) = c.tag else { return };
        let Some(ip) = cx.resolve_host(&neg.remote_address) else {
            return;
        };
        let remote = SocketAddrV4::new(ip, neg.remote_port);
        if c.media_open {
            cx.update_media(c.local, MediaUpdate::Remote(remote));
            cx.update_media(c.local, MediaUpdate::Phase(phase));
            cx.update_media(
                c.local,
                MediaUpdate::Direction(rtp_direction(neg.direction)),
            );
            return;
        }
        let Ok(config) = media_config(neg, &MediaPolicy::default(), "lync") else {
            return;
        };
        let spec = MediaSpec {
            local: c.local,
            remote,
            config,
            tag,
            role: c.role,
            phase,
            direction: rtp_direction(neg.direction),
            upstream: Vec::new(),
            extra_delay: SimDuration::ZERO,
            muted: false,
        };
        if cx.open_media(spec).is_ok() {
            c.media_open = true;
        }
    }

    fn end(&mut self, cx: &mut Cx<'_>, h: CallHandle) {
        let Some(c) = self.calls.remove(&h) else {
            return;
        };
        self.log.borrow_mut().terminated.push(cx.now());
        if c.media_open {
            cx.close_media(c.local);
        }
        if let (Some(tag), true) = (c.tag, c.caller) {
            cx.note(tag, CallNote::Ended);
        }
    }

    fn after_answer(&mut self, now: SimTime, h: CallHandle) {
        let Some(c) = self.calls.get(&h) else { return };
        let Some(s) = c.script.clone() else { return };
        if let Some(hold) = s.hold.filter(|x| x.by_caller == c.caller) {
            self.timers.arm(now + hold.after, LTimer::Hold(h));
        }
        if let Some(t) = s.transfer.as_ref().filter(|t| t.by_caller == c.caller) {
            self.timers.arm(now + t.after, LTimer::Transfer(h));
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, ev: UaEvent) {
        let now = cx.now();
        match ev {
            UaEvent::IncomingCall { call, request, .. } => {
                let id = request
                    .headers
                    .get(HeaderName::CallId)
                    .unwrap_or("")
                    .to_string();
                let tag = cx.tag_of(&id);
                let script = tag.and_then(|t| cx.script(t));
                let number = request.uri.user().unwrap_or_default().to_string();
                self.log.borrow_mut().incoming.push((now, number.clone()));
                let local = cx.allocate_media(self.media_ip());
                if request
                    .headers
                    .lists_option(HeaderName::Supported, "100rel")
                {
                    self.rel_ok.insert(id.clone());
                }
                self.by_call_id.insert(id, call);
                self.calls.insert(
                    call,
                    LCall {
                        tag,
                        role: PartyRole::Callee,
                        local,
                        media_open: false,
                        answered: false,
                        caller: false,
                        script: script.clone(),
                        number: number.clone(),
                    },
                );
                if let Some(t) = tag {
                    cx.note(t, CallNote::Hop);
                }
                if let Some(code) = self.cfg.reject {
                    let _ = self.ua.reject(now, call, code, "Rejected", &[]);
                    return;
                }
                let mut action = script.as_ref().map_or(
                    AnswerAction::Answer {
                        after: SimDuration::from_secs(1),
                    },
                    |s| s.action_for(&number),
                );
                if let Some(after) = self.cfg.answer_after {
                    action = AnswerAction::Answer { after };
                }
                match action {
                    AnswerAction::Busy => {
                        let _ = self.ua.reject(now, call, 486, "Busy Here", &[]);
                    }
                    AnswerAction::Decline => {
                        let _ = self.ua.reject(now, call, 603, "Decline", &[]);
                    }
                    other => {
                        self.ring(cx, call);
                        if let AnswerAction::Answer { after } = other {
                            self.timers.arm(now + after, LTimer::Answer(call));
                        }
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
                    Some(neg) => self.open_media(cx, call, &neg, CallPhase::EarlyMedia),
                    None if status == 180 => cx.note(tag, CallNote::RingbackHeard),
                    None => {}
                }
            }
            UaEvent::Answered { call, media } => {
                let Some(c) = self.calls.get_mut(&call) else {
                    return;
                };
                c.answered = true;
                let tag = c.tag;
                let neg = media.or_else(|| self.ua.media(call).cloned());
                if let Some(neg) = neg {
                    self.open_media(cx, call, &neg, CallPhase::Connected);
                }
                if let Some(t) = tag {
                    cx.note(t, CallNote::Answered);
                }
                self.timers.retain(|t| *t != LTimer::Abandon(call));
                if let Some(s) = self.calls.get(&call).and_then(|c| c.script.clone()) {
                    self.timers.arm(now + s.holding, LTimer::Hangup(call));
                    if let (Some(d), Some(c)) = (&s.dtmf, self.calls.get(&call)) {
                        if c.media_open {
                            cx.update_media(c.local, MediaUpdate::Dtmf(d.clone()));
                        }
                    }
                }
                self.after_answer(now, call);
            }
            UaEvent::Confirmed { call, .. } => self.after_answer(now, call),
            UaEvent::Failed {
                call,
                status,
                reason,
                ..
            } => {
                if let Some(t) = self.calls.get(&call).and_then(|c| c.tag) {
                    cx.note(
                        t,
                        CallNote::FinalStatus {
                            status,
                            detail: format!("{status} {reason}"),
                        },
                    );
                }
                self.end(cx, call);
            }
            UaEvent::Cancelled { call }
            | UaEvent::PrackTimeout { call }
            | UaEvent::Terminated { call, .. } => self.end(cx, call),
            UaEvent::MediaChanged { call, media, .. } => {
                if let Some(c) = self.calls.get(&call).filter(|c| c.media_open) {
                    cx.update_media(
                        c.local,
                        MediaUpdate::Direction(rtp_direction(media.direction)),
                    );
                }
            }
            UaEvent::ModifyFailed { status, .. } => {
                self.log.borrow_mut().modify_failed.push(status)
            }
            UaEvent::ReferStatus { call, status, last } => {
                self.log.borrow_mut().refer_status.push(status);
                if last && status == 200 {
                    let _ = self.ua.hangup(now, call);
                }
            }
            _ => {}
        }
    }

    fn ring(&mut self, cx: &mut Cx<'_>, call: CallHandle) {
        let now = cx.now();
        let reliable = self.cfg.reliable;
        if !self.cfg.early_media {
            let _ = self.ua.ring(now, call, 180, false, reliable);
            return;
        }
        let Some(local) = self.calls.get(&call).map(|c| c.local) else {
            return;
        };
        let caps = self.caps_at(local);
        let Some(sdp) = self.ua.remote_offer(call).and_then(|o| {
            caps.answer(o, u64::from(local.port()), 1, Direction::SendRecv)
                .ok()
        }) else {
            return;
        };
        let _ = self.ua.ring_with_sdp(now, call, 183, sdp, reliable);
        if let Some(neg) = self.ua.media(call).cloned() {
            self.open_media(cx, call, &neg, CallPhase::EarlyMedia);
        }
    }

    fn fire(&mut self, cx: &mut Cx<'_>, t: LTimer) {
        let now = cx.now();
        match t {
            LTimer::Answer(h) => {
                // A strict UAS sends no 2xx while a reliable 183 with SDP is unacknowledged
                // (RFC 3262 §3); it gives up with 504 when the PRACK never comes.
                let id = self.ua.call_id(h).unwrap_or("").to_string();
                let unacked = self.rel_ok.contains(&id) && !self.pracked.contains(&id);
                if self.cfg.reliable && self.cfg.early_media && unacked {
                    self.timers
                        .arm(now + SimDuration::from_secs(1), LTimer::Answer(h));
                    return;
                }
                let Some(local) = self.calls.get(&h).map(|c| c.local) else {
                    return;
                };
                let caps = self.caps_at(local);
                let sdp = self.ua.remote_offer(h).and_then(|o| {
                    caps.answer(o, u64::from(local.port()), 2, Direction::SendRecv)
                        .ok()
                });
                let _ = match sdp {
                    Some(sd) => self.ua.answer_with_sdp(now, h, sd),
                    None => self.ua.answer(now, h),
                };
                if let Some(neg) = self.ua.media(h).cloned() {
                    self.open_media(cx, h, &neg, CallPhase::Connected);
                }
            }
            LTimer::Hangup(h) => {
                let _ = self.ua.hangup(now, h);
            }
            LTimer::Abandon(h) => {
                if let Some(t) = self.calls.get(&h).and_then(|c| c.tag) {
                    cx.note(t, CallNote::Abandoned);
                }
                let _ = self.ua.cancel(now, h);
            }
            LTimer::Hold(h) => {
                let _ = self.ua.hold(now, h, Direction::SendOnly);
                let d = self
                    .calls
                    .get(&h)
                    .and_then(|c| c.script.as_ref())
                    .and_then(|s| s.hold)
                    .map(|x| x.duration);
                if let Some(d) = d {
                    self.timers.arm(now + d, LTimer::Resume(h));
                }
            }
            LTimer::Resume(h) => {
                let _ = self.ua.resume(now, h);
            }
            LTimer::Transfer(h) => {
                let Some(target) = self
                    .calls
                    .get(&h)
                    .and_then(|c| c.script.as_ref())
                    .and_then(|s| s.transfer.as_ref())
                    .map(|t| t.target.clone())
                else {
                    return;
                };
                if self.cfg.refer_transfers {
                    let uri = Uri::Sip(SipUri::new(
                        Some(&target),
                        Host::from(std::net::IpAddr::V4(*self.pbx.ip())),
                        Some(self.pbx.port()),
                    ));
                    let _ = self.ua.refer(now, h, uri, None);
                } else if let Some(id) = self.ua.call_id(h).map(str::to_string) {
                    self.identity.insert(id, target);
                    let _ = self.ua.resume(now, h);
                }
            }
        }
    }

    fn place(&mut self, cx: &mut Cx<'_>, tag: CallTag) {
        let Some(script) = cx.script(tag) else { return };
        let now = cx.now();
        let local = cx.allocate_media(self.media_ip());
        let host = Host::from(std::net::IpAddr::V4(*self.pbx.ip()));
        let to = Uri::Sip(SipUri::new(
            Some(&script.dialled),
            host,
            Some(self.pbx.port()),
        ));
        let mut params = CallParams::new(to);
        params.next_hop = Some(SocketAddr::V4(self.pbx));
        let me = Host::from(std::net::IpAddr::V4(*self.sip.ip()));
        params.from = Some(NameAddr::new(Uri::Sip(SipUri::new(
            Some(&script.caller),
            me.clone(),
            None,
        ))));
        params.media = Some(self.caps_at(local));
        if script.anonymous {
            params.headers.push((HeaderName::Privacy, "id".into()));
        }
        if let (true, Some(f)) = (self.cfg.history_info, &script.forward) {
            params.headers.push((
                HeaderName::HistoryInfo,
                format!(
                    "<sip:{}@{}>;index=1, <sip:{}@{}>;index=1.1",
                    script.callee,
                    self.sip.ip(),
                    f.target,
                    self.pbx.ip()
                ),
            ));
        }
        let Ok(h) = self.ua.call(now, params) else {
            return;
        };
        if let Some(id) = self.ua.call_id(h) {
            cx.bind_call_id(id, tag);
            self.by_call_id.insert(id.to_string(), h);
        }
        cx.note(tag, CallNote::Hop);
        self.timers
            .arm(now + script.abandon_after, LTimer::Abandon(h));
        self.calls.insert(
            h,
            LCall {
                tag: Some(tag),
                role: PartyRole::Caller,
                local,
                media_open: false,
                answered: false,
                caller: true,
                script: Some(script.clone()),
                number: script.caller.clone(),
            },
        );
    }

    /// The Lync client reacts to a hold refusal that leaves it muted.
    fn peek_response(&mut self, cx: &mut Cx<'_>, payload: &[u8]) {
        if !payload.starts_with(b"SIP/2.0 4") {
            return;
        }
        let Ok(Message::Response(resp)) = Message::parse(payload) else {
            return;
        };
        if !hold_refusal_mutes_client(&resp) {
            return;
        }
        let id = resp.headers.get(HeaderName::CallId).unwrap_or("");
        let Some(c) = self.by_call_id.get(id).and_then(|h| self.calls.get(h)) else {
            return;
        };
        if c.media_open {
            cx.mute_media(c.local);
        }
        self.log.borrow_mut().muted += 1;
        let _ = &c.number;
    }
}

impl NetworkElement for LyncSide {
    fn name(&self) -> &str {
        &self.name
    }

    fn on_datagram(
        &mut self,
        cx: &mut Cx<'_>,
        _local: SocketAddrV4,
        remote: SocketAddrV4,
        payload: &[u8],
    ) {
        if self.dead {
            return;
        }
        self.peek_response(cx, payload);
        if payload.starts_with(b"PRACK ") {
            if let Ok(Message::Request(req)) = Message::parse(payload) {
                if voicetwin::sip::wire::check_request(&req, &Default::default()).is_ok() {
                    let id = req
                        .headers
                        .get(HeaderName::CallId)
                        .unwrap_or("")
                        .to_string();
                    self.pracked.insert(id);
                }
            }
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
        if self.dead {
            return None;
        }
        match (self.ua.poll_timeout(), self.timers.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_media(&mut self, cx: &mut Cx<'_>, tag: CallTag, event: SessionEvent) {
        let caller = self.calls.values().any(|c| c.tag == Some(tag) && c.caller);
        if caller && event == SessionEvent::EarlyMediaStarted {
            cx.note(tag, CallNote::EarlyMediaHeard);
        }
    }

    fn on_command(&mut self, cx: &mut Cx<'_>, command: Command) {
        match command {
            Command::PlaceCall { tag } => {
                self.place(cx, tag);
                self.pump(cx);
            }
            Command::Fail => self.dead = true,
            Command::Repair => self.dead = false,
            _ => {}
        }
    }
}
