//! A set of named deadlines: one entry per key, earliest first.

use super::hash::FastMap;
use crate::sim::SimTime;
use std::collections::BTreeSet;
use std::hash::Hash;

/// Deadlines keyed by `K`. Setting a key replaces its previous deadline; iteration order
/// is (time, key), so it never depends on hashing.
#[derive(Debug)]
pub(crate) struct TimerSet<K: Ord + Copy + Hash> {
    at: FastMap<K, SimTime>,
    queue: BTreeSet<(SimTime, K)>,
}

impl<K: Ord + Copy + Hash> TimerSet<K> {
    pub(crate) fn new() -> Self {
        TimerSet {
            at: FastMap::default(),
            queue: BTreeSet::new(),
        }
    }

    pub(crate) fn set(&mut self, key: K, when: Option<SimTime>) {
        if let Some(old) = self.at.remove(&key) {
            self.queue.remove(&(old, key));
        }
        if let Some(t) = when {
            self.at.insert(key, t);
            self.queue.insert((t, key));
        }
    }

    pub(crate) fn next(&self) -> Option<SimTime> {
        self.queue.first().map(|(t, _)| *t)
    }

    /// Removes and returns the earliest key due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: SimTime) -> Option<K> {
        let &(t, k) = self.queue.first()?;
        if t > now {
            return None;
        }
        self.queue.remove(&(t, k));
        self.at.remove(&k);
        Some(k)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.at.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_orders() {
        let mut t = TimerSet::new();
        t.set(1u32, Some(SimTime::from_secs(5)));
        t.set(2u32, Some(SimTime::from_secs(3)));
        t.set(1u32, Some(SimTime::from_secs(1)));
        t.set(3u32, Some(SimTime::from_secs(3)));
        t.set(3u32, None);
        assert_eq!(t.len(), 2);
        assert_eq!(t.next(), Some(SimTime::from_secs(1)));
        assert_eq!(t.pop_due(SimTime::from_secs(4)), Some(1));
        assert_eq!(t.pop_due(SimTime::from_secs(4)), Some(2));
        assert_eq!(t.pop_due(SimTime::from_secs(4)), None);
    }
}
