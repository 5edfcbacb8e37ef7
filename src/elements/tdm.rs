//! The TDM side: ISDN PRI signalling (Q.931 messages, Q.850 causes), the RFC 3398 mapping
//! between Q.850 causes and SIP responses, and T1/E1 trunk groups with B-channel hunting.
//!
//! TDM signalling is not IP: it crosses a span's D-channel, which the runtime delivers after
//! a fixed delay. Messages are typed, not bytes; ladders show them as ISDN lines.

use super::CallTag;
pub use crate::vendor::SpanKind;
use serde::{Deserialize, Serialize};

/// A Q.850 cause value (1..=127).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Cause(pub u8);

impl Cause {
    pub const UNALLOCATED_NUMBER: Cause = Cause(1);
    pub const NORMAL_CLEARING: Cause = Cause(16);
    pub const USER_BUSY: Cause = Cause(17);
    pub const NO_USER_RESPONDING: Cause = Cause(18);
    pub const NO_ANSWER: Cause = Cause(19);
    pub const CALL_REJECTED: Cause = Cause(21);
    pub const DESTINATION_OUT_OF_ORDER: Cause = Cause(27);
    pub const NORMAL_UNSPECIFIED: Cause = Cause(31);
    pub const NO_CIRCUIT_AVAILABLE: Cause = Cause(34);
    pub const NETWORK_OUT_OF_ORDER: Cause = Cause(38);
    pub const TEMPORARY_FAILURE: Cause = Cause(41);
    pub const SWITCHING_CONGESTION: Cause = Cause(42);
    pub const RECOVERY_ON_TIMER_EXPIRY: Cause = Cause(102);
    pub const INTERWORKING: Cause = Cause(127);

    /// The SIP final response for this cause, per RFC 3398 §7.2.4.1 (ISUP cause → SIP).
    /// `None` for normal clearing, which ends an established call with BYE instead.
    pub fn to_sip_status(self) -> Option<u16> {
        Some(match self.0 {
            16 => return None,
            1..=3 | 26 => 404,
            17 => 486,
            18 => 408,
            19 | 20 | 31 => 480,
            21 | 55 | 57 | 87 => 403,
            22 | 23 => 410,
            27 => 502,
            28 => 484,
            29 => 501,
            34 | 38 | 41 | 42 | 47 | 58 | 88 => 503,
            65 | 70 => 488,
            79 => 501,
            102 => 504,
            111 => 500,
            _ => 500,
        })
    }

    /// The SIP final response an interworking element sends for a call the ISDN side
    /// cleared before answer: RFC 3398 §7.2.4.1, with one deliberate difference unless
    /// `strict`: cause 21 "call rejected" gives 603 Decline rather than 403. Cause 21 is
    /// what a PSTN user's rejection produces, and RFC 3398 itself maps 603 to 21
    /// (§8.2.6.1); keeping the user's decision lets 603 ↔ 21 round-trip, so a declined call
    /// is classified as declined on both sides. Normal clearing before answer (which a
    /// well-behaved switch does not send) gives 480.
    pub fn to_sip_final(self, strict: bool) -> u16 {
        if self == Cause::CALL_REJECTED && !strict {
            return 603;
        }
        self.to_sip_status().unwrap_or(480)
    }

    /// The cause for a SIP final response, per RFC 3398 §8.2.6.1 (SIP → ISUP cause).
    pub fn from_sip_status(status: u16) -> Cause {
        Cause(match status {
            400 | 481 | 500 | 503 => 41,
            401 | 402 | 403 | 407 | 603 => 21,
            404 | 485 | 604 => 1,
            405 => 63,
            406 | 415 | 501 => 79,
            408 | 504 => 102,
            410 => 22,
            480 => 18,
            482 | 483 => 25,
            484 => 28,
            486 | 600 => 17,
            502 => 38,
            580 => 47,
            606 => 58,
            _ => 127,
        })
    }

    /// The Q.850 description, for ladders and CDRs.
    pub fn describe(self) -> &'static str {
        match self.0 {
            1 => "unallocated number",
            16 => "normal call clearing",
            17 => "user busy",
            18 => "no user responding",
            19 => "no answer from user",
            21 => "call rejected",
            27 => "destination out of order",
            31 => "normal, unspecified",
            34 => "no circuit/channel available",
            38 => "network out of order",
            41 => "temporary failure",
            42 => "switching equipment congestion",
            102 => "recovery on timer expiry",
            127 => "interworking, unspecified",
            _ => "other cause",
        }
    }
}

/// A Q.931 call reference, unique per trunk group and direction.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallRef(pub u32);

