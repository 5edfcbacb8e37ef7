//! One call's leg on an ISDN PRI: its B-channel, its Q.931 call reference and the clearing
//! procedure (Q.931 §5.3), shared by the gateway and the PSTN.
//!
//! Clearing is DISCONNECT → RELEASE → RELEASE COMPLETE. The side that sent the SETUP seized
//! the B-channel and frees it when the call is cleared on the link. Two guard timers keep a
//! dead far end from holding a channel forever (Q.931 Table 9-1): T305 (30 s, DISCONNECT
//! sent and no RELEASE) sends RELEASE anyway, and T308 (4 s, RELEASE sent and no RELEASE
//! COMPLETE) clears the leg. A leg whose span went out of service has already lost its
//! channel (the trunk group freed it): it never releases it again, since the channel may
//! belong to another call once the span is back.

use super::super::host::Cx;
use super::super::tdm::{CallRef, Cause, Channel, IsdnMessage};
use super::super::{ElementId, TdmPort};
use crate::sim::SimDuration;

/// Q.931 T305: DISCONNECT sent, waiting for RELEASE.
pub(crate) const T305: SimDuration = SimDuration::from_secs(30);
/// Q.931 T308: RELEASE sent, waiting for RELEASE COMPLETE.
pub(crate) const T308: SimDuration = SimDuration::from_secs(4);
/// Q.931 T303: SETUP sent, waiting for the first answer (sent twice, then cleared).
pub(crate) const T303: SimDuration = SimDuration::from_secs(4);

/// Where a leg is in its life (Q.931 call states, simplified to what the elements use).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum LegState {
    /// SETUP sent or received, nothing back yet.
    Present,
    /// CALL PROCEEDING.
    Proceeding,
    /// ALERTING or PROGRESS: the far end is ringing or playing in-band information.
    Alerting,
    /// CONNECT: the call is up.
    Active,
    /// This side sent DISCONNECT.
    DisconnectSent,
    /// This side sent RELEASE.
    ReleaseSent,
    /// Cleared: the channel is free (or lost).
    Cleared,
}

/// What a clearing step asks the owner to do next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Guard {
    /// Arm this guard timer for the leg (T305 or T308).
    Arm(SimDuration),
    /// The leg is cleared: drop its timer and forget it.
    Cleared,
    /// Nothing to do.
    None,
}

/// A call's leg on one TDM link.
#[derive(Clone, Debug)]
pub(crate) struct IsdnLeg {
    pub(crate) port: TdmPort,
    pub(crate) call_ref: CallRef,
    pub(crate) channel: Channel,
    /// This side sent the SETUP and seized the channel.
    pub(crate) seized_by_me: bool,
    pub(crate) state: LegState,
    /// The span went out of service under the call: the channel is gone already.
    pub(crate) lost: bool,
}

impl IsdnLeg {
    pub(crate) fn new(port: TdmPort, call_ref: CallRef, channel: Channel, seized: bool) -> Self {
        IsdnLeg {
            port,
            call_ref,
            channel,
            seized_by_me: seized,
            state: LegState::Present,
            lost: false,
        }
    }

    pub(crate) fn is_clearing(&self) -> bool {
        matches!(
            self.state,
            LegState::DisconnectSent | LegState::ReleaseSent | LegState::Cleared
        )
    }

    /// Sends a message on the leg's link.
    pub(crate) fn send(&self, cx: &mut Cx<'_>, msg: IsdnMessage) {
        if !self.lost && self.state != LegState::Cleared {
            cx.send_isdn(self.port, msg);
        }
    }

    /// Starts clearing from this side with `cause`.
    pub(crate) fn disconnect(&mut self, cx: &mut Cx<'_>, cause: Cause) -> Guard {
        if self.is_clearing() {
            return Guard::None;
        }
        if self.lost {
            return self.clear(cx);
        }
        self.send(
            cx,
            IsdnMessage::Disconnect {
                call_ref: self.call_ref,
                cause,
            },
        );
        self.state = LegState::DisconnectSent;
        Guard::Arm(T305)
    }

    /// Refuses a SETUP outright (RELEASE COMPLETE with `cause`, Q.931 §5.2.5.1).
    pub(crate) fn refuse(&mut self, cx: &mut Cx<'_>, cause: Cause) -> Guard {
        self.send(
            cx,
            IsdnMessage::ReleaseComplete {
                call_ref: self.call_ref,
                cause,
            },
        );
        self.clear(cx)
    }

    /// The far end sent DISCONNECT: answer RELEASE.
    pub(crate) fn on_disconnect(&mut self, cx: &mut Cx<'_>, cause: Cause) -> Guard {
        match self.state {
            LegState::ReleaseSent | LegState::Cleared => Guard::None,
            _ => {
                self.send(
                    cx,
                    IsdnMessage::Release {
                        call_ref: self.call_ref,
                        cause,
                    },
                );
                self.state = LegState::ReleaseSent;
                Guard::Arm(T308)
            }
        }
    }

