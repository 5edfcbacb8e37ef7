//! The gateway's TDM side: Q.931 messages from the PSTN or a TDM PBX, SETUPs toward the
//! SIP side (or switched to another TDM link), and T303.

use super::super::CallTag;
use super::super::TdmPort;
use super::super::callbook::CallNote;
use super::super::host::Cx;
use super::super::tdm::{CallRef, Cause, Channel, IsdnMessage, SeizeError};
use super::isdn::{IsdnLeg, LegState, T303};
use super::party_media::PartyMedia;
use super::routing::InboundRoute;
use super::{Gateway, GwCall, GwDir, GwTimer};
use crate::rtp::CallPhase;

/// Q.850 cause 47 "resource unavailable, unspecified" (the gateway is full).
const RESOURCE_UNAVAILABLE: Cause = Cause(47);

impl Gateway {
    pub(super) fn handle_isdn(&mut self, cx: &mut Cx<'_>, port: TdmPort, msg: IsdnMessage) {
        if let IsdnMessage::Setup {
            call_ref,
            call,
            called,
            calling,
            restricted,
            redirecting,
            channel,
        } = msg
        {
            let tag = (call.0 != u64::MAX).then_some(call);
            return self.tdm_setup(
                cx,
                port,
                call_ref,
                tag,
                called,
                calling,
                restricted,
                redirecting,
                channel,
            );
        }
        let call_ref = msg.call_ref();
        let Some(&id) = self.by_tdm.get(&(port, call_ref)) else {
            if let IsdnMessage::Release { .. } = msg {
                cx.send_isdn(
                    port,
                    IsdnMessage::ReleaseComplete {
                        call_ref,
                        cause: Cause::NORMAL_CLEARING,
                    },
                );
            }
            return;
        };
        let out = self
            .calls
            .get(&id)
            .and_then(|c| c.tdm_out.as_ref())
            .is_some_and(|l| l.port == port && l.call_ref == call_ref);
        match msg {
            IsdnMessage::CallProceeding { .. } => {
                self.stop_t303(id);
                if let Some(l) = self.leg(id, out).filter(|l| l.state == LegState::Present) {
                    l.state = LegState::Proceeding;
                }
            }
            IsdnMessage::Alerting { inband, .. } => {
                self.stop_t303(id);
                self.on_alerting(cx, id, out, inband);
            }
            IsdnMessage::Progress { .. } => {
                self.stop_t303(id);
                self.on_progress(cx, id, out);
            }
            IsdnMessage::Connect { .. } => {
                self.stop_t303(id);
                self.on_connect(cx, id, out);
            }
            IsdnMessage::Disconnect { cause, .. } => {
                let g = self.leg(id, out).map(|l| l.on_disconnect(cx, cause));
                self.far_cleared(cx, id, out, cause);
                if let Some(g) = g {
                    self.guard(cx, id, out, g);
                }
            }
            IsdnMessage::Release { cause, .. } => {
                let g = self.leg(id, out).map(|l| l.on_release(cx));
                self.far_cleared(cx, id, out, cause);
                if let Some(g) = g {
                    self.guard(cx, id, out, g);
                }
            }
            IsdnMessage::ReleaseComplete { cause, .. } => {
                self.stop_t303(id);
                let g = self.leg(id, out).map(|l| l.on_release_complete(cx));
                self.far_cleared(cx, id, out, cause);
                if let Some(g) = g {
                    self.guard(cx, id, out, g);
                }
            }
            IsdnMessage::InbandDigits { digits, .. } => {
                if let Some(m) = self.calls.get_mut(&id).and_then(|c| c.media.as_mut()) {
                    m.dtmf(cx, &digits);
                }
            }
            IsdnMessage::ConnectAck { .. } | IsdnMessage::Setup { .. } => {}
        }
    }

    fn leg(&mut self, id: u64, out: bool) -> Option<&mut IsdnLeg> {
        let c = self.calls.get_mut(&id)?;
        if out {
            c.tdm_out.as_mut()
        } else {
            c.tdm.as_mut()
        }
    }

    fn stop_t303(&mut self, id: u64) {
        if let Some(t) = self.calls.get_mut(&id).and_then(|c| c.t303.take()) {
            self.timers.cancel(t);
        }
    }

    /// The far end of leg `out` is clearing with `cause`: clear the other side.
    fn far_cleared(&mut self, cx: &mut Cx<'_>, id: u64, out: bool, cause: Cause) {
        let Some(c) = self.calls.get(&id) else { return };
        match c.dir {
            GwDir::TdmToTdm => {
                let g = self
                    .leg(id, !out)
                    .filter(|l| !l.is_clearing())
                    .map(|l| l.disconnect(cx, cause));
                if let Some(g) = g {
                    self.guard(cx, id, !out, g);
                }
            }
            _ => {
                let status = self.status_for(cause);
                self.end_sip(cx, id, status);
            }
        }
    }

