//! Character classes of RFC 3261 §25 and a small cursor for header values.
//!
//! Header values reach the typed parsers already unfolded (one line), so linear white
//! space here is only SP and HTAB.

/// `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
pub(crate) fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// `unreserved` = alphanum / mark.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

pub(crate) fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A forward-only cursor over a header value.
pub(crate) struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    pub(crate) fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes optional white space, `b`, optional white space (`SWS b SWS`).
    pub(crate) fn eat_sep(&mut self, b: u8) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.eat(b) {
            self.skip_ws();
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// Consumes the longest run of bytes for which `f` holds.
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let bytes = self.s.as_bytes();
        while self.pos < bytes.len() && f(bytes[self.pos]) {
            self.pos += 1;
        }
        // Only ASCII predicates are used, and they stop on the first byte of any multi-byte
        // UTF-8 sequence, so both ends are char boundaries.
        &self.s[start..self.pos]
    }

    /// A non-empty token, or `None`.
    pub(crate) fn token(&mut self) -> Option<&'a str> {
        let t = self.take_while(is_token);
        (!t.is_empty()).then_some(t)
    }

    /// A quoted string starting at the cursor; returns it with its quotes, as written.
    pub(crate) fn quoted_raw(&mut self) -> Result<&'a str, &'static str> {
        let start = self.pos;
        if !self.eat(b'"') {
            return Err("expected '\"'");
        }
        let bytes = self.s.as_bytes();
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b'\\' => {
                    // quoted-pair: "\" followed by any octet except CR and LF.
                    if self.pos + 1 >= bytes.len() {
                        return Err("unterminated quoted string");
                    }
                    let next = bytes[self.pos + 1];
                    if next == b'\r' || next == b'\n' {
                        return Err("bad quoted pair");
                    }
                    self.pos += 2;
                    // Step over the rest of a multi-byte character after the backslash.
                    while self.pos < bytes.len() && !self.s.is_char_boundary(self.pos) {
                        self.pos += 1;
                    }
                }
                b'"' => {
                    self.pos += 1;
                    return Ok(&self.s[start..self.pos]);
                }
                _ => self.pos += 1,
            }
        }
        Err("unterminated quoted string")
    }
}

/// Removes the quotes and backslash escapes of a quoted string written as `raw`.
pub(crate) fn unquote(raw: &str) -> String {
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `s` as a quoted string, escaping `"` and `\`.
pub(crate) fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Splits a header value at the commas that separate list elements (RFC 3261 §7.3.1),
/// ignoring commas inside quoted strings and `<...>`. Elements are trimmed; empty
/// elements are kept so that callers can reject them.
pub(crate) fn split_list(value: &str) -> ListIter<'_> {
    ListIter { s: value, pos: 0 }
}

pub(crate) struct ListIter<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Iterator for ListIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.pos > self.s.len() {
            return None;
        }
        let bytes = self.s.as_bytes();
        let start = self.pos;
        let mut i = start;
        let mut in_quote = false;
        let mut in_angle = false;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if in_quote => i += 1,
                b'"' if !in_angle => in_quote = !in_quote,
                b'<' if !in_quote => in_angle = true,
                b'>' if !in_quote => in_angle = false,
                b',' if !in_quote && !in_angle => break,
                _ => {}
            }
            i += 1;
        }
        let end = i.min(bytes.len());
        self.pos = end + 1;
        // Bytes at `start` and `end` are ASCII (start of string, or just after/at a comma).
        let item = self
            .s
            .get(start..end)
            .unwrap_or("")
            .trim_matches([' ', '\t']);
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_splitting_respects_quotes_and_angles() {
        let v: Vec<_> = split_list(r#""a, b" <sip:x@y;p=1,2>;q=1 , <sip:z>, ,last"#).collect();
        assert_eq!(
            v,
            vec![r#""a, b" <sip:x@y;p=1,2>;q=1"#, "<sip:z>", "", "last"]
        );
        assert_eq!(split_list("").collect::<Vec<_>>(), vec![""]);
    }

    #[test]
    fn quoted_strings_with_escapes() {
        let mut c = Cursor::new(r#""J Rosenberg \\\"" rest"#);
        let raw = c.quoted_raw().unwrap();
        assert_eq!(raw, r#""J Rosenberg \\\"""#);
        assert_eq!(unquote(raw), r#"J Rosenberg \""#);
        let mut s = String::new();
        quote(&unquote(raw), &mut s);
        assert_eq!(unquote(&s), unquote(raw));
        assert!(Cursor::new("\"open").quoted_raw().is_err());
        assert!(Cursor::new("\"ends in escape\\").quoted_raw().is_err());
    }
}
