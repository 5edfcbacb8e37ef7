//! The live host: elements on real UDP sockets, their timers on the wall clock.
//!
//! It is the live counterpart of the simulator's `World`: it runs the very same
//! [`Element`]s through the same [`Cx`], owns a [`MediaEngine`] and a [`CallBook`], and
//! turns what elements queue into real datagrams. One thread, one `mio` poll: each turn
//! waits for a socket or the earliest timer, reads every ready socket, then runs every
//! timer that is due. Elements see wall time as [`SimTime`] (ns since the host started).

use super::clock::WallClock;
use super::error::LiveError;
use super::inbound::{Inbound, InboundStats};
use super::sockets::{Reserved, ReservedPairs, Role, SendError, Sockets, bind_udp, port_gate};
use crate::elements::callbook::{CallBook, CallLog};
use crate::elements::host::{Cx, MediaEngine, MediaKey, Outbox, TdmLinkSpec, TdmLinks};
use crate::elements::script::CallScript;
use crate::elements::tdm::IsdnMessage;
use crate::elements::{Command, Element, ElementId, NetworkElement, TdmPort};
use crate::net::Packet;
use crate::sim::{EventId, EventQueue, RngFactory, SimDuration, SimTime};
use mio::{Events, Poll};
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket as StdUdpSocket};
use std::time::Duration;

/// How a host is set up.
#[derive(Clone, Debug)]
pub struct HostOptions {
    /// Give each call a remote peer places a script in which the callee answers after
    /// this delay (so the element runs media for it); `None` leaves such calls unscripted.
    pub script_inbound: Option<SimDuration>,
    /// A media address handed out but never used is released after this long.
    pub media_reservation_ttl: SimDuration,
    /// The most RTP/RTCP socket pairs bound at once.
    pub max_media_pairs: usize,
    /// Bind real sockets for media addresses. Off (signalling only), the media engine
    /// hands out addresses as in the simulator and nothing listens on them.
    pub bind_media: bool,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            script_inbound: Some(SimDuration::ZERO),
            media_reservation_ttl: SimDuration::from_secs(180),
            max_media_pairs: 4096,
            bind_media: true,
        }
    }
}

/// Counters of a host.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// SIP datagrams received and sent.
    pub sip_in: u64,
    pub sip_out: u64,
    /// RTP/RTCP datagrams received and sent.
    pub media_in: u64,
    pub media_out: u64,
    /// Datagrams the OS refused to send.
    pub send_errors: u64,
    /// Datagrams from an address no socket of the host is bound at.
    pub unroutable: u64,
    /// Datagrams that arrived from IPv6 peers (not served).
    pub foreign: u64,
    /// Media socket pairs bound now, and the most at once.
    pub media_pairs: usize,
    pub peak_media_pairs: usize,
    /// Calls placed to the host by remote peers.
    pub inbound: InboundStats,
}

/// A SIP socket bound before its element is built (the element needs its real address).
pub struct SipSocket {
    sock: StdUdpSocket,
    local: SocketAddrV4,
}

impl SipSocket {
    /// Binds a UDP socket; port 0 takes a free port. Its buffers are enlarged (up to the
    /// system's limits) so that a burst from a load generator waits in the kernel rather
    /// than being dropped while the loop is busy.
    pub fn bind(addr: SocketAddrV4) -> Result<SipSocket, LiveError> {
        let sock = bind_udp(addr).map_err(|source| LiveError::Bind { addr, source })?;
        let tuned = socket2::SockRef::from(&sock);
        // Best effort: the kernel caps both at net.core.{r,w}mem_max.
        let _ = tuned.set_recv_buffer_size(SIP_RECV_BUFFER);
        let _ = tuned.set_send_buffer_size(SIP_SEND_BUFFER);
        let local = match sock.local_addr() {
            Ok(SocketAddr::V4(a)) => a,
            Ok(SocketAddr::V6(_)) | Err(_) => addr,
        };
        Ok(SipSocket { sock, local })
    }

    /// The address it is bound at.
    pub fn local(&self) -> SocketAddrV4 {
        self.local
    }
}

/// What a timer of the host is for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Due {
    Element(ElementId),
    Media(MediaKey),
    Isdn(u32),
    Relay(u32),
    Command(u32),
    Place(u32),
}

