//! Hold and resume, and call transfer from both sides: the transferor (blind REFER, or
//! hold + consultation + REFER with Replaces) and the transferee (follows a REFER).

use super::call::phone_uri;
use super::{Hold, LyncPool, PoolTimer, Purpose, Transferring};
use crate::elements::callbook::{CallNote, PartyRole};
use crate::elements::host::{Cx, MediaUpdate};
use crate::elements::media_policy::rtp_direction;
use crate::elements::script::TransferMode;
use crate::sip::sdp::{Direction as SdpDirection, Negotiated};
use crate::sip::ua::{CallHandle, CallParams, ReferId};
use crate::sip::wire::{NameAddr, Replaces};

impl LyncPool {
    /// The scripted hold: re-INVITE with a=sendonly.
    pub(super) fn start_hold(&mut self, cx: &mut Cx<'_>, call: CallHandle) {
        let now = cx.now();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.hold != Hold::None || c.answered_at.is_none() || c.muted {
            return;
        }
        let duration = c.script.as_ref().and_then(|s| s.hold).map(|h| h.duration);
        if self.ua.hold(now, call, SdpDirection::SendOnly).is_ok() {
            c.hold = Hold::Holding;
            c.resume_after = duration;
        }
    }

    pub(super) fn resume(&mut self, cx: &mut Cx<'_>, call: CallHandle) {
        let now = cx.now();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.hold == Hold::Held && self.ua.resume(now, call).is_ok() {
            c.hold = Hold::Resuming;
        }
    }

    /// An offer/answer inside the call completed: ours (hold, resume) or the peer's.
    pub(super) fn on_media_changed(&mut self, cx: &mut Cx<'_>, call: CallHandle, neg: &Negotiated) {
        let now = cx.now();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let mut resume_at = None;
        match c.hold {
            Hold::Holding => {
                c.hold = Hold::Held;
                resume_at = c.resume_after.take().map(|d| now + d);
            }
            Hold::Resuming => c.hold = Hold::None,
            Hold::None | Hold::Held => {}
        }
        if c.media_open {
            cx.update_media(
                c.media_local,
                MediaUpdate::Direction(rtp_direction(neg.direction)),
            );
            let ip = cx.resolve_host(&neg.remote_address);
            if let Some(ip) = ip.filter(|ip| !ip.is_unspecified()) {
                let remote = std::net::SocketAddrV4::new(ip, neg.remote_port);
                cx.update_media(c.media_local, MediaUpdate::Remote(remote));
            }
        }
        if let Some(at) = resume_at {
            self.arm(at, PoolTimer::Resume(call));
        }
    }

