//! One-way delay: latency, serialisation, jitter moments, and the no-overtaking rule.

mod net_common;

use net_common::*;
use voicetwin::sim::{SimDuration, SimTime, TraceMode};

/// Two hosts joined by one link with the given RON attributes.
fn pair(link_attrs: &str, seed: u64) -> voicetwin::net::Network {
    network(
        &format!(
            r#"Topology(
                name: "pair",
                nodes: [(name: "a"), (name: "b")],
                links: [(a: "a", b: "b", {link_attrs})],
            )"#
        ),
        seed,
    )
}

fn delays(link_attrs: &str, interval_us: u64, count: u64, seed: u64) -> Vec<Received> {
    let net = pair(link_attrs, seed);
    let probes = stream(&net, "a", "b", SimTime::ZERO, interval_us, count, 200, 0);
    let (world, _) = run(net, probes, vec![], SimTime::MAX, TraceMode::Off);
    world.received
}

#[test]
fn delay_is_latency_plus_serialisation_exactly() {
    // 200-byte IP packets + 18 bytes of Ethernet at 2 Mbit/s: 1744 bits take 872 µs.
    let r = delays("latency_ms: 20, bandwidth_mbps: 2", 20_000, 100, 1);
    assert_eq!(r.len(), 100);
    for x in &r {
        assert_eq!(x.at - x.sent_at, SimDuration::from_micros(20_872), "{x:?}");
        assert_eq!(x.hops, 1);
    }
}

/// The mean and spread of the delay match latency + jitter. Probes are 50 ms apart, far
/// more than any jitter difference here, so the no-overtaking rule never binds and the
/// samples are independent draws.
#[test]
fn jitter_moments_match_the_configuration() {
    const N: u64 = 20_000;
    // (jitter, expected mean of extra delay, expected sd, excess kurtosis + 3)
    let cases = [
        ("Normal(mean_ms: 5, std_ms: 1.5)", 5.0, 1.5, 3.0),
        ("Uniform(max_ms: 10)", 5.0, 10.0 / 12f64.sqrt(), 1.8),
        ("Exponential(mean_ms: 3)", 3.0, 3.0, 9.0),
    ];
    for (jitter, mean_j, sd_j, kurtosis) in cases {
        let r = delays(&format!("latency_ms: 20, jitter: {jitter}"), 50_000, N, 7);
        assert_eq!(r.len() as u64, N);
        let xs: Vec<f64> = r.iter().map(Received::delay_ms).collect();
        let (mean, sd) = mean_sd(&xs);
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        // Standard errors: σ/√N for the mean, σ·√((κ−1)/(4N)) for the sample sd. Five
        // standard errors is a false alarm once in ~2 million runs, yet a wrong scale,
        // a centred (±) jitter or a missing latency is off by hundreds of them.
        let n = N as f64;
        let se_mean = sd_j / n.sqrt();
        let se_sd = sd_j * ((kurtosis - 1.0) / (4.0 * n)).sqrt();
        assert!(
            (mean - (20.0 + mean_j)).abs() < 5.0 * se_mean,
            "{jitter}: mean {mean} vs {}",
            20.0 + mean_j
        );
        assert!(
            (sd - sd_j).abs() < 5.0 * se_sd,
            "{jitter}: sd {sd} vs {sd_j}"
        );
        assert!(min >= 20.0, "{jitter}: latency is a floor, got {min}");
    }
}

#[test]
fn jitter_does_not_reorder_unless_asked() {
    // Probes 1 ms apart with 0..20 ms of jitter: without the no-overtaking rule, a probe
    // would arrive before its predecessor with probability P(J1 − J2 > 1 ms) = (19/20)²/2.
    let fifo = delays(
        "latency_ms: 10, jitter: Uniform(max_ms: 20)",
        1_000,
        10_000,
        3,
    );
    assert!(
        fifo.windows(2)
            .all(|w| w[0].seq < w[1].seq && w[0].at <= w[1].at)
    );
    assert!(fifo.iter().all(|r| r.delay_ms() >= 10.0));

    let multipath = delays(
        "latency_ms: 10, jitter: Uniform(max_ms: 20), reorder: true",
        1_000,
        10_000,
        3,
    );
    let overtaken = multipath.windows(2).filter(|w| w[0].seq > w[1].seq).count();
    // Arrivals followed by an earlier-sent packet ("descents"): the pairwise probability is
    // 0.451, and a separate Monte Carlo of 600 000 arrivals with the same spacing and
    // jitter gives 0.453 ± 0.001 for descents. With n = 10 000 the standard error is about
    // 0.006, so ±0.03 is 5 of them; zero (no reordering) or 0.5 (a bug) falls far outside.
    let frac = overtaken as f64 / 10_000.0;
    assert!((frac - 0.453).abs() < 0.03, "{frac}");
}

#[test]
fn delays_add_up_over_a_path() {
    let net = network(
        r#"Topology(
            name: "chain",
            nodes: [(name: "a"), (name: "r1", role: "router"), (name: "r2", role: "router"),
                    (name: "b")],
            links: [
                (a: "a", b: "r1", latency_ms: 1, bandwidth_mbps: 100),
                (a: "r1", b: "r2", latency_ms: 15, bandwidth_mbps: 2),
                (a: "r2", b: "b", latency_ms: 1, bandwidth_mbps: 100),
            ],
        )"#,
        1,
    );
    let probes = stream(&net, "a", "b", SimTime::ZERO, 20_000, 50, 200, 46);
    let (world, _) = run(net, probes, vec![], SimTime::MAX, TraceMode::Off);
    // 17 ms of propagation, 2 × 17.44 µs at 100 Mbit/s and 872 µs at 2 Mbit/s.
    let expected = SimDuration::from_nanos(17_000_000 + 2 * 17_440 + 872_000);
    assert_eq!(world.received.len(), 50);
    for r in &world.received {
        assert_eq!(r.at - r.sent_at, expected);
        assert_eq!((r.hops, r.node.as_str()), (3, "b"));
    }
}
