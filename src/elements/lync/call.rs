//! Placing and receiving calls: the user agent's events and the users' timers.

use super::{Hold, LyncCall, LyncPool, PoolTimer, Purpose, Transferring};
use crate::elements::CallTag;
use crate::elements::callbook::{CallNote, PartyRole};
use crate::elements::endpoint::sip_uri;
use crate::elements::host::{Cx, MediaUpdate};
use crate::elements::script::AnswerAction;
use crate::rtp::CallPhase;
use crate::sim::SimDuration;
use crate::sip::sdp::{Direction as SdpDirection, Negotiated};
use crate::sip::ua::{CallHandle, CallParams, UaEvent};
use crate::sip::wire::{HeaderName, NameAddr, Request, Uri};
use std::net::SocketAddrV4;

/// How long an unscripted call (a live peer) rings before the client answers.
const UNSCRIPTED_ANSWER: SimDuration = SimDuration::from_secs(2);

/// The user part of a URI without parameters.
pub(super) fn user_of(uri: &Uri) -> String {
    let u = uri.user().unwrap_or_default();
    u.split(';').next().unwrap_or_default().to_string()
}

/// `sip:<number>@<domain>;user=phone`.
pub(super) fn phone_uri(number: &str, domain: &str) -> Uri {
    let mut uri = sip_uri(number, domain);
    if let Some(u) = uri.as_sip_mut() {
        if number.starts_with('+') {
            u.params.set("user", Some("phone"));
        }
    }
    uri
}

impl LyncPool {
    /// Sends an INVITE for a user (a new call, a consultation or a transferee's call).
    /// Returns the handle, with the Call-ID bound to the tag and the call registered.
    pub(super) fn invite(
        &mut self,
        cx: &mut Cx<'_>,
        mut params: CallParams,
        call: impl FnOnce(SocketAddrV4) -> LyncCall,
    ) -> Option<CallHandle> {
        let local = cx.allocate_media(*self.cfg.sip.ip());
        let c = call(local);
        params.from = Some(NameAddr::new(phone_uri(&c.user, &self.cfg.domain)));
        params.media = Some(self.caps_at(local));
        let handle = self.ua.call(cx.now(), params).ok()?;
        if let (Some(id), Some(tag)) = (self.ua.call_id(handle), c.tag) {
            cx.bind_call_id(id, tag);
            cx.note(tag, CallNote::Hop);
        }
        self.insert(handle, c);
        Some(handle)
    }

