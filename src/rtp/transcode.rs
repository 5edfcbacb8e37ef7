//! A media transcoder for the Mediation Server, used when the two legs of a call share no
//! codec (e.g. RTAudio on the Lync side, G.711 or G.729 on the gateway side).
//!
//! The Mediation Server terminates RTP on both legs: the output stream has its own SSRC,
//! sequence numbers and timestamps. Audio is re-packetised from the input codec and ptime
//! to the output ones; input timestamps map linearly to output timestamps, so a gap in the
//! input (silence, loss) is a timestamp jump on the output, marked as a new talk spurt, not
//! a sequence gap: loss on the input leg is *not* re-counted as loss on the output leg.
//! Voice quality across a transcoder therefore adds one E-model stage per leg
//! (`metrics::emodel::DirectionInput::stages`; G.113 §7: tandem Ie values add).
//! RFC 4733 events and RFC 3389 comfort noise pass through re-stamped when the output leg
//! negotiated them; otherwise events are dropped and CN becomes silence.
//!
//! Delay: every output packet leaves `processing_delay` after the input packet that
//! completed it. Re-packetising to a longer ptime also holds the first input frame until
//! the output packet is full, which [`Transcoder::relay_delay`] includes.

use super::Error;
use super::codec::CodecProfile;
use super::wire::RtpRepr;
use crate::sim::{SimDuration, SimRng, SimTime};
use rand::Rng;
use std::collections::VecDeque;

/// Transcoder settings.
#[derive(Clone, Debug, PartialEq)]
pub struct TranscoderConfig {
    pub input: CodecProfile,
    pub input_ptime_ms: u32,
    pub output: CodecProfile,
    pub output_ptime_ms: u32,
    /// Decode + encode processing time. Microsoft publishes no figure; we assume 10 ms
    /// (one 10 ms DSP frame) by default.
    pub processing_delay: SimDuration,
    pub input_telephone_event_pt: Option<u8>,
    pub output_telephone_event_pt: Option<u8>,
    pub input_cn_pt: Option<u8>,
    pub output_cn_pt: Option<u8>,
}

impl TranscoderConfig {
    pub fn new(input: CodecProfile, output: CodecProfile) -> Self {
        TranscoderConfig {
            input,
            input_ptime_ms: input.default_ptime_ms,
            output,
            output_ptime_ms: output.default_ptime_ms,
            processing_delay: SimDuration::from_millis(10),
            input_telephone_event_pt: Some(101),
            output_telephone_event_pt: Some(101),
            input_cn_pt: None,
            output_cn_pt: None,
        }
    }
}

/// Counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TranscoderStats {
    pub packets_in: u64,
    pub packets_out: u64,
    pub events_forwarded: u64,
    pub events_dropped: u64,
    pub cn_forwarded: u64,
    pub cn_dropped: u64,
    pub malformed: u64,
}

/// One direction of transcoding (sans-IO).
#[derive(Clone, Debug)]
pub struct Transcoder {
    cfg: TranscoderConfig,
    ssrc: u32,
    seq: u16,
    ts_base: u32,
    /// (input timestamp, output timestamp) of the first input packet.
    anchor: Option<(u32, u32)>,
    acc_start: u32,
    acc_units: u32,
    expected_in_ts: Option<u32>,
    marker_pending: bool,
    in_frame_units: u32,
    out_frame_units: u32,
    out_packet_units: u32,
    pending: VecDeque<(SimTime, Vec<u8>)>,
    out: VecDeque<Vec<u8>>,
    stats: TranscoderStats,
}

impl Transcoder {
    /// A transcoder whose output SSRC, sequence and timestamp base come from `rng`.
    pub fn new(cfg: TranscoderConfig, rng: &mut SimRng) -> Result<Self, Error> {
        cfg.input.check_ptime(cfg.input_ptime_ms)?;
        cfg.output.check_ptime(cfg.output_ptime_ms)?;
        let frame_units = |p: &CodecProfile| {
            (u64::from(p.clock_rate) * p.frame.as_nanos() / 1_000_000_000) as u32
        };
        Ok(Transcoder {
            ssrc: rng.random(),
            seq: rng.random(),
            ts_base: rng.random(),
            anchor: None,
            acc_start: 0,
            acc_units: 0,
            expected_in_ts: None,
            marker_pending: true,
            in_frame_units: frame_units(&cfg.input),
            out_frame_units: frame_units(&cfg.output),
            out_packet_units: cfg.output.samples_per_packet(cfg.output_ptime_ms),
            pending: VecDeque::new(),
            out: VecDeque::new(),
            stats: TranscoderStats::default(),
            cfg,
        })
    }