/// Q.931 messages on a PRI D-channel (the subset a basic call and its clearing need).
#[derive(Clone, Debug, PartialEq)]
pub enum IsdnMessage {
    Setup {
        call_ref: CallRef,
        /// The end-to-end call this SETUP belongs to (carried like a billing reference).
        call: CallTag,
        called: String,
        calling: Option<String>,
        /// Presentation restricted (anonymous caller).
        restricted: bool,
        /// Redirecting number (the forwarding party), if any.
        redirecting: Option<String>,
        /// The B-channel the sender chose.
        channel: u16,
    },
    CallProceeding {
        call_ref: CallRef,
    },
    /// The called party is being alerted; `inband` means tones (ringback) are on the B-channel.
    Alerting {
        call_ref: CallRef,
        inband: bool,
    },
    /// In-band information (early media, announcements) is available.
    Progress {
        call_ref: CallRef,
    },
    Connect {
        call_ref: CallRef,
    },
    ConnectAck {
        call_ref: CallRef,
    },
    Disconnect {
        call_ref: CallRef,
        cause: Cause,
    },
    Release {
        call_ref: CallRef,
        cause: Cause,
    },
    ReleaseComplete {
        call_ref: CallRef,
        cause: Cause,
    },
    /// DTMF digits carried in-band on the B-channel (shown as a message for the ladder).
    InbandDigits {
        call_ref: CallRef,
        digits: String,
    },
}

impl IsdnMessage {
    pub fn call_ref(&self) -> CallRef {
        match self {
            IsdnMessage::Setup { call_ref, .. }
            | IsdnMessage::CallProceeding { call_ref }
            | IsdnMessage::Alerting { call_ref, .. }
            | IsdnMessage::Progress { call_ref }
            | IsdnMessage::Connect { call_ref }
            | IsdnMessage::ConnectAck { call_ref }
            | IsdnMessage::Disconnect { call_ref, .. }
            | IsdnMessage::Release { call_ref, .. }
            | IsdnMessage::ReleaseComplete { call_ref, .. }
            | IsdnMessage::InbandDigits { call_ref, .. } => *call_ref,
        }
    }

    /// The message name for ladders, e.g. `SETUP` or `DISCONNECT (17 user busy)`.
    pub fn label(&self) -> String {
        match self {
            IsdnMessage::Setup { called, .. } => format!("SETUP {called}"),
            IsdnMessage::CallProceeding { .. } => "CALL PROCEEDING".into(),
            IsdnMessage::Alerting { inband, .. } => {
                if *inband {
                    "ALERTING (in-band)".into()
                } else {
                    "ALERTING".into()
                }
            }
            IsdnMessage::Progress { .. } => "PROGRESS (in-band info)".into(),
            IsdnMessage::Connect { .. } => "CONNECT".into(),
            IsdnMessage::ConnectAck { .. } => "CONNECT ACK".into(),
            IsdnMessage::Disconnect { cause, .. } => {
                format!("DISCONNECT ({} {})", cause.0, cause.describe())
            }
            IsdnMessage::Release { cause, .. } => format!("RELEASE ({})", cause.0),
            IsdnMessage::ReleaseComplete { cause, .. } => format!("RELEASE COMPLETE ({})", cause.0),
            IsdnMessage::InbandDigits { digits, .. } => format!("DTMF in-band {digits}"),
        }
    }
}

/// Identifies a B-channel in a trunk group.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Channel {
    pub span: u16,
    pub index: u16,
}

impl Channel {
    /// A single channel number across the group (span × channels + index), for SETUP.
    pub fn number(self, kind: SpanKind) -> u16 {
        (self.span as u32 * kind.b_channels()) as u16 + self.index
    }
}

/// Why a channel could not be seized.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SeizeError {
    /// Every in-service channel is busy (blocking, Q.850 cause 34).
    AllBusy,
    /// Every span of the group is out of service (cause 38 network out of order).
    OutOfService,
}

/// A group of T1/E1 spans between two TDM interfaces, with B-channel hunting and span
/// faults. Channels are hunted lowest span first, lowest channel first, which is the common
/// "ascending" hunt of PBXs and gateways, and keeps runs reproducible.
#[derive(Clone, Debug)]
pub struct TrunkGroup {
    kind: SpanKind,
    /// busy[span][channel]
    busy: Vec<Vec<bool>>,
    in_service: Vec<bool>,
    busy_count: usize,
    peak_busy: usize,
    seizures: u64,
    blocked: u64,
}

impl TrunkGroup {
    pub fn new(kind: SpanKind, spans: u16) -> Self {
        let channels = kind.b_channels() as usize;
        TrunkGroup {
            kind,
            busy: vec![vec![false; channels]; usize::from(spans)],
            in_service: vec![true; usize::from(spans)],
            busy_count: 0,
            peak_busy: 0,
            seizures: 0,
            blocked: 0,
        }
    }

    pub fn kind(&self) -> SpanKind {
        self.kind
    }

    pub fn spans(&self) -> u16 {
        self.in_service.len() as u16
    }

    /// In-service bearer channels.
    pub fn capacity(&self) -> usize {
        self.in_service.iter().filter(|s| **s).count() * self.kind.b_channels() as usize
    }

    /// Channels in use.
    pub fn busy(&self) -> usize {
        self.busy_count
    }

    /// The most channels ever busy at once.
    pub fn peak_busy(&self) -> usize {
        self.peak_busy
    }

