//! Means with Student-t confidence intervals, and the streaming (Welford) accumulator.
//!
//! A [`Summary`] is what `summary.json` holds for every metric:
//! `{"mean": .., "ci95_low": .., "ci95_high": .., "n": ..}`. The interval is the two-sided
//! 95% Student-t interval `mean ± t(0.975, n−1) · s / √n` over independent replications.
//!
//! **Small samples.** With `n = 0` there is no mean: all three numbers are `null`. With
//! `n = 1` the sample variance is undefined and the t interval infinitely wide, so the mean is
//! given and `ci95_low`/`ci95_high` are `null` ("absent"), never a fake zero-width interval.
//! JSON has no infinity; `null` is the honest spelling.
//!
//! **Determinism.** Every number depends only on the values and the order they were pushed
//! in. Summing in a different order can change the last bits of a float, so callers feed
//! replications in replication order, whatever thread produced them.

use super::MetricsError;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The two-sided confidence level of [`Summary`] intervals.
pub const CONFIDENCE_95: f64 = 0.95;

/// A metric across replications: its mean and 95% Student-t confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Sample mean; `None` when `n = 0`.
    pub mean: Option<f64>,
    /// Lower 95% bound; `None` when `n < 2`.
    pub ci95_low: Option<f64>,
    /// Upper 95% bound; `None` when `n < 2`.
    pub ci95_high: Option<f64>,
    /// Number of values (replications) summarised.
    pub n: u64,
}

impl Summary {
    /// The summary of no values.
    pub const EMPTY: Summary = Summary {
        mean: None,
        ci95_low: None,
        ci95_high: None,
        n: 0,
    };

    /// Summarises values taken in order (e.g. one per replication). Non-finite values are an
    /// error: a NaN would silently poison the mean.
    pub fn from_values(values: &[f64]) -> Result<Summary, MetricsError> {
        let mut acc = Welford::new();
        for &v in values {
            acc.try_push(v)?;
        }
        Ok(acc.summary())
    }

    /// Half the width of the interval, when there is one.
    pub fn half_width(&self) -> Option<f64> {
        match (self.ci95_low, self.ci95_high) {
            (Some(lo), Some(hi)) => Some(0.5 * (hi - lo)),
            _ => None,
        }
    }

    /// Half-width relative to |mean| (the usual `--target-ci` stopping criterion). `None`
    /// without an interval or when the mean is zero.
    pub fn relative_half_width(&self) -> Option<f64> {
        let hw = self.half_width()?;
        let m = self.mean?.abs();
        (m > 0.0).then(|| hw / m)
    }
}

/// The Student-t quantile `t(1 − (1 − level)/2, dof)` for a two-sided interval.
///
/// Returns `None` for `dof = 0` or a level outside (0, 1).
pub fn student_t_quantile(level: f64, dof: u64) -> Option<f64> {
    if dof == 0 || !(level > 0.0 && level < 1.0) {
        return None;
    }
    // Invariant for `ok()?`: location 0, scale 1 and freedom >= 1 are always accepted.
    let t = StudentsT::new(0.0, 1.0, dof as f64).ok()?;
    Some(t.inverse_cdf(1.0 - 0.5 * (1.0 - level)))
}

/// Running count, mean, variance, min and max in one pass (Welford 1962), with the
/// Chan–Golub–LeVeque merge for combining partial accumulators.
///
/// Memory is constant, so it suits per-call values of million-call runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Welford {
    n: u64,
    mean: f64,
    /// Sum of squared deviations from the running mean.
    m2: f64,
    min: f64,
    max: f64,
}

impl Default for Welford {
    fn default() -> Self {
        Self::new()
    }
}

