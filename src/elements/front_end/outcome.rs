//! What happens after a branch is sent: each branch's final response (answer, failover,
//! call forward busy), the fast-failover and unanswered-call timers, and the final
//! response upstream once nothing is left to try.

use super::FrontEnd;
use super::call::{Hop, Leg};
use super::history::Retarget;
use crate::elements::callbook::CallNote;
use crate::elements::host::Cx;
use crate::elements::timers::TimerId;
use crate::sip::proxy::{BranchReport, ContextId};
use crate::sip::wire::HeaderName;
use std::collections::VecDeque;

impl FrontEnd {
    pub(super) fn on_branch_report(&mut self, cx: &mut Cx<'_>, r: BranchReport) {
        let now = cx.now();
        let ctx = r.ctx;
        let Some(call) = self.calls.get_mut(&ctx) else {
            return;
        };
        let Some(b) = call.branches.get_mut(r.branch) else {
            return;
        };
        if b.finished {
            return;
        }
        b.finished = true;
        let timer = b.timer.take();
        let grant = b.grant.take();
        let abandoned = b.abandoned;
        let (leg, hop) = (b.leg, b.hop.clone());
        let tag = call.tag;
        self.cancel_timer(timer);
        if (200..300).contains(&r.status) {
            if let Some(call) = self.calls.get_mut(&ctx) {
                call.answered = true;
                call.kept.extend(grant);
                let t = call.unanswered.take();
                let others: Vec<Option<TimerId>> =
                    call.branches.iter_mut().map(|b| b.timer.take()).collect();
                self.cancel_timer(t);
                for t in others {
                    self.cancel_timer(t);
                }
            }
            if let Hop::Trunk(c) = hop {
                self.health[c.trunk].success(&self.cfg.health);
            }
            self.maybe_remove(ctx);
            return;
        }
        if let Some(g) = grant {
            self.cac.release(g);
        }
        if abandoned {
            self.maybe_remove(ctx);
            self.maybe_finish(cx, ctx);
            return;
        }
        if let Some(l) = self.calls.get_mut(&ctx).and_then(|c| c.legs.get_mut(leg)) {
            l.live = None;
        }
        let answered = self
            .calls
            .get(&ctx)
            .is_some_and(|c| c.answered || c.completed);
        match hop {
            Hop::Trunk(c) => {
                let trunk = &self.cfg.routing.trunks[c.trunk];
                let translated = trunk.translate(r.status);
                let down = !r.timeout && {
                    let resp = self.core.branch_failure(ctx, r.branch);
                    let diag: Vec<&str> = resp
                        .map(|resp| {
                            resp.headers
                                .get_all(HeaderName::Reason)
                                .chain(resp.headers.get_named("ms-diagnostics"))
                                .collect()
                        })
                        .unwrap_or_default();
                    trunk.reported_down(r.status, &diag)
                };
                let failover = down || r.timeout || self.cfg.routing.fails_over(c, translated);
                let h = &mut self.health[c.trunk];
                if down {
                    h.reported_down(now, &self.cfg.health);
                } else if failover {
                    h.failure(now, &self.cfg.health);
                } else {
                    h.success(&self.cfg.health);
                }
                let Some(call) = self.calls.get_mut(&ctx) else {
                    return;
                };
                if r.timeout {
                    call.timed_out = true;
                }
                if translated != r.status {
                    call.translated_final = Some(translated);
                }
                let more = !call.legs[leg].hops.is_empty();
                if failover && more && !answered {
                    if let Some(t) = tag {
                        let status = (!r.timeout).then_some(r.status);
                        cx.note(t, CallNote::Failover { status });
                    }
                    self.stats.failovers += 1;
                    self.advance(cx, ctx, leg);
                }
            }
            Hop::Pool { .. } => {
                let cfb = self
                    .calls
                    .get_mut(&ctx)
                    .filter(|_| r.status == 486 && !answered)
                    .and_then(|c| c.cfb.take());
                if let Some(target) = cfb {
                    if let Some(mut call) = self.calls.remove(&ctx) {
                        self.push_retarget(now, &mut call, &target, Retarget::Busy);
                        let leg = call.legs.len() - 1;
                        self.calls.insert(ctx, call);
                        self.advance(cx, ctx, leg);
                    }
                }
            }
            Hop::Voicemail => {}
        }
        self.maybe_finish(cx, ctx);
        self.maybe_remove(ctx);
    }

