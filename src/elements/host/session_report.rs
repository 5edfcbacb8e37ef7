//! The report of a packet-by-packet media session when it closes.

use super::super::callbook::{MediaLegReport, StageReport};
use super::media::OpenSession;
use crate::sim::SimTime;

pub(crate) fn report_of(s: &OpenSession, now: SimTime) -> MediaLegReport {
    let obs = s.session.observables();
    let runs = s.session.loss_runs();
    let delay = s.session.delay();
    let codec = s.config_codec;
    let loss_fraction = if runs.slots == 0 {
        0.0
    } else {
        runs.lost as f64 / runs.slots as f64
    };
    let mut stages: Vec<StageReport> = s
        .upstream
        .iter()
        .map(|c| StageReport {
            codec: c.encoding_name,
            ie: c.ie,
            bpl: c.bpl,
            ppl: 0.0,
            burst_r: 1.0,
        })
        .collect();
    stages.push(StageReport {
        codec: codec.encoding_name,
        ie: codec.ie,
        bpl: codec.bpl,
        ppl: runs.ppl_percent(),
        burst_r: runs.burst_ratio(),
    });
    let remote = s.session.remote_reception();
    MediaLegReport {
        role: s.role,
        element: s.owner,
        codec: codec.encoding_name,
        stages,
        mouth_to_ear_ms: obs
            .audio_heard
            .then(|| delay.mouth_to_ear(s.extra_delay))
            .flatten()
            .map(|d| d.as_millis_f64()),
        loss_fraction,
        audio_packets: obs.audio_packets,
        audio_heard: obs.audio_heard,
        early_media_heard: obs.early_media_heard,
        comfort_noise_played: obs.comfort_noise_played,
        dtmf_digits: obs.dtmf.len() as u32,
        dtmf_in_early_media: obs.dtmf.iter().filter(|d| d.early_media).count() as u32,
        monitor_jitter_ms: remote.map(|r| r.jitter_ms),
        monitor_loss_fraction: remote.map(|r| r.fraction_lost),
        relayed: s.relayed,
        opened_at: s.opened_at,
        closed_at: now,
    }
}
