//! The media layer's error type.

use thiserror::Error;

/// Everything that can go wrong in the media layer: malformed input (with what and where),
/// or a configuration or request that cannot be honoured.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// An RTP packet failed RFC 3550 §5.1 validation.
    #[error("malformed RTP packet: {0}")]
    Rtp(String),
    /// An RTCP compound packet failed RFC 3550 §6 / A.2 validation.
    #[error("malformed RTCP packet: {0}")]
    Rtcp(String),
    /// A payload is shorter than its format needs.
    #[error("{what}: truncated, needs {needed} bytes, got {got}")]
    Truncated {
        what: &'static str,
        needed: usize,
        got: usize,
    },
    /// A field holds a value its format forbids.
    #[error("{what}: invalid {field} = {value}")]
    InvalidField {
        what: &'static str,
        field: &'static str,
        value: u64,
    },
    /// A packet could not be built from a typed value (a field out of range).
    #[error("cannot emit {what}: {detail}")]
    Emit { what: &'static str, detail: String },
    /// A configuration value is out of its legal range.
    #[error("invalid media configuration: {field}: {msg}")]
    Config { field: &'static str, msg: String },
}
