//! Hold and resume (RFC 3264 §8.4): sendonly/inactive stops media the right way, resume
//! restarts it with continuous sequence numbers, a timestamp that reflects the elapsed time
//! (RFC 3550 §5.1) and the marker bit; RTCP goes on during hold.

mod media_support;

use media_support::{Link, Pair};
use voicetwin::rtp::wire::RtpRepr;
use voicetwin::rtp::{
    Codec, Direction, MediaConfig, MediaSession, RtcpConfig, TalkSpurtModel, Voice,
};
use voicetwin::sim::{RngFactory, SimTime};

fn pair(rtcp: bool) -> Pair {
    let f = RngFactory::new(3264);
    let mut cfg = MediaConfig::new(Codec::Pcmu.profile());
    if rtcp {
        cfg.rtcp = Some(RtcpConfig::new("x@y", 80_000.0));
    }
    let mk = |i| {
        MediaSession::new(
            cfg.clone(),
            TalkSpurtModel::constant(Voice::Talking),
            f.indexed_stream("call", "media", i),
            SimTime::ZERO,
        )
        .unwrap()
    };
    Pair::new(
        mk(0),
        mk(1),
        Link::new(25, f.stream("ab", "n")),
        Link::new(25, f.stream("ba", "n")),
    )
}

fn sent_between(p: &Pair, from: usize, a: u64, b: u64) -> usize {
    p.rtp_from(from)
        .iter()
        .filter(|c| c.at > SimTime::from_millis(a) && c.at <= SimTime::from_millis(b))
        .count()
}

#[test]
fn sendonly_hold_stops_the_held_party_and_resume_restarts_it() {
    let mut p = pair(true);
    p.run_until(SimTime::from_secs(5));
    // A holds: a=sendonly (music on hold may flow A -> B); B answers recvonly.
    p.a.set_direction(SimTime::from_secs(5), Direction::SendOnly);
    p.b.set_direction(SimTime::from_secs(5), Direction::RecvOnly);
    p.run_until(SimTime::from_secs(10));
    assert_eq!(
        sent_between(&p, 1, 5000, 10_000),
        0,
        "held party sends nothing"
    );
    assert_eq!(
        sent_between(&p, 0, 5000, 10_000),
        250,
        "holder may keep sending"
    );
    assert!(
        !p.rtcp_from(1).iter().all(|c| c.at <= SimTime::from_secs(5)),
        "RTCP goes on"
    );
    let audio_before = p.a.observables().audio_packets;
    p.a.set_direction(SimTime::from_secs(10), Direction::SendRecv);
    p.b.set_direction(SimTime::from_secs(10), Direction::SendRecv);
    p.run_until(SimTime::from_secs(15));
    assert_eq!(sent_between(&p, 1, 10_000, 15_000), 250, "resumed");
    assert!(p.a.observables().audio_packets > audio_before);
    let b: Vec<_> = p
        .rtp_from(1)
        .iter()
        .map(|c| RtpRepr::parse(&c.payload).unwrap())
        .collect();
    // Packets 0..249 before hold, 250.. after resume.
    let (last, first) = (&b[249], &b[250]);
    assert_eq!(first.sequence_number, last.sequence_number.wrapping_add(1));
    assert!(first.marker);
    assert_eq!(first.ssrc, last.ssrc);
    // The last frame before hold began at 4.98 s and the first after resume at 10 s:
    // 5.02 s = 40160 units.
    assert_eq!(first.timestamp.wrapping_sub(last.timestamp), 40_160);
    // Across the hold itself A's receiver counts no loss: sequence numbers are contiguous.
    // Only the two packets B sent at 4.98 s and 5.00 s, still in flight (25 ms) when A
    // stopped receiving at 5 s, are dropped by A and so counted lost.
    p.a.advance(SimTime::from_secs(16));
    assert_eq!(p.a.loss_runs().lost, 2);
    assert_eq!(p.a.reception_stats().unwrap().cumulative_lost, 2);
    assert_eq!(p.a.observables().ignored_not_receiving, 2);
}

#[test]
fn inactive_stops_both_directions_but_not_rtcp() {
    let mut p = pair(true);
    p.run_until(SimTime::from_secs(2));
    p.a.set_direction(SimTime::from_secs(2), Direction::Inactive);
    p.b.set_direction(SimTime::from_secs(2), Direction::Inactive);
    p.run_until(SimTime::from_secs(30));
    assert_eq!(sent_between(&p, 0, 2000, 30_000), 0);
    assert_eq!(sent_between(&p, 1, 2000, 30_000), 0);
    let rtcp_during = p
        .rtcp_from(0)
        .iter()
        .filter(|c| c.at > SimTime::from_secs(2))
        .count();
    assert!(
        rtcp_during >= 4,
        "RTCP continues while inactive ({rtcp_during})"
    );
    p.a.set_direction(SimTime::from_secs(30), Direction::SendRecv);
    p.b.set_direction(SimTime::from_secs(30), Direction::SendRecv);
    p.run_until(SimTime::from_secs(31));
    assert_eq!(sent_between(&p, 0, 30_000, 31_000), 50);
}

#[test]
fn a_receiver_that_does_not_receive_ignores_media() {
    let mut p = pair(false);
    // B is sendonly towards A (A is recvonly) but A misbehaves and keeps sending.
    p.b.set_direction(SimTime::ZERO, Direction::SendOnly);
    p.run_until(SimTime::from_secs(1));
    assert!(p.b.observables().ignored_not_receiving > 0);
    assert!(!p.b.observables().audio_heard);
    assert!(p.a.observables().audio_heard);
}
