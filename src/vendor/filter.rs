//! The SIP-level half of the behaviour engine: what the product changes on the messages it
//! sends (egress), what it refuses among the requests it receives (ingress), and the SDP
//! capabilities it offers.
//!
//! Filters work on real messages: the element hands over the bytes its user agent produced
//! (or the request it received), the filter parses them with `sip::wire`, edits typed
//! headers and emits them again. Nothing is spliced by hand. The parse is skipped when no
//! active behaviour could touch the message, so a product without SIP quirks pays nothing.

use super::behaviour::HistoryHeader;
use super::engine::{BehaviourEngine, MediaProfile};
use super::ids::LimitationId;
use super::rule::{CallScenario, Feature};
use crate::sip::sdp::{MediaCapabilities, SessionDescription};
use crate::sip::wire::{HeaderName, Message, Method, Request, Response, make_response};
use bytes::Bytes;

/// The text of the `Warning` the product puts on its refusal of a hold when the Lync client
/// is left muted (`HoldFails { client_left_muted: true }`). A Lync client that sees it keeps
/// its microphone muted for the rest of the call (see [`hold_refusal_mutes_client`]).
pub const HOLD_REFUSED_MUTED: &str = "call could not be put on hold";

/// Whether a response is the product's refusal of a hold that leaves the client muted.
pub fn hold_refusal_mutes_client(resp: &Response) -> bool {
    resp.headers
        .get_all(HeaderName::Warning)
        .any(|w| w.contains(HOLD_REFUSED_MUTED))
}

/// True when an SDP connection line (session or first stream) holds an FQDN instead of an
/// IP address.
pub fn has_fqdn_connection(sd: &SessionDescription) -> bool {
    sd.connection_for(0).is_some_and(|c| c.ip().is_none())
}

/// Where an outgoing message goes, as the egress filter needs to know.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Egress {
    /// Toward Lync (the Mediation Server) on the Direct SIP trunk.
    Lync,
    /// Toward the PSTN side: a SIP trunking provider or a SIP gateway.
    Provider,
}

/// A request the product refuses on receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub limitation: LimitationId,
    /// The refusal of a hold that leaves the Lync client muted.
    pub client_left_muted: bool,
}

impl Refusal {
    /// The response that carries the refusal (`to_tag` for an initial INVITE).
    pub fn response(&self, req: &Request, host: &str, to_tag: Option<&str>) -> Response {
        let reason = crate::sip::wire::reason_phrase(self.status);
        let mut r = make_response(req, self.status, reason, to_tag);
        if self.client_left_muted {
            r.headers.push(
                HeaderName::Warning,
                format!("399 {host} \"{HOLD_REFUSED_MUTED}\""),
            );
        }
        r
    }
}

impl BehaviourEngine {
    /// Applies the egress behaviours to one message the product sends: `MalformedPrack`
    /// removes Max-Forwards from PRACK; `HistoryHeadersDropped` (and headers the product
    /// does not pass) removes call-history headers from INVITEs toward the provider side.
    /// Returns the bytes to send and the limitation IDs that acted.
    pub fn filter_egress(
        &self,
        bytes: Bytes,
        to: Egress,
        call: Option<&CallScenario>,
    ) -> (Bytes, Vec<LimitationId>) {
        let prack = bytes.starts_with(b"PRACK ");
        let invite = bytes.starts_with(b"INVITE ");
        let mut ids = Vec::new();
        let prack_fault = if prack { self.malformed_prack() } else { None };
        let dropped = match (invite, to, call) {
            (true, Egress::Provider, Some(call)) => self.dropped_history(call),
            _ => (Vec::new(), None),
        };
        if prack_fault.is_none() && dropped.0.is_empty() {
            return (bytes, ids);
        }
        let Ok(Message::Request(mut req)) = Message::parse(&bytes) else {
            return (bytes, ids);
        };
        if let Some(id) = prack_fault {
            if req.method == Method::Prack && req.headers.contains(HeaderName::MaxForwards) {
                req.headers.remove(HeaderName::MaxForwards);
                ids.push(id);
            }
        }
        let mut removed = false;
        for h in &dropped.0 {
            let name = header_name(*h);
            if req.method == Method::Invite && req.headers.contains(name) {
                req.headers.remove(name);
                removed = true;
            }
        }
        if let (true, Some(id)) = (removed, dropped.1) {
            ids.push(id);
        }
        (req.to_bytes(), ids)
    }

