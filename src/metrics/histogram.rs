//! A bounded-memory histogram for percentiles (p50, p95) and empirical CDFs of per-call
//! values (post-dial delay, setup time, MOS) over million-call runs.
//!
//! **Exact below a limit.** The first `exact_limit` values are kept as they are, so small runs
//! get exact order statistics.
//!
//! **Log-linear buckets beyond it.** Past the limit every value moves into a bucket chosen
//! from its IEEE-754 bits: the sign, the exponent and the top `p` mantissa bits. Each power of
//! two is thus split into `2^p` equal sub-buckets (the HdrHistogram layout, with no range to
//! declare up front), and a bucket `[lo, hi)` has `hi − lo <= 2^-p · lo`. The bucket is found
//! with integer shifts only: no logarithm, no platform-dependent maths.
//!
//! **Error bound.** Bucket counts are exact, so the quantile's bucket is exact; the reported
//! value is the bucket midpoint, clamped to the observed min and max. Its relative error
//! against the true nearest-rank order statistic is therefore at most `2^-(p+1)` (0.39% at the
//! default `p = 7`), for any value of magnitude at least `f64::MIN_POSITIVE`. Zero is exact.
//!
//! **Memory.** The counts live in a dense vector spanning the lowest to the highest bucket
//! seen: `2^p` counters per octave, e.g. 17 octaves (1 ms to 100 s) take 2,176 counters
//! (17 KiB). The worst case, values spanning the whole f64 range of both signs, is
//! `2^(p+12)` counters (4 MiB at `p = 7`), whatever the number of values.
//!
//! **Quantile definition.** Nearest rank: the `q`-quantile of `n` values is the `k`-th
//! smallest with `k = max(1, ⌈q·n⌉)`. The empirical CDF is `F(x) = #{values <= x} / n`,
//! with bucketed values standing at their reported (midpoint) value.

use super::MetricsError;
use serde::{Deserialize, Serialize};

/// Default sub-bucket bits: relative error at most 2^-8 = 0.39%.
pub const DEFAULT_PRECISION_BITS: u32 = 7;
/// Default number of values kept exactly before switching to buckets.
pub const DEFAULT_EXACT_LIMIT: usize = 2048;
/// Finest allowed precision (keeps the worst-case vector at 2^22 counters, 32 MiB).
pub const MAX_PRECISION_BITS: u32 = 10;

/// Bounded-memory histogram giving quantiles and empirical CDFs.
///
/// It serialises (serde) to its exact values or its non-empty buckets, so a stored run can
/// be merged or charted again; deserialising checks every invariant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "HistogramRepr", try_from = "HistogramRepr")]
pub struct Histogram {
    precision_bits: u32,
    exact_limit: usize,
    /// `Some` while exact; `None` once the values moved into `counts`.
    exact: Option<Vec<f64>>,
    /// Counts per bucket key, starting at key `base`.
    counts: Vec<u64>,
    base: i64,
    n: u64,
    min: f64,
    max: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    /// A histogram with the default precision and exact limit.
    pub fn new() -> Self {
        Histogram::with_precision(DEFAULT_PRECISION_BITS, DEFAULT_EXACT_LIMIT)
            .unwrap_or_else(|_| unreachable!("the defaults are within range"))
    }

    /// A histogram with `2^precision_bits` sub-buckets per octave (1 ..= 10) that stays exact
    /// for its first `exact_limit` values (0 buckets from the first value).
    pub fn with_precision(precision_bits: u32, exact_limit: usize) -> Result<Self, MetricsError> {
        if !(1..=MAX_PRECISION_BITS).contains(&precision_bits) {
            return Err(MetricsError::InvalidCount {
                what: "precision bits",
                value: u64::from(precision_bits),
                expected: "between 1 and 10",
            });
        }
        Ok(Histogram {
            precision_bits,
            exact_limit,
            exact: Some(Vec::new()),
            counts: Vec::new(),
            base: 0,
            n: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        })
    }

