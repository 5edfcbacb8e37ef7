//! The Lync Front End pool: registrar and routing, as a stateful record-routing proxy.
//!
//! The Front End knows where every Enterprise Voice user is from the deployment's number
//! plan (a Lync pool registers nothing on the wire: the plan *is* the registrar's
//! database). For each new INVITE it:
//! - normalizes the dialled string with the caller's dial plan (user, site, then global);
//! - finds the target: a Lync user (their pool), the voicemail pilot (Exchange UM), a
//!   number hosted by a PBX with a trunk to it, or anything else through outbound routing
//!   (voice policy → PSTN usages → routes → trunks);
//! - applies the callee's call forwarding (CFA, CFB on 486), simultaneous ring (a parallel
//!   fork; the first answer wins and the proxy CANCELs the rest) and forwarding to
//!   voicemail after the unanswered-call timer, with History-Info (RFC 4244);
//! - admits the media over WAN site pairs (call admission control), rerouting over the
//!   PSTN or rejecting a call over the limit;
//! - fails over from trunk to trunk on the route's failover responses (after the trunk's
//!   response-code translation), on timeouts and on the fast-failover timer, and keeps a
//!   health state per trunk (`health.rs`).
//!
//! In-dialog requests follow the Record-Route and are proxied without the routing logic.
//!
//! Invariants: the Front End never terminates media, never originates calls, and acts
//! only through its `Cx`. `Command::Fail` loses every call and trunk state; requests
//! arriving while failed get no answer.

mod cac;
mod call;
mod dialplan;
mod health;
mod history;
mod outcome;
mod routing;
mod spec;

pub use cac::CacOverflow;
pub use dialplan::Scope;
pub use spec::{
    CacSpec, DialPlanSpec, FRONT_END_KIND, FrontEndSpec, HealthSpec, LYNC_POOL_KIND,
    NormalizationRuleSpec, RouteSpec, TranslationSpec, TrunkSpec, VOICEMAIL_KIND, VoicePolicySpec,
};

use super::CallTag;
use super::element::{Command, NetworkElement};
use super::host::Cx;
use super::timers::{TimerId, TimerQueue};
use crate::sim::{SimRng, SimTime};
use crate::sip::proxy::{ContextId, ProxyConfig, ProxyCore};
use crate::sip::ua::hash::FastMap;
use cac::{Cac, CacGrant};
use call::FeCall;
use health::{Availability, TrunkHealth};
use rand::SeedableRng;
use spec::FeConfig;
pub(crate) use spec::transport_of;
use std::net::{SocketAddr, SocketAddrV4};

/// Counters of a Front End.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct FrontEndStats {
    /// INVITEs routed (new calls and retargets arriving).
    pub invites: u64,
    /// Times a call moved to another trunk after a failure, timeout or down report.
    pub failovers: u64,
    /// Trunks skipped because they were marked down.
    pub skipped_down: u64,
    /// Calls rerouted over the PSTN by call admission control.
    pub cac_rerouted: u64,
    /// Call legs refused by call admission control.
    pub cac_refused: u64,
}

/// The Front End's logical timers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum FeTimer {
    /// No progress from a trunk in time: fail over.
    FastFailover { ctx: ContextId, branch: usize },
    /// The callee did not answer: forward to voicemail.
    Unanswered { ctx: ContextId },
}

/// A Front End pool.
pub struct FrontEnd {
    cfg: Box<FeConfig>,
    core: ProxyCore,
    calls: FastMap<ContextId, FeCall>,
    timers: TimerQueue<FeTimer>,
    health: Vec<TrunkHealth>,
    cac: Cac,
    /// CAC grants of answered calls, by Call-ID, released at the BYE.
    established: FastMap<String, Vec<CacGrant>>,
    /// Calls whose callee features are being applied (by the context that does it).
    featured: FastMap<CallTag, ContextId>,
    failed: bool,
    /// Seeds the proxy core after a restart.
    restart: SimRng,
    stats: FrontEndStats,
}

impl FrontEnd {
    pub(crate) fn new(cfg: FeConfig, mut rng: SimRng) -> FrontEnd {
        let restart = SimRng::from_rng(&mut rng);
        let core = Self::core(&cfg, rng);
        let health = cfg
            .routing
            .trunks
            .iter()
            .map(|_| TrunkHealth::new(&cfg.health))
            .collect();
        FrontEnd {
            cac: cfg.cac.clone(),
            core,
            calls: FastMap::default(),
            timers: TimerQueue::default(),
            health,
            established: FastMap::default(),
            featured: FastMap::default(),
            failed: false,
            restart,
            stats: FrontEndStats::default(),
            cfg: Box::new(cfg),
        }
    }

    fn core(cfg: &FeConfig, rng: SimRng) -> ProxyCore {
        let mut pc = ProxyConfig::new(SocketAddr::V4(cfg.sip));
        pc.transport = cfg.transport;
        pc.record_route = true;
        pc.report_branches = true;
        ProxyCore::new(pc, rng)
    }

    pub fn stats(&self) -> FrontEndStats {
        self.stats
    }

    /// Calls being routed now (contexts with routing state).
    pub fn calls_in_progress(&self) -> usize {
        self.calls.len()
    }

    /// The number of concurrent sessions admitted between two sites now, and the peak
    /// (None when the pair has no limit).
    pub fn cac_sessions(&self, a: &str, b: &str) -> Option<(u32, u32)> {
        let id = |s: &str| {
            self.cfg
                .sites
                .iter()
                .position(|x| x == s)
                .map(|i| routing::SiteId(i as u16))
        };
        self.cac.sessions(id(a)?, id(b)?)
    }

