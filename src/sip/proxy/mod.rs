//! A stateful proxy core (RFC 3261 §16), the building block of a Front End or any SIP
//! router: request validation, Max-Forwards (483), loop detection (482), Route
//! pre-processing and loose routing, Record-Route, Via push/pop, response relay with
//! best-response selection, CANCEL propagation, and serial forking hooks.
//!
//! It is sans-IO like the user agent (`handle_datagram`, `poll_transmit`,
//! `poll_timeout`/`handle_timeout`, `poll_event`). Routing decisions are the element's:
//! a new out-of-dialog request surfaces as [`ProxyEvent::Request`] and the element calls
//! [`ProxyCore::forward`] (one target at a time, or several for parallel forking) or
//! [`ProxyCore::respond`]. When every branch has failed (a final non-2xx, or 408 on a
//! timeout) the core reports [`ProxyEvent::BranchFailed`] and waits: the element either
//! forwards to the next target (failover, "the branch got 503/timeout, try the next
//! gateway") or calls [`ProxyCore::finish`] to send the best response upstream. Requests
//! that carry a Route (in-dialog requests following Record-Route, preloaded routes) are
//! forwarded without asking. Nothing here knows about Lync.

mod context;

use crate::sim::{SimRng, SimTime};
use crate::sip::error::{Error, Result};
use crate::sip::transaction::Timers;
use crate::sip::transport::{Transmit, Transport};
use crate::sip::ua::hash::FastMap;
use crate::sip::ua::timers::TimerSet;
use crate::sip::wire::{Host, Policy, Request, Uri};
use context::{Context, PTimer, PTx};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

/// A request being proxied (one server transaction and its branches).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContextId(pub u64);

/// Where [`ProxyCore::forward`] sends a branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The new Request-URI (retargeting), or `None` to keep the received one.
    pub request_uri: Option<Uri>,
    /// The next hop to send to.
    pub next_hop: SocketAddr,
}

/// A proxy's identity and options.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    pub local: SocketAddr,
    /// The host written in Via and Record-Route (an FQDN, or the IP when `None`).
    pub host: Option<String>,
    pub transport: Transport,
    /// Insert Record-Route in dialog-creating requests, to stay on the dialog's path.
    pub record_route: bool,
    pub timers: Timers,
    pub policy: Policy,
    /// Host names reachable without DNS (for Route and Request-URI resolution).
    pub hosts: BTreeMap<String, SocketAddr>,
    /// Send 500 upstream instead of a best response of 503 (RFC 3261 §16.7 step 6).
    pub hide_503: bool,
    /// More Vias with our address than this is a loop (482).
    pub max_spirals: usize,
}

impl ProxyConfig {
    pub fn new(local: SocketAddr) -> ProxyConfig {
        ProxyConfig {
            local,
            host: None,
            transport: Transport::Udp,
            record_route: true,
            timers: Timers::default(),
            policy: Policy::default(),
            hosts: BTreeMap::new(),
            hide_503: true,
            max_spirals: 8,
        }
    }
}

/// What the proxy reports to its element.
#[derive(Clone, Debug, PartialEq)]
pub enum ProxyEvent {
    /// A new request to route: call `forward` or `respond`.
    Request {
        ctx: ContextId,
        request: Box<Request>,
    },
    /// Every branch so far ended without success; `status` is the last one's (408 for a
    /// timeout). Call `forward` again or `finish`.
    BranchFailed {
        ctx: ContextId,
        target: Uri,
        status: u16,
        timeout: bool,
    },
    /// A final response went upstream (2xx or the chosen failure).
    Completed { ctx: ContextId, status: u16 },
}

/// The stateful proxy (see the module docs).
pub struct ProxyCore {
    pub(crate) cfg: ProxyConfig,
    pub(crate) rng: SimRng,
    pub(crate) next_id: u64,
    pub(crate) txs: FastMap<u64, PTx>,
    pub(crate) tx_keys: FastMap<crate::sip::transaction::TxKey, u64>,
    /// Boxed: B-tree nodes shift their values on insert and remove.
    pub(crate) contexts: BTreeMap<ContextId, Box<Context>>,
    pub(crate) timers: TimerSet<PTimer>,
    pub(crate) out: VecDeque<Transmit>,
    pub(crate) events: VecDeque<ProxyEvent>,
}

impl ProxyCore {
    pub fn new(cfg: ProxyConfig, rng: SimRng) -> ProxyCore {
        ProxyCore {
            cfg,
            rng,
            next_id: 1,
            txs: FastMap::default(),
            tx_keys: FastMap::default(),
            contexts: BTreeMap::new(),
            timers: TimerSet::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The address the proxy listens on.
    pub fn address(&self) -> SocketAddr {
        self.cfg.local
    }

    pub fn config(&self) -> &ProxyConfig {
        &self.cfg
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<ProxyEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<SimTime> {
        self.timers.next()
    }

    pub fn handle_timeout(&mut self, now: SimTime) {
        while let Some(PTimer::Tx(id)) = self.timers.pop_due(now) {
            self.tx_timeout(now, id);
        }
    }

    pub fn handle_datagram(&mut self, now: SimTime, src: SocketAddr, bytes: &[u8]) {
        self.receive(now, src, bytes);
    }

    /// Requests in progress.
    pub fn contexts(&self) -> usize {
        self.contexts.len()
    }

    /// Live transactions.
    pub fn transactions(&self) -> usize {
        self.txs.len()
    }

    /// Sends a branch of `ctx` to `target`.
    pub fn forward(&mut self, now: SimTime, ctx: ContextId, target: Target) -> Result<()> {
        self.add_branch(now, ctx, target)
    }

    /// Answers `ctx` upstream with `status` and cancels any pending branch.
    pub fn respond(
        &mut self,
        now: SimTime,
        ctx: ContextId,
        status: u16,
        reason: &str,
    ) -> Result<()> {
        self.respond_upstream(now, ctx, status, reason)
    }

    /// No more targets: the best final response received goes upstream (§16.7).
    pub fn finish(&mut self, now: SimTime, ctx: ContextId) -> Result<()> {
        self.send_best(now, ctx)
    }

    pub(crate) fn host(&self) -> Host {
        match &self.cfg.host {
            Some(h) => Host::Domain(h.clone()),
            None => Host::from(self.cfg.local.ip()),
        }
    }

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

    /// True when `uri` names this proxy (host and port).
    pub(crate) fn is_me(&self, uri: &Uri) -> bool {
        let Some(u) = uri.as_sip() else { return false };
        let port_ok = u.port_or_default() == self.cfg.local.port();
        let host_ok = match (&u.host, &self.cfg.host) {
            (Host::Domain(d), Some(mine)) => d.eq_ignore_ascii_case(mine),
            (h, _) => h.ip() == Some(self.cfg.local.ip()),
        };
        port_ok && host_ok
    }

    pub(crate) fn ctx_mut(&mut self, ctx: ContextId) -> Result<&mut Context> {
        self.contexts
            .get_mut(&ctx)
            .map(|c| &mut **c)
            .ok_or(Error::UnknownCall(ctx.0))
    }
}
