//! `name-addr / addr-spec` values: From, To, Contact, Route, Record-Route, Refer-To,
//! Referred-By, P-Asserted-Identity, History-Info and Diversion (RFC 3261 §20.10).

use crate::sip::wire::params::Params;
use crate::sip::wire::scan::{Cursor, quote, unquote};
use crate::sip::wire::uri::Uri;
use std::fmt;

/// An address with an optional display name and header parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, unquoted and unescaped.
    pub display: Option<String>,
    pub uri: Uri,
    /// Header parameters after the address (`tag`, `expires`, `q`, `index`...).
    pub params: Params,
}

impl NameAddr {
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr {
            display: None,
            uri,
            params: Params::new(),
        }
    }

    pub fn with_display(mut self, display: &str) -> NameAddr {
        self.display = Some(display.to_string());
        self
    }

    /// The `tag` parameter (From/To).
    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }

    pub fn with_tag(mut self, tag: &str) -> NameAddr {
        self.params.set("tag", Some(tag));
        self
    }

    /// Parses one value (not a comma list). Errors are short descriptions.
    pub fn parse(s: &str) -> Result<NameAddr, &'static str> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let display = match c.peek() {
            Some(b'"') => {
                let raw = c.quoted_raw()?;
                c.skip_ws();
                if !c.eat(b'<') {
                    return Err("expected '<' after the display name");
                }
                Some(unquote(raw))
            }
            Some(b'<') => {
                c.eat(b'<');
                None
            }
            _ => {
                // Either `token *(LWS token) <...>` or a bare addr-spec.
                let mut c2 = Cursor::new(c.rest());
                let mut words: Vec<&str> = Vec::new();
                while let Some(t) = c2.token() {
                    words.push(t);
                    c2.skip_ws();
                }
                if !words.is_empty() && c2.peek() == Some(b'<') {
                    c = c2;
                    c.eat(b'<');
                    Some(words.join(" "))
                } else {
                    return Self::parse_addr_spec(c);
                }
            }
        };
        let inner = c.take_while(|b| b != b'>');
        if !c.eat(b'>') {
            return Err("unclosed '<'");
        }
        let uri = Uri::parse(inner).map_err(|_| "bad URI in name-addr")?;
        let params = Params::parse_header(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err("unexpected characters after the address");
        }
        Ok(NameAddr {
            display,
            uri,
            params,
        })
    }

    /// A bare addr-spec: every `;param` belongs to the header, and the URI may not hold
    /// `?`, `,` or `;` (RFC 3261 §20.10).
    fn parse_addr_spec(mut c: Cursor<'_>) -> Result<NameAddr, &'static str> {
        let text = c.take_while(|b| b != b';' && b != b' ' && b != b'\t' && b != b',');
        if text.contains('?') {
            return Err("an addr-spec with '?' must be enclosed in <>");
        }
        let uri = Uri::parse(text).map_err(|_| "bad URI in addr-spec")?;
        let params = Params::parse_header(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err("unexpected characters after the address");
        }
        Ok(NameAddr {
            display: None,
            uri,
            params,
        })
    }
}

impl NameAddr {
    /// The header value, as [`fmt::Display`] writes it, without the formatting machinery.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(64);
        if let Some(d) = &self.display {
            quote(d, &mut s);
            s.push(' ');
        }
        s.push('<');
        self.uri.write(&mut s);
        s.push('>');
        self.params.write_uri(&mut s);
        s
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_forms() {
        let a = NameAddr::parse(
            r#""J Rosenberg \\\""       <sip:jdrosen@example.com>   ;   tag = 98asjd8"#,
        )
        .unwrap();
        assert_eq!(a.display.as_deref(), Some(r#"J Rosenberg \""#));
        assert_eq!(a.tag(), Some("98asjd8"));
        let a =
            NameAddr::parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert_eq!(a.display, None);
        assert_eq!(a.tag(), Some("1918181833n"));
        let a = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(a.display.as_deref(), Some("caller"));
        let a =
            NameAddr::parse("token1~` token2'+_   token3*%!.- <sip:mundane@example.com>").unwrap();
        assert_eq!(a.display.as_deref(), Some("token1~` token2'+_ token3*%!.-"));
        let a = NameAddr::parse("<sip:carol@example.com?Replaces=abc%3Bto-tag%3D1>").unwrap();
        assert_eq!(
            a.uri.as_sip().unwrap().header("replaces").as_deref(),
            Some("abc;to-tag=1")
        );
        assert!(NameAddr::parse("isbn:2983792873").is_ok());
        assert!(NameAddr::parse("<http://www.example.com>").is_ok());
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            r#""Mr. J. User <sip:j.user@example.com>"#,
            "< sip:t.watson@example.org >",
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "<sip:a@b",
            "<sip:a@b> junk",
            "\"Joe\" <sip:joe@example.org>;;;;",
            "",
        ] {
            assert!(NameAddr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        let a =
            NameAddr::parse(r#""A \"B\"" <sips:a@b.example.com:5061;transport=tls>;tag=x;q=0.5"#)
                .unwrap();
        assert_eq!(NameAddr::parse(&a.to_string()).unwrap(), a);
    }
}
