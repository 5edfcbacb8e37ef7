//! The experiment file (`Experiment(...)`): its RON schema, and loading it into a resolved
//! [`Experiment`] whose topologies, vendor models and scenario are document trees.
//!
//! ```ron
//! Experiment(
//!     name: "incremental-vs-voip-only",
//!     description: "The same organisation on both deployments, across offered load.",
//!     seed: 20261121,
//!     replications: 3,
//!     deployments: [
//!         (name: "incremental", topology: "../topologies/incremental-behind-pbx.ron",
//!          models: ["avaya-aura-sm-6.3"],
//!          set: [("topology.pbx.model", "avaya-aura-sm-6.3")]),
//!         (name: "voip-only", topology: "../topologies/voip-only.ron"),
//!     ],
//!     scenario: (workload: (load_factor: 1.0), media: Sampled(0.05)),
//!     sweep: (
//!         grid: [("workload.load_factor", [0.5, 1.0, 1.5])],
//!         zip: [[("topology.links[name=wan1].latency_ms", [20, 80]),
//!                ("topology.links[name=wan1].loss", [0.0, 0.02])]],
//!     ),
//!     metrics: ["blocking", "success_rate", "pdd_ms_mean", "mos_mean"],
//!     charts: [Capacity, PddCdf, Mos, Comparison],
//! )
//! ```
//!
//! Parameter paths (see [`doc::path`](super::doc::path)) start at one of three roots:
//! `topology.…` (the deployment's topology), `models[ID].…` (a vendor model the deployment
//! lists in `models`), or a field of `scenario` (`workload.…`). `scenario` may therefore not
//! have fields named `topology` or `models`.
//!
//! Topology and model references are paths relative to the experiment file, or bare names:
//! a bare topology name is read from `../topologies/NAME.ron` next to the experiment when
//! that file exists, else from the embedded copies ([`builtin`](super::builtin)); a bare
//! model id likewise from `../vendor-models/ID.ron`, else the vendor layer's embedded model.

use super::builtin;
use super::doc::{Document, Node, ParamPath};
use crate::config::{self, ConfigError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Most points a sweep may expand to (a guard against a runaway grid).
pub const MAX_POINTS: usize = 1_000_000;

/// A chart the experiment asks for, beyond the three always drawn (`capacity`, `pdd_cdf`,
/// `mos`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ChartSpec {
    /// Offered load against blocking and success, with CI bands and Erlang B (always drawn).
    Capacity,
    /// Post-dial delay CDF per deployment (always drawn).
    PddCdf,
    /// MOS by deployment (always drawn).
    Mos,
    /// Deployments side by side over the headline metrics.
    Comparison,
    /// A metric (MOS by default) over two swept parameters, one heatmap per deployment.
    MosHeatmap {
        x: String,
        y: String,
        #[serde(default = "default_mos_metric")]
        metric: String,
    },
    /// A metric (call success by default) for each value of a swept parameter (a vendor
    /// model id), one bar series per deployment.
    VendorBars {
        param: String,
        #[serde(default = "default_vendor_metric")]
        metric: String,
    },
}

fn default_mos_metric() -> String {
    "mos_mean".into()
}

fn default_vendor_metric() -> String {
    "success_rate".into()
}

/// One deployment, with its documents loaded and its `set` overrides applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployment {
    pub name: String,
    /// Where the topology came from (a path, or `builtin:NAME`).
    pub topology_origin: String,
    pub topology: Document,
    /// The vendor models listed in `models`, by the name used there (id or file stem).
    pub models: BTreeMap<String, Document>,
    /// The experiment's `scenario` with this deployment's `set` overrides applied.
    pub scenario: Document,
}

/// A swept parameter and its values, in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    pub path: ParamPath,
    pub values: Vec<Node>,
}

