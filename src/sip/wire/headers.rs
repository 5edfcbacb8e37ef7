//! Header names and the header list, stored as rsip's untyped headers.
//!
//! Each header is an [`rsip::Header`]: the variant gives the name for the headers rsip
//! knows, and `Other(name, value)` holds the rest. The headers that rsip does not know but
//! voicetwin uses (RSeq, RAck, Session-Expires, Refer-To...) are stored as `Other` under
//! their canonical spelling, so a lookup is an exact comparison. Values are kept as
//! received (unfolded); typed parsing happens on demand in [`super::typed`].

use super::scan::split_list;
use rsip::headers::UntypedHeader;

macro_rules! header_names {
    (
        rsip { $( $v:ident => $n:literal $(, $c:literal)? ; )* }
        ext { $( $e:ident => $en:literal $(, $ec:literal)? ; )* }
    ) => {
        /// The headers voicetwin looks up by name. Compact forms map to the same name.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum HeaderName {
            $( $v, )*
            $( $e, )*
        }

        impl HeaderName {
            /// The canonical spelling written on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( HeaderName::$v => $n, )*
                    $( HeaderName::$e => $en, )*
                }
            }

            /// The compact form (RFC 3261 §7.3.3 and extensions), if any.
            pub fn compact(self) -> Option<char> {
                match self {
                    $( $( HeaderName::$v => Some($c), )? )*
                    $( $( HeaderName::$e => Some($ec), )? )*
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }

            /// Builds the stored header for a value.
            pub(crate) fn make(self, value: String) -> rsip::Header {
                match self {
                    $( HeaderName::$v => rsip::Header::$v(rsip::headers::$v::new(value)), )*
                    $( HeaderName::$e => rsip::Header::Other($en.to_string(), value), )*
                }
            }

            /// True when the stored header `h` has this name.
            pub(crate) fn matches(self, h: &rsip::Header) -> bool {
                match (self, h) {
                    $( (HeaderName::$v, rsip::Header::$v(_)) => true, )*
                    (_, rsip::Header::Other(n, _)) => {
                        self.is_extension() && n.eq_ignore_ascii_case(self.as_str())
                    }
                    _ => false,
                }
            }

            fn is_extension(self) -> bool {
                match self {
                    $( HeaderName::$e => true, )*
                    _ => false,
                }
            }

            /// Every name, for tests and tables.
            pub fn all() -> &'static [HeaderName] {
                &[ $( HeaderName::$v, )* $( HeaderName::$e, )* ]
            }
        }

        /// The name and value of a stored header.
        pub(crate) fn name_value(h: &rsip::Header) -> (&str, &str) {
            match h {
                $( rsip::Header::$v(x) => ($n, x.value()), )*
                rsip::Header::Other(n, v) => (n.as_str(), v.as_str()),
            }
        }
    };
}

