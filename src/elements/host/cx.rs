//! The context an element acts through while it handles one input.

use super::super::callbook::{CallBook, CallNote};
use super::super::element::Command;
use super::super::script::CallScript;
use super::super::tdm::{Channel, IsdnMessage, SeizeError, TrunkGroup};
use super::super::{CallTag, ElementId, TdmPort};
use super::media::{MediaEngine, MediaSpec, MediaUpdate, RelaySpec};
use super::{Outbox, TdmLinks};
use crate::net::Packet;
use crate::sim::SimTime;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::rc::Rc;

/// Signalling is marked CS3 (DSCP 24), the usual class for call signalling.
pub const SIGNALLING_DSCP: u8 = 24;

/// What an element can do while it handles one input. Everything it queues is acted on
/// by the world once the element returns.
pub struct Cx<'a> {
    now: SimTime,
    me: ElementId,
    out: &'a mut Outbox,
    calls: &'a mut CallBook,
    tdm: &'a mut TdmLinks,
    media: &'a mut MediaEngine,
    hosts: &'a BTreeMap<String, Ipv4Addr>,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(
        now: SimTime,
        me: ElementId,
        out: &'a mut Outbox,
        calls: &'a mut CallBook,
        tdm: &'a mut TdmLinks,
        media: &'a mut MediaEngine,
        hosts: &'a BTreeMap<String, Ipv4Addr>,
    ) -> Self {
        Cx {
            now,
            me,
            out,
            calls,
            tdm,
            media,
            hosts,
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The element being run.
    pub fn me(&self) -> ElementId {
        self.me
    }

    /// Sends a signalling datagram from one of the element's addresses.
    pub fn send(&mut self, src: SocketAddrV4, dst: SocketAddrV4, payload: Bytes) {
        self.out
            .datagrams
            .push(Packet::new(src, dst, payload).with_dscp(SIGNALLING_DSCP));
    }

    /// Sends a Q.931 message from one of the element's TDM ports.
    pub fn send_isdn(&mut self, port: TdmPort, msg: IsdnMessage) {
        self.out.isdn.push((port, msg));
    }

    /// Seizes a B-channel on a TDM port's link.
    pub fn seize(&mut self, port: TdmPort) -> Result<Channel, SeizeError> {
        self.tdm.seize(self.now, port)
    }

    /// Frees a B-channel.
    pub fn release(&mut self, port: TdmPort, channel: Channel) {
        self.tdm.release(self.now, port, channel);
    }

    /// The channels of a TDM port's link.
    pub fn trunk_group(&self, port: TdmPort) -> &TrunkGroup {
        self.tdm.group(port)
    }

    /// Takes a span out of service (or back); returns the channels whose calls were lost.
    pub fn set_span(&mut self, port: TdmPort, span: u16, in_service: bool) -> Vec<Channel> {
        if in_service {
            self.tdm.span_up(self.now, port, span);
            Vec::new()
        } else {
            self.tdm.span_down(self.now, port, span)
        }
    }

    /// Records a note about a call.
    pub fn note(&mut self, tag: CallTag, note: CallNote) {
        self.calls.note(self.now, tag, self.me, note);
    }

    /// The script of a call.
    pub fn script(&self, tag: CallTag) -> Option<Rc<CallScript>> {
        self.calls.script(tag)
    }

    /// Binds a SIP Call-ID to a call.
    pub fn bind_call_id(&mut self, call_id: &str, tag: CallTag) {
        self.calls.bind_call_id(call_id, tag);
    }

    /// The call a Call-ID belongs to.
    pub fn tag_of(&self, call_id: &str) -> Option<CallTag> {
        self.calls.tag_of(call_id)
    }

    /// The address of a host name (as a DNS lookup would give), or of an IP literal.
    pub fn resolve_host(&self, host: &str) -> Option<Ipv4Addr> {
        host.parse().ok().or_else(|| self.hosts.get(host).copied())
    }

    /// A free RTP address at `ip`.
    pub fn allocate_media(&mut self, ip: Ipv4Addr) -> SocketAddrV4 {
        self.media.allocate(ip)
    }

    /// Opens a media session.
    pub fn open_media(&mut self, spec: MediaSpec) -> Result<(), String> {
        self.media.open(self.now, self.me, spec)
    }

    pub fn update_media(&mut self, local: SocketAddrV4, update: MediaUpdate) {
        self.media.update(self.now, local, update);
    }

    /// Mutes a media session for the rest of its life.
    pub fn mute_media(&mut self, local: SocketAddrV4) {
        self.media.mute(self.now, local);
    }

    pub fn close_media(&mut self, local: SocketAddrV4) {
        self.media.close(self.now, local);
    }

    /// Opens a media relay (Mediation Server without bypass).
    pub fn open_relay(&mut self, spec: RelaySpec) -> Result<(), String> {
        self.media.open_relay(self.now, spec)
    }

    pub fn set_relay_remote(&mut self, local: SocketAddrV4, remote: SocketAddrV4) {
        self.media.set_relay_remote(local, remote);
    }

    pub fn close_relay(&mut self, local: SocketAddrV4) {
        self.media.close_relay(local);
    }

    /// Relays open now, and the peak.
    pub fn relays_in_use(&self) -> (usize, usize) {
        self.media.relays_in_use()
    }

    /// Hands a command to another element once this one returns.
    pub fn command(&mut self, element: ElementId, command: Command) {
        self.out.commands.push((element, command));
    }
}
