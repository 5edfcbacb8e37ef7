//! `Topology(...)` files: the network part (nodes, links, faults, background traffic and the
//! pairs that must be able to talk), turned into a validated [`NetworkSpec`].
//!
//! Values are checked while parsing, so a negative latency, a NaN, a loss outside [0, 1] or
//! a zero bandwidth is reported at its own `file:line:column`. Cross-references (undefined
//! nodes, duplicates, overlapping faults, unreachable `must_reach` pairs) are checked after,
//! and located at the offending name in the text. All errors of a file are reported
//! together.
//!
//! ```ron
//! Topology(
//!     name: "two-sites",
//!     nodes: [
//!         (name: "hq-rtr", role: "router", site: "hq"),
//!         (name: "hq-pbx", role: "pbx", site: "hq", address: "10.1.0.10"),
//!         (name: "br-rtr", role: "router", site: "branch"),
//!     ],
//!     links: [
//!         (a: "hq-pbx", b: "hq-rtr", latency_ms: 0.1, bandwidth_mbps: 1000),
//!         (a: "hq-rtr", b: "br-rtr", latency_ms: 12, jitter: Normal(mean_ms: 2, std_ms: 0.5),
//!          loss: Bernoulli(p: 0.001), bandwidth_mbps: 2.048, queueing: StrictPriority),
//!     ],
//!     faults: [LinkDown(link: "hq-rtr-br-rtr", at_s: 60, for_s: 30)],
//!     must_reach: [("hq-pbx", "br-rtr")],
//! )
//! ```
//!
//! Optional values are written bare (`bandwidth_mbps: 2.048`), not as `Some(...)`.

use crate::config::{ConfigError, FileKind, from_ron_str, line_col};
use crate::net::{
    BackgroundPath, BackgroundSpec, FaultSpec, FaultTarget, Jitter, LinkSpec, LossModel, NetError,
    Network, NetworkSpec, NodeId, NodeSpec, Probability, QueueLimit, Queueing, Rate,
    TrafficPattern,
};
use crate::sim::{RngFactory, SimDuration, SimTime};
use serde::{Deserialize, Deserializer};
use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::num::NonZeroU32;
use std::path::Path;

/// A topology file. New sections (e.g. the deployment) are added as fields with defaults.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    pub name: String,
    #[serde(default, deserialize_with = "bare_some")]
    pub description: Option<String>,
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub links: Vec<Link>,
    #[serde(default)]
    pub faults: Vec<Fault>,
    #[serde(default)]
    pub background: Vec<Background>,
    /// Pairs of nodes that must be able to reach each other when nothing has failed.
    #[serde(default)]
    pub must_reach: Vec<(String, String)>,
}

/// A host of the network.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub name: String,
    /// `router`, `switch`, `front-end`, `mediation`, `pbx`, `gateway`... Network gear
    /// (router, switch, firewall, lan, wan, mpls, cloud, internet, core) forwards transit
    /// traffic; other roles are end hosts.
    #[serde(default = "default_role")]
    pub role: String,
    #[serde(default = "default_site")]
    pub site: String,
    /// The node's address; automatic (`10.<site>.0.0/16`) when absent.
    #[serde(default, deserialize_with = "bare_some")]
    pub address: Option<Address>,
    /// Overrides whether the node forwards transit traffic.
    #[serde(default, deserialize_with = "bare_some")]
    pub transit: Option<bool>,
}

/// A full-duplex link.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// Defaults to `<a>-<b>`; faults and background generators refer to links by name.
    #[serde(default, deserialize_with = "bare_some")]
    pub name: Option<String>,
    pub a: String,
    pub b: String,
    /// One-way propagation latency, the floor of the delay.
    pub latency_ms: Millis,
    #[serde(default)]
    pub jitter: JitterKind,
    #[serde(default)]
    pub loss: Loss,
    /// Absent means unlimited (no serialisation delay, no queue).
    #[serde(default, deserialize_with = "bare_some")]
    pub bandwidth_mbps: Option<Mbps>,
    #[serde(default)]
    pub queue: Queue,
    #[serde(default)]
    pub queueing: Queueing,
    /// Layer-2 bytes per packet; 18 for Ethernet (header and FCS).
    #[serde(default = "default_l2")]
    pub l2_overhead_bytes: u32,
    /// Let jitter reorder packets.
    #[serde(default)]
    pub reorder: bool,
}

