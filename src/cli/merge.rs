//! `voicetwin merge DIR... --out DIR`: combines the shard directories of one sweep into the
//! outputs an unsharded run would have written, byte for byte.

use crate::experiment::{OutDir, SweepResults};
use crate::report::output;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `voicetwin merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The shard output directories (one sweep's, any order).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged outputs.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `voicetwin merge`.
pub fn main(args: MergeArgs) -> ExitCode {
    match merge(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn merge(args: &MergeArgs) -> Result<(), String> {
    let results = SweepResults::collect(&args.dirs).map_err(|e| e.to_string())?;
    // The merged directory records the plan, so `voicetwin chart` works on it, and a
    // directory of another experiment is refused.
    OutDir::new(&args.out)
        .prepare(&results.plan, false, "merge")
        .map_err(|e| e.to_string())?;
    output::write_results(&results, &args.out).map_err(|e| e.to_string())?;
    println!(
        "merged {} director{} of `{}`: {} point(s), {} run(s); results in {}",
        args.dirs.len(),
        if args.dirs.len() == 1 { "y" } else { "ies" },
        results.plan.experiment,
        results.points.len(),
        results.units.len(),
        args.out.display()
    );
    super::run::print_capacity(&results);
    Ok(())
}
