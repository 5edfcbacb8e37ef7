//! The catalogue's promise, checked across the whole test suite: every product has a model
//! file, every limitation ID has a rule in its product's model, and every limitation ID has
//! a `#[test]` whose name carries the ID (e.g. `oxe_l6_502_blocks_failover` for OXE-L6).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The names of the functions marked `#[test]` in one source file.
fn test_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut armed = false;
    for line in source.lines() {
        let l = line.trim();
        if l.starts_with("#[test]") {
            armed = true;
        } else if armed && let Some(rest) = l.strip_prefix("fn ") {
            names.push(rest.split('(').next().unwrap_or("").to_string());
            armed = false;
        } else if armed && !l.starts_with("#[") && !l.starts_with("//") {
            armed = false;
        }
    }
    names
}

fn all_test_names() -> Vec<String> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
        &mut files,
    );
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    files
        .iter()
        .flat_map(|f| test_names(&std::fs::read_to_string(f).unwrap()))
        .collect()
}

#[test]
fn every_limitation_id_has_a_test() {
    let names = all_test_names();
    assert!(names.len() > 500, "found only {} tests", names.len());
    let catalogue = voicetwin::vendor::catalogue();
    let missing = catalogue.ids_without_test(&names);
    assert!(
        missing.is_empty(),
        "no #[test] names these IDs: {missing:?}"
    );
}

#[test]
fn every_limitation_id_has_a_rule_and_every_product_a_model() {
    let catalogue = voicetwin::vendor::catalogue();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor-models");
    for p in &catalogue.products {
        let file = dir.join(format!("{}.ron", p.id));
        assert!(file.exists(), "{}: no model file {}", p.id, file.display());
    }
    for l in &catalogue.limitations {
        let model = voicetwin::vendor::lookup(l.product.as_str())
            .unwrap_or_else(|e| panic!("{}: {e}", l.product));
        let ids: BTreeSet<String> = model.limitation_ids().map(|i| i.to_string()).collect();
        assert!(
            ids.contains(&l.id.to_string()),
            "{} has no rule for {}",
            l.product,
            l.id
        );
    }
}

/// The scanner itself: a test whose name lacks an ID does not count, and a helper function
/// (no `#[test]`) named after an ID does not count either.
#[test]
fn the_scanner_counts_only_test_functions() {
    let src = "fn oxe_l6_helper() {}\n#[test]\nfn oxe_l6_502_blocks_failover() {}\n#[test]\n#[ignore]\nfn mx_l4_x() {}\n";
    assert_eq!(test_names(src), ["oxe_l6_502_blocks_failover", "mx_l4_x"]);
    let catalogue = voicetwin::vendor::catalogue();
    let missing = catalogue.ids_without_test(&test_names(src));
    assert!(missing.iter().any(|id| id.to_string() == "AV63-L1"));
    assert!(!missing.iter().any(|id| id.to_string() == "OXE-L6"));
}
