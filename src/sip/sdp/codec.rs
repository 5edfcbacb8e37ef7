//! The SDP text codec (RFC 4566): session description ⇄ bytes.

use crate::sip::error::{Error, Result};
use std::net::IpAddr;

/// `IP4` or `IP6`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum AddrType {
    Ip4,
    Ip6,
}

impl AddrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AddrType::Ip4 => "IP4",
            AddrType::Ip6 => "IP6",
        }
    }

    fn parse(s: &str, line: usize) -> Result<AddrType> {
        match s {
            "IP4" => Ok(AddrType::Ip4),
            "IP6" => Ok(AddrType::Ip6),
            _ => Err(sdp_err(line, format!("address type {s:?}"))),
        }
    }

    pub fn of(ip: IpAddr) -> AddrType {
        match ip {
            IpAddr::V4(_) => AddrType::Ip4,
            IpAddr::V6(_) => AddrType::Ip6,
        }
    }
}

fn sdp_err(line: usize, detail: impl Into<String>) -> Error {
    Error::Sdp {
        line,
        detail: detail.into(),
    }
}

/// Checks an address field: an IP literal of the right family or a host name (FQDN).
fn check_address(a: &str, t: AddrType, line: usize) -> Result<()> {
    if let Ok(ip) = a.parse::<IpAddr>() {
        if AddrType::of(ip) != t {
            return Err(sdp_err(
                line,
                format!("{a} is not an {} address", t.as_str()),
            ));
        }
        return Ok(());
    }
    let ok = !a.is_empty()
        && a.split('.').all(|l| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
        })
        && !a.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(sdp_err(
            line,
            format!("{a:?} is neither an IP address nor a host name"),
        ))
    }
}

/// `c=IN <type> <address>`: an IP address or an FQDN (RFC 4566 §5.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub addr_type: AddrType,
    pub address: String,
}

impl Connection {
    pub fn new(addr_type: AddrType, address: &str) -> Connection {
        Connection {
            addr_type,
            address: address.to_string(),
        }
    }

    /// The address when it is an IP literal (an FQDN needs resolving by the caller).
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }

    /// `0.0.0.0`, the RFC 2543 way of putting a call on hold.
    pub fn is_null(&self) -> bool {
        self.address == "0.0.0.0" || self.address == "::"
    }
}

/// `o=` (RFC 4566 §5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    pub session_id: u64,
    pub session_version: u64,
    pub addr_type: AddrType,
    pub address: String,
}

/// `a=name[:value]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: Option<String>,
}

impl Attribute {
    pub fn new(name: &str, value: Option<&str>) -> Attribute {
        Attribute {
            name: name.to_string(),
            value: value.map(str::to_string),
        }
    }
}

/// `b=type:kbps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bandwidth {
    pub bwtype: String,
    pub kbps: u32,
}

/// One `m=` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`, ...
    pub media: String,
    pub port: u16,
    pub port_count: Option<u16>,
    /// `RTP/AVP`, `RTP/SAVP`, ...
    pub proto: String,
    /// Format list (payload type numbers for RTP).
    pub formats: Vec<String>,
    pub connection: Option<Connection>,
    pub bandwidth: Vec<Bandwidth>,
    /// Every `a=` line of the section, in order.
    pub attributes: Vec<Attribute>,
    /// `i=` and `k=` lines kept as (type, value).
    pub other: Vec<(char, String)>,
}

/// A session description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDescription {
    pub origin: Origin,
    pub session_name: String,
    pub connection: Option<Connection>,
    pub bandwidth: Vec<Bandwidth>,
    /// `t=` start and stop times (`0 0` for a permanent session).
    pub timing: Vec<(u64, u64)>,
    pub attributes: Vec<Attribute>,
    pub media: Vec<Media>,
    /// Session-level `i= u= e= p= r= z= k=` lines kept as (type, value).
    pub other: Vec<(char, String)>,
}

fn parse_num<T: std::str::FromStr>(s: &str, line: usize, what: &str) -> Result<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(sdp_err(line, format!("{what} {s:?} is not a number")));
    }
    s.parse()
        .map_err(|_| sdp_err(line, format!("{what} {s} out of range")))
}

fn parse_connection(v: &str, line: usize) -> Result<Connection> {
    let f: Vec<&str> = v.split(' ').collect();
    if f.len() != 3 || f[0] != "IN" {
        return Err(sdp_err(line, format!("c={v:?} is not 'IN type address'")));
    }
    let t = AddrType::parse(f[1], line)?;
    check_address(f[2], t, line)?;
    Ok(Connection::new(t, f[2]))
}

fn parse_bandwidth(v: &str, line: usize) -> Result<Bandwidth> {
    let (t, k) = v
        .split_once(':')
        .ok_or_else(|| sdp_err(line, format!("b={v:?}")))?;
    Ok(Bandwidth {
        bwtype: t.to_string(),
        kbps: parse_num(k, line, "bandwidth")?,
    })
}

