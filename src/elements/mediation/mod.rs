//! The Lync Mediation Server: a B2BUA between the Front End pool (its port 5070) and its
//! Direct SIP trunk peers (gateways, IP-PBXs, SIP trunk providers; port 5068 TCP / 5067
//! TLS by Lync's conventions, 5060 on OCS 2007).
//!
//! Each trunk carries a `vendor::TrunkConfig`, so vendor models drive the same knobs:
//! - media bypass: SDP passes through and media flows client ↔ peer; without it (or when
//!   the two sides share no codec) the server anchors the media in a relay with a
//!   processing delay, transcoding when the legs' codecs differ (RTAudio ↔ G.711), and
//!   each relayed call counts against a concurrent-media capacity (1,000 stand-alone, 150
//!   collocated with a Front End) beyond which calls are refused (503, `RejectedCapacity`)
//!   or queued;
//! - response-code translation rules, applied to the peer's final responses before they
//!   reach the Front End (and a peer that never answered reported as 504);
//! - REFER support: passed to the peer when on; otherwise the server performs the transfer
//!   itself (a new INVITE to the target through the Front End, then a re-INVITE to the
//!   peer);
//! - session timers toward the peer (RFC 4028), ForwardCallHistory (History-Info,
//!   Referred-By, Diversion passed on) and ForwardPAI;
//! - OPTIONS keepalive of every peer: a peer that misses enough is marked down and calls
//!   for it are refused at once with 503 and headers naming it, so the Front End fails over
//!   without waiting for a timeout.
//!
//! RTCP and SRTP mode are capabilities of the endpoints' media, not of this element. A
//! crash (`Command::Fail`) loses every call and relay silently; `Repair` restarts empty.
//! The element never reads a clock: timers go through its `TimerQueue`, and every SIP
//! identifier comes from named random streams.

mod bridge;
pub(crate) mod caps;
pub(crate) mod keepalive;
mod setup;
mod spec;
mod transfer;

pub(crate) use bridge::event_call;
pub use keepalive::KeepaliveSpec;
pub(crate) use setup::{calling_user, phone_uri};
pub(crate) use spec::codec_list as spec_codecs;
pub(crate) use spec::transport as sip_transport;
pub use spec::{
    COLLOCATED_MEDIA_CAPACITY, MediationSpec, MediationTrunkSpec, Overload,
    STANDALONE_MEDIA_CAPACITY,
};

use super::CallTag;
use super::element::{Command, NetworkElement};
use super::host::Cx;
use super::timers::TimerQueue;
use crate::sim::{RngFactory, SimDuration, SimTime};
use crate::sip::Transport;
use crate::sip::b2bua::{B2bua, B2buaConfig, MediaMode};
use crate::sip::sdp::Codec;
use crate::sip::ua::{CallHandle, ReferId, UaConfig, UserAgent};
use crate::sip::wire::Request;
use crate::vendor::TrunkConfig;
use keepalive::Keepalive;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{SocketAddr, SocketAddrV4};

/// The Mediation Server's settings, resolved from its spec.
#[derive(Clone, Debug)]
pub(crate) struct MediationConfig {
    pub(crate) name: String,
    /// Its Front End side address.
    pub(crate) fe_side: SocketAddrV4,
    /// The Front End pool's SIP address.
    pub(crate) front_end: SocketAddrV4,
    pub(crate) domain: String,
    pub(crate) fe_transport: Transport,
    pub(crate) capacity: u32,
    pub(crate) overload: Overload,
    pub(crate) relay_delay: SimDuration,
    pub(crate) transcode_delay: SimDuration,
    pub(crate) keepalive: KeepaliveSpec,
    pub(crate) fe_codecs: Vec<Codec>,
}

/// One trunk at run time.
pub(crate) struct TrunkRuntime {
    pub(crate) peer_name: String,
    pub(crate) peer: SocketAddrV4,
    pub(crate) config: TrunkConfig,
    pub(crate) codecs: Vec<Codec>,
    pub(crate) forward_pai: bool,
    /// Host names the Front End may write in Request-URIs for this peer.
    pub(crate) aliases: Vec<String>,
    /// The index of the gateway-side user agent this trunk uses.
    pub(crate) side: usize,
    /// Calls from the Front End to the peer (the peer's responses are translated).
    pub(crate) to_peer: B2bua,
    /// Calls from the peer to the Front End.
    pub(crate) from_peer: B2bua,
}