    /// Sends the 183 with SDP that carries the TDM side's in-band tones or announcements,
    /// and starts the party's media in early phase.
    fn early_media(&mut self, cx: &mut Cx<'_>, id: u64) {
        let now = cx.now();
        let reliable = self.cfg.reliable_provisionals;
        let policy = self.cfg.policy.clone();
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(h) = c.sip else { return };
        if c.early {
            return;
        }
        c.early = true;
        let _ = self.ua.ring(now, h, 183, true, reliable);
        if let (Some(neg), Some(m)) = (self.ua.media(h).cloned(), c.media.as_mut()) {
            m.apply(cx, &neg, CallPhase::EarlyMedia, &policy, &self.cfg.name);
        }
    }

    fn on_alerting(&mut self, cx: &mut Cx<'_>, id: u64, out: bool, inband: bool) {
        let now = cx.now();
        let reliable = self.cfg.reliable_provisionals;
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if c.alerted {
            return;
        }
        c.alerted = true;
        if let Some(l) = if out {
            c.tdm_out.as_mut()
        } else {
            c.tdm.as_mut()
        } {
            l.state = LegState::Alerting;
        }
        match c.dir {
            GwDir::TdmToTdm => {
                if let Some(l) = c.tdm.as_mut().filter(|l| !l.is_clearing()) {
                    l.state = LegState::Alerting;
                    l.send(
                        cx,
                        IsdnMessage::Alerting {
                            call_ref: l.call_ref,
                            inband,
                        },
                    );
                }
            }
            _ if inband => self.early_media(cx, id),
            _ => {
                if let Some(h) = c.sip {
                    let _ = self.ua.ring(now, h, 180, false, reliable);
                }
            }
        }
    }

