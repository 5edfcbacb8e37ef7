//! PBX stations: the phones of the PBX's extensions (TDM or proprietary sets, no SIP on the
//! network), each with an observable line state and display, plus hunt groups, static
//! call forwarding and the remote-call-control (RCC) log.

use super::call::CallKey;
use crate::sim::SimTime;
pub use crate::vendor::LineState;
use std::collections::BTreeMap;

/// One phone on the PBX.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Station {
    pub number: String,
    pub line: LineState,
    /// The number the display shows as the other party: the caller while ringing, the
    /// connected party during a call, nothing when idle.
    pub display: Option<String>,
    /// The party the display showed when the last call ended.
    pub last_display: Option<String>,
    /// Tones the PBX played to this phone's user, in order (e.g. ringback during a
    /// transfer), with their start times.
    pub tones: Vec<(SimTime, StationTone)>,
    pub(crate) call: Option<(CallKey, usize)>,
}

/// A tone the PBX plays to one of its parties (a phone, or a PSTN line in-band).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StationTone {
    Ringback,
    Overflow,
}

/// A line-state report sent to the Lync side by remote call control.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RccEvent {
    pub at: SimTime,
    pub number: String,
    pub state: LineState,
}

/// When static call forwarding applies.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ForwardWhen {
    /// Call forward all.
    All,
    /// Call forward busy.
    Busy,
    /// Call forward on no answer after this many seconds.
    NoAnswer { after_s: u32 },
}

/// A static forward of one extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StaticForward {
    pub when: ForwardWhen,
    pub target: String,
}

/// A hunt group: a pilot number whose calls go to the first idle member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HuntGroup {
    pub pilot: String,
    pub members: Vec<String>,
}

/// Every station of the PBX, created on first use (ranges can be large).
#[derive(Debug, Default)]
pub(crate) struct Stations {
    map: BTreeMap<String, Station>,
    pub forwards: BTreeMap<String, Vec<StaticForward>>,
    pub hunt_groups: Vec<HuntGroup>,
    pub rcc: bool,
    pub rcc_log: Vec<RccEvent>,
    /// Line-state changes waiting to be sent by RCC.
    pub rcc_pending: Vec<RccEvent>,
}

impl Stations {
    pub fn get(&self, number: &str) -> Option<&Station> {
        self.map.get(number)
    }

    pub fn station(&mut self, number: &str) -> &mut Station {
        self.map
            .entry(number.to_string())
            .or_insert_with(|| Station {
                number: number.to_string(),
                line: LineState::Idle,
                display: None,
                last_display: None,
                tones: Vec::new(),
                call: None,
            })
    }

    pub fn is_busy(&self, number: &str) -> bool {
        self.map.get(number).is_some_and(|s| s.call.is_some())
    }

    pub fn all(&self) -> impl Iterator<Item = &Station> {
        self.map.values()
    }

    /// Changes a line state, recording an RCC report when it changed.
    pub fn set_line(&mut self, now: SimTime, number: &str, line: LineState) {
        let rcc = self.rcc;
        let st = self.station(number);
        if st.line == line {
            return;
        }
        st.line = line;
        if rcc {
            let ev = RccEvent {
                at: now,
                number: number.to_string(),
                state: line,
            };
            self.rcc_log.push(ev.clone());
            self.rcc_pending.push(ev);
        }
    }

    /// Seizes a station for a call leg (ringing or calling out).
    pub fn occupy(&mut self, now: SimTime, number: &str, at: (CallKey, usize), line: LineState) {
        self.station(number).call = Some(at);
        self.set_line(now, number, line);
    }

    /// Frees a station when its leg ends (only if it still belongs to that leg).
    pub fn free(&mut self, now: SimTime, number: &str, at: (CallKey, usize)) {
        let st = self.station(number);
        if st.call != Some(at) {
            return;
        }
        st.call = None;
        if st.display.is_some() {
            st.last_display = st.display.take();
        }
        self.set_line(now, number, LineState::Idle);
    }

    /// Moves a station's leg to another call/leg (a transfer joins it to a new bridge).
    pub fn rebind(&mut self, number: &str, at: (CallKey, usize)) {
        self.station(number).call = Some(at);
    }

    pub fn set_display(&mut self, number: &str, shows: Option<String>) {
        self.station(number).display = shows;
    }

    pub fn tone(&mut self, now: SimTime, number: &str, tone: StationTone) {
        self.station(number).tones.push((now, tone));
    }

    /// The static forward of `number` that applies `when`.
    pub fn forward(&self, number: &str, when: fn(&ForwardWhen) -> bool) -> Option<&StaticForward> {
        self.forwards.get(number)?.iter().find(|f| when(&f.when))
    }

    /// The first idle member of a hunt group (linear hunting).
    pub fn hunt(&self, group: &HuntGroup) -> Option<String> {
        group.members.iter().find(|m| !self.is_busy(m)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_changes_are_reported_once_and_freed_only_by_the_owner() {
        let mut s = Stations {
            rcc: true,
            ..Default::default()
        };
        let t = SimTime::from_secs(1);
        s.occupy(t, "+1", (7, 1), LineState::Ringing);
        s.set_line(t, "+1", LineState::Ringing);
        s.set_line(t, "+1", LineState::Busy);
        s.free(t, "+1", (8, 1));
        assert!(s.is_busy("+1"), "another call's leg cannot free it");
        s.free(t, "+1", (7, 1));
        let states: Vec<LineState> = s.rcc_log.iter().map(|e| e.state).collect();
        assert_eq!(
            states,
            [LineState::Ringing, LineState::Busy, LineState::Idle]
        );
        let g = HuntGroup {
            pilot: "+100".into(),
            members: vec!["+1".into(), "+2".into()],
        };
        s.occupy(t, "+1", (9, 1), LineState::Busy);
        assert_eq!(s.hunt(&g).as_deref(), Some("+2"));
    }
}
