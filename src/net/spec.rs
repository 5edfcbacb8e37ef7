//! The validated description of a network: values that cannot be wrong (a [`Probability`]
//! in [0, 1], a [`Rate`] above zero, node ids instead of names), assembled by
//! [`NetworkSpec`], which refuses undefined nodes, duplicates and overlapping faults.

use super::background::{BackgroundPath, BackgroundSpec};
use super::packet::ETHERNET_OVERHEAD;
use super::{GeneratorId, LinkId, MAX_ITEMS, NetError, NodeId, check_name};
use crate::sim::{SimDuration, SimTime};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::num::{NonZeroU32, NonZeroU64};

/// A probability in [0, 1].
#[derive(Copy, Clone, Debug, PartialEq, PartialOrd, Deserialize)]
#[serde(try_from = "f64")]
pub struct Probability(f64);

impl Probability {
    pub const ZERO: Probability = Probability(0.0);
    pub const ONE: Probability = Probability(1.0);

    pub fn new(p: f64) -> Result<Self, NetError> {
        if (0.0..=1.0).contains(&p) {
            Ok(Probability(p))
        } else {
            Err(NetError::InvalidValue {
                what: "probability",
                detail: format!("{p} is outside [0, 1]"),
            })
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Probability {
    type Error = NetError;
    fn try_from(p: f64) -> Result<Self, NetError> {
        Probability::new(p)
    }
}

/// A bit rate above zero, in bits per second.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rate(NonZeroU64);

impl Rate {
    /// The fastest rate accepted: 1 Pbit/s.
    const MAX_BPS: u64 = 1_000_000_000_000_000;

    pub fn from_bps(bps: u64) -> Result<Self, NetError> {
        match NonZeroU64::new(bps) {
            Some(r) if bps <= Self::MAX_BPS => Ok(Rate(r)),
            _ => Err(NetError::InvalidValue {
                what: "rate",
                detail: format!("{bps} bit/s is not in 1 bit/s ..= 1 Pbit/s"),
            }),
        }
    }

    /// From kilobits per second (1 kbit/s = 1000 bit/s), rounded to a whole bit/s.
    pub fn from_kbps(kbps: f64) -> Result<Self, NetError> {
        Self::from_float(kbps, 1e3, "kbit/s")
    }

    /// From megabits per second (1 Mbit/s = 10^6 bit/s), rounded to a whole bit/s.
    pub fn from_mbps(mbps: f64) -> Result<Self, NetError> {
        Self::from_float(mbps, 1e6, "Mbit/s")
    }

    fn from_float(v: f64, scale: f64, unit: &str) -> Result<Self, NetError> {
        let bps = v * scale;
        if !(bps.is_finite() && bps >= 0.5 && bps <= Self::MAX_BPS as f64) {
            return Err(NetError::InvalidValue {
                what: "rate",
                detail: format!("{v} {unit} must be a finite number above zero"),
            });
        }
        Self::from_bps(libm::round(bps) as u64)
    }

    pub fn bps(self) -> u64 {
        self.0.get()
    }

    /// Time to put `bytes` on the wire at this rate, rounded up to the nanosecond.
    pub fn transmission_time(self, bytes: u32) -> SimDuration {
        let bps = self.bps();
        // 64-bit arithmetic covers every datagram (bytes·8·10⁹ < 2^64 up to 2.3 GB); the
        // 128-bit path only serves absurd sizes.
        let ns = match u64::from(bytes).checked_mul(8_000_000_000) {
            Some(bits_ns) => bits_ns.div_ceil(bps),
            None => {
                let ns = (u128::from(bytes) * 8_000_000_000).div_ceil(u128::from(bps));
                u64::try_from(ns).unwrap_or(u64::MAX)
            }
        };
        SimDuration::from_nanos(ns)
    }

    /// The interval between packets of `bytes` sent at this rate.
    pub fn interval(self, bytes: u32) -> SimDuration {
        self.transmission_time(bytes)
    }
}

/// Extra one-way delay added to a link's propagation latency, drawn per packet. Every
/// distribution is non-negative: the propagation latency is the floor of the delay.
#[derive(Copy, Clone, Debug, PartialEq, Default)]
pub enum Jitter {
    /// No jitter: every packet takes exactly the latency (plus queueing).
    #[default]
    None,
    /// Uniform on [0, max]: mean max/2, standard deviation max/√12.
    Uniform { max: SimDuration },
    /// Normal with this mean and standard deviation, truncated at zero by redrawing. The
    /// truncation moves the mean by less than 0.4 % of `std` when `mean ≥ 3·std`.
    Normal { mean: SimDuration, std: SimDuration },
    /// Exponential with this mean (a queueing wait, as in M/M/1): standard deviation = mean.
    Exponential { mean: SimDuration },
}

impl Jitter {
    /// The mean extra delay in milliseconds (before truncation for `Normal`).
    pub fn mean_ms(&self) -> f64 {
        match *self {
            Jitter::None => 0.0,
            Jitter::Uniform { max } => max.as_millis_f64() / 2.0,
            Jitter::Normal { mean, .. } | Jitter::Exponential { mean } => mean.as_millis_f64(),
        }
    }

    /// The standard deviation of the extra delay in milliseconds (before truncation).
    pub fn std_dev_ms(&self) -> f64 {
        match *self {
            Jitter::None => 0.0,
            Jitter::Uniform { max } => max.as_millis_f64() / 12f64.sqrt(),
            Jitter::Normal { std, .. } => std.as_millis_f64(),
            Jitter::Exponential { mean } => mean.as_millis_f64(),
        }
    }
}

/// How a link direction loses packets. Transitions and losses are drawn per packet sent.
#[derive(Copy, Clone, Debug, PartialEq, Default)]
pub enum LossModel {
    #[default]
    None,
    /// Each packet is lost independently with probability `p`.
    Bernoulli { p: Probability },
    /// The Gilbert–Elliott two-state burst model. Before each packet the state moves good →
    /// bad with `p_good_to_bad` (or bad → good with `p_bad_to_good`); the packet is then lost
    /// with the loss probability of the new state. With `loss_in_bad = 1` and
    /// `loss_in_good = 0` the mean burst length is `1 / p_bad_to_good`.
    GilbertElliott {
        p_good_to_bad: Probability,
        p_bad_to_good: Probability,
        loss_in_bad: Probability,
        loss_in_good: Probability,
    },
}

impl LossModel {
    /// The long-run fraction of packets lost.
    pub fn mean_loss(&self) -> f64 {
        match *self {
            LossModel::None => 0.0,
            LossModel::Bernoulli { p } => p.get(),
            LossModel::GilbertElliott {
                p_good_to_bad: p,
                p_bad_to_good: r,
                loss_in_bad: h,
                loss_in_good: k,
            } => {
                let (p, r) = (p.get(), r.get());
                if p + r == 0.0 {
                    return k.get(); // never leaves the initial (good) state
                }
                let bad = p / (p + r);
                bad * h.get() + (1.0 - bad) * k.get()
            }
        }
    }
}

/// The capacity of a direction's queue, counting the packet being transmitted.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum QueueLimit {
    Packets(NonZeroU32),
    Bytes(NonZeroU32),
}

impl QueueLimit {
    pub fn packets(n: u32) -> Result<Self, NetError> {
        NonZeroU32::new(n)
            .map(QueueLimit::Packets)
            .ok_or(NetError::InvalidValue {
                what: "queue limit",
                detail: "a queue must hold at least one packet".into(),
            })
    }

    pub fn bytes(n: u32) -> Result<Self, NetError> {
        NonZeroU32::new(n)
            .map(QueueLimit::Bytes)
            .ok_or(NetError::InvalidValue {
                what: "queue limit",
                detail: "a queue must hold at least one byte".into(),
            })
    }
}

impl Default for QueueLimit {
    /// 100 packets, about the default of a WAN router's output queue.
    fn default() -> Self {
        QueueLimit::Packets(NonZeroU32::MIN.saturating_add(99))
    }
}

/// How a direction orders its queue.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Deserialize)]
pub enum Queueing {
    /// One first-in first-out queue.
    #[default]
    Fifo,
    /// EF-marked packets (DSCP 46) in their own queue, always served before best effort
    /// (non-preemptive). Each class has a queue of the link's limit. A link without a
    /// bandwidth has no queue, so this changes nothing there.
    StrictPriority,
}

/// A host of the network.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    pub name: String,
    /// What the node is (`router`, `front-end`, `pbx`...). Read by the layers above.
    pub role: String,
    /// The site the node belongs to (for reports and automatic addressing).
    pub site: String,
    /// The node's own address; `None` assigns one automatically in `10.<site>.0.0/16`.
    pub address: Option<Ipv4Addr>,
    /// Whether the node forwards packets between its links. Only transit nodes carry
    /// traffic that is neither from nor for them.
    pub transit: bool,
}

impl NodeSpec {
    /// A node whose `transit` follows its role: network gear (router, switch, firewall,
    /// lan, wan, mpls, cloud, internet) forwards, hosts do not.
    pub fn new(name: &str, role: &str, site: &str) -> Self {
        NodeSpec {
            name: name.to_string(),
            role: role.to_string(),
            site: site.to_string(),
            address: None,
            transit: role_forwards(role),
        }
    }

