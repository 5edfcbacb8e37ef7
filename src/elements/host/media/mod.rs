//! The media engine: every RTP/RTCP session and relay of a run.
//!
//! Elements negotiate media with SDP and then ask the engine to open a session at their
//! address (the far end's address comes from the SDP), or, for a Mediation Server without
//! media bypass, a relay that forwards (and optionally transcodes) between two legs after a
//! processing delay. The engine owns the sans-IO `rtp` sessions, arms one timer per session
//! through the world, sends their packets over the network and reports each session's
//! statistics to the call book when it closes.

mod relay;

use super::super::callbook::{MediaLegReport, PartyRole};
use super::super::{CallTag, ElementId};
use super::flow::{FlowPath, FlowSession};
use super::session_report::report_of;
use crate::net::Packet;
use crate::rtp::{
    CallPhase, Channel, CodecProfile, Direction, MediaConfig, MediaSession, SessionEvent,
    TalkSpurtModel, Transcoder, TranscoderConfig,
};
use crate::sim::{EventId, RngFactory, SimDuration, SimTime};
use bytes::Bytes;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};

/// Voice media is marked Expedited Forwarding.
pub const MEDIA_DSCP: u8 = Packet::DSCP_EF;

/// How media is simulated for the calls of a run.
#[derive(Copy, Clone, Debug, PartialEq, Default)]
pub enum MediaFidelity {
    /// Every packet of every call (the default).
    #[default]
    PerPacket,
    /// Packet by packet for a seeded sample of calls (this fraction), flows for the rest.
    Sampled { fraction: f64, seed: u64 },
    /// Flows for every call.
    Flow,
    /// No media.
    Off,
}

/// What one call's media gets.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum CallFidelity {
    Packets,
    Flow,
    Off,
}

impl MediaFidelity {
    fn for_call(self, tag: CallTag) -> CallFidelity {
        match self {
            MediaFidelity::PerPacket => CallFidelity::Packets,
            MediaFidelity::Flow => CallFidelity::Flow,
            MediaFidelity::Off => CallFidelity::Off,
            MediaFidelity::Sampled { fraction, seed } => {
                // A hash of (seed, call): the same calls are sampled whatever else changes.
                let u = crate::sim::splitmix64(seed ^ crate::sim::splitmix64(tag.0)) as f64
                    / u64::MAX as f64;
                if u < fraction {
                    CallFidelity::Packets
                } else {
                    CallFidelity::Flow
                }
            }
        }
    }
}

/// Names a session or relay; the generation makes stale timer events harmless.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct MediaKey {
    slot: u32,
    generation: u32,
    relay: bool,
}

/// What an element asks for when it opens a media session.
#[derive(Clone, Debug)]
pub struct MediaSpec {
    /// The element's RTP address (from [`MediaEngine::allocate`]); RTCP is the next port.
    pub local: SocketAddrV4,
    /// The far end's RTP address from the SDP.
    pub remote: SocketAddrV4,
    pub config: MediaConfig,
    pub tag: CallTag,
    /// Whose ear this session is.
    pub role: PartyRole,
    /// Early media or connected.
    pub phase: CallPhase,
    pub direction: Direction,
    /// Codec stages before this one on the path (e.g. the far leg of a transcoding relay).
    pub upstream: Vec<CodecProfile>,
    /// Extra one-way delay not seen on the IP path (a TDM leg to a PSTN party), ms.
    pub extra_delay: SimDuration,
    /// The session never sends (a party that is muted for the whole call).
    pub muted: bool,
}

/// What an element asks for when it relays media between two legs.
#[derive(Clone, Debug)]
pub struct RelaySpec {
    /// The relay's address on leg A and the far end of leg A.
    pub a_local: SocketAddrV4,
    pub a_remote: Option<SocketAddrV4>,
    /// The relay's address on leg B and the far end of leg B.
    pub b_local: SocketAddrV4,
    pub b_remote: Option<SocketAddrV4>,
    /// Processing delay added to every relayed packet.
    pub delay: SimDuration,
    /// Transcode: (codec on leg A, codec on leg B) when they differ.
    pub transcode: Option<(CodecProfile, CodecProfile)>,
    pub tag: CallTag,
}

