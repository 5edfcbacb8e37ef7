//! The user agent: transactions, dialogs and calls behind a call-level, sans-IO API.
//!
//! A [`UserAgent`] owns every transaction and dialog of one SIP endpoint and many
//! concurrent calls. It is driven like quinn-proto's `Connection`:
//! - datagrams in: [`UserAgent::handle_datagram`] (one message per call; a stream driver
//!   frames with [`crate::sip::wire::StreamFramer`] first);
//! - datagrams out: [`UserAgent::poll_transmit`];
//! - one timer: arm [`UserAgent::poll_timeout`], call [`UserAgent::handle_timeout`];
//! - events out: [`UserAgent::poll_event`];
//! - call control: [`UserAgent::call`], [`UserAgent::ring`], [`UserAgent::answer`],
//!   [`UserAgent::reject`], [`UserAgent::cancel`], [`UserAgent::hangup`],
//!   [`UserAgent::hold`], [`UserAgent::resume`], [`UserAgent::update`],
//!   [`UserAgent::refer`], [`UserAgent::notify_refer`], [`UserAgent::options`].
//!
//! A socket driver is a loop over exactly these calls; the simulator drives the same
//! object in virtual time. Here two agents are wired back to back in memory:
//!
//! ```
//! use voicetwin::sim::{RngFactory, SimTime};
//! use voicetwin::sip::ua::{CallParams, UaConfig, UaEvent, UserAgent};
//! use voicetwin::sip::wire::Uri;
//!
//! let f = RngFactory::new(1);
//! let (a_addr, b_addr) = ("10.0.0.1:5060".parse().unwrap(), "10.0.0.2:5060".parse().unwrap());
//! let mut a = UserAgent::new(UaConfig::new("alice", a_addr), f.stream("a", "ua"));
//! let mut b = UserAgent::new(UaConfig::new("bob", b_addr), f.stream("b", "ua"));
//! let now = SimTime::ZERO;
//! a.call(now, CallParams::new(Uri::parse("sip:bob@10.0.0.2").unwrap())).unwrap();
//! let mut answered = false;
//! for _ in 0..10 {
//!     // A driver: send what each side wants sent, then act on events.
//!     while let Some(t) = a.poll_transmit() { b.handle_datagram(now, a_addr, &t.bytes); }
//!     while let Some(t) = b.poll_transmit() { a.handle_datagram(now, b_addr, &t.bytes); }
//!     while let Some(e) = b.poll_event() {
//!         if let UaEvent::IncomingCall { call, .. } = e { b.answer(now, call).unwrap(); }
//!     }
//!     while let Some(e) = a.poll_event() {
//!         answered |= matches!(e, UaEvent::Answered { .. });
//!     }
//! }
//! assert!(answered);
//! assert_eq!((a.active_calls(), b.active_calls()), (1, 1));
//! // A real driver also arms one timer at `poll_timeout()` and calls `handle_timeout`.
//! ```
//!
//! Protocol mechanics are automatic (100 Trying, ACK, PRACK,
//! 2xx and reliable-provisional retransmission, CANCEL/487, 481/405/501/420/415/488,
//! session refresh and expiry, NOTIFY on REFER); decisions (ring, answer, reject,
//! transfer) are the application's. Call-IDs, tags, branches and RSeq values come from
//! the seeded generator given at construction; nothing reads a clock.

mod call;
mod core;
pub(crate) mod hash;
mod in_dialog;
pub(crate) mod timers;
mod uac;
mod uas;

use crate::sim::{SimRng, SimTime};
use crate::sip::dialog::Dialog;
use crate::sip::error::{Error, Result};
use crate::sip::sdp::{Direction, MediaCapabilities, Negotiated, SessionDescription};
use crate::sip::transaction::Timers;
use crate::sip::transport::{Transmit, Transport};
use crate::sip::wire::{HeaderName, NameAddr, Policy, Replaces, Request, Uri};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

pub(crate) use call::Call;
use core::{TimerKey, TxEntry};
use hash::FastMap;

/// A call of this user agent.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub u64);

/// An out-of-dialog request (OPTIONS) of this user agent.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestHandle(pub u64);

/// A REFER received in a call, to report progress on with [`UserAgent::notify_refer`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReferId(pub u64);

