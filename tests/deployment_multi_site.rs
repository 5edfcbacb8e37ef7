//! The multi-site WAN deployment (`topologies/multi-site-wan.ron`) end to end: calls between
//! HQ and a branch complete over the WAN; over the call admission limit of the HQ–branch 1
//! site link, calls are rerouted through the PSTN or rejected, as the topology configures;
//! loss on the branch's WAN link lowers the MOS of the calls that cross it.

use std::path::Path;
use voicetwin::elements::spec::ElementKindSpec;
use voicetwin::metrics::cdr::{CallRecord, Outcome};
use voicetwin::metrics::record::call_record;
use voicetwin::scenario::build::builtin_model_map;
use voicetwin::scenario::run::{RunInput, RunOptions, run};
use voicetwin::scenario::spec::{MediaMode, ScenarioSpec};
use voicetwin::scenario::topology::Topology;
use voicetwin::workload::{CallMix, FeatureSpec, HoldingSpec, LoadSpec, WorkloadSpec};

fn topology_text() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/multi-site-wan.ron");
    std::fs::read_to_string(path).unwrap()
}

/// Replaces one piece of the topology text (it must be there exactly once).
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from}");
    text.replacen(from, to, 1)
}

/// Runs Lync-to-Lync calls (and optionally PSTN calls) on the topology; returns the CDRs.
fn run_calls(text: &str, erlangs: f64, mix: Vec<(CallMix, f64)>, seed: u64) -> Vec<CallRecord> {
    let path = Path::new("multi-site-wan.ron");
    let topology = Topology::parse(path, text).unwrap();
    let spec = ScenarioSpec {
        workload: WorkloadSpec {
            load: LoadSpec::OfferedErlangs(erlangs),
            load_factor: 1.0,
            holding: HoldingSpec::Exponential { mean_s: 120.0 },
            mix,
            features: FeatureSpec::default(),
            redial: None,
            warmup_s: 0.0,
            measure_s: 1200.0,
        },
        media: MediaMode::Flow,
        drain_s: 900.0,
        events: vec![],
    };
    let names: Vec<String> = topology
        .deployment
        .as_ref()
        .unwrap()
        .elements
        .iter()
        .map(|e| e.name().to_string())
        .collect();
    let models = builtin_model_map();
    let input = RunInput {
        topology_path: path,
        topology_text: text,
        topology: &topology,
        scenario: &spec,
        models: &models,
    };
    let mut cdrs = Vec::new();
    run(&input, seed, &RunOptions::default(), &mut |log, meta| {
        cdrs.push(call_record(&log, &meta, &names, "multi-site"));
    })
    .unwrap();
    cdrs
}

/// Calls between HQ and branch 1, read from the route (the first and last Lync pools).
fn hq_branch1(cdrs: &[CallRecord]) -> Vec<&CallRecord> {
    cdrs.iter()
        .filter(|c| {
            let hops: Vec<&str> = c.route.split('>').collect();
            let pools = |p: &str| hops.contains(&p);
            c.mix == "lync-lync" && pools("pool-hq") && pools("pool-br1")
        })
        .collect()
}

#[test]
fn a_call_between_sites_completes_over_the_wan() {
    let cdrs = run_calls(&topology_text(), 4.0, vec![(CallMix::LyncToLync, 1.0)], 1);
    let cross = hq_branch1(&cdrs);
    assert!(cross.len() > 5, "{} HQ–branch 1 calls", cross.len());
    for c in &cross {
        assert_eq!(c.outcome, Outcome::Answered, "{c:?}");
        assert!(c.two_way_audio, "{c:?}");
        // Media over the WAN: 20 ms on the branch access link and 3 ms at HQ, one way.
        let delay = c.delay_ms.unwrap();
        assert!(delay > 23.0, "{delay} ms mouth to ear");
        assert!(c.mos_caller.unwrap() > 4.0, "{c:?}");
    }
    // Both directions of the site pair are seen, and the site of each party is right.
    let route = |c: &&&CallRecord| c.route.split('>').next() == Some("pool-br1");
    assert!(cross.iter().any(|c| route(&c)));
    assert!(cross.iter().any(|c| !route(&c)));
    let c = cross[0];
    assert!(
        c.route.contains("fe1"),
        "signalling through the HQ Front End: {}",
        c.route
    );
}

