//! New calls: picking the trunk, bypass or anchoring, media capacity (refuse or queue),
//! and placing the other leg.

use super::super::CallTag;
use super::super::callbook::CallNote;
use super::super::host::Cx;
use super::caps::{caps_at, caps_from_sdp, first_common};
use super::{Dir, MedCall, MedTimer, MediationServer, Overload, Relay};
use crate::sim::SimDuration;
use crate::sip::b2bua::Agents;
use crate::sip::sdp::SessionDescription;
use crate::sip::ua::{CallHandle, CallParams, Offer};
use crate::sip::wire::{HeaderName, Host, NameAddr, Request, SipUri, Uri};
use std::net::{Ipv4Addr, SocketAddrV4};

/// Headers a call carries on from one side to the other when they apply.
const IDENTITY: &[HeaderName] = &[HeaderName::Privacy, HeaderName::PAssertedIdentity];
const HISTORY: &[HeaderName] = &[
    HeaderName::HistoryInfo,
    HeaderName::Diversion,
    HeaderName::ReferredBy,
];

/// `sip:<user>@<host>[:port];user=phone`.
pub(crate) fn phone_uri(user: &str, host: &str, port: Option<u16>) -> Uri {
    let h = Host::parse(host).unwrap_or_else(|_| Host::Domain(host.to_string()));
    let mut u = SipUri::new(Some(user), h, port);
    if user.starts_with('+') || user.bytes().all(|b| b.is_ascii_digit()) {
        u.params.set("user", Some("phone"));
    }
    Uri::Sip(u)
}

/// The user part of the From header of `req` (the calling number).
pub(crate) fn calling_user(req: &Request) -> String {
    req.headers
        .from_addr()
        .ok()
        .and_then(|f| f.uri.user().map(str::to_string))
        .unwrap_or_else(|| "anonymous".to_string())
}

fn copy_headers(req: &Request, names: &[HeaderName], out: &mut Vec<(HeaderName, String)>) {
    for n in names {
        for v in req.headers.get_all(*n) {
            out.push((*n, v.to_string()));
        }
    }
}

impl MediationServer {
    fn tag_of(cx: &Cx<'_>, req: &Request) -> Option<CallTag> {
        req.headers
            .get(HeaderName::CallId)
            .and_then(|id| cx.tag_of(id))
    }

    /// The trunk a Front End INVITE is for: the peer named by the Request-URI host (its
    /// element name, FQDN or address), else the first trunk.
    fn pick_trunk(&self, uri: &Uri) -> usize {
        let host = uri.as_sip().map(|u| u.host.to_string()).unwrap_or_default();
        self.trunks
            .iter()
            .position(|t| t.aliases.iter().any(|a| a.eq_ignore_ascii_case(&host)))
            .unwrap_or(0)
    }

