//! Loading an experiment file: the RON schema as written, reference resolution (topology
//! and vendor model files, embedded copies), and validation with located errors.

use super::builtin;
use super::doc::{Document, Node, ParamPath, parse_node};
use super::spec::{ChartSpec, Deployment, Experiment, MAX_POINTS, Parameter, ScenarioDoc};
use crate::config::{self, ConfigError, FileKind};
use ron::value::RawValue;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn default_replications() -> u32 {
    1
}

fn default_gos() -> f64 {
    crate::metrics::DEFAULT_GOS
}

fn default_capacity_metric() -> String {
    "blocking".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Experiment")]
struct ExperimentFile<'a> {
    name: String,
    #[serde(default)]
    description: String,
    seed: u64,
    #[serde(default = "default_replications")]
    replications: u32,
    #[serde(borrow)]
    deployments: Vec<DeploymentFile<'a>>,
    #[serde(borrow)]
    scenario: &'a RawValue,
    #[serde(borrow, default)]
    sweep: SweepFile<'a>,
    #[serde(default)]
    metrics: Vec<String>,
    #[serde(default)]
    charts: Vec<ChartSpec>,
    /// Grade of service for capacity (fraction).
    #[serde(default = "default_gos")]
    gos: f64,
    /// The probability metric whose crossing of `gos` defines capacity.
    #[serde(default = "default_capacity_metric")]
    capacity_metric: String,
    /// The metric `--target-ci` watches (default: the first of `metrics`, else `blocking`).
    #[serde(default)]
    key_metric: String,
    /// The swept parameter that sets the offered load (for capacity curves); by default
    /// the last numeric parameter whose path mentions `load` or `erlang`.
    #[serde(default)]
    load_parameter: String,
    /// The cap on replications under `--target-ci` (default: 10 × `replications`).
    #[serde(default)]
    max_replications: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeploymentFile<'a> {
    name: String,
    topology: String,
    #[serde(default)]
    models: Vec<String>,
    #[serde(borrow, default)]
    set: Vec<(String, &'a RawValue)>,
}

type ParamList<'a> = Vec<(String, Vec<&'a RawValue>)>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SweepFile<'a> {
    #[serde(borrow, default)]
    grid: ParamList<'a>,
    #[serde(borrow, default)]
    zip: Vec<ParamList<'a>>,
}

/// Parses and validates experiment text (see [`Experiment::from_text`]).
pub(super) fn from_text(
    path: &Path,
    text: &str,
    base_dir: Option<&Path>,
) -> Result<Experiment, ConfigError> {
    let kind = config::detect_kind(path, text)?;
    if kind != FileKind::Experiment {
        return Err(ConfigError::at(
            path,
            1,
            1,
            format!(
                "expected an `Experiment(...)` file, found `{}(...)`",
                kind.struct_name()
            ),
        ));
    }
    let file: ExperimentFile = ron::Options::default().from_str(text).map_err(|e| {
        ConfigError::at(
            path,
            e.span.start.line,
            e.span.start.col,
            e.code.to_string(),
        )
    })?;
    Loader {
        path,
        text,
        base_dir,
    }
    .resolve(file)
}

struct Loader<'t> {
    path: &'t Path,
    text: &'t str,
    base_dir: Option<&'t Path>,
}

