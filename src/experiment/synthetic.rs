//! A synthetic [`PointRunner`]: an M/M/c/c trunk group with a simplified E-model, standing in
//! for the scenario layer's simulator in tests and benchmarks of the experiment machinery.
//!
//! It reads the same documents a real run gets, so sweeps, paths, seeds, failures and
//! outputs are exercised end to end:
//! - topology: `Topology(name: "t", channels: 23, pdd_ms: 850.0, pdd_sd_ms: 150.0,
//!   links: [(name: "wan1", latency_ms: 20.0, loss: 0.0)], model: "gw")` (all but `name`
//!   and `channels` optional; `model` only labels the route);
//! - scenario: `(workload: (offered_erlangs: 10.0, load_factor: 1.0, holding_s: 180.0,
//!   warmup_s: 600.0, measure_s: 3600.0), fault: Never, work: 0, pause_ms: 0)` (all but
//!   `offered_erlangs` optional).
//!
//! Calls arrive as a Poisson process at `offered_erlangs × load_factor / holding_s`, hold an
//! exponential time, and are blocked (503) when all `channels` are busy, so the measured
//! blocking follows Erlang B. Answered calls get a lognormal post-dial delay and a MOS from
//! the G.107 E-model simplified to its delay and random-loss terms (G.711 with packet loss
//! concealment, `Bpl` = 25.1, 60 ms of packetisation and jitter buffer on top of the links'
//! latency). `fault: Error("...")` makes the run fail and `fault: Panic("...")` makes it
//! panic; `work: N` spins N rounds of integer mixing per call, for CPU-bound benchmarks;
//! `pause_ms: N` sleeps N ms before returning, so that tests can interrupt a sweep midway
//! (sleeping reads no clock into any output).
//!
//! It reports `offered_erlangs`, `bottleneck_channels` and `erlang_b_blocking` (the
//! theoretical value) as point metrics.

use super::{PointRunner, RunUnit, UnitResult};
use crate::metrics::cdr::{CallRecord, Outcome};
use crate::metrics::erlang::erlang_b;
use crate::sim::RngFactory;
use crate::workload::{exponential, lognormal};
use rand::Rng;
use serde::Deserialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The synthetic runner (stateless).
#[derive(Clone, Copy, Debug, Default)]
pub struct SyntheticRunner;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Topology")]
struct Topology {
    #[allow(dead_code)]
    name: String,
    channels: u32,
    #[serde(default = "default_pdd")]
    pdd_ms: f64,
    #[serde(default = "default_pdd_sd")]
    pdd_sd_ms: f64,
    #[serde(default)]
    links: Vec<Link>,
    /// A product label (e.g. a PBX model id) shown in the route; it changes nothing else.
    #[serde(default)]
    model: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    #[allow(dead_code)]
    name: String,
    latency_ms: f64,
    loss: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    workload: Workload,
    #[serde(default)]
    fault: Fault,
    #[serde(default)]
    work: u32,
    #[serde(default)]
    pause_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Workload {
    offered_erlangs: f64,
    #[serde(default = "one")]
    load_factor: f64,
    #[serde(default = "default_holding")]
    holding_s: f64,
    #[serde(default = "default_warmup")]
    warmup_s: f64,
    #[serde(default = "default_measure")]
    measure_s: f64,
}

#[derive(Deserialize, Default)]
enum Fault {
    #[default]
    Never,
    Error(String),
    Panic(String),
}

fn default_pdd() -> f64 {
    850.0
}
fn default_pdd_sd() -> f64 {
    150.0
}
fn one() -> f64 {
    1.0
}
fn default_holding() -> f64 {
    180.0
}
fn default_warmup() -> f64 {
    600.0
}
fn default_measure() -> f64 {
    3600.0
}

/// G.107 R → MOS.
fn r_to_mos(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
    }
}

/// The E-model reduced to the delay impairment `Idd` and the effective equipment
/// impairment of G.711 with PLC under random loss; other terms at their defaults.
fn emodel_mos(mouth_to_ear_ms: f64, loss: f64) -> f64 {
    let idd = if mouth_to_ear_ms > 100.0 {
        let x = libm::log2(mouth_to_ear_ms / 100.0);
        25.0 * (libm::pow(1.0 + libm::pow(x, 6.0), 1.0 / 6.0)
            - 3.0 * libm::pow(1.0 + libm::pow(x / 3.0, 6.0), 1.0 / 6.0)
            + 2.0)
    } else {
        0.0
    };
    let ppl = 100.0 * loss.clamp(0.0, 1.0);
    let ie_eff = 95.0 * ppl / (ppl + 25.1);
    r_to_mos(93.2 - idd - ie_eff)
}

/// Integer mixing the optimiser cannot remove: a stand-in for simulation work.
fn spin(rounds: u32, mut x: u64) -> u64 {
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x)
}

impl PointRunner for SyntheticRunner {
    fn name(&self) -> &str {
        "synthetic"
    }

