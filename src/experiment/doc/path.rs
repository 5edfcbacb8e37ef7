//! Parameter paths: addresses of values inside a document tree.
//!
//! A path is a field name followed by any number of steps:
//! - `.field`: a struct field (or the entry of a map whose key is that string);
//! - `[2]`: an element of a list or tuple by position, from 0;
//! - `[name=wan1]`: the one element of a list of structs whose `name` field is `wan1` (any
//!   field may be used: `[id=gw2]`); `[wan1]` is short for `[name=wan1]`, and on a map it
//!   selects the entry with that key. Quote the value (`[name="a.b"]`) if it holds `]`.
//!
//! `Some(x)` is transparent: steps go through it into `x`; so is a newtype variant around a
//! struct (`Pbx((name: "pbx1", ...))`), so `elements[name=pbx1].model` selects by the inner
//! struct's field. A path must exist in the document:
//! a missing field is an error naming the path and the fields that do exist, so a misspelt
//! parameter never silently does nothing.

use super::{Node, parse_node};
use std::fmt;

/// One step of a [`ParamPath`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Field(String),
    Index(usize),
    /// `[field=value]`, or `[value]` (`field` is `None`: `name` on lists, the key on maps).
    Match {
        field: Option<String>,
        value: String,
    },
}

/// A parsed parameter path, e.g. `topology.links[name=wan1].loss`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamPath {
    text: String,
    segments: Vec<Segment>,
}

/// A path that does not parse or does not lead anywhere in a document.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{path}`: {message}")]
pub struct PathError {
    pub path: String,
    pub message: String,
}

fn is_field_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+')
}

impl ParamPath {
    /// Parses a path; the first step must be a field name.
    pub fn parse(text: &str) -> Result<ParamPath, PathError> {
        let fail = |message: String| PathError {
            path: text.to_string(),
            message,
        };
        let mut segments = Vec::new();
        let mut rest = text;
        let mut first = true;
        while !rest.is_empty() || first {
            if rest.starts_with('[') && !first {
                let (inside, after) = split_bracket(&rest[1..])
                    .ok_or_else(|| fail("unclosed `[` (quote values holding `]`)".into()))?;
                segments.push(selector(inside).map_err(fail)?);
                rest = after;
            } else {
                if !first {
                    rest = rest
                        .strip_prefix('.')
                        .ok_or_else(|| fail(format!("expected `.` or `[` before `{rest}`")))?;
                }
                let len = rest.chars().take_while(|&c| is_field_char(c)).count();
                if len == 0 {
                    return Err(fail(if rest.is_empty() {
                        "the path is empty or ends with `.`".into()
                    } else {
                        format!("expected a field name at `{rest}`")
                    }));
                }
                segments.push(Segment::Field(rest[..len].to_string()));
                rest = &rest[len..];
            }
            first = false;
        }
        Ok(ParamPath {
            text: text.to_string(),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The error for this path.
    pub fn error(&self, message: impl Into<String>) -> PathError {
        PathError {
            path: self.text.clone(),
            message: message.into(),
        }
    }

    /// Replaces the value at `segments[skip..]` below `root` (the first `skip` steps name the
    /// root itself, e.g. `topology`).
    pub fn set(&self, root: &mut Node, skip: usize, value: Node) -> Result<(), PathError> {
        *self.get(root, skip)? = value;
        Ok(())
    }

    /// The value at `segments[skip..]` below `root`.
    pub fn get<'n>(&self, root: &'n mut Node, skip: usize) -> Result<&'n mut Node, PathError> {
        let mut node = root;
        let mut shown = self.shown(skip);
        for seg in &self.segments[skip..] {
            node = step(node, seg, &shown).map_err(|m| self.error(m))?;
            push_seg(&mut shown, seg);
        }
        Ok(node)
    }

    fn shown(&self, skip: usize) -> String {
        let mut shown = String::new();
        self.segments[..skip]
            .iter()
            .for_each(|s| push_seg(&mut shown, s));
        shown
    }
}

impl fmt::Display for ParamPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Appends a step to a shown path (no leading `.` at the start).
fn push_seg(shown: &mut String, seg: &Segment) {
    match seg {
        Segment::Field(f) if shown.is_empty() => shown.push_str(f),
        s => shown.push_str(&seg_text(s)),
    }
}

fn seg_text(seg: &Segment) -> String {
    match seg {
        Segment::Field(f) => format!(".{f}"),
        Segment::Index(i) => format!("[{i}]"),
        Segment::Match { field: None, value } => format!("[{value}]"),
        Segment::Match {
            field: Some(f),
            value,
        } => format!("[{f}={value}]"),
    }
}

/// Splits `inside]after` at the first `]` outside double quotes.
fn split_bracket(s: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ']' if !quoted => return Some((&s[..i], &s[i + 1..])),
            _ => {}
        }
    }
    None
}

fn unquote(v: &str) -> Result<String, String> {
    let v = v.trim();
    if v.starts_with('"') {
        match parse_node(v) {
            Ok(Node::String(s)) => Ok(s),
            _ => Err(format!("bad quoted value {v}")),
        }
    } else if v.is_empty() {
        Err("empty selector value".into())
    } else {
        Ok(v.to_string())
    }
}

