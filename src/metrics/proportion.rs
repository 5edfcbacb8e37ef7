//! Proportions (blocking probability, success rate, share of poor calls) and their binomial
//! confidence intervals.
//!
//! Two intervals are offered:
//! - **Wilson score**: the default. Its coverage stays close to nominal even for the small
//!   blocking probabilities of a 1% grade of service, where the textbook Wald interval
//!   `p ± z·√(p(1−p)/n)` collapses to zero width at `p = 0`.
//! - **Clopper–Pearson** ("exact"): inverts the binomial test through the beta quantile. It
//!   guarantees at least nominal coverage and is therefore conservative (wider).
//!
//! Both assume independent trials. Calls within one run are not independent (a blocked call
//! arrives while the trunk is full, so its neighbours are likely blocked too); the headline
//! figure across replications uses the Student-t [`Summary`](super::Summary) instead. The
//! binomial interval is for pooled counts and validation against theory.

use super::{MetricsError, Summary};
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::inv_beta_reg;

/// MOS below which G.107 Annex B rates users "some dissatisfied" (R = 70).
pub const MOS_SOME_DISSATISFIED: f64 = 3.6;
/// MOS below which G.107 Annex B rates users "many dissatisfied" (R = 60).
pub const MOS_MANY_DISSATISFIED: f64 = 3.1;

/// `successes` out of `trials` independent Bernoulli trials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proportion {
    successes: u64,
    trials: u64,
}

/// The standard normal quantile `z(1 − (1 − level)/2)`; `None` for a level outside (0, 1).
fn z_two_sided(level: f64) -> Option<f64> {
    if !(level > 0.0 && level < 1.0) {
        return None;
    }
    // Invariant for `ok()?`: mean 0 and std-dev 1 are always accepted.
    let n = Normal::new(0.0, 1.0).ok()?;
    Some(n.inverse_cdf(1.0 - 0.5 * (1.0 - level)))
}

impl Proportion {
    /// Fails when `successes > trials`.
    pub fn new(successes: u64, trials: u64) -> Result<Self, MetricsError> {
        if successes > trials {
            return Err(MetricsError::InvalidCount {
                what: "successes",
                value: successes,
                expected: "at most the number of trials",
            });
        }
        Ok(Proportion { successes, trials })
    }

    pub fn successes(&self) -> u64 {
        self.successes
    }

    pub fn trials(&self) -> u64 {
        self.trials
    }

    /// The point estimate `successes / trials`; `None` without trials.
    pub fn estimate(&self) -> Option<f64> {
        (self.trials > 0).then(|| self.successes as f64 / self.trials as f64)
    }

    /// The Wilson score interval at `level` (e.g. 0.95), clamped to [0, 1].
    pub fn wilson(&self, level: f64) -> Option<(f64, f64)> {
        let p = self.estimate()?;
        let z = z_two_sided(level)?;
        let n = self.trials as f64;
        let z2 = z * z;
        let denom = 1.0 + z2 / n;
        let centre = (p + z2 / (2.0 * n)) / denom;
        let hw = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        // At the edges the bound is exactly 0 or 1; rounding must not push it across.
        let lo = if self.successes == 0 {
            0.0
        } else {
            (centre - hw).max(0.0)
        };
        let hi = if self.successes == self.trials {
            1.0
        } else {
            (centre + hw).min(1.0)
        };
        Some((lo, hi))
    }

    /// The Clopper–Pearson interval at `level`: the `α/2` quantile of Beta(x, n−x+1) and
    /// the `1−α/2` quantile of Beta(x+1, n−x).
    pub fn clopper_pearson(&self, level: f64) -> Option<(f64, f64)> {
        if self.trials == 0 || !(level > 0.0 && level < 1.0) {
            return None;
        }
        let alpha = 1.0 - level;
        let (x, n) = (self.successes as f64, self.trials as f64);
        let lo = if self.successes == 0 {
            0.0
        } else {
            inv_beta_reg(x, n - x + 1.0, 0.5 * alpha)
        };
        let hi = if self.successes == self.trials {
            1.0
        } else {
            inv_beta_reg(x + 1.0, n - x, 1.0 - 0.5 * alpha)
        };
        Some((lo, hi))
    }

