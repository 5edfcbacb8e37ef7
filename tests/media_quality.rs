//! Loss and jitter on a link (a seeded stream here, since the network layer is merged
//! later) show up in the receiver's statistics and in MOS, in the right direction and
//! within statistical bounds.

mod media_support;

use media_support::{Link, Loss, Pair};
use voicetwin::metrics::emodel::{CodecStage, DirectionInput, DirectionQuality, SUMMARY_VARIANT};
use voicetwin::rtp::{Codec, JitterBufferConfig, MediaConfig, MediaSession, TalkSpurtModel, Voice};
use voicetwin::sim::{RngFactory, SimDuration, SimTime};

struct Outcome {
    loss_ratio: f64,
    ppl: f64,
    late: u64,
    burst_r: f64,
    jitter_ms: f64,
    m2e_ms: f64,
    quality: DirectionQuality,
}

/// A sends G.711 continuously to B for `secs`; B sends nothing (VAD, no CN, silent).
fn call(
    seed: u64,
    secs: u64,
    loss: Loss,
    jitter_ms: u64,
    fifo: bool,
    jb: JitterBufferConfig,
) -> Outcome {
    let f = RngFactory::new(seed);
    let mut a_cfg = MediaConfig::new(Codec::Pcmu.profile());
    a_cfg.jitter_buffer = jb.clone();
    let mut b_cfg = a_cfg.clone();
    b_cfg.vad = true;
    let a = MediaSession::new(
        a_cfg,
        TalkSpurtModel::constant(Voice::Talking),
        f.indexed_stream("c", "m", 0),
        SimTime::ZERO,
    )
    .unwrap();
    let mut b = MediaSession::new(
        b_cfg,
        TalkSpurtModel::constant(Voice::Silent),
        f.indexed_stream("c", "m", 1),
        SimTime::ZERO,
    )
    .unwrap();
    // The simulator knows A's media clock: B can measure one-way delay without RTCP.
    b.set_remote_clock(a.clock());
    let mut ab = Link::new(40, f.stream("ab", "net"));
    ab.loss = loss;
    ab.jitter = SimDuration::from_millis(jitter_ms);
    ab.fifo = fifo;
    let mut p = Pair::new(a, b, ab, Link::new(40, f.stream("ba", "net")));
    p.keep_capture = false;
    p.run_until(SimTime::from_secs(secs));
    p.b.advance(SimTime::from_secs(secs));
    let st = p.b.reception_stats().unwrap();
    let runs = p.b.loss_runs().clone();
    let m2e = p.b.delay().mouth_to_ear(SimDuration::ZERO).unwrap();
    let codec = Codec::Pcmu.profile();
    let input = DirectionInput {
        mouth_to_ear_ms: m2e.as_millis_f64(),
        stages: vec![CodecStage {
            ie: codec.ie,
            bpl: codec.bpl,
            ppl: runs.ppl_percent(),
            burst_r: runs.burst_ratio(),
        }],
    };
    Outcome {
        loss_ratio: st.loss_ratio(),
        ppl: runs.ppl_percent(),
        late: runs.late,
        burst_r: runs.burst_ratio(),
        jitter_ms: st.jitter_ms,
        m2e_ms: m2e.as_millis_f64(),
        quality: input.evaluate(SUMMARY_VARIANT),
    }
}

fn fixed(ms: u64) -> JitterBufferConfig {
    JitterBufferConfig::fixed(SimDuration::from_millis(ms))
}

