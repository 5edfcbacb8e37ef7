//! URIs: SIP/SIPS (RFC 3261 §19.1), `tel` (RFC 3966) and opaque others.
//!
//! rsip's URI parser is not used: it reads `tel:+1234` as host `tel` port 1234, drops the
//! `?headers` part (which REFER needs for `Replaces`), rejects IPv6 references in Via and
//! writes other schemes as `scheme://`. This one follows the RFC 3261 grammar, keeps every
//! part as written (escapes included) and reports what is wrong.

use super::params::{Param, Params};
use super::scan::is_unreserved;
use crate::sip::error::{Error, Result};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The host part of a SIP URI or Via sent-by.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// A host name, kept as written (compare with [`Host::eq_ignore_case`]).
    Domain(String),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

impl Host {
    /// Parses a host name, IPv4 address or bracketed IPv6 reference.
    pub fn parse(s: &str) -> Result<Host> {
        let bad = |d: &str| Error::Uri {
            uri: s.to_string(),
            detail: d.to_string(),
        };
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or_else(|| bad("unclosed IPv6 reference"))?;
            return inner
                .parse::<Ipv6Addr>()
                .map(Host::Ipv6)
                .map_err(|_| bad("bad IPv6 address"));
        }
        if s.is_empty() {
            return Err(bad("empty host"));
        }
        let trimmed = s.strip_suffix('.').unwrap_or(s);
        let top = trimmed.rsplit('.').next().unwrap_or("");
        if top.as_bytes().first().is_some_and(|b| b.is_ascii_digit()) {
            // A top label starting with a digit can only be an IPv4 address.
            return s
                .parse::<Ipv4Addr>()
                .map(Host::Ipv4)
                .map_err(|_| bad("bad IPv4 address"));
        }
        for label in trimmed.split('.') {
            let b = label.as_bytes();
            if b.is_empty()
                || !b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                || b[0] == b'-'
                || b[b.len() - 1] == b'-'
            {
                return Err(bad("bad host name"));
            }
        }
        Ok(Host::Domain(s.to_string()))
    }

    /// The address, when the host is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Domain(_) => None,
            Host::Ipv4(a) => Some(IpAddr::V4(*a)),
            Host::Ipv6(a) => Some(IpAddr::V6(*a)),
        }
    }

    /// Host comparison of RFC 3261 §19.1.4 (case-insensitive names).
    pub fn eq_ignore_case(&self, other: &Host) -> bool {
        match (self, other) {
            (Host::Domain(a), Host::Domain(b)) => a.eq_ignore_ascii_case(b),
            _ => self == other,
        }
    }
}

impl Host {
    /// Appends the host as written in a URI or Via (IPv6 in brackets), without `fmt`.
    pub(crate) fn write(&self, out: &mut String) {
        match self {
            Host::Domain(d) => out.push_str(d),
            Host::Ipv4(a) => {
                for (i, o) in a.octets().iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    crate::sip::wire::push_u64(out, u64::from(*o));
                }
            }
            Host::Ipv6(a) => {
                use std::fmt::Write;
                let _ = write!(out, "[{a}]");
            }
        }
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Host {
        match ip {
            IpAddr::V4(a) => Host::Ipv4(a),
            IpAddr::V6(a) => Host::Ipv6(a),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// A `sip:` or `sips:` URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipUri {
    /// `sips:` rather than `sip:`.
    pub secure: bool,
    /// The user part, escapes kept as written.
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Host,
    pub port: Option<u16>,
    /// `;uri-parameters`, values kept as written.
    pub params: Params,
    /// `?headers` as (name, value) pairs, escapes kept as written.
    pub headers: Vec<(String, String)>,
}

impl SipUri {
    /// A URI with only a host (and optional user and port).
    pub fn new(user: Option<&str>, host: Host, port: Option<u16>) -> SipUri {
        SipUri {
            secure: false,
            user: user.map(str::to_string),
            password: None,
            host,
            port,
            params: Params::default(),
            headers: Vec::new(),
        }
    }

    /// The port, or the scheme's default (5060, or 5061 for `sips`).
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(if self.secure { 5061 } else { 5060 })
    }

    /// The value of a `?header=value` part, unescaped.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| unescape(v))
    }

    /// True when the URI has the `lr` parameter (a loose router, RFC 3261 §16.12).
    pub fn is_loose_router(&self) -> bool {
        self.params.contains("lr")
    }

