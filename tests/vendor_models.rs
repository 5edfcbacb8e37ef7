//! The model files: every one loads and validates, matches the catalogue both ways, is the
//! same text as the copy embedded in the library, and agrees with the seed facts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use voicetwin::vendor::{
    self, Behaviour, CallScenario, Deployment, DeploymentFeature, Direction, Feature,
    GatewayConfiguration, LineState, LyncServer, LyncSetting, Party, PbxSetting, Role, Setting,
    SipTransport, SoftwareVersion, SpanKind, StatusCode, TransferMode, Trigger, TrunkConfig,
    Update, VendorModel, Workaround,
};

fn model_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor-models");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("vendor-models/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    files
}

fn model(id: &str) -> &'static VendorModel {
    vendor::lookup(id).unwrap_or_else(|e| panic!("{e}"))
}

fn call(direction: Direction, remote: Party, feature: Feature) -> CallScenario {
    CallScenario::basic(direction, remote).with_feature(feature)
}

fn ids(rules: Vec<&vendor::LimitationRule>) -> Vec<String> {
    rules.iter().map(|r| r.id.to_string()).collect()
}

#[test]
fn every_model_file_loads_validates_and_is_embedded() {
    let files = model_files();
    assert_eq!(files.len(), 33, "15 IP-PBXs and 18 gateways");
    let mut errors = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable model file");
        if let Err(e) = vendor::load_model(path) {
            errors.push(e.to_string());
        }
        if let Err(es) = vendor::check_file(path, &text) {
            errors.extend(es.iter().map(|e| e.to_string()));
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 stem");
        let embedded = vendor::builtin_sources().iter().find(|(id, _)| *id == stem);
        match embedded {
            Some((_, embedded_text)) => assert_eq!(
                *embedded_text, text,
                "the embedded copy of {stem} differs from the file"
            ),
            None => errors.push(format!("{stem} is not embedded in the library")),
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(vendor::builtin_models().len(), files.len());
}

#[test]
fn catalogue_products_and_models_match_both_ways() {
    let catalogue = vendor::catalogue();
    let products: BTreeSet<&str> = catalogue.products.iter().map(|p| p.id.as_str()).collect();
    let models: BTreeSet<&str> = vendor::builtin_models()
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(products, models);
    for p in &catalogue.products {
        let m = model(&p.id);
        assert_eq!(
            (&m.vendor, &m.product, &m.version, m.source.key, m.role),
            (&p.vendor, &p.product, &p.version, p.source, p.role),
            "{}",
            p.id
        );
    }
}

#[test]
fn catalogue_ids_and_rules_match_both_ways() {
    let catalogue = vendor::catalogue();
    let catalogued: BTreeSet<(String, String)> = catalogue
        .limitations
        .iter()
        .map(|l| (l.product.clone(), l.id.to_string()))
        .collect();
    let ruled: BTreeSet<(String, String)> = vendor::builtin_models()
        .iter()
        .flat_map(|m| m.limitation_ids().map(|id| (m.id.clone(), id.to_string())))
        .collect();
    assert_eq!(catalogued, ruled);
    assert_eq!(ruled.len(), 41);
}

#[test]
fn test_audit_helper_lists_uncovered_ids() {
    let catalogue = vendor::catalogue();
    let all: Vec<String> = catalogue
        .limitation_ids()
        .map(|id| id.to_string())
        .collect();
    assert_eq!(catalogue.ids_without_test::<&str>(&[]).len(), all.len());
    let names: Vec<String> = all
        .iter()
        .map(|id| format!("{}_regression", id.to_lowercase().replace('-', "_")))
        .collect();
    assert!(catalogue.ids_without_test(&names).is_empty());
    let one_short = &names[1..];
    let missing = catalogue.ids_without_test(one_short);
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].as_str(), all[0]);
}

