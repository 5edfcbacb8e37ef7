//! The Front End, Lync pool and voicemail specs as written in RON: defaults, unknown
//! fields refused with their location, and build errors naming the field at fault.

mod elements_lync_support;

use elements_lync_support::{TOPOLOGY, plan};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use voicetwin::config::from_ron_str;
use voicetwin::elements::ElementId;
use voicetwin::elements::build::{BuildEnv, BuildError, Directory, Placement};
use voicetwin::elements::spec::{ElementKindSpec, ElementSpec};
use voicetwin::net::Network;
use voicetwin::scenario::topology::Topology;
use voicetwin::sim::RngFactory;
use voicetwin::vendor::{LyncServer, StatusCode};

const FE: &str = r#"FrontEnd((
    name: "fe",
    node: "fe",
    domain: Some("contoso.com"),
    dial_plans: [
        (name: "global", rules: [
            (name: "4-digit", pattern: "^(\\d{4})$", translation: "+1425555$1"),
        ]),
        (name: "branch", scope: Site("br"), rules: [
            (name: "4-digit", pattern: "^(\\d{4})$", translation: "+1206555$1"),
        ]),
    ],
    voice_policies: [(name: "global", pstn_usages: ["Local", "LongDistance"])],
    routes: [
        (name: "local", pattern: "^\\+1(425|206)", pstn_usages: ["Local"], trunks: ["t1", "t2"]),
        (name: "ld", pattern: "^\\+", pstn_usages: ["LongDistance"], trunks: ["t2"],
         failover_codes: [503, 504, 502]),
    ],
    trunks: [
        (name: "t1", mediation: "med1", peer: "gw1", translations: [(from: 502, to: 503)]),
        (name: "t2", mediation: "med1", peer: "gw2", fast_failover: false,
         settings: [Lync(MediaBypass(true)), Lync(Refer(false))]),
    ],
    voicemail: Some("um"),
    cac: [(sites: ("hq", "br"), max_sessions: Some(10), overflow: RerouteViaPstn)],
))"#;

fn directory() -> Directory {
    let path = Path::new("lab.ron");
    let topo = Topology::parse(path, TOPOLOGY).unwrap();
    let net = Network::new(topo.to_spec(path, TOPOLOGY).unwrap(), &RngFactory::new(1)).unwrap();
    let node = net.node_id("fe").unwrap();
    let mut d = Directory {
        numbers: plan(),
        ..Directory::default()
    };
    let place = |d: &mut Directory,
                 i: u32,
                 name: &str,
                 kind: &'static str,
                 ip: [u8; 4],
                 port,
                 site: &str| {
        let ip = Ipv4Addr::from(ip);
        d.elements.insert(
            name.into(),
            Placement {
                id: ElementId(i),
                node,
                ip,
                sip: SocketAddrV4::new(ip, port),
                kind,
                site: site.into(),
            },
        );
    };
    place(&mut d, 0, "fe", "front-end", [10, 1, 0, 5], 5061, "hq");
    place(&mut d, 1, "med1", "mediation", [10, 1, 0, 21], 5070, "hq");
    place(&mut d, 2, "gw1", "gateway", [10, 1, 0, 31], 5060, "hq");
    place(&mut d, 3, "gw2", "gateway", [10, 1, 0, 32], 5060, "hq");
    place(&mut d, 4, "um", "voicemail", [10, 1, 0, 30], 5060, "hq");
    place(
        &mut d,
        5,
        "pool-hq",
        "lync-pool",
        [10, 1, 0, 10],
        5060,
        "hq",
    );
    place(
        &mut d,
        6,
        "pool-br",
        "lync-pool",
        [10, 2, 0, 10],
        5060,
        "br",
    );
    d.hosts
        .insert("gw1.contoso.com".into(), Ipv4Addr::new(10, 1, 0, 31));
    d
}

fn build(text: &str) -> Result<(), BuildError> {
    let spec: ElementSpec = from_ron_str(Path::new("deployment.ron"), text).unwrap();
    let d = directory();
    let models = BTreeMap::new();
    let rngs = RngFactory::new(1);
    let env = BuildEnv {
        name: spec.name(),
        directory: &d,
        rngs: &rngs,
        models: &models,
    };
    spec.build(&env).map(|_| ())
}

