//! SIP requests and responses: the start line, the header list and the body.

use super::headers::{HeaderName, Headers};
use super::method::Method;
use super::uri::Uri;
use crate::sip::error::Result;
use bytes::Bytes;
use std::fmt;

/// A SIP protocol version (`SIP/2.0`). Other versions parse, so that the UA can answer
/// them with 505 instead of dropping them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    pub major: u16,
    pub minor: u16,
}

impl Version {
    pub const SIP_2_0: Version = Version { major: 2, minor: 0 };
}

impl Default for Version {
    fn default() -> Self {
        Version::SIP_2_0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/{}.{}", self.major, self.minor)
    }
}

/// A SIP request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    /// Every header except Content-Length, which is derived from `body` when emitting.
    pub headers: Headers,
    pub body: Bytes,
}

/// A SIP response. The reason phrase is kept exactly as received (rsip rewrites it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub version: Version,
    pub status: u16,
    pub reason: String,
    /// Every header except Content-Length, which is derived from `body` when emitting.
    pub headers: Headers,
    pub body: Bytes,
}

/// A parsed SIP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: Uri) -> Request {
        Request {
            method,
            uri,
            version: Version::SIP_2_0,
            headers: Headers::with_capacity(12),
            body: Bytes::new(),
        }
    }

    /// Parses one request from a datagram (see [`Message::parse`]).
    pub fn parse(buf: &[u8]) -> Result<Request> {
        match Message::parse(buf)? {
            Message::Request(r) => Ok(r),
            Message::Response(_) => Err(crate::sip::Error::syntax(
                "Request-Line",
                0,
                "expected a request, got a response",
            )),
        }
    }

    /// The serialised request.
    pub fn to_bytes(&self) -> Bytes {
        let mut s = String::with_capacity(head_size(&self.headers, &self.body) + 96);
        s.push_str(self.method.as_str());
        s.push(' ');
        self.uri.write(&mut s);
        s.push(' ');
        push_version(&mut s, self.version);
        s.push_str("\r\n");
        finish(s, &self.headers, &self.body)
    }

    /// Sets the body and its Content-Type (or clears both when `body` is empty).
    pub fn set_body(&mut self, content_type: &str, body: Bytes) {
        set_body(&mut self.headers, content_type, &mut self.body, body);
    }

    /// The Content-Length: the body as framed on receipt, as written on emission.
    pub fn content_length(&self) -> usize {
        self.body.len()
    }
}

impl Response {
    /// A response with the standard reason phrase of `status`.
    pub fn new(status: u16) -> Response {
        Response::with_reason(status, reason_phrase(status))
    }

    pub fn with_reason(status: u16, reason: &str) -> Response {
        Response {
            version: Version::SIP_2_0,
            status,
            reason: reason.to_string(),
            headers: Headers::with_capacity(10),
            body: Bytes::new(),
        }
    }

    /// Parses one response from a datagram (see [`Message::parse`]).
    pub fn parse(buf: &[u8]) -> Result<Response> {
        match Message::parse(buf)? {
            Message::Response(r) => Ok(r),
            Message::Request(_) => Err(crate::sip::Error::syntax(
                "Status-Line",
                0,
                "expected a response, got a request",
            )),
        }
    }

    /// The serialised response.
    pub fn to_bytes(&self) -> Bytes {
        let mut s =
            String::with_capacity(head_size(&self.headers, &self.body) + 16 + self.reason.len());
        push_version(&mut s, self.version);
        s.push(' ');
        push_u64(&mut s, u64::from(self.status));
        s.push(' ');
        s.push_str(&self.reason);
        s.push_str("\r\n");
        finish(s, &self.headers, &self.body)
    }

    /// 1xx.
    pub fn is_provisional(&self) -> bool {
        self.status < 200
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn set_body(&mut self, content_type: &str, body: Bytes) {
        set_body(&mut self.headers, content_type, &mut self.body, body);
    }

    /// The Content-Length: the body as framed on receipt, as written on emission.
    pub fn content_length(&self) -> usize {
        self.body.len()
    }
}

impl Message {
    /// Parses one message from the start of `buf` (a datagram). Bytes after the body
    /// announced by Content-Length are ignored, as RFC 3261 §18.3 requires for datagrams;
    /// use [`super::StreamFramer`] for stream transports.
    pub fn parse(buf: &[u8]) -> Result<Message> {
        super::parse::parse(buf).map(|(m, _)| m)
    }

    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            Message::Request(r) => &mut r.headers,
            Message::Response(r) => &mut r.headers,
        }
    }

    pub fn body(&self) -> &Bytes {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }

    pub fn to_bytes(&self) -> Bytes {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

fn set_body(headers: &mut Headers, content_type: &str, slot: &mut Bytes, body: Bytes) {
    if body.is_empty() {
        headers.remove(HeaderName::ContentType);
    } else {
        headers.set(HeaderName::ContentType, content_type);
    }
    *slot = body;
}

fn push_version(s: &mut String, v: Version) {
    if v == Version::SIP_2_0 {
        s.push_str("SIP/2.0");
    } else {
        s.push_str("SIP/");
        push_u64(s, u64::from(v.major));
        s.push('.');
        push_u64(s, u64::from(v.minor));
    }
}

/// Appends a decimal number without going through `fmt`.
pub(crate) fn push_u64(s: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        s.push(b as char);
    }
}

/// Bytes needed for the headers, Content-Length, the blank line and the body.
fn head_size(headers: &Headers, body: &Bytes) -> usize {
    headers
        .iter()
        .map(|(n, v)| n.len() + v.len() + 4)
        .sum::<usize>()
        + 32
        + body.len()
}

fn finish(mut s: String, headers: &Headers, body: &Bytes) -> Bytes {
    for (name, value) in headers.iter() {
        s.push_str(name);
        s.push_str(": ");
        s.push_str(value);
        s.push_str("\r\n");
    }
    s.push_str("Content-Length: ");
    push_u64(&mut s, body.len() as u64);
    s.push_str("\r\n\r\n");
    let mut v = s.into_bytes();
    v.extend_from_slice(body);
    Bytes::from(v)
}

/// The reason phrase RFC 3261 and its extensions give for a status code.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        199 => "Early Dialog Terminated",
        200 => "OK",
        202 => "Accepted",
        204 => "No Notification",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        493 => "Undecipherable",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        580 => "Precondition Failure",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => match status / 100 {
            1 => "Session Progress",
            2 => "OK",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}
