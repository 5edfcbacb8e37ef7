//! `sip`: the SIP stack (RFC 3261 and the extensions Direct SIP uses).
//!
//! - [`wire`]: messages as bytes ⇄ a typed form, over rsip's header types (compact and
//!   folded headers, Content-Length framing, open methods, exact reason phrases, typed
//!   accessors, RFC 3261 validation with the response that rejects a request).
//! - [`sdp`]: session descriptions (RFC 4566) and offer/answer (RFC 3264).
//! - [`transaction`]: the four RFC 3261 §17 transactions with timers A–K.
//! - [`dialog`]: dialog state and in-dialog request building (§12).
//! - [`ua`]: [`ua::UserAgent`], many concurrent calls behind a call-level API (CANCEL,
//!   PRACK, UPDATE, re-INVITE hold, REFER/Replaces, session timers, OPTIONS).
//! - [`proxy`]: [`proxy::ProxyCore`], a stateful proxy with routing and failover hooks.
//! - [`b2bua`]: linking two user agent legs (Mediation Server, PBX, gateway).
//!
//! Every state machine is sans-IO: it takes `(now, input)` and returns outputs
//! (datagrams, one timer, events); none knows whether a simulator or a socket drives it.
//! Identifiers (Call-IDs, tags, branches, RSeq) come from the seeded generator a user agent
//! or proxy is built with.
//!
//! Depends only on `sim` (time and RNG types). Never schedules events, reads a clock or
//! opens a socket; never panics on received bytes.

pub mod b2bua;
pub mod dialog;
mod error;
pub mod proxy;
pub mod sdp;
pub mod transaction;
mod transport;
pub mod ua;
pub mod wire;

pub use error::{Error, Result};
pub use transport::{Transmit, Transport};
