//! What a trace records: every datagram and ISDN message, or only those of one call.

use super::super::callbook::CallBook;
use super::super::tdm::{CallRef, IsdnMessage};
use super::super::{CallTag, ElementId, TdmPort};
use super::Captured;
use super::media::MediaEngine;
use crate::net::Packet;
use crate::sim::SimTime;
use crate::sip::wire::{HeaderName, Message};
use std::collections::BTreeSet;

/// The recording of one run.
pub(crate) struct Capture {
    filter: Option<CallTag>,
    items: Vec<Captured>,
    /// (link, call reference) of the watched call's ISDN calls, learnt from its SETUPs.
    isdn_calls: BTreeSet<(u32, CallRef)>,
    /// Call-IDs of the watched call's SIP dialogs, so that messages after the call book
    /// has forgotten the call (the 200 OK to its BYE) are still recorded.
    call_ids: BTreeSet<String>,
}

impl Capture {
    pub(crate) fn new(filter: Option<CallTag>) -> Self {
        Capture {
            filter,
            items: Vec::new(),
            isdn_calls: BTreeSet::new(),
            call_ids: BTreeSet::new(),
        }
    }

    pub(crate) fn into_items(self) -> Vec<Captured> {
        self.items
    }

    pub(crate) fn datagram(
        &mut self,
        time: SimTime,
        packet: &Packet,
        delivered: bool,
        media: bool,
        calls: &CallBook,
        engine: &MediaEngine,
    ) {
        if let Some(tag) = self.filter {
            let belongs = if media {
                engine.tag_at(&packet.dst) == Some(tag) || engine.tag_at(&packet.src) == Some(tag)
            } else {
                let call_id = Message::parse(&packet.payload)
                    .ok()
                    .and_then(|m| m.headers().get(HeaderName::CallId).map(str::to_owned));
                match call_id {
                    Some(id) if self.call_ids.contains(&id) => true,
                    Some(id) if calls.tag_of(&id) == Some(tag) => {
                        self.call_ids.insert(id);
                        true
                    }
                    _ => false,
                }
            };
            if !belongs {
                return;
            }
        }
        self.items.push(Captured::Datagram {
            time,
            packet: packet.clone(),
            delivered,
            media,
        });
    }

    pub(crate) fn isdn(
        &mut self,
        time: SimTime,
        port: TdmPort,
        from: ElementId,
        to: ElementId,
        msg: &IsdnMessage,
    ) {
        if let Some(tag) = self.filter {
            let key = (port.link, msg.call_ref());
            if let IsdnMessage::Setup { call, .. } = msg {
                if *call == tag {
                    self.isdn_calls.insert(key);
                }
            }
            if !self.isdn_calls.contains(&key) {
                return;
            }
        }
        self.items.push(Captured::Isdn {
            time,
            from,
            to,
            label: msg.label(),
        });
    }
}