    /// (successful seizures, blocked attempts) so far.
    pub fn counters(&self) -> (u64, u64) {
        (self.seizures, self.blocked)
    }

    /// Seizes the first free in-service channel.
    pub fn seize(&mut self) -> Result<Channel, SeizeError> {
        if !self.in_service.iter().any(|s| *s) {
            self.blocked += 1;
            return Err(SeizeError::OutOfService);
        }
        for (span, channels) in self.busy.iter_mut().enumerate() {
            if !self.in_service[span] {
                continue;
            }
            if let Some(index) = channels.iter().position(|b| !*b) {
                channels[index] = true;
                self.busy_count += 1;
                self.peak_busy = self.peak_busy.max(self.busy_count);
                self.seizures += 1;
                return Ok(Channel {
                    span: span as u16,
                    index: index as u16,
                });
            }
        }
        self.blocked += 1;
        Err(SeizeError::AllBusy)
    }

    /// Seizes a specific channel chosen by the far end (the SETUP's channel id). Returns
    /// false if it is busy, out of service or does not exist.
    pub fn seize_exact(&mut self, channel: Channel) -> bool {
        let (s, i) = (usize::from(channel.span), usize::from(channel.index));
        match self.busy.get_mut(s).and_then(|c| c.get_mut(i)) {
            Some(b) if !*b && self.in_service[s] => {
                *b = true;
                self.busy_count += 1;
                self.peak_busy = self.peak_busy.max(self.busy_count);
                self.seizures += 1;
                true
            }
            _ => {
                self.blocked += 1;
                false
            }
        }
    }

    /// Frees a channel. Freeing a free channel is a no-op.
    pub fn release(&mut self, channel: Channel) {
        let (s, i) = (usize::from(channel.span), usize::from(channel.index));
        if let Some(b) = self.busy.get_mut(s).and_then(|c| c.get_mut(i)) {
            if *b {
                *b = false;
                self.busy_count -= 1;
            }
        }
    }

    /// Takes a span out of service (a dead T1). Returns the channels that were busy on it:
    /// their calls are lost and the caller must clear them.
    pub fn span_down(&mut self, span: u16) -> Vec<Channel> {
        let s = usize::from(span);
        let mut lost = Vec::new();
        if let Some(channels) = self.busy.get_mut(s) {
            self.in_service[s] = false;
            for (index, b) in channels.iter_mut().enumerate() {
                if *b {
                    *b = false;
                    self.busy_count -= 1;
                    lost.push(Channel {
                        span,
                        index: index as u16,
                    });
                }
            }
        }
        lost
    }

    /// Returns a span to service.
    pub fn span_up(&mut self, span: u16) {
        if let Some(s) = self.in_service.get_mut(usize::from(span)) {
            *s = true;
        }
    }

    pub fn span_in_service(&self, span: u16) -> bool {
        self.in_service
            .get(usize::from(span))
            .copied()
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3398_mappings() {
        assert_eq!(Cause::USER_BUSY.to_sip_status(), Some(486));
        assert_eq!(Cause::NO_CIRCUIT_AVAILABLE.to_sip_status(), Some(503));
        assert_eq!(Cause::DESTINATION_OUT_OF_ORDER.to_sip_status(), Some(502));
        assert_eq!(Cause::NORMAL_CLEARING.to_sip_status(), None);
        assert_eq!(Cause::from_sip_status(486), Cause::USER_BUSY);
        assert_eq!(Cause::from_sip_status(603), Cause::CALL_REJECTED);
        assert_eq!(Cause::from_sip_status(503), Cause::TEMPORARY_FAILURE);
        assert_eq!(Cause::from_sip_status(404), Cause::UNALLOCATED_NUMBER);
        assert_eq!(Cause::from_sip_status(599), Cause::INTERWORKING);
    }

    #[test]
    fn hunting_blocking_and_span_faults() {
        let mut g = TrunkGroup::new(SpanKind::T1, 2);
        assert_eq!(g.capacity(), 46);
        let first = g.seize().unwrap();
        assert_eq!(first, Channel { span: 0, index: 0 });
        for _ in 1..46 {
            g.seize().unwrap();
        }
        assert_eq!(g.seize(), Err(SeizeError::AllBusy));
        assert_eq!(g.counters(), (46, 1));
        let lost = g.span_down(0);
        assert_eq!(lost.len(), 23);
        assert_eq!((g.busy(), g.capacity()), (23, 23));
        g.release(Channel { span: 1, index: 5 });
        assert_eq!(
            g.seize(),
            Ok(Channel { span: 1, index: 5 }),
            "span 0 is skipped"
        );
        g.span_down(1);
        assert_eq!(g.seize(), Err(SeizeError::OutOfService));
        g.span_up(0);
        assert_eq!(g.seize(), Ok(Channel { span: 0, index: 0 }));
        assert_eq!(g.peak_busy(), 46);
        assert_eq!(SpanKind::E1.b_channels(), 30);
    }
}