/// Extra delay per packet on top of the latency (never negative).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum JitterKind {
    #[default]
    None,
    Uniform {
        max_ms: Millis,
    },
    Normal {
        mean_ms: Millis,
        std_ms: Millis,
    },
    Exponential {
        mean_ms: Millis,
    },
}

/// The loss process of each direction of a link.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Loss {
    #[default]
    None,
    Bernoulli {
        p: Probability,
    },
    GilbertElliott {
        p_good_to_bad: Probability,
        p_bad_to_good: Probability,
        #[serde(default = "certain")]
        loss_in_bad: Probability,
        #[serde(default = "never")]
        loss_in_good: Probability,
    },
}

/// The queue capacity of each direction (counting the packet being sent).
#[derive(Clone, Debug, Deserialize)]
pub enum Queue {
    Packets(NonZeroU32),
    Bytes(NonZeroU32),
}

impl Default for Queue {
    fn default() -> Self {
        match QueueLimit::default() {
            QueueLimit::Packets(n) => Queue::Packets(n),
            QueueLimit::Bytes(n) => Queue::Bytes(n),
        }
    }
}

/// A planned failure.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Fault {
    LinkDown {
        link: String,
        at_s: Seconds,
        /// Absent: stays down.
        #[serde(default, deserialize_with = "bare_some")]
        for_s: Option<PositiveSeconds>,
    },
    NodeDown {
        node: String,
        at_s: Seconds,
        #[serde(default, deserialize_with = "bare_some")]
        for_s: Option<PositiveSeconds>,
    },
}

/// A background traffic generator: from `from` to `to` along the route, or onto `link`
/// leaving `from`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Background {
    pub name: String,
    pub from: String,
    #[serde(default, deserialize_with = "bare_some")]
    pub to: Option<String>,
    #[serde(default, deserialize_with = "bare_some")]
    pub link: Option<String>,
    pub pattern: Pattern,
    #[serde(default)]
    pub dscp: u8,
    #[serde(default)]
    pub start_s: Seconds,
    #[serde(default, deserialize_with = "bare_some")]
    pub stop_s: Option<Seconds>,
}

/// When a generator sends; `packet_bytes` is the IP datagram size.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Pattern {
    ConstantRate {
        rate_mbps: Mbps,
        #[serde(default = "default_packet")]
        packet_bytes: u32,
    },
    OnOff {
        rate_mbps: Mbps,
        #[serde(default = "default_packet")]
        packet_bytes: u32,
        mean_on_ms: PositiveMillis,
        mean_off_ms: PositiveMillis,
    },
}

/// An IPv4 address written as a string.
#[derive(Copy, Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct Address(pub Ipv4Addr);

impl TryFrom<String> for Address {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
            .map(Address)
            .map_err(|_| format!("`{s}` is not an IPv4 address (e.g. \"10.1.0.10\")"))
    }
}

/// A finite, non-negative number of milliseconds.
#[derive(Copy, Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub struct Millis(pub SimDuration);

/// A finite number of milliseconds above zero.
#[derive(Copy, Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub struct PositiveMillis(pub SimDuration);

/// A finite, non-negative number of seconds since the start of the run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub struct Seconds(pub SimTime);

/// A finite number of seconds above zero.
#[derive(Copy, Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub struct PositiveSeconds(pub SimDuration);

/// A bit rate in Mbit/s, above zero.
#[derive(Copy, Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub struct Mbps(pub Rate);

/// Durations in files stay below 10^9 s (about 31 years), far inside `u64` nanoseconds.
const MAX_SECONDS: f64 = 1e9;

fn duration(v: f64, scale: f64, unit: &str, positive: bool) -> Result<SimDuration, String> {
    let secs = v * scale;
    let ok = v.is_finite() && v >= 0.0 && secs <= MAX_SECONDS;
    let d = SimDuration::from_secs_f64(secs);
    if !ok {
        Err(format!(
            "expected a finite number of {unit} in 0 ..= {}, got {v}",
            MAX_SECONDS / scale
        ))
    } else if positive && d.is_zero() {
        Err(format!("expected a number of {unit} above zero, got {v}"))
    } else {
        Ok(d)
    }
}

impl TryFrom<f64> for Millis {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        duration(v, 1e-3, "milliseconds", false).map(Millis)
    }
}

impl TryFrom<f64> for PositiveMillis {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        duration(v, 1e-3, "milliseconds", true).map(PositiveMillis)
    }
}

impl TryFrom<f64> for Seconds {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        duration(v, 1.0, "seconds", false).map(|d| Seconds(SimTime::ZERO + d))
    }
}

