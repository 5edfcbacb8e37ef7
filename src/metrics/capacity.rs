//! Capacity: the offered load at which blocking (or failure) crosses the grade of service.
//!
//! The input is a sweep of offered load against a probability (blocking, or failure =
//! 1 − success), each with an optional 95% interval. The crossing is the **first up-crossing**:
//! the first point above the grade of service and the point before it, which must be at or
//! below it. A noisy sweep that dips back under the line later does not move the answer.
//!
//! Between the two points the curve is interpolated:
//! - [`Interpolation::LogLinear`] (the default): linear in `ln(probability)` against load.
//!   Below saturation Erlang B blocking grows roughly exponentially with the load, so this is
//!   close to exact on a coarse sweep (on N = 30 with 1 E steps it finds the 1% point,
//!   20.337 E, within 0.016 E, where a straight line is 0.037 E off). When the lower point is exactly zero
//!   (no call blocked) its logarithm does not exist and the segment falls back to linear;
//!   the result says which method was used.
//! - [`Interpolation::Linear`]: a straight line between the points.
//!
//! The interval of the capacity comes from the interval curves: where the upper bound of the
//! blocking crosses gives the lower bound of the capacity, and vice versa.
//!
//! When the sweep never crosses, the answer says so: [`Crossing::AboveSweep`] (capacity is
//! more than the highest load tried) or [`Crossing::BelowSweep`] (the grade of service is
//! already exceeded at the lowest load).

use super::MetricsError;
use serde::{Deserialize, Serialize};

/// The default grade of service: 1% blocking.
pub const DEFAULT_GOS: f64 = 0.01;

/// One sweep point: an offered load and the probability measured there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadPoint {
    /// Offered load, Erlangs.
    pub offered: f64,
    /// Mean probability (blocking or failure) as a fraction in [0, 1].
    pub value: f64,
    /// Its 95% interval `(low, high)`, when known.
    pub ci: Option<(f64, f64)>,
}

impl LoadPoint {
    /// A point from a [`Summary`](super::Summary) of the probability across replications;
    /// `None` when the summary has no mean.
    pub fn from_summary(offered: f64, s: &super::Summary) -> Option<LoadPoint> {
        Some(LoadPoint {
            offered,
            value: s.mean?,
            ci: s.ci95_low.zip(s.ci95_high),
        })
    }
}

/// How a segment between two sweep points is interpolated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    LogLinear,
    Linear,
}

/// Where a curve crosses the grade of service.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Crossing {
    /// Crossed at `erlangs`, interpolated with `interpolation`.
    At {
        erlangs: f64,
        interpolation: Interpolation,
    },
    /// Never crossed: the capacity exceeds `max_offered`, the highest load swept.
    AboveSweep { max_offered: f64 },
    /// Already above the grade of service at `min_offered`, the lowest load swept.
    BelowSweep { min_offered: f64 },
}

impl Crossing {
    /// The interpolated load, if the curve crossed inside the sweep.
    pub fn erlangs(&self) -> Option<f64> {
        match self {
            Crossing::At { erlangs, .. } => Some(*erlangs),
            _ => None,
        }
    }
}

/// A deployment's capacity at a grade of service, with its interval when the sweep had one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// The grade of service used.
    pub gos: f64,
    /// The crossing of the mean curve.
    pub estimate: Crossing,
    /// The crossing of the upper interval curve (a lower bound on capacity).
    pub low: Option<Crossing>,
    /// The crossing of the lower interval curve (an upper bound on capacity).
    pub high: Option<Crossing>,
}

/// Finds the capacity of a sweep at grade of service `gos`.
///
/// Loads must be finite and strictly increasing; values and interval bounds finite and >= 0.
/// Interval bounds are used only when every point has one.
pub fn capacity_at_gos(
    points: &[LoadPoint],
    gos: f64,
    method: Interpolation,
) -> Result<Capacity, MetricsError> {
    if !(gos > 0.0 && gos < 1.0) {
        return Err(MetricsError::arg(
            "grade of service",
            gos,
            "expected a probability strictly between 0 and 1",
        ));
    }
    validate(points)?;
    let crossing_of = |f: &dyn Fn(&LoadPoint) -> f64| {
        let curve: Vec<(f64, f64)> = points.iter().map(|p| (p.offered, f(p))).collect();
        first_crossing(&curve, gos, method)
    };
    let estimate = crossing_of(&|p| p.value);
    let (low, high) = if points.iter().all(|p| p.ci.is_some()) {
        let hi_of = |p: &LoadPoint| p.ci.map_or(p.value, |c| c.1);
        let lo_of = |p: &LoadPoint| p.ci.map_or(p.value, |c| c.0);
        (Some(crossing_of(&hi_of)), Some(crossing_of(&lo_of)))
    } else {
        (None, None)
    };
    Ok(Capacity {
        gos,
        estimate,
        low,
        high,
    })
}

