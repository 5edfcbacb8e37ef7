//! Parsing: start line, header lines (folded and compact), framing by Content-Length.
//!
//! One pass over the bytes. Each header line becomes an rsip untyped header; folded
//! continuation lines are joined with a single space and compact names are mapped to the
//! full ones, which are the two things rsip's tokenizer cannot do. Content-Length is
//! checked against the bytes actually present and not stored: emitting recomputes it.

use super::headers::{HeaderName, Headers};
use super::message::{Message, Request, Response, Version};
use super::method::Method;
use super::scan::is_token;
use super::uri::Uri;
use crate::sip::error::{Error, Result};
use bytes::Bytes;
use std::borrow::Cow;

/// The largest Content-Length accepted (the stream framer's default buffer bound).
pub(crate) const MAX_BODY: usize = 1 << 20;

/// Finds the end of the line starting at `from`: returns (end of content, start of next
/// line). Accepts CRLF and, leniently, bare LF; a CR not followed by LF is an error.
fn line_end(b: &[u8], from: usize) -> Result<Option<(usize, usize)>> {
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\n' => return Ok(Some((i, i + 1))),
            b'\r' => {
                return if b.get(i + 1) == Some(&b'\n') {
                    Ok(Some((i, i + 2)))
                } else if i + 1 == b.len() {
                    Ok(None)
                } else {
                    Err(Error::syntax("line", i, "CR not followed by LF"))
                };
            }
            _ => i += 1,
        }
    }
    Ok(None)
}

fn utf8<'a>(b: &'a [u8], at: usize, what: &'static str) -> Result<&'a str> {
    std::str::from_utf8(b).map_err(|e| Error::syntax(what, at + e.valid_up_to(), "invalid UTF-8"))
}

/// True when `s` starts with `SIP/` in any case (byte-wise: `s` may hold any UTF-8).
fn starts_with_sip(s: &str) -> bool {
    s.as_bytes()
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
}

/// Parses a `SIP/x.y` version.
fn parse_version(s: &str, at: usize) -> Result<Version> {
    let bad = || Error::syntax("SIP-Version", at, format!("{s:?} is not SIP/major.minor"));
    if !starts_with_sip(s) {
        return Err(bad());
    }
    // The first four bytes are ASCII, so index 4 is a char boundary.
    let (maj, min) = s[4..].split_once('.').ok_or_else(bad)?;
    let num = |x: &str| -> Result<u16> {
        if x.is_empty() || x.len() > 4 || !x.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        x.parse().map_err(|_| bad())
    };
    Ok(Version {
        major: num(maj)?,
        minor: num(min)?,
    })
}

enum Start {
    Request(Method, Uri, Version),
    Response(Version, u16, String),
}

fn parse_start(line: &str, at: usize) -> Result<Start> {
    if starts_with_sip(line) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let (ver, rest) = line
            .split_once(' ')
            .ok_or_else(|| Error::syntax("Status-Line", at, "no status code"))?;
        let version = parse_version(ver, at)?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::syntax(
                "Status-Line",
                at + ver.len() + 1,
                format!("status code {code:?} is not three digits"),
            ));
        }
        // Three ASCII digits always fit.
        let status: u16 = code.parse().unwrap_or(0);
        if !(100..=699).contains(&status) {
            return Err(Error::syntax(
                "Status-Line",
                at + ver.len() + 1,
                format!("status code {status} out of range"),
            ));
        }
        return Ok(Start::Response(version, status, reason.to_string()));
    }
    // Request-Line = Method SP Request-URI SP SIP-Version, single spaces only.
    let bad = |d: &str| Error::syntax("Request-Line", at, d.to_string());
    let (method, rest) = line.split_once(' ').ok_or_else(|| bad("no Request-URI"))?;
    let (uri, version) = rest.split_once(' ').ok_or_else(|| bad("no SIP-Version"))?;
    if method.is_empty() || uri.is_empty() || version.contains(' ') || version.is_empty() {
        return Err(bad("elements must be separated by exactly one SP"));
    }
    let method = Method::parse(method).map_err(|_| bad("method is not a token"))?;
    let uri = Uri::parse(uri).map_err(|e| {
        Error::syntax(
            "Request-URI",
            at + line.find(' ').unwrap_or(0) + 1,
            e.to_string(),
        )
    })?;
    let version = parse_version(version, at + line.len() - version.len())?;
    Ok(Start::Request(method, uri, version))
}

/// Splits a header line into its name and value (`name SWS ":" SWS value`).
fn split_header(line: &str, at: usize) -> Result<(&str, &str)> {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() && is_token(b[i]) {
        i += 1;
    }
    if i == 0 {
        return Err(Error::syntax("header", at, "header name is not a token"));
    }
    let name = &line[..i];
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    if b.get(i) != Some(&b':') {
        return Err(Error::syntax(
            "header",
            at + i,
            format!("no ':' after header name {name:?}"),
        ));
    }
    let value = line[i + 1..].trim_matches([' ', '\t']);
    Ok((name, value))
}

struct Builder {
    headers: Headers,
    content_length: Option<usize>,
}

