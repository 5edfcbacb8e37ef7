//! TDM links between elements: PRI spans with a shared set of B-channels and a D-channel
//! delay. Both ends of a link see the same channels, as on a real span, so there is no
//! glare to model: a seizure by either side takes the channel for both.

use super::super::tdm::{Channel, SeizeError, SpanKind, TrunkGroup};
use super::super::{ElementId, TdmPort};
use crate::sim::SimDuration;

/// A TDM link to build: two element ends, spans and the D-channel delay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TdmLinkSpec {
    pub name: String,
    pub a: ElementId,
    pub b: ElementId,
    pub kind: SpanKind,
    pub spans: u16,
    /// Time for a Q.931 message to cross the span (LAPD framing and switching), one way.
    pub d_channel_delay: SimDuration,
}

struct TdmLink {
    spec: TdmLinkSpec,
    group: TrunkGroup,
}

/// Every TDM link of a world.
#[derive(Default)]
pub struct TdmLinks {
    links: Vec<TdmLink>,
}

impl TdmLinks {
    /// Adds a link; returns the port of end A and of end B.
    pub fn add(&mut self, spec: TdmLinkSpec) -> (TdmPort, TdmPort) {
        let link = self.links.len() as u32;
        let group = TrunkGroup::new(spec.kind, spec.spans);
        self.links.push(TdmLink { spec, group });
        (
            TdmPort {
                link,
                side_b: false,
            },
            TdmPort { link, side_b: true },
        )
    }

    /// The two ends of the link named `name`.
    pub fn ports(&self, name: &str) -> Option<(TdmPort, TdmPort)> {
        let link = self.links.iter().position(|l| l.spec.name == name)? as u32;
        Some((
            TdmPort {
                link,
                side_b: false,
            },
            TdmPort { link, side_b: true },
        ))
    }

    /// The element at `port`'s end.
    pub fn owner(&self, port: TdmPort) -> ElementId {
        let link = &self.links[port.link as usize].spec;
        if port.side_b { link.b } else { link.a }
    }

    pub fn delay(&self, port: TdmPort) -> SimDuration {
        self.links[port.link as usize].spec.d_channel_delay
    }

    pub fn name(&self, port: TdmPort) -> &str {
        &self.links[port.link as usize].spec.name
    }

    /// The link's channels, as seen from either end.
    pub fn group(&self, port: TdmPort) -> &TrunkGroup {
        &self.links[port.link as usize].group
    }

    pub fn seize(&mut self, port: TdmPort) -> Result<Channel, SeizeError> {
        self.links[port.link as usize].group.seize()
    }

    pub fn release(&mut self, port: TdmPort, channel: Channel) {
        self.links[port.link as usize].group.release(channel);
    }

    /// Takes a span out of service; returns the channels whose calls are lost.
    pub fn span_down(&mut self, port: TdmPort, span: u16) -> Vec<Channel> {
        self.links[port.link as usize].group.span_down(span)
    }

    pub fn span_up(&mut self, port: TdmPort, span: u16) {
        self.links[port.link as usize].group.span_up(span);
    }

    /// Every link's (name, busy channels, capacity, peak busy, seizures, blocked).
    pub fn usage(&self) -> Vec<(String, usize, usize, usize, u64, u64)> {
        self.links
            .iter()
            .map(|l| {
                let (seized, blocked) = l.group.counters();
                (
                    l.spec.name.clone(),
                    l.group.busy(),
                    l.group.capacity(),
                    l.group.peak_busy(),
                    seized,
                    blocked,
                )
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
}
