//! Media capabilities a B2BUA leg presents: read from the far leg's SDP (media bypass) or
//! built from a codec list at a relay address (media anchored), and the vendor codec names.

use crate::sip::sdp::{Codec, MediaCapabilities, SessionDescription};
use crate::vendor;
use std::net::SocketAddrV4;

/// The RTP payload type Lync uses for RTAudio narrowband.
pub(crate) const RTAUDIO_PT: u8 = 115;

/// What the far end of a leg offered or answered, as capabilities another leg can present
/// unchanged (media bypass): its address, port, voice codecs, DTMF events, CN and ptime.
/// `None` when the SDP has no usable audio stream.
pub(crate) fn caps_from_sdp(sd: &SessionDescription) -> Option<MediaCapabilities> {
    let i = sd
        .media
        .iter()
        .position(|m| m.media == "audio" && m.port != 0)?;
    let m = &sd.media[i];
    let conn = sd.connection_for(i)?;
    let codecs = m.codecs();
    let voice: Vec<Codec> = codecs.iter().filter(|c| c.is_voice()).cloned().collect();
    if voice.is_empty() {
        return None;
    }
    Some(MediaCapabilities {
        address: conn.address.clone(),
        addr_type: conn.addr_type,
        port: m.port,
        codecs: voice,
        telephone_event: codecs
            .iter()
            .find(|c| c.is_telephone_event())
            .map(|c| c.payload_type),
        comfort_noise: codecs.iter().any(Codec::is_comfort_noise),
        ptime: m.ptime(),
    })
}

/// Capabilities at a relay (or media) address with these codecs, telephone-event on 101
/// and comfort noise as asked, 20 ms packets.
pub(crate) fn caps_at(addr: SocketAddrV4, codecs: &[Codec], cn: bool) -> MediaCapabilities {
    let mut caps = MediaCapabilities::g711(&addr.ip().to_string(), addr.port());
    caps.codecs = codecs.to_vec();
    caps.comfort_noise = cn;
    caps
}

/// The SDP codec of a vendor model's codec, for those the media layer can run.
pub(crate) fn sdp_codec(c: vendor::Codec) -> Option<Codec> {
    match c {
        vendor::Codec::Pcmu => Some(Codec::pcmu()),
        vendor::Codec::Pcma => Some(Codec::pcma()),
        vendor::Codec::G729 => Some(Codec::g729()),
        vendor::Codec::G722 => Some(Codec::g722()),
        vendor::Codec::G723 | vendor::Codec::G726 | vendor::Codec::Ilbc => None,
    }
}

/// The SDP codecs of a vendor model, in the model's order; G.711 when none is runnable.
pub(crate) fn model_codecs(model: &vendor::VendorModel) -> Vec<Codec> {
    let v: Vec<Codec> = model
        .capabilities
        .codecs
        .iter()
        .filter_map(|c| sdp_codec(*c))
        .collect();
    if v.is_empty() {
        vec![Codec::pcmu(), Codec::pcma()]
    } else {
        v
    }
}

/// A codec list for a spec: `"PCMU"`, `"PCMA"`, `"G729"`, `"G722"`, `"x-msrta"`.
pub(crate) fn codec_by_name(name: &str) -> Option<Codec> {
    [
        Codec::pcmu(),
        Codec::pcma(),
        Codec::g729(),
        Codec::g722(),
        Codec::rtaudio(RTAUDIO_PT, 8000),
    ]
    .into_iter()
    .find(|c| c.name.eq_ignore_ascii_case(name))
}

/// The first voice codec of `offer`'s audio stream that `mine` also has (the one an answer
/// from `mine` would pick).
pub(crate) fn first_common(offer: &SessionDescription, mine: &[Codec]) -> Option<Codec> {
    let m = offer
        .media
        .iter()
        .find(|m| m.media == "audio" && m.port != 0)?;
    m.codecs()
        .into_iter()
        .find(|c| c.is_voice() && mine.iter().any(|x| x.same_encoding(c)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::sdp::Direction;

    #[test]
    fn caps_round_trip_through_an_offer() {
        let mut caps = MediaCapabilities::g711("10.0.0.5", 20000);
        caps.codecs.insert(0, Codec::rtaudio(RTAUDIO_PT, 8000));
        let offer = caps.offer(1, 1, Direction::SendRecv);
        let back = caps_from_sdp(&offer).unwrap();
        assert_eq!(back.address, "10.0.0.5");
        assert_eq!(back.port, 20000);
        assert_eq!(back.codecs.len(), 3);
        assert_eq!(back.telephone_event, Some(101));
        assert!(back.comfort_noise);
        assert_eq!(first_common(&offer, &[Codec::pcma()]).unwrap().name, "PCMA");
        assert_eq!(
            first_common(&offer, &[Codec::pcmu(), Codec::rtaudio(115, 8000)])
                .unwrap()
                .name,
            "x-msrta"
        );
        assert!(first_common(&offer, &[Codec::g729()]).is_none());
        assert_eq!(codec_by_name("x-MSRTA").unwrap().payload_type, 115);
    }
}