#[test]
fn mx_one_ports_transports_and_bypass_precondition() {
    let m = model("aastra-mx-one-4.1");
    let ports: Vec<(SipTransport, u16, u16)> = m
        .transports
        .iter()
        .map(|t| (t.transport, t.pbx_port, t.lync_port))
        .collect();
    assert_eq!(
        ports,
        [
            (SipTransport::Tcp, 5060, 5068),
            (SipTransport::Tls, 5061, 5067)
        ]
    );
    let rec = m.recommended_config();
    assert_eq!(
        (
            rec.lync.transport,
            rec.lync.gateway_port,
            rec.lync.mediation_port
        ),
        (SipTransport::Tcp, 5060, 5068)
    );
    assert!(rec.pbx.forced_gateway, "Forced Gateway is recommended");
    assert!(!rec.lync.refer, "the guide's solution disables REFER");
    assert!(m.config_conflicts(&rec).is_empty());
    // Bypass over TCP: unsupported (bypass needs TLS and SRTP).
    let bypass = rec
        .clone()
        .with(&[Setting::Lync(LyncSetting::MediaBypass(true))]);
    assert_eq!(
        m.unmet_preconditions(&bypass, Deployment::IncrementalBehindPbx)
            .len(),
        1
    );
    let secure = bypass.with(&[
        Setting::Lync(LyncSetting::Transport(SipTransport::Tls)),
        Setting::Lync(LyncSetting::GatewayPort(5061)),
        Setting::Lync(LyncSetting::MediationPort(5067)),
        Setting::Lync(LyncSetting::Encryption(vendor::EncryptionLevel::Required)),
    ]);
    assert!(
        m.unmet_preconditions(&secure, Deployment::IncrementalBehindPbx)
            .is_empty()
    );
    assert!(m.config_conflicts(&secure).is_empty());
}

#[test]
fn mx_one_refer_transfers_lose_ringback_until_refer_is_disabled() {
    let m = model("aastra-mx-one-4.1");
    let refer_on = m
        .recommended_config()
        .with(&[Setting::Lync(LyncSetting::Refer(true))]);
    let inbound_to_pstn = call(
        Direction::Inbound,
        Party::Pstn,
        Feature::Transfer {
            mode: TransferMode::Consultative,
            target: Party::Pstn,
        },
    );
    let outbound_blind_to_lync = call(
        Direction::Outbound,
        Party::Pbx,
        Feature::Transfer {
            mode: TransferMode::Blind,
            target: Party::Lync,
        },
    );
    let inbound_blind_to_pbx = call(
        Direction::Inbound,
        Party::Pstn,
        Feature::Transfer {
            mode: TransferMode::Blind,
            target: Party::Pbx,
        },
    );
    assert_eq!(ids(m.active_rules(&refer_on, &inbound_to_pstn)), ["MX-L1"]);
    assert_eq!(
        ids(m.active_rules(&refer_on, &outbound_blind_to_lync)),
        ["MX-L2"]
    );
    assert_eq!(
        ids(m.active_rules(&refer_on, &inbound_blind_to_pbx)),
        ["MX-L3"]
    );
    let rec = m.recommended_config();
    for c in [
        inbound_to_pstn,
        outbound_blind_to_lync,
        inbound_blind_to_pbx,
    ] {
        assert!(m.active_rules(&rec, &c).is_empty(), "{c:?}");
    }
    let dtmf = call(Direction::Inbound, Party::Pstn, Feature::DtmfInEarlyMedia);
    assert_eq!(
        m.behaviours(&rec, &dtmf),
        [(&m.rule("MX-L4").unwrap().id, &Behaviour::NoDtmfInEarlyMedia)]
    );
}