impl TrunkRuntime {
    pub(crate) fn new(
        peer_name: String,
        peer: SocketAddrV4,
        config: TrunkConfig,
        codecs: Vec<Codec>,
        forward_pai: bool,
        aliases: Vec<String>,
    ) -> Self {
        let (to_peer, from_peer) = Self::b2buas(&config);
        TrunkRuntime {
            peer_name,
            peer,
            config,
            codecs,
            forward_pai,
            aliases,
            side: 0,
            to_peer,
            from_peer,
        }
    }

    /// The translation table toward the Front End: the trunk's rules first, then a peer
    /// that never answered (the local 408 of Timer B) reported as 504 Server Time-out,
    /// which Lync routes fail over on.
    fn b2buas(config: &TrunkConfig) -> (B2bua, B2bua) {
        let mut map: Vec<(u16, u16)> = config
            .lync
            .response_code_translations
            .iter()
            .map(|t| (t.from.get(), t.to.get()))
            .collect();
        if !map.iter().any(|(f, _)| *f == 408) {
            map.push((408, 504));
        }
        let cfg = |status_map| B2buaConfig {
            media: MediaMode::Anchor,
            status_map,
            relay_hold: true,
        };
        (B2bua::new(cfg(map)), B2bua::new(cfg(Vec::new())))
    }
}

/// A user agent on the gateway side, at one of the server's ports.
struct Side {
    local: SocketAddrV4,
    transport: Transport,
    ua: UserAgent,
}

/// Which way a call goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Dir {
    /// From the Front End to a trunk peer (outbound to the PSTN or the PBX).
    ToPeer,
    /// From a trunk peer to the Front End.
    FromPeer,
}

/// A media relay of an anchored call. Side A faces the Front End, side B the peer.
#[derive(Clone, Debug)]
struct Relay {
    a_local: SocketAddrV4,
    b_local: SocketAddrV4,
    a_remote: Option<SocketAddrV4>,
    b_remote: Option<SocketAddrV4>,
    codec_a: Option<Codec>,
    codec_b: Option<Codec>,
    open: bool,
}

/// A transfer in progress on a call.
#[derive(Clone, Debug)]
enum Transfer {
    /// REFER passed to the peer; its NOTIFYs go back to the Front End leg.
    Passed { fe: CallHandle, refer: ReferId },
    /// The server calls the target itself through the Front End.
    Performing {
        old_fe: CallHandle,
        refer: ReferId,
        new_fe: CallHandle,
    },
}

/// One call through the server.
struct MedCall {
    tag: Option<CallTag>,
    trunk: usize,
    dir: Dir,
    fe: Option<CallHandle>,
    peer: Option<CallHandle>,
    /// The INVITE received, until the other leg is placed (queued calls).
    invite: Option<Box<Request>>,
    bypass: bool,
    /// Counts against the media capacity.
    anchored: bool,
    relay: Option<Relay>,
    /// The number of the party on the peer side (for transfers).
    party: String,
    transfer: Option<Transfer>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum MedTimer {
    /// A queued call waited too long for media capacity.
    QueueTimeout(u64),
    Keepalive,
}

/// What the server did, for reports and tests.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct MediationStats {
    /// INVITEs received (both directions).
    pub offered: u64,
    pub bypass: u64,
    /// Calls whose media the server relayed.
    pub anchored: u64,
    pub transcoded: u64,
    pub rejected_capacity: u64,
    /// Refused at once because the peer was marked down.
    pub rejected_peer_down: u64,
    pub queued: u64,
    pub peak_media: u32,
    pub transfers_performed: u64,
    pub refers_passed: u64,
}

/// The Mediation Server element (see the module docs).
pub struct MediationServer {
    cfg: MediationConfig,
    trunks: Vec<TrunkRuntime>,
    fe_ua: UserAgent,
    sides: Vec<Side>,
    keepalive: Keepalive,
    calls: BTreeMap<u64, MedCall>,
    by_fe: HashMap<CallHandle, u64>,
    by_peer: HashMap<(usize, CallHandle), u64>,
    next_id: u64,
    timers: TimerQueue<MedTimer>,
    /// Anchored calls now (media capacity in use).
    media_in_use: u32,
    queue: VecDeque<u64>,
    failed: bool,
    rngs: RngFactory,
    restarts: u64,
    /// Where the datagram being handled came from (identifies the trunk of an INVITE).
    last_remote: Option<SocketAddrV4>,
    stats: MediationStats,
}

