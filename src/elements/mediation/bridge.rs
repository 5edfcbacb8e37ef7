//! Events of bridged calls: mirroring through the trunk's B2BUA, the media of each call
//! (the far leg's SDP with bypass, a relay without), and the end of calls.

use super::super::host::{Cx, RelaySpec};
use super::super::media_policy::codec_profile;
use super::caps::caps_from_sdp;
use super::{Dir, MedCall, MedTimer, MediationServer, Transfer, options_key};
use crate::sim::SimTime;
use crate::sip::Result as SipResult;
use crate::sip::b2bua::{Agents, B2buaEvent, Leg};
use crate::sip::sdp::{Codec, Negotiated};
use crate::sip::ua::{CallHandle, UaEvent};
use std::net::SocketAddrV4;

/// The call an event is about.
pub(crate) fn event_call(ev: &UaEvent) -> Option<CallHandle> {
    Some(match ev {
        UaEvent::IncomingCall { call, .. }
        | UaEvent::Progress { call, .. }
        | UaEvent::Answered { call, .. }
        | UaEvent::Confirmed { call, .. }
        | UaEvent::Failed { call, .. }
        | UaEvent::Redirected { call, .. }
        | UaEvent::Cancelled { call }
        | UaEvent::PrackTimeout { call }
        | UaEvent::Terminated { call, .. }
        | UaEvent::MediaChanged { call, .. }
        | UaEvent::ModifyFailed { call, .. }
        | UaEvent::SessionRefreshed { call }
        | UaEvent::ReferRequested { call, .. }
        | UaEvent::ReferStatus { call, .. } => *call,
        UaEvent::OptionsResult { .. } => return None,
    })
}

fn is_terminal(ev: &UaEvent) -> bool {
    matches!(
        ev,
        UaEvent::Failed { .. }
            | UaEvent::Terminated { .. }
            | UaEvent::Cancelled { .. }
            | UaEvent::PrackTimeout { .. }
    )
}

impl MediationServer {
    /// An event of the Front End side agent.
    pub(super) fn on_fe_event(&mut self, cx: &mut Cx<'_>, ev: UaEvent) {
        if let UaEvent::IncomingCall { call, request, .. } = ev {
            return self.on_fe_invite(cx, call, request);
        }
        let Some(h) = event_call(&ev) else { return };
        let Some(&id) = self.by_fe.get(&h) else {
            return;
        };
        let transfer_leg = matches!(
            self.calls.get(&id).and_then(|c| c.transfer.as_ref()),
            Some(Transfer::Performing { new_fe, .. }) if *new_fe == h
        );
        if transfer_leg {
            return self.on_transfer_leg(cx, id, h, ev);
        }
        self.on_call_event(cx, id, true, h, ev);
    }

    /// An event of gateway-side agent `side`.
    pub(super) fn on_side_event(&mut self, cx: &mut Cx<'_>, side: usize, ev: UaEvent) {
        match ev {
            UaEvent::IncomingCall { call, request, .. } => {
                self.on_peer_invite(cx, side, call, request)
            }
            UaEvent::OptionsResult { request, status } => {
                let key = options_key(side, request.0);
                let _ = self.keepalive.result(key, status, cx.now());
            }
            ev => {
                let Some(h) = event_call(&ev) else { return };
                if let Some(&id) = self.by_peer.get(&(side, h)) {
                    self.on_call_event(cx, id, false, h, ev);
                }
            }
        }
    }

