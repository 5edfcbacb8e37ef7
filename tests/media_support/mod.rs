//! A tiny discrete-event harness for media tests (the network layer is not merged yet):
//! two sans-IO media sessions joined by two one-way links with a seeded delay, jitter and
//! loss model, in the style of quinn-proto's test `Pair`.
#![allow(dead_code)]

use rand::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use voicetwin::rtp::{Channel, MediaSession, Transmit};
use voicetwin::sim::{SimDuration, SimRng, SimTime};

/// Loss on a link.
#[derive(Clone, Debug)]
pub enum Loss {
    None,
    /// Independent loss with probability p.
    Random(f64),
    /// Gilbert–Elliott with a lossless good state and a lossy bad state (loss 1 in bad):
    /// P(good→bad) = p, P(bad→good) = r. Stationary loss p / (p + r), mean burst 1 / r.
    Gilbert {
        p: f64,
        r: f64,
    },
}

/// A one-way link.
#[derive(Clone, Debug)]
pub struct Link {
    pub delay: SimDuration,
    /// Extra delay drawn uniformly in [0, jitter].
    pub jitter: SimDuration,
    pub loss: Loss,
    /// Keep packets in order (a queue), or let jitter reorder them.
    pub fifo: bool,
    pub rng: SimRng,
    bad: bool,
    last_delivery: SimTime,
    pub sent: u64,
    pub dropped: u64,
}

impl Link {
    pub fn new(delay_ms: u64, rng: SimRng) -> Self {
        Link {
            delay: SimDuration::from_millis(delay_ms),
            jitter: SimDuration::ZERO,
            loss: Loss::None,
            fifo: true,
            rng,
            bad: false,
            last_delivery: SimTime::ZERO,
            sent: 0,
            dropped: 0,
        }
    }

    /// Whether the packet is lost, and when it arrives otherwise.
    pub fn carry(&mut self, now: SimTime) -> Option<SimTime> {
        self.sent += 1;
        let lost = match self.loss {
            Loss::None => false,
            Loss::Random(p) => self.rng.random::<f64>() < p,
            Loss::Gilbert { p, r } => {
                let u: f64 = self.rng.random();
                self.bad = if self.bad { u >= r } else { u < p };
                self.bad
            }
        };
        if lost {
            self.dropped += 1;
            return None;
        }
        let extra = if self.jitter.is_zero() {
            SimDuration::ZERO
        } else {
            SimDuration::from_nanos(self.rng.random_range(0..=self.jitter.as_nanos()))
        };
        let mut at = now + self.delay + extra;
        if self.fifo {
            at = at.max(self.last_delivery);
            self.last_delivery = at;
        }
        Some(at)
    }
}

/// A datagram seen on the wire.
#[derive(Clone, Debug)]
pub struct Captured {
    pub at: SimTime,
    /// 0 = sent by A, 1 = sent by B.
    pub from: usize,
    pub channel: Channel,
    pub payload: Vec<u8>,
    pub delivered: bool,
}

/// A datagram in flight: (arrival, tie-break order, destination, 1 if RTCP, bytes).
type InFlight = Reverse<(SimTime, u64, usize, u8, Vec<u8>)>;

/// Two sessions and two links.
pub struct Pair {
    pub a: MediaSession,
    pub b: MediaSession,
    pub ab: Link,
    pub ba: Link,
    pub now: SimTime,
    in_flight: BinaryHeap<InFlight>,
    order: u64,
    pub capture: Vec<Captured>,
    pub keep_capture: bool,
}

impl Pair {
    pub fn new(a: MediaSession, b: MediaSession, ab: Link, ba: Link) -> Self {
        Pair {
            a,
            b,
            ab,
            ba,
            now: SimTime::ZERO,
            in_flight: BinaryHeap::new(),
            order: 0,
            capture: Vec::new(),
            keep_capture: true,
        }
    }

    pub fn session(&mut self, i: usize) -> &mut MediaSession {
        if i == 0 { &mut self.a } else { &mut self.b }
    }

    fn drain(&mut self, from: usize) {
        while let Some(Transmit { channel, payload }) = self.session(from).poll_transmit() {
            let now = self.now;
            let link = if from == 0 {
                &mut self.ab
            } else {
                &mut self.ba
            };
            let at = link.carry(now);
            if self.keep_capture {
                self.capture.push(Captured {
                    at: now,
                    from,
                    channel,
                    payload: payload.clone(),
                    delivered: at.is_some(),
                });
            }
            if let Some(at) = at {
                self.order += 1;
                let ch = u8::from(channel == Channel::Rtcp);
                self.in_flight
                    .push(Reverse((at, self.order, 1 - from, ch, payload)));
            }
        }
    }

    /// Runs everything due up to `until`, then sets the clock to `until`.
    pub fn run_until(&mut self, until: SimTime) {
        loop {
            let ta = self.a.poll_timeout();
            let tb = self.b.poll_timeout();
            let tf = self.in_flight.peek().map(|Reverse(e)| e.0);
            let next = [ta, tb, tf].into_iter().flatten().min();
            let Some(t) = next else { break };
            if t > until {
                break;
            }
            self.now = t;
            if tf == Some(t) {
                let Some(Reverse((_, _, to, ch, payload))) = self.in_flight.pop() else {
                    break;
                };
                let channel = if ch == 1 { Channel::Rtcp } else { Channel::Rtp };
                self.session(to).handle_datagram(t, channel, &payload);
            } else if ta == Some(t) {
                self.a.handle_timeout(t);
            } else {
                self.b.handle_timeout(t);
            }
            self.drain(0);
            self.drain(1);
        }
        self.now = until;
    }

    /// Captured RTP datagrams sent by `from`.
    pub fn rtp_from(&self, from: usize) -> Vec<&Captured> {
        self.capture
            .iter()
            .filter(|c| c.from == from && c.channel == Channel::Rtp)
            .collect()
    }

    pub fn rtcp_from(&self, from: usize) -> Vec<&Captured> {
        self.capture
            .iter()
            .filter(|c| c.from == from && c.channel == Channel::Rtcp)
            .collect()
    }
}
