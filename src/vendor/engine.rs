//! The behaviour engine: a vendor model and the effective trunk configuration, asked by the
//! element the model drives what the product does at each decision point of a call.
//!
//! Every [`Behaviour`] of the vocabulary is implemented once, here or in `filter.rs` (the
//! SIP-level parts: egress and ingress filters, SDP capability shaping). An element (the
//! IP-PBX, a gateway) builds one [`BehaviourEngine`] from its model and the trunk
//! configuration with the experiment's knobs applied, then at each decision point describes
//! the call as known at that moment ([`CallScenario`]) and asks a question: send a 180 or
//! not, which code for a dead span, keep the PSTN caller up after a 603, arm the Alternate
//! Route Timer... Each answer names the limitation ID that acted (if any), which the element
//! notes on the call (`CallNote::Limitation`). A model holds no code; the rules' triggers
//! decide which behaviours are active, and the capability table adds the product's plain
//! "No"s (no RTCP, no CN, no OPTIONS) without an ID.
//!
//! The engine is pure: it never sends, schedules or reads a clock.
//!
//! Using it from an element (the IP-PBX does all of this; a gateway does the same):
//! - build: `BehaviourEngine::new(Arc::new(model.clone()), config)` where `config` is
//!   `model.recommended_config()` (or `factory_config()`) `.with(&experiment_settings)`;
//!   refuse to build when `model.unmet_preconditions(&config, deployment)` is not empty;
//! - user agent: `supports_100rel = engine.prack()`, session timers when
//!   `engine.session_timers()`;
//! - every datagram the user agent emits: `engine.filter_egress(bytes, Egress::Lync |
//!   Egress::Provider, call)` before sending; every INVITE/UPDATE received:
//!   `engine.screen_request(&req, &call)`, answering the `Refusal` itself when it is `Some`;
//!   every SDP answer received: `engine.refuse_answer(&sd, &call)`;
//! - SDP and RTP of its endpoints: `engine.media_profile(&call)` (CN, RTCP, early DTMF)
//!   and `engine.shape_capabilities(&mut caps, &profile)`;
//! - decision points: `suppress_ringback` (180 from Lync), `early_media` (183 with SDP, or
//!   PSTN PROGRESS on a forward), `on_decline` (603 from Lync for a PSTN caller),
//!   `span_down_response` / `no_circuit_response` / `isdn_failover_refused` (no channel),
//!   `history_info_breaks_pri` and `dropped_history` (toward the PSTN), `keepalive` (OPTIONS),
//!   `alternate_route_timer`, `inbound_bypass_broken` (where to send RTP), `hold_rejection`,
//!   `stale_display`, `unrecoverable_blind_transfer`, `no_ringback_during_transfer`,
//!   `voicemail_cut`;
//! - note `CallNote::Limitation(id)` for each ID an answer carries.

use super::behaviour::{Behaviour, HistoryHeader, Tone};
use super::ids::LimitationId;
use super::model::{Capability, Support, VendorModel};
use super::rule::CallScenario;
use super::trunk::{PbxKnob, TrunkConfig, Truth};
use crate::sim::SimDuration;
use std::sync::Arc;

/// A value the product chose, with the limitation that made it differ from the nominal
/// behaviour (if one did).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acted<T> {
    pub value: T,
    pub limitation: Option<LimitationId>,
}

impl<T> Acted<T> {
    fn nominal(value: T) -> Self {
        Acted {
            value,
            limitation: None,
        }
    }
}

/// How the product treats early media (183 with SDP) from the far side toward its caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EarlyMediaHandling {
    /// Relayed: the caller hears the far side's early media.
    Relay,
    /// The product plays local ringback and discards the early RTP
    /// (`RingbackInsteadOfEarlyMedia`).
    LocalRingback(LimitationId),
    /// The product signals plain alerting (180 without SDP) and relays no early RTP
    /// (`NoEarlyMediaOnForward`).
    Withheld(LimitationId),
}