impl TryFrom<f64> for PositiveSeconds {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        duration(v, 1.0, "seconds", true).map(PositiveSeconds)
    }
}

impl TryFrom<f64> for Mbps {
    type Error = NetError;
    fn try_from(v: f64) -> Result<Self, NetError> {
        Rate::from_mbps(v).map(Mbps)
    }
}

/// Deserializes an optional value written bare (`x: 2.0`, not `x: Some(2.0)`); an absent
/// field is `None` through `#[serde(default)]`.
fn bare_some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn default_role() -> String {
    "host".into()
}
fn default_site() -> String {
    "default".into()
}
fn default_l2() -> u32 {
    crate::net::ETHERNET_OVERHEAD
}
fn default_packet() -> u32 {
    1500
}
fn certain() -> Probability {
    Probability::ONE
}
fn never() -> Probability {
    Probability::ZERO
}

impl Topology {
    /// Parses a topology file's text (syntax and value errors, located).
    pub fn parse(path: &Path, text: &str) -> Result<Topology, ConfigError> {
        from_ron_str(path, text)
    }

    /// Reads and parses a topology file.
    pub fn load(path: &Path) -> Result<(Topology, String), ConfigError> {
        crate::config::load_ron(path, FileKind::Topology)
    }

    /// Turns the file into a validated network description, reporting every semantic
    /// error, each located in `text` (the file's text).
    pub fn to_spec(&self, path: &Path, text: &str) -> Result<NetworkSpec, Vec<ConfigError>> {
        Resolver {
            path,
            text,
            errors: Vec::new(),
            refused: HashSet::new(),
        }
        .resolve(self)
    }
}

/// Loads, parses and validates a topology file.
pub fn load_network_spec(path: &Path) -> Result<(Topology, NetworkSpec), Vec<ConfigError>> {
    let (topology, text) = Topology::load(path).map_err(|e| vec![e])?;
    let spec = topology.to_spec(path, &text)?;
    Ok((topology, spec))
}

/// Validates a topology file's text completely (what `voicetwin check` does).
pub fn check_topology(path: &Path, text: &str) -> Result<(), Vec<ConfigError>> {
    let topology = Topology::parse(path, text).map_err(|e| vec![e])?;
    topology.to_spec(path, text).map(|_| ())
}

/// Converts names to ids and collects located errors.
struct Resolver<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<ConfigError>,
    /// Names defined in the file but refused (already reported): references to them are
    /// skipped quietly instead of cascading into "undefined" errors.
    refused: HashSet<String>,
}