#[test]
fn over_the_cac_limit_calls_are_rerouted_or_rejected_as_configured() {
    let one_session = edit(
        &topology_text(),
        "max_sessions: Some(12), overflow: RerouteViaPstn",
        "max_sessions: Some(1), overflow: RerouteViaPstn",
    );
    let load = 8.0;
    let mix = || vec![(CallMix::LyncToLync, 1.0)];
    // Reroute: an HQ user's call over the limit leaves through the caller's PSTN route (the
    // HQ Mediation Server and gateway) toward the callee's DID instead of being refused.
    // A branch 1 user's call cannot be rerouted: the only gateway is at HQ, so its PSTN
    // route crosses the same site link, and it is refused (503 Insufficient Bandwidth).
    let cdrs = run_calls(&one_session, load, mix(), 2);
    let over: Vec<&CallRecord> = cdrs
        .iter()
        .filter(|c| c.route.starts_with("pool-hq>fe1>med1>gw1"))
        .collect();
    assert!(over.len() > 3, "{} rerouted", over.len());
    assert!(over.iter().all(|c| c.outcome != Outcome::RejectedCapacity));
    let direct = hq_branch1(&cdrs)
        .iter()
        .filter(|c| c.outcome == Outcome::Answered)
        .count();
    assert!(direct > 0);
    let from_branch: Vec<&CallRecord> = cdrs
        .iter()
        .filter(|c| c.outcome == Outcome::RejectedCapacity)
        .collect();
    assert!(
        from_branch.iter().all(|c| c.route == "pool-br1>fe1"),
        "{from_branch:?}"
    );

    // Reject: the same calls are refused for capacity (503) instead.
    let reject = edit(&one_session, "overflow: RerouteViaPstn", "overflow: Reject");
    let cdrs = run_calls(&reject, load, mix(), 2);
    let rejected: Vec<&CallRecord> = cdrs
        .iter()
        .filter(|c| c.outcome == Outcome::RejectedCapacity)
        .collect();
    assert!(rejected.len() > 3, "{} rejected", rejected.len());
    for c in &rejected {
        assert_eq!(c.sip_code, Some(503), "{c:?}");
        assert!(!c.route.contains("gw1"), "{c:?}");
        // Refused at the Front End: the call never reached the callee's pool.
        assert!(c.route.ends_with(">fe1"), "{c:?}");
    }
    // Calls within HQ are never limited.
    let local: Vec<&CallRecord> = cdrs
        .iter()
        .filter(|c| {
            c.route
                .split('>')
                .filter(|h| h.starts_with("pool-"))
                .all(|h| h == "pool-hq")
        })
        .filter(|c| c.route.matches("pool-hq").count() >= 2)
        .collect();
    assert!(!local.is_empty());
    assert!(local.iter().all(|c| c.outcome == Outcome::Answered));
}

#[test]
fn loss_on_the_branch_wan_link_lowers_mos() {
    let mean_mos = |loss: &str| {
        let text = edit(
            &topology_text(),
            "loss: Bernoulli(p: 0.001),\n         bandwidth_mbps: 2.048",
            &format!("loss: Bernoulli(p: {loss}),\n         bandwidth_mbps: 2.048"),
        );
        let cdrs = run_calls(&text, 4.0, vec![(CallMix::LyncToLync, 1.0)], 3);
        let mos: Vec<f64> = hq_branch1(&cdrs)
            .iter()
            .flat_map(|c| [c.mos_caller, c.mos_callee])
            .flatten()
            .collect();
        assert!(mos.len() > 10, "{} MOS values", mos.len());
        mos.iter().sum::<f64>() / mos.len() as f64
    };
    let clean = mean_mos("0.0");
    let lossy = mean_mos("0.03");
    // Lync-to-Lync calls use RTAudio; over the clean WAN (about 30 ms one way) MOS is about
    // 4.0, and 3% random loss costs it well over 0.25 (the E-model's effective equipment
    // impairment grows steeply with loss).
    assert!(clean > 3.9, "{clean}");
    assert!(lossy < clean - 0.25, "clean {clean}, 3% loss {lossy}");
}
