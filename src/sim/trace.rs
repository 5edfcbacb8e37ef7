//! Event traces and run fingerprints.
//!
//! As in OMNeT++ fingerprint tests, a run's fingerprint is a hash of its event trajectory:
//! every processed event contributes (time, component, kind). A change that should not alter
//! behaviour leaves the fingerprint unchanged.

use super::rng::Fnv1a;
use super::time::SimTime;
use std::fmt::Write as _;

/// What an event says about itself for the trace.
pub trait TraceEvent {
    /// The stable name of the component that handles the event (e.g. `link:fe1-med1`).
    fn component(&self) -> std::borrow::Cow<'_, str>;
    /// The kind of event (e.g. `arrive`, `timer`).
    fn kind(&self) -> &'static str;
}

/// How much of the trajectory to keep.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum TraceMode {
    /// Keep nothing (the default; zero cost).
    #[default]
    Off,
    /// Hash the trajectory, keep no lines.
    Fingerprint,
    /// Hash the trajectory and keep one text line per event.
    Full,
}

/// A running trace of processed events.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    mode: TraceMode,
    hash: Fnv1a,
    events: u64,
    lines: String,
}

impl Trace {
    pub fn new(mode: TraceMode) -> Self {
        Trace {
            mode,
            hash: Fnv1a::new(),
            events: 0,
            lines: String::new(),
        }
    }

    pub fn mode(&self) -> TraceMode {
        self.mode
    }

    /// Records one processed event.
    pub fn record(&mut self, time: SimTime, component: &str, kind: &str) {
        if self.mode == TraceMode::Off {
            return;
        }
        self.events += 1;
        self.hash.write_u64(time.as_nanos());
        self.hash.write(component.as_bytes());
        self.hash.write(&[0]);
        self.hash.write(kind.as_bytes());
        self.hash.write(&[0]);
        if self.mode == TraceMode::Full {
            // Writing to a String cannot fail.
            let _ = writeln!(self.lines, "{time} {component} {kind}");
        }
    }

    /// The fingerprint of the trajectory so far.
    pub fn fingerprint(&self) -> u64 {
        self.hash.finish()
    }

    /// Number of events recorded.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The text trace (empty unless the mode is [`TraceMode::Full`]).
    pub fn lines(&self) -> &str {
        &self.lines
    }
}
