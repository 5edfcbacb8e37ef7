//! The calling side: INVITE, its responses (provisional with PRACK, 2xx with ACK,
//! 3xx redirection, 422 retry, failures), CANCEL and the end of a call.

use super::call::{CancelState, Rel, Role, SdpState, SessionTimer, State};
use super::core::{CallTimer, Owner, Purpose, TimerKey};
use super::{Call, CallHandle, CallParams, EndReason, Offer, UaEvent, UserAgent};
use crate::sim::SimTime;
use crate::sip::dialog::{Dialog, DialogId};
use crate::sip::error::{Error, Result};
use crate::sip::sdp::{Direction, SessionDescription};
use crate::sip::transaction::TxEvent;
use crate::sip::wire::{
    CSeq, Essentials, HeaderName, Method, NameAddr, Refresher, Request, Response,
};
use bytes::Bytes;
use rand::Rng;
use std::collections::VecDeque;

/// The SDP of a message, when it has one.
pub(crate) fn sdp_body(
    headers: &crate::sip::wire::Headers,
    body: &Bytes,
) -> Option<SessionDescription> {
    if body.is_empty() {
        return None;
    }
    let is_sdp = headers
        .content_type()
        .ok()
        .flatten()
        .is_some_and(|t| t.is("application", "sdp"));
    if !is_sdp {
        return None;
    }
    SessionDescription::parse(body).ok()
}

/// Puts SDP text in a message body.
pub(crate) fn set_sdp(headers: &mut crate::sip::wire::Headers, body: &mut Bytes, text: Bytes) {
    headers.set(HeaderName::ContentType, "application/sdp");
    *body = text;
}

impl UserAgent {
    pub(crate) fn start_call(&mut self, now: SimTime, p: CallParams) -> Result<CallHandle> {
        let ruri = p.request_uri.clone().unwrap_or_else(|| p.to.uri.clone());
        let dst = p
            .next_hop
            .or(self.cfg.outbound_proxy)
            .or_else(|| self.resolve(&ruri))
            .ok_or_else(|| Error::Unresolvable(ruri.to_string()))?;
        let handle = CallHandle(self.id());
        let local_tag = self.new_tag();
        let call_id = self.new_call_id();
        let mut from = p.from.clone().unwrap_or_else(|| self.local_aor());
        from.params.remove("tag");
        let mut to = p.to.clone();
        to.params.remove("tag");
        let media = p.media.clone().unwrap_or_else(|| self.cfg.media.clone());
        let mut sdp = SdpState::new(u64::from(self.rng.random::<u32>()));
        let offer = match p.offer {
            Offer::Auto => Some(sdp.offer(&media, Direction::SendRecv)),
            Offer::Sdp(sd) => Some(sdp.offer_given(*sd)),
            Offer::None => None,
        };
        let dialog = Dialog {
            id: DialogId {
                call_id,
                local_tag,
                remote_tag: String::new(),
            },
            local_uri: from,
            remote_uri: to,
            local_seq: 1,
            remote_seq: None,
            remote_target: ruri.clone(),
            route_set: Vec::new(),
            confirmed: false,
        };
        let mut req = Request::new(Method::Invite, ruri);
        let via = self.via();
        {
            let h = &mut req.headers;
            h.push(HeaderName::Via, via.encode());
            h.push(HeaderName::MaxForwards, "70");
            let mut f = dialog.local_uri.clone();
            f.params.set("tag", Some(&dialog.id.local_tag));
            h.push(HeaderName::From, f.encode());
            h.push(HeaderName::To, dialog.remote_uri.encode());
            h.push(HeaderName::CallId, dialog.id.call_id.as_str());
            h.push(HeaderName::CSeq, "1 INVITE");
        }
        req.headers.push(HeaderName::Contact, self.contact());
        req.headers.push(HeaderName::Allow, super::core::ALLOW);
        req.headers.push(HeaderName::Supported, self.supported());
        if self.cfg.require_100rel {
            req.headers.push(HeaderName::Require, "100rel");
        }
        if let Some(st) = self.cfg.session_timer {
            req.headers
                .push(HeaderName::SessionExpires, st.expires.to_string());
            req.headers.push(HeaderName::MinSE, st.min_se.to_string());
        }
        if let Some(r) = &p.replaces {
            req.headers.push(HeaderName::Replaces, r.to_string());
        }
        if let Some(rb) = &p.referred_by {
            req.headers.push(HeaderName::ReferredBy, rb.to_string());
        }
        for (n, v) in &p.headers {
            req.headers.push(*n, v.as_str());
        }
        if let Some(ua) = &self.cfg.product {
            req.headers.push(HeaderName::UserAgent, ua.as_str());
        }
        if let Some(sd) = &offer {
            set_sdp(&mut req.headers, &mut req.body, sd.clone());
        }
        let call = Call {
            role: Role::Uac,
            state: State::Calling,
            dialog,
            peer: dst,
            resp_dst: dst,
            media,
            sdp,
            invite: Some(req.clone()),
            invite_tx: None,
            cancel: CancelState::None,
            redirects: 0,
            retried_422: false,
            ack: None,
            last_rseq: None,
            server_tx: None,
            peer_100rel: Rel::No,
            reliable: None,
            queued_reliable: VecDeque::new(),
            next_rseq: 0,
            pending_2xx: None,
            replaces: None,
            invite_key: None,
            reinvite_tx: None,
            update_tx: None,
            modify: None,
            timer: None,
            refers: Vec::new(),
        };
        self.calls.insert(handle, Box::new(call));
        self.index_dialog(handle);
        let tx = self.start_client(now, req, dst, Owner::Call(handle, Purpose::Invite));
        if let Some(c) = self.calls.get_mut(&handle) {
            c.invite_tx = Some(tx);
        }
        Ok(handle)
    }

