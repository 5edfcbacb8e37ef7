//! Capacity at a grade of service, interpolated from a sweep, checked against Erlang B.

use voicetwin::metrics::erlang::{erlang_b, offered_load_for_gos};
use voicetwin::metrics::{Crossing, Interpolation, LoadPoint, capacity_at_gos};

fn erlang_sweep(channels: u32, first: f64, step: f64, count: usize) -> Vec<LoadPoint> {
    (0..count)
        .map(|i| {
            let offered = first + step * i as f64;
            LoadPoint {
                offered,
                value: erlang_b(channels, offered).unwrap(),
                ci: None,
            }
        })
        .collect()
}

#[test]
fn log_linear_finds_the_published_capacity() {
    // One E1 (30 channels) swept 15..26 E in 1 E steps; the table says 20.337 E at 1%.
    let sweep = erlang_sweep(30, 15.0, 1.0, 12);
    let c = capacity_at_gos(&sweep, 0.01, Interpolation::LogLinear).unwrap();
    let e = c.estimate.erlangs().unwrap();
    // The interpolation error on a 1 E step is 0.016 E; 0.02 E fails a wrong method.
    assert!((e - 20.337).abs() < 0.02, "log-linear gives {e}");
    let lin = capacity_at_gos(&sweep, 0.01, Interpolation::Linear).unwrap();
    let l = lin.estimate.erlangs().unwrap();
    // A chord over a convex curve crosses early: 20.300 E, 0.037 E low.
    assert!(l < 20.337 - 0.03, "linear gives {l}");
}

#[test]
fn log_linear_beats_linear_on_erlang_curves() {
    for &(n, step, first, gos) in &[
        (30_u32, 1.0, 15.0, 0.01),
        (30, 1.0, 15.0, 0.02),
        (10, 0.5, 3.0, 0.01),
        (10, 0.5, 3.0, 0.02),
        (30, 2.0, 14.0, 0.01),
        (23, 1.0, 8.0, 0.005),
    ] {
        let sweep = erlang_sweep(n, first, step, 14);
        let exact = offered_load_for_gos(n, gos).unwrap();
        let ll = capacity_at_gos(&sweep, gos, Interpolation::LogLinear)
            .unwrap()
            .estimate
            .erlangs()
            .unwrap();
        let li = capacity_at_gos(&sweep, gos, Interpolation::Linear)
            .unwrap()
            .estimate
            .erlangs()
            .unwrap();
        assert!(
            (ll - exact).abs() < (li - exact).abs(),
            "N={n} step={step} GoS={gos}: log-linear {ll}, linear {li}, exact {exact}"
        );
        // Both stay inside the bracketing segment.
        assert!((ll - exact).abs() < step && (li - exact).abs() < step);
    }
}

#[test]
fn interval_curves_bound_the_capacity() {
    // A measured sweep with a ±25% band around Erlang B on 23 channels (one T1).
    let sweep: Vec<LoadPoint> = erlang_sweep(23, 10.0, 1.0, 10)
        .into_iter()
        .map(|p| LoadPoint {
            ci: Some((p.value * 0.75, p.value * 1.25)),
            ..p
        })
        .collect();
    let c = capacity_at_gos(&sweep, 0.01, Interpolation::LogLinear).unwrap();
    let e = c.estimate.erlangs().unwrap();
    let lo = c.low.unwrap().erlangs().unwrap();
    let hi = c.high.unwrap().erlangs().unwrap();
    assert!(lo < e && e < hi, "{lo} < {e} < {hi}");
    // 14.470 E at 1% for 23 channels; log-linear on 1 E steps lands 0.022 E high.
    // The ±25% band moves the crossing by about ±0.4 E.
    assert!((e - 14.470).abs() < 0.03, "{e}");
    assert!(e - lo > 0.2 && e - lo < 0.6, "lower bound {lo}");
    assert!(hi - e > 0.2 && hi - e < 0.6, "upper bound {hi}");
}

#[test]
fn not_crossed_is_reported_not_guessed() {
    // 100 channels swept 10..40 E never reach 1%.
    let sweep = erlang_sweep(100, 10.0, 10.0, 4);
    let c = capacity_at_gos(&sweep, 0.01, Interpolation::LogLinear).unwrap();
    assert_eq!(c.estimate, Crossing::AboveSweep { max_offered: 40.0 });
    // 5 channels swept 10..40 E are over 1% from the start.
    let sweep = erlang_sweep(5, 10.0, 10.0, 4);
    let c = capacity_at_gos(&sweep, 0.01, Interpolation::LogLinear).unwrap();
    assert_eq!(c.estimate, Crossing::BelowSweep { min_offered: 10.0 });
}

#[test]
fn serialises_for_summary_json() {
    let sweep = erlang_sweep(30, 15.0, 1.0, 12);
    let c = capacity_at_gos(&sweep, 0.01, Interpolation::LogLinear).unwrap();
    let json = serde_json::to_string(&c.estimate).unwrap();
    assert!(
        json.starts_with(r#"{"kind":"at","erlangs":20.35"#)
            && json.ends_with(r#""interpolation":"log_linear"}"#),
        "{json}"
    );
    let above = serde_json::to_string(&Crossing::AboveSweep { max_offered: 40.0 }).unwrap();
    assert_eq!(above, r#"{"kind":"above_sweep","max_offered":40.0}"#);
}
