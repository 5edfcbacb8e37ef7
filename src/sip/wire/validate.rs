//! RFC 3261 §8.2 / §16.3 checks of received messages, and the response that rejects a
//! request that fails them.

use super::headers::HeaderName;
use super::message::{Request, Response, Version};
use super::method::Method;
use super::typed::{CSeq, NameAddr, Via};
use super::uri::Uri;
use crate::sip::error::Error;

/// What the receiver accepts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Accept RFC 2543 requests without Max-Forwards (RFC 4475 §3.4.1 `inv2543`).
    pub rfc2543_compat: bool,
    /// Accept `tel:` Request-URIs (a gateway does; a plain UA answers 416).
    pub accept_tel: bool,
}

/// Why a request is refused: the status, the reason phrase (which names the problem),
/// and any header the response must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub status: u16,
    pub reason: String,
    pub extra: Vec<(HeaderName, String)>,
}

impl Reject {
    pub fn new(status: u16, reason: impl Into<String>) -> Reject {
        Reject {
            status,
            reason: reason.into(),
            extra: Vec::new(),
        }
    }

    fn bad(e: &Error) -> Reject {
        let detail = match e {
            Error::MissingHeader(h) => format!("Missing {h} header"),
            Error::DuplicateHeader(h) => format!("Multiple {h} headers"),
            Error::Header { header, .. } => format!("Malformed {header} header"),
            other => other.to_string(),
        };
        Reject::new(400, format!("Bad Request - {detail}"))
    }
}

/// The parsed headers every request and response must carry, parsed once on receipt and
/// handed to the transaction and dialog layers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Essentials {
    pub via: Via,
    pub from: NameAddr,
    pub to: NameAddr,
    pub call_id: String,
    pub cseq: CSeq,
    /// Absent only in RFC 2543 requests accepted under [`Policy::rfc2543_compat`].
    pub max_forwards: Option<u8>,
}

impl Essentials {
    pub fn from_tag(&self) -> Option<&str> {
        self.from.tag()
    }

    pub fn to_tag(&self) -> Option<&str> {
        self.to.tag()
    }
}

fn single(headers: &super::headers::Headers, name: HeaderName) -> Result<(), Reject> {
    match headers.count(name) {
        0 => Err(Reject::bad(&Error::MissingHeader(name.as_str()))),
        1 => {
            // One line holding a comma list is still several values.
            if headers.list(name).nth(1).is_some() {
                Err(Reject::bad(&Error::DuplicateHeader(name.as_str())))
            } else {
                Ok(())
            }
        }
        _ => Err(Reject::bad(&Error::DuplicateHeader(name.as_str()))),
    }
}

fn single_value(headers: &super::headers::Headers, name: HeaderName) -> Result<(), Reject> {
    match headers.count(name) {
        0 => Err(Reject::bad(&Error::MissingHeader(name.as_str()))),
        1 => Ok(()),
        _ => Err(Reject::bad(&Error::DuplicateHeader(name.as_str()))),
    }
}

