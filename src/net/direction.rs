//! One direction of a link: its transmitter, queue, loss and jitter processes, counters,
//! and the record of failures that doom packets still queued or in flight.
//!
//! A FIFO direction is analytic: a packet offered at `t` starts transmission at
//! `max(t, busy_until)` and departs one transmission time later, so its arrival is known at
//! once and costs one event. The queue occupancy is the list of departure times still in the
//! future. A strict-priority direction keeps real queues and needs one
//! transmission-complete event per packet, because a later EF packet can overtake queued
//! best-effort ones.

use super::arena::PacketId;
use super::counters::DirCounters;
use super::impair::{LossState, draw_jitter};
use super::spec::{Jitter, LinkSpec, LossModel, QueueLimit, Queueing, Rate};
use super::{LinkId, NodeId};
use crate::sim::{RngFactory, SimDuration, SimRng, SimTime};
use std::collections::VecDeque;

/// A failure that cleared this direction's transmitter.
#[derive(Copy, Clone, Debug)]
struct Flush {
    /// The network's fault counter after the failure.
    seq: u64,
    at: SimTime,
    /// The link itself failed: packets on the wire are lost too. Otherwise the transmitting
    /// node failed: only packets that had not finished leaving it are lost.
    link: bool,
}

/// What became of a packet offered to a FIFO direction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum FifoOutcome {
    /// Refused by the full queue.
    TailDrop,
    /// Transmitted, then lost on the wire.
    Lost,
    /// Arrives at the far end at `arrival`, having left the transmitter at `departed`.
    Arrives { departed: SimTime, arrival: SimTime },
}

/// What became of a packet offered to a strict-priority direction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum PriorityOutcome {
    TailDrop,
    /// Waiting behind another transmission.
    Queued,
    /// The transmitter was idle: the packet is being transmitted until `done`.
    Transmitting {
        done: SimTime,
        epoch: u32,
    },
}

/// A queued packet of a strict-priority direction: (packet, wire bytes).
type Queued = (PacketId, u32);

#[derive(Default)]
struct ClassQueue {
    packets: VecDeque<Queued>,
    bytes: u64,
}

#[derive(Default)]
struct PriorityState {
    ef: ClassQueue,
    best_effort: ClassQueue,
    /// The packet being transmitted: (packet, wire bytes, is EF).
    in_service: Option<(PacketId, u32, bool)>,
    /// Bumped by every flush, so that a stale transmission-complete event is ignored.
    epoch: u32,
}

/// The state of one direction of a link.
/// One direction of a link seen analytically.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) struct HopProfile {
    pub(crate) latency: SimDuration,
    pub(crate) jitter: Jitter,
    pub(crate) loss: f64,
    pub(crate) burst_ratio: f64,
}

pub(crate) struct Direction {
    pub(crate) link: LinkId,
    pub(crate) from: NodeId,
    pub(crate) to: NodeId,
    /// The trace and RNG label, `link:<from>-<to>` (or `link:<name>:<from>-<to>` for a named
    /// link).
    pub(crate) label: String,
    pub(crate) latency: SimDuration,
    pub(crate) l2_overhead: u32,
    jitter: Jitter,
    jitter_rng: SimRng,
    loss: LossState,
    /// The loss model as configured (the state machine above runs it).
    loss_model: LossModel,
    loss_rng: SimRng,
    bandwidth: Option<Rate>,
    limit: QueueLimit,
    reorder: bool,
    /// The last (wire bytes, transmission time) computed: most flows repeat one size.
    tx_memo: (u32, SimDuration),
    /// FIFO: when the transmitter is next free.
    busy_until: SimTime,
    /// FIFO: departure time and wire bytes of each packet not yet fully transmitted.
    backlog: VecDeque<(SimTime, u32)>,
    backlog_bytes: u64,
    /// The latest arrival scheduled, for the no-overtaking rule.
    last_arrival: SimTime,
    priority: Option<PriorityState>,
    flushes: Vec<Flush>,
    pub(crate) counters: DirCounters,
}

