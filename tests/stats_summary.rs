//! Means with Student-t 95% intervals across replications, and their JSON form.

use voicetwin::metrics::{Summary, Welford, student_t_quantile};

#[test]
fn t_quantiles_match_tables() {
    // Two-sided 95% (t at 0.975) from standard tables, to six decimals.
    let table = [
        (1, 12.706205),
        (2, 4.302653),
        (4, 2.776445),
        (9, 2.262157),
        (29, 2.045230),
        (120, 1.979930),
    ];
    for (dof, t) in table {
        let got = student_t_quantile(0.95, dof).unwrap();
        // Half a unit in the sixth decimal: statrs inverts the incomplete beta to ~1e-10.
        assert!((got - t).abs() < 5e-7, "dof {dof}: {got} vs {t}");
    }
    // 99% two-sided, dof 9: 3.249836.
    assert!((student_t_quantile(0.99, 9).unwrap() - 3.249836).abs() < 5e-7);
}

#[test]
fn interval_of_ten_replications() {
    // Ten replications of a blocking probability (%). Mean 1.03, s = 0.1337, so the
    // half-width is t(0.975, 9) · s / √10 = 2.262157 · 0.042282 = 0.095648.
    let xs = [1.2, 0.9, 1.1, 1.0, 0.8, 1.05, 0.95, 1.25, 1.0, 1.05];
    let s = Summary::from_values(&xs).unwrap();
    let mean = 1.03;
    let sd = (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 9.0).sqrt();
    let hw = 2.262157 * sd / 10f64.sqrt();
    assert_eq!(s.n, 10);
    assert!((s.mean.unwrap() - mean).abs() < 1e-12);
    assert!((s.ci95_low.unwrap() - (mean - hw)).abs() < 1e-6);
    assert!((s.ci95_high.unwrap() - (mean + hw)).abs() < 1e-6);
    assert!((s.half_width().unwrap() - 0.0956).abs() < 1e-4);
    assert!((s.relative_half_width().unwrap() - 0.0956 / 1.03).abs() < 1e-4);
}

#[test]
fn small_samples_have_no_interval() {
    let none = Summary::from_values(&[]).unwrap();
    assert_eq!(none, Summary::EMPTY);
    let one = Summary::from_values(&[4.2]).unwrap();
    assert_eq!(one.mean, Some(4.2));
    assert_eq!(one.ci95_low, None);
    assert_eq!(one.ci95_high, None);
    assert_eq!(one.half_width(), None);
    assert_eq!(one.n, 1);
    // Identical replications: a zero-width interval, not an absent one.
    let same = Summary::from_values(&[3.0, 3.0, 3.0]).unwrap();
    assert_eq!(same.half_width(), Some(0.0));
}

#[test]
fn json_shape_is_the_design_contract() {
    let s = Summary::from_values(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    let json = serde_json::to_string(&s).unwrap();
    // t(0.975, 3) = 3.182446305..., s = √(5/3): the exact bound is 0.44573974323947797...
    assert!((s.ci95_low.unwrap() - 0.445_739_743_239_478).abs() < 1e-13);
    // Field names and order as in DESIGN.md (mean, ci95_low, ci95_high, n) and the exact
    // digits: the float formatting (shortest round-trip) must not change between builds.
    assert_eq!(
        json,
        r#"{"mean":2.5,"ci95_low":0.4457397432394812,"ci95_high":4.554260256760519,"n":4}"#
    );
    let back: Summary = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    let one = serde_json::to_string(&Summary::from_values(&[7.5]).unwrap()).unwrap();
    assert_eq!(
        one,
        r#"{"mean":7.5,"ci95_low":null,"ci95_high":null,"n":1}"#
    );
    assert!(serde_json::from_str::<Summary>(r#"{"mean":1,"n":1,"extra":0}"#).is_err());
}

#[test]
fn coverage_of_the_interval_is_nominal() {
    // 2,000 intervals of n = 5 normal-ish values (sum of 12 uniforms minus 6, a classic
    // N(0,1) approximation) from a fixed LCG. With true coverage 95%, the count that misses
    // 0 is Binomial(2000, 0.05): mean 100, sd 9.75. Accept 100 ± 4 sd: [61, 139].
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut misses = 0;
    for _ in 0..2000 {
        let mut w = Welford::new();
        for _ in 0..5 {
            let z: f64 = (0..12).map(|_| uniform()).sum::<f64>() - 6.0;
            w.try_push(z).unwrap();
        }
        let (lo, hi) = w.confidence_interval(0.95).unwrap();
        if !(lo <= 0.0 && 0.0 <= hi) {
            misses += 1;
        }
    }
    assert!((61..=139).contains(&misses), "misses {misses} of 2000");
}
