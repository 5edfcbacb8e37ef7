//! Percentiles and empirical CDFs from the bounded-memory histogram, against exact order
//! statistics of the same values.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use voicetwin::metrics::Histogram;

/// 300k post-dial delays (ms), lognormal with median ~ 900 ms and a long tail.
fn pdd_samples() -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0005);
    let d = LogNormal::new(900f64.ln(), 0.6).unwrap();
    (0..300_000).map(|_| d.sample(&mut rng)).collect()
}

fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let k = ((q * sorted.len() as f64) - 1e-9).ceil().max(1.0) as usize;
    sorted[k - 1]
}

#[test]
fn bucketed_quantiles_within_stated_bound() {
    let xs = pdd_samples();
    let mut h = Histogram::new();
    xs.iter().for_each(|&x| h.try_record(x).unwrap());
    assert!(!h.is_exact());
    let mut sorted = xs.clone();
    sorted.sort_by(f64::total_cmp);
    let bound = h.relative_error();
    assert_eq!(bound, 1.0 / 256.0);
    let mut worst: f64 = 0.0;
    for i in 0..=1000 {
        let q = f64::from(i) / 1000.0;
        let exact = nearest_rank(&sorted, q);
        let got = h.quantile(q).unwrap();
        let rel = (got - exact).abs() / exact;
        worst = worst.max(rel);
        assert!(
            rel <= bound,
            "q={q}: {got} vs exact {exact} (rel {rel:.2e})"
        );
    }
    // The bound is not loose: the midpoint rule really uses a good part of it.
    assert!(worst > bound / 4.0, "worst {worst:.2e}");
    // Min and max are exact.
    assert_eq!(h.quantile(0.0), Some(sorted[0]));
    assert_eq!(h.quantile(1.0), Some(sorted[sorted.len() - 1]));
    // Memory: 2^7 counters per octave over the ~9 octaves seen, not 300k values.
    assert!(h.bucket_len() < 128 * 12, "{} buckets", h.bucket_len());
}

#[test]
fn exact_mode_is_exact() {
    let xs: Vec<f64> = pdd_samples().into_iter().take(2000).collect();
    let mut h = Histogram::new();
    xs.iter().for_each(|&x| h.try_record(x).unwrap());
    assert!(h.is_exact());
    let mut sorted = xs.clone();
    sorted.sort_by(f64::total_cmp);
    for q in [0.5, 0.95, 0.99] {
        assert_eq!(h.quantile(q), Some(nearest_rank(&sorted, q)));
    }
    assert_eq!(h.cdf(sorted[99]), Some(100.0 / 2000.0));
}

#[test]
fn merged_halves_equal_the_whole() {
    let xs = pdd_samples();
    let mut whole = Histogram::new();
    let mut a = Histogram::new();
    let mut b = Histogram::new();
    for (i, &x) in xs.iter().enumerate() {
        whole.try_record(x).unwrap();
        if i % 3 == 0 { &mut a } else { &mut b }
            .try_record(x)
            .unwrap();
    }
    a.merge(&b).unwrap();
    assert_eq!(a.count(), whole.count());
    for q in [0.01, 0.5, 0.95, 0.999] {
        assert_eq!(a.quantile(q), whole.quantile(q), "q={q}");
    }
    // Two small exact histograms stay exact when their union fits.
    let mut s1 = Histogram::new();
    let mut s2 = Histogram::new();
    s1.try_record(3.0).unwrap();
    s2.try_record(1.0).unwrap();
    s1.merge(&s2).unwrap();
    assert!(s1.is_exact());
    assert_eq!(s1.quantile(0.5), Some(1.0));
}

