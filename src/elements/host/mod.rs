//! The world: every element of a deployment, the network between them, their TDM spans,
//! the media engine and the call book, driven by the kernel.
//!
//! The world is the only place that turns element outputs into kernel events: it sends
//! elements' datagrams through the network, delivers what arrives to the element (or media
//! session) bound at the destination address, carries ISDN messages over TDM links after
//! the D-channel delay, and keeps one kernel timer per element and per media session.
//! Elements never see the scheduler.

mod capture;
mod cx;
mod flow;
mod media;
mod session_report;
mod tdm_links;

pub use cx::Cx;
pub use media::{
    MEDIA_DSCP, MediaEngine, MediaFidelity, MediaKey, MediaSpec, MediaUpdate, PortGate, RelaySpec,
};
pub use tdm_links::{TdmLinkSpec, TdmLinkUsage, TdmLinks};

use super::callbook::CallBook;
use super::element::{Command, Element, NetworkElement};
use super::tdm::IsdnMessage;
use super::{ElementId, TdmPort};
use crate::net::{NetEvent, Network, NodeId, Packet, SendOutcome};
use crate::sim::{EventId, RngFactory, Scheduler, SimTime, TraceEvent};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddrV4};

/// The world's kernel events. Small (16 bytes): payloads stay in the world.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WorldEvent {
    Net(NetEvent),
    /// An element's timer.
    Element(ElementId),
    /// An ISDN message reaches the far end of a TDM link (index of the message in flight).
    Isdn(u32),
    /// A media session's or relay's timer.
    Media(MediaKey),
    /// A relayed media packet leaves after its processing delay (index in flight).
    Relay(u32),
}

impl From<NetEvent> for WorldEvent {
    fn from(e: NetEvent) -> Self {
        WorldEvent::Net(e)
    }
}

impl TraceEvent for WorldEvent {
    fn component(&self) -> Cow<'_, str> {
        match self {
            WorldEvent::Net(e) => Cow::Owned(e.component().into_owned()),
            WorldEvent::Element(id) => Cow::Owned(format!("element{}", id.0)),
            WorldEvent::Isdn(_) => Cow::Borrowed("tdm"),
            WorldEvent::Media(_) => Cow::Borrowed("media"),
            WorldEvent::Relay(_) => Cow::Borrowed("relay"),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            WorldEvent::Net(e) => e.kind(),
            WorldEvent::Element(_) => "timer",
            WorldEvent::Isdn(_) => "isdn",
            WorldEvent::Media(_) => "media",
            WorldEvent::Relay(_) => "relay",
        }
    }
}

/// What elements queued while they ran; the world acts on it afterwards.
#[derive(Default)]
pub struct Outbox {
    pub(crate) datagrams: Vec<Packet>,
    pub(crate) isdn: Vec<(TdmPort, IsdnMessage)>,
    pub(crate) commands: Vec<(ElementId, Command)>,
}

/// Counters of one run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct WorldStats {
    pub sip_sent: u64,
    pub sip_delivered: u64,
    /// Datagrams that reached an address nobody listens on.
    pub undeliverable: u64,
    pub media_sent: u64,
    pub media_delivered: u64,
    pub isdn_messages: u64,
}

/// A packet or message seen by the capture, for ladders and pcaps.
#[derive(Clone, Debug, PartialEq)]
pub enum Captured {
    /// A datagram handed to the network (`delivered` false) or delivered by it (true).
    Datagram {
        time: SimTime,
        packet: Packet,
        delivered: bool,
        media: bool,
    },
    /// An ISDN message on a TDM link, from one element to another.
    Isdn {
        time: SimTime,
        from: ElementId,
        to: ElementId,
        label: String,
    },
}

/// Where elements listen.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Binding {
    element: ElementId,
}

/// One deployment in motion.
pub struct World {
    pub net: Network,
    elements: Vec<Element>,
    homes: Vec<NodeId>,
    timers: Vec<Option<(SimTime, EventId)>>,
    sip: HashMap<SocketAddrV4, Binding>,
    pub media: MediaEngine,
    pub tdm: TdmLinks,
    pub calls: CallBook,
    isdn_in_flight: Vec<Option<(TdmPort, IsdnMessage)>>,
    isdn_free: Vec<u32>,
    relay_in_flight: Vec<Option<Packet>>,
    relay_free: Vec<u32>,
    outbox: Outbox,
    stats: WorldStats,
    capture: Option<capture::Capture>,
    hosts: BTreeMap<String, Ipv4Addr>,
}

impl World {
    /// An empty world over `net`.
    pub fn new(net: Network, rngs: RngFactory) -> Self {
        World {
            net,
            elements: Vec::new(),
            homes: Vec::new(),
            timers: Vec::new(),
            sip: HashMap::new(),
            media: MediaEngine::new(rngs),
            tdm: TdmLinks::default(),
            calls: CallBook::default(),
            isdn_in_flight: Vec::new(),
            isdn_free: Vec::new(),
            relay_in_flight: Vec::new(),
            relay_free: Vec::new(),
            outbox: Outbox::default(),
            stats: WorldStats::default(),
            capture: None,
            hosts: BTreeMap::new(),
        }
    }

