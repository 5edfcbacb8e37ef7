//! The Direct SIP trunk configuration: the knobs of both sides of the trunk, as typed
//! [`Setting`]s that model files, triggers and workarounds name.
//!
//! The Lync side mirrors `Set-CsTrunkConfiguration` and the Topology Builder gateway
//! definition (media bypass, REFER, session timer, RTCP, Centralized Media Processing,
//! ForwardCallHistory, SRTP mode, transport and ports, response-code translation rules,
//! installed updates). The PBX side holds the PBX knobs the seeds' notes mention (MTP,
//! PRACK, Alternate Route Timer, Forced Gateway) plus the product's software version.

use super::ids::{SoftwareVersion, StatusCode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The Microsoft server release on the Lync side of the trunk.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LyncServer {
    /// Office Communications Server 2007 (the UCOIP qualification of the OCS07 source).
    Ocs2007,
    /// Office Communications Server 2007 R2.
    Ocs2007R2,
    /// Lync Server 2010 (the LYNC10 and MXONE sources).
    Lync2010,
    /// Lync Server 2013 (the LYNC13 source).
    Lync2013,
    /// Skype for Business Server 2015.
    SkypeForBusiness2015,
}

impl LyncServer {
    /// Media bypass arrived with Lync Server 2010.
    pub fn has_media_bypass(self) -> bool {
        self >= LyncServer::Lync2010
    }

    /// SIP response-code translation rules on the trunk (`SipResponseCodeTranslationRulesList`).
    /// The catalogue credits them to Lync Server 2013, which is where the what-if applies them.
    pub fn has_response_code_translation(self) -> bool {
        self >= LyncServer::Lync2013
    }
}

/// `SRTPMode` of the Lync trunk configuration ("Encryption support level").
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EncryptionLevel {
    Required,
    Optional,
    NotSupported,
}

/// SIP transport of the trunk.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SipTransport {
    Udp,
    Tcp,
    Tls,
}

impl fmt::Display for SipTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SipTransport::Udp => "UDP",
            SipTransport::Tcp => "TCP",
            SipTransport::Tls => "TLS",
        })
    }
}

/// What the Mediation Server writes in the SDP connection line `c=`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConnectionAddress {
    /// `c=IN IP4 192.0.2.10` (the default).
    Ip,
    /// `c=IN IP4 mediation.example.com`.
    Fqdn,
}

/// A software update installed on the Microsoft side, named by what the sources require.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Update {
    /// The update package for the OCS 2007 Mediation Server of August 2008, which the
    /// qualification of Cisco UCM 6.1.1 requires.
    Ocs2007MediationServerAugust2008,
    /// The OCS 2007 updates the qualified IP-PBX list requires for Dual Forking.
    Ocs2007DualForking,
    /// Lync client update KB 3020377, needed for call hold in media bypass scenarios with
    /// Cisco UCM 8.6.2.
    LyncClientKb3020377,
}

/// A SIP response-code translation rule on the Lync trunk: a final response `from` received
/// from the peer is treated as `to` (e.g. 502 → 503, so that failover happens).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseCodeTranslation {
    pub from: StatusCode,
    pub to: StatusCode,
}

/// A Lync-side knob with its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LyncSetting {
    /// The server release.
    Server(LyncServer),
    /// `EnableBypass`.
    MediaBypass(bool),
    /// `EnableReferSupport`.
    Refer(bool),
    /// `EnableSessionTimer` (RFC 4028).
    SessionTimer(bool),
    /// `RTCPActiveCalls` and `RTCPCallsOnHold`.
    Rtcp(bool),
    /// `ConcentratedTopology` ("Centralized Media Processing").
    CentralizedMediaProcessing(bool),
    /// `ForwardCallHistory` (History-Info toward the peer).
    ForwardCallHistory(bool),
    /// `SRTPMode`.
    Encryption(EncryptionLevel),
    /// SIP transport to the peer.
    Transport(SipTransport),
    /// "Listening port for IP/PSTN gateway": the peer's port.
    GatewayPort(u16),
    /// The Mediation Server's listening port toward the peer.
    MediationPort(u16),
    /// Address form in the SDP `c=` line.
    SdpConnection(ConnectionAddress),
    /// Adds a response-code translation rule (a set member: testing it means "present").
    TranslateResponseCode(ResponseCodeTranslation),
    /// Installs an update (a set member: testing it means "installed").
    Install(Update),
}

