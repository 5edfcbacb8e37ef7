//! The sending half of a media session: one packet per `ptime` while the party talks,
//! comfort noise or nothing during silence, RFC 4733 DTMF events, and hold/resume.
//!
//! Rules implemented:
//! - RFC 3550 §5.1: random initial sequence number and timestamp; the timestamp advances
//!   with the sampling clock whether or not packets are sent, so after silence or hold it
//!   reflects the elapsed time (the receiver sees a timestamp jump, not a loss: sequence
//!   numbers stay contiguous).
//! - RFC 3551 §4.1: the marker bit is set on the first packet of a talk spurt, i.e. the
//!   first audio packet after a period in which audio was not sent (silence, hold, start).
//! - RFC 3389 §4: with VAD and CN negotiated on both sides, a CN packet is sent at the start
//!   of each silence period and refreshed every `cn_refresh`. RFC 3389 leaves the update
//!   rate to the implementation; we default to 1 s, the period Unify OpenScape gateways
//!   document for CN packets during silence.
//! - RFC 4733 §2.5.1: a DTMF event is a series of packets with the event's start timestamp,
//!   the marker bit on the first, a growing duration, and an end packet (E bit) sent three
//!   times (§2.5.1.4). Audio is not sent while an event is in progress (as gateways mute
//!   in-band audio during a digit). Durations above 65535 timestamp units are refused.
//! - Hold: a direction without "send" (recvonly, inactive) stops packets at once; RTCP goes
//!   on (RFC 3264 §5.1). Resuming restarts on a new frame grid with the marker bit set.

use super::codec::{Codec, CodecProfile};
use super::talkspurt::{TalkSpurtModel, Voice};
use super::wire::{ComfortNoise, DtmfDigit, RtpRepr, TelephoneEvent};
use super::{CallPhase, Error};
use crate::sim::{SimDuration, SimRng, SimTime};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The SDP direction attribute (RFC 3264 §5.1) from the local point of view.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Direction {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
}

/// What the sender does while its party is silent.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SilenceMode {
    /// No VAD: audio packets all the time.
    Continuous,
    /// VAD without CN: nothing is sent during silence.
    Suppressed,
    /// VAD with CN negotiated on both sides: CN packets during silence.
    ComfortNoise,
}

impl SilenceMode {
    /// The effective mode from the sender's VAD setting, whether each side offered CN in its
    /// SDP, and what the sender does with VAD when CN is not available
    /// (`suppress_without_cn`: send nothing; otherwise fall back to continuous audio).
    pub fn negotiate(
        vad: bool,
        local_cn: bool,
        remote_cn: bool,
        suppress_without_cn: bool,
    ) -> Self {
        match (vad, local_cn && remote_cn, suppress_without_cn) {
            (false, _, _) => SilenceMode::Continuous,
            (true, true, _) => SilenceMode::ComfortNoise,
            (true, false, true) => SilenceMode::Suppressed,
            (true, false, false) => SilenceMode::Continuous,
        }
    }
}

/// The mapping between a source's RTP timestamps and virtual time.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MediaClock {
    /// An instant.
    pub time: SimTime,
    /// The RTP timestamp of that instant.
    pub timestamp: u32,
    pub clock_rate: u32,
}

impl MediaClock {
    /// The timestamp at `t` (times before the anchor give the anchor's).
    pub fn timestamp_at(&self, t: SimTime) -> u32 {
        let units = u128::from(t.saturating_since(self.time).as_nanos())
            * u128::from(self.clock_rate)
            / 1_000_000_000;
        // Truncation to u32 is the modulo-2^32 wrap RTP timestamps use.
        self.timestamp.wrapping_add(units as u32)
    }

    /// The instant of timestamp `ts`, taken as at or after the anchor.
    pub fn time_of(&self, ts: u32) -> SimTime {
        let units = u64::from(ts.wrapping_sub(self.timestamp));
        self.time + SimDuration::from_nanos(units * 1_000_000_000 / u64::from(self.clock_rate))
    }
}

