//! ITU-T G.107 (06/2015) E-model: the transmission rating R and its mapping to MOS.
//!
//! Two forms are offered:
//! - [`Variant::Full`]: every G.107 §7 equation (basic signal-to-noise ratio Ro, simultaneous
//!   impairments Is, delay impairments Idte + Idle + Idd, equipment impairment Ie,eff,
//!   advantage A) with the G.107 Table 3 default parameters except the delays and the codec
//!   terms, which come from the call. The talker-echo path delay T and the round-trip Tr
//!   are not measured separately, so we use the planning assumption T = Ta and Tr = 2·Ta
//!   (the echo point, a PSTN hybrid or the far handset, is at the far end of the
//!   mouth-to-ear path). With all defaults R = 93.2 (93.206).
//! - [`Variant::Simplified`]: R = 93.2 − Idd − Ie,eff, the common VoIP planning form that
//!   assumes perfect echo control.
//!
//! **Summaries use [`SUMMARY_VARIANT`] = the full form**, so long delays also pay the
//! talker-echo and listener-echo terms of a default (TELR 65 dB) connection.
//!
//! Bursty loss enters through BurstR (G.107 §3.8, computed from loss runs by
//! `rtp::LossRunStats::burst_ratio`), not as random loss. Tandem codecs (transcoding at
//! the Mediation Server) add their Ie,eff values (G.113 §7 additivity rule).
//!
//! Maths go through `libm` so results do not depend on the platform's maths library.

use libm::{exp, log10, pow, sqrt};

/// Which form of the E-model to compute.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Variant {
    Full,
    Simplified,
}

/// The form behind every MOS in summaries, CDRs and charts.
pub const SUMMARY_VARIANT: Variant = Variant::Full;

/// G.107 input parameters. [`Default`] gives Table 3 of G.107.
#[derive(Clone, Debug, PartialEq)]
pub struct EModelParams {
    /// Send loudness rating (dB).
    pub slr: f64,
    /// Receive loudness rating (dB).
    pub rlr: f64,
    /// Sidetone masking rating (dB).
    pub stmr: f64,
    /// Listener sidetone rating (dB).
    pub lstr: f64,
    /// D-value of the telephone, send side.
    pub ds: f64,
    /// D-value of the telephone, receive side.
    pub dr: f64,
    /// Talker echo loudness rating (dB).
    pub telr: f64,
    /// Weighted echo path loss (dB).
    pub wepl: f64,
    /// Mean one-way delay of the echo path (ms).
    pub t: f64,
    /// Round-trip delay in a 4-wire loop (ms).
    pub tr: f64,
    /// Absolute (mouth-to-ear) delay (ms).
    pub ta: f64,
    /// Number of quantizing distortion units.
    pub qdu: f64,
    /// Equipment impairment factor.
    pub ie: f64,
    /// Packet-loss robustness factor.
    pub bpl: f64,
    /// Packet-loss probability (%).
    pub ppl: f64,
    /// Burst ratio.
    pub burst_r: f64,
    /// Circuit noise referred to the 0 dBr point (dBm0p).
    pub nc: f64,
    /// Noise floor at the receive side (dBmp).
    pub nfor: f64,
    /// Room noise at the send side (dB(A)).
    pub ps: f64,
    /// Room noise at the receive side (dB(A)).
    pub pr: f64,
    /// Advantage factor.
    pub a: f64,
}

impl Default for EModelParams {
    fn default() -> Self {
        EModelParams {
            slr: 8.0,
            rlr: 2.0,
            stmr: 15.0,
            lstr: 18.0,
            ds: 3.0,
            dr: 3.0,
            telr: 65.0,
            wepl: 110.0,
            t: 0.0,
            tr: 0.0,
            ta: 0.0,
            qdu: 1.0,
            ie: 0.0,
            bpl: 1.0,
            ppl: 0.0,
            burst_r: 1.0,
            nc: -70.0,
            nfor: -64.0,
            ps: 35.0,
            pr: 35.0,
            a: 0.0,
        }
    }
}

