//! The PRI side: Q.931 calls in and out on the PBX's TDM links, B-channel hunting across
//! spans, span faults and the failover codes the product answers with.

use super::Pbx;
use super::call::{CallKey, Clearing, Leg, LegKind, LegState, Purpose};
use super::control::Redirect;
use super::route::party_in;
use crate::elements::callbook::CallNote;
use crate::elements::host::Cx;
use crate::elements::tdm::{Cause, Channel, IsdnMessage, SeizeError};
use crate::elements::{CallTag, TdmPort};
use crate::sip::wire::{HeaderName, NameAddr};
use std::rc::Rc;

impl Pbx {
    pub(crate) fn handle_isdn(&mut self, cx: &mut Cx<'_>, port: TdmPort, msg: IsdnMessage) {
        let call_ref = msg.call_ref();
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
            return self.incoming_setup(
                cx,
                port,
                call_ref,
                call,
                &called,
                calling,
                restricted,
                redirecting,
                channel,
            );
        }
        let Some(&(key, leg)) = self.by_isdn.get(&(port, call_ref)) else {
            // Unknown call: answer a clearing message so the far end can finish.
            if let IsdnMessage::Disconnect { .. } = msg {
                cx.send_isdn(
                    port,
                    IsdnMessage::Release {
                        call_ref,
                        cause: Cause::NORMAL_CLEARING,
                    },
                );
            } else if let IsdnMessage::Release { .. } = msg {
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
        match msg {
            IsdnMessage::Setup { .. } | IsdnMessage::CallProceeding { .. } => {}
            IsdnMessage::ConnectAck { .. } | IsdnMessage::InbandDigits { .. } => {}
            IsdnMessage::Alerting { .. } => {
                if leg != 0 {
                    self.dest_alerting(cx, key, leg);
                }
            }
            IsdnMessage::Progress { .. } => {
                if leg != 0 {
                    self.dest_early_media(cx, key, leg);
                }
            }
            IsdnMessage::Connect { .. } => {
                cx.send_isdn(port, IsdnMessage::ConnectAck { call_ref });
                if leg != 0 {
                    self.dest_answered(cx, key, leg);
                }
            }
            IsdnMessage::Disconnect { cause, .. } => {
                cx.send_isdn(
                    port,
                    IsdnMessage::Release {
                        call_ref,
                        cause: Cause::NORMAL_CLEARING,
                    },
                );
                self.set_clearing(key, leg, Clearing::Releasing);
                self.far_end_cleared(cx, key, leg, cause);
            }
            IsdnMessage::Release { cause, .. } => {
                cx.send_isdn(
                    port,
                    IsdnMessage::ReleaseComplete {
                        call_ref,
                        cause: Cause::NORMAL_CLEARING,
                    },
                );
                let was = self.clearing(key, leg);
                self.cleared(cx, key, leg, port, call_ref);
                if was == Some(Clearing::None) {
                    self.far_end_cleared(cx, key, leg, cause);
                }
                self.finish_if_done(cx, key);
            }
            IsdnMessage::ReleaseComplete { cause, .. } => {
                let was = self.clearing(key, leg);
                self.cleared(cx, key, leg, port, call_ref);
                if was == Some(Clearing::None) {
                    // RELEASE COMPLETE as the first clearing message (a refused SETUP).
                    self.far_end_cleared(cx, key, leg, cause);
                }
                self.finish_if_done(cx, key);
            }
        }
    }

    fn clearing(&self, key: CallKey, leg: usize) -> Option<Clearing> {
        match self.calls.get(&key)?.legs.get(leg)?.kind {
            LegKind::Pri { clearing, .. } => Some(clearing),
            _ => None,
        }
    }

    fn set_clearing(&mut self, key: CallKey, leg: usize, to: Clearing) {
        if let Some(LegKind::Pri { clearing, .. }) = self
            .calls
            .get_mut(&key)
            .and_then(|c| c.legs.get_mut(leg))
            .map(|l| &mut l.kind)
        {
            *clearing = to;
        }
    }

    /// The call is cleared on the link: free the channel this side seized.
    fn cleared(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        leg: usize,
        port: TdmPort,
        call_ref: crate::elements::tdm::CallRef,
    ) {
        self.by_isdn.remove(&(port, call_ref));
        if let Some(LegKind::Pri {
            channel,
            seized,
            clearing,
            ..
        }) = self
            .calls
            .get_mut(&key)
            .and_then(|c| c.legs.get_mut(leg))
            .map(|l| &mut l.kind)
        {
            if let (true, Some(ch)) = (*seized, channel.take()) {
                cx.release(port, ch);
            }
            *clearing = Clearing::None;
        }
    }

    /// The PSTN side cleared (or refused) the call on this leg.
    fn far_end_cleared(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize, cause: Cause) {
        let Some(l) = self.calls.get(&key).and_then(|c| c.legs.get(leg)) else {
            return;
        };
        if !l.is_live() {
            return;
        }
        if leg != 0 && l.state != LegState::Answered {
            let status = cause.to_sip_status().unwrap_or(480);
            self.dest_failed(cx, key, leg, status);
        } else {
            self.leg_released(cx, key, leg);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn incoming_setup(
        &mut self,
        cx: &mut Cx<'_>,
        port: TdmPort,
        call_ref: crate::elements::tdm::CallRef,
        tag: CallTag,
        called: &str,
        calling: Option<String>,
        restricted: bool,
        redirecting: Option<String>,
        channel: u16,
    ) {
        let b = cx.trunk_group(port).kind().b_channels() as u16;
        let ch = Channel {
            span: channel / b,
            index: channel % b,
        };
        cx.send_isdn(port, IsdnMessage::CallProceeding { call_ref });
        let caller = calling.clone().unwrap_or_else(|| "anonymous".into());
        let script = match cx.script(tag) {
            Some(s) => s,
            None => Rc::new(Self::default_script(tag, &caller, called, restricted)),
        };
        let mut origin = Leg::new(
            LegKind::Pri {
                port,
                call_ref,
                channel: Some(ch),
                seized: false,
                clearing: Clearing::None,
            },
            &caller,
            Purpose::Primary,
        );
        origin.identity = calling;
        let key = self.start_call(cx, tag, script, origin, called.to_string());
        if let Some(c) = self.calls.get_mut(&key) {
            c.anonymous |= restricted;
            if let Some(r) = redirecting {
                let host = self.setup.ip.to_string();
                c.history.push((
                    HeaderName::Diversion,
                    format!("<sip:{r}@{host}>;reason=unconditional"),
                ));
            }
        }
        self.by_isdn.insert((port, call_ref), (key, 0));
        self.extend(cx, key, called, Purpose::Primary, None);
    }

    /// Places the call on the PRI: hunts a B-channel span by span and sends SETUP, or
    /// answers with the product's code when no span can take it.
    pub(crate) fn setup_pri(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        number: &str,
        purpose: Purpose,
        redirect: Redirect,
    ) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let plan = &self.setup.plan;
        let feature = call.feature_toward(number, false, |n| party_in(plan, n));
        let mut sc = call.scenario(|n| party_in(plan, n), feature);
        let tag = call.tag;
        let has_history_info = call
            .history
            .iter()
            .any(|(h, _)| *h == HeaderName::HistoryInfo);
        if has_history_info {
            if let Some((status, id)) = self.engine.history_info_breaks_pri(&sc) {
                self.note_limitation(cx, tag, &id);
                return self.no_destination(
                    cx,
                    key,
                    purpose,
                    status,
                    "History-Info refused at the PRI",
                );
            }
        }
        // The redirecting number: this PBX's own forward, else the call's history.
        let mut redirecting = redirect.as_ref().map(|(n, _)| n.clone());
        if redirecting.is_none() {
            // The first entry names the party that forwarded (History-Info's original
            // target, Diversion's diverting party, the referrer).
            let from_history = call.history.iter().find_map(|(_, v)| {
                crate::sip::wire::scan::split_list(v)
                    .next()
                    .and_then(|e| NameAddr::parse(e.trim()).ok())
                    .and_then(|a| a.uri.user().map(str::to_string))
            });
            if from_history.is_some() {
                let (dropped, id) = self.engine.dropped_history(&sc);
                if dropped.is_empty() {
                    redirecting = from_history;
                } else if let Some(id) = id {
                    self.note_limitation(cx, tag, &id);
                }
            }
        }
        let calling = {
            let partner = self.partner_for(key, purpose);
            let c = &self.calls[&key];
            let p = &c.legs[partner];
            (!c.anonymous).then(|| p.identity.clone().unwrap_or_else(|| p.number.clone()))
        };
        let restricted = self.calls[&key].anonymous;
        // Hunt: link by link, span by span. A span before the chosen one that is out of
        // service is the span the call was assigned to.
        let ports = self.setup.pri.clone();
        let mut any_down = false;
        let mut any_in_service = false;
        let mut found: Option<(TdmPort, Channel)> = None;
        for port in &ports {
            let group = cx.trunk_group(*port);
            let spans = group.spans();
            let down: Vec<u16> = (0..spans).filter(|s| !group.span_in_service(*s)).collect();
            any_in_service |= (down.len() as u16) < spans;
            match cx.seize(*port) {
                Ok(ch) => {
                    if down.iter().any(|s| *s < ch.span) {
                        any_down = true;
                    }
                    found = Some((*port, ch));
                    break;
                }
                Err(SeizeError::AllBusy) | Err(SeizeError::OutOfService) => {
                    any_down |= !down.is_empty();
                }
            }
        }
        sc.span_out_of_service = any_down;
        if any_down {
            if let Some((status, id)) = self.engine.isdn_failover_refused(&sc) {
                if let Some((port, ch)) = found {
                    cx.release(port, ch);
                }
                self.note_limitation(cx, tag, &id);
                return self.no_destination(cx, key, purpose, status, "T1 unavailable");
            }
        }
        let Some((port, ch)) = found else {
            if any_in_service || !any_down {
                self.report.blocked += 1;
                cx.note(tag, CallNote::Blocked);
                let status = self.engine.no_circuit_response();
                return self.no_destination(cx, key, purpose, status, "no circuit available");
            }
            let acted = self.engine.span_down_response(&sc);
            if let Some(id) = &acted.limitation {
                self.note_limitation(cx, tag, id);
            }
            return self.no_destination(cx, key, purpose, acted.value, "T1 out of service");
        };
        let call_ref = self.new_call_ref();
        let kind = cx.trunk_group(port).kind();
        cx.send_isdn(
            port,
            IsdnMessage::Setup {
                call_ref,
                call: tag,
                called: number.to_string(),
                calling,
                restricted,
                redirecting,
                channel: ch.number(kind),
            },
        );
        let mut leg = Leg::new(
            LegKind::Pri {
                port,
                call_ref,
                channel: Some(ch),
                seized: true,
                clearing: Clearing::None,
            },
            number,
            purpose,
        );
        leg.media = Some(self.media_end(cx, false, true));
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.legs.push(leg);
        let idx = call.legs.len() - 1;
        self.by_isdn.insert((port, call_ref), (key, idx));
    }

    /// A span went out of service: its calls are lost without signalling.
    pub(crate) fn span_lost(&mut self, cx: &mut Cx<'_>, port: TdmPort, lost: &[Channel]) {
        if lost.is_empty() {
            return;
        }
        let mut hit: Vec<(CallKey, usize, crate::elements::tdm::CallRef)> = Vec::new();
        for (key, call) in &self.calls {
            for (i, l) in call.legs.iter().enumerate() {
                if let LegKind::Pri {
                    port: p,
                    channel: Some(ch),
                    call_ref,
                    ..
                } = &l.kind
                {
                    if *p == port && lost.contains(ch) {
                        hit.push((*key, i, *call_ref));
                    }
                }
            }
        }
        for (key, leg, call_ref) in hit {
            self.by_isdn.remove(&(port, call_ref));
            if let Some(LegKind::Pri {
                channel, clearing, ..
            }) = self
                .calls
                .get_mut(&key)
                .and_then(|c| c.legs.get_mut(leg))
                .map(|l| &mut l.kind)
            {
                // The span took the channel down with it (already freed by the group).
                *channel = None;
                *clearing = Clearing::Releasing;
            }
            self.far_end_cleared(cx, key, leg, Cause::NETWORK_OUT_OF_ORDER);
            self.set_clearing(key, leg, Clearing::None);
            self.finish_if_done(cx, key);
        }
    }
}