    /// Events of the initial INVITE client transaction.
    pub(crate) fn invite_event(&mut self, now: SimTime, call: CallHandle, ev: TxEvent) {
        let r = match ev {
            TxEvent::Response(r) => r,
            TxEvent::Timeout => return self.fail(call, 408, "Request Timeout", Vec::new()),
            TxEvent::AckTimeout => return,
        };
        match r.status {
            100..=199 => self.uac_provisional(now, call, r),
            200..=299 => self.uac_success(now, call, r),
            300..=399 => self.uac_redirect(now, call, r),
            422 => self.uac_422(now, call, r),
            _ => {
                let reason = r.reason.clone();
                self.fail(call, r.status, &reason, Vec::new())
            }
        }
    }

    fn fail(&mut self, call: CallHandle, status: u16, reason: &str, contacts: Vec<NameAddr>) {
        if self.calls.contains_key(&call) {
            self.events.push_back(UaEvent::Failed {
                call,
                status,
                reason: reason.to_string(),
                contacts,
            });
            self.remove_call(call);
        }
    }

    fn uac_provisional(&mut self, now: SimTime, call: CallHandle, r: Response) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.state == State::Calling {
            c.state = State::Early;
        }
        let send_cancel = c.cancel == CancelState::Pending;
        if r.status == 100 {
            if send_cancel {
                self.send_cancel(now, call);
            }
            return;
        }
        if c.dialog.id.remote_tag.is_empty() {
            // A tagged provisional creates the early dialog; untagged ones do not.
            let _ = c.dialog.establish(&r);
        }
        let reliable = r.headers.lists_option(HeaderName::Require, "100rel");
        let rseq = r.headers.rseq().ok().flatten();
        let mut prack = None;
        if let (true, Some(rseq)) = (reliable, rseq) {
            match c.last_rseq {
                Some(last) if rseq <= last => return, // a retransmission, already PRACKed
                Some(last) if rseq != last + 1 => return, // out of order (RFC 3262 §4)
                _ => {}
            }
            c.last_rseq = Some(rseq);
            let cseq = r.headers.cseq().map(|x| x.seq).unwrap_or(1);
            prack = Some((rseq, cseq));
        }
        let media = match sdp_body(&r.headers, &r.body) {
            Some(sd) if c.sdp.local_offer_pending || c.sdp.remote.is_some() => {
                if c.sdp.local_offer_pending {
                    c.sdp.on_answer(sd)
                } else {
                    c.sdp.negotiated.clone()
                }
            }
            _ => None,
        };
        if send_cancel {
            self.send_cancel(now, call);
        }
        if let Some((rseq, cseq)) = prack {
            self.send_prack(now, call, rseq, cseq);
        }
        self.events.push_back(UaEvent::Progress {
            call,
            status: r.status,
            reason: r.reason,
            media,
            reliable,
        });
    }

    fn send_prack(&mut self, now: SimTime, call: CallHandle, rseq: u32, cseq: u32) {
        let via = self.via();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let mut req = c.dialog.request(Method::Prack, &via, None);
        req.headers
            .push(HeaderName::RAck, format!("{rseq} {cseq} INVITE"));
        let (uri, peer) = (c.dialog.next_hop_uri(), c.peer);
        let dst = self.hop(&uri, peer);
        self.start_client(now, req, dst, Owner::Call(call, Purpose::Prack));
    }

    fn uac_success(&mut self, now: SimTime, call: CallHandle, r: Response) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let invite_seq = r.headers.cseq().map(|x| x.seq).unwrap_or(1);
        if c.dialog.establish(&r).is_err() {
            return;
        }
        c.state = State::Confirmed;
        c.invite_tx = None;
        let mut ack_sdp = None;
        let media = match sdp_body(&r.headers, &r.body) {
            Some(sd) if c.sdp.local_offer_pending => c.sdp.on_answer(sd),
            Some(offer) if c.sdp.local.is_none() => {
                // Late offer: the 2xx offers and the ACK answers.
                let caps = c.media.clone();
                match c.sdp.answer(&caps, offer) {
                    Ok(ans) => {
                        ack_sdp = Some(ans);
                        c.sdp.negotiated.clone()
                    }
                    Err(_) => None,
                }
            }
            _ => c.sdp.negotiated.clone(),
        };
        let cancelled = c.cancel == CancelState::Sent;
        self.send_ack(call, invite_seq, ack_sdp.as_ref());
        self.index_dialog(call);
        self.start_session_timer_uac(now, call, &r);
        if cancelled {
            // The 2xx crossed our CANCEL: the call is ACKed and then hung up (§9.1).
            self.events.push_back(UaEvent::Failed {
                call,
                status: 487,
                reason: "Request Terminated".into(),
                contacts: Vec::new(),
            });
            let _ = self.send_bye(now, call, None);
            return;
        }
        self.events.push_back(UaEvent::Answered { call, media });
    }

    /// Sends (and keeps for retransmissions of the 2xx) the ACK of our INVITE `seq`.
    pub(crate) fn send_ack(&mut self, call: CallHandle, seq: u32, sdp: Option<&Bytes>) {
        let via = self.via();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let mut ack = c.dialog.request(Method::Ack, &via, Some(seq));
        if let Some(sd) = sdp {
            set_sdp(&mut ack.headers, &mut ack.body, sd.clone());
        }
        let (uri, peer) = (c.dialog.next_hop_uri(), c.peer);
        let dst = self.hop(&uri, peer);
        let bytes = ack.to_bytes();
        if let Some(c) = self.calls.get_mut(&call) {
            c.ack = Some((seq, bytes.clone(), dst));
        }
        self.send_direct(dst, bytes);
    }

    fn start_session_timer_uac(&mut self, now: SimTime, call: CallHandle, r: &Response) {
        let Ok(Some(se)) = r.headers.session_expires() else {
            return;
        };
        let we_refresh = se.refresher.unwrap_or(Refresher::Uac) == Refresher::Uac;
        self.arm_session_timer(now, call, se.delta, we_refresh);
    }

    /// Arms the refresh (our side refreshes at half the interval) or the expiry timer
    /// (the other side must refresh before interval − min(32, interval/3), §10).
    pub(crate) fn arm_session_timer(
        &mut self,
        now: SimTime,
        call: CallHandle,
        interval: u32,
        we_refresh: bool,
    ) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.timer = Some(SessionTimer {
            interval,
            we_refresh,
        });
        let secs = u64::from(interval);
        if we_refresh {
            let at = now + crate::sim::SimDuration::from_millis(secs * 500);
            self.timers
                .set(TimerKey::Call(call, CallTimer::Refresh), Some(at));
            self.timers
                .set(TimerKey::Call(call, CallTimer::Expiry), None);
        } else {
            let at = now + crate::sim::SimDuration::from_secs(secs - (secs / 3).min(32));
            self.timers
                .set(TimerKey::Call(call, CallTimer::Expiry), Some(at));
            self.timers
                .set(TimerKey::Call(call, CallTimer::Refresh), None);
        }
    }

    fn uac_redirect(&mut self, now: SimTime, call: CallHandle, r: Response) {
        let mut contacts = r.headers.contacts().unwrap_or_default();
        // Highest q first; equal q keep their order.
        contacts.sort_by(|a, b| {
            let q = |x: &NameAddr| {
                x.params
                    .value("q")
                    .and_then(|q| q.parse::<f64>().ok())
                    .unwrap_or(1.0)
            };
            q(b).partial_cmp(&q(a)).unwrap_or(std::cmp::Ordering::Equal)
        });
        let follow = self.cfg.follow_redirects
            && self
                .calls
                .get(&call)
                .is_some_and(|c| c.redirects < 5 && c.cancel == CancelState::None);
        if let (true, Some(target)) = (follow, contacts.first().map(|c| c.uri.clone())) {
            if let Some(dst) = self.resolve(&target) {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.redirects += 1;
                    c.peer = dst;
                    c.dialog.remote_target = target.clone();
                }
                let t = target.clone();
                self.reissue(now, call, move |req| req.uri = t);
                self.events.push_back(UaEvent::Redirected {
                    call,
                    status: r.status,
                    target,
                });
                return;
            }
        }
        let reason = r.reason.clone();
        self.fail(call, r.status, &reason, contacts);
    }

    fn uac_422(&mut self, now: SimTime, call: CallHandle, r: Response) {
        let min_se = r.headers.min_se().ok().flatten();
        let retry = self.calls.get(&call).is_some_and(|c| !c.retried_422);
        match (min_se, retry) {
            (Some(m), true) => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.retried_422 = true;
                }
                self.reissue(now, call, move |req| {
                    req.headers.set(HeaderName::SessionExpires, m.to_string());
                    req.headers.set(HeaderName::MinSE, m.to_string());
                });
            }
            _ => {
                let reason = r.reason.clone();
                self.fail(call, r.status, &reason, Vec::new())
            }
        }
    }

    /// Sends the INVITE again with a new CSeq and branch, after `edit`.
    fn reissue(&mut self, now: SimTime, call: CallHandle, edit: impl FnOnce(&mut Request)) {
        let via = self.via();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(mut req) = c.invite.clone() else {
            return;
        };
        let seq = c.dialog.local_seq + 1;
        c.dialog.local_seq = seq;
        req.headers.set(HeaderName::Via, via.encode());
        req.headers
            .set(HeaderName::CSeq, CSeq::new(seq, Method::Invite).encode());
        edit(&mut req);
        c.invite = Some(req.clone());
        c.state = State::Calling;
        c.dialog.id.remote_tag.clear();
        c.last_rseq = None;
        let dst = c.peer;
        let tx = self.start_client(now, req, dst, Owner::Call(call, Purpose::Invite));
        if let Some(c) = self.calls.get_mut(&call) {
            c.invite_tx = Some(tx);
        }
    }

    pub(crate) fn start_cancel(&mut self, now: SimTime, call: CallHandle) -> Result<()> {
        let c = self.get_call(call)?;
        if c.role != Role::Uac || !matches!(c.state, State::Calling | State::Early) {
            return Err(Error::InvalidState {
                call: call.0,
                action: "cancel",
                state: c.state.name(),
            });
        }
        let proceeding = c.state == State::Early
            || c.invite_tx.is_some_and(|id| {
                matches!(self.txs.get(&id).map(|e| &e.tx), Some(crate::sip::transaction::Transaction::InviteClient(t)) if t.is_proceeding())
            });
        let c = self.get_call(call)?;
        if c.cancel != CancelState::None {
            return Ok(());
        }
        if proceeding {
            self.send_cancel(now, call);
        } else {
            c.cancel = CancelState::Pending;
        }
        Ok(())
    }

    /// CANCEL (§9.1): same Request-URI, Call-ID, From, To, CSeq number, Route and top Via
    /// as the INVITE.
    fn send_cancel(&mut self, now: SimTime, call: CallHandle) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(inv) = &c.invite else { return };
        c.cancel = CancelState::Sent;
        let mut req = Request::new(Method::Cancel, inv.uri.clone());
        let h = &inv.headers;
        if let Some(v) = h.list(HeaderName::Via).next() {
            req.headers.push(HeaderName::Via, v);
        }
        req.headers.push(HeaderName::MaxForwards, "70");
        for n in [HeaderName::From, HeaderName::To, HeaderName::CallId] {
            if let Some(v) = h.get(n) {
                req.headers.push(n, v);
            }
        }
        let seq = h.cseq().map(|x| x.seq).unwrap_or(1);
        req.headers
            .push(HeaderName::CSeq, CSeq::new(seq, Method::Cancel).encode());
        for r in h.get_all(HeaderName::Route) {
            req.headers.push(HeaderName::Route, r);
        }
        let dst = c.peer;
        self.start_client(now, req, dst, Owner::Call(call, Purpose::Cancel));
    }

    /// A response no transaction claims: a retransmitted 2xx to INVITE gets its ACK again,
    /// and a 2xx from another fork is ACKed and hung up.
    pub(crate) fn on_stray_response(&mut self, now: SimTime, resp: Response, ess: Essentials) {
        if ess.cseq.method != Method::Invite || !resp.is_success() {
            return;
        }
        let Some(tag) = ess.from_tag() else { return };
        let Some(&call) = self.dialogs.get(&(ess.call_id.clone(), tag.to_string())) else {
            return;
        };
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let same_dialog = ess.to_tag() == Some(c.dialog.id.remote_tag.as_str());
        if same_dialog {
            if let Some((seq, bytes, dst)) = c.ack.clone() {
                if seq == ess.cseq.seq {
                    self.send_direct(dst, bytes);
                }
            }
            return;
        }
        // Another fork answered: ACK it and end that dialog (§13.2.2.4).
        let Some(inv) = c.invite.clone() else { return };
        let Ok(mut d) = Dialog::uac(&inv, &resp) else {
            return;
        };
        let peer = c.peer;
        let via = self.via();
        let ack = d.request(Method::Ack, &via, Some(ess.cseq.seq));
        let dst = self.hop(&d.next_hop_uri(), peer);
        self.send_direct(dst, ack.to_bytes());
        let via = self.via();
        let bye = d.request(Method::Bye, &via, None);
        self.start_client(now, bye, dst, Owner::None);
    }

    /// Hangs up whatever the state (see [`UserAgent::hangup`]).
    pub(crate) fn end_call(&mut self, now: SimTime, call: CallHandle) -> Result<()> {
        let c = self.get_call(call)?;
        match (c.role, c.state) {
            (_, State::Terminating) => Ok(()),
            (_, State::Confirmed) => self.send_bye(now, call, Some(EndReason::LocalBye)),
            (Role::Uac, _) => self.start_cancel(now, call),
            (Role::Uas, _) => self.send_reject(now, call, 603, "Decline", &[]),
        }
    }

    /// Sends BYE in the call's dialog; reports `reason` as the end of the call.
    pub(crate) fn send_bye(
        &mut self,
        now: SimTime,
        call: CallHandle,
        reason: Option<EndReason>,
    ) -> Result<()> {
        let via = self.via();
        let c = self.get_call(call)?;
        let bye = c.dialog.request(Method::Bye, &via, None);
        c.state = State::Terminating;
        c.pending_2xx = None;
        c.reliable = None;
        let (uri, peer) = (c.dialog.next_hop_uri(), c.peer);
        for t in [
            CallTimer::Refresh,
            CallTimer::Expiry,
            CallTimer::Retransmit2xx,
            CallTimer::Reliable1xx,
        ] {
            self.timers.set(TimerKey::Call(call, t), None);
        }
        let dst = self.hop(&uri, peer);
        self.start_client(now, bye, dst, Owner::Call(call, Purpose::Bye));
        if let Some(reason) = reason {
            self.events.push_back(UaEvent::Terminated { call, reason });
        }
        Ok(())
    }

    /// The BYE transaction finished (any response or a timeout): the call is gone.
    pub(crate) fn bye_done(&mut self, call: CallHandle) {
        self.remove_call(call);
    }
}
