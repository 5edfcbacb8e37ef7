//! The gateway's SIP side: INVITEs toward the TDM side, calls from the TDM side toward the
//! SIP peers (with failover), the end of SIP legs, and transfers the peer asks for.

use super::super::CallTag;
use super::super::callbook::{CallNote, PartyRole};
use super::super::host::Cx;
use super::super::mediation::{calling_user, event_call, phone_uri};
use super::super::tdm::{Cause, IsdnMessage, SeizeError};
use super::isdn::{T303, cause_to_status};
use super::party_media::PartyMedia;
use super::{Gateway, GwCall, GwDir, GwTimer};
use crate::rtp::CallPhase;
use crate::sip::sdp::{MediaCapabilities, Negotiated};
use crate::sip::ua::{CallHandle, CallParams, ReferId, UaEvent};
use crate::sip::wire::{HeaderName, NameAddr, Request, Uri};
use std::net::{SocketAddr, SocketAddrV4};

/// The number behind a Diversion or History-Info header: the party that redirected.
fn redirecting(req: &Request) -> Option<String> {
    if let Some(d) = req
        .headers
        .diversion()
        .ok()
        .and_then(|d| d.into_iter().next())
    {
        return d.uri.user().map(str::to_string);
    }
    let hi = req.headers.history_info().ok()?;
    // The first entry is the original target; it redirected when later entries follow.
    (hi.len() > 1)
        .then(|| hi[0].uri.user().map(str::to_string))
        .flatten()
}

