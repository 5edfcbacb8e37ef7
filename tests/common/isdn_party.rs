//! A tiny PSTN for tests: the far end of the PBX's PRI. It places calls with SETUP, answers
//! SETUPs as each call's script says (busy, decline, ring, answer; IVR numbers play early
//! media with PROGRESS), hangs up, and notes what a PSTN caller observes. It opens no media:
//! the PBX terminates the media of the PSTN parties behind its PRI.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddrV4;
use std::rc::Rc;
use voicetwin::elements::callbook::CallNote;
use voicetwin::elements::host::Cx;
use voicetwin::elements::script::{AnswerAction, CallScript};
use voicetwin::elements::tdm::{CallRef, Cause, Channel, IsdnMessage};
use voicetwin::elements::timers::TimerQueue;
use voicetwin::elements::{CallTag, Command, NetworkElement, TdmPort};
use voicetwin::sim::{SimDuration, SimTime};

/// How the test PSTN behaves.
#[derive(Clone, Debug, Default)]
pub struct PstnBehaviour {
    /// Numbers that play early media (an IVR): PROGRESS instead of ALERTING.
    pub ivr: Vec<String>,
    /// The provider refuses forwarded/transferred/simul-ring calls that carry no
    /// redirecting number (call history), with cause 21.
    pub require_history: bool,
}

/// Every ISDN message the party received, with its time.
pub type IsdnLog = Rc<RefCell<Vec<(SimTime, IsdnMessage)>>>;

struct PCall {
    tag: CallTag,
    script: Option<Rc<CallScript>>,
    caller: bool,
    seized: Option<Channel>,
    answered: bool,
    ended: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PTimer {
    Answer(CallRef),
    Hangup(CallRef),
    Abandon(CallRef),
}

pub struct IsdnParty {
    name: String,
    port: TdmPort,
    cfg: PstnBehaviour,
    calls: HashMap<CallRef, PCall>,
    timers: TimerQueue<PTimer>,
    next_ref: u32,
    pub log: IsdnLog,
}

impl IsdnParty {
    pub fn new(name: &str, port: TdmPort, cfg: PstnBehaviour) -> Self {
        IsdnParty {
            name: name.into(),
            port,
            cfg,
            calls: HashMap::new(),
            timers: TimerQueue::default(),
            next_ref: 1,
            log: Rc::new(RefCell::new(Vec::new())),
        }
    }

    fn status_of(cause: Cause) -> u16 {
        if cause == Cause::CALL_REJECTED {
            603
        } else {
            cause.to_sip_status().unwrap_or(480)
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>, r: CallRef) {
        if let Some(c) = self.calls.remove(&r) {
            if let Some(ch) = c.seized {
                cx.release(self.port, ch);
            }
            if c.caller && !c.ended {
                cx.note(c.tag, CallNote::Ended);
            }
        }
    }

    fn disconnect(&mut self, cx: &mut Cx<'_>, r: CallRef, cause: Cause) {
        cx.send_isdn(self.port, IsdnMessage::Disconnect { call_ref: r, cause });
    }

    fn incoming(
        &mut self,
        cx: &mut Cx<'_>,
        r: CallRef,
        tag: CallTag,
        called: &str,
        redirecting: bool,
    ) {
        let now = cx.now();
        let script = cx.script(tag);
        cx.note(tag, CallNote::Hop);
        cx.send_isdn(self.port, IsdnMessage::CallProceeding { call_ref: r });
        self.calls.insert(
            r,
            PCall {
                tag,
                script: script.clone(),
                caller: false,
                seized: None,
                answered: false,
                ended: false,
            },
        );
        let redirected = script.as_ref().is_some_and(|s| {
            s.forward.as_ref().is_some_and(|f| f.target == called)
                || s.transfer.as_ref().is_some_and(|t| t.target == called)
                || s.simul_ring.as_ref().is_some_and(|x| x.target == called)
        });
        if self.cfg.require_history && redirected && !redirecting {
            return self.disconnect(cx, r, Cause::CALL_REJECTED);
        }
        let action = script.as_ref().map_or(
            AnswerAction::Answer {
                after: SimDuration::from_secs(1),
            },
            |s| s.action_for(called),
        );
        let ivr = self.cfg.ivr.iter().any(|n| n == called);
        match action {
            AnswerAction::Busy => self.disconnect(cx, r, Cause::USER_BUSY),
            AnswerAction::Decline => self.disconnect(cx, r, Cause::CALL_REJECTED),
            AnswerAction::Answer { after } => {
                self.alert(cx, r, ivr);
                self.timers.arm(now + after, PTimer::Answer(r));
            }
            AnswerAction::NoAnswer | AnswerAction::Voicemail { .. } => self.alert(cx, r, ivr),
        }
    }

    fn alert(&mut self, cx: &mut Cx<'_>, r: CallRef, ivr: bool) {
        let msg = if ivr {
            IsdnMessage::Progress { call_ref: r }
        } else {
            IsdnMessage::Alerting {
                call_ref: r,
                inband: false,
            }
        };
        cx.send_isdn(self.port, msg);
    }
}

impl NetworkElement for IsdnParty {
    fn name(&self) -> &str {
        &self.name
    }

