//! Experiment files and the contract with the scenario layer: what a `PointRunner` receives,
//! how documents survive the trip through the document tree, validation with located
//! errors, the embedded registry, and the shape of `summary.json`.

mod experiment_support;

use experiment_support::*;
use std::path::Path;
use std::sync::Mutex;
use voicetwin::experiment::{
    self, Document, Experiment, Plan, PointRunner, Progress, RunOptions, RunUnit, Shard,
    UnitResult, builtin, unit_seed,
};
use voicetwin::metrics::cdr::CallRecord;

/// What the recorder saw of a unit: point, replication, seed, deployment, parameters.
type Seen = (u32, u32, u64, String, Vec<(String, String)>);

/// Records what it is given, and reports a few applied values as `extra`.
struct Recorder {
    seen: Mutex<Vec<Seen>>,
}

impl PointRunner for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn run(
        &self,
        unit: &RunUnit,
        _calls: &mut dyn FnMut(CallRecord),
    ) -> Result<UnitResult, String> {
        let doc = &unit.scenario;
        let mut result = UnitResult::default();
        let topo = doc.topology.to_ron(false);
        result.extra.insert("topology".into(), topo);
        let model = doc
            .models
            .get("avaya-aura-sm-6.3")
            .map(|m| m.to_ron(false))
            .unwrap_or_default();
        result.extra.insert(
            "model_refer".into(),
            if model.contains("refer: Yes") {
                "Yes"
            } else {
                "other"
            }
            .into(),
        );
        result
            .extra
            .insert("scenario".into(), doc.scenario.to_ron(false));
        self.seen.lock().unwrap().push((
            unit.point,
            unit.replication,
            unit.seed,
            unit.deployment.clone(),
            unit.params
                .iter()
                .map(|(p, v)| (p.clone(), v.canonical()))
                .collect(),
        ));
        Ok(result)
    }
}

#[test]
fn the_runner_receives_documents_with_the_point_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let text = r#"Experiment(
    name: "contract",
    seed: 99,
    replications: 2,
    deployments: [
        (name: "small", topology: "../topologies/small.ron",
         set: [("workload.offered_erlangs", 2.5)]),
        (name: "large", topology: "large", models: ["avaya-aura-sm-6.3"],
         set: [("models[avaya-aura-sm-6.3].capabilities.refer", Yes)]),
    ],
    scenario: (workload: (offered_erlangs: 4.0, load_factor: 1.0), media: Sampled(0.05)),
    sweep: (grid: [("workload.load_factor", [0.5, 2])],
            zip: [[("topology.links[name=wan1].loss", [0.0, 0.25]), ("media", [Off, Sampled(1.0)])]]),
)"#;
    let exp = Experiment::load(&fixture(t, text)).unwrap();
    let recorder = Recorder {
        seen: Mutex::new(Vec::new()),
    };
    let plan = Plan::new(&exp, None, None, "recorder");
    let opts = RunOptions {
        out: t.join("r"),
        jobs: Some(2),
        shard: Shard::WHOLE,
        fresh: false,
        progress: Progress::Hidden,
    };
    let report = experiment::run(&exp, &plan, &recorder, &opts).unwrap();
    assert_eq!(report.ran, 16);
    let mut seen = recorder.seen.into_inner().unwrap();
    seen.sort();
    assert_eq!(seen.len(), 16);
    for (point, rep, seed, deployment, params) in &seen {
        let planned = &plan.points[*point as usize];
        assert_eq!(*deployment, planned.deployment);
        assert_eq!(*params, planned.params);
        assert_eq!(*seed, unit_seed(99, deployment, params, *rep));
    }
    // Point 3: small, load factor 2, the second zip row.
    assert_eq!(
        seen[6].4,
        vec![
            ("workload.load_factor".to_string(), "2".to_string()),
            ("topology.links[name=wan1].loss".into(), "0.25".into()),
            ("media".into(), "Sampled(1.0)".into()),
        ]
    );
    let results = experiment::SweepResults::collect(&[t.join("r")]).unwrap();
    let extra = |p: usize, k: &str| results.units[p * 2].meta.extra[k].clone();
    assert_eq!(
        extra(3, "topology"),
        "Topology(name: \"small\", channels: 8, links: [(name: \"wan1\", latency_ms: 20.0, loss: 0.25)])"
    );
    assert_eq!(
        extra(3, "scenario"),
        "(workload: (offered_erlangs: 2.5, load_factor: 2), media: Sampled(1.0))"
    );
    assert_eq!(
        extra(4, "scenario"),
        "(workload: (offered_erlangs: 4.0, load_factor: 0.5), media: Off)"
    );
    assert_eq!(extra(4, "model_refer"), "Yes");
    assert_eq!(extra(0, "model_refer"), "other");
}