#[test]
fn random_loss_shows_in_stats_and_lowers_mos() {
    // 300 s = 15 000 packets per call.
    let n = 15_000.0;
    let mut last_mos = f64::INFINITY;
    for (i, p) in [0.0, 0.01, 0.03].into_iter().enumerate() {
        let o = call(100 + i as u64, 300, Loss::Random(p), 0, true, fixed(40));
        // Binomial: sd = sqrt(p (1 - p) / n); allow 4 sd (and a floor for p = 0).
        let tol = 4.0 * (p * (1.0 - p) / n).sqrt() + 1e-9;
        assert!(
            (o.loss_ratio - p).abs() <= tol,
            "p {p}: loss {}",
            o.loss_ratio
        );
        // No jitter: nothing is late, and the listener's loss is the network's.
        assert_eq!(o.late, 0);
        assert!((o.ppl / 100.0 - p).abs() <= tol, "p {p}: ppl {}", o.ppl);
        if p > 0.0 {
            // Random loss: BurstR near 1. With ~150-450 runs the mean run length has a
            // relative sd under 1.5 %; allow 10 %.
            assert!((o.burst_r - 1.0).abs() < 0.1, "p {p}: BurstR {}", o.burst_r);
        }
        // M2E = 40 ms network + 20 ms packetisation + 40 ms buffer.
        assert!((o.m2e_ms - 100.0).abs() < 0.5, "m2e {}", o.m2e_ms);
        assert!(o.quality.mos < last_mos, "MOS must fall with loss");
        last_mos = o.quality.mos;
    }
    // At 3 % random loss G.711+PLC: Ie,eff = 95*3/28.1 = 10.1 -> MOS about 4.1.
    assert!((3.9..4.25).contains(&last_mos), "{last_mos}");
}

#[test]
fn bursty_loss_enters_through_burst_r_and_costs_more_than_random_loss() {
    // Gilbert-Elliott, mean burst 1/r = 4 packets, stationary loss p/(p+r) = 2 %.
    let r = 0.25;
    let p = 0.02 * r / 0.98;
    let secs = 600; // 30 000 packets
    let bursty = call(7, secs, Loss::Gilbert { p, r }, 0, true, fixed(40));
    let random = call(8, secs, Loss::Random(0.02), 0, true, fixed(40));
    // Loss fraction of a two-state chain: sd = sqrt(pi (1-pi) (1+rho)/(1-rho) / n) with
    // rho = 1 - p - r = 0.745: 0.21 %. Allow 4 sd.
    assert!((bursty.ppl - 2.0).abs() < 0.85, "bursty ppl {}", bursty.ppl);
    // BurstR = mean burst (1 - pi) = 4 * 0.98 = 3.92; ~150 geometric runs (sd 3.5) give a
    // mean run sd of 0.28: allow about 4 sd.
    assert!(
        (bursty.burst_r - 3.92).abs() < 1.2,
        "BurstR {}",
        bursty.burst_r
    );
    assert!((random.burst_r - 1.0).abs() < 0.1);
    assert!(
        bursty.quality.mos < random.quality.mos,
        "{} vs {}",
        bursty.quality.mos,
        random.quality.mos
    );
}

#[test]
fn jitter_shows_in_the_rfc3550_estimate_and_costs_late_loss_or_delay() {
    // Independent uniform [0, J] extra delay (packets may reorder): E|D| = J/3, which the
    // estimator tracks. Averaged over 10 calls of 30 s; each final estimate is an EWMA
    // (weight 1/16) with sd ~0.04 J, so the mean of 10 has sd ~0.013 J = 0.4 ms at 30 ms.
    // Allow 2 ms.
    let mut sum = 0.0;
    for s in 0..10 {
        sum += call(200 + s, 30, Loss::None, 30, false, fixed(40)).jitter_ms;
    }
    let mean = sum / 10.0;
    assert!((mean - 10.0).abs() < 2.0, "mean RFC 3550 jitter {mean} ms");
    let calm = call(300, 120, Loss::None, 0, true, fixed(20));
    assert!(calm.jitter_ms < 0.01 && calm.late == 0);
    // A 20 ms fixed buffer against up to 60 ms of jitter loses many packets late.
    let small = call(301, 120, Loss::None, 60, false, fixed(20));
    assert!(
        small.late > 100 && small.ppl > 1.0,
        "late {} ppl {}",
        small.late,
        small.ppl
    );
    // The adaptive buffer trades that loss for delay.
    let adaptive = call(
        302,
        120,
        Loss::None,
        60,
        false,
        JitterBufferConfig::default(),
    );
    assert!(
        adaptive.ppl < small.ppl / 2.0,
        "adaptive ppl {}",
        adaptive.ppl
    );
    assert!(adaptive.m2e_ms > small.m2e_ms);
    assert!(calm.quality.mos > small.quality.mos);
    assert!(calm.quality.mos > adaptive.quality.mos);
}