fn selector(inside: &str) -> Result<Segment, String> {
    let t = inside.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
        return t
            .parse()
            .map(Segment::Index)
            .map_err(|_| format!("index {t} is too large"));
    }
    // `field=value`, unless the `=` is inside a quoted value.
    if let Some(eq) = t.find('=').filter(|&eq| !t[..eq].contains('"')) {
        let field = t[..eq].trim();
        if field.is_empty() || !field.chars().all(is_field_char) {
            return Err(format!("bad field name `{field}` in `[{t}]`"));
        }
        return Ok(Segment::Match {
            field: Some(field.to_string()),
            value: unquote(&t[eq + 1..])?,
        });
    }
    Ok(Segment::Match {
        field: None,
        value: unquote(t)?,
    })
}

/// Whether a node written in a document equals the text of a selector.
fn matches_text(node: &Node, text: &str) -> bool {
    match node {
        Node::String(s) | Node::Ident(s) => s == text,
        Node::Char(c) => text.chars().eq(std::iter::once(*c)),
        Node::Bool(_) | Node::Number(_) => {
            parse_node(text).is_ok_and(|n| n.canonical() == node.canonical())
        }
        _ => false,
    }
}

/// `Some(x)`, or a newtype variant around a struct (`FrontEnd((name: "fe1", ...))`, as
/// deployment elements are written): steps go through it.
fn is_some_wrapper(node: &Node) -> bool {
    match node {
        Node::Tuple {
            name: Some(n),
            items,
        } if items.len() == 1 => n == "Some" || matches!(items[0], Node::Struct { .. }),
        _ => false,
    }
}

fn unwrap_some(mut node: &mut Node) -> &mut Node {
    while is_some_wrapper(node) {
        match node {
            Node::Tuple { items, .. } => node = &mut items[0],
            _ => break,
        }
    }
    node
}

fn struct_field<'n>(node: &'n mut Node, field: &str) -> Option<&'n mut Node> {
    match unwrap_some(node) {
        Node::Struct { fields, .. } => fields
            .iter_mut()
            .find(|(f, _)| f == field)
            .map(|f| &mut f.1),
        _ => None,
    }
}

fn list_names(items: &[Node], field: &str) -> String {
    let names: Vec<String> = items
        .iter()
        .filter_map(|n| {
            let mut n = n.clone();
            struct_field(&mut n, field).map(|v| v.display_text())
        })
        .collect();
    if names.is_empty() {
        format!("no element has a `{field}` field")
    } else {
        format!("{field}s: {}", names.join(", "))
    }
}

