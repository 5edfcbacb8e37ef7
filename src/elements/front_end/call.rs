//! Routing one INVITE: legs (the callee's client, a forward target, a simultaneous-ring
//! target, voicemail, or an outbound route), each a list of hops tried in turn, and the
//! reactions to every branch's outcome and to the Front End's timers.

use super::cac::{Admission, CacGrant, CacOverflow};
use super::history::{Retarget, history_info};
use super::routing::{Candidate, SiteId};
use super::spec::{RangeDest, Source};
use super::{FeTimer, FrontEnd};
use crate::elements::CallTag;
use crate::elements::callbook::CallNote;
use crate::elements::host::Cx;
use crate::elements::script::{AnswerAction, ForwardMode};
use crate::elements::timers::TimerId;
use crate::rtp::Codec as RtpCodec;
use crate::sip::proxy::{ContextId, ProxyEvent, Target};
use crate::sip::sdp::SessionDescription;
use crate::sip::wire::{HeaderName, Headers, Host, Method, Request, SipUri, Uri};
use std::collections::VecDeque;
use std::net::{SocketAddr, SocketAddrV4};

/// Where one attempt of a leg goes.
#[derive(Clone, Debug)]
pub(super) enum Hop {
    /// A Lync user's pool.
    Pool { pool: usize, site: SiteId },
    /// A trunk (Mediation Server + peer).
    Trunk(Candidate),
    /// Exchange UM.
    Voicemail,
}

#[derive(Clone, Debug)]
pub(super) struct Leg {
    /// The number this leg's requests target.
    pub(super) number: String,
    pub(super) hops: VecDeque<Hop>,
    pub(super) retarget: Option<Retarget>,
    /// PSTN usages for a reroute over the PSTN (the policy that applies to the leg).
    pub(super) usages: Vec<usize>,
    pub(super) live: Option<usize>,
}

#[derive(Clone, Debug)]
pub(super) struct FeBranch {
    pub(super) leg: usize,
    pub(super) hop: Hop,
    pub(super) timer: Option<TimerId>,
    pub(super) grant: Option<CacGrant>,
    pub(super) finished: bool,
    pub(super) abandoned: bool,
}

/// The routing state of one INVITE the Front End is proxying.
pub(super) struct FeCall {
    pub(super) tag: Option<CallTag>,
    pub(super) call_id: String,
    /// The target as dialled and normalized, as a SIP URI (for History-Info).
    pub(super) original_uri: String,
    /// Received History-Info (kept to index new entries).
    pub(super) history: Headers,
    pub(super) origin_site: Option<SiteId>,
    /// P-Asserted-Identity to add (calls from Lync users).
    pub(super) pai: Option<String>,
    pub(super) legs: Vec<Leg>,
    pub(super) branches: Vec<FeBranch>,
    pub(super) unanswered: Option<TimerId>,
    /// Call forward busy target.
    pub(super) cfb: Option<String>,
    /// The callee's PSTN usages (for retargets).
    pub(super) callee_usages: Vec<usize>,
    /// Bits per second of the offered codec at the IP layer (for CAC).
    pub(super) bps: u64,
    pub(super) cac_refused: bool,
    pub(super) skipped_down: bool,
    pub(super) timed_out: bool,
    pub(super) translated_final: Option<u16>,
    pub(super) answered: bool,
    pub(super) completed: bool,
    pub(super) kept: Vec<CacGrant>,
}

impl FeCall {
    pub(super) fn live_branches(&self) -> bool {
        self.branches.iter().any(|b| !b.finished && !b.abandoned)
    }
}

/// The user part of a Request-URI without parameters (`+1425…;phone-context=…`).
fn user_of(uri: &Uri) -> String {
    let u = uri.user().unwrap_or_default();
    u.split(';').next().unwrap_or_default().to_string()
}

