//! The called side: a new INVITE, provisional responses (reliable ones with RFC 3262
//! retransmission), the 2xx and its retransmission until ACK, rejection, and CANCEL.

use super::call::{CancelState, Rel, Retransmit, Role, SdpState, State};
use super::core::{ALLOW, CallTimer, Owner, Purpose, TimerKey};
use super::uac::{sdp_body, set_sdp};
use super::{Call, CallHandle, EndReason, UaEvent, UserAgent};
use crate::sim::SimTime;
use crate::sip::dialog::Dialog;
use crate::sip::error::{Error, Result};
use crate::sip::sdp::{Direction, SessionDescription};
use crate::sip::transaction::{KeyMethod, TxKey};
use crate::sip::wire::{
    Essentials, HeaderName, NameAddr, Refresher, Request, Response, SessionExpires, split_accept,
};
use rand::Rng;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// What SDP a provisional response carries.
pub(crate) enum EarlyMedia {
    None,
    /// The answer built from the call's capabilities.
    Auto,
    /// This SDP (a B2BUA passing the other leg's early media through).
    Given(Box<SessionDescription>),
}

impl UserAgent {
    /// A new INVITE (no To tag).
    pub(crate) fn on_invite(
        &mut self,
        now: SimTime,
        src: SocketAddr,
        req: Request,
        ess: Essentials,
        key: TxKey,
        dst: SocketAddr,
    ) {
        let from_tag = ess.from_tag().unwrap_or("").to_string();
        let ikey = (ess.call_id.clone(), from_tag, ess.cseq.seq);
        if let Some(&call) = self.invites.get(&ikey) {
            // A retransmission after our 2xx left the transaction layer.
            if let Some(p) = self.calls.get(&call).and_then(|c| c.pending_2xx.clone()) {
                self.send_direct(p.dst, p.bytes);
            }
            return;
        }
        if let Some(reject) = self.screen_invite(&req) {
            return self.respond_new(now, &req, key, dst, reject.0, &reject.1);
        }
        let offer = sdp_body(&req.headers, &req.body);
        if !req.body.is_empty() && offer.is_none() {
            return self.respond_new(now, &req, key, dst, 400, &[]);
        }
        if offer.as_ref().is_some_and(|o| !self.cfg.media.accepts(o)) {
            return self.respond_new(now, &req, key, dst, 488, &[]);
        }
        let replaces = match req.headers.replaces() {
            Err(_) => return self.respond_new(now, &req, key, dst, 400, &[]),
            Ok(None) => None,
            Ok(Some(r)) => {
                let found = self
                    .dialogs
                    .get(&(r.call_id.clone(), r.to_tag.clone()))
                    .copied()
                    .filter(|h| {
                        self.calls
                            .get(h)
                            .is_some_and(|c| c.dialog.id.remote_tag == r.from_tag)
                    });
                match found {
                    None => return self.respond_new(now, &req, key, dst, 481, &[]),
                    Some(h)
                        if r.early_only
                            && self
                                .calls
                                .get(&h)
                                .is_some_and(|c| c.state == State::Confirmed) =>
                    {
                        return self.respond_new(now, &req, key, dst, 486, &[]);
                    }
                    Some(h) => Some(h),
                }
            }
        };
        let local_tag = self.new_tag();
        let Ok(dialog) = Dialog::uas_with(&req, &ess, &local_tag) else {
            return self.respond_new(now, &req, key, dst, 400, &[]);
        };
        let handle = CallHandle(self.id());
        let peer_100rel = if req.headers.lists_option(HeaderName::Require, "100rel") {
            Rel::Required
        } else if req.headers.lists_option(HeaderName::Supported, "100rel") {
            Rel::Supported
        } else {
            Rel::No
        };
        let mut sdp = SdpState::new(u64::from(self.rng.random::<u32>()));
        sdp.remote_offer = offer;
        let tx = self.start_server(key, true, dst, Owner::Call(handle, Purpose::Server));
        let trying = self.response(&req, 100, None, None);
        self.tx_respond(now, tx, &trying);
        let call = Call {
            role: Role::Uas,
            state: State::Calling,
            dialog,
            peer: src,
            resp_dst: dst,
            media: self.cfg.media.clone(),
            sdp,
            invite: Some(response_template(&req)),
            invite_tx: None,
            cancel: CancelState::None,
            redirects: 0,
            retried_422: false,
            ack: None,
            last_rseq: None,
            server_tx: Some(tx),
            peer_100rel,
            reliable: None,
            queued_reliable: VecDeque::new(),
            next_rseq: 0,
            pending_2xx: None,
            replaces,
            invite_key: Some(ikey.clone()),
            reinvite_tx: None,
            update_tx: None,
            modify: None,
            timer: None,
            refers: Vec::new(),
        };
        self.calls.insert(handle, Box::new(call));
        self.invites.insert(ikey, handle);
        self.index_dialog(handle);
        self.events.push_back(UaEvent::IncomingCall {
            call: handle,
            request: Box::new(req),
            replaces,
        });
    }

