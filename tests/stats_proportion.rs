//! Binomial confidence intervals for blocking and success probabilities, and the share of
//! calls below a MOS threshold.
//!
//! Reference values: Newcombe R.G. (1998), "Two-sided confidence intervals for the single
//! proportion: comparison of seven methods", Statistics in Medicine 17:857–872, Table II
//! (methods 3, Wilson score, and 5, Clopper–Pearson exact), printed to four decimals. The
//! tolerance is half a unit in the fourth decimal.

use voicetwin::metrics::{MOS_MANY_DISSATISFIED, MOS_SOME_DISSATISFIED, Proportion, ShareBelow};

/// An interval's (low, high).
type Bounds = (f64, f64);

/// (successes, trials, Wilson, Clopper–Pearson).
const NEWCOMBE: &[(u64, u64, Bounds, Bounds)] = &[
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0, 0.1611), (0.0, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
];

const TOL: f64 = 0.5e-4 + 1e-9;

#[test]
fn wilson_matches_newcombe() {
    for &(x, n, (lo, hi), _) in NEWCOMBE {
        let (l, h) = Proportion::new(x, n).unwrap().wilson(0.95).unwrap();
        assert!(
            (l - lo).abs() < TOL && (h - hi).abs() < TOL,
            "{x}/{n}: ({l}, {h})"
        );
    }
}

#[test]
fn clopper_pearson_matches_newcombe() {
    for &(x, n, _, (lo, hi)) in NEWCOMBE {
        let (l, h) = Proportion::new(x, n)
            .unwrap()
            .clopper_pearson(0.95)
            .unwrap();
        assert!(
            (l - lo).abs() < TOL && (h - hi).abs() < TOL,
            "{x}/{n}: ({l}, {h})"
        );
    }
}

#[test]
fn exact_interval_is_wider_than_wilson_near_zero() {
    // The 1% regime of a trunk group: 12 blocked calls in 1,000.
    let p = Proportion::new(12, 1000).unwrap();
    let (wl, wh) = p.wilson(0.95).unwrap();
    let (cl, ch) = p.clopper_pearson(0.95).unwrap();
    assert!(cl < wl && ch > wh);
    assert!(wl < 0.012 && 0.012 < wh);
    let s = p.wilson_summary();
    assert_eq!((s.mean, s.n), (Some(0.012), 1000));
}

#[test]
fn wilson_coverage_at_one_percent() {
    // Coverage of the Wilson interval for p = 1%, n = 2000, by summing the exact binomial
    // probabilities of every outcome whose interval contains p. Wilson's coverage at this
    // (n, p) is known to stay within about a point of nominal; a Wald interval would not.
    let (n, p) = (2000_u64, 0.01_f64);
    let mut coverage = 0.0;
    // log pmf by recurrence from k = 0 to stay finite.
    let mut log_pmf = n as f64 * (1.0 - p).ln();
    for k in 0..=n {
        if k > 0 {
            log_pmf += ((n - k + 1) as f64 / k as f64).ln() + (p / (1.0 - p)).ln();
        }
        let (lo, hi) = Proportion::new(k, n).unwrap().wilson(0.95).unwrap();
        if lo <= p && p <= hi {
            coverage += log_pmf.exp();
        }
    }
    assert!((0.93..=0.97).contains(&coverage), "coverage {coverage}");
}

#[test]
fn share_of_poor_calls() {
    let mos = [4.41, 4.2, 3.9, 3.61, 3.6, 3.59, 3.2, 3.1, 3.05, 2.5];
    let mut some = ShareBelow::new(MOS_SOME_DISSATISFIED).unwrap();
    let mut many = ShareBelow::new(MOS_MANY_DISSATISFIED).unwrap();
    for &m in &mos {
        some.try_push(m).unwrap();
        many.try_push(m).unwrap();
    }
    // Strictly below: 3.6 itself is not "below 3.6", 3.1 not "below 3.1".
    assert_eq!(some.share(), Some(0.5));
    assert_eq!(many.share(), Some(0.2));
    let (lo, hi) = some.proportion().wilson(0.95).unwrap();
    assert!(lo < 0.5 && hi > 0.5);
}
