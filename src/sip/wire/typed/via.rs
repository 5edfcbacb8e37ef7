//! The Via header (RFC 3261 §20.42, §18.2.2; RFC 3581 `rport`).

use crate::sip::error::{Error, Result};
use crate::sip::transport::Transport;
use crate::sip::wire::params::Params;
use crate::sip::wire::scan::Cursor;
use crate::sip::wire::uri::Host;
use std::fmt;
use std::net::IpAddr;

/// The RFC 3261 branch magic cookie.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// One Via value: `SIP/2.0/transport sent-by;params`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// The transport token as written (`UDP`, `TCP`, `TLS`, `SCTP`, ...).
    pub transport: String,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    /// A Via for `transport` and sent-by, with a branch and the `rport` flag (RFC 3581).
    pub fn new(transport: Transport, host: Host, port: Option<u16>, branch: &str) -> Via {
        let mut params = Params::new();
        params.set("branch", Some(branch));
        params.set("rport", None);
        Via {
            transport: transport.as_str().to_string(),
            host,
            port,
            params,
        }
    }

    /// Parses one Via value (not a comma list).
    pub fn parse(s: &str) -> Result<Via> {
        let bad = |d: &str| Error::header("Via", format!("{d} in {s:?}"));
        let mut c = Cursor::new(s);
        c.skip_ws();
        let proto = c.token().ok_or_else(|| bad("no protocol name"))?;
        if !proto.eq_ignore_ascii_case("SIP") {
            return Err(bad("protocol is not SIP"));
        }
        if !c.eat_sep(b'/') {
            return Err(bad("expected '/'"));
        }
        let version = c.token().ok_or_else(|| bad("no protocol version"))?;
        if version != "2.0" {
            return Err(bad("protocol version is not 2.0"));
        }
        if !c.eat_sep(b'/') {
            return Err(bad("expected '/'"));
        }
        let transport = c.token().ok_or_else(|| bad("no transport"))?;
        let before = c.pos();
        c.skip_ws();
        if c.pos() == before {
            return Err(bad("no space before sent-by"));
        }
        let host_s = if c.peek() == Some(b'[') {
            let h = c.take_while(|b| b != b']');
            if !c.eat(b']') {
                return Err(bad("unclosed IPv6 reference"));
            }
            &s[c.pos() - h.len() - 1..c.pos()]
        } else {
            c.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        };
        let host = Host::parse(host_s).map_err(|_| bad("bad sent-by host"))?;
        let port = if c.eat_sep(b':') {
            let p = c.take_while(|b| b.is_ascii_digit());
            if p.is_empty() || p.len() > 5 {
                return Err(bad("bad port"));
            }
            Some(p.parse::<u16>().map_err(|_| bad("port out of range"))?)
        } else {
            None
        };
        let params = Params::parse_header(&mut c).map_err(&bad)?;
        c.skip_ws();
        if !c.at_end() {
            return Err(bad("unexpected characters"));
        }
        if let Some(r) = params.get("received") {
            let ok = r.is_some_and(|r| r.trim_matches(['[', ']']).parse::<IpAddr>().is_ok());
            if !ok {
                return Err(bad("received is not an IP address"));
            }
        }
        if let Some(Some(rp)) = params.get("rport") {
            if rp.parse::<u16>().is_err() {
                return Err(bad("bad rport"));
            }
        }
        if let Some(b) = params.get("branch") {
            if b.is_none() {
                return Err(bad("branch without a value"));
            }
        }
        Ok(Via {
            transport: transport.to_string(),
            host,
            port,
            params,
        })
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    /// True when the branch carries the RFC 3261 magic cookie.
    pub fn is_rfc3261(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(MAGIC_COOKIE))
    }

    /// The transport, when it is one this stack speaks.
    pub fn transport(&self) -> Option<Transport> {
        Transport::from_token(&self.transport)
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<IpAddr> {
        self.params
            .value("received")
            .and_then(|r| r.trim_matches(['[', ']']).parse().ok())
    }

    /// `None` without `rport`, `Some(None)` for the bare flag, `Some(Some(p))` when filled.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// "host:port" of sent-by, for transaction matching (RFC 3261 §17.2.3).
    pub fn sent_by_key(&self) -> String {
        let mut s = String::with_capacity(32);
        match &self.host {
            Host::Domain(d) => s.extend(d.chars().map(|c| c.to_ascii_lowercase())),
            h => h.write(&mut s),
        }
        s.push(':');
        crate::sip::wire::push_u64(&mut s, u64::from(self.port.unwrap_or(5060)));
        s
    }
}

impl Via {
    /// The header value, as [`fmt::Display`] writes it, without the formatting machinery.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(64);
        s.push_str("SIP/2.0/");
        s.push_str(&self.transport);
        s.push(' ');
        self.host.write(&mut s);
        if let Some(p) = self.port {
            s.push(':');
            crate::sip::wire::push_u64(&mut s, u64::from(p));
        }
        self.params.write_uri(&mut s);
        s
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tortuous_white_space() {
        let v =
            Via::parse("SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8")
                .unwrap();
        assert_eq!(v.transport(), Some(Transport::Tcp));
        assert_eq!(v.host, Host::Domain("spindle.example.com".into()));
        assert_eq!(v.branch(), Some("z9hG4bK9ikj8"));
        assert!(v.is_rfc3261());
        let v = Via::parse(
            "SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bK2;received=[2001:db8::2];rport=5071",
        )
        .unwrap();
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.received(), Some("2001:db8::2".parse().unwrap()));
        assert_eq!(v.rport(), Some(Some(5071)));
        assert_eq!(v.sent_by_key(), "[2001:db8::1]:5070");
        let v = Via::parse("SIP/2.0/SCTP h:1").unwrap();
        assert_eq!(v.transport(), None);
        assert_eq!(v.transport, "SCTP");
    }

    #[test]
    fn rejects_bad_vias() {
        for bad in [
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/2.0/UDP",
            "SIP/3.0/UDP h",
            "HTTP/2.0/UDP h",
            "SIP/2.0/UDPh",
            "SIP/2.0/UDP h:port",
            "SIP/2.0/UDP h;received=notanip",
            "SIP/2.0/UDP h;branch",
            "SIP/2.0/UDP h extra",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        let v = Via::new(
            Transport::Tls,
            Host::Domain("fe.example.com".into()),
            Some(5061),
            "z9hG4bKabc",
        );
        let s = v.to_string();
        assert_eq!(s, "SIP/2.0/TLS fe.example.com:5061;branch=z9hG4bKabc;rport");
        assert_eq!(Via::parse(&s).unwrap(), v);
    }
}