    /// The checks of §8.2.2 and the extensions before a call is created (Require was
    /// checked for every request): body type (415), Accept (406), Session-Expires too
    /// small (422), and a missing Contact (400).
    fn screen_invite(&self, req: &Request) -> Option<(u16, Vec<(HeaderName, String)>)> {
        let h = &req.headers;
        if !req.body.is_empty() {
            let sdp = h
                .content_type()
                .ok()
                .flatten()
                .is_some_and(|t| t.is("application", "sdp"));
            if !sdp {
                return Some((415, vec![(HeaderName::Accept, "application/sdp".into())]));
            }
        }
        if let Some(acc) = h.get(HeaderName::Accept) {
            if !split_accept(acc).any(|(t, s)| {
                (t == "*" || t.eq_ignore_ascii_case("application"))
                    && (s == "*" || s.eq_ignore_ascii_case("sdp"))
            }) {
                return Some((406, Vec::new()));
            }
        }
        match h.session_expires() {
            Err(_) => return Some((400, Vec::new())),
            Ok(Some(se)) => {
                let min = self.cfg.session_timer.map(|s| s.min_se).unwrap_or(90);
                if se.delta < min {
                    return Some((422, vec![(HeaderName::MinSE, min.to_string())]));
                }
            }
            Ok(None) => {}
        }
        if !h.contains(HeaderName::Contact) {
            return Some((400, Vec::new()));
        }
        None
    }

    fn uas_call(&mut self, call: CallHandle, action: &'static str) -> Result<&mut Call> {
        let c = self.get_call(call)?;
        if c.role != Role::Uas
            || !matches!(c.state, State::Calling | State::Early)
            || c.server_tx.is_none()
        {
            return Err(Error::InvalidState {
                call: call.0,
                action,
                state: c.state.name(),
            });
        }
        Ok(c)
    }

    pub(crate) fn send_provisional(
        &mut self,
        now: SimTime,
        call: CallHandle,
        status: u16,
        early: EarlyMedia,
        reliable: bool,
    ) -> Result<()> {
        let supports = self.cfg.supports_100rel;
        let contact = self.contact();
        let c = self.uas_call(call, "send a provisional response")?;
        let inv = c.invite.clone().ok_or(Error::UnknownCall(call.0))?;
        let mut resp = make(&inv, status.clamp(101, 199), &c.dialog.id.local_tag);
        resp.headers.push(HeaderName::Contact, contact);
        let sdp = match early {
            EarlyMedia::None => None,
            EarlyMedia::Auto => early_answer(c)?,
            EarlyMedia::Given(sd) => Some(match c.sdp.take_offer() {
                Some(offer) => c.sdp.answer_given(offer, *sd),
                None => c.sdp.replace_local(*sd),
            }),
        };
        if let Some(text) = sdp {
            set_sdp(&mut resp.headers, &mut resp.body, text);
        }
        c.state = State::Early;
        let rel =
            (reliable && supports && c.peer_100rel != Rel::No) || c.peer_100rel == Rel::Required;
        if rel {
            if c.reliable.is_some() {
                c.queued_reliable.push_back(resp);
                return Ok(());
            }
            self.send_reliable(now, call, resp);
        } else if let Some(tx) = c.server_tx {
            self.tx_respond(now, tx, &resp);
        }
        Ok(())
    }

