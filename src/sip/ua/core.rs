//! The user agent's machinery: the transaction table, identifiers, message builders and
//! the dispatch of received messages and expired timers.

use super::{CallHandle, RequestHandle, UaEvent, UserAgent};
use crate::sim::SimTime;
use crate::sip::transaction::{
    InviteClient, InviteServer, NonInviteClient, NonInviteServer, Transaction, TxEvent, TxKey,
    response_destination,
};
use crate::sip::transport::{Transmit, Transport};
use crate::sip::wire::{
    Essentials, HeaderName, Host, Message, Method, NameAddr, Request, Response, SipUri, Uri, Via,
    check_request, check_response, is_known_method, make_response, make_response_from, salvage,
};
use bytes::Bytes;
use rand::Rng;
use std::net::SocketAddr;

/// What a transaction is for, so its events reach the right handler.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Invite,
    ReInvite,
    Cancel,
    Bye,
    Prack,
    Update,
    Refer,
    Notify,
    Server,
}

/// Who owns a transaction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    Call(CallHandle, Purpose),
    Options(RequestHandle),
    None,
}

/// Per-call timers kept by the UA core (not by transactions).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum CallTimer {
    /// Retransmit our 2xx to INVITE until the ACK (§13.3.1.4).
    Retransmit2xx,
    /// Retransmit a reliable provisional until the PRACK (RFC 3262 §3).
    Reliable1xx,
    /// Send a session refresh (RFC 4028 §10).
    Refresh,
    /// The session expires without a refresh (RFC 4028 §10).
    Expiry,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum TimerKey {
    Tx(u64),
    Call(CallHandle, CallTimer),
}

#[derive(Debug)]
pub(crate) struct TxEntry {
    pub(crate) tx: Transaction,
    pub(crate) owner: Owner,
    pub(crate) key: TxKey,
}

