//! The offer/answer model (RFC 3264) for one audio stream.

use super::codec::{AddrType, Connection, Media, Origin, SessionDescription};
use super::media::{Codec, Direction};
use crate::sip::error::{Error, Result};

/// What an endpoint can do with audio: where it receives and which codecs it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaCapabilities {
    /// The `c=` and `o=` address: an IP literal or an FQDN.
    pub address: String,
    pub addr_type: AddrType,
    /// The RTP port.
    pub port: u16,
    /// Voice codecs in order of preference.
    pub codecs: Vec<Codec>,
    /// Offer RFC 4733 telephone-event on this payload type (and accept it in offers).
    pub telephone_event: Option<u8>,
    /// Offer and accept comfort noise (RFC 3389, payload type 13).
    pub comfort_noise: bool,
    /// `a=ptime` to write, in ms.
    pub ptime: Option<u32>,
}

impl MediaCapabilities {
    /// G.711 µ-law and A-law, telephone-event on 101, comfort noise, 20 ms.
    pub fn g711(address: &str, port: u16) -> MediaCapabilities {
        let addr_type = if address.contains(':') {
            AddrType::Ip6
        } else {
            AddrType::Ip4
        };
        MediaCapabilities {
            address: address.to_string(),
            addr_type,
            port,
            codecs: vec![Codec::pcmu(), Codec::pcma()],
            telephone_event: Some(101),
            comfort_noise: true,
            ptime: Some(20),
        }
    }

    fn description(&self, session_id: u64, version: u64, media: Vec<Media>) -> SessionDescription {
        SessionDescription {
            origin: Origin {
                username: "-".to_string(),
                session_id,
                session_version: version,
                addr_type: self.addr_type,
                address: self.address.clone(),
            },
            session_name: "-".to_string(),
            connection: Some(Connection::new(self.addr_type, &self.address)),
            bandwidth: Vec::new(),
            timing: vec![(0, 0)],
            attributes: Vec::new(),
            media,
            other: Vec::new(),
        }
    }

    /// An offer of one audio stream with every codec, in preference order.
    pub fn offer(&self, session_id: u64, version: u64, dir: Direction) -> SessionDescription {
        let mut codecs = self.codecs.clone();
        if let Some(pt) = self.telephone_event {
            codecs.push(Codec::telephone_event(pt));
        }
        if self.comfort_noise {
            codecs.push(Codec::comfort_noise());
        }
        let m = Media::audio(self.port, &codecs, self.ptime, dir);
        self.description(session_id, version, vec![m])
    }

    /// True when [`MediaCapabilities::answer`] would accept an audio stream of `offer`.
    pub fn accepts(&self, offer: &SessionDescription) -> bool {
        offer.media.iter().any(|m| {
            m.port != 0
                && m.media == "audio"
                && m.proto.starts_with("RTP/")
                && m.codecs()
                    .iter()
                    .any(|c| c.is_voice() && self.codecs.iter().any(|x| x.same_encoding(c)))
        })
    }

    /// The answer to `offer` (RFC 3264 §6): the first audio stream with a voice codec in
    /// common is accepted with the common codecs in the offer's order and payload numbers
    /// (plus telephone-event and CN when both sides have them); every other stream is
    /// refused with port 0. With nothing acceptable the error maps to 488.
    pub fn answer(
        &self,
        offer: &SessionDescription,
        session_id: u64,
        version: u64,
        local_dir: Direction,
    ) -> Result<SessionDescription> {
        let mut accepted = false;
        let mut media = Vec::with_capacity(offer.media.len());
        for (i, m) in offer.media.iter().enumerate() {
            let common =
                if !accepted && m.port != 0 && m.media == "audio" && m.proto.starts_with("RTP/") {
                    self.common_codecs(m)
                } else {
                    Vec::new()
                };
            if common.iter().any(Codec::is_voice) {
                accepted = true;
                let dir = offer.direction(i).answer(local_dir);
                media.push(Media::audio(self.port, &common, self.ptime, dir));
            } else {
                media.push(Media {
                    port: 0,
                    connection: None,
                    bandwidth: Vec::new(),
                    attributes: Vec::new(),
                    other: Vec::new(),
                    ..m.clone()
                });
            }
        }
        if !accepted {
            return Err(Error::NotAcceptable(
                "no common audio codec in the offer".to_string(),
            ));
        }
        Ok(self.description(session_id, version, media))
    }

    /// The offered codecs this side takes. DTMF events and comfort noise are kept only
    /// at the clock rate of an accepted voice codec (RFC 4733 §2.1, RFC 3389 §5).
    fn common_codecs(&self, m: &Media) -> Vec<Codec> {
        let offered = m.codecs();
        let rates: Vec<u32> = offered
            .iter()
            .filter(|c| c.is_voice() && self.codecs.iter().any(|mine| mine.same_encoding(c)))
            .map(|c| c.clock_rate)
            .collect();
        offered
            .into_iter()
            .filter(|c| {
                if c.is_telephone_event() {
                    self.telephone_event.is_some() && rates.contains(&c.clock_rate)
                } else if c.is_comfort_noise() {
                    self.comfort_noise && rates.contains(&c.clock_rate)
                } else {
                    self.codecs.iter().any(|mine| mine.same_encoding(c))
                }
            })
            .collect()
    }
}