/// Values waiting for their timer, indexed by a small integer.
struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    fn insert(&mut self, v: T) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.items[i as usize] = Some(v);
                i
            }
            None => {
                self.items.push(Some(v));
                (self.items.len() - 1) as u32
            }
        }
    }

    fn take(&mut self, i: u32) -> Option<T> {
        let v = self.items.get_mut(i as usize).and_then(Option::take);
        if v.is_some() {
            self.free.push(i);
        }
        v
    }
}

/// SIP socket buffer sizes asked for (bytes).
const SIP_RECV_BUFFER: usize = 4 << 20;
const SIP_SEND_BUFFER: usize = 1 << 20;
/// Datagrams read from one socket before the others get a turn.
const READ_BUDGET: usize = 256;
/// Timers run in one turn before sockets get a turn.
const TIMER_BUDGET: usize = 4096;
/// How often unused media reservations are looked at.
const SWEEP_EVERY: SimDuration = SimDuration::from_secs(1);

/// Elements on real sockets (see the module docs).
pub struct LiveHost {
    clock: WallClock,
    poll: Poll,
    events: Events,
    ready: Vec<usize>,
    backlog: Vec<usize>,
    sockets: Sockets,
    reserved: ReservedPairs,
    elements: Vec<Element>,
    timers: Vec<Option<(SimTime, EventId)>>,
    queue: EventQueue<Due>,
    outbox: Outbox,
    calls: CallBook,
    tdm: TdmLinks,
    media: MediaEngine,
    hosts: BTreeMap<String, Ipv4Addr>,
    isdn: Slab<(TdmPort, IsdnMessage)>,
    relayed: Slab<Packet>,
    commands: Slab<(ElementId, Command)>,
    places: Slab<(ElementId, CallScript)>,
    inbound: Inbound,
    options: HostOptions,
    stats: LiveStats,
    buf: Vec<u8>,
    next_sweep: SimTime,
}

impl LiveHost {
    /// An empty host. `rngs` seeds the elements' media sessions (the wall clock makes a
    /// live run irreproducible anyway, but identifiers stay seeded).
    pub fn new(rngs: RngFactory, options: HostOptions) -> Result<LiveHost, LiveError> {
        let poll = Poll::new().map_err(|e| LiveError::Io("creating the poller", e))?;
        let reserved = Reserved::new(options.max_media_pairs);
        let mut media = MediaEngine::new(rngs);
        if options.bind_media {
            media.set_port_gate(port_gate(std::rc::Rc::clone(&reserved)));
        }
        Ok(LiveHost {
            clock: WallClock::new(),
            poll,
            events: Events::with_capacity(256),
            ready: Vec::new(),
            backlog: Vec::new(),
            sockets: Sockets::default(),
            reserved,
            elements: Vec::new(),
            timers: Vec::new(),
            queue: EventQueue::new(),
            outbox: Outbox::default(),
            calls: CallBook::default(),
            tdm: TdmLinks::default(),
            media,
            hosts: BTreeMap::new(),
            isdn: Slab::default(),
            relayed: Slab::default(),
            commands: Slab::default(),
            places: Slab::default(),
            inbound: Inbound::new(options.script_inbound),
            options,
            stats: LiveStats::default(),
            buf: vec![0; 65_536],
            next_sweep: SimTime::ZERO + SWEEP_EVERY,
        })
    }

    /// The host's current time.
    pub fn now(&self) -> SimTime {
        self.clock.now()
    }

    /// Adds an element listening for SIP on `sockets`; arms its timer.
    pub fn add(
        &mut self,
        element: Element,
        sockets: Vec<SipSocket>,
    ) -> Result<ElementId, LiveError> {
        let id = ElementId(self.elements.len() as u32);
        for s in sockets {
            self.sockets
                .insert(self.poll.registry(), s.sock, s.local, Role::Sip(id))?;
        }
        self.elements.push(element);
        self.timers.push(None);
        self.rearm(id);
        Ok(id)
    }

    /// Makes a host name resolvable by elements.
    pub fn add_host(&mut self, name: &str, ip: Ipv4Addr) {
        self.hosts.insert(name.to_string(), ip);
    }