    /// When no branch is left and nothing answered, sends the final response upstream.
    pub(super) fn maybe_finish(&mut self, cx: &mut Cx<'_>, ctx: ContextId) {
        let now = cx.now();
        let Some(call) = self.calls.get_mut(&ctx) else {
            return;
        };
        if call.answered || call.completed || call.live_branches() {
            return;
        }
        let t = call.unanswered.take();
        let (tag, sent) = (call.tag, !call.branches.is_empty());
        let all_abandoned = call.branches.iter().all(|b| b.abandoned);
        let (refused, down, timed_out, translated) = (
            call.cac_refused,
            call.skipped_down,
            call.timed_out,
            call.translated_final,
        );
        self.cancel_timer(t);
        if refused {
            if let Some(t) = tag {
                cx.note(t, CallNote::RejectedCapacity);
            }
        }
        let _ = if !sent && refused {
            self.core.respond(now, ctx, 503, "Insufficient Bandwidth")
        } else if !sent && down {
            self.core.respond(now, ctx, 503, "All Gateways Down")
        } else if !sent {
            self.core.respond(now, ctx, 404, "Not Found")
        } else if let Some(s) = translated {
            self.core
                .respond(now, ctx, s, crate::sip::wire::reason_phrase(s))
        } else if all_abandoned && timed_out {
            // Every trunk timed out: no response to pass on.
            self.core.respond(now, ctx, 504, "Server Time-out")
        } else {
            self.core.finish(now, ctx)
        };
    }

    pub(super) fn maybe_remove(&mut self, ctx: ContextId) {
        let done = self
            .calls
            .get(&ctx)
            .is_some_and(|c| c.completed && !c.live_branches());
        if done {
            if let Some(call) = self.calls.remove(&ctx) {
                for b in call.branches {
                    self.cancel_timer(b.timer);
                    if let Some(g) = b.grant {
                        self.cac.release(g);
                    }
                }
                self.cancel_timer(call.unanswered);
            }
        }
    }

    pub(super) fn on_completed(&mut self, ctx: ContextId, status: u16) {
        let Some(call) = self.calls.get_mut(&ctx) else {
            return;
        };
        call.completed = true;
        let kept = std::mem::take(&mut call.kept);
        if (200..300).contains(&status) && !kept.is_empty() {
            self.established
                .entry(call.call_id.clone())
                .or_default()
                .extend(kept);
        } else {
            for g in kept {
                self.cac.release(g);
            }
        }
        if let Some(t) = call.tag {
            if self.featured.get(&t) == Some(&ctx) {
                self.featured.remove(&t);
            }
        }
        let t = call.unanswered.take();
        self.cancel_timer(t);
        self.maybe_remove(ctx);
    }

    /// The fast-failover timer of a trunk branch expired.
    pub(super) fn on_fast_failover(&mut self, cx: &mut Cx<'_>, ctx: ContextId, branch: usize) {
        let now = cx.now();
        let Some(call) = self.calls.get_mut(&ctx) else {
            return;
        };
        let Some(b) = call.branches.get_mut(branch) else {
            return;
        };
        b.timer = None;
        if b.finished || b.abandoned || call.answered || call.completed {
            return;
        }
        let Hop::Trunk(c) = b.hop.clone() else {
            return;
        };
        if self.core.branch_progress(ctx, branch).is_some() {
            self.health[c.trunk].success(&self.cfg.health);
            return;
        }
        b.abandoned = true;
        let grant = b.grant.take();
        let leg = b.leg;
        call.timed_out = true;
        call.legs[leg].live = None;
        let (tag, more) = (call.tag, !call.legs[leg].hops.is_empty());
        if let Some(g) = grant {
            self.cac.release(g);
        }
        let _ = self.core.abandon_branch(now, ctx, branch);
        self.health[c.trunk].failure(now, &self.cfg.health);
        if more {
            if let Some(t) = tag {
                cx.note(t, CallNote::Failover { status: None });
            }
            self.stats.failovers += 1;
            self.advance(cx, ctx, leg);
        }
        self.maybe_finish(cx, ctx);
    }

    /// The unanswered-call timer expired: voicemail takes the call from the client (and
    /// any simultaneous-ring target).
    pub(super) fn on_unanswered(&mut self, cx: &mut Cx<'_>, ctx: ContextId) {
        let now = cx.now();
        let Some(mut call) = self.calls.remove(&ctx) else {
            return;
        };
        call.unanswered = None;
        if call.answered || call.completed || self.cfg.voicemail.is_none() {
            self.calls.insert(ctx, call);
            return;
        }
        let ringing: Vec<usize> = (0..call.branches.len())
            .filter(|&i| !call.branches[i].finished && !call.branches[i].abandoned)
            .collect();
        call.legs.push(Leg {
            number: self
                .cfg
                .voicemail
                .as_ref()
                .map(|v| v.pilot.clone())
                .unwrap_or_default(),
            hops: VecDeque::from([Hop::Voicemail]),
            retarget: Some(Retarget::NoAnswer),
            usages: Vec::new(),
            live: None,
        });
        let leg = call.legs.len() - 1;
        self.calls.insert(ctx, call);
        self.advance(cx, ctx, leg);
        for i in ringing {
            let Some(call) = self.calls.get_mut(&ctx) else {
                return;
            };
            let b = &mut call.branches[i];
            b.abandoned = true;
            let (timer, grant, l) = (b.timer.take(), b.grant.take(), b.leg);
            call.legs[l].live = None;
            call.legs[l].hops.clear();
            self.cancel_timer(timer);
            if let Some(g) = grant {
                self.cac.release(g);
            }
            let _ = self.core.abandon_branch(now, ctx, i);
        }
        self.maybe_finish(cx, ctx);
    }
}
