//! Building a world from a topology with a deployment section.

use super::deployment::{Deployment, DeploymentError};
use super::topology::Topology;
use crate::config::ConfigError;
use crate::elements::ElementId;
use crate::elements::build::{BuildEnv, Directory, Placement, TdmLinkEnds};
use crate::elements::host::{TdmLinkSpec, World};
use crate::elements::spec::ElementKindSpec;
use crate::net::Network;
use crate::sim::{RngFactory, SimDuration};
use crate::vendor::VendorModel;
use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::path::Path;

/// A world ready to run, with what the layers above need to drive it.
pub struct BuiltWorld {
    pub world: World,
    pub directory: Directory,
    /// Element ids by name.
    pub ids: BTreeMap<String, ElementId>,
    pub deployment: Deployment,
}

/// Every vendor model built into the binary, by id.
pub fn builtin_model_map() -> BTreeMap<String, VendorModel> {
    crate::vendor::builtin_models()
        .iter()
        .map(|m| (m.id.clone(), m.clone()))
        .collect()
}

fn located(path: &Path, text: &str, e: DeploymentError) -> ConfigError {
    ConfigError::semantic(
        path,
        text,
        e.value.as_deref(),
        e.field.as_deref(),
        e.message,
    )
}

/// Builds the network and every element of `topology`'s deployment. `text` is the
/// topology file's text (after any parameter overrides), used to locate errors.
pub fn build_world(
    path: &Path,
    text: &str,
    topology: &Topology,
    models: &BTreeMap<String, VendorModel>,
    rngs: &RngFactory,
) -> Result<BuiltWorld, Vec<ConfigError>> {
    let spec = topology.to_spec(path, text)?;
    let Some(deployment) = topology.deployment.clone() else {
        return Err(vec![ConfigError::unlocated(
            path,
            "the topology has no `deployment` section: it describes a network only and cannot run calls",
        )]);
    };
    let mut errors: Vec<ConfigError> = deployment
        .check_names()
        .into_iter()
        .map(|e| located(path, text, e))
        .collect();
    let numbers = deployment.number_plan().unwrap_or_else(|es| {
        errors.extend(es.into_iter().map(|e| located(path, text, e)));
        Default::default()
    });
    let net =
        Network::new(spec, rngs).map_err(|e| vec![ConfigError::unlocated(path, e.to_string())])?;

    // Place every element on its node before building any.
    let mut directory = Directory {
        numbers,
        ..Directory::default()
    };
    let mut ids = BTreeMap::new();
    let mut nodes = Vec::new();
    for (i, e) in deployment.elements.iter().enumerate() {
        let Some(node) = net.node_id(e.node()) else {
            errors.push(ConfigError::semantic(
                path,
                text,
                Some(e.node()),
                None,
                format!(
                    "element `{}` runs on node `{}`, which the topology does not define",
                    e.name(),
                    e.node()
                ),
            ));
            continue;
        };
        let ip = net.address(node);
        let id = ElementId(i as u32);
        ids.insert(e.name().to_string(), id);
        nodes.push((id, node));
        directory.elements.insert(
            e.name().to_string(),
            Placement {
                id,
                node,
                ip,
                sip: SocketAddrV4::new(ip, e.sip_port()),
                kind: e.kind(),
                site: net.node_site(node).to_string(),
            },
        );
    }
    for (fqdn, element) in &deployment.hosts {
        if let Some(p) = directory.elements.get(element) {
            directory.hosts.insert(fqdn.clone(), p.ip);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut world = World::new(net, *rngs);
    for link in &deployment.tdm {
        let (a, b) = (ids[&link.a], ids[&link.b]);
        let (a_port, b_port) = world.tdm.add(TdmLinkSpec {
            name: link.name.clone(),
            a,
            b,
            kind: link.kind,
            spans: link.spans,
            d_channel_delay: SimDuration::from_millis_f64(link.d_channel_ms),
        });
        directory.tdm.insert(
            link.name.clone(),
            TdmLinkEnds {
                a: link.a.clone(),
                a_port,
                b: link.b.clone(),
                b_port,
            },
        );
    }
    for (fqdn, ip) in &directory.hosts {
        world.add_host(fqdn, *ip);
    }

    for (e, (id, node)) in deployment.elements.iter().zip(nodes) {
        let env = BuildEnv {
            name: e.name(),
            directory: &directory,
            rngs,
            models,
        };
        match e.build(&env) {
            Ok(element) => {
                let sip = directory.elements[e.name()].sip;
                let added = world.add(element, node, &[sip]);
                debug_assert_eq!(added, id);
                for port in e.extra_sip_ports() {
                    world.listen(id, SocketAddrV4::new(*sip.ip(), port));
                }
            }
            Err(b) => errors.push(ConfigError::semantic(
                path,
                text,
                Some(e.name()),
                Some(&b.field),
                b.to_string(),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(BuiltWorld {
        world,
        directory,
        ids,
        deployment,
    })
}
