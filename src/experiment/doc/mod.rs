//! A lossless RON document tree, for documents whose types live in other layers.
//!
//! `ron::Value` forgets struct and enum variant names (`Sampled(0.05)` becomes `[0.05]`), so a
//! topology or scenario passed through it could no longer be deserialized into its typed
//! form. [`Node`] keeps every name, so that an experiment can load a topology, set swept
//! values by path (see [`path`]), and hand the result to the scenario layer, which turns it
//! into typed structs with [`Document::deserialize`].
//!
//! Emission is canonical: integers in decimal, floats in Rust's shortest round-trip form
//! (`1.0`, `0.05`, `1e-7`), strings with fixed escapes, `r#` only where an identifier needs it.
//! The compact form [`Node::canonical`] is what seeds and identities are hashed from, so two
//! spellings of one value (`0.50`, `5e-1`) give the same seed.

mod parse;
pub mod path;

pub use parse::{ParseError, parse_document, parse_node};
pub use path::{ParamPath, PathError};

use crate::config::{self, ConfigError};
use serde::de::DeserializeOwned;
use std::fmt::Write;
use std::path::Path;

/// A RON number, as parsed: integer literals stay integers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i128),
    Float(f64),
}

/// One value of a RON document, with every name kept.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `()`.
    Unit,
    Bool(bool),
    Char(char),
    Number(Number),
    String(String),
    Bytes(Vec<u8>),
    /// `[a, b]`.
    List(Vec<Node>),
    /// `{k: v}`, in file order.
    Map(Vec<(Node, Node)>),
    /// `(a, b)`, `Name(a, b)`, `Some(x)`: a tuple, tuple struct or tuple variant.
    Tuple {
        name: Option<String>,
        items: Vec<Node>,
    },
    /// `(f: v)` or `Name(f: v)`: a struct or struct variant, fields in file order.
    Struct {
        name: Option<String>,
        fields: Vec<(String, Node)>,
    },
    /// A bare identifier: a unit struct or unit variant (`Off`, `None`).
    Ident(String),
}

/// A whole RON file: its `#![enable(...)]` extensions and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Extension names, in file order (`implicit_some`, `unwrap_newtypes`...).
    pub extensions: Vec<String>,
    pub root: Node,
}

impl Document {
    /// A document without extensions.
    pub fn new(root: Node) -> Self {
        Document {
            extensions: Vec::new(),
            root,
        }
    }

    /// Parses a RON file; errors are located in `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Document, ConfigError> {
        parse_document(text).map_err(|e| e.locate(path, text, 0))
    }

    /// The document as RON text: extensions first, then the value. `pretty` indents nested
    /// values one per line (what error messages point into); otherwise one line.
    pub fn to_ron(&self, pretty: bool) -> String {
        let mut out = String::new();
        if !self.extensions.is_empty() {
            out.push_str("#![enable(");
            out.push_str(&self.extensions.join(", "));
            out.push_str(")]\n");
        }
        self.root.emit(&mut out, pretty, 0);
        if pretty {
            out.push('\n');
        }
        out
    }

    /// Deserializes the document into a typed value. `origin` names the document in the
    /// error (e.g. `topology voip-only.ron (point 3)`). The text deserialized is
    /// [`to_ron(true)`](Self::to_ron), which exists on no disk, so an error quotes the line
    /// it points at instead of giving its position.
    pub fn deserialize<T: DeserializeOwned>(&self, origin: &str) -> Result<T, ConfigError> {
        let text = self.to_ron(true);
        config::from_ron_str(Path::new(origin), &text).map_err(|e| {
            let quoted = text
                .lines()
                .nth(e.line.saturating_sub(1))
                .map(str::trim)
                .filter(|l| e.line > 0 && !l.is_empty());
            let message = match quoted {
                Some(l) => format!("{}, at `{l}`", e.message),
                None => e.message,
            };
            ConfigError::unlocated(Path::new(origin), message)
        })
    }

    /// The struct name of the root (`Topology`, `VendorModel`...), if it has one.
    pub fn root_name(&self) -> Option<&str> {
        match &self.root {
            Node::Struct { name, .. } | Node::Tuple { name, .. } => name.as_deref(),
            Node::Ident(n) => Some(n),
            _ => None,
        }
    }
}

