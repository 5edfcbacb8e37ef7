//! `elements`: the network elements of an Enterprise Voice deployment.
//!
//! Lync clients, the Front End (registrar and routing), the Mediation Server, the IP-PBX,
//! PSTN gateways, the PSTN and SIP trunk providers, and Exchange UM voicemail. Each is a
//! sans-IO component over the `sip` and `rtp` stacks, shaped by a `vendor` model. Elements
//! know nothing of the workload generator: the scenario layer hands them scripts.

pub mod tdm;

/// An opaque tag that follows one end-to-end call across every element and leg, so that
/// records from different elements can be joined into one CDR. It never appears on the SIP
/// wire; on ISDN it rides in the SETUP like a billing reference.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallTag(pub u64);