/// A change to an open session.
#[derive(Clone, Debug)]
pub enum MediaUpdate {
    Phase(CallPhase),
    Direction(Direction),
    Remote(SocketAddrV4),
    Dtmf(String),
}

struct SessionSlot {
    generation: u32,
    state: Option<OpenSession>,
}

pub(crate) struct OpenSession {
    pub(crate) session: MediaSession,
    pub(crate) local: SocketAddrV4,
    pub(crate) remote: SocketAddrV4,
    pub(crate) owner: ElementId,
    pub(crate) tag: CallTag,
    pub(crate) role: PartyRole,
    pub(crate) config_codec: CodecProfile,
    pub(crate) upstream: Vec<CodecProfile>,
    pub(crate) extra_delay: SimDuration,
    pub(crate) muted: bool,
    pub(crate) relayed: bool,
    pub(crate) opened_at: SimTime,
    pub(crate) timer: Option<(SimTime, EventId)>,
    pub(crate) dtmf_queue: Vec<char>,
}

struct RelaySlot {
    generation: u32,
    state: Option<OpenRelay>,
}

struct OpenRelay {
    spec: RelaySpec,
    a_to_b: Option<Transcoder>,
    b_to_a: Option<Transcoder>,
    timer: Option<(SimTime, EventId)>,
    relayed_packets: u64,
}

/// Where a media address leads.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Target {
    Session { slot: u32, channel: Channel },
    RelayA { slot: u32, channel: Channel },
    RelayB { slot: u32, channel: Channel },
}

/// Decides whether a free media address may be handed out. A live driver binds the real
/// RTP and RTCP sockets here and refuses addresses the operating system has given to
/// someone else; the simulator has none (every address of a node is free).
pub type PortGate = Box<dyn FnMut(SocketAddrV4) -> bool>;

/// Every media session and relay of a run.
pub struct MediaEngine {
    rngs: RngFactory,
    gate: Option<PortGate>,
    sessions: Vec<SessionSlot>,
    free_sessions: Vec<u32>,
    relays: Vec<RelaySlot>,
    free_relays: Vec<u32>,
    by_addr: HashMap<SocketAddrV4, Target>,
    next_port: HashMap<Ipv4Addr, u16>,
    /// Sessions and relays whose timer must be (re)armed.
    pub(crate) dirty: Vec<MediaKey>,
    /// Packets to send now.
    pub(crate) outgoing: Vec<Packet>,
    /// Packets to send after a delay (relay processing).
    pub(crate) delayed: Vec<(SimTime, Packet)>,
    /// Events for the owning elements.
    pub(crate) events: Vec<(ElementId, CallTag, SessionEvent)>,
    /// Reports of sessions that closed.
    pub(crate) closed: Vec<(CallTag, MediaLegReport)>,
    /// Sessions opened per call (the call book counts them).
    pub(crate) opened: Vec<CallTag>,
    /// RTP addresses no longer used by any session or relay; kept only when a port gate
    /// is installed (the live driver closes their sockets).
    pub(crate) released: Vec<SocketAddrV4>,
    fidelity: MediaFidelity,
    /// A call whose media is always simulated packet by packet (the call being traced).
    packets_for: Option<CallTag>,
    flows: HashMap<SocketAddrV4, FlowSession>,
    /// Flows that closed, with the path their audio took; the world computes their reports.
    pub(crate) closed_flows: Vec<(FlowSession, FlowPath, SimTime)>,
    session_counter: u64,
    relayed_total: u64,
    peak_relays: usize,
    open_relays: usize,
}

/// The kernel timer the world armed for a session or relay.
pub(crate) type ArmedTimer = Option<(SimTime, EventId)>;

const FIRST_MEDIA_PORT: u16 = 20_000;
const LAST_MEDIA_PORT: u16 = 59_998;
/// Consecutive refusals after which the port gate is taken to be exhausted.
const GATE_REFUSALS: u32 = 64;