/// Checks a received request (RFC 3261 §8.2.1–8.2.2 syntax, RFC 4475). On success returns
/// the parsed essentials; on failure, the response to send.
pub fn check_request(req: &Request, policy: &Policy) -> Result<Essentials, Reject> {
    if req.version != Version::SIP_2_0 {
        return Err(Reject::new(505, "Version Not Supported"));
    }
    let h = &req.headers;
    if !h.contains(HeaderName::Via) {
        return Err(Reject::bad(&Error::MissingHeader("Via")));
    }
    // From and To hold one address each; a comma can sit inside a quoted display name,
    // so only the number of lines is checked here and the parser checks the rest.
    single_value(h, HeaderName::From)?;
    single_value(h, HeaderName::To)?;
    single(h, HeaderName::CallId)?;
    single(h, HeaderName::CSeq)?;
    let max_forwards = match h.count(HeaderName::MaxForwards) {
        0 if policy.rfc2543_compat => None,
        _ => {
            single(h, HeaderName::MaxForwards)?;
            Some(h.max_forwards().map_err(|e| Reject::bad(&e))?.unwrap_or(70))
        }
    };
    let via = h.via_top().map_err(|e| Reject::bad(&e))?;
    for v in h.list(HeaderName::Via).skip(1) {
        Via::parse(v).map_err(|e| Reject::bad(&e))?;
    }
    let from = h.from_addr().map_err(|e| Reject::bad(&e))?;
    let to = h.to_addr().map_err(|e| Reject::bad(&e))?;
    let call_id = h.call_id().map_err(|e| Reject::bad(&e))?.to_string();
    let cseq = h.cseq().map_err(|e| Reject::bad(&e))?;
    if via.branch() == Some(super::typed::MAGIC_COOKIE) {
        // RFC 4475 §3.2.1: the cookie without an identifier.
        return Err(Reject::new(
            400,
            "Bad Request - Via branch has no transaction identifier",
        ));
    }
    if cseq.method != req.method {
        if !is_known_method(&req.method) {
            // RFC 4475 §3.1.2.18 prefers 501 for an unknown method.
            return Err(Reject::new(501, "Not Implemented"));
        }
        return Err(Reject::new(
            400,
            "Bad Request - CSeq method does not match the request method",
        ));
    }
    if h.count(HeaderName::Expires) > 1 {
        return Err(Reject::bad(&Error::DuplicateHeader("Expires")));
    }
    if let Some(e) = h.get(HeaderName::Expires) {
        super::typed::parse_number(e, u64::from(u32::MAX), "Expires")
            .map_err(|e| Reject::bad(&e))?;
    }
    for c in h.list(HeaderName::Contact) {
        if c != "*" {
            let a = NameAddr::parse(c).map_err(|d| Reject::bad(&Error::header("Contact", d)))?;
            if let Some(e) = a.params.value("expires") {
                super::typed::parse_number(e, u64::from(u32::MAX), "Contact")
                    .map_err(|e| Reject::bad(&e))?;
            }
        }
    }
    if let Some(d) = h.get(HeaderName::Date) {
        if !is_rfc1123_gmt(d) {
            return Err(Reject::new(400, "Bad Request - Malformed Date header"));
        }
    }
    match &req.uri {
        Uri::Sip(_) => {}
        Uri::Tel(_) if policy.accept_tel => {}
        _ => return Err(Reject::new(416, "Unsupported URI Scheme")),
    }
    if let Uri::Sip(u) = &req.uri {
        if !u.headers.is_empty() {
            // RFC 3261 §19.1.5: headers are not allowed in a Request-URI.
            return Err(Reject::new(400, "Bad Request - Headers in Request-URI"));
        }
    }
    Ok(Essentials {
        via,
        from,
        to,
        call_id,
        cseq,
        max_forwards,
    })
}

/// Checks a received response; a response that fails is dropped (RFC 3261 §18.1.2).
pub fn check_response(resp: &Response) -> Result<Essentials, Error> {
    if resp.version != Version::SIP_2_0 {
        return Err(Error::header("Status-Line", "version is not SIP/2.0"));
    }
    let h = &resp.headers;
    let via = h.via_top()?;
    let from = h.from_addr()?;
    let to = h.to_addr()?;
    let call_id = h.call_id()?.to_string();
    let cseq = h.cseq()?;
    if let Some(r) = h.get(HeaderName::RetryAfter) {
        let n = r.split([';', '(', ' ']).next().unwrap_or("");
        super::typed::parse_number(n, u64::from(u32::MAX), "Retry-After")?;
    }
    Ok(Essentials {
        via,
        from,
        to,
        call_id,
        cseq,
        max_forwards: None,
    })
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 3261 §20.17 allows only GMT).
fn is_rfc1123_gmt(s: &str) -> bool {
    let p: Vec<&str> = s.split_ascii_whitespace().collect();
    p.len() == 6
        && p[0].len() == 4
        && p[0].ends_with(',')
        && p[1].len() <= 2
        && p[1].bytes().all(|b| b.is_ascii_digit())
        && p[2].len() == 3
        && p[3].len() == 4
        && p[3].bytes().all(|b| b.is_ascii_digit())
        && p[4].len() == 8
        && p[5] == "GMT"
}

/// Builds the response to `req` with `status` (RFC 3261 §8.2.6): Via, From, To (with
/// `to_tag` added if it has none and the status is not 100), Call-ID and CSeq are copied.
pub fn make_response(req: &Request, status: u16, reason: &str, to_tag: Option<&str>) -> Response {
    make_response_from(&req.headers, status, reason, to_tag)
}

/// [`make_response`] from the headers alone (used for salvaged malformed requests).
pub fn make_response_from(
    headers: &super::headers::Headers,
    status: u16,
    reason: &str,
    to_tag: Option<&str>,
) -> Response {
    let mut r = Response::with_reason(status, reason);
    for v in headers.get_all(HeaderName::Via) {
        r.headers.push(HeaderName::Via, v);
    }
    if let Some(v) = headers.get(HeaderName::From) {
        r.headers.push(HeaderName::From, v);
    }
    if let Some(v) = headers.get(HeaderName::To) {
        let has_tag = has_tag_param(v);
        match to_tag {
            Some(t) if !has_tag && status != 100 => {
                r.headers.push(HeaderName::To, format!("{v};tag={t}"));
            }
            _ => r.headers.push(HeaderName::To, v),
        }
    }
    if let Some(v) = headers.get(HeaderName::CallId) {
        r.headers.push(HeaderName::CallId, v);
    }
    if let Some(v) = headers.get(HeaderName::CSeq) {
        r.headers.push(HeaderName::CSeq, v);
    }
    r
}

