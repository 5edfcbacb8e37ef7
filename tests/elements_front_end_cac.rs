//! Call admission control between the hq and br sites: the (limit+1)-th concurrent call
//! is rejected or rerouted over the PSTN, by session count or by bandwidth at the
//! offered codec's IP rate; admitted sessions are given back at the BYE.

mod elements_lync_support;

use elements_lync_support::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::front_end::{CacOverflow, CacSpec};
use voicetwin::sim::SimDuration;

const BR3: &str = "+12065550103";

fn cac(max_sessions: Option<u32>, max_kbps: Option<f64>, overflow: CacOverflow) -> Setup {
    let mut s = Setup::default();
    s.fe.cac = vec![CacSpec {
        sites: ("hq".into(), "br".into()),
        max_sessions,
        max_kbps,
        overflow,
    }];
    s
}

fn three_calls(lab: &mut Lab) {
    for (t, (from, to)) in [(HQ1, BR1), (HQ2, BR2), (HQ3, BR3)].into_iter().enumerate() {
        let mut s = script(t as u64 + 1, from, to, to, answer(1));
        s.holding = SimDuration::from_secs(30);
        lab.call_at(1.0 + t as f64, s, "pool-hq");
    }
}

#[test]
fn over_the_session_limit_the_call_is_rejected() {
    let mut lab = Lab::new(cac(Some(2), None, CacOverflow::Reject));
    three_calls(&mut lab);
    // Within a site nothing is limited.
    lab.call_at(
        3.5,
        script(9, BR1, "0109", "+12065550109", answer(1)),
        "pool-br",
    );
    lab.run_until(20.0);
    assert_eq!(lab.front_end().cac_sessions("hq", "br"), Some((2, 2)));
    lab.run_until(80.0);
    let ladder = lab.ladder();
    assert_eq!(lab.log(1).outcome, CallOutcome::Answered, "{ladder}");
    assert_eq!(lab.log(2).outcome, CallOutcome::Answered);
    let third = lab.log(3);
    assert_eq!(third.outcome, CallOutcome::RejectedCapacity, "{ladder}");
    assert_eq!(third.final_status, Some(503));
    assert_eq!(
        lab.route_names(third),
        ["pool-hq", "fe"],
        "it never left the Front End"
    );
    assert_eq!(lab.log(9).outcome, CallOutcome::Answered);
    // The BYEs gave the sessions back.
    assert_eq!(lab.front_end().cac_sessions("hq", "br"), Some((0, 2)));
    assert_eq!(lab.front_end().stats().cac_refused, 1);
}

#[test]
fn over_the_limit_the_call_is_rerouted_through_the_pstn() {
    let mut lab = Lab::new(cac(Some(2), None, CacOverflow::RerouteViaPstn));
    three_calls(&mut lab);
    lab.run_until(80.0);
    let ladder = lab.ladder();
    let third = lab.log(3);
    assert_eq!(third.outcome, CallOutcome::Answered, "{ladder}");
    // Out through the caller's PSTN route to the callee's DID.
    assert_eq!(lab.route_names(third), ["pool-hq", "fe", "med1"]);
    let inv = lab
        .between("fe", "med1")
        .into_iter()
        .find(|s| s.is_request("INVITE"))
        .unwrap();
    assert_eq!(
        inv.first_line(),
        "INVITE sip:+12065550103@10.1.0.21:5070;user=phone"
    );
    assert_eq!(lab.route_names(lab.log(1)), ["pool-hq", "fe", "pool-br"]);
    assert_eq!(lab.front_end().stats().cac_rerouted, 1);
    assert_eq!(lab.front_end().cac_sessions("hq", "br"), Some((0, 2)));
}

#[test]
fn a_bandwidth_limit_counts_the_codec_ip_rate() {
    // RTAudio narrowband at 20 ms: 30-byte frames + 40 bytes of RTP/UDP/IP = 28 kbit/s.
    // 60 kbit/s admits two calls, not three.
    let mut lab = Lab::new(cac(None, Some(60.0), CacOverflow::Reject));
    three_calls(&mut lab);
    lab.run_until(80.0);
    assert_eq!(
        lab.log(2).outcome,
        CallOutcome::Answered,
        "{}",
        lab.ladder()
    );
    assert_eq!(lab.log(3).outcome, CallOutcome::RejectedCapacity);
    // G.711 only (80 kbit/s at IP): 100 kbit/s admits one.
    let mut setup = cac(None, Some(100.0), CacOverflow::Reject);
    for p in &mut setup.pools {
        p.codecs = vec!["PCMU".into()];
    }
    let mut lab = Lab::new(setup);
    three_calls(&mut lab);
    lab.run_until(80.0);
    assert_eq!(
        lab.log(1).outcome,
        CallOutcome::Answered,
        "{}",
        lab.ladder()
    );
    assert_eq!(lab.log(2).outcome, CallOutcome::RejectedCapacity);
    assert_eq!(lab.log(3).outcome, CallOutcome::RejectedCapacity);
}

#[test]
fn released_sessions_admit_new_calls() {
    let mut lab = Lab::new(cac(Some(1), None, CacOverflow::Reject));
    let mut s = script(1, HQ1, BR1, BR1, answer(1));
    s.holding = SimDuration::from_secs(5);
    lab.call_at(1.0, s, "pool-hq");
    lab.call_at(3.0, script(2, HQ2, BR2, BR2, answer(1)), "pool-hq");
    lab.call_at(10.0, script(3, HQ3, BR3, BR3, answer(1)), "pool-hq");
    lab.run_until(60.0);
    assert_eq!(lab.log(1).outcome, CallOutcome::Answered);
    assert_eq!(
        lab.log(2).outcome,
        CallOutcome::RejectedCapacity,
        "{}",
        lab.ladder()
    );
    assert_eq!(lab.log(3).outcome, CallOutcome::Answered);
}
