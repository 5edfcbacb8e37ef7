//! `voicetwin serve MODEL --listen 127.0.0.1:PORT [--max-calls N] [--duration S]`: the
//! model as a live SIP endpoint on a real UDP socket.
//!
//! Stable output (tests read it): `listening on udp:ADDR` once the socket is bound, one
//! `applied: ...` / `not applied: ...` line per model behaviour, and at exit the lines
//! `summary: calls=N answered=N completed=N failed=N cancelled=N open=N`, `messages: ...`
//! and `stopped: ...`.

use crate::elements::callbook::PartyRole;
use crate::live::{LiveError, LiveModel, ServeConfig, Server, fresh_seed, stop_on_signals};
use crate::sim::SimDuration;
use clap::Args;
use std::io::Write;
use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `voicetwin serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// `uas` (plain RFC 3261 UAS), a vendor model id, or a path to a `.ron` model.
    pub model: String,
    /// Address to listen on (UDP). Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:5060")]
    pub listen: SocketAddrV4,
    /// Stop after this many calls have finished.
    #[arg(long)]
    pub max_calls: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Ring time before answering, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub answer_ms: u64,
    /// Signalling only: run no RTP/RTCP for the calls.
    #[arg(long)]
    pub no_media: bool,
    /// Seed of the element's identifiers and media (default: a fresh one per run).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Directory of vendor model files (the embedded models are used otherwise).
    #[arg(long, default_value = "vendor-models")]
    pub models: PathBuf,
    /// Print one line per finished call.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Runs `serve`.
pub fn run(args: ServeArgs) -> ExitCode {
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), LiveError> {
    let duration = match args.duration {
        Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => {
            return Err(LiveError::Option {
                option: "--duration",
                reason: format!("must be a positive number of seconds, not {s}"),
            });
        }
        None => None,
    };
    let model = LiveModel::resolve(&args.model, &args.models)?;
    let cfg = ServeConfig {
        model,
        listen: args.listen,
        max_calls: args.max_calls,
        duration,
        answer_after: SimDuration::from_millis(args.answer_ms),
        media: !args.no_media,
        seed: args.seed.unwrap_or_else(fresh_seed),
    };
    let stop = stop_on_signals()?;
    let mut server = Server::start(&cfg)?;
    let mut out = std::io::stdout().lock();
    // Output errors (a closed pipe) must not stop the server; the summary is best effort.
    let _ = writeln!(out, "serving {}", server.description());
    for a in server.applied() {
        let _ = writeln!(out, "  {a}");
    }
    let _ = writeln!(out, "listening on udp:{}", server.local());
    let _ = out.flush();
    drop(out);
    let verbose = args.verbose;
    let summary = server.run(&cfg, &stop, |log| {
        if verbose {
            let media = log.media_for(PartyRole::Callee);
            println!(
                "call {}: {} from {} to {} rtp_in={}",
                log.tag.0,
                log.outcome.as_str(),
                log.script.caller,
                log.script.callee,
                media.map_or(0, |m| m.audio_packets)
            );
        }
    })?;
    println!("{summary}");
    Ok(())
}