impl MediationServer {
    pub(crate) fn new(
        cfg: MediationConfig,
        mut trunks: Vec<TrunkRuntime>,
        rngs: RngFactory,
    ) -> Self {
        let mut sides: Vec<Side> = Vec::new();
        for t in &mut trunks {
            let local = SocketAddrV4::new(*cfg.fe_side.ip(), t.config.lync.mediation_port);
            let transport = spec::transport(t.config.lync.transport);
            t.side = match sides.iter().position(|s| s.local == local) {
                Some(i) => i,
                None => {
                    sides.push(Side {
                        local,
                        transport,
                        ua: UserAgent::new(UaConfig::new("mediation", SocketAddr::V4(local)), {
                            rngs.stream(&cfg.name, "sip")
                        }),
                    });
                    sides.len() - 1
                }
            };
        }
        let keepalive = Keepalive::new(&cfg.keepalive, trunks.len(), SimTime::ZERO);
        let mut m = MediationServer {
            fe_ua: UserAgent::new(
                UaConfig::new("mediation", SocketAddr::V4(cfg.fe_side)),
                rngs.stream(&cfg.name, "sip"),
            ),
            cfg,
            trunks,
            sides,
            keepalive,
            calls: BTreeMap::new(),
            by_fe: HashMap::new(),
            by_peer: HashMap::new(),
            next_id: 0,
            timers: TimerQueue::default(),
            media_in_use: 0,
            queue: VecDeque::new(),
            failed: false,
            rngs,
            restarts: 0,
            last_remote: None,
            stats: MediationStats::default(),
        };
        m.new_agents();
        m.arm_keepalive();
        m
    }

    /// Fresh user agents (at start and after a restart), each on its own random stream.
    fn new_agents(&mut self) {
        let r = self.restarts;
        // The agents screen offers (488 when nothing is common): they accept every codec
        // the server can pass through (bypass) or relay.
        let mut all = self.cfg.fe_codecs.clone();
        for t in &self.trunks {
            for c in &t.codecs {
                if !all.iter().any(|x| x.same_encoding(c)) {
                    all.push(c.clone());
                }
            }
        }
        let mut fe = UaConfig::new("mediation", SocketAddr::V4(self.cfg.fe_side));
        fe.transport = self.cfg.fe_transport;
        fe.follow_redirects = false;
        fe.media = caps::caps_at(self.cfg.fe_side, &all, true);
        self.fe_ua = UserAgent::new(fe, self.rngs.indexed_stream(&self.cfg.name, "sip-fe", r));
        for (i, s) in self.sides.iter_mut().enumerate() {
            let mut c = UaConfig::new("mediation", SocketAddr::V4(s.local));
            c.transport = s.transport;
            c.follow_redirects = false;
            c.media = caps::caps_at(s.local, &all, true);
            let purpose = format!("sip-gw{i}");
            s.ua = UserAgent::new(c, self.rngs.indexed_stream(&self.cfg.name, &purpose, r));
        }
    }

    fn arm_keepalive(&mut self) {
        self.timers.retain(|t| *t != MedTimer::Keepalive);
        if let Some(at) = self.keepalive.next() {
            self.timers.arm(at, MedTimer::Keepalive);
        }
    }

    /// What the server did so far.
    pub fn stats(&self) -> MediationStats {
        self.stats
    }

    /// (relayed calls now, media capacity).
    pub fn media_in_use(&self) -> (u32, u32) {
        (self.media_in_use, self.cfg.capacity)
    }

