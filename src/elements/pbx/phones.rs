//! The PBX's own parties and timers: phones placing and answering calls, forwarding on no
//! answer, hold by a phone caller, the voicemail, and the Alternate Route Timer.

use super::call::{CallKey, LegKind, LegState, Purpose};
use super::control::Redirect;
use super::route::party_in;
use super::station::LineState;
use super::{Pbx, PbxTimer};
use crate::elements::CallTag;
use crate::elements::callbook::CallNote;
use crate::elements::host::Cx;
use crate::elements::script::{AnswerAction, ForwardMode};
use crate::sim::SimDuration;
use crate::vendor::Feature;
use std::rc::Rc;

impl Pbx {
    /// A PBX phone places the call of `tag`.
    pub(crate) fn place_call(&mut self, cx: &mut Cx<'_>, tag: CallTag) {
        let Some(script) = cx.script(tag) else { return };
        let caller = script.caller.clone();
        if self.stations.is_busy(&caller) {
            cx.note(
                tag,
                CallNote::FinalStatus {
                    status: 486,
                    detail: "the calling phone is busy".into(),
                },
            );
            cx.note(tag, CallNote::Ended);
            return;
        }
        let called = if self.setup.plan.lookup(&script.dialled).is_some() {
            script.dialled.clone()
        } else {
            script.callee.clone()
        };
        let abandon = script.abandon_after;
        let origin = super::call::Leg::new(LegKind::Phone, &caller, Purpose::Primary);
        let key = self.start_call(cx, tag, script, origin, called.clone());
        let now = cx.now();
        self.stations
            .occupy(now, &caller, (key, 0), LineState::Busy);
        self.stations.set_display(&caller, Some(called.clone()));
        self.timers
            .arm(now + abandon, PbxTimer::CallerAbandon { call: key });
        self.extend(cx, key, &called, Purpose::Primary, None);
    }

