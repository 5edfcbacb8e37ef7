//! Silence: comfort noise (RFC 3389) is sent and played only when both sides negotiated it;
//! without it the sender keeps sending or sends nothing, and a receiver that gets nothing
//! plays silence, not comfort noise.

mod media_support;

use media_support::{Link, Pair};
use voicetwin::rtp::wire::RtpRepr;
use voicetwin::rtp::{Codec, MediaConfig, MediaSession, SessionEvent, TalkSpurtModel, Voice};
use voicetwin::sim::{RngFactory, SimDuration, SimTime};

fn ms(v: u64) -> SimDuration {
    SimDuration::from_millis(v)
}

/// A talks 1 s then pauses 3 s, repeatedly; B stays silent (and sends nothing with VAD).
fn run(a_cfg: MediaConfig, b_cfg: MediaConfig, secs: u64) -> Pair {
    let f = RngFactory::new(21);
    let a = MediaSession::new(
        a_cfg,
        TalkSpurtModel::cycle(ms(1000), ms(3000), SimTime::ZERO),
        f.indexed_stream("call", "media", 0),
        SimTime::ZERO,
    )
    .unwrap();
    let b = MediaSession::new(
        b_cfg,
        TalkSpurtModel::constant(Voice::Silent),
        f.indexed_stream("call", "media", 1),
        SimTime::ZERO,
    )
    .unwrap();
    let mut p = Pair::new(
        a,
        b,
        Link::new(30, f.stream("ab", "n")),
        Link::new(30, f.stream("ba", "n")),
    );
    p.run_until(SimTime::from_secs(secs));
    p
}

fn cfg(vad: bool, cn: bool, suppress: bool) -> MediaConfig {
    let mut c = MediaConfig::new(Codec::Pcmu.profile());
    c.vad = vad;
    c.comfort_noise = cn;
    c.suppress_without_cn = suppress;
    c
}

fn count_pt(p: &Pair, from: usize, pt: u8) -> usize {
    p.rtp_from(from)
        .iter()
        .filter(|c| RtpRepr::parse(&c.payload).unwrap().payload_type == pt)
        .count()
}

#[test]
fn cn_negotiated_on_both_sides_is_sent_and_played() {
    let mut p = run(cfg(true, true, true), cfg(true, true, true), 20);
    // 5 cycles of 4 s: each silence of 3 s has a CN at its start and refreshes at 1 s and
    // 2 s after it (cn_refresh = 1 s): 3 per pause, and the 5th pause is cut at 20 s.
    let cn = count_pt(&p, 0, 13);
    assert_eq!(cn, 15, "CN packets from A");
    // Audio: 50 packets per 1 s talk spurt.
    assert_eq!(count_pt(&p, 0, 0), 250);
    assert!(p.b.observables().comfort_noise_played);
    assert_eq!(p.b.observables().cn_packets, 15);
    assert!(p.b.observables().audio_heard);
    // B is silent all the time: it sends only CN, and A plays it.
    assert_eq!(count_pt(&p, 1, 0), 0);
    assert!(count_pt(&p, 1, 13) > 0);
    assert!(p.a.observables().comfort_noise_played);
    let events: Vec<_> = std::iter::from_fn(|| p.b.poll_event()).collect();
    assert!(events.contains(&SessionEvent::ComfortNoiseStarted));
    // The first audio packet of every talk spurt carries the marker bit.
    let markers = p
        .rtp_from(0)
        .iter()
        .map(|c| RtpRepr::parse(&c.payload).unwrap())
        .filter(|r| r.payload_type == 0 && r.marker)
        .count();
    assert_eq!(markers, 5);
    // A CN packet's timestamp follows the sampling clock: the first CN after a 1 s spurt
    // is 50 frames (8000 units) after the spurt's first packet.
    let reprs: Vec<_> = p
        .rtp_from(0)
        .iter()
        .map(|c| RtpRepr::parse(&c.payload).unwrap().timestamp)
        .collect();
    assert_eq!(reprs[50].wrapping_sub(reprs[0]), 8000);
}

#[test]
fn cn_on_one_side_only_means_no_cn_and_silence_is_not_comfort_noise() {
    // A wants CN but B did not offer it: the negotiated flag is false on both sides.
    let p = run(cfg(true, false, true), cfg(true, false, true), 20);
    assert_eq!(count_pt(&p, 0, 13), 0);
    assert_eq!(
        count_pt(&p, 0, 0),
        250,
        "VAD without CN: nothing during silence"
    );
    assert!(!p.b.observables().comfort_noise_played);
    // B never talks and sends nothing at all: A hears nothing and plays silence, not CN.
    assert_eq!(p.rtp_from(1).len(), 0);
    assert!(!p.a.observables().comfort_noise_played);
    assert!(!p.a.observables().audio_heard);
}

#[test]
fn vad_without_cn_may_keep_sending() {
    let p = run(cfg(true, false, false), cfg(false, false, false), 10);
    assert_eq!(count_pt(&p, 0, 13), 0);
    assert_eq!(count_pt(&p, 0, 0), 500);
    assert_eq!(
        count_pt(&p, 1, 0),
        500,
        "no VAD: continuous audio even when silent"
    );
    assert!(!p.b.observables().comfort_noise_played);
}

#[test]
fn cn_from_a_peer_that_did_not_negotiate_it_is_not_played() {
    // A misbehaves and sends CN; B did not negotiate it and ignores PT 13.
    let p = run(cfg(true, true, true), cfg(true, false, true), 10);
    assert!(count_pt(&p, 0, 13) > 0);
    assert!(!p.b.observables().comfort_noise_played);
    assert!(p.b.observables().unknown_payload_type > 0);
    // The ignored packets still occupy sequence numbers: they are not counted as loss.
    let mut b = p.b;
    b.advance(SimTime::from_secs(11));
    assert_eq!(b.loss_runs().lost, 0);
}

#[test]
fn p59_talk_spurts_cut_packets_to_the_activity_factor() {
    // With VAD and the P.59 model, a party sends audio about 38.7 % of the time.
    let f = RngFactory::new(59);
    let mut total = 0u64;
    let calls: u64 = 40;
    for call in 0..calls {
        let mut c = cfg(true, true, true);
        c.telephone_event_pt = None;
        let mk = |party| {
            MediaSession::new(
                c.clone(),
                TalkSpurtModel::p59(
                    f.indexed_stream("call", "talkspurt", call * 2 + party),
                    SimTime::ZERO,
                ),
                f.indexed_stream("call", "media", call * 2 + party),
                SimTime::ZERO,
            )
            .unwrap()
        };
        let mut p = Pair::new(
            mk(0),
            mk(1),
            Link::new(10, f.stream("ab", "n")),
            Link::new(10, f.stream("ba", "n")),
        );
        p.keep_capture = false;
        p.run_until(SimTime::from_secs(120));
        total += p.a.sender_stats().audio_packets + p.b.sender_stats().audio_packets;
    }
    let frames = 80.0 * 120.0 * 50.0;
    let activity = total as f64 / frames;
    // 80 parties x 120 s hold about 80*120/2.59 = 3700 on/off cycles; the activity of
    // an alternating renewal process has sd about 0.49 * sqrt(2 / 3700) = 0.011 here
    // (exponential on and off times, cv 1). Allow 4 sd around 0.3875.
    assert!((activity - 0.3875).abs() < 0.045, "activity {activity}");
}
