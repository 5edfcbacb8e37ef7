//! The call book: what every element reports about each end-to-end call, joined by
//! [`CallTag`] into one [`CallLog`] per call.
//!
//! Elements never see each other's state. They report [`CallNote`]s and media leg reports;
//! B2BUAs bind each new leg's Call-ID to the tag of the call it serves, so that the next
//! element can find the call's script. When the originating side reports the end and every
//! media session of the call has closed, the log is finished and handed to the layer above.

use super::script::CallScript;
use super::{CallOutcome, CallTag, ElementId};
use crate::sim::SimTime;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::rc::Rc;

/// Whose ear (or mouth) a media session stands for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartyRole {
    /// The party that placed the call.
    Caller,
    /// The party that received it (after forwarding or transfer: whoever took it).
    Callee,
    /// Any other endpoint (a transfer consultation, a relay's own leg).
    Other,
}

/// One codec stage on a media path (more than one when transcoded).
#[derive(Clone, Debug, PartialEq)]
pub struct StageReport {
    pub codec: &'static str,
    /// G.113 equipment impairment factor.
    pub ie: f64,
    /// G.113 packet-loss robustness factor.
    pub bpl: f64,
    /// Packet loss seen by this stage's decoder, percent (network and late).
    pub ppl: f64,
    /// G.107 burst ratio.
    pub burst_r: f64,
}

/// What one media session heard, reported when it closes.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaLegReport {
    pub role: PartyRole,
    /// The element that terminated the session (e.g. a gateway for a PSTN party).
    pub element: ElementId,
    pub codec: &'static str,
    pub stages: Vec<StageReport>,
    /// Mean mouth-to-ear delay of played audio, ms (None when nothing was played).
    pub mouth_to_ear_ms: Option<f64>,
    /// Slots lost (network + late) over slots decided.
    pub loss_fraction: f64,
    pub audio_packets: u64,
    pub audio_heard: bool,
    pub early_media_heard: bool,
    pub comfort_noise_played: bool,
    pub dtmf_digits: u32,
    pub dtmf_in_early_media: u32,
    /// Jitter and loss as the peer's RTCP receiver reports told this endpoint's monitoring;
    /// None when RTCP is off.
    pub monitor_jitter_ms: Option<f64>,
    pub monitor_loss_fraction: Option<f64>,
    /// The media went through a relay (Mediation Server without bypass).
    pub relayed: bool,
    pub opened_at: SimTime,
    pub closed_at: SimTime,
}

/// Something an element observed about a call.
#[derive(Clone, Debug, PartialEq)]
pub enum CallNote {
    /// The caller hears ringback (a local tone on 180, or in-band ringback).
    RingbackHeard,
    /// The caller hears early media (183 with SDP and audio from the far end).
    EarlyMediaHeard,
    /// The caller's side saw the answer.
    Answered,
    /// The call crossed this element (appended to the route).
    Hop,
    /// The element tried an alternate route or gateway after `status` (None: timeout or
    /// gateway marked down).
    Failover { status: Option<u16> },
    /// No channel or trunk was free at this element.
    Blocked,
    /// The element refused the call for lack of capacity (media, CAC, licences).
    RejectedCapacity,
    /// A vendor limitation acted on the call.
    Limitation(String),
    /// The caller's final failure status (SIP, or the SIP equivalent of an ISDN cause).
    FinalStatus { status: u16, detail: String },
    /// A party's client is left muted (e.g. after a failed hold).
    Muted,
    /// The caller gave up before answer.
    Abandoned,
    /// The caller's side is finished with the call.
    Ended,
}

