//! The RTCP side of a session (RFC 3550 §6): when to send (the §6.3 rules and the A.7
//! interval algorithm), what to send (SR or RR with a report block, SDES CNAME, BYE), and
//! what the peer's reports tell us (its view of our stream: loss, jitter, round-trip time).
//!
//! A session with RTCP disabled has no agent at all: it sends no RTCP, and its
//! [`RemoteReception`] stays `None`, which is how "monitoring reports will not contain jitter
//! and packet loss" shows.

use super::sender::MediaClock;
use super::stats::SourceStats;
use super::wire::{ReportBlock, RtcpCompound, RtcpPacket, SenderInfo};
use crate::sim::{SimDuration, SimRng, SimTime};
use rand::Rng;

/// RTCP settings.
#[derive(Clone, Debug, PartialEq)]
pub struct RtcpConfig {
    /// The SDES CNAME (RFC 3550 §6.5.1), e.g. `user@host`.
    pub cname: String,
    /// Session bandwidth in bit/s (the codec's IP rate, or SDP `b=AS`); RTCP gets 5 %.
    pub session_bandwidth_bps: f64,
    /// The minimum interval Tmin (5 s, §6.2).
    pub min_interval: SimDuration,
}

impl RtcpConfig {
    pub fn new(cname: impl Into<String>, session_bandwidth_bps: f64) -> Self {
        RtcpConfig {
            cname: cname.into(),
            session_bandwidth_bps,
            min_interval: SimDuration::from_secs(5),
        }
    }
}

/// The peer's view of the stream we send, from its last report block about our SSRC.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteReception {
    pub fraction_lost: f64,
    pub cumulative_lost: i32,
    pub extended_highest_seq: u32,
    /// Interarrival jitter in milliseconds.
    pub jitter_ms: f64,
    /// Round-trip time from LSR/DLSR (§6.4.1), when the peer had received an SR from us.
    pub round_trip: Option<SimDuration>,
    pub received_at: SimTime,
}

/// The NTP time of `SimTime::ZERO`: 2024-01-01T00:00:00Z in NTP seconds (a fixed instant,
/// so captures look plausible; no wall clock is read).
const NTP_BASE_SECS: u64 = 3_913_056_000;
/// IPv4 + UDP header bytes counted in the average RTCP packet size (§6.2).
const UDP_IP: f64 = 28.0;

/// The 64-bit NTP timestamp of a virtual instant.
pub(crate) fn ntp_of(t: SimTime) -> u64 {
    let ns = t.as_nanos();
    let secs = ns / 1_000_000_000 + NTP_BASE_SECS;
    let frac = (u128::from(ns % 1_000_000_000) << 32) / 1_000_000_000;
    (secs << 32) | frac as u64
}

/// The virtual instant of a 64-bit NTP timestamp.
pub(crate) fn time_of_ntp(ntp: u64) -> SimTime {
    let secs = (ntp >> 32).saturating_sub(NTP_BASE_SECS);
    let frac = (u128::from(ntp & 0xffff_ffff) * 1_000_000_000) >> 32;
    SimTime::from_nanos(
        secs.saturating_mul(1_000_000_000)
            .saturating_add(frac as u64),
    )
}

/// The middle 32 bits of an NTP timestamp (LSR, §6.4.1).
fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// RFC 3550 A.7 `rtcp_interval`: the deterministic interval, randomised over
/// [0.5, 1.5] and divided by e − 3/2 to compensate for timer reconsideration.
// The arguments are those of the RFC's reference function, kept for side-by-side reading.
#[allow(clippy::too_many_arguments)]
pub fn rtcp_interval(
    members: u32,
    senders: u32,
    rtcp_bw_bytes_per_s: f64,
    we_sent: bool,
    avg_rtcp_size: f64,
    initial: bool,
    min_interval: SimDuration,
    rng: &mut SimRng,
) -> SimDuration {
    const SENDER_FRACTION: f64 = 0.25;
    const RECEIVER_FRACTION: f64 = 1.0 - SENDER_FRACTION;
    const COMPENSATION: f64 = std::f64::consts::E - 1.5;
    let mut tmin = min_interval.as_secs_f64();
    if initial {
        tmin /= 2.0;
    }
    let mut n = f64::from(members.max(1));
    let mut bw = rtcp_bw_bytes_per_s;
    if f64::from(senders) <= f64::from(members) * SENDER_FRACTION {
        if we_sent {
            bw *= SENDER_FRACTION;
            n = f64::from(senders.max(1));
        } else {
            bw *= RECEIVER_FRACTION;
            n -= f64::from(senders);
        }
    }
    let mut t = if bw > 0.0 {
        avg_rtcp_size * n / bw
    } else {
        tmin
    };
    if t < tmin {
        t = tmin;
    }
    let r: f64 = rng.random();
    t *= r + 0.5;
    SimDuration::from_secs_f64(t / COMPENSATION)
}

