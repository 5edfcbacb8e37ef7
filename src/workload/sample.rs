//! Portable samplers built on `libm`, so that draws do not depend on the platform's maths
//! library (DESIGN.md: cross-platform determinism is a goal).

use crate::sim::SimRng;
use rand::Rng;

/// A uniform draw in (0, 1].
fn open_unit(rng: &mut SimRng) -> f64 {
    1.0 - rng.random::<f64>()
}

/// An exponential draw with the given mean.
pub fn exponential(rng: &mut SimRng, mean: f64) -> f64 {
    -mean * libm::log(open_unit(rng))
}

/// A standard normal draw (Box–Muller).
pub fn standard_normal(rng: &mut SimRng) -> f64 {
    let u1 = open_unit(rng);
    let u2 = rng.random::<f64>();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

/// A lognormal draw with the given mean and standard deviation (of the variable itself,
/// not of its logarithm): σ² = ln(1 + sd²/mean²), μ = ln(mean) − σ²/2.
pub fn lognormal(rng: &mut SimRng, mean: f64, sd: f64) -> f64 {
    let sigma2 = libm::log(1.0 + (sd * sd) / (mean * mean));
    let mu = libm::log(mean) - sigma2 / 2.0;
    libm::exp(mu + libm::sqrt(sigma2) * standard_normal(rng))
}

/// True with probability `p`.
pub fn bernoulli(rng: &mut SimRng, p: f64) -> bool {
    p > 0.0 && rng.random::<f64>() < p
}

/// Picks an index with probability proportional to `weights` (which must have a positive
/// sum; the validated workload guarantees it).
pub fn weighted_index(rng: &mut SimRng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    // Rounding can leave x at the very top: take the last index with a positive weight.
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RngFactory;

    const N: usize = 200_000;

    #[test]
    fn exponential_mean_and_variance() {
        let mut rng = RngFactory::new(1).stream("t", "exp");
        let xs: Vec<f64> = (0..N).map(|_| exponential(&mut rng, 180.0)).collect();
        let mean = xs.iter().sum::<f64>() / N as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (N - 1) as f64;
        // Standard error of the mean is 180/sqrt(N) ≈ 0.40 s; 4 SE bound.
        assert!((mean - 180.0).abs() < 1.6, "mean {mean}");
        // Exponential: sd equals the mean. The sample sd's SE is about 180*sqrt(2/N)≈0.57... use 5%.
        assert!((var.sqrt() / 180.0 - 1.0).abs() < 0.05, "sd {}", var.sqrt());
    }

    #[test]
    fn lognormal_matches_requested_moments() {
        let mut rng = RngFactory::new(2).stream("t", "ln");
        let xs: Vec<f64> = (0..N).map(|_| lognormal(&mut rng, 180.0, 120.0)).collect();
        let mean = xs.iter().sum::<f64>() / N as f64;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (N - 1) as f64).sqrt();
        // SE of the mean is 120/sqrt(N) ≈ 0.27 s; allow 1.5 s (≈ 5.6 SE).
        assert!((mean - 180.0).abs() < 1.5, "mean {mean}");
        // Heavy right tail: the sample sd converges slowly, 5% is about 4 SE here.
        assert!((sd / 120.0 - 1.0).abs() < 0.05, "sd {sd}");
    }

    #[test]
    fn weighted_index_follows_weights() {
        let mut rng = RngFactory::new(3).stream("t", "w");
        let mut counts = [0usize; 3];
        for _ in 0..N {
            counts[weighted_index(&mut rng, &[1.0, 0.0, 3.0])] += 1;
        }
        assert_eq!(counts[1], 0);
        let p = counts[0] as f64 / N as f64;
        // Binomial SE sqrt(.25*.75/N) ≈ 0.00097; 4 SE.
        assert!((p - 0.25).abs() < 0.004, "p {p}");
    }
}
