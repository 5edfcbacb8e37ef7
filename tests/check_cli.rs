//! `voicetwin check`: valid files exit 0; each broken file gives a located, clear error and
//! a non-zero exit; nothing makes it panic.

use std::path::Path;
use std::process::{Command, Output};

fn check(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voicetwin"))
        .arg("check")
        .args(args)
        .output()
        .expect("run voicetwin")
}

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/check")
        .join(name)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a clean failure: exit code 1 (not a panic's 101), the message at `line:col`.
fn assert_fails(name: &str, line_col: &str, fragment: &str) {
    let path = data(name);
    let out = check(&[&path]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
    let located = format!("error: {}:{line_col}: ", path.display());
    assert!(
        stderr
            .lines()
            .next()
            .is_some_and(|l| l.starts_with(&located)),
        "{name}: expected `{located}...`, got:\n{stderr}"
    );
    assert!(
        stderr.contains(fragment),
        "{name}: expected `{fragment}` in:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    assert!(text(&out.stdout).is_empty(), "{name}");
}

#[test]
fn valid_files_exit_zero() {
    let out = check(&[&data("valid.ron")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("ok: {} (Topology)\n", data("valid.ron").display())
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("topologies/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 3);
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let out = check(&refs);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), files.len());
}

#[test]
fn syntax_errors_say_where_and_what() {
    assert_fails("syntax_missing_comma.ron", "5:22", "Expected comma");
    assert_fails("syntax_unclosed.ron", "13:33", "Unexpected end of RON");
    assert_fails(
        "unknown_field.ron",
        "6:55",
        "Unexpected field named `colour` in `Node`",
    );
    assert_fails(
        "unknown_variant.ron",
        "12:58",
        "Unexpected variant named `LinkFlap`",
    );
    assert_fails(
        "wrong_kind.ron",
        "1:1",
        "unknown top-level struct `Topologie`",
    );
    assert_fails("empty.ron", "1:1", "expected a named top-level struct");
    assert_fails(
        "comment_only.ron",
        "2:1",
        "expected a named top-level struct",
    );
}

#[test]
fn bad_values_are_located_at_the_value() {
    assert_fails(
        "negative_latency.ron",
        "10:54",
        "milliseconds in 0 ..= 1000000000000, got -20",
    );
    assert_fails("nan_jitter.ron", "10:93", "got NaN");
    assert_fails(
        "infinite_bandwidth.ron",
        "10:74",
        "inf Mbit/s must be a finite number above zero",
    );
    assert_fails(
        "zero_bandwidth.ron",
        "10:74",
        "0 Mbit/s must be a finite number above zero",
    );
    assert_fails("loss_above_one.ron", "10:96", "1.5 is outside [0, 1]");
    assert_fails("loss_negative.ron", "10:113", "-0.01 is outside [0, 1]");
    assert_fails("zero_queue.ron", "10:92", "nonzero");
    assert_fails(
        "bad_address.ron",
        "6:65",
        "`10.1.0.300` is not an IPv4 address",
    );
    assert_fails(
        "negative_fault_time.ron",
        "12:42",
        "seconds in 0 ..= 1000000000, got -30",
    );
    assert_fails(
        "zero_fault_duration.ron",
        "12:53",
        "seconds above zero, got 0",
    );
}

#[test]
fn semantic_errors_are_located_at_the_name() {
    assert_fails("undefined_node.ron", "10:36", "undefined node `gateway`");
    assert_fails("duplicate_node.ron", "6:16", "node `rtr` is defined twice");
    assert_fails(
        "duplicate_address.ron",
        "5:60",
        "address 10.1.0.9 is already used by node `pbx`",
    );
    assert_fails("bad_name.ron", "6:16", "invalid name `gw 2`");
    assert_fails("unreachable_pair.ron", "13:19", "`pbx` cannot reach `gw`");
    assert_fails("overlapping_faults.ron", "12:73", "overlaps another fault");
    assert_fails(
        "undefined_fault_link.ron",
        "12:29",
        "undefined link `rtr-gw`",
    );
    assert_fails("background_two_paths.ron", "13:25", "exactly one of `to`");
    assert_fails(
        "background_not_on_link.ron",
        "13:25",
        "`pbx` is not an end of link `wan`",
    );
    assert_fails(
        "background_tiny_packets.ron",
        "13:25",
        "invalid packet size: 20 bytes",
    );
}

#[test]
fn a_refused_name_does_not_cascade() {
    // The refused node keeps its name: links to it are not reported again as undefined.
    let out = check(&[&data("duplicate_address.ron")]);
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn one_bad_file_fails_the_run_but_every_file_is_checked() {
    let out = check(&[
        &data("valid.ron"),
        &data("undefined_node.ron"),
        &data("valid.ron"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout).lines().count(), 2);
    assert_eq!(text(&out.stderr).lines().count(), 1);
}

#[test]
fn garbage_directories_and_missing_files_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage.ron");
    std::fs::write(&garbage, [0x89, b'P', b'N', b'G', 0xff, 0x00, 0xfe, 0x10]).unwrap();
    let deep = dir.path().join("deep.ron");
    std::fs::write(&deep, format!("Topology({}", "[".repeat(100_000))).unwrap();
    let vendor = dir.path().join("vendor.ron");
    std::fs::write(&vendor, "VendorModel(id: \"x\")").unwrap();
    let missing = dir.path().join("missing.ron");
    for (path, fragment) in [
        (garbage.as_path(), "invalid UTF-8"),
        (deep.as_path(), ""),
        (vendor.as_path(), "VendorModel"),
        (missing.as_path(), "cannot read file"),
        (dir.path(), "is a directory"),
    ] {
        let out = check(&[path]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", path.display());
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(fragment), "{stderr}");
    }
    // No file at all is a usage error from the argument parser, not a panic.
    let out = Command::new(env!("CARGO_BIN_EXE_voicetwin"))
        .arg("check")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}