/// The rejection of a hold re-INVITE (`HoldFails`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldRejection {
    pub status: u16,
    /// The Lync client that asked for the hold is left muted.
    pub client_left_muted: bool,
    pub limitation: LimitationId,
}

/// What the product does when the far side declines a call from its PSTN side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeclineHandling {
    /// Clears the PSTN call with DISCONNECT (cause 21, call rejected).
    Disconnect,
    /// Sends nothing toward the PSTN: the caller hears `tone` until hanging up.
    KeepUp {
        tone: Tone,
        limitation: LimitationId,
    },
}

/// The media behaviour of the product's RTP endpoints for one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaProfile {
    /// PT 13 in the SDP and CN packets during silence (RFC 3389).
    pub comfort_noise: bool,
    /// RTCP sender and receiver reports.
    pub rtcp: bool,
    /// RFC 4733 telephone-events before answer.
    pub dtmf_in_early_media: bool,
    /// RFC 4733 at all.
    pub dtmf: bool,
    /// The limitations that removed something above.
    pub limitations: Vec<LimitationId>,
}

/// Whether the product sends OPTIONS keepalives on the trunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keepalive {
    Send,
    /// No OPTIONS: by a limitation rule, or because the capability table says `No`.
    Suppressed(Option<LimitationId>),
}

/// The Alternate Route Timer the product arms on INVITEs toward Lync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlternateRouteTimer {
    pub after: SimDuration,
    /// The rule whose symptom is this timer being too short (e.g. `AVSES-C1`).
    pub limitation: Option<LimitationId>,
}

/// A vendor model driving one element, under one trunk configuration.
#[derive(Clone, Debug)]
pub struct BehaviourEngine {
    model: Arc<VendorModel>,
    config: TrunkConfig,
}

impl BehaviourEngine {
    /// An engine for `model` under `config` (the model's recommended or factory
    /// configuration with the experiment's knobs applied).
    pub fn new(model: Arc<VendorModel>, config: TrunkConfig) -> Self {
        BehaviourEngine { model, config }
    }

    pub fn model(&self) -> &VendorModel {
        &self.model
    }

    pub fn config(&self) -> &TrunkConfig {
        &self.config
    }

    fn supports(&self, c: Capability) -> bool {
        self.model.capabilities.support(c) != Support::No
    }

    /// The first behaviour of an active rule that `pick` accepts, with its rule's ID.
    fn find<T>(
        &self,
        call: &CallScenario,
        pick: impl Fn(&Behaviour) -> Option<T>,
    ) -> Option<(T, LimitationId)> {
        self.model
            .limitations
            .iter()
            .filter(|r| r.triggered(&self.config, call))
            .find_map(|r| {
                r.behaviours
                    .iter()
                    .find_map(&pick)
                    .map(|t| (t, r.id.clone()))
            })
    }

    /// Like [`Self::find`], for behaviours that do not depend on a call: the trigger must
    /// hold whatever the call is.
    fn find_static<T>(&self, pick: impl Fn(&Behaviour) -> Option<T>) -> Option<(T, LimitationId)> {
        self.model
            .limitations
            .iter()
            .filter(|r| r.trigger.eval(&self.config, None) == Truth::True)
            .find_map(|r| {
                r.behaviours
                    .iter()
                    .find_map(&pick)
                    .map(|t| (t, r.id.clone()))
            })
    }

    /// Every limitation ID whose rule is triggered for `call` (for reports).
    pub fn active_ids(&self, call: &CallScenario) -> Vec<LimitationId> {
        self.model
            .active_rules(&self.config, call)
            .into_iter()
            .map(|r| r.id.clone())
            .collect()
    }

    /// `HoldFails`: the response to a hold re-INVITE, when the product refuses it.
    pub fn hold_rejection(&self, call: &CallScenario) -> Option<HoldRejection> {
        self.find(call, |b| match b {
            Behaviour::HoldFails {
                response,
                client_left_muted,
            } => Some((response.get(), *client_left_muted)),
            _ => None,
        })
        .map(|((status, muted), id)| HoldRejection {
            status,
            client_left_muted: muted,
            limitation: id,
        })
    }

