//! The media session an edge element runs for a PSTN party: a gateway for the party behind
//! its TDM span, a SIP trunk provider for its subscriber. The party's voice crosses a TDM
//! tail that the IP path does not see, which is added as `extra_delay`, and the TDM side is
//! G.711: when the IP leg uses another codec, G.711 is an upstream codec stage.

use super::super::CallTag;
use super::super::callbook::PartyRole;
use super::super::host::{Cx, MediaSpec, MediaUpdate};
use super::super::media_policy::{MediaPolicy, codec_profile, media_config, rtp_direction};
use crate::rtp::{CallPhase, CodecProfile};
use crate::sim::SimDuration;
use crate::sip::sdp::{Direction as SdpDirection, Negotiated};
use std::net::SocketAddrV4;

/// One party's media session, opened on the first negotiated SDP.
#[derive(Clone, Debug)]
pub(crate) struct PartyMedia {
    pub(crate) local: SocketAddrV4,
    pub(crate) open: bool,
    pub(crate) phase: CallPhase,
    pub(crate) role: PartyRole,
    pub(crate) tag: CallTag,
    pub(crate) extra_delay: SimDuration,
    /// The party is in early media (its session was opened before answer).
    pub(crate) early: bool,
}

impl PartyMedia {
    pub(crate) fn new(
        local: SocketAddrV4,
        tag: CallTag,
        role: PartyRole,
        extra_delay: SimDuration,
    ) -> Self {
        PartyMedia {
            local,
            open: false,
            phase: CallPhase::EarlyMedia,
            role,
            tag,
            extra_delay,
            early: false,
        }
    }

    /// Opens the session for `neg` in `phase`, or updates it (far address, phase and
    /// direction) when it is open already.
    pub(crate) fn apply(
        &mut self,
        cx: &mut Cx<'_>,
        neg: &Negotiated,
        phase: CallPhase,
        policy: &MediaPolicy,
        cname: &str,
    ) {
        let Some(ip) = cx.resolve_host(&neg.remote_address) else {
            return;
        };
        let remote = SocketAddrV4::new(ip, neg.remote_port);
        self.phase = phase;
        if self.open {
            cx.update_media(self.local, MediaUpdate::Remote(remote));
            cx.update_media(self.local, MediaUpdate::Phase(phase));
            cx.update_media(
                self.local,
                MediaUpdate::Direction(rtp_direction(neg.direction)),
            );
            return;
        }
        let Ok(config) = media_config(neg, policy, cname) else {
            return;
        };
        let upstream: Vec<CodecProfile> = if is_g711(&neg.codec.name) {
            Vec::new()
        } else {
            codec_profile("PCMU", 0).into_iter().collect()
        };
        let spec = MediaSpec {
            local: self.local,
            remote,
            config,
            tag: self.tag,
            role: self.role,
            phase,
            direction: rtp_direction(neg.direction),
            upstream,
            extra_delay: self.extra_delay,
            muted: false,
        };
        if cx.open_media(spec).is_ok() {
            self.open = true;
            self.early = phase == CallPhase::EarlyMedia;
        }
    }

    /// The call is answered: the session moves to the connected phase.
    pub(crate) fn connect(&mut self, cx: &mut Cx<'_>) {
        if self.open && self.phase != CallPhase::Connected {
            cx.update_media(self.local, MediaUpdate::Phase(CallPhase::Connected));
        }
        self.phase = CallPhase::Connected;
    }

    /// A re-INVITE changed the direction (hold, resume).
    pub(crate) fn direction(&mut self, cx: &mut Cx<'_>, d: SdpDirection) {
        if self.open {
            cx.update_media(self.local, MediaUpdate::Direction(rtp_direction(d)));
        }
    }

    /// Sends RFC 4733 digits (in-band digits from the TDM side).
    pub(crate) fn dtmf(&mut self, cx: &mut Cx<'_>, digits: &str) {
        if self.open {
            cx.update_media(self.local, MediaUpdate::Dtmf(digits.to_string()));
        }
    }

    pub(crate) fn close(&mut self, cx: &mut Cx<'_>) {
        if self.open {
            cx.close_media(self.local);
            self.open = false;
        }
    }
}

fn is_g711(name: &str) -> bool {
    name.eq_ignore_ascii_case("PCMU") || name.eq_ignore_ascii_case("PCMA")
}
