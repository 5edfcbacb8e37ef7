//! From a finished call's log to its CDR row, and from a run's rows to its point metrics.

use super::cdr::{CallRecord, Outcome};
use super::emodel::{CodecStage, DirectionInput, SUMMARY_VARIANT};
use super::{Histogram, ShareBelow, Welford};
use crate::elements::callbook::{CallLog, MediaLegReport, PartyRole};
use crate::scenario::run::{CallMeta, RunReport};
use std::collections::BTreeMap;

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

/// Accumulates the point metrics of one run from its measured CDR rows, in bounded memory.
#[derive(Clone, Debug)]
pub struct PointAccumulator {
    outcomes: BTreeMap<&'static str, u64>,
    offered: u64,
    pdd: Welford,
    pdd_hist: Histogram,
    setup: Welford,
    mos: Welford,
    mos_below_3_6: ShareBelow,
    mos_below_3_1: ShareBelow,
    delay: Welford,
    failovers: u64,
    two_way: u64,
    relayed: u64,
    calls_total: u64,
}

impl Default for PointAccumulator {
    fn default() -> Self {
        PointAccumulator {
            outcomes: BTreeMap::new(),
            offered: 0,
            pdd: Welford::new(),
            pdd_hist: Histogram::new(),
            setup: Welford::new(),
            mos: Welford::new(),
            // ShareBelow::new rejects only non-finite thresholds; these are constants.
            mos_below_3_6: ShareBelow::new(3.6).expect("finite threshold"),
            mos_below_3_1: ShareBelow::new(3.1).expect("finite threshold"),
            delay: Welford::new(),
            failovers: 0,
            two_way: 0,
            relayed: 0,
            calls_total: 0,
        }
    }
}

impl PointAccumulator {
    /// Adds one call. Calls outside the measurement window only count in `calls_total`.
    pub fn push(&mut self, r: &CallRecord) {
        self.calls_total += 1;
        if !r.measured {
            return;
        }
        self.offered += 1;
        *self.outcomes.entry(r.outcome.as_str()).or_default() += 1;
        if let Some(p) = r.pdd_ms {
            let _ = self.pdd.try_push(p);
            let _ = self.pdd_hist.try_record(p);
        }
        if let Some(s) = r.setup_ms {
            let _ = self.setup.try_push(s);
        }
        for m in [r.mos_caller, r.mos_callee].into_iter().flatten() {
            let _ = self.mos.try_push(m);
            let _ = self.mos_below_3_6.try_push(m);
            let _ = self.mos_below_3_1.try_push(m);
        }
        if let Some(d) = r.delay_ms {
            let _ = self.delay.try_push(d);
        }
        self.failovers += u64::from(r.failover > 0);
        self.two_way += u64::from(r.two_way_audio);
        self.relayed += u64::from(r.media_relayed);
    }

    /// The distribution of post-dial delays (for CDF charts).
    pub fn pdd_histogram(&self) -> &Histogram {
        &self.pdd_hist
    }

    fn count(&self, o: Outcome) -> u64 {
        self.outcomes.get(o.as_str()).copied().unwrap_or(0)
    }

    /// The point metrics: the DESIGN.md minimum (`offered_erlangs`, `calls_offered`,
    /// `calls_answered`, `calls_blocked`, `blocking`, `success_rate`, `pdd_ms_mean`,
    /// `pdd_ms_p95`, `mos_mean`) and more. Means of empty sets are NaN (written empty).
    pub fn metrics(&self, report: &RunReport) -> BTreeMap<String, f64> {
        let n = self.offered as f64;
        let share = |k: u64| {
            if self.offered > 0 {
                k as f64 / n
            } else {
                f64::NAN
            }
        };
        let mut m = BTreeMap::new();
        m.insert("offered_erlangs".into(), report.offered_erlangs);
        m.insert("calls_offered".into(), n);
        m.insert("calls_total".into(), self.calls_total as f64);
        for o in Outcome::ALL {
            m.insert(format!("calls_{}", o.as_str()), self.count(o) as f64);
        }
        m.insert("calls_blocked".into(), self.count(Outcome::Blocked) as f64);
        let network_failures = self.count(Outcome::Blocked)
            + self.count(Outcome::RejectedCapacity)
            + self.count(Outcome::Failed);
        m.insert("blocking".into(), share(self.count(Outcome::Blocked)));
        m.insert("failure_rate".into(), share(network_failures));
        m.insert(
            "success_rate".into(),
            share(self.offered - network_failures),
        );
        m.insert("answer_rate".into(), share(self.count(Outcome::Answered)));
        m.insert("pdd_ms_mean".into(), self.pdd.mean().unwrap_or(f64::NAN));
        m.insert(
            "pdd_ms_p95".into(),
            self.pdd_hist.quantile(0.95).unwrap_or(f64::NAN),
        );
        m.insert(
            "setup_ms_mean".into(),
            self.setup.mean().unwrap_or(f64::NAN),
        );
        m.insert("mos_mean".into(), self.mos.mean().unwrap_or(f64::NAN));
        m.insert(
            "mos_below_3_6".into(),
            self.mos_below_3_6.share().unwrap_or(f64::NAN),
        );
        m.insert(
            "mos_below_3_1".into(),
            self.mos_below_3_1.share().unwrap_or(f64::NAN),
        );
        m.insert(
            "delay_ms_mean".into(),
            self.delay.mean().unwrap_or(f64::NAN),
        );
        m.insert("failover_rate".into(), share(self.failovers));
        m.insert("two_way_audio_rate".into(), share(self.two_way));
        m.insert("relayed_rate".into(), share(self.relayed));
        m.insert("mediation_relays_peak".into(), report.relay_peak as f64);
        // The busiest trunk group (highest peak utilisation) is the bottleneck.
        let (busy_peak, capacity) = report
            .trunks
            .iter()
            .filter(|t| t.capacity > 0)
            .map(|t| (t.peak_busy as f64 / t.capacity as f64, t.capacity as f64))
            .fold((0.0, 0.0), |best, x| if x.0 > best.0 { x } else { best });
        m.insert("trunk_peak_utilisation".into(), busy_peak);
        m.insert("trunk_channels".into(), capacity);
        m
    }
}
