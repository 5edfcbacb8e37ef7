//! RFC 3550 receiver statistics (Appendix A.1 sequence validation, A.3 loss, A.8 jitter) and
//! the loss-run statistics the E-model needs (G.107 BurstR).

/// RFC 3550 A.1 constants.
const MAX_DROPOUT: u32 = 3000;
const MAX_MISORDER: u32 = 100;
const MIN_SEQUENTIAL: u32 = 2;
const RTP_SEQ_MOD: u32 = 1 << 16;

/// Per-source reception state, following the reference code of RFC 3550 A.1, A.3 and A.8.
#[derive(Clone, Debug)]
pub(crate) struct SourceStats {
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    /// Previous packet's arrival (timestamp units) and RTP timestamp, for A.8.
    last_arrival: Option<(f64, u32)>,
    /// Interarrival jitter J in timestamp units (floating point, as in A.8's alternative).
    jitter: f64,
    clock_rate: u32,
    duplicates_or_old: u64,
}

impl SourceStats {
    /// A new source first heard with `seq` (A.1: `init_seq`, then probation).
    pub(crate) fn new(seq: u16, clock_rate: u32) -> Self {
        let mut s = SourceStats {
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            probation: 0,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            last_arrival: None,
            jitter: 0.0,
            clock_rate,
            duplicates_or_old: 0,
        };
        s.init_seq(seq);
        s.max_seq = seq.wrapping_sub(1);
        s.probation = MIN_SEQUENTIAL;
        s
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// A.1 `update_seq`: true when the packet is valid and counted.
    pub(crate) fn update_seq(&mut self, seq: u16) -> bool {
        let udelta = u32::from(seq.wrapping_sub(self.max_seq));
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return true;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return false;
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += RTP_SEQ_MOD;
            }
            self.max_seq = seq;
        } else if udelta <= RTP_SEQ_MOD - MAX_MISORDER {
            // A very large jump.
            if u32::from(seq) == self.bad_seq {
                // Two sequential packets: the other side restarted without telling us.
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
                return false;
            }
        } else {
            // Duplicate or reordered packet.
            self.duplicates_or_old += 1;
        }
        self.received += 1;
        true
    }

    /// A.8: updates J with a packet arriving at `arrival_ns` carrying `timestamp`.
    pub(crate) fn update_jitter(&mut self, arrival_ns: u64, timestamp: u32) {
        let arrival = arrival_ns as f64 * f64::from(self.clock_rate) / 1e9;
        if let Some((prev_arrival, prev_ts)) = self.last_arrival {
            // D(i,j) = (Rj - Ri) - (Sj - Si), with the timestamp difference taken modulo 2^32.
            let ds = f64::from(timestamp.wrapping_sub(prev_ts) as i32);
            let d = (arrival - prev_arrival) - ds;
            self.jitter += (d.abs() - self.jitter) / 16.0;
        }
        self.last_arrival = Some((arrival, timestamp));
    }

    pub(crate) fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// A.3 expected and cumulative lost (signed: duplicates can make it negative).
    pub(crate) fn expected(&self) -> u32 {
        self.extended_max()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    pub(crate) fn cumulative_lost(&self) -> i64 {
        if self.probation > 0 {
            return 0;
        }
        i64::from(self.expected()) - i64::from(self.received)
    }

    /// A.3 fraction lost since the previous call, in 1/256, and starts a new interval.
    pub(crate) fn take_fraction_lost(&mut self) -> u8 {
        if self.probation > 0 {
            return 0;
        }
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        }
    }

    pub(crate) fn jitter_ts(&self) -> f64 {
        self.jitter
    }

    pub(crate) fn snapshot(&self) -> ReceptionStats {
        let expected = if self.probation > 0 {
            0
        } else {
            u64::from(self.expected())
        };
        let received = if self.probation > 0 {
            0
        } else {
            u64::from(self.received)
        };
        ReceptionStats {
            expected,
            received,
            cumulative_lost: self.cumulative_lost(),
            extended_highest_seq: self.extended_max(),
            jitter_ts: self.jitter,
            jitter_ms: self.jitter * 1000.0 / f64::from(self.clock_rate),
            duplicates_or_reordered: self.duplicates_or_old,
        }
    }
}

/// A snapshot of the RFC 3550 statistics of the current source.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReceptionStats {
    /// Packets expected: extended highest sequence − base + 1 (A.3).
    pub expected: u64,
    /// Packets received and counted (A.1), duplicates included as RFC 3550 does.
    pub received: u64,
    /// expected − received; negative with duplicates.
    pub cumulative_lost: i64,
    pub extended_highest_seq: u32,
    /// Interarrival jitter J (A.8) in timestamp units.
    pub jitter_ts: f64,
    /// The same in milliseconds.
    pub jitter_ms: f64,
    /// Packets that arrived out of order or twice.
    pub duplicates_or_reordered: u64,
}

impl ReceptionStats {
    /// Network loss ratio (cumulative lost / expected), clamped to [0, 1].
    pub fn loss_ratio(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            (self.cumulative_lost.max(0) as f64 / self.expected as f64).min(1.0)
        }
    }
}

