//! Calls that a remote SIP peer places to a live element, as seen on the wire.
//!
//! The caller of such a call is outside the host (SIPp, a phone), so no element reports
//! what it saw. The host watches the SIP it receives and sends at the boundary instead:
//! a new INVITE opens a call, the element's responses to it say whether it rang, was
//! answered or failed, and a BYE ends it. These counters back `serve`'s summary and
//! `--max-calls`.
//!
//! With scripting on, each new call also gets a script in the call book (the callee
//! answers after a fixed delay), so the element handles it exactly as a scripted call in
//! the simulator, media included; the host then writes the remote caller's notes
//! (`RingbackHeard`, `Answered`, `FinalStatus`, `Ended`) so the call log finishes.

use crate::elements::callbook::{CallBook, CallNote};
use crate::elements::script::{AnswerAction, CallScript};
use crate::elements::{CallTag, ElementId};
use crate::sim::{SimDuration, SimTime};
use crate::sip::wire::{HeaderName, Message, Method, NameAddr, Request};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddrV4;

/// The element id under which the host notes for a caller outside the host.
pub const REMOTE_PARTY: ElementId = ElementId(u32::MAX);

/// How long an ended Call-ID is remembered, so that late retransmissions of its INVITE
/// do not count as new calls: 64·T1, the longest an INVITE server transaction lives.
const REMEMBER: SimDuration = SimDuration::from_secs(32);

/// Counters of calls placed to the host by remote peers.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct InboundStats {
    /// New INVITEs (distinct Call-IDs).
    pub offered: u64,
    /// Calls that got a 2xx.
    pub answered: u64,
    /// Answered calls ended by a BYE (from either side).
    pub completed: u64,
    /// Calls rejected with a final response ≥ 300 other than 487.
    pub failed: u64,
    /// Calls the caller cancelled (487).
    pub cancelled: u64,
}

