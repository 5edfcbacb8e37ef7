//! Kernel event throughput against a bare binary heap, in the same run.
//!
//! Both sides run the classic "hold" model: a future event list kept at `PENDING` events;
//! each step pops the earliest event and schedules one at a pseudo-random later time (the
//! same increments on both sides, from a xorshift generator). The bare side pushes and pops
//! `Reverse<(u64, u64)>` (time, sequence) keys; the kernel side goes through
//! `Scheduler::schedule_at` and `Scheduler::next_event` with a small event payload, its
//! slab, cancellation bookkeeping and trace check.
//!
//! `cargo bench --bench kernel`; compare the two `time` lines (target: scheduler ≤ 2× heap).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use voicetwin::sim::{Scheduler, SimTime, TraceEvent};

const PENDING: u64 = 10_000;
const STEPS: u64 = 1_000_000;

/// A typical small event: a component index and an item index.
#[derive(Copy, Clone, Debug)]
struct Ev {
    component: u32,
    item: u32,
}

impl TraceEvent for Ev {
    fn component(&self) -> Cow<'_, str> {
        Cow::Borrowed("bench")
    }
    fn kind(&self) -> &'static str {
        "hold"
    }
}

/// Increments in 0..2^20 ns from xorshift64.
struct Increments(u64);

impl Increments {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 & 0xF_FFFF
    }
}

fn bare_heap() -> u64 {
    let mut inc = Increments(0x9E37_79B9_7F4A_7C15);
    let mut heap = BinaryHeap::with_capacity(PENDING as usize);
    let mut seq = 0u64;
    for _ in 0..PENDING {
        heap.push(Reverse((inc.next(), seq)));
        seq += 1;
    }
    let mut checksum = 0u64;
    for _ in 0..STEPS {
        let Some(Reverse((t, s))) = heap.pop() else {
            break;
        };
        checksum = checksum.wrapping_add(s);
        heap.push(Reverse((t + inc.next(), seq)));
        seq += 1;
    }
    checksum
}

fn scheduler(mut sched: Scheduler<Ev>) -> u64 {
    let mut inc = Increments(0x9E37_79B9_7F4A_7C15);
    for i in 0..PENDING {
        let ev = Ev {
            component: (i % 64) as u32,
            item: i as u32,
        };
        sched.schedule_at(SimTime::from_nanos(inc.next()), ev);
    }
    let mut checksum = 0u64;
    for _ in 0..STEPS {
        let Some(ev) = sched.next_event(SimTime::MAX) else {
            break;
        };
        checksum = checksum.wrapping_add(u64::from(ev.item ^ ev.component));
        let at = SimTime::from_nanos(sched.now().as_nanos() + inc.next());
        sched.schedule_at(at, ev);
    }
    checksum
}

fn hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernel_hold_10k_pending");
    g.throughput(Throughput::Elements(STEPS));
    g.sample_size(20);
    g.bench_function("bare_binary_heap", |b| b.iter(|| black_box(bare_heap())));
    g.bench_function("scheduler", |b| {
        b.iter_batched(
            Scheduler::<Ev>::new,
            |s| black_box(scheduler(s)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // No plots: they need system fonts, and the figures are what matters.
    config = Criterion::default().without_plots();
    targets = hold
}
criterion_main!(benches);
