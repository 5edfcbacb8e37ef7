//! Transfers by Lync users: REFER executed by the PBX (the PBX-side party is the
//! transferee), and connected-identity updates (a re-INVITE or UPDATE with a new
//! P-Asserted-Identity when Lync transferred the call itself). Both change what the PBX
//! phone's display shows, unless the product keeps the first Lync user
//! (`StaleDisplayAfterTransfer`).

use super::Pbx;
use super::call::{CallKey, LegKind, LegState, Purpose, Transfer};
use super::route::party_in;
use super::station::StationTone;
use crate::elements::host::Cx;
use crate::elements::tdm::IsdnMessage;
use crate::sip::ua::{CallHandle, ReferId};
use crate::sip::wire::{NameAddr, Replaces};
use crate::vendor::{Feature, TransferMode};

impl Pbx {
    fn transfer_feature(&self, key: CallKey) -> Option<Feature> {
        let call = self.calls.get(&key)?;
        let t = call.transfer.as_ref()?;
        let target = call.legs.get(t.target).map(|l| l.number.clone());
        let plan = &self.setup.plan;
        Some(Feature::Transfer {
            mode: t.mode,
            target: target.map_or(crate::vendor::Party::Pstn, |n| party_in(plan, &n)),
        })
    }

    /// Lync asks the PBX (by REFER on `handle`'s dialog) to transfer its party to `target`.
    pub(crate) fn refer_requested(
        &mut self,
        cx: &mut Cx<'_>,
        handle: CallHandle,
        refer: ReferId,
        target: &NameAddr,
        replaces: Option<&Replaces>,
    ) {
        let consultative = replaces.is_some();
        let now = cx.now();
        let Some(&(key, referred)) = self.by_handle.get(&handle) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let number = target.uri.user().unwrap_or_default().to_string();
        let Some(transferee) = call.peer_of(referred).filter(|_| call.transfer.is_none()) else {
            let _ = self.ua.notify_refer(now, handle, refer, 603);
            return;
        };
        let mode = if consultative {
            TransferMode::Consultative
        } else {
            TransferMode::Blind
        };
        call.transfer = Some(Transfer {
            referred,
            refer,
            transferee,
            target: usize::MAX,
            mode,
            released_early: false,
        });
        call.transfer_ringback = false;
        let plan = &self.setup.plan;
        let sc = call.scenario(
            |n| party_in(plan, n),
            Feature::Transfer {
                mode,
                target: party_in(plan, &number),
            },
        );
        let tag = call.tag;
        if mode == TransferMode::Blind {
            if let Some(id) = self.engine.unrecoverable_blind_transfer(&sc) {
                self.note_limitation(cx, tag, &id);
                if let Some(t) = self.calls.get_mut(&key).and_then(|c| c.transfer.as_mut()) {
                    t.released_early = true;
                }
                // The original dialog goes at once: BYE to Lync.
                self.release_leg(cx, key, referred, Some(200));
                if let Some(c) = self.calls.get_mut(&key) {
                    c.bridge = None;
                }
            }
        }
        let before = self.calls.get(&key).map_or(0, |c| c.legs.len());
        if let Some(t) = self.calls.get_mut(&key).and_then(|c| c.transfer.as_mut()) {
            t.target = before;
        }
        if let Some(consult) = replaces.and_then(|r| self.replaced_leg(key, r)) {
            // The target is already talking to Lync through us (the consult call): join
            // it to the transferee here, as an INVITE with Replaces would (RFC 3891).
            return self.join_consulted(cx, key, consult);
        }
        self.extend(cx, key, &number, Purpose::TransferTarget, None);
        let target_ringing = self
            .calls
            .get(&key)
            .and_then(|c| c.legs.get(before))
            .is_some_and(|l| l.is_live() && l.state < LegState::Answered);
        if target_ringing {
            self.timers.arm(
                now + super::TRANSFER_RECALL,
                super::PbxTimer::TransferRecall {
                    call: key,
                    leg: before,
                },
            );
        }
    }

