//! The Front End as written in a deployment, and its checked runtime configuration.

use super::cac::{Cac, CacLimit, CacOverflow};
use super::dialplan::{DialPlan, NormalizationRule, Scope, Scoped};
use super::health::HealthConfig;
use super::routing::{DEFAULT_FAILOVER_CODES, Route, RoutingTable, SiteId, Trunk, VoicePolicy};
use crate::elements::build::{BuildEnv, BuildError, Directory};
use crate::elements::numbering::{NumberKind, NumberPlan};
use crate::sim::SimDuration;
use crate::sip::Transport;
use crate::vendor::{
    LyncServer, LyncSetting, ResponseCodeTranslation, Setting, SipTransport, StatusCode,
    TrunkConfig,
};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddrV4};

/// The element kind of a Front End pool.
pub const FRONT_END_KIND: &str = "front-end";
/// The element kind of a Lync client pool.
pub const LYNC_POOL_KIND: &str = "lync-pool";
/// The element kind of Exchange UM voicemail.
pub const VOICEMAIL_KIND: &str = "voicemail";

/// A normalization rule (`New-CsVoiceNormalizationRule`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizationRuleSpec {
    pub name: String,
    /// A regular expression over the dialled string, e.g. `^(\d{4})$`.
    pub pattern: String,
    /// The rewrite, with `$1`.. for groups, e.g. `+1425555$1`.
    pub translation: String,
}

/// A dial plan and where it applies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialPlanSpec {
    pub name: String,
    #[serde(default = "global")]
    pub scope: Scope,
    pub rules: Vec<NormalizationRuleSpec>,
}

/// A voice policy: PSTN usages in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoicePolicySpec {
    pub name: String,
    #[serde(default = "global")]
    pub scope: Scope,
    pub pstn_usages: Vec<String>,
}

/// A voice route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    pub name: String,
    /// A regular expression over the normalized number, e.g. `^\+1425`.
    pub pattern: String,
    pub pstn_usages: Vec<String>,
    /// Trunk names, in the order they are tried.
    pub trunks: Vec<String>,
    /// Final responses that fail over to the next trunk (a timeout always does).
    #[serde(default = "default_failover_codes")]
    pub failover_codes: Vec<u16>,
}

/// A response-code translation rule of a trunk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationSpec {
    pub from: u16,
    pub to: u16,
}

/// A trunk: a Mediation Server and the gateway, IP-PBX or SIP trunk behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkSpec {
    pub name: String,
    /// The Mediation Server (or Basic Hybrid gateway) the Front End sends to.
    pub mediation: String,
    /// The peer behind it: named in the Request-URI and in down reports.
    pub peer: String,
    /// `SipResponseCodeTranslationRulesList`, e.g. `[(from: 502, to: 503)]`.
    #[serde(default)]
    pub translations: Vec<TranslationSpec>,
    /// `EnableFastFailoverTimer` (Lync 2013 default: on).
    #[serde(default = "yes")]
    pub fast_failover: bool,
    /// PSTN usages for calls arriving on the trunk to non-Lync numbers (inter-trunk
    /// routing); none: such calls get 404.
    #[serde(default)]
    pub pstn_usages: Vec<String>,
    /// The site whose WAN the media uses (default: the Mediation Server's site).
    #[serde(default)]
    pub site: Option<String>,
    /// Further trunk configuration knobs (`Lync(MediaBypass(true))`,
    /// `Lync(TranslateResponseCode((from: 502, to: 503)))`...): the Front End applies the
    /// routing ones and [`FrontEndSpec::trunk_config`] hands all of them to the Mediation
    /// Server.
    #[serde(default)]
    pub settings: Vec<Setting>,
}

/// A call admission control limit between two sites.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacSpec {
    pub sites: (String, String),
    #[serde(default)]
    pub max_sessions: Option<u32>,
    /// Audio bandwidth at the IP layer, kbit/s.
    #[serde(default)]
    pub max_kbps: Option<f64>,
    #[serde(default)]
    pub overflow: CacOverflow,
}

/// Trunk health settings (see `health.rs` for the model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthSpec {
    pub deprioritise_s: f64,
    pub hold_down_s: f64,
    pub max_hold_down_s: f64,
    pub max_failures: u32,
}

impl Default for HealthSpec {
    fn default() -> Self {
        HealthSpec {
            deprioritise_s: 60.0,
            hold_down_s: 60.0,
            max_hold_down_s: 3600.0,
            max_failures: 10,
        }
    }
}