header_names! {
    rsip {
        Accept => "Accept";
        AcceptEncoding => "Accept-Encoding";
        AcceptLanguage => "Accept-Language";
        AlertInfo => "Alert-Info";
        Allow => "Allow";
        AuthenticationInfo => "Authentication-Info";
        Authorization => "Authorization";
        CSeq => "CSeq";
        CallId => "Call-ID", 'i';
        CallInfo => "Call-Info";
        Contact => "Contact", 'm';
        ContentDisposition => "Content-Disposition";
        ContentEncoding => "Content-Encoding", 'e';
        ContentLanguage => "Content-Language";
        ContentLength => "Content-Length", 'l';
        ContentType => "Content-Type", 'c';
        Date => "Date";
        ErrorInfo => "Error-Info";
        Event => "Event", 'o';
        Expires => "Expires";
        From => "From", 'f';
        InReplyTo => "In-Reply-To";
        MaxForwards => "Max-Forwards";
        MimeVersion => "MIME-Version";
        MinExpires => "Min-Expires";
        Organization => "Organization";
        Priority => "Priority";
        ProxyAuthenticate => "Proxy-Authenticate";
        ProxyAuthorization => "Proxy-Authorization";
        ProxyRequire => "Proxy-Require";
        RecordRoute => "Record-Route";
        ReplyTo => "Reply-To";
        Require => "Require";
        RetryAfter => "Retry-After";
        Route => "Route";
        Server => "Server";
        Subject => "Subject", 's';
        SubscriptionState => "Subscription-State";
        Supported => "Supported", 'k';
        Timestamp => "Timestamp";
        To => "To", 't';
        Unsupported => "Unsupported";
        UserAgent => "User-Agent";
        Via => "Via", 'v';
        Warning => "Warning";
        WwwAuthenticate => "WWW-Authenticate";
    }
    ext {
        RSeq => "RSeq";
        RAck => "RAck";
        SessionExpires => "Session-Expires", 'x';
        MinSE => "Min-SE";
        ReferTo => "Refer-To", 'r';
        ReferredBy => "Referred-By", 'b';
        Replaces => "Replaces";
        HistoryInfo => "History-Info";
        Diversion => "Diversion";
        PAssertedIdentity => "P-Asserted-Identity";
        PPreferredIdentity => "P-Preferred-Identity";
        Privacy => "Privacy";
        Reason => "Reason";
        AllowEvents => "Allow-Events", 'u';
        ReferSub => "Refer-Sub";
        AcceptContact => "Accept-Contact", 'a';
        RejectContact => "Reject-Contact", 'j';
        RequestDisposition => "Request-Disposition", 'd';
        Identity => "Identity", 'y';
    }
}

impl HeaderName {
    /// Looks up a header name as received: case-insensitive, compact forms included.
    pub fn from_wire(name: &str) -> Option<HeaderName> {
        let b = name.as_bytes();
        if b.len() == 1 {
            return Self::from_compact(b[0].to_ascii_lowercase());
        }
        if b.len() > 24 {
            return None;
        }
        let mut buf = [0u8; 24];
        for (d, s) in buf.iter_mut().zip(b) {
            *d = s.to_ascii_lowercase();
        }
        // The bytes are ASCII-lowercased copies of a &str; non-ASCII bytes are unchanged, so
        // the slice is valid UTF-8 whenever `name` is.
        let lower = std::str::from_utf8(&buf[..b.len()]).ok()?;
        use HeaderName::*;
        Some(match lower {
            "via" => Via,
            "from" => From,
            "to" => To,
            "call-id" => CallId,
            "cseq" => CSeq,
            "max-forwards" => MaxForwards,
            "contact" => Contact,
            "content-length" => ContentLength,
            "content-type" => ContentType,
            "route" => Route,
            "record-route" => RecordRoute,
            "allow" => Allow,
            "supported" => Supported,
            "require" => Require,
            "user-agent" => UserAgent,
            "server" => Server,
            "accept" => Accept,
            "accept-encoding" => AcceptEncoding,
            "accept-language" => AcceptLanguage,
            "alert-info" => AlertInfo,
            "authentication-info" => AuthenticationInfo,
            "authorization" => Authorization,
            "call-info" => CallInfo,
            "content-disposition" => ContentDisposition,
            "content-encoding" => ContentEncoding,
            "content-language" => ContentLanguage,
            "date" => Date,
            "error-info" => ErrorInfo,
            "event" => Event,
            "expires" => Expires,
            "in-reply-to" => InReplyTo,
            "mime-version" => MimeVersion,
            "min-expires" => MinExpires,
            "organization" => Organization,
            "priority" => Priority,
            "proxy-authenticate" => ProxyAuthenticate,
            "proxy-authorization" => ProxyAuthorization,
            "proxy-require" => ProxyRequire,
            "reply-to" => ReplyTo,
            "retry-after" => RetryAfter,
            "subject" => Subject,
            "subscription-state" => SubscriptionState,
            "timestamp" => Timestamp,
            "unsupported" => Unsupported,
            "warning" => Warning,
            "www-authenticate" => WwwAuthenticate,
            "rseq" => RSeq,
            "rack" => RAck,
            "session-expires" => SessionExpires,
            "min-se" => MinSE,
            "refer-to" => ReferTo,
            "referred-by" => ReferredBy,
            "replaces" => Replaces,
            "history-info" => HistoryInfo,
            "diversion" => Diversion,
            "p-asserted-identity" => PAssertedIdentity,
            "p-preferred-identity" => PPreferredIdentity,
            "privacy" => Privacy,
            "reason" => Reason,
            "allow-events" => AllowEvents,
            "refer-sub" => ReferSub,
            "accept-contact" => AcceptContact,
            "reject-contact" => RejectContact,
            "request-disposition" => RequestDisposition,
            "identity" => Identity,
            _ => return None,
        })
    }

