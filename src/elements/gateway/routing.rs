//! Where a gateway sends a call: by the called number's owner in the number plan.
//!
//! - SIP → TDM: the links to the element that hosts the number (a TDM PBX's DIDs go to the
//!   PBX trunk), else the links to the PSTN, else every link; hunted in order.
//! - TDM → SIP: a SIP peer that hosts the number (an IP-PBX), else another TDM link to the
//!   number's host (the "Enterprise Voice in front of the PBX" gateway switching PSTN calls
//!   for PBX users to the PBX trunk), else the Lync side: the Mediation Servers (Basic
//!   Gateway) or Front End pools (Basic Hybrid), in order.

use super::super::numbering::NumberPlan;
use super::super::{ElementId, TdmPort};
use std::collections::BTreeMap;
use std::net::SocketAddrV4;

/// A SIP peer of the gateway.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    pub(crate) name: String,
    pub(crate) addr: SocketAddrV4,
    pub(crate) kind: &'static str,
}

/// One TDM link of the gateway (a trunk group of spans).
#[derive(Clone, Debug)]
pub(crate) struct Link {
    pub(crate) port: TdmPort,
    pub(crate) far: String,
    pub(crate) far_id: ElementId,
    pub(crate) far_kind: &'static str,
}

/// Where a call from the TDM side goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum InboundRoute {
    /// SIP peers (indices), in the order to try.
    Sip(Vec<usize>),
    /// Other TDM links (indices), hunted in order.
    Tdm(Vec<usize>),
}

/// The routing tables of a gateway.
#[derive(Clone, Debug)]
pub(crate) struct Routing {
    pub(crate) peers: Vec<Peer>,
    pub(crate) links: Vec<Link>,
    numbers: NumberPlan,
    /// Element kinds by name (from the directory).
    kinds: BTreeMap<String, &'static str>,
}

impl Routing {
    pub(crate) fn new(
        peers: Vec<Peer>,
        links: Vec<Link>,
        numbers: NumberPlan,
        kinds: BTreeMap<String, &'static str>,
    ) -> Self {
        Routing {
            peers,
            links,
            numbers,
            kinds,
        }
    }

    fn host_of(&self, number: &str) -> Option<&str> {
        self.numbers.lookup(number).map(|(r, _)| r.element.as_str())
    }

    /// The links, in hunting order, for a call from SIP to `called`.
    pub(crate) fn route_to_tdm(&self, called: &str) -> Vec<usize> {
        let host = self.host_of(called);
        let pick = |f: &dyn Fn(&Link) -> bool| -> Vec<usize> {
            self.links
                .iter()
                .enumerate()
                .filter(|(_, l)| f(l))
                .map(|(i, _)| i)
                .collect()
        };
        if let Some(h) = host {
            let direct = pick(&|l| l.far == h);
            if !direct.is_empty() {
                return direct;
            }
        }
        let pstn = pick(&|l| l.far_kind == "pstn");
        if !pstn.is_empty() {
            return pstn;
        }
        (0..self.links.len()).collect()
    }

    /// Where a call that arrived on `from` for `called` goes.
    pub(crate) fn route_from_tdm(&self, called: &str, from: TdmPort) -> InboundRoute {
        if let Some(h) = self.host_of(called) {
            if let Some(i) = self.peers.iter().position(|p| p.name == h) {
                return InboundRoute::Sip(vec![i]);
            }
            let hairpin: Vec<usize> = self
                .links
                .iter()
                .enumerate()
                .filter(|(_, l)| l.far == h && l.port != from)
                .map(|(i, _)| i)
                .collect();
            if !hairpin.is_empty() {
                return InboundRoute::Tdm(hairpin);
            }
        }
        let lync: Vec<usize> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                matches!(p.kind, "mediation" | "front-end")
                    || self.kinds.get(&p.name).is_some_and(|k| *k == "mediation")
            })
            .map(|(i, _)| i)
            .collect();
        if lync.is_empty() {
            InboundRoute::Sip((0..self.peers.len()).collect())
        } else {
            InboundRoute::Sip(lync)
        }
    }

    pub(crate) fn link_of(&self, port: TdmPort) -> Option<usize> {
        self.links.iter().position(|l| l.port == port)
    }
}