    fn send_reliable(&mut self, now: SimTime, call: CallHandle, mut resp: Response) {
        let first_rseq = self.new_rseq();
        let t1 = self.cfg.timers.t1;
        let deadline = now + self.cfg.timers.timeout();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.next_rseq == 0 {
            c.next_rseq = first_rseq;
        }
        let rseq = c.next_rseq;
        c.next_rseq += 1;
        resp.headers.push(HeaderName::Require, "100rel");
        resp.headers.push(HeaderName::RSeq, rseq.to_string());
        let cseq = resp.headers.cseq().map(|x| x.seq).unwrap_or(0);
        let bytes = resp.to_bytes();
        let tx = c.server_tx;
        c.reliable = Some(Retransmit {
            status: resp.status,
            bytes: bytes.clone(),
            dst: c.resp_dst,
            interval: t1,
            next: now + t1,
            deadline,
            rseq,
            cseq,
            report_media: false,
        });
        self.timers
            .set(TimerKey::Call(call, CallTimer::Reliable1xx), Some(now + t1));
        if let Some(tx) = tx {
            self.tx_respond_encoded(now, tx, resp.status, bytes);
        }
    }

    /// Timer of a reliable provisional: send it again with doubled interval, or give up
    /// after 64·T1 with 504 (RFC 3262 §3).
    pub(crate) fn retransmit_reliable(&mut self, now: SimTime, call: CallHandle) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(r) = c.reliable.as_mut() else { return };
        if now >= r.deadline {
            c.reliable = None;
            self.events.push_back(UaEvent::PrackTimeout { call });
            let _ = self.send_reject(now, call, 504, "Server Time-out", &[]);
            return;
        }
        r.interval = r.interval * 2;
        r.next = (now + r.interval).min(r.deadline);
        let (status, bytes, next, tx) = (r.status, r.bytes.clone(), r.next, c.server_tx);
        self.timers
            .set(TimerKey::Call(call, CallTimer::Reliable1xx), Some(next));
        if let Some(tx) = tx {
            self.tx_respond_encoded(now, tx, status, bytes);
        }
    }

    /// A PRACK arrived: acknowledge the matching reliable provisional. Returns false when
    /// nothing matches (the PRACK gets 481).
    pub(crate) fn prack_received(&mut self, now: SimTime, call: CallHandle, req: &Request) -> bool {
        let Ok(Some(rack)) = req.headers.rack() else {
            return false;
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return false;
        };
        let matches = c
            .reliable
            .as_ref()
            .is_some_and(|r| r.rseq == rack.rseq && r.cseq == rack.cseq);
        if !matches {
            return false;
        }
        c.reliable = None;
        self.timers
            .set(TimerKey::Call(call, CallTimer::Reliable1xx), None);
        if let Some(next) = c.queued_reliable.pop_front() {
            self.send_reliable(now, call, next);
        }
        true
    }

    pub(crate) fn send_answer(
        &mut self,
        now: SimTime,
        call: CallHandle,
        given: Option<SessionDescription>,
    ) -> Result<()> {
        let contact = self.contact();
        let supported = self.supported();
        let st = self.cfg.session_timer;
        let t1 = self.cfg.timers.t1;
        let deadline = now + self.cfg.timers.timeout();
        let c = self.uas_call(call, "answer")?;
        let inv = c.invite.clone().ok_or(Error::UnknownCall(call.0))?;
        let offer = c.sdp.take_offer();
        let caps = c.media.clone();
        // The offer may already have been answered in a provisional response: the 2xx
        // then repeats that answer (RFC 3261 §13.2.1, RFC 3262 §5).
        let answered_early = c.sdp.remote.is_some() && !c.sdp.local_offer_pending;
        let body = match (given, offer, c.sdp.local_text()) {
            (Some(sd), Some(offer), _) => c.sdp.answer_given(offer, sd),
            (Some(sd), None, _) if answered_early => c.sdp.replace_local(sd),
            (Some(sd), None, _) => c.sdp.offer_given(sd),
            (None, Some(offer), _) => c.sdp.answer(&caps, offer)?,
            (None, None, Some(early)) if answered_early => early,
            (None, None, _) => c.sdp.offer(&caps, Direction::SendRecv),
        };
        let mut resp = make(&inv, 200, &c.dialog.id.local_tag);
        resp.headers.push(HeaderName::Contact, contact);
        resp.headers.push(HeaderName::Allow, ALLOW);
        resp.headers.push(HeaderName::Supported, supported);
        let timer = uas_session_timer(&inv, st);
        if let Some((interval, refresher, require)) = timer {
            let se = SessionExpires {
                delta: interval,
                refresher: Some(refresher),
            };
            resp.headers
                .push(HeaderName::SessionExpires, se.to_string());
            if require {
                resp.headers.push(HeaderName::Require, "timer");
            }
        }
        set_sdp(&mut resp.headers, &mut resp.body, body);
        let bytes = resp.to_bytes();
        let tx = c.server_tx.take();
        c.state = State::Confirmed;
        c.reliable = None;
        c.queued_reliable.clear();
        c.pending_2xx = Some(Retransmit {
            bytes: bytes.clone(),
            status: 200,
            dst: c.resp_dst,
            interval: t1,
            next: now + t1,
            deadline,
            rseq: 0,
            cseq: inv.headers.cseq().map(|x| x.seq).unwrap_or(0),
            report_media: false,
        });
        let replaced = c.replaces;
        self.timers
            .set(TimerKey::Call(call, CallTimer::Reliable1xx), None);
        self.timers.set(
            TimerKey::Call(call, CallTimer::Retransmit2xx),
            Some(now + t1),
        );
        if let Some(tx) = tx {
            self.tx_respond_encoded(now, tx, 200, bytes);
        }
        if let Some((interval, refresher, _)) = timer {
            self.arm_session_timer(now, call, interval, refresher == Refresher::Uas);
        }
        if let Some(old) = replaced {
            if self.calls.contains_key(&old) {
                let _ = self.send_bye(now, old, Some(EndReason::Replaced));
            }
        }
        Ok(())
    }

    /// Our 2xx to INVITE is retransmitted at T1, 2T1... up to T2 until the ACK; without
    /// an ACK after 64·T1 the call is ended with BYE (§13.3.1.4).
    pub(crate) fn retransmit_2xx(&mut self, now: SimTime, call: CallHandle) {
        let t2 = self.cfg.timers.t2;
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(p) = c.pending_2xx.as_mut() else {
            return;
        };
        if now >= p.deadline {
            c.pending_2xx = None;
            let _ = self.send_bye(now, call, Some(EndReason::NoAck));
            return;
        }
        p.interval = (p.interval * 2).min(t2);
        p.next = (now + p.interval).min(p.deadline);
        let (bytes, dst, next) = (p.bytes.clone(), p.dst, p.next);
        self.timers
            .set(TimerKey::Call(call, CallTimer::Retransmit2xx), Some(next));
        self.send_direct(dst, bytes);
    }

    pub(crate) fn send_reject(
        &mut self,
        now: SimTime,
        call: CallHandle,
        status: u16,
        reason: &str,
        contacts: &[NameAddr],
    ) -> Result<()> {
        self.send_reject_with(now, call, status, reason, contacts, &[])
    }

    /// A final non-2xx response carrying extra headers (`Reason`, `ms-diagnostics`...),
    /// written under the names given.
    pub(crate) fn send_reject_with(
        &mut self,
        now: SimTime,
        call: CallHandle,
        status: u16,
        reason: &str,
        contacts: &[NameAddr],
        extra: &[(&str, &str)],
    ) -> Result<()> {
        let c = self.uas_call(call, "reject")?;
        let inv = c.invite.clone().ok_or(Error::UnknownCall(call.0))?;
        let mut resp = make(&inv, status.clamp(300, 699), &c.dialog.id.local_tag);
        resp.reason = reason.to_string();
        for ct in contacts {
            resp.headers.push(HeaderName::Contact, ct.to_string());
        }
        for (name, value) in extra {
            resp.headers.push_named(name, *value);
        }
        let tx = c.server_tx.take();
        if let Some(tx) = tx {
            self.tx_respond(now, tx, &resp);
        }
        self.remove_call(call);
        Ok(())
    }

    /// An ACK outside any transaction: the ACK of our 2xx.
    pub(crate) fn on_ack(&mut self, now: SimTime, req: Request, ess: Essentials) {
        let _ = now;
        let Some(call) = self.find_dialog(&ess) else {
            return;
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(p) = &c.pending_2xx else { return };
        if p.cseq != ess.cseq.seq {
            return;
        }
        let p_report = p.report_media;
        c.pending_2xx = None;
        let initial = !c.dialog.confirmed;
        c.dialog.confirmed = true;
        let mut media = c.sdp.negotiated.clone();
        let answered_in_ack = c.sdp.local_offer_pending;
        if answered_in_ack {
            if let Some(sd) = sdp_body(&req.headers, &req.body) {
                media = c.sdp.on_answer(sd);
            }
        }
        let remote_hold = c.sdp.remote_holds(!answered_in_ack);
        self.timers
            .set(TimerKey::Call(call, CallTimer::Retransmit2xx), None);
        if initial {
            self.events.push_back(UaEvent::Confirmed { call, media });
        } else if let (true, Some(media)) = (p_report, media) {
            self.events.push_back(UaEvent::MediaChanged {
                call,
                media,
                remote_hold,
            });
        }
    }

    /// CANCEL: 200 to the CANCEL, and 487 to the INVITE when it is still pending.
    pub(crate) fn on_cancel(
        &mut self,
        now: SimTime,
        req: Request,
        _ess: Essentials,
        key: TxKey,
        dst: SocketAddr,
    ) {
        let inv_key = TxKey {
            method: KeyMethod::Invite,
            ..key.clone()
        };
        let Some(&id) = self.tx_keys.get(&inv_key) else {
            return self.respond_new(now, &req, key, dst, 481, &[]);
        };
        self.respond_new(now, &req, key, dst, 200, &[]);
        let owner = self.txs.get(&id).map(|e| e.owner);
        let Some(Owner::Call(call, Purpose::Server)) = owner else {
            return;
        };
        let pending = self.calls.get(&call).is_some_and(|c| {
            c.server_tx == Some(id) && matches!(c.state, State::Calling | State::Early)
        });
        if !pending {
            return;
        }
        if let Some(c) = self.calls.get(&call) {
            if let Some(inv) = &c.invite {
                let resp = make(inv, 487, &c.dialog.id.local_tag);
                self.tx_respond(now, id, &resp);
            }
        }
        self.events.push_back(UaEvent::Cancelled { call });
        self.remove_call(call);
    }
}

