//! Outbound routing: voice policies → ordered PSTN usages → routes → trunks.
//!
//! Lync's outbound routing (the "OBR" component of the Front End): the caller's voice
//! policy lists PSTN usages in order; for each usage, the routes that carry it and whose
//! number pattern matches the normalized number are taken in route order, and each route
//! lists its trunks (a trunk is a Mediation Server paired with a gateway, IP-PBX or SIP
//! trunk peer). A trunk is tried at most once per call. Each route says which final
//! responses fail over to the next trunk (503 and 504 by default; a timeout always does),
//! and each trunk may translate response codes first (Lync 2013's
//! `SipResponseCodeTranslationRulesList`, e.g. 502 → 503).

use regex::Regex;
use std::net::SocketAddrV4;

/// A site of the deployment, interned.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SiteId(pub(crate) u16);

/// A voice policy: PSTN usages in the order they are tried.
#[derive(Clone, Debug)]
pub(crate) struct VoicePolicy {
    pub(crate) name: String,
    pub(crate) usages: Vec<usize>,
}

/// A route: number pattern → trunks, for a set of PSTN usages.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub(crate) name: String,
    pub(crate) pattern: Regex,
    pub(crate) usages: Vec<usize>,
    pub(crate) trunks: Vec<usize>,
    /// Final responses (after translation) that fail over to the next trunk.
    pub(crate) failover_codes: Vec<u16>,
}

/// A trunk: a Mediation Server and the peer behind it.
#[derive(Clone, Debug)]
pub(crate) struct Trunk {
    pub(crate) name: String,
    /// The Mediation Server's Front-End-side SIP address (the next hop).
    pub(crate) mediation: SocketAddrV4,
    /// The peer's host for the Request-URI (its FQDN when the deployment names one).
    pub(crate) peer_host: String,
    pub(crate) peer_port: u16,
    /// Ways the Mediation Server may name the peer when it reports it down.
    pub(crate) peer_names: Vec<String>,
    pub(crate) site: SiteId,
    /// (received, acted on) response-code translations.
    pub(crate) translations: Vec<(u16, u16)>,
    /// `EnableFastFailoverTimer`.
    pub(crate) fast_failover: bool,
    /// PSTN usages for calls arriving on this trunk (inter-trunk routing).
    pub(crate) usages: Vec<usize>,
}

impl Trunk {
    /// The status Lync acts on after the trunk's translation rules.
    pub(crate) fn translate(&self, status: u16) -> u16 {
        self.translations
            .iter()
            .find(|(from, _)| *from == status)
            .map_or(status, |(_, to)| *to)
    }

    /// Whether a failure response says the Mediation Server found the peer down: a 503
    /// with a `Reason` or `ms-diagnostics` header naming the peer.
    pub(crate) fn reported_down(&self, status: u16, diagnostics: &[&str]) -> bool {
        status == 503
            && diagnostics.iter().any(|d| {
                let d = d.to_ascii_lowercase();
                self.peer_names
                    .iter()
                    .any(|n| names(&d, &n.to_ascii_lowercase()))
            })
    }
}

/// Whether `text` contains `name` as a whole word (`gw1` is not named by `gw10`).
fn names(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
    text.match_indices(name).any(|(at, m)| {
        !word(text[..at].chars().next_back()) && !word(text[at + m.len()..].chars().next())
    })
}

/// One trunk to try for a call, and the route that chose it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) trunk: usize,
    pub(crate) route: Option<usize>,
}

/// The routing tables.
#[derive(Clone, Debug, Default)]
pub(crate) struct RoutingTable {
    pub(crate) policies: Vec<VoicePolicy>,
    pub(crate) routes: Vec<Route>,
    pub(crate) trunks: Vec<Trunk>,
}