/// A Front End pool: registrar and routing (a stateful, record-routing proxy).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontEndSpec {
    pub name: String,
    pub node: String,
    /// Default 5061.
    #[serde(default)]
    pub sip_port: Option<u16>,
    #[serde(default = "tls")]
    pub transport: SipTransport,
    /// The server release (response-code translation needs Lync Server 2013; the
    /// fast-failover timer Lync Server 2010 CU4, KB 2565378).
    #[serde(default = "lync2013")]
    pub server: LyncServer,
    /// The SIP domain (default: the Front End's address).
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub dial_plans: Vec<DialPlanSpec>,
    #[serde(default)]
    pub voice_policies: Vec<VoicePolicySpec>,
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    #[serde(default)]
    pub trunks: Vec<TrunkSpec>,
    /// The Exchange UM element unanswered calls go to.
    #[serde(default)]
    pub voicemail: Option<String>,
    /// Ring time before an unanswered call goes to voicemail (Lync default 20 s), used
    /// when the call's script gives none.
    #[serde(default = "default_unanswered")]
    pub unanswered_timer_s: f64,
    /// The fast-failover timer: no provisional response above 100 or final response
    /// within it counts as a timeout (Lync 2013: 10 s).
    #[serde(default = "default_fast_failover")]
    pub fast_failover_timer_s: f64,
    #[serde(default)]
    pub cac: Vec<CacSpec>,
    #[serde(default)]
    pub health: HealthSpec,
}

fn lync2013() -> LyncServer {
    LyncServer::Lync2013
}
fn global() -> Scope {
    Scope::Global
}
fn yes() -> bool {
    true
}
fn tls() -> SipTransport {
    SipTransport::Tls
}
fn default_failover_codes() -> Vec<u16> {
    DEFAULT_FAILOVER_CODES.to_vec()
}
fn default_unanswered() -> f64 {
    20.0
}
fn default_fast_failover() -> f64 {
    10.0
}

/// The SIP stack's transport for a trunk-configuration transport.
pub(crate) fn transport_of(t: SipTransport) -> Transport {
    match t {
        SipTransport::Udp => Transport::Udp,
        SipTransport::Tcp => Transport::Tcp,
        SipTransport::Tls => Transport::Tls,
    }
}

/// A Lync pool the Front End routes to.
#[derive(Clone, Debug)]
pub(crate) struct PoolInfo {
    pub(crate) sip: SocketAddrV4,
}

/// What hosts a number range, for routing.
#[derive(Clone, Debug)]
pub(crate) enum RangeDest {
    /// Enterprise Voice users of a pool, at a site.
    Pool { pool: usize, site: SiteId },
    /// The voicemail pilot.
    Voicemail,
    /// Hosted by a PBX reached over these trunks.
    Trunks(Vec<usize>),
    /// Anything else: voice routing.
    Routed,
}

/// Exchange UM as the Front End sees it.
#[derive(Clone, Debug)]
pub(crate) struct VoicemailInfo {
    pub(crate) sip: SocketAddrV4,
    pub(crate) pilot: String,
    pub(crate) site: SiteId,
}

/// Who sent a request, by address.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Pool(usize),
    /// The first trunk whose Mediation Server has this address.
    Trunk(usize),
}

/// The checked configuration of a Front End.
#[derive(Clone, Debug)]
pub(crate) struct FeConfig {
    pub(crate) name: String,
    pub(crate) sip: SocketAddrV4,
    pub(crate) transport: Transport,
    pub(crate) domain: String,
    pub(crate) dial_plans: Vec<DialPlan>,
    pub(crate) dial_scopes: Scoped,
    pub(crate) routing: RoutingTable,
    pub(crate) policy_scopes: Scoped,
    pub(crate) pools: Vec<PoolInfo>,
    pub(crate) plan: NumberPlan,
    /// Parallel to `plan.ranges`.
    pub(crate) range_dest: Vec<RangeDest>,
    pub(crate) voicemail: Option<VoicemailInfo>,
    pub(crate) sources: HashMap<SocketAddrV4, Source>,
    pub(crate) source_ips: HashMap<Ipv4Addr, Source>,
    pub(crate) sites: Vec<String>,
    pub(crate) unanswered: SimDuration,
    pub(crate) fast_failover: SimDuration,
    pub(crate) health: HealthConfig,
    pub(crate) cac: Cac,
}