    pub fn with_address(mut self, address: Ipv4Addr) -> Self {
        self.address = Some(address);
        self
    }

    pub fn with_transit(mut self, transit: bool) -> Self {
        self.transit = transit;
        self
    }
}

/// Whether a role names network gear that forwards transit traffic.
pub fn role_forwards(role: &str) -> bool {
    const GEAR: [&str; 9] = [
        "router", "switch", "firewall", "lan", "wan", "mpls", "cloud", "internet", "core",
    ];
    GEAR.iter().any(|g| role.eq_ignore_ascii_case(g))
}

/// A full-duplex link. Both directions share these parameters but have their own queue,
/// loss state, random streams and counters.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkSpec {
    /// `None` names the link `<a>-<b>`.
    pub name: Option<String>,
    pub a: NodeId,
    pub b: NodeId,
    /// One-way propagation latency: the floor of the delay.
    pub latency: SimDuration,
    pub jitter: Jitter,
    pub loss: LossModel,
    /// `None` is an unlimited rate: no serialisation delay and no queue.
    pub bandwidth: Option<Rate>,
    pub queue: QueueLimit,
    pub queueing: Queueing,
    /// Layer-2 bytes counted per packet on top of the IP datagram.
    pub l2_overhead: u32,
    /// Let jitter reorder packets (a multipath or load-balanced path). Off by default.
    pub reorder: bool,
}

