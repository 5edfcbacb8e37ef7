//! Where a unit's CDRs go while it runs: straight to its CSV file, row by row, while the
//! point-level metrics accumulate in constant memory (counts, Welford means and a bounded
//! histogram). A run of a million calls never holds its calls.

use crate::metrics::cdr::{CallRecord, Outcome};
use crate::metrics::{Histogram, Welford};
use crate::sim::Fnv1a;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};

/// The metrics computed from every unit's CDRs, over the calls of the measurement window
/// (`measured`): counts `calls_offered`, `calls_answered`, `calls_blocked`,
/// `calls_rejected`, `calls_failed`; probabilities `blocking` (blocked / offered),
/// `failure_rate` (blocked, rejected for capacity or failed / offered), `success_rate`
/// (1 − failure rate: answered or ended by a party's choice), `rejected_capacity_rate`
/// (refused by an element's capacity limit: a Mediation Server's relays, call admission
/// control), `failover_rate` (calls that tried an alternate route); delays `pdd_ms_mean`, `pdd_ms_p50`, `pdd_ms_p95`, `pdd_ms_p99`,
/// `setup_ms_mean`; voice quality `mos_mean` (both directions), `mos_caller_mean`,
/// `mos_callee_mean`, and the shares of directions below MOS 3.6 and 3.1
/// (`mos_below_3_6`, `mos_below_3_1`); the other outcome counts, `answer_rate`,
/// `two_way_audio_rate`, `media_relayed_rate` and the mean mouth-to-ear delay heard by
/// callers `delay_ms_mean`, and `limitation_rate`, the share of calls a documented vendor
/// limitation affected. A metric without data (no call, no media) is absent.
pub const CDR_METRICS: &[&str] = &[
    "calls_offered",
    "calls_answered",
    "calls_blocked",
    "calls_rejected",
    "calls_failed",
    "blocking",
    "failure_rate",
    "success_rate",
    "rejected_capacity_rate",
    "failover_rate",
    "pdd_ms_mean",
    "pdd_ms_p50",
    "pdd_ms_p95",
    "pdd_ms_p99",
    "setup_ms_mean",
    "mos_mean",
    "mos_caller_mean",
    "mos_callee_mean",
    "mos_below_3_6",
    "mos_below_3_1",
    "answer_rate",
    "calls_busy",
    "calls_no_answer",
    "calls_declined",
    "calls_abandoned",
    "two_way_audio_rate",
    "media_relayed_rate",
    "delay_ms_mean",
    "limitation_rate",
];

/// Point-level statistics of a unit's measured calls.
#[derive(Clone, Debug, Default)]
pub(crate) struct CdrStats {
    offered: u64,
    answered: u64,
    blocked: u64,
    rejected: u64,
    failed: u64,
    failover: u64,
    pdd: Welford,
    pub(crate) pdd_hist: Histogram,
    setup: Welford,
    mos: Welford,
    mos_caller: Welford,
    mos_callee: Welford,
    mos_below_3_6: u64,
    mos_below_3_1: u64,
    busy: u64,
    no_answer: u64,
    declined: u64,
    abandoned: u64,
    two_way: u64,
    relayed: u64,
    delay: Welford,
    limited: u64,
}

impl CdrStats {
    pub(crate) fn add(&mut self, r: &CallRecord) {
        if !r.measured {
            return;
        }
        self.offered += 1;
        match r.outcome {
            Outcome::Answered => self.answered += 1,
            Outcome::Blocked => self.blocked += 1,
            Outcome::RejectedCapacity => self.rejected += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Busy => self.busy += 1,
            Outcome::NoAnswer => self.no_answer += 1,
            Outcome::Declined => self.declined += 1,
            Outcome::Abandoned => self.abandoned += 1,
        }
        self.two_way += u64::from(r.two_way_audio);
        self.relayed += u64::from(r.media_relayed);
        self.limited += u64::from(!r.limitations.is_empty());
        if let Some(v) = r.delay_ms {
            let _ = self.delay.try_push(v);
        }
        for v in [r.mos_caller, r.mos_callee]
            .into_iter()
            .flatten()
            .filter(|v| v.is_finite())
        {
            self.mos_below_3_6 += u64::from(v < 3.6);
            self.mos_below_3_1 += u64::from(v < 3.1);
        }
        if r.failover > 0 {
            self.failover += 1;
        }
        // Non-finite values are refused by the accumulators; a runner bug must not poison
        // the mean, and the CSV still shows the row.
        if let Some(v) = r.pdd_ms {
            let _ = self.pdd.try_push(v);
            let _ = self.pdd_hist.try_record(v);
        }
        if let Some(v) = r.setup_ms {
            let _ = self.setup.try_push(v);
        }
        if let Some(v) = r.mos_caller {
            let _ = self.mos.try_push(v);
            let _ = self.mos_caller.try_push(v);
        }
        if let Some(v) = r.mos_callee {
            let _ = self.mos.try_push(v);
            let _ = self.mos_callee.try_push(v);
        }
    }

