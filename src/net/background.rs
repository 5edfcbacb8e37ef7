//! Background traffic: best-effort data that competes with voice for links.
//!
//! A generator sends fixed-size packets between two nodes (routed like any packet) or onto
//! one direction of one link. Its packets are counted on every link they cross and at the
//! generator, and discarded at the destination: they never reach an element. Each generator
//! draws from its own stream (`bg:<name>`, purpose `onoff`).

use super::counters::GeneratorCounters;
use super::impair::draw_exponential;
use super::packet::{IPV4_UDP_OVERHEAD, MAX_PAYLOAD};
use super::spec::Rate;
use super::{LinkId, NetError, NodeId};
use crate::sim::{RngFactory, SimDuration, SimRng, SimTime};
use rand::Rng;

/// Where a generator's packets go.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BackgroundPath {
    /// From one node to another, along the current route.
    Between { from: NodeId, to: NodeId },
    /// Onto one link, in the direction leaving `from`; consumed at the far end.
    OnLink { link: LinkId, from: NodeId },
}

/// When a generator sends.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum TrafficPattern {
    /// Packets of `packet_bytes` (IP datagram size) evenly spaced to make `rate` at IP.
    ConstantRate { rate: Rate, packet_bytes: u32 },
    /// Alternating ON and OFF periods with exponential lengths; during ON, packets are sent
    /// as for `ConstantRate` (at least one per ON period). The long-run rate is
    /// `rate · mean_on / (mean_on + mean_off)`.
    OnOff {
        rate: Rate,
        packet_bytes: u32,
        mean_on: SimDuration,
        mean_off: SimDuration,
    },
}

impl TrafficPattern {
    fn rate_and_size(&self) -> (Rate, u32) {
        match *self {
            TrafficPattern::ConstantRate { rate, packet_bytes }
            | TrafficPattern::OnOff {
                rate, packet_bytes, ..
            } => (rate, packet_bytes),
        }
    }
}

/// A background traffic generator.
#[derive(Clone, Debug, PartialEq)]
pub struct BackgroundSpec {
    pub name: String,
    pub path: BackgroundPath,
    pub pattern: TrafficPattern,
    /// DSCP of its packets; 0 (best effort) unless told otherwise.
    pub dscp: u8,
    pub start: SimTime,
    /// `None` runs to the end: the event list then never empties, so run to a horizon
    /// (`Scheduler::run_until`), not `run`.
    pub stop: Option<SimTime>,
}

impl BackgroundSpec {
    /// Checks what the types cannot: packet size, ON/OFF means, start before stop, DSCP.
    pub(crate) fn validate(&self) -> Result<(), NetError> {
        let invalid = |what, detail: String| Err(NetError::InvalidValue { what, detail });
        let (_, size) = self.pattern.rate_and_size();
        let max = MAX_PAYLOAD as u32 + IPV4_UDP_OVERHEAD;
        if !(IPV4_UDP_OVERHEAD < size && size <= max) {
            return invalid(
                "packet size",
                format!("{size} bytes: an IP/UDP packet is 29 ..= {max} bytes"),
            );
        }
        if let TrafficPattern::OnOff {
            mean_on, mean_off, ..
        } = self.pattern
        {
            if mean_on.is_zero() || mean_off.is_zero() {
                return invalid(
                    "on/off period",
                    "mean ON and OFF periods must be above zero".into(),
                );
            }
        }
        if self.stop.is_some_and(|stop| stop <= self.start) {
            return invalid("stop time", "a generator must stop after it starts".into());
        }
        if self.dscp > 63 {
            return invalid("DSCP", format!("{} is not a 6-bit code point", self.dscp));
        }
        Ok(())
    }
}

/// A generator while the network runs.
pub(crate) struct Generator {
    pub(crate) spec: BackgroundSpec,
    rng: SimRng,
    interval: SimDuration,
    /// End of the current ON period (OnOff only).
    on_until: SimTime,
    pub(crate) counters: GeneratorCounters,
}

impl Generator {
    pub(crate) fn new(spec: BackgroundSpec, rngs: &RngFactory) -> Self {
        let (rate, size) = spec.pattern.rate_and_size();
        Generator {
            rng: rngs.stream(&format!("bg:{}", spec.name), "onoff"),
            interval: rate.interval(size),
            on_until: SimTime::MAX,
            counters: GeneratorCounters::default(),
            spec,
        }
    }