impl MediaEngine {
    pub fn new(rngs: RngFactory) -> Self {
        MediaEngine {
            rngs,
            gate: None,
            sessions: Vec::new(),
            free_sessions: Vec::new(),
            relays: Vec::new(),
            free_relays: Vec::new(),
            by_addr: HashMap::new(),
            next_port: HashMap::new(),
            dirty: Vec::new(),
            outgoing: Vec::new(),
            delayed: Vec::new(),
            events: Vec::new(),
            closed: Vec::new(),
            opened: Vec::new(),
            released: Vec::new(),
            fidelity: MediaFidelity::PerPacket,
            packets_for: None,
            flows: HashMap::new(),
            closed_flows: Vec::new(),
            session_counter: 0,
            relayed_total: 0,
            peak_relays: 0,
            open_relays: 0,
        }
    }

    /// Allocates a free even RTP port at `ip` (RTCP takes the next one). Ports are handed
    /// out in ascending order and reused after wrapping, skipping ports in use.
    pub fn allocate(&mut self, ip: Ipv4Addr) -> SocketAddrV4 {
        let next = self.next_port.entry(ip).or_insert(FIRST_MEDIA_PORT);
        let mut refused = 0;
        for _ in 0..((LAST_MEDIA_PORT - FIRST_MEDIA_PORT) / 2) {
            let port = *next;
            *next = if port >= LAST_MEDIA_PORT {
                FIRST_MEDIA_PORT
            } else {
                port + 2
            };
            let addr = SocketAddrV4::new(ip, port);
            if self.by_addr.contains_key(&addr) {
                continue;
            }
            let Some(gate) = self.gate.as_mut() else {
                return addr;
            };
            if gate(addr) {
                return addr;
            }
            // A gate that refuses this many in a row is out of sockets, not unlucky: stop
            // scanning.
            refused += 1;
            if refused >= GATE_REFUSALS {
                break;
            }
        }
        // Every port of the address is in use (20,000 sessions on one IP), or the gate has
        // no socket left: reuse the first (its media goes nowhere).
        SocketAddrV4::new(ip, FIRST_MEDIA_PORT)
    }

    /// Consults `gate` before handing out any media address (see [`PortGate`]).
    pub fn set_port_gate(&mut self, gate: PortGate) {
        self.gate = Some(gate);
    }

    /// Sets how media is simulated (before the run starts).
    pub fn set_fidelity(&mut self, fidelity: MediaFidelity) {
        self.fidelity = fidelity;
    }

    /// Simulates this call's media packet by packet whatever the fidelity (unless media is
    /// off), so a traced call's capture holds its RTP.
    pub fn record_packets_for(&mut self, tag: CallTag) {
        self.packets_for = Some(tag);
    }

    /// Whether `addr` is a media address of an open session or relay.
    pub fn owns(&self, addr: &SocketAddrV4) -> bool {
        // Flows never receive packets; only sessions and relays own addresses on the wire.
        self.by_addr.contains_key(addr)
    }

    /// The call a media address (of a session or a relay) belongs to.
    pub fn tag_at(&self, addr: &SocketAddrV4) -> Option<CallTag> {
        match self.by_addr.get(addr)? {
            Target::Session { slot, .. } => self
                .sessions
                .get(*slot as usize)?
                .state
                .as_ref()
                .map(|s| s.tag),
            Target::RelayA { slot, .. } | Target::RelayB { slot, .. } => self
                .relays
                .get(*slot as usize)?
                .state
                .as_ref()
                .map(|r| r.spec.tag),
        }
    }

    /// Relays open now, and the most open at once.
    pub fn relays_in_use(&self) -> (usize, usize) {
        (self.open_relays, self.peak_relays)
    }

    fn bind(&mut self, rtp: SocketAddrV4, target_of: impl Fn(Channel) -> Target) {
        self.by_addr.insert(rtp, target_of(Channel::Rtp));
        let rtcp = SocketAddrV4::new(*rtp.ip(), rtp.port().wrapping_add(1));
        self.by_addr.insert(rtcp, target_of(Channel::Rtcp));
    }

    fn unbind(&mut self, rtp: SocketAddrV4) {
        if self.gate.is_some() {
            self.released.push(rtp);
        }
        self.by_addr.remove(&rtp);
        self.by_addr
            .remove(&SocketAddrV4::new(*rtp.ip(), rtp.port().wrapping_add(1)));
    }

