//! `voicetwin trace EXPERIMENT [--point P] [--replication R] --call N [--ladder] [--pcap FILE]`:
//! one call of a sweep, re-run and recorded: a SIP ladder across every element, and/or a
//! pcap of its SIP and RTP that Wireshark opens.

use crate::experiment::Experiment;
use crate::experiment::scenario_runner::trace_call;
use crate::report::trace::{Participants, ladder, write_pcap};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `voicetwin trace`.
#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// The experiment file.
    pub experiment: PathBuf,
    /// The sweep point.
    #[arg(long, default_value_t = 0)]
    pub point: u32,
    /// The replication.
    #[arg(long, default_value_t = 0)]
    pub replication: u32,
    /// The call (`call_id` in calls.csv).
    #[arg(long)]
    pub call: u64,
    /// Print the SIP ladder (the default when --pcap is not given).
    #[arg(long)]
    pub ladder: bool,
    /// Write a pcap of the call's SIP and RTP to this file.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
}

pub fn main(args: TraceArgs) -> ExitCode {
    match trace(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn trace(args: TraceArgs) -> Result<(), String> {
    let exp = Experiment::load(&args.experiment).map_err(|e| e.to_string())?;
    let t = trace_call(&exp, args.point, args.replication, args.call)?;
    let r = &t.report;
    let mut who = Participants {
        by_id: r.element_names.clone(),
        ..Participants::default()
    };
    for (name, (sip, ip)) in r.element_names.iter().zip(&r.element_addresses) {
        who.by_sip.insert(*sip, name.clone());
        who.by_ip.entry(*ip).or_insert_with(|| name.clone());
    }
    if args.ladder || args.pcap.is_none() {
        let title = format!(
            "call {} ({}, {}) outcome {} — point {} replication {} seed {}{}",
            t.meta.call_id,
            t.meta.mix,
            t.meta.direction,
            t.log.outcome,
            args.point,
            args.replication,
            t.seed,
            if t.log.limitations.is_empty() {
                String::new()
            } else {
                format!(
                    " — limitations: {}",
                    t.log
                        .limitations
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        print!("{}", ladder(&title, &r.capture, &who));
    }
    if let Some(path) = &args.pcap {
        write_pcap(&r.capture, path).map_err(|e| e.to_string())?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
