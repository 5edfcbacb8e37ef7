//! Codecs, direction attributes and the typed view of an audio `m=` section.

use super::codec::{Attribute, Media, SessionDescription};

/// The stream direction (RFC 4566 §6, RFC 3264 §5.1), from the writer's point of view.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    pub fn from_attr(name: &str) -> Option<Direction> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    pub(crate) fn from_flags(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// The direction of an answer to an offer with direction `self` from an answerer
    /// that wants `local` (RFC 3264 §6.1): it sends only if the offerer receives and
    /// receives only if the offerer sends.
    pub fn answer(self, local: Direction) -> Direction {
        Direction::from_flags(
            self.receives() && local.sends(),
            self.sends() && local.receives(),
        )
    }
}

/// An RTP payload format: number, encoding name, clock rate, channels and fmtp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Codec {
    pub payload_type: u8,
    pub name: String,
    pub clock_rate: u32,
    pub channels: Option<u8>,
    pub fmtp: Option<String>,
}

/// The static audio payload types of RFC 3551 this stack knows.
const STATIC: &[(u8, &str, u32)] = &[
    (0, "PCMU", 8000),
    (3, "GSM", 8000),
    (4, "G723", 8000),
    (8, "PCMA", 8000),
    (9, "G722", 8000),
    (13, "CN", 8000),
    (18, "G729", 8000),
];

impl Codec {
    pub fn new(payload_type: u8, name: &str, clock_rate: u32) -> Codec {
        Codec {
            payload_type,
            name: name.to_string(),
            clock_rate,
            channels: None,
            fmtp: None,
        }
    }

    /// G.711 µ-law, payload type 0.
    pub fn pcmu() -> Codec {
        Codec::new(0, "PCMU", 8000)
    }

    /// G.711 A-law, payload type 8.
    pub fn pcma() -> Codec {
        Codec::new(8, "PCMA", 8000)
    }

    /// G.722, payload type 9 (its RTP clock is 8000 by RFC 3551's historical error).
    pub fn g722() -> Codec {
        Codec::new(9, "G722", 8000)
    }

    /// G.729, payload type 18; `annexb=no` turns its built-in VAD/CNG off.
    pub fn g729() -> Codec {
        Codec::new(18, "G729", 8000)
    }

    /// Comfort noise (RFC 3389), payload type 13.
    pub fn comfort_noise() -> Codec {
        Codec::new(13, "CN", 8000)
    }

    /// RFC 4733 DTMF events on a dynamic payload type (101 is customary).
    pub fn telephone_event(pt: u8) -> Codec {
        Codec {
            fmtp: Some("0-16".to_string()),
            ..Codec::new(pt, "telephone-event", 8000)
        }
    }

    /// Microsoft RTAudio (an opaque dynamic codec to this stack).
    pub fn rtaudio(pt: u8, clock_rate: u32) -> Codec {
        Codec::new(pt, "x-msrta", clock_rate)
    }

    pub fn is_telephone_event(&self) -> bool {
        self.name.eq_ignore_ascii_case("telephone-event")
    }

    pub fn is_comfort_noise(&self) -> bool {
        self.name.eq_ignore_ascii_case("CN")
    }

    /// A voice codec (not DTMF events nor comfort noise).
    pub fn is_voice(&self) -> bool {
        !self.is_telephone_event() && !self.is_comfort_noise()
    }

    /// Same encoding: name (case-insensitive), clock rate and channels.
    pub fn same_encoding(&self, other: &Codec) -> bool {
        self.name.eq_ignore_ascii_case(&other.name)
            && self.clock_rate == other.clock_rate
            && self.channels.unwrap_or(1) == other.channels.unwrap_or(1)
    }

    fn rtpmap_value(&self) -> String {
        use crate::sip::wire::push_u64;
        let mut s = String::with_capacity(24);
        push_u64(&mut s, u64::from(self.payload_type));
        s.push(' ');
        s.push_str(&self.name);
        s.push('/');
        push_u64(&mut s, u64::from(self.clock_rate));
        if let Some(c) = self.channels {
            s.push('/');
            push_u64(&mut s, u64::from(c));
        }
        s
    }
}

/// A codec from its rtpmap value (`name/rate[/channels]`) and fmtp, or from the static
/// table when there is no rtpmap.
fn resolve(pt: u8, rtpmap: Option<&str>, fmtp: Option<&str>) -> Option<Codec> {
    let fmtp = fmtp.map(str::to_string);
    if let Some(enc) = rtpmap {
        let mut parts = enc.split('/');
        let name = parts.next().filter(|n| !n.is_empty())?;
        let clock_rate = parts.next()?.parse().ok()?;
        let channels = match parts.next() {
            Some(c) => Some(c.parse().ok()?),
            None => None,
        };
        return Some(Codec {
            payload_type: pt,
            name: name.to_string(),
            clock_rate,
            channels,
            fmtp,
        });
    }
    STATIC
        .iter()
        .find(|(p, _, _)| *p == pt)
        .map(|(p, n, r)| Codec {
            fmtp,
            ..Codec::new(*p, n, *r)
        })
}

