//! Call plans: what the workload decided about one call before it starts.
//!
//! A plan fixes the intent of both parties (who calls whom, how long they talk, whether the
//! callee is busy or declines, which features they use). What actually happens (blocking,
//! failover, vendor limitations) is up to the network and the elements that execute it.

use super::spec::{CallMix, PopulationKind};
use crate::sim::{SimDuration, SimTime};

/// The workload's number for a call attempt. Unique within a run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallNumber(pub u64);

/// A party: the `index`-th member of a population kind.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Party {
    pub kind: PopulationKind,
    pub index: u32,
}

/// What the called party does when the call reaches it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CalleeAction {
    /// Answers after ringing this long.
    Answer { ring: SimDuration },
    /// Is busy (486 Busy Here / ISDN cause 17).
    Busy,
    /// Declines (603 Decline / ISDN cause 21).
    Decline,
    /// Never answers; the call ends by caller abandon or a network timer.
    NoAnswer,
    /// Never answers; after ringing this long the call goes to voicemail.
    Voicemail { ring: SimDuration },
}

/// The two ways to transfer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TransferKind {
    /// REFER without consultation.
    Blind,
    /// Consultation call first, then REFER with Replaces.
    Consultative,
}

/// A transfer once the call is answered, by the Enterprise Voice party of the call (the
/// callee first), or by the callee when neither party is an Enterprise Voice user.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TransferPlan {
    pub kind: TransferKind,
    /// Time after answer at which the transfer starts.
    pub after: SimDuration,
    pub target: Party,
    /// Whether the transfer target answers.
    pub target_answers: bool,
}

/// When call forwarding applies.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ForwardKind {
    /// Call forward all (immediate).
    All,
    /// Call forward busy: the callee is busy and the call goes on.
    Busy,
}

/// Call forwarding set by the callee.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ForwardPlan {
    pub kind: ForwardKind,
    pub target: Party,
    /// What the forwarding target does.
    pub target_answers: bool,
}

/// A hold and resume once the call is answered, by the Enterprise Voice party of the call
/// (the callee first), or by the caller when neither party is an Enterprise Voice user.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HoldPlan {
    pub after: SimDuration,
    pub duration: SimDuration,
}

/// Simultaneous ring of the callee's second number.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SimulRingPlan {
    pub target: Party,
    /// Whether the simul-ring target (rather than the callee) answers.
    pub target_answers: bool,
}

/// Everything decided in advance about one call attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct CallPlan {
    pub number: CallNumber,
    /// When the caller starts dialling.
    pub start: SimTime,
    pub mix: CallMix,
    pub caller: Party,
    pub callee: Party,
    pub callee_action: CalleeAction,
    /// Talk time from answer to the caller's hang-up.
    pub holding: SimDuration,
    /// The caller gives up if nobody answers by then.
    pub abandon_after: SimDuration,
    pub hold: Option<HoldPlan>,
    pub transfer: Option<TransferPlan>,
    /// Call forwarding by the callee to another party.
    pub forward: Option<ForwardPlan>,
    pub simul_ring: Option<SimulRingPlan>,
    /// DTMF digits the caller sends after answer.
    pub dtmf: Option<String>,
    /// Whether the call counts in the statistics (arrived inside the measurement window).
    pub measured: bool,
    /// 0 for a first attempt, 1.. for redials after blocking.
    pub attempt: u32,
    /// The first attempt's number, for a redial.
    pub redial_of: Option<CallNumber>,
}
