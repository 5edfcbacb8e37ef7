//! Peer health by SIP OPTIONS keepalive, as the Lync Mediation Server keeps it for each
//! trunk peer (and a gateway for its Mediation Servers).
//!
//! Every `interval` the element sends OPTIONS to each peer. Any final response means the
//! peer is alive (its status does not matter); a transaction timeout (the local 408 after
//! Timer F) is a miss. After `missed` consecutive misses the peer is marked down, and it
//! is then polled every `repoll` until a response brings it back. Values (defaults of
//! [`KeepaliveConfig`]): a peer is marked down after five consecutive unanswered OPTIONS and
//! re-polled every minute (Lync Mediation Server events 25051/25061/25052, described in
//! "SIP Option from Mediation Server to Peer Gateway", lyncman.blogspot.com, June 2013).
//! The polling interval of an up peer is not documented there; we assume the same minute.

use crate::sim::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Keepalive settings, as written in specs (seconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeepaliveSpec {
    /// Sends OPTIONS at all.
    pub enabled: bool,
    /// Interval between OPTIONS to an up peer, s (assumed 60).
    pub interval_s: f64,
    /// Consecutive unanswered OPTIONS that mark a peer down (5, Lync).
    pub missed: u32,
    /// Interval between OPTIONS to a down peer, s (60, Lync).
    pub repoll_s: f64,
}

impl Default for KeepaliveSpec {
    fn default() -> Self {
        KeepaliveSpec {
            enabled: true,
            interval_s: 60.0,
            missed: 5,
            repoll_s: 60.0,
        }
    }
}

impl KeepaliveSpec {
    /// Checks the values; the error names the field.
    pub(crate) fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if !(self.interval_s.is_finite() && self.interval_s > 0.0) {
            return Err(("keepalive.interval_s", "must be > 0"));
        }
        if !(self.repoll_s.is_finite() && self.repoll_s > 0.0) {
            return Err(("keepalive.repoll_s", "must be > 0"));
        }
        if self.missed == 0 {
            return Err(("keepalive.missed", "must be ≥ 1"));
        }
        Ok(())
    }
}

/// What a keepalive result changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum HealthChange {
    WentDown,
    CameUp,
}

#[derive(Clone, Debug)]
struct PeerHealth {
    up: bool,
    misses: u32,
    next_poll: SimTime,
    down_since: Option<SimTime>,
}

/// The health of every peer of one element.
#[derive(Clone, Debug)]
pub(crate) struct Keepalive {
    enabled: bool,
    interval: SimDuration,
    repoll: SimDuration,
    missed: u32,
    peers: Vec<PeerHealth>,
    /// Outstanding OPTIONS: caller's key → peer index.
    pending: HashMap<u64, usize>,
}

impl Keepalive {
    /// Health of `peers` peers, all up, first polled at `start`.
    pub(crate) fn new(spec: &KeepaliveSpec, peers: usize, start: SimTime) -> Self {
        Keepalive {
            enabled: spec.enabled,
            interval: SimDuration::from_secs_f64(spec.interval_s),
            repoll: SimDuration::from_secs_f64(spec.repoll_s),
            missed: spec.missed,
            peers: vec![
                PeerHealth {
                    up: true,
                    misses: 0,
                    next_poll: start,
                    down_since: None,
                };
                peers
            ],
            pending: HashMap::new(),
        }
    }

    /// Forgets everything (element restart): all peers up, polled from `now`.
    pub(crate) fn reset(&mut self, now: SimTime) {
        for p in &mut self.peers {
            *p = PeerHealth {
                up: true,
                misses: 0,
                next_poll: now,
                down_since: None,
            };
        }
        self.pending.clear();
    }

    pub(crate) fn is_up(&self, peer: usize) -> bool {
        self.peers.get(peer).is_none_or(|p| p.up)
    }

    /// The next poll time of any peer.
    pub(crate) fn next(&self) -> Option<SimTime> {
        if !self.enabled {
            return None;
        }
        self.peers.iter().map(|p| p.next_poll).min()
    }

    /// The peers to poll now (in index order); their next poll is scheduled.
    pub(crate) fn due(&mut self, now: SimTime) -> Vec<usize> {
        if !self.enabled {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (i, p) in self.peers.iter_mut().enumerate() {
            if p.next_poll <= now {
                p.next_poll = now + if p.up { self.interval } else { self.repoll };
                out.push(i);
            }
        }
        out
    }

    /// An OPTIONS to `peer` left under the caller's `key`.
    pub(crate) fn sent(&mut self, key: u64, peer: usize) {
        self.pending.insert(key, peer);
    }

    /// The result of the OPTIONS sent under `key` (408: no answer). Returns the peer and
    /// what changed, if the key was a keepalive.
    pub(crate) fn result(
        &mut self,
        key: u64,
        status: u16,
        now: SimTime,
    ) -> Option<(usize, Option<HealthChange>)> {
        let peer = self.pending.remove(&key)?;
        let missed = self.missed;
        let repoll = self.repoll;
        let p = self.peers.get_mut(peer)?;
        if status == 408 {
            p.misses += 1;
            if p.up && p.misses >= missed {
                p.up = false;
                p.down_since = Some(now);
                p.next_poll = p.next_poll.min(now + repoll);
                return Some((peer, Some(HealthChange::WentDown)));
            }
            Some((peer, None))
        } else {
            p.misses = 0;
            if !p.up {
                p.up = true;
                p.down_since = None;
                return Some((peer, Some(HealthChange::CameUp)));
            }
            Some((peer, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_after_missed_count_and_back_on_answer() {
        let spec = KeepaliveSpec {
            interval_s: 10.0,
            missed: 3,
            repoll_s: 30.0,
            ..KeepaliveSpec::default()
        };
        let mut k = Keepalive::new(&spec, 2, SimTime::ZERO);
        let mut key = 0;
        let mut t = SimTime::ZERO;
        for round in 0..3 {
            assert_eq!(k.due(t), vec![0, 1]);
            k.sent(key, 0);
            k.sent(key + 1, 1);
            let r0 = k.result(key, 408, t).unwrap();
            k.result(key + 1, 200, t);
            key += 2;
            assert_eq!(
                r0.1,
                (round == 2).then_some(HealthChange::WentDown),
                "round {round}"
            );
            t = k.next().unwrap();
        }
        assert!(!k.is_up(0) && k.is_up(1));
        // Peer 1 is polled every 10 s, peer 0 every 30 s now.
        let due: Vec<_> = (0..3)
            .map(|i| k.due(t + SimDuration::from_secs(10 * i)))
            .collect();
        assert!(due.iter().filter(|d| d.contains(&0)).count() <= 1);
        k.sent(99, 0);
        assert_eq!(k.result(99, 503, t).unwrap().1, Some(HealthChange::CameUp));
        assert!(k.is_up(0));
        assert_eq!(k.result(12345, 200, t), None, "not a keepalive");
    }
}
