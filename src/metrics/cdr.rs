//! Call detail records: one row per call in `calls.csv`.
//!
//! The column names and their order are part of the command-line contract (DESIGN.md):
//! tools outside this repository read them. Add columns at the end; never rename.

use serde::{Deserialize, Serialize};

pub use crate::elements::CallOutcome as Outcome;

/// One call, as written to `calls.csv`. Optional values are written as empty cells.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The sweep point (filled by the experiment runner).
    pub point: u32,
    /// The replication (filled by the experiment runner).
    pub replication: u32,
    pub call_id: u64,
    pub deployment: String,
    /// The call kind, e.g. `lync-pstn`.
    pub mix: String,
    /// `inbound`, `outbound` or `internal`.
    pub direction: String,
    pub outcome: Outcome,
    /// The final SIP status seen by the caller's side (empty when none, e.g. ISDN only).
    pub sip_code: Option<u16>,
    /// When the caller started dialling, seconds since the run started.
    pub start_s: f64,
    /// Post-dial delay: dialling to the first ringback or early media, ms.
    pub pdd_ms: Option<f64>,
    /// Dialling to answer (200 OK / CONNECT at the caller), ms.
    pub setup_ms: Option<f64>,
    /// MOS heard by the caller (empty when no media flowed to the caller).
    pub mos_caller: Option<f64>,
    /// MOS heard by the callee.
    pub mos_callee: Option<f64>,
    /// The elements the call crossed, e.g. `fe1>med1>gw2`.
    pub route: String,
    /// How many alternate routes/gateways were tried after the first.
    pub failover: u32,
    pub ringback_heard: bool,
    pub early_media_heard: bool,
    pub two_way_audio: bool,
    pub comfort_noise_played: bool,
    // --- columns after the DESIGN.md minimum ---
    /// The redial attempt (0 = first attempt).
    pub attempt: u32,
    /// Whether the call arrived inside the measurement window.
    pub measured: bool,
    /// Dialling to two-way audio, ms.
    pub audio_ms: Option<f64>,
    /// Talk time from answer to hang-up, seconds.
    pub talk_s: Option<f64>,
    pub one_way_audio: bool,
    pub muted: bool,
    pub dtmf_received: bool,
    /// Whether media flowed through the Mediation Server (no bypass).
    pub media_relayed: bool,
    /// The codec of the caller's leg.
    pub codec: String,
    /// Mouth-to-ear delay heard by the caller, ms.
    pub delay_ms: Option<f64>,
    /// Packet loss seen by the caller's receiver, fraction.
    pub loss_caller: Option<f64>,
    /// Jitter as reported by RTCP to monitoring, ms (empty when RTCP is off).
    pub rtcp_jitter_ms: Option<f64>,
    /// The limitation IDs whose behaviours acted on this call, `;`-separated.
    pub limitations: String,
    /// Free-text detail of a failure (e.g. `502 from gw1; no failover`).
    pub detail: String,
}

/// The header of `calls.csv`, in the order [`CallRecord::csv_row`] writes.
pub const CALLS_CSV_HEADER: &[&str] = &[
    "point",
    "replication",
    "call_id",
    "deployment",
    "mix",
    "direction",
    "outcome",
    "sip_code",
    "start_s",
    "pdd_ms",
    "setup_ms",
    "mos_caller",
    "mos_callee",
    "route",
    "failover",
    "ringback_heard",
    "early_media_heard",
    "two_way_audio",
    "comfort_noise_played",
    "attempt",
    "measured",
    "audio_ms",
    "talk_s",
    "one_way_audio",
    "muted",
    "dtmf_received",
    "media_relayed",
    "codec",
    "delay_ms",
    "loss_caller",
    "rtcp_jitter_ms",
    "limitations",
    "detail",
];

/// Formats a float for CSV/JSON outputs: fixed precision so outputs are byte-stable.
pub fn fmt_f64(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        let s = format!("{v:.decimals$}");
        // Avoid "-0.000".
        if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
            s[1..].to_string()
        } else {
            s
        }
    } else {
        String::new()
    }
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map(|v| fmt_f64(v, decimals)).unwrap_or_default()
}

fn flag(b: bool) -> String {
    if b { "1".into() } else { "0".into() }
}

impl CallRecord {
    /// The record's cells, in [`CALLS_CSV_HEADER`] order.
    pub fn csv_row(&self) -> Vec<String> {
        vec![
            self.point.to_string(),
            self.replication.to_string(),
            self.call_id.to_string(),
            self.deployment.clone(),
            self.mix.clone(),
            self.direction.clone(),
            self.outcome.as_str().to_string(),
            self.sip_code.map(|c| c.to_string()).unwrap_or_default(),
            fmt_f64(self.start_s, 6),
            opt(self.pdd_ms, 3),
            opt(self.setup_ms, 3),
            opt(self.mos_caller, 3),
            opt(self.mos_callee, 3),
            self.route.clone(),
            self.failover.to_string(),
            flag(self.ringback_heard),
            flag(self.early_media_heard),
            flag(self.two_way_audio),
            flag(self.comfort_noise_played),
            self.attempt.to_string(),
            flag(self.measured),
            opt(self.audio_ms, 3),
            opt(self.talk_s, 3),
            flag(self.one_way_audio),
            flag(self.muted),
            flag(self.dtmf_received),
            flag(self.media_relayed),
            self.codec.clone(),
            opt(self.delay_ms, 3),
            opt(self.loss_caller, 6),
            opt(self.rtcp_jitter_ms, 3),
            self.limitations.clone(),
            self.detail.clone(),
        ]
    }
}

/// The header of `calls.csv`.
pub fn calls_csv_header() -> Vec<&'static str> {
    CALLS_CSV_HEADER
        .iter()
        .copied()
        .filter(|c| !c.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_row_agree_and_keep_the_contract_columns() {
        let header = CALLS_CSV_HEADER;
        let rec = CallRecord {
            point: 1,
            replication: 0,
            call_id: 7,
            deployment: "voip-only".into(),
            mix: "lync-pstn".into(),
            direction: "outbound".into(),
            outcome: Outcome::Answered,
            sip_code: Some(200),
            start_s: 12.5,
            pdd_ms: Some(812.25),
            setup_ms: None,
            mos_caller: Some(4.4),
            mos_callee: None,
            route: "fe1>med1>gw1".into(),
            failover: 0,
            ringback_heard: true,
            early_media_heard: false,
            two_way_audio: true,
            comfort_noise_played: false,
            attempt: 0,
            measured: true,
            audio_ms: None,
            talk_s: Some(180.0),
            one_way_audio: false,
            muted: false,
            dtmf_received: false,
            media_relayed: false,
            codec: "PCMU".into(),
            delay_ms: None,
            loss_caller: Some(0.0),
            rtcp_jitter_ms: None,
            limitations: String::new(),
            detail: String::new(),
        };
        let row = rec.csv_row();
        assert_eq!(header.len(), row.len());
        for required in [
            "point",
            "replication",
            "call_id",
            "deployment",
            "mix",
            "direction",
            "outcome",
            "sip_code",
            "start_s",
            "pdd_ms",
            "setup_ms",
            "mos_caller",
            "mos_callee",
            "route",
            "failover",
            "ringback_heard",
            "early_media_heard",
            "two_way_audio",
            "comfort_noise_played",
        ] {
            assert!(header.contains(&required), "missing {required}");
        }
        assert_eq!(row[6], "answered");
        assert_eq!(row[9], "812.250");
        assert_eq!(row[10], "");
        assert_eq!(fmt_f64(-0.0001, 3), "0.000");
    }
}