struct Sites(Vec<String>);

impl Sites {
    fn id(&mut self, name: &str) -> SiteId {
        match self.0.iter().position(|s| s == name) {
            Some(i) => SiteId(i as u16),
            None => {
                self.0.push(name.to_string());
                SiteId((self.0.len() - 1) as u16)
            }
        }
    }
}

fn seconds(name: &str, field: &str, v: f64, min: f64) -> Result<SimDuration, BuildError> {
    if v.is_finite() && v >= min {
        Ok(SimDuration::from_secs_f64(v))
    } else {
        Err(BuildError::new(name, field, format!("must be ≥ {min} s")))
    }
}

/// The host name the deployment gives an address, else the address.
fn host_of(dir: &Directory, ip: Ipv4Addr) -> String {
    dir.hosts
        .iter()
        .find(|(_, a)| **a == ip)
        .map_or_else(|| ip.to_string(), |(n, _)| n.clone())
}

fn usage_ids(usages: &mut Vec<String>, names: &[String]) -> Vec<usize> {
    names
        .iter()
        .map(|n| match usages.iter().position(|u| u == n) {
            Some(i) => i,
            None => {
                usages.push(n.clone());
                usages.len() - 1
            }
        })
        .collect()
}

impl FrontEndSpec {
    /// The full configuration of a trunk (both sides' knobs, product defaults of the
    /// server release plus the trunk's settings and translation rules), for the scenario
    /// to hand to the trunk's Mediation Server.
    pub fn trunk_config(&self, trunk: &str) -> Option<TrunkConfig> {
        self.trunks
            .iter()
            .find(|t| t.name == trunk)
            .map(|t| self.config_of(t))
    }

    fn config_of(&self, t: &TrunkSpec) -> TrunkConfig {
        let mut tc = TrunkConfig::defaults(self.server).with(&t.settings);
        for tr in &t.translations {
            if let (Ok(from), Ok(to)) = (StatusCode::new(tr.from), StatusCode::new(tr.to)) {
                tc.apply(&Setting::Lync(LyncSetting::TranslateResponseCode(
                    ResponseCodeTranslation { from, to },
                )));
            }
        }
        tc
    }

