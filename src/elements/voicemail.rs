//! Exchange Unified Messaging voicemail: a SIP user agent server at a pilot number.
//!
//! The Front End forwards unanswered calls to the pilot with History-Info naming the
//! mailbox (the first History-Info entry, or the Request-URI when there is none). The
//! server answers after a short ring, plays the greeting (its media session sends, in
//! the callee's role), then records: it only receives until the caller hangs up, or
//! sends BYE when the message reaches the maximum length.
//!
//! Values: a 0.5 s ring before answer and a 6 s greeting are assumptions; the 20-minute
//! maximum message is the UM dial plan's default `MaxRecordingDuration`. All three are
//! configurable.

use super::CallTag;
use super::build::{BuildEnv, BuildError};
use super::callbook::{CallNote, PartyRole};
use super::element::{Command, NetworkElement};
use super::front_end::VOICEMAIL_KIND;
use super::host::{Cx, MediaSpec, MediaUpdate};
use super::lync::MediaMode;
use super::media_policy::{MediaPolicy, media_config, rtp_direction};
use super::numbering::{NumberKind, NumberRange};
use super::spec::ElementKindSpec;
use super::timers::{TimerId, TimerQueue};
use crate::rtp::{CallPhase, Direction};
use crate::sim::{SimDuration, SimRng, SimTime};
use crate::sip::sdp::{Codec, Direction as SdpDirection, MediaCapabilities};
use crate::sip::ua::hash::FastMap;
use crate::sip::ua::{CallHandle, UaConfig, UaEvent, UserAgent};
use crate::sip::wire::{HeaderName, NameAddr, Request};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{SocketAddr, SocketAddrV4};

/// Exchange UM as written in a deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoicemailSpec {
    pub name: String,
    pub node: String,
    /// Default 5060 (Exchange UM's SIP port toward Lync is configurable).
    #[serde(default)]
    pub sip_port: Option<u16>,
    #[serde(default = "default_answer")]
    pub answer_after_s: f64,
    #[serde(default = "default_greeting")]
    pub greeting_s: f64,
    #[serde(default = "default_max_message")]
    pub max_message_s: f64,
    #[serde(default)]
    pub media: MediaMode,
    #[serde(default)]
    pub media_policy: MediaPolicy,
}

fn default_answer() -> f64 {
    0.5
}
fn default_greeting() -> f64 {
    6.0
}
fn default_max_message() -> f64 {
    1200.0
}

/// The checked configuration.
#[derive(Clone, Debug)]
struct VmConfig {
    name: String,
    sip: SocketAddrV4,
    pilots: Vec<NumberRange>,
    answer_after: SimDuration,
    greeting: SimDuration,
    max_message: SimDuration,
    media_on: bool,
    policy: MediaPolicy,
    caps: MediaCapabilities,
}

struct VmCall {
    tag: Option<CallTag>,
    mailbox: String,
    media_local: SocketAddrV4,
    media_open: bool,
    answered: bool,
    timers: Vec<TimerId>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum VmTimer {
    Answer(CallHandle),
    GreetingDone(CallHandle),
    MaxLength(CallHandle),
}

/// Exchange UM (see the module docs).
pub struct Voicemail {
    cfg: VmConfig,
    ua: UserAgent,
    calls: FastMap<CallHandle, VmCall>,
    timers: TimerQueue<VmTimer>,
    /// Messages recorded per mailbox (E.164 of the user).
    messages: BTreeMap<String, u32>,
    failed: bool,
    restart: SimRng,
}

impl ElementKindSpec for VoicemailSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn node(&self) -> &str {
        &self.node
    }
    fn kind(&self) -> &'static str {
        VOICEMAIL_KIND
    }
    fn sip_port(&self) -> u16 {
        self.sip_port.unwrap_or(5060)
    }
    fn build(&self, env: &BuildEnv<'_>) -> Result<super::Element, BuildError> {
        let me = env.me()?;
        let secs = |field: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(SimDuration::from_secs_f64(v))
            } else {
                Err(BuildError::new(&self.name, field, "must be ≥ 0"))
            }
        };
        let pilots: Vec<NumberRange> = env
            .directory
            .numbers
            .of_element(&self.name)
            .filter(|r| r.kind == NumberKind::Service)
            .cloned()
            .collect();
        if pilots.is_empty() {
            return Err(BuildError::new(
                &self.name,
                "name",
                "no Service number range (the pilot) is hosted by this element",
            ));
        }
        let ip = me.ip.to_string();
        let cfg = VmConfig {
            name: self.name.clone(),
            sip: me.sip,
            pilots,
            answer_after: secs("answer_after_s", self.answer_after_s)?,
            greeting: secs("greeting_s", self.greeting_s)?,
            max_message: secs("max_message_s", self.max_message_s)?,
            media_on: self.media == MediaMode::On,
            policy: self.media_policy.clone(),
            caps: MediaCapabilities {
                codecs: vec![Codec::rtaudio(115, 8000), Codec::pcmu(), Codec::pcma()],
                ..MediaCapabilities::g711(&ip, 0)
            },
        };
        Ok(super::Element::Voicemail(Voicemail::new(
            cfg,
            env.rng("sip"),
        )))
    }
}

