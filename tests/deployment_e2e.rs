//! End to end on each deployment topology of the repository: a call of every mix type the
//! deployment supports completes, with the expected setup path (the elements its INVITEs
//! and ISDN SETUPs cross, read from the capture), media path with media bypass on and off
//! (the RTP datagrams' addresses: through the Mediation Server or not) and CDR (outcome,
//! SIP code, route, failover, media_relayed).

mod deployment_support;

use deployment_support::*;
use std::collections::BTreeMap;
use voicetwin::elements::CallOutcome;
use voicetwin::scenario::run::RunOptions;
use voicetwin::scenario::spec::MediaMode;
use voicetwin::workload::CallMix;

/// One mix type and the route its calls take (the CDR's `route`, which the capture's
/// setup path must equal).
type Expect = (CallMix, &'static str);

const GATEWAY_ROUTES: &[Expect] = &[
    (CallMix::LyncToLync, "pool-hq>fe1>pool-hq"),
    (CallMix::LyncToPstn, "pool-hq>fe1>med1>gw1>pstn"),
    (CallMix::PstnToLync, "pstn>gw1>med1>fe1>pool-hq"),
];

/// Runs every mix of `expect` on `text` and checks each mix's first answered call.
/// `bypass`: whether media bypass is on for the trunks the calls use.
fn check_deployment(name: &str, text: &str, expect: &[Expect], bypass: bool) {
    let mix: Vec<CallMix> = expect.iter().map(|(m, _)| *m).collect();
    // About 30 calls per mix type at 2 E of 8 s calls; seconds of talk keep captures small.
    let per_mix_s = 120.0;
    let spec = scenario(
        workload(&mix, 2.0, 8.0, per_mix_s * mix.len() as f64),
        MediaMode::PerPacket,
        vec![],
    );
    let seed = 11;
    let all = run_text(name, text, &spec, seed, &RunOptions::default());
    let mut first: BTreeMap<&str, &Call> = BTreeMap::new();
    for c in &all.calls {
        assert_eq!(
            c.log.outcome,
            CallOutcome::Answered,
            "{name}: every callee answers, call {} ({}) did not: {:?} {}",
            c.meta.call_id,
            c.meta.mix,
            c.log.final_status,
            c.log.detail
        );
        first.entry(c.meta.mix).or_insert(c);
    }
    for (m, route) in expect {
        let label = m.label();
        let c = first
            .get(label)
            .unwrap_or_else(|| panic!("{name}: no {label} call ran"));
        let (call, cap) = watch(name, text, &spec, seed, c.log.tag);
        let cdr = &call.cdr;
        let ctx = format!("{name} {label} (bypass {bypass})");
        // The CDR.
        assert_eq!(cdr.outcome, CallOutcome::Answered, "{ctx}");
        assert_eq!(cdr.sip_code, Some(200), "{ctx}");
        assert_eq!(cdr.route, *route, "{ctx}");
        assert_eq!(cdr.failover, 0, "{ctx}");
        assert!(cdr.two_way_audio, "{ctx}: {:#?}", call.log);
        // The setup path seen on the wire is the route.
        if route.contains('>') {
            assert_eq!(cap.setup_path.join(">"), *route, "{ctx}: capture");
        } else {
            // A call between two PBX phones crosses no network and no TDM link.
            assert!(cap.setup_path.is_empty(), "{ctx}: {:?}", cap.setup_path);
        }
        // The media path. Media terminates at the first and last elements of the route
        // that carry RTP (the Front End only signals; the PSTN is TDM behind its gateway or
        // PBX).
        let ends: Vec<&str> = route
            .split('>')
            .filter(|e| !matches!(*e, "fe1" | "pstn"))
            .collect();
        let relayed = !bypass && route.contains("med1");
        assert_eq!(cdr.media_relayed, relayed, "{ctx}: CDR media_relayed");
        let touches_med = cap
            .media_pairs
            .iter()
            .any(|(a, b)| a == "med1" || b == "med1");
        if ends.len() == 1 {
            // Inside the PBX (two PBX phones, or a phone and the PSTN over the PRI): any RTP
            // stays between the PBX's own addresses.
            let only = (ends[0].to_string(), ends[0].to_string());
            assert!(
                cap.media_pairs.iter().all(|p| *p == only),
                "{ctx}: {:?}",
                cap.media_pairs
            );
            continue;
        }
        let (a, z) = (ends[0].to_string(), ends[ends.len() - 1].to_string());
        assert!(
            cap.media_datagrams > 100,
            "{ctx}: {} datagrams",
            cap.media_datagrams
        );
        if relayed {
            // Every datagram goes to or comes from the Mediation Server.
            for (x, y) in &cap.media_pairs {
                assert!(
                    x == "med1" || y == "med1",
                    "{ctx}: {x} → {y} bypasses the relay"
                );
            }
            for pair in [
                (a.as_str(), "med1"),
                ("med1", z.as_str()),
                (z.as_str(), "med1"),
                ("med1", a.as_str()),
            ] {
                let p = (pair.0.to_string(), pair.1.to_string());
                assert!(
                    cap.media_pairs.contains(&p),
                    "{ctx}: no {p:?} in {:?}",
                    cap.media_pairs
                );
            }
        } else {
            assert!(
                !touches_med,
                "{ctx}: media touched the Mediation Server {:?}",
                cap.media_pairs
            );
            assert!(
                cap.media_pairs.contains(&(a.clone(), z.clone()))
                    && cap.media_pairs.contains(&(z.clone(), a.clone())),
                "{ctx}: no direct media {a} ↔ {z} in {:?}",
                cap.media_pairs
            );
        }
    }
}

#[test]
fn voip_only() {
    let text = topology_text("voip-only");
    check_deployment("voip-only", &text, GATEWAY_ROUTES, true);
    let off = text.replace("MediaBypass(true)", "MediaBypass(false)");
    check_deployment("voip-only", &off, GATEWAY_ROUTES, false);
}

#[test]
fn direct_sip_gateway() {
    let text = topology_text("direct-sip-gateway");
    check_deployment("direct-sip-gateway", &text, GATEWAY_ROUTES, false);
    let on = text.replace("MediaBypass(false)", "MediaBypass(true)");
    check_deployment("direct-sip-gateway", &on, GATEWAY_ROUTES, true);
}

#[test]
fn sip_trunking() {
    let expect = &[
        (CallMix::LyncToLync, "pool-hq>fe1>pool-hq"),
        (CallMix::LyncToPstn, "pool-hq>fe1>med1>itsp"),
        (CallMix::PstnToLync, "itsp>med1>fe1>pool-hq"),
    ];
    let text = topology_text("sip-trunking");
    check_deployment("sip-trunking", &text, expect, false);
    let on = text.replace("MediaBypass(false)", "MediaBypass(true)");
    check_deployment("sip-trunking", &on, expect, true);
}

const PBX_COMMON: &[Expect] = &[
    (CallMix::LyncToLync, "pool-hq>fe1>pool-hq"),
    (CallMix::LyncToPbx, "pool-hq>fe1>med1>pbx1"),
    (CallMix::PbxToLync, "pbx1>med1>fe1>pool-hq"),
    (CallMix::PbxToPbx, "pbx1"),
];

#[test]
fn incremental_behind_pbx() {
    let mut expect = PBX_COMMON.to_vec();
    expect.extend([
        (CallMix::LyncToPstn, "pool-hq>fe1>med1>pbx1>pstn"),
        (CallMix::PstnToLync, "pstn>pbx1>med1>fe1>pool-hq"),
        (CallMix::PbxToPstn, "pbx1>pstn"),
        (CallMix::PstnToPbx, "pstn>pbx1"),
    ]);
    let name = "incremental-behind-pbx";
    let text = topology_text(name);
    // Avaya Aura SM 6.3's recommended configuration: bypass off.
    check_deployment(name, &text, &expect, false);
    let on = edit(
        &edit(
            &text,
            r#"(name: "t-pbx", mediation: "med1", peer: "pbx1")"#,
            r#"(name: "t-pbx", mediation: "med1", peer: "pbx1", settings: [Lync(MediaBypass(true))])"#,
        ),
        r#"(peer: "pbx1", model: "avaya-aura-sm-6.3")"#,
        r#"(peer: "pbx1", model: "avaya-aura-sm-6.3", settings: [MediaBypass(true)])"#,
    );
    check_deployment(name, &on, &expect, true);
}

#[test]
fn incremental_in_front_of_pbx() {
    let mut expect = PBX_COMMON.to_vec();
    expect.extend([
        (CallMix::LyncToPstn, "pool-hq>fe1>med1>gw1>pstn"),
        (CallMix::PstnToLync, "pstn>gw1>med1>fe1>pool-hq"),
        // PBX users' PSTN calls cross Lync twice through the Mediation Server.
        (CallMix::PbxToPstn, "pbx1>med1>fe1>med1>gw1>pstn"),
        (CallMix::PstnToPbx, "pstn>gw1>med1>fe1>med1>pbx1"),
    ]);
    let name = "incremental-in-front-of-pbx";
    let text = topology_text(name);
    check_deployment(name, &text, &expect, true);
    let off = text.replace("MediaBypass(true)", "MediaBypass(false)");
    check_deployment(name, &off, &expect, false);
}