impl Resolver<'_> {
    fn resolve(mut self, t: &Topology) -> Result<NetworkSpec, Vec<ConfigError>> {
        let mut spec = NetworkSpec::new();
        for node in &t.nodes {
            let mut n = NodeSpec::new(&node.name, &node.role, &node.site);
            n.address = node.address.map(|a| a.0);
            if let Some(transit) = node.transit {
                n.transit = transit;
            }
            if let Err(e) = spec.add_node(n) {
                let at = match &e {
                    NetError::AddressInUse { addr, .. } => {
                        self.find("nodes", "address", &addr.to_string(), 2)
                    }
                    NetError::DuplicateNode(name) => self.find("nodes", "name", name, 2),
                    _ => self.find("nodes", "name", &node.name, 1),
                };
                self.error(at, e.to_string());
                self.refused.insert(node.name.clone());
            }
        }
        for link in &t.links {
            self.add_link(&mut spec, link);
        }
        for fault in &t.faults {
            self.add_fault(&mut spec, fault);
        }
        for bg in &t.background {
            self.add_background(&mut spec, bg);
        }
        let pairs: Vec<(NodeId, NodeId, &str, &str)> = t
            .must_reach
            .iter()
            .filter_map(|(a, b)| {
                let ia = self.node(&spec, "must_reach", None, a);
                let ib = self.node(&spec, "must_reach", None, b);
                Some((ia?, ib?, a.as_str(), b.as_str()))
            })
            .collect();
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        // Reachability is judged with everything up; an incomplete network was refused above.
        match Network::new(spec.clone(), &RngFactory::new(0)) {
            Ok(net) => {
                for (a, b, na, nb) in pairs {
                    for (x, y, nx, ny) in [(a, b, na, nb), (b, a, nb, na)] {
                        if net.route(x, y).is_none() {
                            let at = self.find_pair(na, nb);
                            self.error(
                                at,
                                format!(
                                    "`{nx}` cannot reach `{ny}` (no path through links and transit nodes)"
                                ),
                            );
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                let at = self.find("", "nodes", "", 1);
                self.error(at, e.to_string());
            }
        }
        if self.errors.is_empty() {
            Ok(spec)
        } else {
            Err(self.errors)
        }
    }

    fn add_link(&mut self, spec: &mut NetworkSpec, link: &Link) {
        let a = self.node(spec, "links", Some("a"), &link.a);
        let b = self.node(spec, "links", Some("b"), &link.b);
        let (Some(a), Some(b)) = (a, b) else {
            let name = link.name.clone();
            self.refused
                .insert(name.unwrap_or_else(|| format!("{}-{}", link.a, link.b)));
            return;
        };
        let mut l = LinkSpec::new(a, b, link.latency_ms.0);
        l.name = link.name.clone();
        l.jitter = match link.jitter {
            JitterKind::None => Jitter::None,
            JitterKind::Uniform { max_ms } => Jitter::Uniform { max: max_ms.0 },
            JitterKind::Normal { mean_ms, std_ms } => Jitter::Normal {
                mean: mean_ms.0,
                std: std_ms.0,
            },
            JitterKind::Exponential { mean_ms } => Jitter::Exponential { mean: mean_ms.0 },
        };
        l.loss = match link.loss {
            Loss::None => LossModel::None,
            Loss::Bernoulli { p } => LossModel::Bernoulli { p },
            Loss::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_in_bad,
                loss_in_good,
            } => LossModel::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_in_bad,
                loss_in_good,
            },
        };
        l.bandwidth = link.bandwidth_mbps.map(|m| m.0);
        l.queue = match link.queue {
            Queue::Packets(n) => QueueLimit::Packets(n),
            Queue::Bytes(n) => QueueLimit::Bytes(n),
        };
        l.queueing = link.queueing;
        l.l2_overhead = link.l2_overhead_bytes;
        l.reorder = link.reorder;
        if let Err(e) = spec.add_link(l) {
            let at = match (&e, &link.name) {
                (NetError::DuplicateLink(_), Some(name)) => self.find("links", "name", name, 2),
                (_, Some(name)) => self.find("links", "name", name, 1),
                (_, None) => self.find("links", "b", &link.b, 1),
            };
            self.error(at, e.to_string());
            if !matches!(e, NetError::DuplicateLink(_)) {
                let name = link.name.clone();
                self.refused
                    .insert(name.unwrap_or_else(|| format!("{}-{}", link.a, link.b)));
            }
        }
    }

    fn add_fault(&mut self, spec: &mut NetworkSpec, fault: &Fault) {
        let (target, name, field, at, dur) = match fault {
            Fault::LinkDown { link, at_s, for_s } => {
                let Some(id) = self.link(spec, "faults", Some("link"), link) else {
                    return;
                };
                (FaultTarget::Link(id), link, "link", at_s, for_s)
            }
            Fault::NodeDown { node, at_s, for_s } => {
                let Some(id) = self.node(spec, "faults", Some("node"), node) else {
                    return;
                };
                (FaultTarget::Node(id), node, "node", at_s, for_s)
            }
        };
        let f = FaultSpec {
            target,
            at: at.0,
            duration: dur.map(|d| d.0),
        };
        if let Err(e) = spec.add_fault(f) {
            let at = self.find("faults", field, name, 2);
            self.error(at, e.to_string());
        }
    }

    fn add_background(&mut self, spec: &mut NetworkSpec, bg: &Background) {
        let Some(from) = self.node(spec, "background", Some("from"), &bg.from) else {
            return;
        };
        let path = match (&bg.to, &bg.link) {
            (Some(to), None) => {
                let Some(to) = self.node(spec, "background", Some("to"), to) else {
                    return;
                };
                BackgroundPath::Between { from, to }
            }
            (None, Some(link)) => {
                let Some(link) = self.link(spec, "background", Some("link"), link) else {
                    return;
                };
                BackgroundPath::OnLink { link, from }
            }
            _ => {
                let at = self.find("background", "name", &bg.name, 1);
                self.error(
                    at,
                    format!(
                        "background `{}` needs exactly one of `to` (a routed flow) or `link` (one link)",
                        bg.name
                    ),
                );
                return;
            }
        };
        let pattern = match bg.pattern {
            Pattern::ConstantRate {
                rate_mbps,
                packet_bytes,
            } => TrafficPattern::ConstantRate {
                rate: rate_mbps.0,
                packet_bytes,
            },
            Pattern::OnOff {
                rate_mbps,
                packet_bytes,
                mean_on_ms,
                mean_off_ms,
            } => TrafficPattern::OnOff {
                rate: rate_mbps.0,
                packet_bytes,
                mean_on: mean_on_ms.0,
                mean_off: mean_off_ms.0,
            },
        };
        let spec_bg = BackgroundSpec {
            name: bg.name.clone(),
            path,
            pattern,
            dscp: bg.dscp,
            start: bg.start_s.0,
            stop: bg.stop_s.map(|s| s.0),
        };
        if let Err(e) = spec.add_background(spec_bg) {
            let nth = if matches!(e, NetError::DuplicateGenerator(_)) {
                2
            } else {
                1
            };
            let at = self.find("background", "name", &bg.name, nth);
            self.error(at, format!("background `{}`: {e}", bg.name));
        }
    }

    /// Resolves a node name, recording an error located at the reference.
    fn node(
        &mut self,
        spec: &NetworkSpec,
        section: &str,
        field: Option<&str>,
        name: &str,
    ) -> Option<NodeId> {
        let id = spec.node_id(name);
        if id.is_none() && !self.refused.contains(name) {
            let at = self.find(section, field.unwrap_or(""), name, 1);
            self.error(at, format!("undefined node `{name}`"));
        }
        id
    }

    fn link(
        &mut self,
        spec: &NetworkSpec,
        section: &str,
        field: Option<&str>,
        name: &str,
    ) -> Option<crate::net::LinkId> {
        let id = spec.link_id(name);
        if id.is_none() && !self.refused.contains(name) {
            let at = self.find(section, field.unwrap_or(""), name, 1);
            self.error(
                at,
                format!("undefined link `{name}` (links are named `<a>-<b>` unless given a name)"),
            );
        }
        id
    }

    fn error(&mut self, at: Option<(usize, usize)>, message: String) {
        let e = match at {
            Some((line, col)) => ConfigError::at(self.path, line, col, message),
            None => ConfigError::unlocated(self.path, message),
        };
        self.errors.push(e);
    }

    /// Locates the `nth` (from 1) occurrence of `"value"` after the `section:` key, preceded
    /// by `field:` when a field is given, falling back to any mention of the value and then
    /// to the section key.
    fn find(&self, section: &str, field: &str, value: &str, nth: usize) -> Option<(usize, usize)> {
        let text = self.text;
        let from = if section.is_empty() {
            0
        } else {
            find_key(text, section, 0).unwrap_or(0)
        };
        if value.is_empty() {
            return find_key(text, field, 0).map(|o| line_col(text, o));
        }
        let quoted = format!("\"{value}\"");
        let mentions: Vec<usize> = text[from..]
            .match_indices(&quoted)
            .map(|(i, _)| from + i)
            .collect();
        let with_field: Vec<usize> = mentions
            .iter()
            .copied()
            .filter(|&o| field.is_empty() || preceded_by_key(text, o, field))
            .collect();
        with_field
            .get(nth - 1)
            .or(with_field.last())
            .or(mentions.first())
            .copied()
            .or_else(|| find_key(text, section, 0))
            .map(|o| line_col(text, o))
    }
}

