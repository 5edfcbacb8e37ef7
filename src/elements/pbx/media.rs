//! Media for the parties the PBX terminates (phones, PSTN lines, voicemail): RTP sessions
//! at the PBX's address, toward the far end of a SIP leg or toward another local party.

use super::Pbx;
use super::call::{CallKey, LegKind, MediaEnd};
use super::route::party_in;
use crate::elements::callbook::PartyRole;
use crate::elements::host::{Cx, MediaSpec, MediaUpdate};
use crate::elements::media_policy::{MediaPolicy, media_config, rtp_direction};
use crate::rtp::CallPhase;
use crate::sim::SimDuration;
use crate::sip::sdp::{Direction, MediaCapabilities, Negotiated, SessionDescription};
use crate::vendor::{CallScenario, Feature, MediaProfile};
use std::net::SocketAddrV4;

impl Pbx {
    /// A media end for a new local party: an RTP address at the PBX.
    pub(crate) fn media_end(&mut self, cx: &mut Cx<'_>, origin: bool, pstn: bool) -> MediaEnd {
        MediaEnd {
            local: cx.allocate_media(self.setup.ip),
            open: false,
            role: if origin {
                PartyRole::Caller
            } else {
                PartyRole::Callee
            },
            extra_delay: if pstn {
                self.setup.pstn_delay
            } else {
                SimDuration::ZERO
            },
            phase: CallPhase::EarlyMedia,
        }
    }

    /// The scenario for media decisions about a local party of a call.
    fn media_scenario(&self, key: CallKey, leg: usize, phase: CallPhase) -> Option<CallScenario> {
        let call = self.calls.get(&key)?;
        let plan = &self.setup.plan;
        let dtmf_early = phase == CallPhase::EarlyMedia && leg == 0 && call.script.dtmf.is_some();
        let feature = if dtmf_early {
            Feature::DtmfInEarlyMedia
        } else {
            Feature::Basic
        };
        Some(call.scenario(|n| party_in(plan, n), feature))
    }

    /// The media profile of the product for a call, noting the limitations that shaped it.
    pub(crate) fn profile(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        sc: &CallScenario,
    ) -> MediaProfile {
        let profile = self.engine.media_profile(sc);
        if let Some(tag) = self.calls.get(&key).map(|c| c.tag) {
            for id in profile.limitations.clone() {
                self.note_limitation(cx, tag, &id);
            }
        }
        profile
    }

    /// The PBX's SDP capabilities at `local`, shaped by the product's media profile.
    pub(crate) fn caps_at(&self, local: SocketAddrV4, profile: &MediaProfile) -> MediaCapabilities {
        let mut caps = MediaCapabilities {
            codecs: self.setup.codecs.clone(),
            ..MediaCapabilities::g711(&local.ip().to_string(), local.port())
        };
        self.engine.shape_capabilities(&mut caps, profile);
        caps
    }

    /// Our SDP for a SIP leg whose media a local party at `local` terminates: the answer to
    /// the leg's offer, or an offer when its INVITE had none.
    pub(crate) fn local_sdp(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        handle: crate::sip::ua::CallHandle,
        local: SocketAddrV4,
    ) -> Option<SessionDescription> {
        let sc = self.media_scenario(key, 0, CallPhase::Connected)?;
        let profile = self.profile(cx, key, &sc);
        let caps = self.caps_at(local, &profile);
        let id = u64::from(local.port());
        match self.ua.remote_offer(handle) {
            Some(offer) => caps.answer(offer, id, 1, Direction::SendRecv).ok(),
            None => Some(caps.offer(id, 1, Direction::SendRecv)),
        }
    }

    /// Where a SIP leg's far end receives RTP, and what was negotiated. Under
    /// `InboundBypassBroken` the PBX ignores the bypass address of an inbound call and
    /// sends to the Mediation Server instead.
    pub(crate) fn sip_target(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        sip_leg: usize,
    ) -> Option<(SocketAddrV4, Negotiated)> {
        let call = self.calls.get(&key)?;
        let leg = call.legs.get(sip_leg)?;
        let neg = leg.remote.clone()?;
        let ip = cx.resolve_host(&neg.remote_address)?;
        let mut remote = SocketAddrV4::new(ip, neg.remote_port);
        if leg.is_lync() && call.direction() == crate::vendor::Direction::Inbound {
            let plan = &self.setup.plan;
            let sc = call.scenario(|n| party_in(plan, n), Feature::Basic);
            let tag = call.tag;
            if let Some(id) = self.engine.inbound_bypass_broken(&sc) {
                remote = SocketAddrV4::new(*self.setup.lync.ip(), neg.remote_port);
                self.note_limitation(cx, tag, &id);
            }
        }
        Some((remote, neg))
    }