impl Node {
    /// The compact canonical text (one line, canonical numbers and escapes).
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        self.emit(&mut out, false, 0);
        out
    }

    /// Human text for a table cell: a string without its quotes, anything else canonical.
    pub fn display_text(&self) -> String {
        match self {
            Node::String(s) => s.clone(),
            other => other.canonical(),
        }
    }

    /// The value as a float, when it is a number (or `Some(number)`).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Node::Number(Number::Int(i)) => Some(*i as f64),
            Node::Number(Number::Float(f)) => Some(*f),
            Node::Tuple {
                name: Some(n),
                items,
            } if n == "Some" && items.len() == 1 => items[0].as_f64(),
            _ => None,
        }
    }

    /// The text of a string, identifier or character.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Node::String(s) | Node::Ident(s) => Some(s.clone()),
            Node::Char(c) => Some(c.to_string()),
            _ => None,
        }
    }

    /// The value for JSON outputs: numbers, strings and booleans as themselves, anything
    /// else as its canonical RON text.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Node::Bool(b) => serde_json::Value::Bool(*b),
            Node::String(s) => serde_json::Value::String(s.clone()),
            Node::Number(Number::Int(i)) => i64::try_from(*i)
                .map(serde_json::Value::from)
                .or_else(|_| u64::try_from(*i).map(serde_json::Value::from))
                .unwrap_or_else(|_| serde_json::Value::String(i.to_string())),
            Node::Number(Number::Float(f)) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| serde_json::Value::String(self.canonical())),
            other => serde_json::Value::String(other.canonical()),
        }
    }

    /// A short word for the kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Unit => "unit",
            Node::Bool(_) => "boolean",
            Node::Char(_) => "character",
            Node::Number(_) => "number",
            Node::String(_) => "string",
            Node::Bytes(_) => "byte string",
            Node::List(_) => "list",
            Node::Map(_) => "map",
            Node::Tuple { .. } => "tuple",
            Node::Struct { .. } => "struct",
            Node::Ident(_) => "identifier",
        }
    }

    fn emit(&self, out: &mut String, pretty: bool, depth: usize) {
        match self {
            Node::Unit => out.push_str("()"),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Char(c) => {
                out.push('\'');
                escape_char(out, *c, '\'');
                out.push('\'');
            }
            Node::Number(n) => emit_number(out, *n),
            Node::String(s) => emit_string(out, s),
            Node::Bytes(b) => {
                out.push_str("b\"");
                for &byte in b {
                    match byte {
                        b'"' => out.push_str("\\\""),
                        b'\\' => out.push_str("\\\\"),
                        0x20..=0x7e => out.push(byte as char),
                        _ => {
                            let _ = write!(out, "\\x{byte:02x}");
                        }
                    }
                }
                out.push('"');
            }
            Node::Ident(name) => emit_ident(out, name),
            Node::List(items) => {
                emit_seq(out, pretty, depth, ('[', ']'), items.len(), |out, i, d| {
                    items[i].emit(out, pretty, d)
                })
            }
            Node::Map(entries) => emit_seq(
                out,
                pretty,
                depth,
                ('{', '}'),
                entries.len(),
                |out, i, d| {
                    entries[i].0.emit(out, pretty, d);
                    out.push_str(": ");
                    entries[i].1.emit(out, pretty, d);
                },
            ),
            Node::Tuple { name, items } => {
                if let Some(n) = name {
                    emit_ident(out, n);
                }
                if items.is_empty() {
                    out.push_str("()");
                    return;
                }
                emit_seq(out, pretty, depth, ('(', ')'), items.len(), |out, i, d| {
                    items[i].emit(out, pretty, d)
                })
            }
            Node::Struct { name, fields } => {
                if let Some(n) = name {
                    emit_ident(out, n);
                }
                if fields.is_empty() {
                    out.push_str("()");
                    return;
                }
                emit_seq(out, pretty, depth, ('(', ')'), fields.len(), |out, i, d| {
                    emit_ident(out, &fields[i].0);
                    out.push_str(": ");
                    fields[i].1.emit(out, pretty, d);
                })
            }
        }
    }
}

/// Emits `open item, item close`, one item per line when `pretty` and not empty.
fn emit_seq(
    out: &mut String,
    pretty: bool,
    depth: usize,
    (open, close): (char, char),
    len: usize,
    mut item: impl FnMut(&mut String, usize, usize),
) {
    out.push(open);
    if pretty && len > 0 {
        for i in 0..len {
            out.push('\n');
            indent(out, depth + 1);
            item(out, i, depth + 1);
            out.push(',');
        }
        out.push('\n');
        indent(out, depth);
    } else {
        for i in 0..len {
            if i > 0 {
                out.push_str(", ");
            }
            item(out, i, depth);
        }
    }
    out.push(close);
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("    ");
    }
}

