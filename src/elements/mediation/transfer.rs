//! Transfers (REFER from the Lync side). With the trunk's REFER support on, the REFER goes
//! on to the peer and the peer's NOTIFYs come back. With it off, the Mediation Server does
//! the transfer itself: it calls the target through the Front End (with Referred-By and any
//! Replaces), and once the target answers it re-INVITEs the peer toward the new media (the
//! target's address with bypass; the relay, now facing the target, without), reports 200
//! to the transferor and joins the peer leg to the new leg.

use super::super::host::Cx;
use super::caps::{caps_at, caps_from_sdp};
use super::setup::phone_uri;
use super::{Dir, MediationServer, Transfer};
use crate::sip::b2bua::Leg;
use crate::sip::sdp::Direction;
use crate::sip::ua::{CallHandle, CallParams, Offer, ReferId, UaEvent};
use crate::sip::wire::{NameAddr, Replaces};
use std::net::{SocketAddr, SocketAddrV4};

impl MediationServer {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_refer(
        &mut self,
        cx: &mut Cx<'_>,
        id: u64,
        fe: CallHandle,
        refer: ReferId,
        target: NameAddr,
        referred_by: Option<Box<NameAddr>>,
        replaces: Option<Replaces>,
    ) {
        let now = cx.now();
        let Some(c) = self.calls.get(&id) else { return };
        if c.transfer.is_some() || c.fe != Some(fe) {
            let _ = self.fe_ua.notify_refer(now, fe, refer, 491);
            return;
        }
        let Some(peer) = c.peer else {
            let _ = self.fe_ua.notify_refer(now, fe, refer, 481);
            return;
        };
        let trunk = &self.trunks[c.trunk];
        let side = trunk.side;
        if trunk.config.lync.refer {
            // A consultative transfer names the Lync-side consult dialog in its Replaces;
            // the peer only knows our dialog with it, so the Replaces is rewritten to the
            // peer-side dialog of that call (RFC 3891 through a B2BUA). Without a match
            // (the consult call went elsewhere) the REFER goes on as a blind transfer.
            let replaced = replaces
                .as_ref()
                .and_then(|r| self.consult_peer(fe, side, r));
            let ok = self.sides[side]
                .ua
                .refer(now, peer, target.uri.clone(), replaced)
                .is_ok();
            if ok {
                self.stats.refers_passed += 1;
                if let Some(c) = self.calls.get_mut(&id) {
                    c.transfer = Some(Transfer::Passed { fe, refer });
                }
            } else {
                let _ = self.fe_ua.notify_refer(now, fe, refer, 503);
            }
            return;
        }
        // REFER support off: call the target ourselves.
        let me = self.cfg.fe_side.ip().to_string();
        let mut params = CallParams::new(target.uri.clone());
        params.from = Some(NameAddr::new(phone_uri(&c.party, &me, None)));
        params.next_hop = Some(SocketAddr::V4(self.cfg.front_end));
        params.referred_by = referred_by.map(|b| *b);
        params.replaces = replaces;
        if c.bypass {
            let sdp = self.sides[side].ua.remote_sdp(peer).cloned();
            params.media = sdp.as_ref().and_then(caps_from_sdp);
            params.offer = match sdp {
                Some(s) => Offer::Sdp(Box::new(s)),
                None => Offer::None,
            };
        } else if let Some(r) = &c.relay {
            params.media = Some(caps_at(r.a_local, &self.cfg.fe_codecs, true));
            params.offer = Offer::Auto;
        }
        let tag = c.tag;
        match self.fe_ua.call(now, params) {
            Ok(new_fe) => {
                if let (Some(tag), Some(cid)) = (tag, self.fe_ua.call_id(new_fe)) {
                    cx.bind_call_id(cid, tag);
                }
                self.by_fe.insert(new_fe, id);
                if let Some(c) = self.calls.get_mut(&id) {
                    c.transfer = Some(Transfer::Performing {
                        old_fe: fe,
                        refer,
                        new_fe,
                    });
                }
            }
            Err(_) => {
                let _ = self.fe_ua.notify_refer(now, fe, refer, 500);
            }
        }
    }