    fn on_call_event(
        &mut self,
        cx: &mut Cx<'_>,
        id: u64,
        from_fe: bool,
        h: CallHandle,
        ev: UaEvent,
    ) {
        let Some(dir) = self.calls.get(&id).map(|c| c.dir) else {
            return;
        };
        let outbound = match dir {
            Dir::ToPeer => !from_fe,
            Dir::FromPeer => from_fe,
        };
        if outbound {
            let neg = match &ev {
                UaEvent::Progress { media: Some(n), .. } => Some(n.clone()),
                UaEvent::Answered { media, .. } => media.clone().or_else(|| {
                    let ua = if from_fe {
                        &self.fe_ua
                    } else {
                        let side = self.trunks[self.calls[&id].trunk].side;
                        &self.sides[side].ua
                    };
                    ua.media(h).cloned()
                }),
                _ => None,
            };
            if let Some(n) = neg {
                self.prepare_media(cx, id, &n);
            }
        }
        let leg = if outbound {
            Leg::Outbound
        } else {
            Leg::Inbound
        };
        let terminal = is_terminal(&ev);
        match self.mirror(cx.now(), id, leg, ev) {
            Ok(Some(B2buaEvent::Failed { .. } | B2buaEvent::Ended { .. })) => self.finish(cx, id),
            Ok(Some(B2buaEvent::Unhandled(_, ev))) => self.unhandled(cx, id, from_fe, ev),
            Ok(_) => {}
            Err(_) if terminal => {
                self.hang_up_both(cx.now(), id);
                self.finish(cx, id);
            }
            Err(_) => {}
        }
    }

    /// Hands an event to the trunk's B2BUA of the call's direction.
    fn mirror(
        &mut self,
        now: SimTime,
        id: u64,
        leg: Leg,
        ev: UaEvent,
    ) -> SipResult<Option<B2buaEvent>> {
        let Some(c) = self.calls.get(&id) else {
            return Ok(None);
        };
        let trunk = &mut self.trunks[c.trunk];
        let side = trunk.side;
        match c.dir {
            Dir::ToPeer => {
                let mut agents = Agents {
                    inbound: &mut self.fe_ua,
                    outbound: Some(&mut self.sides[side].ua),
                };
                trunk.to_peer.handle(now, leg, ev, &mut agents)
            }
            Dir::FromPeer => {
                let mut agents = Agents {
                    inbound: &mut self.sides[side].ua,
                    outbound: Some(&mut self.fe_ua),
                };
                trunk.from_peer.handle(now, leg, ev, &mut agents)
            }
        }
    }

    fn unhandled(&mut self, cx: &mut Cx<'_>, id: u64, from_fe: bool, ev: UaEvent) {
        match ev {
            ev if is_terminal(&ev) => {
                // A leg ended that is not bridged (yet): a queued call given up by its
                // caller, or a leg left alone by an error.
                self.hang_up_both(cx.now(), id);
                self.finish(cx, id);
            }
            UaEvent::ReferRequested {
                call,
                refer,
                target,
                referred_by,
                replaces,
            } if from_fe => self.on_refer(cx, id, call, refer, *target, referred_by, replaces),
            UaEvent::ReferStatus { status, last, .. } if !from_fe => {
                self.on_refer_status(cx, id, status, last)
            }
            _ => {}
        }
    }

    fn hang_up_both(&mut self, now: SimTime, id: u64) {
        let Some(c) = self.calls.get(&id) else { return };
        let side = self.trunks[c.trunk].side;
        if let Some(fe) = c.fe {
            let _ = self.fe_ua.hangup(now, fe);
        }
        if let Some(p) = c.peer {
            let _ = self.sides[side].ua.hangup(now, p);
        }
    }