/// IP bit rate of the first offered codec the media layer knows (G.711 without SDP).
fn offer_bps(req: &Request) -> u64 {
    let g711 = RtpCodec::Pcmu.profile().ip_bitrate(20);
    let Ok(sdp) = SessionDescription::parse(&req.body) else {
        return g711 as u64;
    };
    let Some(m) = sdp.media.iter().find(|m| m.media == "audio" && m.port != 0) else {
        return g711 as u64;
    };
    let ptime = m.ptime().unwrap_or(20);
    m.codecs()
        .iter()
        .filter(|c| c.is_voice())
        .find_map(|c| RtpCodec::from_encoding_name(&c.name))
        .map(|c| {
            let p = c.profile();
            let pt = if p.check_ptime(ptime).is_ok() {
                ptime
            } else {
                p.default_ptime_ms
            };
            p.ip_bitrate(pt)
        })
        .unwrap_or(g711) as u64
}

impl FrontEnd {
    /// The site name of an Enterprise Voice user, if the number is one.
    pub(super) fn user_site_name(&self, number: &str) -> Option<String> {
        match self.dest(number) {
            Some(RangeDest::Pool { site, .. }) => self.cfg.sites.get(site.0 as usize).cloned(),
            _ => None,
        }
    }

    fn dest(&self, number: &str) -> Option<&RangeDest> {
        let plan = &self.cfg.plan;
        let i = plan
            .ranges
            .iter()
            .position(|r| r.index_of(number).is_some())?;
        self.cfg.range_dest.get(i)
    }

    /// The PSTN usages of a user's voice policy.
    fn user_usages(&self, number: &str, site: Option<&str>) -> Vec<usize> {
        self.cfg
            .policy_scopes
            .resolve(Some(number), site)
            .and_then(|p| self.cfg.routing.policies.get(p))
            .map(|p| p.usages.clone())
            .unwrap_or_default()
    }

    fn source_of(&self, req: &Request) -> Option<Source> {
        let via = req.headers.via_top().ok()?;
        let ip = match via.received().or_else(|| via.host.ip())? {
            std::net::IpAddr::V4(a) => a,
            std::net::IpAddr::V6(_) => return None,
        };
        let port = via.rport().flatten().or(via.port).unwrap_or(5060);
        self.cfg
            .sources
            .get(&SocketAddrV4::new(ip, port))
            .or_else(|| self.cfg.source_ips.get(&ip))
            .copied()
    }

    /// The hops that reach `number` (health-ordered for trunks); empty: no route.
    fn hops_for(&self, now: crate::sim::SimTime, number: &str, usages: &[usize]) -> Vec<Hop> {
        let cands: Vec<Candidate> = match self.dest(number) {
            Some(RangeDest::Pool { pool, site }) => {
                return vec![Hop::Pool {
                    pool: *pool,
                    site: *site,
                }];
            }
            Some(RangeDest::Voicemail) if self.cfg.voicemail.is_some() => {
                return vec![Hop::Voicemail];
            }
            Some(RangeDest::Trunks(t)) => t
                .iter()
                .map(|&trunk| Candidate { trunk, route: None })
                .collect(),
            _ => self.cfg.routing.candidates(usages, number),
        };
        // Up trunks first, then deprioritised ones (down ones stay to be skipped).
        let (mut up, mut later): (Vec<Candidate>, Vec<Candidate>) = (Vec::new(), Vec::new());
        for c in cands {
            match self.health[c.trunk].availability(now) {
                super::health::Availability::Deprioritised => later.push(c),
                _ => up.push(c),
            }
        }
        up.extend(later);
        up.into_iter().map(Hop::Trunk).collect()
    }

    pub(super) fn on_proxy_event(&mut self, cx: &mut Cx<'_>, ev: ProxyEvent) {
        match ev {
            ProxyEvent::Request { ctx, request } => self.on_request(cx, ctx, *request),
            // Branch reports already acted on every failure.
            ProxyEvent::BranchFailed { .. } => {}
            ProxyEvent::Completed { ctx, status } => self.on_completed(ctx, status),
        }
    }

