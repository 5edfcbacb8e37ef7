//! One call through the PBX: its legs (the origin and every destination it tried), which
//! two legs are bridged, and the call scenario the behaviour engine is asked about.

use crate::elements::callbook::PartyRole;
use crate::elements::script::CallScript;
use crate::elements::tdm::{CallRef, Channel};
use crate::elements::timers::TimerId;
use crate::elements::{CallTag, TdmPort};
use crate::rtp::CallPhase;
use crate::sim::{SimDuration, SimTime};
use crate::sip::sdp::Negotiated;
use crate::sip::ua::{CallHandle, ReferId};
use crate::vendor::{CallScenario, Direction, Feature, Party, TransferMode};
use std::net::SocketAddrV4;
use std::rc::Rc;

/// Names a call of the PBX.
pub(crate) type CallKey = u64;

/// Which SIP trunk a leg uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Trunk {
    /// The Direct SIP trunk to Lync (the Mediation Server).
    Lync,
    /// A SIP trunk toward a provider or gateway on the PSTN side.
    Provider,
}

/// Where a Q.931 call stands while it clears.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Clearing {
    None,
    /// We sent DISCONNECT and wait for RELEASE.
    Disconnecting,
    /// We sent RELEASE and wait for RELEASE COMPLETE.
    Releasing,
}

/// What a leg connects to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LegKind {
    /// A PBX phone (the leg's number is its extension).
    Phone,
    /// A call on a PRI span toward the PSTN.
    Pri {
        port: TdmPort,
        call_ref: CallRef,
        channel: Option<Channel>,
        /// This side sent the SETUP and holds the channel.
        seized: bool,
        clearing: Clearing,
    },
    /// A SIP dialog on one of the trunks.
    Sip { handle: CallHandle, trunk: Trunk },
    /// The PBX's own voicemail (Audix-style).
    Voicemail,
}

/// Why a destination leg exists.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// The routed destination of the dialled number.
    Primary,
    /// The second fork of a dual-forked number.
    Fork,
    /// The alternate route after the trunk to Lync failed or timed out.
    Alternate,
    /// A forward target (busy, all, no answer).
    Forward,
    /// The target of a transfer requested by REFER.
    TransferTarget,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LegState {
    Setup,
    Alerting,
    Early,
    Answered,
    Released,
}

/// The RTP endpoint the PBX runs for a party it terminates (phone, PSTN line, voicemail).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MediaEnd {
    pub local: SocketAddrV4,
    pub open: bool,
    pub role: PartyRole,
    pub extra_delay: SimDuration,
    pub phase: CallPhase,
}

/// One leg of a PBX call.
#[derive(Clone, Debug)]
pub(crate) struct Leg {
    pub kind: LegKind,
    /// The party's number on this leg (the caller on the origin, the called number on a
    /// destination).
    pub number: String,
    pub state: LegState,
    pub purpose: Purpose,
    pub media: Option<MediaEnd>,
    /// A SIP leg's negotiated media (where the far end receives).
    pub remote: Option<Negotiated>,
    /// The identity the far end of a SIP leg presents (P-Asserted-Identity or From/To).
    pub identity: Option<String>,
    /// The Alternate Route Timer armed for this leg's INVITE.
    pub art: Option<TimerId>,
}

impl Leg {
    pub fn new(kind: LegKind, number: &str, purpose: Purpose) -> Self {
        Leg {
            kind,
            number: number.to_string(),
            state: LegState::Setup,
            purpose,
            media: None,
            remote: None,
            identity: None,
            art: None,
        }
    }

    pub fn is_live(&self) -> bool {
        self.state != LegState::Released
    }

    /// The PBX terminates this party's media.
    pub fn is_local(&self) -> bool {
        !matches!(self.kind, LegKind::Sip { .. })
    }

    pub fn sip(&self) -> Option<(CallHandle, Trunk)> {
        match self.kind {
            LegKind::Sip { handle, trunk } => Some((handle, trunk)),
            _ => None,
        }
    }

    pub fn is_lync(&self) -> bool {
        matches!(
            self.kind,
            LegKind::Sip {
                trunk: Trunk::Lync,
                ..
            }
        )
    }
}

/// A transfer the PBX is executing for Lync (REFER on a SIP leg).
#[derive(Clone, Debug)]
pub(crate) struct Transfer {
    /// The SIP leg that received the REFER.
    pub referred: usize,
    pub refer: ReferId,
    /// The leg being transferred (the PBX-side party).
    pub transferee: usize,
    pub target: usize,
    pub mode: TransferMode,
    /// The original dialog was released at once (`UnrecoverableBlindTransfer`).
    pub released_early: bool,
}

