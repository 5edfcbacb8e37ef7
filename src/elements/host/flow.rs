//! The media flow model: calls whose media is not simulated packet by packet.
//!
//! A flow session follows the same open/update/close life as a packet session, but sends
//! nothing. When it closes, its report is computed from the route's analytic profile
//! ([`crate::net::PathProfile`]): mean network delay, path loss and burst ratio, and the
//! jitter buffer's behaviour under the path's jitter distribution:
//! - an adaptive buffer (Ramjee et al. algorithm 1, as `rtp` runs it) plays each packet
//!   about `4·MAD` after its mean arrival, never less than its 20 ms floor: the mean wait is
//!   that margin, and packets whose jitter exceeds the mean by more are lost late;
//! - a fixed buffer waits its set delay, and loses packets later than that.
//!
//! The test `media_flow_model` checks this against packet-by-packet results.

use super::super::callbook::{MediaLegReport, PartyRole, StageReport};
use super::super::{CallTag, ElementId};
use crate::net::{Network, PathProfile};
use crate::rtp::{CallPhase, CodecProfile, Direction, JitterBufferConfig, MediaConfig};
use crate::sim::{SimDuration, SimTime};
use std::net::SocketAddrV4;

/// Voice activity of one party in the P.59 on/off model (1.004 s talk, 1.587 s pause).
const P59_ACTIVITY: f64 = 1.004 / (1.004 + 1.587);

/// A media session simulated as a flow.
#[derive(Clone, Debug)]
pub(crate) struct FlowSession {
    pub owner: ElementId,
    pub tag: CallTag,
    pub role: PartyRole,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub config: MediaConfig,
    pub upstream: Vec<CodecProfile>,
    pub extra_delay: SimDuration,
    pub muted: bool,
    pub direction: Direction,
    pub opened_at: SimTime,
    pub early_since: Option<SimTime>,
    pub connected_since: Option<SimTime>,
    pub dtmf_digits: u32,
}

impl FlowSession {
    pub fn set_phase(&mut self, now: SimTime, phase: CallPhase) {
        match phase {
            CallPhase::EarlyMedia => {
                self.early_since.get_or_insert(now);
            }
            CallPhase::Connected => {
                self.connected_since.get_or_insert(now);
            }
        }
    }
}

/// The path a flow's audio takes to reach it: one IP path, or two through a relay.
#[derive(Clone, Debug)]
pub(crate) struct FlowPath {
    /// (source address, destination address) of each IP segment, in order.
    pub segments: Vec<(SocketAddrV4, SocketAddrV4)>,
    /// Processing delay of a relay on the way.
    pub relay_delay: SimDuration,
    pub relayed: bool,
}