    fn from_compact(c: u8) -> Option<HeaderName> {
        use HeaderName::*;
        Some(match c {
            b'i' => CallId,
            b'm' => Contact,
            b'e' => ContentEncoding,
            b'l' => ContentLength,
            b'c' => ContentType,
            b'f' => From,
            b's' => Subject,
            b'k' => Supported,
            b't' => To,
            b'v' => Via,
            b'o' => Event,
            b'x' => SessionExpires,
            b'r' => ReferTo,
            b'b' => ReferredBy,
            b'u' => AllowEvents,
            b'a' => AcceptContact,
            b'j' => RejectContact,
            b'd' => RequestDisposition,
            b'y' => Identity,
            _ => return None,
        })
    }
}

impl std::fmt::Display for HeaderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The header list of a message, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<rsip::Header>);

impl Headers {
    pub fn new() -> Headers {
        Headers(Vec::new())
    }

    pub fn with_capacity(n: usize) -> Headers {
        Headers(Vec::with_capacity(n))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends a header.
    pub fn push(&mut self, name: HeaderName, value: impl Into<String>) {
        self.0.push(name.make(value.into()));
    }

    /// Appends a header under any name (an unknown name is stored as written).
    pub fn push_named(&mut self, name: &str, value: impl Into<String>) {
        match HeaderName::from_wire(name) {
            Some(n) => self.push(n, value),
            None => self
                .0
                .push(rsip::Header::Other(name.to_string(), value.into())),
        }
    }

    /// Appends an rsip header as is.
    pub fn push_rsip(&mut self, h: rsip::Header) {
        self.0.push(h);
    }

    /// Inserts a header before the first one with the same name, or at the top.
    pub fn push_front(&mut self, name: HeaderName, value: impl Into<String>) {
        let at = self.0.iter().position(|h| name.matches(h)).unwrap_or(0);
        self.0.insert(at, name.make(value.into()));
    }

    /// The first value of `name`.
    pub fn get(&self, name: HeaderName) -> Option<&str> {
        self.0
            .iter()
            .find(|h| name.matches(h))
            .map(|h| name_value(h).1)
    }

    /// Every header line of `name`, in order.
    pub fn get_all(&self, name: HeaderName) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |h| name.matches(h))
            .map(|h| name_value(h).1)
    }

    /// Every list element of `name` across all its lines (commas split, RFC 3261 §7.3.1).
    pub fn list(&self, name: HeaderName) -> impl Iterator<Item = &str> {
        self.get_all(name).flat_map(split_list)
    }

    /// The first value of a header by any spelling of its name (unknown names included).
    pub fn get_named(&self, name: &str) -> Option<&str> {
        match HeaderName::from_wire(name) {
            Some(n) => self.get(n),
            None => self
                .0
                .iter()
                .map(name_value)
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v),
        }
    }

    /// Number of header lines named `name`.
    pub fn count(&self, name: HeaderName) -> usize {
        self.0.iter().filter(|h| name.matches(h)).count()
    }

    pub fn contains(&self, name: HeaderName) -> bool {
        self.0.iter().any(|h| name.matches(h))
    }

    /// Removes every header named `name`.
    pub fn remove(&mut self, name: HeaderName) {
        self.0.retain(|h| !name.matches(h));
    }

    /// Replaces every header named `name` with one line holding `value`, kept at the
    /// position of the first one (or appended).
    pub fn set(&mut self, name: HeaderName, value: impl Into<String>) {
        let h = name.make(value.into());
        match self.0.iter().position(|x| name.matches(x)) {
            Some(at) => {
                self.0[at] = h;
                let mut i = 0;
                self.0.retain(|x| {
                    i += 1;
                    i - 1 == at || !name.matches(x)
                });
            }
            None => self.0.push(h),
        }
    }

    /// Removes the first list element of the first `name` line (the top Via or Route),
    /// returning it. The rest of a comma-separated line is kept.
    pub fn pop_first(&mut self, name: HeaderName) -> Option<String> {
        let at = self.0.iter().position(|h| name.matches(h))?;
        let value = name_value(&self.0[at]).1;
        let mut items = split_list(value);
        let first = items.next()?.to_string();
        let rest: Vec<&str> = items.collect();
        if rest.is_empty() {
            self.0.remove(at);
        } else {
            let joined = rest.join(", ");
            self.0[at] = name.make(joined);
        }
        Some(first)
    }

    /// A copy holding only the headers named in `names`, in their order.
    pub fn subset(&self, names: &[HeaderName]) -> Headers {
        Headers(
            self.0
                .iter()
                .filter(|h| names.iter().any(|n| n.matches(h)))
                .cloned()
                .collect(),
        )
    }

    /// (name, value) pairs in order, names in their canonical or received spelling.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(name_value)
    }

    /// The stored rsip headers.
    pub fn as_rsip(&self) -> &[rsip::Header] {
        &self.0
    }
}