/// Session timer settings (RFC 4028).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SessionTimerConfig {
    /// The Session-Expires this side asks for, in seconds.
    pub expires: u32,
    /// The smallest interval it accepts (Min-SE, at least 90).
    pub min_se: u32,
    /// Refresh with UPDATE rather than re-INVITE.
    pub refresh_with_update: bool,
}

impl Default for SessionTimerConfig {
    fn default() -> Self {
        SessionTimerConfig {
            expires: 1800,
            min_se: 90,
            refresh_with_update: false,
        }
    }
}

/// How a user agent presents itself and what it supports.
#[derive(Clone, Debug)]
pub struct UaConfig {
    /// The address it sends from and receives on.
    pub local: SocketAddr,
    /// The host written in Via, Contact and Call-IDs (an FQDN, or the IP when `None`).
    pub host: Option<String>,
    pub transport: Transport,
    /// The user part of its Contact and default From.
    pub user: String,
    /// The domain of its default From.
    pub domain: String,
    /// `User-Agent` / `Server` header value, if any.
    pub product: Option<String>,
    pub timers: Timers,
    pub policy: Policy,
    /// Default media of its calls.
    pub media: MediaCapabilities,
    /// Supports RFC 3262 reliable provisional responses.
    pub supports_100rel: bool,
    /// Requires 100rel on outgoing INVITEs.
    pub require_100rel: bool,
    /// Session timers; `None` disables them (the UA still honours a peer's request as
    /// the non-refresher side is not bound to anything).
    pub session_timer: Option<SessionTimerConfig>,
    /// Follow 3xx responses by re-sending the INVITE to the first Contact.
    pub follow_redirects: bool,
    /// Host names the UA can reach without DNS.
    pub hosts: BTreeMap<String, SocketAddr>,
    /// Where out-of-dialog requests go when no next hop is given.
    pub outbound_proxy: Option<SocketAddr>,
}

impl UaConfig {
    /// A UDP user agent at `local` with G.711 media on port 4000 and the usual options.
    pub fn new(user: &str, local: SocketAddr) -> UaConfig {
        UaConfig {
            local,
            host: None,
            transport: Transport::Udp,
            user: user.to_string(),
            domain: local.ip().to_string(),
            product: None,
            timers: Timers::default(),
            policy: Policy::default(),
            media: MediaCapabilities::g711(&local.ip().to_string(), 4000),
            supports_100rel: true,
            require_100rel: false,
            session_timer: None,
            follow_redirects: true,
            hosts: BTreeMap::new(),
            outbound_proxy: None,
        }
    }
}

/// The SDP an outgoing INVITE carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Offer {
    /// An offer built from the call's media capabilities.
    #[default]
    Auto,
    /// This offer, as given (a B2BUA passing the other leg's SDP through).
    Sdp(Box<SessionDescription>),
    /// No offer: the 2xx carries it and the ACK the answer (late offer).
    None,
}

/// What [`UserAgent::call`] sends.
#[derive(Clone, Debug)]
pub struct CallParams {
    /// To header.
    pub to: NameAddr,
    /// Request-URI (defaults to the To URI).
    pub request_uri: Option<Uri>,
    /// From header without tag (defaults to `sip:user@domain`).
    pub from: Option<NameAddr>,
    /// Where to send the INVITE (defaults to the outbound proxy, then the URI host).
    pub next_hop: Option<SocketAddr>,
    pub offer: Offer,
    /// Media for this call instead of the configured one.
    pub media: Option<MediaCapabilities>,
    /// Extra headers (P-Asserted-Identity, Privacy, Diversion, History-Info...).
    pub headers: Vec<(HeaderName, String)>,
    /// Replaces this dialog at the target (RFC 3891; consultative transfer).
    pub replaces: Option<Replaces>,
    /// Referred-By (RFC 3892), when the call results from a REFER.
    pub referred_by: Option<NameAddr>,
}

impl CallParams {
    pub fn new(to: Uri) -> CallParams {
        CallParams {
            to: NameAddr::new(to),
            request_uri: None,
            from: None,
            next_hop: None,
            offer: Offer::Auto,
            media: None,
            headers: Vec::new(),
            replaces: None,
            referred_by: None,
        }
    }
}

