//! Symptoms a case can observe, the symptoms each behaviour produces, and the verdict.

use super::{CaseResult, Verdict};
use crate::vendor::{Behaviour, LimitationRule};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

/// Something a case observed going wrong in its calls.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Symptom {
    /// A call that should be answered was not.
    CallFailed,
    /// The caller heard no ringback while the callee rang.
    NoRingback,
    /// The caller heard no early media where the far end played it.
    NoEarlyMedia,
    /// Not both parties heard audio after answer.
    NoTwoWayAudio,
    /// A hold or resume re-INVITE was refused.
    HoldRefused,
    /// The client was left muted.
    ClientMuted,
    /// The caller's identity was not presented (or not withheld) as asked.
    CallerIdWrong,
    /// The PSTN caller was not released after a decline.
    CallerNotReleased,
    /// The call did not reach the alternate route/gateway when the first could not take it.
    NoFailover,
    /// A forwarded call was not delivered.
    ForwardFailed,
    /// Call history (History-Info, Diversion, Referred-By) did not reach the provider.
    HistoryMissing,
    /// The transfer did not connect the transferee with the target.
    TransferFailed,
    /// A transferee was lost when the target did not answer.
    TransferNotRecovered,
    /// The PBX phone still shows the first party after a transfer.
    StaleDisplay,
    /// The transferee heard no ringback while the transfer target rang.
    NoRingbackDuringTransfer,
    /// No RFC 4733 digits arrived.
    NoDtmf,
    /// No digits arrived when sent during early media.
    NoDtmfInEarlyMedia,
    /// No CN payload type and no CN packets; Lync played no comfort noise.
    NoComfortNoise,
    /// No RTCP reports, no jitter/loss in monitoring.
    NoRtcp,
    /// No session timer negotiated or refreshed.
    NoSessionTimer,
    /// The reliable provisional / PRACK exchange failed.
    PrackFailed,
    /// No OPTIONS keepalives from the product.
    NoOptions,
    /// An SDP offer or answer was refused.
    SdpRejected,
    /// The call to voicemail was cut short.
    VoicemailCut,
    /// The product rerouted a call Lync was still ringing.
    PrematureReroute,
    /// The secure transport was not used.
    NotSecure,
    /// A deployment feature (dual forking, RCC) did not show on the wire.
    FeatureMissing,
}

impl fmt::Display for Symptom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// The symptoms a behaviour can cause in a case's calls.
pub(crate) fn symptoms_of(b: &Behaviour) -> &'static [Symptom] {
    use Symptom as S;
    match b {
        Behaviour::HoldFails {
            client_left_muted: true,
            ..
        } => &[S::HoldRefused, S::ClientMuted, S::NoTwoWayAudio],
        Behaviour::HoldFails { .. } => &[S::HoldRefused],
        Behaviour::NoRingback => &[S::NoRingback],
        Behaviour::RingbackInsteadOfEarlyMedia => &[S::NoEarlyMedia],
        Behaviour::NoDisconnectOnDecline { .. } => &[S::CallerNotReleased],
        Behaviour::WrongFailoverCode { .. } | Behaviour::NoIsdnFailover { .. } => {
            &[S::NoFailover, S::CallFailed]
        }
        Behaviour::HistoryHeadersDropped { .. } => &[S::HistoryMissing, S::ForwardFailed],
        Behaviour::HistoryInfoBreaksPriForwarding { .. } => &[S::ForwardFailed, S::HistoryMissing],
        Behaviour::NoOptionsKeepalive => &[S::NoOptions],
        Behaviour::MalformedPrack => &[S::PrackFailed, S::CallFailed],
        Behaviour::StaleDisplayAfterTransfer => &[S::StaleDisplay],
        Behaviour::UnrecoverableBlindTransfer => &[S::TransferNotRecovered, S::StaleDisplay],
        Behaviour::NoComfortNoise => &[S::NoComfortNoise],
        Behaviour::NoRtcp => &[S::NoRtcp],
        Behaviour::NoDtmfInEarlyMedia => &[S::NoDtmfInEarlyMedia],
        Behaviour::NoRingbackDuringReferTransfer => &[S::NoRingbackDuringTransfer],
        Behaviour::FqdnConnectionAddressUnsupported { .. } => &[S::SdpRejected, S::CallFailed],
        Behaviour::VoicemailAudioCut { .. } => &[S::VoicemailCut],
        Behaviour::AlternateRouteTimerExpiry => &[S::PrematureReroute],
        Behaviour::InboundBypassBroken => &[S::NoTwoWayAudio],
        Behaviour::NoEarlyMediaOnForward => &[S::NoEarlyMedia],
    }
}

/// The symptoms a rule can cause.
pub(crate) fn rule_symptoms(r: &LimitationRule) -> BTreeSet<Symptom> {
    r.behaviours
        .iter()
        .flat_map(|b| symptoms_of(b).iter().copied())
        .collect()
}

/// What a case saw in its calls.
#[derive(Clone, Debug, Default)]
pub(crate) struct Observed {
    pub symptoms: Vec<(Symptom, String)>,
    /// Limitation IDs the elements reported acting on the calls.
    pub acted: BTreeSet<String>,
    /// A short description of what happened when all went well.
    pub detail: String,
}

impl Observed {
    pub fn symptom(&mut self, s: Symptom, detail: impl Into<String>) {
        self.symptoms.push((s, detail.into()));
    }
    pub fn check(&mut self, ok: bool, s: Symptom, detail: impl Into<String>) {
        if !ok {
            self.symptom(s, detail);
        }
    }
}

/// The verdict of a case from what it observed and the rules expected to act on it.
pub(crate) fn judge(
    case: String,
    area: &'static str,
    deployment: String,
    observed: &Observed,
    expected: &[&LimitationRule],
) -> CaseResult {
    let ids: Vec<String> = expected.iter().map(|r| r.id.as_str().to_string()).collect();
    let explained = |s: Symptom| expected.iter().any(|r| rule_symptoms(r).contains(&s));
    let unexplained: Vec<&(Symptom, String)> = observed
        .symptoms
        .iter()
        .filter(|(s, _)| !explained(*s))
        .collect();
    let unseen: Vec<&&LimitationRule> = expected
        .iter()
        .filter(|r| {
            let shows = rule_symptoms(r);
            !(observed.acted.contains(r.id.as_str())
                && observed.symptoms.iter().any(|(s, _)| shows.contains(s)))
        })
        .collect();
    let symptoms: Vec<String> = observed
        .symptoms
        .iter()
        .map(|(s, d)| format!("{s}: {d}"))
        .collect();
    let (result, detail) = if !unexplained.is_empty() {
        let d: Vec<String> = unexplained
            .iter()
            .map(|(s, d)| format!("{s}: {d}"))
            .collect();
        (Verdict::Fail, format!("unexplained {}", d.join("; ")))
    } else if !unseen.is_empty() {
        let d: Vec<String> = unseen
            .iter()
            .map(|r| format!("{} declared but its symptom did not appear", r.id.as_str()))
            .collect();
        (Verdict::Fail, d.join("; "))
    } else if expected.is_empty() {
        (Verdict::Pass, observed.detail.clone())
    } else {
        (Verdict::ExpectedFail, symptoms.join("; "))
    };
    CaseResult {
        case,
        area,
        deployment,
        result,
        limitation_ids: ids,
        detail,
    }
}
