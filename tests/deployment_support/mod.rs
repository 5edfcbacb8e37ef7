//! Shared helpers of the deployment-level tests: load a topology from the repository,
//! tweak its text, run a workload on it through the scenario layer, and read a call's
//! capture (which elements its INVITEs and ISDN SETUPs crossed, where its RTP flowed).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use voicetwin::elements::CallTag;
use voicetwin::elements::callbook::CallLog;
use voicetwin::elements::host::Captured;
use voicetwin::metrics::cdr::CallRecord;
use voicetwin::metrics::record::call_record;
use voicetwin::scenario::build::builtin_model_map;
use voicetwin::scenario::run::{CallMeta, RunInput, RunOptions, RunReport, run};
use voicetwin::scenario::spec::{MediaMode, ScenarioSpec, ScheduledEvent};
use voicetwin::scenario::topology::Topology;
use voicetwin::sip::wire::{HeaderName, Method, Request};
use voicetwin::workload::{CallMix, FeatureSpec, HoldingSpec, LoadSpec, WorkloadSpec};

/// The path of a repository topology file.
pub fn topology_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("topologies")
        .join(format!("{name}.ron"))
}

/// The text of a repository topology file.
pub fn topology_text(name: &str) -> String {
    let path = topology_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The topology with the carrier's setup time fixed (no per-call spread), for tests that
/// measure timers in the post-dial delay.
pub fn fixed_carrier_setup(text: &str) -> String {
    edit(
        text,
        "Pstn((name: \"pstn\",",
        "Pstn((name: \"pstn\", network_setup_cv: 0.0,",
    )
}

/// Replaces `from` by `to` in `text`, insisting that `from` occurs (so a test never
/// silently runs an unmodified topology).
pub fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the topology");
    text.replace(from, to)
}

/// A workload of `mix` (equal weights), every callee answering, fixed holding times.
pub fn workload(mix: &[CallMix], erlangs: f64, holding_s: f64, measure_s: f64) -> WorkloadSpec {
    WorkloadSpec {
        load: LoadSpec::OfferedErlangs(erlangs),
        load_factor: 1.0,
        holding: HoldingSpec::Fixed { s: holding_s },
        mix: mix.iter().map(|m| (*m, 1.0)).collect(),
        features: FeatureSpec::default(),
        redial: None,
        warmup_s: 0.0,
        measure_s,
    }
}

pub fn scenario(
    workload: WorkloadSpec,
    media: MediaMode,
    events: Vec<ScheduledEvent>,
) -> ScenarioSpec {
    ScenarioSpec {
        workload,
        media,
        drain_s: 600.0,
        events,
    }
}

/// One finished call: its log, what the workload knew, and its CDR row.
pub struct Call {
    pub log: CallLog,
    pub meta: CallMeta,
    pub cdr: CallRecord,
}

/// The result of a run.
pub struct Outcome {
    pub calls: Vec<Call>,
    pub report: RunReport,
}

/// Runs `spec` on the topology `text` (named `name` for errors) with `seed`.
pub fn run_text(
    name: &str,
    text: &str,
    spec: &ScenarioSpec,
    seed: u64,
    options: &RunOptions,
) -> Outcome {
    let path = PathBuf::from(format!("{name}.ron"));
    let topology = Topology::parse(&path, text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let models = builtin_model_map();
    let input = RunInput {
        topology_path: &path,
        topology_text: text,
        topology: &topology,
        scenario: spec,
        models: &models,
    };
    let mut logs = Vec::new();
    let report = run(&input, seed, options, &mut |log, meta| {
        logs.push((log, meta))
    })
    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let calls = logs
        .into_iter()
        .map(|(log, meta)| {
            let cdr = call_record(&log, &meta, &report.element_names, name);
            Call { log, meta, cdr }
        })
        .collect();
    Outcome { calls, report }
}

/// Element names by node address (every element of these topologies has its own node).
pub fn names_by_ip(report: &RunReport) -> BTreeMap<Ipv4Addr, String> {
    report
        .element_addresses
        .iter()
        .zip(&report.element_names)
        .map(|((_, ip), name)| (*ip, name.clone()))
        .collect()
}

/// What one call's capture shows.
#[derive(Debug, Default)]
pub struct CallCapture {
    /// The elements the call's setup crossed, in order: initial INVITEs (no To tag) and
    /// ISDN SETUPs, chained hop by hop.
    pub setup_path: Vec<String>,
    /// (sender, receiver) element pairs of the call's RTP/RTCP datagrams.
    pub media_pairs: BTreeSet<(String, String)>,
    pub media_datagrams: usize,
}

fn is_initial_invite(payload: &[u8]) -> bool {
    match Request::parse(payload) {
        Ok(r) => {
            r.method == Method::Invite
                && !r
                    .headers
                    .get(HeaderName::To)
                    .is_some_and(|to| to.contains("tag="))
        }
        Err(_) => false,
    }
}

/// Reads the capture of a run watched on one call.
pub fn call_capture(report: &RunReport) -> CallCapture {
    let by_ip = names_by_ip(report);
    let name = |ip: &Ipv4Addr| by_ip.get(ip).cloned().unwrap_or_else(|| ip.to_string());
    let mut hops: Vec<(String, String)> = Vec::new();
    let mut out = CallCapture::default();
    for c in &report.capture {
        match c {
            Captured::Datagram {
                packet,
                delivered: false,
                media,
                ..
            } => {
                let pair = (name(packet.src.ip()), name(packet.dst.ip()));
                if *media {
                    out.media_datagrams += 1;
                    out.media_pairs.insert(pair);
                } else if is_initial_invite(&packet.payload) && hops.last() != Some(&pair) {
                    hops.push(pair);
                }
            }
            Captured::Isdn {
                from, to, label, ..
            } if label.starts_with("SETUP") => {
                let n = |id: &voicetwin::elements::ElementId| {
                    report.element_names[id.0 as usize].clone()
                };
                let pair = (n(from), n(to));
                if hops.last() != Some(&pair) {
                    hops.push(pair);
                }
            }
            _ => {}
        }
    }
    for (i, (a, b)) in hops.iter().enumerate() {
        if i == 0 {
            out.setup_path.push(a.clone());
        } else {
            assert_eq!(
                out.setup_path.last(),
                Some(a),
                "the setup hops do not chain: {hops:?}"
            );
        }
        out.setup_path.push(b.clone());
    }
    out
}

/// Re-runs the same run watching call `tag` (the simulated behaviour is unchanged).
pub fn watch(
    name: &str,
    text: &str,
    spec: &ScenarioSpec,
    seed: u64,
    tag: CallTag,
) -> (Call, CallCapture) {
    let options = RunOptions {
        watch: Some(tag),
        ..RunOptions::default()
    };
    let mut o = run_text(name, text, spec, seed, &options);
    let capture = call_capture(&o.report);
    let i = o
        .calls
        .iter()
        .position(|c| c.log.tag == tag)
        .expect("the watched call ran again");
    (o.calls.swap_remove(i), capture)
}
