//! PSTN gateways (placeholder while being written).
pub(crate) mod isdn;
pub(crate) mod party_media;
