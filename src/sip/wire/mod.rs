//! The SIP wire layer: parse bytes into a validated typed form, emit bytes from it.
//!
//! Messages are an open start line (any method token, the reason phrase kept exactly)
//! plus a list of rsip untyped headers ([`Headers`]) and a body. This thin layer covers
//! what rsip 0.4 does not do:
//! - compact header forms (`i:`, `f:`, `t:`, `v:`, `l:`, `m:`, `k:`, `c:`, ...) map to the
//!   full names;
//! - folded header lines are unfolded;
//! - the body is framed by Content-Length, which must not exceed the bytes present
//!   ([`StreamFramer`] frames stream transports);
//! - methods are an open, case-sensitive set ([`Method::Extension`]);
//! - reason phrases are kept byte for byte;
//! - nothing has a random default: Call-IDs, tags and branches are always given.
//!
//! URIs and the typed header values (Via, name-addr, CSeq, RAck, Session-Expires,
//! Replaces...) are parsed by our own code because rsip's typed parsers mis-read `tel:`
//! URIs, drop URI headers and reject IPv6 Vias and quoted display names (see `uri.rs`).
//! Nothing here panics on input; errors say what and where.

mod framer;
mod headers;
mod message;
mod method;
mod params;
mod parse;
pub(crate) mod scan;
mod typed;
mod uri;
mod validate;

pub use framer::StreamFramer;
pub use headers::{HeaderName, Headers};
pub use message::{Message, Request, Response, Version, reason_phrase};
pub use method::Method;
pub use params::{Param, Params};
pub use parse::{Salvage, salvage};
pub use typed::{
    CSeq, MAGIC_COOKIE, MediaType, NameAddr, RAck, Reason, Refresher, Replaces, SessionExpires,
    TokenParams, Via, split_accept,
};
pub use uri::{Host, SipUri, Uri, escape, unescape};
pub use validate::{
    Essentials, Policy, Reject, check_request, check_response, is_known_method, make_response,
    make_response_from,
};

#[allow(unused_imports)]
pub(crate) use message::push_u64;