    /// The guaranteed relative error of a bucketed quantile: `2^-(p+1)`.
    pub fn relative_error(&self) -> f64 {
        0.5 / f64::from(1_u32 << self.precision_bits)
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    pub fn min(&self) -> Option<f64> {
        (self.n > 0).then_some(self.min)
    }

    pub fn max(&self) -> Option<f64> {
        (self.n > 0).then_some(self.max)
    }

    /// How many bucket counters are allocated (8 bytes each): the memory that does not grow
    /// with the number of values.
    pub fn bucket_len(&self) -> usize {
        self.counts.len()
    }

    /// True while every value is still held exactly.
    pub fn is_exact(&self) -> bool {
        self.exact.is_some()
    }

    /// Records one finite value; NaN and infinities are refused.
    pub fn try_record(&mut self, x: f64) -> Result<(), MetricsError> {
        if !x.is_finite() {
            return Err(MetricsError::arg("sample", x, "expected a finite value"));
        }
        // -0.0 and 0.0 are one value.
        let x = if x == 0.0 { 0.0 } else { x };
        self.n += 1;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        match &mut self.exact {
            Some(values) if values.len() < self.exact_limit => values.push(x),
            Some(_) => {
                self.spill();
                self.add_to_bucket(x, 1);
            }
            None => self.add_to_bucket(x, 1),
        }
        Ok(())
    }

    /// Adds another histogram's values. Both must have the same precision; the result is
    /// exact only if the union still fits in the exact limit.
    pub fn merge(&mut self, other: &Histogram) -> Result<(), MetricsError> {
        if other.precision_bits != self.precision_bits {
            return Err(MetricsError::InvalidCount {
                what: "precision bits",
                value: u64::from(other.precision_bits),
                expected: "merged histograms must share their precision",
            });
        }
        if other.n == 0 {
            return Ok(());
        }
        self.n += other.n;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        if let (Some(mine), Some(theirs)) = (&mut self.exact, &other.exact) {
            if mine.len() + theirs.len() <= self.exact_limit {
                mine.extend_from_slice(theirs);
                return Ok(());
            }
        }
        self.spill();
        match &other.exact {
            Some(values) => values.iter().for_each(|&v| self.add_to_bucket(v, 1)),
            None => {
                for (i, &c) in other.counts.iter().enumerate() {
                    if c > 0 {
                        self.add_key(other.base + i as i64, c);
                    }
                }
            }
        }
        Ok(())
    }

    /// The nearest-rank `q`-quantile (`q` in [0, 1]); `None` when empty or `q` is invalid.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.n == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = self.rank(q);
        match &self.exact {
            Some(values) => {
                let sorted = sorted(values);
                sorted.get(rank as usize - 1).copied()
            }
            // The extreme order statistics are tracked exactly.
            None if rank == 1 => Some(self.min),
            None if rank == self.n => Some(self.max),
            None => {
                let mut seen = 0_u64;
                for (i, &c) in self.counts.iter().enumerate() {
                    seen += c;
                    if seen >= rank {
                        return Some(self.representative(self.base + i as i64));
                    }
                }
                Some(self.max)
            }
        }
    }

    /// `k = max(1, ⌈q·n⌉)`. The product is nudged down by a relative 1e-12 first so that
    /// `0.95 · 20`, which rounds to 19.000000000000004 in binary, gives rank 19, not 20.
    fn rank(&self, q: f64) -> u64 {
        let exact = q * self.n as f64;
        let k = (exact - exact * 1e-12).ceil() as u64;
        k.clamp(1, self.n)
    }

    /// The empirical CDF at `x`: the share of values <= `x` (bucketed values counted at their
    /// representative). `None` when empty.
    pub fn cdf(&self, x: f64) -> Option<f64> {
        if self.n == 0 || x.is_nan() {
            return None;
        }
        let below = self
            .steps()
            .into_iter()
            .take_while(|&(v, _)| v <= x)
            .map(|(_, c)| c)
            .sum::<u64>();
        Some(below as f64 / self.n as f64)
    }

    /// The empirical CDF as at most `max_points` `(value, cumulative share)` points, in
    /// increasing value order, ending at `(max, 1.0)`. With more distinct values than that,
    /// the points kept are the first to reach each share `k / max_points`, so the curve
    /// keeps its shape in probability and the tail is not lost.
    pub fn cdf_curve(&self, max_points: usize) -> Vec<(f64, f64)> {
        if self.n == 0 || max_points == 0 {
            return Vec::new();
        }
        let n = self.n as f64;
        let mut cum = 0_u64;
        let full: Vec<(f64, f64)> = self
            .steps()
            .into_iter()
            .map(|(v, c)| {
                cum += c;
                (v, cum as f64 / n)
            })
            .collect();
        if full.len() <= max_points {
            return full;
        }
        let mut out = Vec::with_capacity(max_points);
        let mut next_level = 1_usize;
        for (i, &(v, p)) in full.iter().enumerate() {
            let last = i + 1 == full.len();
            if last || p * max_points as f64 >= next_level as f64 {
                out.push((v, p));
                while (next_level as f64) <= p * max_points as f64 {
                    next_level += 1;
                }
            }
        }
        out
    }

