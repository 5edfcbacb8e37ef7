//! What a back-to-back user agent needs (Mediation Server, IP-PBX, gateway): two user
//! agent legs linked by the element, with the usual mirroring of one leg's progress onto
//! the other.
//!
//! The inbound leg is the call the element received (it is its UAS); the outbound leg is
//! the call it placed (its UAC). [`B2bua::bridge`] places the outbound leg for an incoming
//! call and links them; [`B2bua::handle`] takes each event of either leg and performs the
//! mirrored action on the other: provisional responses and early media, the answer,
//! failures (through a status translation table, e.g. 502 → 503), CANCEL, BYE, and
//! hold/resume. Media is either passed through (each leg carries the other's SDP) or
//! anchored (each leg negotiates with the element's own capabilities, as a media-relaying
//! element does). Anything it does not mirror comes back to the element as
//! [`B2buaEvent::Unhandled`]. Both legs may live in one [`UserAgent`] or in two.

use crate::sim::SimTime;
use crate::sip::error::Result;
use crate::sip::sdp::Direction;
use crate::sip::ua::{CallHandle, CallParams, Offer, UaEvent, UserAgent};
use crate::sip::wire::Request;
use std::collections::BTreeMap;

/// One side of a bridged call.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Leg {
    /// The call the element received.
    Inbound,
    /// The call the element placed.
    Outbound,
}

impl Leg {
    pub fn other(self) -> Leg {
        match self {
            Leg::Inbound => Leg::Outbound,
            Leg::Outbound => Leg::Inbound,
        }
    }
}

/// How the element treats media.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MediaMode {
    /// Each leg carries the other leg's SDP (media flows end to end, "media bypass").
    PassThrough,
    /// Each leg negotiates with the element's own media capabilities (the element relays
    /// or transcodes the media).
    Anchor,
}

/// B2BUA behaviour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct B2buaConfig {
    pub media: MediaMode,
    /// (received on the outbound leg, sent on the inbound leg) status translations.
    pub status_map: Vec<(u16, u16)>,
    /// Mirror hold and resume from one leg to the other.
    pub relay_hold: bool,
}

impl Default for B2buaConfig {
    fn default() -> Self {
        B2buaConfig {
            media: MediaMode::PassThrough,
            status_map: Vec::new(),
            relay_hold: true,
        }
    }
}

/// The user agents holding the two legs (one agent may hold both).
pub struct Agents<'a> {
    pub inbound: &'a mut UserAgent,
    /// `None` when the inbound agent also holds the outbound legs.
    pub outbound: Option<&'a mut UserAgent>,
}

impl Agents<'_> {
    pub fn agent(&mut self, leg: Leg) -> &mut UserAgent {
        match (leg, self.outbound.as_deref_mut()) {
            (Leg::Outbound, Some(o)) => o,
            _ => self.inbound,
        }
    }
}

/// What the element learns from [`B2bua::handle`].
#[derive(Clone, Debug, PartialEq)]
pub enum B2buaEvent {
    /// Both legs are answered and confirmed.
    Bridged {
        inbound: CallHandle,
        outbound: CallHandle,
    },
    /// The outbound leg failed and the inbound leg was rejected with `sent`.
    Failed {
        inbound: CallHandle,
        received: u16,
        sent: u16,
    },
    /// Both legs are over.
    Ended {
        inbound: CallHandle,
        outbound: CallHandle,
    },
    /// An event of a leg this helper does not mirror (REFER, OPTIONS results...), or of a
    /// call that is not bridged.
    Unhandled(Leg, UaEvent),
}

#[derive(Clone, Debug)]
struct Link {
    peer: CallHandle,
}

/// Links between inbound and outbound legs (see the module docs).
#[derive(Debug, Default)]
pub struct B2bua {
    cfg: B2buaConfig,
    links: BTreeMap<(Leg, CallHandle), Link>,
}

impl B2bua {
    pub fn new(cfg: B2buaConfig) -> B2bua {
        B2bua {
            cfg,
            links: BTreeMap::new(),
        }
    }

    /// The other leg of `call`.
    pub fn peer(&self, leg: Leg, call: CallHandle) -> Option<CallHandle> {
        self.links.get(&(leg, call)).map(|l| l.peer)
    }

    /// Which leg `call` is, when both legs share one agent.
    pub fn leg_of(&self, call: CallHandle) -> Option<Leg> {
        [Leg::Inbound, Leg::Outbound]
            .into_iter()
            .find(|l| self.links.contains_key(&(*l, call)))
    }

