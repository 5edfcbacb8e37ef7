//! `live`: the real-socket driver behind `serve` and `call`.
//!
//! It runs the simulator's own elements (any [`crate::elements::Element`], driven through
//! the same `Cx`) over UDP sockets on a real network interface, their single timer and
//! their media sessions on the wall clock: SIP datagrams go to and come from real peers
//! such as SIPp, and the media engine's RTP/RTCP uses one real socket pair per media
//! address. Nothing in the elements, the SIP stack or the RTP stack knows which driver
//! runs it; only this layer differs from the simulator's `World`.
//!
//! This is the only layer that may read the wall clock ([`WallClock`] maps it onto
//! `SimTime`) or open sockets. Live runs are therefore not reproducible; identifiers and
//! media still come from seeded streams. It binds loopback unless told otherwise, never
//! panics on what arrives, and stops cleanly on SIGINT/SIGTERM.
//!
//! - [`LiveHost`]: elements on sockets, one `mio` poll loop, the call book and media engine.
//! - [`Server`]: `voicetwin serve MODEL`; [`Caller`]: `voicetwin call URI`.
//! - [`LiveModel`]: what a MODEL argument becomes on the wire, and what of it is applied.

mod call;
mod clock;
mod error;
mod host;
mod inbound;
mod model;
mod serve;
mod signal;
mod sockets;

pub use call::{CallConfig, CallReport, CallResult, Caller, DEFAULT_USER, Target};
pub use clock::{WallClock, fresh_seed};
pub use error::LiveError;
pub use host::{HostOptions, LiveHost, LiveStats, SipSocket};
pub use inbound::{InboundStats, REMOTE_PARTY};
pub use model::{Applied, LiveModel, Served, build_from_spec, calling_element, serving_element};
pub use serve::{ServeConfig, ServeSummary, Server, StopReason};
pub use signal::stop_on_signals;