impl Gateway {
    /// Moves everything the user agent queued: datagrams out, events to the handlers.
    pub(super) fn pump(&mut self, cx: &mut Cx<'_>) {
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
                self.on_sip_event(cx, ev);
            }
            if !progressed {
                break;
            }
        }
    }

    /// The media capabilities the gateway presents on a call with media at `local`.
    pub(super) fn caps_at(&self, local: SocketAddrV4) -> MediaCapabilities {
        let mut caps = self.cfg.media.clone();
        caps.address = local.ip().to_string();
        caps.port = local.port();
        caps
    }

    /// Whose ear the PSTN party `number` is in the call's script.
    pub(super) fn role_of(cx: &Cx<'_>, tag: CallTag, number: &str) -> PartyRole {
        match cx.script(tag) {
            Some(s) if s.caller == number => PartyRole::Caller,
            Some(_) => PartyRole::Callee,
            None => PartyRole::Other,
        }
    }

    fn on_sip_event(&mut self, cx: &mut Cx<'_>, ev: UaEvent) {
        match ev {
            UaEvent::IncomingCall { call, request, .. } => self.sip_to_tdm(cx, call, request),
            UaEvent::OptionsResult { request, status } => {
                let _ = self.keepalive.result(request.0, status, cx.now());
            }
            ev => {
                let Some(h) = event_call(&ev) else { return };
                let Some(&id) = self.by_sip.get(&h) else {
                    return;
                };
                match ev {
                    UaEvent::Progress { status, media, .. } => {
                        self.sip_progress(cx, id, h, status, media)
                    }
                    UaEvent::Answered { media, .. } => self.sip_answered(cx, id, h, media),
                    UaEvent::Failed { status, .. } => self.sip_failed(cx, id, h, status),
                    UaEvent::Cancelled { .. }
                    | UaEvent::Terminated { .. }
                    | UaEvent::PrackTimeout { .. } => self.sip_gone(cx, id, h),
                    UaEvent::MediaChanged { media, .. } => {
                        if let Some(m) = self.calls.get_mut(&id).and_then(|c| c.media.as_mut()) {
                            m.direction(cx, media.direction);
                        }
                    }
                    UaEvent::ReferRequested {
                        refer,
                        target,
                        referred_by,
                        ..
                    } => self.start_transfer(cx, id, h, refer, target.uri, referred_by),
                    _ => {}
                }
            }
        }
    }

    /// An INVITE from a SIP peer: seize a B-channel and send SETUP.
    fn sip_to_tdm(&mut self, cx: &mut Cx<'_>, call: CallHandle, req: Box<Request>) {
        let now = cx.now();
        let tag = req
            .headers
            .get(HeaderName::CallId)
            .and_then(|id| cx.tag_of(id));
        if let Some(t) = tag {
            cx.note(t, CallNote::Hop);
        }
        self.stats.sip_calls += 1;
        let called = req
            .uri
            .user()
            .map(str::to_string)
            .or_else(|| {
                req.headers
                    .to_addr()
                    .ok()
                    .and_then(|t| t.uri.user().map(str::to_string))
            })
            .unwrap_or_default();
        let from = calling_user(&req);
        let restricted = req
            .headers
            .privacy()
            .is_ok_and(|p| p.iter().any(|v| v.eq_ignore_ascii_case("id")))
            || from.eq_ignore_ascii_case("anonymous");
        let asserted = req
            .headers
            .p_asserted_identity()
            .ok()
            .and_then(|p| p.into_iter().next())
            .and_then(|p| p.uri.user().map(str::to_string));
        let mut c = GwCall::new(GwDir::SipToTdm, tag, called.clone());
        c.sip = Some(call);
        c.calling = if from.eq_ignore_ascii_case("anonymous") {
            asserted
        } else {
            Some(from)
        };
        c.restricted = restricted;
        c.redirecting = redirecting(&req);
        c.peer_addr = self.last_remote;
        let id = self.new_call(c);
        self.by_sip.insert(call, id);
        if !self.take_slot(id) {
            self.stats.rejected_capacity += 1;
            if let Some(t) = tag {
                cx.note(t, CallNote::RejectedCapacity);
            }
            return self.refuse_sip(cx, id, 503);
        }
        let routes = self.routing.route_to_tdm(&called);
        let mut busy = false;
        let mut seized = None;
        for li in routes {
            let port = self.routing.links[li].port;
            match cx.seize(port) {
                Ok(ch) => {
                    seized = Some((port, ch));
                    break;
                }
                Err(SeizeError::AllBusy) => busy = true,
                Err(SeizeError::OutOfService) => {}
            }
        }
        let Some((port, channel)) = seized else {
            let status = if busy {
                self.stats.blocked += 1;
                if let Some(t) = tag {
                    cx.note(t, CallNote::Blocked);
                }
                self.cfg.no_circuit_status
            } else {
                self.stats.spans_down += 1;
                self.cfg.span_down_status
            };
            return self.refuse_sip(cx, id, status);
        };
        let local = cx.allocate_media(*self.cfg.sip.ip());
        let _ = self.ua.set_media(call, self.caps_at(local));
        let delay = self.cfg.tdm_delay;
        let call_ref = self.refs.next(cx.me());
        let kind = cx.trunk_group(port).kind();
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some(t) = tag {
            c.media = Some(PartyMedia::new(
                local,
                t,
                Self::role_of(cx, t, &called),
                delay,
            ));
        }
        let setup = IsdnMessage::Setup {
            call_ref,
            call: tag.unwrap_or(CallTag(u64::MAX)),
            called,
            calling: c.calling.clone(),
            restricted: c.restricted,
            redirecting: c.redirecting.clone(),
            channel: channel.number(kind),
        };
        let leg = super::isdn::IsdnLeg::new(port, call_ref, channel, true);
        leg.send(cx, setup.clone());
        c.setup = Some(setup);
        c.tdm = Some(leg);
        c.t303 = Some(self.timers.arm(now + T303, GwTimer::T303(id)));
        self.by_tdm.insert((port, call_ref), id);
    }

    /// Refuses the SIP call of `id` (nothing on the TDM side yet).
    fn refuse_sip(&mut self, cx: &mut Cx<'_>, id: u64, status: u16) {
        if let Some(h) = self.calls.get_mut(&id).and_then(|c| c.sip.take()) {
            self.by_sip.remove(&h);
            let reason = crate::sip::wire::reason_phrase(status);
            let _ = self.ua.reject(cx.now(), h, status, reason, &[]);
        }
        self.maybe_done(cx, id);
    }

    /// Places (or re-places after a failover) the INVITE of a call from the TDM side.
    pub(super) fn place_invite(&mut self, cx: &mut Cx<'_>, id: u64) {
        let now = cx.now();
        let me = self.cfg.sip.ip().to_string();
        let Some(c) = self.calls.get(&id) else { return };
        let Some(&pi) = c.peers.get(c.peer_try) else {
            return;
        };
        let peer = self.routing.peers[pi].addr;
        let local = match &c.media {
            Some(m) => m.local,
            None => cx.allocate_media(*self.cfg.sip.ip()),
        };
        let mut params = CallParams::new(phone_uri(
            &c.called,
            &peer.ip().to_string(),
            Some(peer.port()),
        ));
        let calling = c.calling.clone().unwrap_or_else(|| "anonymous".into());
        if c.restricted {
            params.from = Some(NameAddr::new(
                Uri::parse("sip:anonymous@anonymous.invalid")
                    .unwrap_or_else(|_| phone_uri("anonymous", &me, None)),
            ));
            params.headers.push((HeaderName::Privacy, "id".into()));
            if c.calling.is_some() {
                params.headers.push((
                    HeaderName::PAssertedIdentity,
                    format!("<{}>", phone_uri(&calling, &me, None)),
                ));
            }
        } else {
            params.from = Some(NameAddr::new(phone_uri(&calling, &me, None)));
        }
        if let Some(r) = &c.redirecting {
            params.headers.push((
                HeaderName::Diversion,
                format!("<{}>;reason=unconditional", phone_uri(r, &me, None)),
            ));
        }
        params.media = Some(self.caps_at(local));
        params.next_hop = Some(SocketAddr::V4(peer));
        let tag = c.tag;
        match self.ua.call(now, params) {
            Ok(h) => {
                if let (Some(t), Some(cid)) = (tag, self.ua.call_id(h)) {
                    cx.bind_call_id(cid, t);
                }
                self.by_sip.insert(h, id);
                if let Some(c) = self.calls.get_mut(&id) {
                    c.sip = Some(h);
                    c.peer_addr = Some(peer);
                }
            }
            Err(_) => self.end_tdm(cx, id, Cause::TEMPORARY_FAILURE),
        }
    }

    fn sip_progress(
        &mut self,
        cx: &mut Cx<'_>,
        id: u64,
        h: CallHandle,
        status: u16,
        media: Option<Negotiated>,
    ) {
        let policy = self.cfg.policy.clone();
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if c.sip != Some(h) || c.dir != GwDir::TdmToSip {
            return;
        }
        if let (Some(neg), Some(m)) = (&media, c.media.as_mut()) {
            m.apply(cx, neg, CallPhase::EarlyMedia, &policy, &self.cfg.name);
        }
        let Some(leg) = c.tdm.as_mut() else { return };
        if leg.is_clearing() {
            return;
        }
        if status == 180 && !c.alerted {
            c.alerted = true;
            leg.state = super::isdn::LegState::Alerting;
            leg.send(
                cx,
                IsdnMessage::Alerting {
                    call_ref: leg.call_ref,
                    inband: media.is_some(),
                },
            );
            c.early |= media.is_some();
        } else if media.is_some() && !c.early {
            c.early = true;
            leg.state = super::isdn::LegState::Alerting;
            leg.send(
                cx,
                IsdnMessage::Progress {
                    call_ref: leg.call_ref,
                },
            );
        }
    }

    fn sip_answered(&mut self, cx: &mut Cx<'_>, id: u64, h: CallHandle, media: Option<Negotiated>) {
        let policy = self.cfg.policy.clone();
        let neg = media.or_else(|| self.ua.media(h).cloned());
        let is_transfer = self
            .calls
            .get(&id)
            .and_then(|c| c.transfer)
            .is_some_and(|(_, new, _)| new == h);
        if is_transfer {
            return self.complete_transfer(cx, id, h, neg);
        }
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if c.sip != Some(h) {
            return;
        }
        if let (Some(neg), Some(m)) = (&neg, c.media.as_mut()) {
            m.apply(cx, neg, CallPhase::Connected, &policy, &self.cfg.name);
            m.connect(cx);
        }
        c.answered = true;
        if let Some(leg) = c.tdm.as_mut().filter(|l| !l.is_clearing()) {
            leg.state = super::isdn::LegState::Active;
            leg.send(
                cx,
                IsdnMessage::Connect {
                    call_ref: leg.call_ref,
                },
            );
        }
    }

    fn sip_failed(&mut self, cx: &mut Cx<'_>, id: u64, h: CallHandle, status: u16) {
        self.by_sip.remove(&h);
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some((old, new, refer)) = c.transfer {
            if new == h {
                c.transfer = None;
                let _ = self.ua.notify_refer(cx.now(), old, refer, status);
                if c.sip.is_none() {
                    self.end_tdm(cx, id, Cause::NORMAL_CLEARING);
                }
                return;
            }
        }
        if c.sip != Some(h) {
            return;
        }
        c.sip = None;
        let failover = matches!(status, 408 | 503 | 504) && c.peer_try + 1 < c.peers.len();
        if failover && c.dir == GwDir::TdmToSip {
            c.peer_try += 1;
            self.stats.failovers += 1;
            if let Some(t) = c.tag {
                cx.note(
                    t,
                    CallNote::Failover {
                        status: (status != 408).then_some(status),
                    },
                );
            }
            return self.place_invite(cx, id);
        }
        self.end_tdm(cx, id, Self::cause_for(status));
    }

    /// The SIP leg ended from the SIP side (CANCEL, BYE, PRACK timeout).
    fn sip_gone(&mut self, cx: &mut Cx<'_>, id: u64, h: CallHandle) {
        self.by_sip.remove(&h);
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if c.sip != Some(h) {
            return; // an old leg after a transfer
        }
        c.sip = None;
        if c.transfer.is_some_and(|(old, _, _)| old == h) {
            return; // the transferor left; the new leg carries on
        }
        self.end_tdm(cx, id, Cause::NORMAL_CLEARING);
    }

    /// Ends the SIP side because the TDM side is over: BYE after answer, else the status
    /// (a call from SIP) or CANCEL (a call from TDM).
    pub(super) fn end_sip(&mut self, cx: &mut Cx<'_>, id: u64, status: u16) {
        let now = cx.now();
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some(m) = c.media.as_mut() {
            m.close(cx);
        }
        if let Some((_, new, _)) = c.transfer.take() {
            self.by_sip.remove(&new);
            let _ = self.ua.hangup(now, new);
        }
        if let Some(h) = c.sip.take() {
            self.by_sip.remove(&h);
            if c.answered || c.dir != GwDir::SipToTdm {
                let _ = self.ua.hangup(now, h);
            } else {
                let reason = crate::sip::wire::reason_phrase(status);
                let _ = self.ua.reject(now, h, status, reason, &[]);
            }
        }
    }

    /// Ends the TDM side because the SIP side is over.
    pub(super) fn end_tdm(&mut self, cx: &mut Cx<'_>, id: u64, cause: Cause) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some(m) = c.media.as_mut() {
            m.close(cx);
        }
        let g = c.tdm.as_mut().map(|l| l.disconnect(cx, cause));
        match g {
            Some(g) => self.guard(cx, id, false, g),
            None => self.maybe_done(cx, id),
        }
    }

    /// The SIP status for a cause, under the gateway's mapping.
    pub(super) fn status_for(&self, cause: Cause) -> u16 {
        cause_to_status(cause, self.cfg.strict_rfc3398)
    }

    /// The peer asks the gateway to transfer its party (REFER): call the target through
    /// the same peer, and move the party's media to the new leg once it answers.
    fn start_transfer(
        &mut self,
        cx: &mut Cx<'_>,
        id: u64,
        h: CallHandle,
        refer: ReferId,
        target: Uri,
        referred_by: Option<Box<NameAddr>>,
    ) {
        let now = cx.now();
        let me = self.cfg.sip.ip().to_string();
        let Some(c) = self.calls.get(&id) else { return };
        let (Some(peer), None, Some(m)) = (c.peer_addr, c.transfer, c.media.as_ref()) else {
            let _ = self.ua.notify_refer(now, h, refer, 503);
            return;
        };
        let party = match c.dir {
            GwDir::SipToTdm => c.called.clone(),
            _ => c.calling.clone().unwrap_or_else(|| "anonymous".into()),
        };
        let mut params = CallParams::new(target);
        params.from = Some(NameAddr::new(phone_uri(&party, &me, None)));
        params.referred_by = referred_by.map(|b| *b);
        params.media = Some(self.caps_at(m.local));
        params.next_hop = Some(SocketAddr::V4(peer));
        let tag = c.tag;
        match self.ua.call(now, params) {
            Ok(new) => {
                if let (Some(t), Some(cid)) = (tag, self.ua.call_id(new)) {
                    cx.bind_call_id(cid, t);
                }
                self.by_sip.insert(new, id);
                if let Some(c) = self.calls.get_mut(&id) {
                    c.transfer = Some((h, new, refer));
                }
            }
            Err(_) => {
                let _ = self.ua.notify_refer(now, h, refer, 500);
            }
        }
    }

    fn complete_transfer(
        &mut self,
        cx: &mut Cx<'_>,
        id: u64,
        new: CallHandle,
        neg: Option<Negotiated>,
    ) {
        let now = cx.now();
        let policy = self.cfg.policy.clone();
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let Some((old, _, refer)) = c.transfer.take() else {
            return;
        };
        let _ = self.ua.notify_refer(now, old, refer, 200);
        if c.sip == Some(old) {
            self.by_sip.remove(&old);
            let _ = self.ua.hangup(now, old);
        }
        c.sip = Some(new);
        c.answered = true;
        self.stats.transfers += 1;
        if let (Some(neg), Some(m)) = (&neg, c.media.as_mut()) {
            m.apply(cx, neg, CallPhase::Connected, &policy, &self.cfg.name);
        }
    }
}
