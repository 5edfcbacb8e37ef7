//! The call controller: a call's origin, its destinations, and what each side's progress
//! does to the other (alerting, early media, answer, failure, release).

use super::call::{CallKey, LegKind, LegState, PbxCall, Purpose};
use super::route::{Route, party_in};
use super::station::{LineState, StationTone};
use super::{Pbx, PbxTimer};
use crate::elements::CallTag;
use crate::elements::callbook::CallNote;
use crate::elements::host::Cx;
use crate::elements::script::{AnswerAction, CallScript};
use crate::elements::tdm::IsdnMessage;
use crate::rtp::CallPhase;
use crate::sim::SimDuration;
use crate::vendor::{DeclineHandling, EarlyMediaHandling, Feature, Tone};
use std::rc::Rc;

/// A redirection (forward) carried to the next destination: who forwarded, and why
/// (RFC 5806 reason).
pub(crate) type Redirect = Option<(String, &'static str)>;

impl Pbx {
    /// A made-up script for a call the call book does not know (a live peer's call).
    pub(crate) fn default_script(
        tag: CallTag,
        caller: &str,
        called: &str,
        anonymous: bool,
    ) -> CallScript {
        CallScript {
            tag,
            caller: caller.to_string(),
            dialled: called.to_string(),
            callee: called.to_string(),
            anonymous,
            callee_action: AnswerAction::Answer {
                after: SimDuration::from_secs(1),
            },
            holding: SimDuration::from_secs(60),
            abandon_after: SimDuration::from_secs(120),
            hold: None,
            transfer: None,
            forward: None,
            simul_ring: None,
            dtmf: None,
            secondary_ring: SimDuration::from_secs(3),
        }
    }

    /// Creates a call with its origin leg; the caller of this then routes it.
    pub(crate) fn start_call(
        &mut self,
        cx: &mut Cx<'_>,
        tag: CallTag,
        script: Rc<CallScript>,
        mut origin: super::call::Leg,
        called: String,
    ) -> CallKey {
        let key = self.next_key;
        self.next_key += 1;
        if origin.is_local() {
            let pstn = matches!(origin.kind, LegKind::Pri { .. });
            origin.media = Some(self.media_end(cx, true, pstn));
        }
        let anonymous = script.anonymous;
        self.calls.insert(
            key,
            PbxCall {
                tag,
                script,
                legs: vec![origin],
                bridge: None,
                called,
                transfer: None,
                origin_alerted: false,
                origin_early: false,
                answered_at: None,
                kept_up: false,
                ended: false,
                anonymous,
                history: Vec::new(),
                digits_sent: false,
                transfer_ringback: false,
                call_ids: Vec::new(),
                noted: Vec::new(),
            },
        );
        self.by_tag.insert(tag, key);
        self.report.calls += 1;
        cx.note(tag, CallNote::Hop);
        key
    }

    /// Routes `number` as a new destination of the call.
    pub(crate) fn extend(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        number: &str,
        purpose: Purpose,
        redirect: Redirect,
    ) {
        match self.route(number) {
            Route::Phone(ext) => self.ring_phone(cx, key, &ext, purpose, redirect),
            Route::DualFork(ext) => {
                self.invite(
                    cx,
                    key,
                    &ext,
                    super::call::Trunk::Lync,
                    Purpose::Fork,
                    redirect.clone(),
                );
                self.ring_phone(cx, key, &ext, purpose, redirect);
            }
            Route::Hunt(i) => {
                let group = self.stations.hunt_groups[i].clone();
                match self.stations.hunt(&group) {
                    Some(member) => self.ring_phone(cx, key, &member, purpose, redirect),
                    None => self.no_destination(
                        cx,
                        key,
                        purpose,
                        486,
                        "every hunt group member is busy",
                    ),
                }
            }
            Route::Voicemail => self.route_to_voicemail(cx, key, number, purpose),
            Route::Lync => {
                self.invite(cx, key, number, super::call::Trunk::Lync, purpose, redirect)
            }
            Route::Provider => self.invite(
                cx,
                key,
                number,
                super::call::Trunk::Provider,
                purpose,
                redirect,
            ),
            Route::Pri => self.setup_pri(cx, key, number, purpose, redirect),
        }
    }

    /// The leg a new destination talks to: the transferee during a transfer, else the
    /// origin.
    pub(crate) fn partner_for(&self, key: CallKey, purpose: Purpose) -> usize {
        match (
            purpose,
            self.calls.get(&key).and_then(|c| c.transfer.as_ref()),
        ) {
            (Purpose::TransferTarget, Some(t)) => t.transferee,
            _ => 0,
        }
    }

    /// A destination could not be reached at all (no leg was created).
    pub(crate) fn no_destination(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        purpose: Purpose,
        status: u16,
        detail: &str,
    ) {
        if purpose == Purpose::TransferTarget {
            return self.transfer_failed(cx, key, None, status);
        }
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if call.answered_at.is_some() || call.live_destinations().next().is_some() {
            return;
        }
        self.origin_fail(cx, key, status, detail);
    }

    /// A destination rings.
    pub(crate) fn dest_alerting(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let l = &mut call.legs[leg];
        if l.state < LegState::Alerting {
            l.state = LegState::Alerting;
        }
        if l.purpose == Purpose::TransferTarget {
            return self.transfer_alerting(cx, key, leg);
        }
        if call.answered_at.is_some() || call.origin_alerted {
            return;
        }
        if call.legs[leg].is_lync() {
            let plan = &self.setup.plan;
            let sc = call.scenario(|n| party_in(plan, n), Feature::Basic);
            if let Some(id) = self.engine.suppress_ringback(&sc) {
                let tag = call.tag;
                call.origin_alerted = true;
                self.note_limitation(cx, tag, &id);
                return;
            }
        }
        self.origin_alert(cx, key);
    }

    /// A destination offers early media (183 with SDP, PROGRESS from the PSTN).
    pub(crate) fn dest_early_media(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let l = &mut call.legs[leg];
        if l.state < LegState::Early {
            l.state = LegState::Early;
        }
        if l.purpose == Purpose::TransferTarget {
            return self.transfer_alerting(cx, key, leg);
        }
        if call.answered_at.is_some() {
            return;
        }
        let plan = &self.setup.plan;
        let handling = if call.legs[leg].is_lync() {
            let f = call.lync_side_feature(true, |n| party_in(plan, n));
            self.engine
                .early_media(&call.scenario(|n| party_in(plan, n), f))
        } else if call.origin().is_lync() {
            let f = call.feature_toward(&call.legs[leg].number, true, |n| party_in(plan, n));
            self.engine
                .early_media(&call.scenario(|n| party_in(plan, n), f))
        } else {
            EarlyMediaHandling::Relay
        };
        let tag = call.tag;
        match handling {
            EarlyMediaHandling::Relay => self.origin_early(cx, key, leg),
            EarlyMediaHandling::LocalRingback(id) | EarlyMediaHandling::Withheld(id) => {
                self.note_limitation(cx, tag, &id);
                if let Some(c) = self.calls.get_mut(&key) {
                    c.origin_alerted = false;
                }
                self.origin_alert(cx, key);
            }
        }
    }

    /// The origin hears ringback: a local tone, ALERTING, or a 180.
    pub(crate) fn origin_alert(&mut self, cx: &mut Cx<'_>, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.origin_alerted && call.legs[0].state >= LegState::Alerting {
            return;
        }
        call.origin_alerted = true;
        let tag = call.tag;
        let origin = &mut call.legs[0];
        if origin.state < LegState::Alerting {
            origin.state = LegState::Alerting;
        }
        match origin.kind.clone() {
            LegKind::Phone => {
                cx.note(tag, CallNote::RingbackHeard);
                let n = origin.number.clone();
                self.stations.tone(cx.now(), &n, StationTone::Ringback);
            }
            LegKind::Pri { port, call_ref, .. } => {
                cx.send_isdn(
                    port,
                    IsdnMessage::Alerting {
                        call_ref,
                        inband: true,
                    },
                );
            }
            LegKind::Sip { handle, .. } => {
                let reliable = self.engine.prack();
                let _ = self.ua.ring(cx.now(), handle, 180, false, reliable);
            }
            LegKind::Voicemail => {}
        }
    }

    /// The origin hears the destination's early media.
    fn origin_early(&mut self, cx: &mut Cx<'_>, key: CallKey, dest: usize) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.origin_early = true;
        call.origin_alerted = true;
        if call.legs[0].state < LegState::Early {
            call.legs[0].state = LegState::Early;
        }
        let origin_kind = call.legs[0].kind.clone();
        let dest_local = call.legs[dest].is_local();
        match origin_kind {
            LegKind::Phone | LegKind::Pri { .. } => {
                if let LegKind::Pri { port, call_ref, .. } = origin_kind {
                    cx.send_isdn(port, IsdnMessage::Progress { call_ref });
                }
                self.media_toward(cx, key, 0, dest, CallPhase::EarlyMedia);
                if dest_local {
                    self.media_toward(cx, key, dest, 0, CallPhase::EarlyMedia);
                }
                self.send_caller_digits(cx, key);
            }
            LegKind::Sip { handle, .. } => {
                let reliable = self.engine.prack();
                let now = cx.now();
                if dest_local {
                    let Some(local) = call.legs[dest].media.as_ref().map(|m| m.local) else {
                        return;
                    };
                    if let Some(sdp) = self.local_sdp(cx, key, handle, local) {
                        let _ = self.ua.ring_with_sdp(now, handle, 183, sdp, reliable);
                        self.refresh_remote(key, 0);
                        self.media_toward(cx, key, dest, 0, CallPhase::EarlyMedia);
                    }
                } else if let Some((dh, _)) = call.legs[dest].sip() {
                    if let Some(sdp) = self.ua.remote_sdp(dh).cloned() {
                        let _ = self.ua.ring_with_sdp(now, handle, 183, sdp, reliable);
                    }
                }
            }
            LegKind::Voicemail => {}
        }
    }

    /// Copies a SIP leg's negotiated media from its user agent.
    pub(crate) fn refresh_remote(&mut self, key: CallKey, leg: usize) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if let Some((h, _)) = call.legs[leg].sip() {
            if let Some(neg) = self.ua.media(h) {
                call.legs[leg].remote = Some(neg.clone());
            }
        }
    }

    /// A destination answered: it takes the call, the others are cancelled.
    pub(crate) fn dest_answered(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if !call.legs[leg].is_live() {
            return;
        }
        if call.legs[leg].purpose == Purpose::TransferTarget {
            return self.transfer_answered(cx, key, leg);
        }
        if call.answered_at.is_some() {
            // A second fork answered late: it loses.
            return self.release_leg(cx, key, leg, Some(200));
        }
        let now = cx.now();
        call.answered_at = Some(now);
        call.legs[leg].state = LegState::Answered;
        call.bridge = Some((0, leg));
        let others: Vec<usize> = call.live_destinations().filter(|i| *i != leg).collect();
        let arts: Vec<_> = call.legs.iter_mut().filter_map(|l| l.art.take()).collect();
        for id in arts {
            self.timers.cancel(id);
        }
        for o in others {
            self.release_leg(cx, key, o, Some(487));
        }
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let origin_shows = {
            let d = &call.legs[leg];
            d.identity.clone().unwrap_or_else(|| d.number.clone())
        };
        if matches!(call.legs[leg].kind, LegKind::Phone) {
            let n = call.legs[leg].number.clone();
            self.stations.set_line(now, &n, LineState::Busy);
        }
        if matches!(call.legs[0].kind, LegKind::Phone) {
            let n = call.legs[0].number.clone();
            self.stations.set_display(&n, Some(origin_shows));
        }
        let is_voicemail = matches!(call.legs[leg].kind, LegKind::Voicemail);
        self.origin_answer(cx, key, leg);
        self.connect_media(cx, key);
        self.send_caller_digits(cx, key);
        if is_voicemail {
            let Some(call) = self.calls.get(&key) else {
                return;
            };
            let plan = &self.setup.plan;
            let sc = call.scenario(|n| party_in(plan, n), Feature::Voicemail);
            if let Some((after, _)) = self.engine.voicemail_cut(&sc) {
                self.timers
                    .arm(now + after, PbxTimer::VoicemailCut { call: key, leg });
            }
        }
    }

    /// The origin is answered: 200 OK, CONNECT, or the phone caller's answer.
    fn origin_answer(&mut self, cx: &mut Cx<'_>, key: CallKey, dest: usize) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let now = cx.now();
        call.legs[0].state = LegState::Answered;
        let tag = call.tag;
        let script = Rc::clone(&call.script);
        match call.legs[0].kind.clone() {
            LegKind::Phone => {
                cx.note(tag, CallNote::Answered);
                self.timers
                    .arm(now + script.holding, PbxTimer::CallerHangup { call: key });
                if let Some(h) = script.hold.filter(|h| h.by_caller) {
                    self.timers
                        .arm(now + h.after, PbxTimer::CallerHold { call: key });
                }
            }
            LegKind::Pri { port, call_ref, .. } => {
                cx.send_isdn(port, IsdnMessage::Connect { call_ref });
            }
            LegKind::Sip { handle, .. } => {
                let d = &call.legs[dest];
                if d.is_local() {
                    let Some(local) = d.media.as_ref().map(|m| m.local) else {
                        return;
                    };
                    if let Some(sdp) = self.local_sdp(cx, key, handle, local) {
                        let _ = self.ua.answer_with_sdp(now, handle, sdp);
                    }
                } else if let Some((dh, _)) = d.sip() {
                    match self.ua.remote_sdp(dh).cloned() {
                        Some(sdp) => {
                            let _ = self.ua.answer_with_sdp(now, handle, sdp);
                        }
                        None => {
                            let _ = self.ua.answer(now, handle);
                        }
                    }
                }
                self.refresh_remote(key, 0);
            }
            LegKind::Voicemail => {}
        }
    }

    /// A destination failed before answer (final response, DISCONNECT, busy phone...).
    pub(crate) fn dest_failed(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize, status: u16) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if !call.legs[leg].is_live() {
            return;
        }
        let purpose = call.legs[leg].purpose;
        let lync = call.legs[leg].is_lync();
        self.release_leg(cx, key, leg, None);
        if purpose == Purpose::TransferTarget {
            return self.transfer_failed(cx, key, Some(leg), status);
        }
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if call.answered_at.is_some() {
            return self.finish_if_done(cx, key);
        }
        let tag = call.tag;
        let failover_code = matches!(status, 408 | 503 | 504);
        if lync && failover_code && purpose != Purpose::Alternate && purpose != Purpose::Fork {
            if let Some(alt) = self.setup.alternate_route.clone() {
                self.report.failovers += 1;
                cx.note(
                    tag,
                    CallNote::Failover {
                        status: (status != 408).then_some(status),
                    },
                );
                return self.extend(cx, key, &alt, Purpose::Alternate, None);
            }
        }
        if call.live_destinations().next().is_some() {
            return;
        }
        if lync && status == 603 && matches!(call.legs[0].kind, LegKind::Pri { .. }) {
            let plan = &self.setup.plan;
            let sc = call.scenario(|n| party_in(plan, n), Feature::Decline);
            if let DeclineHandling::KeepUp { tone, limitation } = self.engine.on_decline(&sc) {
                self.note_limitation(cx, tag, &limitation);
                return self.keep_caller_up(cx, key, tone);
            }
        }
        let detail = format!("{status} {}", crate::sip::wire::reason_phrase(status));
        self.origin_fail(cx, key, status, &detail);
    }

    /// `NoDisconnectOnDecline`: the PSTN caller is not cleared and hears `tone`.
    fn keep_caller_up(&mut self, cx: &mut Cx<'_>, key: CallKey, tone: Tone) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.kept_up = true;
        if let LegKind::Pri { port, call_ref, .. } = call.legs[0].kind {
            match tone {
                Tone::Ringback => cx.send_isdn(
                    port,
                    IsdnMessage::Alerting {
                        call_ref,
                        inband: true,
                    },
                ),
                Tone::Overflow => cx.send_isdn(port, IsdnMessage::Progress { call_ref }),
                Tone::Silence => {}
            }
        }
    }

    /// The origin's call failed with `status`.
    pub(crate) fn origin_fail(&mut self, cx: &mut Cx<'_>, key: CallKey, status: u16, detail: &str) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if let LegKind::Phone = call.legs[0].kind {
            let n = call.legs[0].number.clone();
            cx.note(
                call.tag,
                CallNote::FinalStatus {
                    status,
                    detail: detail.to_string(),
                },
            );
            self.stations.tone(cx.now(), &n, StationTone::Overflow);
            self.release_leg(cx, key, 0, None);
        } else {
            self.release_leg(cx, key, 0, Some(status));
        }
        self.finish_if_done(cx, key);
    }
}