#[test]
fn every_embedded_vendor_model_survives_the_document_tree() {
    for (id, text) in voicetwin::vendor::builtin_sources() {
        let path = Path::new("vendor-models").join(format!("{id}.ron"));
        let original = voicetwin::vendor::parse_model(&path, text).unwrap();
        let doc = Document::parse(&path, text).unwrap();
        for pretty in [false, true] {
            let again = voicetwin::vendor::parse_model(&path, &doc.to_ron(pretty))
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(again, original, "{id}");
        }
    }
}

#[test]
fn check_accepts_a_good_file_and_locates_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let path = fixture(tmp.path(), &experiment_text(SWEEP, "", 3));
    let text = std::fs::read_to_string(&path).unwrap();
    let ok = experiment::check_file(&path, &text).unwrap();
    assert_eq!(
        ok,
        "experiment `synthetic-test`: 2 deployment(s), 12 point(s) × 3 replication(s)"
    );

    let bad = text.replace("replications: 3,", "replications: 3,\n    seeds: 4,");
    std::fs::write(&path, &bad).unwrap();
    let errs = experiment::check_file(&path, &bad).unwrap_err();
    assert_eq!((errs[0].line, errs[0].column), (7, 5), "{}", errs[0]);
    assert!(errs[0].message.contains("seeds"));

    // The command line shows the located error and fails.
    let out = voicetwin(&["run", path.to_str().unwrap(), "--out", "r"], tmp.path());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("test.ron:7:5:"), "{err}");
    assert!(!tmp.path().join("r").exists());

    // An error inside a topology file is located in that file.
    std::fs::write(&path, &text).unwrap();
    std::fs::write(
        tmp.path().join("topologies/small.ron"),
        "Topology(\n  name: \"small\",\n  channels: [8,\n)",
    )
    .unwrap();
    let errs = experiment::check_file(&path, &text).unwrap_err();
    assert!(
        errs[0].to_string().contains("small.ron:4:1:"),
        "{}",
        errs[0]
    );
}