impl LinkSpec {
    /// A link with only a latency: no jitter, no loss, unlimited rate, Ethernet framing.
    pub fn new(a: NodeId, b: NodeId, latency: SimDuration) -> Self {
        LinkSpec {
            name: None,
            a,
            b,
            latency,
            jitter: Jitter::None,
            loss: LossModel::None,
            bandwidth: None,
            queue: QueueLimit::default(),
            queueing: Queueing::Fifo,
            l2_overhead: ETHERNET_OVERHEAD,
            reorder: false,
        }
    }
}

/// What a fault acts on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultTarget {
    Link(LinkId),
    Node(NodeId),
}

/// A failure planned in the topology: the target goes down at `at` and comes back after
/// `duration` (never, when `None`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FaultSpec {
    pub target: FaultTarget,
    pub at: SimTime,
    pub duration: Option<SimDuration>,
}

impl FaultSpec {
    fn end(&self) -> SimTime {
        self.duration.map_or(SimTime::MAX, |d| self.at + d)
    }
}

/// A whole network before it runs: nodes, links, planned faults and background traffic.
#[derive(Clone, Debug, Default)]
pub struct NetworkSpec {
    pub(crate) nodes: Vec<NodeSpec>,
    pub(crate) links: Vec<(String, LinkSpec)>,
    /// Trace and RNG labels of each link's directions (a → b, b → a), all distinct.
    pub(crate) labels: Vec<[String; 2]>,
    pub(crate) faults: Vec<FaultSpec>,
    pub(crate) background: Vec<BackgroundSpec>,
    node_names: HashMap<String, NodeId>,
    link_names: HashMap<String, LinkId>,
    generator_names: HashMap<String, GeneratorId>,
    addresses: HashMap<Ipv4Addr, NodeId>,
    label_set: HashSet<String>,
}

