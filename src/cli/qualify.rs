//! `voicetwin qualify MODEL [--format table|json]` and `voicetwin qualify --all --out DIR`:
//! the Direct SIP qualification plan run against vendor models (see `crate::qualify`).
//!
//! Exit codes: 0 when every case matched its expectation (`pass`, `expected-fail` or
//! `n/a`); 1 when any case is `fail`; 2 for usage and input errors (unknown model, invalid
//! model file), with the message on stderr.
//!
//! JSON shape: `{"model", "vendor", "product", "version", "source", "role", "deployments":
//! [..], "ok": bool, "cases": [{"case", "area", "deployment", "result", "limitation_ids":
//! [..], "detail"}]}` with `result` one of `pass`, `expected-fail`, `fail`, `n/a`.

use crate::qualify::{Report, qualify, qualify_all, write_matrix};
use crate::vendor::{VendorModel, builtin_sources, resolve};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Output format of a single model's qualification.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Arguments of `voicetwin qualify`.
#[derive(Args, Debug)]
pub struct QualifyArgs {
    /// A vendor model id or a path to a `.ron` model file.
    pub model: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Qualify every model and write `matrix.md` and `matrix.csv` into `--out`.
    #[arg(long)]
    pub all: bool,
    /// The output directory of `--all`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Directory of vendor model files (the embedded models are used otherwise).
    #[arg(long, default_value = "vendor-models")]
    pub models: PathBuf,
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn load(arg: &str, dir: &Path) -> Result<VendorModel, String> {
    resolve(arg, dir).map_err(|e| e.to_string())
}

/// Runs `qualify`.
pub fn main(args: QualifyArgs) -> ExitCode {
    if args.all {
        if args.model.is_some() {
            return usage("give either MODEL or --all, not both");
        }
        let Some(out) = &args.out else {
            return usage("--all needs --out DIR");
        };
        let mut models = Vec::new();
        for (id, _) in builtin_sources() {
            match load(id, &args.models) {
                Ok(m) => models.push(m),
                Err(e) => return usage(&e),
            }
        }
        let reports = qualify_all(&models);
        if let Err(e) = write_matrix(out, &reports) {
            return usage(&e.to_string());
        }
        for r in &reports {
            let counts: Vec<String> = r.counts().iter().map(|(v, n)| format!("{n} {v}")).collect();
            println!(
                "{:<32} {:<6} {}",
                r.model,
                if r.ok { "ok" } else { "FAILED" },
                counts.join(", ")
            );
        }
        println!("wrote {}", out.join("matrix.md").display());
        println!("wrote {}", out.join("matrix.csv").display());
        return exit(reports.iter().all(|r| r.ok));
    }
    let Some(arg) = &args.model else {
        return usage("give a MODEL (vendor id or .ron file), or --all --out DIR");
    };
    if args.out.is_some() {
        return usage("--out is for --all");
    }
    let model = match load(arg, &args.models) {
        Ok(m) => m,
        Err(e) => return usage(&e),
    };
    let report: Report = qualify(&model);
    match args.format {
        Format::Table => print!("{}", report.table()),
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => return usage(&e.to_string()),
        },
    }
    exit(report.ok)
}
