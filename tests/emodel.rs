//! The ITU-T G.107 E-model against published points and the G.107 equations.

use approx::assert_abs_diff_eq;
use voicetwin::metrics::emodel::{
    CodecStage, DirectionInput, EModelParams, SUMMARY_VARIANT, Variant, idd, ie_eff, mos_from_r,
    r_full, r_simplified, summarize_mos,
};
use voicetwin::rtp::Codec;

fn g711_plc() -> (f64, f64) {
    let p = Codec::Pcmu.profile();
    (p.ie, p.bpl)
}

#[test]
fn g711_with_plc_at_0ms_0pct_is_r_93_2_mos_4_41() {
    // G.107 §7 with Table 3 defaults: R = 93.2 (93.206 before rounding).
    let r = r_full(&EModelParams::default());
    assert_abs_diff_eq!(r.r, 93.2, epsilon = 0.01);
    assert_abs_diff_eq!(r.ro, 94.77, epsilon = 0.005);
    assert_abs_diff_eq!(r.is, 1.41, epsilon = 0.005);
    assert_abs_diff_eq!(r.mos(), 4.41, epsilon = 0.005);
    let (ie, bpl) = g711_plc();
    assert_abs_diff_eq!(r_simplified(0.0, ie, bpl, 0.0, 1.0), 93.2, epsilon = 1e-12);
    assert_abs_diff_eq!(mos_from_r(93.2), 4.41, epsilon = 0.005);
}

#[test]
fn g711_with_plc_at_1pct_random_loss_is_r_89_6_mos_4_33() {
    let (ie, bpl) = g711_plc();
    // Ie,eff = 95 * 1 / (1 + 25.1) = 3.64.
    assert_abs_diff_eq!(ie_eff(ie, bpl, 1.0, 1.0), 3.6398, epsilon = 1e-4);
    let r = r_simplified(0.0, ie, bpl, 1.0, 1.0);
    assert_abs_diff_eq!(r, 89.6, epsilon = 0.05);
    assert_abs_diff_eq!(mos_from_r(r), 4.33, epsilon = 0.005);
    // The full form agrees at zero delay.
    let full = r_full(&EModelParams {
        ie,
        bpl,
        ppl: 1.0,
        ..EModelParams::default()
    });
    assert_abs_diff_eq!(full.r, 89.57, epsilon = 0.01);
}

#[test]
fn idd_follows_the_g107_formula_at_several_delays() {
    // Values of 25{(1+X^6)^(1/6) - 3(1+(X/3)^6)^(1/6) + 2}, X = log2(Ta/100), computed
    // independently (Python, double precision).
    let table = [
        (0.0, 0.0),
        (100.0, 0.0),
        (150.0, 0.163_531),
        (200.0, 3.044_414),
        (250.0, 8.916_710),
        (300.0, 14.760_695),
        (400.0, 24.070_089),
        (500.0, 30.635_925),
    ];
    for (ta, want) in table {
        assert_abs_diff_eq!(idd(ta), want, epsilon = 1e-5);
    }
    // Monotone above 100 ms.
    let mut last = 0.0;
    for ta in (100..800).step_by(10) {
        let v = idd(f64::from(ta));
        assert!(v >= last);
        last = v;
    }
}

#[test]
fn full_form_adds_echo_terms_at_long_delay() {
    // With T = Ta, Tr = 2 Ta and TELR 65 dB, the full form is below the simplified one.
    let d = DirectionInput {
        mouth_to_ear_ms: 200.0,
        stages: vec![CodecStage {
            ie: 0.0,
            bpl: 25.1,
            ppl: 0.0,
            burst_r: 1.0,
        }],
    };
    let full = d.evaluate(Variant::Full);
    let simple = d.evaluate(Variant::Simplified);
    // Independent computation of the G.107 equations: R = 85.80 at 200 ms.
    assert_abs_diff_eq!(full.r, 85.805, epsilon = 0.01);
    assert_abs_diff_eq!(simple.r, 93.2 - 3.0444, epsilon = 1e-3);
    assert!(full.mos < simple.mos);
    assert_eq!(SUMMARY_VARIANT, Variant::Full);
}