    fn parse_rest(rest: &str, secure: bool, whole: &str) -> Result<SipUri> {
        let bad = |d: &str| Error::Uri {
            uri: whole.to_string(),
            detail: d.to_string(),
        };
        let (userinfo, hostpart) = match rest.find('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => {
                let (u, p) = match ui.find(':') {
                    Some(c) => (&ui[..c], Some(&ui[c + 1..])),
                    None => (ui, None),
                };
                if u.is_empty() {
                    return Err(bad("empty user part"));
                }
                check_escaped(u, |b| is_unreserved(b) || b"&=+$,;?/".contains(&b)).map_err(&bad)?;
                if let Some(p) = p {
                    check_escaped(p, |b| is_unreserved(b) || b"&=+$,".contains(&b))
                        .map_err(&bad)?;
                }
                (Some(u.to_string()), p.map(str::to_string))
            }
        };
        // hostport ends at the first ';' or '?' (outside an IPv6 reference).
        let hp_end = if hostpart.starts_with('[') {
            let close = hostpart
                .find(']')
                .ok_or_else(|| bad("unclosed IPv6 reference"))?;
            close
                + 1
                + hostpart[close + 1..]
                    .find([';', '?'])
                    .unwrap_or(hostpart.len() - close - 1)
        } else {
            hostpart.find([';', '?']).unwrap_or(hostpart.len())
        };
        let hostport = &hostpart[..hp_end];
        let (host_s, port) = split_host_port(hostport).map_err(&bad)?;
        let host = Host::parse(host_s).map_err(|_| bad("bad host"))?;
        let mut tail = &hostpart[hp_end..];
        let mut params = Params::default();
        while let Some(after) = tail.strip_prefix(';') {
            let end = after.find([';', '?']).unwrap_or(after.len());
            let p = &after[..end];
            let (name, value) = match p.find('=') {
                Some(eq) => (&p[..eq], Some(&p[eq + 1..])),
                None => (p, None),
            };
            let paramchar = |b: u8| is_unreserved(b) || b"[]/:&+$".contains(&b);
            if name.is_empty() {
                return Err(bad("empty URI parameter"));
            }
            check_escaped(name, paramchar).map_err(&bad)?;
            if let Some(v) = value {
                if v.is_empty() {
                    return Err(bad("empty URI parameter value"));
                }
                check_escaped(v, paramchar).map_err(&bad)?;
            }
            params.push(Param::new(name, value));
            tail = &after[end..];
        }
        let mut headers = Vec::new();
        if let Some(hs) = tail.strip_prefix('?') {
            for h in hs.split('&') {
                let eq = h.find('=').ok_or_else(|| bad("URI header without '='"))?;
                let (n, v) = (&h[..eq], &h[eq + 1..]);
                let hnv = |b: u8| is_unreserved(b) || b"[]/?:+$".contains(&b);
                if n.is_empty() {
                    return Err(bad("empty URI header name"));
                }
                check_escaped(n, hnv).map_err(&bad)?;
                check_escaped(v, hnv).map_err(&bad)?;
                headers.push((n.to_string(), v.to_string()));
            }
        } else if !tail.is_empty() {
            return Err(bad("unexpected characters after host"));
        }
        Ok(SipUri {
            secure,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }

    pub(crate) fn write(&self, out: &mut String) {
        out.push_str(if self.secure { "sips:" } else { "sip:" });
        if let Some(u) = &self.user {
            out.push_str(u);
            if let Some(p) = &self.password {
                out.push(':');
                out.push_str(p);
            }
            out.push('@');
        }
        self.host.write(out);
        if let Some(p) = self.port {
            out.push(':');
            crate::sip::wire::push_u64(out, u64::from(p));
        }
        self.params.write_uri(out);
        for (i, (n, v)) in self.headers.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(n);
            out.push('=');
            out.push_str(v);
        }
    }
}

/// Splits `host[:port]`, where host may be a bracketed IPv6 reference.
pub(crate) fn split_host_port(s: &str) -> Result<(&str, Option<u16>), &'static str> {
    let (host, port) = if s.starts_with('[') {
        let close = s.find(']').ok_or("unclosed IPv6 reference")?;
        let after = &s[close + 1..];
        match after.strip_prefix(':') {
            Some(p) => (&s[..=close], Some(p)),
            None if after.is_empty() => (s, None),
            None => return Err("junk after IPv6 reference"),
        }
    } else {
        match s.find(':') {
            Some(c) => (&s[..c], Some(&s[c + 1..])),
            None => (s, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err("bad port");
            }
            Some(p.parse::<u16>().map_err(|_| "port out of range")?)
        }
    };
    Ok((host, port))
}

/// Checks that `s` has only bytes allowed by `ok` or well-formed `%HH` escapes.
fn check_escaped(s: &str, ok: impl Fn(u8) -> bool) -> Result<(), &'static str> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return Err("bad escape");
            }
            i += 3;
        } else if ok(b[i]) {
            i += 1;
        } else {
            return Err("character not allowed in URI");
        }
    }
    Ok(())
}