    /// Adds a TDM link between two elements of this host.
    pub fn add_tdm_link(&mut self, spec: TdmLinkSpec) -> (TdmPort, TdmPort) {
        self.tdm.add(spec)
    }

    pub fn element(&self, id: ElementId) -> Option<&Element> {
        self.elements.get(id.0 as usize)
    }

    /// Opens a call in the call book (its script is then visible to elements by tag).
    pub fn open_call(&mut self, script: CallScript) {
        self.calls.open(self.clock.now(), script);
    }

    /// Hands a command to an element at `at` (now if it has passed).
    pub fn command_at(&mut self, at: SimTime, id: ElementId, command: Command) {
        let i = self.commands.insert((id, command));
        self.queue.push(at, Due::Command(i));
    }

    /// At `at`, opens the call of `script` in the call book and tells `id` to place it
    /// (the call's start time is then the moment it is placed).
    pub fn place_call_at(&mut self, at: SimTime, id: ElementId, script: CallScript) {
        let i = self.places.insert((id, script));
        self.queue.push(at, Due::Place(i));
    }

    /// The next finished call log.
    pub fn pop_finished(&mut self) -> Option<CallLog> {
        self.calls.pop_finished()
    }

    /// Calls still open in the call book.
    pub fn open_calls(&self) -> usize {
        self.calls.open_calls()
    }

    /// Finishes every open call log (at shutdown).
    pub fn finish_all(&mut self) {
        self.calls.finish_all(self.clock.now());
    }

    pub fn stats(&self) -> LiveStats {
        LiveStats {
            media_pairs: self.sockets.media_pairs(),
            inbound: self.inbound.stats,
            ..self.stats
        }
    }

    /// Inbound calls in progress.
    pub fn inbound_open(&self) -> usize {
        self.inbound.open()
    }

    /// One turn of the loop: waits at most `max_wait` for a datagram or the next timer,
    /// then handles everything that is ready.
    pub fn turn(&mut self, max_wait: Duration) -> Result<(), LiveError> {
        self.run_due(self.clock.now());
        let wait = if self.backlog.is_empty() {
            match self.queue.peek_time() {
                Some(t) => self.clock.until(t).min(max_wait),
                None => max_wait,
            }
        } else {
            Duration::ZERO
        };
        match self.poll.poll(&mut self.events, Some(wait)) {
            Ok(()) => {}
            // A signal (SIGINT) interrupted the wait: the caller checks its flag.
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(LiveError::Io("waiting for sockets", e)),
        }
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        ready.append(&mut self.backlog);
        ready.extend(self.events.iter().map(|e| e.token().0));
        ready.dedup();
        for &index in &ready {
            self.drain(index);
        }
        self.ready = ready;
        let now = self.clock.now();
        self.run_due(now);
        if now >= self.next_sweep {
            self.next_sweep = now + SWEEP_EVERY;
            let media = &self.media;
            self.sockets.sweep_media(
                self.poll.registry(),
                now,
                self.options.media_reservation_ttl,
                |a| media.owns(a),
            );
            self.sockets.publish(&self.reserved);
        }
        Ok(())
    }

    /// Runs turns until `done` says so or `deadline` passes; returns whether `done` did.
    pub fn run_until(
        &mut self,
        deadline: SimTime,
        mut done: impl FnMut(&mut LiveHost) -> bool,
    ) -> Result<bool, LiveError> {
        loop {
            if done(self) {
                return Ok(true);
            }
            let now = self.clock.now();
            if now >= deadline {
                return Ok(false);
            }
            let wait = self.clock.until(deadline).min(Duration::from_millis(50));
            self.turn(wait)?;
        }
    }

    /// Keeps serving until no SIP datagram has arrived for `quiet`, at most `max`: lets the
    /// last transactions (the responses to our final BYEs) complete before the host goes.
    pub fn linger(&mut self, quiet: Duration, max: Duration) -> Result<(), LiveError> {
        let to_sim =
            |d: Duration| SimDuration::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let deadline = self.clock.now() + to_sim(max);
        let mut seen = self.stats.sip_in;
        let mut last_change = self.clock.now();
        self.run_until(deadline, |h| {
            let now = h.clock.now();
            if h.stats.sip_in != seen {
                seen = h.stats.sip_in;
                last_change = now;
            }
            now.saturating_since(last_change) >= to_sim(quiet)
        })?;
        Ok(())
    }