/// A PBX-side knob with its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PbxSetting {
    /// The product's software release.
    Version(SoftwareVersion),
    /// Cisco "Media Termination Point Required".
    Mtp(bool),
    /// PRACK / 100rel (RFC 3262) on the PBX's SIP trunk.
    Prack(bool),
    /// Avaya "Alternate Route Timer(sec)" of the SIP signaling group.
    AlternateRouteTimer(u32),
    /// Aastra MX-ONE "Forced Gateway" on the SIP route.
    ForcedGateway(bool),
    /// The PBX does not assign outbound calls to an unavailable T1 (hunts the next span).
    SkipUnavailableSpans(bool),
}

/// The PBX-side knobs a product exposes (declared per model).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PbxKnob {
    Version,
    Mtp,
    Prack,
    AlternateRouteTimer,
    ForcedGateway,
    SkipUnavailableSpans,
}

impl PbxSetting {
    pub fn knob(&self) -> PbxKnob {
        match self {
            PbxSetting::Version(_) => PbxKnob::Version,
            PbxSetting::Mtp(_) => PbxKnob::Mtp,
            PbxSetting::Prack(_) => PbxKnob::Prack,
            PbxSetting::AlternateRouteTimer(_) => PbxKnob::AlternateRouteTimer,
            PbxSetting::ForcedGateway(_) => PbxKnob::ForcedGateway,
            PbxSetting::SkipUnavailableSpans(_) => PbxKnob::SkipUnavailableSpans,
        }
    }
}

/// One knob of the trunk with its value: `Lync(MediaBypass(false))`, `Pbx(Prack(false))`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Setting {
    Lync(LyncSetting),
    Pbx(PbxSetting),
}

impl Setting {
    /// True when `other` sets the same knob (set-like knobs: the same member).
    pub fn same_knob(&self, other: &Setting) -> bool {
        use std::mem::discriminant;
        match (self, other) {
            (
                Setting::Lync(LyncSetting::TranslateResponseCode(a)),
                Setting::Lync(LyncSetting::TranslateResponseCode(b)),
            ) => a.from == b.from,
            (Setting::Lync(LyncSetting::Install(a)), Setting::Lync(LyncSetting::Install(b))) => {
                a == b
            }
            (Setting::Lync(a), Setting::Lync(b)) => discriminant(a) == discriminant(b),
            (Setting::Pbx(a), Setting::Pbx(b)) => a.knob() == b.knob(),
            _ => false,
        }
    }

    /// True for knobs with an order (`Below` triggers): timers and the software version.
    pub fn is_ordered(&self) -> bool {
        matches!(
            self,
            Setting::Pbx(PbxSetting::AlternateRouteTimer(_) | PbxSetting::Version(_))
        )
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |b: &bool| if *b { "on" } else { "off" };
        match self {
            Setting::Lync(s) => match s {
                LyncSetting::Server(v) => write!(f, "Lync server {v:?}"),
                LyncSetting::MediaBypass(b) => write!(f, "media bypass {}", on(b)),
                LyncSetting::Refer(b) => write!(f, "REFER {}", on(b)),
                LyncSetting::SessionTimer(b) => write!(f, "session timer {}", on(b)),
                LyncSetting::Rtcp(b) => write!(f, "RTCP {}", on(b)),
                LyncSetting::CentralizedMediaProcessing(b) => {
                    write!(f, "centralized media processing {}", on(b))
                }
                LyncSetting::ForwardCallHistory(b) => {
                    write!(f, "ForwardCallHistory (History-Info) {}", on(b))
                }
                LyncSetting::Encryption(e) => write!(f, "SRTP mode {e:?}"),
                LyncSetting::Transport(t) => write!(f, "transport {t}"),
                LyncSetting::GatewayPort(p) => write!(f, "gateway port {p}"),
                LyncSetting::MediationPort(p) => write!(f, "Mediation port {p}"),
                LyncSetting::SdpConnection(c) => write!(f, "SDP c= {c:?}"),
                LyncSetting::TranslateResponseCode(t) => {
                    write!(f, "translate {} to {}", t.from, t.to)
                }
                LyncSetting::Install(u) => write!(f, "update {u:?} installed"),
            },
            Setting::Pbx(s) => match s {
                PbxSetting::Version(v) => write!(f, "PBX version {v}"),
                PbxSetting::Mtp(b) => write!(f, "PBX MTP {}", on(b)),
                PbxSetting::Prack(b) => write!(f, "PBX PRACK {}", on(b)),
                PbxSetting::AlternateRouteTimer(s) => {
                    write!(f, "PBX Alternate Route Timer {s} s")
                }
                PbxSetting::ForcedGateway(b) => write!(f, "PBX Forced Gateway {}", on(b)),
                PbxSetting::SkipUnavailableSpans(b) => {
                    write!(f, "PBX skips unavailable spans {}", on(b))
                }
            },
        }
    }
}