    /// `NoRingback`: the product consumes Lync's 180 and gives its caller no ringback.
    pub fn suppress_ringback(&self, call: &CallScenario) -> Option<LimitationId> {
        self.find(call, |b| matches!(b, Behaviour::NoRingback).then_some(()))
            .map(|(_, id)| id)
    }

    /// `RingbackInsteadOfEarlyMedia` and `NoEarlyMediaOnForward`: what becomes of early media.
    pub fn early_media(&self, call: &CallScenario) -> EarlyMediaHandling {
        if let Some((_, id)) = self.find(call, |b| {
            matches!(b, Behaviour::RingbackInsteadOfEarlyMedia).then_some(())
        }) {
            return EarlyMediaHandling::LocalRingback(id);
        }
        if let Some((_, id)) = self.find(call, |b| {
            matches!(b, Behaviour::NoEarlyMediaOnForward).then_some(())
        }) {
            return EarlyMediaHandling::Withheld(id);
        }
        EarlyMediaHandling::Relay
    }

    /// `NoDisconnectOnDecline`: whether a 603 from Lync clears the PSTN caller.
    pub fn on_decline(&self, call: &CallScenario) -> DeclineHandling {
        match self.find(call, |b| match b {
            Behaviour::NoDisconnectOnDecline { caller_hears } => Some(*caller_hears),
            _ => None,
        }) {
            Some((tone, limitation)) => DeclineHandling::KeepUp { tone, limitation },
            None => DeclineHandling::Disconnect,
        }
    }

    /// The response to an outbound call whose TDM span is out of service: the model's
    /// nominal code, or `WrongFailoverCode`'s.
    pub fn span_down_response(&self, call: &CallScenario) -> Acted<u16> {
        match self.find(call, |b| match b {
            Behaviour::WrongFailoverCode { sent, .. } => Some(sent.get()),
            _ => None,
        }) {
            Some((code, id)) => Acted {
                value: code,
                limitation: Some(id),
            },
            None => Acted::nominal(self.model.failover.span_down_response.get()),
        }
    }

    /// The response when every B-channel is busy (no limitation changes it).
    pub fn no_circuit_response(&self) -> u16 {
        self.model.failover.no_circuit_response.get()
    }

    /// `NoIsdnFailover`: when the span the call is assigned to is unavailable, the product
    /// answers this instead of hunting another span.
    pub fn isdn_failover_refused(&self, call: &CallScenario) -> Option<(u16, LimitationId)> {
        self.find(call, |b| match b {
            Behaviour::NoIsdnFailover { response } => Some(response.get()),
            _ => None,
        })
    }

    /// `HistoryInfoBreaksPriForwarding`: the response to an INVITE carrying History-Info
    /// toward the PRI.
    pub fn history_info_breaks_pri(&self, call: &CallScenario) -> Option<(u16, LimitationId)> {
        self.find(call, |b| match b {
            Behaviour::HistoryInfoBreaksPriForwarding { response } => Some(response.get()),
            _ => None,
        })
    }

    /// The call-history headers the product does not pass on toward the PSTN or a
    /// provider for `call`: `HistoryHeadersDropped`, plus any header whose capability says
    /// it is not passed (without an ID). Empty when it passes everything.
    pub fn dropped_history(
        &self,
        call: &CallScenario,
    ) -> (Vec<HistoryHeader>, Option<LimitationId>) {
        let mut dropped: Vec<HistoryHeader> = [
            HistoryHeader::HistoryInfo,
            HistoryHeader::ReferredBy,
            HistoryHeader::Diversion,
        ]
        .into_iter()
        .filter(|h| self.model.capabilities.header(*h).pass == Support::No)
        .collect();
        let rule = self.find(call, |b| match b {
            Behaviour::HistoryHeadersDropped { headers } => Some(headers.clone()),
            _ => None,
        });
        let id = rule.map(|(headers, id)| {
            for h in headers {
                if !dropped.contains(&h) {
                    dropped.push(h);
                }
            }
            id
        });
        (dropped, id)
    }

