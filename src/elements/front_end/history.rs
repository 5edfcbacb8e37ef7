//! History-Info (RFC 4244) on retargeted requests: call forwarding, simultaneous ring and
//! forwarding to voicemail.
//!
//! A retargeted INVITE carries the target the caller asked for (index 1, with the Reason
//! for leaving it escaped into its URI, RFC 4244 §4.3.3.1.1) and the new target (index
//! 1.1). When the request already arrived with History-Info (a PBX or an earlier proxy
//! retargeted it), the received entries are kept and only the new target is added, as a
//! child of the last received entry.

use crate::sip::wire::{HeaderName, Headers};

/// Why a request left its target.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Retarget {
    /// Call forward all: 302 Moved Temporarily.
    Unconditional,
    /// Call forward busy: 486 Busy Here.
    Busy,
    /// No answer (to voicemail): 408 Request Timeout, as RFC 4244's examples use.
    NoAnswer,
    /// A parallel fork (simultaneous ring): no Reason.
    Fork,
}

impl Retarget {
    fn reason(self) -> Option<(u16, &'static str)> {
        match self {
            Retarget::Unconditional => Some((302, "Moved Temporarily")),
            Retarget::Busy => Some((486, "Busy Here")),
            Retarget::NoAnswer => Some((408, "Request Timeout")),
            Retarget::Fork => None,
        }
    }
}

/// Percent-encodes what may not appear raw in a URI header value (RFC 3261 §25.1 `hvalue`).
fn escape_hvalue(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()[]/?:+$".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The last `index` parameter of the received History-Info entries.
fn last_index(received: &Headers) -> Option<String> {
    received
        .list(HeaderName::HistoryInfo)
        .filter_map(|e| {
            let at = e.find(";index=")? + ";index=".len();
            let rest = &e[at..];
            let end = rest.find([';', ',', ' ']).unwrap_or(rest.len());
            Some(rest[..end].to_string())
        })
        .last()
}

/// The History-Info value to append to a request retargeted from `original` to `target`
/// (both full SIP URIs as text).
pub(crate) fn history_info(
    received: &Headers,
    original: &str,
    target: &str,
    why: Retarget,
) -> String {
    if let Some(last) = last_index(received) {
        return format!("<{target}>;index={last}.1");
    }
    let mut v = String::with_capacity(original.len() + target.len() + 80);
    v.push('<');
    v.push_str(original);
    if let Some((cause, text)) = why.reason() {
        v.push_str("?Reason=");
        escape_hvalue(&format!("SIP;cause={cause};text=\"{text}\""), &mut v);
    }
    v.push_str(">;index=1, <");
    v.push_str(target);
    v.push_str(">;index=1.1");
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::wire::{NameAddr, unescape};

    #[test]
    fn forward_entries_carry_the_reason_in_the_uri() {
        let v = history_info(
            &Headers::new(),
            "sip:+14255550100@contoso.com",
            "sip:+14255550200@contoso.com",
            Retarget::Busy,
        );
        assert_eq!(
            v,
            "<sip:+14255550100@contoso.com?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;index=1, <sip:+14255550200@contoso.com>;index=1.1"
        );
        // Each entry is a name-addr whose URI header unescapes to the Reason.
        let first = v.split(", ").next().unwrap();
        let na = NameAddr::parse(first).unwrap();
        let reason = na.uri.as_sip().unwrap().header("Reason").unwrap();
        assert_eq!(unescape(&reason), "SIP;cause=486;text=\"Busy Here\"");
        let fork = history_info(&Headers::new(), "sip:a@x", "sip:b@y", Retarget::Fork);
        assert_eq!(fork, "<sip:a@x>;index=1, <sip:b@y>;index=1.1");
    }

    #[test]
    fn received_entries_get_a_child() {
        let mut h = Headers::new();
        h.push(
            HeaderName::HistoryInfo,
            "<sip:1000@pbx>;index=1, <sip:+14255550100@lync>;index=1.1",
        );
        let v = history_info(&h, "sip:+14255550100@lync", "sip:vm@um", Retarget::NoAnswer);
        assert_eq!(v, "<sip:vm@um>;index=1.1.1");
    }
}