impl Direction {
    pub(crate) fn new(
        link: LinkId,
        spec: &LinkSpec,
        from: NodeId,
        to: NodeId,
        label: String,
        rngs: &RngFactory,
    ) -> Self {
        Direction {
            link,
            from,
            to,
            latency: spec.latency,
            l2_overhead: spec.l2_overhead,
            jitter: spec.jitter,
            jitter_rng: rngs.stream(&label, "jitter"),
            loss: LossState::new(&spec.loss),
            loss_model: spec.loss,
            loss_rng: rngs.stream(&label, "loss"),
            bandwidth: spec.bandwidth,
            limit: spec.queue,
            reorder: spec.reorder,
            tx_memo: (0, SimDuration::ZERO),
            busy_until: SimTime::ZERO,
            backlog: VecDeque::new(),
            backlog_bytes: 0,
            last_arrival: SimTime::ZERO,
            priority: match (spec.queueing, spec.bandwidth) {
                (Queueing::StrictPriority, Some(_)) => Some(PriorityState::default()),
                _ => None,
            },
            flushes: Vec::new(),
            counters: DirCounters::default(),
            label,
        }
    }

    /// Whether this direction keeps real priority queues (else it is an analytic FIFO).
    pub(crate) fn is_priority(&self) -> bool {
        self.priority.is_some()
    }

    fn fits(limit: QueueLimit, packets: usize, bytes: u64, wire: u32) -> bool {
        match limit {
            QueueLimit::Packets(n) => (packets as u64) < u64::from(n.get()),
            QueueLimit::Bytes(n) => bytes + u64::from(wire) <= u64::from(n.get()),
        }
    }

    fn count_offer(&mut self, wire: u32) {
        self.counters.sent += 1;
        self.counters.bytes += u64::from(wire);
    }

    /// The arrival time of a packet that left the transmitter at `departed`: propagation
    /// latency plus a jitter draw, never before the previous arrival unless `reorder`.
    fn arrival(&mut self, departed: SimTime) -> SimTime {
        let mut at = departed + self.latency + draw_jitter(&self.jitter, &mut self.jitter_rng);
        if !self.reorder {
            at = at.max(self.last_arrival);
            self.last_arrival = at;
        }
        at
    }

    /// Offers a packet of `wire` bytes to a FIFO direction at `now`.
    pub(crate) fn offer_fifo(&mut self, now: SimTime, wire: u32) -> FifoOutcome {
        self.count_offer(wire);
        let departed = match self.bandwidth {
            None => now,
            Some(rate) => {
                while let Some(&(done, bytes)) = self.backlog.front() {
                    if done > now {
                        break;
                    }
                    self.backlog.pop_front();
                    self.backlog_bytes -= u64::from(bytes);
                }
                if !Self::fits(self.limit, self.backlog.len(), self.backlog_bytes, wire) {
                    self.counters.dropped_queue += 1;
                    return FifoOutcome::TailDrop;
                }
                let done = self.busy_until.max(now) + self.tx_time_at(rate, wire);
                self.busy_until = done;
                self.backlog.push_back((done, wire));
                self.backlog_bytes += u64::from(wire);
                self.counters.max_queue_packets = self
                    .counters
                    .max_queue_packets
                    .max(self.backlog.len() as u64);
                done
            }
        };
        if self.loss.lose(&mut self.loss_rng) {
            self.counters.dropped_loss += 1;
            return FifoOutcome::Lost;
        }
        FifoOutcome::Arrives {
            departed,
            arrival: self.arrival(departed),
        }
    }

    /// Offers a packet to a strict-priority direction at `now`.
    pub(crate) fn offer_priority(
        &mut self,
        now: SimTime,
        packet: PacketId,
        wire: u32,
        ef: bool,
    ) -> PriorityOutcome {
        self.count_offer(wire);
        let limit = self.limit;
        let Some(state) = self.priority.as_mut() else {
            return PriorityOutcome::TailDrop; // not a priority direction: caller's error
        };
        let in_class = state
            .in_service
            .filter(|&(_, _, e)| e == ef)
            .map_or((0, 0), |(_, w, _)| (1, u64::from(w)));
        let queue = if ef {
            &mut state.ef
        } else {
            &mut state.best_effort
        };
        if !Self::fits(
            limit,
            queue.packets.len() + in_class.0,
            queue.bytes + in_class.1,
            wire,
        ) {
            self.counters.dropped_queue += 1;
            return PriorityOutcome::TailDrop;
        }
        if state.in_service.is_none() {
            state.in_service = Some((packet, wire, ef));
            let epoch = state.epoch;
            self.counters.max_queue_packets = self.counters.max_queue_packets.max(1);
            return PriorityOutcome::Transmitting {
                done: now + self.tx_time(wire),
                epoch,
            };
        }
        queue.packets.push_back((packet, wire));
        queue.bytes += u64::from(wire);
        let depth = state.ef.packets.len() + state.best_effort.packets.len() + 1;
        self.counters.max_queue_packets = self.counters.max_queue_packets.max(depth as u64);
        PriorityOutcome::Queued
    }

