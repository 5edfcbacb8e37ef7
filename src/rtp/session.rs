//! One endpoint of one media leg: a sender, a receiver and (when enabled) an RTCP agent,
//! behind the quinn-proto style interface the simulator and the live driver both use:
//! `handle_datagram(now, ..)`, `handle_timeout(now)`, `poll_transmit()`, `poll_timeout()`,
//! `poll_event()`.

use super::codec::CodecProfile;
use super::jitter_buffer::JitterBufferConfig;
use super::receiver::{DelayBreakdown, LegObservables, MediaReceiver, ReceiverConfig};
use super::rtcp::{RemoteReception, RtcpAgent, RtcpConfig};
use super::sender::{Direction, MediaClock, MediaSender, SenderConfig, SenderStats, SilenceMode};
use super::stats::{LossRunStats, ReceptionStats};
use super::talkspurt::TalkSpurtModel;
use super::wire::{DtmfDigit, RtcpCompound};
use super::{CallPhase, Error};
use crate::sim::{SimDuration, SimRng, SimTime};
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

/// RTP or RTCP (separate ports, RFC 3550 §11).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    Rtp,
    Rtcp,
}

/// A datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub channel: Channel,
    pub payload: Vec<u8>,
}

/// Things a session reports to its owner (once each, except DTMF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// The first audio was played after the call connected.
    AudioStarted,
    /// The first audio was played during early media.
    EarlyMediaStarted,
    /// The first comfort noise was played.
    ComfortNoiseStarted,
    DtmfReceived {
        digit: char,
        early_media: bool,
    },
    /// The peer sent an RTCP BYE.
    RemoteBye,
}

/// The negotiated media of one leg, from one endpoint's point of view.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaConfig {
    pub codec: CodecProfile,
    pub ptime_ms: u32,
    /// This endpoint runs voice activity detection.
    pub vad: bool,
    /// CN (RFC 3389) is in both offer and answer.
    pub comfort_noise: bool,
    /// With VAD but no CN: send nothing during silence (true), or keep sending audio.
    pub suppress_without_cn: bool,
    pub cn_refresh: SimDuration,
    /// The telephone-event payload type, when RFC 4733 is in both offer and answer.
    pub telephone_event_pt: Option<u8>,
    /// This endpoint sends RFC 4733 digits during early media.
    pub dtmf_in_early_media: bool,
    /// RTCP settings; `None` disables RTCP entirely.
    pub rtcp: Option<RtcpConfig>,
    pub jitter_buffer: JitterBufferConfig,
}

impl MediaConfig {
    /// A plain configuration for `codec`: default ptime, no VAD, no CN, RFC 4733 on PT 101
    /// (also in early media), RTCP off, adaptive jitter buffer.
    pub fn new(codec: CodecProfile) -> Self {
        MediaConfig {
            codec,
            ptime_ms: codec.default_ptime_ms,
            vad: false,
            comfort_noise: false,
            suppress_without_cn: true,
            cn_refresh: SimDuration::from_secs(1),
            telephone_event_pt: Some(101),
            dtmf_in_early_media: true,
            rtcp: None,
            jitter_buffer: JitterBufferConfig::default(),
        }
    }

    /// The sender's silence behaviour.
    pub fn silence_mode(&self) -> SilenceMode {
        SilenceMode::negotiate(
            self.vad,
            self.comfort_noise,
            self.comfort_noise,
            self.suppress_without_cn,
        )
    }
}

/// One endpoint of a media leg (sans-IO).
#[derive(Clone, Debug)]
pub struct MediaSession {
    sender: MediaSender,
    receiver: MediaReceiver,
    rtcp: Option<RtcpAgent>,
    out: VecDeque<Transmit>,
    events: VecDeque<SessionEvent>,
    rtcp_ignored: u64,
    rtcp_malformed: u64,
}

