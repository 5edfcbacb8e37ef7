//! Loading RON input files with errors that say where and what.
//!
//! Every voicetwin input starts with a named struct: `Topology(...)`, `VendorModel(...)` or
//! `Experiment(...)`. [`detect_kind`] reads that name; [`from_ron_str`] deserializes with the
//! error located at `file:line:column`. Semantic checks done after deserialization report
//! through [`ConfigError::semantic`], located at the first mention of the offending value
//! when it can be found in the text.
//!
//! This module is a leaf: every layer's loader may use it, and it uses nothing of the crate.

use serde::de::DeserializeOwned;
use std::fmt;
use std::path::{Path, PathBuf};

/// What kind of input a RON file holds, from its top-level struct name.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FileKind {
    Topology,
    VendorModel,
    Experiment,
}

impl FileKind {
    pub fn struct_name(self) -> &'static str {
        match self {
            FileKind::Topology => "Topology",
            FileKind::VendorModel => "VendorModel",
            FileKind::Experiment => "Experiment",
        }
    }
}

/// A located configuration error: `path:line:column: message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )
        } else {
            write!(f, "{}: {}", self.path.display(), self.message)
        }
    }
}

impl ConfigError {
    /// An error with no position (e.g. the file could not be read).
    pub fn unlocated(path: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }

    /// An error at a known position.
    pub fn at(path: &Path, line: usize, column: usize, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A semantic error about `value` (e.g. an undefined node name), located at the first
    /// occurrence of `value` as a quoted string in `text`, or at `field:` when given, or
    /// unlocated.
    pub fn semantic(
        path: &Path,
        text: &str,
        value: Option<&str>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        let pos = value
            .and_then(|v| find_position(text, &format!("\"{v}\"")))
            .or_else(|| field.and_then(|f| find_field(text, f)));
        match pos {
            Some((line, column)) => Self::at(path, line, column, message),
            None => Self::unlocated(path, message),
        }
    }
}

/// Reads a file to a string, with a located error on failure.
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map_err(|e| ConfigError::unlocated(path, format!("cannot read file: {e}")))
}

/// Finds the top-level struct name of a RON document, skipping comments, whitespace and
/// `#![enable(...)]` attributes.
pub fn detect_kind(path: &Path, text: &str) -> Result<FileKind, ConfigError> {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, after)| after);
        } else if rest.starts_with("#![") {
            rest = rest.split_once(']').map_or("", |(_, after)| after);
        } else {
            break;
        }
    }
    let offset = text.len() - rest.len();
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let (line, column) = line_col(text, offset);
    match name.as_str() {
        "Topology" => Ok(FileKind::Topology),
        "VendorModel" => Ok(FileKind::VendorModel),
        "Experiment" => Ok(FileKind::Experiment),
        "" => Err(ConfigError::at(
            path,
            line,
            column,
            "expected a named top-level struct: `Topology(...)`, `VendorModel(...)` or `Experiment(...)`",
        )),
        other => Err(ConfigError::at(
            path,
            line,
            column,
            format!(
                "unknown top-level struct `{other}`: expected `Topology`, `VendorModel` or `Experiment`"
            ),
        )),
    }
}

/// Deserializes a RON document. Errors carry the file, line and column from RON's span.
/// Optional values may be written bare (`port: 5070`) or as `Some(5070)`.
/// Types should use `#[serde(deny_unknown_fields)]` so that misspelt fields are errors.
pub fn from_ron_str<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str::<T>(text)
        .map_err(|e| {
            ConfigError::at(
                path,
                e.span.start.line,
                e.span.start.col,
                e.code.to_string(),
            )
        })
}

/// Reads, checks the kind of, and deserializes a RON file.
pub fn load_ron<T: DeserializeOwned>(
    path: &Path,
    expected: FileKind,
) -> Result<(T, String), ConfigError> {
    let text = read_text(path)?;
    let kind = detect_kind(path, &text)?;
    if kind != expected {
        return Err(ConfigError::at(
            path,
            1,
            1,
            format!(
                "expected a `{}(...)` file, found `{}(...)`",
                expected.struct_name(),
                kind.struct_name()
            ),
        ));
    }
    let value = from_ron_str(path, &text)?;
    Ok((value, text))
}

/// The 1-based (line, column) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn find_position(text: &str, needle: &str) -> Option<(usize, usize)> {
    text.find(needle).map(|offset| line_col(text, offset))
}

fn find_field(text: &str, field: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = text[from..].find(field) {
        let start = from + i;
        let before_ok = start == 0
            || !text[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let after = text[start + field.len()..].trim_start();
        if before_ok && after.starts_with(':') {
            return Some(line_col(text, start));
        }
        from = start + field.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Topology {
        name: String,
        loss: f64,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct WithOption {
        port: Option<u16>,
    }

    #[test]
    fn optional_values_may_be_bare_or_wrapped() {
        let p = Path::new("o.ron");
        assert_eq!(
            from_ron_str::<WithOption>(p, "(port: 5070)").unwrap().port,
            Some(5070)
        );
        assert_eq!(
            from_ron_str::<WithOption>(p, "(port: Some(5070))")
                .unwrap()
                .port,
            Some(5070)
        );
        assert_eq!(
            from_ron_str::<WithOption>(p, "(port: None)").unwrap().port,
            None
        );
    }

    #[test]
    fn detects_kind_after_comments_and_attributes() {
        let text = "// a topology\n/* block */\n#![enable(implicit_some)]\n  Topology(name: \"x\")";
        assert_eq!(
            detect_kind(Path::new("t.ron"), text),
            Ok(FileKind::Topology)
        );
        let err = detect_kind(Path::new("t.ron"), "\n\n  Topo(name: \"x\")").unwrap_err();
        assert_eq!((err.line, err.column), (3, 3));
        assert!(err.message.contains("unknown top-level struct `Topo`"));
    }

    #[test]
    fn syntax_errors_are_located() {
        let text = "Topology(\n  name: \"x\",\n  loss: 0.1,\n  colour: 3,\n)";
        let err = from_ron_str::<Topology>(Path::new("t.ron"), text).unwrap_err();
        assert_eq!(err.line, 4, "{err}");
        assert!(err.to_string().starts_with("t.ron:4:"), "{err}");
        assert!(err.message.contains("colour"), "{err}");
    }

    #[test]
    fn semantic_errors_find_the_value() {
        let text = "Topology(\n  links: [(\"a\", \"ghost\")],\n)";
        let err = ConfigError::semantic(
            Path::new("t.ron"),
            text,
            Some("ghost"),
            None,
            "undefined node `ghost`",
        );
        assert_eq!(err.to_string(), "t.ron:2:17: undefined node `ghost`");
        let err = ConfigError::semantic(Path::new("t.ron"), text, None, Some("links"), "bad");
        assert_eq!((err.line, err.column), (2, 3));
    }
}