    /// Opens a session for `owner`. Returns an error text if the configuration is invalid.
    pub fn open(&mut self, now: SimTime, owner: ElementId, spec: MediaSpec) -> Result<(), String> {
        let fidelity = match self.fidelity.for_call(spec.tag) {
            CallFidelity::Flow if self.packets_for == Some(spec.tag) => CallFidelity::Packets,
            f => f,
        };
        match fidelity {
            CallFidelity::Off => return Ok(()),
            CallFidelity::Flow => return self.open_flow(now, owner, spec),
            CallFidelity::Packets => {}
        }
        let index = self.session_counter;
        self.session_counter += 1;
        let role_name = match spec.role {
            PartyRole::Caller => "caller",
            PartyRole::Callee => "callee",
            PartyRole::Other => "other",
        };
        let talk =
            TalkSpurtModel::p59(self.rngs.indexed_stream("talk", role_name, spec.tag.0), now);
        let rng = self.rngs.indexed_stream("media", "session", index);
        let codec = spec.config.codec;
        let mut session =
            MediaSession::new(spec.config, talk, rng, now).map_err(|e| e.to_string())?;
        session.set_phase(spec.phase);
        session.set_direction(
            now,
            if spec.muted {
                Direction::RecvOnly
            } else {
                spec.direction
            },
        );
        // The element reopened an address still in use: close the old session first.
        if let Some(Target::Session { slot, .. }) = self.by_addr.get(&spec.local).copied() {
            self.close_slot(now, slot);
        }
        let slot = match self.free_sessions.pop() {
            Some(s) => s,
            None => {
                self.sessions.push(SessionSlot {
                    generation: 0,
                    state: None,
                });
                (self.sessions.len() - 1) as u32
            }
        };
        let entry = &mut self.sessions[slot as usize];
        entry.generation = entry.generation.wrapping_add(1);
        entry.state = Some(OpenSession {
            session,
            local: spec.local,
            remote: spec.remote,
            owner,
            tag: spec.tag,
            role: spec.role,
            config_codec: codec,
            upstream: spec.upstream,
            extra_delay: spec.extra_delay,
            muted: spec.muted,
            relayed: false,
            opened_at: now,
            timer: None,
            dtmf_queue: Vec::new(),
        });
        let generation = entry.generation;
        self.bind(spec.local, |channel| Target::Session { slot, channel });
        self.dirty.push(MediaKey {
            slot,
            generation,
            relay: false,
        });
        self.opened.push(spec.tag);
        self.link_clocks(slot);
        self.drain_session(now, slot);
        Ok(())
    }

    fn open_flow(&mut self, now: SimTime, owner: ElementId, spec: MediaSpec) -> Result<(), String> {
        spec.config
            .codec
            .check_ptime(spec.config.ptime_ms)
            .map_err(|e| e.to_string())?;
        if let Some(old) = self.flows.remove(&spec.local) {
            self.finish_flow(old, now);
        }
        let mut flow = FlowSession {
            owner,
            tag: spec.tag,
            role: spec.role,
            local: spec.local,
            remote: spec.remote,
            config: spec.config,
            upstream: spec.upstream,
            extra_delay: spec.extra_delay,
            muted: spec.muted,
            direction: spec.direction,
            opened_at: now,
            early_since: None,
            connected_since: None,
            dtmf_digits: 0,
        };
        flow.set_phase(now, spec.phase);
        self.note_flow_phase(&flow, spec.phase);
        self.opened.push(flow.tag);
        self.flows.insert(spec.local, flow);
        Ok(())
    }

    /// Flows tell their owner what a packet session would: early media or audio started.
    fn note_flow_phase(&mut self, flow: &FlowSession, phase: CallPhase) {
        let receiving = !matches!(flow.direction, Direction::SendOnly | Direction::Inactive);
        if receiving {
            let event = match phase {
                CallPhase::EarlyMedia => SessionEvent::EarlyMediaStarted,
                CallPhase::Connected => SessionEvent::AudioStarted,
            };
            self.events.push((flow.owner, flow.tag, event));
        }
    }