    /// Reads what one socket has, up to the budget (the rest waits for the next turn).
    fn drain(&mut self, index: usize) {
        let mut buf = std::mem::take(&mut self.buf);
        let mut budget = READ_BUDGET;
        while let Some(s) = self.sockets.get(index) {
            let (local, role) = (s.local, s.role);
            let (len, src) = match s.sock.recv_from(&mut buf) {
                Ok((len, SocketAddr::V4(src))) => (len, src),
                Ok((_, SocketAddr::V6(_))) => {
                    self.stats.foreign += 1;
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                // ICMP errors surfacing on the socket, EINTR: keep reading.
                Err(_) => {
                    budget = budget.saturating_sub(1);
                    if budget == 0 {
                        self.backlog.push(index);
                        break;
                    }
                    continue;
                }
            };
            let now = self.clock.now();
            let payload = &buf[..len];
            match role {
                Role::Sip(id) => {
                    self.stats.sip_in += 1;
                    self.inbound.on_received(now, payload, &mut self.calls);
                    self.with_element(now, id, |el, cx| el.on_datagram(cx, local, src, payload));
                    self.inbound.done_with_message();
                }
                Role::Media { .. } => {
                    self.stats.media_in += 1;
                    self.media.deliver(now, src, local, payload);
                    self.flush_media(now);
                }
            }
            budget = budget.saturating_sub(1);
            if budget == 0 {
                self.backlog.push(index);
                break;
            }
        }
        self.buf = buf;
    }

    /// Runs every timer due at or before `now` (up to the budget).
    fn run_due(&mut self, now: SimTime) {
        for _ in 0..TIMER_BUDGET {
            match self.queue.peek_time() {
                Some(t) if t <= now => {}
                _ => return,
            }
            let Some((_, _, due)) = self.queue.pop() else {
                return;
            };
            match due {
                Due::Element(id) => {
                    if let Some(slot) = self.timers.get_mut(id.0 as usize) {
                        *slot = None;
                    }
                    self.with_element(now, id, |el, cx| el.on_timeout(cx));
                }
                Due::Media(key) => {
                    if let Some((_, armed)) = self.media.timer_slot(key) {
                        *armed = None;
                    }
                    self.media.timeout(now, key);
                    self.flush_media(now);
                }
                Due::Isdn(i) => {
                    if let Some((port, msg)) = self.isdn.take(i) {
                        let id = self.tdm.owner(port);
                        self.with_element(now, id, |el, cx| el.on_isdn(cx, port, msg));
                    }
                }
                Due::Relay(i) => {
                    if let Some(packet) = self.relayed.take(i) {
                        self.send_media(&packet);
                    }
                }
                Due::Command(i) => {
                    if let Some((id, command)) = self.commands.take(i) {
                        self.with_element(now, id, |el, cx| el.on_command(cx, command));
                    }
                }
                Due::Place(i) => {
                    if let Some((id, script)) = self.places.take(i) {
                        let tag = script.tag;
                        self.calls.open(now, script);
                        let command = Command::PlaceCall { tag };
                        self.with_element(now, id, |el, cx| el.on_command(cx, command));
                    }
                }
            }
        }
    }

    /// Runs `f` on an element with a fresh context, then acts on what it queued.
    fn with_element(
        &mut self,
        now: SimTime,
        id: ElementId,
        f: impl FnOnce(&mut Element, &mut Cx<'_>),
    ) {
        let Some(element) = self.elements.get_mut(id.0 as usize) else {
            return;
        };
        let mut cx = Cx::new(
            now,
            id,
            &mut self.outbox,
            &mut self.calls,
            &mut self.tdm,
            &mut self.media,
            &self.hosts,
        );
        f(element, &mut cx);
        self.adopt_media_sockets(now);
        self.flush(now);
        self.close_unused_inbound_media();
        self.rearm(id);
    }

    /// Closes the media sockets of inbound calls that ended without a session on them.
    fn close_unused_inbound_media(&mut self) {
        for rtp in std::mem::take(&mut self.inbound.released) {
            if !self.media.owns(&rtp) {
                self.sockets.close_media_pair(self.poll.registry(), rtp);
            }
        }
        self.sockets.publish(&self.reserved);
    }

    /// Registers the media sockets the port gate bound while an element ran.
    fn adopt_media_sockets(&mut self, now: SimTime) {
        // An error here means epoll refused a socket: its media is lost, the call goes on.
        if let Ok(adopted) = self
            .sockets
            .adopt(self.poll.registry(), &self.reserved, now)
        {
            if !adopted.is_empty() {
                self.inbound.attach_media(&adopted);
            }
        }
        let pairs = self.sockets.media_pairs();
        self.stats.peak_media_pairs = self.stats.peak_media_pairs.max(pairs);
    }

    /// Sends what elements queued, schedules ISDN deliveries, runs nested commands.
    fn flush(&mut self, now: SimTime) {
        for packet in std::mem::take(&mut self.outbox.datagrams) {
            self.stats.sip_out += 1;
            self.inbound.on_sent(now, &packet.payload, &mut self.calls);
            self.send(&packet);
        }
        for (from, msg) in std::mem::take(&mut self.outbox.isdn) {
            if from.link as usize >= self.tdm.len() {
                continue; // a port of no link of this host: nothing is attached to it
            }
            let delay = self.tdm.delay(from);
            let i = self.isdn.insert((from.peer(), msg));
            self.queue.push(now + delay, Due::Isdn(i));
        }
        self.flush_media(now);
        for (id, command) in std::mem::take(&mut self.outbox.commands) {
            self.with_element(now, id, |el, cx| el.on_command(cx, command));
        }
    }

    fn flush_media(&mut self, now: SimTime) {
        for tag in std::mem::take(&mut self.media.opened) {
            self.calls.media_opened(tag);
        }
        for packet in std::mem::take(&mut self.media.outgoing) {
            self.send_media(&packet);
        }
        for (at, packet) in std::mem::take(&mut self.media.delayed) {
            let i = self.relayed.insert(packet);
            self.queue.push(at, Due::Relay(i));
        }
        let mut dirty = std::mem::take(&mut self.media.dirty);
        dirty.dedup();
        for key in dirty.drain(..) {
            let Some((next, armed)) = self.media.timer_slot(key) else {
                continue;
            };
            if armed.map(|(t, _)| t) == next {
                continue;
            }
            if let Some((_, id)) = armed.take() {
                self.queue.cancel(id);
            }
            if let Some(t) = next {
                *armed = Some((t, self.queue.push(t, Due::Media(key))));
            }
        }
        self.media.dirty = dirty;
        for (tag, report) in std::mem::take(&mut self.media.closed) {
            self.calls.media_closed(tag, report);
        }
        // Flow-level media (a simulator fidelity) needs the virtual network to report; a
        // live host runs per-packet sessions only, so there are none to report.
        self.media.closed_flows.clear();
        for rtp in std::mem::take(&mut self.media.released) {
            if !self.media.owns(&rtp) {
                self.sockets.close_media_pair(self.poll.registry(), rtp);
            }
        }
        for (owner, tag, event) in std::mem::take(&mut self.media.events) {
            self.with_element(now, owner, |el, cx| el.on_media(cx, tag, event));
        }
    }

    fn send(&mut self, packet: &Packet) {
        match self.sockets.send(&packet.src, packet.dst, &packet.payload) {
            Ok(()) => {}
            Err(SendError::NoSocket) => self.stats.unroutable += 1,
            Err(SendError::Io) => self.stats.send_errors += 1,
        }
    }

    fn send_media(&mut self, packet: &Packet) {
        self.stats.media_out += 1;
        self.send(packet);
    }

    /// Re-arms an element's timer if its next timeout changed.
    fn rearm(&mut self, id: ElementId) {
        let Some(element) = self.elements.get(id.0 as usize) else {
            return;
        };
        let next = element.poll_timeout();
        let slot = &mut self.timers[id.0 as usize];
        if slot.map(|(t, _)| t) == next {
            return;
        }
        if let Some((_, event)) = slot.take() {
            self.queue.cancel(event);
        }
        if let Some(t) = next {
            *slot = Some((t, self.queue.push(t, Due::Element(id))));
        }
    }
}