    /// The outbound leg's SDP arrived: with bypass the inbound leg will answer with it;
    /// without, the relay opens (transcoding when the two legs' codecs differ).
    fn prepare_media(&mut self, cx: &mut Cx<'_>, id: u64, neg: &Negotiated) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let side = self.trunks[c.trunk].side;
        if c.bypass {
            let (Some(fe), Some(peer)) = (c.fe, c.peer) else {
                return;
            };
            match c.dir {
                Dir::ToPeer => {
                    if let Some(caps) = self.sides[side].ua.remote_sdp(peer).and_then(caps_from_sdp)
                    {
                        let _ = self.fe_ua.set_media(fe, caps);
                    }
                }
                Dir::FromPeer => {
                    if let Some(caps) = self.fe_ua.remote_sdp(fe).and_then(caps_from_sdp) {
                        let _ = self.sides[side].ua.set_media(peer, caps);
                    }
                }
            }
            return;
        }
        let remote = cx
            .resolve_host(&neg.remote_address)
            .map(|ip| SocketAddrV4::new(ip, neg.remote_port));
        let tag = c.tag;
        let Some(r) = c.relay.as_mut() else { return };
        let local = match c.dir {
            Dir::ToPeer => {
                r.b_remote = remote.or(r.b_remote);
                r.codec_b = Some(neg.codec.clone());
                r.b_local
            }
            Dir::FromPeer => {
                r.a_remote = remote.or(r.a_remote);
                r.codec_a = Some(neg.codec.clone());
                r.a_local
            }
        };
        if r.open {
            if let Some(rem) = remote {
                cx.set_relay_remote(local, rem);
            }
            return;
        }
        let transcode = transcoding(r.codec_a.as_ref(), r.codec_b.as_ref());
        let spec = RelaySpec {
            a_local: r.a_local,
            a_remote: r.a_remote,
            b_local: r.b_local,
            b_remote: r.b_remote,
            delay: if transcode.is_some() {
                self.cfg.transcode_delay
            } else {
                self.cfg.relay_delay
            },
            transcode,
            tag: tag.unwrap_or(super::super::CallTag(u64::MAX)),
        };
        if cx.open_relay(spec).is_ok() {
            r.open = true;
            if transcode.is_some() {
                self.stats.transcoded += 1;
            }
        }
    }

    /// Reopens a call's relay (a transfer brought a leg with another codec).
    pub(super) fn reopen_relay(&mut self, cx: &mut Cx<'_>, id: u64) {
        let Some(r) = self.calls.get_mut(&id).and_then(|c| c.relay.as_mut()) else {
            return;
        };
        if r.open {
            cx.close_relay(r.a_local);
            r.open = false;
        }
        let transcode = transcoding(r.codec_a.as_ref(), r.codec_b.as_ref());
        let spec = RelaySpec {
            a_local: r.a_local,
            a_remote: r.a_remote,
            b_local: r.b_local,
            b_remote: r.b_remote,
            delay: if transcode.is_some() {
                self.cfg.transcode_delay
            } else {
                self.cfg.relay_delay
            },
            transcode,
            tag: super::super::CallTag(u64::MAX),
        };
        r.open = cx.open_relay(spec).is_ok();
    }

    /// The call is over: its relay, media capacity and indexes are freed.
    pub(super) fn finish(&mut self, cx: &mut Cx<'_>, id: u64) {
        let Some(c) = self.calls.remove(&id) else {
            return;
        };
        let MedCall {
            trunk,
            dir,
            fe,
            peer,
            relay,
            anchored,
            transfer,
            ..
        } = c;
        let side = self.trunks[trunk].side;
        if let Some(fe) = fe {
            if self.by_fe.get(&fe) == Some(&id) {
                self.by_fe.remove(&fe);
            }
        }
        if let Some(Transfer::Performing { new_fe, .. }) = transfer {
            self.by_fe.remove(&new_fe);
            let _ = self.fe_ua.hangup(cx.now(), new_fe);
        }
        if let Some(p) = peer {
            self.by_peer.remove(&(side, p));
        }
        let t = &mut self.trunks[trunk];
        match dir {
            Dir::ToPeer => {
                if let Some(fe) = fe {
                    t.to_peer.detach(Leg::Inbound, fe);
                }
            }
            Dir::FromPeer => {
                if let Some(p) = peer {
                    t.from_peer.detach(Leg::Inbound, p);
                }
            }
        }
        if let Some(r) = relay {
            if r.open {
                cx.close_relay(r.a_local);
            }
        }
        self.queue.retain(|q| *q != id);
        self.timers.retain(|t| *t != MedTimer::QueueTimeout(id));
        if anchored {
            self.media_in_use = self.media_in_use.saturating_sub(1);
            self.dequeue(cx);
        }
    }
}

/// The transcoding a relay needs between leg A's and leg B's codecs (None: same codec or
/// unknown).
fn transcoding(
    a: Option<&Codec>,
    b: Option<&Codec>,
) -> Option<(crate::rtp::CodecProfile, crate::rtp::CodecProfile)> {
    let (a, b) = (a?, b?);
    if a.same_encoding(b) {
        return None;
    }
    Some((
        codec_profile(&a.name, a.payload_type)?,
        codec_profile(&b.name, b.payload_type)?,
    ))
}