/// Sender settings, from the negotiated SDP and the endpoint's capabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct SenderConfig {
    pub codec: CodecProfile,
    pub ptime_ms: u32,
    pub silence: SilenceMode,
    /// CN payload type (13 for 8 kHz, RFC 3551 Table 4).
    pub cn_payload_type: u8,
    pub cn_refresh: SimDuration,
    /// Background noise level sent in CN packets, in −dBov.
    pub cn_level_dbov: u8,
    /// The negotiated telephone-event payload type; `None` when RFC 4733 was not agreed.
    pub telephone_event_pt: Option<u8>,
    /// Whether this endpoint sends RFC 4733 digits during early media.
    pub dtmf_in_early_media: bool,
    /// DTMF power level in −dBm0 (0–63).
    pub dtmf_volume: u8,
}

impl SenderConfig {
    /// Defaults for `codec`: its default ptime, continuous audio, RFC 4733 on PT 101.
    pub fn new(codec: CodecProfile) -> Self {
        SenderConfig {
            codec,
            ptime_ms: codec.default_ptime_ms,
            silence: SilenceMode::Continuous,
            cn_payload_type: 13,
            cn_refresh: SimDuration::from_secs(1),
            cn_level_dbov: 70,
            telephone_event_pt: Some(101),
            dtmf_in_early_media: true,
            dtmf_volume: 10,
        }
    }
}

/// Counters of what the sender emitted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SenderStats {
    /// RTP packets sent (the SR packet count).
    pub packets: u64,
    /// RTP payload octets sent (the SR octet count).
    pub payload_octets: u64,
    /// RTP datagram octets (headers included, UDP/IP excluded).
    pub rtp_octets: u64,
    pub audio_packets: u64,
    pub cn_packets: u64,
    pub dtmf_packets: u64,
    /// Digits requested but not sent (no telephone-event, early media not supported, or
    /// not sending).
    pub dtmf_suppressed: u64,
    /// Talk spurts started (packets sent with the marker bit for audio).
    pub talk_spurts: u64,
}

#[derive(Clone, Debug)]
struct ActiveEvent {
    digit: DtmfDigit,
    start_ts: u32,
    total: u32,
    elapsed: u32,
    end_sent: u8,
}

const END_REPEATS: u8 = 3;

/// The sending half of a media session (sans-IO).
#[derive(Clone, Debug)]
pub struct MediaSender {
    cfg: SenderConfig,
    ssrc: u32,
    seq: u16,
    clock: MediaClock,
    ptime: SimDuration,
    samples_per_packet: u32,
    talk: TalkSpurtModel,
    direction: Direction,
    phase: CallPhase,
    next_tick: Option<SimTime>,
    need_marker: bool,
    silent_prev: bool,
    cn_sent_at: Option<SimTime>,
    dtmf_queue: VecDeque<(DtmfDigit, u32)>,
    dtmf_active: Option<ActiveEvent>,
    audio_payload: Vec<u8>,
    stats: SenderStats,
    pub(crate) out: VecDeque<Vec<u8>>,
    sent_since_report: bool,
    /// (start of the next frame, its timestamp) on the current frame grid.
    grid_ts: Option<(SimTime, u32)>,
}

