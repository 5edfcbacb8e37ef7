//! The receiving half of a media session: RFC 3550 statistics, the jitter buffer, DTMF and
//! comfort-noise detection, and the per-leg observables later layers assert on.

use super::codec::CodecProfile;
use super::jitter_buffer::{Fate, JitterBuffer, JitterBufferConfig, SlotKind};
use super::sender::MediaClock;
use super::session::SessionEvent;
use super::stats::{LossRunStats, ReceptionStats, SourceStats};
use super::wire::{ComfortNoise, DtmfDigit, RtpRepr, TelephoneEvent};
use super::{CallPhase, Error};
use crate::sim::{SimDuration, SimTime};
use std::collections::VecDeque;

/// What the receiver accepts, from the negotiated SDP.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiverConfig {
    pub codec: CodecProfile,
    pub ptime_ms: u32,
    /// The CN payload type when comfort noise was negotiated (13 at 8 kHz), else `None`:
    /// CN packets are then ignored like any unknown payload.
    pub cn_payload_type: Option<u8>,
    /// The telephone-event payload type when RFC 4733 was negotiated.
    pub telephone_event_pt: Option<u8>,
    pub jitter_buffer: JitterBufferConfig,
}

/// One DTMF digit as the receiver saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DtmfDigitReceived {
    pub digit: char,
    /// Whether it arrived during early media.
    pub early_media: bool,
    /// Arrival of the first packet of the event.
    pub at: SimTime,
    /// The duration from the end packet, once it has arrived.
    pub duration: Option<SimDuration>,
}

/// What a listener on this leg experienced. Later issues assert on these.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LegObservables {
    /// Audio packets received (any phase).
    pub audio_packets: u64,
    /// Audio played out during early media (ringback or announcements from the far end).
    pub early_media_heard: bool,
    /// Audio played out after the call connected.
    pub audio_heard: bool,
    /// Comfort-noise packets received.
    pub cn_packets: u64,
    /// Comfort noise was played: only when CN packets arrive and were negotiated. A
    /// receiver that gets nothing plays silence, not comfort noise.
    pub comfort_noise_played: bool,
    /// DTMF digits received, in order.
    pub dtmf: Vec<DtmfDigitReceived>,
    /// Datagrams that failed to parse.
    pub malformed: u64,
    /// Packets with a payload type that was not negotiated.
    pub unknown_payload_type: u64,
    /// Packets dropped because the local direction does not receive (hold).
    pub ignored_not_receiving: u64,
    pub first_audio_at: Option<SimTime>,
    pub last_audio_at: Option<SimTime>,
}

/// The parts of mouth-to-ear delay this leg can measure.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DelayBreakdown {
    /// Mean one-way network delay of played packets, when the sender's media clock is
    /// known (from an RTCP SR, or from the simulator); `None` otherwise.
    pub network: Option<SimDuration>,
    /// Packetisation: one packet of audio is buffered before it is sent.
    pub packetisation: SimDuration,
    /// The codec's algorithmic look-ahead.
    pub codec_lookahead: SimDuration,
    /// Mean wait in the jitter buffer of played packets.
    pub jitter_buffer: SimDuration,
}