    /// Bridged calls.
    pub fn len(&self) -> usize {
        self.links.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Places the outbound leg for the incoming call `inbound` (whose INVITE is
    /// `request`) and links the two. In pass-through mode the INVITE's offer becomes the
    /// outbound offer unless `params` sets one.
    pub fn bridge(
        &mut self,
        now: SimTime,
        agents: &mut Agents<'_>,
        inbound: CallHandle,
        request: &Request,
        mut params: CallParams,
    ) -> Result<CallHandle> {
        if self.cfg.media == MediaMode::PassThrough && params.offer == Offer::Auto {
            params.offer = match agents.agent(Leg::Inbound).remote_offer(inbound) {
                Some(sd) => Offer::Sdp(Box::new(sd.clone())),
                None if request.body.is_empty() => Offer::None,
                None => Offer::Auto,
            };
        }
        let outbound = agents.agent(Leg::Outbound).call(now, params)?;
        self.links
            .insert((Leg::Inbound, inbound), Link { peer: outbound });
        self.links
            .insert((Leg::Outbound, outbound), Link { peer: inbound });
        Ok(outbound)
    }

    /// Links two existing calls as the inbound and outbound legs of one bridge (e.g. after
    /// the element performed a transfer itself and the new leg replaces an old one).
    pub fn link(&mut self, inbound: CallHandle, outbound: CallHandle) {
        self.links
            .insert((Leg::Inbound, inbound), Link { peer: outbound });
        self.links
            .insert((Leg::Outbound, outbound), Link { peer: inbound });
    }

    /// Removes the bridge that `call` (on `leg`) belongs to; returns the other leg. Neither
    /// call is touched.
    pub fn detach(&mut self, leg: Leg, call: CallHandle) -> Option<CallHandle> {
        self.unlink(leg, call)
    }

    fn unlink(&mut self, leg: Leg, call: CallHandle) -> Option<CallHandle> {
        let peer = self.links.remove(&(leg, call))?.peer;
        self.links.remove(&(leg.other(), peer));
        Some(peer)
    }

    fn map_status(&self, status: u16) -> u16 {
        self.cfg
            .status_map
            .iter()
            .find(|(from, _)| *from == status)
            .map(|(_, to)| *to)
            .unwrap_or(status)
    }

    /// Mirrors one event of `leg` onto the other leg.
    pub fn handle(
        &mut self,
        now: SimTime,
        leg: Leg,
        ev: UaEvent,
        agents: &mut Agents<'_>,
    ) -> Result<Option<B2buaEvent>> {
        let call = match event_call(&ev) {
            Some(c) if self.links.contains_key(&(leg, c)) => c,
            _ => return Ok(Some(B2buaEvent::Unhandled(leg, ev))),
        };
        let peer = self.links[&(leg, call)].peer;
        let pass = self.cfg.media == MediaMode::PassThrough;
        match (leg, ev) {
            (
                Leg::Outbound,
                UaEvent::Progress {
                    status,
                    media,
                    reliable,
                    ..
                },
            ) => {
                let early = media.is_some();
                let sdp = agents.agent(Leg::Outbound).remote_sdp(call).cloned();
                let inbound = agents.agent(Leg::Inbound);
                match (pass, early, sdp) {
                    (true, true, Some(sd)) => {
                        inbound.ring_with_sdp(now, peer, status, sd, reliable)?
                    }
                    _ => inbound.ring(now, peer, status, early, reliable)?,
                }
                Ok(None)
            }
            (Leg::Outbound, UaEvent::Answered { .. }) => {
                let sdp = agents.agent(Leg::Outbound).remote_sdp(call).cloned();
                let inbound = agents.agent(Leg::Inbound);
                match (pass, sdp) {
                    (true, Some(sd)) => inbound.answer_with_sdp(now, peer, sd)?,
                    _ => inbound.answer(now, peer)?,
                }
                Ok(None)
            }
            (Leg::Inbound, UaEvent::Confirmed { .. }) => Ok(Some(B2buaEvent::Bridged {
                inbound: call,
                outbound: peer,
            })),
            (
                Leg::Outbound,
                UaEvent::Failed {
                    status,
                    reason,
                    contacts,
                    ..
                },
            ) => {
                self.unlink(leg, call);
                let sent = self.map_status(status);
                let reason = if sent == status {
                    reason
                } else {
                    crate::sip::wire::reason_phrase(sent).to_string()
                };
                agents
                    .agent(Leg::Inbound)
                    .reject(now, peer, sent, &reason, &contacts)?;
                Ok(Some(B2buaEvent::Failed {
                    inbound: peer,
                    received: status,
                    sent,
                }))
            }
            (Leg::Inbound, UaEvent::Cancelled { .. }) => {
                self.unlink(leg, call);
                let _ = agents.agent(Leg::Outbound).hangup(now, peer);
                Ok(Some(B2buaEvent::Ended {
                    inbound: call,
                    outbound: peer,
                }))
            }
            (_, UaEvent::Terminated { .. }) | (Leg::Inbound, UaEvent::PrackTimeout { .. }) => {
                self.unlink(leg, call);
                let _ = agents.agent(leg.other()).hangup(now, peer);
                let (inbound, outbound) = match leg {
                    Leg::Inbound => (call, peer),
                    Leg::Outbound => (peer, call),
                };
                Ok(Some(B2buaEvent::Ended { inbound, outbound }))
            }
            (_, UaEvent::MediaChanged { remote_hold, .. }) if self.cfg.relay_hold => {
                let other = agents.agent(leg.other());
                let held = other.local_direction(peer) != Some(Direction::SendRecv);
                match (remote_hold, held) {
                    (true, false) => other.hold(now, peer, Direction::SendOnly)?,
                    (false, true) => other.resume(now, peer)?,
                    _ => {}
                }
                Ok(None)
            }
            (leg, ev) => Ok(Some(B2buaEvent::Unhandled(leg, ev))),
        }
    }
}

/// The call an event is about.
fn event_call(ev: &UaEvent) -> Option<CallHandle> {
    Some(match ev {
        UaEvent::IncomingCall { call, .. }
        | UaEvent::Progress { call, .. }
        | UaEvent::Answered { call, .. }
        | UaEvent::Confirmed { call, .. }
        | UaEvent::Failed { call, .. }
        | UaEvent::Redirected { call, .. }
        | UaEvent::Cancelled { call }
        | UaEvent::PrackTimeout { call }
        | UaEvent::Terminated { call, .. }
        | UaEvent::MediaChanged { call, .. }
        | UaEvent::ModifyFailed { call, .. }
        | UaEvent::SessionRefreshed { call }
        | UaEvent::ReferRequested { call, .. }
        | UaEvent::ReferStatus { call, .. } => *call,
        UaEvent::OptionsResult { .. } => return None,
    })
}