impl Resolver<'_> {
    /// Locates the pair `("a", "b")` in the `must_reach` section.
    fn find_pair(&self, a: &str, b: &str) -> Option<(usize, usize)> {
        let text = self.text;
        let from = find_key(text, "must_reach", 0)?;
        let (qa, qb) = (format!("\"{a}\""), format!("\"{b}\""));
        text[from..]
            .match_indices(&qa)
            .map(|(i, _)| from + i)
            .find(|&o| {
                text[o + qa.len()..]
                    .trim_start()
                    .strip_prefix(',')
                    .is_some_and(|rest| rest.trim_start().starts_with(&qb))
            })
            .or(Some(from))
            .map(|o| line_col(text, o))
    }
}

/// The byte offset of `key` used as a field name (`key:`) at or after `from`.
fn find_key(text: &str, key: &str, from: usize) -> Option<usize> {
    if key.is_empty() {
        return None;
    }
    let mut start = from;
    while let Some(i) = text.get(start..)?.find(key) {
        let at = start + i;
        let before_ok = !text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if before_ok && text[at + key.len()..].trim_start().starts_with(':') {
            return Some(at);
        }
        start = at + key.len();
    }
    None
}

/// Whether the text before `offset` ends with `key:` (whitespace allowed).
fn preceded_by_key(text: &str, offset: usize, key: &str) -> bool {
    let before = text[..offset].trim_end();
    let Some(before) = before.strip_suffix(':') else {
        return false;
    };
    let before = before.trim_end();
    before.ends_with(key)
        && !before[..before.len() - key.len()]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        let path = Path::new("t.ron");
        match Topology::parse(path, text) {
            Err(e) => vec![e.to_string()],
            Ok(t) => match t.to_spec(path, text) {
                Ok(_) => vec![],
                Err(es) => es.iter().map(|e| e.to_string()).collect(),
            },
        }
    }

    const OK: &str = r#"Topology(
    name: "t",
    nodes: [
        (name: "r1", role: "router", site: "hq"),
        (name: "pbx", role: "pbx", site: "hq", address: "10.9.0.1"),
        (name: "r2", role: "router", site: "br"),
    ],
    links: [
        (a: "pbx", b: "r1", latency_ms: 0.2, bandwidth_mbps: 100),
        (name: "wan", a: "r1", b: "r2", latency_ms: 15, jitter: Uniform(max_ms: 4),
         loss: GilbertElliott(p_good_to_bad: 0.01, p_bad_to_good: 0.3),
         bandwidth_mbps: 2.048, queue: Bytes(64000), queueing: StrictPriority),
    ],
    faults: [LinkDown(link: "wan", at_s: 10, for_s: 5), NodeDown(node: "r2", at_s: 30)],
    background: [
        (name: "bulk", from: "r1", to: "r2", pattern: ConstantRate(rate_mbps: 1)),
        (name: "burst", from: "r2", link: "wan",
         pattern: OnOff(rate_mbps: 2, mean_on_ms: 100, mean_off_ms: 900), stop_s: 60),
    ],
    must_reach: [("pbx", "r2")],
)"#;

    #[test]
    fn a_valid_file_converts() {
        assert_eq!(errors(OK), Vec::<String>::new());
        let t = Topology::parse(Path::new("t.ron"), OK).unwrap();
        let spec = t.to_spec(Path::new("t.ron"), OK).unwrap();
        assert_eq!((spec.node_count(), spec.link_count()), (3, 2));
        assert!(spec.link_id("pbx-r1").is_some());
    }

    #[test]
    fn values_are_located_where_written() {
        let bad = OK.replace("latency_ms: 15", "latency_ms: -15");
        assert_eq!(
            errors(&bad),
            [
                "t.ron:10:53: expected a finite number of milliseconds in 0 ..= 1000000000000, got -15"
            ]
        );
        let bad = OK.replace("p_bad_to_good: 0.3", "p_bad_to_good: 1.3");
        let e = errors(&bad);
        assert!(e[0].starts_with("t.ron:11:"), "{e:?}");
        assert!(e[0].contains("outside [0, 1]"), "{e:?}");
        let bad = OK.replace("bandwidth_mbps: 100", "bandwidth_mbps: 0");
        assert!(
            errors(&bad)[0].starts_with("t.ron:9:"),
            "{:?}",
            errors(&bad)
        );
    }

    #[test]
    fn references_are_checked_and_located() {
        let bad = OK.replace(r#"b: "r2", latency_ms"#, r#"b: "r3", latency_ms"#);
        let e = errors(&bad);
        assert_eq!(e[0], "t.ron:10:35: undefined node `r3`");
        let bad = OK.replace(r#"(name: "r2", role"#, r#"(name: "r1", role"#);
        let e = errors(&bad);
        assert_eq!(e[0], "t.ron:6:16: node `r1` is defined twice", "{e:?}");
        let bad = OK.replace("at_s: 30)", "at_s: 30), LinkDown(link: \"wan\", at_s: 12)");
        let e = errors(&bad);
        assert!(e[0].starts_with("t.ron:14:104"), "{e:?}");
        assert!(e[0].contains("overlaps"), "{e:?}");
    }

    #[test]
    fn unreachable_pairs_are_reported() {
        let text = r#"Topology(
    name: "t",
    nodes: [(name: "r1", role: "router"), (name: "pbx"), (name: "r2", role: "router")],
    links: [(a: "pbx", b: "r1", latency_ms: 1)],
    must_reach: [("pbx", "r1"), ("pbx", "r2")],
)"#;
        assert_eq!(
            errors(text),
            ["t.ron:5:34: `pbx` cannot reach `r2` (no path through links and transit nodes)"]
        );
    }
}