impl NetworkSpec {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node; refuses a bad or duplicate name and an address already in use.
    pub fn add_node(&mut self, node: NodeSpec) -> Result<NodeId, NetError> {
        check_name(&node.name)?;
        if self.node_names.contains_key(&node.name) {
            return Err(NetError::DuplicateNode(node.name));
        }
        if self.nodes.len() >= MAX_ITEMS {
            return Err(NetError::TooMany("nodes"));
        }
        let id = NodeId::from_index(self.nodes.len());
        if let Some(addr) = node.address {
            if let Some(other) = self.addresses.get(&addr) {
                return Err(NetError::AddressInUse {
                    addr,
                    node: self.nodes[other.index()].name.clone(),
                });
            }
            if addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast() {
                return Err(NetError::InvalidValue {
                    what: "address",
                    detail: format!("{addr} cannot be a host address"),
                });
            }
            self.addresses.insert(addr, id);
        }
        self.node_names.insert(node.name.clone(), id);
        self.nodes.push(node);
        Ok(id)
    }

    /// Adds a link between two defined nodes.
    pub fn add_link(&mut self, link: LinkSpec) -> Result<LinkId, NetError> {
        let (a, b) = (self.node(link.a)?, self.node(link.b)?);
        let name = match &link.name {
            Some(n) => {
                check_name(n)?;
                n.clone()
            }
            None => format!("{}-{}", a.name, b.name),
        };
        // Direction labels name RNG streams and trace components, so they must be unique:
        // `link:<from>-<to>` for a link named by its ends, `link:<name>:<from>-<to>` else.
        let prefix = match &link.name {
            Some(n) => format!("link:{n}:"),
            None => "link:".to_string(),
        };
        let labels = [
            format!("{prefix}{}-{}", a.name, b.name),
            format!("{prefix}{}-{}", b.name, a.name),
        ];
        if link.a == link.b {
            return Err(NetError::SelfLoop(name));
        }
        if self.link_names.contains_key(&name) || labels.iter().any(|l| self.label_set.contains(l))
        {
            return Err(NetError::DuplicateLink(name));
        }
        if self.links.len() >= MAX_ITEMS {
            return Err(NetError::TooMany("links"));
        }
        let id = LinkId::from_index(self.links.len());
        self.link_names.insert(name.clone(), id);
        self.label_set.extend(labels.iter().cloned());
        self.labels.push(labels);
        self.links.push((name, link));
        Ok(id)
    }

    /// Adds a planned fault; refuses a zero duration and a fault overlapping another on the
    /// same target.
    pub fn add_fault(&mut self, fault: FaultSpec) -> Result<(), NetError> {
        match fault.target {
            FaultTarget::Link(l) if l.index() >= self.links.len() => {
                return Err(NetError::UnknownLink(format!("#{}", l.index())));
            }
            FaultTarget::Node(n) => {
                self.node(n)?;
            }
            FaultTarget::Link(_) => {}
        }
        if fault.duration == Some(SimDuration::ZERO) {
            return Err(NetError::InvalidValue {
                what: "fault duration",
                detail: "a fault must last more than zero seconds".into(),
            });
        }
        if let Some(other) = self
            .faults
            .iter()
            .find(|f| f.target == fault.target && f.at < fault.end() && fault.at < f.end())
        {
            return Err(NetError::FaultOverlap {
                target: self.target_name(fault.target),
                at: fault.at,
                other_at: other.at,
            });
        }
        self.faults.push(fault);
        Ok(())
    }

