//! `sim`: the deterministic discrete-event kernel.
//!
//! Virtual time is a `u64` count of nanoseconds ([`SimTime`], [`SimDuration`]). The
//! [`Scheduler`] holds the future event list, ordered by `(time, sequence number given at
//! scheduling)`, so equal-time events run in the order they were scheduled. A [`Model`]
//! handles one event at a time and may schedule or cancel others. Randomness comes only from
//! [`RngFactory`] streams named by (seed, component, purpose). An optional [`Trace`] hashes
//! the trajectory into a run fingerprint.
//!
//! This layer must never read the wall clock, OS entropy or iterate a `HashMap` into
//! anything observable. It depends on nothing else in the crate.

mod queue;
mod rng;
mod time;
mod trace;

pub use queue::{EventId, EventQueue};
pub use rng::{Fnv1a, RngFactory, SimRng, derive_seed, splitmix64, stable_hash};
pub use time::{SimDuration, SimTime};
pub use trace::{Trace, TraceEvent, TraceMode};

/// Something that reacts to events in virtual time.
pub trait Model {
    type Event: TraceEvent;
    /// Handles one event at `sched.now()`.
    fn handle(&mut self, sched: &mut Scheduler<Self::Event>, event: Self::Event);
}

/// The clock and the future event list of one run.
pub struct Scheduler<E> {
    now: SimTime,
    queue: EventQueue<E>,
    trace: Trace,
    processed: u64,
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Scheduler<E> {
    pub fn new() -> Self {
        Self::with_trace(TraceMode::Off)
    }

    pub fn with_trace(mode: TraceMode) -> Self {
        Scheduler {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            trace: Trace::new(mode),
            processed: 0,
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `at`. A time in the past is taken as now: the kernel never goes
    /// back in time.
    pub fn schedule_at(&mut self, at: SimTime, event: E) -> EventId {
        self.queue.push(at.max(self.now), event)
    }

    /// Schedules `event` after `delay`.
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) -> EventId {
        self.queue.push(self.now + delay, event)
    }

    /// Cancels a pending event; false if it already ran or was cancelled.
    pub fn cancel(&mut self, id: EventId) -> bool {
        self.queue.cancel(id)
    }

    /// Number of pending events.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Number of events processed so far.
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// The time of the next pending event.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Takes the next event at or before `until` and advances the clock to it.
    pub fn next_event(&mut self, until: SimTime) -> Option<E>
    where
        E: TraceEvent,
    {
        if self.queue.peek_time()? > until {
            return None;
        }
        let (time, _, event) = self.queue.pop()?;
        self.now = time;
        self.processed += 1;
        if self.trace.mode() != TraceMode::Off {
            self.trace.record(time, &event.component(), event.kind());
        }
        Some(event)
    }

    /// Runs `model` until no event is left at or before `until`, then sets the clock to
    /// `until` (unless `until` is [`SimTime::MAX`]).
    pub fn run_until<M: Model<Event = E>>(&mut self, model: &mut M, until: SimTime)
    where
        E: TraceEvent,
    {
        while let Some(event) = self.next_event(until) {
            model.handle(self, event);
        }
        if until != SimTime::MAX {
            self.now = self.now.max(until);
        }
    }

    /// Runs `model` until the queue is empty.
    pub fn run<M: Model<Event = E>>(&mut self, model: &mut M)
    where
        E: TraceEvent,
    {
        self.run_until(model, SimTime::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use std::borrow::Cow;

    #[derive(Debug)]
    enum Ev {
        Tick(u32),
        Stop,
    }

    impl TraceEvent for Ev {
        fn component(&self) -> Cow<'_, str> {
            match self {
                Ev::Tick(n) => Cow::Owned(format!("ticker{n}")),
                Ev::Stop => Cow::Borrowed("stopper"),
            }
        }
        fn kind(&self) -> &'static str {
            match self {
                Ev::Tick(_) => "tick",
                Ev::Stop => "stop",
            }
        }
    }

    struct Ticker {
        rng: SimRng,
        seen: Vec<(SimTime, u32)>,
        stop: Option<EventId>,
    }

    impl Model for Ticker {
        type Event = Ev;
        fn handle(&mut self, s: &mut Scheduler<Ev>, ev: Ev) {
            match ev {
                Ev::Tick(n) => {
                    self.seen.push((s.now(), n));
                    if n < 50 {
                        let d = SimDuration::from_micros(self.rng.random_range(0..1000));
                        s.schedule_in(d, Ev::Tick(n + 1));
                    }
                    if n == 10 {
                        if let Some(id) = self.stop.take() {
                            assert!(s.cancel(id));
                        }
                    }
                }
                Ev::Stop => panic!("cancelled event ran"),
            }
        }
    }

    fn run(seed: u64) -> (u64, Vec<(SimTime, u32)>) {
        let mut s = Scheduler::with_trace(TraceMode::Full);
        let mut m = Ticker {
            rng: RngFactory::new(seed).stream("ticker", "gap"),
            seen: vec![],
            stop: None,
        };
        m.stop = Some(s.schedule_at(SimTime::from_secs(100), Ev::Stop));
        s.schedule_at(SimTime::ZERO, Ev::Tick(0));
        s.run(&mut m);
        (s.trace().fingerprint(), m.seen)
    }

    #[test]
    fn same_seed_same_fingerprint_other_seed_differs() {
        let (a, seen_a) = run(7);
        let (b, seen_b) = run(7);
        let (c, _) = run(8);
        assert_eq!(a, b);
        assert_eq!(seen_a, seen_b);
        assert_ne!(a, c);
        assert_eq!(seen_a.len(), 51);
    }

    #[test]
    fn run_until_stops_at_the_horizon() {
        let mut s = Scheduler::new();
        let mut m = Ticker {
            rng: RngFactory::new(1).stream("t", "g"),
            seen: vec![],
            stop: None,
        };
        s.schedule_at(SimTime::from_secs(1), Ev::Tick(50));
        s.schedule_at(SimTime::from_secs(3), Ev::Tick(50));
        s.run_until(&mut m, SimTime::from_secs(2));
        assert_eq!(m.seen.len(), 1);
        assert_eq!(s.now(), SimTime::from_secs(2));
        assert_eq!(s.pending(), 1);
    }
}