/// The RTCP state of one session endpoint (sans-IO).
#[derive(Clone, Debug)]
pub struct RtcpAgent {
    cfg: RtcpConfig,
    ssrc: u32,
    rng: SimRng,
    tp: SimTime,
    tn: SimTime,
    pmembers: u32,
    avg_rtcp_size: f64,
    initial: bool,
    /// We sent RTP in the current or previous reporting interval.
    sent_recent: [bool; 2],
    remote_sent_recent: [bool; 2],
    remote_known: bool,
    /// (LSR, arrival) of the last SR from the peer.
    last_sr: Option<(u32, SimTime)>,
    remote: Option<RemoteReception>,
    /// The peer's media clock learnt from its SR (NTP ↔ RTP timestamp).
    remote_clock: Option<MediaClock>,
    remote_bye: bool,
    closed: bool,
    pub(crate) reports_sent: u64,
    pub(crate) reports_received: u64,
}

impl RtcpAgent {
    /// An agent starting at `now`; the first report goes out after half the minimum
    /// interval, randomised (§6.2, A.7 `initial`).
    pub fn new(cfg: RtcpConfig, ssrc: u32, mut rng: SimRng, now: SimTime) -> Self {
        // The probable size of our first compound: RR with one block (32) + SDES with the
        // CNAME (8 + 2 + name, padded) + UDP/IP.
        let sdes = 10 + cfg.cname.len();
        let avg = 32.0 + (sdes.div_ceil(4) * 4) as f64 + UDP_IP;
        let t = rtcp_interval(
            1,
            0,
            cfg.session_bandwidth_bps / 8.0 * 0.05,
            false,
            avg,
            true,
            cfg.min_interval,
            &mut rng,
        );
        RtcpAgent {
            cfg,
            ssrc,
            rng,
            tp: now,
            tn: now + t,
            pmembers: 1,
            avg_rtcp_size: avg,
            initial: true,
            sent_recent: [false; 2],
            remote_sent_recent: [false; 2],
            remote_known: false,
            last_sr: None,
            remote: None,
            remote_clock: None,
            remote_bye: false,
            closed: false,
            reports_sent: 0,
            reports_received: 0,
        }
    }

    fn members(&self) -> u32 {
        1 + u32::from(self.remote_known)
    }

    fn senders(&self, we_sent: bool) -> u32 {
        u32::from(we_sent) + u32::from(self.remote_sent_recent.iter().any(|&b| b))
    }

    fn interval(&mut self, we_sent: bool) -> SimDuration {
        rtcp_interval(
            self.members(),
            self.senders(we_sent),
            self.cfg.session_bandwidth_bps / 8.0 * 0.05,
            we_sent,
            self.avg_rtcp_size,
            self.initial,
            self.cfg.min_interval,
            &mut self.rng,
        )
    }