    /// Checks the spec against the deployment and builds the runtime configuration.
    pub(crate) fn config(&self, env: &BuildEnv<'_>) -> Result<FeConfig, BuildError> {
        let name = self.name.as_str();
        let me = env.me()?;
        let dir = env.directory;
        let mut sites = Sites(Vec::new());
        for p in dir.elements.values() {
            sites.id(&p.site);
        }
        // Dial plans.
        let mut dial_plans = Vec::new();
        let mut dial_scopes = Scoped::default();
        for (i, dp) in self.dial_plans.iter().enumerate() {
            let mut rules = Vec::new();
            for (j, r) in dp.rules.iter().enumerate() {
                let rule = NormalizationRule::new(&r.name, &r.pattern, &r.translation).map_err(
                    |(f, e)| BuildError::new(name, &format!("dial_plans[{i}].rules[{j}].{f}"), e),
                )?;
                rules.push(rule);
            }
            if !dial_scopes.assign(&dp.scope, i) {
                return Err(BuildError::new(
                    name,
                    &format!("dial_plans[{i}].scope"),
                    "another dial plan has the same scope",
                ));
            }
            dial_plans.push(DialPlan {
                name: dp.name.clone(),
                rules,
            });
        }
        // Trunks.
        let mut usages: Vec<String> = Vec::new();
        let mut routing = RoutingTable::default();
        for (i, t) in self.trunks.iter().enumerate() {
            let field = |f: &str| format!("trunks[{i}].{f}");
            if self.trunks[..i].iter().any(|o| o.name == t.name) {
                return Err(BuildError::new(
                    name,
                    &field("name"),
                    "duplicate trunk name",
                ));
            }
            let med = env.peer(&field("mediation"), &t.mediation, &[])?;
            let peer = env.peer(&field("peer"), &t.peer, &[])?;
            for (k, tr) in t.translations.iter().enumerate() {
                for (code, f) in [(tr.from, "from"), (tr.to, "to")] {
                    if !(300..=699).contains(&code) {
                        return Err(BuildError::new(
                            name,
                            &field(&format!("translations[{k}].{f}")),
                            "must be a final failure status (300-699)",
                        ));
                    }
                }
            }
            let tc = self.config_of(t);
            let translations: Vec<(u16, u16)> = tc
                .lync
                .response_code_translations
                .iter()
                .map(|r| (r.from.get(), r.to.get()))
                .collect();
            if !translations.is_empty() && !tc.lync.server.has_response_code_translation() {
                return Err(BuildError::new(
                    name,
                    &field("translations"),
                    format!(
                        "response-code translation rules need Lync Server 2013 or later (server: {:?})",
                        tc.lync.server
                    ),
                ));
            }
            let host = host_of(dir, *peer.sip.ip());
            let site = sites.id(t.site.as_deref().unwrap_or(&med.site));
            routing.trunks.push(Trunk {
                name: t.name.clone(),
                mediation: med.sip,
                peer_names: vec![t.peer.clone(), host.clone(), peer.sip.ip().to_string()],
                peer_host: host,
                peer_port: peer.sip.port(),
                site,
                translations,
                // Outbound routing has the 10 s timer since Lync Server 2010 CU4.
                fast_failover: t.fast_failover && tc.lync.server >= LyncServer::Lync2010,
                usages: usage_ids(&mut usages, &t.pstn_usages),
            });
        }
        let trunk_id = |field: &str, n: &str, trunks: &[Trunk]| {
            trunks
                .iter()
                .position(|t| t.name == n)
                .ok_or_else(|| BuildError::new(name, field, format!("no trunk named `{n}`")))
        };
        for (i, r) in self.routes.iter().enumerate() {
            let field = |f: &str| format!("routes[{i}].{f}");
            let pattern = Regex::new(&r.pattern)
                .map_err(|e| BuildError::new(name, &field("pattern"), e.to_string()))?;
            let mut trunks = Vec::new();
            for (k, t) in r.trunks.iter().enumerate() {
                trunks.push(trunk_id(
                    &field(&format!("trunks[{k}]")),
                    t,
                    &routing.trunks,
                )?);
            }
            if trunks.is_empty() {
                return Err(BuildError::new(
                    name,
                    &field("trunks"),
                    "a route needs a trunk",
                ));
            }
            if r.failover_codes.iter().any(|c| !(300..=699).contains(c)) {
                return Err(BuildError::new(
                    name,
                    &field("failover_codes"),
                    "must be final failure statuses (300-699)",
                ));
            }
            routing.routes.push(Route {
                name: r.name.clone(),
                pattern,
                usages: usage_ids(&mut usages, &r.pstn_usages),
                trunks,
                failover_codes: r.failover_codes.clone(),
            });
        }
        let mut policy_scopes = Scoped::default();
        for (i, p) in self.voice_policies.iter().enumerate() {
            if !policy_scopes.assign(&p.scope, i) {
                return Err(BuildError::new(
                    name,
                    &format!("voice_policies[{i}].scope"),
                    "another voice policy has the same scope",
                ));
            }
            routing.policies.push(VoicePolicy {
                name: p.name.clone(),
                usages: usage_ids(&mut usages, &p.pstn_usages),
            });
        }
        // Pools, ranges and sources.
        let mut pools = Vec::new();
        let mut pool_names: Vec<&str> = Vec::new();
        let mut sources = HashMap::new();
        let mut ip_owners: BTreeMap<Ipv4Addr, Vec<Source>> = BTreeMap::new();
        for (pname, p) in &dir.elements {
            if p.kind == LYNC_POOL_KIND {
                let s = Source::Pool(pools.len());
                sources.insert(p.sip, s);
                ip_owners.entry(*p.sip.ip()).or_default().push(s);
                pools.push(PoolInfo { sip: p.sip });
                pool_names.push(pname);
            }
        }
        for (i, t) in routing.trunks.iter().enumerate() {
            if let std::collections::hash_map::Entry::Vacant(e) = sources.entry(t.mediation) {
                e.insert(Source::Trunk(i));
                ip_owners
                    .entry(*t.mediation.ip())
                    .or_default()
                    .push(Source::Trunk(i));
            }
        }
        let source_ips = ip_owners
            .into_iter()
            .filter(|(_, v)| v.len() == 1)
            .map(|(ip, v)| (ip, v[0]))
            .collect();
        let voicemail = match &self.voicemail {
            Some(vm) => {
                let p = env.peer("voicemail", vm, &[VOICEMAIL_KIND])?;
                let pilot = dir
                    .numbers
                    .of_element(vm)
                    .find(|r| r.kind == NumberKind::Service && r.count > 0)
                    .map(|r| r.number(0))
                    .ok_or_else(|| {
                        BuildError::new(
                            name,
                            "voicemail",
                            format!("`{vm}` hosts no Service number range (its pilot)"),
                        )
                    })?;
                Some(VoicemailInfo {
                    sip: p.sip,
                    pilot,
                    site: sites.id(&p.site),
                })
            }
            None => None,
        };
        let mut range_dest = Vec::new();
        for r in &dir.numbers.ranges {
            let d = if let Some(pool) = pool_names.iter().position(|p| *p == r.element) {
                let site = if r.site.is_empty() {
                    dir.elements[&r.element].site.clone()
                } else {
                    r.site.clone()
                };
                RangeDest::Pool {
                    pool,
                    site: sites.id(&site),
                }
            } else if self.voicemail.as_deref() == Some(r.element.as_str()) {
                RangeDest::Voicemail
            } else {
                let trunks: Vec<usize> = self
                    .trunks
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.peer == r.element)
                    .map(|(i, _)| i)
                    .collect();
                if trunks.is_empty() {
                    RangeDest::Routed
                } else {
                    RangeDest::Trunks(trunks)
                }
            };
            range_dest.push(d);
        }
        // Call admission control.
        let mut cac = Cac::default();
        for (i, c) in self.cac.iter().enumerate() {
            let field = |f: &str| format!("cac[{i}].{f}");
            for s in [&c.sites.0, &c.sites.1] {
                if !sites.0.contains(s) {
                    return Err(BuildError::new(
                        name,
                        &field("sites"),
                        format!("no site `{s}`"),
                    ));
                }
            }
            if c.max_sessions.is_none() && c.max_kbps.is_none() {
                return Err(BuildError::new(
                    name,
                    &field("max_sessions"),
                    "give max_sessions and/or max_kbps",
                ));
            }
            let max_bps = match c.max_kbps {
                Some(k) if k.is_finite() && k >= 0.0 => Some((k * 1000.0).round() as u64),
                Some(_) => return Err(BuildError::new(name, &field("max_kbps"), "must be ≥ 0")),
                None => None,
            };
            let (a, b) = (sites.id(&c.sites.0), sites.id(&c.sites.1));
            let limit = CacLimit {
                max_sessions: c.max_sessions,
                max_bps,
                overflow: c.overflow,
            };
            if !cac.add(a, b, limit) {
                return Err(BuildError::new(
                    name,
                    &field("sites"),
                    "two distinct sites, limited once",
                ));
            }
        }
        let h = &self.health;
        let health = HealthConfig {
            deprioritise: seconds(name, "health.deprioritise_s", h.deprioritise_s, 0.0)?,
            hold_down: seconds(name, "health.hold_down_s", h.hold_down_s, 0.0)?,
            max_hold_down: seconds(name, "health.max_hold_down_s", h.max_hold_down_s, 0.0)?,
            max_failures: h.max_failures.max(1),
        };
        Ok(FeConfig {
            name: self.name.clone(),
            sip: me.sip,
            transport: transport_of(self.transport),
            domain: self.domain.clone().unwrap_or_else(|| me.ip.to_string()),
            dial_plans,
            dial_scopes,
            routing,
            policy_scopes,
            pools,
            plan: dir.numbers.clone(),
            range_dest,
            voicemail,
            sources,
            source_ips,
            sites: sites.0,
            unanswered: seconds(name, "unanswered_timer_s", self.unanswered_timer_s, 0.0)?,
            fast_failover: seconds(
                name,
                "fast_failover_timer_s",
                self.fast_failover_timer_s,
                0.001,
            )?,
            health,
            cac,
        })
    }
}

impl crate::elements::spec::ElementKindSpec for FrontEndSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn node(&self) -> &str {
        &self.node
    }
    fn kind(&self) -> &'static str {
        FRONT_END_KIND
    }
    fn sip_port(&self) -> u16 {
        self.sip_port.unwrap_or(5061)
    }
    fn build(&self, env: &BuildEnv<'_>) -> Result<crate::elements::Element, BuildError> {
        let cfg = self.config(env)?;
        Ok(crate::elements::Element::FrontEnd(super::FrontEnd::new(
            cfg,
            env.rng("proxy"),
        )))
    }
}