    /// Whether the product converts a received header into `Diversion` (capability table).
    pub fn converts_to_diversion(&self, h: HistoryHeader) -> bool {
        self.model.capabilities.header(h).convert_to == Some(HistoryHeader::Diversion)
    }

    /// Whether the product originates `h` itself when it forwards or transfers a call.
    pub fn originates(&self, h: HistoryHeader) -> bool {
        self.model.capabilities.header(h).originate != Support::No
    }

    /// `NoOptionsKeepalive` (or the capability `No`): whether to send OPTIONS.
    pub fn keepalive(&self) -> Keepalive {
        if let Some((_, id)) =
            self.find_static(|b| matches!(b, Behaviour::NoOptionsKeepalive).then_some(()))
        {
            return Keepalive::Suppressed(Some(id));
        }
        if self.model.capabilities.options_keepalive == Support::No {
            return Keepalive::Suppressed(None);
        }
        Keepalive::Send
    }

    /// `MalformedPrack`: the PRACKs the product sends lack Max-Forwards.
    pub fn malformed_prack(&self) -> Option<LimitationId> {
        self.find_static(|b| matches!(b, Behaviour::MalformedPrack).then_some(()))
            .map(|(_, id)| id)
    }

    /// Whether the product uses RFC 3262 on the trunk (PRACK knob and capability).
    pub fn prack(&self) -> bool {
        self.config.pbx.prack && self.supports(Capability::Prack)
    }

    /// Whether the product runs RFC 4028 session timers on the trunk.
    pub fn session_timers(&self) -> bool {
        self.config.lync.session_timer && self.supports(Capability::SessionTimers)
    }

    /// `StaleDisplayAfterTransfer`: the product's phone keeps the first Lync user.
    pub fn stale_display(&self, call: &CallScenario) -> Option<LimitationId> {
        self.find(call, |b| {
            matches!(b, Behaviour::StaleDisplayAfterTransfer).then_some(())
        })
        .map(|(_, id)| id)
    }

    /// `UnrecoverableBlindTransfer`: the product drops the original dialog at once.
    pub fn unrecoverable_blind_transfer(&self, call: &CallScenario) -> Option<LimitationId> {
        self.find(call, |b| {
            matches!(b, Behaviour::UnrecoverableBlindTransfer).then_some(())
        })
        .map(|(_, id)| id)
    }

    /// `NoRingbackDuringReferTransfer`: no ringback to the transferee while the target
    /// rings.
    pub fn no_ringback_during_transfer(&self, call: &CallScenario) -> Option<LimitationId> {
        self.find(call, |b| {
            matches!(b, Behaviour::NoRingbackDuringReferTransfer).then_some(())
        })
        .map(|(_, id)| id)
    }

    /// `FqdnConnectionAddressUnsupported`: the response to SDP with an FQDN in `c=`.
    pub fn fqdn_rejection(&self, call: &CallScenario) -> Option<(u16, LimitationId)> {
        self.find(call, |b| match b {
            Behaviour::FqdnConnectionAddressUnsupported { response } => Some(response.get()),
            _ => None,
        })
    }

    /// `VoicemailAudioCut`: how much of the greeting a voicemail caller hears.
    pub fn voicemail_cut(&self, call: &CallScenario) -> Option<(SimDuration, LimitationId)> {
        self.find(call, |b| match b {
            Behaviour::VoicemailAudioCut { audio_ms } => {
                Some(SimDuration::from_millis(u64::from(*audio_ms)))
            }
            _ => None,
        })
    }

