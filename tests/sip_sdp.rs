//! SDP codec and offer/answer: property tests and vendor-shaped examples.

use proptest::prelude::*;
use voicetwin::sip::Error;
use voicetwin::sip::sdp::{
    AddrType, Attribute, Bandwidth, Codec, Connection, Direction, Media, MediaCapabilities, Origin,
    SessionDescription, negotiate,
};

fn address() -> impl Strategy<Value = (AddrType, String)> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| (AddrType::Ip4, std::net::Ipv4Addr::from(a).to_string())),
        any::<u128>().prop_map(|a| (AddrType::Ip6, std::net::Ipv6Addr::from(a).to_string())),
        "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9]{0,8}){1,3}".prop_map(|h| (AddrType::Ip4, h)),
    ]
}

fn attribute() -> impl Strategy<Value = Attribute> {
    ("[a-z][a-z0-9-]{0,12}", prop::option::of("[ -~]{0,20}"))
        .prop_map(|(name, value)| Attribute { name, value })
}

fn media() -> impl Strategy<Value = Media> {
    (
        prop::sample::select(vec!["audio", "video", "image"]),
        any::<u16>(),
        prop::option::of(1u16..4),
        prop::sample::select(vec!["RTP/AVP", "RTP/SAVP", "udptl"]),
        prop::collection::vec("[0-9]{1,3}", 1..6),
        prop::option::of(address()),
        prop::collection::vec(("[A-Z]{2}", any::<u32>()), 0..2),
        prop::collection::vec(attribute(), 0..6),
        prop::option::of("[ -~]{1,10}"),
    )
        .prop_map(
            |(m, port, pc, proto, formats, conn, bw, attributes, info)| Media {
                media: m.to_string(),
                port,
                port_count: pc,
                proto: proto.to_string(),
                formats,
                connection: conn.map(|(t, a)| Connection::new(t, &a)),
                bandwidth: bw
                    .into_iter()
                    .map(|(bwtype, kbps)| Bandwidth { bwtype, kbps })
                    .collect(),
                attributes,
                other: info.into_iter().map(|i| ('i', i)).collect(),
            },
        )
}

prop_compose! {
    fn description()(
        user in "[a-zA-Z0-9-]{1,8}", id in any::<u64>(), ver in any::<u64>(), (ot, oa) in address(),
        name in "[ -~]{0,16}", (ct, ca) in address(),
        timing in prop::collection::vec((any::<u64>(), any::<u64>()), 1..3),
        attributes in prop::collection::vec(attribute(), 0..4),
        media in prop::collection::vec(media(), 0..3),
        info in prop::option::of("[ -~]{1,16}"),
    ) -> SessionDescription {
        SessionDescription {
            origin: Origin { username: user, session_id: id, session_version: ver, addr_type: ot, address: oa },
            session_name: name,
            connection: Some(Connection::new(ct, &ca)),
            bandwidth: vec![],
            timing,
            attributes,
            media,
            other: info.into_iter().map(|i| ('i', i)).collect(),
        }
    }
}

fn codec_pool() -> Vec<Codec> {
    vec![
        Codec::pcmu(),
        Codec::pcma(),
        Codec::g722(),
        Codec::g729(),
        Codec::rtaudio(114, 16000),
        Codec::rtaudio(115, 8000),
    ]
}

fn caps() -> impl Strategy<Value = MediaCapabilities> {
    (
        prop::sample::subsequence(codec_pool(), 0..=6).prop_shuffle(),
        any::<bool>(),
        any::<bool>(),
        address(),
        1024u16..65000,
    )
        .prop_map(|(codecs, te, cn, (t, a), port)| MediaCapabilities {
            address: a,
            addr_type: t,
            port,
            codecs,
            telephone_event: te.then_some(101),
            comfort_noise: cn,
            ptime: Some(20),
        })
}

