//! Traces of one call: a SIP ladder diagram and a pcap of its SIP and RTP.
//!
//! Both are built from the world's capture of the call ([`Captured`] records: datagrams as
//! they were sent and delivered, and ISDN messages). Timestamps are virtual time, so the
//! outputs are byte-identical across runs of the same seed.

mod ladder;
mod pcap;

pub use ladder::{Participants, ladder};
pub use pcap::{write_pcap, write_pcap_to};

pub use crate::elements::host::Captured;