/// Everything known about one call, once it is finished.
#[derive(Clone, Debug, PartialEq)]
pub struct CallLog {
    pub tag: CallTag,
    pub script: Rc<CallScript>,
    pub started_at: SimTime,
    pub ringback_at: Option<SimTime>,
    pub early_media_at: Option<SimTime>,
    pub answered_at: Option<SimTime>,
    pub ended_at: Option<SimTime>,
    pub outcome: CallOutcome,
    pub final_status: Option<u16>,
    pub detail: String,
    pub route: Vec<ElementId>,
    pub failovers: u32,
    pub limitations: BTreeSet<String>,
    pub muted: bool,
    pub media: Vec<MediaLegReport>,
    /// Every SIP Call-ID of the call's legs (for traces).
    pub call_ids: Vec<String>,
}

impl CallLog {
    /// The first media report for `role` that was connected (heard audio), else the first.
    pub fn media_for(&self, role: PartyRole) -> Option<&MediaLegReport> {
        let mut of_role = self.media.iter().filter(|m| m.role == role);
        let first = of_role.clone().next();
        of_role.find(|m| m.audio_heard).or(first)
    }

    /// Both parties heard audio after answer.
    pub fn two_way_audio(&self) -> bool {
        let heard = |r| self.media_for(r).is_some_and(|m| m.audio_heard);
        heard(PartyRole::Caller) && heard(PartyRole::Callee)
    }

    /// Answered, but only one party heard the other.
    pub fn one_way_audio(&self) -> bool {
        let heard = |r| self.media_for(r).is_some_and(|m| m.audio_heard);
        self.answered_at.is_some() && (heard(PartyRole::Caller) != heard(PartyRole::Callee))
    }
}

struct OpenCall {
    log: CallLog,
    ended: bool,
    blocked: bool,
    rejected_capacity: bool,
    abandoned: bool,
    open_media: u32,
    call_ids: Vec<String>,
}

/// Joins element reports into call logs.
#[derive(Default)]
pub struct CallBook {
    open: HashMap<CallTag, OpenCall>,
    by_call_id: HashMap<String, CallTag>,
    finished: VecDeque<CallLog>,
}

impl CallBook {
    /// Opens a call: its script is now visible to every element by tag.
    pub fn open(&mut self, now: SimTime, script: CallScript) {
        let tag = script.tag;
        let log = CallLog {
            tag,
            script: Rc::new(script),
            started_at: now,
            ringback_at: None,
            early_media_at: None,
            answered_at: None,
            ended_at: None,
            outcome: CallOutcome::Failed,
            final_status: None,
            detail: String::new(),
            route: Vec::new(),
            failovers: 0,
            limitations: BTreeSet::new(),
            muted: false,
            media: Vec::new(),
            call_ids: Vec::new(),
        };
        self.open.insert(
            tag,
            OpenCall {
                log,
                ended: false,
                blocked: false,
                rejected_capacity: false,
                abandoned: false,
                open_media: 0,
                call_ids: Vec::new(),
            },
        );
    }

    /// The script of an open call.
    pub fn script(&self, tag: CallTag) -> Option<Rc<CallScript>> {
        self.open.get(&tag).map(|c| Rc::clone(&c.log.script))
    }

    /// Binds a SIP Call-ID to a call, so later elements find the call by Call-ID.
    pub fn bind_call_id(&mut self, call_id: &str, tag: CallTag) {
        if let Some(call) = self.open.get_mut(&tag) {
            if self.by_call_id.insert(call_id.to_string(), tag).is_none() {
                call.call_ids.push(call_id.to_string());
            }
        }
    }

    /// The call a SIP Call-ID belongs to.
    pub fn tag_of(&self, call_id: &str) -> Option<CallTag> {
        self.by_call_id.get(call_id).copied()
    }

    /// The Call-IDs bound to an open call (for traces).
    pub fn call_ids(&self, tag: CallTag) -> &[String] {
        self.open
            .get(&tag)
            .map(|c| c.call_ids.as_slice())
            .unwrap_or(&[])
    }