impl Media {
    /// The `a=rtpmap` of payload type `pt`, or the static definition.
    pub fn codec(&self, pt: u8) -> Option<Codec> {
        let (mut rtpmap, mut fmtp) = (None, None);
        for a in &self.attributes {
            let Some(v) = a.value.as_deref() else {
                continue;
            };
            let target = match a.name.as_str() {
                "rtpmap" => &mut rtpmap,
                "fmtp" => &mut fmtp,
                _ => continue,
            };
            if let Some((p, rest)) = v.split_once(' ') {
                if target.is_none() && p.parse::<u8>().ok() == Some(pt) {
                    *target = Some(rest.trim());
                }
            }
        }
        resolve(pt, rtpmap, fmtp)
    }

    /// Every format of the section that resolves to a codec, in the section's order.
    pub fn codecs(&self) -> Vec<Codec> {
        // One pass over the attributes: (pt, rtpmap, fmtp) for the listed formats.
        let mut table: Vec<(u8, Option<&str>, Option<&str>)> = self
            .formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok())
            .map(|pt| (pt, None, None))
            .collect();
        for a in &self.attributes {
            let Some(v) = a.value.as_deref() else {
                continue;
            };
            let is_map = match a.name.as_str() {
                "rtpmap" => true,
                "fmtp" => false,
                _ => continue,
            };
            let Some((p, rest)) = v.split_once(' ') else {
                continue;
            };
            let Ok(pt) = p.parse::<u8>() else { continue };
            if let Some(e) = table.iter_mut().find(|e| e.0 == pt) {
                let slot = if is_map { &mut e.1 } else { &mut e.2 };
                if slot.is_none() {
                    *slot = Some(rest.trim());
                }
            }
        }
        table
            .into_iter()
            .filter_map(|(pt, m, f)| resolve(pt, m, f))
            .collect()
    }

    /// The section's own direction attribute, if any.
    pub fn direction_attr(&self) -> Option<Direction> {
        self.attributes.iter().rev().find_map(|a| {
            a.value
                .is_none()
                .then(|| Direction::from_attr(&a.name))
                .flatten()
        })
    }

    /// `a=ptime` in milliseconds.
    pub fn ptime(&self) -> Option<u32> {
        self.attributes
            .iter()
            .find(|a| a.name == "ptime")
            .and_then(|a| a.value.as_deref()?.trim().parse().ok())
    }

    /// An RTP audio section built from codecs (rtpmap for every codec, fmtp when set).
    pub fn audio(port: u16, codecs: &[Codec], ptime: Option<u32>, dir: Direction) -> Media {
        let mut attributes = Vec::with_capacity(codecs.len() * 2 + 2);
        for c in codecs {
            attributes.push(Attribute {
                name: "rtpmap".to_string(),
                value: Some(c.rtpmap_value()),
            });
            if let Some(f) = &c.fmtp {
                let mut v = String::with_capacity(f.len() + 4);
                crate::sip::wire::push_u64(&mut v, u64::from(c.payload_type));
                v.push(' ');
                v.push_str(f);
                attributes.push(Attribute {
                    name: "fmtp".to_string(),
                    value: Some(v),
                });
            }
        }
        if let Some(p) = ptime {
            let mut v = String::with_capacity(4);
            crate::sip::wire::push_u64(&mut v, u64::from(p));
            attributes.push(Attribute {
                name: "ptime".to_string(),
                value: Some(v),
            });
        }
        attributes.push(Attribute::new(dir.as_str(), None));
        Media {
            media: "audio".to_string(),
            port,
            port_count: None,
            proto: "RTP/AVP".to_string(),
            formats: codecs.iter().map(|c| c.payload_type.to_string()).collect(),
            connection: None,
            bandwidth: Vec::new(),
            attributes,
            other: Vec::new(),
        }
    }
}

impl SessionDescription {
    /// The direction of media section `i`: its own attribute, else the session's, else
    /// sendrecv.
    pub fn direction(&self, i: usize) -> Direction {
        self.media
            .get(i)
            .and_then(Media::direction_attr)
            .or_else(|| {
                self.attributes.iter().rev().find_map(|a| {
                    a.value
                        .is_none()
                        .then(|| Direction::from_attr(&a.name))
                        .flatten()
                })
            })
            .unwrap_or_default()
    }

    /// True when the description puts the stream on hold: sendonly or inactive, or the
    /// RFC 2543 `c=0.0.0.0`.
    pub fn is_hold(&self, i: usize) -> bool {
        matches!(self.direction(i), Direction::SendOnly | Direction::Inactive)
            || self.connection_for(i).is_some_and(|c| c.is_null())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_directions_follow_rfc3264() {
        use Direction::*;
        assert_eq!(SendRecv.answer(SendRecv), SendRecv);
        assert_eq!(SendOnly.answer(SendRecv), RecvOnly);
        assert_eq!(RecvOnly.answer(SendRecv), SendOnly);
        assert_eq!(Inactive.answer(SendRecv), Inactive);
        assert_eq!(SendOnly.answer(SendOnly), Inactive);
        assert_eq!(SendRecv.answer(Inactive), Inactive);
    }

    #[test]
    fn static_and_dynamic_codecs_resolve() {
        let codecs = [
            Codec::pcmu(),
            Codec::g729(),
            Codec::rtaudio(114, 16000),
            Codec::telephone_event(101),
        ];
        let m = Media::audio(4000, &codecs, Some(20), Direction::SendOnly);
        assert_eq!(m.codecs(), codecs);
        assert_eq!(m.ptime(), Some(20));
        assert_eq!(m.direction_attr(), Some(Direction::SendOnly));
        let mut bare = m.clone();
        bare.attributes.clear();
        let names: Vec<_> = bare.codecs().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["PCMU", "G729"]);
    }
}
