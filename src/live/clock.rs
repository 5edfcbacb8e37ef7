//! Wall time as simulator time: nanoseconds since the driver started.

use crate::sim::SimTime;
use std::time::{Duration, Instant};

/// Maps the monotonic wall clock onto [`SimTime`], so that sans-IO code sees the same time
/// type under the simulator and on real sockets.
#[derive(Copy, Clone, Debug)]
pub struct WallClock {
    start: Instant,
}

impl Default for WallClock {
    fn default() -> Self {
        Self::new()
    }
}

impl WallClock {
    /// A clock whose zero is now.
    pub fn new() -> Self {
        WallClock {
            start: Instant::now(),
        }
    }

    /// Time since the start. Saturates after 584 years of uptime.
    pub fn now(&self) -> SimTime {
        let ns = self.start.elapsed().as_nanos();
        SimTime::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    /// How long from now until `at` (zero if it has passed).
    pub fn until(&self, at: SimTime) -> Duration {
        Duration::from_nanos(at.saturating_since(self.now()).as_nanos())
    }
}

/// A seed for a live run that nobody gave one: Call-IDs, tags and branches must not
/// repeat across runs against the same peer (RFC 3261 §8.1.1.4), so it mixes the wall
/// clock with the process id. Simulation runs never use this.
pub fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    crate::sim::splitmix64(nanos ^ (u64::from(std::process::id()) << 32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_monotonic_and_deadlines_in_the_past_are_zero() {
        let c = WallClock::new();
        let a = c.now();
        std::thread::sleep(Duration::from_millis(2));
        let b = c.now();
        assert!(b.saturating_since(a).as_nanos() >= 2_000_000, "{a:?} {b:?}");
        assert_eq!(c.until(a), Duration::ZERO);
        let ahead = c.until(b + crate::sim::SimDuration::from_secs(10));
        assert!(ahead > Duration::from_secs(9) && ahead <= Duration::from_secs(10));
    }

    #[test]
    fn fresh_seeds_differ() {
        let a = fresh_seed();
        std::thread::sleep(Duration::from_micros(10));
        assert_ne!(a, fresh_seed());
    }
}
