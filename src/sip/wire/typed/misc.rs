//! Typed values of the smaller headers: CSeq, RAck, Session-Expires, Replaces, Reason,
//! Content-Type, Event, Subscription-State and token lists.

use crate::sip::error::{Error, Result};
use crate::sip::wire::method::Method;
use crate::sip::wire::params::Params;
use crate::sip::wire::scan::{Cursor, is_token, quote, split_list, unquote};
use std::fmt;

/// Parses a decimal number of at most `max` (leading zeros allowed).
pub(crate) fn parse_number(s: &str, max: u64, header: &'static str) -> Result<u64> {
    let s = s.trim_matches([' ', '\t']);
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::header(header, format!("{s:?} is not a number")));
    }
    let digits = s.trim_start_matches('0');
    if digits.len() > 19 {
        return Err(Error::header(header, format!("{s} is too large")));
    }
    let n: u64 = if digits.is_empty() {
        0
    } else {
        digits
            .parse()
            .map_err(|_| Error::header(header, format!("{s} is too large")))?
    };
    if n > max {
        return Err(Error::header(header, format!("{n} is larger than {max}")));
    }
    Ok(n)
}

/// CSeq: a sequence number below 2^31 and a method (RFC 3261 §8.1.1.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn new(seq: u32, method: Method) -> CSeq {
        CSeq { seq, method }
    }

    pub fn parse(s: &str) -> Result<CSeq> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let num = c.take_while(|b| b.is_ascii_digit());
        let seq = parse_number(num, (1 << 31) - 1, "CSeq")? as u32;
        let before = c.pos();
        c.skip_ws();
        if c.pos() == before {
            return Err(Error::header(
                "CSeq",
                format!("no space after the number in {s:?}"),
            ));
        }
        let m = c
            .token()
            .ok_or_else(|| Error::header("CSeq", format!("no method in {s:?}")))?;
        c.skip_ws();
        if !c.at_end() {
            return Err(Error::header(
                "CSeq",
                format!("junk after the method in {s:?}"),
            ));
        }
        Ok(CSeq {
            seq,
            method: Method::parse(m)?,
        })
    }
}

impl CSeq {
    /// The header value without the formatting machinery.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(16);
        crate::sip::wire::push_u64(&mut s, u64::from(self.seq));
        s.push(' ');
        s.push_str(self.method.as_str());
        s
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// RAck (RFC 3262 §7.2): the RSeq and CSeq of the provisional response being acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RAck {
    pub rseq: u32,
    pub cseq: u32,
    pub method: Method,
}

impl RAck {
    pub fn parse(s: &str) -> Result<RAck> {
        let mut it = s.split_ascii_whitespace();
        let (Some(r), Some(c), Some(m), None) = (it.next(), it.next(), it.next(), it.next()) else {
            return Err(Error::header(
                "RAck",
                format!("{s:?} is not 'rseq cseq method'"),
            ));
        };
        Ok(RAck {
            rseq: parse_number(r, u64::from(u32::MAX), "RAck")? as u32,
            cseq: parse_number(c, u64::from(u32::MAX), "RAck")? as u32,
            method: Method::parse(m).map_err(|_| Error::header("RAck", "bad method"))?,
        })
    }
}

impl fmt::Display for RAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.rseq, self.cseq, self.method)
    }
}

/// Who refreshes a session (RFC 4028 §4).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Refresher {
    Uac,
    Uas,
}

impl Refresher {
    pub fn as_str(self) -> &'static str {
        match self {
            Refresher::Uac => "uac",
            Refresher::Uas => "uas",
        }
    }
}

/// Session-Expires (RFC 4028 §4): the interval and the optional refresher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionExpires {
    pub delta: u32,
    pub refresher: Option<Refresher>,
}