/// What the UAS keeps of an INVITE to answer it: the headers its responses copy or that
/// decide their content, without the body (its offer is parsed once on receipt).
fn response_template(req: &Request) -> Request {
    let keep = [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
        HeaderName::RecordRoute,
        HeaderName::SessionExpires,
        HeaderName::Supported,
        HeaderName::Require,
    ];
    Request {
        method: req.method.clone(),
        uri: req.uri.clone(),
        version: req.version,
        headers: req.headers.subset(&keep),
        body: bytes::Bytes::new(),
    }
}

/// A response to the INVITE; dialog-creating ones (1xx, 2xx) carry the request's
/// Record-Route (§12.1.1).
fn make(inv: &Request, status: u16, tag: &str) -> Response {
    let mut r = crate::sip::wire::make_response(
        inv,
        status,
        crate::sip::wire::reason_phrase(status),
        Some(tag),
    );
    if status < 300 {
        for rr in inv.headers.get_all(HeaderName::RecordRoute) {
            r.headers.push(HeaderName::RecordRoute, rr);
        }
    }
    r
}

/// The SDP answer for an early-media provisional: the same answer goes in the 2xx.
fn early_answer(c: &mut Call) -> Result<Option<bytes::Bytes>> {
    if c.sdp.remote.is_some() {
        return Ok(c.sdp.local_text());
    }
    match c.sdp.take_offer() {
        Some(offer) => {
            let caps = c.media.clone();
            c.sdp.answer(&caps, offer).map(Some)
        }
        None => Ok(None),
    }
}

/// The session timer a UAS grants for `req` (RFC 4028 §9): (interval, refresher, whether
/// to send Require: timer).
pub(crate) fn uas_session_timer(
    req: &Request,
    cfg: Option<super::SessionTimerConfig>,
) -> Option<(u32, Refresher, bool)> {
    let peer_supports = req.headers.lists_option(HeaderName::Supported, "timer")
        || req.headers.lists_option(HeaderName::Require, "timer");
    let default_refresher = if peer_supports {
        Refresher::Uac
    } else {
        Refresher::Uas
    };
    match req.headers.session_expires() {
        Ok(Some(se)) => Some((
            se.delta,
            se.refresher.unwrap_or(default_refresher),
            peer_supports,
        )),
        _ => cfg.map(|c| (c.expires, default_refresher, peer_supports)),
    }
}