#[test]
fn a_full_front_end_spec_parses_with_defaults_and_builds() {
    let spec: ElementSpec = from_ron_str(Path::new("d.ron"), FE).unwrap();
    let ElementSpec::FrontEnd(fe) = &spec else {
        panic!()
    };
    assert_eq!(spec.kind(), "front-end");
    assert_eq!(spec.sip_port(), 5061);
    assert_eq!(fe.unanswered_timer_s, 20.0);
    assert_eq!(fe.fast_failover_timer_s, 10.0);
    assert_eq!(fe.routes[0].failover_codes, [503, 504]);
    assert!(fe.trunks[0].fast_failover && !fe.trunks[1].fast_failover);
    assert_eq!(fe.health.max_failures, 10);
    build(FE).unwrap();
    // The trunk configuration the Mediation Server gets: server defaults, the trunk's
    // settings and its translation rules.
    let t1 = fe.trunk_config("t1").unwrap();
    assert_eq!(t1.lync.server, LyncServer::Lync2013);
    assert!(!t1.lync.media_bypass && t1.lync.refer);
    assert!(t1.fails_over_on(StatusCode::new(502).unwrap()));
    let t2 = fe.trunk_config("t2").unwrap();
    assert!(t2.lync.media_bypass && !t2.lync.refer);
    assert!(!t2.fails_over_on(StatusCode::new(502).unwrap()));
    assert!(fe.trunk_config("t9").is_none());
}

#[test]
fn translation_rules_need_lync_2013() {
    let text = FE.replace("domain: Some", "server: Lync2010,\n    domain: Some");
    let err = build(&text).unwrap_err();
    assert_eq!(err.field, "trunks[0].translations", "{err}");
    assert!(err.message.contains("Lync Server 2013"));
    // The same trunk with the rule given as a setting is refused too.
    let text = text.replace(
        ", translations: [(from: 502, to: 503)]",
        ", settings: [Lync(TranslateResponseCode((from: 502, to: 503)))]",
    );
    assert_eq!(build(&text).unwrap_err().field, "trunks[0].translations");
    let ok = FE
        .replace("domain: Some", "server: Lync2010,\n    domain: Some")
        .replace(", translations: [(from: 502, to: 503)]", "");
    build(&ok).unwrap();
}

#[test]
fn unknown_fields_are_refused_with_their_location() {
    let text = FE.replace(
        "voicemail: Some(\"um\"),",
        "voicemail: Some(\"um\"),\n    colour: 3,",
    );
    let err = from_ron_str::<ElementSpec>(Path::new("deployment.ron"), &text).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("deployment.ron:") && msg.contains("colour"),
        "{msg}"
    );
}

#[test]
fn build_errors_name_the_field() {
    let cases = [
        (
            FE.replace(
                "^(\\\\d{4})$\", translation: \"+1425555$1\"",
                "^(\\\\d{4}$\", translation: \"+1425555$1\"",
            ),
            "dial_plans[0].rules[0].pattern",
        ),
        (
            FE.replace("+1206555$1", "+1206555$2"),
            "dial_plans[1].rules[0].translation",
        ),
        (
            FE.replace("trunks: [\"t2\"]", "trunks: [\"t9\"]"),
            "routes[1].trunks[0]",
        ),
        (
            FE.replace("peer: \"gw2\"", "peer: \"nowhere\""),
            "trunks[1].peer",
        ),
        (
            FE.replace("(from: 502, to: 503)", "(from: 502, to: 200)"),
            "trunks[0].translations[0].to",
        ),
        (
            FE.replace("(\"hq\", \"br\")", "(\"hq\", \"mars\")"),
            "cac[0].sites",
        ),
        (FE.replace("Some(\"um\")", "Some(\"med1\")"), "voicemail"),
        (
            FE.replace("scope: Site(\"br\")", "scope: Global"),
            "dial_plans[1].scope",
        ),
    ];
    for (text, field) in cases {
        let err = build(&text).unwrap_err();
        assert_eq!(err.field, field, "{err}");
        assert_eq!(err.element, "fe");
    }
}

#[test]
fn pool_and_voicemail_specs() {
    let pool = r#"LyncPool((name: "pool-hq", node: "pool-hq", front_end: "fe", media: Off))"#;
    let spec: ElementSpec = from_ron_str(Path::new("d.ron"), pool).unwrap();
    assert_eq!((spec.kind(), spec.sip_port()), ("lync-pool", 5060));
    build(pool).unwrap();
    let bad =
        r#"LyncPool((name: "pool-hq", node: "pool-hq", front_end: "fe", codecs: ["PCMU", "AMR"]))"#;
    assert_eq!(build(bad).unwrap_err().field, "codecs[1]");
    let wrong_fe = r#"LyncPool((name: "pool-hq", node: "pool-hq", front_end: "med1"))"#;
    assert_eq!(build(wrong_fe).unwrap_err().field, "front_end");
    let vm = r#"Voicemail((name: "um", node: "um", greeting_s: 3.0))"#;
    build(vm).unwrap();
    let no_pilot = r#"Voicemail((name: "pool-br", node: "um"))"#;
    assert!(build(no_pilot).is_err());
}
