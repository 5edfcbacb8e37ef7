//! `cli`: the `voicetwin` command line (see DESIGN.md's command-line contract).
//!
//! Parses arguments with clap and calls into the layers below; it holds no simulation
//! logic. Output that tests rely on (`ok: FILE (Kind)`, `error: FILE:LINE:COL: ...`) stays
//! stable.

pub mod call;
pub mod check;
pub mod serve;

mod chart;
mod merge;
mod qualify;
mod run;
mod trace;

pub use run::SYNTHETIC_RUNNER_ENV;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// voicetwin: a deterministic simulator and digital twin of Lync / Skype for Business
/// Enterprise Voice networks with Direct SIP IP-PBXs and gateways.
#[derive(Parser, Debug)]
#[command(name = "voicetwin", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate RON files (topologies, vendor models, experiments) without running them.
    Check {
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run an experiment (default: the embedded incremental-vs-VoIP-only study).
    Run(run::RunArgs),
    /// Combine the shard directories of one sweep into its outputs.
    Merge(merge::MergeArgs),
    /// Redraw a result directory's charts without rerunning.
    Chart(chart::ChartArgs),
    /// Re-run one call of a sweep: a SIP ladder across every element and/or a pcap.
    Trace(trace::TraceArgs),
    /// Serve a model as a live SIP endpoint on a real UDP socket (the digital twin).
    Serve(serve::ServeArgs),
    /// Place real calls from our user agent to a live SIP peer.
    Call(call::CallArgs),
    /// Run the Direct SIP qualification plan against a vendor model (or all of them).
    Qualify(qualify::QualifyArgs),
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files } => {
            let ok = check::run(&files, &mut std::io::stdout(), &mut std::io::stderr());
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Run(args) => run::main(args),
        Command::Merge(args) => merge::main(args),
        Command::Chart(args) => chart::main(args),
        Command::Trace(args) => trace::main(args),
        Command::Serve(args) => serve::run(args),
        Command::Call(args) => call::run(args),
        Command::Qualify(args) => qualify::main(args),
    }
}
