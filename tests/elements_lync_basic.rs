//! Lync client ↔ Lync client through the Front End: basic call with Record-Route and two-way
//! audio, decline, busy, abandon; dial plan normalization on the wire.

mod elements_lync_support;

use elements_lync_support::*;
use voicetwin::elements::CallOutcome;
use voicetwin::elements::callbook::PartyRole;
use voicetwin::elements::script::AnswerAction;
use voicetwin::sip::wire::HeaderName;

#[test]
fn basic_call_between_sites_through_the_front_end() {
    let mut lab = Lab::new(Setup::default());
    lab.call_at(1.0, script(1, HQ1, "+12065550101", BR1, answer(3)), "pool-hq");
    lab.run_until(60.0);
    let log = lab.log(1).clone();
    assert_eq!(log.outcome, CallOutcome::Answered, "{}", lab.ladder());
    assert_eq!(lab.route_names(&log), ["pool-hq", "fe", "pool-br"]);
    assert!(log.ringback_at.is_some());
    assert!(log.two_way_audio(), "{log:#?}");
    let caller = log.media_for(PartyRole::Caller).unwrap();
    assert_eq!(caller.codec, "x-msrta", "Lync to Lync uses RTAudio");
    println!("{}", lab.ladder());
}
