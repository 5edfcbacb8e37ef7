//! `live`: the real-socket driver behind `serve` and `call`.
//!
//! It drives the same sans-IO SIP code as the simulator over UDP on a real socket. This is
//! the only layer that may read the wall clock.