/// Computes the report of a closed flow from the network's view of its path.
pub(crate) fn flow_report(
    net: &Network,
    flow: &FlowSession,
    path: &FlowPath,
    now: SimTime,
) -> MediaLegReport {
    let codec = flow.config.codec;
    let ptime = flow.config.ptime_ms;
    let ip_bytes = codec.ip_packet_bytes(ptime);
    let profiles: Vec<PathProfile> = path
        .segments
        .iter()
        .filter_map(|(src, dst)| net.path_profile(*src.ip(), *dst.ip(), ip_bytes))
        .collect();
    let reachable = profiles.len() == path.segments.len();
    let combined = combine(&profiles);
    let receiving = !matches!(flow.direction, Direction::SendOnly | Direction::Inactive);
    let connected = flow
        .connected_since
        .map(|t| now.saturating_since(t))
        .unwrap_or_default();
    let audio_heard = reachable && receiving && !connected.is_zero() && combined.loss < 1.0;
    let early_media_heard = reachable && receiving && flow.early_since.is_some();
    let (wait_ms, late) = jitter_buffer(&flow.config.jitter_buffer, &combined);
    let loss_fraction = (combined.loss + (1.0 - combined.loss) * late).clamp(0.0, 1.0);
    let network_ms = combined.latency.as_millis_f64()
        + combined.jitter_mean_ms
        + path.relay_delay.as_millis_f64();
    let mouth_to_ear = network_ms
        + f64::from(ptime)
        + codec.lookahead.as_millis_f64()
        + wait_ms
        + flow.extra_delay.as_millis_f64();
    let slots = connected.as_secs_f64() * 1000.0 / f64::from(ptime);
    let audio_packets = if audio_heard {
        (slots * P59_ACTIVITY * (1.0 - combined.loss)) as u64
    } else {
        0
    };
    let mut stages: Vec<StageReport> = flow
        .upstream
        .iter()
        .map(|c| StageReport {
            codec: c.encoding_name,
            ie: c.ie,
            bpl: c.bpl,
            ppl: 0.0,
            burst_r: 1.0,
        })
        .collect();
    // Late losses are independent of each other: they dilute the path's burstiness.
    let burst_r = if loss_fraction > 0.0 {
        ((combined.loss * combined.burst_ratio + (loss_fraction - combined.loss)) / loss_fraction)
            .max(1.0)
    } else {
        1.0
    };
    stages.push(StageReport {
        codec: codec.encoding_name,
        ie: codec.ie,
        bpl: codec.bpl,
        ppl: 100.0 * loss_fraction,
        burst_r,
    });
    MediaLegReport {
        role: flow.role,
        element: flow.owner,
        codec: codec.encoding_name,
        stages,
        mouth_to_ear_ms: audio_heard.then_some(mouth_to_ear),
        loss_fraction,
        audio_packets,
        audio_heard,
        early_media_heard,
        comfort_noise_played: audio_heard && flow.config.comfort_noise,
        dtmf_digits: flow.dtmf_digits,
        dtmf_in_early_media: 0,
        monitor_jitter_ms: (flow.config.rtcp.is_some() && audio_heard)
            .then(|| rfc3550_jitter_ms(&combined)),
        monitor_loss_fraction: (flow.config.rtcp.is_some() && audio_heard).then_some(combined.loss),
        relayed: path.relayed,
        opened_at: flow.opened_at,
        closed_at: now,
    }
}

/// Two path segments in series (through a relay) seen as one.
fn combine(profiles: &[PathProfile]) -> PathProfile {
    let mut out = PathProfile {
        latency: SimDuration::ZERO,
        jitter_mean_ms: 0.0,
        jitter_var_ms2: 0.0,
        jitters: Vec::new(),
        loss: 0.0,
        burst_ratio: 1.0,
        hops: 0,
    };
    let (mut delivered, mut burst_weighted, mut loss_sum) = (1.0, 0.0, 0.0);
    for p in profiles {
        out.latency += p.latency;
        out.jitter_mean_ms += p.jitter_mean_ms;
        out.jitter_var_ms2 += p.jitter_var_ms2;
        out.jitters.extend_from_slice(&p.jitters);
        out.hops += p.hops;
        delivered *= 1.0 - p.loss;
        burst_weighted += p.loss * p.burst_ratio;
        loss_sum += p.loss;
    }
    out.loss = 1.0 - delivered;
    if loss_sum > 0.0 {
        out.burst_ratio = (burst_weighted / loss_sum).max(1.0);
    }
    out
}

/// Mean wait in the buffer (ms) and the share of packets lost late.
fn jitter_buffer(cfg: &JitterBufferConfig, path: &PathProfile) -> (f64, f64) {
    match cfg {
        JitterBufferConfig::Adaptive(a) => {
            let margin = (4.0 * path.jitter_mad_ms())
                .clamp(a.min_delay.as_millis_f64(), a.max_delay.as_millis_f64());
            (margin, path.jitter_tail(margin))
        }
        JitterBufferConfig::Fixed { delay, .. } => {
            let d = delay.as_millis_f64();
            // The buffer is anchored on the first packet of a talk spurt, whose own jitter is
            // about the mean: later packets more than `d` behind it are late.
            (d, path.jitter_tail(d))
        }
    }
}

/// The expected RFC 3550 interarrival jitter: E|J₁ − J₂| for independent transit-time
/// deviations (2σ/√π in the normal approximation; exact for one uniform or exponential
/// hop).
fn rfc3550_jitter_ms(path: &PathProfile) -> f64 {
    use crate::net::Jitter;
    match path.jitters.as_slice() {
        [] => 0.0,
        [Jitter::Uniform { max }] => max.as_millis_f64() / 3.0,
        [Jitter::Exponential { mean }] => mean.as_millis_f64(),
        _ => 2.0 * path.jitter_var_ms2.sqrt() / std::f64::consts::PI.sqrt(),
    }
}