    /// Adds an element living on `node`, listening for SIP on `addresses` (which must
    /// belong to the node). Returns its id.
    pub fn add(&mut self, element: Element, node: NodeId, addresses: &[SocketAddrV4]) -> ElementId {
        let id = ElementId(self.elements.len() as u32);
        self.elements.push(element);
        self.homes.push(node);
        self.timers.push(None);
        for a in addresses {
            self.sip.insert(*a, Binding { element: id });
        }
        id
    }

    /// Makes a host name resolvable by elements (DNS of the deployment).
    pub fn add_host(&mut self, name: &str, ip: Ipv4Addr) {
        self.hosts.insert(name.to_string(), ip);
    }

    /// Listens for SIP on another address (e.g. a second transport port).
    pub fn listen(&mut self, element: ElementId, address: SocketAddrV4) {
        self.sip.insert(address, Binding { element });
    }

    /// The node an element runs on.
    pub fn home(&self, id: ElementId) -> NodeId {
        self.homes[id.0 as usize]
    }

    pub fn element(&self, id: ElementId) -> &Element {
        &self.elements[id.0 as usize]
    }

    pub fn element_mut(&mut self, id: ElementId) -> &mut Element {
        &mut self.elements[id.0 as usize]
    }

    pub fn element_count(&self) -> usize {
        self.elements.len()
    }

    /// The element's name.
    pub fn name(&self, id: ElementId) -> &str {
        self.elements
            .get(id.0 as usize)
            .map(|e| e.name())
            .unwrap_or("?")
    }

    pub fn stats(&self) -> WorldStats {
        self.stats
    }

    /// Starts recording every datagram and ISDN message (for `trace`).
    pub fn enable_capture(&mut self) {
        self.capture = Some(capture::Capture::new(None));
    }

    /// Starts recording only what belongs to one call: its SIP legs (by Call-ID), its media
    /// packets and its ISDN messages.
    pub fn enable_capture_for(&mut self, tag: super::CallTag) {
        self.capture = Some(capture::Capture::new(Some(tag)));
    }

    fn capture_datagram(&mut self, time: SimTime, packet: &Packet, delivered: bool, media: bool) {
        if let Some(c) = self.capture.as_mut() {
            c.datagram(time, packet, delivered, media, &self.calls, &self.media);
        }
    }

    /// Takes what the capture recorded.
    pub fn take_capture(&mut self) -> Vec<Captured> {
        self.capture
            .take()
            .map(capture::Capture::into_items)
            .unwrap_or_default()
    }

    /// Starts the network (its faults and background traffic) and arms every element.
    pub fn start<E: From<WorldEvent> + From<NetEvent>>(&mut self, sched: &mut Scheduler<E>) {
        self.net.start(sched);
        for i in 0..self.elements.len() {
            self.rearm(sched, ElementId(i as u32));
        }
    }