    /// `(value, count)` for each distinct exact value or non-empty bucket, ascending.
    fn steps(&self) -> Vec<(f64, u64)> {
        match &self.exact {
            Some(values) => {
                let mut out: Vec<(f64, u64)> = Vec::new();
                for v in sorted(values) {
                    match out.last_mut() {
                        Some((last, c)) if *last == v => *c += 1,
                        _ => out.push((v, 1)),
                    }
                }
                out
            }
            None => {
                let mut out: Vec<(f64, u64)> = self
                    .counts
                    .iter()
                    .enumerate()
                    .filter(|&(_, &c)| c > 0)
                    .map(|(i, &c)| (self.representative(self.base + i as i64), c))
                    .collect();
                // The curve ends at the exact maximum (still above the previous bucket).
                if let Some(last) = out.last_mut() {
                    last.0 = self.max;
                }
                out
            }
        }
    }

    /// Moves the exact values into buckets, freeing them.
    fn spill(&mut self) {
        if let Some(values) = self.exact.take() {
            for v in values {
                self.add_to_bucket(v, 1);
            }
        }
    }

    fn shift(&self) -> u32 {
        52 - self.precision_bits
    }

    /// The bucket key of a finite value: monotone in the value. Positive magnitudes map to
    /// `bits >> (52 − p)` (IEEE-754 bit patterns of non-negative floats sort like the
    /// floats); negative values mirror below zero.
    fn key(&self, x: f64) -> i64 {
        let mag = (x.abs().to_bits() >> self.shift()) as i64;
        if x < 0.0 { -mag - 1 } else { mag }
    }

    /// The midpoint of a bucket, clamped to the observed range.
    fn representative(&self, key: i64) -> f64 {
        let (neg, mag) = if key < 0 {
            (true, (-key - 1) as u64)
        } else {
            (false, key as u64)
        };
        if mag == 0 {
            // The bucket of zero (and of subnormals too small to split): report zero itself.
            return 0.0_f64.clamp(self.min, self.max);
        }
        let lo = f64::from_bits(mag << self.shift());
        let hi = f64::from_bits((mag + 1) << self.shift());
        // The top bucket's upper edge may be infinite: then use its lower edge.
        let mid = if hi.is_finite() {
            lo + 0.5 * (hi - lo)
        } else {
            lo
        };
        let v = if neg { -mid } else { mid };
        v.clamp(self.min, self.max)
    }

    fn add_to_bucket(&mut self, x: f64, count: u64) {
        let key = self.key(x);
        self.add_key(key, count);
    }

    fn add_key(&mut self, key: i64, count: u64) {
        if self.counts.is_empty() {
            self.base = key;
            self.counts.push(0);
        } else if key < self.base {
            let grow = (self.base - key) as usize;
            let mut counts = vec![0; grow + self.counts.len()];
            counts[grow..].copy_from_slice(&self.counts);
            self.counts = counts;
            self.base = key;
        }
        let idx = (key - self.base) as usize;
        if idx >= self.counts.len() {
            self.counts.resize(idx + 1, 0);
        }
        self.counts[idx] += count;
    }
}

/// The stored form: sparse `(key, count)` buckets in key order, `min`/`max` absent when empty
/// (JSON has no infinities).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistogramRepr {
    precision_bits: u32,
    exact_limit: usize,
    n: u64,
    min: Option<f64>,
    max: Option<f64>,
    exact: Option<Vec<f64>>,
    buckets: Vec<(i64, u64)>,
}

impl From<Histogram> for HistogramRepr {
    fn from(h: Histogram) -> Self {
        let buckets = h
            .counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(i, &c)| (h.base + i as i64, c))
            .collect();
        HistogramRepr {
            precision_bits: h.precision_bits,
            exact_limit: h.exact_limit,
            n: h.n,
            min: h.min(),
            max: h.max(),
            exact: h.exact,
            buckets,
        }
    }
}

impl TryFrom<HistogramRepr> for Histogram {
    type Error = MetricsError;

