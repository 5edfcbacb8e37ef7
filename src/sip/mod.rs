//! `sip`: the SIP stack (RFC 3261 and extensions).
//!
//! A wire layer over `rsip` (framing by Content-Length, compact and folded headers, typed
//! accessors), SDP offer/answer, and sans-IO transactions, dialogs and user agents. Every
//! state machine takes `(now, input)` and returns outputs (datagrams, timers, events); none
//! knows whether a simulator or a socket drives it.
//!
//! Depends only on `sim` time types. Never schedules events, reads a clock or opens a socket.

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