impl InboundStats {
    /// Calls that reached an end (completed, failed or cancelled).
    pub fn finished(&self) -> u64 {
        self.completed + self.failed + self.cancelled
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum State {
    Offered,
    Answered,
}

struct InCall {
    tag: Option<CallTag>,
    state: State,
    /// Media addresses the element took while handling this call's messages.
    media: Vec<SocketAddrV4>,
}

/// The inbound-call tracker of a host.
pub(crate) struct Inbound {
    /// Answer delay of scripted calls; `None`: calls are left unscripted.
    script_answer: Option<SimDuration>,
    next_tag: u64,
    calls: HashMap<String, InCall>,
    ended: VecDeque<(SimTime, String)>,
    ended_set: HashSet<String>,
    /// The tracked call of the message being handled.
    current: Option<String>,
    /// Media addresses of calls that ended; the host closes those no session uses.
    pub(crate) released: Vec<SocketAddrV4>,
    pub(crate) stats: InboundStats,
}

impl Inbound {
    pub(crate) fn new(script_answer: Option<SimDuration>) -> Self {
        Inbound {
            script_answer,
            next_tag: 1,
            calls: HashMap::new(),
            ended: VecDeque::new(),
            ended_set: HashSet::new(),
            current: None,
            released: Vec::new(),
            stats: InboundStats::default(),
        }
    }

    /// Calls in progress.
    pub(crate) fn open(&self) -> usize {
        self.calls.len()
    }

    /// Media addresses the element took while handling the current message belong to
    /// its call (released when the call ends, whether or not media ever flowed).
    pub(crate) fn attach_media(&mut self, addrs: &[SocketAddrV4]) {
        if let Some(c) = self.current.as_ref().and_then(|id| self.calls.get_mut(id)) {
            c.media.extend_from_slice(addrs);
        }
    }

    /// The element has handled the current message.
    pub(crate) fn done_with_message(&mut self) {
        self.current = None;
    }

    /// A datagram received by an element, before the element sees it.
    pub(crate) fn on_received(&mut self, now: SimTime, bytes: &[u8], book: &mut CallBook) {
        self.forget_old(now);
        self.current = None;
        // Only INVITE and BYE matter, and the method is the first token (RFC 3261 §7.1):
        // other messages are not parsed twice.
        // Media an element takes is attached to the call of the INVITE (or re-INVITE) that
        // made it take it.
        if !(bytes.starts_with(b"INVITE ") || bytes.starts_with(b"BYE ")) {
            return;
        }
        let Ok(Message::Request(req)) = Message::parse(bytes) else {
            return;
        };
        let Some(call_id) = req.headers.get(HeaderName::CallId) else {
            return;
        };
        if self.calls.contains_key(call_id) {
            self.current = Some(call_id.to_string());
        }
        match req.method {
            Method::Invite => {
                let to_tag = req
                    .headers
                    .get(HeaderName::To)
                    .and_then(|t| NameAddr::parse(t).ok())
                    .is_some_and(|t| t.tag().is_some());
                if to_tag || self.calls.contains_key(call_id) || self.ended_set.contains(call_id) {
                    return; // a re-INVITE or a retransmission
                }
                self.stats.offered += 1;
                let tag = self.script_answer.map(|after| {
                    let tag = CallTag(self.next_tag);
                    self.next_tag += 1;
                    book.open(now, script_for(tag, &req, after));
                    book.bind_call_id(call_id, tag);
                    tag
                });
                self.calls.insert(
                    call_id.to_string(),
                    InCall {
                        tag,
                        state: State::Offered,
                        media: Vec::new(),
                    },
                );
                self.current = Some(call_id.to_string());
            }
            Method::Bye => {
                let call_id = call_id.to_string();
                self.bye(now, &call_id, book);
            }
            _ => {}
        }
    }

    /// A datagram an element sent.
    pub(crate) fn on_sent(&mut self, now: SimTime, bytes: &[u8], book: &mut CallBook) {
        // What matters: responses to INVITEs (not 100 Trying) and BYEs.
        if self.calls.is_empty()
            || bytes.starts_with(b"SIP/2.0 100 ")
            || !(bytes.starts_with(b"SIP/2.0 ") || bytes.starts_with(b"BYE "))
        {
            return;
        }
        let Ok(msg) = Message::parse(bytes) else {
            return;
        };
        let Some(call_id) = msg.headers().get(HeaderName::CallId) else {
            return;
        };
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let call_id = call_id.to_string();
        match msg {
            Message::Request(req) if req.method == Method::Bye => self.bye(now, &call_id, book),
            Message::Response(resp) => {
                let is_invite = resp
                    .headers
                    .cseq()
                    .ok()
                    .is_some_and(|c| c.method == Method::Invite);
                if !is_invite || call.state != State::Offered {
                    return;
                }
                let tag = call.tag;
                match resp.status {
                    180..=189 => {
                        if let Some(tag) = tag {
                            book.note(now, tag, REMOTE_PARTY, CallNote::RingbackHeard);
                        }
                    }
                    200..=299 => {
                        call.state = State::Answered;
                        self.stats.answered += 1;
                        if let Some(tag) = tag {
                            book.note(now, tag, REMOTE_PARTY, CallNote::Answered);
                        }
                    }
                    300.. => {
                        if resp.status == 487 {
                            self.stats.cancelled += 1;
                        } else {
                            self.stats.failed += 1;
                        }
                        if let Some(tag) = tag {
                            let detail = format!("{} {}", resp.status, resp.reason);
                            let note = CallNote::FinalStatus {
                                status: resp.status,
                                detail,
                            };
                            book.note(now, tag, REMOTE_PARTY, note);
                        }
                        self.end(now, &call_id, book);
                    }
                    _ => {}
                }
            }
            Message::Request(_) => {}
        }
    }

    fn bye(&mut self, now: SimTime, call_id: &str, book: &mut CallBook) {
        if let Some(call) = self.calls.get(call_id) {
            if call.state == State::Answered {
                self.stats.completed += 1;
                self.end(now, call_id, book);
            }
        }
    }

    fn end(&mut self, now: SimTime, call_id: &str, book: &mut CallBook) {
        if let Some(call) = self.calls.remove(call_id) {
            self.released.extend(call.media);
            if let Some(tag) = call.tag {
                book.note(now, tag, REMOTE_PARTY, CallNote::Ended);
            }
            self.ended.push_back((now, call_id.to_string()));
            self.ended_set.insert(call_id.to_string());
        }
    }

    fn forget_old(&mut self, now: SimTime) {
        while let Some((t, _)) = self.ended.front() {
            if now.saturating_since(*t) <= REMEMBER {
                break;
            }
            if let Some((_, id)) = self.ended.pop_front() {
                self.ended_set.remove(&id);
            }
        }
    }
}

/// The script of a call from a remote peer: the dialled user answers after `after`; the
/// remote caller decides when to hang up, so its own timers never fire.
fn script_for(tag: CallTag, req: &Request, after: SimDuration) -> CallScript {
    let user_of = |h: HeaderName| {
        req.headers
            .get(h)
            .and_then(|v| NameAddr::parse(v).ok())
            .and_then(|a| a.uri.user().map(str::to_string))
            .unwrap_or_default()
    };
    let callee = req.uri.user().map(str::to_string).unwrap_or_default();
    let never = SimDuration::from_secs(365 * 24 * 3600);
    CallScript {
        tag,
        caller: user_of(HeaderName::From),
        dialled: callee.clone(),
        callee,
        anonymous: req.headers.contains(HeaderName::Privacy),
        callee_action: AnswerAction::Answer { after },
        holding: never,
        abandon_after: never,
        hold: None,
        transfer: None,
        forward: None,
        simul_ring: None,
        dtmf: None,
        secondary_ring: after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\n\
        From: sipp <sip:sipp@127.0.0.1:5061>;tag=1\r\n\
        To: service <sip:service@127.0.0.1:5060>\r\n\
        Call-ID: abc@127.0.0.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n\
        Content-Length: 0\r\n\r\n";

    fn response(status: u16, method: &str) -> String {
        format!(
            "SIP/2.0 {status} X\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\n\
             From: <sip:sipp@127.0.0.1>;tag=1\r\nTo: <sip:service@127.0.0.1>;tag=2\r\n\
             Call-ID: abc@127.0.0.1\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
        )
    }

    fn bye() -> String {
        INVITE
            .replace("INVITE sip", "BYE sip")
            .replace("1 INVITE", "2 BYE")
            .replace(
                "To: service <sip:service@127.0.0.1:5060>",
                "To: <sip:service@127.0.0.1>;tag=2",
            )
    }

    #[test]
    fn a_scripted_call_is_counted_noted_and_finished() {
        let mut book = CallBook::default();
        let mut inb = Inbound::new(Some(SimDuration::ZERO));
        let t = SimTime::from_millis;
        inb.on_received(t(0), INVITE.as_bytes(), &mut book);
        inb.on_received(t(1), INVITE.as_bytes(), &mut book); // retransmission
        assert_eq!(inb.stats.offered, 1);
        let tag = book
            .tag_of("abc@127.0.0.1")
            .expect("Call-ID bound to the script");
        let script = book.script(tag).unwrap();
        assert_eq!(
            (script.caller.as_str(), script.callee.as_str()),
            ("sipp", "service")
        );
        inb.on_sent(t(2), response(180, "INVITE").as_bytes(), &mut book);
        inb.on_sent(t(3), response(200, "INVITE").as_bytes(), &mut book);
        inb.on_sent(t(4), response(200, "INVITE").as_bytes(), &mut book); // 2xx retransmitted
        assert_eq!(inb.stats.answered, 1);
        inb.on_received(t(50), bye().as_bytes(), &mut book);
        assert_eq!(
            (inb.stats.completed, inb.stats.finished(), inb.open()),
            (1, 1, 0)
        );
        let log = book
            .pop_finished()
            .expect("no media was opened: the log is complete");
        assert_eq!(log.answered_at, Some(t(3)));
        assert_eq!(log.ringback_at, Some(t(2)));
        assert_eq!(log.ended_at, Some(t(50)));
        // A late INVITE retransmission of the ended call is not a new call.
        inb.on_received(t(60), INVITE.as_bytes(), &mut book);
        assert_eq!(inb.stats.offered, 1);
    }

    #[test]
    fn rejections_and_cancels_are_counted_apart_and_unscripted_calls_stay_out_of_the_book() {
        let mut book = CallBook::default();
        let mut inb = Inbound::new(None);
        inb.on_received(SimTime::ZERO, INVITE.as_bytes(), &mut book);
        assert_eq!(book.tag_of("abc@127.0.0.1"), None);
        // A final response to a non-INVITE (the CANCEL) changes nothing.
        inb.on_sent(SimTime::ZERO, response(200, "CANCEL").as_bytes(), &mut book);
        inb.on_sent(SimTime::ZERO, response(487, "INVITE").as_bytes(), &mut book);
        assert_eq!(inb.stats.cancelled, 1);
        let second = INVITE.replace("abc@", "def@");
        inb.on_received(SimTime::ZERO, second.as_bytes(), &mut book);
        let reject = response(486, "INVITE").replace("abc@", "def@");
        inb.on_sent(SimTime::ZERO, reject.as_bytes(), &mut book);
        assert_eq!(inb.stats.failed, 1);
        assert_eq!(inb.stats.finished(), 2);
        assert_eq!(book.open_calls(), 0);
    }
}