    fn on_request(&mut self, cx: &mut Cx<'_>, ctx: ContextId, req: Request) {
        let now = cx.now();
        if req.method != Method::Invite {
            let (status, reason) = if req.method == Method::Options {
                (200, "OK")
            } else {
                (405, "Method Not Allowed")
            };
            let _ = self.core.respond(now, ctx, status, reason);
            return;
        }
        self.stats.invites += 1;
        let call_id = req.headers.call_id().unwrap_or_default().to_string();
        let tag = cx.tag_of(&call_id);
        if let Some(t) = tag {
            cx.note(t, CallNote::Hop);
        }
        let dialled = user_of(&req.uri);
        let from_user = req
            .headers
            .from_addr()
            .ok()
            .map(|f| user_of(&f.uri))
            .unwrap_or_default();
        let source = self.source_of(&req);
        // The caller: a Lync user (from a pool, or any sender using a user's number), or
        // a trunk.
        let caller_site_name = self.user_site_name(&from_user);
        let lync_caller = matches!(source, Some(Source::Pool(_)))
            || (source.is_none() && caller_site_name.is_some());
        let (origin_site, origin_usages, dial_user) = if lync_caller {
            let site = caller_site_name
                .as_deref()
                .and_then(|s| self.cfg.sites.iter().position(|x| x == s))
                .map(|i| SiteId(i as u16));
            let usages = self.user_usages(&from_user, caller_site_name.as_deref());
            (site, usages, Some(from_user.clone()))
        } else if let Some(Source::Trunk(t)) = source {
            let tr = &self.cfg.routing.trunks[t];
            (Some(tr.site), tr.usages.clone(), None)
        } else {
            (None, Vec::new(), None)
        };
        let site_name = origin_site.and_then(|s| self.cfg.sites.get(s.0 as usize).cloned());
        let number = match self
            .cfg
            .dial_scopes
            .resolve(dial_user.as_deref(), site_name.as_deref())
            .and_then(|i| self.cfg.dial_plans.get(i))
        {
            Some(dp) => dp.normalize(&dialled).number,
            None => dialled,
        };
        let pai = lync_caller.then(|| format!("<sip:{from_user}@{};user=phone>", self.cfg.domain));
        let mut call = FeCall {
            tag,
            call_id,
            original_uri: format!("sip:{number}@{};user=phone", self.cfg.domain),
            history: req.headers.subset(&[HeaderName::HistoryInfo]),
            origin_site,
            pai: pai.filter(|_| !req.headers.contains(HeaderName::PAssertedIdentity)),
            legs: Vec::new(),
            branches: Vec::new(),
            unanswered: None,
            cfb: None,
            callee_usages: Vec::new(),
            bps: if self.cac_active() {
                offer_bps(&req)
            } else {
                0
            },
            cac_refused: false,
            skipped_down: false,
            timed_out: false,
            translated_final: None,
            answered: false,
            completed: false,
            kept: Vec::new(),
        };
        self.plan_legs(cx, ctx, &mut call, &number, origin_usages);
        if call.legs.is_empty() {
            let _ = self.core.respond(now, ctx, 404, "Not Found");
            return;
        }
        self.calls.insert(ctx, call);
        let legs = self.calls.get(&ctx).map_or(0, |c| c.legs.len());
        for leg in 0..legs {
            self.advance(cx, ctx, leg);
        }
        self.maybe_finish(cx, ctx);
    }

    fn cac_active(&self) -> bool {
        self.cfg.sites.len() > 1 && self.cac.sessions_limited()
    }