impl RoutingTable {
    /// The trunks to try, in order, for `number` under PSTN usages `usages`.
    pub(crate) fn candidates(&self, usages: &[usize], number: &str) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = Vec::new();
        for &usage in usages {
            for (ri, route) in self.routes.iter().enumerate() {
                if !route.usages.contains(&usage) || !route.pattern.is_match(number) {
                    continue;
                }
                for &trunk in &route.trunks {
                    if !out.iter().any(|c| c.trunk == trunk) {
                        out.push(Candidate {
                            trunk,
                            route: Some(ri),
                        });
                    }
                }
            }
        }
        out
    }

    /// Whether `status` (already translated) fails over on the candidate's route; a
    /// candidate without a route (a PBX's own trunks) uses the default codes.
    pub(crate) fn fails_over(&self, c: Candidate, status: u16) -> bool {
        match c.route.and_then(|r| self.routes.get(r)) {
            Some(r) => r.failover_codes.contains(&status),
            None => DEFAULT_FAILOVER_CODES.contains(&status),
        }
    }
}

/// Lync's failover responses: 503 Service Unavailable and 504 Server Time-out.
pub(crate) const DEFAULT_FAILOVER_CODES: [u16; 2] = [503, 504];

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn trunk(name: &str) -> Trunk {
        Trunk {
            name: name.into(),
            mediation: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5070),
            peer_host: format!("{name}.example.com"),
            peer_port: 5060,
            peer_names: vec![name.into(), format!("{name}.example.com")],
            site: SiteId(0),
            translations: vec![(502, 503)],
            fast_failover: true,
            usages: Vec::new(),
        }
    }

    fn table() -> RoutingTable {
        RoutingTable {
            policies: vec![VoicePolicy {
                name: "p".into(),
                usages: vec![1, 0],
            }],
            routes: vec![
                Route {
                    name: "local".into(),
                    pattern: Regex::new(r"^\+1425").unwrap(),
                    usages: vec![0],
                    trunks: vec![0, 1],
                    failover_codes: vec![503, 504],
                },
                Route {
                    name: "universal".into(),
                    pattern: Regex::new(r"^\+").unwrap(),
                    usages: vec![1],
                    trunks: vec![2, 0],
                    failover_codes: vec![503],
                },
            ],
            trunks: vec![trunk("gw1"), trunk("gw2"), trunk("gw3")],
        }
    }

    #[test]
    fn usages_in_policy_order_and_each_trunk_once() {
        let t = table();
        let c = t.candidates(&t.policies[0].usages, "+14255550100");
        let trunks: Vec<usize> = c.iter().map(|c| c.trunk).collect();
        // Usage 1 (universal: gw3, gw1) first, then usage 0 (local: gw1 again, gw2).
        assert_eq!(trunks, [2, 0, 1]);
        assert_eq!(c[2].route, Some(0));
        let c = t.candidates(&t.policies[0].usages, "+442079460000");
        assert_eq!(c.len(), 2);
        assert!(t.candidates(&[], "+14255550100").is_empty());
    }

    #[test]
    fn translation_then_route_failover_codes() {
        let t = table();
        let gw = &t.trunks[0];
        assert_eq!(gw.translate(502), 503);
        assert_eq!(gw.translate(486), 486);
        let local = Candidate {
            trunk: 0,
            route: Some(0),
        };
        assert!(t.fails_over(local, 504));
        let universal = Candidate {
            trunk: 0,
            route: Some(1),
        };
        assert!(!t.fails_over(universal, 504));
        assert!(t.fails_over(
            Candidate {
                trunk: 0,
                route: None
            },
            503
        ));
    }

    #[test]
    fn down_reports_must_name_the_peer() {
        let gw = trunk("gw1");
        assert!(gw.reported_down(503, &["SIP;cause=503;text=\"Gateway GW1 is down\""]));
        assert!(gw.reported_down(503, &["1047;reason=\"gw1.example.com unreachable\""]));
        assert!(!gw.reported_down(503, &["SIP;cause=503;text=\"gw2 down\""]));
        assert!(!gw.reported_down(500, &["gw1 down"]));
        assert!(!gw.reported_down(503, &[]));
        assert!(!gw.reported_down(503, &["gw10 down"]));
    }
}
