//! The future event list: a binary heap ordered by `(time, sequence)`.
//!
//! The sequence number is given at scheduling, so events at the same instant run in the
//! order they were scheduled. Event payloads live in a slab beside the heap; the heap holds
//! only 24-byte keys, and cancelling frees the payload at once (exact, no tombstones).

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Names one scheduled event, so that it can be cancelled.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId {
    seq: u64,
    slot: u32,
}

impl EventId {
    /// The sequence number given at scheduling.
    pub fn seq(self) -> u64 {
        self.seq
    }
}

#[derive(Copy, Clone, PartialEq, Eq)]
struct Key {
    time: SimTime,
    seq: u64,
    slot: u32,
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse so the earliest (time, seq) pops first.
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

struct Slot<E> {
    /// Sequence number of the event that owns the slot; the slot is free when `event` is None.
    seq: u64,
    event: Option<E>,
}

/// A deterministic priority queue of events.
pub struct EventQueue<E> {
    heap: BinaryHeap<Key>,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    next_seq: u64,
    pending: usize,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            pending: 0,
        }
    }

    /// Schedules `event` at `time` and returns its id.
    pub fn push(&mut self, time: SimTime, event: E) -> EventId {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Slot {
                    seq,
                    event: Some(event),
                };
                slot
            }
            None => {
                // A run never holds 2^32 pending events (that would be > 100 GB of payloads).
                let slot = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(Slot {
                    seq,
                    event: Some(event),
                });
                slot
            }
        };
        self.heap.push(Key { time, seq, slot });
        self.pending += 1;
        EventId { seq, slot }
    }

    /// Cancels a pending event. Returns false if it already ran or was cancelled.
    pub fn cancel(&mut self, id: EventId) -> bool {
        match self.slots.get_mut(id.slot as usize) {
            Some(slot) if slot.seq == id.seq && slot.event.is_some() => {
                slot.event = None;
                self.free.push(id.slot);
                self.pending -= 1;
                true
            }
            _ => false,
        }
    }

    /// Removes and returns the earliest pending event.
    pub fn pop(&mut self) -> Option<(SimTime, EventId, E)> {
        while let Some(key) = self.heap.pop() {
            let slot = &mut self.slots[key.slot as usize];
            if slot.seq != key.seq {
                continue; // cancelled, and the slot was reused
            }
            if let Some(event) = slot.event.take() {
                self.free.push(key.slot);
                self.pending -= 1;
                return Some((
                    key.time,
                    EventId {
                        seq: key.seq,
                        slot: key.slot,
                    },
                    event,
                ));
            }
        }
        None
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        loop {
            let key = *self.heap.peek()?;
            let slot = &self.slots[key.slot as usize];
            if slot.seq == key.seq && slot.event.is_some() {
                return Some(key.time);
            }
            self.heap.pop();
        }
    }

    /// Number of pending (scheduled, not cancelled, not yet run) events.
    pub fn len(&self) -> usize {
        self.pending
    }

    pub fn is_empty(&self) -> bool {
        self.pending == 0
    }

    /// Total number of events ever scheduled.
    pub fn scheduled_total(&self) -> u64 {
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_scheduling_order() {
        let mut q = EventQueue::new();
        let t = SimTime::from_millis(5);
        q.push(t, "b1");
        q.push(SimTime::from_millis(1), "a");
        q.push(t, "b2");
        q.push(t, "b3");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(order, ["a", "b1", "b2", "b3"]);
    }

    #[test]
    fn cancel_is_exact_even_after_slot_reuse() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime::from_secs(1), 'a');
        assert!(q.cancel(a));
        assert!(!q.cancel(a), "second cancel is a no-op");
        let b = q.push(SimTime::from_secs(2), 'b'); // reuses a's slot
        assert!(!q.cancel(a), "stale id must not cancel the new occupant");
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some((SimTime::from_secs(2), b, 'b')));
        assert!(q.pop().is_none());
        assert!(!q.cancel(b), "cancelling an event that ran returns false");
    }

    #[test]
    fn peek_skips_cancelled() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime::from_secs(1), 1);
        q.push(SimTime::from_secs(3), 3);
        q.cancel(a);
        assert_eq!(q.peek_time(), Some(SimTime::from_secs(3)));
    }
}