/// Why a call ended after it was answered.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// This side sent BYE.
    LocalBye,
    /// The peer sent BYE.
    RemoteBye,
    /// No session refresh arrived in time (RFC 4028); this side sent BYE.
    SessionExpired,
    /// Another call replaced it (RFC 3891).
    Replaced,
    /// No ACK arrived for the 2xx within 64·T1; this side sent BYE.
    NoAck,
}

/// What the user agent reports to its application.
#[derive(Clone, Debug, PartialEq)]
pub enum UaEvent {
    /// A new INVITE. Answer with ring/answer/reject.
    IncomingCall {
        call: CallHandle,
        /// The INVITE as received (Diversion, History-Info, P-Asserted-Identity...).
        request: Box<Request>,
        /// The call this one replaces (RFC 3891), already matched to a local dialog.
        replaces: Option<CallHandle>,
    },
    /// A provisional response to our INVITE (180/183...). `media` is set when it
    /// carried SDP that completes the offer/answer (early media).
    Progress {
        call: CallHandle,
        status: u16,
        reason: String,
        media: Option<Negotiated>,
        reliable: bool,
    },
    /// Our INVITE was answered (2xx received and ACKed).
    Answered {
        call: CallHandle,
        media: Option<Negotiated>,
    },
    /// The ACK for our 2xx arrived.
    Confirmed {
        call: CallHandle,
        media: Option<Negotiated>,
    },
    /// Our INVITE failed: a final non-2xx (with the 3xx Contacts), or 408 on a
    /// transaction timeout.
    Failed {
        call: CallHandle,
        status: u16,
        reason: String,
        contacts: Vec<NameAddr>,
    },
    /// A 3xx is being followed: a new INVITE went to `target`.
    Redirected {
        call: CallHandle,
        status: u16,
        target: Uri,
    },
    /// The caller cancelled before we answered (we sent 487).
    Cancelled { call: CallHandle },
    /// A reliable provisional response was never PRACKed: 504 was sent (RFC 3262 §3).
    PrackTimeout { call: CallHandle },
    /// An established call ended.
    Terminated { call: CallHandle, reason: EndReason },
    /// An offer/answer inside the call completed (hold, resume, UPDATE).
    MediaChanged {
        call: CallHandle,
        media: Negotiated,
        /// The peer put us on hold (its SDP was sendonly/inactive or c=0.0.0.0).
        remote_hold: bool,
    },
    /// A re-INVITE or UPDATE we sent failed; the previous session stays.
    ModifyFailed { call: CallHandle, status: u16 },
    /// The session was refreshed (RFC 4028).
    SessionRefreshed { call: CallHandle },
    /// The peer asks us to call `target` (we answered 202). Report progress with
    /// `notify_refer`.
    ReferRequested {
        call: CallHandle,
        refer: ReferId,
        target: Box<NameAddr>,
        referred_by: Option<Box<NameAddr>>,
        /// The Replaces carried in the Refer-To URI (consultative transfer).
        replaces: Option<Replaces>,
    },
    /// Progress of a REFER we sent: 202/4xx to the REFER, then each NOTIFY's sipfrag.
    ReferStatus {
        call: CallHandle,
        status: u16,
        last: bool,
    },
    /// The answer to an OPTIONS (408 on timeout).
    OptionsResult { request: RequestHandle, status: u16 },
}

/// A SIP user agent (see the module docs).
pub struct UserAgent {
    pub(crate) cfg: UaConfig,
    pub(crate) rng: SimRng,
    pub(crate) next_id: u64,
    pub(crate) txs: FastMap<u64, TxEntry>,
    pub(crate) tx_keys: FastMap<crate::sip::transaction::TxKey, u64>,
    /// Calls are boxed: B-tree nodes shift their values on insert and remove.
    pub(crate) calls: BTreeMap<CallHandle, Box<Call>>,
    /// (Call-ID, local tag) → call.
    pub(crate) dialogs: FastMap<(String, String), CallHandle>,
    /// (Call-ID, From tag, CSeq) of incoming INVITEs → call (retransmissions, §8.2.2.2).
    pub(crate) invites: FastMap<(String, String, u32), CallHandle>,
    pub(crate) timers: timers::TimerSet<TimerKey>,
    pub(crate) out: VecDeque<Transmit>,
    pub(crate) events: VecDeque<UaEvent>,
}