/// Three-valued truth, for evaluating triggers over partly known configurations.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Truth {
    False,
    Unknown,
    True,
}

impl Truth {
    pub fn from_bool(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }
    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }
}

impl std::ops::Not for Truth {
    type Output = Truth;
    fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::True => Truth::False,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// Something that knows (some of) the trunk's knobs.
pub trait ConfigView {
    /// Whether the knob of `s` currently has the value of `s`.
    fn is(&self, s: &Setting) -> Truth;
    /// Whether the (ordered) knob of `s` is currently below the value of `s`.
    fn below(&self, s: &Setting) -> Truth;
}

/// A configuration where only the listed knobs are known (the rest are unknown). Used to
/// prove that a workaround removes a trigger whatever the other knobs are.
#[derive(Clone, Debug, Default)]
pub struct PartialConfig {
    known: Vec<Setting>,
}

impl PartialConfig {
    pub fn new(settings: &[Setting]) -> Self {
        let mut p = PartialConfig::default();
        for s in settings {
            p.known.retain(|k| !k.same_knob(s));
            p.known.push(s.clone());
        }
        p
    }
}

impl ConfigView for PartialConfig {
    fn is(&self, s: &Setting) -> Truth {
        self.known
            .iter()
            .find(|k| k.same_knob(s))
            .map_or(Truth::Unknown, |k| Truth::from_bool(k == s))
    }
    fn below(&self, s: &Setting) -> Truth {
        self.known
            .iter()
            .find(|k| k.same_knob(s))
            .map_or(Truth::Unknown, |k| ordered_below(k, s))
    }
}

fn ordered_below(current: &Setting, bound: &Setting) -> Truth {
    match (current, bound) {
        (
            Setting::Pbx(PbxSetting::AlternateRouteTimer(a)),
            Setting::Pbx(PbxSetting::AlternateRouteTimer(b)),
        ) => Truth::from_bool(a < b),
        (Setting::Pbx(PbxSetting::Version(a)), Setting::Pbx(PbxSetting::Version(b))) => {
            Truth::from_bool(a < b)
        }
        _ => Truth::Unknown,
    }
}

/// The Lync side of a Direct SIP trunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LyncTrunkConfig {
    pub server: LyncServer,
    pub media_bypass: bool,
    pub refer: bool,
    pub session_timer: bool,
    pub rtcp: bool,
    pub centralized_media_processing: bool,
    pub forward_call_history: bool,
    pub encryption: EncryptionLevel,
    pub transport: SipTransport,
    pub gateway_port: u16,
    pub mediation_port: u16,
    pub sdp_connection: ConnectionAddress,
    pub response_code_translations: Vec<ResponseCodeTranslation>,
    /// Final responses on which the route fails over to the next gateway (a timeout always
    /// does). 503 and 504 by default.
    pub failover_codes: Vec<StatusCode>,
    pub updates: Vec<Update>,
}

/// The PBX (or gateway) side of the trunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PbxTrunkConfig {
    pub version: Option<SoftwareVersion>,
    pub mtp: bool,
    pub prack: bool,
    pub alternate_route_timer_s: u32,
    pub forced_gateway: bool,
    pub skip_unavailable_spans: bool,
}

/// Both sides of a Direct SIP trunk. Build it with [`TrunkConfig::defaults`] or
/// `VendorModel::recommended_config`, then change knobs with [`TrunkConfig::apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrunkConfig {
    pub lync: LyncTrunkConfig,
    pub pbx: PbxTrunkConfig,
}

fn code(c: u16) -> StatusCode {
    // Invariant: only called with the literals 503 and 504 below, both in 100..=699.
    StatusCode::new(c).expect("literal status code in range")
}