/// The terms of one R computation.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct RFactor {
    pub ro: f64,
    pub is: f64,
    pub idte: f64,
    pub idle: f64,
    pub idd: f64,
    pub ie_eff: f64,
    pub a: f64,
    pub r: f64,
}

impl RFactor {
    pub fn mos(&self) -> f64 {
        mos_from_r(self.r)
    }
}

/// Idd, the impairment of pure (absolute) delay Ta in ms (G.107 §7.3, with the default
/// mT = 100 ms and sT = 1): zero up to 100 ms.
pub fn idd(ta_ms: f64) -> f64 {
    if ta_ms.is_nan() || ta_ms <= 100.0 {
        return 0.0;
    }
    let x = log10(ta_ms / 100.0) / log10(2.0);
    25.0 * (pow(1.0 + pow(x, 6.0), 1.0 / 6.0) - 3.0 * pow(1.0 + pow(x / 3.0, 6.0), 1.0 / 6.0) + 2.0)
}

/// Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl) (G.107 §7.4). `ppl` in percent.
pub fn ie_eff(ie: f64, bpl: f64, ppl: f64, burst_r: f64) -> f64 {
    let ppl = ppl.clamp(0.0, 100.0);
    let burst_r = if burst_r > 0.0 { burst_r } else { 1.0 };
    if ppl == 0.0 {
        return ie;
    }
    ie + (95.0 - ie) * ppl / (ppl / burst_r + bpl)
}

/// G.107 Annex B: MOS (conversational quality, estimated) from R.
pub fn mos_from_r(r: f64) -> f64 {
    if r.is_nan() || r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
    }
}

fn p10(x: f64) -> f64 {
    pow(10.0, x)
}

/// The full G.107 R.
pub fn r_full(p: &EModelParams) -> RFactor {
    let olr = p.slr + p.rlr;
    // §7.1 basic signal-to-noise ratio.
    let nos = p.ps - p.slr - p.ds - 100.0 + 0.004 * (p.ps - olr - p.ds - 14.0).powi(2);
    let pre = p.pr + 10.0 * log10(1.0 + p10((10.0 - p.lstr) / 10.0));
    let nor = p.rlr - 121.0 + pre + 0.008 * (pre - 35.0).powi(2);
    let nfo = p.nfor + p.rlr;
    let no = 10.0 * log10(p10(p.nc / 10.0) + p10(nos / 10.0) + p10(nor / 10.0) + p10(nfo / 10.0));
    let ro = 15.0 - 1.5 * (p.slr + no);
    // §7.2 simultaneous impairments.
    let xolr = olr + 0.2 * (64.0 + no - p.rlr);
    let iolr = 20.0 * (pow(1.0 + pow(xolr / 8.0, 8.0), 1.0 / 8.0) - xolr / 8.0);
    let stmro = -10.0 * log10(p10(-p.stmr / 10.0) + exp(-p.t / 4.0) * p10(-p.telr / 10.0));
    let ist = 12.0 * pow(1.0 + pow((stmro - 13.0) / 6.0, 8.0), 1.0 / 8.0)
        - 28.0 * pow(1.0 + pow((stmro + 1.0) / 19.4, 35.0), 1.0 / 35.0)
        - 13.0 * pow(1.0 + pow((stmro - 3.0) / 33.0, 13.0), 1.0 / 13.0)
        + 29.0;
    let q = 37.0 - 15.0 * log10(p.qdu);
    let g = 1.07 + 0.258 * q + 0.0602 * q * q;
    let z = 46.0 / 30.0 - g / 40.0;
    let y = (ro - 100.0) / 15.0 + 46.0 / 8.4 - g / 9.0;
    let iq = 15.0 * log10(1.0 + p10(y) + p10(z));
    let is = iolr + ist + iq;
    // §7.3 delay impairments.
    let roe = -1.5 * (no - p.rlr);
    let mut terv = p.telr - 40.0 * log10((1.0 + p.t / 10.0) / (1.0 + p.t / 150.0))
        + 6.0 * exp(-0.3 * p.t * p.t);
    if p.stmr < 9.0 {
        terv += ist / 2.0;
    }
    let re = 80.0 + 2.5 * (terv - 14.0);
    let idte =
        ((roe - re) / 2.0 + sqrt((roe - re).powi(2) / 4.0 + 100.0) - 1.0) * (1.0 - exp(-p.t));
    let rle = 10.5 * (p.wepl + 7.0) * pow(p.tr + 1.0, -0.25);
    let idle = (ro - rle) / 2.0 + sqrt((ro - rle).powi(2) / 4.0 + 169.0);
    let idd = idd(p.ta);
    // §7.4 equipment impairment.
    let ie_eff = ie_eff(p.ie, p.bpl, p.ppl, p.burst_r);
    RFactor {
        ro,
        is,
        idte,
        idle,
        idd,
        ie_eff,
        a: p.a,
        r: ro - is - idte - idle - idd - ie_eff + p.a,
    }
}