impl MediaSender {
    /// A sender that starts capturing at `now`. The SSRC, the initial sequence number and
    /// the initial timestamp are drawn from `rng` (RFC 3550 §5.1, §8.1).
    pub fn new(
        cfg: SenderConfig,
        talk: TalkSpurtModel,
        rng: &mut SimRng,
        now: SimTime,
    ) -> Result<Self, Error> {
        cfg.codec.check_ptime(cfg.ptime_ms)?;
        if cfg.dtmf_volume > 63 {
            return Err(Error::Config {
                field: "dtmf_volume",
                msg: format!("{} is not in 0..=63 dBm0", cfg.dtmf_volume),
            });
        }
        if cfg.cn_level_dbov > 127 {
            return Err(Error::Config {
                field: "cn_level_dbov",
                msg: format!("{} is not in 0..=127 dBov", cfg.cn_level_dbov),
            });
        }
        if cfg.cn_refresh.is_zero() {
            return Err(Error::Config {
                field: "cn_refresh",
                msg: "must be positive".into(),
            });
        }
        let ssrc: u32 = rng.random();
        let seq: u16 = rng.random();
        let ts: u32 = rng.random();
        let ptime = SimDuration::from_millis(u64::from(cfg.ptime_ms));
        let filler = match cfg.codec.codec {
            // The codes for a zero sample in µ-law and A-law; others are opaque frames.
            Codec::Pcmu => 0xff,
            Codec::Pcma => 0xd5,
            _ => 0x00,
        };
        Ok(MediaSender {
            samples_per_packet: cfg.codec.samples_per_packet(cfg.ptime_ms),
            audio_payload: vec![filler; cfg.codec.payload_bytes(cfg.ptime_ms) as usize],
            ssrc,
            seq,
            clock: MediaClock {
                time: now,
                timestamp: ts,
                clock_rate: cfg.codec.clock_rate,
            },
            ptime,
            talk,
            direction: Direction::SendRecv,
            phase: CallPhase::Connected,
            next_tick: Some(now + ptime),
            need_marker: true,
            silent_prev: false,
            cn_sent_at: None,
            dtmf_queue: VecDeque::new(),
            dtmf_active: None,
            stats: SenderStats::default(),
            out: VecDeque::new(),
            sent_since_report: false,
            grid_ts: None,
            cfg,
        })
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The timestamp ↔ time mapping (for a simulator-side receiver probe, or an SR).
    pub fn clock(&self) -> MediaClock {
        self.clock
    }

    pub fn stats(&self) -> &SenderStats {
        &self.stats
    }

    pub fn direction(&self) -> Direction {
        self.direction
    }

    pub fn set_phase(&mut self, phase: CallPhase) {
        self.phase = phase;
    }

    /// Applies a new local direction (hold/resume). Stopping is immediate; resuming starts a
    /// new frame grid at `now` and marks the first packet.
    pub fn set_direction(&mut self, now: SimTime, direction: Direction) {
        let was = self.direction.sends();
        self.direction = direction;
        if was && !direction.sends() {
            self.next_tick = None;
            self.dtmf_active = None;
            self.stats.dtmf_suppressed += self.dtmf_queue.len() as u64;
            self.dtmf_queue.clear();
        } else if !was && direction.sends() {
            self.next_tick = Some(now + self.ptime);
            self.need_marker = true;
            self.silent_prev = false;
        }
    }

    /// Stops sending for good (the call ended).
    pub fn stop(&mut self) {
        self.next_tick = None;
    }

    /// Queues a DTMF digit of `duration`. Returns whether it will be sent: not without a
    /// negotiated telephone-event, not during early media unless the sender supports it,
    /// and not while the direction does not send.
    pub fn send_dtmf(&mut self, digit: DtmfDigit, duration: SimDuration) -> Result<bool, Error> {
        let units =
            u128::from(duration.as_nanos()) * u128::from(self.clock.clock_rate) / 1_000_000_000;
        if units == 0 || units > u128::from(u16::MAX) {
            return Err(Error::Config {
                field: "dtmf duration",
                msg: format!(
                    "{duration} is {units} timestamp units; RFC 4733 events here must be 1..=65535"
                ),
            });
        }
        let allowed = self.cfg.telephone_event_pt.is_some()
            && self.next_tick.is_some()
            && (self.phase == CallPhase::Connected || self.cfg.dtmf_in_early_media);
        if !allowed {
            self.stats.dtmf_suppressed += 1;
            return Ok(false);
        }
        self.dtmf_queue.push_back((digit, units as u32));
        Ok(true)
    }

    /// When the sender next needs [`MediaSender::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<SimTime> {
        self.next_tick
    }

    /// Sends every frame due at or before `now`.
    pub fn handle_timeout(&mut self, now: SimTime) {
        while let Some(t) = self.next_tick {
            if t > now {
                break;
            }
            self.tick(t);
            self.next_tick = self.next_tick.map(|t| t + self.ptime);
        }
    }

