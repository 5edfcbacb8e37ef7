//! `elements`: the network elements of an Enterprise Voice deployment.
//!
//! Lync clients, the Front End (registrar and routing), the Mediation Server, the IP-PBX,
//! PSTN gateways, the PSTN and SIP trunk providers, and Exchange UM voicemail. Each is a
//! sans-IO component over the `sip` and `rtp` stacks, shaped by a `vendor` model.