impl Builder {
    fn add(&mut self, name: &str, value: Cow<'_, str>, at: usize) -> Result<()> {
        match HeaderName::from_wire(name) {
            Some(HeaderName::ContentLength) => {
                if self.content_length.is_some() {
                    return Err(Error::syntax(
                        "Content-Length",
                        at,
                        "more than one Content-Length",
                    ));
                }
                let v = value.trim();
                if v.is_empty() || v.len() > 10 || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Error::syntax(
                        "Content-Length",
                        at,
                        format!("{v:?} is not a non-negative integer"),
                    ));
                }
                let n: u64 = v.parse().unwrap_or(u64::MAX);
                if n > MAX_BODY as u64 {
                    return Err(Error::syntax(
                        "Content-Length",
                        at,
                        format!("{n} is too large"),
                    ));
                }
                self.content_length = Some(n as usize);
            }
            Some(n) => self.headers.push(n, value.into_owned()),
            None => self
                .headers
                .push_rsip(rsip::Header::Other(name.to_string(), value.into_owned())),
        }
        Ok(())
    }
}

/// Parses the message at the start of `buf`; returns it and the number of bytes used.
pub(crate) fn parse(buf: &[u8]) -> Result<(Message, usize)> {
    let mut pos = 0;
    // RFC 3261 §7.5: ignore CRLFs before the start line.
    while pos < buf.len() && (buf[pos] == b'\r' || buf[pos] == b'\n') {
        pos += 1;
    }
    if pos == buf.len() {
        return Err(Error::syntax("message", pos, "empty"));
    }
    let (end, next) = line_end(buf, pos)?
        .ok_or_else(|| Error::syntax("start line", pos, "not terminated by CRLF"))?;
    let start = parse_start(utf8(&buf[pos..end], pos, "start line")?, pos)?;
    pos = next;

    let mut b = Builder {
        headers: Headers::with_capacity(14),
        content_length: None,
    };
    // The header being read: its name, value, and the offset of its line.
    let mut pending: Option<(&str, Cow<'_, str>, usize)> = None;
    let body_start = loop {
        let (end, next) = line_end(buf, pos)?
            .ok_or_else(|| Error::syntax("headers", pos, "not terminated by an empty line"))?;
        if end == pos {
            if let Some((n, v, at)) = pending.take() {
                b.add(n, v, at)?;
            }
            break next;
        }
        let line = utf8(&buf[pos..end], pos, "header")?;
        if line.starts_with([' ', '\t']) {
            // A folded continuation: LWS becomes a single SP (RFC 3261 §7.3.1).
            let (_, value, _) = pending.as_mut().ok_or_else(|| {
                Error::syntax("header", pos, "continuation line without a header")
            })?;
            let more = line.trim_matches([' ', '\t']);
            if !more.is_empty() {
                let v = value.to_mut();
                if !v.is_empty() {
                    v.push(' ');
                }
                v.push_str(more);
            }
        } else {
            if let Some((n, v, at)) = pending.take() {
                b.add(n, v, at)?;
            }
            let (n, v) = split_header(line, pos)?;
            pending = Some((n, Cow::Borrowed(v), pos));
        }
        pos = next;
    };

    let available = buf.len() - body_start;
    let body_len = match b.content_length {
        Some(n) if n > available => {
            return Err(Error::Truncated {
                declared: n,
                available,
            });
        }
        Some(n) => n,
        None => available,
    };
    let body = if body_len == 0 {
        Bytes::new()
    } else {
        Bytes::copy_from_slice(&buf[body_start..body_start + body_len])
    };
    let used = body_start + body_len;
    let msg = match start {
        Start::Request(method, uri, version) => Message::Request(Request {
            method,
            uri,
            version,
            headers: b.headers,
            body,
        }),
        Start::Response(version, status, reason) => Message::Response(Response {
            version,
            status,
            reason,
            headers: b.headers,
            body,
        }),
    };
    Ok((msg, used))
}

/// What a UAS can still read from a request that failed to parse, to answer it with 400:
/// the method token and the headers a response copies (Via, From, To, Call-ID, CSeq).
#[derive(Clone, Debug)]
pub struct Salvage {
    pub method: String,
    pub headers: Headers,
}

/// Leniently reads the start line and the headers a response needs from a request that
/// [`Message::parse`] rejected. Returns `None` for responses or when nothing usable is
/// found (the message is then silently dropped).
pub fn salvage(buf: &[u8]) -> Option<Salvage> {
    let text = String::from_utf8_lossy(&buf[..buf.len().min(64 * 1024)]);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut lines = head.split('\n').map(|l| l.trim_end_matches('\r'));
    let start = lines.by_ref().find(|l| !l.is_empty())?;
    if starts_with_sip(start) {
        return None;
    }
    let method = start.split(' ').next().unwrap_or("").to_string();
    let mut headers = Headers::new();
    let mut current: Option<(HeaderName, String)> = None;
    for line in lines {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = current.as_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((n, v)) = current.take() {
            headers.push(n, v);
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let keep = HeaderName::from_wire(name.trim()).filter(|n| {
            matches!(
                n,
                HeaderName::Via
                    | HeaderName::From
                    | HeaderName::To
                    | HeaderName::CallId
                    | HeaderName::CSeq
            )
        });
        if let Some(n) = keep {
            current = Some((n, value.trim().to_string()));
        }
    }
    if let Some((n, v)) = current.take() {
        headers.push(n, v);
    }
    headers
        .contains(HeaderName::Via)
        .then_some(Salvage { method, headers })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0\r\n\
        v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n\
        f: <sip:alice@example.com>;tag=1\r\n\
        t: <sip:bob@example.com>\r\n\
        i: abc@10.0.0.1\r\n\
        CSeq: 1 INVITE\r\n\
        Max-Forwards: 70\r\n\
        Subject: a\r\n   folded\r\n\tvalue\r\n\
        c: application/sdp\r\n\
        l: 4\r\n\
        \r\n\
        v=0\r\n";

    #[test]
    fn compact_forms_and_folding() {
        let (m, used) = parse(INVITE.as_bytes()).unwrap();
        let Message::Request(r) = m else { panic!() };
        assert_eq!(r.method, Method::Invite);
        assert_eq!(
            r.headers.get(HeaderName::Via),
            Some("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1")
        );
        assert_eq!(r.headers.get(HeaderName::CallId), Some("abc@10.0.0.1"));
        assert_eq!(r.headers.get(HeaderName::Subject), Some("a folded value"));
        assert_eq!(
            r.headers.get(HeaderName::ContentType),
            Some("application/sdp")
        );
        // Content-Length frames the body: "v=0\r" (4 bytes); the trailing "\n" is dropped.
        assert_eq!(&r.body[..], b"v=0\r");
        assert_eq!(used, INVITE.len() - 1);
        assert!(!r.headers.contains(HeaderName::ContentLength));
    }

    #[test]
    fn content_length_larger_than_the_datagram_is_rejected() {
        let msg = INVITE.replace("l: 4", "l: 40");
        assert_eq!(
            parse(msg.as_bytes()).unwrap_err(),
            Error::Truncated {
                declared: 40,
                available: 5
            }
        );
        for bad in ["l: -4", "l: 4x", "l: ", "l: 99999999999"] {
            let msg = INVITE.replace("l: 4", bad);
            assert!(matches!(
                parse(msg.as_bytes()).unwrap_err(),
                Error::Syntax {
                    what: "Content-Length",
                    ..
                }
            ));
        }
        let msg = INVITE.replace("l: 4", "l: 4\r\nContent-Length: 4");
        assert!(parse(msg.as_bytes()).is_err());
    }

    #[test]
    fn reason_phrases_are_kept_exactly() {
        // rsip's gap: it writes "486 BusyHere".
        let (m, _) = parse(b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP h\r\n\r\n").unwrap();
        let Message::Response(r) = m else { panic!() };
        assert_eq!((r.status, r.reason.as_str()), (486, "Busy Here"));
        let (m, _) = parse(b"SIP/2.0 100 \r\n\r\n").unwrap();
        let Message::Response(r) = m else { panic!() };
        assert_eq!(r.reason, "");
        assert!(String::from_utf8_lossy(&r.to_bytes()).starts_with("SIP/2.0 100 \r\n"));
    }

    #[test]
    fn malformed_start_lines() {
        for bad in [
            "INVITE  sip:a@b SIP/2.0\r\n\r\n",
            "INVITE sip:a@b SIP/2.0 \r\n\r\n",
            "INVITE sip:a@b; lr SIP/2.0\r\n\r\n",
            "INVITE <sip:a@b> SIP/2.0\r\n\r\n",
            "INVITE sip:a@b HTTP/1.1\r\n\r\n",
            "SIP/2.0 4294967301 Big\r\n\r\n",
            "SIP/2.0 099 Low\r\n\r\n",
            "SIP/2.0 20 OK\r\n\r\n",
            "INVITE sip:a@b SIP/2.0\r\nVia: x\r\n",
            "INVITE sip:a@b SIP/2.0\r\n folded\r\n\r\n",
            "INVITE sip:a@b SIP/2.0\r\nNo colon\r\n\r\n",
            "INVITE sip:a@b SIP/2.0\r\nVia: a\rb\r\n\r\n",
            "\r\n\r\n",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?} should not parse");
        }
        let (m, _) = parse(b"INVITE sip:a@b SIP/7.0\r\n\r\n").unwrap();
        let Message::Request(r) = m else { panic!() };
        assert_eq!(r.version, Version { major: 7, minor: 0 });
    }

    #[test]
    fn salvage_keeps_what_a_400_needs() {
        let bad = b"INVITE <sip:a@b> SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\ni: c1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCSeq: 1\r\n INVITE\r\nX: y\r\n\r\n";
        let s = salvage(bad).unwrap();
        assert_eq!(s.method, "INVITE");
        assert_eq!(s.headers.get(HeaderName::CSeq), Some("1 INVITE"));
        assert_eq!(s.headers.get(HeaderName::CallId), Some("c1"));
        assert_eq!(s.headers.len(), 5);
        assert!(salvage(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n").is_none());
        assert!(salvage(b"garbage").is_none());
    }
}
