//! `voicetwin check FILE...`: validates RON inputs without running them.
//!
//! Each file's kind comes from its top-level struct name; the file is then parsed and
//! checked by that kind's loader. Nothing here may panic, whatever the input: a directory,
//! an empty file, binary garbage.

use crate::config::{ConfigError, FileKind, detect_kind};
use crate::scenario::topology::check_topology;
use std::io::Write;
use std::path::Path;

/// Checks one file: `Ok(kind)` when valid, else every located error found.
pub fn check_file(path: &Path) -> Result<FileKind, Vec<ConfigError>> {
    if path.is_dir() {
        return Err(vec![ConfigError::unlocated(
            path,
            "is a directory, not a RON file",
        )]);
    }
    let bytes = std::fs::read(path).map_err(|e| {
        vec![ConfigError::unlocated(
            path,
            format!("cannot read file: {e}"),
        )]
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, column) = {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // The prefix is valid UTF-8 by definition of `valid_up_to`.
            let valid = std::str::from_utf8(valid).unwrap_or("");
            crate::config::line_col(valid, valid.len())
        };
        vec![ConfigError::at(
            path,
            line,
            column,
            "not a text file: invalid UTF-8",
        )]
    })?;
    let kind = detect_kind(path, &text).map_err(|e| vec![e])?;
    check_kind(kind, path, &text)?;
    Ok(kind)
}

/// Dispatches a file's text to the checker of its kind. Vendor models and experiments are
/// wired here when their loaders exist.
pub fn check_kind(kind: FileKind, path: &Path, text: &str) -> Result<(), Vec<ConfigError>> {
    match kind {
        FileKind::Topology => check_topology(path, text),
        FileKind::VendorModel => crate::vendor::check_file(path, text),
        FileKind::Experiment => {
            crate::experiment::scenario_runner::check_points(path, text).map(|_| ())
        }
    }
}

/// Checks every file, printing `ok: FILE (Kind)` on `out` or the errors on `err`. Returns
/// whether all files are valid.
pub fn run(files: &[impl AsRef<Path>], out: &mut dyn Write, err: &mut dyn Write) -> bool {
    let mut all_ok = true;
    for file in files {
        let path = file.as_ref();
        // Output errors (a closed pipe) must not panic; the exit code still tells.
        match check_file(path) {
            Ok(kind) => {
                let _ = writeln!(out, "ok: {} ({})", path.display(), kind.struct_name());
            }
            Err(errors) => {
                all_ok = false;
                for e in errors {
                    let _ = writeln!(err, "error: {e}");
                }
            }
        }
    }
    all_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kinds_and_garbage_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[u8], &str); 4] = [
            ("empty.ron", b"", "expected a named top-level struct"),
            ("bin.ron", b"\x00\xff\xfe garbage", "invalid UTF-8"),
            ("vm.ron", b"VendorModel(id: \"x\")", "missing field"),
            ("junk.ron", b"{{{", "expected a named top-level struct"),
        ];
        for (name, bytes, expect) in cases {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let errs = check_file(&p).unwrap_err();
            assert!(errs[0].to_string().contains(expect), "{name}: {errs:?}");
        }
        let errs = check_file(dir.path()).unwrap_err();
        assert!(errs[0].message.contains("directory"));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert!(!run(&[dir.path().join("missing.ron")], &mut out, &mut err));
        assert!(String::from_utf8_lossy(&err).contains("cannot read file"));
    }
}