fn direction() -> impl Strategy<Value = Direction> {
    prop::sample::select(vec![
        Direction::SendRecv,
        Direction::SendOnly,
        Direction::RecvOnly,
        Direction::Inactive,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_emit_round_trip(sd in description()) {
        let text = sd.to_text();
        prop_assert_eq!(SessionDescription::parse(text.as_bytes()).unwrap(), sd);
    }

    #[test]
    fn parse_never_panics(b in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = SessionDescription::parse(&b);
    }

    #[test]
    fn answers_obey_rfc3264(a in caps(), b in caps(), odir in direction(), adir in direction()) {
        let offer = a.offer(1, 1, odir);
        let offered_voice: Vec<Codec> = offer.media[0].codecs().into_iter().filter(Codec::is_voice).collect();
        let common = offered_voice.iter().any(|c| b.codecs.iter().any(|m| m.same_encoding(c)));
        match b.answer(&offer, 2, 1, adir) {
            Err(Error::NotAcceptable(_)) => prop_assert!(!common),
            Err(e) => prop_assert!(false, "unexpected {e}"),
            Ok(ans) => {
                prop_assert!(common);
                // Nothing in the answer that was not offered, with the offer's numbers.
                let offered = offer.media[0].codecs();
                for c in ans.media[0].codecs() {
                    prop_assert!(offered.iter().any(|o| o.payload_type == c.payload_type && o.same_encoding(&c)));
                }
                prop_assert_eq!(ans.direction(0), odir.answer(adir));
                let na = negotiate(&offer, &ans, true).unwrap();
                let nb = negotiate(&ans, &offer, false).unwrap();
                prop_assert_eq!(&na.codec, &nb.codec);
                prop_assert_eq!(na.direction.sends(), nb.direction.receives());
                prop_assert_eq!(na.direction.receives(), nb.direction.sends());
                // The chosen codec is the first voice codec of the offer that both have.
                let first = offered_voice.iter().find(|c| b.codecs.iter().any(|m| m.same_encoding(c))).unwrap();
                prop_assert!(na.codec.same_encoding(first));
                let text = ans.to_text();
                prop_assert_eq!(SessionDescription::parse(text.as_bytes()).unwrap(), ans);
            }
        }
    }
}

#[test]
fn vendor_offers_with_fqdn_and_opaque_codecs() {
    // A Mediation Server style offer: FQDN connection, RTAudio and SIREN before G.711.
    let lync = "v=0\r\no=- 0 0 IN IP4 med01.contoso.com\r\ns=session\r\nc=IN IP4 med01.contoso.com\r\nb=CT:1000\r\nt=0 0\r\nm=audio 60360 RTP/AVP 114 111 112 115 116 4 8 0 97 13 118 101\r\na=rtcp:60361\r\na=label:Audio\r\na=rtpmap:114 x-msrta/16000\r\na=fmtp:114 bitrate=29000\r\na=rtpmap:111 SIREN/16000\r\na=fmtp:111 bitrate=16000\r\na=rtpmap:112 G7221/16000\r\na=fmtp:112 bitrate=24000\r\na=rtpmap:115 x-msrta/8000\r\na=fmtp:115 bitrate=11800\r\na=rtpmap:116 AAL2-G726-32/8000\r\na=rtpmap:4 G723/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:97 RED/8000\r\na=rtpmap:13 CN/8000\r\na=rtpmap:118 CN/16000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n";
    let offer = SessionDescription::parse(lync.as_bytes()).unwrap();
    assert_eq!(offer.to_text(), lync);
    assert_eq!(
        offer.connection_for(0).unwrap().address,
        "med01.contoso.com"
    );
    let pbx = MediaCapabilities::g711("192.0.2.50", 20000);
    let ans = pbx.answer(&offer, 99, 1, Direction::SendRecv).unwrap();
    let names: Vec<_> = ans.media[0].codecs().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["PCMA", "PCMU", "CN", "telephone-event"]);
    let n = negotiate(&ans, &offer, false).unwrap();
    assert_eq!(n.codec.name, "PCMA");
    assert_eq!(
        (n.remote_address.as_str(), n.remote_port),
        ("med01.contoso.com", 60360)
    );
    assert_eq!(n.telephone_event, Some(101));
    assert_eq!(n.comfort_noise, Some(13));

    // The same gateway with only G.729 cannot talk to an RTAudio/G.711-only offer.
    let g729_only = MediaCapabilities {
        codecs: vec![Codec::g729()],
        ..pbx
    };
    let mut no_g729 = offer.clone();
    no_g729.media[0].formats.retain(|f| f != "18");
    assert!(matches!(
        g729_only.answer(&no_g729, 1, 1, Direction::SendRecv),
        Err(Error::NotAcceptable(_))
    ));
}

#[test]
fn rfc2543_hold_address_is_a_hold() {
    let text = "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let sd = SessionDescription::parse(text.as_bytes()).unwrap();
    assert!(sd.is_hold(0));
    assert_eq!(sd.direction(0), Direction::SendRecv);
}
