//! The SIP layer's error type.

/// Everything that can go wrong in the SIP layer: malformed input (with what and where),
/// bad header values, SDP errors, and misuse of the user agent API.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The message framing or a start/header line is malformed. `at` is a byte offset
    /// into the message.
    #[error("malformed {what} at byte {at}: {detail}")]
    Syntax {
        what: &'static str,
        at: usize,
        detail: String,
    },
    /// A header is present but its value does not parse.
    #[error("bad {header} header: {detail}")]
    Header {
        header: &'static str,
        detail: String,
    },
    /// A header that must be present is missing.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header that must appear once appears several times.
    #[error("more than one {0} header")]
    DuplicateHeader(&'static str),
    /// A datagram ends before the body announced by Content-Length.
    #[error("truncated message: Content-Length is {declared} but only {available} body bytes")]
    Truncated { declared: usize, available: usize },
    /// A URI does not parse.
    #[error("bad URI {uri:?}: {detail}")]
    Uri { uri: String, detail: String },
    /// A session description does not parse.
    #[error("SDP line {line}: {detail}")]
    Sdp { line: usize, detail: String },
    /// An SDP offer has nothing this endpoint can accept (answered with 488).
    #[error("not acceptable: {0}")]
    NotAcceptable(String),
    /// The call handle is unknown (never existed or already removed).
    #[error("no such call {0}")]
    UnknownCall(u64),
    /// An API call that the call's current state does not allow.
    #[error("call {call}: cannot {action} while {state}")]
    InvalidState {
        call: u64,
        action: &'static str,
        state: &'static str,
    },
    /// No address is known for a host name (the SIP layer has no DNS; see `Resolver`).
    #[error("cannot resolve {0}")]
    Unresolvable(String),
    /// A stream buffer grew past the configured maximum message size.
    #[error("message larger than {0} bytes")]
    TooLarge(usize),
}

impl Error {
    pub(crate) fn syntax(what: &'static str, at: usize, detail: impl Into<String>) -> Self {
        Error::Syntax {
            what,
            at,
            detail: detail.into(),
        }
    }

    pub(crate) fn header(header: &'static str, detail: impl Into<String>) -> Self {
        Error::Header {
            header,
            detail: detail.into(),
        }
    }
}

/// Result alias of the SIP layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;
