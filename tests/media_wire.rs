//! Wire formats: parse(emit(x)) == x for every codec, and no input makes a parser panic.

use proptest::prelude::*;
use voicetwin::rtp::wire::{
    ComfortNoise, ReportBlock, RtcpCompound, RtcpPacket, RtpRepr, SenderInfo, TelephoneEvent,
    looks_like_rtcp,
};

fn payload_type() -> impl Strategy<Value = u8> {
    (0u8..128).prop_filter("RTCP-colliding payload types", |pt| !(72..=76).contains(pt))
}

fn report_block() -> impl Strategy<Value = ReportBlock> {
    (
        any::<u32>(),
        any::<u8>(),
        -0x80_0000i32..=0x7f_ffff,
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(ssrc, fraction_lost, cumulative_lost, ext, jitter, lsr, dlsr)| ReportBlock {
                ssrc,
                fraction_lost,
                cumulative_lost,
                extended_highest_seq: ext,
                jitter,
                lsr,
                dlsr,
            },
        )
}

fn report() -> impl Strategy<Value = RtcpPacket> {
    prop_oneof![
        (
            any::<u32>(),
            any::<u64>(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            prop::collection::vec(report_block(), 0..4)
        )
            .prop_map(
                |(ssrc, ntp, rtp, pc, oc, reports)| RtcpPacket::SenderReport {
                    ssrc,
                    info: SenderInfo {
                        ntp_timestamp: ntp,
                        rtp_timestamp: rtp,
                        packet_count: pc,
                        octet_count: oc
                    },
                    reports,
                }
            ),
        (any::<u32>(), prop::collection::vec(report_block(), 0..4))
            .prop_map(|(ssrc, reports)| RtcpPacket::ReceiverReport { ssrc, reports }),
    ]
}

fn other() -> impl Strategy<Value = RtcpPacket> {
    prop_oneof![
        prop::collection::vec((any::<u32>(), "[a-z0-9@.]{0,40}"), 1..3)
            .prop_map(|chunks| RtcpPacket::SourceDescription { chunks }),
        (
            prop::collection::vec(any::<u32>(), 1..4),
            proptest::option::of("[a-zA-Z ]{1,60}")
        )
            .prop_map(|(ssrcs, reason)| RtcpPacket::Goodbye { ssrcs, reason }),
        report(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rtp_round_trips(
        marker in any::<bool>(),
        pt in payload_type(),
        seq in any::<u16>(),
        ts in any::<u32>(),
        ssrc in any::<u32>(),
        csrcs in prop::collection::vec(any::<u32>(), 0..=15),
        payload in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let r = RtpRepr { marker, payload_type: pt, sequence_number: seq, timestamp: ts, ssrc, csrcs, payload: &payload };
        let v = r.to_vec().unwrap();
        prop_assert_eq!(v.len(), r.buffer_len());
        prop_assert_eq!(RtpRepr::parse(&v).unwrap(), r);
        prop_assert!(!looks_like_rtcp(&v) || marker && (64..=95).contains(&pt));
    }

    #[test]
    fn rtcp_compound_round_trips(first in report(), rest in prop::collection::vec(other(), 0..4)) {
        let mut packets = vec![first];
        packets.extend(rest);
        let c = RtcpCompound { packets };
        let v = c.to_vec().unwrap();
        prop_assert!(looks_like_rtcp(&v));
        prop_assert_eq!(RtcpCompound::parse(&v).unwrap(), c);
    }

    #[test]
    fn telephone_event_round_trips(event in any::<u8>(), end in any::<bool>(), volume in 0u8..64, duration in any::<u16>()) {
        let e = TelephoneEvent { event, end, volume, duration };
        prop_assert_eq!(TelephoneEvent::parse(&e.emit().unwrap()).unwrap(), e);
    }

    #[test]
    fn comfort_noise_round_trips(level in 0u8..128, reflection in prop::collection::vec(any::<u8>(), 0..12)) {
        let cn = ComfortNoise { level_dbov: level, reflection };
        let mut v = vec![];
        cn.emit(&mut v).unwrap();
        prop_assert_eq!(ComfortNoise::parse(&v).unwrap(), cn);
    }

    #[test]
    fn no_input_panics_a_parser(data in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = RtpRepr::parse(&data);
        let _ = RtcpCompound::parse(&data);
        let _ = TelephoneEvent::parse(&data);
        let _ = ComfortNoise::parse(&data);
    }

    #[test]
    fn rtcp_shaped_garbage_never_panics(
        count in 0u8..32,
        pt in prop_oneof![Just(200u8), Just(201), Just(202), Just(203), Just(204), any::<u8>()],
        words in 0u16..40,
        body in prop::collection::vec(any::<u8>(), 0..180),
        tail in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        // A plausible header (version 2, a real type, a length) over random contents, so
        // the fuzz reaches the per-type parsers rather than stopping at the first check.
        let mut d = vec![0x80 | count, pt];
        d.extend_from_slice(&words.to_be_bytes());
        d.extend_from_slice(&body);
        let len = (usize::from(words) + 1) * 4;
        d.truncate(len.min(d.len()));
        d.extend_from_slice(&tail);
        let _ = RtcpCompound::parse(&d);
    }

    #[test]
    fn rtp_shaped_garbage_never_panics(b0 in any::<u8>(), rest in prop::collection::vec(any::<u8>(), 0..100)) {
        let mut d = vec![0x80 | (b0 & 0x3f)];
        d.extend_from_slice(&rest);
        let _ = RtpRepr::parse(&d);
    }
}

#[test]
fn emit_rejects_invalid_reprs() {
    let r = RtpRepr {
        marker: false,
        payload_type: 200,
        sequence_number: 0,
        timestamp: 0,
        ssrc: 0,
        csrcs: vec![],
        payload: &[],
    };
    assert!(r.to_vec().is_err());
    let r = RtpRepr {
        payload_type: 72,
        ..r
    };
    assert!(r.to_vec().is_err());
    let r = RtpRepr {
        payload_type: 0,
        csrcs: vec![0; 16],
        ..r
    };
    assert!(r.to_vec().is_err());
    assert!(
        TelephoneEvent {
            event: 1,
            end: false,
            volume: 64,
            duration: 0
        }
        .emit()
        .is_err()
    );
    assert!(
        ComfortNoise {
            level_dbov: 128,
            reflection: vec![]
        }
        .emit(&mut vec![])
        .is_err()
    );
}
