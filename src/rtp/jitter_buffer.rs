//! The playout (jitter) buffer: fixed or adaptive.
//!
//! Playout is scheduled per *segment*: a segment starts at a talk spurt (marker bit, or a
//! timestamp jump larger than the sequence-number jump), and its frames play at
//! `timestamp time + offset`, with the offset fixed for the whole segment. A packet's fate is
//! therefore known when it arrives: it plays if it arrives before its playout time, and it is
//! lost ("late") otherwise. A fixed buffer also drops packets that arrive more than its
//! capacity ahead of playout ("overflow"). A slot whose packet never arrives is lost once its
//! playout time has passed. Decided slots are recorded in order in [`LossRunStats`], which
//! is what the listener experiences and what the E-model's Ppl and BurstR are built from.
//!
//! - **Fixed**: at each segment start, offset = that packet's arrival + `delay`.
//! - **Adaptive**: the delay estimator of Ramjee, Kurose, Towsley and Schulzrinne, "Adaptive
//!   playout mechanisms for packetized audio applications in wide-area networks" (IEEE
//!   INFOCOM 1994), algorithm 1: d = α·d + (1−α)·n, v = α·v + (1−α)·|d − n| per packet, with
//!   α = 0.998002, and a segment's playout delay d + 4·v, clamped to [min, max] above the
//!   first packet's delay. A stream without pauses (no VAD) has no talk spurts, so the
//!   adaptive buffer also re-plans every `resync_interval`, moving by at most one frame
//!   (time-scale modification of a few percent, as adaptive buffers do).
//!
//! Relative delay `n = arrival − timestamp time` includes the unknown clock offset between
//! sender and receiver; the offset cancels out of every decision.

use super::stats::LossRunStats;
use crate::sim::{SimDuration, SimTime};

/// Jitter buffer settings.
#[derive(Clone, Debug, PartialEq)]
pub enum JitterBufferConfig {
    /// A fixed playout delay after the first packet of each talk spurt, and a capacity.
    Fixed {
        delay: SimDuration,
        capacity: SimDuration,
    },
    /// An adaptive delay.
    Adaptive(AdaptiveConfig),
}

/// Settings of the adaptive buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptiveConfig {
    /// Lower bound of the playout delay above the first packet of a segment.
    pub min_delay: SimDuration,
    /// Upper bound.
    pub max_delay: SimDuration,
    /// Re-planning interval for streams without talk spurts.
    pub resync_interval: SimDuration,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        AdaptiveConfig {
            min_delay: SimDuration::from_millis(20),
            max_delay: SimDuration::from_millis(300),
            resync_interval: SimDuration::from_secs(1),
        }
    }
}

impl Default for JitterBufferConfig {
    fn default() -> Self {
        JitterBufferConfig::Adaptive(AdaptiveConfig::default())
    }
}

impl JitterBufferConfig {
    /// A fixed buffer of `delay` with twice that capacity.
    pub fn fixed(delay: SimDuration) -> Self {
        JitterBufferConfig::Fixed {
            delay,
            capacity: delay * 2,
        }
    }
}

/// A time as signed nanoseconds (saturating: `SimTime::MAX` stays the largest).
fn ns(t: SimTime) -> i64 {
    t.as_nanos().min(i64::MAX as u64) as i64
}

/// Ramjee et al. algorithm 1 smoothing factor.
const ALPHA: f64 = 0.998_002;
/// Safety factor on the delay variation.
const BETA: f64 = 4.0;
/// Slots tracked ahead of the next undecided one.
const WINDOW: usize = 1024;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Slot {
    Empty,
    Played,
    Late,
    Overflow,
}

#[derive(Copy, Clone, Debug)]
struct Segment {
    first_ext: i64,
    /// Playout time = timestamp time (ns, relative) + offset (ns).
    offset: i64,
    started_at: SimTime,
}