/// Decodes `%HH` escapes (invalid ones are kept literally).
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes everything but unreserved characters (for URI header values such as Replaces).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if is_unreserved(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A URI: SIP/SIPS, `tel`, or any other scheme kept opaque.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Uri {
    Sip(SipUri),
    /// A `tel:` URI; the part after the colon.
    Tel(String),
    /// Any other absolute URI (`http:`, `urn:`, `im:`...), kept as written.
    Other {
        scheme: String,
        opaque: String,
    },
}

impl Uri {
    /// Parses a URI. The whole string must be the URI (no surrounding white space).
    pub fn parse(s: &str) -> Result<Uri> {
        let bad = |d: &str| Error::Uri {
            uri: s.to_string(),
            detail: d.to_string(),
        };
        let colon = s.find(':').ok_or_else(|| bad("no scheme"))?;
        let scheme = &s[..colon];
        let sb = scheme.as_bytes();
        if sb.is_empty()
            || !sb[0].is_ascii_alphabetic()
            || !sb
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            return Err(bad("bad scheme"));
        }
        let rest = &s[colon + 1..];
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_rest(rest, false, s).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_rest(rest, true, s).map(Uri::Sip)
        } else {
            if rest.is_empty()
                || !rest
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"'))
            {
                return Err(bad("bad characters in URI"));
            }
            if scheme.eq_ignore_ascii_case("tel") {
                Ok(Uri::Tel(rest.to_string()))
            } else {
                Ok(Uri::Other {
                    scheme: scheme.to_string(),
                    opaque: rest.to_string(),
                })
            }
        }
    }

    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    pub fn as_sip_mut(&mut self) -> Option<&mut SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The scheme as written for others, or `sip`/`sips`/`tel`.
    pub fn scheme(&self) -> &str {
        match self {
            Uri::Sip(u) if u.secure => "sips",
            Uri::Sip(_) => "sip",
            Uri::Tel(_) => "tel",
            Uri::Other { scheme, .. } => scheme,
        }
    }

    /// The user part of a SIP URI or the number of a tel URI.
    pub fn user(&self) -> Option<&str> {
        match self {
            Uri::Sip(u) => u.user.as_deref(),
            Uri::Tel(n) => Some(n.split(';').next().unwrap_or(n)),
            Uri::Other { .. } => None,
        }
    }

    pub(crate) fn write(&self, out: &mut String) {
        match self {
            Uri::Sip(u) => u.write(out),
            Uri::Tel(n) => {
                out.push_str("tel:");
                out.push_str(n);
            }
            Uri::Other { scheme, opaque } => {
                out.push_str(scheme);
                out.push(':');
                out.push_str(opaque);
            }
        }
    }
}

impl From<SipUri> for Uri {
    fn from(u: SipUri) -> Uri {
        Uri::Sip(u)
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(48);
        self.write(&mut s);
        f.write_str(&s)
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(48);
        self.write(&mut s);
        f.write_str(&s)
    }
}

impl std::str::FromStr for Uri {
    type Err = Error;
    fn from_str(s: &str) -> Result<Uri> {
        Uri::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri {
        match Uri::parse(s).unwrap() {
            Uri::Sip(u) => u,
            other => panic!("not sip: {other:?}"),
        }
    }

    #[test]
    fn parses_the_parts_of_a_sip_uri() {
        let u = sip("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?Subject=hi&X=%20y");
        assert!(u.secure);
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("secret"));
        assert_eq!(u.host, Host::Ipv6("2001:db8::1".parse().unwrap()));
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.params.get("transport"), Some(Some("tcp")));
        assert!(u.is_loose_router());
        assert_eq!(u.header("x").as_deref(), Some(" y"));
        assert_eq!(
            u.to_string(),
            "sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?Subject=hi&X=%20y"
        );
    }

    #[test]
    fn tel_and_other_schemes_are_not_mistaken_for_hosts() {
        // rsip's gap: it reads "tel:+1234" as host "tel", port 1234.
        assert_eq!(Uri::parse("tel:+1234").unwrap(), Uri::Tel("+1234".into()));
        assert_eq!(Uri::parse("tel:+1234").unwrap().to_string(), "tel:+1234");
        let u = Uri::parse("urn:service:sos").unwrap();
        assert_eq!(u.scheme(), "urn");
        assert_eq!(u.to_string(), "urn:service:sos");
    }

    #[test]
    fn user_part_may_hold_reserved_characters() {
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(u.host, Host::Domain("example.com".into()));
        let weird = "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com";
        let u = sip(weird);
        assert_eq!(
            u.user.as_deref(),
            Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        );
        assert_eq!(u.to_string(), weird);
    }

    #[test]
    fn rejects_malformed_uris() {
        for bad in [
            "sip:",
            "sip:user@",
            "sip:@host",
            "sip:host:99999",
            "sip:host:",
            "sip:ho st",
            "sip:host;",
            "sip:host;=x",
            "sip:host?x",
            "sip:[::1",
            "sip:999.1.1.1",
            "sip:-bad-.com",
            "sip:a%zz@host",
            "sip:a%2@host",
            "sip:a%@host",
            "nocolon",
            ":x",
            "1x:y",
            "tel:",
            "tel:12 34",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn escapes_round_trip() {
        assert_eq!(unescape("a%3Bb%3db%"), "a;b=b%");
        assert_eq!(unescape(&escape("abc@x;to-tag=1")), "abc@x;to-tag=1");
        assert_eq!(escape("a;b"), "a%3Bb");
    }
}