/// The branch of the top Via of a request we built (a scan, not a parse).
fn top_branch(h: &crate::sip::wire::Headers) -> Option<&str> {
    let via = h.get(HeaderName::Via)?;
    let at = via.find(";branch=")? + ";branch=".len();
    let rest = &via[at..];
    let end = rest.find([';', ',', ' ']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The methods this UA implements, for Allow.
pub(crate) const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, REFER, NOTIFY, INFO";

impl UserAgent {
    pub(crate) fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn hex64(&mut self) -> String {
        format!("{:016x}", self.rng.random::<u64>())
    }

    pub(crate) fn new_branch(&mut self) -> String {
        format!("z9hG4bK{}", self.hex64())
    }

    pub(crate) fn new_tag(&mut self) -> String {
        format!("{:08x}", self.rng.random::<u32>())
    }

    pub(crate) fn new_call_id(&mut self) -> String {
        let h = self.hex64();
        format!("{h}@{}", self.host())
    }

    /// A starting RSeq in 1..2^31 (RFC 3262 §3 asks for a random start).
    pub(crate) fn new_rseq(&mut self) -> u32 {
        self.rng.random_range(1..(1u32 << 30))
    }

    pub(crate) fn host(&self) -> Host {
        match &self.cfg.host {
            Some(h) => Host::Domain(h.clone()),
            None => Host::from(self.cfg.local.ip()),
        }
    }

    /// A Via for a new client transaction.
    pub(crate) fn via(&mut self) -> Via {
        let branch = self.new_branch();
        Via::new(
            self.cfg.transport,
            self.host(),
            Some(self.cfg.local.port()),
            &branch,
        )
    }

    /// Our Contact header value.
    pub(crate) fn contact(&self) -> String {
        let mut u = SipUri::new(
            Some(&self.cfg.user),
            self.host(),
            Some(self.cfg.local.port()),
        );
        if self.cfg.transport != Transport::Udp {
            u.params
                .set("transport", Some(self.cfg.transport.uri_param()));
        }
        format!("<{u}>")
    }

    /// `sip:user@domain`, the default From.
    pub(crate) fn local_aor(&self) -> NameAddr {
        let host = Host::parse(&self.cfg.domain).unwrap_or_else(|_| self.host());
        NameAddr::new(Uri::Sip(SipUri::new(Some(&self.cfg.user), host, None)))
    }

    /// The Supported option tags of this UA.
    pub(crate) fn supported(&self) -> &'static str {
        if self.cfg.supports_100rel {
            "100rel, timer, replaces"
        } else {
            "timer, replaces"
        }
    }

    pub(crate) fn supports_option(&self, tag: &str) -> bool {
        tag.eq_ignore_ascii_case("timer")
            || tag.eq_ignore_ascii_case("replaces")
            || (tag.eq_ignore_ascii_case("100rel") && self.cfg.supports_100rel)
    }

    /// Where a URI is reached: an IP literal, or a name from the host table.
    pub(crate) fn resolve(&self, uri: &Uri) -> Option<SocketAddr> {
        let u = uri.as_sip()?;
        match &u.host {
            Host::Domain(d) => self
                .cfg
                .hosts
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(d))
                .map(|(_, a)| match u.port {
                    Some(p) => SocketAddr::new(a.ip(), p),
                    None => *a,
                }),
            h => h.ip().map(|ip| SocketAddr::new(ip, u.port_or_default())),
        }
    }

    pub(crate) fn send_direct(&mut self, dst: SocketAddr, bytes: Bytes) {
        self.out.push_back(Transmit {
            dst,
            transport: self.cfg.transport,
            bytes,
        });
    }

    /// Starts a client transaction for `req` toward `dst`.
    pub(crate) fn start_client(
        &mut self,
        now: SimTime,
        req: Request,
        dst: SocketAddr,
        owner: Owner,
    ) -> u64 {
        let id = self.id();
        let key = TxKey::client(top_branch(&req.headers).unwrap_or(""), &req.method);
        let (t, timers) = (self.cfg.transport, self.cfg.timers);
        let tx = if req.method == Method::Invite {
            Transaction::InviteClient(InviteClient::new(now, req, dst, t, timers))
        } else {
            Transaction::NonInviteClient(NonInviteClient::new(now, req, dst, t, timers))
        };
        self.tx_keys.insert(key.clone(), id);
        self.txs.insert(id, TxEntry { tx, owner, key });
        self.flush_tx(id);
        id
    }

    /// Creates a server transaction for a request just received.
    pub(crate) fn start_server(
        &mut self,
        key: TxKey,
        invite: bool,
        dst: SocketAddr,
        owner: Owner,
    ) -> u64 {
        let id = self.id();
        let (t, timers) = (self.cfg.transport, self.cfg.timers);
        let tx = if invite {
            Transaction::InviteServer(InviteServer::new(dst, t, timers))
        } else {
            Transaction::NonInviteServer(NonInviteServer::new(dst, t, timers))
        };
        self.tx_keys.insert(key.clone(), id);
        self.txs.insert(id, TxEntry { tx, owner, key });
        id
    }

    /// Sends `resp` through server transaction `id`.
    pub(crate) fn tx_respond(&mut self, now: SimTime, id: u64, resp: &Response) {
        if let Some(e) = self.txs.get_mut(&id) {
            e.tx.send_response(now, resp);
        }
        self.flush_tx(id);
    }

    /// Sends an already serialised response through server transaction `id`.
    pub(crate) fn tx_respond_encoded(&mut self, now: SimTime, id: u64, status: u16, bytes: Bytes) {
        if let Some(e) = self.txs.get_mut(&id) {
            e.tx.send_encoded(now, status, bytes);
        }
        self.flush_tx(id);
    }

    /// Drains a transaction's output, re-arms its timer and drops it once terminated.
    pub(crate) fn flush_tx(&mut self, id: u64) {
        let Some(e) = self.txs.get_mut(&id) else {
            return;
        };
        while let Some(t) = e.tx.poll_transmit() {
            self.out.push_back(t);
        }
        let next = e.tx.next_timeout();
        if e.tx.is_terminated() {
            let key = e.key.clone();
            self.txs.remove(&id);
            if self.tx_keys.get(&key) == Some(&id) {
                self.tx_keys.remove(&key);
            }
            self.timers.set(TimerKey::Tx(id), None);
        } else {
            self.timers.set(TimerKey::Tx(id), next);
        }
    }

    /// A response to `req` with our Server header; `to_tag` is added to To if missing.
    pub(crate) fn response(
        &self,
        req: &Request,
        status: u16,
        reason: Option<&str>,
        to_tag: Option<&str>,
    ) -> Response {
        let reason = reason.unwrap_or_else(|| crate::sip::wire::reason_phrase(status));
        let mut r = make_response(req, status, reason, to_tag);
        if let Some(p) = &self.cfg.product {
            r.headers.push(HeaderName::Server, p.as_str());
        }
        r
    }

    /// Answers a new request with `status` through a fresh server transaction.
    pub(crate) fn respond_new(
        &mut self,
        now: SimTime,
        req: &Request,
        key: TxKey,
        dst: SocketAddr,
        status: u16,
        extra: &[(HeaderName, String)],
    ) {
        let id = self.start_server(key, req.method == Method::Invite, dst, Owner::None);
        let tag = (status >= 200 && req.method == Method::Invite).then(|| self.new_tag());
        let mut resp = self.response(req, status, None, tag.as_deref());
        for (n, v) in extra {
            resp.headers.push(*n, v.as_str());
        }
        self.tx_respond(now, id, &resp);
    }

    pub(crate) fn receive(&mut self, now: SimTime, src: SocketAddr, bytes: &[u8]) {
        match Message::parse(bytes) {
            Ok(Message::Request(req)) => self.on_request(now, src, req),
            Ok(Message::Response(resp)) => self.on_response(now, resp),
            Err(e) => {
                // RFC 3261 §8.2 / RFC 4475: a malformed request still gets a 400 when a
                // Via can be read; anything else is dropped.
                let Some(s) = salvage(bytes) else { return };
                if s.method == "ACK" {
                    return;
                }
                let reason = format!("Bad Request - {e}").replace(['\r', '\n'], " ");
                let resp = make_response_from(&s.headers, 400, &reason, None);
                let dst = s
                    .headers
                    .via_top()
                    .map(|v| response_destination(&v, src, self.cfg.transport))
                    .unwrap_or(src);
                self.send_direct(dst, resp.to_bytes());
            }
        }
    }

    fn on_request(&mut self, now: SimTime, src: SocketAddr, req: Request) {
        let ess = match check_request(&req, &self.cfg.policy) {
            Ok(e) => e,
            Err(rej) => {
                if req.method != Method::Ack {
                    let mut resp = make_response(&req, rej.status, &rej.reason, None);
                    for (n, v) in &rej.extra {
                        resp.headers.push(*n, v.as_str());
                    }
                    let dst = req
                        .headers
                        .via_top()
                        .map(|v| response_destination(&v, src, self.cfg.transport))
                        .unwrap_or(src);
                    self.send_direct(dst, resp.to_bytes());
                }
                return;
            }
        };
        let key = TxKey::for_request(&ess, &req.method, &req.uri);
        if let Some(&id) = self.tx_keys.get(&key) {
            let absorbed = self
                .txs
                .get_mut(&id)
                .is_some_and(|e| e.tx.on_request(now, &req));
            self.flush_tx(id);
            if absorbed {
                return;
            }
        }
        let dst = response_destination(&ess.via, src, self.cfg.transport);
        if !matches!(req.method, Method::Ack | Method::Cancel) {
            // §8.2.2.3: every option tag in Require must be supported.
            let unsupported: Vec<String> = match req.headers.require() {
                Ok(tags) => tags
                    .into_iter()
                    .filter(|t| !self.supports_option(t))
                    .map(str::to_string)
                    .collect(),
                Err(_) => return self.respond_new(now, &req, key, dst, 400, &[]),
            };
            if !unsupported.is_empty() {
                let extra = [(HeaderName::Unsupported, unsupported.join(", "))];
                return self.respond_new(now, &req, key, dst, 420, &extra);
            }
        }
        match &req.method {
            Method::Ack => self.on_ack(now, req, ess),
            Method::Cancel => self.on_cancel(now, req, ess, key, dst),
            _ if ess.to_tag().is_some() => self.on_in_dialog(now, src, req, ess, key, dst),
            Method::Invite => self.on_invite(now, src, req, ess, key, dst),
            Method::Options => self.answer_options(now, &req, key, dst),
            Method::Bye
            | Method::Prack
            | Method::Update
            | Method::Notify
            | Method::Refer
            | Method::Info => self.respond_new(now, &req, key, dst, 481, &[]),
            m if is_known_method(m) => self.respond_new(
                now,
                &req,
                key,
                dst,
                405,
                &[(HeaderName::Allow, ALLOW.into())],
            ),
            _ => self.respond_new(now, &req, key, dst, 501, &[]),
        }
    }

    /// Answers OPTIONS with our capabilities (RFC 3261 §11.2).
    pub(crate) fn answer_options(
        &mut self,
        now: SimTime,
        req: &Request,
        key: TxKey,
        dst: SocketAddr,
    ) {
        let extra = [
            (HeaderName::Allow, ALLOW.to_string()),
            (HeaderName::Accept, "application/sdp".to_string()),
            (HeaderName::Supported, self.supported().to_string()),
        ];
        self.respond_new(now, req, key, dst, 200, &extra);
    }

    fn on_response(&mut self, now: SimTime, resp: Response) {
        // Matching needs only the top Via branch and the CSeq method (§17.1.3); the rest
        // is parsed by whoever uses it. A response no transaction claims is validated
        // in full before anything is done with it.
        let (Ok(via), Ok(cseq)) = (resp.headers.via_top(), resp.headers.cseq()) else {
            return;
        };
        let Some(branch) = via.branch() else { return };
        let key = TxKey::client(branch, &cseq.method);
        match self.tx_keys.get(&key).copied() {
            Some(id) => {
                let Some(e) = self.txs.get_mut(&id) else {
                    return;
                };
                let owner = e.owner;
                let ev = e.tx.on_response(now, resp);
                self.flush_tx(id);
                if let Some(ev) = ev {
                    self.client_event(now, owner, ev);
                }
            }
            None => {
                if let Ok(ess) = check_response(&resp) {
                    self.on_stray_response(now, resp, ess);
                }
            }
        }
    }

    pub(crate) fn tx_timeout(&mut self, now: SimTime, id: u64) {
        let Some(e) = self.txs.get_mut(&id) else {
            return;
        };
        let owner = e.owner;
        let ev = e.tx.on_timeout(now);
        self.flush_tx(id);
        match ev {
            Some(TxEvent::Timeout) => self.client_event(now, owner, TxEvent::Timeout),
            Some(other) => self.client_event(now, owner, other),
            None => {}
        }
    }

    pub(crate) fn call_timeout(&mut self, now: SimTime, call: CallHandle, t: CallTimer) {
        match t {
            CallTimer::Retransmit2xx => self.retransmit_2xx(now, call),
            CallTimer::Reliable1xx => self.retransmit_reliable(now, call),
            CallTimer::Refresh => self.session_refresh(now, call),
            CallTimer::Expiry => self.session_expired(now, call),
        }
    }

    fn client_event(&mut self, now: SimTime, owner: Owner, ev: TxEvent) {
        match owner {
            Owner::Call(call, purpose) => match purpose {
                Purpose::Invite => self.invite_event(now, call, ev),
                Purpose::ReInvite | Purpose::Update => self.modify_event(now, call, purpose, ev),
                Purpose::Bye => self.bye_done(call),
                Purpose::Refer => self.refer_event(call, ev),
                Purpose::Cancel | Purpose::Prack | Purpose::Notify | Purpose::Server => {}
            },
            Owner::Options(request) => {
                let status = match ev {
                    TxEvent::Response(r) if r.status >= 200 => r.status,
                    TxEvent::Response(_) => return,
                    TxEvent::Timeout | TxEvent::AckTimeout => 408,
                };
                self.events
                    .push_back(UaEvent::OptionsResult { request, status });
            }
            Owner::None => {}
        }
    }

    pub(crate) fn send_options(
        &mut self,
        now: SimTime,
        target: Uri,
        next_hop: Option<SocketAddr>,
    ) -> crate::sip::Result<RequestHandle> {
        let dst = next_hop
            .or(self.cfg.outbound_proxy)
            .or_else(|| self.resolve(&target))
            .ok_or_else(|| crate::sip::Error::Unresolvable(target.to_string()))?;
        let mut req = Request::new(Method::Options, target.clone());
        let via = self.via();
        let tag = self.new_tag();
        let call_id = self.new_call_id();
        let h = &mut req.headers;
        h.push(HeaderName::Via, via.encode());
        h.push(HeaderName::MaxForwards, "70");
        let from = self.local_aor().with_tag(&tag);
        let h = &mut req.headers;
        h.push(HeaderName::From, from.encode());
        h.push(HeaderName::To, NameAddr::new(target).to_string());
        h.push(HeaderName::CallId, call_id);
        h.push(HeaderName::CSeq, "1 OPTIONS");
        h.push(HeaderName::Accept, "application/sdp");
        let handle = RequestHandle(self.id());
        self.start_client(now, req, dst, Owner::Options(handle));
        Ok(handle)
    }

    /// The next hop for a request of call `c` toward `uri`: resolved, else the peer.
    pub(crate) fn hop(&self, uri: &Uri, fallback: SocketAddr) -> SocketAddr {
        self.resolve(uri).unwrap_or(fallback)
    }

    /// Registers the call's dialog for in-dialog matching.
    pub(crate) fn index_dialog(&mut self, call: CallHandle) {
        if let Some(c) = self.calls.get(&call) {
            let k = (c.dialog.id.call_id.clone(), c.dialog.id.local_tag.clone());
            self.dialogs.insert(k, call);
        }
    }

    /// Forgets a finished call and every timer of it.
    pub(crate) fn remove_call(&mut self, call: CallHandle) {
        if let Some(c) = self.calls.remove(&call) {
            self.dialogs
                .remove(&(c.dialog.id.call_id.clone(), c.dialog.id.local_tag.clone()));
            if let Some(k) = &c.invite_key {
                self.invites.remove(k);
            }
            for t in [
                CallTimer::Retransmit2xx,
                CallTimer::Reliable1xx,
                CallTimer::Refresh,
                CallTimer::Expiry,
            ] {
                self.timers.set(TimerKey::Call(call, t), None);
            }
        }
    }

    /// Finds the call a request inside a dialog belongs to.
    pub(crate) fn find_dialog(&self, ess: &Essentials) -> Option<CallHandle> {
        let tag = ess.to_tag()?;
        self.dialogs
            .get(&(ess.call_id.clone(), tag.to_string()))
            .copied()
    }
}