    /// Decides the legs of a new call: the callee's features when the call reaches its
    /// scripted callee, else one leg toward the number.
    fn plan_legs(
        &mut self,
        cx: &mut Cx<'_>,
        ctx: ContextId,
        call: &mut FeCall,
        number: &str,
        origin_usages: Vec<usize>,
    ) {
        let now = cx.now();
        let is_user = matches!(self.dest(number), Some(RangeDest::Pool { .. }));
        let script = call.tag.and_then(|t| cx.script(t));
        let featured = match (&script, call.tag) {
            (Some(s), Some(t)) => is_user && s.callee == number && !self.featured.contains_key(&t),
            _ => false,
        };
        let (Some(s), true) = (script, featured) else {
            let hops = self.hops_for(now, number, &origin_usages);
            if !hops.is_empty() {
                call.legs.push(Leg {
                    number: number.to_string(),
                    hops: hops.into(),
                    retarget: None,
                    usages: origin_usages,
                    live: None,
                });
            }
            return;
        };
        if let Some(t) = call.tag {
            self.featured.insert(t, ctx);
        }
        let site = self.user_site_name(number);
        call.callee_usages = self.user_usages(number, site.as_deref());
        if let Some(f) = s.forward.as_ref().filter(|f| f.mode == ForwardMode::All) {
            self.push_retarget(now, call, &f.target.clone(), Retarget::Unconditional);
            return;
        }
        let hops = self.hops_for(now, number, &origin_usages);
        call.legs.push(Leg {
            number: number.to_string(),
            hops: hops.into(),
            retarget: None,
            usages: origin_usages,
            live: None,
        });
        if let Some(sr) = &s.simul_ring {
            self.push_retarget(now, call, &sr.target.clone(), Retarget::Fork);
        }
        if let Some(f) = s.forward.as_ref().filter(|f| f.mode == ForwardMode::Busy) {
            call.cfb = Some(f.target.clone());
        }
        if let AnswerAction::Voicemail { after } = s.callee_action {
            if self.cfg.voicemail.is_some() {
                let wait = if after.is_zero() {
                    self.cfg.unanswered
                } else {
                    after
                };
                call.unanswered = Some(self.timers.arm(now + wait, FeTimer::Unanswered { ctx }));
            }
        }
    }

    /// Adds a retarget leg toward `target`, routed with the callee's policy.
    pub(super) fn push_retarget(
        &self,
        now: crate::sim::SimTime,
        call: &mut FeCall,
        target: &str,
        why: Retarget,
    ) {
        let usages = call.callee_usages.clone();
        let hops = self.hops_for(now, target, &usages);
        call.legs.push(Leg {
            number: target.to_string(),
            hops: hops.into(),
            retarget: Some(why),
            usages,
            live: None,
        });
    }

    fn hop_site(&self, hop: &Hop) -> Option<SiteId> {
        match hop {
            Hop::Pool { site, .. } => Some(*site),
            Hop::Trunk(c) => Some(self.cfg.routing.trunks[c.trunk].site),
            Hop::Voicemail => self.cfg.voicemail.as_ref().map(|v| v.site),
        }
    }

    fn hop_target(&self, hop: &Hop, number: &str) -> Option<Target> {
        let (host, port, next_hop) = match hop {
            Hop::Pool { pool, .. } => {
                let a = self.cfg.pools.get(*pool)?.sip;
                (Host::Ipv4(*a.ip()), a.port(), a)
            }
            Hop::Trunk(c) => {
                let t = &self.cfg.routing.trunks[c.trunk];
                let host = Host::parse(&t.peer_host).ok()?;
                (host, t.peer_port, t.mediation)
            }
            Hop::Voicemail => {
                let v = self.cfg.voicemail.as_ref()?;
                (Host::Ipv4(*v.sip.ip()), v.sip.port(), v.sip)
            }
        };
        let user = match hop {
            Hop::Voicemail => self.cfg.voicemail.as_ref().map(|v| v.pilot.as_str()),
            _ => Some(number),
        };
        let mut uri = SipUri::new(user, host, Some(port));
        uri.params.set("user", Some("phone"));
        Some(Target {
            request_uri: Some(Uri::Sip(uri)),
            next_hop: SocketAddr::V4(next_hop),
        })
    }

