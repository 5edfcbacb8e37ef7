//! `voicetwin chart DIR`: redraws a result directory's charts from its `summary.json`,
//! `distributions.json` and stored plan, without rerunning anything.

use crate::report::output;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `voicetwin chart`.
#[derive(clap::Args, Debug)]
pub struct ChartArgs {
    /// A result directory written by `voicetwin run` or `voicetwin merge`.
    pub dir: PathBuf,
}

/// Runs `voicetwin chart`.
pub fn main(args: ChartArgs) -> ExitCode {
    match output::redraw_charts(&args.dir) {
        Ok(files) => {
            println!(
                "drew {} chart file(s) in {}",
                files.len(),
                args.dir.join("charts").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