    fn on_progress(&mut self, cx: &mut Cx<'_>, id: u64, out: bool) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if c.dir == GwDir::TdmToTdm {
            if out {
                if let Some(l) = c.tdm.as_mut().filter(|l| !l.is_clearing()) {
                    l.send(
                        cx,
                        IsdnMessage::Progress {
                            call_ref: l.call_ref,
                        },
                    );
                }
            }
            return;
        }
        self.early_media(cx, id);
    }

    fn on_connect(&mut self, cx: &mut Cx<'_>, id: u64, out: bool) {
        let now = cx.now();
        let policy = self.cfg.policy.clone();
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        c.answered = true;
        let leg = if out {
            c.tdm_out.as_mut()
        } else {
            c.tdm.as_mut()
        };
        if let Some(l) = leg {
            l.state = LegState::Active;
            l.send(
                cx,
                IsdnMessage::ConnectAck {
                    call_ref: l.call_ref,
                },
            );
        }
        match c.dir {
            GwDir::TdmToTdm => {
                if let Some(l) = c.tdm.as_mut().filter(|l| !l.is_clearing()) {
                    l.state = LegState::Active;
                    l.send(
                        cx,
                        IsdnMessage::Connect {
                            call_ref: l.call_ref,
                        },
                    );
                }
            }
            _ => {
                let Some(h) = c.sip else { return };
                let _ = self.ua.answer(now, h);
                if let (Some(neg), Some(m)) = (self.ua.media(h).cloned(), c.media.as_mut()) {
                    m.apply(cx, &neg, CallPhase::Connected, &policy, &self.cfg.name);
                    m.connect(cx);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn tdm_setup(
        &mut self,
        cx: &mut Cx<'_>,
        port: TdmPort,
        call_ref: CallRef,
        tag: Option<CallTag>,
        called: String,
        calling: Option<String>,
        restricted: bool,
        redirecting: Option<String>,
        channel: u16,
    ) {
        self.stats.tdm_calls += 1;
        if let Some(t) = tag {
            cx.note(t, CallNote::Hop);
        }
        let kind = cx.trunk_group(port).kind();
        let b = kind.b_channels() as u16;
        let ch = Channel {
            span: channel / b,
            index: channel % b,
        };
        let route = self.routing.route_from_tdm(&called, port);
        let dir = match route {
            InboundRoute::Sip(_) => GwDir::TdmToSip,
            InboundRoute::Tdm(_) => GwDir::TdmToTdm,
        };
        let mut c = GwCall::new(dir, tag, called.clone());
        c.calling = calling.clone();
        c.restricted = restricted;
        c.redirecting = redirecting.clone();
        c.tdm = Some(IsdnLeg::new(port, call_ref, ch, false));
        let id = self.new_call(c);
        self.by_tdm.insert((port, call_ref), id);
        if !self.take_slot(id) {
            self.stats.rejected_capacity += 1;
            if let Some(t) = tag {
                cx.note(t, CallNote::RejectedCapacity);
            }
            return self.refuse_tdm(cx, id, RESOURCE_UNAVAILABLE);
        }
        match route {
            InboundRoute::Sip(peers) => {
                let up: Vec<usize> = peers
                    .into_iter()
                    .filter(|p| self.keepalive.is_up(*p))
                    .collect();
                if up.is_empty() {
                    return self.refuse_tdm(cx, id, Cause::TEMPORARY_FAILURE);
                }
                let local = cx.allocate_media(*self.cfg.sip.ip());
                let delay = self.cfg.tdm_delay;
                let party = calling.unwrap_or_default();
                let Some(c) = self.calls.get_mut(&id) else {
                    return;
                };
                c.peers = up;
                if let Some(t) = tag {
                    c.media = Some(PartyMedia::new(
                        local,
                        t,
                        Self::role_of(cx, t, &party),
                        delay,
                    ));
                }
                if let Some(l) = c.tdm.as_mut() {
                    l.state = LegState::Proceeding;
                    l.send(cx, IsdnMessage::CallProceeding { call_ref });
                }
                self.place_invite(cx, id);
            }
            InboundRoute::Tdm(links) => {
                let mut busy = false;
                let mut seized = None;
                for li in links {
                    let p = self.routing.links[li].port;
                    match cx.seize(p) {
                        Ok(ch) => {
                            seized = Some((p, ch));
                            break;
                        }
                        Err(SeizeError::AllBusy) => busy = true,
                        Err(SeizeError::OutOfService) => {}
                    }
                }
                let Some((p, out_ch)) = seized else {
                    if busy {
                        self.stats.blocked += 1;
                        if let Some(t) = tag {
                            cx.note(t, CallNote::Blocked);
                        }
                    } else {
                        self.stats.spans_down += 1;
                    }
                    let cause = if busy {
                        Cause::NO_CIRCUIT_AVAILABLE
                    } else {
                        Cause::NETWORK_OUT_OF_ORDER
                    };
                    return self.refuse_tdm(cx, id, cause);
                };
                let out_ref = self.refs.next(cx.me());
                let out_kind = cx.trunk_group(p).kind();
                let setup = IsdnMessage::Setup {
                    call_ref: out_ref,
                    call: tag.unwrap_or(CallTag(u64::MAX)),
                    called,
                    calling,
                    restricted,
                    redirecting,
                    channel: out_ch.number(out_kind),
                };
                let now = cx.now();
                let Some(c) = self.calls.get_mut(&id) else {
                    return;
                };
                if let Some(l) = c.tdm.as_mut() {
                    l.state = LegState::Proceeding;
                    l.send(cx, IsdnMessage::CallProceeding { call_ref });
                }
                let leg = IsdnLeg::new(p, out_ref, out_ch, true);
                leg.send(cx, setup.clone());
                c.tdm_out = Some(leg);
                c.setup = Some(setup);
                c.t303 = Some(self.timers.arm(now + T303, GwTimer::T303(id)));
                self.by_tdm.insert((p, out_ref), id);
            }
        }
    }

    /// Refuses a SETUP with RELEASE COMPLETE.
    fn refuse_tdm(&mut self, cx: &mut Cx<'_>, id: u64, cause: Cause) {
        let g = self.leg(id, false).map(|l| l.refuse(cx, cause));
        if let Some(g) = g {
            self.guard(cx, id, false, g);
        }
    }

    /// T303: no answer to our SETUP. The first expiry sends it again, the second clears
    /// the call (Q.931 §5.1.1) with cause 102.
    pub(super) fn on_t303(&mut self, cx: &mut Cx<'_>, id: u64) {
        let now = cx.now();
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        c.t303 = None;
        let out = c.dir == GwDir::TdmToTdm;
        let leg = if out {
            c.tdm_out.as_mut()
        } else {
            c.tdm.as_mut()
        };
        let Some(leg) = leg.filter(|l| l.state == LegState::Present) else {
            return;
        };
        c.t303_expiries += 1;
        if c.t303_expiries < 2 {
            if let Some(s) = c.setup.clone() {
                leg.send(cx, s);
            }
            c.t303 = Some(self.timers.arm(now + T303, GwTimer::T303(id)));
            return;
        }
        let g = leg.refuse(cx, Cause::RECOVERY_ON_TIMER_EXPIRY);
        self.far_cleared(cx, id, out, Cause::RECOVERY_ON_TIMER_EXPIRY);
        self.guard(cx, id, out, g);
    }
}