    /// The transfer target did not answer in time: the transfer fails.
    pub(crate) fn transfer_recall(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        let pending = self.calls.get(&key).is_some_and(|c| {
            c.transfer.as_ref().is_some_and(|t| t.target == leg)
                && c.legs
                    .get(leg)
                    .is_some_and(|l| l.is_live() && l.state < LegState::Answered)
        });
        if pending {
            self.release_leg(cx, key, leg, Some(480));
            self.transfer_failed(cx, key, Some(leg), 480);
        }
    }

    /// The transfer target rings: the transferee hears ringback, unless the product
    /// plays none (`NoRingbackDuringReferTransfer`).
    pub(crate) fn transfer_alerting(&mut self, cx: &mut Cx<'_>, key: CallKey, _leg: usize) {
        let Some(feature) = self.transfer_feature(key) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.transfer_ringback {
            return;
        }
        call.transfer_ringback = true;
        let plan = &self.setup.plan;
        let sc = call.scenario(|n| party_in(plan, n), feature);
        let tag = call.tag;
        let Some(t) = call.transfer.as_ref() else {
            return;
        };
        let transferee = &call.legs[t.transferee];
        let (kind, number) = (transferee.kind.clone(), transferee.number.clone());
        if let Some(id) = self.engine.no_ringback_during_transfer(&sc) {
            return self.note_limitation(cx, tag, &id);
        }
        match kind {
            LegKind::Phone => self.stations.tone(cx.now(), &number, StationTone::Ringback),
            LegKind::Pri { port, call_ref, .. } => {
                // In-band ringback on the transferee's B-channel.
                cx.send_isdn(port, IsdnMessage::Progress { call_ref })
            }
            _ => {}
        }
    }

    /// The target answered: the transferee is bridged to it and Lync leaves.
    pub(crate) fn transfer_answered(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        let now = cx.now();
        let Some(feature) = self.transfer_feature(key) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(t) = call.transfer.take() else {
            return;
        };
        call.legs[leg].state = LegState::Answered;
        call.bridge = Some((t.transferee, leg));
        let plan = &self.setup.plan;
        let sc = call.scenario(|n| party_in(plan, n), feature);
        let tag = call.tag;
        let referred = &call.legs[t.referred];
        let referred_live = referred.is_live();
        let referred_handle = referred.sip().map(|(h, _)| h);
        let target_shows = {
            let l = &call.legs[leg];
            l.identity.clone().unwrap_or_else(|| l.number.clone())
        };
        let transferee = &call.legs[t.transferee];
        let transferee_phone =
            matches!(transferee.kind, LegKind::Phone).then(|| transferee.number.clone());
        let transferee_shows = transferee
            .identity
            .clone()
            .unwrap_or_else(|| transferee.number.clone());
        let target_phone =
            matches!(call.legs[leg].kind, LegKind::Phone).then(|| call.legs[leg].number.clone());
        if let (true, Some(h)) = (referred_live, referred_handle) {
            let _ = self.ua.notify_refer(now, h, t.refer, 200);
            self.release_leg(cx, key, t.referred, Some(200));
        }
        if let (Some(_), true) = (&transferee_phone, t.transferee != 0) {
            // The transferee was the called party: it ends the call after talking to the
            // target (the caller who would have hung up has left).
            let holding = self
                .calls
                .get(&key)
                .map(|c| c.script.holding)
                .unwrap_or_default();
            self.timers.arm(
                now + holding,
                super::PbxTimer::PartyHangup {
                    call: key,
                    leg: t.transferee,
                },
            );
        }
        if let Some(p) = transferee_phone {
            self.stations.rebind(&p, (key, t.transferee));
            match self.engine.stale_display(&sc) {
                Some(id) => self.note_limitation(cx, tag, &id),
                None => self.stations.set_display(&p, Some(target_shows)),
            }
        }
        if let Some(p) = target_phone {
            self.stations
                .set_line(now, &p, crate::vendor::LineState::Busy);
            self.stations.set_display(&p, Some(transferee_shows));
        }
        self.connect_media(cx, key);
    }