    pub(crate) fn metrics(&self) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: Option<f64>| {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                m.insert(k.to_string(), v);
            }
        };
        put("calls_offered", Some(self.offered as f64));
        put("calls_answered", Some(self.answered as f64));
        put("calls_blocked", Some(self.blocked as f64));
        put("calls_rejected", Some(self.rejected as f64));
        put("calls_failed", Some(self.failed as f64));
        let n = self.offered as f64;
        let share = |k: u64| (self.offered > 0).then(|| k as f64 / n);
        let network_failures = self.blocked + self.rejected + self.failed;
        put("blocking", share(self.blocked));
        put("failure_rate", share(network_failures));
        put(
            "success_rate",
            share(self.offered - network_failures.min(self.offered)),
        );
        put("rejected_capacity_rate", share(self.rejected));
        put("failover_rate", share(self.failover));
        put("pdd_ms_mean", self.pdd.mean());
        put("pdd_ms_p50", self.pdd_hist.quantile(0.5));
        put("pdd_ms_p95", self.pdd_hist.quantile(0.95));
        put("pdd_ms_p99", self.pdd_hist.quantile(0.99));
        put("setup_ms_mean", self.setup.mean());
        put("mos_mean", self.mos.mean());
        put("mos_caller_mean", self.mos_caller.mean());
        put("mos_callee_mean", self.mos_callee.mean());
        let directions = self.mos.count();
        let of_directions = |k: u64| (directions > 0).then(|| k as f64 / directions as f64);
        put("mos_below_3_6", of_directions(self.mos_below_3_6));
        put("mos_below_3_1", of_directions(self.mos_below_3_1));
        put("answer_rate", share(self.answered));
        put("calls_busy", Some(self.busy as f64));
        put("calls_no_answer", Some(self.no_answer as f64));
        put("calls_declined", Some(self.declined as f64));
        put("calls_abandoned", Some(self.abandoned as f64));
        put("two_way_audio_rate", share(self.two_way));
        put("media_relayed_rate", share(self.relayed));
        put("delay_ms_mean", self.delay.mean());
        put("limitation_rate", share(self.limited));
        m
    }
}