fn parse_attribute(v: &str) -> Attribute {
    match v.split_once(':') {
        Some((n, val)) => Attribute::new(n, Some(val)),
        None => Attribute::new(v, None),
    }
}

impl SessionDescription {
    /// Parses a session description. Lines end in CRLF (bare LF is accepted).
    pub fn parse(text: &[u8]) -> Result<SessionDescription> {
        let text = std::str::from_utf8(text).map_err(|_| sdp_err(0, "not UTF-8"))?;
        let mut origin = None;
        let mut session_name = None;
        let mut connection = None;
        let mut bandwidth = Vec::new();
        let mut timing = Vec::new();
        let mut attributes = Vec::new();
        let mut other = Vec::new();
        let mut media: Vec<Media> = Vec::new();
        let mut seen_version = false;
        for (i, raw) in text.split('\n').enumerate() {
            let line_no = i + 1;
            let l = raw.strip_suffix('\r').unwrap_or(raw);
            if l.is_empty() {
                continue;
            }
            let b = l.as_bytes();
            if b.len() < 2 || b[1] != b'=' || !b[0].is_ascii_lowercase() {
                return Err(sdp_err(line_no, format!("{l:?} is not 'x=value'")));
            }
            let (t, v) = (b[0] as char, &l[2..]);
            if !seen_version {
                if t != 'v' || v != "0" {
                    return Err(sdp_err(line_no, "the first line must be v=0"));
                }
                seen_version = true;
                continue;
            }
            match (t, media.last_mut()) {
                ('v', _) => return Err(sdp_err(line_no, "repeated v=")),
                ('o', None) => {
                    let f: Vec<&str> = v.split(' ').collect();
                    if f.len() != 6 || f[3] != "IN" {
                        return Err(sdp_err(line_no, format!("o={v:?}")));
                    }
                    let addr_type = AddrType::parse(f[4], line_no)?;
                    check_address(f[5], addr_type, line_no)?;
                    origin = Some(Origin {
                        username: f[0].to_string(),
                        session_id: parse_num(f[1], line_no, "session id")?,
                        session_version: parse_num(f[2], line_no, "session version")?,
                        addr_type,
                        address: f[5].to_string(),
                    });
                }
                ('s', None) => session_name = Some(v.to_string()),
                ('c', None) => connection = Some(parse_connection(v, line_no)?),
                ('b', None) => bandwidth.push(parse_bandwidth(v, line_no)?),
                ('t', None) => {
                    let (a, z) = v
                        .split_once(' ')
                        .ok_or_else(|| sdp_err(line_no, format!("t={v:?}")))?;
                    timing.push((
                        parse_num(a, line_no, "start")?,
                        parse_num(z, line_no, "stop")?,
                    ));
                }
                ('a', None) => attributes.push(parse_attribute(v)),
                ('i' | 'u' | 'e' | 'p' | 'r' | 'z' | 'k', None) => other.push((t, v.to_string())),
                ('m', _) => {
                    let f: Vec<&str> = v.split(' ').collect();
                    if f.len() < 4 {
                        return Err(sdp_err(line_no, format!("m={v:?}")));
                    }
                    let (port, port_count) = match f[1].split_once('/') {
                        Some((p, n)) => (p, Some(parse_num(n, line_no, "port count")?)),
                        None => (f[1], None),
                    };
                    if f[3..].iter().any(|x| x.is_empty()) {
                        return Err(sdp_err(line_no, "empty format"));
                    }
                    media.push(Media {
                        media: f[0].to_string(),
                        port: parse_num(port, line_no, "port")?,
                        port_count,
                        proto: f[2].to_string(),
                        formats: f[3..].iter().map(|s| s.to_string()).collect(),
                        connection: None,
                        bandwidth: Vec::new(),
                        attributes: Vec::new(),
                        other: Vec::new(),
                    });
                }
                ('c', Some(m)) => m.connection = Some(parse_connection(v, line_no)?),
                ('b', Some(m)) => m.bandwidth.push(parse_bandwidth(v, line_no)?),
                ('a', Some(m)) => m.attributes.push(parse_attribute(v)),
                ('i' | 'k', Some(m)) => m.other.push((t, v.to_string())),
                _ => return Err(sdp_err(line_no, format!("unexpected {t}= line"))),
            }
        }
        let origin = origin.ok_or_else(|| sdp_err(0, "no o= line"))?;
        let session_name = session_name.ok_or_else(|| sdp_err(0, "no s= line"))?;
        if timing.is_empty() {
            return Err(sdp_err(0, "no t= line"));
        }
        for m in &media {
            if m.connection.is_none() && connection.is_none() && m.port != 0 {
                return Err(sdp_err(0, format!("no c= for the {} stream", m.media)));
            }
        }
        Ok(SessionDescription {
            origin,
            session_name,
            connection,
            bandwidth,
            timing,
            attributes,
            media,
            other,
        })
    }

