//! How a call ended: the outcome classes of DESIGN.md's `calls.csv`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a call ended, spelled as in DESIGN.md.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Answered (by the callee, a forward or simul-ring target, or voicemail).
    Answered,
    /// The callee was busy.
    Busy,
    /// Nobody answered and the network gave up.
    NoAnswer,
    /// No channel or trunk was free (Erlang B blocking).
    Blocked,
    /// An element refused the call for lack of capacity (e.g. Mediation Server media
    /// capacity, call admission control).
    RejectedCapacity,
    /// The call failed with a SIP or ISDN error, or a timeout.
    Failed,
    /// The caller hung up before anyone answered.
    Abandoned,
    /// The callee declined (603).
    Declined,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 8] = [
        CallOutcome::Answered,
        CallOutcome::Busy,
        CallOutcome::NoAnswer,
        CallOutcome::Blocked,
        CallOutcome::RejectedCapacity,
        CallOutcome::Failed,
        CallOutcome::Abandoned,
        CallOutcome::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Answered => "answered",
            CallOutcome::Busy => "busy",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::Blocked => "blocked",
            CallOutcome::RejectedCapacity => "rejected_capacity",
            CallOutcome::Failed => "failed",
            CallOutcome::Abandoned => "abandoned",
            CallOutcome::Declined => "declined",
        }
    }

    /// Whether the call counts as a success for `success_rate`: answered, or ended by a
    /// party's own choice (busy, no answer, declined, abandoned). Blocking, capacity
    /// rejection and failures are the network's fault.
    pub fn is_network_success(self) -> bool {
        !matches!(
            self,
            CallOutcome::Blocked | CallOutcome::RejectedCapacity | CallOutcome::Failed
        )
    }
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