    /// The analytic view of this direction for a packet of `ip_bytes` (no queueing).
    pub(crate) fn hop_profile(&self, ip_bytes: u32) -> HopProfile {
        let wire = ip_bytes + self.l2_overhead;
        let serialisation = self
            .bandwidth
            .map_or(SimDuration::ZERO, |r| r.transmission_time(wire));
        let (loss, burst_ratio) = match self.loss_model {
            LossModel::None => (0.0, 1.0),
            LossModel::Bernoulli { p } => (p.get(), 1.0),
            LossModel::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_in_bad,
                loss_in_good,
            } => {
                let (p, r) = (p_good_to_bad.get(), p_bad_to_good.get());
                let pi_bad = if p + r > 0.0 { p / (p + r) } else { 0.0 };
                let loss = pi_bad * loss_in_bad.get() + (1.0 - pi_bad) * loss_in_good.get();
                // G.107 (Annex A): for a two-state Markov loss process BurstR = 1/(p + r).
                let burst = if p + r > 0.0 {
                    (1.0 / (p + r)).max(1.0)
                } else {
                    1.0
                };
                (loss, burst)
            }
        };
        HopProfile {
            latency: self.latency + serialisation,
            jitter: self.jitter,
            loss,
            burst_ratio,
        }
    }

    fn tx_time(&mut self, wire: u32) -> SimDuration {
        match self.bandwidth {
            Some(rate) => self.tx_time_at(rate, wire),
            None => SimDuration::ZERO,
        }
    }

    fn tx_time_at(&mut self, rate: Rate, wire: u32) -> SimDuration {
        if self.tx_memo.0 != wire {
            self.tx_memo = (wire, rate.transmission_time(wire));
        }
        self.tx_memo.1
    }

    /// Ends the transmission in progress at `now` (the event of `epoch`). Returns the packet
    /// with its arrival time (`None` when lost on the wire), and the end of the next
    /// transmission if one starts. A stale epoch (the queue was flushed since) returns
    /// `None`.
    #[allow(clippy::type_complexity)]
    pub(crate) fn transmitted(
        &mut self,
        now: SimTime,
        epoch: u32,
    ) -> Option<((PacketId, Option<SimTime>), Option<SimTime>)> {
        let state = self.priority.as_mut()?;
        if state.epoch != epoch {
            return None;
        }
        let (packet, _, _) = state.in_service.take()?;
        let next = if let Some((p, w)) = state.ef.packets.pop_front() {
            state.ef.bytes -= u64::from(w);
            Some((p, w, true))
        } else if let Some((p, w)) = state.best_effort.packets.pop_front() {
            state.best_effort.bytes -= u64::from(w);
            Some((p, w, false))
        } else {
            None
        };
        state.in_service = next;
        let next_done = next.map(|(_, w, _)| now + self.tx_time(w));
        let arrival = if self.loss.lose(&mut self.loss_rng) {
            self.counters.dropped_loss += 1;
            None
        } else {
            Some(self.arrival(now))
        };
        Some(((packet, arrival), next_done))
    }

    /// Clears the transmitter after a failure of the link (`link`) or of the transmitting
    /// node, recorded as fault `seq`. Returns the packets held in priority queues, which the
    /// caller frees and counts as dropped by failure; packets of a FIFO direction are found
    /// doomed when their arrival event runs.
    pub(crate) fn flush(&mut self, now: SimTime, seq: u64, link: bool) -> Vec<PacketId> {
        self.flushes.push(Flush { seq, at: now, link });
        self.busy_until = now;
        self.backlog.clear();
        self.backlog_bytes = 0;
        self.last_arrival = now;
        let mut dropped = Vec::new();
        if let Some(state) = self.priority.as_mut() {
            state.epoch = state.epoch.wrapping_add(1);
            dropped.extend(state.in_service.take().map(|(p, _, _)| p));
            dropped.extend(state.ef.packets.drain(..).map(|(p, _)| p));
            dropped.extend(state.best_effort.packets.drain(..).map(|(p, _)| p));
            state.ef.bytes = 0;
            state.best_effort.bytes = 0;
        }
        self.counters.dropped_failure += dropped.len() as u64;
        dropped
    }

    /// Whether a packet offered when the fault counter was `mark`, and fully transmitted at
    /// `departed`, was destroyed by a failure since: any failure of the link, or a failure
    /// of the transmitting node before the packet had left it.
    pub(crate) fn doomed(&self, mark: u64, departed: SimTime) -> bool {
        let first = self.flushes.partition_point(|f| f.seq <= mark);
        self.flushes[first..]
            .iter()
            .any(|f| f.link || f.at < departed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fifo(rate_bps: u64, limit: QueueLimit) -> Direction {
        let mut spec = LinkSpec::new(NodeId(0), NodeId(1), SimDuration::from_millis(10));
        spec.bandwidth = Some(Rate::from_bps(rate_bps).unwrap());
        spec.queue = limit;
        Direction::new(
            LinkId(0),
            &spec,
            NodeId(0),
            NodeId(1),
            "link:a-b".into(),
            &RngFactory::new(1),
        )
    }

    #[test]
    fn fifo_serialises_back_to_back_and_tail_drops() {
        // 1 Mbit/s: 100 wire bytes take 800 µs.
        let mut d = fifo(1_000_000, QueueLimit::packets(3).unwrap());
        let t0 = SimTime::from_secs(1);
        let us = SimDuration::from_micros;
        let outcomes: Vec<_> = (0..4).map(|_| d.offer_fifo(t0, 100)).collect();
        let lat = SimDuration::from_millis(10);
        assert_eq!(
            outcomes[..3],
            [1u64, 2, 3].map(|k| FifoOutcome::Arrives {
                departed: t0 + us(800 * k),
                arrival: t0 + us(800 * k) + lat,
            })
        );
        assert_eq!(outcomes[3], FifoOutcome::TailDrop);
        // After the first departure there is room for one more.
        let t1 = t0 + us(800);
        assert!(matches!(
            d.offer_fifo(t1, 100),
            FifoOutcome::Arrives { departed, .. } if departed == t0 + us(3200)
        ));
        assert_eq!(d.counters.sent, 5);
        assert_eq!(d.counters.dropped_queue, 1);
        assert_eq!(d.counters.max_queue_packets, 3);
    }

    #[test]
    fn byte_limit_counts_the_packet_in_transmission() {
        let mut d = fifo(1_000_000, QueueLimit::bytes(250).unwrap());
        let t = SimTime::ZERO;
        assert!(matches!(d.offer_fifo(t, 100), FifoOutcome::Arrives { .. }));
        assert!(matches!(d.offer_fifo(t, 100), FifoOutcome::Arrives { .. }));
        assert_eq!(d.offer_fifo(t, 100), FifoOutcome::TailDrop);
        assert!(matches!(d.offer_fifo(t, 50), FifoOutcome::Arrives { .. }));
    }

    #[test]
    fn flush_dooms_by_cause() {
        let mut d = fifo(1_000_000, QueueLimit::default());
        let t = SimTime::from_secs(1);
        d.flush(t, 1, false); // node failure at t
        assert!(d.doomed(0, t + SimDuration::from_nanos(1)), "still queued");
        assert!(!d.doomed(0, t), "already on the wire");
        assert!(!d.doomed(1, t + SimDuration::from_secs(1)), "offered after");
        d.flush(t, 2, true); // link failure
        assert!(d.doomed(1, SimTime::ZERO), "on the wire of a failed link");
    }
}
