//! TDM links between elements: PRI spans with a shared set of B-channels and a D-channel
//! delay. Both ends of a link see the same channels, as on a real span, so there is no
//! glare to model: a seizure by either side takes the channel for both.

use super::super::tdm::{Channel, SeizeError, SpanKind, TrunkGroup};
use super::super::{ElementId, TdmPort};
use crate::sim::{SimDuration, SimTime};

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
    /// Busy channels integrated over time up to `accounted_to`, channel·ns.
    channel_ns: u128,
    accounted_to: SimTime,
}

impl TdmLink {
    /// Integrates the busy channels up to `now` (before their number changes).
    fn account(&mut self, now: SimTime) {
        if now > self.accounted_to {
            let dt = u128::from((now - self.accounted_to).as_nanos());
            self.channel_ns += dt * self.group.busy() as u128;
            self.accounted_to = now;
        }
    }
}

/// One link's usage at the end of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct TdmLinkUsage {
    pub name: String,
    pub busy: usize,
    pub capacity: usize,
    pub peak_busy: usize,
    pub seizures: u64,
    pub blocked: u64,
    /// Channel occupancy integrated over the run, channel-seconds (carried Erlang-seconds).
    pub channel_seconds: f64,
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
        self.links.push(TdmLink {
            spec,
            group,
            channel_ns: 0,
            accounted_to: SimTime::ZERO,
        });
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

    pub fn seize(&mut self, now: SimTime, port: TdmPort) -> Result<Channel, SeizeError> {
        let link = &mut self.links[port.link as usize];
        link.account(now);
        link.group.seize()
    }

    pub fn release(&mut self, now: SimTime, port: TdmPort, channel: Channel) {
        let link = &mut self.links[port.link as usize];
        link.account(now);
        link.group.release(channel);
    }

    /// Takes a span out of service; returns the channels whose calls are lost.
    pub fn span_down(&mut self, now: SimTime, port: TdmPort, span: u16) -> Vec<Channel> {
        let link = &mut self.links[port.link as usize];
        link.account(now);
        link.group.span_down(span)
    }

    pub fn span_up(&mut self, now: SimTime, port: TdmPort, span: u16) {
        let link = &mut self.links[port.link as usize];
        link.account(now);
        link.group.span_up(span);
    }

    /// Every link's usage, with the occupancy integrated up to `now`.
    pub fn usage(&self, now: SimTime) -> Vec<TdmLinkUsage> {
        self.links
            .iter()
            .map(|l| {
                let (seizures, blocked) = l.group.counters();
                let tail = u128::from(now.saturating_since(l.accounted_to).as_nanos())
                    * l.group.busy() as u128;
                TdmLinkUsage {
                    name: l.spec.name.clone(),
                    busy: l.group.busy(),
                    capacity: l.group.capacity(),
                    peak_busy: l.group.peak_busy(),
                    seizures,
                    blocked,
                    channel_seconds: (l.channel_ns + tail) as f64 / 1e9,
                }
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
