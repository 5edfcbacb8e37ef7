//! From a finished call's log to its CDR row.

use super::cdr::{CallRecord, Outcome};
use super::emodel::{CodecStage, DirectionInput, SUMMARY_VARIANT};
use crate::elements::callbook::{CallLog, MediaLegReport, PartyRole};
use crate::scenario::run::CallMeta;

/// The MOS one party heard (G.107, the variant summaries use); `None` when no audio was
/// played or the delay is unknown.
pub fn direction_mos(m: &MediaLegReport) -> Option<f64> {
    if !m.audio_heard {
        return None;
    }
    let input = DirectionInput {
        mouth_to_ear_ms: m.mouth_to_ear_ms?,
        stages: m
            .stages
            .iter()
            .map(|s| CodecStage {
                ie: s.ie,
                bpl: s.bpl,
                ppl: s.ppl,
                burst_r: s.burst_r,
            })
            .collect(),
    };
    let q = input.evaluate(SUMMARY_VARIANT);
    q.mos.is_finite().then_some(q.mos)
}

fn ms(from: crate::sim::SimTime, to: Option<crate::sim::SimTime>) -> Option<f64> {
    to.map(|t| t.saturating_since(from).as_millis_f64())
}

/// The CDR row of a finished call. `point` and `replication` are left at 0 for the
/// experiment runner to fill.
pub fn call_record(
    log: &CallLog,
    meta: &CallMeta,
    element_names: &[String],
    deployment: &str,
) -> CallRecord {
    let caller = log.media_for(PartyRole::Caller);
    let callee = log.media_for(PartyRole::Callee);
    let first_progress = match (log.ringback_at, log.early_media_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let two_way = log.two_way_audio();
    let audio_at = two_way
        .then(|| {
            let c = caller.map(|m| m.opened_at)?;
            let d = callee.map(|m| m.opened_at)?;
            Some(c.max(d).max(log.answered_at.unwrap_or(c)))
        })
        .flatten();
    CallRecord {
        point: 0,
        replication: 0,
        call_id: meta.call_id,
        deployment: deployment.to_string(),
        mix: meta.mix.to_string(),
        direction: meta.direction.to_string(),
        outcome: log.outcome,
        sip_code: if log.outcome == Outcome::Answered {
            Some(200)
        } else {
            log.final_status
        },
        start_s: log.started_at.as_secs_f64(),
        pdd_ms: ms(log.started_at, first_progress.or(log.answered_at)),
        setup_ms: ms(log.started_at, log.answered_at),
        mos_caller: caller.and_then(direction_mos),
        mos_callee: callee.and_then(direction_mos),
        route: log
            .route
            .iter()
            .map(|id| {
                element_names
                    .get(id.0 as usize)
                    .map(String::as_str)
                    .unwrap_or("?")
            })
            .collect::<Vec<_>>()
            .join(">"),
        failover: log.failovers,
        ringback_heard: log.ringback_at.is_some(),
        early_media_heard: log.early_media_at.is_some(),
        two_way_audio: two_way,
        comfort_noise_played: caller.is_some_and(|m| m.comfort_noise_played),
        attempt: meta.attempt,
        measured: meta.measured,
        audio_ms: ms(log.started_at, audio_at),
        talk_s: log
            .answered_at
            .zip(log.ended_at)
            .map(|(a, e)| e.saturating_since(a).as_secs_f64()),
        one_way_audio: log.one_way_audio(),
        muted: log.muted,
        dtmf_received: log.media.iter().any(|m| m.dtmf_digits > 0),
        media_relayed: log.media.iter().any(|m| m.relayed),
        codec: caller
            .or(callee)
            .map(|m| m.codec.to_string())
            .unwrap_or_default(),
        delay_ms: caller.and_then(|m| m.mouth_to_ear_ms),
        loss_caller: caller.filter(|m| m.audio_heard).map(|m| m.loss_fraction),
        rtcp_jitter_ms: caller.and_then(|m| m.monitor_jitter_ms),
        limitations: log
            .limitations
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(";"),
        detail: log.detail.clone(),
    }
}
