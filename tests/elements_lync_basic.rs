//! Lync client ↔ Lync client through the Front End: a basic call with Record-Route,
//! ringback and two-way audio, decline, busy, abandon, DTMF; dial plan normalization
//! seen on the wire; signalling-only pools; determinism.

mod elements_lync_support;

use elements_lync_support::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::callbook::PartyRole;
use voicetwin::elements::lync::MediaMode;
use voicetwin::elements::script::AnswerAction;
use voicetwin::sip::wire::HeaderName;

#[test]
fn basic_call_between_sites_through_the_front_end() {
    let mut lab = Lab::new(Setup::default());
    lab.call_at(
        1.0,
        script(1, HQ1, "+12065550101", BR1, answer(3)),
        "pool-hq",
    );
    lab.run_until(60.0);
    let log = lab.log(1).clone();
    let ladder = lab.ladder();
    assert_eq!(log.outcome, CallOutcome::Answered, "{ladder}");
    assert_eq!(lab.route_names(&log), ["pool-hq", "fe", "pool-br"]);
    // The Front End record-routes: its Record-Route is on the INVITE it forwards and
    // comes back in the 200, and the BYE follows it.
    let invite = lab.between("fe", "pool-br");
    let invite = invite.iter().find(|s| s.is_request("INVITE")).unwrap();
    let rr = invite.header(HeaderName::RecordRoute).unwrap();
    assert!(rr.contains("10.1.0.5:5061") && rr.contains(";lr"), "{rr}");
    let ok = lab
        .between("fe", "pool-hq")
        .into_iter()
        .find(|s| s.status() == Some(200) && s.cseq().contains("INVITE"))
        .unwrap();
    assert!(ok.header(HeaderName::RecordRoute).is_some());
    assert!(
        lab.between("pool-hq", "fe")
            .iter()
            .any(|s| s.is_request("BYE")),
        "the BYE goes through the Front End\n{ladder}"
    );
    assert!(
        lab.between("fe", "pool-br")
            .iter()
            .any(|s| s.is_request("BYE"))
    );
    // The Front End asserts the caller's identity.
    assert_eq!(
        invite.header(HeaderName::PAssertedIdentity),
        Some("<sip:+14255550101@contoso.com;user=phone>")
    );
    // Ringback on 180, answer after the 3 s ring plus two WAN crossings.
    let ring = log.ringback_at.unwrap() - log.started_at;
    assert!(ring.as_secs_f64() < 0.1, "{ring}");
    let setup = (log.answered_at.unwrap() - log.started_at).as_secs_f64();
    assert!((3.0..3.2).contains(&setup), "{setup}");
    // Two-way audio with RTAudio (offered first to other Lync users), RTCP and CN.
    assert!(log.two_way_audio(), "{log:#?}");
    let caller = log.media_for(PartyRole::Caller).unwrap();
    let callee = log.media_for(PartyRole::Callee).unwrap();
    assert_eq!(caller.codec, "x-msrta");
    assert_eq!(callee.codec, "x-msrta");
    assert!(caller.monitor_jitter_ms.is_some() && caller.comfort_noise_played);
    // 20 s of talk across a 21 ms WAN path.
    let m2e = caller.mouth_to_ear_ms.unwrap();
    assert!((21.0..120.0).contains(&m2e), "{m2e}");
    assert!(caller.audio_packets > 100 && callee.audio_packets > 100);
    let ended = (log.ended_at.unwrap() - log.answered_at.unwrap()).as_secs_f64();
    assert!(
        (20.0..20.1).contains(&ended),
        "hang up after holding: {ended}"
    );
    insta::assert_snapshot!("lync_to_lync_ladder", ladder);
}

#[test]
fn decline_busy_and_abandon_are_classified() {
    let mut lab = Lab::new(Setup::default());
    lab.call_at(
        1.0,
        script(1, HQ1, "+12065550101", BR1, AnswerAction::Decline),
        "pool-hq",
    );
    lab.call_at(
        1.0,
        script(2, HQ2, "+12065550102", BR2, AnswerAction::Busy),
        "pool-hq",
    );
    let mut s = script(3, BR1, "+14255550103", HQ3, AnswerAction::NoAnswer);
    s.abandon_after = voicetwin::sim::SimDuration::from_secs(8);
    lab.call_at(1.0, s, "pool-br");
    lab.run_until(60.0);
    let ladder = lab.ladder();
    assert_eq!(lab.log(1).outcome, CallOutcome::Declined, "{ladder}");
    assert_eq!(lab.log(1).final_status, Some(603));
    assert_eq!(lab.log(2).outcome, CallOutcome::Busy);
    assert_eq!(lab.log(2).final_status, Some(486));
    let ab = lab.log(3);
    assert_eq!(ab.outcome, CallOutcome::Abandoned, "{ladder}");
    assert!(ab.ringback_at.is_some());
    assert!(ab.media.is_empty(), "no media before answer");
    // The abandon is a CANCEL through the Front End to the callee's pool.
    let cancels: Vec<_> = lab
        .h
        .sent
        .iter()
        .filter(|s| s.is_request("CANCEL"))
        .map(|s| (s.from.clone(), s.to.clone()))
        .collect();
    assert_eq!(
        cancels,
        [
            ("pool-br".to_string(), "fe".to_string()),
            ("fe".to_string(), "pool-hq".to_string())
        ]
    );
    assert_eq!(lab.front_end().calls_in_progress(), 0);
}

