//! Erlang B and Erlang C: the teletraffic reference for trunk groups and gateways.
//!
//! Erlang B gives the blocking probability of a loss system M/G/c/c with `c` channels and an
//! offered load of `A` Erlangs (arrival rate × mean holding time). It is insensitive to the
//! holding-time distribution, which is why a gateway simulated with lognormal holding times
//! must still match it.
//!
//! It is computed with the recursion `B(0) = 1`, `B(k) = A·B(k−1) / (k + A·B(k−1))`, which
//! only multiplies and divides quantities in [0, A] and never forms `A^c / c!`, so it neither
//! overflows nor loses precision for thousands of channels.

use super::MetricsError;

/// Channel counts above this are refused by [`channels_for_gos`] (a sanity bound far beyond
/// any trunk group; it keeps a pathological grade of service from looping for minutes).
pub const MAX_CHANNELS: u32 = 10_000_000;

fn check_load(offered: f64) -> Result<(), MetricsError> {
    if offered.is_finite() && offered >= 0.0 {
        Ok(())
    } else {
        Err(MetricsError::arg(
            "offered load",
            offered,
            "expected a finite number of Erlangs >= 0",
        ))
    }
}

fn check_gos(gos: f64) -> Result<(), MetricsError> {
    if gos > 0.0 && gos < 1.0 {
        Ok(())
    } else {
        Err(MetricsError::arg(
            "grade of service",
            gos,
            "expected a blocking probability strictly between 0 and 1",
        ))
    }
}

/// Erlang B blocking probability for `channels` servers offered `offered` Erlangs.
///
/// `B(0, A) = 1`; `B(c, 0) = 0` for `c >= 1`.
pub fn erlang_b(channels: u32, offered: f64) -> Result<f64, MetricsError> {
    check_load(offered)?;
    Ok(erlang_b_unchecked(channels, offered))
}

/// The recursion itself; `offered` must be finite and >= 0.
fn erlang_b_unchecked(channels: u32, offered: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=channels {
        let ab = offered * b;
        b = ab / (f64::from(k) + ab);
    }
    b
}

/// The smallest number of channels whose Erlang B blocking at `offered` Erlangs is at most
/// `gos` (the grade of service, e.g. 0.01).
pub fn channels_for_gos(offered: f64, gos: f64) -> Result<u32, MetricsError> {
    check_load(offered)?;
    check_gos(gos)?;
    let mut b = 1.0;
    let mut k: u32 = 0;
    while b > gos {
        if k >= MAX_CHANNELS {
            return Err(MetricsError::arg(
                "offered load",
                offered,
                "needs more than MAX_CHANNELS channels at this grade of service",
            ));
        }
        k += 1;
        let ab = offered * b;
        b = ab / (f64::from(k) + ab);
    }
    Ok(k)
}

/// The offered load (Erlangs) at which `channels` channels block exactly a fraction `gos` of
/// calls: the inverse of [`erlang_b`] in `A`, found by bisection.
///
/// `B(c, A)` increases strictly with `A`, and the bracket is `[0, c / (1 − gos)]`: at
/// `A = c / (1 − gos)` the carried load `A(1 − B)` cannot exceed `c`, so `B >= gos` there.
/// The bisection stops when the bracket is narrower than `1e-12 · A` (far below the three
/// decimals of published tables).
pub fn offered_load_for_gos(channels: u32, gos: f64) -> Result<f64, MetricsError> {
    check_gos(gos)?;
    if channels == 0 {
        return Err(MetricsError::InvalidCount {
            what: "channels",
            value: 0,
            expected: "zero channels block every call at any load",
        });
    }
    let mut lo = 0.0_f64;
    let mut hi = f64::from(channels) / (1.0 - gos);
    // 200 halvings take any bracket below f64 resolution; the loop usually exits after ~45.
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if erlang_b_unchecked(channels, mid) < gos {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi {
            break;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// Erlang C: the probability that a call waits in an M/M/c queue with `channels` servers and
/// `offered` Erlangs. It is 1 when `offered >= channels` (the queue is unstable).
///
/// Computed from Erlang B: `C = c·B / (c − A·(1 − B))`.
pub fn erlang_c(channels: u32, offered: f64) -> Result<f64, MetricsError> {
    check_load(offered)?;
    let c = f64::from(channels);
    if offered >= c {
        return Ok(1.0);
    }
    let b = erlang_b_unchecked(channels, offered);
    Ok(c * b / (c - offered * (1.0 - b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn edge_cases() {
        assert_eq!(erlang_b(0, 3.0).unwrap(), 1.0);
        assert_eq!(erlang_b(5, 0.0).unwrap(), 0.0);
        // One channel: B = A / (1 + A).
        assert_relative_eq!(erlang_b(1, 2.0).unwrap(), 2.0 / 3.0, max_relative = 1e-15);
        assert!(erlang_b(3, -1.0).is_err());
        assert!(erlang_b(3, f64::NAN).is_err());
        assert!(erlang_b(3, f64::INFINITY).is_err());
        assert!(channels_for_gos(10.0, 0.0).is_err());
        assert!(channels_for_gos(10.0, 1.0).is_err());
        assert!(offered_load_for_gos(0, 0.01).is_err());
        // Consistent with B(0, A) = 1: even no traffic needs one channel to block nothing.
        assert_eq!(channels_for_gos(0.0, 0.01).unwrap(), 1);
    }

    #[test]
    fn two_channels_closed_form() {
        // B(2, A) = (A²/2) / (1 + A + A²/2).
        let a: f64 = 1.7;
        let expected = (a * a / 2.0) / (1.0 + a + a * a / 2.0);
        assert_relative_eq!(erlang_b(2, a).unwrap(), expected, max_relative = 1e-14);
    }

    #[test]
    fn large_group_stays_finite() {
        // A^c/c! would overflow f64 long before 5000 channels; the recursion does not.
        let b = erlang_b(5000, 5000.0).unwrap();
        assert!(b.is_finite() && b > 0.0 && b < 0.02, "{b}");
    }

    #[test]
    fn inverse_round_trips() {
        for &(n, gos) in &[(1_u32, 0.01), (10, 0.02), (23, 0.005), (120, 0.001)] {
            let a = offered_load_for_gos(n, gos).unwrap();
            assert_relative_eq!(erlang_b(n, a).unwrap(), gos, max_relative = 1e-9);
            // channels_for_gos is the other inverse: exactly n channels are needed at a
            // load a hair below the crossing, n + 1 a hair above.
            assert_eq!(channels_for_gos(a * (1.0 - 1e-9), gos).unwrap(), n);
            assert_eq!(channels_for_gos(a * (1.0 + 1e-9), gos).unwrap(), n + 1);
        }
    }

    #[test]
    fn erlang_c_single_server_is_utilisation() {
        // M/M/1: the probability of waiting is rho.
        assert_relative_eq!(erlang_c(1, 0.7).unwrap(), 0.7, max_relative = 1e-14);
        assert_eq!(erlang_c(4, 4.0).unwrap(), 1.0);
    }
}
