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
use crate::sip::wire::{HeaderName, Host, Policy, Request, Response, Uri};
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
    /// Report every branch's final response with [`ProxyCore::poll_branch_report`]
    /// (for elements that act on each branch of a fork, not only when all have failed).
    pub report_branches: bool,
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
            report_branches: false,
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

/// The final response of one branch of an element-routed request (a 2xx, a failure, or
/// 408 on a timeout), when [`ProxyConfig::report_branches`] is set.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BranchReport {
    pub ctx: ContextId,
    /// The branch index ([`ProxyCore::forward_with`] returns it; `forward` numbers branches
    /// from 0 in the order they were sent).
    pub branch: usize,
    pub status: u16,
    pub timeout: bool,
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
    pub(crate) branch_reports: VecDeque<BranchReport>,
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
            branch_reports: VecDeque::new(),
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

    /// The next branch report (only with [`ProxyConfig::report_branches`]).
    pub fn poll_branch_report(&mut self) -> Option<BranchReport> {
        self.branch_reports.pop_front()
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

    /// Sends a branch of `ctx` to `target` with `headers` appended to the forwarded
    /// request (e.g. History-Info on a retargeted branch). Returns the branch index.
    pub fn forward_with(
        &mut self,
        now: SimTime,
        ctx: ContextId,
        target: Target,
        headers: &[(HeaderName, String)],
    ) -> Result<usize> {
        self.add_branch_with(now, ctx, target, headers)
    }

    /// Gives up on branch `branch` of `ctx` (a timer of the element expired): CANCEL now
    /// if it is proceeding, else as soon as it is (RFC 3261 §9.1). A branch that had no
    /// response yet stops counting as pending at once; the final response of an abandoned
    /// branch is not a candidate for the best response.
    pub fn abandon_branch(&mut self, now: SimTime, ctx: ContextId, branch: usize) -> Result<()> {
        self.abandon(now, ctx, branch)
    }

    /// The last provisional status above 100 branch `branch` of `ctx` received, if any
    /// (100 Trying is hop by hop and says nothing about the far end).
    pub fn branch_progress(&self, ctx: ContextId, branch: usize) -> Option<u16> {
        let b = self.contexts.get(&ctx)?.branches.get(branch)?;
        (b.progress > 0).then_some(b.progress)
    }

    /// The final failure response branch `branch` of `ctx` received (408 is synthesised
    /// on a timeout), once it has one.
    pub fn branch_failure(&self, ctx: ContextId, branch: usize) -> Option<&Response> {
        self.contexts
            .get(&ctx)?
            .branches
            .get(branch)?
            .failure
            .as_ref()
    }

    /// Whether `ctx` is still waiting for a final response (no answer went upstream).
    pub fn is_open(&self, ctx: ContextId) -> bool {
        self.contexts
            .get(&ctx)
            .is_some_and(|c| !c.done && !c.answered && !c.cancelled)
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