    /// Writes the description with CRLF line ends.
    pub fn to_text(&self) -> String {
        use crate::sip::wire::push_u64;
        let mut s = String::with_capacity(320);
        let line = |s: &mut String, t: char, v: &str| {
            s.push(t);
            s.push('=');
            s.push_str(v);
            s.push_str("\r\n");
        };
        let o = &self.origin;
        s.push_str("v=0\r\no=");
        s.push_str(&o.username);
        s.push(' ');
        push_u64(&mut s, o.session_id);
        s.push(' ');
        push_u64(&mut s, o.session_version);
        s.push_str(" IN ");
        s.push_str(o.addr_type.as_str());
        s.push(' ');
        s.push_str(&o.address);
        s.push_str("\r\n");
        line(&mut s, 's', &self.session_name);
        for (t, v) in self.other.iter().filter(|(t, _)| "iuep".contains(*t)) {
            line(&mut s, *t, v);
        }
        write_conn_bw(&mut s, &self.connection, &self.bandwidth);
        for (a, z) in &self.timing {
            s.push_str("t=");
            push_u64(&mut s, *a);
            s.push(' ');
            push_u64(&mut s, *z);
            s.push_str("\r\n");
        }
        for (t, v) in self.other.iter().filter(|(t, _)| "rzk".contains(*t)) {
            line(&mut s, *t, v);
        }
        write_attrs(&mut s, &self.attributes);
        for m in &self.media {
            s.push_str("m=");
            s.push_str(&m.media);
            s.push(' ');
            push_u64(&mut s, u64::from(m.port));
            if let Some(n) = m.port_count {
                s.push('/');
                push_u64(&mut s, u64::from(n));
            }
            s.push(' ');
            s.push_str(&m.proto);
            for f in &m.formats {
                s.push(' ');
                s.push_str(f);
            }
            s.push_str("\r\n");
            for (t, v) in m.other.iter().filter(|(t, _)| *t == 'i') {
                line(&mut s, *t, v);
            }
            write_conn_bw(&mut s, &m.connection, &m.bandwidth);
            for (t, v) in m.other.iter().filter(|(t, _)| *t == 'k') {
                line(&mut s, *t, v);
            }
            write_attrs(&mut s, &m.attributes);
        }
        s
    }

    /// The connection that applies to media section `i` (media level, else session).
    pub fn connection_for(&self, i: usize) -> Option<&Connection> {
        self.media
            .get(i)
            .and_then(|m| m.connection.as_ref())
            .or(self.connection.as_ref())
    }
}

fn write_conn_bw(s: &mut String, c: &Option<Connection>, bw: &[Bandwidth]) {
    if let Some(c) = c {
        s.push_str("c=IN ");
        s.push_str(c.addr_type.as_str());
        s.push(' ');
        s.push_str(&c.address);
        s.push_str("\r\n");
    }
    for b in bw {
        s.push_str("b=");
        s.push_str(&b.bwtype);
        s.push(':');
        crate::sip::wire::push_u64(s, u64::from(b.kbps));
        s.push_str("\r\n");
    }
}

fn write_attrs(s: &mut String, attrs: &[Attribute]) {
    for a in attrs {
        s.push_str("a=");
        s.push_str(&a.name);
        if let Some(v) = &a.value {
            s.push(':');
            s.push_str(v);
        }
        s.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LYNC: &str = "v=0\r\no=- 0 1 IN IP4 med01.contoso.com\r\ns=session\r\nc=IN IP4 med01.contoso.com\r\nb=CT:1000\r\nt=0 0\r\nm=audio 54252 RTP/AVP 114 9 112 111 0 8 116 115 4 97 13 118 101\r\na=rtcp:54253\r\na=rtpmap:114 x-msrta/16000\r\na=fmtp:114 bitrate=29000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=encryption:optional\r\n";

    #[test]
    fn fqdn_connection_and_round_trip() {
        let sd = SessionDescription::parse(LYNC.as_bytes()).unwrap();
        assert_eq!(sd.connection.as_ref().unwrap().address, "med01.contoso.com");
        assert_eq!(sd.connection.as_ref().unwrap().ip(), None);
        assert_eq!(sd.media[0].formats.len(), 13);
        assert_eq!(sd.bandwidth[0].kbps, 1000);
        assert_eq!(sd.to_text(), LYNC);
    }

    #[test]
    fn rejects_malformed_descriptions() {
        for bad in [
            "",
            "o=- 1 1 IN IP4 h\r\n",
            "v=1\r\n",
            "v=0\r\no=- 1 1 IN IP4 h\r\nt=0 0\r\n",
            "v=0\r\no=- x 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n",
            "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 ::1\r\nt=0 0\r\n",
            "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 999.1.1.1\r\nt=0 0\r\n",
            "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n",
            "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n",
            "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nx\r\n",
            "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP  0\r\n",
        ] {
            assert!(
                SessionDescription::parse(bad.as_bytes()).is_err(),
                "{bad:?}"
            );
        }
    }
}