    /// The consult call's leg (another call of ours) whose dialog `r` names, as this side
    /// sees it (`to-tag` ours, `from-tag` the far end's), when its peer is an answered
    /// phone.
    fn replaced_leg(&self, key: CallKey, r: &Replaces) -> Option<(CallKey, usize)> {
        self.calls
            .iter()
            .filter(|(k, _)| **k != key)
            .find_map(|(k, c)| {
                let leg = c.legs.iter().position(|l| {
                    l.is_live()
                        && l.sip().is_some_and(|(h, _)| {
                            self.ua.dialog(h).is_some_and(|d| {
                                d.id.call_id == r.call_id
                                    && d.id.local_tag == r.to_tag
                                    && d.id.remote_tag == r.from_tag
                            })
                        })
                })?;
                let phone = c.peer_of(leg)?;
                let ok = c.legs[phone].kind == LegKind::Phone
                    && c.legs[phone].state == LegState::Answered;
                ok.then_some((*k, leg))
            })
    }

    /// Completes a consultative transfer locally: the consulted phone leaves the consult
    /// call for the transferred one, the consult dialog with Lync is ended (BYE, as the
    /// recipient of an INVITE with Replaces does), and the target counts as answered.
    fn join_consulted(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        (other, lync_leg): (CallKey, usize),
    ) {
        let Some(oc) = self.calls.get_mut(&other) else {
            return;
        };
        let Some(phone) = oc.peer_of(lync_leg) else {
            return;
        };
        let mut moved = oc.legs[phone].clone();
        // The consult call keeps a released husk of the phone leg without its media,
        // which now belongs to the transferred call.
        oc.legs[phone].state = LegState::Released;
        oc.legs[phone].media = None;
        oc.bridge = None;
        moved.purpose = Purpose::TransferTarget;
        let number = moved.number.clone();
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.legs.push(moved);
        let new = call.legs.len() - 1;
        let tag = call.tag;
        if let Some(t) = call.transfer.as_mut() {
            t.target = new;
        }
        self.by_tag.insert(tag, key);
        self.stations.rebind(&number, (key, new));
        self.release_leg(cx, other, lync_leg, Some(200));
        self.finish_if_done(cx, other);
        self.transfer_answered(cx, key, new);
    }

    /// The target did not answer (or could not be reached).
    pub(crate) fn transfer_failed(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        _leg: Option<usize>,
        status: u16,
    ) {
        let now = cx.now();
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(t) = call.transfer.take() else {
            return;
        };
        if t.released_early {
            // Nothing to return to: the transferee is disconnected.
            self.hang_up_party(cx, key, t.transferee);
            return self.finish_if_done(cx, key);
        }
        let referred = &call.legs[t.referred];
        if let (true, Some((h, _))) = (referred.is_live(), referred.sip()) {
            let _ = self.ua.notify_refer(now, h, t.refer, status.max(300));
        }
    }

    /// The transferee left while its transfer was in progress.
    pub(crate) fn abort_transfer(&mut self, cx: &mut Cx<'_>, key: CallKey) {
        let Some(t) = self.calls.get_mut(&key).and_then(|c| c.transfer.take()) else {
            return;
        };
        self.release_leg(cx, key, t.target, Some(487));
    }

    /// Lync presents a new connected identity on a SIP leg (it transferred the call with
    /// re-INVITEs): the PBX phone bridged to it shows the new party, unless the display
    /// stays stale.
    pub(crate) fn identity_update(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        leg: usize,
        identity: &str,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(l) = call.legs.get_mut(leg) else {
            return;
        };
        if l.identity.as_deref() == Some(identity) {
            return;
        }
        l.identity = Some(identity.to_string());
        let Some(peer) = call.peer_of(leg) else {
            return;
        };
        let LegKind::Phone = call.legs[peer].kind else {
            return;
        };
        let phone = call.legs[peer].number.clone();
        let plan = &self.setup.plan;
        let mode = match call.script.transfer.as_ref().map(|t| t.mode) {
            Some(crate::elements::script::TransferMode::Consultative) => TransferMode::Consultative,
            _ => TransferMode::Blind,
        };
        let sc = call.scenario(
            |n| party_in(plan, n),
            Feature::Transfer {
                mode,
                target: party_in(plan, identity),
            },
        );
        let tag = call.tag;
        match self.engine.stale_display(&sc) {
            Some(id) => self.note_limitation(cx, tag, &id),
            None => self
                .stations
                .set_display(&phone, Some(identity.to_string())),
        }
    }
}
