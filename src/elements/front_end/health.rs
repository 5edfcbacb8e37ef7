//! Trunk health as the Front End's outbound routing sees it.
//!
//! The model (after the OCS 2007 R2 / Lync 2010 documentation of outbound routing: "each
//! gateway is configured with a maximum number of failed call attempts (default ten)…
//! the unresponsive gateway is removed from the list of available gateways for
//! increasing periods of time, up to a maximum of 60 minutes", and Lync 2010 CU4's
//! 10-second failover timer, KB 2565378):
//! - **Up**: tried in route order.
//! - **Deprioritised**: a call attempt failed over from it (a failover response or a
//!   timeout). For `deprioritise` it is tried after every Up trunk of the call's list.
//! - **Down**: its Mediation Server reported the peer down (an immediate 503 naming the
//!   peer: the Mediation Server's OPTIONS keepalives found it dead), or `max_failures`
//!   attempts in a row failed over. It is skipped without sending anything, for a hold-down
//!   time that starts at `hold_down` and doubles each time it goes down again without a
//!   success in between, up to `max_hold_down`. When the hold-down ends the next call
//!   probes it.
//! - Any success (a provisional response above 100, an answer, or a final response that is
//!   not a failover code: the peer is alive and decided) makes it Up again.
//!
//! The deprioritise time (60 s) and the first hold-down (60 s) are assumptions; the
//! maximum (60 min) and the failure count (10) are the documented defaults.

use crate::sim::{SimDuration, SimTime};

/// Health model settings.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct HealthConfig {
    pub(crate) deprioritise: SimDuration,
    pub(crate) hold_down: SimDuration,
    pub(crate) max_hold_down: SimDuration,
    pub(crate) max_failures: u32,
}

/// A trunk's state for routing.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Availability {
    Up,
    Deprioritised,
    Down,
}

/// The health of one trunk.
#[derive(Clone, Debug)]
pub(crate) struct TrunkHealth {
    consecutive_failures: u32,
    deprioritised_until: Option<SimTime>,
    down_until: Option<SimTime>,
    next_hold: SimDuration,
    /// Times the trunk was marked down (for reports and tests).
    pub(crate) downs: u32,
}

impl TrunkHealth {
    pub(crate) fn new(cfg: &HealthConfig) -> Self {
        TrunkHealth {
            consecutive_failures: 0,
            deprioritised_until: None,
            down_until: None,
            next_hold: cfg.hold_down,
            downs: 0,
        }
    }

    pub(crate) fn availability(&self, now: SimTime) -> Availability {
        if self.down_until.is_some_and(|t| now < t) {
            Availability::Down
        } else if self.deprioritised_until.is_some_and(|t| now < t) {
            Availability::Deprioritised
        } else {
            Availability::Up
        }
    }

    /// The peer answered something that shows it is alive.
    pub(crate) fn success(&mut self, cfg: &HealthConfig) {
        self.consecutive_failures = 0;
        self.deprioritised_until = None;
        self.down_until = None;
        self.next_hold = cfg.hold_down;
    }

    /// An attempt failed over (failover code or timeout).
    pub(crate) fn failure(&mut self, now: SimTime, cfg: &HealthConfig) {
        self.consecutive_failures += 1;
        self.deprioritised_until = Some(now + cfg.deprioritise);
        if self.consecutive_failures >= cfg.max_failures {
            self.mark_down(now, cfg);
        }
    }

    /// The Mediation Server reported the peer down.
    pub(crate) fn reported_down(&mut self, now: SimTime, cfg: &HealthConfig) {
        self.consecutive_failures += 1;
        self.mark_down(now, cfg);
    }

    fn mark_down(&mut self, now: SimTime, cfg: &HealthConfig) {
        // Already down (several calls learnt it at once): keep the running hold-down.
        if self.availability(now) == Availability::Down {
            return;
        }
        self.downs += 1;
        self.down_until = Some(now + self.next_hold);
        self.next_hold = (self.next_hold * 2).min(cfg.max_hold_down);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> HealthConfig {
        HealthConfig {
            deprioritise: SimDuration::from_secs(60),
            hold_down: SimDuration::from_secs(60),
            max_hold_down: SimDuration::from_secs(3600),
            max_failures: 3,
        }
    }

    #[test]
    fn failures_deprioritise_then_mark_down() {
        let c = cfg();
        let mut h = TrunkHealth::new(&c);
        let t0 = SimTime::from_secs(100);
        assert_eq!(h.availability(t0), Availability::Up);
        h.failure(t0, &c);
        assert_eq!(h.availability(t0), Availability::Deprioritised);
        assert_eq!(
            h.availability(t0 + SimDuration::from_secs(60)),
            Availability::Up
        );
        h.failure(t0, &c);
        h.failure(t0, &c);
        assert_eq!(h.availability(t0), Availability::Down);
        assert_eq!(h.downs, 1);
        h.success(&c);
        assert_eq!(h.availability(t0), Availability::Up);
    }

    #[test]
    fn hold_down_doubles_up_to_the_maximum_and_resets_on_success() {
        let c = cfg();
        let mut h = TrunkHealth::new(&c);
        let mut now = SimTime::from_secs(0);
        let mut holds = Vec::new();
        for _ in 0..8 {
            h.reported_down(now, &c);
            let mut t = now;
            while h.availability(t) == Availability::Down {
                t += SimDuration::from_secs(1);
            }
            holds.push((t - now).as_secs_f64() as u64);
            now = t;
        }
        assert_eq!(holds, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        h.success(&c);
        h.reported_down(now, &c);
        assert_eq!(
            h.availability(now + SimDuration::from_secs(59)),
            Availability::Down
        );
        assert_eq!(
            h.availability(now + SimDuration::from_secs(60)),
            Availability::Up
        );
    }
}
