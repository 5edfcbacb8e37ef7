//! The workload section of a scenario, as written in RON, and its validated form.

use serde::{Deserialize, Serialize};

/// How busy the organisation is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum LoadSpec {
    /// Busy-hour call attempts per user (both populations; PSTN-originated calls come on
    /// top of these through the mix weights).
    BusyHourCallsPerUser(f64),
    /// Total offered traffic in Erlangs (arrival rate × mean holding time).
    OfferedErlangs(f64),
}

/// The distribution of call holding times (from answer to hang-up).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum HoldingSpec {
    Exponential { mean_s: f64 },
    Lognormal { mean_s: f64, sd_s: f64 },
    Fixed { s: f64 },
}

/// Who calls whom. The direction is part of the kind: `LyncToPstn` is an outbound PSTN call
/// placed by an Enterprise Voice user.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CallMix {
    LyncToLync,
    LyncToPbx,
    PbxToLync,
    LyncToPstn,
    PstnToLync,
    PbxToPstn,
    PstnToPbx,
    PbxToPbx,
}

impl CallMix {
    /// All kinds, in a fixed order.
    pub const ALL: [CallMix; 8] = [
        CallMix::LyncToLync,
        CallMix::LyncToPbx,
        CallMix::PbxToLync,
        CallMix::LyncToPstn,
        CallMix::PstnToLync,
        CallMix::PbxToPstn,
        CallMix::PstnToPbx,
        CallMix::PbxToPbx,
    ];

    /// The CDR spelling, e.g. `lync-pstn`.
    pub fn label(self) -> &'static str {
        match self {
            CallMix::LyncToLync => "lync-lync",
            CallMix::LyncToPbx => "lync-pbx",
            CallMix::PbxToLync => "pbx-lync",
            CallMix::LyncToPstn => "lync-pstn",
            CallMix::PstnToLync => "pstn-lync",
            CallMix::PbxToPstn => "pbx-pstn",
            CallMix::PstnToPbx => "pstn-pbx",
            CallMix::PbxToPbx => "pbx-pbx",
        }
    }

    /// The population that places the call.
    pub fn caller_kind(self) -> PopulationKind {
        match self {
            CallMix::LyncToLync | CallMix::LyncToPbx | CallMix::LyncToPstn => {
                PopulationKind::EnterpriseVoice
            }
            CallMix::PbxToLync | CallMix::PbxToPstn | CallMix::PbxToPbx => PopulationKind::Pbx,
            CallMix::PstnToLync | CallMix::PstnToPbx => PopulationKind::Pstn,
        }
    }

    /// The population that receives the call.
    pub fn callee_kind(self) -> PopulationKind {
        match self {
            CallMix::LyncToLync | CallMix::PbxToLync | CallMix::PstnToLync => {
                PopulationKind::EnterpriseVoice
            }
            CallMix::LyncToPbx | CallMix::PstnToPbx | CallMix::PbxToPbx => PopulationKind::Pbx,
            CallMix::LyncToPstn | CallMix::PbxToPstn => PopulationKind::Pstn,
        }
    }

    /// `inbound` (from the PSTN), `outbound` (to the PSTN) or `internal`.
    pub fn direction(self) -> &'static str {
        match (self.caller_kind(), self.callee_kind()) {
            (PopulationKind::Pstn, _) => "inbound",
            (_, PopulationKind::Pstn) => "outbound",
            _ => "internal",
        }
    }
}

/// The three kinds of parties.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PopulationKind {
    /// Lync / Skype for Business users enabled for Enterprise Voice.
    EnterpriseVoice,
    /// Users who stay on the PBX.
    Pbx,
    /// Parties on the public network.
    Pstn,
}

/// Per-call feature probabilities. Each is drawn independently per call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeatureSpec {
    /// The callee is busy (486 / ISDN cause 17).
    pub busy: f64,
    /// The callee does not answer (ring until the caller or the network gives up).
    pub no_answer: f64,
    /// The callee declines (603 / ISDN cause 21).
    pub decline: f64,
    /// An unanswered call to an Enterprise Voice user goes to Exchange UM voicemail.
    pub voicemail: f64,
    /// The answered call is put on hold once, then resumed.
    pub hold: f64,
    /// The callee transfers the call blind (REFER) to another user.
    pub transfer_blind: f64,
    /// The callee transfers the call consultatively (REFER with Replaces).
    pub transfer_consultative: f64,
    /// The callee has call forwarding on (immediate, CFA) to another number.
    pub forward: f64,
    /// The callee has call forward busy (CFB) on and is busy.
    pub forward_busy: f64,
    /// The callee (an Enterprise Voice user) has simultaneous ring to a PSTN number.
    pub simul_ring: f64,
    /// The caller sends DTMF digits once the call is answered (IVR-style).
    pub dtmf: f64,
    /// Mean ring time before answer, seconds (exponential, 1 s minimum).
    pub ring_mean_s: f64,
    /// Caller gives up after this long without answer (abandon), seconds.
    pub abandon_after_s: f64,
    /// Mean hold duration, seconds.
    pub hold_mean_s: f64,
    /// Who transfer targets are (relative weights by population kind).
    pub transfer_targets: Vec<(PopulationKind, f64)>,
    /// Who forwarding targets are.
    pub forward_targets: Vec<(PopulationKind, f64)>,
    /// Who simultaneous-ring targets are.
    pub simul_ring_targets: Vec<(PopulationKind, f64)>,
    /// Probability that the transfer target answers.
    pub transfer_target_answers: f64,
    /// Probability that the simul-ring target answers before the Lync client.
    pub simul_ring_target_answers: f64,
}

impl Default for FeatureSpec {
    fn default() -> Self {
        FeatureSpec {
            busy: 0.0,
            no_answer: 0.0,
            decline: 0.0,
            voicemail: 0.0,
            hold: 0.0,
            transfer_blind: 0.0,
            transfer_consultative: 0.0,
            forward: 0.0,
            forward_busy: 0.0,
            simul_ring: 0.0,
            dtmf: 0.0,
            ring_mean_s: 6.0,
            abandon_after_s: 60.0,
            hold_mean_s: 20.0,
            transfer_targets: vec![(PopulationKind::EnterpriseVoice, 1.0)],
            forward_targets: vec![(PopulationKind::Pstn, 1.0)],
            simul_ring_targets: vec![(PopulationKind::Pstn, 1.0)],
            transfer_target_answers: 1.0,
            simul_ring_target_answers: 0.5,
        }
    }
}

/// Redial after a blocked call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedialSpec {
    /// Probability that a blocked caller tries again.
    pub probability: f64,
    /// Mean delay before the retry, seconds (exponential).
    pub mean_delay_s: f64,
    /// At most this many retries per original call.
    pub max_attempts: u32,
}

/// The workload section of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub load: LoadSpec,
    /// Multiplies the load (1.5 = 1.5× busy hour).
    #[serde(default = "one")]
    pub load_factor: f64,
    pub holding: HoldingSpec,
    /// Relative weights of the call kinds; kinds not listed have weight 0.
    pub mix: Vec<(CallMix, f64)>,
    #[serde(default)]
    pub features: FeatureSpec,
    #[serde(default)]
    pub redial: Option<RedialSpec>,
    /// Calls arriving before this are excluded from the statistics, seconds.
    pub warmup_s: f64,
    /// The measurement window (the busy hour), seconds.
    pub measure_s: f64,
}

fn one() -> f64 {
    1.0
}
