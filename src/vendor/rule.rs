//! Limitation rules: when a behaviour applies (the trigger, a typed predicate over the trunk
//! configuration and the call scenario) and what removes it (the workaround).

use super::behaviour::Behaviour;
use super::ids::{LimitationId, SoftwareVersion};
use super::model::SourceKey;
use super::trunk::{ConfigView, PartialConfig, PbxSetting, Setting, TrunkConfig, Truth};
use serde::{Deserialize, Serialize};

/// Call direction, seen from Lync (the Mediation Server), as the sources use the words.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// From the PBX or PSTN side to a Lync user.
    Inbound,
    /// From a Lync user to the PBX or PSTN side.
    Outbound,
}

/// Where a party of the call sits.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Party {
    /// A Lync (Enterprise Voice) client.
    Lync,
    /// A station on the PBX.
    Pbx,
    /// A PSTN number, reached through the product's TDM side or a provider.
    Pstn,
}

/// How a transfer is made.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransferMode {
    /// Unattended: the target is dialled and the transferor leaves at once.
    Blind,
    /// Attended: the transferor talks to the target first.
    Consultative,
}

/// The feature a call exercises beyond a basic call.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Feature {
    Basic,
    /// Hold and resume by re-INVITE.
    Hold,
    /// The Lync user transfers the call to `target`.
    Transfer {
        mode: TransferMode,
        target: Party,
    },
    /// The Lync user's call forwarding sends the call to `to`; `early_media` when that
    /// destination plays early media (an IVR).
    Forward {
        to: Party,
        early_media: bool,
    },
    /// The Lync user's simultaneous ring also rings `to`.
    SimulRing {
        to: Party,
        early_media: bool,
    },
    /// The Lync user declines the call (603).
    Decline,
    /// The call reaches the product's voicemail.
    Voicemail,
    /// Digits are sent while the call is in early media.
    DtmfInEarlyMedia,
    /// A conference.
    Conference,
}

/// One call as the trigger sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallScenario {
    pub direction: Direction,
    /// The party on the product's side: the caller for inbound calls, the callee for outbound.
    pub remote: Party,
    pub feature: Feature,
    /// The TDM span the call needs is out of service.
    pub span_out_of_service: bool,
}

impl CallScenario {
    /// A basic call.
    pub fn basic(direction: Direction, remote: Party) -> Self {
        CallScenario {
            direction,
            remote,
            feature: Feature::Basic,
            span_out_of_service: false,
        }
    }

    pub fn with_feature(mut self, feature: Feature) -> Self {
        self.feature = feature;
        self
    }
}

/// A test on the call scenario. `None` fields match anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallCondition {
    Direction(Direction),
    Remote(Party),
    Hold,
    Transfer {
        #[serde(default)]
        mode: Option<TransferMode>,
        #[serde(default)]
        target: Option<Party>,
    },
    Forward {
        #[serde(default)]
        to: Option<Party>,
        #[serde(default)]
        early_media: Option<bool>,
    },
    SimulRing {
        #[serde(default)]
        to: Option<Party>,
        #[serde(default)]
        early_media: Option<bool>,
    },
    Decline,
    Voicemail,
    DtmfInEarlyMedia,
    SpanOutOfService,
}

fn matches<T: PartialEq>(want: &Option<T>, got: &T) -> bool {
    want.as_ref().is_none_or(|w| w == got)
}

impl CallCondition {
    pub fn holds(&self, call: &CallScenario) -> bool {
        match (self, &call.feature) {
            (CallCondition::Direction(d), _) => *d == call.direction,
            (CallCondition::Remote(p), _) => *p == call.remote,
            (CallCondition::SpanOutOfService, _) => call.span_out_of_service,
            (CallCondition::Hold, Feature::Hold) => true,
            (
                CallCondition::Transfer { mode, target },
                Feature::Transfer { mode: m, target: t },
            ) => matches(mode, m) && matches(target, t),
            (
                CallCondition::Forward { to, early_media },
                Feature::Forward {
                    to: t,
                    early_media: e,
                },
            )
            | (
                CallCondition::SimulRing { to, early_media },
                Feature::SimulRing {
                    to: t,
                    early_media: e,
                },
            ) => matches(to, t) && matches(early_media, e),
            (CallCondition::Decline, Feature::Decline) => true,
            (CallCondition::Voicemail, Feature::Voicemail) => true,
            (CallCondition::DtmfInEarlyMedia, Feature::DtmfInEarlyMedia) => true,
            _ => false,
        }
    }
}