    /// The delay the transcoder adds to a frame: processing, plus waiting for a longer
    /// output packet to fill.
    pub fn relay_delay(&self) -> SimDuration {
        let wait = self
            .cfg
            .output_ptime_ms
            .saturating_sub(self.cfg.input_ptime_ms);
        self.cfg.processing_delay + SimDuration::from_millis(u64::from(wait))
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    pub fn stats(&self) -> &TranscoderStats {
        &self.stats
    }

    fn map_ts(&mut self, in_ts: u32) -> u32 {
        let (a_in, a_out) = *self.anchor.get_or_insert((in_ts, self.ts_base));
        let units = u64::from(in_ts.wrapping_sub(a_in)) * u64::from(self.cfg.output.clock_rate)
            / u64::from(self.cfg.input.clock_rate);
        a_out.wrapping_add(units as u32)
    }

    /// Handles an input-leg RTP datagram arriving at `now`.
    pub fn handle_rtp(&mut self, now: SimTime, datagram: &[u8]) {
        let Ok(rtp) = RtpRepr::parse(datagram) else {
            self.stats.malformed += 1;
            return;
        };
        self.stats.packets_in += 1;
        let release = now + self.cfg.processing_delay;
        let pt = rtp.payload_type;
        if pt == self.cfg.input.payload_type {
            let frames = rtp.payload.len() as u32 / self.cfg.input.frame_bytes.max(1);
            if frames == 0 {
                self.stats.malformed += 1;
                return;
            }
            let in_units = frames * self.in_frame_units;
            if self.expected_in_ts.is_some_and(|e| e != rtp.timestamp) || rtp.marker {
                self.flush_partial(release);
                self.marker_pending = true;
            }
            if self.acc_units == 0 {
                self.acc_start = self.map_ts(rtp.timestamp);
            }
            self.acc_units += (u64::from(in_units) * u64::from(self.cfg.output.clock_rate)
                / u64::from(self.cfg.input.clock_rate)) as u32;
            self.expected_in_ts = Some(rtp.timestamp.wrapping_add(in_units));
            while self.acc_units >= self.out_packet_units {
                let units = self.out_packet_units;
                self.emit_audio(release, units);
            }
        } else if Some(pt) == self.cfg.input_cn_pt {
            self.flush_partial(release);
            self.marker_pending = true;
            self.expected_in_ts = None;
            match self.cfg.output_cn_pt {
                Some(out_pt) => {
                    let ts = self.map_ts(rtp.timestamp);
                    self.push(release, false, out_pt, ts, rtp.payload);
                    self.stats.cn_forwarded += 1;
                }
                None => self.stats.cn_dropped += 1,
            }
        } else if Some(pt) == self.cfg.input_telephone_event_pt {
            match self.cfg.output_telephone_event_pt {
                Some(out_pt) => {
                    let ts = self.map_ts(rtp.timestamp);
                    self.push(release, rtp.marker, out_pt, ts, rtp.payload);
                    self.stats.events_forwarded += 1;
                }
                None => self.stats.events_dropped += 1,
            }
        } else {
            self.stats.malformed += 1;
        }
    }

    fn flush_partial(&mut self, release: SimTime) {
        let frames = self.acc_units / self.out_frame_units.max(1);
        if frames > 0 {
            self.emit_audio(release, frames * self.out_frame_units);
        }
        self.acc_units = 0;
    }

    fn emit_audio(&mut self, release: SimTime, units: u32) {
        let frames = units / self.out_frame_units.max(1);
        let payload = vec![0u8; (frames * self.cfg.output.frame_bytes) as usize];
        let marker = std::mem::take(&mut self.marker_pending);
        let ts = self.acc_start;
        self.push(release, marker, self.cfg.output.payload_type, ts, &payload);
        self.acc_start = self.acc_start.wrapping_add(units);
        self.acc_units -= units.min(self.acc_units);
    }

    fn push(&mut self, release: SimTime, marker: bool, pt: u8, ts: u32, payload: &[u8]) {
        let repr = RtpRepr {
            marker,
            payload_type: pt,
            sequence_number: self.seq,
            timestamp: ts,
            ssrc: self.ssrc,
            csrcs: Vec::new(),
            payload,
        };
        // Invariant: payload types come from validated profiles and SDP.
        if let Ok(v) = repr.to_vec() {
            self.seq = self.seq.wrapping_add(1);
            self.stats.packets_out += 1;
            self.pending.push_back((release, v));
        }
    }

    /// When the next output packet is due.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        self.pending.front().map(|(t, _)| *t)
    }

    /// Releases output packets due at or before `now`.
    pub fn handle_timeout(&mut self, now: SimTime) {
        while self.pending.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, v)) = self.pending.pop_front() {
                self.out.push_back(v);
            }
        }
    }

    /// The next output-leg RTP datagram.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.pop_front()
    }
}