    fn finish_flow(&mut self, flow: FlowSession, now: SimTime) {
        let path = self.flow_path(&flow);
        self.closed_flows.push((flow, path, now));
    }

    /// The IP segments the audio of a flow crosses to reach it.
    fn flow_path(&self, flow: &FlowSession) -> FlowPath {
        let relay = match self.by_addr.get(&flow.remote) {
            Some(Target::RelayA { slot, .. } | Target::RelayB { slot, .. }) => {
                let from_a = matches!(self.by_addr.get(&flow.remote), Some(Target::RelayA { .. }));
                self.relays
                    .get(*slot as usize)
                    .and_then(|r| r.state.as_ref())
                    .map(|r| (r, from_a))
            }
            _ => None,
        };
        match relay {
            Some((r, remote_is_a)) => {
                // Our remote is the relay's side facing us; the audio enters on the other side.
                let (in_local, in_remote) = if remote_is_a {
                    (r.spec.b_local, r.spec.b_remote)
                } else {
                    (r.spec.a_local, r.spec.a_remote)
                };
                let mut segments = Vec::new();
                if let Some(far) = in_remote {
                    segments.push((far, in_local));
                }
                segments.push((flow.remote, flow.local));
                FlowPath {
                    segments,
                    relay_delay: r.spec.delay,
                    relayed: true,
                }
            }
            None => FlowPath {
                segments: vec![(flow.remote, flow.local)],
                relay_delay: SimDuration::ZERO,
                relayed: false,
            },
        }
    }

    /// Gives each of two directly connected sessions the other's media clock, so delay is
    /// measured without RTCP (the simulator knows both ends). Through a pass-through relay,
    /// the far session is found behind it.
    fn link_clocks(&mut self, slot: u32) {
        let Some(me) = self.sessions[slot as usize].state.as_ref() else {
            return;
        };
        let (local, remote) = (me.local, me.remote);
        // A session that sends to a relay is relayed, whether or not the far session shares
        // its clock (a transcoding relay does not).
        let relayed = matches!(
            self.by_addr.get(&remote),
            Some(Target::RelayA { .. } | Target::RelayB { .. })
        );
        if relayed {
            if let Some(me) = self.sessions[slot as usize].state.as_mut() {
                me.relayed = true;
            }
        }
        let peer = match self.by_addr.get(&remote).copied() {
            Some(Target::Session { slot: s, .. }) => Some(s),
            Some(Target::RelayA { slot: r, .. }) => self.far_session(r, true),
            Some(Target::RelayB { slot: r, .. }) => self.far_session(r, false),
            None => None,
        };
        let Some(peer) = peer else { return };
        if peer == slot {
            return;
        }
        let peer_clock = self.sessions[peer as usize]
            .state
            .as_ref()
            .map(|p| p.session.clock());
        let my_clock = self.sessions[slot as usize]
            .state
            .as_ref()
            .map(|p| p.session.clock());
        if let (Some(pc), Some(me)) = (peer_clock, self.sessions[slot as usize].state.as_mut()) {
            me.session.set_remote_clock(pc);
            me.relayed |= relayed;
        }
        if let (Some(mc), Some(p)) = (my_clock, self.sessions[peer as usize].state.as_mut()) {
            // Only if the peer really sends to us (or to the relay in front of us).
            let _ = local;
            p.session.set_remote_clock(mc);
            p.relayed |= relayed;
        }
    }

