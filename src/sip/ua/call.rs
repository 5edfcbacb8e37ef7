//! Per-call state: the dialog, the offer/answer state and the bookkeeping of the
//! INVITE, PRACK, session-timer and REFER mechanics.

use super::{CallHandle, ReferId};

use crate::sim::{SimDuration, SimTime};
use crate::sip::dialog::Dialog;
use crate::sip::error::Result;
use crate::sip::sdp::{Direction, MediaCapabilities, Negotiated, SessionDescription, negotiate};
use crate::sip::wire::{Request, Response};

use bytes::Bytes;
use std::collections::VecDeque;
use std::net::SocketAddr;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Uac,
    Uas,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// UAC: INVITE sent, nothing back yet. UAS: INVITE received, nothing sent but 100.
    Calling,
    /// A provisional response has been sent or received.
    Early,
    /// 2xx sent or received.
    Confirmed,
    /// BYE sent, waiting for its response.
    Terminating,
}

impl State {
    pub(crate) fn name(self) -> &'static str {
        match self {
            State::Calling => "calling",
            State::Early => "early",
            State::Confirmed => "established",
            State::Terminating => "terminating",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum CancelState {
    None,
    /// Asked for before any provisional response: sent when one arrives (§9.1).
    Pending,
    Sent,
}

/// What the caller said about 100rel.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rel {
    No,
    Supported,
    Required,
}

/// A message the UA core retransmits itself: a 2xx to INVITE, or a reliable 1xx.
#[derive(Clone, Debug)]
pub(crate) struct Retransmit {
    pub(crate) status: u16,
    pub(crate) bytes: Bytes,
    pub(crate) dst: SocketAddr,
    pub(crate) interval: SimDuration,
    pub(crate) next: SimTime,
    pub(crate) deadline: SimTime,
    /// RSeq and CSeq of a reliable provisional (for matching the PRACK).
    pub(crate) rseq: u32,
    pub(crate) cseq: u32,
    /// A 2xx to a re-INVITE that changed the session: report MediaChanged at the ACK.
    pub(crate) report_media: bool,
}

/// A re-INVITE or UPDATE we sent, and what to restore if it fails.
#[derive(Clone, Debug)]
pub(crate) struct Modify {
    pub(crate) seq: u32,
    /// A session refresh (RFC 4028) rather than a change.
    pub(crate) refresh: bool,
    pub(crate) prev_local: Option<SessionDescription>,
    pub(crate) prev_direction: Direction,
}

/// Offer/answer state of the call (RFC 3264).
#[derive(Clone, Debug)]
pub(crate) struct SdpState {
    pub(crate) session_id: u64,
    pub(crate) version: u64,
    /// The last SDP we sent.
    pub(crate) local: Option<SessionDescription>,
    /// The last SDP the peer sent.
    pub(crate) remote: Option<SessionDescription>,
    /// We sent an offer and wait for the answer.
    pub(crate) local_offer_pending: bool,
    /// Our wanted direction (hold state).
    pub(crate) direction: Direction,
    pub(crate) negotiated: Option<Negotiated>,
    /// The offer of the initial INVITE, parsed once on receipt.
    pub(crate) remote_offer: Option<SessionDescription>,
    /// `local` as sent.
    pub(crate) local_text: Option<Bytes>,
}

impl SdpState {
    pub(crate) fn new(session_id: u64) -> SdpState {
        SdpState {
            session_id,
            version: 0,
            local: None,
            remote: None,
            local_offer_pending: false,
            direction: Direction::SendRecv,
            negotiated: None,
            remote_offer: None,
            local_text: None,
        }
    }

    /// Makes `sd` our current SDP and returns its text (serialised once).
    fn set_local(&mut self, sd: SessionDescription) -> Bytes {
        let text = Bytes::from(sd.to_text());
        self.local = Some(sd);
        self.local_text = Some(text.clone());
        text
    }

    /// Our current SDP as sent.
    pub(crate) fn local_text(&self) -> Option<Bytes> {
        self.local_text.clone()
    }

    /// A new offer in direction `dir` (the session version grows).
    pub(crate) fn offer(&mut self, caps: &MediaCapabilities, dir: Direction) -> Bytes {
        self.version += 1;
        self.direction = dir;
        let sd = caps.offer(self.session_id, self.version, dir);
        self.local_offer_pending = true;
        self.set_local(sd)
    }

    /// Our offer as given by the application (B2BUA pass-through).
    pub(crate) fn offer_given(&mut self, sd: SessionDescription) -> Bytes {
        self.local_offer_pending = true;
        self.set_local(sd)
    }

    /// The last offer again, unchanged (a session refresh, RFC 4028 §7.2).
    pub(crate) fn same_again(&mut self) -> Option<Bytes> {
        let text = self.local_text.clone()?;
        self.local_offer_pending = true;
        Some(text)
    }

    /// Answers the peer's `offer`; fails with NotAcceptable (488).
    pub(crate) fn answer(
        &mut self,
        caps: &MediaCapabilities,
        offer: SessionDescription,
    ) -> Result<Bytes> {
        self.version += 1;
        let sd = caps.answer(&offer, self.session_id, self.version, self.direction)?;
        self.negotiated = negotiate(&sd, &offer, false);
        self.remote = Some(offer);
        self.local_offer_pending = false;
        Ok(self.set_local(sd))
    }

