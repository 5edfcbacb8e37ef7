//! The interface every element implements, and the closed set of elements.

use super::host::Cx;
use super::tdm::IsdnMessage;
use super::{CallTag, TdmPort};
use crate::rtp::SessionEvent;
use crate::sim::SimTime;
use std::net::SocketAddrV4;

/// A command from the layer above (the scenario): place a call, fail, repair.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Start the call whose script the call book holds under this tag: the element's user
    /// `caller` dials.
    PlaceCall { tag: CallTag },
    /// The element crashes: every call it holds is lost, it stops answering.
    Fail,
    /// The element restarts with empty state.
    Repair,
    /// A TDM span of one of the element's trunk groups goes out of service or returns.
    SpanState {
        port: TdmPort,
        span: u16,
        in_service: bool,
    },
}

/// A sans-IO network element driven by the world.
///
/// Every method gets a [`Cx`]: the current time and the element's ways to act (send SIP,
/// send ISDN, open media, report notes). The element keeps one timer: the world calls
/// [`NetworkElement::on_timeout`] once `now` reaches [`NetworkElement::poll_timeout`].
pub trait NetworkElement {
    /// The element's name (from the topology), for routes and ladders.
    fn name(&self) -> &str;
    /// A signalling datagram arrived at one of the element's SIP addresses.
    fn on_datagram(
        &mut self,
        cx: &mut Cx<'_>,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        payload: &[u8],
    );
    /// An ISDN message arrived on one of the element's TDM ports.
    fn on_isdn(&mut self, cx: &mut Cx<'_>, port: TdmPort, msg: IsdnMessage) {
        let _ = (cx, port, msg);
    }
    /// The element's timer is due.
    fn on_timeout(&mut self, cx: &mut Cx<'_>);
    /// When the element next needs [`NetworkElement::on_timeout`].
    fn poll_timeout(&self) -> Option<SimTime>;
    /// A media session the element opened reported something.
    fn on_media(&mut self, cx: &mut Cx<'_>, tag: CallTag, event: SessionEvent) {
        let _ = (cx, tag, event);
    }
    /// A command from the scenario.
    fn on_command(&mut self, cx: &mut Cx<'_>, command: Command);
}

/// Declares the closed set of elements and forwards the trait to each.
macro_rules! elements {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// Every kind of element a deployment can hold.
        #[allow(clippy::large_enum_variant)]
        pub enum Element {
            $($variant($ty),)*
        }

        impl NetworkElement for Element {
            fn name(&self) -> &str {
                match self { $(Element::$variant(e) => e.name(),)* }
            }
            fn on_datagram(&mut self, cx: &mut Cx<'_>, local: SocketAddrV4, remote: SocketAddrV4, payload: &[u8]) {
                match self { $(Element::$variant(e) => e.on_datagram(cx, local, remote, payload),)* }
            }
            fn on_isdn(&mut self, cx: &mut Cx<'_>, port: TdmPort, msg: IsdnMessage) {
                match self { $(Element::$variant(e) => e.on_isdn(cx, port, msg),)* }
            }
            fn on_timeout(&mut self, cx: &mut Cx<'_>) {
                match self { $(Element::$variant(e) => e.on_timeout(cx),)* }
            }
            fn poll_timeout(&self) -> Option<SimTime> {
                match self { $(Element::$variant(e) => e.poll_timeout(),)* }
            }
            fn on_media(&mut self, cx: &mut Cx<'_>, tag: CallTag, event: SessionEvent) {
                match self { $(Element::$variant(e) => e.on_media(cx, tag, event),)* }
            }
            fn on_command(&mut self, cx: &mut Cx<'_>, command: Command) {
                match self { $(Element::$variant(e) => e.on_command(cx, command),)* }
            }
        }
    };
}

elements! {
    Endpoint(super::endpoint::SipEndpoint),
    FrontEnd(super::front_end::FrontEnd),
    LyncPool(super::lync::LyncPool),
    Voicemail(super::voicemail::Voicemail),
    Mediation(super::mediation::MediationServer),
    Gateway(super::gateway::Gateway),
    Pstn(super::pstn::Pstn),
    SipTrunk(super::sip_trunk::SipTrunkProvider),
    Pbx(Box<super::pbx::Pbx>),
    // Any other element (test parties, plug-ins) behind the trait.
    Custom(Box<dyn NetworkElement>),
}