#[test]
fn dial_plan_normalization_on_the_wire() {
    let mut lab = Lab::new(Setup::default());
    // An HQ user dials a 4-digit extension: the global plan makes it +1425555xxxx.
    lab.call_at(1.0, script(1, HQ1, "0102", HQ2, answer(1)), "pool-hq");
    // A branch user dials 4 digits: the branch plan makes it +1206555xxxx.
    lab.call_at(1.0, script(2, BR1, "0102", BR2, answer(1)), "pool-br");
    // A 9-prefixed national number goes out over the first trunk, normalized to E.164.
    lab.call_at(
        1.0,
        script(3, HQ3, "94155551234", PSTN1, answer(1)),
        "pool-hq",
    );
    lab.run_until(60.0);
    let ladder = lab.ladder();
    for t in 1..=3 {
        assert_eq!(lab.log(t).outcome, CallOutcome::Answered, "{t}\n{ladder}");
    }
    let uris: Vec<String> = lab
        .h
        .sent
        .iter()
        .filter(|s| s.from == "fe" && s.is_request("INVITE"))
        .map(|s| s.first_line())
        .collect();
    assert!(
        uris.contains(&"INVITE sip:+14255550102@10.1.0.10:5060;user=phone".to_string()),
        "{uris:?}"
    );
    assert!(
        uris.contains(&"INVITE sip:+12065550102@10.2.0.10:5060;user=phone".to_string()),
        "{uris:?}"
    );
    assert!(
        uris.contains(&"INVITE sip:+14155551234@10.1.0.21:5070;user=phone".to_string()),
        "{uris:?}"
    );
    assert_eq!(lab.route_names(lab.log(3)), ["pool-hq", "fe", "med1"]);
    // Direct SIP: the PSTN side answers G.711 from the Lync offer.
    assert_eq!(
        lab.log(3).media_for(PartyRole::Caller).unwrap().codec,
        "PCMU"
    );
    // The same normalization through the Front End's API.
    let fe = lab.front_end();
    let (n, rule) = fe.normalize(BR1, "0199");
    assert_eq!(n, "+12065550199");
    assert_eq!(rule, Some(("branch".into(), "4-digit".into())));
    assert_eq!(fe.normalize(HQ1, "+442079460000").0, "+442079460000");
    let (policy, trunks) = fe.outbound_routing(HQ1, PSTN1);
    assert_eq!(policy.as_deref(), Some("global"));
    assert_eq!(
        trunks,
        [
            ("universal".to_string(), "t1".to_string()),
            ("universal".to_string(), "t2".to_string())
        ]
    );
}

#[test]
fn unknown_numbers_get_404() {
    let mut setup = Setup::default();
    setup.fe.routes[0].pattern = r"^\+1425".into();
    let mut lab = Lab::new(setup);
    lab.call_at(
        1.0,
        script(1, HQ1, "+442079460000", "+442079460000", answer(1)),
        "pool-hq",
    );
    lab.run_until(10.0);
    let log = lab.log(1);
    assert_eq!(log.final_status, Some(404), "{}", lab.ladder());
    assert_eq!(log.outcome, CallOutcome::Failed);
}

#[test]
fn dtmf_after_answer_reaches_the_callee() {
    let mut lab = Lab::new(Setup::default());
    let mut s = script(1, HQ1, "0102", HQ2, answer(1));
    s.dtmf = Some("1234#".into());
    lab.call_at(1.0, s, "pool-hq");
    lab.run_until(60.0);
    let log = lab.log(1);
    assert_eq!(log.media_for(PartyRole::Callee).unwrap().dtmf_digits, 5);
}

#[test]
fn signalling_only_pools_open_no_media() {
    let mut setup = Setup::default();
    for p in &mut setup.pools {
        p.media = MediaMode::Off;
    }
    let mut lab = Lab::new(setup);
    lab.call_at(
        1.0,
        script(1, HQ1, "+12065550101", BR1, answer(1)),
        "pool-hq",
    );
    lab.run_until(60.0);
    let log = lab.log(1);
    assert_eq!(log.outcome, CallOutcome::Answered);
    assert!(log.media.is_empty());
    assert_eq!(lab.h.media_packets, 0);
    // SDP is still negotiated on the wire.
    let ok = lab
        .between("pool-br", "fe")
        .into_iter()
        .find(|s| s.status() == Some(200) && s.cseq().contains("INVITE"))
        .unwrap();
    assert!(ok.body().contains("m=audio"));
}

#[test]
fn same_seed_same_wire_and_logs() {
    let run = |seed| {
        let mut lab = Lab::new(Setup {
            seed,
            ..Setup::default()
        });
        lab.call_at(
            1.0,
            script(1, HQ1, "+12065550101", BR1, answer(2)),
            "pool-hq",
        );
        lab.call_at(
            1.5,
            script(2, BR2, "94155555678", PSTN2, answer(1)),
            "pool-br",
        );
        lab.run_until(60.0);
        let wire: Vec<String> = lab
            .h
            .sent
            .iter()
            .map(|s| format!("{} {}", s.time, s.message.to_bytes().len()))
            .collect();
        (
            wire,
            lab.sched.trace().fingerprint(),
            format!("{:?}", lab.h.logs),
        )
    };
    let a = run(3);
    assert_eq!(a, run(3));
    assert_ne!(a.1, run(4).1);
}