/// The mailbox a call is for: the first History-Info entry's user, else the target.
fn mailbox_of(req: &Request) -> String {
    let first = req.headers.list(HeaderName::HistoryInfo).next();
    first
        .and_then(|e| NameAddr::parse(e).ok())
        .and_then(|na| na.uri.user().map(str::to_string))
        .or_else(|| req.uri.user().map(str::to_string))
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string()
}

impl Voicemail {
    fn new(cfg: VmConfig, mut rng: SimRng) -> Voicemail {
        let restart = SimRng::from_rng(&mut rng);
        Voicemail {
            ua: Self::user_agent(&cfg, rng),
            cfg,
            calls: FastMap::default(),
            timers: TimerQueue::default(),
            messages: BTreeMap::new(),
            failed: false,
            restart,
        }
    }

    fn user_agent(cfg: &VmConfig, rng: SimRng) -> UserAgent {
        let mut ua = UaConfig::new(&cfg.name, SocketAddr::V4(cfg.sip));
        ua.media = cfg.caps.clone();
        ua.product = Some("Microsoft Exchange Unified Messaging".into());
        UserAgent::new(ua, rng)
    }

    /// Messages recorded per mailbox.
    pub fn messages(&self) -> &BTreeMap<String, u32> {
        &self.messages
    }

