//! Requests inside a dialog, both ways: BYE, re-INVITE (hold/resume/refresh), UPDATE,
//! PRACK, REFER and its NOTIFYs, OPTIONS and INFO; and the session timer (RFC 4028).

use super::call::{Modify, Retransmit, State};
use super::core::{ALLOW, CallTimer, Owner, Purpose, TimerKey};
use super::uac::{sdp_body, set_sdp};
use super::uas::uas_session_timer;
use super::{CallHandle, EndReason, ReferId, UaEvent, UserAgent};
use crate::sim::SimTime;
use crate::sip::error::{Error, Result};
use crate::sip::sdp::{Direction, SessionDescription};
use crate::sip::transaction::{TxEvent, TxKey};
use crate::sip::wire::{
    Essentials, HeaderName, Method, NameAddr, Refresher, Replaces, Request, SessionExpires, Uri,
    escape, is_known_method, reason_phrase,
};
use bytes::Bytes;
use std::net::SocketAddr;

/// True when `offer` repeats the last one (same origin version): a refresh, not a change.
fn same_session(prev: Option<&SessionDescription>, offer: &SessionDescription) -> bool {
    prev.is_some_and(|p| {
        p.origin.session_id == offer.origin.session_id
            && p.origin.session_version == offer.origin.session_version
    })
}

impl UserAgent {
    pub(crate) fn on_in_dialog(
        &mut self,
        now: SimTime,
        src: SocketAddr,
        req: Request,
        ess: Essentials,
        key: TxKey,
        dst: SocketAddr,
    ) {
        let Some(call) = self.find_dialog(&ess) else {
            return self.respond_new(now, &req, key, dst, 481, &[]);
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return self.respond_new(now, &req, key, dst, 481, &[]);
        };
        let from_tag = ess.from_tag().unwrap_or("");
        if !c.dialog.id.remote_tag.is_empty() && c.dialog.id.remote_tag != from_tag {
            return self.respond_new(now, &req, key, dst, 481, &[]);
        }
        if !c.dialog.accept_remote_seq(ess.cseq.seq, &req.method) {
            return self.respond_new(now, &req, key, dst, 500, &[]);
        }
        c.peer = src;
        match &req.method {
            Method::Bye => self.on_bye(now, call, &req, key, dst),
            Method::Invite => self.on_reinvite(now, call, req, key, dst),
            Method::Update => self.on_update(now, call, req, key, dst),
            Method::Prack => {
                let status = if self.prack_received(now, call, &req) {
                    200
                } else {
                    481
                };
                self.respond_new(now, &req, key, dst, status, &[]);
            }
            Method::Refer => self.on_refer(now, call, req, key, dst),
            Method::Notify => self.on_notify(now, call, req, key, dst),
            Method::Options => self.answer_options(now, &req, key, dst),
            Method::Info => self.respond_new(now, &req, key, dst, 200, &[]),
            m if is_known_method(m) => self.respond_new(
                now,
                &req,
                key,
                dst,
                405,
                &[(HeaderName::Allow, ALLOW.into())],
            ),
            _ => self.respond_new(now, &req, key, dst, 501, &[]),
        }
    }

    fn on_bye(
        &mut self,
        now: SimTime,
        call: CallHandle,
        req: &Request,
        key: TxKey,
        dst: SocketAddr,
    ) {
        self.respond_new(now, req, key, dst, 200, &[]);
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        // A BYE in an early dialog from the caller ends the pending INVITE with 487.
        if let (Some(tx), Some(inv)) = (c.server_tx, c.invite.clone()) {
            let resp = self.response(&inv, 487, None, Some(&c.dialog.id.local_tag.clone()));
            self.tx_respond(now, tx, &resp);
        }
        let was_terminating = self
            .calls
            .get(&call)
            .is_some_and(|c| c.state == State::Terminating);
        if !was_terminating {
            self.events.push_back(UaEvent::Terminated {
                call,
                reason: EndReason::RemoteBye,
            });
        }
        self.remove_call(call);
    }