    pub(crate) fn ring_phone(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        ext: &str,
        purpose: Purpose,
        redirect: Redirect,
    ) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let script = Rc::clone(&call.script);
        let in_hunt = self
            .stations
            .hunt_groups
            .iter()
            .any(|g| g.pilot == call.called && g.members.iter().any(|m| m == ext));
        let action = script.action_for(if in_hunt { &call.called } else { ext });
        let partner = self.partner_for(key, purpose);
        let shows = if call.anonymous {
            "anonymous".to_string()
        } else {
            let p = &call.legs[partner];
            p.identity.clone().unwrap_or_else(|| p.number.clone())
        };
        let scripted_fwd = script.forward.as_ref().filter(|_| script.callee == ext);
        let cfa = scripted_fwd
            .filter(|f| f.mode == ForwardMode::All)
            .map(|f| f.target.clone())
            .or_else(|| {
                self.stations
                    .forward(ext, |w| matches!(w, super::station::ForwardWhen::All))
                    .map(|f| f.target.clone())
            });
        if let (Some(target), true) = (cfa, purpose != Purpose::Forward) {
            return self.extend(
                cx,
                key,
                &target,
                Purpose::Forward,
                Some((ext.to_string(), "unconditional")),
            );
        }
        let busy = self.stations.is_busy(ext) || action == AnswerAction::Busy;
        if busy {
            let cfb = scripted_fwd
                .filter(|f| f.mode == ForwardMode::Busy)
                .map(|f| f.target.clone())
                .or_else(|| {
                    self.stations
                        .forward(ext, |w| matches!(w, super::station::ForwardWhen::Busy))
                        .map(|f| f.target.clone())
                });
            return match cfb {
                Some(t) if purpose != Purpose::Forward => self.extend(
                    cx,
                    key,
                    &t,
                    Purpose::Forward,
                    Some((ext.to_string(), "user-busy")),
                ),
                _ => self.no_destination(cx, key, purpose, 486, "Busy Here"),
            };
        }
        if action == AnswerAction::Decline {
            return self.no_destination(cx, key, purpose, 603, "Decline");
        }
        let _ = redirect;
        let now = cx.now();
        let mut leg = super::call::Leg::new(LegKind::Phone, ext, purpose);
        leg.media = Some(self.media_end(cx, false, false));
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.legs.push(leg);
        let idx = call.legs.len() - 1;
        self.stations
            .occupy(now, ext, (key, idx), LineState::Ringing);
        self.stations.set_display(ext, Some(shows));
        cx.note(call.tag, CallNote::Hop);
        let no_answer_target = |s: &Self| {
            s.stations
                .forward(ext, |w| {
                    matches!(w, super::station::ForwardWhen::NoAnswer { .. })
                })
                .map(|f| {
                    let after = match f.when {
                        super::station::ForwardWhen::NoAnswer { after_s } => after_s,
                        _ => 0,
                    };
                    (SimDuration::from_secs(u64::from(after)), f.target.clone())
                })
        };
        match action {
            AnswerAction::Answer { after } => {
                self.timers.arm(
                    now + after,
                    PbxTimer::PhoneAnswer {
                        call: key,
                        leg: idx,
                    },
                );
            }
            AnswerAction::Voicemail { after } => {
                if let Some(vm) = self.setup.voicemail.clone() {
                    self.timers.arm(
                        now + after,
                        PbxTimer::RingNoAnswer {
                            call: key,
                            leg: idx,
                            target: vm,
                        },
                    );
                } else if let Some((after, target)) = no_answer_target(self) {
                    self.timers.arm(
                        now + after,
                        PbxTimer::RingNoAnswer {
                            call: key,
                            leg: idx,
                            target,
                        },
                    );
                }
            }
            _ => {
                if let Some((after, target)) = no_answer_target(self) {
                    self.timers.arm(
                        now + after,
                        PbxTimer::RingNoAnswer {
                            call: key,
                            leg: idx,
                            target,
                        },
                    );
                }
            }
        }
        self.dest_alerting(cx, key, idx);
    }

    pub(crate) fn route_to_voicemail(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        pilot: &str,
        purpose: Purpose,
    ) {
        let mut leg = super::call::Leg::new(LegKind::Voicemail, pilot, purpose);
        leg.media = Some(self.media_end(cx, false, false));
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.legs.push(leg);
        let idx = call.legs.len() - 1;
        cx.note(call.tag, CallNote::Hop);
        self.dest_answered(cx, key, idx);
    }

    /// A phone caller hangs up after talking.
    pub(crate) fn caller_hangs_up(&mut self, cx: &mut Cx<'_>, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let peer = call.peer_of(0);
        self.release_leg(cx, key, 0, None);
        if let Some(p) = peer {
            self.hang_up_party(cx, key, p);
        }
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let live: Vec<usize> = call.live_destinations().collect();
        for l in live {
            self.release_leg(cx, key, l, Some(487));
        }
        self.finish_if_done(cx, key);
    }

    /// A phone that is not the caller hangs up.
    pub(crate) fn party_hangs_up(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if !call
            .legs
            .get(leg)
            .is_some_and(|l| l.is_live() && l.state == LegState::Answered)
        {
            return;
        }
        let peer = call.peer_of(leg);
        self.release_leg(cx, key, leg, None);
        if let Some(p) = peer {
            self.hang_up_party(cx, key, p);
        }
        self.finish_if_done(cx, key);
    }

    /// A phone caller gives up before answer.
    pub(crate) fn caller_abandons(&mut self, cx: &mut Cx<'_>, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if call.answered_at.is_some() {
            return;
        }
        cx.note(call.tag, CallNote::Abandoned);
        self.caller_hangs_up(cx, key);
    }

    /// A ringing phone answers.
    pub(crate) fn phone_answers(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        let ringing = self
            .calls
            .get(&key)
            .and_then(|c| c.legs.get(leg))
            .is_some_and(|l| l.is_live() && l.state < LegState::Answered);
        if ringing {
            self.dest_answered(cx, key, leg);
        }
    }

    /// A ringing phone forwards on no answer.
    pub(crate) fn phone_no_answer(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        leg: usize,
        target: &str,
    ) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let Some(l) = call
            .legs
            .get(leg)
            .filter(|l| l.is_live() && l.state < LegState::Answered)
        else {
            return;
        };
        if call.answered_at.is_some() {
            return;
        }
        let from = l.number.clone();
        // The new destination is tried before the phone stops, so the call never looks
        // destination-less.
        self.extend(cx, key, target, Purpose::Forward, Some((from, "no-answer")));
        self.release_leg(cx, key, leg, None);
    }

    /// The Alternate Route Timer of an INVITE to Lync expired: CANCEL, then the alternate.
    pub(crate) fn alternate_route_expired(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(l) = call.legs.get_mut(leg) else {
            return;
        };
        l.art = None;
        if !l.is_live() || l.state == LegState::Answered || call.answered_at.is_some() {
            return;
        }
        let tag = call.tag;
        let plan = &self.setup.plan;
        let sc = call.scenario(|n| party_in(plan, n), Feature::Basic);
        self.report.alternate_route_timer_expiries += 1;
        if let Some(id) = self
            .engine
            .alternate_route_timer(&sc)
            .and_then(|a| a.limitation)
        {
            self.note_limitation(cx, tag, &id);
        }
        let Some(alt) = self.setup.alternate_route.clone() else {
            return;
        };
        self.report.failovers += 1;
        cx.note(tag, CallNote::Failover { status: None });
        self.extend(cx, key, &alt, Purpose::Alternate, None);
        self.release_leg(cx, key, leg, Some(487));
    }

    /// `VoicemailAudioCut`: the voicemail stops after part of the greeting and hangs up.
    pub(crate) fn voicemail_cut(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if !call.legs.get(leg).is_some_and(|l| l.is_live()) {
            return;
        }
        let plan = &self.setup.plan;
        let sc = call.scenario(|n| party_in(plan, n), Feature::Voicemail);
        let tag = call.tag;
        let peer = call.peer_of(leg);
        if let Some((_, id)) = self.engine.voicemail_cut(&sc) {
            self.note_limitation(cx, tag, &id);
        }
        self.release_leg(cx, key, leg, None);
        if let Some(p) = peer {
            self.hang_up_party(cx, key, p);
        }
        self.finish_if_done(cx, key);
    }

    /// A phone caller puts its SIP peer on hold, or resumes.
    pub(crate) fn caller_holds(&mut self, cx: &mut Cx<'_>, key: CallKey, hold: bool) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let Some(peer) = call.peer_of(0) else { return };
        let Some((h, _)) = call.legs[peer].sip() else {
            return;
        };
        let now = cx.now();
        if hold {
            let _ = self.ua.hold(now, h, crate::sip::sdp::Direction::SendOnly);
            if let Some(d) = call.script.hold.map(|h| h.duration) {
                self.timers
                    .arm(now + d, PbxTimer::CallerResume { call: key });
            }
        } else {
            let _ = self.ua.resume(now, h);
        }
    }
}
