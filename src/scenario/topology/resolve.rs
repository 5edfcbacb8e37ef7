//! From file names to ids: cross-references, duplicates, overlapping faults and
//! reachability, each error located at the offending name in the text.

use super::{Background, Fault, JitterKind, Link, Loss, Pattern, Queue, Topology};
use crate::config::{ConfigError, line_col};
use crate::net::{
    BackgroundPath, BackgroundSpec, FaultSpec, FaultTarget, Jitter, LinkId, LinkSpec, LossModel,
    NetError, Network, NetworkSpec, NodeId, NodeSpec, QueueLimit, TrafficPattern,
};
use crate::sim::RngFactory;
use std::collections::HashSet;
use std::path::Path;

/// Converts names to ids and collects located errors.
pub(super) struct Resolver<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<ConfigError>,
    /// Names defined in the file but refused (already reported): references to them are
    /// skipped quietly instead of cascading into "undefined" errors.
    refused: HashSet<String>,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(path: &'a Path, text: &'a str) -> Self {
        Resolver {
            path,
            text,
            errors: Vec::new(),
            refused: HashSet::new(),
        }
    }

    pub(super) fn resolve(mut self, t: &Topology) -> Result<NetworkSpec, Vec<ConfigError>> {
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
    ) -> Option<LinkId> {
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
