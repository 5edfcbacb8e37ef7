//! Loss processes: Bernoulli rate, Gilbert–Elliott rate and burst length, counter balance.

mod net_common;

use net_common::*;
use voicetwin::sim::{SimTime, TraceMode};

/// Sends `n` probes a → b over one link with `loss`, returns the sequence numbers received
/// and the a → b counters.
fn survivors(loss: &str, n: u64, seed: u64) -> (Vec<u64>, voicetwin::net::DirCounters) {
    let net = network(
        &format!(
            r#"Topology(
                name: "lossy",
                nodes: [(name: "a"), (name: "b")],
                links: [(a: "a", b: "b", latency_ms: 5, loss: {loss})],
            )"#
        ),
        seed,
    );
    let probes = stream(&net, "a", "b", SimTime::ZERO, 1_000, n, 64, 0);
    let (world, _) = run(net, probes, vec![], SimTime::MAX, TraceMode::Off);
    let link = world.net.link_id("a-b").expect("link");
    let a = world.net.node_id("a").expect("a");
    let counters = world.net.dir_counters(link, a).expect("a -> b");
    (world.received.iter().map(|r| r.seq).collect(), counters)
}

/// Lengths of the runs of consecutive missing sequence numbers.
fn bursts(received: &[u64], n: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut run = 0;
    let mut next = received.iter().peekable();
    for seq in 0..n {
        if next.peek() == Some(&&seq) {
            next.next();
            if run > 0 {
                out.push(run);
                run = 0;
            }
        } else {
            run += 1;
        }
    }
    if run > 0 {
        out.push(run);
    }
    out
}

#[test]
fn bernoulli_loss_rate() {
    const N: u64 = 100_000;
    let (got, c) = survivors("Bernoulli(p: 0.05)", N, 42);
    let lost = N - got.len() as u64;
    // Binomial: sd of the rate is √(p(1−p)/N) = 0.00069; five of them is 0.0034.
    let rate = lost as f64 / N as f64;
    assert!(
        (rate - 0.05).abs() < 5.0 * (0.05f64 * 0.95 / N as f64).sqrt(),
        "{rate}"
    );
    assert_eq!(c.dropped_loss, lost);
    assert_eq!((c.sent, c.delivered, c.in_flight()), (N, N - lost, 0));
    // Independent losses: bursts are geometric with mean 1/(1−p) = 1.053.
    let b = bursts(&got, N);
    let mean_burst = b.iter().sum::<u64>() as f64 / b.len() as f64;
    assert!((mean_burst - 1.0 / 0.95).abs() < 0.03, "{mean_burst}");
}

#[test]
fn gilbert_elliott_rate_and_burst_length() {
    const N: u64 = 400_000;
    // p = 0.01, r = 0.25, all lost in bad, none in good: stationary loss p/(p+r) = 0.03846,
    // bursts geometric with mean 1/r = 4.
    let (got, c) = survivors(
        "GilbertElliott(p_good_to_bad: 0.01, p_bad_to_good: 0.25)",
        N,
        9,
    );
    let rate = (N - got.len() as u64) as f64 / N as f64;
    // The loss indicator is a two-state Markov chain with eigenvalue λ = 1 − p − r = 0.74;
    // its mean over N steps has variance π(1−π)(1+λ)/((1−λ)N), sd 0.00079 here. ±5 sd.
    let pi = 0.01 / 0.26;
    let sd = (pi * (1.0 - pi) * 1.74 / 0.26 / N as f64).sqrt();
    assert!((rate - pi).abs() < 5.0 * sd, "rate {rate} vs {pi}");
    assert_eq!(c.dropped_loss, N - got.len() as u64);

    let b = bursts(&got, N);
    // About N·π_good·p ≈ 3850 bursts, each geometric(r): sd √(1−r)/r = 3.46, so the mean
    // has sd 0.056. ±5 sd = ±0.28, while Bernoulli losses at the same rate give 1.04.
    let mean_burst = b.iter().sum::<u64>() as f64 / b.len() as f64;
    assert!((mean_burst - 4.0).abs() < 0.28, "mean burst {mean_burst}");
    assert!(b.len() > 3000, "{} bursts", b.len());
}