fn emit_number(out: &mut String, n: Number) {
    match n {
        Number::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Number::Float(f) if f.is_nan() => out.push_str("NaN"),
        Number::Float(f) if f.is_infinite() => out.push_str(if f > 0.0 { "inf" } else { "-inf" }),
        // `{:?}` is Rust's shortest round-trip form and always marks a float (`1.0`, `1e-7`).
        Number::Float(f) => {
            let _ = write!(out, "{f:?}");
        }
    }
}

fn emit_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        escape_char(out, c, '"');
    }
    out.push('"');
}

fn escape_char(out: &mut String, c: char, quote: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if c.is_control() => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Whether `name` can be written as a plain RON identifier.
pub(crate) fn is_plain_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn emit_ident(out: &mut String, name: &str) {
    if !is_plain_ident(name) {
        out.push_str("r#");
    }
    out.push_str(name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn round_trips_names_that_ron_value_loses() {
        let text = r#"#![enable(implicit_some)]
// a comment
Topology(
    name: "x", /* nested /* block */ comment */
    media: Sampled(0.05),
    hold: Exponential(mean_s: 180),
    mode: Off,
    opt: Some((1, "two")),
    none: None,
    map: {"a": 1.50, 'c': [true, false]},
    big: 0x10,
    neg: -2.5e-3,
    r#odd-name: b"\x00hi",
    unit: (),
    empty: Empty(),
)"#;
        let doc = Document::parse(Path::new("t.ron"), text).unwrap();
        assert_eq!(doc.extensions, vec!["implicit_some".to_string()]);
        assert_eq!(doc.root_name(), Some("Topology"));
        let compact = doc.root.canonical();
        assert_eq!(
            compact,
            "Topology(name: \"x\", media: Sampled(0.05), hold: Exponential(mean_s: 180), \
             mode: Off, opt: Some((1, \"two\")), none: None, map: {\"a\": 1.5, 'c': [true, false]}, \
             big: 16, neg: -0.0025, r#odd-name: b\"\\x00hi\", unit: (), empty: Empty())"
        );
        // Pretty and compact forms parse back to the same tree.
        for pretty in [true, false] {
            let again = Document::parse(Path::new("u.ron"), &doc.to_ron(pretty)).unwrap();
            assert_eq!(again, doc);
        }
    }

    #[test]
    fn deserializes_into_typed_enums() {
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(deny_unknown_fields)]
        struct Scenario {
            media: Media,
            hold: Hold,
            opt: Option<u32>,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        enum Media {
            Off,
            Sampled(f64),
        }
        #[derive(Deserialize, Debug, PartialEq)]
        enum Hold {
            Exponential { mean_s: f64 },
        }
        let doc = Document::parse(
            Path::new("s.ron"),
            "(media: Sampled(0.25), hold: Exponential(mean_s: 90.0), opt: Some(3))",
        )
        .unwrap();
        let s: Scenario = doc.deserialize("scenario").unwrap();
        assert_eq!(
            s,
            Scenario {
                media: Media::Sampled(0.25),
                hold: Hold::Exponential { mean_s: 90.0 },
                opt: Some(3)
            }
        );
        let bad = Document::parse(Path::new("s.ron"), "(media: Loud, hold: X, opt: None)")
            .unwrap()
            .deserialize::<Scenario>("scenario (point 2)")
            .unwrap_err();
        assert_eq!(
            bad.to_string(),
            "scenario (point 2): Unexpected variant named `Loud` in enum `Media`, \
             expected either `Off` or `Sampled` instead, at `media: Loud,`"
        );
    }

    #[test]
    fn canonical_numbers_and_json() {
        let n = |t: &str| parse_node(t).unwrap();
        assert_eq!(n("0.50").canonical(), n("5e-1").canonical());
        assert_eq!(n("1_000").canonical(), "1000");
        assert_eq!(n("1.").canonical(), "1.0");
        assert_eq!(n("-inf").canonical(), "-inf");
        assert_eq!(n("\"a\\\"b\"").display_text(), "a\"b");
        assert_eq!(n("2").to_json(), serde_json::json!(2));
        assert_eq!(n("0.5").to_json(), serde_json::json!(0.5));
        assert_eq!(
            n("Sampled(0.1)").to_json(),
            serde_json::json!("Sampled(0.1)")
        );
        assert_eq!(n("Some(4.5)").as_f64(), Some(4.5));
    }
}