/// True when a From/To value carries a `tag` parameter. A scan rather than a parse: the
/// header parameters start after the `>` closing the first `<` outside quotes, or at the
/// first `;` of a bare addr-spec.
pub(crate) fn has_tag_param(v: &str) -> bool {
    let b = v.as_bytes();
    let (mut i, mut in_quote, mut open) = (0, false, false);
    while i < b.len() {
        match b[i] {
            b'\\' if in_quote => i += 1,
            b'"' => in_quote = !in_quote,
            b'<' if !in_quote => open = true,
            b'>' if !in_quote && open => break,
            _ => {}
        }
        i += 1;
    }
    let params = if open {
        v.get(i + 1..).unwrap_or("")
    } else {
        v.find(';').map(|j| &v[j..]).unwrap_or("")
    };
    params.split(';').skip(1).any(|p| {
        let (name, _) = p.split_once('=').unwrap_or((p, ""));
        name.trim().eq_ignore_ascii_case("tag")
    })
}

/// True for the methods RFC 3261 and the extensions this stack implements.
pub fn is_known_method(m: &Method) -> bool {
    !matches!(m, Method::Extension(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(extra: &str) -> Request {
        let s = format!(
            "OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n{extra}\r\n"
        );
        Request::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn accepts_a_good_request() {
        let e = check_request(&req(""), &Policy::default()).unwrap();
        assert_eq!(e.call_id, "c1");
        assert_eq!(e.from_tag(), Some("1"));
        assert_eq!(e.max_forwards, Some(70));
    }

    #[test]
    fn each_mandatory_header_is_named() {
        for (name, hdr) in [
            ("Via", HeaderName::Via),
            ("From", HeaderName::From),
            ("To", HeaderName::To),
            ("Call-ID", HeaderName::CallId),
            ("CSeq", HeaderName::CSeq),
            ("Max-Forwards", HeaderName::MaxForwards),
        ] {
            let mut r = req("");
            r.headers.remove(hdr);
            let rej = check_request(&r, &Policy::default()).unwrap_err();
            assert_eq!(rej.status, 400);
            assert_eq!(rej.reason, format!("Bad Request - Missing {name} header"));
        }
        let mut r = req("");
        r.headers.remove(HeaderName::MaxForwards);
        let p = Policy {
            rfc2543_compat: true,
            ..Policy::default()
        };
        assert_eq!(check_request(&r, &p).unwrap().max_forwards, None);
    }

    #[test]
    fn scheme_version_and_mismatch() {
        let mut r = req("");
        r.uri = Uri::parse("nobodyKnowsThisScheme:totallyopaquecontent").unwrap();
        assert_eq!(
            check_request(&r, &Policy::default()).unwrap_err().status,
            416
        );
        let mut r = req("");
        r.version = Version { major: 7, minor: 0 };
        assert_eq!(
            check_request(&r, &Policy::default()).unwrap_err().status,
            505
        );
        let mut r = req("");
        r.headers.set(HeaderName::CSeq, "1 INVITE");
        let rej = check_request(&r, &Policy::default()).unwrap_err();
        assert_eq!(rej.status, 400);
        assert!(rej.reason.contains("CSeq"));
        let r = req("Max-Forwards: 300\r\n");
        assert_eq!(
            check_request(&r, &Policy::default()).unwrap_err().status,
            400
        );
    }

    #[test]
    fn tag_detection_without_parsing() {
        for (v, want) in [
            ("<sip:a@b>;tag=1", true),
            ("<sip:a@b;tag=1>", false),
            ("\"x>;tag=\" <sip:a@b>", false),
            ("\"x\" <sip:a@b> ; TAG = 5", true),
            ("sip:a@b;tag=9", true),
            ("sip:a@b", false),
            ("<sip:a@b>;tagx=1", false),
        ] {
            assert_eq!(has_tag_param(v), want, "{v}");
        }
    }

    #[test]
    fn responses_copy_the_right_headers_and_add_a_tag() {
        let r = req("Subject: x\r\n");
        let resp = make_response(&r, 200, "OK", Some("t9"));
        assert_eq!(resp.headers.to_addr().unwrap().tag(), Some("t9"));
        assert_eq!(resp.headers.len(), 5);
        let resp = make_response(&r, 100, "Trying", Some("t9"));
        assert_eq!(resp.headers.to_addr().unwrap().tag(), None);
    }
}