    /// What two local parties of the PBX use between them.
    fn local_negotiated(&self, peer: SocketAddrV4, profile: &MediaProfile) -> Negotiated {
        Negotiated {
            codec: self.setup.codecs[0].clone(),
            telephone_event: profile.dtmf.then_some(101),
            comfort_noise: profile.comfort_noise.then_some(13),
            remote_address: peer.ip().to_string(),
            remote_port: peer.port(),
            direction: Direction::SendRecv,
            ptime: 20,
        }
    }

    /// Opens (or re-points) the session of local party `leg` toward `peer` (another leg of
    /// the call), in `phase`.
    pub(crate) fn media_toward(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        leg: usize,
        peer: usize,
        phase: CallPhase,
    ) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let (Some(me), Some(other)) = (call.legs.get(leg), call.legs.get(peer)) else {
            return;
        };
        if !me.is_local() || me.media.is_none() {
            return;
        }
        let target = if other.is_local() {
            let Some(end) = other.media.as_ref() else {
                return;
            };
            let local = end.local;
            let Some(sc) = self.media_scenario(key, leg, phase) else {
                return;
            };
            let profile = self.profile(cx, key, &sc);
            Some((local, self.local_negotiated(local, &profile)))
        } else {
            self.sip_target(cx, key, peer)
        };
        let Some((remote, neg)) = target else { return };
        self.open_or_update(cx, key, leg, remote, &neg, phase);
    }

    fn open_or_update(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        leg: usize,
        remote: SocketAddrV4,
        neg: &Negotiated,
        phase: CallPhase,
    ) {
        let Some(sc) = self.media_scenario(key, leg, phase) else {
            return;
        };
        let profile = self.profile(cx, key, &sc);
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let tag = call.tag;
        let Some(end) = call.legs[leg].media.as_mut() else {
            return;
        };
        if end.open {
            cx.update_media(end.local, MediaUpdate::Remote(remote));
            if end.phase != phase {
                cx.update_media(end.local, MediaUpdate::Phase(phase));
            }
            cx.update_media(
                end.local,
                MediaUpdate::Direction(rtp_direction(neg.direction)),
            );
            end.phase = phase;
            return;
        }
        let policy = MediaPolicy {
            vad: self.setup.policy.vad,
            rtcp: profile.rtcp && self.setup.policy.rtcp,
            dtmf_in_early_media: profile.dtmf_in_early_media,
            fixed_jitter_buffer_ms: self.setup.policy.fixed_jitter_buffer_ms,
        };
        let Ok(mut config) = media_config(neg, &policy, &self.setup.name) else {
            return;
        };
        if !profile.comfort_noise {
            config.comfort_noise = false;
        }
        let spec = MediaSpec {
            local: end.local,
            remote,
            config,
            tag,
            role: end.role,
            phase,
            direction: rtp_direction(neg.direction),
            upstream: Vec::new(),
            extra_delay: end.extra_delay,
            muted: false,
        };
        if cx.open_media(spec).is_ok() {
            end.open = true;
            end.phase = phase;
        }
    }

    /// Opens or updates the media of both ends of the bridge, connected.
    pub(crate) fn connect_media(&mut self, cx: &mut Cx<'_>, key: CallKey) {
        let Some((a, b)) = self.calls.get(&key).and_then(|c| c.bridge) else {
            return;
        };
        self.media_toward(cx, key, a, b, CallPhase::Connected);
        self.media_toward(cx, key, b, a, CallPhase::Connected);
    }

    /// Changes the sending direction of a local party (the far end held or resumed).
    pub(crate) fn media_direction(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        leg: usize,
        dir: Direction,
    ) {
        if let Some(end) = self
            .calls
            .get(&key)
            .and_then(|c| c.legs.get(leg))
            .and_then(|l| l.media.as_ref())
            .filter(|e| e.open)
        {
            cx.update_media(end.local, MediaUpdate::Direction(rtp_direction(dir)));
        }
    }

    /// Closes a local party's session.
    pub(crate) fn close_media(&mut self, cx: &mut Cx<'_>, key: CallKey, leg: usize) {
        if let Some(end) = self
            .calls
            .get_mut(&key)
            .and_then(|c| c.legs.get_mut(leg))
            .and_then(|l| l.media.as_mut())
        {
            if end.open {
                cx.close_media(end.local);
                end.open = false;
            }
        }
    }

    /// Sends the script's digits from the caller's session, once.
    pub(crate) fn send_caller_digits(&mut self, cx: &mut Cx<'_>, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.digits_sent || !matches!(call.legs[0].kind, LegKind::Phone | LegKind::Pri { .. }) {
            return;
        }
        let Some(digits) = call.script.dtmf.clone() else {
            return;
        };
        if let Some(end) = call.legs[0].media.as_ref().filter(|e| e.open) {
            call.digits_sent = true;
            cx.update_media(end.local, MediaUpdate::Dtmf(digits));
        }
    }
}
