//! Determinism: the same seed gives a byte-identical event trace and fingerprint, in one
//! process and across processes; another seed gives another trajectory.
//!
//! The scenario has 14 nodes over three sites, Bernoulli and Gilbert–Elliott loss, three
//! jitter distributions, strict priority and FIFO queues, a planned link failure, a node
//! failure injected by the experiment, and two background generators, carrying six
//! two-way voice flows for 30 s.

mod net_common;

use net_common::*;
use std::process::Command;
use voicetwin::net::{Fault, FaultAction, FaultTarget, Packet};
use voicetwin::sim::{Fnv1a, SimTime, TraceMode};

const TOPOLOGY: &str = r#"Topology(
    name: "determinism",
    nodes: [
        (name: "hq-lan", role: "lan", site: "hq"),
        (name: "hq-rtr", role: "router", site: "hq"),
        (name: "hq-fe", role: "front-end", site: "hq"),
        (name: "hq-med", role: "mediation", site: "hq"),
        (name: "hq-pbx", role: "pbx", site: "hq"),
        (name: "hq-data", role: "server", site: "hq"),
        (name: "mpls", role: "mpls", site: "carrier"),
        (name: "inet", role: "internet", site: "carrier"),
        (name: "br1-rtr", role: "router", site: "br1"),
        (name: "br1-lan", role: "lan", site: "br1"),
        (name: "br1-pbx", role: "pbx", site: "br1"),
        (name: "br2-rtr", role: "router", site: "br2"),
        (name: "br2-lan", role: "lan", site: "br2"),
        (name: "br2-gw", role: "gateway", site: "br2"),
    ],
    links: [
        (a: "hq-fe", b: "hq-lan", latency_ms: 0.1, bandwidth_mbps: 1000),
        (a: "hq-med", b: "hq-lan", latency_ms: 0.1, bandwidth_mbps: 1000),
        (a: "hq-pbx", b: "hq-lan", latency_ms: 0.1, bandwidth_mbps: 100),
        (a: "hq-data", b: "hq-lan", latency_ms: 0.1, bandwidth_mbps: 1000),
        (a: "hq-lan", b: "hq-rtr", latency_ms: 0.1, bandwidth_mbps: 1000),
        (name: "hq-mpls", a: "hq-rtr", b: "mpls", latency_ms: 4, jitter: Exponential(mean_ms: 0.5),
         loss: Bernoulli(p: 0.002), bandwidth_mbps: 10, queueing: StrictPriority),
        (name: "hq-inet", a: "hq-rtr", b: "inet", latency_ms: 9, jitter: Exponential(mean_ms: 3),
         bandwidth_mbps: 20),
        (name: "br1-mpls", a: "br1-rtr", b: "mpls", latency_ms: 12,
         jitter: Normal(mean_ms: 2, std_ms: 0.6),
         loss: GilbertElliott(p_good_to_bad: 0.01, p_bad_to_good: 0.3),
         bandwidth_mbps: 2.048, queue: Packets(40), queueing: StrictPriority),
        (name: "br1-inet", a: "br1-rtr", b: "inet", latency_ms: 20, jitter: Uniform(max_ms: 8),
         loss: Bernoulli(p: 0.01), bandwidth_mbps: 8),
        (name: "br2-mpls", a: "br2-rtr", b: "mpls", latency_ms: 25, jitter: Uniform(max_ms: 6),
         loss: Bernoulli(p: 0.005), bandwidth_mbps: 2.048, queue: Bytes(60000)),
        (a: "br1-lan", b: "br1-rtr", latency_ms: 0.2, bandwidth_mbps: 100),
        (a: "br1-pbx", b: "br1-lan", latency_ms: 0.1, bandwidth_mbps: 100),
        (a: "br2-lan", b: "br2-rtr", latency_ms: 0.2, bandwidth_mbps: 100),
        (a: "br2-gw", b: "br2-lan", latency_ms: 0.1, bandwidth_mbps: 100),
    ],
    faults: [LinkDown(link: "br1-mpls", at_s: 10, for_s: 8)],
    background: [
        (name: "backup", from: "hq-data", to: "br1-lan",
         pattern: ConstantRate(rate_mbps: 1.5, packet_bytes: 1500), start_s: 2),
        (name: "web", from: "mpls", link: "br2-mpls",
         pattern: OnOff(rate_mbps: 1.9, mean_on_ms: 300, mean_off_ms: 700)),
    ],
    must_reach: [("hq-fe", "br1-lan"), ("hq-med", "br2-gw")],
)"#;

/// What a run leaves behind, to compare byte for byte.
#[derive(Debug, PartialEq)]
struct Outcome {
    fingerprint: u64,
    events: u64,
    trace: String,
    /// Hash of (seq, node, arrival time) of every delivery, in order.
    deliveries: u64,
    delivered: usize,
}

