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

mod resolve;

use crate::config::{ConfigError, FileKind, from_ron_str};
use crate::net::{NetError, NetworkSpec, Probability, QueueLimit, Queueing, Rate};
use crate::sim::{SimDuration, SimTime};
use resolve::Resolver;
use serde::{Deserialize, Deserializer};
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
    /// The voice deployment on the network: elements, numbers, TDM spans.
    #[serde(default)]
    pub deployment: Option<super::deployment::Deployment>,
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
        Resolver::new(path, text).resolve(self)
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