/// Counts and hashes the bytes written through it.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hash: Fnv1a,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hash: Fnv1a::new(),
            bytes: 0,
        }
    }

    pub(crate) fn summary(&self) -> (u64, String) {
        (self.bytes, format!("{:016x}", self.hash.finish()))
    }

    pub(crate) fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.write(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The CDR stream of one unit: rows to a CSV file, statistics on the side. The first write
/// error is kept and reported when the unit finishes (the callback cannot fail).
pub(crate) struct CdrSink {
    writer: csv::Writer<HashingWriter<BufWriter<File>>>,
    pub(crate) stats: CdrStats,
    pub(crate) calls: u64,
    error: Option<csv::Error>,
    point: u32,
    replication: u32,
    deployment: String,
}

impl CdrSink {
    pub(crate) fn new(file: File, point: u32, replication: u32, deployment: &str) -> Self {
        let writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(HashingWriter::new(BufWriter::with_capacity(1 << 16, file)));
        CdrSink {
            writer,
            stats: CdrStats::default(),
            calls: 0,
            error: None,
            point,
            replication,
            deployment: deployment.to_string(),
        }
    }

    pub(crate) fn push(&mut self, mut rec: CallRecord) {
        rec.point = self.point;
        rec.replication = self.replication;
        if rec.deployment != self.deployment {
            rec.deployment.clone_from(&self.deployment);
        }
        self.stats.add(&rec);
        self.calls += 1;
        if self.error.is_none() {
            if let Err(e) = self.writer.write_record(rec.csv_row()) {
                self.error = Some(e);
            }
        }
    }

    /// Flushes and syncs the file; returns `(rows, bytes, hash)`.
    pub(crate) fn finish(mut self) -> Result<(u64, u64, String, CdrStats), io::Error> {
        if let Some(e) = self.error.take() {
            return Err(io::Error::other(e));
        }
        self.writer.flush()?;
        let hashing = self
            .writer
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        let (bytes, hash) = hashing.summary();
        let file = hashing
            .into_inner()
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        file.sync_all()?;
        Ok((self.calls, bytes, hash, self.stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record(outcome: Outcome, pdd: Option<f64>, mos: Option<f64>) -> CallRecord {
        CallRecord {
            point: 99,
            replication: 99,
            call_id: 1,
            deployment: "other".into(),
            mix: "lync-pstn".into(),
            direction: "outbound".into(),
            outcome,
            sip_code: None,
            start_s: 1.0,
            pdd_ms: pdd,
            setup_ms: pdd.map(|p| p + 1000.0),
            mos_caller: mos,
            mos_callee: mos.map(|m| m - 0.2),
            route: "fe1>gw1".into(),
            failover: 0,
            ringback_heard: true,
            early_media_heard: false,
            two_way_audio: mos.is_some(),
            comfort_noise_played: false,
            attempt: 0,
            measured: true,
            audio_ms: None,
            talk_s: None,
            one_way_audio: false,
            muted: false,
            dtmf_received: false,
            media_relayed: false,
            codec: String::new(),
            delay_ms: mos.map(|_| 60.0),
            loss_caller: None,
            rtcp_jitter_ms: None,
            limitations: String::new(),
            detail: String::new(),
        }
    }

    #[test]
    fn metrics_from_calls() {
        let mut s = CdrStats::default();
        s.add(&record(Outcome::Answered, Some(800.0), Some(4.2)));
        s.add(&record(Outcome::Answered, Some(1200.0), Some(4.0)));
        s.add(&record(Outcome::Busy, Some(1000.0), None));
        s.add(&record(Outcome::Blocked, None, None));
        let mut warm = record(Outcome::Blocked, None, None);
        warm.measured = false;
        s.add(&warm);
        let m = s.metrics();
        assert_eq!(m["calls_offered"], 4.0);
        assert_eq!(m["blocking"], 0.25);
        assert_eq!(m["success_rate"], 0.75);
        assert_eq!(m["rejected_capacity_rate"], 0.0);
        assert_eq!(m["pdd_ms_mean"], 1000.0);
        assert_eq!(m["pdd_ms_p95"], 1200.0);
        assert!((m["mos_mean"] - 4.0).abs() < 1e-12);
        assert!((m["mos_callee_mean"] - 3.9).abs() < 1e-12);
        assert_eq!(m["delay_ms_mean"], 60.0);
        assert_eq!(m["calls_busy"], 1.0);
        assert_eq!(m["mos_below_3_6"], 0.0);
        assert!(CDR_METRICS.iter().all(|k| m.contains_key(*k)), "{m:?}");
        assert!(!CdrStats::default().metrics().contains_key("blocking"));
    }

    #[test]
    fn sink_writes_rows_and_fixes_identity_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("u.csv");
        let mut sink = CdrSink::new(File::create(&path).unwrap(), 3, 1, "voip-only");
        sink.push(record(Outcome::Answered, Some(800.0), Some(4.2)));
        sink.push(record(Outcome::Blocked, None, None));
        let (rows, bytes, hash, _) = sink.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(rows, 2);
        assert_eq!(bytes, text.len() as u64);
        let mut h = Fnv1a::new();
        h.write(text.as_bytes());
        assert_eq!(hash, format!("{:016x}", h.finish()));
        assert!(
            text.starts_with("3,1,1,voip-only,lync-pstn,outbound,answered,"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 2);
    }
}
