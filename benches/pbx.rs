//! Calls per second of wall time through the IP-PBX: PSTN callers on the PRI reach Lync
//! users over the Direct SIP trunk (the Lync side is the tests' stand-in), with real SIP
//! bytes, Q.931 messages and RTP media (VAD on) for every call. Setup is outside the timing.
//!
//! `cargo bench --bench pbx`

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use voicetwin::sim::SimDuration;

const CALLS: u32 = 400;

fn setup(model: &str, holding_s: u64) -> Bench {
    let mut b = bench(model)
        .spans(20)
        .spec(|s| s.sip_trunk_calls = Some(1000))
        .build();
    for i in 0..CALLS {
        let mut s = script(u64::from(i) + 1, &pstn(i), &ev(i % 100));
        s.callee_action = voicetwin::elements::script::AnswerAction::Answer {
            after: SimDuration::from_secs(1),
        };
        s.holding = SimDuration::from_secs(holding_s);
        b.place(1.0 + f64::from(i) * 0.005, PSTN, s);
    }
    b
}

fn calls(c: &mut Criterion) {
    let mut g = c.benchmark_group("pbx");
    g.sample_size(10);
    g.throughput(Throughput::Elements(u64::from(CALLS)));
    for (name, model, holding) in [
        ("pstn-to-lync/siemens/2s", "siemens-openscape-voice-6", 2),
        ("pstn-to-lync/oxe/2s", "alcatel-oxe-r9.1", 2),
        ("pstn-to-lync/siemens/20s", "siemens-openscape-voice-6", 20),
    ] {
        g.bench_function(name, |bn| {
            bn.iter_batched(
                || setup(model, holding),
                |mut b| {
                    b.run(f64::from(holding as u32) + 10.0);
                    assert_eq!(b.h.logs.len(), CALLS as usize);
                    black_box(b.h.logs.len())
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, calls);
criterion_main!(benches);