    /// The estimate with its 95% Wilson interval as a [`Summary`]; here `n` counts trials,
    /// not replications.
    pub fn wilson_summary(&self) -> Summary {
        let ci = self.wilson(super::CONFIDENCE_95);
        Summary {
            mean: self.estimate(),
            ci95_low: ci.map(|c| c.0),
            ci95_high: ci.map(|c| c.1),
            n: self.trials,
        }
    }
}

/// Counts the share of values strictly below a threshold (e.g. calls with MOS < 3.6).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShareBelow {
    threshold: f64,
    below: u64,
    total: u64,
}

impl ShareBelow {
    /// Fails on a non-finite threshold.
    pub fn new(threshold: f64) -> Result<Self, MetricsError> {
        if !threshold.is_finite() {
            return Err(MetricsError::arg(
                "threshold",
                threshold,
                "expected a finite value",
            ));
        }
        Ok(ShareBelow {
            threshold,
            below: 0,
            total: 0,
        })
    }

    /// Counts one value; a NaN is refused (it is neither below nor above).
    pub fn try_push(&mut self, x: f64) -> Result<(), MetricsError> {
        if x.is_nan() {
            return Err(MetricsError::arg("sample", x, "expected a number"));
        }
        self.total += 1;
        if x < self.threshold {
            self.below += 1;
        }
        Ok(())
    }

    /// Adds another counter with the same threshold.
    pub fn merge(&mut self, other: &ShareBelow) -> Result<(), MetricsError> {
        if other.threshold.to_bits() != self.threshold.to_bits() {
            return Err(MetricsError::arg(
                "threshold",
                other.threshold,
                "merged counters must share their threshold",
            ));
        }
        self.below += other.below;
        self.total += other.total;
        Ok(())
    }

    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The counts as a binomial proportion (for its confidence interval).
    pub fn proportion(&self) -> Proportion {
        Proportion {
            successes: self.below,
            trials: self.total,
        }
    }

    /// The share below the threshold; `None` before any value.
    pub fn share(&self) -> Option<f64> {
        self.proportion().estimate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn rejects_impossible_counts() {
        assert!(Proportion::new(5, 4).is_err());
        let empty = Proportion::new(0, 0).unwrap();
        assert_eq!(empty.estimate(), None);
        assert_eq!(empty.wilson(0.95), None);
        assert_eq!(empty.clopper_pearson(0.95), None);
        assert_eq!(empty.wilson_summary(), Summary::EMPTY);
    }

    #[test]
    fn edges_are_exact() {
        let none = Proportion::new(0, 50).unwrap();
        assert_eq!(none.wilson(0.95).unwrap().0, 0.0);
        assert_eq!(none.clopper_pearson(0.95).unwrap().0, 0.0);
        let all = Proportion::new(50, 50).unwrap();
        assert_eq!(all.wilson(0.95).unwrap().1, 1.0);
        assert_eq!(all.clopper_pearson(0.95).unwrap().1, 1.0);
        // Zero successes in n trials: the exact upper bound solves (1 − p)^n = α/2.
        let hi = none.clopper_pearson(0.95).unwrap().1;
        assert_abs_diff_eq!(hi, 1.0 - 0.025_f64.powf(1.0 / 50.0), epsilon = 1e-12);
    }

    #[test]
    fn share_below_counts_strictly() {
        let mut s = ShareBelow::new(MOS_SOME_DISSATISFIED).unwrap();
        for x in [4.4, 3.6, 3.59, 2.0] {
            s.try_push(x).unwrap();
        }
        assert!(s.try_push(f64::NAN).is_err());
        assert_eq!(s.share(), Some(0.5));
        let mut t = ShareBelow::new(MOS_SOME_DISSATISFIED).unwrap();
        t.try_push(1.0).unwrap();
        s.merge(&t).unwrap();
        assert_eq!(s.proportion(), Proportion::new(3, 5).unwrap());
        let other = ShareBelow::new(MOS_MANY_DISSATISFIED).unwrap();
        assert!(s.merge(&other).is_err());
    }
}
