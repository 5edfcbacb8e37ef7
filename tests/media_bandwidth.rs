//! Bandwidth of a call measured from the packets the sender emits (DESIGN.md numbers):
//! G.711 at 20 ms is 50 packets/s of 200 bytes at IP = 80 kbit/s per direction, 87.2 kbit/s
//! on Ethernet with the FCS and 85.6 kbit/s without.

mod media_support;

use media_support::{Link, Pair};
use voicetwin::rtp::wire::RtpRepr;
use voicetwin::rtp::{Codec, MediaConfig, MediaSession, TalkSpurtModel, Voice};
use voicetwin::sim::{RngFactory, SimTime};

const IP_UDP: usize = 28;

fn measure(codec: Codec) -> (usize, f64, f64, f64) {
    let f = RngFactory::new(11);
    let cfg = MediaConfig::new(codec.profile());
    let mk = |i| {
        MediaSession::new(
            cfg.clone(),
            TalkSpurtModel::constant(Voice::Talking),
            f.indexed_stream("call", "media", i),
            SimTime::ZERO,
        )
        .unwrap()
    };
    let mut pair = Pair::new(
        mk(0),
        mk(1),
        Link::new(20, f.stream("ab", "net")),
        Link::new(20, f.stream("ba", "net")),
    );
    pair.run_until(SimTime::from_secs(60));
    let pkts = pair.rtp_from(0);
    let ip_bytes: usize = pkts.iter().map(|c| c.payload.len() + IP_UDP).sum();
    let secs = 60.0;
    let ip = ip_bytes as f64 * 8.0 / secs;
    let eth = (ip_bytes + pkts.len() * 14) as f64 * 8.0 / secs;
    let eth_fcs = (ip_bytes + pkts.len() * 18) as f64 * 8.0 / secs;
    (pkts.len(), ip, eth_fcs, eth)
}

#[test]
fn g711_call_is_80_kbits_at_ip_87_2_on_ethernet_85_6_captured() {
    for codec in [Codec::Pcmu, Codec::Pcma] {
        let (n, ip, eth_fcs, eth) = measure(codec);
        // A packet leaves at the end of each 20 ms frame: frames ending at 20 ms .. 60 s.
        assert_eq!(n, 3000, "{codec:?}");
        assert_eq!(ip, 80_000.0);
        assert_eq!(eth_fcs, 87_200.0);
        assert_eq!(eth, 85_600.0);
    }
}

#[test]
fn every_g711_packet_is_200_bytes_at_ip_with_consecutive_headers() {
    let f = RngFactory::new(5);
    let cfg = MediaConfig::new(Codec::Pcmu.profile());
    let mk = |i| {
        MediaSession::new(
            cfg.clone(),
            TalkSpurtModel::constant(Voice::Talking),
            f.indexed_stream("call", "media", i),
            SimTime::ZERO,
        )
        .unwrap()
    };
    let mut pair = Pair::new(
        mk(0),
        mk(1),
        Link::new(5, f.stream("ab", "n")),
        Link::new(5, f.stream("ba", "n")),
    );
    pair.run_until(SimTime::from_secs(2));
    let pkts = pair.rtp_from(0);
    let reprs: Vec<_> = pkts
        .iter()
        .map(|c| RtpRepr::parse(&c.payload).unwrap())
        .collect();
    for (i, w) in reprs.windows(2).enumerate() {
        assert_eq!(pkts[i].payload.len() + IP_UDP, 200);
        assert_eq!(w[1].sequence_number, w[0].sequence_number.wrapping_add(1));
        assert_eq!(w[1].timestamp, w[0].timestamp.wrapping_add(160));
        assert_eq!(w[1].ssrc, w[0].ssrc);
        assert_eq!(w[0].payload_type, 0);
        assert_eq!((pkts[i + 1].at - pkts[i].at).as_nanos(), 20_000_000);
    }
    assert!(reprs[0].marker, "first packet starts a talk spurt");
    assert!(reprs[1..].iter().all(|r| !r.marker));
}

#[test]
fn g729_and_rtaudio_rates() {
    let (n, ip, _, _) = measure(Codec::G729a);
    assert_eq!(n, 3000);
    // 20 B payload + 40 B headers at 50 pps.
    assert_eq!(ip, 24_000.0);
    let (n, ip, _, _) = measure(Codec::RtAudioNb);
    assert_eq!(n, 3000);
    assert_eq!(ip, 70.0 * 8.0 * 50.0);
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let capture = |seed| {
        let f = RngFactory::new(seed);
        let mut cfg = MediaConfig::new(Codec::Pcmu.profile());
        cfg.vad = true;
        cfg.comfort_noise = true;
        cfg.rtcp = Some(voicetwin::rtp::RtcpConfig::new("a@b", 80_000.0));
        let mk = |i| {
            MediaSession::new(
                cfg.clone(),
                TalkSpurtModel::p59(f.indexed_stream("call", "talkspurt", i), SimTime::ZERO),
                f.indexed_stream("call", "media", i),
                SimTime::ZERO,
            )
            .unwrap()
        };
        let mut ab = Link::new(20, f.stream("ab", "n"));
        ab.loss = media_support::Loss::Random(0.01);
        ab.jitter = voicetwin::sim::SimDuration::from_millis(15);
        let mut pair = Pair::new(mk(0), mk(1), ab, Link::new(20, f.stream("ba", "n")));
        pair.run_until(SimTime::from_secs(30));
        pair.capture
            .iter()
            .map(|c| (c.at, c.from, c.payload.clone(), c.delivered))
            .collect::<Vec<_>>()
    };
    assert_eq!(capture(77), capture(77));
    assert_ne!(capture(77), capture(78));
}