/// One step down from `node` (shown in messages as `shown`).
fn step<'n>(node: &'n mut Node, seg: &Segment, shown: &str) -> Result<&'n mut Node, String> {
    let shown = if shown.is_empty() {
        "the document root"
    } else {
        shown
    };
    let node = unwrap_some(node);
    let kind = node.kind();
    match (seg, node) {
        (Segment::Field(f), Node::Struct { fields, .. }) => {
            let names: Vec<String> = fields.iter().map(|(n, _)| n.clone()).collect();
            fields
                .iter_mut()
                .find(|(n, _)| n == f)
                .map(|(_, v)| v)
                .ok_or_else(|| {
                    format!(
                        "`{shown}` has no field `{f}` (its fields: {}); a field must be written \
                         in the base document to be set",
                        names.join(", ")
                    )
                })
        }
        (Segment::Field(f), Node::Map(entries))
        | (
            Segment::Match {
                field: None,
                value: f,
            },
            Node::Map(entries),
        ) => {
            let keys: Vec<String> = entries.iter().map(|(k, _)| k.display_text()).collect();
            entries
                .iter_mut()
                .find(|(k, _)| matches_text(k, f))
                .map(|(_, v)| v)
                .ok_or_else(|| format!("`{shown}` has no key `{f}` (keys: {})", keys.join(", ")))
        }
        (Segment::Index(i), Node::List(items) | Node::Tuple { items, .. }) => {
            let len = items.len();
            items
                .get_mut(*i)
                .ok_or_else(|| format!("index {i} is out of range: `{shown}` has {len} elements"))
        }
        (Segment::Match { field, value }, Node::List(items)) => {
            let field = field.as_deref().unwrap_or("name");
            let hits: Vec<usize> = items
                .iter()
                .enumerate()
                .filter(|(_, n)| {
                    let mut n = (*n).clone();
                    struct_field(&mut n, field).is_some_and(|v| matches_text(v, value))
                })
                .map(|(i, _)| i)
                .collect();
            match hits.as_slice() {
                [i] => Ok(&mut items[*i]),
                [] => Err(format!(
                    "no element of `{shown}` has {field} = {value} ({})",
                    list_names(items, field)
                )),
                _ => Err(format!(
                    "{} elements of `{shown}` have {field} = {value}; select by position instead",
                    hits.len()
                )),
            }
        }
        (seg, _) => Err(format!(
            "`{shown}` is a {kind}; `{}` does not apply to it",
            seg_text(seg).trim_start_matches('.')
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Node {
        parse_node(
            r#"Topology(
                links: [
                    (name: "wan1", latency_ms: 20.0, loss: 0.0),
                    (name: "wan2", latency_ms: 40.0, loss: Some(0.01)),
                ],
                gateways: [Gateway(id: gw1, spans: 2), Gateway(id: gw2, spans: 4)],
                models: {"pbx": "avaya-aura-sm-6.3"},
                pair: (1, 2),
                opt: Some((depth: 3)),
            )"#,
        )
        .unwrap()
    }

    fn set(path: &str, v: &str) -> Result<Node, PathError> {
        let mut d = doc();
        ParamPath::parse(path)?.set(&mut d, 0, parse_node(v).unwrap())?;
        Ok(d)
    }

    fn get(d: &mut Node, path: &str) -> String {
        ParamPath::parse(path)
            .unwrap()
            .get(d, 0)
            .unwrap()
            .canonical()
    }

    #[test]
    fn parses_steps() {
        let p = ParamPath::parse("links[name=wan1].loss").unwrap();
        assert_eq!(
            p.segments(),
            &[
                Segment::Field("links".into()),
                Segment::Match {
                    field: Some("name".into()),
                    value: "wan1".into()
                },
                Segment::Field("loss".into()),
            ]
        );
        let p = ParamPath::parse(r#"models["a.b]c"][0]"#).unwrap();
        assert_eq!(
            p.segments()[1],
            Segment::Match {
                field: None,
                value: "a.b]c".into()
            }
        );
        assert_eq!(p.segments()[2], Segment::Index(0));
        for bad in ["", ".a", "a.", "a[", "a[]", "a..b", "[0]", "a b", "a[=x]"] {
            assert!(ParamPath::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn steps_through_newtype_variants_around_structs() {
        let text = r#"(elements: [
            FrontEnd((name: "fe1", cac: [(max_sessions: Some(12))])),
            Pbx((name: "pbx1", model: "avaya-aura-sm-6.3")),
        ], media: Sampled(0.05))"#;
        let mut d = parse_node(text).unwrap();
        let p = ParamPath::parse("elements[name=pbx1].model").unwrap();
        p.set(&mut d, 0, parse_node("\"cisco-ucm-7.0.1\"").unwrap())
            .unwrap();
        assert_eq!(get(&mut d, "elements[1].model"), "\"cisco-ucm-7.0.1\"");
        let p = ParamPath::parse("elements[fe1].cac[0].max_sessions").unwrap();
        p.set(&mut d, 0, parse_node("Some(23)").unwrap()).unwrap();
        assert_eq!(get(&mut d, "elements[0].cac[0].max_sessions"), "Some(23)");
        // The variant itself is kept around the edited struct.
        assert!(
            d.canonical().contains("Pbx((name: \"pbx1\""),
            "{}",
            d.canonical()
        );
        // A newtype around a plain value is not a wrapper.
        assert_eq!(get(&mut d, "media[0]"), "0.05");
        let err = ParamPath::parse("elements[name=pbx9].model")
            .unwrap()
            .get(&mut d, 0)
            .unwrap_err();
        assert!(err.message.contains("names: fe1, pbx1"), "{err}");
    }

    #[test]
    fn sets_by_field_position_and_name() {
        let mut d = set("links[name=wan2].latency_ms", "80.0").unwrap();
        assert_eq!(get(&mut d, "links[1].latency_ms"), "80.0");
        let mut d = set("links[wan2].loss", "0.05").unwrap();
        assert_eq!(get(&mut d, "links[1].loss"), "0.05");
        let mut d = set("gateways[id=gw2].spans", "8").unwrap();
        assert_eq!(get(&mut d, "gateways[1].spans"), "8");
        let mut d = set("models.pbx", "\"cisco\"").unwrap();
        assert_eq!(get(&mut d, "models[pbx]"), "\"cisco\"");
        let mut d = set("pair[1]", "9").unwrap();
        assert_eq!(get(&mut d, "pair"), "(1, 9)");
        let mut d = set("opt.depth", "4").unwrap();
        assert_eq!(get(&mut d, "opt"), "Some((depth: 4))");
    }

    #[test]
    fn missing_paths_are_named() {
        let e = set("links[name=wan9].loss", "1.0").unwrap_err();
        assert_eq!(e.path, "links[name=wan9].loss");
        assert!(e.message.contains("names: wan1, wan2"), "{e}");
        let e = set("links[0].jitter", "1.0").unwrap_err();
        assert!(
            e.message.contains("`links[0]` has no field `jitter`"),
            "{e}"
        );
        assert!(e.message.contains("name, latency_ms, loss"), "{e}");
        let e = set("links[5]", "1").unwrap_err();
        assert!(e.message.contains("out of range"), "{e}");
        let e = set("pair.x", "1").unwrap_err();
        assert!(e.message.contains("is a tuple"), "{e}");
        let e = set("nodes", "1").unwrap_err();
        assert!(e.message.contains("has no field `nodes`"), "{e}");
    }
}
