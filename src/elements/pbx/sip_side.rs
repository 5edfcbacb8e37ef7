//! The SIP side: the trunk user agent, its events, the vendor's egress and ingress filters
//! on the real messages, OPTIONS keepalives and trunk health, and RCC reports.

use super::Pbx;
use super::call::{CallKey, Leg, LegKind, Purpose, Trunk};
use super::control::Redirect;
use super::route::party_in;
use super::station::LineState;
use crate::elements::callbook::CallNote;
use crate::elements::host::Cx;
use crate::sip::ua::{CallHandle, CallParams, Offer, UaEvent};
use crate::sip::wire::{HeaderName, Host, Message, Method, NameAddr, Request, SipUri, Uri, Via};
use crate::sip::{Transmit, Transport};
use crate::vendor::{CallScenario, Direction, Egress, Feature, Party};
use bytes::Bytes;
use rand::Rng;
use std::net::{IpAddr, SocketAddr, SocketAddrV4};
use std::rc::Rc;

/// The Call-ID of a serialised message, found by a scan (our user agent writes the full
/// header name).
fn scan_call_id(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let at = text.find("\r\nCall-ID:")? + "\r\nCall-ID:".len();
    let rest = &text[at..];
    let end = rest.find("\r\n")?;
    Some(rest[..end].trim())
}