impl MediaSession {
    /// A session starting at `now`. `talk` is this party's voice activity (one P.59 stream
    /// per call and party); `rng` draws the SSRC, initial sequence and timestamp, and the
    /// RTCP interval randomisation.
    pub fn new(
        cfg: MediaConfig,
        talk: TalkSpurtModel,
        mut rng: SimRng,
        now: SimTime,
    ) -> Result<Self, Error> {
        let mut scfg = SenderConfig::new(cfg.codec);
        scfg.ptime_ms = cfg.ptime_ms;
        scfg.silence = cfg.silence_mode();
        scfg.cn_refresh = cfg.cn_refresh;
        scfg.telephone_event_pt = cfg.telephone_event_pt;
        scfg.dtmf_in_early_media = cfg.dtmf_in_early_media;
        let sender = MediaSender::new(scfg, talk, &mut rng, now)?;
        let receiver = MediaReceiver::new(ReceiverConfig {
            codec: cfg.codec,
            ptime_ms: cfg.ptime_ms,
            cn_payload_type: cfg.comfort_noise.then_some(13),
            telephone_event_pt: cfg.telephone_event_pt,
            jitter_buffer: cfg.jitter_buffer.clone(),
        })?;
        let rtcp = match cfg.rtcp {
            Some(rc) => {
                if !rc.session_bandwidth_bps.is_finite() || rc.session_bandwidth_bps <= 0.0 {
                    return Err(Error::Config {
                        field: "rtcp.session_bandwidth_bps",
                        msg: "must be positive".into(),
                    });
                }
                let rtcp_rng = SimRng::seed_from_u64(rng.random());
                Some(RtcpAgent::new(rc, sender.ssrc(), rtcp_rng, now))
            }
            None => None,
        };
        Ok(MediaSession {
            sender,
            receiver,
            rtcp,
            out: VecDeque::new(),
            events: VecDeque::new(),
            rtcp_ignored: 0,
            rtcp_malformed: 0,
        })
    }

    /// Handles a datagram that arrived on `channel` at `now`.
    pub fn handle_datagram(&mut self, now: SimTime, channel: Channel, data: &[u8]) {
        match channel {
            Channel::Rtp => {
                self.receiver.handle_rtp(now, data);
                self.events.extend(self.receiver.events.drain(..));
            }
            Channel::Rtcp => {
                let Some(agent) = self.rtcp.as_mut() else {
                    self.rtcp_ignored += 1;
                    return;
                };
                match RtcpCompound::parse(data) {
                    Ok(c) => {
                        if agent.on_compound(now, &c, self.receiver.config().codec.clock_rate) {
                            self.events.push_back(SessionEvent::RemoteBye);
                        }
                        if self.receiver.remote_clock().is_none() {
                            if let Some(clock) = agent.remote_clock() {
                                self.receiver.set_remote_clock(clock);
                            }
                        }
                    }
                    Err(_) => self.rtcp_malformed += 1,
                }
            }
        }
    }

    /// Runs the sender and the RTCP timer up to `now`.
    pub fn handle_timeout(&mut self, now: SimTime) {
        self.sender.handle_timeout(now);
        self.out
            .extend(self.sender.out.drain(..).map(|payload| Transmit {
                channel: Channel::Rtp,
                payload,
            }));
        if let Some(agent) = self.rtcp.as_mut() {
            if agent.poll_timeout().is_some_and(|t| t <= now) {
                let we_sent = self.sender.take_sent_since_report();
                let remote_sent = std::mem::take(&mut self.receiver.packets_since_report);
                agent.note_traffic(we_sent, remote_sent);
                let sender_info = self.sender.direction().sends().then(|| {
                    let s = self.sender.stats();
                    (self.sender.clock(), s.packets, s.payload_octets)
                });
                let remote_ssrc = self.receiver.remote_ssrc();
                if let Some(pkt) = agent.on_expire(
                    now,
                    sender_info,
                    self.receiver.source_stats_mut(),
                    remote_ssrc,
                ) {
                    self.out.push_back(Transmit {
                        channel: Channel::Rtcp,
                        payload: pkt,
                    });
                }
            }
        }
    }