fn run_scenario(seed: u64) -> Outcome {
    let net = network(TOPOLOGY, seed);
    let flows = [
        ("hq-med", "br2-gw"),
        ("hq-fe", "br1-lan"),
        ("hq-pbx", "br1-pbx"),
        ("br1-lan", "br2-lan"),
        ("hq-fe", "br2-lan"),
        ("hq-med", "br1-pbx"),
    ];
    let mut probes = Vec::new();
    for (i, (x, y)) in flows.iter().enumerate() {
        let start = SimTime::from_millis(100 + 7 * i as u64);
        for (k, (src, dst)) in [(x, y), (y, x)].into_iter().enumerate() {
            let mut s = stream(&net, src, dst, start, 20_000, 1500, 200, Packet::DSCP_EF);
            for (n, p) in s.iter_mut().enumerate() {
                let seq = ((2 * i + k) as u64) << 32 | n as u64;
                p.packet = probe(&net, src, dst, seq, 200).with_dscp(Packet::DSCP_EF);
            }
            probes.extend(s);
        }
    }
    let br1 = net.node_id("br1-rtr").expect("node");
    let faults = vec![
        (
            SimTime::from_secs(20),
            Fault {
                target: FaultTarget::Node(br1),
                action: FaultAction::Down,
            },
        ),
        (
            SimTime::from_secs(24),
            Fault {
                target: FaultTarget::Node(br1),
                action: FaultAction::Up,
            },
        ),
    ];
    let (world, sched) = run(net, probes, faults, SimTime::from_secs(31), TraceMode::Full);
    let mut h = Fnv1a::new();
    for r in &world.received {
        h.write_u64(r.seq);
        h.write(r.node.as_bytes());
        h.write_u64(r.at.as_nanos());
    }
    Outcome {
        fingerprint: sched.trace().fingerprint(),
        events: sched.trace().events(),
        trace: sched.trace().lines().to_string(),
        deliveries: h.finish(),
        delivered: world.received.len(),
    }
}

#[test]
fn same_seed_same_trace_other_seed_differs() {
    let a = run_scenario(2024);
    let b = run_scenario(2024);
    assert!(a.events > 100_000, "non-trivial: {} events", a.events);
    assert!(
        a.delivered > 15_000 && a.delivered < 18_000,
        "{}",
        a.delivered
    );
    assert_eq!(a.trace, b.trace, "byte-identical trace");
    assert_eq!(a, b);
    let c = run_scenario(2025);
    assert_ne!(a.fingerprint, c.fingerprint);
    assert_ne!(a.deliveries, c.deliveries);
    assert_ne!(a.trace, c.trace);
}

const CHILD_ENV: &str = "VOICETWIN_DETERMINISM_SEED";

/// Run by `same_seed_same_fingerprint_across_processes` in a child process: prints the
/// outcome of the seed in the environment. Does nothing in a normal test run.
#[test]
fn determinism_child() {
    let Ok(seed) = std::env::var(CHILD_ENV) else {
        return;
    };
    let o = run_scenario(seed.parse().expect("seed"));
    println!(
        "\nOUTCOME {:016x} {} {:016x} {}",
        o.fingerprint, o.events, o.deliveries, o.delivered
    );
}

fn child(seed: u64) -> String {
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args([
            "--exact",
            "determinism_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, seed.to_string())
        .output()
        .expect("run the child");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.split_once("OUTCOME ").map(|(_, o)| o.to_string()))
        .unwrap_or_else(|| panic!("no outcome in {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn same_seed_same_fingerprint_across_processes() {
    let here = run_scenario(7);
    let expected = format!(
        "{:016x} {} {:016x} {}",
        here.fingerprint, here.events, here.deliveries, here.delivered
    );
    assert_eq!(child(7), expected);
    assert_eq!(child(7), expected);
    assert_ne!(child(8), expected);
}

/// The trajectory of seed 7, pinned. A change that should not alter behaviour leaves it as
/// is; a change that should alter it updates it on purpose (rerun with
/// `VOICETWIN_DETERMINISM_SEED=7 cargo test --test determinism -- --exact determinism_child
/// --nocapture` and copy the OUTCOME line).
const GOLDEN_SEED_7: &str = "bcdd7e704cab6666 151924 56db75b065637197 16002";

#[test]
fn fingerprint_of_seed_7_is_pinned() {
    let o = run_scenario(7);
    let got = format!(
        "{:016x} {} {:016x} {}",
        o.fingerprint, o.events, o.deliveries, o.delivered
    );
    assert_eq!(got, GOLDEN_SEED_7, "the network's behaviour changed");
}
