//! Capacity and failover profile of a product, with the basis of every number: the model's
//! source, a named vendor data sheet or manual, or an explicit assumption with its reason.

use super::ids::StatusCode;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// Where a value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Basis {
    /// The model's own source document states it.
    Seed,
    /// A vendor data sheet or manual, named.
    DataSheet { document: String },
    /// Chosen by the model where no source gives it, with the reason.
    Assumed { reason: String },
}

impl Basis {
    pub fn is_assumed(&self) -> bool {
        matches!(self, Basis::Assumed { .. })
    }

    /// The text the basis carries (document or reason); empty for `Seed`.
    pub fn text(&self) -> &str {
        match self {
            Basis::Seed => "",
            Basis::DataSheet { document } => document,
            Basis::Assumed { reason } => reason,
        }
    }
}

/// A positive count with its basis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quantity {
    pub value: NonZeroU32,
    pub basis: Basis,
}

/// A TDM span type on ISDN PRI.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpanKind {
    /// T1 PRI: 23 B-channels + 1 D-channel.
    T1,
    /// E1 PRI: 30 B-channels (+ framing and D-channel time slots).
    E1,
}

impl SpanKind {
    /// Bearer channels per span on PRI.
    pub fn b_channels(self) -> u32 {
        match self {
            SpanKind::T1 => 23,
            SpanKind::E1 => 30,
        }
    }
}

/// The product's TDM spans toward the PSTN or a TDM PBX.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spans {
    pub kind: SpanKind,
    pub count: NonZeroU32,
    pub basis: Basis,
}

impl Spans {
    /// All B-channels of all spans.
    pub fn b_channels(&self) -> u32 {
        self.count.get().saturating_mul(self.kind.b_channels())
    }
}

/// What the product can carry at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    pub spans: Spans,
    /// Concurrent calls on the SIP side of the trunk.
    pub concurrent_calls: Quantity,
    /// Concurrent transcoded calls (DSP), when the product transcodes.
    #[serde(default)]
    pub transcoding_sessions: Option<Quantity>,
}

/// The responses the product sends when the PSTN side cannot take an outbound call, in the
/// absence of limitation rules (the RFC 3398 mapping of Q.850 causes: no circuit (34) and
/// network out of order (38) both map to 503).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failover {
    /// All B-channels busy.
    pub no_circuit_response: StatusCode,
    /// The span needed is out of service.
    pub span_down_response: StatusCode,
    pub basis: Basis,
}