    /// A re-INVITE of ours failed. A refused hold shows "call could not be put on hold";
    /// with one of the configured statuses the client is also left muted.
    pub(super) fn on_modify_failed(&mut self, cx: &mut Cx<'_>, call: CallHandle, status: u16) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        match c.hold {
            Hold::Holding => {
                c.hold = Hold::None;
                c.resume_after = None;
                self.stats.holds_refused += 1;
                if self.cfg.hold_failure_mutes.contains(&status) && !c.muted {
                    c.muted = true;
                    if c.media_open {
                        cx.mute_media(c.media_local);
                    }
                    if let Some(t) = c.tag {
                        cx.note(t, CallNote::Muted);
                    }
                }
            }
            Hold::Resuming => c.hold = Hold::Held,
            Hold::None | Hold::Held => {}
        }
    }

    /// The scripted transfer by this call's local user.
    pub(super) fn start_transfer(&mut self, cx: &mut Cx<'_>, call: CallHandle) {
        let now = cx.now();
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        if c.transfer != Transferring::None || c.answered_at.is_none() {
            return;
        }
        let Some(t) = c.script.as_ref().and_then(|s| s.transfer.clone()) else {
            return;
        };
        let abandon = c.script.as_ref().map(|s| s.abandon_after);
        let (tag, user, script) = (c.tag, c.user.clone(), c.script.clone());
        let target = phone_uri(&t.target, &self.cfg.domain);
        match t.mode {
            TransferMode::Blind => {
                if self.ua.refer(now, call, target, None).is_ok() {
                    if let Some(c) = self.calls.get_mut(&call) {
                        c.transfer = Transferring::Referred { consult: None };
                    }
                }
            }
            TransferMode::Consultative => {
                if self.ua.hold(now, call, SdpDirection::SendOnly).is_ok() {
                    if let Some(c) = self.calls.get_mut(&call) {
                        c.hold = Hold::Holding;
                    }
                }
                let params = CallParams::new(target);
                let consult = self.invite(cx, params, |local| {
                    LyncPool::blank(
                        tag,
                        &user,
                        PartyRole::Other,
                        Purpose::Consultation { original: call },
                        true,
                        local,
                        script,
                    )
                });
                let Some(consult) = consult else {
                    return self.transfer_failed(cx, call);
                };
                if let Some(c) = self.calls.get_mut(&call) {
                    c.transfer = Transferring::Consulting { consult };
                }
                if let Some(d) = abandon {
                    self.arm(now + d, PoolTimer::GiveUp(consult));
                }
            }
        }
    }

    /// The consultation was answered and talked: REFER the original peer with Replaces.
    pub(super) fn refer_consulted(&mut self, cx: &mut Cx<'_>, original: CallHandle) {
        let now = cx.now();
        let Some(c) = self.calls.get(&original) else {
            return;
        };
        let Transferring::Consulting { consult } = c.transfer else {
            return;
        };
        let Some(t) = c.script.as_ref().and_then(|s| s.transfer.clone()) else {
            return;
        };
        let target = phone_uri(&t.target, &self.cfg.domain);
        if self.ua.refer(now, original, target, Some(consult)).is_ok() {
            if let Some(c) = self.calls.get_mut(&original) {
                c.transfer = Transferring::Referred {
                    consult: Some(consult),
                };
            }
        } else {
            self.transfer_failed(cx, original);
        }
    }

    /// The transfer did not happen: drop the consultation, take the call off hold.
    pub(super) fn transfer_failed(&mut self, cx: &mut Cx<'_>, original: CallHandle) {
        let now = cx.now();
        let Some(c) = self.calls.get_mut(&original) else {
            return;
        };
        let consult = match c.transfer {
            Transferring::Consulting { consult } => Some(consult),
            Transferring::Referred { consult } => consult,
            Transferring::None => return,
        };
        c.transfer = Transferring::None;
        self.stats.transfers_failed += 1;
        if let Some(k) = consult.filter(|k| self.calls.contains_key(k)) {
            let _ = self.ua.hangup(now, k);
        }
        self.resume(cx, original);
    }

    /// Progress of a REFER we sent.
    pub(super) fn on_refer_status(
        &mut self,
        cx: &mut Cx<'_>,
        call: CallHandle,
        status: u16,
        last: bool,
    ) {
        let now = cx.now();
        let referred = self
            .calls
            .get(&call)
            .is_some_and(|c| matches!(c.transfer, Transferring::Referred { .. }));
        if !referred {
            return;
        }
        if status >= 300 {
            self.transfer_failed(cx, call);
        } else if last && (200..300).contains(&status) {
            self.stats.transfers_completed += 1;
            if let Some(c) = self.calls.get_mut(&call) {
                c.transfer = Transferring::None;
            }
            let _ = self.ua.hangup(now, call);
        }
    }

    /// The peer asks this user to call `target` (we answered 202): place the call, with
    /// Referred-By and Replaces, and report its progress by NOTIFY.
    pub(super) fn on_refer(
        &mut self,
        cx: &mut Cx<'_>,
        call: CallHandle,
        refer: ReferId,
        target: NameAddr,
        referred_by: Option<NameAddr>,
        replaces: Option<Replaces>,
    ) {
        let now = cx.now();
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let (tag, user, role, script) = (c.tag, c.user.clone(), c.role, c.script.clone());
        // The transferee hangs up when the caller would have: its own time when it is the
        // caller, else (the caller transferred it) answer + holding.
        let hangup_at = c.hangup_at.or_else(|| {
            c.answered_at
                .zip(script.as_ref())
                .map(|(at, s)| at + s.holding)
        });
        let mut params = CallParams::new(target.uri);
        params.referred_by = referred_by;
        params.replaces = replaces;
        let s = script.clone();
        let new = self.invite(cx, params, |local| {
            let mut n = LyncPool::blank(
                tag,
                &user,
                role,
                Purpose::Transferee {
                    original: call,
                    refer,
                },
                true,
                local,
                s,
            );
            n.hangup_at = hangup_at;
            n
        });
        match new {
            Some(h) => {
                if let Some(d) = script.map(|s| s.abandon_after) {
                    self.arm(now + d, PoolTimer::GiveUp(h));
                }
            }
            None => {
                let _ = self.ua.notify_refer(now, call, refer, 503);
            }
        }
    }
}
