//! The proxy's request contexts: receiving, forwarding branches, relaying responses,
//! choosing the best one, and CANCEL.

use super::{ContextId, ProxyCore, ProxyEvent, Target};
use crate::sim::{SimTime, stable_hash};
use crate::sip::error::{Error, Result};
use crate::sip::transaction::{
    InviteClient, InviteServer, NonInviteClient, NonInviteServer, Transaction, TxEvent, TxKey,
    response_destination,
};
use crate::sip::transport::Transmit;
use crate::sip::wire::{
    CSeq, Essentials, HeaderName, Message, Method, NameAddr, Request, Response, SipUri, Via,
    check_request, check_response, make_response, make_response_from, reason_phrase, salvage,
};
use bytes::Bytes;
use rand::Rng;
use std::net::SocketAddr;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum PTimer {
    Tx(u64),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum POwner {
    Server(ContextId),
    Branch(ContextId, usize),
    None,
}

#[derive(Debug)]
pub(crate) struct PTx {
    pub(crate) tx: Transaction,
    pub(crate) key: TxKey,
    pub(crate) owner: POwner,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum BranchState {
    Trying,
    Proceeding,
    Done(u16),
}

#[derive(Debug)]
pub(crate) struct Branch {
    pub(crate) target: crate::sip::wire::Uri,
    pub(crate) request: Request,
    pub(crate) dst: SocketAddr,
    pub(crate) state: BranchState,
    pub(crate) cancel_pending: bool,
    /// The last provisional status above 100 the branch received (0: none yet).
    pub(crate) progress: u16,
    /// The element gave up on the branch ([`ProxyCore::abandon_branch`]): its final
    /// response is neither a candidate for the best response nor reported.
    pub(crate) abandoned: bool,
    /// A CANCEL was sent for the branch.
    pub(crate) cancel_sent: bool,
    /// The final failure response of the branch (for its Reason and warning headers).
    pub(crate) failure: Option<Response>,
}

#[derive(Debug)]
pub(crate) struct Context {
    /// The request as received, after Route pre-processing.
    pub(crate) request: Request,
    pub(crate) server_tx: Option<u64>,
    pub(crate) resp_dst: SocketAddr,
    pub(crate) branches: Vec<Branch>,
    pub(crate) best: Option<Response>,
    pub(crate) answered: bool,
    pub(crate) done: bool,
    pub(crate) cancelled: bool,
    /// Routed by the core itself (Route present): failures go upstream without asking.
    pub(crate) automatic: bool,
    /// Our To tag for responses we generate.
    pub(crate) tag: String,
    /// Transactions of this context still alive.
    pub(crate) live: u32,
}

impl Context {
    fn pending(&self) -> bool {
        self.branches
            .iter()
            .any(|b| !matches!(b.state, BranchState::Done(_)))
    }
}

/// Preference of a final response for §16.7 step 6: 6xx first, then the lowest class.
fn rank(status: u16) -> u16 {
    if status >= 600 { 0 } else { status / 100 }
}

impl ProxyCore {
    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn new_branch(&mut self) -> String {
        format!("z9hG4bK{:016x}", self.rng.random::<u64>())
    }

    fn our_via(&self, branch: &str) -> Via {
        let mut v = Via::new(
            self.cfg.transport,
            self.host(),
            Some(self.cfg.local.port()),
            branch,
        );
        v.params.remove("rport");
        v
    }

    fn send_direct(&mut self, dst: SocketAddr, bytes: Bytes) {
        self.out.push_back(Transmit {
            dst,
            transport: self.cfg.transport,
            bytes,
        });
    }

    fn flush(&mut self, id: u64) {
        let Some(p) = self.txs.get_mut(&id) else {
            return;
        };
        while let Some(t) = p.tx.poll_transmit() {
            self.out.push_back(t);
        }
        let next = p.tx.next_timeout();
        if p.tx.is_terminated() {
            let (key, owner) = (p.key.clone(), p.owner);
            self.txs.remove(&id);
            if self.tx_keys.get(&key) == Some(&id) {
                self.tx_keys.remove(&key);
            }
            self.timers.set(PTimer::Tx(id), None);
            let ctx = match owner {
                POwner::Server(c) | POwner::Branch(c, _) => Some(c),
                POwner::None => None,
            };
            if let Some(c) = ctx {
                if let Some(x) = self.contexts.get_mut(&c) {
                    x.live = x.live.saturating_sub(1);
                    if matches!(owner, POwner::Server(_)) {
                        x.server_tx = None;
                    }
                }
                self.maybe_drop(c);
            }
        } else {
            self.timers.set(PTimer::Tx(id), next);
        }
    }

    /// Forgets a context once its answer is sent and no transaction of it is alive.
    fn maybe_drop(&mut self, ctx: ContextId) {
        let Some(c) = self.contexts.get(&ctx) else {
            return;
        };
        if (c.done || c.answered) && c.live == 0 {
            self.contexts.remove(&ctx);
        }
    }

    fn start_client(
        &mut self,
        now: SimTime,
        req: Request,
        branch: &str,
        dst: SocketAddr,
        owner: POwner,
    ) -> u64 {
        let id = self.id();
        if let POwner::Branch(c, _) | POwner::Server(c) = owner {
            if let Some(x) = self.contexts.get_mut(&c) {
                x.live += 1;
            }
        }
        let key = TxKey::client(branch, &req.method);
        let (t, timers) = (self.cfg.transport, self.cfg.timers);
        let tx = if req.method == Method::Invite {
            Transaction::InviteClient(InviteClient::new(now, req, dst, t, timers))
        } else {
            Transaction::NonInviteClient(NonInviteClient::new(now, req, dst, t, timers))
        };
        self.tx_keys.insert(key.clone(), id);
        self.txs.insert(id, PTx { tx, key, owner });
        self.flush(id);
        id
    }

    /// A response sent back without a transaction (for requests rejected on receipt).
    fn reject_stateless(&mut self, req: &Request, src: SocketAddr, status: u16, reason: &str) {
        let resp = make_response(req, status, reason, None);
        let dst = req
            .headers
            .via_top()
            .map(|v| response_destination(&v, src, self.cfg.transport))
            .unwrap_or(src);
        self.send_direct(dst, resp.to_bytes());
    }

    pub(crate) fn receive(&mut self, now: SimTime, src: SocketAddr, bytes: &[u8]) {
        match Message::parse(bytes) {
            Ok(Message::Request(r)) => self.on_request(now, src, r),
            Ok(Message::Response(r)) => self.on_response(now, r),
            Err(e) => {
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

    fn on_request(&mut self, now: SimTime, src: SocketAddr, mut req: Request) {
        let ess = match check_request(&req, &self.cfg.policy) {
            Ok(e) => e,
            Err(rej) => {
                if req.method != Method::Ack {
                    self.reject_stateless(&req, src, rej.status, &rej.reason);
                }
                return;
            }
        };
        let is_ack = req.method == Method::Ack;
        if ess.max_forwards == Some(0) {
            if !is_ack {
                self.reject_stateless(&req, src, 483, "Too Many Hops");
            }
            return;
        }
        let me = format!(
            "{}:{}",
            self.host().to_string().to_ascii_lowercase(),
            self.cfg.local.port()
        );
        let spirals = req
            .headers
            .list(HeaderName::Via)
            .filter_map(|v| Via::parse(v).ok())
            .filter(|v| v.sent_by_key() == me)
            .count();
        if spirals > self.cfg.max_spirals {
            if !is_ack {
                self.reject_stateless(&req, src, 482, "Loop Detected");
            }
            return;
        }
        if !is_ack && req.method != Method::Cancel {
            if let Ok(tags) = req.headers.proxy_require() {
                if !tags.is_empty() {
                    let unsupported = tags.join(", ");
                    let mut resp = make_response(&req, 420, "Bad Extension", None);
                    resp.headers.push(HeaderName::Unsupported, unsupported);
                    let dst = response_destination(&ess.via, src, self.cfg.transport);
                    self.send_direct(dst, resp.to_bytes());
                    return;
                }
            }
        }
        let key = TxKey::for_request(&ess, &req.method, &req.uri);
        if let Some(&id) = self.tx_keys.get(&key) {
            let absorbed = self
                .txs
                .get_mut(&id)
                .is_some_and(|p| p.tx.on_request(now, &req));
            self.flush(id);
            if absorbed {
                return;
            }
        }
        let dst = response_destination(&ess.via, src, self.cfg.transport);
        self.preprocess_route(&mut req);
        match req.method {
            Method::Ack => self.forward_stateless(req, &ess),
            Method::Cancel => self.on_cancel(now, req, key, dst),
            _ => self.new_context(now, req, &ess, key, dst),
        }
    }

    /// §16.4: a Request-URI naming us came from a strict router (the real target is the
    /// last Route); a first Route naming us is ours to remove.
    fn preprocess_route(&mut self, req: &mut Request) {
        if self.is_me(&req.uri) && req.headers.contains(HeaderName::Route) {
            let routes: Vec<String> = req
                .headers
                .list(HeaderName::Route)
                .map(str::to_string)
                .collect();
            if let Some(last) = routes.last().and_then(|r| NameAddr::parse(r).ok()) {
                req.uri = last.uri;
                req.headers.remove(HeaderName::Route);
                for r in &routes[..routes.len() - 1] {
                    req.headers.push(HeaderName::Route, r.as_str());
                }
            }
        }
        let first_is_me = req
            .headers
            .list(HeaderName::Route)
            .next()
            .and_then(|r| NameAddr::parse(r).ok())
            .is_some_and(|a| self.is_me(&a.uri));
        if first_is_me {
            req.headers.pop_first(HeaderName::Route);
        }
    }

    /// The next hop of a request that carries its own route: the first Route, else the
    /// Request-URI.
    fn route_hop(&self, req: &Request) -> Option<SocketAddr> {
        match req.headers.list(HeaderName::Route).next() {
            Some(r) => NameAddr::parse(r).ok().and_then(|a| self.resolve(&a.uri)),
            None => self.resolve(&req.uri),
        }
    }

    /// An ACK for a 2xx: forwarded without a transaction (§16.11), with a Via whose
    /// branch is derived from the incoming one so retransmissions look the same.
    fn forward_stateless(&mut self, mut req: Request, ess: &Essentials) {
        let Some(dst) = self.route_hop(&req) else {
            return;
        };
        let h = stable_hash(&[ess.via.branch().unwrap_or("").as_bytes(), b"ack"]);
        let via = self.our_via(&format!("z9hG4bK{h:016x}"));
        req.headers.push_front(HeaderName::Via, via.encode());
        let mf = ess.max_forwards.unwrap_or(70).saturating_sub(1);
        req.headers.set(HeaderName::MaxForwards, mf.to_string());
        self.send_direct(dst, req.to_bytes());
    }

    fn new_context(
        &mut self,
        now: SimTime,
        req: Request,
        ess: &Essentials,
        key: TxKey,
        dst: SocketAddr,
    ) {
        let ctx = ContextId(self.id());
        let invite = req.method == Method::Invite;
        let id = self.id();
        let (t, timers) = (self.cfg.transport, self.cfg.timers);
        let tx = if invite {
            Transaction::InviteServer(InviteServer::new(dst, t, timers))
        } else {
            Transaction::NonInviteServer(NonInviteServer::new(dst, t, timers))
        };
        self.tx_keys.insert(key.clone(), id);
        self.txs.insert(
            id,
            PTx {
                tx,
                key,
                owner: POwner::Server(ctx),
            },
        );
        if invite {
            let trying = make_response(&req, 100, "Trying", None);
            if let Some(p) = self.txs.get_mut(&id) {
                p.tx.send_response(now, &trying);
            }
            self.flush(id);
        }
        let routed = req.headers.contains(HeaderName::Route) || ess.to_tag().is_some();
        let tag = format!("{:08x}", self.rng.random::<u32>());
        self.contexts.insert(
            ctx,
            Box::new(Context {
                request: req,
                server_tx: Some(id),
                resp_dst: dst,
                branches: Vec::new(),
                best: None,
                answered: false,
                done: false,
                cancelled: false,
                automatic: routed,
                tag,
                live: 1,
            }),
        );
        if routed {
            let hop = self
                .contexts
                .get(&ctx)
                .and_then(|c| self.route_hop(&c.request));
            match hop {
                Some(next_hop) => {
                    let _ = self.add_branch(
                        now,
                        ctx,
                        Target {
                            request_uri: None,
                            next_hop,
                        },
                    );
                }
                None => {
                    let _ = self.respond_upstream(now, ctx, 404, "Not Found");
                }
            }
        } else {
            let request = Box::new(self.contexts[&ctx].request.clone());
            self.events.push_back(ProxyEvent::Request { ctx, request });
        }
    }

    pub(crate) fn add_branch(
        &mut self,
        now: SimTime,
        ctx: ContextId,
        target: Target,
    ) -> Result<()> {
        self.add_branch_with(now, ctx, target, &[]).map(|_| ())
    }

    /// Sends a branch carrying `extra` headers (appended after the received ones);
    /// returns the branch index.
    pub(crate) fn add_branch_with(
        &mut self,
        now: SimTime,
        ctx: ContextId,
        target: Target,
        extra: &[(HeaderName, String)],
    ) -> Result<usize> {
        let record_route = self.cfg.record_route;
        let rr = {
            let mut u = SipUri::new(None, self.host(), Some(self.cfg.local.port()));
            u.params.set("lr", None);
            if self.cfg.transport != crate::sip::Transport::Udp {
                u.params
                    .set("transport", Some(self.cfg.transport.uri_param()));
            }
            format!("<{u}>")
        };
        let branch = self.new_branch();
        let via = self.our_via(&branch).encode();
        let c = self.ctx_mut(ctx)?;
        if c.done || c.answered || c.cancelled {
            return Err(Error::InvalidState {
                call: ctx.0,
                action: "forward",
                state: "finished",
            });
        }
        let mut fwd = c.request.clone();
        if let Some(u) = target.request_uri.clone() {
            fwd.uri = u;
        }
        let mf = fwd
            .headers
            .max_forwards()
            .ok()
            .flatten()
            .map(|m| m.saturating_sub(1))
            .unwrap_or(70);
        fwd.headers.set(HeaderName::MaxForwards, mf.to_string());
        let in_dialog = fwd.headers.to_addr().is_ok_and(|t| t.tag().is_some());
        if record_route && !in_dialog && fwd.method.creates_dialog() {
            fwd.headers.push_front(HeaderName::RecordRoute, rr);
        }
        fwd.headers.push_front(HeaderName::Via, via);
        for (n, v) in extra {
            fwd.headers.push(*n, v.as_str());
        }
        let idx = c.branches.len();
        c.branches.push(Branch {
            target: fwd.uri.clone(),
            request: fwd.clone(),
            dst: target.next_hop,
            state: BranchState::Trying,
            cancel_pending: false,
            progress: 0,
            abandoned: false,
            cancel_sent: false,
            failure: None,
        });
        self.start_client(now, fwd, &branch, target.next_hop, POwner::Branch(ctx, idx));
        Ok(idx)
    }

    /// Gives up on a branch: CANCEL now if it is proceeding, or as soon as a provisional
    /// response arrives (RFC 3261 §9.1). The branch stops counting as pending at once when
    /// nothing came back yet, and its final response is ignored.
    pub(crate) fn abandon(&mut self, now: SimTime, ctx: ContextId, idx: usize) -> Result<()> {
        let c = self.ctx_mut(ctx)?;
        let b = c.branches.get_mut(idx).ok_or(Error::InvalidState {
            call: ctx.0,
            action: "abandon",
            state: "no such branch",
        })?;
        if b.abandoned {
            return Ok(());
        }
        b.abandoned = true;
        match b.state {
            BranchState::Trying => {
                b.cancel_pending = true;
                b.state = BranchState::Done(408);
            }
            BranchState::Proceeding => {
                if c.request.method == Method::Invite && !b.cancel_sent {
                    self.cancel_branch(now, ctx, idx);
                }
            }
            BranchState::Done(_) => {}
        }
        Ok(())
    }

    fn on_response(&mut self, now: SimTime, resp: Response) {
        let Ok(ess) = check_response(&resp) else {
            return;
        };
        let Some(key) = TxKey::for_response(&ess) else {
            return;
        };
        let Some(&id) = self.tx_keys.get(&key) else {
            return self.forward_stray(resp, &ess);
        };
        let Some(p) = self.txs.get_mut(&id) else {
            return;
        };
        let owner = p.owner;
        let ev = p.tx.on_response(now, resp);
        self.flush(id);
        if let (POwner::Branch(ctx, idx), Some(TxEvent::Response(r))) = (owner, ev) {
            self.branch_response(now, ctx, idx, r, false);
        }
    }

    /// A response without a transaction (a retransmitted 2xx): if the top Via is ours,
    /// pop it and send the rest along the next Via (§16.7, §18.2.2).
    fn forward_stray(&mut self, mut resp: Response, ess: &Essentials) {
        let me = self.our_via("x");
        if !ess.via.host.eq_ignore_case(&me.host)
            || ess.via.port.unwrap_or(5060) != self.cfg.local.port()
        {
            return;
        }
        resp.headers.pop_first(HeaderName::Via);
        let Ok(next) = resp.headers.via_top() else {
            return;
        };
        let ip = next.received().or_else(|| next.host.ip());
        let Some(ip) = ip else { return };
        let port = next.rport().flatten().or(next.port).unwrap_or(5060);
        self.send_direct(SocketAddr::new(ip, port), resp.to_bytes());
    }

    pub(crate) fn tx_timeout(&mut self, now: SimTime, id: u64) {
        let Some(p) = self.txs.get_mut(&id) else {
            return;
        };
        let owner = p.owner;
        let ev = p.tx.on_timeout(now);
        self.flush(id);
        if let (POwner::Branch(ctx, idx), Some(TxEvent::Timeout)) = (owner, ev) {
            let Some(c) = self.contexts.get(&ctx) else {
                return;
            };
            let Some(b) = c.branches.get(idx) else { return };
            let r = make_response(&b.request, 408, "Request Timeout", None);
            let mut up = r;
            up.headers.pop_first(HeaderName::Via);
            self.branch_response(now, ctx, idx, up, true);
        }
    }

    fn send_upstream(&mut self, now: SimTime, ctx: ContextId, resp: &Response) {
        let Some(c) = self.contexts.get(&ctx) else {
            return;
        };
        match c.server_tx {
            Some(id) if self.txs.contains_key(&id) => {
                if let Some(p) = self.txs.get_mut(&id) {
                    p.tx.send_response(now, resp);
                }
                self.flush(id);
            }
            _ => {
                let dst = c.resp_dst;
                self.send_direct(dst, resp.to_bytes());
            }
        }
    }

    fn branch_response(
        &mut self,
        now: SimTime,
        ctx: ContextId,
        idx: usize,
        mut resp: Response,
        timeout: bool,
    ) {
        if !timeout {
            resp.headers.pop_first(HeaderName::Via);
        }
        let Some(c) = self.contexts.get_mut(&ctx) else {
            return;
        };
        let Some(b) = c.branches.get_mut(idx) else {
            return;
        };
        let status = resp.status;
        if status >= 200 && self.cfg.report_branches && !c.automatic {
            self.branch_reports.push_back(super::BranchReport {
                ctx,
                branch: idx,
                status,
                timeout,
            });
        }
        if b.abandoned && status < 200 {
            // A late provisional on a branch given up on: only the pending CANCEL.
            let cancel = b.cancel_pending && !b.cancel_sent;
            b.cancel_pending = false;
            if cancel {
                self.cancel_branch(now, ctx, idx);
            }
            return;
        }
        if b.abandoned && status >= 300 {
            b.state = BranchState::Done(status);
            let target = b.target.clone();
            if c.answered || c.done || c.pending() {
                self.maybe_drop(ctx);
                return;
            }
            if c.cancelled || c.automatic {
                let _ = self.send_best(now, ctx);
            } else {
                self.events.push_back(ProxyEvent::BranchFailed {
                    ctx,
                    target,
                    status,
                    timeout,
                });
            }
            return;
        }
        match status {
            100..=199 => {
                b.state = BranchState::Proceeding;
                if status > 100 {
                    b.progress = status;
                }
                let cancel = b.cancel_pending;
                b.cancel_pending = false;
                let forward = status > 100 && !c.done && !c.answered;
                if cancel {
                    self.cancel_branch(now, ctx, idx);
                }
                if forward {
                    self.send_upstream(now, ctx, &resp);
                }
            }
            200..=299 => {
                b.state = BranchState::Done(status);
                let first = !c.answered;
                c.answered = true;
                self.send_upstream(now, ctx, &resp);
                if first {
                    self.events.push_back(ProxyEvent::Completed { ctx, status });
                    // §16.7 step 10: the other branches are no longer needed.
                    self.cancel_pending(now, ctx);
                }
            }
            _ => {
                b.state = BranchState::Done(status);
                b.failure = Some(resp.clone());
                let target = b.target.clone();
                let better = c
                    .best
                    .as_ref()
                    .is_none_or(|best| rank(status) < rank(best.status));
                if better {
                    c.best = Some(resp);
                }
                if c.answered || c.done || c.pending() {
                    self.maybe_drop(ctx);
                    return;
                }
                if c.cancelled || c.automatic {
                    let _ = self.send_best(now, ctx);
                } else {
                    self.events.push_back(ProxyEvent::BranchFailed {
                        ctx,
                        target,
                        status,
                        timeout,
                    });
                }
            }
        }
    }

    pub(crate) fn send_best(&mut self, now: SimTime, ctx: ContextId) -> Result<()> {
        let hide = self.cfg.hide_503;
        let c = self.ctx_mut(ctx)?;
        if c.done || c.answered || c.pending() {
            return Err(Error::InvalidState {
                call: ctx.0,
                action: "finish",
                state: if c.pending() {
                    "branches pending"
                } else {
                    "finished"
                },
            });
        }
        let best = c.best.take();
        match best {
            Some(mut r) => {
                if hide && r.status == 503 {
                    r.status = 500;
                    r.reason = reason_phrase(500).to_string();
                }
                let status = r.status;
                c.done = true;
                self.send_upstream(now, ctx, &r);
                self.events.push_back(ProxyEvent::Completed { ctx, status });
                self.maybe_drop(ctx);
                Ok(())
            }
            None => self.respond_upstream(now, ctx, 480, "Temporarily Unavailable"),
        }
    }

    pub(crate) fn respond_upstream(
        &mut self,
        now: SimTime,
        ctx: ContextId,
        status: u16,
        reason: &str,
    ) -> Result<()> {
        let c = self.ctx_mut(ctx)?;
        if c.done || c.answered {
            return Err(Error::InvalidState {
                call: ctx.0,
                action: "respond",
                state: "finished",
            });
        }
        let tag = c.tag.clone();
        let resp = make_response(&c.request, status, reason, Some(&tag));
        if status >= 200 {
            c.done = true;
        }
        self.send_upstream(now, ctx, &resp);
        if status >= 200 {
            self.cancel_pending(now, ctx);
            self.events.push_back(ProxyEvent::Completed { ctx, status });
            self.maybe_drop(ctx);
        }
        Ok(())
    }

    fn cancel_pending(&mut self, now: SimTime, ctx: ContextId) {
        let Some(c) = self.contexts.get_mut(&ctx) else {
            return;
        };
        if c.request.method != Method::Invite {
            return;
        }
        let mut to_cancel = Vec::new();
        for (i, b) in c.branches.iter_mut().enumerate() {
            match b.state {
                BranchState::Proceeding if b.cancel_sent => {}
                BranchState::Proceeding => to_cancel.push(i),
                BranchState::Trying => b.cancel_pending = true,
                BranchState::Done(_) => {}
            }
        }
        for i in to_cancel {
            self.cancel_branch(now, ctx, i);
        }
    }

    /// CANCEL for one branch, built from the request sent on it (§9.1).
    fn cancel_branch(&mut self, now: SimTime, ctx: ContextId, idx: usize) {
        if let Some(b) = self
            .contexts
            .get_mut(&ctx)
            .and_then(|c| c.branches.get_mut(idx))
        {
            b.cancel_sent = true;
        }
        let Some(b) = self.contexts.get(&ctx).and_then(|c| c.branches.get(idx)) else {
            return;
        };
        let sent = &b.request;
        let mut req = Request::new(Method::Cancel, sent.uri.clone());
        let h = &sent.headers;
        let top = h.list(HeaderName::Via).next().unwrap_or("").to_string();
        req.headers.push(HeaderName::Via, top.as_str());
        req.headers.push(HeaderName::MaxForwards, "70");
        for n in [HeaderName::From, HeaderName::To, HeaderName::CallId] {
            if let Some(v) = h.get(n) {
                req.headers.push(n, v);
            }
        }
        let seq = h.cseq().map(|x| x.seq).unwrap_or(1);
        req.headers
            .push(HeaderName::CSeq, CSeq::new(seq, Method::Cancel).encode());
        for r in h.get_all(HeaderName::Route) {
            req.headers.push(HeaderName::Route, r);
        }
        let dst = b.dst;
        let branch = Via::parse(&top)
            .ok()
            .and_then(|v| v.branch().map(str::to_string))
            .unwrap_or_default();
        self.start_client(now, req, &branch, dst, POwner::None);
    }

    fn on_cancel(&mut self, now: SimTime, req: Request, key: TxKey, dst: SocketAddr) {
        let inv_key = TxKey {
            method: crate::sip::transaction::KeyMethod::Invite,
            ..key.clone()
        };
        let ctx = self
            .tx_keys
            .get(&inv_key)
            .and_then(|id| self.txs.get(id))
            .and_then(|p| match p.owner {
                POwner::Server(c) => Some(c),
                _ => None,
            });
        // The CANCEL itself is answered hop by hop.
        let id = self.id();
        let (t, timers) = (self.cfg.transport, self.cfg.timers);
        let status = if ctx.is_some() { 200 } else { 481 };
        self.tx_keys.insert(key.clone(), id);
        self.txs.insert(
            id,
            PTx {
                tx: Transaction::NonInviteServer(NonInviteServer::new(dst, t, timers)),
                key,
                owner: POwner::None,
            },
        );
        let resp = make_response(&req, status, reason_phrase(status), None);
        if let Some(p) = self.txs.get_mut(&id) {
            p.tx.send_response(now, &resp);
        }
        self.flush(id);
        let Some(ctx) = ctx else { return };
        let Some(c) = self.contexts.get_mut(&ctx) else {
            return;
        };
        if c.done || c.answered {
            return;
        }
        c.cancelled = true;
        if c.branches.is_empty() {
            let _ = self.respond_upstream(now, ctx, 487, "Request Terminated");
        } else {
            self.cancel_pending(now, ctx);
        }
    }
}
