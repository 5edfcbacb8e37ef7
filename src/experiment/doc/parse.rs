//! A RON parser that builds [`Node`] trees and keeps every struct and variant name.
//!
//! It accepts what `ron` 0.12 accepts in configuration files: comments (`//`, nested
//! `/* */`), `#![enable(...)]` extensions, named and unnamed structs and tuples, unit
//! variants, lists, maps, strings (escaped and raw), byte strings, characters, booleans,
//! integers (decimal, `0x`, `0o`, `0b`, `_` separators, type suffixes) and floats (`inf`,
//! `NaN`). Nothing panics on input: every problem is a [`ParseError`] at a byte offset.

use super::{Document, Node, Number};
use crate::config::{ConfigError, line_col};
use std::path::Path;

/// Deepest nesting accepted (ron's own default limit is 128).
const MAX_DEPTH: usize = 256;

/// A syntax error at a byte offset of the parsed text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl ParseError {
    /// Locates the error in `file_text`, where the parsed text started at byte `base`.
    pub fn locate(&self, path: &Path, file_text: &str, base: usize) -> ConfigError {
        let (line, column) = line_col(file_text, base + self.offset);
        ConfigError::at(path, line, column, self.message.clone())
    }
}

/// Parses a whole file: extensions, one value, nothing after it but comments.
pub fn parse_document(text: &str) -> Result<Document, ParseError> {
    let mut p = Parser::new(text);
    p.skip_ws()?;
    let extensions = p.extensions()?;
    let root = p.value()?;
    p.skip_ws()?;
    p.expect_end()?;
    Ok(Document { extensions, root })
}