    /// Adds a background traffic generator.
    pub fn add_background(&mut self, bg: BackgroundSpec) -> Result<GeneratorId, NetError> {
        check_name(&bg.name)?;
        bg.validate()?;
        if self.generator_names.contains_key(&bg.name) {
            return Err(NetError::DuplicateGenerator(bg.name));
        }
        match bg.path {
            BackgroundPath::Between { from, to } => {
                self.node(from)?;
                self.node(to)?;
                if from == to {
                    return Err(NetError::InvalidValue {
                        what: "background path",
                        detail: format!("`{}` sends to itself", bg.name),
                    });
                }
            }
            BackgroundPath::OnLink { link, from } => {
                let node = self.node(from)?.name.clone();
                let (name, spec) = self
                    .links
                    .get(link.index())
                    .ok_or_else(|| NetError::UnknownLink(format!("#{}", link.index())))?;
                if spec.a != from && spec.b != from {
                    return Err(NetError::NotOnLink {
                        node,
                        link: name.clone(),
                    });
                }
            }
        }
        if self.background.len() >= MAX_ITEMS {
            return Err(NetError::TooMany("background generators"));
        }
        let id = GeneratorId::from_index(self.background.len());
        self.generator_names.insert(bg.name.clone(), id);
        self.background.push(bg);
        Ok(id)
    }

    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.node_names.get(name).copied()
    }

    pub fn link_id(&self, name: &str) -> Option<LinkId> {
        self.link_names.get(name).copied()
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    fn node(&self, id: NodeId) -> Result<&NodeSpec, NetError> {
        self.nodes
            .get(id.index())
            .ok_or_else(|| NetError::UnknownNode(format!("#{}", id.index())))
    }

    fn target_name(&self, target: FaultTarget) -> String {
        match target {
            FaultTarget::Link(l) => format!("link `{}`", self.links[l.index()].0),
            FaultTarget::Node(n) => format!("node `{}`", self.nodes[n.index()].name),
        }
    }

    /// Every node's address: explicit ones as given, the others numbered in file order
    /// within `10.<site>.0.0/16`, sites numbered from 1 in order of first appearance,
    /// skipping `.0`, `.255` and addresses taken explicitly.
    pub(crate) fn address_plan(&self) -> Result<Vec<Ipv4Addr>, NetError> {
        let mut site_numbers: BTreeMap<&str, u8> = BTreeMap::new();
        let mut next_host: Vec<u32> = Vec::new();
        let mut plan = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            if let Some(addr) = node.address {
                plan.push(addr);
                continue;
            }
            let count = site_numbers.len();
            let site = match site_numbers.get(node.site.as_str()) {
                Some(&s) => s,
                None => {
                    let s = u8::try_from(count + 1)
                        .ok()
                        .filter(|&s| s < 255)
                        .ok_or_else(|| {
                            NetError::AddressPlan(format!(
                                "more than 254 sites (at `{}`); give nodes explicit addresses",
                                node.site
                            ))
                        })?;
                    site_numbers.insert(node.site.as_str(), s);
                    next_host.push(1);
                    s
                }
            };
            let host = &mut next_host[usize::from(site) - 1];
            let addr = loop {
                if *host > 0xfffe {
                    return Err(NetError::AddressPlan(format!(
                        "site `{}` has more nodes than 10.{site}.0.0/16 holds",
                        node.site
                    )));
                }
                let [_, _, hi, lo] = host.to_be_bytes();
                *host += 1;
                let candidate = Ipv4Addr::new(10, site, hi, lo);
                if lo != 0 && lo != 255 && !self.addresses.contains_key(&candidate) {
                    break candidate;
                }
            };
            plan.push(addr);
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_nodes() -> (NetworkSpec, NodeId, NodeId) {
        let mut s = NetworkSpec::new();
        let a = s.add_node(NodeSpec::new("a", "router", "hq")).unwrap();
        let b = s.add_node(NodeSpec::new("b", "pbx", "hq")).unwrap();
        (s, a, b)
    }

    #[test]
    fn probability_and_rate_refuse_bad_values() {
        assert!(Probability::new(0.5).is_ok());
        for bad in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            assert!(Probability::new(bad).is_err(), "{bad}");
        }
        assert!(Rate::from_bps(0).is_err());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-9] {
            assert!(Rate::from_mbps(bad).is_err(), "{bad}");
        }
        assert_eq!(Rate::from_mbps(2.048).unwrap().bps(), 2_048_000);
    }

    #[test]
    fn transmission_time_rounds_up() {
        let t1 = Rate::from_kbps(1544.0).unwrap();
        // 1518 bytes on a T1: 12144 bits / 1.544 Mbit/s = 7865.284... µs.
        assert_eq!(t1.transmission_time(1518).as_nanos(), 7_865_285);
        let gig = Rate::from_mbps(1000.0).unwrap();
        assert_eq!(gig.transmission_time(125).as_nanos(), 1000);
    }

    #[test]
    fn gilbert_elliott_mean_loss() {
        let p = |x| Probability::new(x).unwrap();
        let ge = LossModel::GilbertElliott {
            p_good_to_bad: p(0.01),
            p_bad_to_good: p(0.24),
            loss_in_bad: p(1.0),
            loss_in_good: p(0.0),
        };
        assert!((ge.mean_loss() - 0.04).abs() < 1e-12);
    }

    #[test]
    fn duplicates_and_undefined_references_are_refused() {
        let (mut s, a, b) = two_nodes();
        assert_eq!(
            s.add_node(NodeSpec::new("a", "pbx", "x")),
            Err(NetError::DuplicateNode("a".into()))
        );
        assert!(matches!(
            s.add_node(NodeSpec::new("bad name", "pbx", "x")),
            Err(NetError::InvalidName(_))
        ));
        let l = s.add_link(LinkSpec::new(a, b, SimDuration::ZERO)).unwrap();
        assert_eq!(
            s.add_link(LinkSpec::new(a, b, SimDuration::ZERO)),
            Err(NetError::DuplicateLink("a-b".into()))
        );
        assert_eq!(
            s.add_link(LinkSpec::new(b, a, SimDuration::ZERO)),
            Err(NetError::DuplicateLink("b-a".into())),
            "a parallel link named by its ends would share RNG streams"
        );
        let mut named = LinkSpec::new(b, a, SimDuration::ZERO);
        named.name = Some("backup".into());
        s.add_link(named).unwrap();
        assert!(matches!(
            s.add_link(LinkSpec::new(a, a, SimDuration::ZERO)),
            Err(NetError::SelfLoop(_))
        ));
        assert!(matches!(
            s.add_link(LinkSpec::new(a, NodeId(9), SimDuration::ZERO)),
            Err(NetError::UnknownNode(_))
        ));
        let f = |at, d| FaultSpec {
            target: FaultTarget::Link(l),
            at: SimTime::from_secs(at),
            duration: d,
        };
        s.add_fault(f(10, Some(SimDuration::from_secs(5)))).unwrap();
        s.add_fault(f(15, Some(SimDuration::from_secs(5)))).unwrap();
        assert!(matches!(
            s.add_fault(f(12, None)),
            Err(NetError::FaultOverlap { .. })
        ));
        assert!(s.add_fault(f(30, Some(SimDuration::ZERO))).is_err());
    }

    #[test]
    fn address_plan_numbers_sites_and_skips_taken_addresses() {
        let mut s = NetworkSpec::new();
        s.add_node(NodeSpec::new("r1", "router", "hq").with_address(Ipv4Addr::new(10, 1, 0, 2)))
            .unwrap();
        s.add_node(NodeSpec::new("h1", "pbx", "hq")).unwrap();
        s.add_node(NodeSpec::new("h2", "pbx", "branch")).unwrap();
        s.add_node(NodeSpec::new("h3", "pbx", "hq")).unwrap();
        assert_eq!(
            s.address_plan().unwrap(),
            [
                Ipv4Addr::new(10, 1, 0, 2),
                Ipv4Addr::new(10, 1, 0, 1),
                Ipv4Addr::new(10, 2, 0, 1),
                Ipv4Addr::new(10, 1, 0, 3),
            ]
        );
        assert!(matches!(
            s.add_node(NodeSpec::new("dup", "x", "y").with_address(Ipv4Addr::new(10, 1, 0, 2))),
            Err(NetError::AddressInUse { .. })
        ));
    }
}