/// A loaded, validated experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub replications: u32,
    pub deployments: Vec<Deployment>,
    /// The `scenario` section (with the experiment file's extensions), before any
    /// deployment's overrides.
    pub scenario: Document,
    /// Swept parameters in column order: the grid's, then each zip group's.
    pub parameters: Vec<Parameter>,
    /// The sweep's dimensions, outermost first: each lists the parameters (indices into
    /// `parameters`) that vary together along it.
    pub dimensions: Vec<Vec<usize>>,
    pub metrics: Vec<String>,
    pub charts: Vec<ChartSpec>,
    pub gos: f64,
    pub capacity_metric: String,
    pub key_metric: String,
    /// The swept parameter that sets the offered load, if any.
    pub load_parameter: Option<String>,
    pub max_replications: u32,
    /// The experiment file (or `builtin:NAME`).
    pub source: PathBuf,
    /// The directory relative references were resolved from (`None` when embedded).
    pub base_dir: Option<PathBuf>,
}

/// The documents one run sees: a deployment's, with the point's parameters applied.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioDoc {
    pub topology_origin: String,
    pub topology: Document,
    pub scenario: Document,
    pub models: BTreeMap<String, Document>,
    /// Where relative references inside the documents resolve from (`None` when embedded).
    pub base_dir: Option<PathBuf>,
}

impl ScenarioDoc {
    /// Sets the value at a parameter path (see the module docs for the three roots).
    pub fn set(&mut self, path: &ParamPath, value: Node) -> Result<(), super::PathError> {
        use super::doc::path::Segment;
        match path.segments() {
            [Segment::Field(root)] if root == "topology" || root == "models" => {
                Err(path.error(format!("name a field inside `{root}`")))
            }
            [Segment::Field(root), ..] if root == "topology" => {
                path.set(&mut self.topology.root, 1, value)
            }
            [Segment::Field(root), Segment::Field(id), ..]
            | [
                Segment::Field(root),
                Segment::Match {
                    field: None,
                    value: id,
                },
                ..,
            ] if root == "models" => {
                let known = self.models.keys().cloned().collect::<Vec<_>>().join(", ");
                let doc = self.models.get_mut(id).ok_or_else(|| {
                    path.error(format!(
                        "no vendor model `{id}` in this deployment's `models` (listed: {})",
                        if known.is_empty() { "none" } else { &known }
                    ))
                })?;
                if path.segments().len() == 2 {
                    return Err(path.error("name a field inside the model"));
                }
                path.set(&mut doc.root, 2, value)
            }
            [Segment::Field(root), ..] if root == "models" => {
                Err(path.error("expected `models[ID].field`"))
            }
            _ => path.set(&mut self.scenario.root, 0, value),
        }
    }
}

impl Experiment {
    /// Loads an experiment file; references resolve from its directory.
    pub fn load(path: &Path) -> Result<Experiment, ConfigError> {
        let text = config::read_text(path)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Experiment::from_text(path, &text, Some(&dir))
    }

    /// Loads an embedded experiment (its topologies must be embedded too).
    pub fn builtin(name: &str) -> Result<Experiment, ConfigError> {
        let source = PathBuf::from(format!("builtin:{name}"));
        let text = builtin::experiment(name).ok_or_else(|| {
            ConfigError::unlocated(
                &source,
                format!(
                    "no embedded experiment `{name}` (embedded: {})",
                    builtin::names(builtin::experiments())
                ),
            )
        })?;
        Experiment::from_text(&source, text, None)
    }

    /// Parses and validates experiment text. `base_dir` is where relative references
    /// resolve; `None` resolves every reference from the embedded files.
    pub fn from_text(
        path: &Path,
        text: &str,
        base_dir: Option<&Path>,
    ) -> Result<Experiment, ConfigError> {
        super::load::from_text(path, text, base_dir)
    }

    /// How many points the sweep expands to.
    pub fn point_count(&self) -> usize {
        let per_deployment: usize = self
            .dimensions
            .iter()
            .map(|d| self.parameters[d[0]].values.len())
            .product();
        per_deployment * self.deployments.len()
    }

    /// The documents of a deployment before any swept parameter is applied.
    pub fn base_scenario(&self, deployment: usize) -> ScenarioDoc {
        let d = &self.deployments[deployment];
        ScenarioDoc {
            topology_origin: d.topology_origin.clone(),
            topology: d.topology.clone(),
            scenario: d.scenario.clone(),
            models: d.models.clone(),
            base_dir: self.base_dir.clone(),
        }
    }
}