    fn on_reinvite(
        &mut self,
        now: SimTime,
        call: CallHandle,
        req: Request,
        key: TxKey,
        dst: SocketAddr,
    ) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        if c.reinvite_tx.is_some() {
            return self.respond_new(now, &req, key, dst, 491, &[]);
        }
        if c.pending_2xx.is_some() || c.server_tx.is_some() || c.state != State::Confirmed {
            return self.respond_new(
                now,
                &req,
                key,
                dst,
                500,
                &[(HeaderName::RetryAfter, "1".into())],
            );
        }
        let tx = self.start_server(key, true, dst, Owner::Call(call, Purpose::Server));
        let contact = self.contact();
        let supported = self.supported();
        let st = self.cfg.session_timer;
        let (t1, deadline) = (self.cfg.timers.t1, now + self.cfg.timers.timeout());
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let offer = sdp_body(&req.headers, &req.body);
        let caps = c.media.clone();
        let (body, changed) = match offer {
            Some(o) if same_session(c.sdp.remote.as_ref(), &o) && c.sdp.local.is_some() => {
                (c.sdp.local_text(), false)
            }
            Some(o) => match c.sdp.answer(&caps, o) {
                Ok(a) => (Some(a), true),
                Err(_) => {
                    let tag = c.dialog.id.local_tag.clone();
                    let resp = self.response(&req, 488, None, Some(&tag));
                    return self.tx_respond(now, tx, &resp);
                }
            },
            None => (c.sdp.same_again(), false),
        };
        c.dialog.refresh_target(&req.headers);
        let tag = c.dialog.id.local_tag.clone();
        let mut resp = crate::sip::wire::make_response(&req, 200, "OK", Some(&tag));
        for rr in req.headers.get_all(HeaderName::RecordRoute) {
            resp.headers.push(HeaderName::RecordRoute, rr);
        }
        resp.headers.push(HeaderName::Contact, contact);
        resp.headers.push(HeaderName::Supported, supported);
        let timer = uas_session_timer(&req, st);
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
        if let Some(sd) = &body {
            set_sdp(&mut resp.headers, &mut resp.body, sd.clone());
        }
        let bytes = resp.to_bytes();
        c.pending_2xx = Some(Retransmit {
            bytes: bytes.clone(),
            status: 200,
            dst,
            interval: t1,
            next: now + t1,
            deadline,
            rseq: 0,
            cseq: req.headers.cseq().map(|x| x.seq).unwrap_or(0),
            report_media: changed || c.sdp.local_offer_pending,
        });
        self.timers.set(
            TimerKey::Call(call, CallTimer::Retransmit2xx),
            Some(now + t1),
        );
        self.tx_respond_encoded(now, tx, 200, bytes);
        if let Some((interval, refresher, _)) = timer {
            self.arm_session_timer(now, call, interval, refresher == Refresher::Uas);
            if req.headers.contains(HeaderName::SessionExpires) {
                self.events.push_back(UaEvent::SessionRefreshed { call });
            }
        }
    }

    fn on_update(
        &mut self,
        now: SimTime,
        call: CallHandle,
        req: Request,
        key: TxKey,
        dst: SocketAddr,
    ) {
        let contact = self.contact();
        let st = self.cfg.session_timer;
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let offer = sdp_body(&req.headers, &req.body);
        if offer.is_some() && (c.sdp.local_offer_pending || c.reinvite_tx.is_some()) {
            return self.respond_new(now, &req, key, dst, 491, &[]);
        }
        let caps = c.media.clone();
        let mut changed = None;
        let body = match offer {
            Some(o) if same_session(c.sdp.remote.as_ref(), &o) => c.sdp.local_text(),
            Some(o) => match c.sdp.answer(&caps, o) {
                Ok(a) => {
                    changed = c.sdp.negotiated.clone();
                    Some(a)
                }
                Err(_) => return self.respond_new(now, &req, key, dst, 488, &[]),
            },
            None => None,
        };
        c.dialog.refresh_target(&req.headers);
        let remote_hold = c.sdp.remote_holds(true);
        let tag = c.dialog.id.local_tag.clone();
        let id = self.start_server(key, false, dst, Owner::None);
        let mut resp = self.response(&req, 200, None, Some(&tag));
        resp.headers.push(HeaderName::Contact, contact);
        let timer = uas_session_timer(&req, st)
            .filter(|_| req.headers.contains(HeaderName::SessionExpires));
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
        if let Some(sd) = &body {
            set_sdp(&mut resp.headers, &mut resp.body, sd.clone());
        }
        self.tx_respond(now, id, &resp);
        if let Some(media) = changed {
            self.events.push_back(UaEvent::MediaChanged {
                call,
                media,
                remote_hold,
            });
        }
        if let Some((interval, refresher, _)) = timer {
            self.arm_session_timer(now, call, interval, refresher == Refresher::Uas);
            self.events.push_back(UaEvent::SessionRefreshed { call });
        }
    }

    fn on_refer(
        &mut self,
        now: SimTime,
        call: CallHandle,
        req: Request,
        key: TxKey,
        dst: SocketAddr,
    ) {
        let target = match req.headers.refer_to() {
            Ok(Some(t)) => t,
            _ => return self.respond_new(now, &req, key, dst, 400, &[]),
        };
        let contact = self.contact();
        self.respond_new(now, &req, key, dst, 202, &[(HeaderName::Contact, contact)]);
        let referred_by = req.headers.referred_by().ok().flatten().map(Box::new);
        let replaces = target
            .uri
            .as_sip()
            .and_then(|u| u.header("Replaces"))
            .and_then(|r| Replaces::parse(&r).ok());
        let mut clean = target.clone();
        if let Some(u) = clean.uri.as_sip_mut() {
            u.headers.clear();
        }
        let refer = ReferId(self.id());
        if let Some(c) = self.calls.get_mut(&call) {
            c.refers.push(super::call::ReferSub {
                id: refer,
                cseq: req.headers.cseq().map(|x| x.seq).unwrap_or(0),
                done: false,
            });
        }
        let _ = self.send_refer_notify(now, call, refer, 100);
        self.events.push_back(UaEvent::ReferRequested {
            call,
            refer,
            target: Box::new(clean),
            referred_by,
            replaces,
        });
    }

    fn on_notify(
        &mut self,
        now: SimTime,
        call: CallHandle,
        req: Request,
        key: TxKey,
        dst: SocketAddr,
    ) {
        let event = req.headers.event().ok().flatten();
        let is_refer = event
            .as_ref()
            .is_some_and(|e| e.token.eq_ignore_ascii_case("refer"));
        if !is_refer {
            return self.respond_new(now, &req, key, dst, 489, &[]);
        }
        self.respond_new(now, &req, key, dst, 200, &[]);
        let last = req
            .headers
            .subscription_state()
            .ok()
            .flatten()
            .is_some_and(|s| s.token.eq_ignore_ascii_case("terminated"));
        // The sipfrag body starts with a status line: "SIP/2.0 200 OK".
        let status = std::str::from_utf8(&req.body)
            .ok()
            .and_then(|b| b.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        self.events
            .push_back(UaEvent::ReferStatus { call, status, last });
    }

    fn confirmed_call(
        &mut self,
        call: CallHandle,
        action: &'static str,
    ) -> Result<&mut super::Call> {
        let c = self.get_call(call)?;
        if c.state != State::Confirmed {
            return Err(Error::InvalidState {
                call: call.0,
                action,
                state: c.state.name(),
            });
        }
        Ok(c)
    }

    /// A re-INVITE with a new offer in direction `dir` (hold, resume).
    pub(crate) fn reinvite(
        &mut self,
        now: SimTime,
        call: CallHandle,
        dir: Direction,
    ) -> Result<()> {
        let c = self.confirmed_call(call, "re-INVITE")?;
        if c.invite_in_progress() || c.update_tx.is_some() {
            return Err(Error::InvalidState {
                call: call.0,
                action: "re-INVITE",
                state: "modifying",
            });
        }
        let prev = (c.sdp.local.clone(), c.sdp.direction);
        let caps = c.media.clone();
        let offer = c.sdp.offer(&caps, dir);
        self.send_modify(now, call, Method::Invite, Some(offer), false, prev)
    }

    pub(crate) fn send_update(
        &mut self,
        now: SimTime,
        call: CallHandle,
        dir: Option<Direction>,
    ) -> Result<()> {
        let c = self.get_call(call)?;
        if !matches!(c.state, State::Early | State::Confirmed)
            || c.update_tx.is_some()
            || c.sdp.local_offer_pending
        {
            return Err(Error::InvalidState {
                call: call.0,
                action: "UPDATE",
                state: c.state.name(),
            });
        }
        let prev = (c.sdp.local.clone(), c.sdp.direction);
        let caps = c.media.clone();
        let offer = dir.map(|d| c.sdp.offer(&caps, d));
        let refresh = offer.is_none();
        self.send_modify(now, call, Method::Update, offer, refresh, prev)
    }

    fn send_modify(
        &mut self,
        now: SimTime,
        call: CallHandle,
        method: Method,
        offer: Option<Bytes>,
        refresh: bool,
        prev: (Option<SessionDescription>, Direction),
    ) -> Result<()> {
        let via = self.via();
        let contact = self.contact();
        let supported = self.supported();
        let c = self.get_call(call)?;
        let mut req = c.dialog.request(method.clone(), &via, None);
        let seq = c.dialog.local_seq;
        req.headers.push(HeaderName::Contact, contact);
        if method == Method::Invite {
            req.headers.push(HeaderName::Allow, ALLOW);
        }
        req.headers.push(HeaderName::Supported, supported);
        if let Some(t) = c.timer {
            // The refresher parameter names a side of this transaction, which we send:
            // `uac` is us, `uas` the peer (RFC 4028 §7.4). The refresher stays who it was.
            let se = SessionExpires {
                delta: t.interval,
                refresher: Some(if t.we_refresh {
                    Refresher::Uac
                } else {
                    Refresher::Uas
                }),
            };
            req.headers.push(HeaderName::SessionExpires, se.to_string());
        }
        if let Some(sd) = &offer {
            set_sdp(&mut req.headers, &mut req.body, sd.clone());
        }
        c.modify = Some(Modify {
            seq,
            refresh,
            prev_local: prev.0,
            prev_direction: prev.1,
        });
        let (uri, peer) = (c.dialog.next_hop_uri(), c.peer);
        let dst = self.hop(&uri, peer);
        let purpose = if method == Method::Invite {
            Purpose::ReInvite
        } else {
            Purpose::Update
        };
        let tx = self.start_client(now, req, dst, Owner::Call(call, purpose));
        let c = self.get_call(call)?;
        if purpose == Purpose::ReInvite {
            c.reinvite_tx = Some(tx);
        } else {
            c.update_tx = Some(tx);
        }
        Ok(())
    }

    /// Responses to our re-INVITE or UPDATE.
    pub(crate) fn modify_event(
        &mut self,
        now: SimTime,
        call: CallHandle,
        purpose: Purpose,
        ev: TxEvent,
    ) {
        let resp = match ev {
            TxEvent::Response(r) if r.status < 200 => return,
            TxEvent::Response(r) => Some(r),
            TxEvent::Timeout | TxEvent::AckTimeout => None,
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if purpose == Purpose::ReInvite {
            c.reinvite_tx = None;
        } else {
            c.update_tx = None;
        }
        let Some(m) = c.modify.take() else { return };
        match resp {
            Some(r) if r.is_success() => {
                c.dialog.refresh_target(&r.headers);
                let media = match sdp_body(&r.headers, &r.body) {
                    Some(sd) if c.sdp.local_offer_pending => c.sdp.on_answer(sd),
                    _ => c.sdp.negotiated.clone(),
                };
                c.sdp.local_offer_pending = false;
                let remote_hold = c.sdp.remote_holds(false);
                if purpose == Purpose::ReInvite {
                    self.send_ack(call, m.seq, None);
                }
                let interval = self
                    .calls
                    .get(&call)
                    .and_then(|c| c.timer)
                    .map(|t| t.interval);
                match r.headers.session_expires() {
                    Ok(Some(se)) => {
                        let we = se.refresher.unwrap_or(Refresher::Uac) == Refresher::Uac;
                        self.arm_session_timer(now, call, se.delta, we);
                    }
                    _ => {
                        if let (true, Some(i)) = (m.refresh, interval) {
                            self.arm_session_timer(now, call, i, true);
                        }
                    }
                }
                if m.refresh {
                    self.events.push_back(UaEvent::SessionRefreshed { call });
                } else if let Some(media) = media {
                    self.events.push_back(UaEvent::MediaChanged {
                        call,
                        media,
                        remote_hold,
                    });
                }
            }
            other => {
                // The previous session stays (RFC 3261 §14.1).
                c.sdp.local = m.prev_local;
                c.sdp.direction = m.prev_direction;
                c.sdp.local_offer_pending = false;
                let status = other.map(|r| r.status).unwrap_or(408);
                if matches!(status, 408 | 481) {
                    // The dialog is gone (§12.2.1.2).
                    let _ = self.send_bye(now, call, Some(EndReason::LocalBye));
                }
                self.events
                    .push_back(UaEvent::ModifyFailed { call, status });
            }
        }
    }

    /// Timer: refresh the session (re-INVITE with the same SDP, or UPDATE).
    pub(crate) fn session_refresh(&mut self, now: SimTime, call: CallHandle) {
        let use_update = self
            .cfg
            .session_timer
            .is_some_and(|s| s.refresh_with_update);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.state != State::Confirmed {
            return;
        }
        if c.invite_in_progress() || c.update_tx.is_some() || c.sdp.local_offer_pending {
            // Busy: try again shortly.
            let at = now + self.cfg.timers.t1 * 4;
            self.timers
                .set(TimerKey::Call(call, CallTimer::Refresh), Some(at));
            return;
        }
        let prev = (c.sdp.local.clone(), c.sdp.direction);
        let _ = if use_update {
            self.send_modify(now, call, Method::Update, None, true, prev)
        } else {
            let offer = c.sdp.same_again();
            self.send_modify(now, call, Method::Invite, offer, true, prev)
        };
    }

    /// Timer: no refresh arrived before the session expired (RFC 4028 §10): BYE.
    pub(crate) fn session_expired(&mut self, now: SimTime, call: CallHandle) {
        if self
            .calls
            .get(&call)
            .is_some_and(|c| c.state == State::Confirmed)
        {
            let _ = self.send_bye(now, call, Some(EndReason::SessionExpired));
        }
    }

    pub(crate) fn send_refer(
        &mut self,
        now: SimTime,
        call: CallHandle,
        target: Uri,
        replaces: Option<CallHandle>,
    ) -> Result<()> {
        let mut target = target;
        if let Some(other) = replaces {
            let o = self.calls.get(&other).ok_or(Error::UnknownCall(other.0))?;
            // Seen from the target: its local tag is our remote tag (RFC 3891 §3).
            let r = Replaces {
                call_id: o.dialog.id.call_id.clone(),
                to_tag: o.dialog.id.remote_tag.clone(),
                from_tag: o.dialog.id.local_tag.clone(),
                early_only: false,
            };
            if let Some(u) = target.as_sip_mut() {
                u.headers.push(("Replaces".into(), escape(&r.to_string())));
            }
        }
        let via = self.via();
        let contact = self.contact();
        let c = self.confirmed_call(call, "REFER")?;
        let mut req = c.dialog.request(Method::Refer, &via, None);
        req.headers
            .push(HeaderName::ReferTo, NameAddr::new(target).to_string());
        req.headers
            .push(HeaderName::ReferredBy, c.dialog.local_uri.to_string());
        req.headers.push(HeaderName::Contact, contact);
        let (uri, peer) = (c.dialog.next_hop_uri(), c.peer);
        let dst = self.hop(&uri, peer);
        self.start_client(now, req, dst, Owner::Call(call, Purpose::Refer));
        Ok(())
    }

    pub(crate) fn refer_event(&mut self, call: CallHandle, ev: TxEvent) {
        let (status, last) = match ev {
            TxEvent::Response(r) if r.status < 200 => return,
            TxEvent::Response(r) => (r.status, !r.is_success()),
            TxEvent::Timeout | TxEvent::AckTimeout => (408, true),
        };
        self.events
            .push_back(UaEvent::ReferStatus { call, status, last });
    }

    pub(crate) fn send_refer_notify(
        &mut self,
        now: SimTime,
        call: CallHandle,
        refer: ReferId,
        status: u16,
    ) -> Result<()> {
        let via = self.via();
        let contact = self.contact();
        let c = self.get_call(call)?;
        if !matches!(c.state, State::Confirmed | State::Terminating) {
            return Err(Error::InvalidState {
                call: call.0,
                action: "NOTIFY",
                state: c.state.name(),
            });
        }
        let Some(sub) = c.refers.iter_mut().find(|s| s.id == refer && !s.done) else {
            return Err(Error::InvalidState {
                call: call.0,
                action: "NOTIFY",
                state: "without that REFER",
            });
        };
        let last = status >= 200;
        sub.done = last;
        let event = format!("refer;id={}", sub.cseq);
        let mut req = c.dialog.request(Method::Notify, &via, None);
        req.headers.push(HeaderName::Event, event);
        req.headers.push(
            HeaderName::SubscriptionState,
            if last {
                "terminated;reason=noresource"
            } else {
                "active;expires=60"
            },
        );
        req.headers.push(HeaderName::Contact, contact);
        let frag = format!("SIP/2.0 {status} {}\r\n", reason_phrase(status));
        req.set_body("message/sipfrag;version=2.0", Bytes::from(frag));
        let (uri, peer) = (c.dialog.next_hop_uri(), c.peer);
        let dst = self.hop(&uri, peer);
        self.start_client(now, req, dst, Owner::Call(call, Purpose::Notify));
        Ok(())
    }
}