impl DelayBreakdown {
    /// Mouth-to-ear delay = network + packetisation + look-ahead + jitter buffer + `relay`
    /// (the processing delay of any media relay or transcoder on the path, which the caller
    /// knows). `None` when the network part is unknown.
    pub fn mouth_to_ear(&self, relay: SimDuration) -> Option<SimDuration> {
        Some(self.network? + self.packetisation + self.codec_lookahead + self.jitter_buffer + relay)
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum PayloadKind {
    Audio,
    ComfortNoise,
    Event,
    Unknown,
}

/// The receiving half of a media session (sans-IO).
#[derive(Clone, Debug)]
pub struct MediaReceiver {
    cfg: ReceiverConfig,
    ssrc: Option<u32>,
    stats: Option<SourceStats>,
    jb: JitterBuffer,
    remote_clock: Option<MediaClock>,
    obs: LegObservables,
    /// Timestamp of the DTMF event in progress and its index in `obs.dtmf`.
    dtmf_current: Option<(u32, usize)>,
    net_delay_sum_ns: f64,
    net_delay_n: u64,
    phase: CallPhase,
    receiving: bool,
    pub(crate) packets_since_report: bool,
    pub(crate) last_packet_at: Option<SimTime>,
    pub(crate) events: VecDeque<SessionEvent>,
}

impl MediaReceiver {
    pub fn new(cfg: ReceiverConfig) -> Result<Self, Error> {
        cfg.codec.check_ptime(cfg.ptime_ms)?;
        let jb = JitterBuffer::new(
            cfg.jitter_buffer.clone(),
            cfg.codec.clock_rate,
            SimDuration::from_millis(u64::from(cfg.ptime_ms)),
        );
        Ok(MediaReceiver {
            cfg,
            ssrc: None,
            stats: None,
            jb,
            remote_clock: None,
            obs: LegObservables::default(),
            dtmf_current: None,
            net_delay_sum_ns: 0.0,
            net_delay_n: 0,
            phase: CallPhase::Connected,
            receiving: true,
            packets_since_report: false,
            last_packet_at: None,
            events: VecDeque::new(),
        })
    }

    pub fn set_phase(&mut self, phase: CallPhase) {
        self.phase = phase;
    }

    /// Whether the local direction receives media (sendrecv/recvonly).
    pub fn set_receiving(&mut self, receiving: bool) {
        self.receiving = receiving;
    }

    /// The sender's media clock (from an RTCP SR, or from the simulator, which knows it),
    /// so that network delay and mouth-to-ear delay can be measured.
    pub fn set_remote_clock(&mut self, clock: MediaClock) {
        self.remote_clock = Some(clock);
    }

    pub fn remote_clock(&self) -> Option<MediaClock> {
        self.remote_clock
    }

    /// The SSRC of the source being received.
    pub fn remote_ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    fn kind_of(&self, pt: u8) -> PayloadKind {
        if pt == self.cfg.codec.payload_type {
            PayloadKind::Audio
        } else if Some(pt) == self.cfg.cn_payload_type {
            PayloadKind::ComfortNoise
        } else if Some(pt) == self.cfg.telephone_event_pt {
            PayloadKind::Event
        } else {
            PayloadKind::Unknown
        }
    }

    /// Handles one RTP datagram arriving at `now`.
    pub fn handle_rtp(&mut self, now: SimTime, datagram: &[u8]) {
        let rtp = match RtpRepr::parse(datagram) {
            Ok(r) => r,
            Err(_) => {
                self.obs.malformed += 1;
                return;
            }
        };
        if !self.receiving {
            self.obs.ignored_not_receiving += 1;
            return;
        }
        let kind = self.kind_of(rtp.payload_type);
        // Check the payload before it counts as received.
        let event = match kind {
            PayloadKind::Event => match TelephoneEvent::parse(rtp.payload) {
                Ok(e) => Some(e),
                Err(_) => {
                    self.obs.malformed += 1;
                    return;
                }
            },
            PayloadKind::ComfortNoise => {
                if ComfortNoise::parse(rtp.payload).is_err() {
                    self.obs.malformed += 1;
                    return;
                }
                None
            }
            _ => None,
        };
        if self.ssrc != Some(rtp.ssrc) {
            // A new source (RFC 3550 §8.2 / A.1): restart its statistics.
            self.ssrc = Some(rtp.ssrc);
            self.stats = Some(SourceStats::new(
                rtp.sequence_number,
                self.cfg.codec.clock_rate,
            ));
            self.jb.reset_source();
            self.dtmf_current = None;
        }
        self.packets_since_report = true;
        self.last_packet_at = Some(now);
        // Invariant: `stats` is set whenever `ssrc` is, just above.
        if let Some(stats) = self.stats.as_mut() {
            stats.update_seq(rtp.sequence_number);
            // Telephone events repeat their start timestamp; they would read as jitter.
            if kind != PayloadKind::Event {
                stats.update_jitter(now.as_nanos(), rtp.timestamp);
            }
        }
        let slot = match kind {
            PayloadKind::Audio | PayloadKind::ComfortNoise => SlotKind::Media,
            PayloadKind::Event | PayloadKind::Unknown => SlotKind::Event,
        };
        let fate = self
            .jb
            .on_packet(now, rtp.sequence_number, rtp.timestamp, rtp.marker, slot);
        match kind {
            PayloadKind::Audio => {
                self.obs.audio_packets += 1;
                self.obs.first_audio_at.get_or_insert(now);
                self.obs.last_audio_at = Some(now);
                if let Fate::Played { .. } = fate {
                    match self.phase {
                        CallPhase::EarlyMedia => {
                            if !self.obs.early_media_heard {
                                self.events.push_back(SessionEvent::EarlyMediaStarted);
                            }
                            self.obs.early_media_heard = true;
                        }
                        CallPhase::Connected => {
                            if !self.obs.audio_heard {
                                self.events.push_back(SessionEvent::AudioStarted);
                            }
                            self.obs.audio_heard = true;
                        }
                    }
                    if let Some(clock) = self.remote_clock {
                        let sent = clock.time_of(rtp.timestamp)
                            + SimDuration::from_millis(u64::from(self.cfg.ptime_ms));
                        self.net_delay_sum_ns += (now - sent).as_nanos() as f64;
                        self.net_delay_n += 1;
                    }
                }
            }
            PayloadKind::ComfortNoise => {
                self.obs.cn_packets += 1;
                if let Fate::Played { .. } = fate {
                    if !self.obs.comfort_noise_played {
                        self.events.push_back(SessionEvent::ComfortNoiseStarted);
                    }
                    self.obs.comfort_noise_played = true;
                }
            }
            PayloadKind::Event => {
                if let Some(e) = event {
                    self.on_telephone_event(now, rtp.timestamp, e);
                }
            }
            PayloadKind::Unknown => self.obs.unknown_payload_type += 1,
        }
    }

    /// RFC 4733 §2.5.2: a new timestamp starts a new event; the E bit ends it; repeated end
    /// packets (same timestamp) are ignored.
    fn on_telephone_event(&mut self, now: SimTime, ts: u32, e: TelephoneEvent) {
        let Some(digit) = DtmfDigit::from_event(e.event) else {
            // Not a DTMF digit (a tone or line event): counted, not reported.
            self.obs.unknown_payload_type += 1;
            return;
        };
        let idx = match self.dtmf_current {
            Some((cur_ts, idx)) if cur_ts == ts => idx,
            _ => {
                self.obs.dtmf.push(DtmfDigitReceived {
                    digit: digit.to_char(),
                    early_media: self.phase == CallPhase::EarlyMedia,
                    at: now,
                    duration: None,
                });
                let idx = self.obs.dtmf.len() - 1;
                self.dtmf_current = Some((ts, idx));
                self.events.push_back(SessionEvent::DtmfReceived {
                    digit: digit.to_char(),
                    early_media: self.phase == CallPhase::EarlyMedia,
                });
                idx
            }
        };
        if e.end {
            let d = SimDuration::from_nanos(
                u64::from(e.duration) * 1_000_000_000 / u64::from(self.cfg.codec.clock_rate),
            );
            if let Some(rec) = self.obs.dtmf.get_mut(idx) {
                rec.duration.get_or_insert(d);
            }
        }
    }

    /// Decides jitter-buffer slots whose playout time has passed (call before reading
    /// [`MediaReceiver::loss_runs`] at the end of a call).
    pub fn advance(&mut self, now: SimTime) {
        self.jb.advance(now);
    }

    pub fn observables(&self) -> &LegObservables {
        &self.obs
    }

    /// RFC 3550 statistics of the current source, if any.
    pub fn reception_stats(&self) -> Option<ReceptionStats> {
        self.stats.as_ref().map(SourceStats::snapshot)
    }

    /// What the listener got after the jitter buffer (for Ppl and BurstR).
    pub fn loss_runs(&self) -> &LossRunStats {
        &self.jb.runs
    }

    /// The measurable parts of mouth-to-ear delay.
    pub fn delay(&self) -> DelayBreakdown {
        DelayBreakdown {
            network: (self.net_delay_n > 0).then(|| {
                SimDuration::from_nanos((self.net_delay_sum_ns / self.net_delay_n as f64) as u64)
            }),
            packetisation: SimDuration::from_millis(u64::from(self.cfg.ptime_ms)),
            codec_lookahead: self.cfg.codec.lookahead,
            jitter_buffer: self.jb.mean_wait().unwrap_or(SimDuration::ZERO),
        }
    }

    pub(crate) fn source_stats_mut(&mut self) -> Option<&mut SourceStats> {
        self.stats.as_mut()
    }

    pub fn config(&self) -> &ReceiverConfig {
        &self.cfg
    }
}
