//! Ending legs and calls: release with or without signalling, the far end leaving, and
//! removing a call once every leg (and every PRI clearing) is over.

use super::Pbx;
use super::call::{CallKey, LegKind, LegState};
use crate::elements::callbook::CallNote;
use crate::elements::host::Cx;
use crate::elements::tdm::{Cause, IsdnMessage};

impl Pbx {
    /// Ends one leg. `signal`: `None` when the far end is already gone (or the party is a
    /// phone), else the status to give an unanswered SIP or ISDN leg.
    pub(crate) fn release_leg(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        leg: usize,
        signal: Option<u16>,
    ) {
        let now = cx.now();
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let tag = call.tag;
        let Some(l) = call.legs.get_mut(leg) else {
            return;
        };
        if !l.is_live() {
            return;
        }
        let answered = l.state == LegState::Answered;
        l.state = LegState::Released;
        if let Some(id) = l.art.take() {
            self.timers.cancel(id);
        }
        let number = l.number.clone();
        match &mut l.kind {
            LegKind::Phone => {
                self.stations.free(now, &number, (key, leg));
                if leg == 0 && !call.ended {
                    call.ended = true;
                    cx.note(tag, CallNote::Ended);
                }
            }
            LegKind::Pri {
                port,
                call_ref,
                clearing,
                ..
            } => {
                if let (Some(status), super::call::Clearing::None) = (signal, *clearing) {
                    let cause = if answered {
                        Cause::NORMAL_CLEARING
                    } else {
                        Cause::from_sip_status(status)
                    };
                    cx.send_isdn(
                        *port,
                        IsdnMessage::Disconnect {
                            call_ref: *call_ref,
                            cause,
                        },
                    );
                    *clearing = super::call::Clearing::Disconnecting;
                }
            }
            LegKind::Sip { handle, .. } => {
                let h = *handle;
                self.trunk_calls = self.trunk_calls.saturating_sub(1);
                if let Some(status) = signal {
                    if leg == 0 && !answered {
                        let reason = crate::sip::wire::reason_phrase(status);
                        let _ = self.ua.reject(now, h, status, reason, &[]);
                    } else {
                        let _ = self.ua.hangup(now, h);
                    }
                }
            }
            LegKind::Voicemail => {}
        }
        self.close_media(cx, key, leg);
    }

    /// A leg's far end hung up (or cancelled): the rest of the call follows.
    pub(crate) fn leg_released(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if !call.legs[leg].is_live() {
            return self.finish_if_done(cx, key);
        }
        let answered = call.legs[leg].state == LegState::Answered;
        let in_transfer = call.transfer.as_ref().map(|t| (t.referred, t.transferee));
        let peer = call.peer_of(leg);
        self.release_leg(cx, key, leg, None);
        if leg == 0 {
            let Some(call) = self.calls.get(&key) else {
                return;
            };
            let live: Vec<usize> = (1..call.legs.len())
                .filter(|i| call.legs[*i].is_live())
                .collect();
            for l in live {
                self.release_leg(cx, key, l, Some(487));
            }
        } else if in_transfer.is_some_and(|(referred, _)| referred == leg) {
            // Lync left after asking for the transfer: the transferee stays for the target.
        } else if let Some(p) = peer {
            if in_transfer.is_some_and(|(_, transferee)| transferee == leg) {
                self.abort_transfer(cx, key);
            }
            self.hang_up_party(cx, key, p);
        } else if !answered {
            return self.dest_failed_released(cx, key, leg);
        }
        self.finish_if_done(cx, key);
    }

    /// An unanswered destination went away (its leg is already released).
    fn dest_failed_released(&mut self, cx: &mut Cx<'_>, key: CallKey, _leg: usize) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if call.answered_at.is_none() && call.live_destinations().next().is_none() {
            self.origin_fail(cx, key, 480, "480 Temporarily Unavailable");
        }
        self.finish_if_done(cx, key);
    }

    /// Clears an answered party because the other side left.
    pub(crate) fn hang_up_party(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        self.release_leg(cx, key, leg, Some(200));
        // Remaining unanswered legs (a transfer target still ringing) go too.
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let live: Vec<usize> = (0..call.legs.len())
            .filter(|i| call.legs[*i].is_live())
            .collect();
        let bridged = call.bridge;
        for l in live {
            if bridged.is_some_and(|(a, b)| a == l || b == l) {
                continue;
            }
            self.release_leg(cx, key, l, Some(487));
        }
    }

    /// Removes a call once every leg is over and its PRI legs have cleared.
    pub(crate) fn finish_if_done(&mut self, _cx: &mut Cx<'_>, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let done = call.legs.iter().all(|l| {
            !l.is_live()
                && !matches!(
                    l.kind,
                    LegKind::Pri {
                        clearing: super::call::Clearing::Disconnecting
                            | super::call::Clearing::Releasing,
                        ..
                    }
                )
        });
        if !done {
            return;
        }
        let Some(call) = self.calls.remove(&key) else {
            return;
        };
        // A consult call joined into another call of the same tag leaves the mapping to
        // the call that carries on.
        if self.by_tag.get(&call.tag) == Some(&key) {
            self.by_tag.remove(&call.tag);
        }
        for l in &call.legs {
            match &l.kind {
                LegKind::Sip { handle, .. } => {
                    self.by_handle.remove(handle);
                }
                LegKind::Pri { port, call_ref, .. } => {
                    self.by_isdn.remove(&(*port, *call_ref));
                }
                _ => {}
            }
        }
        for id in &call.call_ids {
            self.by_call_id.remove(id);
        }
        // Timers of the call stay armed and find nothing when they fire (keys are never
        // reused), which is cheaper than searching the queue.
    }

    /// The element crashed: the call vanishes without signalling.
    pub(crate) fn drop_call(&mut self, cx: &mut Cx<'_>, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let n = call.legs.len();
        for leg in 0..n {
            self.close_media(cx, key, leg);
            let Some(call) = self.calls.get_mut(&key) else {
                return;
            };
            let tag = call.tag;
            let l = &mut call.legs[leg];
            let was_live = l.is_live();
            l.state = LegState::Released;
            match &mut l.kind {
                LegKind::Phone => {
                    let num = l.number.clone();
                    self.stations.free(cx.now(), &num, (key, leg));
                    if leg == 0 && was_live && !call.ended {
                        call.ended = true;
                        cx.note(
                            tag,
                            CallNote::FinalStatus {
                                status: 503,
                                detail: "PBX failed".into(),
                            },
                        );
                        cx.note(tag, CallNote::Ended);
                    }
                }
                LegKind::Pri {
                    port,
                    channel,
                    seized,
                    clearing,
                    ..
                } => {
                    if let (true, Some(ch)) = (*seized, *channel) {
                        cx.release(*port, ch);
                    }
                    *clearing = super::call::Clearing::None;
                }
                _ => {}
            }
        }
        self.finish_if_done(cx, key);
    }
}