#[test]
fn gilbert_elliott_with_partial_loss_in_each_state() {
    const N: u64 = 400_000;
    // Loss 0.5 in bad, 0.01 in good, p = 0.02, r = 0.2: mean loss
    // (0.02/0.22)·0.5 + (0.2/0.22)·0.01 = 0.05455.
    let (got, _) = survivors(
        "GilbertElliott(p_good_to_bad: 0.02, p_bad_to_good: 0.2, loss_in_bad: 0.5, loss_in_good: 0.01)",
        N,
        5,
    );
    let rate = (N - got.len() as u64) as f64 / N as f64;
    let expected = 0.02 / 0.22 * 0.5 + 0.2 / 0.22 * 0.01;
    // Asymptotic variance of the loss indicator: m(1−m) + 2(h−k)²π(1−π)·λ/(1−λ) with
    // λ = 0.78, π = 0.0909: 0.0516 + 0.1404 = 0.192, so the rate has sd 0.00069 over N;
    // 0.005 is 7 sd, while ignoring either state's loss moves the rate by ≥ 0.009.
    assert!((rate - expected).abs() < 0.005, "{rate} vs {expected}");
}

#[test]
fn directions_lose_independently() {
    // Loss streams are per direction: the two directions of one link do not lose the same
    // packets (identical streams would give identical loss patterns).
    let net = network(
        r#"Topology(
            name: "duplex",
            nodes: [(name: "a"), (name: "b")],
            links: [(a: "a", b: "b", latency_ms: 5, loss: Bernoulli(p: 0.2))],
        )"#,
        3,
    );
    let mut probes = stream(&net, "a", "b", SimTime::ZERO, 1_000, 2_000, 64, 0);
    probes.extend(stream(&net, "b", "a", SimTime::ZERO, 1_000, 2_000, 64, 0));
    let (world, _) = run(net, probes, vec![], SimTime::MAX, TraceMode::Off);
    let at = |node: &str| -> Vec<u64> {
        let mut v: Vec<u64> = world
            .received
            .iter()
            .filter(|r| r.node == node)
            .map(|r| r.seq)
            .collect();
        v.sort_unstable();
        v
    };
    let (to_b, to_a) = (at("b"), at("a"));
    assert_ne!(to_b, to_a);
    assert!(to_b.len() > 1500 && to_a.len() > 1500);
}

#[test]
fn adding_a_link_or_generator_elsewhere_keeps_every_draw() {
    // Streams are named per link direction and per generator, so growing the topology
    // leaves the losses and jitter of the existing links exactly as they were.
    let base = r#"(name: "a"), (name: "b", role: "router")"#;
    let link = r#"(a: "a", b: "b", latency_ms: 5, jitter: Exponential(mean_ms: 2),
                   loss: GilbertElliott(p_good_to_bad: 0.05, p_bad_to_good: 0.3))"#;
    let run_with = |extra_nodes: &str, extra_links: &str, background: &str| {
        let net = network(
            &format!(
                r#"Topology(name: "grow", nodes: [{base}{extra_nodes}], links: [{link}{extra_links}],
                            background: [{background}])"#
            ),
            77,
        );
        let probes = stream(&net, "a", "b", SimTime::ZERO, 1_000, 5_000, 64, 0);
        // A generator never stops by itself: run to a horizon past the last probe.
        let (world, _) = run(net, probes, vec![], SimTime::from_secs(6), TraceMode::Off);
        world
            .received
            .iter()
            .map(|r| (r.seq, r.at))
            .collect::<Vec<_>>()
    };
    let before = run_with("", "", "");
    let after = run_with(
        r#", (name: "c")"#,
        r#", (a: "c", b: "b", latency_ms: 3, jitter: Uniform(max_ms: 4), loss: Bernoulli(p: 0.3))"#,
        r#"(name: "noise", from: "c", to: "b", pattern: OnOff(rate_mbps: 1, mean_on_ms: 50, mean_off_ms: 50))"#,
    );
    assert!(before.len() > 4000 && before.len() < 5000);
    assert_eq!(before, after);
}