/// The simplified form R = 93.2 − Idd(Ta) − Ie,eff.
pub fn r_simplified(ta_ms: f64, ie: f64, bpl: f64, ppl: f64, burst_r: f64) -> f64 {
    93.2 - idd(ta_ms) - ie_eff(ie, bpl, ppl, burst_r)
}

/// The loss-dependent impairment of one codec stage of a path.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct CodecStage {
    pub ie: f64,
    pub bpl: f64,
    /// Packet loss seen by this stage's decoder, in percent (network loss + late).
    pub ppl: f64,
    pub burst_r: f64,
}

impl CodecStage {
    pub fn ie_eff(&self) -> f64 {
        ie_eff(self.ie, self.bpl, self.ppl, self.burst_r)
    }
}

/// One direction of a call, mouth to ear.
#[derive(Clone, Debug, PartialEq)]
pub struct DirectionInput {
    /// Mean mouth-to-ear delay Ta, in ms.
    pub mouth_to_ear_ms: f64,
    /// One stage per codec on the path (more than one when transcoded).
    pub stages: Vec<CodecStage>,
}

/// R and MOS of one direction.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct DirectionQuality {
    pub r: f64,
    pub mos: f64,
    pub ie_eff: f64,
    pub idd: f64,
}

impl DirectionInput {
    /// The summed Ie,eff of all stages (G.113 §7: impairment factors add on the R scale),
    /// capped at 95, the value that alone takes R to about zero.
    pub fn total_ie_eff(&self) -> f64 {
        self.stages
            .iter()
            .map(CodecStage::ie_eff)
            .sum::<f64>()
            .min(95.0)
    }

    /// Evaluates R and MOS with `variant`.
    pub fn evaluate(&self, variant: Variant) -> DirectionQuality {
        let ta = self.mouth_to_ear_ms.max(0.0);
        let ie = self.total_ie_eff();
        let r = match variant {
            Variant::Simplified => 93.2 - idd(ta) - ie,
            Variant::Full => {
                // The summed Ie,eff enters as Ie with no further loss term.
                let p = EModelParams {
                    t: ta,
                    tr: 2.0 * ta,
                    ta,
                    ie,
                    ppl: 0.0,
                    ..EModelParams::default()
                };
                r_full(&p).r
            }
        };
        DirectionQuality {
            r,
            mos: mos_from_r(r),
            ie_eff: ie,
            idd: idd(ta),
        }
    }
}

/// The MOS distribution of a set of calls (one value per call direction).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct MosSummary {
    pub n: usize,
    pub mean: f64,
    /// Share of values below 3.6 (G.107 Annex B: "many users dissatisfied" begins at R 60
    /// .. 70; 3.6 is R ≈ 70).
    pub share_below_3_6: f64,
    /// Share below 3.1 (R ≈ 60, "nearly all users dissatisfied").
    pub share_below_3_1: f64,
    pub min: f64,
}

/// Summarises MOS values; `None` for an empty set. NaNs are ignored.
pub fn summarize_mos(values: &[f64]) -> Option<MosSummary> {
    let v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len();
    let share = |limit: f64| v.iter().filter(|&&m| m < limit).count() as f64 / n as f64;
    Some(MosSummary {
        n,
        mean: v.iter().sum::<f64>() / n as f64,
        share_below_3_6: share(3.6),
        share_below_3_1: share(3.1),
        min: v.iter().copied().fold(f64::INFINITY, f64::min),
    })
}