/// A call through the PBX.
pub(crate) struct PbxCall {
    pub tag: CallTag,
    pub script: Rc<CallScript>,
    /// `legs[0]` is the origin.
    pub legs: Vec<Leg>,
    /// The two legs talking to each other.
    pub bridge: Option<(usize, usize)>,
    /// The number routed on (after the dial plan).
    pub called: String,
    pub transfer: Option<Transfer>,
    /// The origin heard ringback / early media / the answer.
    pub origin_alerted: bool,
    pub origin_early: bool,
    pub answered_at: Option<SimTime>,
    /// The PSTN caller was kept up after a decline (`NoDisconnectOnDecline`).
    pub kept_up: bool,
    /// The caller-side notes were finished (`Ended`).
    pub ended: bool,
    /// The caller withholds its identity.
    pub anonymous: bool,
    /// Call-history headers of the INVITE that brought the call (History-Info,
    /// Referred-By, Diversion), to pass on toward the PSTN side.
    pub history: Vec<(crate::sip::wire::HeaderName, String)>,
    /// The caller's DTMF digits went out.
    pub digits_sent: bool,
    /// Ringback was given to the transferee of the transfer in progress.
    pub transfer_ringback: bool,
    /// The Call-IDs of the call's SIP legs.
    pub call_ids: Vec<String>,
    /// The limitation IDs already noted on the call.
    pub noted: Vec<String>,
}

impl PbxCall {
    pub fn origin(&self) -> &Leg {
        &self.legs[0]
    }

    /// The live destination legs.
    pub fn live_destinations(&self) -> impl Iterator<Item = usize> + '_ {
        (1..self.legs.len()).filter(|i| self.legs[*i].is_live())
    }

    /// The leg bridged with `leg`.
    pub fn peer_of(&self, leg: usize) -> Option<usize> {
        match self.bridge {
            Some((a, b)) if a == leg => Some(b),
            Some((a, b)) if b == leg => Some(a),
            _ => None,
        }
    }

    /// The call direction as Lync sees it: outbound when it came from the Lync trunk.
    pub fn direction(&self) -> Direction {
        if self.origin().is_lync() {
            Direction::Outbound
        } else {
            Direction::Inbound
        }
    }

    /// The scenario for a decision about this call, with the party on the product's side
    /// and `feature`.
    pub fn scenario(&self, plan_party: impl Fn(&str) -> Party, feature: Feature) -> CallScenario {
        let direction = self.direction();
        let remote = match direction {
            Direction::Inbound => party_of_leg(self.origin(), &plan_party),
            Direction::Outbound => self
                .legs
                .iter()
                .skip(1)
                .find(|l| !l.is_lync())
                .map(|l| party_of_leg(l, &plan_party))
                .unwrap_or(Party::Pbx),
        };
        CallScenario {
            direction,
            remote,
            feature,
            span_out_of_service: false,
        }
    }

    /// The forward / simultaneous-ring / transfer feature of the script that reaches
    /// `number`, if any.
    pub fn feature_toward(
        &self,
        number: &str,
        early_media: bool,
        plan_party: impl Fn(&str) -> Party,
    ) -> Feature {
        let s = &self.script;
        if let Some(f) = s.forward.as_ref().filter(|f| f.target == number) {
            return Feature::Forward {
                to: plan_party(&f.target),
                early_media,
            };
        }
        if let Some(r) = s.simul_ring.as_ref().filter(|r| r.target == number) {
            return Feature::SimulRing {
                to: plan_party(&r.target),
                early_media,
            };
        }
        if let Some(t) = s.transfer.as_ref().filter(|t| t.target == number) {
            return Feature::Transfer {
                mode: match t.mode {
                    crate::elements::script::TransferMode::Blind => TransferMode::Blind,
                    crate::elements::script::TransferMode::Consultative => {
                        TransferMode::Consultative
                    }
                },
                target: plan_party(&t.target),
            };
        }
        Feature::Basic
    }

    /// The script's simultaneous ring or forward, whichever applies to the callee of a call
    /// ringing Lync (the feature the Lync side runs while the PBX waits).
    pub fn lync_side_feature(
        &self,
        early_media: bool,
        plan_party: impl Fn(&str) -> Party,
    ) -> Feature {
        let s = &self.script;
        if let Some(r) = &s.simul_ring {
            return Feature::SimulRing {
                to: plan_party(&r.target),
                early_media,
            };
        }
        if let Some(f) = &s.forward {
            return Feature::Forward {
                to: plan_party(&f.target),
                early_media,
            };
        }
        Feature::Basic
    }
}

fn party_of_leg(leg: &Leg, plan_party: &impl Fn(&str) -> Party) -> Party {
    match leg.kind {
        LegKind::Phone | LegKind::Voicemail => Party::Pbx,
        LegKind::Pri { .. } => Party::Pstn,
        LegKind::Sip {
            trunk: Trunk::Provider,
            ..
        } => Party::Pstn,
        LegKind::Sip {
            trunk: Trunk::Lync, ..
        } => plan_party(&leg.number),
    }
}
