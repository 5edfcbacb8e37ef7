//! `voicetwin qualify`: cases place calls and are judged against the models' limitations.

use std::process::Command;

fn voicetwin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_voicetwin"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn json(model: &str) -> (serde_json::Value, i32) {
    let out = voicetwin(&["qualify", model, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    (v, out.status.code().unwrap())
}

fn case<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

fn xfail_with(v: &serde_json::Value, name: &str, id: &str) {
    let c = case(v, name);
    assert_eq!(c["result"], "expected-fail", "{c}");
    assert!(
        c["limitation_ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == id),
        "{c}"
    );
}

#[test]
fn osv6_passes_its_plan_under_the_recommended_configuration() {
    let (v, code) = json("siemens-openscape-voice-6");
    assert_eq!(code, 0, "OSV6 must pass its whole plan");
    assert_eq!(v["ok"], true);
    for c in v["cases"].as_array().unwrap() {
        assert!(c["result"] == "pass" || c["result"] == "n/a", "{c}");
        assert!(c["limitation_ids"].as_array().unwrap().is_empty());
    }
    for name in [
        "basic-inbound",
        "hold-bypass-on",
        "failover",
        "comfort-noise",
        "rtcp",
        "tls-srtp",
        // A consultative transfer joins the consulted phone (the PBX NOTIFYs 200 and the
        // phone shows the target); early media of a forward/simul-ring target on the PSTN
        // reaches the PBX caller through Lync and back.
        "consultative-transfer",
        "forward-to-ivr-early-media",
        "simul-ring-ivr-early-media",
        "dtmf-early-media",
    ] {
        assert_eq!(case(&v, name)["result"], "pass", "{name}");
    }
}

#[test]
fn documented_limitations_are_observed_as_expected_failures() {
    let (oxe, _) = json("alcatel-oxe-r9.1");
    xfail_with(&oxe, "failover", "OXE-L6");
    assert!(
        case(&oxe, "failover")["detail"]
            .as_str()
            .unwrap()
            .contains("502")
    );
    xfail_with(&oxe, "comfort-noise", "OXE-L4");
    xfail_with(&oxe, "hold-bypass-off", "OXE-L1");
    xfail_with(&oxe, "decline-603", "OXE-L5");
    xfail_with(&oxe, "basic-inbound [trigger: media bypass on]", "OXE-C1");
    let (av63, _) = json("avaya-aura-sm-6.3");
    xfail_with(&av63, "decline-603", "AV63-L2");
    xfail_with(
        &av63,
        "simul-ring-ivr-early-media [trigger: media bypass on]",
        "AV63-L1",
    );
    let (av61, _) = json("avaya-aura-sm-6.1");
    xfail_with(&av61, "comfort-noise", "AV61-L2");
    xfail_with(&av61, "hold-bypass-on", "AV61-L1");
    assert_eq!(case(&av61, "hold-bypass-off")["result"], "pass");
}

#[test]
fn a_declared_limitation_without_its_behaviour_fails() {
    // OXE-L4 declared (no comfort noise) but its behaviour removed: the product now sends
    // CN, so the declared symptom does not appear.
    let text = include_str!("../vendor-models/alcatel-oxe-r9.1.ron");
    let broken = text.replacen("behaviours: [NoComfortNoise]", "behaviours: [NoRtcp]", 1);
    assert_ne!(broken, text, "the model declares NoComfortNoise");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alcatel-oxe-r9.1.ron");
    std::fs::write(&path, broken).unwrap();
    let out = voicetwin(&["qualify", path.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["ok"], false);
    let cn = case(&v, "comfort-noise");
    assert_eq!(cn["result"], "fail", "{cn}");
}

#[test]
fn json_has_the_documented_shape() {
    let (v, _) = json("cisco-ucm-6.1.1");
    for key in [
        "model",
        "vendor",
        "product",
        "version",
        "source",
        "role",
        "deployments",
        "ok",
        "cases",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    let c = &v["cases"][0];
    for key in [
        "case",
        "area",
        "deployment",
        "result",
        "limitation_ids",
        "detail",
    ] {
        assert!(c.get(key).is_some(), "{key}");
    }
    // The Mediation Server update is in the recommended configuration: calls work.
    assert_eq!(case(&v, "basic-outbound")["result"], "pass");
}

#[test]
fn unknown_model_and_bad_usage_exit_2() {
    let out = voicetwin(&["qualify", "no-such-pbx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-pbx"));
    let out = voicetwin(&["qualify", "--all"]);
    assert_eq!(out.status.code(), Some(2));
    let out = voicetwin(&["qualify"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn all_writes_the_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let out = voicetwin(&["qualify", "--all", "--out", dir.path().to_str().unwrap()]);
    assert!(out.status.code().is_some());
    let md = std::fs::read_to_string(dir.path().join("matrix.md")).unwrap();
    for g in [
        "Lync 2013 IP-PBXs",
        "Lync 2010 IP-PBXs",
        "OCS 2007 IP-PBXs",
        "MX-ONE",
        "Gateways",
    ] {
        assert!(md.contains(g), "{g}");
    }
    let csv = std::fs::read_to_string(dir.path().join("matrix.csv")).unwrap();
    assert!(
        csv.starts_with(
            "model,vendor,product,version,deployment,case,result,limitation_ids,detail"
        )
    );
    for (id, _) in voicetwin::vendor::builtin_sources() {
        assert!(md.contains(&format!("(`{id}`)")), "{id} row");
        assert!(
            csv.lines().any(|l| l.starts_with(&format!("{id},"))),
            "{id} csv"
        );
    }
}