#[test]
fn oxe_l6_has_no_lync_2010_workaround_but_a_lync_2013_what_if() {
    let m = model("alcatel-oxe-r9.1");
    let rule = m.rule("OXE-L6").unwrap();
    let c502 = StatusCode::new(502).unwrap();
    assert_eq!(
        rule.behaviours,
        [Behaviour::WrongFailoverCode {
            sent: c502,
            instead_of: StatusCode::new(503).unwrap()
        }]
    );
    assert!(!rule.workaround.exists());
    let rec = m.recommended_config();
    assert_eq!(rec.lync.server, LyncServer::Lync2010);
    assert!(rule.with_workaround(&rec).is_none());
    let mut dead_t1 = CallScenario::basic(Direction::Outbound, Party::Pstn);
    dead_t1.span_out_of_service = true;
    assert!(rule.symptom_expected(&rec, &dead_t1));
    assert!(
        !rec.fails_over_on(c502),
        "Lync 2010 fails over on 503/504 only"
    );
    let what_if = rule.with_what_if(&rec).expect("a what-if");
    assert_eq!(what_if.lync.server, LyncServer::Lync2013);
    assert!(what_if.fails_over_on(c502), "502 is translated to 503");
    assert!(
        rule.triggered(&what_if, &dead_t1),
        "the PBX still sends 502 on the wire under the what-if"
    );
    assert!(
        m.active_rules(&what_if, &dead_t1)
            .iter()
            .any(|r| r.id.as_str() == "OXE-L6")
            && !m
                .expected_symptoms(&what_if, &dead_t1)
                .iter()
                .any(|r| r.id.as_str() == "OXE-L6"),
        "active on the wire, but no symptom expected"
    );
    assert!(
        !rule.symptom_expected(&what_if, &dead_t1),
        "the what-if neutralizes it"
    );
    assert!(m.config_conflicts(&what_if).is_empty());
    // The same what-if on Lync 2010 would be a configuration Lync cannot run.
    let on_2010 = what_if.with(&[Setting::Lync(LyncSetting::Server(LyncServer::Lync2010))]);
    assert!(!m.config_conflicts(&on_2010).is_empty());
}

#[test]
fn oxe_recommended_config_leaves_the_unconditional_limitations() {
    let m = model("alcatel-oxe-r9.1");
    let rec = m.recommended_config();
    let inbound = CallScenario::basic(Direction::Inbound, Party::Pstn);
    assert_eq!(ids(m.active_rules(&rec, &inbound)), ["OXE-L3", "OXE-L4"]);
    let bypass = rec.with(&[Setting::Lync(LyncSetting::MediaBypass(true))]);
    assert_eq!(
        ids(m.active_rules(&bypass, &inbound)),
        ["OXE-C1", "OXE-L3", "OXE-L4"]
    );
}

#[test]
fn avses_l2_is_fixed_in_5_2_1_sp1() {
    let m = model("avaya-cm-ses-5.2.1");
    let v = |s: &str| SoftwareVersion::parse(s).unwrap();
    assert_eq!(m.tested_versions, [v("4.0"), v("5.1"), v("5.2.1")]);
    let rule = m.rule("AVSES-L2").unwrap();
    assert!(matches!(&rule.workaround, Workaround::Upgrade { to, .. } if *to == v("5.2.1 SP1")));
    let ringing = CallScenario::basic(Direction::Inbound, Party::Pbx);
    let rec = m.recommended_config();
    assert_eq!(rec.pbx.version, Some(v("5.2.1")));
    for old in ["4.0", "5.1", "5.2.1"] {
        let c = rec
            .clone()
            .with(&[Setting::Pbx(PbxSetting::Version(v(old)))]);
        assert!(rule.symptom_expected(&c, &ringing), "{old}");
    }
    let fixed = rule.with_workaround(&rec).unwrap();
    assert_eq!(fixed.pbx.version, Some(v("5.2.1 SP1")));
    assert!(!rule.symptom_expected(&fixed, &ringing));
}

#[test]
fn avses_c1_alternate_route_timer_default_10_s_versus_30_s() {
    let m = model("avaya-cm-ses-5.2.1");
    let rule = m.rule("AVSES-C1").unwrap();
    let rec = m.recommended_config();
    assert_eq!(rec.pbx.alternate_route_timer_s, 30);
    let inbound = CallScenario::basic(Direction::Inbound, Party::Pbx);
    assert!(!rule.symptom_expected(&rec, &inbound));
    let default_timer = TrunkConfig::defaults(LyncServer::Lync2010);
    assert_eq!(default_timer.pbx.alternate_route_timer_s, 10);
    assert!(rule.symptom_expected(&default_timer, &inbound));
}