/// When a rule's behaviours apply: a predicate over the trunk configuration and the call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trigger {
    /// On every call.
    Always,
    /// The knob has this value (`Is(Lync(MediaBypass(true)))`).
    Is(Setting),
    /// The ordered knob is below this value (`Below(Pbx(Version("5.2.1 SP1")))`).
    Below(Setting),
    /// A property of the call.
    Call(CallCondition),
    All(Vec<Trigger>),
    Any(Vec<Trigger>),
    Not(Box<Trigger>),
}

impl Trigger {
    /// Three-valued evaluation: knobs from `config`; the call from `call`, or unknown.
    pub fn eval(&self, config: &dyn ConfigView, call: Option<&CallScenario>) -> Truth {
        match self {
            Trigger::Always => Truth::True,
            Trigger::Is(s) => config.is(s),
            Trigger::Below(s) => config.below(s),
            Trigger::Call(c) => call.map_or(Truth::Unknown, |call| Truth::from_bool(c.holds(call))),
            Trigger::All(ts) => ts
                .iter()
                .fold(Truth::True, |acc, t| acc.and(t.eval(config, call))),
            Trigger::Any(ts) => ts
                .iter()
                .fold(Truth::False, |acc, t| acc.or(t.eval(config, call))),
            Trigger::Not(t) => !t.eval(config, call),
        }
    }

    /// Whether the trigger holds for this configuration and call. A knob the configuration
    /// cannot answer (a PBX version that is not set) counts as not triggering.
    pub fn holds(&self, config: &TrunkConfig, call: &CallScenario) -> bool {
        self.eval(config, Some(call)) == Truth::True
    }

    /// Every setting the trigger tests (for validation).
    pub fn settings(&self) -> Vec<&Setting> {
        let mut out = Vec::new();
        self.collect_settings(&mut out);
        out
    }

    fn collect_settings<'a>(&'a self, out: &mut Vec<&'a Setting>) {
        match self {
            Trigger::Is(s) | Trigger::Below(s) => out.push(s),
            Trigger::All(ts) | Trigger::Any(ts) => ts.iter().for_each(|t| t.collect_settings(out)),
            Trigger::Not(t) => t.collect_settings(out),
            Trigger::Always | Trigger::Call(_) => {}
        }
    }

    /// True when the trigger depends on the product's software version.
    pub fn is_version_specific(&self) -> bool {
        self.settings()
            .iter()
            .any(|s| matches!(s, Setting::Pbx(PbxSetting::Version(_))))
    }

    /// True when no knob or version can turn the trigger off.
    pub fn is_unconditional(&self) -> bool {
        self.settings().is_empty()
    }
}

/// A configuration change for a what-if experiment that the source does not give as a
/// workaround (e.g. Lync 2013's 502 → 503 translation for OXE-L6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatIf {
    pub set: Vec<Setting>,
    pub note: String,
}

/// What removes a limitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Workaround {
    /// A configuration change (the source's configuration note): applying `set` makes the
    /// trigger false whatever the other knobs are, or neutralizes the behaviours.
    Configure { set: Vec<Setting>, note: String },
    /// Upgrade the product to the release where the vendor fixed the limitation.
    Upgrade { to: SoftwareVersion, note: String },
    /// The source gives no workaround; `what_if` is an untested change worth simulating.
    None {
        reason: String,
        #[serde(default)]
        what_if: Option<WhatIf>,
    },
}

impl Workaround {
    /// The knobs the workaround (not a what-if) sets; empty when there is none.
    pub fn settings(&self) -> Vec<Setting> {
        match self {
            Workaround::Configure { set, .. } => set.clone(),
            Workaround::Upgrade { to, .. } => vec![Setting::Pbx(PbxSetting::Version(to.clone()))],
            Workaround::None { .. } => Vec::new(),
        }
    }

    /// The knobs the what-if sets, if there is one.
    pub fn what_if(&self) -> Option<&WhatIf> {
        match self {
            Workaround::None { what_if, .. } => what_if.as_ref(),
            _ => None,
        }
    }

    pub fn exists(&self) -> bool {
        !matches!(self, Workaround::None { .. })
    }

