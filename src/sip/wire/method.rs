//! SIP request methods: an open set.
//!
//! rsip's `Method` is a closed enum that matches names case-insensitively, so an unknown
//! method cannot even be parsed and `invite` is taken for `INVITE`. RFC 3261 §7.1 makes
//! method names case-sensitive tokens and requires a UAS to answer unknown ones (501) and
//! known-but-unsupported ones (405), so ours keeps every extension method as it came.

use super::scan::is_token;
use crate::sip::error::{Error, Result};
use std::fmt;

/// A request method (RFC 3261 §7.1 and extensions). Names are case-sensitive.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    /// RFC 3262.
    Prack,
    /// RFC 3311.
    Update,
    /// RFC 3515.
    Refer,
    /// RFC 6665.
    Notify,
    Subscribe,
    /// RFC 6086.
    Info,
    /// RFC 3428.
    Message,
    /// RFC 3903.
    Publish,
    /// Any other token, kept exactly as received.
    Extension(Box<str>),
}

impl Method {
    /// Parses a method token. Only the exact upper-case spellings are the standard methods.
    pub fn parse(s: &str) -> Result<Method> {
        Ok(match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "PRACK" => Method::Prack,
            "UPDATE" => Method::Update,
            "REFER" => Method::Refer,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "INFO" => Method::Info,
            "MESSAGE" => Method::Message,
            "PUBLISH" => Method::Publish,
            _ => {
                if s.is_empty() || !s.bytes().all(is_token) {
                    return Err(Error::syntax("method", 0, format!("{s:?} is not a token")));
                }
                Method::Extension(s.into())
            }
        })
    }

    /// The method name as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Prack => "PRACK",
            Method::Update => "UPDATE",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Info => "INFO",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Extension(s) => s,
        }
    }

    /// True for methods that may create a dialog (RFC 3261 §12, RFC 6665 for SUBSCRIBE).
    pub fn creates_dialog(&self) -> bool {
        matches!(self, Method::Invite | Method::Subscribe | Method::Refer)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Method> {
        Method::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_sensitive_and_open() {
        assert_eq!(Method::parse("INVITE").unwrap(), Method::Invite);
        // rsip's gap: it maps "invite" to INVITE and rejects unknown names outright.
        assert_eq!(
            Method::parse("invite").unwrap(),
            Method::Extension("invite".into())
        );
        let odd = "!interesting-Method0123456789_*+`.%indeed'~";
        assert_eq!(Method::parse(odd).unwrap().as_str(), odd);
        assert!(Method::parse("IN VITE").is_err());
        assert!(Method::parse("").is_err());
        assert!(Method::parse("A@B").is_err());
    }
}
