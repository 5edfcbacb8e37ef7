//! `voicetwin call URI [--count N] [--rate R] [--model MODEL] [--hold-ms MS]`: real calls
//! from our user agent to a live SIP peer.
//!
//! Stable output: one `call I: OUTCOME status=... pdd_ms=... setup_ms=... talk_ms=...
//! rtp_in=...` line per call (unless `--quiet`), then `summary: calls=N answered=N
//! failed=N ...` and `messages: ...`. Exit code 0 when every call was answered, 1 when any
//! failed, 2 on an error before calling.

use crate::live::{CallConfig, Caller, LiveError, LiveModel, fresh_seed, stop_on_signals};
use crate::sim::SimDuration;
use clap::Args;
use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `voicetwin call`.
#[derive(Args, Debug)]
pub struct CallArgs {
    /// The SIP URI to call, e.g. `sip:service@127.0.0.1:5060`.
    pub uri: String,
    /// Number of calls.
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// Calls placed per second.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// The model of our user agent: `uas` (plain), a vendor model id or a `.ron` path.
    #[arg(long, default_value = "uas")]
    pub model: String,
    /// Talk time (with RTP) from answer to BYE, in milliseconds.
    #[arg(long, default_value_t = 500)]
    pub hold_ms: u64,
    /// Give up (CANCEL) a call not answered within this many milliseconds.
    #[arg(long, default_value_t = 32_000)]
    pub ring_timeout_ms: u64,
    /// Our SIP address; by default the local address toward the peer, any port.
    #[arg(long)]
    pub bind: Option<SocketAddrV4>,
    /// Seed of our identifiers and media (default: a fresh one per run, so Call-IDs never
    /// repeat against the same peer).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Directory of vendor model files (the embedded models are used otherwise).
    #[arg(long, default_value = "vendor-models")]
    pub models: PathBuf,
    /// Print only the summary.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `call`.
pub fn run(args: CallArgs) -> ExitCode {
    match call(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn call(args: CallArgs) -> Result<bool, LiveError> {
    let cfg = CallConfig {
        uri: args.uri.clone(),
        count: args.count,
        rate: args.rate,
        hold: SimDuration::from_millis(args.hold_ms),
        ring_timeout: SimDuration::from_millis(args.ring_timeout_ms),
        model: LiveModel::resolve(&args.model, &args.models)?,
        bind: args.bind,
        seed: args.seed.unwrap_or_else(fresh_seed),
    };
    let stop = stop_on_signals()?;
    let mut caller = Caller::start(&cfg)?;
    println!(
        "calling {} at udp:{} from udp:{} ({} calls at {}/s, model {})",
        args.uri,
        caller.target().addr,
        caller.local(),
        cfg.count,
        cfg.rate,
        cfg.model.id()
    );
    for a in caller.applied() {
        println!("  {a}");
    }
    let quiet = args.quiet;
    let report = caller.run(&cfg, &stop, |r| {
        if !quiet {
            println!("{r}");
        }
    })?;
    println!("{report}");
    Ok(report.failed() == 0 && !report.interrupted)
}