    /// Applies a change to the session at `local`.
    pub fn update(&mut self, now: SimTime, local: SocketAddrV4, update: MediaUpdate) {
        if let Some(mut flow) = self.flows.remove(&local) {
            match update {
                MediaUpdate::Phase(p) => {
                    let before = (flow.early_since, flow.connected_since);
                    flow.set_phase(now, p);
                    if before != (flow.early_since, flow.connected_since) {
                        self.note_flow_phase(&flow, p);
                    }
                }
                MediaUpdate::Direction(d) => {
                    flow.direction = if flow.muted {
                        Direction::RecvOnly.min_with(d)
                    } else {
                        d
                    }
                }
                MediaUpdate::Remote(r) => flow.remote = r,
                MediaUpdate::Dtmf(digits) => flow.dtmf_digits += digits.chars().count() as u32,
            }
            self.flows.insert(local, flow);
            return;
        }
        let Some(Target::Session { slot, .. }) = self.by_addr.get(&local).copied() else {
            return;
        };
        let Some(s) = self.sessions[slot as usize].state.as_mut() else {
            return;
        };
        match update {
            MediaUpdate::Phase(p) => s.session.set_phase(p),
            MediaUpdate::Direction(d) => {
                let d = if s.muted {
                    Direction::RecvOnly.min_with(d)
                } else {
                    d
                };
                s.session.set_direction(now, d)
            }
            MediaUpdate::Remote(r) => {
                s.remote = r;
                self.link_clocks(slot);
            }
            MediaUpdate::Dtmf(digits) => {
                s.dtmf_queue.extend(digits.chars().rev());
            }
        }
        self.dirty.push(self.key(slot, false));
        self.drain_session(now, slot);
    }

    /// Mutes the session at `local` for the rest of the call (it keeps receiving).
    pub fn mute(&mut self, now: SimTime, local: SocketAddrV4) {
        if let Some(flow) = self.flows.get_mut(&local) {
            flow.muted = true;
            flow.direction = Direction::RecvOnly;
        }
        if let Some(Target::Session { slot, .. }) = self.by_addr.get(&local).copied() {
            if let Some(s) = self.sessions[slot as usize].state.as_mut() {
                s.muted = true;
                s.session.set_direction(now, Direction::RecvOnly);
            }
        }
    }

    /// Closes the session at `local`, reporting its statistics.
    pub fn close(&mut self, now: SimTime, local: SocketAddrV4) {
        if let Some(flow) = self.flows.remove(&local) {
            self.finish_flow(flow, now);
            return;
        }
        if let Some(Target::Session { slot, .. }) = self.by_addr.get(&local).copied() {
            self.close_slot(now, slot);
        }
    }

    fn close_slot(&mut self, now: SimTime, slot: u32) {
        let Some(mut s) = self.sessions[slot as usize].state.take() else {
            return;
        };
        self.free_sessions.push(slot);
        self.unbind(s.local);
        if let Some((_, _id)) = s.timer.take() {
            // The world cancels stale timers lazily: the generation check ignores them.
        }
        s.session.advance(now);
        s.session.close(now, None);
        while let Some(t) = s.session.poll_transmit() {
            let dst = match t.channel {
                Channel::Rtp => s.remote,
                Channel::Rtcp => SocketAddrV4::new(*s.remote.ip(), s.remote.port().wrapping_add(1)),
            };
            let src = match t.channel {
                Channel::Rtp => s.local,
                Channel::Rtcp => SocketAddrV4::new(*s.local.ip(), s.local.port().wrapping_add(1)),
            };
            self.outgoing
                .push(Packet::new(src, dst, Bytes::from(t.payload)).with_dscp(MEDIA_DSCP));
        }
        let report = report_of(&s, now);
        self.closed.push((s.tag, report));
    }

    /// Handles a media datagram that reached `dst`. Returns false if no session or relay
    /// owns the address (the packet is then dropped, as a closed port would).
    pub fn deliver(
        &mut self,
        now: SimTime,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        payload: &[u8],
    ) -> bool {
        match self.by_addr.get(&dst).copied() {
            Some(Target::Session { slot, channel }) => {
                if let Some(s) = self.sessions[slot as usize].state.as_mut() {
                    s.session.handle_datagram(now, channel, payload);
                }
                self.drain_session(now, slot);
                true
            }
            Some(Target::RelayA { slot, channel }) => {
                self.relay(now, slot, true, channel, src, payload);
                true
            }
            Some(Target::RelayB { slot, channel }) => {
                self.relay(now, slot, false, channel, src, payload);
                true
            }
            None => false,
        }
    }

    fn key(&self, slot: u32, relay: bool) -> MediaKey {
        let generation = if relay {
            self.relays[slot as usize].generation
        } else {
            self.sessions[slot as usize].generation
        };
        MediaKey {
            slot,
            generation,
            relay,
        }
    }