    /// The note (or reason) text.
    pub fn text(&self) -> &str {
        match self {
            Workaround::Configure { note, .. } | Workaround::Upgrade { note, .. } => note,
            Workaround::None { reason, .. } => reason,
        }
    }
}

/// A documented limitation, reproduced by behaviours under a trigger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitationRule {
    pub id: LimitationId,
    pub source: SourceKey,
    /// One line: what the user observes.
    pub symptom: String,
    pub behaviours: Vec<Behaviour>,
    pub trigger: Trigger,
    pub workaround: Workaround,
    /// Values the model chose where the source is silent (e.g. a response code), each with
    /// its reason.
    #[serde(default)]
    pub assumptions: Vec<String>,
}

impl LimitationRule {
    /// Whether the rule's behaviours act on the wire for this call under this configuration
    /// (the trigger holds). A neutralized behaviour still acts: under the OXE-L6 what-if the
    /// PBX still sends 502, and Lync's translation rule turns it into a failover.
    pub fn triggered(&self, config: &TrunkConfig, call: &CallScenario) -> bool {
        self.trigger.holds(config, call)
    }

    /// Whether the documented symptom is expected: the rule is triggered and the
    /// configuration does not neutralize every one of its behaviours.
    pub fn symptom_expected(&self, config: &TrunkConfig, call: &CallScenario) -> bool {
        self.triggered(config, call) && self.behaviours.iter().any(|b| !b.neutralized_by(config))
    }

    /// `config` with the workaround applied, or `None` when the source gives none.
    pub fn with_workaround(&self, config: &TrunkConfig) -> Option<TrunkConfig> {
        self.workaround
            .exists()
            .then(|| config.clone().with(&self.workaround.settings()))
    }

    /// `config` with the what-if applied, when the rule has one.
    pub fn with_what_if(&self, config: &TrunkConfig) -> Option<TrunkConfig> {
        self.workaround
            .what_if()
            .map(|w| config.clone().with(&w.set))
    }

    /// Whether `settings` remove the limitation on their own: the trigger is false whatever
    /// the other knobs and the call are, or (starting from `base`) every behaviour is
    /// neutralized.
    pub fn removed_by(&self, settings: &[Setting], base: &TrunkConfig) -> bool {
        let trigger_gone = self.trigger.eval(&PartialConfig::new(settings), None) == Truth::False;
        let applied = base.clone().with(settings);
        trigger_gone || self.behaviours.iter().all(|b| b.neutralized_by(&applied))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::trunk::{LyncServer, LyncSetting};

    fn bypass(on: bool) -> Setting {
        Setting::Lync(LyncSetting::MediaBypass(on))
    }

    #[test]
    fn triggers_combine_config_and_call() {
        let t = Trigger::All(vec![
            Trigger::Is(bypass(true)),
            Trigger::Call(CallCondition::Direction(Direction::Inbound)),
        ]);
        let on = TrunkConfig::defaults(LyncServer::Lync2010).with(&[bypass(true)]);
        let off = TrunkConfig::defaults(LyncServer::Lync2010);
        let inbound = CallScenario::basic(Direction::Inbound, Party::Pstn);
        let outbound = CallScenario::basic(Direction::Outbound, Party::Pstn);
        assert!(t.holds(&on, &inbound));
        assert!(!t.holds(&on, &outbound));
        assert!(!t.holds(&off, &inbound));
        // Bypass off removes it for every call; the unknown call does not matter.
        assert_eq!(
            t.eval(&PartialConfig::new(&[bypass(false)]), None),
            Truth::False
        );
        assert_eq!(t.eval(&PartialConfig::default(), None), Truth::Unknown);
    }

    #[test]
    fn call_conditions_match_wildcards() {
        let call =
            CallScenario::basic(Direction::Inbound, Party::Pstn).with_feature(Feature::Transfer {
                mode: TransferMode::Blind,
                target: Party::Pbx,
            });
        let any = CallCondition::Transfer {
            mode: None,
            target: None,
        };
        let blind_pbx = CallCondition::Transfer {
            mode: Some(TransferMode::Blind),
            target: Some(Party::Pbx),
        };
        let to_pstn = CallCondition::Transfer {
            mode: None,
            target: Some(Party::Pstn),
        };
        assert!(any.holds(&call));
        assert!(blind_pbx.holds(&call));
        assert!(!to_pstn.holds(&call));
        assert!(!CallCondition::Hold.holds(&call));
    }
}
