//! RTCP (RFC 3550 §6) only when enabled: SR/RR with loss, jitter and RTT, the §6.2 interval,
//! BYE; and with RTCP disabled, nothing on the wire and no loss/jitter in the monitoring
//! report.

mod media_support;

use media_support::{Link, Loss, Pair};
use voicetwin::rtp::wire::{RtcpCompound, RtcpPacket};
use voicetwin::rtp::{
    Codec, MediaConfig, MediaSession, RtcpConfig, SessionEvent, TalkSpurtModel, Voice,
};
use voicetwin::sim::{RngFactory, SimDuration, SimTime};

fn cfg(rtcp: bool) -> MediaConfig {
    let mut c = MediaConfig::new(Codec::Pcmu.profile());
    let bw = c.codec.ip_bitrate(c.ptime_ms);
    c.rtcp = rtcp.then(|| RtcpConfig::new("alice@lync.example", bw));
    c
}

fn pair(seed: u64, a_cfg: MediaConfig, b_cfg: MediaConfig, delay_ms: u64) -> Pair {
    let f = RngFactory::new(seed);
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
        Link::new(delay_ms, f.stream("ab", "n")),
        Link::new(delay_ms, f.stream("ba", "n")),
    )
}

#[test]
fn enabled_rtcp_reports_loss_jitter_and_rtt() {
    let mut p = pair(1, cfg(true), cfg(true), 40);
    p.ab.loss = Loss::Random(0.02);
    p.ab.jitter = SimDuration::from_millis(10);
    p.run_until(SimTime::from_secs(120));
    let from_b = p.rtcp_from(1);
    assert!(!from_b.is_empty());
    // Every compound starts with an SR (B is sending) and carries SDES CNAME.
    for c in &from_b {
        let rc = RtcpCompound::parse(&c.payload).unwrap();
        assert!(matches!(rc.packets[0], RtcpPacket::SenderReport { .. }));
        assert!(rc.packets.iter().any(|p| matches!(p, RtcpPacket::SourceDescription { chunks } if chunks[0].1 == "alice@lync.example")));
    }
    // A's monitoring report: B's view of A's stream.
    let r =
        p.a.remote_reception()
            .expect("RTCP enabled: the peer reports")
            .clone();
    let local = p.b.reception_stats().unwrap();
    // B's report is at most one interval old, so its cumulative loss is a little behind.
    assert!(r.cumulative_lost > 0 && i64::from(r.cumulative_lost) <= local.cumulative_lost);
    // 2 % loss over ~6000 packets: sd of the count is sqrt(6000*0.02*0.98) = 11 packets,
    // about 0.18 %; allow 4 sd on the loss ratio.
    // (B's report is up to one interval older than `local`: < 5 % of the call.)
    let ratio = f64::from(r.cumulative_lost) / local.expected as f64;
    assert!((ratio - 0.02).abs() < 0.0075, "loss ratio {ratio}");
    // Uniform [0, 10] ms extra delay (in FIFO order) gives a few ms of RFC 3550 jitter.
    assert!(
        r.jitter_ms > 0.5 && r.jitter_ms < 10.0,
        "jitter {}",
        r.jitter_ms
    );
    // RTT = 2 x 40 ms plus the queueing jitter of the one-way link with jitter.
    let rtt = r
        .round_trip
        .expect("A sent SRs, so B's reports carry LSR/DLSR");
    assert!(
        rtt >= SimDuration::from_millis(80) && rtt <= SimDuration::from_millis(91),
        "{rtt}"
    );
    // The RTCP-learnt media clock gives B a network delay for its M2E.
    let d = p.a.delay();
    assert!(d.network.is_some());
    let net = d.network.unwrap();
    // The SR pairs an NTP time with the RTP timestamp of that instant, truncated to one
    // timestamp unit (125 µs at 8 kHz), so the learnt clock is exact to within that unit.
    let lo = SimDuration::from_micros(40_000 - 125);
    assert!(net >= lo && net <= SimDuration::from_millis(41), "{net}");
}

#[test]
fn report_intervals_follow_rfc3550_section_6_2() {
    let mut p = pair(2, cfg(true), cfg(true), 10);
    p.run_until(SimTime::from_secs(3600));
    let times: Vec<f64> = p.rtcp_from(0).iter().map(|c| c.at.as_secs_f64()).collect();
    // The first report comes after half the minimum (2.5 s) randomised and compensated:
    // at most 2.5 * 1.5 / 1.21828 = 3.08 s.
    assert!(times[0] <= 3.08, "first at {}", times[0]);
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    // Two senders at 80 kbit/s: the bandwidth term is far below Tmin = 5 s, so each draw
    // is 5 s * U[0.5, 1.5] / (e - 3/2), mean 4.104 s. Timer reconsideration (A.7 OnExpire)
    // redraws at expiry and waits for a draw below the elapsed time, which lengthens the
    // interval; the e - 3/2 compensation is chosen so that the mean comes back to exactly
    // Tmin = 5 s (a Monte Carlo of the rule gives 5.000). The intervals have sd ~0.75 s, so
    // ~720 gaps give a standard error of 0.03 s. Allow 0.15 s.
    assert!((mean - 5.0).abs() < 0.15, "mean interval {mean}");
    assert!(gaps.iter().all(|&g| (2.05..=6.16).contains(&g)), "{gaps:?}");
}

#[test]
fn disabled_rtcp_sends_nothing_and_the_monitoring_report_lacks_loss_and_jitter() {
    // The seed PBXs' limitation: no RTCP, so the peer's report never arrives.
    let mut p = pair(3, cfg(false), cfg(true), 20);
    p.ab.loss = Loss::Random(0.05);
    p.run_until(SimTime::from_secs(60));
    assert!(p.rtcp_from(0).is_empty(), "RTCP disabled: nothing sent");
    assert!(
        !p.rtcp_from(1).is_empty(),
        "the other side still sends its own"
    );
    assert!(!p.a.rtcp_enabled());
    // A cannot learn how B receives it...
    assert_eq!(p.a.remote_reception(), None);
    assert!(p.a.rtcp_ignored() > 0);
    // ...and B, whose peer never reports, has no report about its own stream either.
    assert_eq!(p.b.remote_reception(), None);
    // Local statistics are still measured by each receiver.
    assert!(p.b.reception_stats().unwrap().cumulative_lost > 0);
}

#[test]
fn bye_on_close() {
    let mut p = pair(4, cfg(true), cfg(true), 10);
    p.run_until(SimTime::from_secs(10));
    p.a.close(SimTime::from_secs(10), Some("hangup"));
    let pkt = p.a.poll_transmit().expect("BYE goes out at once");
    let rc = RtcpCompound::parse(&pkt.payload).unwrap();
    assert!(
        matches!(rc.packets.last(), Some(RtcpPacket::Goodbye { reason: Some(r), .. }) if r == "hangup")
    );
    p.b.handle_datagram(
        SimTime::from_secs(10),
        voicetwin::rtp::Channel::Rtcp,
        &pkt.payload,
    );
    let events: Vec<_> = std::iter::from_fn(|| p.b.poll_event()).collect();
    assert!(events.contains(&SessionEvent::RemoteBye));
    assert_eq!(p.a.poll_timeout(), None, "nothing more to send");
}