    fn arm(&mut self, at: SimTime, t: VmTimer) {
        let (VmTimer::Answer(h) | VmTimer::GreetingDone(h) | VmTimer::MaxLength(h)) = t;
        let id = self.timers.arm(at, t);
        if let Some(c) = self.calls.get_mut(&h) {
            c.timers.push(id);
        }
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

    fn on_event(&mut self, cx: &mut Cx<'_>, ev: UaEvent) {
        let now = cx.now();
        match ev {
            UaEvent::IncomingCall { call, request, .. } => {
                let number = request.uri.user().unwrap_or_default();
                let number = number.split(';').next().unwrap_or_default();
                if !self.cfg.pilots.iter().any(|r| r.index_of(number).is_some()) {
                    let _ = self.ua.reject(now, call, 404, "Not Found", &[]);
                    return;
                }
                let tag = request
                    .headers
                    .get(HeaderName::CallId)
                    .and_then(|id| cx.tag_of(id));
                if let Some(t) = tag {
                    cx.note(t, CallNote::Hop);
                }
                let local = cx.allocate_media(*self.cfg.sip.ip());
                let mut caps = self.cfg.caps.clone();
                caps.address = local.ip().to_string();
                caps.port = local.port();
                let _ = self.ua.set_media(call, caps);
                self.calls.insert(
                    call,
                    VmCall {
                        tag,
                        mailbox: mailbox_of(&request),
                        media_local: local,
                        media_open: false,
                        answered: false,
                        timers: Vec::new(),
                    },
                );
                let _ = self.ua.ring(now, call, 180, false, false);
                self.arm(now + self.cfg.answer_after, VmTimer::Answer(call));
            }
            UaEvent::Confirmed { call, media } => {
                let Some(c) = self.calls.get_mut(&call) else {
                    return;
                };
                if c.answered {
                    return;
                }
                c.answered = true;
                *self.messages.entry(c.mailbox.clone()).or_default() += 1;
                let neg = media.or_else(|| self.ua.media(call).cloned());
                if let (Some(neg), Some(tag), true) = (neg, c.tag, self.cfg.media_on) {
                    let remote = cx
                        .resolve_host(&neg.remote_address)
                        .map(|ip| SocketAddrV4::new(ip, neg.remote_port));
                    if let (Some(remote), Ok(config)) =
                        (remote, media_config(&neg, &self.cfg.policy, &self.cfg.name))
                    {
                        let spec = MediaSpec {
                            local: c.media_local,
                            remote,
                            config,
                            tag,
                            role: PartyRole::Callee,
                            phase: CallPhase::Connected,
                            direction: rtp_direction(neg.direction),
                            upstream: Vec::new(),
                            extra_delay: SimDuration::ZERO,
                            muted: false,
                        };
                        c.media_open = cx.open_media(spec).is_ok();
                    }
                }
                self.arm(now + self.cfg.greeting, VmTimer::GreetingDone(call));
                self.arm(
                    now + self.cfg.greeting + self.cfg.max_message,
                    VmTimer::MaxLength(call),
                );
            }
            UaEvent::Cancelled { call }
            | UaEvent::Terminated { call, .. }
            | UaEvent::Failed { call, .. } => self.end(cx, call),
            _ => {}
        }
    }

    fn end(&mut self, cx: &mut Cx<'_>, call: CallHandle) {
        if let Some(c) = self.calls.remove(&call) {
            for id in c.timers {
                self.timers.cancel(id);
            }
            if c.media_open {
                cx.close_media(c.media_local);
            }
        }
    }

    fn fire(&mut self, cx: &mut Cx<'_>, t: VmTimer) {
        let now = cx.now();
        match t {
            VmTimer::Answer(call) => {
                let Some(c) = self.calls.get(&call) else {
                    return;
                };
                let mut caps = self.cfg.caps.clone();
                caps.address = c.media_local.ip().to_string();
                caps.port = c.media_local.port();
                let answered = match self.ua.remote_offer(call) {
                    Some(offer) => match caps.answer(offer, call.0, 1, SdpDirection::SendRecv) {
                        Ok(sdp) => self.ua.answer_with_sdp(now, call, sdp),
                        Err(_) => self.ua.reject(now, call, 488, "Not Acceptable Here", &[]),
                    },
                    None => self.ua.answer(now, call),
                };
                if answered.is_err() {
                    self.end(cx, call);
                }
            }
            VmTimer::GreetingDone(call) => {
                // Recording: the server only listens from now on.
                if let Some(c) = self.calls.get(&call).filter(|c| c.media_open) {
                    cx.update_media(c.media_local, MediaUpdate::Direction(Direction::RecvOnly));
                }
            }
            VmTimer::MaxLength(call) => {
                let _ = self.ua.hangup(now, call);
            }
        }
    }
}

impl NetworkElement for Voicemail {
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

    fn on_command(&mut self, cx: &mut Cx<'_>, command: Command) {
        match command {
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
            }
            Command::Repair => self.failed = false,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::wire::{Method, Uri};

    #[test]
    fn mailbox_from_history_info_else_the_target() {
        let mut req = Request::new(
            Method::Invite,
            Uri::parse("sip:+14255559999@10.0.0.9:5060;user=phone").unwrap(),
        );
        assert_eq!(mailbox_of(&req), "+14255559999");
        req.headers.push(
            HeaderName::HistoryInfo,
            "<sip:+14255550100@contoso.com;user=phone?Reason=SIP%3Bcause%3D408>;index=1, <sip:+14255559999@10.0.0.9>;index=1.1",
        );
        assert_eq!(mailbox_of(&req), "+14255550100");
    }
}