    /// Runs the timer of a session or relay. Stale keys (closed or reused slots) do nothing.
    pub fn timeout(&mut self, now: SimTime, key: MediaKey) {
        if key.relay {
            let Some(entry) = self.relays.get_mut(key.slot as usize) else {
                return;
            };
            if entry.generation != key.generation {
                return;
            }
            let Some(relay) = entry.state.as_mut() else {
                return;
            };
            relay.timer = None;
            for (t, out_local, out_remote) in [
                (
                    relay.a_to_b.as_mut(),
                    relay.spec.b_local,
                    relay.spec.b_remote,
                ),
                (
                    relay.b_to_a.as_mut(),
                    relay.spec.a_local,
                    relay.spec.a_remote,
                ),
            ] {
                let Some(t) = t else { continue };
                t.handle_timeout(now);
                while let Some(bytes) = t.poll_transmit() {
                    if let Some(remote) = out_remote {
                        relay.relayed_packets += 1;
                        self.outgoing.push(
                            Packet::new(out_local, remote, Bytes::from(bytes))
                                .with_dscp(MEDIA_DSCP),
                        );
                    }
                }
            }
            self.dirty.push(key);
            return;
        }
        let Some(entry) = self.sessions.get_mut(key.slot as usize) else {
            return;
        };
        if entry.generation != key.generation {
            return;
        }
        let Some(s) = entry.state.as_mut() else {
            return;
        };
        s.timer = None;
        s.session.handle_timeout(now);
        self.dirty.push(key);
        self.drain_session(now, key.slot);
    }

    /// The next timer of a session or relay, and the timer the world armed for it.
    pub(crate) fn timer_slot(
        &mut self,
        key: MediaKey,
    ) -> Option<(Option<SimTime>, &mut ArmedTimer)> {
        if key.relay {
            let entry = self.relays.get_mut(key.slot as usize)?;
            if entry.generation != key.generation {
                return None;
            }
            let relay = entry.state.as_mut()?;
            let next = [relay.a_to_b.as_ref(), relay.b_to_a.as_ref()]
                .into_iter()
                .flatten()
                .filter_map(|t| t.poll_timeout())
                .min();
            Some((next, &mut relay.timer))
        } else {
            let entry = self.sessions.get_mut(key.slot as usize)?;
            if entry.generation != key.generation {
                return None;
            }
            let s = entry.state.as_mut()?;
            Some((s.session.poll_timeout(), &mut s.timer))
        }
    }

    fn drain_session(&mut self, now: SimTime, slot: u32) {
        let Some(s) = self.sessions[slot as usize].state.as_mut() else {
            return;
        };
        if let Some(d) = s.dtmf_queue.pop() {
            // One digit at a time: 100 ms tones (RFC 4733's typical duration).
            if s.session
                .send_dtmf(d, SimDuration::from_millis(100))
                .is_err()
            {
                s.dtmf_queue.clear();
            }
        }
        let _ = now;
        while let Some(t) = s.session.poll_transmit() {
            let (src, dst) = match t.channel {
                Channel::Rtp => (s.local, s.remote),
                Channel::Rtcp => (
                    SocketAddrV4::new(*s.local.ip(), s.local.port().wrapping_add(1)),
                    SocketAddrV4::new(*s.remote.ip(), s.remote.port().wrapping_add(1)),
                ),
            };
            self.outgoing
                .push(Packet::new(src, dst, Bytes::from(t.payload)).with_dscp(MEDIA_DSCP));
        }
        while let Some(ev) = s.session.poll_event() {
            self.events.push((s.owner, s.tag, ev));
        }
    }

    /// Packets relayed so far (closed relays).
    pub fn relayed_packets(&self) -> u64 {
        self.relayed_total
    }
}

impl Direction {
    /// The direction a muted endpoint may use given the negotiated one.
    fn min_with(self, negotiated: Direction) -> Direction {
        match (self, negotiated) {
            (_, Direction::Inactive) | (_, Direction::SendOnly) => Direction::Inactive,
            _ => Direction::RecvOnly,
        }
    }
}
