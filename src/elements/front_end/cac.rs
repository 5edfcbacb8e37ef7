//! Call admission control on WAN links between sites.
//!
//! Like Lync's bandwidth policy profiles on a network site link: per pair of sites, a
//! limit on concurrent audio sessions and/or on audio bandwidth (kbit/s at the IP layer
//! of the codec offered). A call whose media would cross the pair when it is full is, as
//! configured, rerouted through the PSTN (for calls to Lync users: an outbound PSTN call
//! to the callee's DID) or rejected. Calls within one site are never limited.

use super::routing::SiteId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What happens to a call over the limit.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CacOverflow {
    /// Refuse it (note `RejectedCapacity`).
    #[default]
    Reject,
    /// Send it over the PSTN instead (calls to Lync users); others are refused.
    RerouteViaPstn,
}

/// The limits of one site pair.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CacLimit {
    pub(crate) max_sessions: Option<u32>,
    pub(crate) max_bps: Option<u64>,
    pub(crate) overflow: CacOverflow,
}

/// Bandwidth and sessions held by one admitted call leg.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct CacGrant {
    link: usize,
    bps: u64,
}

#[derive(Clone, Debug, Default)]
struct LinkUse {
    sessions: u32,
    bps: u64,
    peak_sessions: u32,
    refused: u64,
}

/// The admission state of every limited site pair.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cac {
    limits: Vec<CacLimit>,
    by_pair: HashMap<(SiteId, SiteId), usize>,
    usage: Vec<LinkUse>,
}

/// The result of asking for admission.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// No limit applies (same site, or an unlimited pair).
    Free,
    Granted(CacGrant),
    Refused(CacOverflow),
}

fn key(a: SiteId, b: SiteId) -> (SiteId, SiteId) {
    if a <= b { (a, b) } else { (b, a) }
}

impl Cac {
    /// Adds the limit of a pair; false when the pair already has one.
    pub(crate) fn add(&mut self, a: SiteId, b: SiteId, limit: CacLimit) -> bool {
        if a == b || self.by_pair.contains_key(&key(a, b)) {
            return false;
        }
        self.by_pair.insert(key(a, b), self.limits.len());
        self.limits.push(limit);
        self.usage.push(LinkUse::default());
        true
    }

    /// Asks to carry one audio session of `bps` between sites `a` and `b`.
    pub(crate) fn admit(&mut self, a: SiteId, b: SiteId, bps: u64) -> Admission {
        if a == b {
            return Admission::Free;
        }
        let Some(&link) = self.by_pair.get(&key(a, b)) else {
            return Admission::Free;
        };
        let limit = &self.limits[link];
        let u = &mut self.usage[link];
        let sessions_ok = limit.max_sessions.is_none_or(|m| u.sessions < m);
        let bps_ok = limit.max_bps.is_none_or(|m| u.bps + bps <= m);
        if sessions_ok && bps_ok {
            u.sessions += 1;
            u.bps += bps;
            u.peak_sessions = u.peak_sessions.max(u.sessions);
            Admission::Granted(CacGrant { link, bps })
        } else {
            u.refused += 1;
            Admission::Refused(limit.overflow)
        }
    }

    /// Whether any site pair is limited.
    pub(crate) fn sessions_limited(&self) -> bool {
        !self.limits.is_empty()
    }

    /// Gives back what a grant held.
    pub(crate) fn release(&mut self, grant: CacGrant) {
        if let Some(u) = self.usage.get_mut(grant.link) {
            u.sessions = u.sessions.saturating_sub(1);
            u.bps = u.bps.saturating_sub(grant.bps);
        }
    }

    /// Sessions in use on a pair now, and the peak.
    pub(crate) fn sessions(&self, a: SiteId, b: SiteId) -> Option<(u32, u32)> {
        let u = &self.usage[*self.by_pair.get(&key(a, b))?];
        Some((u.sessions, u.peak_sessions))
    }

    /// Forgets every admitted session (the Front End restarted).
    pub(crate) fn reset(&mut self) {
        for u in &mut self.usage {
            u.sessions = 0;
            u.bps = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_and_bandwidth_limits() {
        let (hq, br, other) = (SiteId(0), SiteId(1), SiteId(2));
        let mut cac = Cac::default();
        assert!(cac.add(
            hq,
            br,
            CacLimit {
                max_sessions: Some(2),
                max_bps: Some(200_000),
                overflow: CacOverflow::RerouteViaPstn,
            }
        ));
        assert!(
            !cac.add(br, hq, cac.limits[0].clone()),
            "one limit per pair"
        );
        assert_eq!(cac.admit(hq, hq, 80_000), Admission::Free);
        assert_eq!(cac.admit(hq, other, 80_000), Admission::Free);
        let Admission::Granted(g1) = cac.admit(hq, br, 80_000) else {
            panic!()
        };
        // Bandwidth: 80k + 130k > 200k is refused although a session is free.
        assert_eq!(
            cac.admit(br, hq, 130_000),
            Admission::Refused(CacOverflow::RerouteViaPstn)
        );
        let Admission::Granted(_) = cac.admit(br, hq, 80_000) else {
            panic!()
        };
        assert_eq!(
            cac.admit(hq, br, 1),
            Admission::Refused(CacOverflow::RerouteViaPstn),
            "sessions"
        );
        assert_eq!(cac.sessions(hq, br), Some((2, 2)));
        cac.release(g1);
        assert_eq!(cac.sessions(br, hq), Some((1, 2)));
        assert!(matches!(cac.admit(hq, br, 80_000), Admission::Granted(_)));
        cac.reset();
        assert_eq!(cac.sessions(hq, br), Some((0, 2)));
    }
}