    fn run(&self, unit: &RunUnit, calls: &mut dyn FnMut(CallRecord)) -> Result<UnitResult, String> {
        let origin = format!("{} (point {})", unit.scenario.topology_origin, unit.point);
        let topo: Topology = unit
            .scenario
            .topology
            .deserialize(&origin)
            .map_err(|e| e.to_string())?;
        let sc: Scenario = unit
            .scenario
            .scenario
            .deserialize(&format!("scenario (point {})", unit.point))
            .map_err(|e| e.to_string())?;
        match &sc.fault {
            Fault::Never => {}
            Fault::Error(m) => return Err(m.clone()),
            Fault::Panic(m) => panic!("{m}"),
        }
        let w = &sc.workload;
        let offered = w.offered_erlangs * w.load_factor;
        if !(offered.is_finite() && offered > 0.0 && w.holding_s > 0.0 && w.measure_s > 0.0) {
            return Err(format!(
                "offered load {offered} E and holding time {} s must be positive",
                w.holding_s
            ));
        }
        let latency: f64 = topo.links.iter().map(|l| l.latency_ms).sum();
        let delivered: f64 = topo
            .links
            .iter()
            .map(|l| 1.0 - l.loss.clamp(0.0, 1.0))
            .product();
        let base_mos = emodel_mos(latency + 60.0, 1.0 - delivered);

        let rng = RngFactory::new(unit.seed);
        let mut arrivals = rng.stream("synthetic", "arrivals");
        let mut holding = rng.stream("synthetic", "holding");
        let mean_gap = w.holding_s / offered;
        let end = w.warmup_s + w.measure_s;
        let mut busy: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
        let mut t = 0.0;
        let mut call_id = 0_u64;
        let mut acc = 0_u64;
        loop {
            t += exponential(&mut arrivals, mean_gap);
            if t >= end {
                break;
            }
            let now_ns = (t * 1e9) as u64;
            while busy.peek().is_some_and(|Reverse(e)| *e <= now_ns) {
                busy.pop();
            }
            let answered = (busy.len() as u64) < u64::from(topo.channels);
            let hold = exponential(&mut holding, w.holding_s);
            let mut per_call = rng.indexed_stream("synthetic", "call", call_id);
            acc = spin(sc.work, acc ^ call_id);
            let (pdd, setup, mos) = if answered {
                busy.push(Reverse(now_ns + (hold * 1e9) as u64));
                let pdd = lognormal(&mut per_call, topo.pdd_ms, topo.pdd_sd_ms);
                let ring = exponential(&mut per_call, 4000.0);
                let noise = per_call.random::<f64>() * 0.1 - 0.05;
                (
                    Some(pdd),
                    Some(pdd + ring),
                    Some((base_mos + noise).clamp(1.0, 4.5)),
                )
            } else {
                (None, None, None)
            };
            calls(CallRecord {
                point: unit.point,
                replication: unit.replication,
                call_id,
                deployment: unit.deployment.clone(),
                mix: "lync-pstn".into(),
                direction: "outbound".into(),
                outcome: if answered {
                    Outcome::Answered
                } else {
                    Outcome::Blocked
                },
                sip_code: Some(if answered { 200 } else { 503 }),
                start_s: t,
                pdd_ms: pdd,
                setup_ms: setup,
                mos_caller: mos,
                mos_callee: mos.map(|m| (m - 0.02).max(1.0)),
                route: match (answered, topo.model.is_empty()) {
                    (false, _) => "fe1>med1".to_string(),
                    (true, true) => "fe1>med1>gw1".to_string(),
                    (true, false) => format!("fe1>med1>{}", topo.model),
                },
                failover: 0,
                ringback_heard: answered,
                early_media_heard: false,
                two_way_audio: answered,
                comfort_noise_played: false,
                attempt: 0,
                measured: t >= w.warmup_s,
                audio_ms: setup,
                talk_s: answered.then_some(hold),
                one_way_audio: false,
                muted: false,
                dtmf_received: false,
                media_relayed: true,
                codec: "PCMU".into(),
                delay_ms: answered.then_some(latency + 60.0),
                loss_caller: answered.then_some(1.0 - delivered),
                rtcp_jitter_ms: None,
                limitations: String::new(),
                detail: if answered {
                    String::new()
                } else {
                    "all channels busy".into()
                },
            });
            call_id += 1;
        }
        std::hint::black_box(acc);
        if sc.pause_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(sc.pause_ms));
        }
        let mut result = UnitResult::default();
        result.metrics.insert("offered_erlangs".into(), offered);
        result
            .metrics
            .insert("bottleneck_channels".into(), f64::from(topo.channels));
        if let Ok(b) = erlang_b(topo.channels, offered) {
            result.metrics.insert("erlang_b_blocking".into(), b);
        }
        result
            .extra
            .insert("runner".into(), "synthetic M/M/c/c".into());
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emodel_reference_points() {
        // No impairment: R = 93.2 gives MOS 4.41 (G.107's default-connection value).
        assert!((emodel_mos(60.0, 0.0) - 4.409).abs() < 0.005);
        // More delay and more loss only lower MOS.
        assert!(emodel_mos(300.0, 0.0) < emodel_mos(150.0, 0.0));
        assert!(emodel_mos(100.0, 0.05) < emodel_mos(100.0, 0.01));
        // 5% random loss with PLC: Ie,eff = 95·5/30.1 = 15.78, R = 77.42, MOS ≈ 3.923.
        assert!((emodel_mos(100.0, 0.05) - 3.923).abs() < 0.002);
    }
}
