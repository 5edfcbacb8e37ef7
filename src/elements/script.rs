//! Call scripts: what the parties of one call will do, in the elements' own terms
//! (numbers, not workload populations). The scenario layer writes them from the workload's
//! plans; elements read them when a call reaches one of their users.

use super::CallTag;
use crate::sim::SimDuration;

/// What a called user does when the call reaches them.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AnswerAction {
    /// Answers after ringing this long.
    Answer { after: SimDuration },
    /// Busy (486 Busy Here / Q.850 cause 17).
    Busy,
    /// Declines (603 Decline / cause 21).
    Decline,
    /// Rings until the caller or the network gives up.
    NoAnswer,
    /// Rings this long, then the call goes to voicemail (forward on no answer).
    Voicemail { after: SimDuration },
}

/// The two ways to transfer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TransferMode {
    /// REFER to the target without consultation.
    Blind,
    /// A consultation call to the target, then REFER with Replaces.
    Consultative,
}

/// A transfer by one party once the call is connected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferScript {
    pub mode: TransferMode,
    /// Time after answer at which the transferring party starts.
    pub after: SimDuration,
    /// The E.164 number of the transfer target.
    pub target: String,
    pub target_answers: bool,
    /// The caller (true) or the callee (false) transfers.
    pub by_caller: bool,
}

/// Hold and resume by one party once the call is connected.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HoldScript {
    pub after: SimDuration,
    pub duration: SimDuration,
    /// The caller (true) or the callee (false) holds.
    pub by_caller: bool,
}

/// When call forwarding applies.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ForwardMode {
    /// Call forward all (immediate).
    All,
    /// Call forward busy.
    Busy,
}

/// Call forwarding set by the callee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardScript {
    pub mode: ForwardMode,
    /// The E.164 number calls are forwarded to.
    pub target: String,
}

/// Simultaneous ring of the callee's second number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulRingScript {
    /// The E.164 number rung at the same time as the Lync client.
    pub target: String,
    /// The simul-ring target answers first (else the Lync client does).
    pub target_answers: bool,
}

/// Everything the parties of one call will do.
#[derive(Clone, Debug, PartialEq)]
pub struct CallScript {
    pub tag: CallTag,
    /// The caller's E.164 number.
    pub caller: String,
    /// The digits as the caller dials them (normalised by the dial plan on the way).
    pub dialled: String,
    /// The callee's E.164 number.
    pub callee: String,
    /// The caller withholds its identity (Privacy: id / presentation restricted).
    pub anonymous: bool,
    pub callee_action: AnswerAction,
    /// Talk time from answer until the caller hangs up.
    pub holding: SimDuration,
    /// The caller gives up if nobody has answered by then.
    pub abandon_after: SimDuration,
    pub hold: Option<HoldScript>,
    pub transfer: Option<TransferScript>,
    pub forward: Option<ForwardScript>,
    pub simul_ring: Option<SimulRingScript>,
    /// Digits the caller sends once connected (RFC 4733, or in-band on TDM).
    pub dtmf: Option<String>,
    /// Mean ring time before a secondary party (forward, transfer, simul-ring target)
    /// answers.
    pub secondary_ring: SimDuration,
}

impl CallScript {
    /// What the user with E.164 `number` does when this call reaches them.
    pub fn action_for(&self, number: &str) -> AnswerAction {
        let answer = AnswerAction::Answer {
            after: self.secondary_ring,
        };
        if number == self.callee {
            // With simultaneous ring answered by the second number, the Lync client keeps
            // ringing until it is cancelled.
            if self.simul_ring.as_ref().is_some_and(|s| s.target_answers) {
                AnswerAction::NoAnswer
            } else {
                self.callee_action
            }
        } else if self.transfer.as_ref().is_some_and(|t| t.target == number) {
            if self.transfer.as_ref().is_some_and(|t| t.target_answers) {
                answer
            } else {
                AnswerAction::NoAnswer
            }
        } else if self.simul_ring.as_ref().is_some_and(|s| s.target == number) {
            if self.simul_ring.as_ref().is_some_and(|s| s.target_answers) {
                answer
            } else {
                AnswerAction::NoAnswer
            }
        } else if self.forward.as_ref().is_some_and(|f| f.target == number) {
            answer
        } else {
            // An unexpected party (e.g. a misrouted call): answers like a plain callee.
            answer
        }
    }
}