#[test]
fn cu803_c1_trigger_is_prack_enabled() {
    for (id, rule_id) in [
        ("cisco-ucm-8.0.3", "CU803-C1"),
        ("cisco-ucm-4.2-7.1.3", "CU4x-C1"),
    ] {
        let m = model(id);
        let rule = m.rule(rule_id).unwrap();
        assert_eq!(
            rule.trigger,
            Trigger::Is(Setting::Pbx(PbxSetting::Prack(true)))
        );
        assert_eq!(rule.behaviours, [Behaviour::MalformedPrack]);
        let rec = m.recommended_config();
        assert!(!rec.pbx.prack, "PRACK disabled is recommended");
        let inbound = CallScenario::basic(Direction::Inbound, Party::Pbx);
        assert!(!rule.symptom_expected(&rec, &inbound));
        let prack_on = rec.with(&[Setting::Pbx(PbxSetting::Prack(true))]);
        assert!(rule.symptom_expected(&prack_on, &inbound));
    }
}

#[test]
fn av61_c1_history_info_breaks_forwarding_at_the_pri() {
    let m = model("avaya-aura-sm-6.1");
    let rule = m.rule("AV61-C1").unwrap();
    let forward = call(
        Direction::Outbound,
        Party::Pstn,
        Feature::Forward {
            to: Party::Pstn,
            early_media: false,
        },
    );
    let rec = m.recommended_config();
    assert!(!rec.lync.forward_call_history);
    assert!(!rule.symptom_expected(&rec, &forward));
    let on = rec.with(&[Setting::Lync(LyncSetting::ForwardCallHistory(true))]);
    assert!(rule.symptom_expected(&on, &forward));
}

#[test]
fn siemens_openscape_voice_6_is_clean() {
    let m = model("siemens-openscape-voice-6");
    assert!(m.limitations.is_empty());
    assert!(m.preconditions.is_empty());
    let rec = m.recommended_config();
    assert!(m.config_conflicts(&rec).is_empty());
    for d in &m.deployments {
        assert!(m.unmet_preconditions(&rec, *d).is_empty());
    }
}

#[test]
fn cisco_ucm_6_1_1_needs_the_august_2008_mediation_update() {
    let m = model("cisco-ucm-6.1.1");
    let rec = m.recommended_config();
    assert_eq!(rec.lync.server, LyncServer::Ocs2007);
    assert!(
        rec.lync
            .updates
            .contains(&Update::Ocs2007MediationServerAugust2008)
    );
    for d in &m.deployments {
        assert!(m.unmet_preconditions(&rec, *d).is_empty());
    }
    let mut without = rec.clone();
    without.lync.updates.clear();
    for d in &m.deployments {
        assert_eq!(m.unmet_preconditions(&without, *d).len(), 1, "{d:?}");
    }
}

#[test]
fn nortel_cs1000_dual_forking_and_rcc() {
    let m = model("nortel-cs1000");
    assert_eq!(
        m.deployments,
        [Deployment::DualForking, Deployment::DualForkingWithRcc]
    );
    assert!(
        m.deployment_features
            .contains(&DeploymentFeature::DualForking)
    );
    assert!(
        m.deployment_features
            .contains(&DeploymentFeature::RemoteCallControl {
                states: vec![LineState::Idle, LineState::Ringing, LineState::Busy]
            })
    );
    let mut without = m.recommended_config();
    without.lync.updates.clear();
    assert_eq!(
        m.unmet_preconditions(&without, Deployment::DualForking)
            .len(),
        1
    );
}