fn validate(points: &[LoadPoint]) -> Result<(), MetricsError> {
    if points.is_empty() {
        return Err(MetricsError::InvalidSweep("no points".into()));
    }
    for (i, p) in points.iter().enumerate() {
        let bounds_ok =
            p.ci.is_none_or(|(lo, hi)| lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo <= hi);
        if !p.offered.is_finite() || !p.value.is_finite() || p.value < 0.0 || !bounds_ok {
            return Err(MetricsError::InvalidSweep(format!(
                "point {i} (offered {}, value {}, ci {:?}) is not finite and non-negative",
                p.offered, p.value, p.ci
            )));
        }
        if i > 0 && p.offered <= points[i - 1].offered {
            return Err(MetricsError::InvalidSweep(format!(
                "offered loads must increase strictly: point {i} has {} after {}",
                p.offered,
                points[i - 1].offered
            )));
        }
    }
    Ok(())
}

/// The first up-crossing of `gos` by a validated curve of `(load, value)`.
fn first_crossing(curve: &[(f64, f64)], gos: f64, method: Interpolation) -> Crossing {
    let Some(j) = curve.iter().position(|&(_, y)| y > gos) else {
        return Crossing::AboveSweep {
            max_offered: curve[curve.len() - 1].0,
        };
    };
    if j == 0 {
        return Crossing::BelowSweep {
            min_offered: curve[0].0,
        };
    }
    let (x0, y0) = curve[j - 1];
    let (x1, y1) = curve[j];
    // y0 <= gos < y1 here, so both fractions below lie in [0, 1).
    if method == Interpolation::LogLinear && y0 > 0.0 {
        let t = (libm::log(gos) - libm::log(y0)) / (libm::log(y1) - libm::log(y0));
        Crossing::At {
            erlangs: x0 + t * (x1 - x0),
            interpolation: Interpolation::LogLinear,
        }
    } else {
        let t = (gos - y0) / (y1 - y0);
        Crossing::At {
            erlangs: x0 + t * (x1 - x0),
            interpolation: Interpolation::Linear,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(f64, f64)]) -> Vec<LoadPoint> {
        v.iter()
            .map(|&(offered, value)| LoadPoint {
                offered,
                value,
                ci: None,
            })
            .collect()
    }

    #[test]
    fn zero_lower_point_falls_back_to_linear() {
        let c = capacity_at_gos(
            &pts(&[(1.0, 0.0), (2.0, 0.02)]),
            0.01,
            Interpolation::LogLinear,
        )
        .unwrap();
        assert_eq!(
            c.estimate,
            Crossing::At {
                erlangs: 1.5,
                interpolation: Interpolation::Linear
            }
        );
        assert_eq!(c.low, None);
    }

    #[test]
    fn outside_the_sweep() {
        let below = capacity_at_gos(
            &pts(&[(5.0, 0.001), (6.0, 0.005)]),
            0.01,
            Interpolation::Linear,
        )
        .unwrap();
        assert_eq!(below.estimate, Crossing::AboveSweep { max_offered: 6.0 });
        let above = capacity_at_gos(
            &pts(&[(5.0, 0.03), (6.0, 0.05)]),
            0.01,
            Interpolation::Linear,
        )
        .unwrap();
        assert_eq!(above.estimate, Crossing::BelowSweep { min_offered: 5.0 });
        assert_eq!(above.estimate.erlangs(), None);
    }

    #[test]
    fn first_up_crossing_wins() {
        // Noisy: crosses between 2 and 3, dips back at 4, crosses again at 5.
        let c = capacity_at_gos(
            &pts(&[
                (1.0, 0.002),
                (2.0, 0.008),
                (3.0, 0.012),
                (4.0, 0.009),
                (5.0, 0.03),
            ]),
            0.01,
            Interpolation::Linear,
        )
        .unwrap();
        let e = c.estimate.erlangs().unwrap();
        assert!((e - 2.5).abs() < 1e-12, "{e}");
    }

    #[test]
    fn rejects_bad_sweeps() {
        let m = Interpolation::Linear;
        assert!(capacity_at_gos(&[], 0.01, m).is_err());
        assert!(capacity_at_gos(&pts(&[(2.0, 0.0), (1.0, 0.1)]), 0.01, m).is_err());
        assert!(capacity_at_gos(&pts(&[(1.0, 0.0), (1.0, 0.1)]), 0.01, m).is_err());
        assert!(capacity_at_gos(&pts(&[(1.0, f64::NAN)]), 0.01, m).is_err());
        assert!(capacity_at_gos(&pts(&[(1.0, -0.1)]), 0.01, m).is_err());
        assert!(capacity_at_gos(&pts(&[(1.0, 0.1)]), 0.0, m).is_err());
        let bad_ci = [LoadPoint {
            offered: 1.0,
            value: 0.1,
            ci: Some((0.2, 0.1)),
        }];
        assert!(capacity_at_gos(&bad_ci, 0.01, m).is_err());
    }
}