    /// Size of each packet's UDP payload.
    pub(crate) fn payload_len(&self) -> usize {
        (self.spec.pattern.rate_and_size().1 - IPV4_UDP_OVERHEAD) as usize
    }

    /// The first emission. An ON/OFF source starts in its stationary state: ON with
    /// probability `mean_on / (mean_on + mean_off)`, with an exponential residual period.
    pub(crate) fn first_emission(&mut self) -> Option<SimTime> {
        let start = self.spec.start;
        let at = match self.spec.pattern {
            TrafficPattern::ConstantRate { .. } => start,
            TrafficPattern::OnOff {
                mean_on, mean_off, ..
            } => {
                let p_on = mean_on.as_nanos() as f64
                    / (mean_on.as_nanos() as f64 + mean_off.as_nanos() as f64);
                let on = self.rng.random::<f64>() < p_on;
                let begin = if on {
                    start
                } else {
                    start + draw_exponential(mean_off, &mut self.rng)
                };
                self.on_until = begin + draw_exponential(mean_on, &mut self.rng);
                begin
            }
        };
        self.within_stop(at)
    }

    /// The emission after the one at `now`.
    pub(crate) fn next_emission(&mut self, now: SimTime) -> Option<SimTime> {
        let mut at = now + self.interval;
        if let TrafficPattern::OnOff {
            mean_on, mean_off, ..
        } = self.spec.pattern
        {
            if at >= self.on_until {
                at = self.on_until + draw_exponential(mean_off, &mut self.rng);
                self.on_until = at + draw_exponential(mean_on, &mut self.rng);
            }
        }
        self.within_stop(at)
    }

    fn within_stop(&self, at: SimTime) -> Option<SimTime> {
        match self.spec.stop {
            Some(stop) if at >= stop => None,
            _ => Some(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(pattern: TrafficPattern) -> BackgroundSpec {
        BackgroundSpec {
            name: "bulk".into(),
            path: BackgroundPath::Between {
                from: NodeId(0),
                to: NodeId(1),
            },
            pattern,
            dscp: 0,
            start: SimTime::from_secs(1),
            stop: Some(SimTime::from_secs(2)),
        }
    }

    #[test]
    fn constant_rate_spacing() {
        // 1500-byte packets at 1.2 Mbit/s: one every 10 ms, 100 in the second [1 s, 2 s).
        let rate = Rate::from_kbps(1200.0).unwrap();
        let mut g = Generator::new(
            spec(TrafficPattern::ConstantRate {
                rate,
                packet_bytes: 1500,
            }),
            &RngFactory::new(1),
        );
        let times: Vec<SimTime> =
            std::iter::successors(g.first_emission(), |&t| g.next_emission(t)).collect();
        assert_eq!(times.len(), 100);
        assert_eq!(times[1] - times[0], SimDuration::from_millis(10));
        assert_eq!(g.payload_len(), 1472);
    }

    #[test]
    fn on_off_long_run_rate() {
        // ON 200 ms / OFF 800 ms at 1000 packets/s: 200 packets/s on average, plus about one
        // extra per cycle when a period ends mid-interval (< 0.5 %). Over 2000 s the count has
        // a relative standard deviation near 1.6 % (renewal-reward CLT), so ±6 % is > 3σ.
        let rate = Rate::from_kbps(8.0 * 1000.0).unwrap(); // 1000-byte packets, 1000/s
        let mut s = spec(TrafficPattern::OnOff {
            rate,
            packet_bytes: 1000,
            mean_on: SimDuration::from_millis(200),
            mean_off: SimDuration::from_millis(800),
        });
        s.start = SimTime::ZERO;
        s.stop = Some(SimTime::from_secs(2000));
        let mut g = Generator::new(s, &RngFactory::new(3));
        let n = std::iter::successors(g.first_emission(), |&t| g.next_emission(t)).count();
        let per_s = n as f64 / 2000.0;
        assert!((per_s - 200.0).abs() < 12.0, "{per_s} packets/s");
    }

    #[test]
    fn validation() {
        let rate = Rate::from_kbps(64.0).unwrap();
        let mut s = spec(TrafficPattern::ConstantRate {
            rate,
            packet_bytes: 28,
        });
        assert!(s.validate().is_err());
        s.pattern = TrafficPattern::ConstantRate {
            rate,
            packet_bytes: 29,
        };
        assert!(s.validate().is_ok());
        s.stop = Some(s.start);
        assert!(s.validate().is_err());
    }
}