impl UserAgent {
    /// A user agent drawing its identifiers from `rng` (give it a named stream).
    pub fn new(cfg: UaConfig, rng: SimRng) -> UserAgent {
        UserAgent {
            cfg,
            rng,
            next_id: 1,
            txs: FastMap::default(),
            tx_keys: FastMap::default(),
            calls: BTreeMap::new(),
            dialogs: FastMap::default(),
            invites: FastMap::default(),
            timers: timers::TimerSet::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub fn config(&self) -> &UaConfig {
        &self.cfg
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<UaEvent> {
        self.events.pop_front()
    }

    /// When [`UserAgent::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        self.timers.next()
    }

    /// Runs every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: SimTime) {
        while let Some(key) = self.timers.pop_due(now) {
            match key {
                TimerKey::Tx(id) => self.tx_timeout(now, id),
                TimerKey::Call(call, t) => self.call_timeout(now, call, t),
            }
        }
    }

    /// One received message (a UDP datagram, or a message framed from a stream).
    pub fn handle_datagram(&mut self, now: SimTime, src: SocketAddr, bytes: &[u8]) {
        self.receive(now, src, bytes);
    }

    /// Number of calls not yet terminated.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Number of live transactions.
    pub fn transactions(&self) -> usize {
        self.txs.len()
    }

    /// The dialog of a call, once it has one.
    pub fn dialog(&self, call: CallHandle) -> Option<&Dialog> {
        self.calls
            .get(&call)
            .filter(|c| !c.dialog.id.remote_tag.is_empty() || c.is_uas())
            .map(|c| &c.dialog)
    }

    /// The Call-ID of a call, from the moment it exists (before any response).
    pub fn call_id(&self, call: CallHandle) -> Option<&str> {
        self.calls.get(&call).map(|c| c.dialog.id.call_id.as_str())
    }

    /// The media agreed for a call so far.
    pub fn media(&self, call: CallHandle) -> Option<&Negotiated> {
        self.calls
            .get(&call)
            .and_then(|c| c.sdp.negotiated.as_ref())
    }

    /// The last SDP the peer sent in a call.
    pub fn remote_sdp(&self, call: CallHandle) -> Option<&SessionDescription> {
        self.calls.get(&call).and_then(|c| c.sdp.remote.as_ref())
    }

    /// The offer of an incoming call's INVITE, until it is answered.
    pub fn remote_offer(&self, call: CallHandle) -> Option<&SessionDescription> {
        self.calls
            .get(&call)
            .and_then(|c| c.sdp.remote_offer.as_ref())
    }

    /// The local hold state of a call.
    pub fn local_direction(&self, call: CallHandle) -> Option<Direction> {
        self.calls.get(&call).map(|c| c.sdp.direction)
    }

    pub(crate) fn get_call(&mut self, call: CallHandle) -> Result<&mut Call> {
        self.calls
            .get_mut(&call)
            .map(|c| &mut **c)
            .ok_or(Error::UnknownCall(call.0))
    }

    /// Places a call: sends an INVITE (with an offer unless `Offer::None`).
    pub fn call(&mut self, now: SimTime, params: CallParams) -> Result<CallHandle> {
        self.start_call(now, params)
    }

    /// Sends a provisional response (180/183...) to an incoming call; `early_media`
    /// includes the SDP answer; `reliable` asks for PRACK (RFC 3262) when the caller
    /// supports it (it is always reliable when the caller requires 100rel).
    pub fn ring(
        &mut self,
        now: SimTime,
        call: CallHandle,
        status: u16,
        early_media: bool,
        reliable: bool,
    ) -> Result<()> {
        let early = if early_media {
            uas::EarlyMedia::Auto
        } else {
            uas::EarlyMedia::None
        };
        self.send_provisional(now, call, status, early, reliable)
    }

    /// Sends a provisional response carrying this SDP as the early-media answer (a
    /// B2BUA passing the other leg's early media through).
    pub fn ring_with_sdp(
        &mut self,
        now: SimTime,
        call: CallHandle,
        status: u16,
        sdp: SessionDescription,
        reliable: bool,
    ) -> Result<()> {
        let early = uas::EarlyMedia::Given(Box::new(sdp));
        self.send_provisional(now, call, status, early, reliable)
    }

    /// Answers an incoming call with 200, with an SDP answer built from the call's media
    /// capabilities (or an offer when the INVITE had none).
    pub fn answer(&mut self, now: SimTime, call: CallHandle) -> Result<()> {
        self.send_answer(now, call, None)
    }

    /// Answers with this SDP (a B2BUA passing the other leg's answer through).
    pub fn answer_with_sdp(
        &mut self,
        now: SimTime,
        call: CallHandle,
        sdp: SessionDescription,
    ) -> Result<()> {
        self.send_answer(now, call, Some(sdp))
    }

    /// Rejects an incoming call (486, 603, 480, 3xx with `contacts`...).
    pub fn reject(
        &mut self,
        now: SimTime,
        call: CallHandle,
        status: u16,
        reason: &str,
        contacts: &[NameAddr],
    ) -> Result<()> {
        self.send_reject(now, call, status, reason, contacts)
    }

    /// Rejects an incoming call with extra headers, e.g. a 503 with `Reason` and
    /// `ms-diagnostics` naming why (a Mediation Server refusing a call for a peer it has
    /// marked down).
    pub fn reject_with_headers(
        &mut self,
        now: SimTime,
        call: CallHandle,
        status: u16,
        reason: &str,
        headers: &[(&str, &str)],
    ) -> Result<()> {
        self.send_reject_with(now, call, status, reason, &[], headers)
    }

    /// Replaces the media capabilities a call answers later offers with (re-INVITE,
    /// UPDATE) and builds its own offers from (hold, resume, refresh). A B2BUA sets them
    /// per call: the far leg's address and codecs with media bypass, its relay address
    /// without.
    pub fn set_media(&mut self, call: CallHandle, media: MediaCapabilities) -> Result<()> {
        self.get_call(call)?.media = media;
        Ok(())
    }

    /// The media capabilities of a call (see [`UserAgent::set_media`]).
    pub fn call_media(&self, call: CallHandle) -> Option<&MediaCapabilities> {
        self.calls.get(&call).map(|c| &c.media)
    }

    /// Cancels an outgoing call that has not been answered (held until a provisional
    /// response arrives, RFC 3261 §9.1).
    pub fn cancel(&mut self, now: SimTime, call: CallHandle) -> Result<()> {
        self.start_cancel(now, call)
    }

    /// Ends a call whatever its state: BYE when established, CANCEL when calling out,
    /// 603 when an incoming call was not answered.
    pub fn hangup(&mut self, now: SimTime, call: CallHandle) -> Result<()> {
        self.end_call(now, call)
    }

    /// Puts the call on hold with a re-INVITE offering `dir` (sendonly or inactive).
    pub fn hold(&mut self, now: SimTime, call: CallHandle, dir: Direction) -> Result<()> {
        self.reinvite(now, call, dir)
    }

    /// Takes the call off hold (re-INVITE offering sendrecv).
    pub fn resume(&mut self, now: SimTime, call: CallHandle) -> Result<()> {
        self.reinvite(now, call, Direction::SendRecv)
    }

    /// Sends UPDATE (RFC 3311), with a new offer in direction `dir`, or without SDP as a
    /// session refresh when `dir` is `None`. Works in early and confirmed dialogs.
    pub fn update(&mut self, now: SimTime, call: CallHandle, dir: Option<Direction>) -> Result<()> {
        self.send_update(now, call, dir)
    }

    /// Transfers the peer to `target` with REFER (RFC 3515) and Referred-By (RFC 3892).
    /// With `replaces`, the Refer-To carries a Replaces for that other call of ours
    /// (consultative transfer, RFC 3891).
    pub fn refer(
        &mut self,
        now: SimTime,
        call: CallHandle,
        target: Uri,
        replaces: Option<CallHandle>,
    ) -> Result<()> {
        self.send_refer(now, call, target, replaces)
    }

    /// Reports the progress of a REFER we accepted with a NOTIFY carrying a sipfrag
    /// status line; a final status ends the implicit subscription.
    pub fn notify_refer(
        &mut self,
        now: SimTime,
        call: CallHandle,
        refer: ReferId,
        status: u16,
    ) -> Result<()> {
        self.send_refer_notify(now, call, refer, status)
    }

    /// Sends OPTIONS out of dialog to `target` (via `next_hop`, or the usual routing).
    pub fn options(
        &mut self,
        now: SimTime,
        target: Uri,
        next_hop: Option<SocketAddr>,
    ) -> Result<RequestHandle> {
        self.send_options(now, target, next_hop)
    }
}