impl Welford {
    pub fn new() -> Self {
        Welford {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// Adds one finite value; a NaN or infinity is refused and leaves the state unchanged.
    pub fn try_push(&mut self, x: f64) -> Result<(), MetricsError> {
        if !x.is_finite() {
            return Err(MetricsError::arg("sample", x, "expected a finite value"));
        }
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        Ok(())
    }

    /// Folds another accumulator in, as if its values had been pushed after ours.
    pub fn merge(&mut self, other: &Welford) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = other.clone();
            return;
        }
        let n = self.n + other.n;
        let (na, nb) = (self.n as f64, other.n as f64);
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n as f64;
        self.m2 += other.m2 + delta * delta * na * nb / n as f64;
        self.n = n;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// Sample variance (divisor `n − 1`); `None` below two values.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| self.m2 / (self.n - 1) as f64)
    }

    /// Sample standard deviation; `None` below two values.
    pub fn std_dev(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    pub fn min(&self) -> Option<f64> {
        (self.n > 0).then_some(self.min)
    }

    pub fn max(&self) -> Option<f64> {
        (self.n > 0).then_some(self.max)
    }

    /// Student-t interval at `level` for the mean, assuming independent values (use it on
    /// replication-level values, not on correlated per-call values within one run).
    pub fn confidence_interval(&self, level: f64) -> Option<(f64, f64)> {
        let sd = self.std_dev()?;
        let t = student_t_quantile(level, self.n - 1)?;
        let hw = t * sd / (self.n as f64).sqrt();
        Some((self.mean - hw, self.mean + hw))
    }

    /// The 95% [`Summary`] of the values pushed so far.
    pub fn summary(&self) -> Summary {
        let ci = self.confidence_interval(CONFIDENCE_95);
        Summary {
            mean: self.mean(),
            ci95_low: ci.map(|c| c.0),
            ci95_high: ci.map(|c| c.1),
            n: self.n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn welford_matches_two_pass() {
        let xs = [1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0];
        let mut w = Welford::new();
        for &x in &xs {
            w.try_push(x).unwrap();
        }
        // Two-pass on the shifted values: mean 10, squared deviations 36+9+9+36 = 90.
        assert_relative_eq!(w.mean().unwrap(), 1e9 + 10.0, max_relative = 1e-15);
        // A naive sum-of-squares would lose all digits at 1e9; Welford keeps them.
        assert_relative_eq!(w.variance().unwrap(), 30.0, max_relative = 1e-9);
        assert_eq!(w.min(), Some(1e9 + 4.0));
        assert_eq!(w.max(), Some(1e9 + 16.0));
    }

    #[test]
    fn merge_equals_sequential() {
        let xs: Vec<f64> = (0..50).map(|i| f64::from(i * i % 17) * 0.5).collect();
        let mut all = Welford::new();
        xs.iter().for_each(|&x| all.try_push(x).unwrap());
        let mut a = Welford::new();
        let mut b = Welford::new();
        xs[..20].iter().for_each(|&x| a.try_push(x).unwrap());
        xs[20..].iter().for_each(|&x| b.try_push(x).unwrap());
        a.merge(&b);
        assert_eq!(a.count(), 50);
        assert_relative_eq!(a.mean().unwrap(), all.mean().unwrap(), max_relative = 1e-14);
        assert_relative_eq!(
            a.variance().unwrap(),
            all.variance().unwrap(),
            max_relative = 1e-12
        );
        let mut empty = Welford::new();
        empty.merge(&all);
        assert_eq!(empty, all);
    }

    #[test]
    fn rejects_non_finite() {
        let mut w = Welford::new();
        assert!(w.try_push(f64::NAN).is_err());
        assert!(w.try_push(f64::INFINITY).is_err());
        assert_eq!(w.count(), 0);
        assert!(Summary::from_values(&[1.0, f64::NAN]).is_err());
    }

    #[test]
    fn t_quantile_domain() {
        assert_eq!(student_t_quantile(0.95, 0), None);
        assert_eq!(student_t_quantile(1.0, 5), None);
        assert_eq!(student_t_quantile(0.0, 5), None);
    }
}