#[test]
fn gateways_are_capacity_profiles_with_hybrid_mediation() {
    let gateways: Vec<&VendorModel> = vendor::builtin_models()
        .iter()
        .filter(|m| m.is_gateway())
        .collect();
    assert_eq!(gateways.len(), 18);
    for g in &gateways {
        assert!(g.limitations.is_empty(), "{}: the seed lists none", g.id);
        let per_span = match g.capacity.spans.kind {
            SpanKind::T1 => 23,
            SpanKind::E1 => 30,
        };
        assert_eq!(
            g.capacity.spans.b_channels(),
            per_span * g.capacity.spans.count.get()
        );
        assert!(g.capacity.concurrent_calls.value.get() <= g.capacity.spans.b_channels());
        let hybrid = g.role == Role::Gateway(GatewayConfiguration::BasicHybrid);
        let collocated = g
            .deployment_features
            .iter()
            .any(|f| matches!(f, DeploymentFeature::CollocatedMediation { .. }));
        assert_eq!(hybrid, collocated, "{}", g.id);
    }
    let hybrids: Vec<&str> = gateways
        .iter()
        .filter(|g| g.role == Role::Gateway(GatewayConfiguration::BasicHybrid))
        .map(|g| g.id.as_str())
        .collect();
    assert_eq!(
        hybrids,
        [
            "aculab-applianx",
            "audiocodes-mediant-2000-hybrid",
            "dialogic-4000",
            "nortel-sr4134",
            "quintum-tenor-hybrid-60"
        ]
    );
    let m2k = model("audiocodes-mediant-2000");
    assert_eq!(m2k.capacity.spans.count.get(), 16);
    assert!(matches!(
        m2k.capacity.spans.basis,
        vendor::Basis::DataSheet { .. }
    ));
}

/// Configurations around the recommended one: each knob a trigger tests, flipped.
fn perturbations(m: &VendorModel) -> Vec<TrunkConfig> {
    let rec = m.recommended_config();
    let mut out = vec![rec.clone()];
    let flips = [
        Setting::Lync(LyncSetting::MediaBypass(!rec.lync.media_bypass)),
        Setting::Lync(LyncSetting::Refer(!rec.lync.refer)),
        Setting::Lync(LyncSetting::ForwardCallHistory(
            !rec.lync.forward_call_history,
        )),
        Setting::Lync(LyncSetting::SdpConnection(vendor::ConnectionAddress::Fqdn)),
        Setting::Pbx(PbxSetting::Prack(!rec.pbx.prack)),
        Setting::Pbx(PbxSetting::AlternateRouteTimer(10)),
    ];
    for f in flips {
        out.push(rec.clone().with(std::slice::from_ref(&f)));
    }
    for v in &m.tested_versions {
        out.push(
            rec.clone()
                .with(&[Setting::Pbx(PbxSetting::Version(v.clone()))]),
        );
    }
    out
}

fn scenarios() -> Vec<CallScenario> {
    let parties = [Party::Lync, Party::Pbx, Party::Pstn];
    let mut features = vec![
        Feature::Basic,
        Feature::Hold,
        Feature::Decline,
        Feature::Voicemail,
        Feature::DtmfInEarlyMedia,
        Feature::Conference,
    ];
    for p in parties {
        for mode in [TransferMode::Blind, TransferMode::Consultative] {
            features.push(Feature::Transfer { mode, target: p });
        }
        for early_media in [false, true] {
            features.push(Feature::Forward { to: p, early_media });
            features.push(Feature::SimulRing { to: p, early_media });
        }
    }
    let mut out = Vec::new();
    for direction in [Direction::Inbound, Direction::Outbound] {
        for remote in [Party::Pbx, Party::Pstn] {
            for &feature in &features {
                for span_out_of_service in [false, true] {
                    out.push(CallScenario {
                        direction,
                        remote,
                        feature,
                        span_out_of_service,
                    });
                }
            }
        }
    }
    out
}

