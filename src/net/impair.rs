//! Per-direction impairment processes: jitter draws and loss state.
//!
//! Continuous draws use inverse transforms written with `libm` (not the platform's maths
//! library), so a seed gives the same nanoseconds on every platform. Loss decisions compare
//! integers (`rand`'s `Bernoulli`), which is exact.

use super::spec::{Jitter, LossModel, Probability};
use crate::sim::{SimDuration, SimRng};
use rand::Rng;
use rand::distr::{Bernoulli, Distribution};

/// A uniform draw in (0, 1]: never zero, so that `ln` stays finite.
fn open_unit(rng: &mut SimRng) -> f64 {
    // 53 random bits, offset by one so that the result is in (0, 1].
    ((rng.random::<u64>() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// One standard normal draw (Box–Muller, one of the pair).
fn standard_normal(rng: &mut SimRng) -> f64 {
    let u1 = open_unit(rng);
    let u2 = open_unit(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

/// Rounds a non-negative float count of nanoseconds (clamping the out-of-range).
fn nanos(ns: f64) -> SimDuration {
    if ns.is_nan() || ns <= 0.0 {
        SimDuration::ZERO
    } else if ns >= u64::MAX as f64 {
        SimDuration::MAX
    } else {
        SimDuration::from_nanos(libm::round(ns) as u64)
    }
}

/// An exponential draw with the given mean (inverse transform).
pub(crate) fn draw_exponential(mean: SimDuration, rng: &mut SimRng) -> SimDuration {
    nanos(-(mean.as_nanos() as f64) * libm::log(open_unit(rng)))
}

/// Draws the extra delay of one packet, in nanoseconds.
pub(crate) fn draw_jitter(jitter: &Jitter, rng: &mut SimRng) -> SimDuration {
    match *jitter {
        Jitter::None => SimDuration::ZERO,
        Jitter::Uniform { max } => SimDuration::from_nanos(rng.random_range(0..=max.as_nanos())),
        Jitter::Exponential { mean } => draw_exponential(mean, rng),
        Jitter::Normal { mean, std } => {
            let (m, s) = (mean.as_nanos() as f64, std.as_nanos() as f64);
            // Redraw negatives. With mean ≥ 0 each try is negative with probability ≤ 1/2,
            // so 64 failures in a row happen with probability ≤ 2^-64; then clamp to zero.
            for _ in 0..64 {
                let ns = m + s * standard_normal(rng);
                if ns >= 0.0 {
                    return nanos(ns);
                }
            }
            SimDuration::ZERO
        }
    }
}

/// The loss process of one direction, with its state.
#[derive(Clone, Debug)]
pub(crate) enum LossState {
    None,
    Bernoulli(Bernoulli),
    GilbertElliott {
        to_bad: Bernoulli,
        to_good: Bernoulli,
        loss_bad: Bernoulli,
        loss_good: Bernoulli,
        bad: bool,
    },
}

fn bernoulli(p: Probability) -> Bernoulli {
    // A `Probability` is in [0, 1], the whole domain of `Bernoulli::new`.
    Bernoulli::new(p.get()).unwrap_or_else(|_| unreachable!("probability outside [0, 1]"))
}

impl LossState {
    /// The process of `model`, starting in the good state.
    pub(crate) fn new(model: &LossModel) -> Self {
        match *model {
            LossModel::None => LossState::None,
            LossModel::Bernoulli { p } => LossState::Bernoulli(bernoulli(p)),
            LossModel::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_in_bad,
                loss_in_good,
            } => LossState::GilbertElliott {
                to_bad: bernoulli(p_good_to_bad),
                to_good: bernoulli(p_bad_to_good),
                loss_bad: bernoulli(loss_in_bad),
                loss_good: bernoulli(loss_in_good),
                bad: false,
            },
        }
    }

    /// Whether the next packet is lost.
    pub(crate) fn lose(&mut self, rng: &mut SimRng) -> bool {
        match self {
            LossState::None => false,
            LossState::Bernoulli(b) => b.sample(rng),
            LossState::GilbertElliott {
                to_bad,
                to_good,
                loss_bad,
                loss_good,
                bad,
            } => {
                let flip = if *bad {
                    to_good.sample(rng)
                } else {
                    to_bad.sample(rng)
                };
                *bad ^= flip;
                if *bad {
                    loss_bad.sample(rng)
                } else {
                    loss_good.sample(rng)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RngFactory;

    fn sample(j: Jitter, n: usize) -> (f64, f64) {
        let mut rng = RngFactory::new(11).stream("t", "jitter");
        let xs: Vec<f64> = (0..n)
            .map(|_| draw_jitter(&j, &mut rng).as_millis_f64())
            .collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn jitter_draws_match_their_moments() {
        let ms = SimDuration::from_millis;
        // n = 200k: the standard error of the mean is σ/447, so a 1.5 % tolerance on the
        // mean and 2 % on σ are > 5 standard errors yet catch any wrong formula.
        for j in [
            Jitter::Uniform { max: ms(10) },
            Jitter::Exponential { mean: ms(4) },
            Jitter::Normal {
                mean: ms(20),
                std: ms(5),
            },
        ] {
            let (mean, sd) = sample(j, 200_000);
            assert!(
                (mean - j.mean_ms()).abs() < 0.015 * j.mean_ms(),
                "{j:?} mean {mean}"
            );
            assert!(
                (sd - j.std_dev_ms()).abs() < 0.02 * j.std_dev_ms(),
                "{j:?} sd {sd}"
            );
        }
        assert_eq!(sample(Jitter::None, 10), (0.0, 0.0));
    }

    #[test]
    fn gilbert_elliott_starts_good_and_stays_bad_in_bursts() {
        let p = |x| Probability::new(x).unwrap();
        let mut s = LossState::new(&LossModel::GilbertElliott {
            p_good_to_bad: p(0.0),
            p_bad_to_good: p(0.5),
            loss_in_bad: p(1.0),
            loss_in_good: p(0.0),
        });
        let mut rng = RngFactory::new(1).stream("t", "loss");
        assert!((0..1000).all(|_| !s.lose(&mut rng)), "never leaves good");
    }
}