    /// The peer-side leg of the call whose Lync-side dialog `r` names (as this server
    /// sees it: `to-tag` is our tag, `from-tag` the Lync client's), on the same side as the
    /// transfer and other than the call being transferred (`fe`).
    fn consult_peer(&self, fe: CallHandle, side: usize, r: &Replaces) -> Option<CallHandle> {
        self.calls.values().find_map(|c| {
            let h = c.fe.filter(|h| *h != fe)?;
            let d = self.fe_ua.dialog(h)?;
            let same = d.id.call_id == r.call_id
                && d.id.local_tag == r.to_tag
                && d.id.remote_tag == r.from_tag;
            (same && self.trunks[c.trunk].side == side).then_some(c.peer)?
        })
    }

    /// Progress of a REFER passed to the peer: NOTIFY the transferor.
    pub(super) fn on_refer_status(&mut self, cx: &mut Cx<'_>, id: u64, status: u16, last: bool) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(Transfer::Passed { fe, refer }) = c.transfer.clone() else {
            return;
        };
        if status == 202 {
            return; // the peer accepted the REFER; its NOTIFYs follow
        }
        if status >= 200 || last {
            c.transfer = None;
        }
        let _ = self.fe_ua.notify_refer(cx.now(), fe, refer, status);
    }

    /// An event of the leg the server placed toward the transfer target.
    pub(super) fn on_transfer_leg(
        &mut self,
        cx: &mut Cx<'_>,
        id: u64,
        new_fe: CallHandle,
        ev: UaEvent,
    ) {
        let now = cx.now();
        let Some(c) = self.calls.get(&id) else { return };
        let Some(Transfer::Performing { old_fe, refer, .. }) = c.transfer.clone() else {
            return;
        };
        match ev {
            UaEvent::Progress { status, .. } => {
                let _ = self.fe_ua.notify_refer(now, old_fe, refer, status.min(199));
            }
            UaEvent::Answered { media, .. } => {
                let _ = self.fe_ua.notify_refer(now, old_fe, refer, 200);
                self.complete_transfer(cx, id, old_fe, new_fe, media);
            }
            UaEvent::Failed { status, .. } => {
                let _ = self.fe_ua.notify_refer(now, old_fe, refer, status);
                self.by_fe.remove(&new_fe);
                if let Some(c) = self.calls.get_mut(&id) {
                    c.transfer = None;
                }
            }
            UaEvent::Terminated { .. } | UaEvent::Cancelled { .. } => {
                self.by_fe.remove(&new_fe);
                if let Some(c) = self.calls.get_mut(&id) {
                    c.transfer = None;
                }
            }
            _ => {}
        }
    }

    fn complete_transfer(
        &mut self,
        cx: &mut Cx<'_>,
        id: u64,
        old_fe: CallHandle,
        new_fe: CallHandle,
        media: Option<crate::sip::sdp::Negotiated>,
    ) {
        let now = cx.now();
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(peer) = c.peer else { return };
        c.transfer = None;
        c.fe = Some(new_fe);
        self.by_fe.remove(&old_fe);
        self.stats.transfers_performed += 1;
        let trunk = &mut self.trunks[c.trunk];
        let side = trunk.side;
        match c.dir {
            Dir::ToPeer => {
                trunk.to_peer.detach(Leg::Inbound, old_fe);
                trunk.to_peer.link(new_fe, peer);
            }
            Dir::FromPeer => {
                trunk.from_peer.detach(Leg::Inbound, peer);
                trunk.from_peer.link(peer, new_fe);
            }
        }
        let peer_ua = &mut self.sides[side].ua;
        if c.bypass {
            if let Some(caps) = self.fe_ua.remote_sdp(new_fe).and_then(caps_from_sdp) {
                let _ = peer_ua.set_media(peer, caps);
            }
            let _ = peer_ua.resume(now, peer);
            return;
        }
        let neg = media.or_else(|| self.fe_ua.media(new_fe).cloned());
        let mut reopen = false;
        if let (Some(r), Some(n)) = (c.relay.as_mut(), neg) {
            if let Some(ip) = cx.resolve_host(&n.remote_address) {
                let remote = SocketAddrV4::new(ip, n.remote_port);
                r.a_remote = Some(remote);
                let same = r
                    .codec_a
                    .as_ref()
                    .is_some_and(|a| a.same_encoding(&n.codec));
                r.codec_a = Some(n.codec);
                if same && r.open {
                    cx.set_relay_remote(r.a_local, remote);
                } else {
                    reopen = true;
                }
            }
        }
        if peer_ua.local_direction(peer) != Some(Direction::SendRecv) {
            let _ = peer_ua.resume(now, peer);
        }
        if reopen {
            self.reopen_relay(cx, id);
        }
    }
}
