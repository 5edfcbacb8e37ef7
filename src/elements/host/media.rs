//! The media engine: every RTP/RTCP session and relay of a run.
//!
//! Elements negotiate media with SDP and then ask the engine to open a session at their
//! address (the far end's address comes from the SDP), or, for a Mediation Server without
//! media bypass, a relay that forwards (and optionally transcodes) between two legs after a
//! processing delay. The engine owns the sans-IO `rtp` sessions, arms one timer per session
//! through the world, sends their packets over the network and reports each session's
//! statistics to the call book when it closes.

use super::super::callbook::{MediaLegReport, PartyRole, StageReport};
use super::super::{CallTag, ElementId};
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

struct OpenSession {
    session: MediaSession,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    owner: ElementId,
    tag: CallTag,
    role: PartyRole,
    config_codec: CodecProfile,
    upstream: Vec<CodecProfile>,
    extra_delay: SimDuration,
    muted: bool,
    relayed: bool,
    opened_at: SimTime,
    timer: Option<(SimTime, EventId)>,
    dtmf_queue: Vec<char>,
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

    /// Whether `addr` is a media address of an open session or relay.
    pub fn owns(&self, addr: &SocketAddrV4) -> bool {
        self.by_addr.contains_key(addr)
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

    /// Gives each of two directly connected sessions the other's media clock, so delay is
    /// measured without RTCP (the simulator knows both ends). Through a pass-through relay,
    /// the far session is found behind it.
    fn link_clocks(&mut self, slot: u32) {
        let Some(me) = self.sessions[slot as usize].state.as_ref() else {
            return;
        };
        let (local, remote) = (me.local, me.remote);
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
        let relayed = matches!(
            self.by_addr.get(&remote),
            Some(Target::RelayA { .. } | Target::RelayB { .. })
        );
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

    /// The session on the far side of relay `r`, entered from side A (`from_a`) or B.
    fn far_session(&self, r: u32, from_a: bool) -> Option<u32> {
        let relay = self.relays.get(r as usize)?.state.as_ref()?;
        if relay.a_to_b.is_some() || relay.b_to_a.is_some() {
            return None; // transcoded: new timestamps, no shared clock
        }
        let far = if from_a {
            relay.spec.b_remote?
        } else {
            relay.spec.a_remote?
        };
        match self.by_addr.get(&far)? {
            Target::Session { slot, .. } => Some(*slot),
            _ => None,
        }
    }

    /// Applies a change to the session at `local`.
    pub fn update(&mut self, now: SimTime, local: SocketAddrV4, update: MediaUpdate) {
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
        if let Some(Target::Session { slot, .. }) = self.by_addr.get(&local).copied() {
            if let Some(s) = self.sessions[slot as usize].state.as_mut() {
                s.muted = true;
                s.session.set_direction(now, Direction::RecvOnly);
            }
        }
    }

    /// Closes the session at `local`, reporting its statistics.
    pub fn close(&mut self, now: SimTime, local: SocketAddrV4) {
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

    /// Opens a relay between two legs.
    pub fn open_relay(&mut self, now: SimTime, spec: RelaySpec) -> Result<(), String> {
        let mut rng = self.rngs.indexed_stream("media", "relay", spec.tag.0);
        let (a_to_b, b_to_a) = match spec.transcode {
            Some((a, b)) if a.payload_type != b.payload_type => {
                let mut ab = TranscoderConfig::new(a, b);
                ab.processing_delay = spec.delay;
                let mut ba = TranscoderConfig::new(b, a);
                ba.processing_delay = spec.delay;
                (
                    Some(Transcoder::new(ab, &mut rng).map_err(|e| e.to_string())?),
                    Some(Transcoder::new(ba, &mut rng).map_err(|e| e.to_string())?),
                )
            }
            _ => (None, None),
        };
        let slot = match self.free_relays.pop() {
            Some(s) => s,
            None => {
                self.relays.push(RelaySlot {
                    generation: 0,
                    state: None,
                });
                (self.relays.len() - 1) as u32
            }
        };
        let (a_local, b_local) = (spec.a_local, spec.b_local);
        let entry = &mut self.relays[slot as usize];
        entry.generation = entry.generation.wrapping_add(1);
        entry.state = Some(OpenRelay {
            spec,
            a_to_b,
            b_to_a,
            timer: None,
            relayed_packets: 0,
        });
        self.bind(a_local, |channel| Target::RelayA { slot, channel });
        self.bind(b_local, |channel| Target::RelayB { slot, channel });
        self.open_relays += 1;
        self.peak_relays = self.peak_relays.max(self.open_relays);
        let _ = now;
        // Sessions already open on either side can now see each other's clocks.
        for addr in [a_local, b_local] {
            let _ = addr;
        }
        self.relink_around_relay(slot);
        Ok(())
    }

    fn relink_around_relay(&mut self, r: u32) {
        let Some(relay) = self.relays[r as usize].state.as_ref() else {
            return;
        };
        let remotes = [relay.spec.a_remote, relay.spec.b_remote];
        for remote in remotes.into_iter().flatten() {
            if let Some(Target::Session { slot, .. }) = self.by_addr.get(&remote).copied() {
                self.link_clocks(slot);
            }
        }
    }

    /// Sets the far end of one side of a relay (learnt later from SDP).
    pub fn set_relay_remote(&mut self, local: SocketAddrV4, remote: SocketAddrV4) {
        let target = self.by_addr.get(&local).copied();
        let r = match target {
            Some(Target::RelayA { slot, .. }) => {
                if let Some(relay) = self.relays[slot as usize].state.as_mut() {
                    relay.spec.a_remote = Some(remote);
                }
                slot
            }
            Some(Target::RelayB { slot, .. }) => {
                if let Some(relay) = self.relays[slot as usize].state.as_mut() {
                    relay.spec.b_remote = Some(remote);
                }
                slot
            }
            _ => return,
        };
        self.relink_around_relay(r);
    }

    /// Closes the relay with side A (or B) at `local`.
    pub fn close_relay(&mut self, local: SocketAddrV4) {
        let slot = match self.by_addr.get(&local).copied() {
            Some(Target::RelayA { slot, .. } | Target::RelayB { slot, .. }) => slot,
            _ => return,
        };
        if let Some(relay) = self.relays[slot as usize].state.take() {
            self.unbind(relay.spec.a_local);
            self.unbind(relay.spec.b_local);
            self.free_relays.push(slot);
            self.open_relays -= 1;
            self.relayed_total += relay.relayed_packets;
        }
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

    fn relay(
        &mut self,
        now: SimTime,
        slot: u32,
        from_a: bool,
        channel: Channel,
        src: SocketAddrV4,
        payload: &[u8],
    ) {
        let generation = self.relays[slot as usize].generation;
        let Some(relay) = self.relays[slot as usize].state.as_mut() else {
            return;
        };
        let rtp_src = match channel {
            Channel::Rtp => src,
            Channel::Rtcp => SocketAddrV4::new(*src.ip(), src.port().wrapping_sub(1)),
        };
        // Symmetric RTP: learn a missing far end from the first packet.
        let (out_local, out_remote) = if from_a {
            relay.spec.a_remote.get_or_insert(rtp_src);
            (relay.spec.b_local, relay.spec.b_remote)
        } else {
            relay.spec.b_remote.get_or_insert(rtp_src);
            (relay.spec.a_local, relay.spec.a_remote)
        };
        let Some(out_remote) = out_remote else { return };
        let shift = |a: SocketAddrV4| match channel {
            Channel::Rtp => a,
            Channel::Rtcp => SocketAddrV4::new(*a.ip(), a.port().wrapping_add(1)),
        };
        let transcoder = if from_a {
            relay.a_to_b.as_mut()
        } else {
            relay.b_to_a.as_mut()
        };
        match (transcoder, channel) {
            (Some(t), Channel::Rtp) => {
                t.handle_rtp(now, payload);
                self.dirty.push(MediaKey {
                    slot,
                    generation,
                    relay: true,
                });
            }
            (Some(_), Channel::Rtcp) => {
                // A transcoding relay terminates RTCP (the two legs have different SSRCs).
            }
            (None, _) => {
                relay.relayed_packets += 1;
                let packet = Packet::new(
                    shift(out_local),
                    shift(out_remote),
                    Bytes::copy_from_slice(payload),
                )
                .with_dscp(MEDIA_DSCP);
                self.delayed.push((now + relay.spec.delay, packet));
            }
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

fn report_of(s: &OpenSession, now: SimTime) -> MediaLegReport {
    let obs = s.session.observables();
    let runs = s.session.loss_runs();
    let delay = s.session.delay();
    let codec = s.config_codec;
    let loss_fraction = if runs.slots == 0 {
        0.0
    } else {
        runs.lost as f64 / runs.slots as f64
    };
    let mut stages: Vec<StageReport> = s
        .upstream
        .iter()
        .map(|c| StageReport {
            codec: c.encoding_name,
            ie: c.ie,
            bpl: c.bpl,
            ppl: 0.0,
            burst_r: 1.0,
        })
        .collect();
    stages.push(StageReport {
        codec: codec.encoding_name,
        ie: codec.ie,
        bpl: codec.bpl,
        ppl: runs.ppl_percent(),
        burst_r: runs.burst_ratio(),
    });
    let remote = s.session.remote_reception();
    MediaLegReport {
        role: s.role,
        element: s.owner,
        codec: codec.encoding_name,
        stages,
        mouth_to_ear_ms: obs
            .audio_heard
            .then(|| delay.mouth_to_ear(s.extra_delay))
            .flatten()
            .map(|d| d.as_millis_f64()),
        loss_fraction,
        audio_packets: obs.audio_packets,
        audio_heard: obs.audio_heard,
        early_media_heard: obs.early_media_heard,
        comfort_noise_played: obs.comfort_noise_played,
        dtmf_digits: obs.dtmf.len() as u32,
        dtmf_in_early_media: obs.dtmf.iter().filter(|d| d.early_media).count() as u32,
        monitor_jitter_ms: remote.map(|r| r.jitter_ms),
        monitor_loss_fraction: remote.map(|r| r.fraction_lost),
        relayed: s.relayed,
        opened_at: s.opened_at,
        closed_at: now,
    }
}