/// What an exchange agreed for the audio stream, from one side's point of view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The voice codec both sides send (the first of the answer).
    pub codec: Codec,
    pub telephone_event: Option<u8>,
    pub comfort_noise: Option<u8>,
    /// Where to send RTP: the peer's address (IP or FQDN) and port.
    pub remote_address: String,
    pub remote_port: u16,
    /// Whether this side sends and/or receives.
    pub direction: Direction,
    /// The peer's packetisation time (20 ms when it gives none).
    pub ptime: u32,
}

/// The outcome of an offer/answer exchange, seen by the side that wrote `local`.
/// `None` when no audio stream was agreed.
pub fn negotiate(
    local: &SessionDescription,
    remote: &SessionDescription,
    local_is_offer: bool,
) -> Option<Negotiated> {
    let answer = if local_is_offer { remote } else { local };
    let i = answer
        .media
        .iter()
        .position(|m| m.media == "audio" && m.port != 0)?;
    let (lm, rm) = (local.media.get(i)?, remote.media.get(i)?);
    if lm.port == 0 || rm.port == 0 {
        return None;
    }
    let answer_codecs = answer.media[i].codecs();
    let codec = answer_codecs.iter().find(|c| c.is_voice())?.clone();
    let find = |f: fn(&Codec) -> bool| answer_codecs.iter().find(|c| f(c)).map(|c| c.payload_type);
    let remote_conn = remote.connection_for(i)?;
    let (ld, rd) = (local.direction(i), remote.direction(i));
    let remote_null = remote_conn.is_null();
    Some(Negotiated {
        telephone_event: find(Codec::is_telephone_event),
        comfort_noise: find(Codec::is_comfort_noise),
        codec,
        remote_address: remote_conn.address.clone(),
        remote_port: rm.port,
        direction: Direction::from_flags(
            ld.sends() && rd.receives() && !remote_null,
            ld.receives() && rd.sends(),
        ),
        ptime: rm.ptime().unwrap_or(20),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(addr: &str, codecs: Vec<Codec>) -> MediaCapabilities {
        MediaCapabilities {
            codecs,
            ..MediaCapabilities::g711(addr, 4000)
        }
    }

    #[test]
    fn answer_intersects_in_the_offerers_order() {
        let a = caps(
            "10.0.0.1",
            vec![Codec::g729(), Codec::pcma(), Codec::pcmu()],
        );
        let b = caps("gw.example.com", vec![Codec::pcmu(), Codec::pcma()]);
        let offer = a.offer(1, 1, Direction::SendRecv);
        let answer = b.answer(&offer, 7, 1, Direction::SendRecv).unwrap();
        let names: Vec<_> = answer.media[0]
            .codecs()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["PCMA", "PCMU", "telephone-event", "CN"]);
        let na = negotiate(&offer, &answer, true).unwrap();
        assert_eq!(na.codec.name, "PCMA");
        assert_eq!(na.telephone_event, Some(101));
        assert_eq!(na.remote_address, "gw.example.com");
        let nb = negotiate(&answer, &offer, false).unwrap();
        assert_eq!(nb.codec, na.codec);
        assert_eq!(nb.remote_address, "10.0.0.1");
    }

    #[test]
    fn nothing_in_common_is_not_acceptable() {
        let a = caps("10.0.0.1", vec![Codec::g729()]);
        let b = caps("10.0.0.2", vec![Codec::pcmu()]);
        let offer = a.offer(1, 1, Direction::SendRecv);
        assert!(matches!(
            b.answer(&offer, 1, 1, Direction::SendRecv),
            Err(Error::NotAcceptable(_))
        ));
    }

    #[test]
    fn hold_and_resume() {
        let a = caps("10.0.0.1", vec![Codec::pcmu()]);
        let b = caps("10.0.0.2", vec![Codec::pcmu()]);
        let hold = a.offer(1, 2, Direction::SendOnly);
        assert!(hold.is_hold(0));
        let ans = b.answer(&hold, 5, 2, Direction::SendRecv).unwrap();
        assert_eq!(ans.direction(0), Direction::RecvOnly);
        assert_eq!(
            negotiate(&hold, &ans, true).unwrap().direction,
            Direction::SendOnly
        );
        assert_eq!(
            negotiate(&ans, &hold, false).unwrap().direction,
            Direction::RecvOnly
        );
        let inactive = a.offer(1, 3, Direction::Inactive);
        let ans = b.answer(&inactive, 5, 3, Direction::SendRecv).unwrap();
        assert_eq!(ans.direction(0), Direction::Inactive);
        let resume = a.offer(1, 4, Direction::SendRecv);
        let ans = b.answer(&resume, 5, 4, Direction::SendRecv).unwrap();
        assert_eq!(ans.direction(0), Direction::SendRecv);
    }

    #[test]
    fn non_audio_streams_are_refused_with_port_zero() {
        let a = caps("10.0.0.1", vec![Codec::pcmu()]);
        let mut offer = a.offer(1, 1, Direction::SendRecv);
        let mut video = offer.media[0].clone();
        video.media = "video".into();
        video.formats = vec!["31".into()];
        offer.media.insert(0, video);
        let ans = a.answer(&offer, 1, 1, Direction::SendRecv).unwrap();
        assert_eq!(ans.media.len(), 2);
        assert_eq!(ans.media[0].port, 0);
        assert_eq!(ans.media[1].port, 4000);
        assert_eq!(negotiate(&offer, &ans, true).unwrap().codec.name, "PCMU");
    }
}