    /// Whether a trunk is up, deprioritised or down at `now` ("up", "deprioritised",
    /// "down"), by name.
    pub fn trunk_state(&self, trunk: &str, now: SimTime) -> Option<&'static str> {
        let i = self
            .cfg
            .routing
            .trunks
            .iter()
            .position(|t| t.name == trunk)?;
        Some(match self.health[i].availability(now) {
            Availability::Up => "up",
            Availability::Deprioritised => "deprioritised",
            Availability::Down => "down",
        })
    }

    /// Normalizes `dialled` as the user with E.164 `user` would have it normalized: the
    /// number, and the dial plan and rule that matched.
    pub fn normalize(&self, user: &str, dialled: &str) -> (String, Option<(String, String)>) {
        let site = self.user_site_name(user);
        match self
            .cfg
            .dial_scopes
            .resolve(Some(user), site.as_deref())
            .and_then(|i| self.cfg.dial_plans.get(i))
        {
            Some(dp) => {
                let n = dp.normalize(dialled);
                let rule = n.rule.map(|r| (dp.name.clone(), dp.rules[r].name.clone()));
                (n.number, rule)
            }
            None => (dialled.to_string(), None),
        }
    }

    /// Outbound routing for a user's call to an E.164 number: the voice policy's name and
    /// the (route, trunk) pairs in the order they would be tried (before health).
    pub fn outbound_routing(
        &self,
        user: &str,
        number: &str,
    ) -> (Option<String>, Vec<(String, String)>) {
        let site = self.user_site_name(user);
        let policy = self
            .cfg
            .policy_scopes
            .resolve(Some(user), site.as_deref())
            .and_then(|p| self.cfg.routing.policies.get(p));
        let usages = policy.map(|p| p.usages.as_slice()).unwrap_or(&[]);
        let pairs = self
            .cfg
            .routing
            .candidates(usages, number)
            .into_iter()
            .map(|c| {
                let route = c
                    .route
                    .and_then(|r| self.cfg.routing.routes.get(r))
                    .map_or_else(String::new, |r| r.name.clone());
                (route, self.cfg.routing.trunks[c.trunk].name.clone())
            })
            .collect();
        (policy.map(|p| p.name.clone()), pairs)
    }

    fn pump(&mut self, cx: &mut Cx<'_>) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.core.poll_transmit() {
                progressed = true;
                if let SocketAddr::V4(dst) = t.dst {
                    cx.send(self.cfg.sip, dst, t.bytes);
                }
            }
            while let Some(r) = self.core.poll_branch_report() {
                progressed = true;
                self.on_branch_report(cx, r);
            }
            while let Some(ev) = self.core.poll_event() {
                progressed = true;
                self.on_proxy_event(cx, ev);
            }
            if !progressed {
                break;
            }
        }
    }

    fn cancel_timer(&mut self, id: Option<TimerId>) {
        if let Some(id) = id {
            self.timers.cancel(id);
        }
    }

    /// A BYE on an answered call: give back its admitted bandwidth.
    fn peek_bye(&mut self, payload: &[u8]) {
        if self.established.is_empty() || !payload.starts_with(b"BYE ") {
            return;
        }
        if let Ok(req) = crate::sip::wire::Request::parse(payload) {
            if let Ok(id) = req.headers.call_id() {
                if let Some(grants) = self.established.remove(id) {
                    for g in grants {
                        self.cac.release(g);
                    }
                }
            }
        }
    }

    fn restart(&mut self) {
        let rng = SimRng::from_rng(&mut self.restart);
        self.core = Self::core(&self.cfg, rng);
        self.calls = FastMap::default();
        self.timers = TimerQueue::default();
        self.health = self
            .cfg
            .routing
            .trunks
            .iter()
            .map(|_| TrunkHealth::new(&self.cfg.health))
            .collect();
        self.cac.reset();
        self.established = FastMap::default();
        self.featured = FastMap::default();
    }
}

impl NetworkElement for FrontEnd {
    fn name(&self) -> &str {
        &self.cfg.name
    }

    fn on_datagram(
        &mut self,
        cx: &mut Cx<'_>,
        _local: SocketAddrV4,
        remote: SocketAddrV4,
        payload: &[u8],
    ) {
        if self.failed {
            return;
        }
        self.peek_bye(payload);
        self.core
            .handle_datagram(cx.now(), SocketAddr::V4(remote), payload);
        self.pump(cx);
    }

    fn on_timeout(&mut self, cx: &mut Cx<'_>) {
        if self.failed {
            return;
        }
        let now = cx.now();
        if self.core.poll_timeout().is_some_and(|t| t <= now) {
            self.core.handle_timeout(now);
        }
        self.pump(cx);
        while let Some(t) = self.timers.pop_due(now) {
            match t {
                FeTimer::FastFailover { ctx, branch } => self.on_fast_failover(cx, ctx, branch),
                FeTimer::Unanswered { ctx } => self.on_unanswered(cx, ctx),
            }
            self.pump(cx);
        }
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        if self.failed {
            return None;
        }
        match (self.core.poll_timeout(), self.timers.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_command(&mut self, _cx: &mut Cx<'_>, command: Command) {
        match command {
            Command::Fail => {
                self.failed = true;
                self.restart();
            }
            Command::Repair => self.failed = false,
            _ => {}
        }
    }
}
