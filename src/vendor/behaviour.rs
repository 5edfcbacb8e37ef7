//! The closed vocabulary of vendor behaviours.
//!
//! A limitation rule picks behaviours from this enum; a model file holds no code. Each
//! variant documents the effect it must have on the wire (SIP messages, SDP, RTP/RTCP
//! packets) or on what a party hears when the element that the model drives executes it.
//! None of them is a CDR flag alone: the CDR and leg flags follow from what crossed the wire.
//!
//! "The product" is the IP-PBX or gateway the model describes; "Lync" is the Mediation
//! Server side of the Direct SIP trunk; "its caller" is the PBX station or PSTN line on the
//! product's own side of the call.

use super::ids::StatusCode;
use super::model::Capability;
use super::trunk::TrunkConfig;
use serde::{Deserialize, Serialize};

/// A call-history header of the forwarding and transfer features.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HistoryHeader {
    /// RFC 4244 `History-Info`.
    HistoryInfo,
    /// RFC 3892 `Referred-By`.
    ReferredBy,
    /// RFC 5806 `Diversion`.
    Diversion,
}

impl HistoryHeader {
    /// The header name on the wire.
    pub fn wire_name(self) -> &'static str {
        match self {
            HistoryHeader::HistoryInfo => "History-Info",
            HistoryHeader::ReferredBy => "Referred-By",
            HistoryHeader::Diversion => "Diversion",
        }
    }
}

/// An in-band tone a caller hears.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tone {
    /// Ringback (audible ringing).
    Ringback,
    /// Overflow / reorder (fast busy).
    Overflow,
    /// Silence.
    Silence,
}

/// One vendor behaviour. Parameters carry the values that appear on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Behaviour {
    /// Call hold fails. The product answers the hold re-INVITE (SDP `a=sendonly` or
    /// `a=inactive`) with `response` instead of 200 OK, so the media direction does not
    /// change and the call is not held. With `client_left_muted`, the Lync client that asked
    /// for the hold shows "call could not be put on hold" and stays muted: it sends no RTP
    /// for the rest of the call and a later resume (unmute) does not restore its stream.
    HoldFails {
        response: StatusCode,
        client_left_muted: bool,
    },
    /// No ringback. While a call from the product's side rings a Lync user, the product
    /// consumes Lync's 180 Ringing (or 183 without SDP) and neither signals alerting nor
    /// plays local ringback toward its caller: the caller hears silence until answer.
    NoRingback,
    /// Ringback instead of early media. When Lync answers the product's INVITE with 183
    /// Session Progress carrying SDP (early media, e.g. from a simultaneous-ring target),
    /// the product plays locally generated ringback to its caller and discards the early
    /// RTP from Lync: the caller hears ringback, never the early media.
    RingbackInsteadOfEarlyMedia,
    /// No disconnect toward the PSTN on decline. When Lync rejects the product's INVITE with
    /// 603 Decline, the product ACKs it but sends no ISDN DISCONNECT/RELEASE to the PSTN
    /// caller: the caller's leg stays up hearing `caller_hears` until the caller hangs up,
    /// and the PSTN channel stays busy for that time.
    NoDisconnectOnDecline { caller_hears: Tone },
    /// The wrong failover code. When the TDM span an outbound call needs is out of service,
    /// the product answers the INVITE with `sent` instead of `instead_of`. If `sent` is not a
    /// failover code of the Lync route (after response-code translation), Lync does not try
    /// the alternate route and the call fails with `sent`.
    WrongFailoverCode {
        sent: StatusCode,
        instead_of: StatusCode,
    },
    /// No ISDN failover. When the T1 an outbound call is assigned to is unavailable, the
    /// product neither hunts another span nor answers with a failover code: it answers the
    /// INVITE with `response`, and Lync does not retry the call.
    NoIsdnFailover { response: StatusCode },
    /// Call-history headers dropped. The product removes `headers` from the INVITEs it sends
    /// on toward the PSTN or service provider (forwarded, transferred and simultaneous-ring
    /// calls), neither originates them nor converts them to `Diversion`: a provider that
    /// requires call history rejects the call, others lose the transferring party's identity.
    HistoryHeadersDropped { headers: Vec<HistoryHeader> },
    /// History-Info breaks forwarding at the PRI. An INVITE from Lync that carries
    /// `History-Info` (a call forwarded by a Lync user) fails at the product's PRI: the
    /// product answers it with `response` and the forwarded call is not delivered.
    HistoryInfoBreaksPriForwarding { response: StatusCode },
    /// No OPTIONS. The product never sends SIP OPTIONS keepalives to the Mediation Server,
    /// so it learns that Lync is unreachable only when an INVITE times out (Timer B,
    /// 64·T1) or fails, which delays failover.
    NoOptionsKeepalive,
    /// Malformed PRACK. When the product is the caller and receives a reliable provisional
    /// response (`Require: 100rel`), the PRACK it sends has no `Max-Forwards` header. A
    /// strict RFC 3261 peer rejects it with 400; the reliable 18x is never acknowledged and
    /// the called side abandons the INVITE with a 5xx after 64·T1 (RFC 3262 §3).
    MalformedPrack,
    /// PBX display stale after a transfer. When a Lync user transfers a call whose other
    /// party is on the product, the product ignores the connected-identity update (the
    /// re-INVITE/UPDATE with the new `P-Asserted-Identity`) and its phone keeps showing the
    /// first Lync user as connected.
    StaleDisplayAfterTransfer,
    /// Unrecoverable blind transfer. On a blind transfer by a Lync user, the product releases
    /// the original dialog (BYE) as soon as it starts the transfer; if the target does not
    /// answer, there is no call to return to and the transferee is disconnected.
    UnrecoverableBlindTransfer,
    /// No comfort noise. The product's SDP carries no payload type 13 (`CN`, RFC 3389) and it
    /// sends no CN packets during silence, so Lync plays no comfort noise.
    NoComfortNoise,
    /// No RTCP. The product sends no RTCP sender or receiver reports, so Lync's monitoring
    /// (QoE reports) has no jitter or packet-loss figures for the product's side.
    NoRtcp,
    /// No DTMF in early media. Before the call is answered the product sends no RFC 4733
    /// `telephone-event` packets: digits pressed during early media are lost.
    NoDtmfInEarlyMedia,
    /// No ringback during a REFER transfer. When the product executes a transfer that Lync
    /// requested with REFER, it plays no ringback to the party being transferred while the
    /// target rings; two-way audio works once the target answers.
    NoRingbackDuringReferTransfer,
    /// FQDN in `c=` not supported. The product rejects an SDP offer or answer whose
    /// connection line holds an FQDN instead of an IP address with `response`.
    FqdnConnectionAddressUnsupported { response: StatusCode },
    /// Voicemail audio cut. A call routed to the product's voicemail (Avaya Audix) gets
    /// `audio_ms` of the greeting, then the product stops sending RTP and sends BYE.
    VoicemailAudioCut { audio_ms: u32 },
    /// Alternate Route Timer too short. The product arms its Alternate Route Timer (the
    /// trunk's `AlternateRouteTimer` seconds) when it sends an INVITE to Lync; if no final
    /// response arrives first, it CANCELs the INVITE and routes the call to its alternate
    /// route, even though Lync is still ringing the user.
    AlternateRouteTimerExpiry,
    /// Inbound media bypass broken. On an inbound call with media bypass, the product ignores
    /// the bypass media address in Lync's SDP and keeps sending RTP to the Mediation Server,
    /// which relays nothing for a bypassed call: no two-way audio.
    InboundBypassBroken,
    /// No IVR early media on forward or simultaneous ring. When a Lync user's call forward or
    /// simultaneous ring reaches a PSTN number that plays early media (an IVR), the product
    /// does not relay it: it sends Lync a 180 without SDP and no early RTP, so the calling
    /// party hears no IVR audio before answer.
    NoEarlyMediaOnForward,
}