    /// Screens a request received on the trunk: `HoldFails` refuses a hold re-INVITE, and
    /// `FqdnConnectionAddressUnsupported` refuses an offer with an FQDN in `c=`. `call` is
    /// the call the request belongs to (its feature is set to `Hold` for the hold test).
    pub fn screen_request(&self, req: &Request, call: &CallScenario) -> Option<Refusal> {
        if !matches!(req.method, Method::Invite | Method::Update) || req.body.is_empty() {
            return None;
        }
        let sd = SessionDescription::parse(&req.body).ok()?;
        if has_fqdn_connection(&sd) {
            if let Some((status, id)) = self.fqdn_rejection(call) {
                return Some(Refusal {
                    status,
                    limitation: id,
                    client_left_muted: false,
                });
            }
        }
        let in_dialog = req.headers.to_addr().is_ok_and(|to| to.tag().is_some());
        if in_dialog && req.method == Method::Invite && sd.is_hold(0) {
            let hold = call.with_feature(Feature::Hold);
            if let Some(h) = self.hold_rejection(&hold) {
                return Some(Refusal {
                    status: h.status,
                    limitation: h.limitation,
                    client_left_muted: h.client_left_muted,
                });
            }
        }
        None
    }

    /// Whether the product refuses an SDP answer it received (an FQDN in `c=` under
    /// `FqdnConnectionAddressUnsupported`): the status it would have refused it with.
    pub fn refuse_answer(
        &self,
        sd: &SessionDescription,
        call: &CallScenario,
    ) -> Option<(u16, LimitationId)> {
        if has_fqdn_connection(sd) {
            self.fqdn_rejection(call)
        } else {
            None
        }
    }

    /// Shapes the SDP capabilities of the product's endpoints to its media profile: no
    /// PT 13 without comfort noise, no telephone-event without RFC 4733.
    pub fn shape_capabilities(&self, caps: &mut MediaCapabilities, profile: &MediaProfile) {
        if !profile.comfort_noise {
            caps.comfort_noise = false;
        }
        if !profile.dtmf {
            caps.telephone_event = None;
        }
    }
}

fn header_name(h: HistoryHeader) -> HeaderName {
    match h {
        HistoryHeader::HistoryInfo => HeaderName::HistoryInfo,
        HistoryHeader::ReferredBy => HeaderName::ReferredBy,
        HistoryHeader::Diversion => HeaderName::Diversion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::lookup;
    use crate::vendor::rule::{Direction, Party};
    use crate::vendor::trunk::{PbxSetting, Setting};
    use std::sync::Arc;

    fn engine(id: &str, extra: &[Setting]) -> BehaviourEngine {
        let model = lookup(id).unwrap().clone();
        let config = model.recommended_config().with(extra);
        BehaviourEngine::new(Arc::new(model), config)
    }

    const PRACK: &str = "PRACK sip:lync@10.0.0.2:5068;transport=tcp SIP/2.0\r\n\
        Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK1\r\n\
        Max-Forwards: 70\r\n\
        From: <sip:pbx@10.0.0.1>;tag=a\r\nTo: <sip:lync@10.0.0.2>;tag=b\r\n\
        Call-ID: c1\r\nCSeq: 2 PRACK\r\nRAck: 1 1 INVITE\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn prack_loses_max_forwards_only_with_the_fault() {
        let bytes = Bytes::from_static(PRACK.as_bytes());
        let faulty = engine("cisco-ucm-8.0.3", &[Setting::Pbx(PbxSetting::Prack(true))]);
        let (out, ids) = faulty.filter_egress(bytes.clone(), Egress::Lync, None);
        let req = Request::parse(&out).unwrap();
        assert!(!req.headers.contains(HeaderName::MaxForwards));
        assert_eq!(ids[0].as_str(), "CU803-C1");
        let strict = crate::sip::wire::check_request(&req, &Default::default());
        assert_eq!(strict.unwrap_err().status, 400);
        let fixed = engine("cisco-ucm-8.0.3", &[]);
        let (out, ids) = fixed.filter_egress(bytes.clone(), Egress::Lync, None);
        assert_eq!(out, bytes, "untouched, not even re-emitted");
        assert!(ids.is_empty());
    }

    #[test]
    fn hold_offer_is_refused_with_the_muting_warning() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n\
                   m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
        let text = format!(
            "INVITE sip:pbx@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bK2\r\n\
             Max-Forwards: 70\r\nFrom: <sip:lync@10.0.0.2>;tag=b\r\nTo: <sip:pbx@10.0.0.1>;tag=a\r\n\
             Call-ID: c1\r\nCSeq: 3 INVITE\r\nContact: <sip:lync@10.0.0.2>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        );
        let req = Request::parse(text.as_bytes()).unwrap();
        let outbound = CallScenario::basic(Direction::Outbound, Party::Pbx);
        let r = engine("alcatel-oxe-r9.1", &[])
            .screen_request(&req, &outbound)
            .unwrap();
        assert_eq!((r.status, r.limitation.as_str()), (488, "OXE-L1"));
        assert!(hold_refusal_mutes_client(&r.response(&req, "pbx", None)));
        let inbound = CallScenario::basic(Direction::Inbound, Party::Pbx);
        assert!(
            engine("alcatel-oxe-r9.1", &[])
                .screen_request(&req, &inbound)
                .is_none()
        );
        assert!(
            engine("siemens-openscape-voice-6", &[])
                .screen_request(&req, &outbound)
                .is_none()
        );
    }
}