/// Parses one value (with surrounding whitespace and comments).
pub fn parse_node(text: &str) -> Result<Node, ParseError> {
    let mut p = Parser::new(text);
    p.skip_ws()?;
    let node = p.value()?;
    p.skip_ws()?;
    p.expect_end()?;
    Ok(node)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn is_raw_ident_char(c: char) -> bool {
    is_ident_continue(c) || matches!(c, '-' | '.' | '+')
}

const INT_SUFFIXES: [&str; 12] = [
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
];

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            pos: 0,
            depth: 0,
        }
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(self.err_at(self.pos, message))
    }

    fn err_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            offset,
            message: message.into(),
        }
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            Ok(())
        } else {
            self.err(format!("expected `{c}` {what}, found {}", self.found()))
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the file".into(),
            Some(c) => format!("`{c}`"),
        }
    }

    fn expect_end(&self) -> Result<(), ParseError> {
        if self.pos < self.src.len() {
            self.err(format!(
                "unexpected {} after the value (only comments may follow)",
                self.found()
            ))
        } else {
            Ok(())
        }
    }

    fn skip_ws(&mut self) -> Result<(), ParseError> {
        loop {
            let before = self.pos;
            while self.peek().is_some_and(char::is_whitespace) {
                self.bump();
            }
            if self.eat("//") {
                match self.rest().find('\n') {
                    Some(i) => self.pos += i + 1,
                    None => self.pos = self.src.len(),
                }
            } else if self.rest().starts_with("/*") {
                let start = self.pos;
                self.pos += 2;
                let mut level = 1;
                while level > 0 {
                    if self.eat("/*") {
                        level += 1;
                    } else if self.eat("*/") {
                        level -= 1;
                    } else if self.bump().is_none() {
                        return Err(self.err_at(start, "unterminated block comment"));
                    }
                }
            }
            if self.pos == before {
                return Ok(());
            }
        }
    }

    fn extensions(&mut self) -> Result<Vec<String>, ParseError> {
        let mut out = Vec::new();
        while self.eat("#![") {
            self.skip_ws()?;
            let start = self.pos;
            let word = self.identifier()?;
            if word != "enable" {
                return Err(self.err_at(start, format!("unknown attribute `{word}`")));
            }
            self.skip_ws()?;
            self.expect('(', "after `enable`")?;
            loop {
                self.skip_ws()?;
                if self.peek() == Some(')') {
                    break;
                }
                out.push(self.identifier()?);
                self.skip_ws()?;
                if self.peek() == Some(',') {
                    self.bump();
                } else {
                    break;
                }
            }
            self.expect(')', "closing the extension list")?;
            self.skip_ws()?;
            self.expect(']', "closing the attribute")?;
            self.skip_ws()?;
        }
        Ok(out)
    }

    /// A plain or raw (`r#name`) identifier.
    fn identifier(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        if self.rest().starts_with("r#") && self.peek_at(2).is_some_and(is_raw_ident_char) {
            self.pos += 2;
            let len: usize = self
                .rest()
                .chars()
                .take_while(|&c| is_raw_ident_char(c))
                .map(char::len_utf8)
                .sum();
            self.pos += len;
            return Ok(self.src[start + 2..self.pos].to_string());
        }
        match self.peek() {
            Some(c) if is_ident_start(c) => {
                let len: usize = self
                    .rest()
                    .chars()
                    .take_while(|&c| is_ident_continue(c))
                    .map(char::len_utf8)
                    .sum();
                self.pos += len;
                Ok(self.src[start..self.pos].to_string())
            }
            _ => self.err(format!("expected an identifier, found {}", self.found())),
        }
    }

    fn value(&mut self) -> Result<Node, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(format!("values nested deeper than {MAX_DEPTH} levels"));
        }
        let node = self.value_inner();
        self.depth -= 1;
        node
    }

    fn value_inner(&mut self) -> Result<Node, ParseError> {
        let rest = self.rest();
        match self.peek() {
            None => self.err("expected a value, found the end of the file"),
            Some('(') => self.parenthesised(None),
            Some('[') => self.list(),
            Some('{') => self.map(),
            Some('"') => self.string().map(Node::String),
            Some('\'') => self.char_literal().map(Node::Char),
            Some(c) if c.is_ascii_digit() || matches!(c, '+' | '-' | '.') => self.number(),
            Some('b') if rest.starts_with("b\"") => {
                self.pos += 1;
                self.escaped_bytes().map(Node::Bytes)
            }
            Some('b') if rest.starts_with("br\"") || rest.starts_with("br#") => {
                self.pos += 1;
                self.raw_string().map(|s| Node::Bytes(s.into_bytes()))
            }
            Some('b') if rest.starts_with("b'") => {
                self.pos += 1;
                let start = self.pos;
                let c = self.char_literal()?;
                if c.is_ascii() {
                    Ok(Node::Number(Number::Int(c as i128)))
                } else {
                    Err(self.err_at(start, "a byte literal must be ASCII"))
                }
            }
            Some('r')
                if rest.starts_with("r\"")
                    || rest.starts_with("r#\"")
                    || rest.starts_with("r##") =>
            {
                self.raw_string().map(Node::String)
            }
            Some(c) if is_ident_start(c) => {
                let name = self.identifier()?;
                match name.as_str() {
                    "true" => return Ok(Node::Bool(true)),
                    "false" => return Ok(Node::Bool(false)),
                    "inf" => return Ok(Node::Number(Number::Float(f64::INFINITY))),
                    "NaN" => return Ok(Node::Number(Number::Float(f64::NAN))),
                    _ => {}
                }
                let save = self.pos;
                self.skip_ws()?;
                if self.peek() == Some('(') {
                    self.parenthesised(Some(name))
                } else {
                    self.pos = save;
                    Ok(Node::Ident(name))
                }
            }
            Some(_) => self.err(format!("expected a value, found {}", self.found())),
        }
    }

    /// `(...)` after an optional name: unit, tuple or struct, decided by whether the first
    /// item is `identifier:`.
    fn parenthesised(&mut self, name: Option<String>) -> Result<Node, ParseError> {
        self.expect('(', "")?;
        self.skip_ws()?;
        if self.peek() == Some(')') {
            self.bump();
            return Ok(match name {
                None => Node::Unit,
                Some(n) => Node::Tuple {
                    name: Some(n),
                    items: Vec::new(),
                },
            });
        }
        let save = self.pos;
        let is_struct = self.identifier().is_ok() && {
            self.skip_ws()?;
            self.peek() == Some(':')
        };
        self.pos = save;
        if is_struct {
            let mut fields: Vec<(String, Node)> = Vec::new();
            self.items(')', |p| {
                let at = p.pos;
                let field = p.identifier()?;
                if fields.iter().any(|(f, _)| *f == field) {
                    return Err(p.err_at(at, format!("duplicate field `{field}`")));
                }
                p.skip_ws()?;
                p.expect(':', "after a field name")?;
                p.skip_ws()?;
                let v = p.value()?;
                fields.push((field, v));
                Ok(())
            })?;
            Ok(Node::Struct { name, fields })
        } else {
            let mut items = Vec::new();
            self.items(')', |p| {
                items.push(p.value()?);
                Ok(())
            })?;
            Ok(Node::Tuple { name, items })
        }
    }

    /// Comma-separated items up to `close` (a trailing comma is allowed). The opening
    /// bracket has been consumed.
    fn items(
        &mut self,
        close: char,
        mut item: impl FnMut(&mut Self) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        loop {
            self.skip_ws()?;
            if self.peek() == Some(close) {
                self.bump();
                return Ok(());
            }
            item(self)?;
            self.skip_ws()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(c) if c == close => {
                    self.bump();
                    return Ok(());
                }
                _ => {
                    return self.err(format!("expected `,` or `{close}`, found {}", self.found()));
                }
            }
        }
    }

    fn list(&mut self) -> Result<Node, ParseError> {
        self.expect('[', "")?;
        let mut items = Vec::new();
        self.items(']', |p| {
            items.push(p.value()?);
            Ok(())
        })?;
        Ok(Node::List(items))
    }

    fn map(&mut self) -> Result<Node, ParseError> {
        self.expect('{', "")?;
        let mut entries: Vec<(Node, Node)> = Vec::new();
        self.items('}', |p| {
            let at = p.pos;
            let key = p.value()?;
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(p.err_at(at, format!("duplicate map key {}", key.canonical())));
            }
            p.skip_ws()?;
            p.expect(':', "after a map key")?;
            p.skip_ws()?;
            let v = p.value()?;
            entries.push((key, v));
            Ok(())
        })?;
        Ok(Node::Map(entries))
    }

    fn number(&mut self) -> Result<Node, ParseError> {
        let start = self.pos;
        let negative = match self.peek() {
            Some('-') => {
                self.bump();
                true
            }
            Some('+') => {
                self.bump();
                false
            }
            _ => false,
        };
        let sign = if negative { -1.0 } else { 1.0 };
        if self.rest().starts_with("inf") && !self.peek_at(3).is_some_and(is_ident_continue) {
            self.pos += 3;
            return Ok(Node::Number(Number::Float(sign * f64::INFINITY)));
        }
        if self.rest().starts_with("NaN") && !self.peek_at(3).is_some_and(is_ident_continue) {
            self.pos += 3;
            return Ok(Node::Number(Number::Float(f64::NAN)));
        }
        let radix = if self.eat("0x") {
            16
        } else if self.eat("0o") {
            8
        } else if self.eat("0b") {
            2
        } else {
            10
        };
        let body_start = self.pos;
        let mut is_float = false;
        if radix == 10 {
            self.digits(10);
            if self.peek() == Some('.') && !self.peek_at(1).is_some_and(is_ident_start) {
                self.bump();
                is_float = true;
                self.digits(10);
            }
            if matches!(self.peek(), Some('e' | 'E')) {
                let save = self.pos;
                self.bump();
                if matches!(self.peek(), Some('+' | '-')) {
                    self.bump();
                }
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    is_float = true;
                    self.digits(10);
                } else {
                    self.pos = save;
                }
            }
        } else {
            self.digits(radix);
        }
        let body: String = self.src[body_start..self.pos]
            .chars()
            .filter(|&c| c != '_')
            .collect();
        if body.is_empty() || body == "." {
            return Err(self.err_at(start, "expected a number"));
        }
        // Optional type suffix (`1u8`, `2.5f32`).
        if self.eat("f32") || self.eat("f64") {
            if radix != 10 {
                return Err(self.err_at(start, "a float suffix needs a decimal number"));
            }
            is_float = true;
        } else if let Some(s) = INT_SUFFIXES.iter().find(|s| self.rest().starts_with(**s)) {
            if is_float {
                return Err(self.err_at(start, format!("`{s}` is an integer suffix on a float")));
            }
            self.pos += s.len();
        }
        if self.peek().is_some_and(is_ident_continue) {
            return self.err(format!("unexpected {} in a number", self.found()));
        }
        if is_float {
            let v: f64 = body
                .parse()
                .map_err(|_| self.err_at(start, format!("invalid float `{body}`")))?;
            Ok(Node::Number(Number::Float(sign * v)))
        } else {
            let v = i128::from_str_radix(&body, radix)
                .map_err(|_| self.err_at(start, format!("integer `{body}` is out of range")))?;
            Ok(Node::Number(Number::Int(if negative { -v } else { v })))
        }
    }

    fn digits(&mut self, radix: u32) {
        while self.peek().is_some_and(|c| c == '_' || c.is_digit(radix)) {
            self.bump();
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.expect('"', "")?;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err_at(start, "unterminated string")),
                Some('"') => return Ok(out),
                Some('\\') => out.push(self.escape(false)?),
                Some(c) => out.push(c),
            }
        }
    }

    fn escaped_bytes(&mut self) -> Result<Vec<u8>, ParseError> {
        let start = self.pos;
        self.expect('"', "")?;
        let mut out = Vec::new();
        loop {
            match self.bump() {
                None => return Err(self.err_at(start, "unterminated byte string")),
                Some('"') => return Ok(out),
                Some('\\') if self.peek() == Some('x') => {
                    self.bump();
                    out.push(self.hex_byte()?);
                }
                Some('\\') => {
                    let c = self.escape(false)?;
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                Some(c) => {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }

    fn raw_string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.expect('r', "")?;
        let mut hashes = 0;
        while self.eat("#") {
            hashes += 1;
        }
        self.expect('"', "opening a raw string")?;
        let close: String = std::iter::once('"')
            .chain(std::iter::repeat_n('#', hashes))
            .collect();
        match self.rest().find(&close) {
            Some(i) => {
                let s = self.rest()[..i].to_string();
                self.pos += i + close.len();
                Ok(s)
            }
            None => Err(self.err_at(start, "unterminated raw string")),
        }
    }

    fn char_literal(&mut self) -> Result<char, ParseError> {
        let start = self.pos;
        self.expect('\'', "")?;
        let c = match self.bump() {
            Some('\\') => self.escape(true)?,
            Some('\'') | None => return Err(self.err_at(start, "empty character literal")),
            Some(c) => c,
        };
        if self.bump() != Some('\'') {
            return Err(self.err_at(start, "a character literal holds one character"));
        }
        Ok(c)
    }

    /// The character after a backslash.
    fn escape(&mut self, _in_char: bool) -> Result<char, ParseError> {
        let at = self.pos.saturating_sub(1);
        match self.bump() {
            Some('\'') => Ok('\''),
            Some('"') => Ok('"'),
            Some('\\') => Ok('\\'),
            Some('n') => Ok('\n'),
            Some('r') => Ok('\r'),
            Some('t') => Ok('\t'),
            Some('0') => Ok('\0'),
            Some('x') => {
                let b = self.hex_byte()?;
                if b.is_ascii() {
                    Ok(b as char)
                } else {
                    Err(self.err_at(at, "`\\x` escapes in strings must be ASCII (use `\\u{..}`)"))
                }
            }
            Some('u') => {
                self.expect('{', "in a `\\u{..}` escape")?;
                let digits_start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    self.bump();
                }
                let digits = &self.src[digits_start..self.pos];
                self.expect('}', "closing a `\\u{..}` escape")?;
                u32::from_str_radix(digits, 16)
                    .ok()
                    .filter(|_| (1..=6).contains(&digits.len()))
                    .and_then(char::from_u32)
                    .ok_or_else(|| self.err_at(at, "invalid `\\u{..}` escape"))
            }
            _ => Err(self.err_at(at, "unknown escape")),
        }
    }

    fn hex_byte(&mut self) -> Result<u8, ParseError> {
        let at = self.pos;
        let hex: String = self.rest().chars().take(2).collect();
        if hex.len() == 2 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            self.pos += 2;
            u8::from_str_radix(&hex, 16).map_err(|_| self.err_at(at, "invalid `\\x` escape"))
        } else {
            Err(self.err_at(at, "expected two hex digits after `\\x`"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> ParseError {
        parse_document(text).unwrap_err()
    }

    #[test]
    fn errors_are_located_and_never_panic() {
        let e = err("Topology(\n  a: 1,\n  b: [1, 2\n)");
        assert!(e.message.contains("expected `,` or `]`"), "{e:?}");
        let (line, _) = line_col("Topology(\n  a: 1,\n  b: [1, 2\n)", e.offset);
        assert_eq!(line, 4);
        assert!(err("(a: 1, a: 2)").message.contains("duplicate field `a`"));
        assert!(err("\"abc").message.contains("unterminated string"));
        assert!(err("/* x").message.contains("unterminated block comment"));
        assert!(err("1 2").message.contains("after the value"));
        assert!(
            err("99999999999999999999999999999999999999999")
                .message
                .contains("out of range")
        );
        assert!(err("'ab'").message.contains("one character"));
        assert!(
            err("#![enable(x) 1")
                .message
                .contains("closing the attribute")
        );
        let deep = "[".repeat(300) + &"]".repeat(300);
        assert!(err(&deep).message.contains("nested deeper"));
        for bad in [
            "", "(", ")", "[,]", "{1}", "r#", "b'é'", "0x", "-", "1e", "\"\\q\"",
        ] {
            assert!(parse_document(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn literals() {
        let n = |t: &str| parse_node(t).unwrap();
        assert_eq!(n("0x_ff"), Node::Number(Number::Int(255)));
        assert_eq!(n("-0b101"), Node::Number(Number::Int(-5)));
        assert_eq!(n("7u8"), Node::Number(Number::Int(7)));
        assert_eq!(n("2.5f32"), Node::Number(Number::Float(2.5)));
        assert_eq!(n("1e3"), Node::Number(Number::Float(1000.0)));
        assert_eq!(n("b'A'"), Node::Number(Number::Int(65)));
        assert_eq!(n("r#\"a \"q\" b\"#"), Node::String("a \"q\" b".into()));
        assert_eq!(n("'\\u{e9}'"), Node::Char('é'));
        assert_eq!(n("\"\\u{1F600}\\t\""), Node::String("😀\t".into()));
        assert_eq!(
            n("Foo (1)"),
            Node::Tuple {
                name: Some("Foo".into()),
                items: vec![n("1")]
            }
        );
        assert_eq!(
            n("(x)"),
            Node::Tuple {
                name: None,
                items: vec![Node::Ident("x".into())]
            }
        );
    }
}
