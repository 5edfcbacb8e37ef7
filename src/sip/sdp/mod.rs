//! SDP (RFC 4566) and the offer/answer model (RFC 3264) for voice calls.
//!
//! An own codec rather than a crate. Both candidates were measured (see the report of
//! issue 3) on a typical G.711 offer: `webrtc-sdp` 0.3 (Mozilla) accepts `c=IN IP4
//! <fqdn>` but is built for JSEP, is MPL-2.0 and took about 10 µs to parse and emit the
//! offer; `sdp` 0.17 (webrtc-rs) also accepts an FQDN but gives only strings (no typed
//! rtpmap, direction or ptime), about 5 µs, and iterates a `HashMap` in its codec helpers.
//! Both pull `url` with `idna` and its ICU tables into the protocol core. A call exchanges
//! two offers and answers, so the SDP cost matters as much as the SIP parse. This codec
//! keeps every line it does not interpret, so parse(emit(x)) == x.
//!
//! What is typed: codecs (PCMU/0, PCMA/8, G722/9, G729/18, CN/13, telephone-event and any
//! dynamic name such as RTAudio `x-msrta`), direction attributes for hold, `c=` with an IP
//! address or an FQDN, and ptime. [`MediaCapabilities::answer`] intersects codecs and
//! fails with [`crate::sip::Error::NotAcceptable`] (488) when nothing is in common.

mod codec;
mod media;
mod offer_answer;

pub use codec::{AddrType, Attribute, Bandwidth, Connection, Media, Origin, SessionDescription};
pub use media::{Codec, Direction};
pub use offer_answer::{MediaCapabilities, Negotiated, negotiate};
