//! `elements`: the network elements of an Enterprise Voice deployment.
//!
//! Lync clients, the Front End (registrar and routing), the Mediation Server, the IP-PBX,
//! PSTN gateways, the PSTN and SIP trunk providers, and Exchange UM voicemail. Each is a
//! sans-IO component over the `sip` and `rtp` stacks, shaped by a `vendor` model. Elements
//! know nothing of the workload generator: the scenario layer hands them scripts.

pub mod build;
pub mod callbook;
mod element;
pub mod endpoint;
pub mod front_end;
pub mod gateway;
pub mod host;
pub mod lync;
pub mod media_policy;
pub mod mediation;
pub mod numbering;
pub mod pbx;
pub mod pstn;
pub mod script;
pub mod sip_trunk;
pub mod spec;
pub mod tdm;
pub mod timers;
pub mod voicemail;

pub use element::{Command, Element, NetworkElement};

/// An opaque tag that follows one end-to-end call across every element and leg, so that
/// records from different elements can be joined into one CDR. It never appears on the SIP
/// wire; on ISDN it rides in the SETUP like a billing reference.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallTag(pub u64);

mod outcome;
pub use outcome::CallOutcome;

/// An element of a world (index in the order elements were added).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ElementId(pub u32);

/// One end of a TDM link, as seen by the element there.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TdmPort {
    pub(crate) link: u32,
    pub(crate) side_b: bool,
}

impl TdmPort {
    /// The other end of the same link.
    pub fn peer(self) -> TdmPort {
        TdmPort {
            link: self.link,
            side_b: !self.side_b,
        }
    }
}