    /// Hands a command to an element now.
    pub fn command<E: From<WorldEvent> + From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        id: ElementId,
        command: Command,
    ) {
        self.with_element(sched, id, |el, cx| el.on_command(cx, command));
    }

    /// Handles one of the world's events.
    pub fn handle<E: From<WorldEvent> + From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        event: WorldEvent,
    ) {
        match event {
            WorldEvent::Net(ev) => {
                if let Some(d) = self.net.handle(sched, ev) {
                    self.deliver(sched, d.packet);
                }
            }
            WorldEvent::Element(id) => {
                if let Some(slot) = self.timers.get_mut(id.0 as usize) {
                    *slot = None;
                }
                self.with_element(sched, id, |el, cx| el.on_timeout(cx));
            }
            WorldEvent::Isdn(index) => {
                let Some((port, msg)) = self
                    .isdn_in_flight
                    .get_mut(index as usize)
                    .and_then(Option::take)
                else {
                    return;
                };
                self.isdn_free.push(index);
                let id = self.tdm.owner(port);
                self.with_element(sched, id, |el, cx| el.on_isdn(cx, port, msg));
            }
            WorldEvent::Media(key) => {
                let now = sched.now();
                if let Some((_, armed)) = self.media.timer_slot(key) {
                    *armed = None;
                }
                self.media.timeout(now, key);
                self.flush_media(sched);
            }
            WorldEvent::Relay(index) => {
                let Some(packet) = self
                    .relay_in_flight
                    .get_mut(index as usize)
                    .and_then(Option::take)
                else {
                    return;
                };
                self.relay_free.push(index);
                self.send_media(sched, packet);
            }
        }
    }

    fn deliver<E: From<WorldEvent> + From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        packet: Packet,
    ) {
        let now = sched.now();
        if let Some(binding) = self.sip.get(&packet.dst).copied() {
            self.stats.sip_delivered += 1;
            self.capture_datagram(now, &packet, true, false);
            let (dst, src) = (packet.dst, packet.src);
            self.with_element(sched, binding.element, |el, cx| {
                el.on_datagram(cx, dst, src, &packet.payload)
            });
        } else if self.media.owns(&packet.dst) {
            self.stats.media_delivered += 1;
            self.capture_datagram(now, &packet, true, true);
            self.media
                .deliver(now, packet.src, packet.dst, &packet.payload);
            self.flush_media(sched);
        } else {
            self.stats.undeliverable += 1;
        }
    }

    /// Runs `f` on an element with a fresh context, then acts on everything it queued.
    fn with_element<E: From<WorldEvent> + From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        id: ElementId,
        f: impl FnOnce(&mut Element, &mut Cx<'_>),
    ) {
        let now = sched.now();
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
        self.flush(sched);
        self.rearm(sched, id);
    }

    /// Sends what elements queued, schedules ISDN deliveries, runs nested commands.
    fn flush<E: From<WorldEvent> + From<NetEvent>>(&mut self, sched: &mut Scheduler<E>) {
        let now = sched.now();
        let datagrams = std::mem::take(&mut self.outbox.datagrams);
        for packet in datagrams {
            self.stats.sip_sent += 1;
            self.capture_datagram(now, &packet, false, false);
            if let SendOutcome::Dropped(_) = self.net.send(sched, packet) {
                // Counted by the network; SIP retransmission or timeouts take over.
            }
        }
        let isdn = std::mem::take(&mut self.outbox.isdn);
        for (from, msg) in isdn {
            self.stats.isdn_messages += 1;
            let to = from.peer();
            let delay = self.tdm.delay(from);
            if let Some(c) = self.capture.as_mut() {
                c.isdn(now, from, self.tdm.owner(from), self.tdm.owner(to), &msg);
            }
            let index = match self.isdn_free.pop() {
                Some(i) => {
                    self.isdn_in_flight[i as usize] = Some((to, msg));
                    i
                }
                None => {
                    self.isdn_in_flight.push(Some((to, msg)));
                    (self.isdn_in_flight.len() - 1) as u32
                }
            };
            sched.schedule_in(delay, WorldEvent::Isdn(index).into());
        }
        self.flush_media(sched);
        let commands = std::mem::take(&mut self.outbox.commands);
        for (id, command) in commands {
            self.command(sched, id, command);
        }
    }

    fn flush_media<E: From<WorldEvent> + From<NetEvent>>(&mut self, sched: &mut Scheduler<E>) {
        let now = sched.now();
        for tag in std::mem::take(&mut self.media.opened) {
            self.calls.media_opened(tag);
        }
        for packet in std::mem::take(&mut self.media.outgoing) {
            self.send_media(sched, packet);
        }
        for (at, packet) in std::mem::take(&mut self.media.delayed) {
            let index = match self.relay_free.pop() {
                Some(i) => {
                    self.relay_in_flight[i as usize] = Some(packet);
                    i
                }
                None => {
                    self.relay_in_flight.push(Some(packet));
                    (self.relay_in_flight.len() - 1) as u32
                }
            };
            sched.schedule_at(at, WorldEvent::Relay(index).into());
        }
        let mut dirty = std::mem::take(&mut self.media.dirty);
        dirty.dedup();
        for key in dirty.drain(..) {
            if let Some((next, armed)) = self.media.timer_slot(key) {
                if armed.map(|(t, _)| t) != next {
                    if let Some((_, id)) = armed.take() {
                        sched.cancel(id);
                    }
                    if let Some(t) = next {
                        *armed = Some((t, sched.schedule_at(t, WorldEvent::Media(key).into())));
                    }
                }
            }
        }
        self.media.dirty = dirty;
        for (tag, report) in std::mem::take(&mut self.media.closed) {
            self.calls.media_closed(tag, report);
        }
        for (flow, path, at) in std::mem::take(&mut self.media.closed_flows) {
            let report = flow::flow_report(&self.net, &flow, &path, at);
            self.calls.media_closed(flow.tag, report);
        }
        let events = std::mem::take(&mut self.media.events);
        for (owner, tag, event) in events {
            let _ = now;
            self.with_element(sched, owner, |el, cx| el.on_media(cx, tag, event));
        }
    }

    fn send_media<E: From<WorldEvent> + From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        packet: Packet,
    ) {
        self.stats.media_sent += 1;
        self.capture_datagram(sched.now(), &packet, false, true);
        let _ = self.net.send(sched, packet);
    }

    /// Re-arms an element's timer if its next timeout changed.
    fn rearm<E: From<WorldEvent> + From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        id: ElementId,
    ) {
        let Some(element) = self.elements.get(id.0 as usize) else {
            return;
        };
        let next = element.poll_timeout();
        let slot = &mut self.timers[id.0 as usize];
        if slot.map(|(t, _)| t) == next {
            return;
        }
        if let Some((_, event)) = slot.take() {
            sched.cancel(event);
        }
        if let Some(t) = next {
            *slot = Some((t, sched.schedule_at(t, WorldEvent::Element(id).into())));
        }
    }
}
