//! Building elements from their specs: the directory of a deployment.
//!
//! The scenario layer places every element on a node and gives it its SIP address before
//! any element is built, then builds each from its spec with a [`BuildEnv`]: names of
//! peers resolve to addresses and ids here, so elements never hold names at run time.

use super::numbering::NumberPlan;
use super::{ElementId, TdmPort};
use crate::net::NodeId;
use crate::sim::{RngFactory, SimRng};
use crate::vendor::VendorModel;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};

/// Why an element could not be built. `field` is the spec field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("element `{element}`: {field}: {message}")]
pub struct BuildError {
    pub element: String,
    pub field: String,
    pub message: String,
}

impl BuildError {
    pub fn new(element: &str, field: &str, message: impl Into<String>) -> Self {
        BuildError {
            element: element.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Where an element lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub id: ElementId,
    pub node: NodeId,
    /// The node's address.
    pub ip: Ipv4Addr,
    /// The element's main SIP address (its listening port on the node's address).
    pub sip: SocketAddrV4,
    /// The element kind, e.g. `front-end`, `mediation`, `pbx`.
    pub kind: &'static str,
    /// The site of its node.
    pub site: String,
}

/// A TDM link as its two ends see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TdmLinkEnds {
    pub a: String,
    pub a_port: TdmPort,
    pub b: String,
    pub b_port: TdmPort,
}

/// Every element's placement, TDM link and number range of a deployment.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    pub elements: BTreeMap<String, Placement>,
    pub tdm: BTreeMap<String, TdmLinkEnds>,
    pub numbers: NumberPlan,
    /// DNS names elements may use (FQDNs of pools, gateways).
    pub hosts: BTreeMap<String, Ipv4Addr>,
}

/// What an element's constructor gets.
pub struct BuildEnv<'a> {
    /// The element being built.
    pub name: &'a str,
    pub directory: &'a Directory,
    /// The run's random streams (an element names its streams after itself).
    pub rngs: &'a RngFactory,
    /// Vendor models by id (built-in and loaded).
    pub models: &'a BTreeMap<String, VendorModel>,
}

impl BuildEnv<'_> {
    /// This element's placement.
    pub fn me(&self) -> Result<&Placement, BuildError> {
        self.directory
            .elements
            .get(self.name)
            .ok_or_else(|| BuildError::new(self.name, "name", "the element has no placement"))
    }

    /// A peer element by name, which must be of one of `kinds` (empty: any).
    pub fn peer(&self, field: &str, name: &str, kinds: &[&str]) -> Result<&Placement, BuildError> {
        let p = self.directory.elements.get(name).ok_or_else(|| {
            BuildError::new(self.name, field, format!("no element named `{name}`"))
        })?;
        if !kinds.is_empty() && !kinds.contains(&p.kind) {
            return Err(BuildError::new(
                self.name,
                field,
                format!("`{name}` is a {}, expected {}", p.kind, kinds.join(" or ")),
            ));
        }
        Ok(p)
    }

    /// This element's end of a TDM link by the link's name.
    pub fn tdm_port(&self, field: &str, link: &str) -> Result<TdmPort, BuildError> {
        let ends = self.directory.tdm.get(link).ok_or_else(|| {
            BuildError::new(self.name, field, format!("no TDM link named `{link}`"))
        })?;
        if ends.a == self.name {
            Ok(ends.a_port)
        } else if ends.b == self.name {
            Ok(ends.b_port)
        } else {
            Err(BuildError::new(
                self.name,
                field,
                format!("TDM link `{link}` does not end at this element"),
            ))
        }
    }

    /// Every TDM port of this element, with the link name and the far element's name.
    pub fn my_tdm_ports(&self) -> Vec<(String, TdmPort, String)> {
        self.directory
            .tdm
            .iter()
            .filter_map(|(name, e)| {
                if e.a == self.name {
                    Some((name.clone(), e.a_port, e.b.clone()))
                } else if e.b == self.name {
                    Some((name.clone(), e.b_port, e.a.clone()))
                } else {
                    None
                }
            })
            .collect()
    }

    /// A vendor model by id.
    pub fn model(&self, field: &str, id: &str) -> Result<&VendorModel, BuildError> {
        self.models
            .get(id)
            .ok_or_else(|| BuildError::new(self.name, field, format!("no vendor model `{id}`")))
    }

    /// A named random stream of this element.
    pub fn rng(&self, purpose: &str) -> SimRng {
        self.rngs.stream(self.name, purpose)
    }
}