    fn new_call(&mut self, call: MedCall) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.calls.insert(id, call);
        id
    }

    /// A new INVITE from the Front End.
    pub(super) fn on_fe_invite(&mut self, cx: &mut Cx<'_>, call: CallHandle, req: Box<Request>) {
        let now = cx.now();
        let tag = Self::tag_of(cx, &req);
        if let Some(t) = tag {
            cx.note(t, CallNote::Hop);
        }
        self.stats.offered += 1;
        let t = self.pick_trunk(&req.uri);
        if !self.keepalive.is_up(t) {
            self.stats.rejected_peer_down += 1;
            let peer = self.trunks[t].peer_name.clone();
            let reason = format!("SIP;cause=503;text=\"Gateway {peer} is down\"");
            let diag = format!(
                "1038;reason=\"Trunk peer is marked down by OPTIONS keepalive\";PeerServer=\"{peer}\";source=\"{}\"",
                self.cfg.name
            );
            let _ = self.fe_ua.reject_with_headers(
                now,
                call,
                503,
                "Service Unavailable",
                &[("Reason", &reason), ("ms-diagnostics", &diag)],
            );
            return;
        }
        let offer = self.fe_ua.remote_offer(call).cloned();
        let trunk = &self.trunks[t];
        let bypass = trunk.config.lync.media_bypass
            && offer
                .as_ref()
                .is_some_and(|o| first_common(o, &trunk.codecs).is_some());
        let party = req.uri.user().unwrap_or_default().to_string();
        let relay = (!bypass).then(|| Relay {
            a_local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            b_local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            a_remote: offer.as_ref().and_then(|o| self.sdp_addr(cx, o)),
            b_remote: None,
            codec_a: offer
                .as_ref()
                .and_then(|o| first_common(o, &self.cfg.fe_codecs)),
            codec_b: None,
            open: false,
        });
        if let (Some(_), Some(r)) = (&offer, &relay) {
            if r.codec_a.is_none() {
                let _ = self
                    .fe_ua
                    .reject(now, call, 488, "Not Acceptable Here", &[]);
                return;
            }
        }
        let id = self.new_call(MedCall {
            tag,
            trunk: t,
            dir: Dir::ToPeer,
            fe: Some(call),
            peer: None,
            invite: Some(req),
            bypass,
            anchored: false,
            relay,
            party,
            transfer: None,
        });
        self.by_fe.insert(call, id);
        self.admit(cx, id);
    }

    /// A new INVITE from a trunk peer on gateway-side agent `side`.
    pub(super) fn on_peer_invite(
        &mut self,
        cx: &mut Cx<'_>,
        side: usize,
        call: CallHandle,
        req: Box<Request>,
    ) {
        let now = cx.now();
        let tag = Self::tag_of(cx, &req);
        if let Some(t) = tag {
            cx.note(t, CallNote::Hop);
        }
        self.stats.offered += 1;
        let from_ip = self.last_remote.map(|r| *r.ip());
        let Some(t) = self
            .trunks
            .iter()
            .position(|t| t.side == side && Some(*t.peer.ip()) == from_ip)
        else {
            // Lync accepts calls only from the peers defined in its topology.
            let _ = self.sides[side].ua.reject(now, call, 403, "Forbidden", &[]);
            return;
        };
        let offer = self.sides[side].ua.remote_offer(call).cloned();
        let trunk = &self.trunks[t];
        let bypass = trunk.config.lync.media_bypass
            && offer
                .as_ref()
                .is_some_and(|o| first_common(o, &self.cfg.fe_codecs).is_some());
        let relay = (!bypass).then(|| Relay {
            a_local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            b_local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            a_remote: None,
            b_remote: offer.as_ref().and_then(|o| self.sdp_addr(cx, o)),
            codec_a: None,
            codec_b: offer.as_ref().and_then(|o| first_common(o, &trunk.codecs)),
            open: false,
        });
        if let (Some(_), Some(r)) = (&offer, &relay) {
            if r.codec_b.is_none() {
                let _ = self.sides[side]
                    .ua
                    .reject(now, call, 488, "Not Acceptable Here", &[]);
                return;
            }
        }
        let party = calling_user(&req);
        let id = self.new_call(MedCall {
            tag,
            trunk: t,
            dir: Dir::FromPeer,
            fe: None,
            peer: Some(call),
            invite: Some(req),
            bypass,
            anchored: false,
            relay,
            party,
            transfer: None,
        });
        self.by_peer.insert((side, call), id);
        self.admit(cx, id);
    }

    /// The RTP address of an SDP's audio stream.
    pub(super) fn sdp_addr(&self, cx: &Cx<'_>, sd: &SessionDescription) -> Option<SocketAddrV4> {
        let caps = caps_from_sdp(sd)?;
        let ip = cx.resolve_host(&caps.address)?;
        Some(SocketAddrV4::new(ip, caps.port))
    }

    /// Media capacity: bypass calls pass; anchored calls take a relay, or are refused or
    /// queued when every relay is in use.
    fn admit(&mut self, cx: &mut Cx<'_>, id: u64) {
        let bypass = self.calls.get(&id).is_some_and(|c| c.bypass);
        if bypass {
            self.stats.bypass += 1;
            return self.place(cx, id);
        }
        if self.media_in_use < self.cfg.capacity {
            return self.take_media(cx, id);
        }
        match self.cfg.overload.clone() {
            Overload::Reject { status } => self.refuse_capacity(cx, id, status),
            Overload::Queue {
                max_wait_s,
                max_depth,
            } => {
                if self.queue.len() >= max_depth as usize {
                    self.refuse_capacity(cx, id, 503);
                } else {
                    self.stats.queued += 1;
                    self.queue.push_back(id);
                    let at = cx.now() + SimDuration::from_secs_f64(max_wait_s);
                    self.timers.arm(at, MedTimer::QueueTimeout(id));
                }
            }
        }
    }

    fn take_media(&mut self, cx: &mut Cx<'_>, id: u64) {
        self.media_in_use += 1;
        self.stats.anchored += 1;
        self.stats.peak_media = self.stats.peak_media.max(self.media_in_use);
        let ip = *self.cfg.fe_side.ip();
        if let Some(c) = self.calls.get_mut(&id) {
            c.anchored = true;
            if let Some(r) = c.relay.as_mut() {
                r.a_local = cx.allocate_media(ip);
                r.b_local = cx.allocate_media(ip);
                // The allocator hands out ascending ports: make sure the two differ even
                // when nothing is open yet.
                if r.b_local == r.a_local {
                    r.b_local = cx.allocate_media(ip);
                }
            }
        }
        self.place(cx, id);
    }

    fn refuse_capacity(&mut self, cx: &mut Cx<'_>, id: u64, status: u16) {
        self.stats.rejected_capacity += 1;
        if let Some(tag) = self.calls.get(&id).and_then(|c| c.tag) {
            cx.note(tag, CallNote::RejectedCapacity);
        }
        self.reject_inbound(cx, id, status);
        self.finish(cx, id);
    }

    /// Refuses the received leg of a call that has no other leg yet.
    pub(super) fn reject_inbound(&mut self, cx: &mut Cx<'_>, id: u64, status: u16) {
        let now = cx.now();
        let Some(c) = self.calls.get(&id) else { return };
        let reason = crate::sip::wire::reason_phrase(status);
        match c.dir {
            Dir::ToPeer => {
                if let Some(h) = c.fe {
                    let _ = self.fe_ua.reject(now, h, status, reason, &[]);
                }
            }
            Dir::FromPeer => {
                let side = self.trunks[c.trunk].side;
                if let Some(h) = c.peer {
                    let _ = self.sides[side].ua.reject(now, h, status, reason, &[]);
                }
            }
        }
    }

    /// A queued call waited `max_wait_s` without a relay.
    pub(super) fn queue_timeout(&mut self, cx: &mut Cx<'_>, id: u64) {
        if let Some(pos) = self.queue.iter().position(|q| *q == id) {
            self.queue.remove(pos);
            self.refuse_capacity(cx, id, 503);
        }
    }

    /// A relay freed up: the longest-waiting queued call takes it.
    pub(super) fn dequeue(&mut self, cx: &mut Cx<'_>) {
        while self.media_in_use < self.cfg.capacity {
            let Some(id) = self.queue.pop_front() else {
                return;
            };
            self.timers.retain(|t| *t != MedTimer::QueueTimeout(id));
            if self.calls.contains_key(&id) {
                self.take_media(cx, id);
            }
        }
    }

    /// Places the second leg of an admitted call.
    fn place(&mut self, cx: &mut Cx<'_>, id: u64) {
        let Some(c) = self.calls.get(&id) else { return };
        match c.dir {
            Dir::ToPeer => self.place_to_peer(cx, id),
            Dir::FromPeer => self.place_to_fe(cx, id),
        }
    }

    fn place_to_peer(&mut self, cx: &mut Cx<'_>, id: u64) {
        let now = cx.now();
        let me = self.cfg.fe_side.ip().to_string();
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let (Some(fe), Some(req)) = (c.fe, c.invite.take()) else {
            return;
        };
        let trunk = &mut self.trunks[c.trunk];
        let side = trunk.side;
        let lync = &trunk.config.lync;
        let ruri = phone_uri(
            &c.party,
            &trunk.peer.ip().to_string(),
            Some(trunk.peer.port()),
        );
        let mut params = CallParams::new(ruri);
        let caller = calling_user(&req);
        let mut from = NameAddr::new(phone_uri(&caller, &me, None));
        if let Ok(f) = req.headers.from_addr() {
            from.display = f.display;
        }
        params.from = Some(from);
        params.next_hop = Some(std::net::SocketAddr::V4(trunk.peer));
        copy_headers(&req, &[HeaderName::Privacy], &mut params.headers);
        if trunk.forward_pai {
            let pai = req
                .headers
                .get(HeaderName::PAssertedIdentity)
                .map(str::to_string)
                .unwrap_or_else(|| format!("<{}>", phone_uri(&caller, &me, None)));
            params.headers.push((HeaderName::PAssertedIdentity, pai));
        }
        if lync.forward_call_history {
            copy_headers(&req, HISTORY, &mut params.headers);
        }
        if lync.session_timer {
            let st = crate::sip::ua::SessionTimerConfig::default();
            params
                .headers
                .push((HeaderName::SessionExpires, st.expires.to_string()));
            params
                .headers
                .push((HeaderName::MinSE, st.min_se.to_string()));
        }
        let offer = self.fe_ua.remote_offer(fe).cloned();
        match (&c.relay, c.bypass) {
            (_, true) => {
                params.media = offer.as_ref().and_then(caps_from_sdp);
                params.offer = match offer {
                    Some(o) => Offer::Sdp(Box::new(o)),
                    None => Offer::None,
                };
            }
            (Some(r), false) => {
                let _ = self
                    .fe_ua
                    .set_media(fe, caps_at(r.a_local, &self.cfg.fe_codecs, true));
                params.media = Some(caps_at(r.b_local, &trunk.codecs, true));
                params.offer = Offer::Auto;
            }
            (None, false) => {}
        }
        let tag = c.tag;
        let mut agents = Agents {
            inbound: &mut self.fe_ua,
            outbound: Some(&mut self.sides[side].ua),
        };
        let placed = trunk.to_peer.bridge(now, &mut agents, fe, &req, params);
        let failed = match placed {
            Ok(out) => {
                c.peer = Some(out);
                self.by_peer.insert((side, out), id);
                if let (Some(tag), Some(cid)) = (tag, self.sides[side].ua.call_id(out)) {
                    cx.bind_call_id(cid, tag);
                }
                false
            }
            Err(_) => {
                let _ = self
                    .fe_ua
                    .reject(now, fe, 500, "Server Internal Error", &[]);
                true
            }
        };
        if failed {
            self.finish(cx, id);
        }
    }

    fn place_to_fe(&mut self, cx: &mut Cx<'_>, id: u64) {
        let now = cx.now();
        let me = self.cfg.fe_side.ip().to_string();
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let (Some(inbound), Some(req)) = (c.peer, c.invite.take()) else {
            return;
        };
        let trunk = &mut self.trunks[c.trunk];
        let side = trunk.side;
        let called = req.uri.user().unwrap_or_default().to_string();
        let mut params = CallParams::new(phone_uri(&called, &self.cfg.domain, None));
        let mut from = NameAddr::new(phone_uri(&c.party, &me, None));
        if let Ok(f) = req.headers.from_addr() {
            from.display = f.display;
        }
        params.from = Some(from);
        params.next_hop = Some(std::net::SocketAddr::V4(self.cfg.front_end));
        copy_headers(&req, IDENTITY, &mut params.headers);
        copy_headers(&req, HISTORY, &mut params.headers);
        let offer = self.sides[side].ua.remote_offer(inbound).cloned();
        match (&c.relay, c.bypass) {
            (_, true) => {
                params.media = offer.as_ref().and_then(caps_from_sdp);
                params.offer = match offer {
                    Some(o) => Offer::Sdp(Box::new(o)),
                    None => Offer::None,
                };
            }
            (Some(r), false) => {
                let _ = self.sides[side]
                    .ua
                    .set_media(inbound, caps_at(r.b_local, &trunk.codecs, true));
                params.media = Some(caps_at(r.a_local, &self.cfg.fe_codecs, true));
                params.offer = Offer::Auto;
            }
            (None, false) => {}
        }
        let tag = c.tag;
        let mut agents = Agents {
            inbound: &mut self.sides[side].ua,
            outbound: Some(&mut self.fe_ua),
        };
        let placed = trunk
            .from_peer
            .bridge(now, &mut agents, inbound, &req, params);
        let failed = match placed {
            Ok(out) => {
                c.fe = Some(out);
                self.by_fe.insert(out, id);
                if let (Some(tag), Some(cid)) = (tag, self.fe_ua.call_id(out)) {
                    cx.bind_call_id(cid, tag);
                }
                false
            }
            Err(_) => {
                let _ = self.sides[side]
                    .ua
                    .reject(now, inbound, 500, "Server Internal Error", &[]);
                true
            }
        };
        if failed {
            self.finish(cx, id);
        }
    }
}