/// What happened to an arriving packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Will be played at this time; `delay` is the wait in the buffer.
    Played { at: SimTime, wait: SimDuration },
    /// Arrived after its playout time.
    Late,
    /// Arrived too early for a fixed buffer.
    Overflow,
    /// Older than anything still undecided (a very late duplicate).
    Stale,
}

/// Whether an arriving packet carries audio (or CN) that is played in sequence, or an event
/// (DTMF) that only occupies a sequence number.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum SlotKind {
    Media,
    Event,
}

#[derive(Clone, Debug)]
pub(crate) struct JitterBuffer {
    cfg: JitterBufferConfig,
    clock_rate: u32,
    frame_ns: i64,
    samples_per_packet: i64,
    d_hat: f64,
    v_hat: f64,
    /// Packets seen by the estimator (it averages plainly until 1/(1−α) packets).
    estimator_count: u64,
    segments: Vec<Segment>,
    /// Highest media packet: extended seq, unwrapped timestamp, raw timestamp.
    highest: Option<(i64, i64, u32)>,
    /// Timestamp origin (raw) for unwrapping.
    ts_origin: Option<u32>,
    ext_origin: Option<(i64, u16)>,
    next_final: i64,
    ring: Vec<Slot>,
    /// Playout time (ns) of played slots, parallel to `ring`.
    ring_playout: Vec<i64>,
    last_final_playout: Option<i64>,
    pub(crate) runs: LossRunStats,
    pub(crate) wait_sum_ns: f64,
    pub(crate) played_media: u64,
}

impl JitterBuffer {
    pub(crate) fn new(cfg: JitterBufferConfig, clock_rate: u32, ptime: SimDuration) -> Self {
        JitterBuffer {
            cfg,
            clock_rate,
            frame_ns: ptime.as_nanos() as i64,
            samples_per_packet: (u64::from(clock_rate) * ptime.as_nanos() / 1_000_000_000) as i64,
            d_hat: 0.0,
            v_hat: 0.0,
            estimator_count: 0,
            segments: Vec::new(),
            highest: None,
            ts_origin: None,
            ext_origin: None,
            next_final: 0,
            ring: vec![Slot::Empty; WINDOW],
            ring_playout: vec![0; WINDOW],
            last_final_playout: None,
            runs: LossRunStats::default(),
            wait_sum_ns: 0.0,
            played_media: 0,
        }
    }

    /// Forgets the current source (a new SSRC); decided-slot statistics are kept.
    pub(crate) fn reset_source(&mut self) {
        let runs = std::mem::take(&mut self.runs);
        let (w, p) = (self.wait_sum_ns, self.played_media);
        *self = JitterBuffer::new(
            self.cfg.clone(),
            self.clock_rate,
            SimDuration::from_nanos(self.frame_ns as u64),
        );
        self.runs = runs;
        self.wait_sum_ns = w;
        self.played_media = p;
    }

    fn ts_time_ns(&self, ts_unwrapped: i64) -> i64 {
        match ts_unwrapped.checked_mul(1_000_000_000) {
            Some(v) => v / i64::from(self.clock_rate),
            // Past ~13 days of timestamps at 8 kHz: widen.
            None => (i128::from(ts_unwrapped) * 1_000_000_000 / i128::from(self.clock_rate)) as i64,
        }
    }

    fn ext_seq(&mut self, seq: u16) -> i64 {
        match self.ext_origin {
            None => {
                // Start at 2^20 so reordered packets just before the first stay positive.
                let ext = (1 << 20) + i64::from(seq);
                self.ext_origin = Some((ext, seq));
                self.next_final = ext;
                ext
            }
            Some((ref mut e, ref mut s)) => {
                let delta = i64::from(seq.wrapping_sub(*s) as i16);
                let ext = *e + delta;
                if delta > 0 {
                    *e = ext;
                    *s = seq;
                }
                ext
            }
        }
    }