    /// The next datagram to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    /// When to call [`MediaSession::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        let rtcp = self.rtcp.as_ref().and_then(RtcpAgent::poll_timeout);
        match (self.sender.poll_timeout(), rtcp) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// Early media (after a 183 with SDP) or connected.
    pub fn set_phase(&mut self, phase: CallPhase) {
        self.sender.set_phase(phase);
        self.receiver.set_phase(phase);
    }

    /// Applies the local SDP direction (hold with sendonly/inactive, resume with sendrecv).
    pub fn set_direction(&mut self, now: SimTime, direction: Direction) {
        self.sender.set_direction(now, direction);
        self.receiver.set_receiving(direction.receives());
    }

    /// Sends a DTMF digit (`0-9 * # A-D`) of `duration`. `Ok(false)` when it cannot go out
    /// (see [`MediaSender::send_dtmf`]).
    pub fn send_dtmf(&mut self, digit: char, duration: SimDuration) -> Result<bool, Error> {
        let d = DtmfDigit::from_char(digit).ok_or(Error::Config {
            field: "dtmf digit",
            msg: format!("{digit:?} is not one of 0-9 * # A-D"),
        })?;
        self.sender.send_dtmf(d, duration)
    }

    /// Gives the receiver the far sender's media clock (the simulator knows it), so that
    /// network and mouth-to-ear delay are measured even without RTCP.
    pub fn set_remote_clock(&mut self, clock: MediaClock) {
        self.receiver.set_remote_clock(clock);
    }

    /// Ends the session: stops RTP and, with RTCP, sends a BYE at once.
    pub fn close(&mut self, now: SimTime, reason: Option<&str>) {
        self.sender.stop();
        self.receiver.advance(now);
        if let Some(agent) = self.rtcp.as_mut() {
            let sender_info = Some({
                let s = self.sender.stats();
                (self.sender.clock(), s.packets, s.payload_octets)
            });
            let remote_ssrc = self.receiver.remote_ssrc();
            if let Some(pkt) = agent.bye(
                now,
                sender_info,
                self.receiver.source_stats_mut(),
                remote_ssrc,
                reason,
            ) {
                self.out.push_back(Transmit {
                    channel: Channel::Rtcp,
                    payload: pkt,
                });
            }
        }
    }

    /// Decides jitter-buffer slots due by `now` (before reading loss statistics).
    pub fn advance(&mut self, now: SimTime) {
        self.receiver.advance(now);
    }

    pub fn ssrc(&self) -> u32 {
        self.sender.ssrc()
    }

    /// Our media clock (for the simulator to hand to the peer's receiver).
    pub fn clock(&self) -> MediaClock {
        self.sender.clock()
    }

    pub fn rtcp_enabled(&self) -> bool {
        self.rtcp.is_some()
    }

    pub fn rtcp_reports_sent(&self) -> u64 {
        self.rtcp.as_ref().map_or(0, RtcpAgent::reports_sent)
    }

    /// RTCP datagrams that arrived while RTCP is disabled (and were ignored).
    pub fn rtcp_ignored(&self) -> u64 {
        self.rtcp_ignored
    }

    pub fn rtcp_malformed(&self) -> u64 {
        self.rtcp_malformed
    }

    /// The peer's report on our stream: `None` without RTCP, or before its first report.
    /// This is what a monitoring report (Lync QoE) gets for the far side's loss and jitter.
    pub fn remote_reception(&self) -> Option<&RemoteReception> {
        self.rtcp.as_ref().and_then(RtcpAgent::remote_reception)
    }

    pub fn observables(&self) -> &LegObservables {
        self.receiver.observables()
    }

    pub fn reception_stats(&self) -> Option<ReceptionStats> {
        self.receiver.reception_stats()
    }

    pub fn loss_runs(&self) -> &LossRunStats {
        self.receiver.loss_runs()
    }

    pub fn delay(&self) -> DelayBreakdown {
        self.receiver.delay()
    }

    pub fn sender_stats(&self) -> &SenderStats {
        self.sender.stats()
    }
}