#[test]
fn cdf_curve_is_bounded_and_monotone() {
    let xs = pdd_samples();
    let mut h = Histogram::new();
    xs.iter().for_each(|&x| h.try_record(x).unwrap());
    let curve = h.cdf_curve(200);
    assert!(
        curve.len() <= 200 && curve.len() >= 150,
        "{} points",
        curve.len()
    );
    for w in curve.windows(2) {
        assert!(w[0].0 < w[1].0 && w[0].1 < w[1].1, "{w:?}");
    }
    let last = curve[curve.len() - 1];
    assert_eq!(last, (h.max().unwrap(), 1.0));
    // The curve agrees with the quantiles: F(p95) >= 0.95 and just below it < 0.95.
    let p95 = h.quantile(0.95).unwrap();
    assert!(h.cdf(p95).unwrap() >= 0.95);
    assert!(h.cdf(p95 * (1.0 - 2.0 * h.relative_error())).unwrap() < 0.95);
    // Median of a lognormal is its scale: 900 ms, within sampling error (≈ 0.3%).
    let p50 = h.quantile(0.5).unwrap();
    assert!((p50 - 900.0).abs() < 900.0 * 0.01, "p50 {p50}");
}

#[test]
fn negative_and_zero_values() {
    // Jitter buffer adjustments or clock offsets can be negative; zero stays exactly zero.
    let mut h = Histogram::with_precision(7, 0).unwrap();
    for x in [-250.0, -1.0, 0.0, 0.0, 0.0, 2.0, 300.0] {
        h.try_record(x).unwrap();
    }
    assert_eq!(h.quantile(0.5), Some(0.0));
    let q0 = h.quantile(0.0).unwrap();
    assert_eq!(q0, -250.0, "clamped to the exact min");
    let q2 = h.quantile(2.0 / 7.0).unwrap();
    assert!((q2 + 1.0).abs() <= h.relative_error(), "{q2}");
}

mod prop {
    use super::nearest_rank;
    use proptest::prelude::*;
    use voicetwin::metrics::Histogram;

    /// Values of either sign spanning 1e-6 to 1e9 (normal floats), some repeated zeros.
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            9 => (-6.0f64..9.0, any::<bool>()).prop_map(|(e, neg)| {
                let v = 10f64.powf(e);
                if neg { -v } else { v }
            }),
            1 => Just(0.0),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever the values, a bucketed quantile is within the stated relative error of
        /// the exact nearest-rank order statistic, and never outside [min, max].
        #[test]
        fn quantile_error_bound(xs in prop::collection::vec(value(), 1..400), q in 0.0f64..=1.0) {
            let mut h = Histogram::with_precision(5, 0).unwrap();
            for &x in &xs {
                h.try_record(x).unwrap();
            }
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            let exact = nearest_rank(&sorted, q);
            let got = h.quantile(q).unwrap();
            prop_assert!((got - exact).abs() <= h.relative_error() * exact.abs(),
                "q={} got={} exact={}", q, got, exact);
            prop_assert!(got >= sorted[0] && got <= sorted[sorted.len() - 1]);
        }

        /// Merging is the same as recording everything in one histogram.
        #[test]
        fn merge_is_union(a in prop::collection::vec(value(), 0..200),
                          b in prop::collection::vec(value(), 0..200)) {
            let mut ha = Histogram::with_precision(6, 50).unwrap();
            let mut hb = Histogram::with_precision(6, 50).unwrap();
            let mut all = Histogram::with_precision(6, 0).unwrap();
            a.iter().for_each(|&x| { ha.try_record(x).unwrap(); all.try_record(x).unwrap(); });
            b.iter().for_each(|&x| { hb.try_record(x).unwrap(); all.try_record(x).unwrap(); });
            ha.merge(&hb).unwrap();
            prop_assert_eq!(ha.count(), all.count());
            for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
                if ha.is_exact() {
                    // Exact and bucketed answers differ by at most the bucket error.
                    let (e, b) = (ha.quantile(q).unwrap(), all.quantile(q).unwrap());
                    prop_assert!((e - b).abs() <= all.relative_error() * e.abs());
                } else {
                    prop_assert_eq!(ha.quantile(q), all.quantile(q));
                }
            }
        }
    }
}
