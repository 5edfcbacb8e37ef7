//! voicetwin: a deterministic discrete-event simulator and digital twin of enterprise voice
//! networks (Microsoft Lync / Skype for Business Enterprise Voice with Direct SIP to IP-PBXs
//! and SIP-PSTN gateways).
//!
//! `config` is a leaf used by every loader (RON with located errors).
//!
//! The layers are folders, and dependencies only point down this list:
//! `sim` → `net` → `sip`, `rtp` → `vendor` → `elements` → `workload` → `scenario` →
//! `qualify` → `metrics` → `experiment` → `report` → `live` → `cli`.

pub mod cli;
pub mod config;
pub mod elements;
pub mod experiment;
pub mod live;
pub mod metrics;
pub mod net;
pub mod qualify;
pub mod report;
pub mod rtp;
pub mod scenario;
pub mod sim;
pub mod sip;
pub mod vendor;
pub mod workload;

/// The process allocator for every binary, test and bench linking the library. A run
/// allocates and frees many small objects per SIP message (parsed headers, URIs, SDP);
/// mimalloc's per-thread free lists cost about a third of glibc malloc's instructions on
/// that pattern (see `benches/RESULTS.md`). Allocation never reaches an output.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