    /// The Alternate Route Timer, when the product has one (the `AlternateRouteTimer`
    /// knob), with the rule that makes it too short (`AlternateRouteTimerExpiry`).
    pub fn alternate_route_timer(&self, call: &CallScenario) -> Option<AlternateRouteTimer> {
        if !self.model.pbx_knobs.contains(&PbxKnob::AlternateRouteTimer) {
            return None;
        }
        let limitation = self
            .find(call, |b| {
                matches!(b, Behaviour::AlternateRouteTimerExpiry).then_some(())
            })
            .map(|(_, id)| id);
        Some(AlternateRouteTimer {
            after: SimDuration::from_secs(u64::from(self.config.pbx.alternate_route_timer_s)),
            limitation,
        })
    }

    /// `InboundBypassBroken`: the product sends RTP to the Mediation Server instead of the
    /// bypass address of Lync's SDP.
    pub fn inbound_bypass_broken(&self, call: &CallScenario) -> Option<LimitationId> {
        self.find(call, |b| {
            matches!(b, Behaviour::InboundBypassBroken).then_some(())
        })
        .map(|(_, id)| id)
    }

    /// The media behaviour of the product's RTP endpoints for `call`: `NoComfortNoise`,
    /// `NoRtcp`, `NoDtmfInEarlyMedia`, and the capability table.
    pub fn media_profile(&self, call: &CallScenario) -> MediaProfile {
        let mut limitations = Vec::new();
        let mut gate = |behaviour: fn(&Behaviour) -> bool, cap: Capability| -> bool {
            if let Some((_, id)) = self.find(call, |b| behaviour(b).then_some(())) {
                if !limitations.contains(&id) {
                    limitations.push(id);
                }
                return false;
            }
            self.supports(cap)
        };
        let comfort_noise = gate(
            |b| matches!(b, Behaviour::NoComfortNoise),
            Capability::ComfortNoise,
        );
        let rtcp = gate(|b| matches!(b, Behaviour::NoRtcp), Capability::Rtcp);
        let dtmf_in_early_media = gate(
            |b| matches!(b, Behaviour::NoDtmfInEarlyMedia),
            Capability::DtmfInEarlyMedia,
        );
        MediaProfile {
            comfort_noise,
            rtcp,
            dtmf_in_early_media,
            dtmf: self.supports(Capability::Dtmf),
            limitations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::rule::{Direction, Feature, Party};
    use crate::vendor::trunk::{LyncSetting, PbxSetting, Setting};
    use crate::vendor::{LyncServer, ResponseCodeTranslation, StatusCode, lookup};

    fn engine(id: &str, extra: &[Setting]) -> BehaviourEngine {
        let model = lookup(id).unwrap().clone();
        let config = model.recommended_config().with(extra);
        BehaviourEngine::new(Arc::new(model), config)
    }

    fn outbound_pstn() -> CallScenario {
        CallScenario::basic(Direction::Outbound, Party::Pstn)
    }

    #[test]
    fn oxe_span_down_sends_502_only_when_the_span_is_down() {
        let e = engine("alcatel-oxe-r9.1", &[]);
        let mut call = outbound_pstn();
        assert_eq!(e.span_down_response(&call).limitation, None);
        call.span_out_of_service = true;
        let acted = e.span_down_response(&call);
        assert_eq!(acted.value, 502);
        assert_eq!(acted.limitation.unwrap().as_str(), "OXE-L6");
        // Lync 2010 does not fail over on 502; the Lync 2013 what-if translates it.
        let c502 = StatusCode::new(502).unwrap();
        assert!(!e.config().fails_over_on(c502));
        let what_if = engine(
            "alcatel-oxe-r9.1",
            &[
                Setting::Lync(LyncSetting::Server(LyncServer::Lync2013)),
                Setting::Lync(LyncSetting::TranslateResponseCode(
                    ResponseCodeTranslation {
                        from: c502,
                        to: StatusCode::new(503).unwrap(),
                    },
                )),
            ],
        );
        assert!(what_if.config().fails_over_on(c502));
        let siemens = engine("siemens-openscape-voice-6", &[]);
        assert_eq!(siemens.span_down_response(&call).value, 503);
    }

    #[test]
    fn avaya_art_is_too_short_until_30_s() {
        let call = CallScenario::basic(Direction::Inbound, Party::Pbx);
        let factory = {
            let model = lookup("avaya-cm-ses-5.2.1").unwrap().clone();
            let cfg = model.factory_config();
            BehaviourEngine::new(Arc::new(model), cfg)
        };
        let art = factory.alternate_route_timer(&call).unwrap();
        assert_eq!(art.after, SimDuration::from_secs(10));
        assert_eq!(art.limitation.unwrap().as_str(), "AVSES-C1");
        let fixed = engine("avaya-cm-ses-5.2.1", &[]);
        let art = fixed.alternate_route_timer(&call).unwrap();
        assert_eq!(art.after, SimDuration::from_secs(30));
        assert_eq!(art.limitation, None);
        assert!(
            engine("cisco-ucm-8.6.2", &[])
                .alternate_route_timer(&call)
                .is_none(),
            "only products with the knob have the timer"
        );
    }

    #[test]
    fn media_profile_follows_rules_and_capabilities() {
        let call = CallScenario::basic(Direction::Inbound, Party::Pstn);
        let oxe = engine("alcatel-oxe-r9.1", &[]).media_profile(&call);
        assert!(!oxe.comfort_noise && !oxe.rtcp);
        assert_eq!(
            oxe.limitations.len(),
            1,
            "CN by OXE-L4; RTCP by the capability"
        );
        let siemens = engine("siemens-openscape-voice-6", &[]).media_profile(&call);
        assert!(siemens.comfort_noise && siemens.rtcp && siemens.dtmf_in_early_media);
        let mx = engine("aastra-mx-one-4.1", &[]);
        let early = call.with_feature(Feature::DtmfInEarlyMedia);
        let p = mx.media_profile(&early);
        assert!(!p.dtmf_in_early_media);
        assert_eq!(p.limitations[0].as_str(), "MX-L4");
    }

    #[test]
    fn static_behaviours_need_no_call() {
        assert_eq!(
            engine("cisco-ucm-7.0.1", &[]).keepalive(),
            Keepalive::Suppressed(Some(LimitationId::parse("CU701-L4").unwrap()))
        );
        assert_eq!(engine("cisco-ucm-8.6.2", &[]).keepalive(), Keepalive::Send);
        let cu803 = engine("cisco-ucm-8.0.3", &[]);
        assert_eq!(
            cu803.malformed_prack(),
            None,
            "PRACK off by the config note"
        );
        let on = engine("cisco-ucm-8.0.3", &[Setting::Pbx(PbxSetting::Prack(true))]);
        assert_eq!(on.malformed_prack().unwrap().as_str(), "CU803-C1");
        assert!(on.prack());
    }

    #[test]
    fn decline_and_history_decisions() {
        let decline =
            CallScenario::basic(Direction::Inbound, Party::Pstn).with_feature(Feature::Decline);
        assert!(matches!(
            engine("avaya-aura-sm-6.3", &[]).on_decline(&decline),
            DeclineHandling::KeepUp {
                tone: Tone::Overflow,
                ..
            }
        ));
        assert_eq!(
            engine("siemens-openscape-voice-6", &[]).on_decline(&decline),
            DeclineHandling::Disconnect
        );
        let fwd =
            CallScenario::basic(Direction::Outbound, Party::Pstn).with_feature(Feature::Forward {
                to: Party::Pstn,
                early_media: false,
            });
        let (dropped, id) = engine("cisco-ucm-8.6.2", &[]).dropped_history(&fwd);
        assert_eq!(
            dropped,
            [HistoryHeader::HistoryInfo, HistoryHeader::ReferredBy]
        );
        assert_eq!(id.unwrap().as_str(), "CU862-L3");
        let (dropped, id) = engine("siemens-openscape-voice-6", &[]).dropped_history(&fwd);
        assert!(dropped.is_empty() && id.is_none());
    }
}