    fn unwrap_ts(&mut self, ts: u32) -> i64 {
        let origin = *self.ts_origin.get_or_insert(ts);
        match self.highest {
            Some((_, hu, hraw)) => hu + i64::from(ts.wrapping_sub(hraw) as i32),
            None => i64::from(ts.wrapping_sub(origin) as i32),
        }
    }

    fn segment_for(&self, ext: i64) -> Option<&Segment> {
        self.segments.iter().rev().find(|s| s.first_ext <= ext)
    }

    /// Handles one arriving packet and returns its fate.
    pub(crate) fn on_packet(
        &mut self,
        now: SimTime,
        seq: u16,
        ts: u32,
        marker: bool,
        kind: SlotKind,
    ) -> Fate {
        let ext = self.ext_seq(seq);
        if ext < self.next_final {
            return Fate::Stale;
        }
        if ext - self.next_final >= WINDOW as i64 {
            // Far ahead: decide older slots now, as if their time had come.
            let force_to = ext - WINDOW as i64 + 1;
            while self.next_final < force_to {
                self.finalize_one();
            }
        }
        let fate = match kind {
            SlotKind::Event => {
                self.ring[(ext as usize) % WINDOW] = Slot::Played;
                Fate::Played {
                    at: now,
                    wait: SimDuration::ZERO,
                }
            }
            SlotKind::Media => self.media_fate(now, ext, ts, marker),
        };
        let slot = match fate {
            Fate::Played { .. } => Slot::Played,
            Fate::Late => Slot::Late,
            Fate::Overflow => Slot::Overflow,
            Fate::Stale => Slot::Empty,
        };
        let i = (ext as usize) % WINDOW;
        if let Fate::Played { at, .. } = fate {
            self.ring_playout[i] = ns(at);
        }
        if kind == SlotKind::Media && fate != Fate::Stale {
            let cur = &mut self.ring[i];
            // A duplicate never undoes a played slot.
            if *cur != Slot::Played {
                *cur = slot;
            }
        }
        self.advance(now);
        fate
    }

    fn media_fate(&mut self, now: SimTime, ext: i64, ts: u32, marker: bool) -> Fate {
        let tsu = self.unwrap_ts(ts);
        let arrival = ns(now);
        let n = (arrival - self.ts_time_ns(tsu)) as f64;
        // Until 1/(1−α) packets have been seen, a plain running mean (weight 1/count) gives
        // the estimator an unbiased start instead of a long climb from its first sample.
        self.estimator_count += 1;
        let a = ALPHA.min(1.0 - 1.0 / self.estimator_count as f64);
        self.d_hat = a * self.d_hat + (1.0 - a) * n;
        self.v_hat = a * self.v_hat + (1.0 - a) * (self.d_hat - n).abs();
        let newer = self.highest.is_none_or(|(h, _, _)| ext > h);
        if newer {
            let talk_spurt_start = match self.highest {
                None => true,
                Some((h, hu, _)) => {
                    marker
                        || tsu - hu
                            > (ext - h) * self.samples_per_packet + self.samples_per_packet / 2
                }
            };
            let resync = !talk_spurt_start
                && match (&self.cfg, self.segments.last()) {
                    (JitterBufferConfig::Adaptive(a), Some(s)) => {
                        now >= s.started_at + a.resync_interval
                    }
                    _ => false,
                };
            if talk_spurt_start || resync {
                self.start_segment(now, ext, tsu, n as i64, resync);
            }
            self.highest = Some((ext, tsu, ts));
        }
        let Some(seg) = self.segment_for(ext) else {
            // Older than the first segment: it would have played before we started.
            return Fate::Late;
        };
        let playout = self.ts_time_ns(tsu) + seg.offset;
        if arrival > playout {
            return Fate::Late;
        }
        let wait = (playout - arrival) as u64;
        if let JitterBufferConfig::Fixed { capacity, .. } = self.cfg {
            if wait > capacity.as_nanos() {
                return Fate::Overflow;
            }
        }
        self.wait_sum_ns += wait as f64;
        self.played_media += 1;
        Fate::Played {
            at: SimTime::from_nanos(playout as u64),
            wait: SimDuration::from_nanos(wait),
        }
    }