    /// Answers with an SDP given by the application.
    pub(crate) fn answer_given(
        &mut self,
        offer: SessionDescription,
        sd: SessionDescription,
    ) -> Bytes {
        self.negotiated = negotiate(&sd, &offer, false);
        self.remote = Some(offer);
        self.local_offer_pending = false;
        self.set_local(sd)
    }

    /// Our SDP replaced by one given by the application (no exchange state change).
    pub(crate) fn replace_local(&mut self, sd: SessionDescription) -> Bytes {
        self.set_local(sd)
    }

    /// Whether the peer holds the call: its offer was sendonly/inactive (or c=0.0.0.0),
    /// or its answer refuses to receive what our offer sends.
    pub(crate) fn remote_holds(&self, remote_offered: bool) -> bool {
        let Some(remote) = &self.remote else {
            return false;
        };
        if remote_offered {
            return remote.is_hold(0);
        }
        let we_send = self.local.as_ref().is_some_and(|l| l.direction(0).sends());
        let null = remote.connection_for(0).is_some_and(|c| c.is_null());
        we_send && (!remote.direction(0).receives() || null)
    }

    /// The peer's offer not answered yet (the INVITE's, until we answer it).
    pub(crate) fn take_offer(&mut self) -> Option<SessionDescription> {
        self.remote_offer.take()
    }

    /// The peer answered our pending offer.
    pub(crate) fn on_answer(&mut self, answer: SessionDescription) -> Option<Negotiated> {
        let local = self.local.as_ref()?;
        self.negotiated = negotiate(local, &answer, true);
        self.remote = Some(answer);
        self.local_offer_pending = false;
        self.negotiated.clone()
    }
}

/// A session timer (RFC 4028).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct SessionTimer {
    pub(crate) interval: u32,
    pub(crate) we_refresh: bool,
}

/// A REFER we accepted: the implicit subscription we NOTIFY on.
#[derive(Clone, Debug)]
pub(crate) struct ReferSub {
    pub(crate) id: ReferId,
    /// The CSeq of the REFER (the `id` of the refer event, RFC 3515 §2.4.6).
    pub(crate) cseq: u32,
    pub(crate) done: bool,
}

/// One call.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) role: Role,
    pub(crate) state: State,
    /// The dialog (for an outgoing call, the remote tag is empty until a tagged response).
    pub(crate) dialog: Dialog,
    /// Where the peer was last heard from or sent to: the next hop when a URI cannot be
    /// resolved.
    pub(crate) peer: SocketAddr,
    /// UAS: where responses to the INVITE go (§18.2.2).
    pub(crate) resp_dst: SocketAddr,
    pub(crate) media: MediaCapabilities,
    pub(crate) sdp: SdpState,

    /// UAC: the INVITE sent (for CANCEL and retries). UAS: the INVITE being answered.
    pub(crate) invite: Option<Request>,
    /// UAC: the INVITE client transaction.
    pub(crate) invite_tx: Option<u64>,
    pub(crate) cancel: CancelState,
    pub(crate) redirects: u8,
    pub(crate) retried_422: bool,
    /// UAC: the ACK of the last 2xx, sent again when the 2xx is retransmitted.
    pub(crate) ack: Option<(u32, Bytes, SocketAddr)>,
    /// UAC: the RSeq of the last reliable provisional we PRACKed.
    pub(crate) last_rseq: Option<u32>,

    /// UAS: the INVITE server transaction (initial INVITE or current re-INVITE).
    pub(crate) server_tx: Option<u64>,
    pub(crate) peer_100rel: Rel,
    /// UAS: the reliable provisional awaiting PRACK, and those queued behind it.
    pub(crate) reliable: Option<Retransmit>,
    pub(crate) queued_reliable: VecDeque<Response>,
    pub(crate) next_rseq: u32,
    /// UAS: our 2xx awaiting ACK.
    pub(crate) pending_2xx: Option<Retransmit>,
    /// UAS: the call this one replaces.
    pub(crate) replaces: Option<CallHandle>,
    /// UAS: (Call-ID, From tag, CSeq) of the initial INVITE, to spot its retransmissions
    /// after the transaction has gone (§8.2.2.2).
    pub(crate) invite_key: Option<(String, String, u32)>,

    /// Our re-INVITE in progress.
    pub(crate) reinvite_tx: Option<u64>,
    /// Our UPDATE in progress.
    pub(crate) update_tx: Option<u64>,
    pub(crate) modify: Option<Modify>,
    pub(crate) timer: Option<SessionTimer>,
    pub(crate) refers: Vec<ReferSub>,
}

impl Call {
    pub(crate) fn is_uas(&self) -> bool {
        self.role == Role::Uas
    }

    /// True while an INVITE transaction of this call is in progress either way.
    pub(crate) fn invite_in_progress(&self) -> bool {
        self.reinvite_tx.is_some() || self.pending_2xx.is_some() || self.invite_tx.is_some()
    }
}