impl SessionExpires {
    pub fn parse(s: &str) -> Result<SessionExpires> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let n = c.take_while(|b| b.is_ascii_digit());
        let delta = parse_number(n, u64::from(u32::MAX), "Session-Expires")? as u32;
        let params =
            Params::parse_header(&mut c).map_err(|d| Error::header("Session-Expires", d))?;
        c.skip_ws();
        if !c.at_end() {
            return Err(Error::header("Session-Expires", format!("junk in {s:?}")));
        }
        let refresher = match params.value("refresher") {
            None => None,
            Some(r) if r.eq_ignore_ascii_case("uac") => Some(Refresher::Uac),
            Some(r) if r.eq_ignore_ascii_case("uas") => Some(Refresher::Uas),
            Some(r) => {
                return Err(Error::header("Session-Expires", format!("refresher {r:?}")));
            }
        };
        Ok(SessionExpires { delta, refresher })
    }
}

impl fmt::Display for SessionExpires {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.delta)?;
        if let Some(r) = self.refresher {
            write!(f, ";refresher={}", r.as_str())?;
        }
        Ok(())
    }
}

/// Replaces (RFC 3891): the dialog to replace, as seen by the recipient: `to_tag` is its
/// local tag and `from_tag` its remote tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replaces {
    pub call_id: String,
    pub to_tag: String,
    pub from_tag: String,
    pub early_only: bool,
}

impl Replaces {
    pub fn parse(s: &str) -> Result<Replaces> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let call_id = c.take_while(|b| b != b';' && b != b' ' && b != b'\t');
        if call_id.is_empty() {
            return Err(Error::header("Replaces", "no Call-ID"));
        }
        let params = Params::parse_header(&mut c).map_err(|d| Error::header("Replaces", d))?;
        c.skip_ws();
        if !c.at_end() {
            return Err(Error::header("Replaces", format!("junk in {s:?}")));
        }
        let tag = |n: &'static str| {
            params
                .value(n)
                .map(str::to_string)
                .ok_or_else(|| Error::header("Replaces", format!("no {n}")))
        };
        Ok(Replaces {
            call_id: call_id.to_string(),
            to_tag: tag("to-tag")?,
            from_tag: tag("from-tag")?,
            early_only: params.contains("early-only"),
        })
    }
}

impl fmt::Display for Replaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{};to-tag={};from-tag={}",
            self.call_id, self.to_tag, self.from_tag
        )?;
        if self.early_only {
            f.write_str(";early-only")?;
        }
        Ok(())
    }
}

/// One Reason value (RFC 3326): `SIP;cause=200;text="..."` or `Q.850;cause=16`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub protocol: String,
    pub cause: Option<u16>,
    /// The text, unquoted.
    pub text: Option<String>,
}

impl Reason {
    pub fn parse(s: &str) -> Result<Reason> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let protocol = c
            .token()
            .ok_or_else(|| Error::header("Reason", "no protocol"))?
            .to_string();
        let params = Params::parse_header(&mut c).map_err(|d| Error::header("Reason", d))?;
        c.skip_ws();
        if !c.at_end() {
            return Err(Error::header("Reason", format!("junk in {s:?}")));
        }
        let cause = params
            .value("cause")
            .map(|v| parse_number(v, 65535, "Reason").map(|n| n as u16))
            .transpose()?;
        Ok(Reason {
            protocol,
            cause,
            text: params.value("text").map(unquote),
        })
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.protocol)?;
        if let Some(c) = self.cause {
            write!(f, ";cause={c}")?;
        }
        if let Some(t) = &self.text {
            let mut q = String::new();
            quote(t, &mut q);
            write!(f, ";text={q}")?;
        }
        Ok(())
    }
}

/// A media type (`Content-Type`, `Accept` element): `type/subtype;params`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaType {
    pub mtype: String,
    pub subtype: String,
    pub params: Params,
}

impl MediaType {
    pub fn parse(s: &str) -> Result<MediaType> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let bad = || Error::header("Content-Type", format!("{s:?} is not type/subtype"));
        let t = c.token().ok_or_else(bad)?;
        if !c.eat_sep(b'/') {
            return Err(bad());
        }
        let st = c.token().ok_or_else(bad)?;
        let params = Params::parse_header(&mut c).map_err(|d| Error::header("Content-Type", d))?;
        c.skip_ws();
        if !c.at_end() {
            return Err(bad());
        }
        Ok(MediaType {
            mtype: t.to_string(),
            subtype: st.to_string(),
            params,
        })
    }

    /// Case-insensitive comparison with `type/subtype`.
    pub fn is(&self, mtype: &str, subtype: &str) -> bool {
        self.mtype.eq_ignore_ascii_case(mtype) && self.subtype.eq_ignore_ascii_case(subtype)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.mtype, self.subtype, self.params)
    }
}