    fn start_segment(&mut self, now: SimTime, ext: i64, tsu: i64, n: i64, resync: bool) {
        let target = match &self.cfg {
            JitterBufferConfig::Fixed { delay, .. } => n + delay.as_nanos() as i64,
            JitterBufferConfig::Adaptive(a) => {
                let planned = (self.d_hat + BETA * self.v_hat) as i64;
                planned.clamp(
                    n + a.min_delay.as_nanos() as i64,
                    n + a.max_delay.as_nanos() as i64,
                )
            }
        };
        let offset = match (self.segments.last(), resync) {
            // Re-planning inside a continuous stream: move by at most one frame.
            (Some(prev), true) => {
                target.clamp(prev.offset - self.frame_ns, prev.offset + self.frame_ns)
            }
            // A new talk spurt must not start before the previous one has finished playing.
            (Some(prev), false) => match self.highest {
                Some((_, hu, _)) => {
                    let prev_end = self.ts_time_ns(hu) + prev.offset + self.frame_ns;
                    target.max(prev_end - self.ts_time_ns(tsu))
                }
                None => target,
            },
            (None, _) => target,
        };
        self.segments.push(Segment {
            first_ext: ext,
            offset,
            started_at: now,
        });
        // Keep a short history for reordered packets of earlier segments.
        if self.segments.len() > 8 {
            self.segments.remove(0);
        }
    }

    /// Estimated playout time of slot `ext` (for a packet that has not arrived).
    fn estimated_playout(&self, ext: i64) -> Option<i64> {
        let (h, hu, _) = self.highest?;
        let seg = self.segment_for(ext)?;
        // Frames are one packet apart in timestamp within a segment.
        let tsu = hu - (h - ext) * self.samples_per_packet;
        let est = self.ts_time_ns(tsu) + seg.offset;
        Some(match self.last_final_playout {
            Some(p) => est.max(p),
            None => est,
        })
    }

    fn finalize_one(&mut self) {
        let i = (self.next_final as usize) % WINDOW;
        let slot = std::mem::replace(&mut self.ring[i], Slot::Empty);
        match slot {
            Slot::Played => self.runs.record(false),
            Slot::Late => {
                self.runs.late += 1;
                self.runs.record(true);
            }
            Slot::Overflow => {
                self.runs.overflow += 1;
                self.runs.record(true);
            }
            Slot::Empty => self.runs.record(true),
        }
        let playout = match slot {
            Slot::Played => Some(self.ring_playout[i]),
            _ => self.estimated_playout(self.next_final),
        };
        if let Some(p) = playout {
            self.last_final_playout = Some(p);
        }
        self.next_final += 1;
    }

    /// Decides every slot whose fate is known at `now`.
    pub(crate) fn advance(&mut self, now: SimTime) {
        let Some((h, _, _)) = self.highest else {
            return;
        };
        let now_ns = ns(now);
        while self.next_final <= h {
            let i = (self.next_final as usize) % WINDOW;
            let decided = match self.ring[i] {
                Slot::Empty => self
                    .estimated_playout(self.next_final)
                    .is_none_or(|p| now_ns > p),
                _ => true,
            };
            if !decided {
                break;
            }
            self.finalize_one();
        }
    }

