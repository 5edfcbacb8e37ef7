//! A per-element timer queue: many logical timers behind the element's one kernel timer.

use crate::sim::SimTime;
use std::collections::BTreeMap;

/// Names one armed timer so it can be cancelled.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(SimTime, u64);

/// Timers ordered by (time, arming order), like the kernel's queue.
#[derive(Clone, Debug)]
pub struct TimerQueue<T> {
    timers: BTreeMap<(SimTime, u64), T>,
    seq: u64,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue {
            timers: BTreeMap::new(),
            seq: 0,
        }
    }
}

impl<T> TimerQueue<T> {
    /// Arms a timer at `at`.
    pub fn arm(&mut self, at: SimTime, what: T) -> TimerId {
        let id = TimerId(at, self.seq);
        self.seq += 1;
        self.timers.insert((id.0, id.1), what);
        id
    }

    /// Cancels a timer; false if it already fired or was cancelled.
    pub fn cancel(&mut self, id: TimerId) -> bool {
        self.timers.remove(&(id.0, id.1)).is_some()
    }

    /// The earliest armed time.
    pub fn next(&self) -> Option<SimTime> {
        self.timers.keys().next().map(|(t, _)| *t)
    }

    /// Takes the earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: SimTime) -> Option<T> {
        let (&key, _) = self.timers.iter().next()?;
        if key.0 > now {
            return None;
        }
        self.timers.remove(&key)
    }

    /// Drops every timer for which `keep` is false.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.timers.retain(|_, v| keep(v));
    }

    pub fn len(&self) -> usize {
        self.timers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_time_then_arming_order_and_cancels() {
        let mut q = TimerQueue::default();
        let t = SimTime::from_secs(1);
        q.arm(t, 'b');
        let a = q.arm(SimTime::from_millis(500), 'a');
        q.arm(t, 'c');
        assert_eq!(q.next(), Some(SimTime::from_millis(500)));
        assert!(q.cancel(a));
        assert!(!q.cancel(a));
        assert_eq!(q.pop_due(SimTime::from_millis(999)), None);
        assert_eq!(q.pop_due(t), Some('b'));
        assert_eq!(q.pop_due(t), Some('c'));
        assert!(q.is_empty());
    }
}