/// What the listener got, packet slot by packet slot, after the jitter buffer: every slot is
/// played or lost (lost in the network, late, or dropped by a full buffer). Loss runs are
/// maximal sequences of consecutive lost slots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LossRunStats {
    /// Slots decided (played + lost).
    pub slots: u64,
    /// Slots lost for any reason.
    pub lost: u64,
    /// Of which arrived after their playout time.
    pub late: u64,
    /// Of which arrived too early for a fixed buffer's capacity.
    pub overflow: u64,
    /// Number of loss runs.
    pub runs: u64,
    /// Longest run.
    pub longest_run: u64,
    last_lost: bool,
    current: u64,
}

impl LossRunStats {
    pub(crate) fn record(&mut self, lost: bool) {
        self.slots += 1;
        if lost {
            self.lost += 1;
            if !self.last_lost {
                self.runs += 1;
                self.current = 0;
            }
            self.current += 1;
            self.longest_run = self.longest_run.max(self.current);
        }
        self.last_lost = lost;
    }

    /// Packet loss probability Ppl in percent, as G.107 uses it.
    pub fn ppl_percent(&self) -> f64 {
        if self.slots == 0 {
            0.0
        } else {
            100.0 * self.lost as f64 / self.slots as f64
        }
    }

    /// Mean length of a loss run.
    pub fn mean_run_length(&self) -> f64 {
        if self.runs == 0 {
            0.0
        } else {
            self.lost as f64 / self.runs as f64
        }
    }

    /// G.107 §3.8 BurstR: the observed mean loss-run length over the mean expected under
    /// random loss at the same rate, 1 / (1 − p). It is 1 for random loss, > 1 for bursty
    /// loss, and 1 when nothing was lost.
    pub fn burst_ratio(&self) -> f64 {
        if self.runs == 0 || self.lost >= self.slots {
            return 1.0;
        }
        let p = self.lost as f64 / self.slots as f64;
        (self.mean_run_length() * (1.0 - p)).max(f64::MIN_POSITIVE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3550_jitter_on_a_hand_computed_sequence() {
        // 8 kHz clock, 20 ms packets (160 units). Transit deltas D are chosen by hand:
        // arrivals (ms) 0, 20, 45, 60, 80, 110 -> in units 0, 160, 360, 480, 640, 880;
        // timestamps 0, 160, 320, 480, 640, 800 -> D = 0, 40, -40, 0, 80.
        // J1 = 0; J2 = 0 + (40-0)/16 = 2.5; J3 = 2.5 + (40-2.5)/16 = 4.84375;
        // J4 = 4.84375 + (0-4.84375)/16 = 4.541015625;
        // J5 = 4.541015625 + (80-4.541015625)/16 = 9.257202148...
        let mut s = SourceStats::new(100, 8000);
        let arrivals_ms = [0u64, 20, 45, 60, 80, 110];
        let expect = [0.0, 0.0, 2.5, 4.84375, 4.541015625, 9.2572021484375];
        for (i, &a) in arrivals_ms.iter().enumerate() {
            s.update_jitter(a * 1_000_000, 1000 + 160 * i as u32);
            assert!(
                (s.jitter_ts() - expect[i]).abs() < 1e-9,
                "step {i}: {}",
                s.jitter_ts()
            );
        }
    }

    #[test]
    fn jitter_handles_timestamp_wrap() {
        let mut s = SourceStats::new(0, 8000);
        s.update_jitter(0, u32::MAX - 79);
        s.update_jitter(20_000_000, 80); // 160 units later across the wrap
        assert_eq!(s.jitter_ts(), 0.0);
    }

    #[test]
    fn a1_probation_wrap_and_loss() {
        let mut s = SourceStats::new(65534, 8000);
        assert!(!s.update_seq(65534)); // probation
        assert!(s.update_seq(65535)); // validated: base = 65535
        assert!(s.update_seq(0)); // wrap
        assert!(s.update_seq(3)); // 1 and 2 lost
        let st = s.snapshot();
        assert_eq!(st.extended_highest_seq, 65536 + 3);
        assert_eq!(st.expected, 5);
        assert_eq!(st.received, 3);
        assert_eq!(st.cumulative_lost, 2);
        // 2 lost of 5 expected: 2*256/5 = 102.
        assert_eq!(s.take_fraction_lost(), 102);
        assert_eq!(s.take_fraction_lost(), 0);
        // A duplicate makes cumulative loss smaller.
        assert!(s.update_seq(3));
        assert_eq!(s.snapshot().cumulative_lost, 1);
    }

    #[test]
    fn a1_restart_after_big_jump() {
        let mut s = SourceStats::new(10, 8000);
        s.update_seq(10);
        s.update_seq(11);
        assert!(!s.update_seq(30_000)); // big jump: not counted
        assert!(s.update_seq(30_001)); // two in sequence: resync
        assert_eq!(s.snapshot().expected, 1);
    }

    #[test]
    fn loss_runs_and_burst_ratio() {
        let mut r = LossRunStats::default();
        // 20 slots, 4 lost in one run of 4: p = 0.2, random mean run 1/(1-p) = 1.25,
        // BurstR = 4 / 1.25 = 3.2.
        for i in 0..20 {
            r.record((5..9).contains(&i));
        }
        assert_eq!((r.lost, r.runs, r.longest_run), (4, 1, 4));
        assert!((r.burst_ratio() - 3.2).abs() < 1e-12);
        assert!((r.ppl_percent() - 20.0).abs() < 1e-12);
        let mut q = LossRunStats::default();
        for i in 0..10 {
            q.record(i % 5 == 0);
        }
        assert!((q.burst_ratio() - 0.8).abs() < 1e-12);
        assert_eq!(LossRunStats::default().burst_ratio(), 1.0);
    }
}