    /// The next RTP datagram to send (when the sender is used on its own; a
    /// [`super::MediaSession`] drains it itself).
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.pop_front()
    }

    /// Whether RTP was sent since the last call (for the RTCP sender rule).
    pub(crate) fn take_sent_since_report(&mut self) -> bool {
        std::mem::take(&mut self.sent_since_report)
    }

    fn tick(&mut self, t: SimTime) {
        let frame_start = t - self.ptime;
        // On a regular frame grid the timestamp advances by one packet's worth of samples;
        // after a restart (resume) it is recomputed from the clock.
        let ts = match self.grid_ts {
            Some((at, ts)) if at == frame_start => ts,
            _ => self.clock.timestamp_at(frame_start),
        };
        self.grid_ts = Some((t, ts.wrapping_add(self.samples_per_packet)));
        let voice = self.talk.voice_at(frame_start);
        if self.dtmf_active.is_none() {
            if let Some((digit, total)) = self.dtmf_queue.pop_front() {
                self.dtmf_active = Some(ActiveEvent {
                    digit,
                    start_ts: ts,
                    total,
                    elapsed: 0,
                    end_sent: 0,
                });
            }
        }
        if self.dtmf_active.is_some() {
            self.send_event();
            return;
        }
        let talking = voice == Voice::Talking || self.cfg.silence == SilenceMode::Continuous;
        if talking {
            let marker = std::mem::take(&mut self.need_marker);
            if marker {
                self.stats.talk_spurts += 1;
            }
            let payload = std::mem::take(&mut self.audio_payload);
            self.push_rtp(marker, self.cfg.codec.payload_type, ts, &payload);
            self.audio_payload = payload;
            self.stats.audio_packets += 1;
            self.silent_prev = false;
            return;
        }
        self.need_marker = true;
        if self.cfg.silence == SilenceMode::ComfortNoise {
            let due = !self.silent_prev
                || self
                    .cn_sent_at
                    .is_none_or(|at| t >= at + self.cfg.cn_refresh);
            if due {
                let mut payload = Vec::with_capacity(1);
                let cn = ComfortNoise {
                    level_dbov: self.cfg.cn_level_dbov,
                    reflection: Vec::new(),
                };
                // Invariant: the level was checked in `new`.
                if cn.emit(&mut payload).is_ok() {
                    self.push_rtp(false, self.cfg.cn_payload_type, ts, &payload);
                    self.stats.cn_packets += 1;
                    self.cn_sent_at = Some(t);
                }
            }
        }
        self.silent_prev = true;
    }

    fn send_event(&mut self) {
        let Some(pt) = self.cfg.telephone_event_pt else {
            self.dtmf_active = None;
            return;
        };
        let spp = self.samples_per_packet;
        let Some(ev) = self.dtmf_active.as_mut() else {
            return;
        };
        let first = ev.elapsed == 0;
        if ev.elapsed < ev.total {
            ev.elapsed = ev.elapsed.saturating_add(spp).min(ev.total);
        }
        let end = ev.elapsed >= ev.total;
        if end {
            ev.end_sent += 1;
        }
        let te = TelephoneEvent {
            event: ev.digit.event(),
            end,
            volume: self.cfg.dtmf_volume,
            // Invariant: `total` <= 65535, checked in `send_dtmf`.
            duration: ev.elapsed.min(u32::from(u16::MAX)) as u16,
        };
        let start_ts = ev.start_ts;
        let done = ev.end_sent >= END_REPEATS;
        if done {
            self.dtmf_active = None;
            // Audio after a digit starts a new talk spurt.
            self.need_marker = true;
        }
        // Invariant: the volume was checked in `new`.
        if let Ok(payload) = te.emit() {
            self.push_rtp(first, pt, start_ts, &payload);
            self.stats.dtmf_packets += 1;
        }
    }

    fn push_rtp(&mut self, marker: bool, payload_type: u8, timestamp: u32, payload: &[u8]) {
        let repr = RtpRepr {
            marker,
            payload_type,
            sequence_number: self.seq,
            timestamp,
            ssrc: self.ssrc,
            csrcs: Vec::new(),
            payload,
        };
        let mut buf = Vec::with_capacity(repr.buffer_len());
        // Invariant: payload types come from validated profiles and SDP (< 128, outside
        // 72..=76), and there are no CSRCs, so emitting cannot fail.
        if repr.emit(&mut buf).is_ok() {
            self.seq = self.seq.wrapping_add(1);
            self.stats.packets += 1;
            self.stats.payload_octets += payload.len() as u64;
            self.stats.rtp_octets += buf.len() as u64;
            self.sent_since_report = true;
            self.out.push_back(buf);
        }
    }
}