    /// Records a note from `element` at `now`.
    pub fn note(&mut self, now: SimTime, tag: CallTag, element: ElementId, note: CallNote) {
        let Some(call) = self.open.get_mut(&tag) else {
            return;
        };
        let log = &mut call.log;
        match note {
            CallNote::RingbackHeard => {
                log.ringback_at.get_or_insert(now);
            }
            CallNote::EarlyMediaHeard => {
                log.early_media_at.get_or_insert(now);
            }
            CallNote::Answered => {
                log.answered_at.get_or_insert(now);
            }
            CallNote::Hop => {
                if log.route.last() != Some(&element) {
                    log.route.push(element);
                }
            }
            CallNote::Failover { .. } => log.failovers += 1,
            CallNote::Blocked => call.blocked = true,
            CallNote::RejectedCapacity => call.rejected_capacity = true,
            CallNote::Limitation(id) => {
                log.limitations.insert(id);
            }
            CallNote::FinalStatus { status, detail } => {
                log.final_status = Some(status);
                if !detail.is_empty() {
                    log.detail = detail;
                }
            }
            CallNote::Muted => log.muted = true,
            CallNote::Abandoned => call.abandoned = true,
            CallNote::Ended => {
                if !call.ended {
                    call.ended = true;
                    log.ended_at = Some(now);
                }
            }
        }
        self.try_finish(tag);
    }

    /// A media session of the call opened.
    pub fn media_opened(&mut self, tag: CallTag) {
        if let Some(call) = self.open.get_mut(&tag) {
            call.open_media += 1;
        }
    }

    /// A media session of the call closed with this report.
    pub fn media_closed(&mut self, tag: CallTag, report: MediaLegReport) {
        if let Some(call) = self.open.get_mut(&tag) {
            call.open_media = call.open_media.saturating_sub(1);
            call.log.media.push(report);
        }
        self.try_finish(tag);
    }

    fn try_finish(&mut self, tag: CallTag) {
        let done = self
            .open
            .get(&tag)
            .is_some_and(|c| c.ended && c.open_media == 0);
        if done {
            self.finish(tag, None);
        }
    }

    fn finish(&mut self, tag: CallTag, detail: Option<&str>) {
        let Some(mut call) = self.open.remove(&tag) else {
            return;
        };
        for id in &call.call_ids {
            self.by_call_id.remove(id);
        }
        call.log.call_ids = std::mem::take(&mut call.call_ids);
        if let Some(d) = detail {
            call.log.detail = d.to_string();
        }
        call.log.outcome = classify(&call);
        self.finished.push_back(call.log);
    }

    /// Takes the next finished call.
    pub fn pop_finished(&mut self) -> Option<CallLog> {
        self.finished.pop_front()
    }

    /// Number of calls still open.
    pub fn open_calls(&self) -> usize {
        self.open.len()
    }

    /// Finishes every open call at the end of a run (they count as failed unless answered),
    /// in tag order.
    pub fn finish_all(&mut self, now: SimTime) {
        let mut tags: Vec<CallTag> = self.open.keys().copied().collect();
        tags.sort();
        for tag in tags {
            if let Some(call) = self.open.get_mut(&tag) {
                call.log.ended_at.get_or_insert(now);
                if !call.ended {
                    call.ended = true;
                    if call.log.detail.is_empty() {
                        call.log.detail = "still up at the end of the run".into();
                    }
                }
            }
            self.finish(tag, None);
        }
    }
}

/// The outcome class of a finished call (DESIGN.md's `outcome` column).
fn classify(call: &OpenCall) -> CallOutcome {
    if call.log.answered_at.is_some() {
        return CallOutcome::Answered;
    }
    if call.abandoned {
        return CallOutcome::Abandoned;
    }
    if call.blocked {
        return CallOutcome::Blocked;
    }
    if call.rejected_capacity {
        return CallOutcome::RejectedCapacity;
    }
    match call.log.final_status {
        Some(486) | Some(600) => CallOutcome::Busy,
        Some(603) => CallOutcome::Declined,
        Some(480) | Some(487) => CallOutcome::NoAnswer,
        _ => CallOutcome::Failed,
    }
}