#[test]
fn bursty_loss_lowers_mos_against_random_loss_at_equal_rate() {
    let (ie, bpl) = g711_plc();
    for ppl in [0.5, 1.0, 2.0, 5.0] {
        let random = r_simplified(0.0, ie, bpl, ppl, 1.0);
        let bursty = r_simplified(0.0, ie, bpl, ppl, 2.0);
        assert!(bursty < random, "ppl {ppl}");
        assert!(mos_from_r(bursty) < mos_from_r(random));
    }
    // At 2 %: R 86.20 (random) vs 85.93 (BurstR 2) in the full form.
    let f = |b| {
        r_full(&EModelParams {
            ie,
            bpl,
            ppl: 2.0,
            burst_r: b,
            ..EModelParams::default()
        })
        .r
    };
    assert_abs_diff_eq!(f(1.0), 86.195, epsilon = 0.01);
    assert_abs_diff_eq!(f(2.0), 85.927, epsilon = 0.01);
}

#[test]
fn codec_values_and_tandem_additivity() {
    let g729 = Codec::G729a.profile();
    assert_abs_diff_eq!(
        r_simplified(0.0, g729.ie, g729.bpl, 0.0, 1.0),
        82.2,
        epsilon = 1e-9
    );
    // G.711 without PLC is far less robust: 1 % loss costs 95 / 5.3 = 17.9.
    let nplc = Codec::Pcma.profile().without_plc();
    assert_abs_diff_eq!(ie_eff(nplc.ie, nplc.bpl, 1.0, 1.0), 17.924, epsilon = 1e-3);
    // Transcoding RTAudio -> G.711 adds the stages' Ie,eff.
    let rta = Codec::RtAudioNb.profile();
    let g711 = Codec::Pcmu.profile();
    let d = DirectionInput {
        mouth_to_ear_ms: 80.0,
        stages: vec![
            CodecStage {
                ie: rta.ie,
                bpl: rta.bpl,
                ppl: 1.0,
                burst_r: 1.0,
            },
            CodecStage {
                ie: g711.ie,
                bpl: g711.bpl,
                ppl: 1.0,
                burst_r: 1.0,
            },
        ],
    };
    let want = ie_eff(rta.ie, rta.bpl, 1.0, 1.0) + ie_eff(0.0, 25.1, 1.0, 1.0);
    assert_abs_diff_eq!(d.total_ie_eff(), want, epsilon = 1e-12);
    assert_abs_diff_eq!(
        d.evaluate(Variant::Simplified).r,
        93.2 - want,
        epsilon = 1e-9
    );
}

#[test]
fn mos_mapping_edges() {
    assert_eq!(mos_from_r(-5.0), 1.0);
    assert_eq!(mos_from_r(120.0), 4.5);
    assert_eq!(mos_from_r(f64::NAN), 1.0);
    assert_abs_diff_eq!(mos_from_r(50.0), 2.575, epsilon = 1e-12);
    // R 70 ~ 3.6 and R 60 ~ 3.1: the thresholds of the distribution summary.
    assert_abs_diff_eq!(mos_from_r(70.0), 3.6, epsilon = 0.01);
    assert_abs_diff_eq!(mos_from_r(60.0), 3.1, epsilon = 0.01);
}

#[test]
fn mos_distribution_summary() {
    let s = summarize_mos(&[4.4, 4.3, 3.5, 3.0, f64::NAN]).unwrap();
    assert_eq!(s.n, 4);
    assert_abs_diff_eq!(s.mean, 3.8, epsilon = 1e-12);
    assert_abs_diff_eq!(s.share_below_3_6, 0.5, epsilon = 1e-12);
    assert_abs_diff_eq!(s.share_below_3_1, 0.25, epsilon = 1e-12);
    assert_eq!(s.min, 3.0);
    assert!(summarize_mos(&[]).is_none());
}