impl TrunkConfig {
    /// The product defaults of a new trunk on `server`: `New-CsTrunkConfiguration` defaults
    /// (bypass off, REFER on, session timer off, RTCP on, ConcentratedTopology on,
    /// ForwardCallHistory off, SRTP Required), TCP with the gateway on 5060 and the Mediation
    /// Server on 5068, IP in `c=`, failover on 503/504; on the PBX side MTP and PRACK off
    /// and Avaya's default Alternate Route Timer of 10 s. OCS 2007 and 2007 R2 (no trunk
    /// configuration objects yet) are modelled with the Mediation Server's gateway side on
    /// TCP 5060 and SRTP optional.
    pub fn defaults(server: LyncServer) -> Self {
        let ocs = server < LyncServer::Lync2010;
        TrunkConfig {
            lync: LyncTrunkConfig {
                server,
                media_bypass: false,
                refer: true,
                session_timer: false,
                rtcp: true,
                centralized_media_processing: true,
                forward_call_history: false,
                encryption: if ocs {
                    EncryptionLevel::Optional
                } else {
                    EncryptionLevel::Required
                },
                transport: SipTransport::Tcp,
                gateway_port: 5060,
                mediation_port: if ocs { 5060 } else { 5068 },
                sdp_connection: ConnectionAddress::Ip,
                response_code_translations: Vec::new(),
                failover_codes: vec![code(503), code(504)],
                updates: Vec::new(),
            },
            pbx: PbxTrunkConfig {
                version: None,
                mtp: false,
                prack: false,
                alternate_route_timer_s: 10,
                forced_gateway: false,
                skip_unavailable_spans: false,
            },
        }
    }

    /// Sets one knob (set-like knobs add their member).
    pub fn apply(&mut self, setting: &Setting) {
        let l = &mut self.lync;
        let p = &mut self.pbx;
        match setting {
            Setting::Lync(s) => match s {
                LyncSetting::Server(v) => l.server = *v,
                LyncSetting::MediaBypass(b) => l.media_bypass = *b,
                LyncSetting::Refer(b) => l.refer = *b,
                LyncSetting::SessionTimer(b) => l.session_timer = *b,
                LyncSetting::Rtcp(b) => l.rtcp = *b,
                LyncSetting::CentralizedMediaProcessing(b) => l.centralized_media_processing = *b,
                LyncSetting::ForwardCallHistory(b) => l.forward_call_history = *b,
                LyncSetting::Encryption(e) => l.encryption = *e,
                LyncSetting::Transport(t) => l.transport = *t,
                LyncSetting::GatewayPort(v) => l.gateway_port = *v,
                LyncSetting::MediationPort(v) => l.mediation_port = *v,
                LyncSetting::SdpConnection(c) => l.sdp_connection = *c,
                LyncSetting::TranslateResponseCode(t) => {
                    l.response_code_translations.retain(|r| r.from != t.from);
                    l.response_code_translations.push(*t);
                }
                LyncSetting::Install(u) => {
                    if !l.updates.contains(u) {
                        l.updates.push(*u);
                    }
                }
            },
            Setting::Pbx(s) => match s {
                PbxSetting::Version(v) => p.version = Some(v.clone()),
                PbxSetting::Mtp(b) => p.mtp = *b,
                PbxSetting::Prack(b) => p.prack = *b,
                PbxSetting::AlternateRouteTimer(v) => p.alternate_route_timer_s = *v,
                PbxSetting::ForcedGateway(b) => p.forced_gateway = *b,
                PbxSetting::SkipUnavailableSpans(b) => p.skip_unavailable_spans = *b,
            },
        }
    }

    /// Applies several knobs in order.
    pub fn with(mut self, settings: &[Setting]) -> Self {
        for s in settings {
            self.apply(s);
        }
        self
    }

    /// The response Lync acts on after its translation rules.
    pub fn translate(&self, received: StatusCode) -> StatusCode {
        self.lync
            .response_code_translations
            .iter()
            .find(|t| t.from == received)
            .map_or(received, |t| t.to)
    }

    /// Whether Lync fails over to the next route on `received` (after translation).
    pub fn fails_over_on(&self, received: StatusCode) -> bool {
        self.lync.failover_codes.contains(&self.translate(received))
    }