/// A token with parameters: `Event: refer;id=7`, `Subscription-State: active;expires=60`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenParams {
    pub token: String,
    pub params: Params,
}

impl TokenParams {
    pub fn parse(s: &str, header: &'static str) -> Result<TokenParams> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let token = c
            .token()
            .ok_or_else(|| Error::header(header, format!("no token in {s:?}")))?
            .to_string();
        let params = Params::parse_header(&mut c).map_err(|d| Error::header(header, d))?;
        c.skip_ws();
        if !c.at_end() {
            return Err(Error::header(header, format!("junk in {s:?}")));
        }
        Ok(TokenParams { token, params })
    }
}

impl fmt::Display for TokenParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.token, self.params)
    }
}

/// Parses a comma-separated token list (Require, Supported, Allow...). An empty value is
/// an empty list.
pub(crate) fn parse_tokens<'a>(
    values: impl Iterator<Item = &'a str>,
    header: &'static str,
) -> Result<Vec<&'a str>> {
    let mut out = Vec::new();
    for v in values {
        if v.trim().is_empty() {
            continue;
        }
        for item in split_list(v) {
            if item.is_empty() || !item.bytes().all(is_token) {
                return Err(Error::header(header, format!("{item:?} is not a token")));
            }
            out.push(item);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq_limits() {
        assert_eq!(
            CSeq::parse("0009   INVITE").unwrap(),
            CSeq::new(9, Method::Invite)
        );
        assert_eq!(CSeq::parse("2147483647 BYE").unwrap().seq, (1 << 31) - 1);
        for bad in [
            "2147483648 BYE",
            "36893488147419103232 INVITE",
            "1",
            "x INVITE",
            "1INVITE",
            "1 INVITE x",
            "-1 BYE",
        ] {
            assert!(CSeq::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn extension_headers_round_trip() {
        let r = RAck::parse("776656 1 INVITE").unwrap();
        assert_eq!((r.rseq, r.cseq, &r.method), (776656, 1, &Method::Invite));
        assert_eq!(RAck::parse(&r.to_string()).unwrap(), r);
        let se = SessionExpires::parse("1800 ; refresher = uac").unwrap();
        assert_eq!(
            se,
            SessionExpires {
                delta: 1800,
                refresher: Some(Refresher::Uac)
            }
        );
        assert_eq!(se.to_string(), "1800;refresher=uac");
        assert!(SessionExpires::parse("90;refresher=both").is_err());
        let rp =
            Replaces::parse("98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only")
                .unwrap();
        assert_eq!(rp.call_id, "98732@sip.example.com");
        assert_eq!(
            (rp.to_tag.as_str(), rp.from_tag.as_str()),
            ("ff87ff", "r33th4x0r")
        );
        assert!(rp.early_only);
        assert_eq!(Replaces::parse(&rp.to_string()).unwrap(), rp);
        assert!(Replaces::parse("abc;to-tag=1").is_err());
        let re = Reason::parse(r#"Q.850 ;cause=16 ;text="Terminated""#).unwrap();
        assert_eq!(re.cause, Some(16));
        assert_eq!(re.text.as_deref(), Some("Terminated"));
        assert_eq!(Reason::parse(&re.to_string()).unwrap(), re);
        let mt = MediaType::parse("application/sdp; charset=utf-8").unwrap();
        assert!(mt.is("APPLICATION", "SDP"));
        assert_eq!(MediaType::parse(&mt.to_string()).unwrap(), mt);
    }

    #[test]
    fn token_lists() {
        let v = parse_tokens(["100rel, timer", " replaces", ""].into_iter(), "Supported").unwrap();
        assert_eq!(v, vec!["100rel", "timer", "replaces"]);
        assert!(parse_tokens(["a,,b"].into_iter(), "Require").is_err());
        assert!(parse_tokens(["a b"].into_iter(), "Require").is_err());
    }
}