impl Loader<'_> {
    fn semantic(&self, value: Option<&str>, field: Option<&str>, msg: String) -> ConfigError {
        ConfigError::semantic(self.path, self.text, value, field, msg)
    }

    /// Parses a raw value of the experiment file into a node, located in the file.
    fn node(&self, raw: &RawValue) -> Result<Node, ConfigError> {
        let s = raw.get_ron();
        parse_node(s).map_err(|e| e.locate(self.path, self.text, self.offset_of(s)))
    }

    /// Byte offset of a slice of the experiment text (0 if it is not one).
    fn offset_of(&self, s: &str) -> usize {
        let start = self.text.as_ptr() as usize;
        let at = s.as_ptr() as usize;
        if at >= start && at + s.len() <= start + self.text.len() {
            at - start
        } else {
            0
        }
    }

    fn resolve(&self, f: ExperimentFile) -> Result<Experiment, ConfigError> {
        if f.name.trim().is_empty() {
            return Err(self.semantic(None, Some("name"), "the experiment needs a name".into()));
        }
        if f.replications == 0 {
            return Err(self.semantic(
                None,
                Some("replications"),
                "replications must be at least 1".into(),
            ));
        }
        if !(f.gos > 0.0 && f.gos < 1.0) {
            return Err(self.semantic(
                None,
                Some("gos"),
                format!(
                    "gos {} is not a probability strictly between 0 and 1",
                    f.gos
                ),
            ));
        }
        let max_replications = match f.max_replications {
            0 => f.replications.saturating_mul(10),
            m if m < f.replications => {
                return Err(self.semantic(
                    None,
                    Some("max_replications"),
                    format!(
                        "max_replications {m} is below replications {}",
                        f.replications
                    ),
                ));
            }
            m => m,
        };

        // The scenario section, with the file's extensions.
        let scenario_root = self.node(f.scenario)?;
        let extensions = Document::parse(self.path, self.text)
            .map(|d| d.extensions)
            .unwrap_or_default();
        match &scenario_root {
            Node::Struct { fields, .. } => {
                if let Some((reserved, _)) = fields
                    .iter()
                    .find(|(n, _)| n == "topology" || n == "models")
                {
                    return Err(self.semantic(
                        None,
                        Some("scenario"),
                        format!(
                            "`scenario` may not have a field named `{reserved}`: parameter paths \
                             starting with `{reserved}` address the deployment's documents"
                        ),
                    ));
                }
            }
            Node::Unit => {}
            other => {
                return Err(self.semantic(
                    None,
                    Some("scenario"),
                    format!(
                        "`scenario` must be a struct `(...)`, found a {}",
                        other.kind()
                    ),
                ));
            }
        }
        let scenario = Document {
            extensions,
            root: scenario_root,
        };

        let deployments = self.deployments(&f, &scenario)?;
        let (parameters, dimensions) = self.sweep(&f.sweep)?;
        let exp = Experiment {
            name: f.name.clone(),
            description: f.description.clone(),
            seed: f.seed,
            replications: f.replications,
            deployments,
            scenario,
            parameters,
            dimensions,
            key_metric: if !f.key_metric.is_empty() {
                f.key_metric.clone()
            } else {
                f.metrics
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "blocking".into())
            },
            metrics: f.metrics.clone(),
            charts: f.charts.clone(),
            gos: f.gos,
            capacity_metric: f.capacity_metric.clone(),
            load_parameter: None,
            max_replications,
            source: self.path.to_path_buf(),
            base_dir: self.base_dir.map(Path::to_path_buf),
        };
        let mut exp = exp;
        exp.load_parameter = self.load_parameter(&f.load_parameter, &exp.parameters)?;
        self.check_metrics_and_charts(&exp)?;
        if exp.point_count() > MAX_POINTS {
            return Err(self.semantic(
                None,
                Some("sweep"),
                format!(
                    "the sweep expands to {} points; at most {MAX_POINTS} are allowed",
                    exp.point_count()
                ),
            ));
        }
        Ok(exp)
    }

    fn deployments(
        &self,
        f: &ExperimentFile,
        scenario: &Document,
    ) -> Result<Vec<Deployment>, ConfigError> {
        if f.deployments.is_empty() {
            return Err(self.semantic(
                None,
                Some("deployments"),
                "at least one deployment is needed".into(),
            ));
        }
        let mut out: Vec<Deployment> = Vec::new();
        for d in &f.deployments {
            if d.name.trim().is_empty() {
                return Err(self.semantic(
                    None,
                    Some("deployments"),
                    "a deployment needs a name".into(),
                ));
            }
            if out.iter().any(|o| o.name == d.name) {
                return Err(self.semantic(
                    Some(&d.name),
                    None,
                    format!("deployment `{}` is defined twice", d.name),
                ));
            }
            let (origin, text) = self
                .topology_text(&d.topology)
                .map_err(|m| self.semantic(Some(&d.topology), None, m))?;
            let origin_path = PathBuf::from(&origin);
            let kind = config::detect_kind(&origin_path, &text)?;
            if kind != FileKind::Topology {
                return Err(self.semantic(
                    Some(&d.topology),
                    None,
                    format!(
                        "`{}` is a `{}(...)` file, not a `Topology(...)`",
                        d.topology,
                        kind.struct_name()
                    ),
                ));
            }
            let topology = Document::parse(&origin_path, &text)?;
            let mut models = BTreeMap::new();
            for m in &d.models {
                let (key, origin, text) = self
                    .model_text(m)
                    .map_err(|msg| self.semantic(Some(m), None, msg))?;
                let doc = Document::parse(Path::new(&origin), &text)?;
                if models.insert(key.clone(), doc).is_some() {
                    return Err(self.semantic(
                        Some(m),
                        None,
                        format!("vendor model `{key}` is listed twice"),
                    ));
                }
            }
            let mut docs = ScenarioDoc {
                topology_origin: origin.clone(),
                topology,
                scenario: scenario.clone(),
                models,
                base_dir: None,
            };
            for (path_text, raw) in &d.set {
                let path = ParamPath::parse(path_text)
                    .map_err(|e| self.semantic(Some(path_text), None, e.to_string()))?;
                let value = self.node(raw)?;
                docs.set(&path, value).map_err(|e| {
                    self.semantic(
                        Some(path_text),
                        None,
                        format!("deployment `{}`: {e}", d.name),
                    )
                })?;
            }
            out.push(Deployment {
                name: d.name.clone(),
                topology_origin: origin,
                topology: docs.topology,
                models: docs.models,
                scenario: docs.scenario,
            });
        }
        Ok(out)
    }

    /// `(origin, text)` of a topology reference.
    fn topology_text(&self, reference: &str) -> Result<(String, String), String> {
        let path_like = reference.ends_with(".ron") || reference.contains(['/', '\\']);
        let stem = Path::new(reference)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(reference)
            .to_string();
        let embedded = |stem: &str| {
            builtin::topology(stem)
                .map(|t| (format!("builtin:{stem}"), t.to_string()))
                .ok_or_else(|| {
                    format!(
                        "no embedded topology `{stem}` (embedded: {})",
                        builtin::names(builtin::topologies())
                    )
                })
        };
        match self.base_dir {
            Some(dir) if path_like => {
                let file = dir.join(reference);
                std::fs::read_to_string(&file)
                    .map(|t| (file.display().to_string(), t))
                    .map_err(|e| format!("topology `{reference}`: {}: {e}", file.display()))
            }
            Some(dir) => {
                let file = dir.join("../topologies").join(format!("{reference}.ron"));
                match std::fs::read_to_string(&file) {
                    Ok(t) => Ok((file.display().to_string(), t)),
                    Err(_) => embedded(&stem),
                }
            }
            None => embedded(&stem),
        }
    }

    /// `(key, origin, text)` of a vendor model reference.
    fn model_text(&self, reference: &str) -> Result<(String, String, String), String> {
        let path_like = reference.ends_with(".ron") || reference.contains(['/', '\\']);
        let stem = Path::new(reference)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(reference)
            .to_string();
        let embedded = |id: &str| {
            crate::vendor::builtin_sources()
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, t)| (id.to_string(), format!("builtin:{id}"), t.to_string()))
                .ok_or_else(|| format!("no vendor model `{id}` (not a file, not embedded)"))
        };
        match self.base_dir {
            Some(dir) if path_like => {
                let file = dir.join(reference);
                std::fs::read_to_string(&file)
                    .map(|t| (stem.clone(), file.display().to_string(), t))
                    .map_err(|e| format!("vendor model `{reference}`: {}: {e}", file.display()))
            }
            Some(dir) => {
                let file = dir
                    .join("../vendor-models")
                    .join(format!("{reference}.ron"));
                match std::fs::read_to_string(&file) {
                    Ok(t) => Ok((stem, file.display().to_string(), t)),
                    Err(_) => embedded(reference),
                }
            }
            None => embedded(&stem),
        }
    }

    fn param_list(
        &self,
        list: &ParamList,
        seen: &mut Vec<String>,
    ) -> Result<Vec<Parameter>, ConfigError> {
        let mut out = Vec::new();
        for (path_text, values) in list {
            let path = ParamPath::parse(path_text)
                .map_err(|e| self.semantic(Some(path_text), None, e.to_string()))?;
            if seen.contains(path_text) {
                return Err(self.semantic(
                    Some(path_text),
                    None,
                    format!("parameter `{path_text}` is swept twice"),
                ));
            }
            if values.is_empty() {
                return Err(self.semantic(
                    Some(path_text),
                    None,
                    format!("parameter `{path_text}` has no values"),
                ));
            }
            let values = values
                .iter()
                .map(|raw| self.node(raw))
                .collect::<Result<Vec<_>, _>>()?;
            for (i, v) in values.iter().enumerate() {
                if values[..i].iter().any(|w| w.canonical() == v.canonical()) {
                    return Err(self.semantic(
                        Some(path_text),
                        None,
                        format!(
                            "parameter `{path_text}` lists the value {} twice",
                            v.canonical()
                        ),
                    ));
                }
            }
            seen.push(path_text.clone());
            out.push(Parameter { path, values });
        }
        Ok(out)
    }

    fn sweep(&self, s: &SweepFile) -> Result<(Vec<Parameter>, Vec<Vec<usize>>), ConfigError> {
        let mut seen = Vec::new();
        let mut parameters = self.param_list(&s.grid, &mut seen)?;
        let mut dimensions: Vec<Vec<usize>> = (0..parameters.len()).map(|i| vec![i]).collect();
        for group in &s.zip {
            let params = self.param_list(group, &mut seen)?;
            let Some(first) = params.first() else {
                return Err(self.semantic(None, Some("zip"), "an empty zip group".into()));
            };
            let len = first.values.len();
            if let Some(bad) = params.iter().find(|p| p.values.len() != len) {
                return Err(self.semantic(
                    Some(first.path.as_str()),
                    None,
                    format!(
                        "zipped parameters vary together and need as many values each: \
                         `{}` has {len}, `{}` has {}",
                        first.path,
                        bad.path,
                        bad.values.len()
                    ),
                ));
            }
            let start = parameters.len();
            dimensions.push((start..start + params.len()).collect());
            parameters.extend(params);
        }
        Ok((parameters, dimensions))
    }

    fn load_parameter(
        &self,
        given: &str,
        parameters: &[Parameter],
    ) -> Result<Option<String>, ConfigError> {
        if !given.is_empty() {
            return if parameters.iter().any(|p| p.path.as_str() == given) {
                Ok(Some(given.to_string()))
            } else {
                Err(self.semantic(
                    Some(given),
                    Some("load_parameter"),
                    format!("load_parameter `{given}` is not a swept parameter"),
                ))
            };
        }
        let numeric: Vec<&Parameter> = parameters
            .iter()
            .filter(|p| p.values.iter().all(|v| v.as_f64().is_some()))
            .collect();
        let loadish = |p: &Parameter| {
            let s = p.path.as_str().to_ascii_lowercase();
            s.contains("load") || s.contains("erlang")
        };
        Ok(numeric
            .iter()
            .rev()
            .find(|p| loadish(p))
            .map(|p| p.path.as_str().to_string()))
    }

    fn check_metrics_and_charts(&self, exp: &Experiment) -> Result<(), ConfigError> {
        for (i, m) in exp.metrics.iter().enumerate() {
            if m.trim().is_empty() || exp.metrics[..i].contains(m) {
                return Err(self.semantic(
                    Some(m),
                    Some("metrics"),
                    format!("metric `{m}` is empty or listed twice"),
                ));
            }
        }
        let swept = |p: &str| exp.parameters.iter().any(|q| q.path.as_str() == p);
        for chart in &exp.charts {
            let needs: Vec<&String> = match chart {
                ChartSpec::MosHeatmap { x, y, .. } => vec![x, y],
                ChartSpec::VendorBars { param, .. } => vec![param],
                _ => Vec::new(),
            };
            for p in needs {
                if !swept(p) {
                    return Err(self.semantic(
                        Some(p),
                        Some("charts"),
                        format!("chart axis `{p}` is not a swept parameter"),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPO: &str = "Topology(name: \"t\", channels: 10, links: [(name: \"wan1\", loss: 0.0)])";

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = d.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    }

    fn load(exp: &str) -> Result<Experiment, ConfigError> {
        let d = dir_with(&[("topologies/a.ron", TOPO), ("experiments/e.ron", exp)]);
        Experiment::load(&d.path().join("experiments/e.ron"))
    }

    const GOOD: &str = r#"Experiment(
    name: "e",
    seed: 7,
    replications: 2,
    deployments: [
        (name: "x", topology: "../topologies/a.ron", set: [("topology.channels", 20)]),
        (name: "y", topology: "a", models: ["avaya-aura-sm-6.3"]),
    ],
    scenario: (workload: (load: OfferedErlangs(5.0), load_factor: 1.0)),
    sweep: (
        grid: [("workload.load_factor", [0.5, 1.0, 1.5])],
        zip: [[("topology.links[name=wan1].loss", [0.0, 0.01]), ("topology.channels", [5, 6])]],
    ),
    metrics: ["blocking"],
    charts: [Capacity, MosHeatmap(x: "workload.load_factor", y: "topology.channels")],
)"#;

    #[test]
    fn loads_resolves_and_counts() {
        let e = load(GOOD).unwrap();
        assert_eq!(e.point_count(), 2 * 3 * 2);
        assert_eq!(e.dimensions, vec![vec![0], vec![1, 2]]);
        assert_eq!(e.key_metric, "blocking");
        assert_eq!(e.load_parameter.as_deref(), Some("workload.load_factor"));
        assert_eq!(e.max_replications, 20);
        let x = &e.deployments[0];
        let mut t = x.topology.root.clone();
        assert_eq!(
            ParamPath::parse("channels")
                .unwrap()
                .get(&mut t, 0)
                .unwrap()
                .canonical(),
            "20"
        );
        assert!(e.deployments[1].models.contains_key("avaya-aura-sm-6.3"));
        let mut s = e.base_scenario(1);
        s.set(
            &ParamPath::parse("models[avaya-aura-sm-6.3].id").unwrap(),
            Node::String("x".into()),
        )
        .unwrap();
        let err = s
            .set(&ParamPath::parse("models[nope].id").unwrap(), Node::Unit)
            .unwrap_err();
        assert!(err.message.contains("listed: avaya-aura-sm-6.3"), "{err}");
        let err = s
            .set(&ParamPath::parse("workload.nope").unwrap(), Node::Unit)
            .unwrap_err();
        assert!(err.message.contains("no field `nope`"), "{err}");
    }

    #[test]
    fn errors_are_located() {
        let cases = [
            (GOOD.replace("seed: 7", "seed: 7, colour: 1"), 3, "colour"),
            (
                GOOD.replace("[0.0, 0.01]", "[0.0]"),
                12,
                "need as many values",
            ),
            (
                GOOD.replace("\"a\", models", "\"zzz\", models"),
                7,
                "no embedded topology",
            ),
            (
                GOOD.replace("topology.channels\", 20", "topology.chan\", 20"),
                6,
                "no field `chan`",
            ),
            (
                GOOD.replace("[0.5, 1.0, 1.5]", "[0.5, 1.0, 0.50]"),
                11,
                "twice",
            ),
            (
                GOOD.replace("[0.5, 1.0, 1.5]", "[0.5, (1.0]"),
                11,
                "xpected",
            ),
            (
                GOOD.replace("replications: 2", "replications: 0"),
                4,
                "at least 1",
            ),
            (
                GOOD.replace("y: \"topology.channels\"", "y: \"q\""),
                15,
                "not a swept",
            ),
            (
                GOOD.replace("scenario: (", "scenario: (models: 1, "),
                9,
                "may not have",
            ),
        ];
        for (text, line, needle) in cases {
            let err = load(&text).unwrap_err();
            assert!(err.to_string().contains(needle), "{needle}: {err}");
            assert_eq!(err.line, line, "{needle}: {err}");
        }
    }
}