impl From<Headers> for rsip::Headers {
    fn from(h: Headers) -> rsip::Headers {
        h.0.into()
    }
}

impl From<rsip::Headers> for Headers {
    fn from(h: rsip::Headers) -> Headers {
        Headers(h.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_through_its_spellings() {
        for &n in HeaderName::all() {
            assert_eq!(HeaderName::from_wire(n.as_str()), Some(n), "{n}");
            assert_eq!(
                HeaderName::from_wire(&n.as_str().to_ascii_uppercase()),
                Some(n)
            );
            if let Some(c) = n.compact() {
                assert_eq!(HeaderName::from_wire(&c.to_string()), Some(n));
                assert_eq!(
                    HeaderName::from_wire(&c.to_ascii_uppercase().to_string()),
                    Some(n)
                );
            }
            let h = n.make("x".into());
            assert!(n.matches(&h));
            assert_eq!(name_value(&h), (n.as_str(), "x"));
        }
        assert_eq!(HeaderName::from_wire("NewFangledHeader"), None);
    }

    #[test]
    fn list_operations() {
        let mut h = Headers::new();
        h.push(
            HeaderName::Via,
            "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b",
        );
        h.push(HeaderName::Via, "SIP/2.0/UDP c");
        h.push(HeaderName::SessionExpires, "90");
        h.push_front(HeaderName::Via, "SIP/2.0/UDP top");
        assert_eq!(h.list(HeaderName::Via).count(), 4);
        assert_eq!(
            h.pop_first(HeaderName::Via).as_deref(),
            Some("SIP/2.0/UDP top")
        );
        assert_eq!(
            h.pop_first(HeaderName::Via).as_deref(),
            Some("SIP/2.0/UDP a;branch=z9hG4bK1")
        );
        assert_eq!(h.get(HeaderName::Via), Some("SIP/2.0/UDP b"));
        assert_eq!(h.get_named("x"), Some("90"));
        h.set(HeaderName::Via, "SIP/2.0/TCP only");
        assert_eq!(h.count(HeaderName::Via), 1);
        assert_eq!(h.iter().next(), Some(("Via", "SIP/2.0/TCP only")));
    }
}