    /// Sends the leg's next hop that is usable (not down, admitted by CAC).
    pub(super) fn advance(&mut self, cx: &mut Cx<'_>, ctx: ContextId, leg: usize) {
        let now = cx.now();
        loop {
            let Some(call) = self.calls.get_mut(&ctx) else {
                return;
            };
            let Some(l) = call.legs.get_mut(leg) else {
                return;
            };
            let Some(hop) = l.hops.pop_front() else {
                return;
            };
            let more = !l.hops.is_empty();
            let (tag, origin, bps) = (call.tag, call.origin_site, call.bps);
            if let Hop::Trunk(c) = &hop {
                if self.health[c.trunk].availability(now) == super::health::Availability::Down {
                    self.stats.skipped_down += 1;
                    if let Some(call) = self.calls.get_mut(&ctx) {
                        call.skipped_down = true;
                    }
                    if let (Some(t), true) = (tag, more) {
                        cx.note(t, CallNote::Failover { status: None });
                        self.stats.failovers += 1;
                    }
                    continue;
                }
            }
            let grant = match (origin, self.hop_site(&hop)) {
                (Some(a), Some(b)) => match self.cac.admit(a, b, bps) {
                    Admission::Free => None,
                    Admission::Granted(g) => Some(g),
                    Admission::Refused(overflow) => {
                        self.stats.cac_refused += 1;
                        self.cac_overflow(now, ctx, leg, &hop, overflow);
                        continue;
                    }
                },
                _ => None,
            };
            let Some(call) = self.calls.get(&ctx) else {
                return;
            };
            let l = &call.legs[leg];
            let Some(target) = self.hop_target(&hop, &l.number) else {
                continue;
            };
            let mut headers: Vec<(HeaderName, String)> = Vec::with_capacity(2);
            if let (Some(why), Some(Uri::Sip(u))) = (l.retarget, &target.request_uri) {
                let hi = history_info(&call.history, &call.original_uri, &u.to_string(), why);
                headers.push((HeaderName::HistoryInfo, hi));
            }
            if let Some(p) = &call.pai {
                headers.push((HeaderName::PAssertedIdentity, p.clone()));
            }
            let fast = match &hop {
                Hop::Trunk(c) => self.cfg.routing.trunks[c.trunk].fast_failover,
                _ => false,
            };
            match self.core.forward_with(now, ctx, target, &headers) {
                Ok(branch) => {
                    let timer = fast.then(|| {
                        self.timers.arm(
                            now + self.cfg.fast_failover,
                            FeTimer::FastFailover { ctx, branch },
                        )
                    });
                    let Some(call) = self.calls.get_mut(&ctx) else {
                        return;
                    };
                    call.legs[leg].live = Some(branch);
                    if call.branches.len() <= branch {
                        call.branches.resize_with(branch + 1, || FeBranch {
                            leg: usize::MAX,
                            hop: Hop::Voicemail,
                            timer: None,
                            grant: None,
                            finished: true,
                            abandoned: false,
                        });
                    }
                    call.branches[branch] = FeBranch {
                        leg,
                        hop,
                        timer,
                        grant,
                        finished: false,
                        abandoned: false,
                    };
                    return;
                }
                Err(_) => {
                    if let Some(g) = grant {
                        self.cac.release(g);
                    }
                    return;
                }
            }
        }
    }

    /// A hop over a full site pair: reroute a Lync user's call over the PSTN to the
    /// callee's DID, or refuse it.
    fn cac_overflow(
        &mut self,
        now: crate::sim::SimTime,
        ctx: ContextId,
        leg: usize,
        hop: &Hop,
        overflow: CacOverflow,
    ) {
        let Some(call) = self.calls.get(&ctx) else {
            return;
        };
        let l = &call.legs[leg];
        let reroute = overflow == CacOverflow::RerouteViaPstn && matches!(hop, Hop::Pool { .. });
        let pstn: Vec<Hop> = if reroute {
            self.cfg
                .routing
                .candidates(&l.usages, &l.number)
                .into_iter()
                .filter(|c| {
                    self.health[c.trunk].availability(now) != super::health::Availability::Down
                })
                .map(Hop::Trunk)
                .collect()
        } else {
            Vec::new()
        };
        let Some(call) = self.calls.get_mut(&ctx) else {
            return;
        };
        if pstn.is_empty() {
            call.cac_refused = true;
            return;
        }
        self.stats.cac_rerouted += 1;
        let l = &mut call.legs[leg];
        for h in pstn.into_iter().rev() {
            l.hops.push_front(h);
        }
    }
}