#[test]
fn command_line_usage_errors_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let path = fixture(tmp.path(), &experiment_text(SWEEP, "", 1));
    let p = path.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["run", p, "--shard", "4/3"],
            "expected K/N with 1 <= K <= N",
        ),
        (
            vec!["run", p, "--target-ci", "narrow"],
            "--target-ci narrow",
        ),
        (vec!["run", "missing.ron"], "missing.ron: cannot read file"),
    ] {
        let out = voicetwin(&args, tmp.path());
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Without the synthetic runner selected, the simulator runs the points: the synthetic
    // topology is no real topology, so every point is recorded as failed, with the reason.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_voicetwin"))
        .args(["run", p, "--out", "real"])
        .current_dir(tmp.path())
        .env_remove("VOICETWIN_SYNTHETIC_RUNNER")
        .output()
        .unwrap();
    let points = std::fs::read_to_string(tmp.path().join("real/points.csv")).unwrap_or_default();
    assert!(
        points.contains("failed") && points.contains("channels"),
        "{}\n{points}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_embedded_registry_loads_and_names_what_it_has() {
    for (name, _) in builtin::experiments() {
        Experiment::builtin(name).unwrap_or_else(|e| panic!("embedded experiment {name}: {e}"));
    }
    for (name, text) in builtin::topologies() {
        let doc = Document::parse(Path::new(name), text).unwrap();
        assert_eq!(doc.root_name(), Some("Topology"), "{name}");
    }
    let err = Experiment::builtin("no-such-study").unwrap_err();
    assert!(
        err.to_string()
            .contains("no embedded experiment `no-such-study`"),
        "{err}"
    );
}

#[test]
fn summary_json_follows_the_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let path = fixture(tmp.path(), &experiment_text(SWEEP, "", 3));
    voicetwin_ok(&["run", path.to_str().unwrap(), "--out", "r"], tmp.path());
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("r/summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["experiment"], "synthetic-test");
    let points = s["points"].as_array().unwrap();
    assert_eq!(points.len(), 12);
    let p = &points[5];
    assert_eq!(p["point"], 5);
    assert_eq!(p["deployment"], "small");
    assert_eq!(p["params"]["workload.load_factor"], 1.5);
    assert_eq!(p["params"]["topology.links[name=wan1].loss"], 0.02);
    for m in [
        "blocking",
        "success_rate",
        "pdd_ms_mean",
        "pdd_ms_p95",
        "mos_mean",
        "offered_erlangs",
    ] {
        let v = &p["metrics"][m];
        let (mean, lo, hi) = (
            v["mean"].as_f64().unwrap(),
            v["ci95_low"].as_f64().unwrap(),
            v["ci95_high"].as_f64().unwrap(),
        );
        assert!(lo <= mean && mean <= hi, "{m}: {v}");
        assert_eq!(v["n"], 3);
    }
    // Higher load, more blocking, on the 8-channel group: 6 E gives about 12% (Erlang B).
    let blocking = |i: usize| points[i]["metrics"]["blocking"]["mean"].as_f64().unwrap();
    assert!(blocking(1) < blocking(3) && blocking(3) < blocking(5));
    assert!((0.05..0.25).contains(&blocking(5)), "{}", blocking(5));
    // WAN loss lowers MOS.
    let mos = |i: usize| points[i]["metrics"]["mos_mean"]["mean"].as_f64().unwrap();
    assert!(mos(1) < mos(0) - 0.3, "{} {}", mos(0), mos(1));
    // One capacity per load curve (deployment × WAN setting).
    let caps = s["capacity"].as_array().unwrap();
    assert_eq!(caps.len(), 4);
    assert_eq!(caps[0]["x"], "offered_erlangs");
    assert!(
        caps[0]["label"]
            .as_str()
            .unwrap()
            .starts_with("small, latency_ms=20.0")
    );
}

/// Every file in `experiments/` and `topologies/`: what `voicetwin check` does (each point's
/// documents deserialize, its deployment builds, its workload fits), and each one is
/// embedded in the binary under its file stem, byte for byte.
#[test]
fn every_shipped_experiment_checks_and_is_embedded() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = |dir: &str| {
        let mut v: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "ron"))
            .collect();
        v.sort();
        v
    };
    let experiments = files("experiments");
    assert!(experiments.len() >= 6, "{experiments:?}");
    for path in &experiments {
        let text = std::fs::read_to_string(path).unwrap();
        experiment::scenario_runner::check_points(path, &text).unwrap_or_else(|errs| {
            let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
            panic!("{}:\n{}", path.display(), shown.join("\n"))
        });
        let stem = path.file_stem().unwrap().to_str().unwrap();
        assert_eq!(builtin::experiment(stem), Some(text.as_str()), "{stem}");
        // The embedded copy loads without the repository's files.
        let exp = Experiment::builtin(stem).unwrap();
        assert!(exp.point_count() > 0);
    }
    for path in files("topologies") {
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(builtin::topology(stem), Some(text.as_str()), "{stem}");
    }
}