    /// The far end sent RELEASE: answer RELEASE COMPLETE and clear. (A RELEASE that crosses
    /// ours clears the leg too, Q.931 §5.3.5.)
    pub(crate) fn on_release(&mut self, cx: &mut Cx<'_>) -> Guard {
        if self.state == LegState::Cleared {
            return Guard::None;
        }
        if self.state != LegState::ReleaseSent {
            self.send(
                cx,
                IsdnMessage::ReleaseComplete {
                    call_ref: self.call_ref,
                    cause: Cause::NORMAL_CLEARING,
                },
            );
        }
        self.clear(cx)
    }

    /// The far end sent RELEASE COMPLETE.
    pub(crate) fn on_release_complete(&mut self, cx: &mut Cx<'_>) -> Guard {
        if self.state == LegState::Cleared {
            return Guard::None;
        }
        self.clear(cx)
    }

    /// A guard timer fired: T305 sends RELEASE, T308 clears.
    pub(crate) fn on_guard(&mut self, cx: &mut Cx<'_>) -> Guard {
        match self.state {
            LegState::DisconnectSent => {
                self.send(
                    cx,
                    IsdnMessage::Release {
                        call_ref: self.call_ref,
                        cause: Cause::RECOVERY_ON_TIMER_EXPIRY,
                    },
                );
                self.state = LegState::ReleaseSent;
                Guard::Arm(T308)
            }
            LegState::ReleaseSent => self.clear(cx),
            _ => Guard::None,
        }
    }

    /// The leg's span went out of service: the channel is gone, nothing more is sent.
    pub(crate) fn span_lost(&mut self) {
        self.lost = true;
        self.state = LegState::Cleared;
    }

    /// Clears the leg and frees the channel if this side seized it.
    pub(crate) fn clear(&mut self, cx: &mut Cx<'_>) -> Guard {
        if self.seized_by_me && !self.lost && self.state != LegState::Cleared {
            cx.release(self.port, self.channel);
        }
        self.state = LegState::Cleared;
        Guard::Cleared
    }
}

/// Allocates Q.931 call references that are unique across the run: the element id in the
/// top 12 bits, a wrapping counter below (a reference is reused only after a million calls
/// of the same element, long after the first one cleared).
#[derive(Clone, Debug)]
pub(crate) struct CallRefs {
    next: u32,
}

impl CallRefs {
    pub(crate) fn new() -> Self {
        CallRefs { next: 0 }
    }

    pub(crate) fn next(&mut self, me: ElementId) -> CallRef {
        let r = ((me.0 & 0xfff) << 20) | (self.next & 0xf_ffff);
        self.next = self.next.wrapping_add(1);
        CallRef(r)
    }
}

/// The SIP final response for a Q.850 cause (RFC 3398 §7.2.4.1), with one deliberate
/// difference unless `strict`: cause 21 "call rejected" gives 603 Decline rather than 403.
/// Cause 21 is what a PSTN user's rejection produces, and RFC 3398 itself maps 603 to 21
/// (§8.2.6.1); keeping the user's decision lets 603 ↔ 21 round-trip, so a declined call is
/// classified as declined on both sides of the gateway. Normal clearing before answer
/// (which a well-behaved switch does not send) gives 480.
pub(crate) fn cause_to_status(cause: Cause, strict: bool) -> u16 {
    if cause == Cause::CALL_REJECTED && !strict {
        return 603;
    }
    cause.to_sip_status().unwrap_or(480)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_mapping_keeps_decline_unless_strict() {
        assert_eq!(cause_to_status(Cause::USER_BUSY, false), 486);
        assert_eq!(cause_to_status(Cause::CALL_REJECTED, false), 603);
        assert_eq!(cause_to_status(Cause::CALL_REJECTED, true), 403);
        assert_eq!(cause_to_status(Cause::NO_ANSWER, false), 480);
        assert_eq!(cause_to_status(Cause::NO_CIRCUIT_AVAILABLE, false), 503);
        assert_eq!(cause_to_status(Cause::NORMAL_CLEARING, false), 480);
        assert_eq!(
            Cause::from_sip_status(cause_to_status(Cause::CALL_REJECTED, false)),
            Cause::CALL_REJECTED
        );
    }

    #[test]
    fn call_refs_are_unique_per_element() {
        let mut a = CallRefs::new();
        let mut b = CallRefs::new();
        let ra = a.next(ElementId(1));
        let rb = b.next(ElementId(2));
        assert_ne!(ra, rb);
        assert_ne!(a.next(ElementId(1)), ra);
    }
}
