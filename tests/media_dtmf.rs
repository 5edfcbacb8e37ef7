//! DTMF (RFC 4733): digits on the wire and at the receiver, including early media only
//! when the sender supports it.

mod media_support;

use media_support::{Link, Pair};
use voicetwin::rtp::wire::{RtpRepr, TelephoneEvent};
use voicetwin::rtp::{CallPhase, Codec, MediaConfig, MediaSession, TalkSpurtModel, Voice};
use voicetwin::sim::{RngFactory, SimDuration, SimTime};

fn pair(a_cfg: MediaConfig, b_cfg: MediaConfig) -> Pair {
    let f = RngFactory::new(4733);
    let mk = |cfg: MediaConfig, i| {
        MediaSession::new(
            cfg,
            TalkSpurtModel::constant(Voice::Talking),
            f.indexed_stream("call", "media", i),
            SimTime::ZERO,
        )
        .unwrap()
    };
    Pair::new(
        mk(a_cfg, 0),
        mk(b_cfg, 1),
        Link::new(15, f.stream("ab", "n")),
        Link::new(15, f.stream("ba", "n")),
    )
}

fn events(p: &Pair) -> Vec<(RtpRepr<'_>, TelephoneEvent)> {
    p.rtp_from(0)
        .into_iter()
        .map(|c| RtpRepr::parse(&c.payload).unwrap())
        .filter(|r| r.payload_type == 101)
        .map(|r| {
            let e = TelephoneEvent::parse(r.payload).unwrap();
            (r, e)
        })
        .collect()
}

#[test]
fn a_digit_follows_rfc4733_on_the_wire() {
    let cfg = MediaConfig::new(Codec::Pcma.profile());
    let mut p = pair(cfg.clone(), cfg);
    p.run_until(SimTime::from_millis(500));
    assert!(p.a.send_dtmf('7', SimDuration::from_millis(100)).unwrap());
    p.run_until(SimTime::from_secs(2));
    let ev = events(&p);
    // 100 ms at 20 ms updates: durations 160, 320, 480, 640, 800 (the last with E), then
    // the end packet twice more.
    let durations: Vec<u16> = ev.iter().map(|(_, e)| e.duration).collect();
    assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
    let ends: Vec<bool> = ev.iter().map(|(_, e)| e.end).collect();
    assert_eq!(ends, [false, false, false, false, true, true, true]);
    assert!(ev[0].0.marker && ev[1..].iter().all(|(r, _)| !r.marker));
    assert!(
        ev.iter()
            .all(|(r, e)| r.timestamp == ev[0].0.timestamp && e.event == 7 && e.volume == 10)
    );
    // Sequence numbers keep counting through the event and the audio around it.
    let all: Vec<_> = p
        .rtp_from(0)
        .iter()
        .map(|c| RtpRepr::parse(&c.payload).unwrap().sequence_number)
        .collect();
    assert!(all.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
    // The receiver reports one digit, with its duration, not during early media.
    let got = &p.b.observables().dtmf;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].digit, '7');
    assert!(!got[0].early_media);
    assert_eq!(got[0].duration, Some(SimDuration::from_millis(100)));
    // Event packets do not count as loss or jitter.
    p.b.advance(SimTime::from_secs(3));
    assert_eq!(p.b.loss_runs().lost, 0);
    assert_eq!(p.b.reception_stats().unwrap().jitter_ts, 0.0);
}

#[test]
fn a_sequence_of_digits_arrives_in_order() {
    let cfg = MediaConfig::new(Codec::Pcmu.profile());
    let mut p = pair(cfg.clone(), cfg);
    for d in "123#*0A".chars() {
        assert!(p.a.send_dtmf(d, SimDuration::from_millis(80)).unwrap());
    }
    p.run_until(SimTime::from_secs(3));
    let digits: String = p.b.observables().dtmf.iter().map(|d| d.digit).collect();
    assert_eq!(digits, "123#*0A");
}

#[test]
fn dtmf_in_early_media_only_when_the_sender_supports_it() {
    for supports in [true, false] {
        let mut a_cfg = MediaConfig::new(Codec::Pcmu.profile());
        a_cfg.dtmf_in_early_media = supports;
        let mut p = pair(a_cfg, MediaConfig::new(Codec::Pcmu.profile()));
        p.a.set_phase(CallPhase::EarlyMedia);
        p.b.set_phase(CallPhase::EarlyMedia);
        p.run_until(SimTime::from_millis(300));
        let queued = p.a.send_dtmf('5', SimDuration::from_millis(120)).unwrap();
        assert_eq!(queued, supports);
        p.run_until(SimTime::from_secs(1));
        let got = &p.b.observables().dtmf;
        assert!(p.b.observables().early_media_heard);
        if supports {
            assert_eq!(got.len(), 1);
            assert!(got[0].early_media);
        } else {
            assert!(got.is_empty(), "no DTMF in early media");
            assert!(events(&p).is_empty(), "nothing on the wire either");
            assert_eq!(p.a.sender_stats().dtmf_suppressed, 1);
        }
        // After the 200 OK the same sender can send digits.
        p.a.set_phase(CallPhase::Connected);
        p.b.set_phase(CallPhase::Connected);
        assert!(p.a.send_dtmf('9', SimDuration::from_millis(100)).unwrap());
        p.run_until(SimTime::from_secs(2));
        let last = p.b.observables().dtmf.last().unwrap();
        assert_eq!((last.digit, last.early_media), ('9', false));
    }
}

#[test]
fn no_telephone_event_negotiated_means_no_digits() {
    let mut cfg = MediaConfig::new(Codec::Pcmu.profile());
    cfg.telephone_event_pt = None;
    let mut p = pair(cfg.clone(), cfg);
    assert!(!p.a.send_dtmf('1', SimDuration::from_millis(100)).unwrap());
    p.run_until(SimTime::from_secs(1));
    assert!(p.b.observables().dtmf.is_empty());
    assert!(p.a.send_dtmf('x', SimDuration::from_millis(100)).is_err());
    assert!(
        p.a.send_dtmf('1', SimDuration::from_secs(9)).is_err(),
        "> 65535 units"
    );
}

#[test]
fn a_lost_first_packet_still_delivers_the_digit_once() {
    let cfg = MediaConfig::new(Codec::Pcmu.profile());
    let mut p = pair(cfg.clone(), cfg);
    p.run_until(SimTime::from_millis(200));
    p.a.send_dtmf('4', SimDuration::from_millis(100)).unwrap();
    // Lose everything A sends for the next 30 ms (the first event packet).
    p.ab.loss = media_support::Loss::Random(1.0);
    p.run_until(SimTime::from_millis(230));
    p.ab.loss = media_support::Loss::None;
    p.run_until(SimTime::from_secs(1));
    let got = &p.b.observables().dtmf;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].duration, Some(SimDuration::from_millis(100)));
}
