//! Framing SIP messages on a stream transport (TCP/TLS) by Content-Length.

use super::headers::HeaderName;
use super::message::Message;
use super::parse::{MAX_BODY, parse};
use crate::sip::error::{Error, Result};

/// Cuts a byte stream into SIP messages (RFC 3261 §18.3): the header block ends at the
/// first empty line and Content-Length, which is mandatory on streams, gives the body.
/// CRLF keep-alives between messages (RFC 5626 §3.5.1) are skipped.
#[derive(Debug)]
pub struct StreamFramer {
    buf: Vec<u8>,
    max_message: usize,
    /// Where to resume looking for the end of the header block.
    scanned: usize,
}

impl Default for StreamFramer {
    fn default() -> Self {
        StreamFramer::new(64 * 1024)
    }
}

impl StreamFramer {
    /// A framer refusing messages longer than `max_message` bytes.
    pub fn new(max_message: usize) -> StreamFramer {
        StreamFramer {
            buf: Vec::new(),
            max_message,
            scanned: 0,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered and not yet returned as messages.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete message, `None` when more bytes are needed. After an error the
    /// offending bytes are dropped; a driver usually closes the connection.
    pub fn next_message(&mut self) -> Option<Result<Message>> {
        let skip = self
            .buf
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .unwrap_or(self.buf.len());
        if skip > 0 {
            self.buf.drain(..skip);
            self.scanned = 0;
        }
        if self.buf.is_empty() {
            return None;
        }
        let from = self.scanned.saturating_sub(3);
        let Some(head_end) = find_head_end(&self.buf, from) else {
            self.scanned = self.buf.len();
            if self.buf.len() > self.max_message {
                self.buf.clear();
                self.scanned = 0;
                return Some(Err(Error::TooLarge(self.max_message)));
            }
            return None;
        };
        let cl = match content_length(&self.buf[..head_end]) {
            Ok(Some(n)) => n,
            Ok(None) => {
                self.buf.drain(..head_end);
                self.scanned = 0;
                return Some(Err(Error::MissingHeader("Content-Length")));
            }
            Err(e) => {
                self.buf.drain(..head_end);
                self.scanned = 0;
                return Some(Err(e));
            }
        };
        let total = head_end + cl;
        if total > self.max_message {
            self.buf.clear();
            self.scanned = 0;
            return Some(Err(Error::TooLarge(self.max_message)));
        }
        if self.buf.len() < total {
            return None;
        }
        let result = parse(&self.buf[..total]).map(|(m, _)| m);
        self.buf.drain(..total);
        self.scanned = 0;
        Some(result)
    }
}

/// Position just after the empty line ending the header block.
fn find_head_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < b.len() {
        if b[i] == b'\n' {
            if b.get(i + 1) == Some(&b'\n') {
                return Some(i + 2);
            }
            if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
                return Some(i + 3);
            }
        }
        i += 1;
    }
    None
}

/// Reads Content-Length (or `l`) from a header block without parsing the rest.
fn content_length(head: &[u8]) -> Result<Option<usize>> {
    let mut found = None;
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            continue;
        }
        let name = String::from_utf8_lossy(&line[..colon]);
        if HeaderName::from_wire(name.trim()) != Some(HeaderName::ContentLength) {
            continue;
        }
        let v = String::from_utf8_lossy(&line[colon + 1..]);
        let v = v.trim();
        let n: usize = v
            .parse()
            .ok()
            .filter(|n| *n <= MAX_BODY)
            .ok_or_else(|| Error::syntax("Content-Length", 0, format!("{v:?}")))?;
        if found.replace(n).is_some() {
            return Err(Error::DuplicateHeader("Content-Length"));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> String {
        format!(
            "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl: {}\r\n\r\n{}",
            body.len(),
            body
        )
    }

    #[test]
    fn frames_messages_split_anywhere() {
        let stream = format!(
            "\r\n\r\n{}{}\r\n{}",
            msg("hello"),
            msg(""),
            msg("x\r\n\r\ny")
        );
        let bytes = stream.as_bytes();
        for chunk in [1, 2, 7, 64, bytes.len()] {
            let mut f = StreamFramer::default();
            let mut bodies = Vec::new();
            for part in bytes.chunks(chunk) {
                f.push(part);
                while let Some(m) = f.next_message() {
                    bodies.push(m.unwrap().body().clone());
                }
            }
            assert_eq!(bodies, vec!["hello", "", "x\r\n\r\ny"], "chunk {chunk}");
            assert_eq!(f.buffered(), 0);
        }
    }

    #[test]
    fn stream_errors() {
        let mut f = StreamFramer::default();
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n");
        assert_eq!(
            f.next_message().unwrap().unwrap_err(),
            Error::MissingHeader("Content-Length")
        );
        let mut f = StreamFramer::new(100);
        f.push(&[b'A'; 200]);
        assert_eq!(f.next_message().unwrap().unwrap_err(), Error::TooLarge(100));
        assert!(f.next_message().is_none());
    }
}