#[test]
fn every_rule_can_fire_and_its_workaround_or_what_if_removes_it() {
    let calls = scenarios();
    for m in vendor::builtin_models() {
        let configs = perturbations(m);
        for rule in &m.limitations {
            let mut fired = false;
            for config in &configs {
                for c in &calls {
                    if !rule.symptom_expected(config, c) {
                        continue;
                    }
                    fired = true;
                    if let Some(fixed) = rule.with_workaround(config) {
                        assert!(!rule.symptom_expected(&fixed, c), "{} {c:?}", rule.id);
                    }
                    if let Some(what_if) = rule.with_what_if(config) {
                        assert!(
                            !rule.symptom_expected(&what_if, c),
                            "{} what-if {c:?}",
                            rule.id
                        );
                    }
                }
            }
            assert!(
                fired,
                "{} never applies near the recommended configuration",
                rule.id
            );
        }
    }
}

#[test]
fn recommended_configurations_run_and_meet_their_preconditions() {
    for m in vendor::builtin_models() {
        let rec = m.recommended_config();
        assert_eq!(m.config_conflicts(&rec), Vec::<String>::new(), "{}", m.id);
        for d in &m.deployments {
            assert!(m.unmet_preconditions(&rec, *d).is_empty(), "{} {d:?}", m.id);
        }
        assert_eq!(rec.lync.server, m.source.key.server());
    }
}

#[test]
fn trigger_free_rules_follow_the_capability_table() {
    let m = model("avaya-aura-sm-6.0.1");
    assert_eq!(m.capabilities.comfort_noise, vendor::Support::No);
    assert_eq!(m.capabilities.fqdn_in_sdp, vendor::Support::No);
    assert_eq!(m.capabilities.tls, vendor::Support::No);
    let cu = model("cisco-ucm-8.6.2");
    assert_eq!(cu.capabilities.history_info.pass, vendor::Support::No);
    assert_eq!(cu.capabilities.history_info.convert_to, None);
    assert_eq!(
        model("cisco-ucm-7.0.1").capabilities.options_keepalive,
        vendor::Support::No
    );
    assert_eq!(
        model("aastra-mx-one-4.1").capabilities.dtmf_in_early_media,
        vendor::Support::No
    );
}

#[test]
fn models_round_trip_through_ron_and_serialize_to_json() {
    for m in vendor::builtin_models() {
        let ron_text =
            ron::ser::to_string_pretty(m, ron::ser::PrettyConfig::default().struct_names(true))
                .unwrap_or_else(|e| panic!("{}: {e}", m.id));
        let back: VendorModel =
            ron::from_str(&ron_text).unwrap_or_else(|e| panic!("{}: {e}", m.id));
        assert_eq!(&back, m);
        let path = format!("vendor-models/{}.ron", m.id);
        vendor::check_file(Path::new(&path), &ron_text)
            .unwrap_or_else(|e| panic!("{}: {e:?}", m.id));
        let json = serde_json::to_value(m).expect("serializable");
        assert_eq!(json["id"], m.id.as_str());
    }
}

#[test]
fn model_arguments_resolve_to_paths_checkout_files_or_embedded_copies() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Not in `dir`: the embedded copy.
    let m = vendor::resolve("alcatel-oxe-r9.1", dir.path()).expect("embedded");
    assert_eq!(m.id, "alcatel-oxe-r9.1");
    // A file in `dir` wins over the embedded copy, and is validated.
    let broken = vendor::builtin_sources()
        .iter()
        .find(|(id, _)| *id == "alcatel-oxe-r9.1")
        .map(|(_, t)| t.replacen("sent: 502", "sent: 503", 1))
        .unwrap();
    let file = dir.path().join("alcatel-oxe-r9.1.ron");
    std::fs::write(&file, &broken).unwrap();
    let err = vendor::resolve("alcatel-oxe-r9.1", dir.path()).expect_err("invalid edit");
    assert!(
        err.to_string().contains("two different error codes"),
        "{err}"
    );
    // An explicit path.
    let err =
        vendor::resolve(file.to_str().unwrap(), Path::new("/nonexistent")).expect_err("invalid");
    assert!(err.to_string().contains("alcatel-oxe-r9.1.ron:"), "{err}");
    // Unknown ids.
    let err = vendor::resolve("no-such-pbx", dir.path()).expect_err("unknown");
    assert_eq!(err.to_string(), "unknown vendor model `no-such-pbx`");
}