    /// Mean time a played packet waited in the buffer.
    pub(crate) fn mean_wait(&self) -> Option<SimDuration> {
        (self.played_media > 0)
            .then(|| SimDuration::from_nanos((self.wait_sum_ns / self.played_media as f64) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn jb(cfg: JitterBufferConfig) -> JitterBuffer {
        JitterBuffer::new(cfg, 8000, SimDuration::from_millis(20))
    }

    #[test]
    fn fixed_buffer_plays_on_time_and_drops_late_packets() {
        let mut b = jb(JitterBufferConfig::fixed(SimDuration::from_millis(40)));
        // Packet k is sent at 20k ms; network delay 10 ms, except packet 3 (+50 ms: late
        // against a 40 ms buffer) and packet 5 (+30 ms: fine).
        let extra = |k: u64| match k {
            3 => 50,
            5 => 30,
            _ => 0,
        };
        let mut fates = vec![];
        for k in 0..10u64 {
            let now = SimTime::from_nanos((20 * k + 10 + extra(k)) * MS);
            fates.push(b.on_packet(now, k as u16, (160 * k) as u32, k == 0, SlotKind::Media));
        }
        assert_eq!(fates[3], Fate::Late);
        assert!(
            matches!(fates[5], Fate::Played { wait, .. } if wait == SimDuration::from_millis(10))
        );
        assert!(
            matches!(fates[0], Fate::Played { wait, .. } if wait == SimDuration::from_millis(40))
        );
        b.advance(SimTime::from_secs(10));
        assert_eq!(b.runs.slots, 10);
        assert_eq!((b.runs.lost, b.runs.late), (1, 1));
    }

    #[test]
    fn missing_packets_are_lost_once_their_time_has_passed() {
        let mut b = jb(JitterBufferConfig::fixed(SimDuration::from_millis(40)));
        for k in [0u64, 1, 4, 5] {
            let now = SimTime::from_nanos((20 * k + 10) * MS);
            b.on_packet(now, k as u16, (160 * k) as u32, false, SlotKind::Media);
        }
        // Slots 2, 3 play at 90 and 110 ms: at 100 ms only slot 2 is decided.
        b.advance(SimTime::from_millis(100));
        assert_eq!(b.runs.slots, 3);
        b.advance(SimTime::from_millis(1000));
        assert_eq!((b.runs.slots, b.runs.lost, b.runs.runs), (6, 2, 1));
    }

    #[test]
    fn reordered_packet_in_time_is_not_lost() {
        let mut b = jb(JitterBufferConfig::fixed(SimDuration::from_millis(60)));
        let arrivals = [(0u64, 10u64), (2, 50), (1, 55), (3, 70)];
        for (k, at) in arrivals {
            b.on_packet(
                SimTime::from_millis(at),
                k as u16,
                (160 * k) as u32,
                false,
                SlotKind::Media,
            );
        }
        b.advance(SimTime::from_secs(1));
        assert_eq!((b.runs.slots, b.runs.lost), (4, 0));
    }

    #[test]
    fn adaptive_buffer_grows_with_jitter() {
        let mut calm = jb(JitterBufferConfig::default());
        let mut rough = jb(JitterBufferConfig::default());
        // Talk spurts of 50 packets with a marker each; rough has ±30 ms alternating delay.
        for k in 0..2000u64 {
            let marker = k % 50 == 0;
            let ts = (160 * k + 8000 * (k / 50)) as u32; // 1 s pause between spurts
            let sent = 20 * k + 1000 * (k / 50);
            calm.on_packet(
                SimTime::from_millis(sent + 10),
                k as u16,
                ts,
                marker,
                SlotKind::Media,
            );
            let j = if k % 2 == 0 { 0 } else { 30 };
            rough.on_packet(
                SimTime::from_millis(sent + 10 + j),
                k as u16,
                ts,
                marker,
                SlotKind::Media,
            );
        }
        let (c, r) = (calm.mean_wait().unwrap(), rough.mean_wait().unwrap());
        assert!(c <= SimDuration::from_millis(21), "calm waits {c}");
        assert!(r > SimDuration::from_millis(25), "rough waits {r}");
        calm.advance(SimTime::MAX);
        rough.advance(SimTime::MAX);
        assert_eq!(calm.runs.lost, 0);
        // After the estimator settles the rough stream loses few packets: allow 5 %.
        assert!(
            rough.runs.ppl_percent() < 5.0,
            "{}",
            rough.runs.ppl_percent()
        );
    }
}