impl Behaviour {
    /// A short name for reports and ladders.
    pub fn name(&self) -> &'static str {
        match self {
            Behaviour::HoldFails { .. } => "hold-fails",
            Behaviour::NoRingback => "no-ringback",
            Behaviour::RingbackInsteadOfEarlyMedia => "ringback-instead-of-early-media",
            Behaviour::NoDisconnectOnDecline { .. } => "no-disconnect-on-decline",
            Behaviour::WrongFailoverCode { .. } => "wrong-failover-code",
            Behaviour::NoIsdnFailover { .. } => "no-isdn-failover",
            Behaviour::HistoryHeadersDropped { .. } => "history-headers-dropped",
            Behaviour::HistoryInfoBreaksPriForwarding { .. } => {
                "history-info-breaks-pri-forwarding"
            }
            Behaviour::NoOptionsKeepalive => "no-options-keepalive",
            Behaviour::MalformedPrack => "malformed-prack",
            Behaviour::StaleDisplayAfterTransfer => "stale-display-after-transfer",
            Behaviour::UnrecoverableBlindTransfer => "unrecoverable-blind-transfer",
            Behaviour::NoComfortNoise => "no-comfort-noise",
            Behaviour::NoRtcp => "no-rtcp",
            Behaviour::NoDtmfInEarlyMedia => "no-dtmf-in-early-media",
            Behaviour::NoRingbackDuringReferTransfer => "no-ringback-during-refer-transfer",
            Behaviour::FqdnConnectionAddressUnsupported { .. } => "fqdn-in-c-unsupported",
            Behaviour::VoicemailAudioCut { .. } => "voicemail-audio-cut",
            Behaviour::AlternateRouteTimerExpiry => "alternate-route-timer-expiry",
            Behaviour::InboundBypassBroken => "inbound-bypass-broken",
            Behaviour::NoEarlyMediaOnForward => "no-early-media-on-forward",
        }
    }

    /// Capabilities a model with this behaviour (applying unconditionally) must declare as
    /// unsupported, so that the capability table and the rules cannot disagree.
    pub fn denied_capabilities(&self) -> Vec<Capability> {
        match self {
            Behaviour::NoComfortNoise => vec![Capability::ComfortNoise],
            Behaviour::NoRtcp => vec![Capability::Rtcp],
            Behaviour::NoOptionsKeepalive => vec![Capability::OptionsKeepalive],
            Behaviour::NoDtmfInEarlyMedia => vec![Capability::DtmfInEarlyMedia],
            Behaviour::FqdnConnectionAddressUnsupported { .. } => vec![Capability::FqdnInSdp],
            Behaviour::InboundBypassBroken => vec![Capability::MediaBypassInbound],
            Behaviour::NoRingback => vec![Capability::RingbackGeneration],
            Behaviour::HistoryHeadersDropped { headers } => headers
                .iter()
                .map(|h| Capability::HistoryPassThrough(*h))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether Lync-side configuration makes the behaviour harmless although the product
    /// still shows it on the wire: a wrong failover code that a translation rule maps to a
    /// failover code.
    pub fn neutralized_by(&self, config: &TrunkConfig) -> bool {
        match self {
            Behaviour::WrongFailoverCode { sent, .. } => config.fails_over_on(*sent),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::trunk::{LyncServer, LyncSetting, ResponseCodeTranslation, Setting};

    fn code(c: u16) -> StatusCode {
        StatusCode::new(c).unwrap()
    }

    fn every_variant() -> Vec<Behaviour> {
        vec![
            Behaviour::HoldFails {
                response: code(488),
                client_left_muted: true,
            },
            Behaviour::NoRingback,
            Behaviour::RingbackInsteadOfEarlyMedia,
            Behaviour::NoDisconnectOnDecline {
                caller_hears: Tone::Overflow,
            },
            Behaviour::WrongFailoverCode {
                sent: code(502),
                instead_of: code(503),
            },
            Behaviour::NoIsdnFailover {
                response: code(500),
            },
            Behaviour::HistoryHeadersDropped {
                headers: vec![HistoryHeader::HistoryInfo],
            },
            Behaviour::HistoryInfoBreaksPriForwarding {
                response: code(500),
            },
            Behaviour::NoOptionsKeepalive,
            Behaviour::MalformedPrack,
            Behaviour::StaleDisplayAfterTransfer,
            Behaviour::UnrecoverableBlindTransfer,
            Behaviour::NoComfortNoise,
            Behaviour::NoRtcp,
            Behaviour::NoDtmfInEarlyMedia,
            Behaviour::NoRingbackDuringReferTransfer,
            Behaviour::FqdnConnectionAddressUnsupported {
                response: code(488),
            },
            Behaviour::VoicemailAudioCut { audio_ms: 3000 },
            Behaviour::AlternateRouteTimerExpiry,
            Behaviour::InboundBypassBroken,
            Behaviour::NoEarlyMediaOnForward,
        ]
    }

    #[test]
    fn names_are_unique() {
        let all = every_variant();
        let mut names: Vec<&str> = all.iter().map(Behaviour::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn only_a_translation_to_a_failover_code_neutralizes_the_wrong_code() {
        let wrong = Behaviour::WrongFailoverCode {
            sent: code(502),
            instead_of: code(503),
        };
        let translate = |to| {
            Setting::Lync(LyncSetting::TranslateResponseCode(
                ResponseCodeTranslation {
                    from: code(502),
                    to: code(to),
                },
            ))
        };
        let base = TrunkConfig::defaults(LyncServer::Lync2013);
        assert!(!wrong.neutralized_by(&base));
        assert!(wrong.neutralized_by(&base.clone().with(&[translate(503)])));
        assert!(!wrong.neutralized_by(&base.clone().with(&[translate(500)])));
        for b in every_variant()
            .iter()
            .filter(|b| b.name() != "wrong-failover-code")
        {
            assert!(
                !b.neutralized_by(&base.clone().with(&[translate(503)])),
                "{}",
                b.name()
            );
        }
    }

    #[test]
    fn dropped_headers_deny_their_pass_through() {
        let b = Behaviour::HistoryHeadersDropped {
            headers: vec![HistoryHeader::HistoryInfo, HistoryHeader::ReferredBy],
        };
        assert_eq!(
            b.denied_capabilities(),
            [
                Capability::HistoryPassThrough(HistoryHeader::HistoryInfo),
                Capability::HistoryPassThrough(HistoryHeader::ReferredBy)
            ]
        );
        assert!(Behaviour::MalformedPrack.denied_capabilities().is_empty());
    }
}