    pub(super) fn place_call(&mut self, cx: &mut Cx<'_>, tag: CallTag) {
        let Some(script) = cx.script(tag) else { return };
        let now = cx.now();
        let fail = |cx: &mut Cx<'_>, detail: &str| {
            cx.note(
                tag,
                CallNote::FinalStatus {
                    status: 500,
                    detail: detail.into(),
                },
            );
            cx.note(tag, CallNote::Ended);
        };
        if !self.hosts(&script.caller) {
            return fail(cx, "the caller is not a user of this pool");
        }
        let mut params = CallParams::new(phone_uri(&script.dialled, &self.cfg.domain));
        if script.anonymous {
            params.headers.push((HeaderName::Privacy, "id".to_string()));
        }
        let caller = script.caller.clone();
        let s = script.clone();
        let Some(h) = self.invite(cx, params, |local| {
            LyncPool::blank(
                Some(tag),
                &caller,
                PartyRole::Caller,
                Purpose::Original,
                true,
                local,
                Some(s),
            )
        }) else {
            return fail(cx, "could not build the INVITE");
        };
        self.stats.calls_placed += 1;
        self.arm(now + script.abandon_after, PoolTimer::Abandon(h));
    }

    /// A call record before any event (a free function so closures can build one).
    pub(super) fn blank(
        tag: Option<CallTag>,
        user: &str,
        role: PartyRole,
        purpose: Purpose,
        outgoing: bool,
        media_local: SocketAddrV4,
        script: Option<std::rc::Rc<crate::elements::script::CallScript>>,
    ) -> LyncCall {
        LyncCall {
            tag,
            user: user.to_string(),
            role,
            purpose,
            outgoing,
            media_local,
            media_open: false,
            answered_at: None,
            script,
            hangup_at: None,
            hold: Hold::None,
            resume_after: None,
            muted: false,
            transfer: Transferring::None,
            timers: Vec::new(),
        }
    }

    pub(super) fn on_event(&mut self, cx: &mut Cx<'_>, ev: UaEvent) {
        match ev {
            UaEvent::IncomingCall {
                call,
                request,
                replaces,
            } => self.on_incoming(cx, call, &request, replaces.is_some()),
            UaEvent::Progress {
                call,
                status,
                media,
                ..
            } => self.on_progress(cx, call, status, media),
            UaEvent::Answered { call, media } => self.on_answered(cx, call, media),
            UaEvent::Confirmed { call, media } => self.on_confirmed(cx, call, media),
            UaEvent::Failed {
                call,
                status,
                reason,
                ..
            } => self.on_failed(cx, call, status, &reason),
            UaEvent::Cancelled { call } => self.end(cx, call),
            UaEvent::Terminated { call, .. } => self.on_terminated(cx, call),
            UaEvent::MediaChanged { call, media, .. } => self.on_media_changed(cx, call, &media),
            UaEvent::ModifyFailed { call, status } => self.on_modify_failed(cx, call, status),
            UaEvent::ReferRequested {
                call,
                refer,
                target,
                referred_by,
                replaces,
            } => self.on_refer(cx, call, refer, *target, referred_by.map(|b| *b), replaces),
            UaEvent::ReferStatus { call, status, last } => {
                self.on_refer_status(cx, call, status, last)
            }
            _ => {}
        }
    }

    fn on_incoming(&mut self, cx: &mut Cx<'_>, call: CallHandle, req: &Request, replaces: bool) {
        let now = cx.now();
        let number = user_of(&req.uri);
        if !self.hosts(&number) {
            let _ = self.ua.reject(now, call, 404, "Not Found", &[]);
            return;
        }
        self.stats.calls_offered += 1;
        let tag = req
            .headers
            .get(HeaderName::CallId)
            .and_then(|id| cx.tag_of(id));
        let script = tag.and_then(|t| cx.script(t));
        let role = if script.as_ref().is_some_and(|s| s.caller == number) {
            PartyRole::Caller
        } else {
            PartyRole::Callee
        };
        let local = cx.allocate_media(*self.cfg.sip.ip());
        let action = match &script {
            _ if replaces => AnswerAction::Answer {
                after: SimDuration::ZERO,
            },
            Some(s) => s.action_for(&number),
            None => AnswerAction::Answer {
                after: UNSCRIPTED_ANSWER,
            },
        };
        let _ = self.ua.set_media(call, self.caps_at(local));
        let c = LyncPool::blank(tag, &number, role, Purpose::Original, false, local, script);
        self.insert(call, c);
        if let Some(t) = tag {
            cx.note(t, CallNote::Hop);
        }
        match action {
            AnswerAction::Busy => {
                let _ = self.ua.reject(now, call, 486, "Busy Here", &[]);
                self.end(cx, call);
            }
            AnswerAction::Decline => {
                let _ = self.ua.reject(now, call, 603, "Decline", &[]);
                self.end(cx, call);
            }
            AnswerAction::Answer { after } if after.is_zero() => self.answer(cx, call),
            AnswerAction::Answer { after } => {
                let _ = self.ua.ring(now, call, 180, false, false);
                self.arm(now + after, PoolTimer::Answer(call));
            }
            AnswerAction::NoAnswer | AnswerAction::Voicemail { .. } => {
                let _ = self.ua.ring(now, call, 180, false, false);
            }
        }
    }

    fn answer(&mut self, cx: &mut Cx<'_>, call: CallHandle) {
        let now = cx.now();
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let caps = self.caps_at(c.media_local);
        let result = match self.ua.remote_offer(call) {
            Some(offer) => match caps.answer(offer, call.0, 1, SdpDirection::SendRecv) {
                Ok(sdp) => self.ua.answer_with_sdp(now, call, sdp),
                Err(_) => {
                    let _ = self.ua.reject(now, call, 488, "Not Acceptable Here", &[]);
                    self.end(cx, call);
                    return;
                }
            },
            None => self.ua.answer(now, call),
        };
        if result.is_err() {
            self.end(cx, call);
        }
    }

    fn on_progress(
        &mut self,
        cx: &mut Cx<'_>,
        call: CallHandle,
        status: u16,
        media: Option<Negotiated>,
    ) {
        let now = cx.now();
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let (tag, purpose, callers) = (c.tag, c.purpose, c.is_callers());
        if let Some(neg) = media {
            self.media(cx, call, &neg, CallPhase::EarlyMedia);
        } else if status == 180 && purpose == Purpose::Original && callers {
            if let Some(t) = tag {
                cx.note(t, CallNote::RingbackHeard);
            }
        }
        if let (Purpose::Transferee { original, refer }, 180) = (purpose, status) {
            let _ = self.ua.notify_refer(now, original, refer, 180);
        }
    }

    fn on_answered(&mut self, cx: &mut Cx<'_>, call: CallHandle, media: Option<Negotiated>) {
        let now = cx.now();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.answered_at.is_some() {
            return;
        }
        c.answered_at = Some(now);
        if let Some(neg) = media.or_else(|| self.ua.media(call).cloned()) {
            self.media(cx, call, &neg, CallPhase::Connected);
        }
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let (tag, purpose, script) = (c.tag, c.purpose, c.script.clone());
        match purpose {
            Purpose::Original => {
                let Some(s) = script else { return };
                if let Some(t) = tag {
                    cx.note(t, CallNote::Answered);
                }
                c.hangup_at = Some(now + s.holding);
                let local = c.media_local;
                let media_open = c.media_open;
                self.arm(now + s.holding, PoolTimer::Hangup(call));
                if let (Some(digits), true) = (&s.dtmf, media_open) {
                    cx.update_media(local, MediaUpdate::Dtmf(digits.clone()));
                }
                self.arm_features(now, call, &s, true);
            }
            Purpose::Consultation { original } => {
                self.arm(now + self.cfg.consult_talk, PoolTimer::Refer(original));
            }
            Purpose::Transferee { original, refer } => {
                let _ = self.ua.notify_refer(now, original, refer, 200);
                let at = c.hangup_at.unwrap_or(now).max(now);
                self.arm(at, PoolTimer::Hangup(call));
            }
        }
    }

    /// Arms the hold and transfer a party does once connected (`caller`: which party).
    fn arm_features(
        &mut self,
        now: crate::sim::SimTime,
        call: CallHandle,
        s: &crate::elements::script::CallScript,
        caller: bool,
    ) {
        if let Some(h) = s.hold.filter(|h| h.by_caller == caller) {
            self.arm(now + h.after, PoolTimer::Hold(call));
        }
        if let Some(t) = s.transfer.as_ref().filter(|t| t.by_caller == caller) {
            self.arm(now + t.after, PoolTimer::Transfer(call));
        }
    }

    fn on_confirmed(&mut self, cx: &mut Cx<'_>, call: CallHandle, media: Option<Negotiated>) {
        let now = cx.now();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.answered_at.is_some() {
            return;
        }
        c.answered_at = Some(now);
        let callee = c
            .script
            .clone()
            .filter(|s| s.callee == c.user && c.purpose == Purpose::Original);
        if let Some(neg) = media.or_else(|| self.ua.media(call).cloned()) {
            self.media(cx, call, &neg, CallPhase::Connected);
        }
        if let Some(s) = callee {
            self.arm_features(now, call, &s, false);
        }
    }

    fn on_failed(&mut self, cx: &mut Cx<'_>, call: CallHandle, status: u16, reason: &str) {
        let now = cx.now();
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        match c.purpose {
            Purpose::Original if c.is_callers() => {
                if let Some(t) = c.tag {
                    cx.note(
                        t,
                        CallNote::FinalStatus {
                            status,
                            detail: format!("{status} {reason}"),
                        },
                    );
                }
            }
            Purpose::Original => {}
            Purpose::Consultation { original } => self.transfer_failed(cx, original),
            Purpose::Transferee { original, refer } => {
                let _ = self.ua.notify_refer(now, original, refer, status.max(300));
            }
        }
        self.end(cx, call);
    }

    fn on_terminated(&mut self, cx: &mut Cx<'_>, call: CallHandle) {
        let now = cx.now();
        // The original call ended during a consultation: the consultation goes too.
        if let Some(
            Transferring::Consulting { consult }
            | Transferring::Referred {
                consult: Some(consult),
            },
        ) = self.calls.get(&call).map(|c| c.transfer)
        {
            if self.calls.contains_key(&consult) {
                let _ = self.ua.hangup(now, consult);
            }
        }
        self.end(cx, call);
    }

    pub(super) fn fire(&mut self, cx: &mut Cx<'_>, t: PoolTimer) {
        let now = cx.now();
        match t {
            PoolTimer::Answer(call) => {
                if self.calls.contains_key(&call) {
                    self.answer(cx, call);
                }
            }
            PoolTimer::Hangup(call) => {
                if self.calls.contains_key(&call) {
                    let _ = self.ua.hangup(now, call);
                }
            }
            PoolTimer::Abandon(call) => {
                let Some(c) = self.calls.get(&call) else {
                    return;
                };
                if c.answered_at.is_some() {
                    return;
                }
                if let (Some(t), Purpose::Original) = (c.tag, c.purpose) {
                    cx.note(t, CallNote::Abandoned);
                }
                let _ = self.ua.cancel(now, call);
            }
            PoolTimer::Hold(call) => self.start_hold(cx, call),
            PoolTimer::Resume(call) => self.resume(cx, call),
            PoolTimer::Transfer(call) => self.start_transfer(cx, call),
            PoolTimer::Refer(original) => self.refer_consulted(cx, original),
            PoolTimer::GiveUp(call) => {
                if self
                    .calls
                    .get(&call)
                    .is_some_and(|c| c.answered_at.is_none())
                {
                    let _ = self.ua.cancel(now, call);
                }
            }
        }
    }
}