    /// Whether the OPTIONS keepalive holds the trunk peer `name` up (None: no such peer).
    pub fn peer_up(&self, name: &str) -> Option<bool> {
        let i = self.trunks.iter().position(|t| t.peer_name == name)?;
        Some(self.keepalive.is_up(i))
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Moves everything the user agents queued: datagrams out, events to the handlers,
    /// until all are empty.
    fn pump(&mut self, cx: &mut Cx<'_>) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.fe_ua.poll_transmit() {
                progressed = true;
                if let SocketAddr::V4(dst) = t.dst {
                    cx.send(self.cfg.fe_side, dst, t.bytes);
                }
            }
            for s in &mut self.sides {
                while let Some(t) = s.ua.poll_transmit() {
                    progressed = true;
                    if let SocketAddr::V4(dst) = t.dst {
                        cx.send(s.local, dst, t.bytes);
                    }
                }
            }
            while let Some(ev) = self.fe_ua.poll_event() {
                progressed = true;
                self.on_fe_event(cx, ev);
            }
            for i in 0..self.sides.len() {
                while let Some(ev) = self.sides[i].ua.poll_event() {
                    progressed = true;
                    self.on_side_event(cx, i, ev);
                }
            }
            if !progressed {
                break;
            }
        }
    }

    fn run_keepalive(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now();
        for t in self.keepalive.due(now) {
            let trunk = &self.trunks[t];
            let side = trunk.side;
            let target = crate::sip::wire::Uri::Sip(crate::sip::wire::SipUri::new(
                None,
                crate::sip::wire::Host::from(std::net::IpAddr::V4(*trunk.peer.ip())),
                Some(trunk.peer.port()),
            ));
            let hop = Some(SocketAddr::V4(trunk.peer));
            if let Ok(h) = self.sides[side].ua.options(now, target, hop) {
                self.keepalive.sent(options_key(side, h.0), t);
            }
        }
        self.arm_keepalive();
    }

    fn crash(&mut self, cx: &mut Cx<'_>) {
        self.failed = true;
        let ids: Vec<u64> = self.calls.keys().copied().collect();
        for id in ids {
            if let Some(relay) = self.calls.get(&id).and_then(|c| c.relay.as_ref()) {
                if relay.open {
                    cx.close_relay(relay.a_local);
                }
            }
        }
        self.calls.clear();
        self.by_fe.clear();
        self.by_peer.clear();
        self.queue.clear();
        self.media_in_use = 0;
        self.timers = TimerQueue::default();
        for t in &mut self.trunks {
            let (a, b) = TrunkRuntime::b2buas(&t.config);
            t.to_peer = a;
            t.from_peer = b;
        }
        self.restarts += 1;
        self.new_agents();
    }
}

/// The key of an OPTIONS request of side `side` in the keepalive table.
fn options_key(side: usize, handle: u64) -> u64 {
    ((side as u64) << 48) | (handle & 0xffff_ffff_ffff)
}

impl NetworkElement for MediationServer {
    fn name(&self) -> &str {
        &self.cfg.name
    }

    fn on_datagram(
        &mut self,
        cx: &mut Cx<'_>,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        payload: &[u8],
    ) {
        if self.failed {
            return;
        }
        let now = cx.now();
        self.last_remote = Some(remote);
        if local == self.cfg.fe_side {
            self.fe_ua
                .handle_datagram(now, SocketAddr::V4(remote), payload);
        } else if let Some(s) = self.sides.iter_mut().find(|s| s.local == local) {
            s.ua.handle_datagram(now, SocketAddr::V4(remote), payload);
        }
        self.pump(cx);
        self.last_remote = None;
    }

    fn on_timeout(&mut self, cx: &mut Cx<'_>) {
        if self.failed {
            return;
        }
        let now = cx.now();
        if self.fe_ua.poll_timeout().is_some_and(|t| t <= now) {
            self.fe_ua.handle_timeout(now);
        }
        for s in &mut self.sides {
            if s.ua.poll_timeout().is_some_and(|t| t <= now) {
                s.ua.handle_timeout(now);
            }
        }
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                MedTimer::Keepalive => self.run_keepalive(cx),
                MedTimer::QueueTimeout(id) => self.queue_timeout(cx, id),
            }
        }
        self.pump(cx);
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        if self.failed {
            return None;
        }
        std::iter::once(self.fe_ua.poll_timeout())
            .chain(self.sides.iter().map(|s| s.ua.poll_timeout()))
            .chain(std::iter::once(self.timers.next()))
            .flatten()
            .min()
    }

    fn on_command(&mut self, cx: &mut Cx<'_>, command: Command) {
        match command {
            Command::Fail if !self.failed => self.crash(cx),
            Command::Repair if self.failed => {
                self.failed = false;
                self.keepalive.reset(cx.now());
                self.arm_keepalive();
            }
            _ => {}
        }
    }
}