    fn on_datagram(&mut self, _: &mut Cx<'_>, _: SocketAddrV4, _: SocketAddrV4, _: &[u8]) {}

    fn on_isdn(&mut self, cx: &mut Cx<'_>, _port: TdmPort, msg: IsdnMessage) {
        let now = cx.now();
        self.log.borrow_mut().push((now, msg.clone()));
        let r = msg.call_ref();
        match msg {
            IsdnMessage::Setup {
                call,
                called,
                redirecting,
                ..
            } => self.incoming(cx, r, call, &called, redirecting.is_some()),
            IsdnMessage::Alerting { .. } => {
                if let Some(c) = self.calls.get(&r).filter(|c| c.caller) {
                    cx.note(c.tag, CallNote::RingbackHeard);
                }
            }
            IsdnMessage::Connect { .. } => {
                cx.send_isdn(self.port, IsdnMessage::ConnectAck { call_ref: r });
                if let Some(c) = self.calls.get_mut(&r).filter(|c| c.caller) {
                    c.answered = true;
                    cx.note(c.tag, CallNote::Answered);
                    let holding = c.script.as_ref().map(|s| s.holding).unwrap_or_default();
                    self.timers.retain(|t| *t != PTimer::Abandon(r));
                    self.timers.arm(now + holding, PTimer::Hangup(r));
                }
            }
            IsdnMessage::Disconnect { cause, .. } => {
                cx.send_isdn(
                    self.port,
                    IsdnMessage::Release {
                        call_ref: r,
                        cause: Cause::NORMAL_CLEARING,
                    },
                );
                if let Some(c) = self.calls.get(&r).filter(|c| c.caller && !c.answered) {
                    cx.note(
                        c.tag,
                        CallNote::FinalStatus {
                            status: Self::status_of(cause),
                            detail: format!("ISDN cause {} {}", cause.0, cause.describe()),
                        },
                    );
                }
            }
            IsdnMessage::Release { .. } => {
                cx.send_isdn(
                    self.port,
                    IsdnMessage::ReleaseComplete {
                        call_ref: r,
                        cause: Cause::NORMAL_CLEARING,
                    },
                );
                self.finish(cx, r);
            }
            IsdnMessage::ReleaseComplete { .. } => self.finish(cx, r),
            _ => {}
        }
    }

    fn on_timeout(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now();
        while let Some(t) = self.timers.pop_due(now) {
            match t {
                PTimer::Answer(r) => {
                    if self.calls.contains_key(&r) {
                        cx.send_isdn(self.port, IsdnMessage::Connect { call_ref: r });
                    }
                }
                PTimer::Hangup(r) => {
                    if self.calls.contains_key(&r) {
                        self.disconnect(cx, r, Cause::NORMAL_CLEARING);
                    }
                }
                PTimer::Abandon(r) => {
                    if let Some(c) = self.calls.get(&r).filter(|c| !c.answered) {
                        cx.note(c.tag, CallNote::Abandoned);
                        self.disconnect(cx, r, Cause::NORMAL_CLEARING);
                    }
                }
            }
        }
    }

    fn poll_timeout(&self) -> Option<SimTime> {
        self.timers.next()
    }

    fn on_command(&mut self, cx: &mut Cx<'_>, command: Command) {
        let Command::PlaceCall { tag } = command else {
            return;
        };
        let Some(script) = cx.script(tag) else { return };
        let Ok(ch) = cx.seize(self.port) else {
            cx.note(tag, CallNote::Blocked);
            cx.note(tag, CallNote::Ended);
            return;
        };
        let r = CallRef(self.next_ref);
        self.next_ref += 1;
        let kind = cx.trunk_group(self.port).kind();
        cx.note(tag, CallNote::Hop);
        cx.send_isdn(
            self.port,
            IsdnMessage::Setup {
                call_ref: r,
                call: tag,
                called: script.dialled.clone(),
                calling: (!script.anonymous).then(|| script.caller.clone()),
                restricted: script.anonymous,
                redirecting: None,
                channel: ch.number(kind),
            },
        );
        self.timers
            .arm(cx.now() + script.abandon_after, PTimer::Abandon(r));
        self.calls.insert(
            r,
            PCall {
                tag,
                script: Some(script),
                caller: true,
                seized: Some(ch),
                answered: false,
                ended: false,
            },
        );
    }
}