    /// The current value of the knob that `probe` names.
    pub fn current(&self, probe: &Setting) -> Option<Setting> {
        let l = &self.lync;
        let p = &self.pbx;
        Some(match probe {
            Setting::Lync(s) => Setting::Lync(match s {
                LyncSetting::Server(_) => LyncSetting::Server(l.server),
                LyncSetting::MediaBypass(_) => LyncSetting::MediaBypass(l.media_bypass),
                LyncSetting::Refer(_) => LyncSetting::Refer(l.refer),
                LyncSetting::SessionTimer(_) => LyncSetting::SessionTimer(l.session_timer),
                LyncSetting::Rtcp(_) => LyncSetting::Rtcp(l.rtcp),
                LyncSetting::CentralizedMediaProcessing(_) => {
                    LyncSetting::CentralizedMediaProcessing(l.centralized_media_processing)
                }
                LyncSetting::ForwardCallHistory(_) => {
                    LyncSetting::ForwardCallHistory(l.forward_call_history)
                }
                LyncSetting::Encryption(_) => LyncSetting::Encryption(l.encryption),
                LyncSetting::Transport(_) => LyncSetting::Transport(l.transport),
                LyncSetting::GatewayPort(_) => LyncSetting::GatewayPort(l.gateway_port),
                LyncSetting::MediationPort(_) => LyncSetting::MediationPort(l.mediation_port),
                LyncSetting::SdpConnection(_) => LyncSetting::SdpConnection(l.sdp_connection),
                LyncSetting::TranslateResponseCode(t) => LyncSetting::TranslateResponseCode(
                    *l.response_code_translations
                        .iter()
                        .find(|r| r.from == t.from)?,
                ),
                LyncSetting::Install(u) => {
                    LyncSetting::Install(*l.updates.iter().find(|x| *x == u)?)
                }
            }),
            Setting::Pbx(s) => Setting::Pbx(match s {
                PbxSetting::Version(_) => PbxSetting::Version(p.version.clone()?),
                PbxSetting::Mtp(_) => PbxSetting::Mtp(p.mtp),
                PbxSetting::Prack(_) => PbxSetting::Prack(p.prack),
                PbxSetting::AlternateRouteTimer(_) => {
                    PbxSetting::AlternateRouteTimer(p.alternate_route_timer_s)
                }
                PbxSetting::ForcedGateway(_) => PbxSetting::ForcedGateway(p.forced_gateway),
                PbxSetting::SkipUnavailableSpans(_) => {
                    PbxSetting::SkipUnavailableSpans(p.skip_unavailable_spans)
                }
            }),
        })
    }
}

impl ConfigView for TrunkConfig {
    /// Set-like knobs are false when the member is absent; a PBX version that is not set
    /// makes version tests unknown.
    fn is(&self, s: &Setting) -> Truth {
        match self.current(s) {
            Some(c) => Truth::from_bool(&c == s),
            None if matches!(s, Setting::Pbx(PbxSetting::Version(_))) => Truth::Unknown,
            None => Truth::False,
        }
    }
    fn below(&self, s: &Setting) -> Truth {
        self.current(s)
            .map_or(Truth::Unknown, |c| ordered_below(&c, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translation(from: u16, to: u16) -> Setting {
        Setting::Lync(LyncSetting::TranslateResponseCode(
            ResponseCodeTranslation {
                from: StatusCode::new(from).unwrap(),
                to: StatusCode::new(to).unwrap(),
            },
        ))
    }

    #[test]
    fn translation_rules_turn_502_into_failover() {
        let base = TrunkConfig::defaults(LyncServer::Lync2010);
        let c502 = StatusCode::new(502).unwrap();
        assert!(!base.fails_over_on(c502));
        assert!(base.fails_over_on(StatusCode::new(503).unwrap()));
        let what_if = TrunkConfig::defaults(LyncServer::Lync2013).with(&[translation(502, 503)]);
        assert!(what_if.fails_over_on(c502));
        assert_eq!(what_if.is(&translation(502, 503)), Truth::True);
        assert_eq!(base.is(&translation(502, 503)), Truth::False);
    }

    #[test]
    fn partial_configs_know_only_what_they_are_told() {
        let bypass_off = Setting::Lync(LyncSetting::MediaBypass(false));
        let p = PartialConfig::new(std::slice::from_ref(&bypass_off));
        assert_eq!(p.is(&bypass_off), Truth::True);
        assert_eq!(
            p.is(&Setting::Lync(LyncSetting::MediaBypass(true))),
            Truth::False
        );
        assert_eq!(
            p.is(&Setting::Lync(LyncSetting::Refer(true))),
            Truth::Unknown
        );
        let timer = |s| Setting::Pbx(PbxSetting::AlternateRouteTimer(s));
        let p = PartialConfig::new(&[timer(10), timer(30)]);
        assert_eq!(p.below(&timer(30)), Truth::False);
        assert_eq!(
            PartialConfig::new(&[timer(10)]).below(&timer(30)),
            Truth::True
        );
    }

    #[test]
    fn truth_tables() {
        use Truth::*;
        assert_eq!(False.and(Unknown), False);
        assert_eq!(True.and(Unknown), Unknown);
        assert_eq!(True.or(Unknown), True);
        assert_eq!(False.or(Unknown), Unknown);
        assert_eq!(!Unknown, Unknown);
        assert_eq!(!True, False);
    }
}