impl Pbx {
    /// Moves everything the user agent queued: datagrams out (through the egress filter),
    /// events in, until both are empty.
    pub(crate) fn pump(&mut self, cx: &mut Cx<'_>) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.ua.poll_transmit() {
                progressed = true;
                self.transmit(cx, t);
            }
            while let Some(ev) = self.ua.poll_event() {
                progressed = true;
                self.on_ua_event(cx, ev);
            }
            if !progressed {
                break;
            }
        }
    }

    fn transmit(&mut self, cx: &mut Cx<'_>, t: Transmit) {
        let SocketAddr::V4(dst) = t.dst else { return };
        let egress = if Some(dst) == self.setup.provider {
            Egress::Provider
        } else {
            Egress::Lync
        };
        let (bytes, ids) = self
            .engine
            .filter_egress(t.bytes, egress, self.egress_call.as_ref());
        if !ids.is_empty() {
            if let Some(tag) = scan_call_id(&bytes).and_then(|id| cx.tag_of(id)) {
                for id in &ids {
                    self.note_limitation(cx, tag, id);
                }
            }
        }
        cx.send(self.setup.sip, dst, bytes);
    }

    fn leg_of(&self, handle: CallHandle) -> Option<(CallKey, usize)> {
        self.by_handle.get(&handle).copied()
    }

    fn on_ua_event(&mut self, cx: &mut Cx<'_>, ev: UaEvent) {
        match ev {
            UaEvent::IncomingCall { call, request, .. } => self.incoming_call(cx, call, &request),
            UaEvent::Progress {
                call,
                status,
                media,
                ..
            } => {
                let Some((key, leg)) = self.leg_of(call) else {
                    return;
                };
                if leg == 0 {
                    return;
                }
                let early = media.is_some() && self.answer_acceptable(cx, key, call);
                if early {
                    if let Some(l) = self.calls.get_mut(&key).and_then(|c| c.legs.get_mut(leg)) {
                        l.remote = media;
                    }
                    self.dest_early_media(cx, key, leg);
                } else if matches!(status, 180..=183) {
                    self.dest_alerting(cx, key, leg);
                }
            }
            UaEvent::Answered { call, media } => {
                let Some((key, leg)) = self.leg_of(call) else {
                    return;
                };
                if !self.answer_acceptable(cx, key, call) {
                    let _ = self.ua.hangup(cx.now(), call);
                    let status = self
                        .calls
                        .get(&key)
                        .map(|c| c.scenario(|n| party_in(&self.setup.plan, n), Feature::Basic))
                        .and_then(|sc| self.engine.fqdn_rejection(&sc))
                        .map_or(488, |(s, _)| s);
                    return self.dest_failed(cx, key, leg, status);
                }
                let media = media.or_else(|| self.ua.media(call).cloned());
                if let Some(l) = self.calls.get_mut(&key).and_then(|c| c.legs.get_mut(leg)) {
                    l.remote = media;
                }
                self.dest_answered(cx, key, leg);
            }
            UaEvent::Confirmed { call, media } => {
                let Some((key, leg)) = self.leg_of(call) else {
                    return;
                };
                if let (Some(m), Some(l)) = (
                    media,
                    self.calls.get_mut(&key).and_then(|c| c.legs.get_mut(leg)),
                ) {
                    l.remote = Some(m);
                }
            }
            UaEvent::Failed { call, status, .. } => {
                let Some((key, leg)) = self.leg_of(call) else {
                    return;
                };
                self.dest_failed(cx, key, leg, status);
            }
            UaEvent::Cancelled { call } | UaEvent::PrackTimeout { call } => {
                let Some((key, leg)) = self.leg_of(call) else {
                    return;
                };
                self.leg_released(cx, key, leg);
            }
            UaEvent::Terminated { call, .. } => {
                let Some((key, leg)) = self.leg_of(call) else {
                    return;
                };
                self.leg_released(cx, key, leg);
            }
            UaEvent::MediaChanged { call, media, .. } => {
                let Some((key, leg)) = self.leg_of(call) else {
                    return;
                };
                let dir = media.direction;
                let Some(c) = self.calls.get_mut(&key) else {
                    return;
                };
                c.legs[leg].remote = Some(media);
                if let Some(p) = c.peer_of(leg) {
                    if c.legs[p].is_local() {
                        self.media_toward(cx, key, p, leg, crate::rtp::CallPhase::Connected);
                        self.media_direction(cx, key, p, dir);
                    }
                }
            }
            UaEvent::ReferRequested {
                call,
                refer,
                target,
                replaces,
                ..
            } => self.refer_requested(cx, call, refer, &target, replaces.as_ref()),
            UaEvent::OptionsResult { status, .. } => self.options_result(status),
            UaEvent::ModifyFailed { .. }
            | UaEvent::Redirected { .. }
            | UaEvent::SessionRefreshed { .. }
            | UaEvent::ReferStatus { .. } => {}
        }
    }

    /// Whether the SDP a destination sent can be used (`FqdnConnectionAddressUnsupported`
    /// refuses an FQDN in `c=`); notes the limitation when it acts.
    fn answer_acceptable(&mut self, cx: &mut Cx<'_>, key: CallKey, handle: CallHandle) -> bool {
        let Some(sd) = self.ua.remote_sdp(handle) else {
            return true;
        };
        let Some(call) = self.calls.get(&key) else {
            return true;
        };
        let sc = call.scenario(|n| party_in(&self.setup.plan, n), Feature::Basic);
        match self.engine.refuse_answer(sd, &sc) {
            Some((_, id)) => {
                let tag = call.tag;
                self.note_limitation(cx, tag, &id);
                false
            }
            None => true,
        }
    }

    fn incoming_call(&mut self, cx: &mut Cx<'_>, handle: CallHandle, request: &Request) {
        let now = cx.now();
        let call_id = request
            .headers
            .get(HeaderName::CallId)
            .unwrap_or("")
            .to_string();
        let tag = cx.tag_of(&call_id);
        let trunk = match (self.last_remote, self.setup.provider) {
            (Some(r), Some(p)) if r.ip() == p.ip() => Trunk::Provider,
            _ => Trunk::Lync,
        };
        if self.trunk_calls >= self.setup.sip_trunk_calls {
            self.report.rejected_capacity += 1;
            if let Some(t) = tag {
                cx.note(t, CallNote::Hop);
                cx.note(t, CallNote::RejectedCapacity);
            }
            let _ = self.ua.reject(now, handle, 503, "Service Unavailable", &[]);
            return;
        }
        let called = request.uri.user().unwrap_or_default().to_string();
        let from_user = request
            .headers
            .from_addr()
            .ok()
            .and_then(|a| a.uri.user().map(str::to_string));
        let pai_user = request
            .headers
            .p_asserted_identity()
            .ok()
            .and_then(|v| v.into_iter().next())
            .and_then(|a| a.uri.user().map(str::to_string));
        let anonymous = request
            .headers
            .privacy()
            .is_ok_and(|p| p.iter().any(|t| t.eq_ignore_ascii_case("id")));
        let caller = pai_user.or(from_user).unwrap_or_else(|| "anonymous".into());
        let tag_or_local = tag.unwrap_or(crate::elements::CallTag(u64::MAX - self.next_key));
        let script = match tag.and_then(|t| cx.script(t)) {
            Some(s) => s,
            None => Rc::new(Self::default_script(
                tag_or_local,
                &caller,
                &called,
                anonymous,
            )),
        };
        let mut origin = Leg::new(LegKind::Sip { handle, trunk }, &caller, Purpose::Primary);
        origin.identity = Some(caller.clone());
        let key = self.start_call(cx, tag_or_local, script, origin, called.clone());
        self.trunk_calls += 1;
        self.by_handle.insert(handle, (key, 0));
        self.by_call_id.insert(call_id.clone(), handle);
        if let Some(c) = self.calls.get_mut(&key) {
            c.anonymous |= anonymous;
            c.call_ids.push(call_id);
            for h in [
                HeaderName::HistoryInfo,
                HeaderName::ReferredBy,
                HeaderName::Diversion,
            ] {
                for v in request.headers.get_all(h) {
                    c.history.push((h, v.to_string()));
                }
            }
        }
        self.extend(cx, key, &called, Purpose::Primary, None);
    }

    /// A SIP URI for `user` at a peer, with the trunk's transport.
    fn peer_uri(&self, user: &str, peer: SocketAddrV4) -> Uri {
        let mut u = SipUri::new(
            Some(user),
            Host::from(IpAddr::V4(*peer.ip())),
            Some(peer.port()),
        );
        if self.ua.config().transport != Transport::Udp {
            u.params
                .set("transport", Some(self.ua.config().transport.uri_param()));
        }
        u.params.set("user", Some("phone"));
        Uri::Sip(u)
    }

    /// Places a SIP destination leg on a trunk.
    pub(crate) fn invite(
        &mut self,
        cx: &mut Cx<'_>,
        key: CallKey,
        number: &str,
        trunk: Trunk,
        purpose: Purpose,
        redirect: Redirect,
    ) {
        let now = cx.now();
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let tag = call.tag;
        if trunk == Trunk::Lync && self.health.down {
            // OPTIONS said the trunk is down: skip it without waiting for a timeout.
            if let (Some(alt), true) = (
                self.setup.alternate_route.clone(),
                purpose != Purpose::Alternate,
            ) {
                self.report.failovers += 1;
                cx.note(tag, CallNote::Failover { status: None });
                return self.extend(cx, key, &alt, Purpose::Alternate, None);
            }
            return self.no_destination(cx, key, purpose, 503, "trunk to Lync is down");
        }
        if self.trunk_calls >= self.setup.sip_trunk_calls {
            self.report.rejected_capacity += 1;
            cx.note(tag, CallNote::RejectedCapacity);
            return self.no_destination(cx, key, purpose, 503, "no SIP trunk licence free");
        }
        let peer = match trunk {
            Trunk::Lync => self.setup.lync,
            Trunk::Provider => match self.setup.provider {
                Some(p) => p,
                None => return self.no_destination(cx, key, purpose, 404, "no provider trunk"),
            },
        };
        let partner = self.partner_for(key, purpose);
        let p = &call.legs[partner];
        let caller = p.identity.clone().unwrap_or_else(|| p.number.clone());
        let anonymous = call.anonymous;
        let history = call.history.clone();
        let partner_sip = p.sip();
        let partner_local = p.media.as_ref().map(|m| m.local);
        let plan = &self.setup.plan;
        let feature = call.feature_toward(number, false, |n| party_in(plan, n));
        let sc = call.scenario(|n| party_in(plan, n), feature);
        let to = self.peer_uri(number, peer);
        let mut params = CallParams::new(to);
        params.next_hop = Some(SocketAddr::V4(peer));
        let me = IpAddr::V4(self.setup.ip);
        let caller_uri = Uri::Sip(SipUri::new(Some(&caller), Host::from(me), None));
        if anonymous {
            let anon = Uri::Sip(SipUri::new(
                Some("anonymous"),
                Host::Domain("anonymous.invalid".into()),
                None,
            ));
            params.from = Some(NameAddr::new(anon).with_display("Anonymous"));
            params.headers.push((HeaderName::Privacy, "id".into()));
        } else {
            params.from = Some(NameAddr::new(caller_uri.clone()));
        }
        params
            .headers
            .push((HeaderName::PAssertedIdentity, format!("<{caller_uri}>")));
        if let Some((by, reason)) = &redirect {
            if self
                .engine
                .originates(crate::vendor::HistoryHeader::Diversion)
            {
                let u = Uri::Sip(SipUri::new(Some(by), Host::from(me), None));
                params
                    .headers
                    .push((HeaderName::Diversion, format!("<{u}>;reason={reason}")));
            }
        }
        if trunk == Trunk::Provider {
            // Pass the call's history on; the egress filter drops what the product drops.
            params.headers.extend(history);
        }
        match (partner_local, partner_sip) {
            (Some(local), _) => {
                let Some(msc) = self
                    .calls
                    .get(&key)
                    .map(|c| c.scenario(|n| party_in(&self.setup.plan, n), Feature::Basic))
                else {
                    return;
                };
                let profile = self.profile(cx, key, &msc);
                params.media = Some(self.caps_at(local, &profile));
            }
            (None, Some((h, _))) => {
                params.offer = match self.ua.remote_offer(h).or_else(|| self.ua.remote_sdp(h)) {
                    Some(sd) => Offer::Sdp(Box::new(sd.clone())),
                    None => Offer::None,
                };
            }
            (None, None) => {}
        }
        let Ok(handle) = self.ua.call(now, params) else {
            return self.no_destination(cx, key, purpose, 500, "could not build the INVITE");
        };
        let call_id = self.ua.call_id(handle).unwrap_or_default().to_string();
        cx.bind_call_id(&call_id, tag);
        cx.note(tag, CallNote::Hop);
        self.trunk_calls += 1;
        let mut leg = Leg::new(LegKind::Sip { handle, trunk }, number, purpose);
        leg.identity = Some(number.to_string());
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.legs.push(leg);
        call.call_ids.push(call_id.clone());
        let idx = call.legs.len() - 1;
        if trunk == Trunk::Lync
            && purpose != Purpose::Alternate
            && self.setup.alternate_route.is_some()
        {
            if let Some(art) = self.engine.alternate_route_timer(&sc) {
                let id = self.timers.arm(
                    now + art.after,
                    super::PbxTimer::AlternateRoute {
                        call: key,
                        leg: idx,
                    },
                );
                call.legs[idx].art = Some(id);
            }
        }
        self.by_handle.insert(handle, (key, idx));
        self.by_call_id.insert(call_id, handle);
        self.egress_call = (trunk == Trunk::Provider).then_some(sc);
        self.pump(cx);
        self.egress_call = None;
    }

    /// Screens a received request with the vendor's ingress behaviours (hold refused,
    /// FQDN in `c=` refused) and tracks identity updates. Returns true when the PBX
    /// answered the request itself.
    pub(crate) fn screen_ingress(
        &mut self,
        cx: &mut Cx<'_>,
        remote: SocketAddrV4,
        payload: &[u8],
    ) -> bool {
        self.last_remote = Some(remote);
        let relevant = payload.starts_with(b"INVITE ") || payload.starts_with(b"UPDATE ");
        if !relevant {
            return false;
        }
        let Ok(Message::Request(req)) = Message::parse(payload) else {
            return false;
        };
        let call_id = req
            .headers
            .get(HeaderName::CallId)
            .unwrap_or("")
            .to_string();
        let in_dialog = req.headers.to_addr().is_ok_and(|t| t.tag().is_some());
        let found = self
            .by_call_id
            .get(&call_id)
            .and_then(|h| self.by_handle.get(h))
            .copied();
        let (sc, tag) = match (in_dialog, found) {
            (true, Some((key, _))) => {
                let Some(c) = self.calls.get(&key) else {
                    return false;
                };
                (
                    c.scenario(|n| party_in(&self.setup.plan, n), Feature::Basic),
                    Some(c.tag),
                )
            }
            (true, None) => return false,
            (false, _) => {
                let called = req.uri.user().unwrap_or_default();
                let party = match self.party(called) {
                    Party::Lync => Party::Pstn,
                    p => p,
                };
                (
                    CallScenario::basic(Direction::Outbound, party),
                    cx.tag_of(&call_id),
                )
            }
        };
        if let Some(refusal) = self.engine.screen_request(&req, &sc) {
            self.report.refused_requests += 1;
            let to_tag = (!in_dialog).then(|| format!("{:08x}", self.rng.random::<u32>()));
            let host = self.setup.ip.to_string();
            let resp = refusal.response(&req, &host, to_tag.as_deref());
            if let Some(t) = tag {
                if !in_dialog {
                    cx.note(t, CallNote::Hop);
                }
                self.note_limitation(cx, t, &refusal.limitation);
                if refusal.client_left_muted {
                    cx.note(t, CallNote::Muted);
                }
            }
            cx.send(self.setup.sip, remote, resp.to_bytes());
            return true;
        }
        if let (true, Some((key, leg))) = (in_dialog, found) {
            let pai = req
                .headers
                .p_asserted_identity()
                .ok()
                .and_then(|v| v.into_iter().next())
                .and_then(|a| a.uri.user().map(str::to_string));
            if let Some(identity) = pai {
                self.identity_update(cx, key, leg, &identity);
            }
        }
        false
    }

    /// Sends an OPTIONS keepalive to the Mediation Server.
    pub(crate) fn send_keepalive(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now();
        self.timers.arm(
            now + self.setup.options_interval,
            super::PbxTimer::Keepalive,
        );
        let target = self.peer_uri_host(self.setup.lync);
        if self
            .ua
            .options(now, target, Some(SocketAddr::V4(self.setup.lync)))
            .is_ok()
        {
            self.report.options_sent += 1;
        }
    }

    fn peer_uri_host(&self, peer: SocketAddrV4) -> Uri {
        let mut u = SipUri::new(None, Host::from(IpAddr::V4(*peer.ip())), Some(peer.port()));
        if self.ua.config().transport != Transport::Udp {
            u.params
                .set("transport", Some(self.ua.config().transport.uri_param()));
        }
        Uri::Sip(u)
    }

    fn options_result(&mut self, status: u16) {
        if status == 408 || status == 503 {
            self.report.options_failed += 1;
            self.health.misses += 1;
            if self.health.misses >= self.setup.options_down_after && !self.health.down {
                self.health.down = true;
                self.report.trunk_down_events += 1;
            }
        } else {
            self.health.misses = 0;
            self.health.down = false;
        }
    }

    /// Sends the pending remote-call-control line-state reports: RFC 4235 `dialog`
    /// NOTIFYs to the Lync side.
    pub(crate) fn send_rcc(&mut self, cx: &mut Cx<'_>) {
        if self.stations.rcc_pending.is_empty() {
            return;
        }
        let Some(target) = self.setup.rcc_target else {
            self.stations.rcc_pending.clear();
            return;
        };
        let events = std::mem::take(&mut self.stations.rcc_pending);
        for ev in events {
            self.rcc_cseq += 1;
            let me = IpAddr::V4(self.setup.ip);
            let entity = Uri::Sip(SipUri::new(Some(&ev.number), Host::from(me), None));
            let mut req = Request::new(Method::Notify, self.peer_uri(&ev.number, target));
            let branch = format!("z9hG4bK{:016x}", self.rng.random::<u64>());
            let via = Via::new(
                self.ua.config().transport,
                Host::from(me),
                Some(self.setup.sip.port()),
                &branch,
            );
            let h = &mut req.headers;
            h.push(HeaderName::Via, via.encode());
            h.push(HeaderName::MaxForwards, "70");
            h.push(
                HeaderName::From,
                format!("<{entity}>;tag={:08x}", self.rng.random::<u32>()),
            );
            h.push(HeaderName::To, format!("<{entity}>"));
            h.push(
                HeaderName::CallId,
                format!("rcc-{}@{}", ev.number, self.setup.ip),
            );
            h.push(HeaderName::CSeq, format!("{} NOTIFY", self.rcc_cseq));
            h.push(HeaderName::Event, "dialog");
            h.push(HeaderName::SubscriptionState, "active;expires=3600");
            let state = match ev.state {
                LineState::Idle => "terminated",
                LineState::Ringing => "early",
                LineState::Busy => "confirmed",
            };
            let body = format!(
                "<?xml version=\"1.0\"?>\r\n<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"{}\" state=\"full\" entity=\"{entity}\">\r\n<dialog id=\"line\"><state>{state}</state></dialog>\r\n</dialog-info>\r\n",
                self.rcc_cseq
            );
            req.set_body("application/dialog-info+xml", Bytes::from(body));
            self.report.rcc_notifies += 1;
            cx.send(self.setup.sip, target, req.to_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_id_scan_finds_the_header() {
        let msg = b"BYE sip:a@b SIP/2.0\r\nVia: x\r\nCall-ID: abc@10.0.0.1\r\nCSeq: 2 BYE\r\n\r\n";
        assert_eq!(scan_call_id(msg), Some("abc@10.0.0.1"));
        assert_eq!(scan_call_id(b"garbage"), None);
    }
}