    fn try_from(r: HistogramRepr) -> Result<Self, MetricsError> {
        let bad = |msg: String| MetricsError::Inconsistent(format!("histogram: {msg}"));
        let mut h = Histogram::with_precision(r.precision_bits, r.exact_limit)?;
        match (r.n, r.min, r.max) {
            (0, None, None) => {}
            (n, Some(min), Some(max))
                if n > 0 && min.is_finite() && max.is_finite() && min <= max =>
            {
                h.min = min;
                h.max = max;
            }
            _ => return Err(bad(format!("n = {} does not match min/max", r.n))),
        }
        h.n = r.n;
        match r.exact {
            Some(values) => {
                if !r.buckets.is_empty()
                    || values.len() as u64 != r.n
                    || values.len() > r.exact_limit
                {
                    return Err(bad(
                        "exact values do not match n, the limit or the buckets".into()
                    ));
                }
                if values
                    .iter()
                    .any(|v| !v.is_finite() || *v < h.min || *v > h.max)
                {
                    return Err(bad(
                        "an exact value is not finite or outside [min, max]".into()
                    ));
                }
                h.exact = Some(values);
            }
            None => {
                h.exact = None;
                // Keys of finite values: magnitudes up to that of f64::MAX, either sign.
                let top = (f64::MAX.to_bits() >> h.shift()) as i64;
                let mut total = 0_u64;
                let mut prev = i64::MIN;
                for &(key, count) in &r.buckets {
                    if key <= prev || key > top || key < -top - 1 || count == 0 {
                        return Err(bad(format!(
                            "bucket ({key}, {count}) is out of order or range"
                        )));
                    }
                    prev = key;
                    total = total.saturating_add(count);
                    h.add_key(key, count);
                }
                if total != r.n {
                    return Err(bad(format!(
                        "bucket counts sum to {total}, not n = {}",
                        r.n
                    )));
                }
            }
        }
        Ok(h)
    }
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_quantiles_small_n() {
        let mut h = Histogram::new();
        for x in [5.0, 1.0, 4.0, 2.0, 3.0] {
            h.try_record(x).unwrap();
        }
        assert!(h.is_exact());
        assert_eq!(h.quantile(0.0), Some(1.0));
        assert_eq!(h.quantile(0.5), Some(3.0));
        assert_eq!(h.quantile(0.2), Some(1.0));
        assert_eq!(h.quantile(0.21), Some(2.0));
        assert_eq!(h.quantile(1.0), Some(5.0));
        assert_eq!(h.quantile(1.5), None);
        assert_eq!(h.cdf(3.0), Some(0.6));
        assert_eq!(h.cdf(0.5), Some(0.0));
    }

    #[test]
    fn rank_is_robust_to_binary_rounding() {
        let mut h = Histogram::new();
        for i in 1..=20 {
            h.try_record(f64::from(i)).unwrap();
        }
        // 0.95 · 20 = 19 exactly in decimal: the 19th value, not the 20th.
        assert_eq!(h.quantile(0.95), Some(19.0));
    }

    #[test]
    fn keys_are_monotone_across_signs() {
        let h = Histogram::new();
        let xs = [-1e6, -3.5, -1e-300, 0.0, 1e-300, 2.0, 2.01, 1e300];
        for w in xs.windows(2) {
            assert!(h.key(w[0]) <= h.key(w[1]), "{} vs {}", w[0], w[1]);
        }
        assert!(h.key(-1e-300) < h.key(0.0));
    }

    #[test]
    fn spills_and_frees_exact_values() {
        let mut h = Histogram::with_precision(7, 10).unwrap();
        for i in 0..11 {
            h.try_record(f64::from(i)).unwrap();
        }
        assert!(!h.is_exact());
        assert_eq!(h.count(), 11);
        assert_eq!(h.quantile(0.0), Some(0.0));
        assert_eq!(h.quantile(1.0), Some(10.0));
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let mut h = Histogram::with_precision(7, 4).unwrap();
        let empty = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<Histogram>(&empty).unwrap(), h);
        for x in [3.0, 1.0, 2.0] {
            h.try_record(x).unwrap();
        }
        let exact = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<Histogram>(&exact).unwrap(), h);
        for x in [5.0, 1000.0, -2.0] {
            h.try_record(x).unwrap();
        }
        let json = serde_json::to_string(&h).unwrap();
        let back: Histogram = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        // Tampered counts are refused, not trusted.
        let tampered = json.replace("\"n\":6", "\"n\":7");
        assert!(serde_json::from_str::<Histogram>(&tampered).is_err());
        let unknown = json.replacen('{', "{\"extra\":1,", 1);
        assert!(serde_json::from_str::<Histogram>(&unknown).is_err());
    }

    #[test]
    fn rejects_bad_input() {
        let mut h = Histogram::new();
        assert!(h.try_record(f64::NAN).is_err());
        assert!(h.try_record(f64::NEG_INFINITY).is_err());
        assert_eq!(h.count(), 0);
        assert_eq!(h.quantile(0.5), None);
        assert!(Histogram::with_precision(0, 10).is_err());
        assert!(Histogram::with_precision(11, 10).is_err());
        let other = Histogram::with_precision(5, 10).unwrap();
        assert!(h.merge(&other).is_err());
    }
}