    /// The next transmission time.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        (!self.closed).then_some(self.tn)
    }

    /// Notes RTP traffic since the last check (ours and the peer's).
    pub(crate) fn note_traffic(&mut self, we_sent: bool, remote_sent: bool) {
        self.sent_recent[0] |= we_sent;
        self.remote_sent_recent[0] |= remote_sent;
        self.remote_known |= remote_sent;
    }

    /// A.7 `OnExpire`: with timer reconsideration, either builds a report now or moves the
    /// timer. Returns the compound to send, if any.
    pub(crate) fn on_expire(
        &mut self,
        now: SimTime,
        sender: Option<(MediaClock, u64, u64)>,
        remote: Option<&mut SourceStats>,
        remote_ssrc: Option<u32>,
    ) -> Option<Vec<u8>> {
        if self.closed || now < self.tn {
            return None;
        }
        let we_sent = self.sent_recent.iter().any(|&b| b);
        let t = self.interval(we_sent);
        let tn = self.tp + t;
        if tn > now {
            self.tn = tn;
            return None;
        }
        let pkt = self.build_report(now, we_sent, sender, remote, remote_ssrc, None);
        self.avg_rtcp_size =
            pkt.len() as f64 / 16.0 + self.avg_rtcp_size * 15.0 / 16.0 + UDP_IP / 16.0;
        self.tp = now;
        self.initial = false;
        self.pmembers = self.members();
        self.sent_recent = [false, self.sent_recent[0]];
        self.remote_sent_recent = [false, self.remote_sent_recent[0]];
        let t = self.interval(we_sent);
        self.tn = now + t;
        self.reports_sent += 1;
        Some(pkt)
    }

    /// A final compound with a BYE (§6.3.7: with fewer than 50 members it goes at once).
    pub(crate) fn bye(
        &mut self,
        now: SimTime,
        sender: Option<(MediaClock, u64, u64)>,
        remote: Option<&mut SourceStats>,
        remote_ssrc: Option<u32>,
        reason: Option<&str>,
    ) -> Option<Vec<u8>> {
        if self.closed {
            return None;
        }
        let we_sent = self.sent_recent.iter().any(|&b| b);
        let pkt = self.build_report(now, we_sent, sender, remote, remote_ssrc, Some(reason));
        self.closed = true;
        self.reports_sent += 1;
        Some(pkt)
    }

    fn build_report(
        &mut self,
        now: SimTime,
        we_sent: bool,
        sender: Option<(MediaClock, u64, u64)>,
        remote: Option<&mut SourceStats>,
        remote_ssrc: Option<u32>,
        bye: Option<Option<&str>>,
    ) -> Vec<u8> {
        let mut reports = Vec::new();
        if let (Some(stats), Some(rssrc)) = (remote, remote_ssrc) {
            let (lsr, dlsr) = match self.last_sr {
                Some((lsr, at)) => {
                    let d = (u128::from((now - at).as_nanos()) << 16) / 1_000_000_000;
                    (lsr, d.min(u128::from(u32::MAX)) as u32)
                }
                None => (0, 0),
            };
            reports.push(ReportBlock {
                ssrc: rssrc,
                fraction_lost: stats.take_fraction_lost(),
                cumulative_lost: stats.cumulative_lost().clamp(-0x80_0000, 0x7f_ffff) as i32,
                extended_highest_seq: stats.extended_max(),
                jitter: stats.jitter_ts().round().clamp(0.0, f64::from(u32::MAX)) as u32,
                lsr,
                dlsr,
            });
        }
        let first = match sender {
            Some((clock, packets, octets)) if we_sent => RtcpPacket::SenderReport {
                ssrc: self.ssrc,
                info: SenderInfo {
                    ntp_timestamp: ntp_of(now),
                    rtp_timestamp: clock.timestamp_at(now),
                    // The SR counters wrap modulo 2^32 (§6.4.1).
                    packet_count: packets as u32,
                    octet_count: octets as u32,
                },
                reports,
            },
            _ => RtcpPacket::ReceiverReport {
                ssrc: self.ssrc,
                reports,
            },
        };
        let mut packets = vec![
            first,
            RtcpPacket::SourceDescription {
                chunks: vec![(self.ssrc, self.cfg.cname.clone())],
            },
        ];
        if let Some(reason) = bye {
            packets.push(RtcpPacket::Goodbye {
                ssrcs: vec![self.ssrc],
                reason: reason.map(str::to_owned),
            });
        }
        // Invariant: every field above is in range (cumulative loss clamped, CNAME and
        // reason are short strings chosen by us), so emitting cannot fail; an empty
        // datagram would be dropped by the peer's parser anyway.
        RtcpCompound { packets }.to_vec().unwrap_or_default()
    }

    /// Handles a compound from the peer. Returns whether it carried a BYE.
    pub(crate) fn on_compound(&mut self, now: SimTime, c: &RtcpCompound, clock_rate: u32) -> bool {
        self.reports_received += 1;
        self.remote_known = true;
        let mut bye = false;
        for p in &c.packets {
            let blocks = match p {
                RtcpPacket::SenderReport { info, reports, .. } => {
                    self.last_sr = Some((ntp_middle(info.ntp_timestamp), now));
                    self.remote_clock = Some(MediaClock {
                        time: time_of_ntp(info.ntp_timestamp),
                        timestamp: info.rtp_timestamp,
                        clock_rate,
                    });
                    reports.as_slice()
                }
                RtcpPacket::ReceiverReport { reports, .. } => reports.as_slice(),
                RtcpPacket::Goodbye { .. } => {
                    bye = true;
                    &[]
                }
                _ => &[],
            };
            for b in blocks.iter().filter(|b| b.ssrc == self.ssrc) {
                let round_trip = (b.lsr != 0).then(|| {
                    let a = ntp_middle(ntp_of(now));
                    let rtt = a.wrapping_sub(b.lsr).wrapping_sub(b.dlsr);
                    SimDuration::from_nanos((u64::from(rtt) * 1_000_000_000) >> 16)
                });
                self.remote = Some(RemoteReception {
                    fraction_lost: f64::from(b.fraction_lost) / 256.0,
                    cumulative_lost: b.cumulative_lost,
                    extended_highest_seq: b.extended_highest_seq,
                    jitter_ms: f64::from(b.jitter) * 1000.0 / f64::from(clock_rate),
                    round_trip,
                    received_at: now,
                });
            }
        }
        self.remote_bye |= bye;
        bye
    }

    pub fn remote_reception(&self) -> Option<&RemoteReception> {
        self.remote.as_ref()
    }

    pub fn remote_clock(&self) -> Option<MediaClock> {
        self.remote_clock
    }

    pub fn remote_bye(&self) -> bool {
        self.remote_bye
    }

    pub fn reports_sent(&self) -> u64 {
        self.reports_sent
    }

    pub fn pmembers(&self) -> u32 {
        self.pmembers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RngFactory;

    #[test]
    fn ntp_round_trips_and_middle_bits() {
        let t = SimTime::from_millis(12_345);
        let ntp = ntp_of(t);
        assert_eq!(ntp >> 32, NTP_BASE_SECS + 12);
        let back = time_of_ntp(ntp);
        assert!((back.as_nanos() as i64 - t.as_nanos() as i64).abs() <= 1);
        // Half a second is 0x8000_0000 in the fraction.
        assert_eq!(ntp_of(SimTime::from_millis(500)) & 0xffff_ffff, 0x8000_0000);
        assert_eq!(ntp_middle(0x0001_0002_0003_0004), 0x0002_0003);
    }

    #[test]
    fn interval_has_the_a7_mean_and_range() {
        // Two members, both sending G.711 (80 kbit/s): 5 % is 500 B/s; 100-byte packets
        // give a deterministic interval far below Tmin = 5 s, so T = 5 s * U[0.5, 1.5] /
        // (e - 1.5): mean 4.104 s, range [2.052, 6.156] s.
        let mut rng = RngFactory::new(3).stream("rtcp", "interval");
        let n = 20_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let t = rtcp_interval(
                2,
                2,
                500.0,
                true,
                100.0,
                false,
                SimDuration::from_secs(5),
                &mut rng,
            )
            .as_secs_f64();
            assert!((2.052..=6.157).contains(&t), "{t}");
            sum += t;
        }
        let mean = sum / n as f64;
        // U[0.5,1.5] has sd 0.2887, so the mean of 20 000 intervals has sd
        // 4.104 * 0.2887 / sqrt(20 000) = 0.0084 s; allow 4 sd.
        assert!((mean - 4.104).abs() < 0.034, "{mean}");
        // Initial: half the minimum.
        let t0 = rtcp_interval(
            1,
            0,
            500.0,
            false,
            100.0,
            true,
            SimDuration::from_secs(5),
            &mut rng,
        );
        assert!(t0 <= SimDuration::from_secs_f64(3.08));
        // Large group: the bandwidth term dominates (1000 members * 100 B / 375 B/s).
        let big = rtcp_interval(
            1000,
            1,
            500.0,
            false,
            100.0,
            false,
            SimDuration::from_secs(5),
            &mut rng,
        );
        assert!(big > SimDuration::from_secs(80), "{big}");
    }
}
