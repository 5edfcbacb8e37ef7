//! Throughput of the statistics on the per-call hot path (histogram, Welford) and of the
//! one-off computations (Erlang B inverse, capacity chart rendering).

use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use std::hint::black_box;
use voicetwin::metrics::erlang::{erlang_b, offered_load_for_gos};
use voicetwin::metrics::{Histogram, Welford};
use voicetwin::report::charts::{
    CapacityChart, ErlangBOverlay, Series, SeriesPoint, register_embedded_font, render_svg,
};

/// 100k post-dial delays (ms) spread over three decades, from a fixed LCG.
fn samples() -> Vec<f64> {
    let mut s: u64 = 42;
    (0..100_000)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            10.0 * f64::powf(1000.0, u)
        })
        .collect()
}

fn per_call(c: &mut Criterion) {
    let xs = samples();
    let mut g = c.benchmark_group("per_call");
    g.throughput(Throughput::Elements(xs.len() as u64));
    g.bench_function("histogram_record_100k", |b| {
        b.iter_batched(
            Histogram::new,
            |mut h| {
                for &x in &xs {
                    h.try_record(x).unwrap();
                }
                h
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("welford_push_100k", |b| {
        b.iter_batched(
            Welford::new,
            |mut w| {
                for &x in &xs {
                    w.try_push(x).unwrap();
                }
                w
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();

    let mut h = Histogram::new();
    xs.iter().for_each(|&x| h.try_record(x).unwrap());
    c.bench_function("histogram_p95_bucketed", |b| {
        b.iter(|| h.quantile(black_box(0.95)))
    });
}

fn erlang(c: &mut Criterion) {
    c.bench_function("erlang_b_n1000", |b| {
        b.iter(|| erlang_b(black_box(1000), black_box(950.0)))
    });
    c.bench_function("offered_load_for_gos_n100", |b| {
        b.iter(|| offered_load_for_gos(black_box(100), black_box(0.01)))
    });
}

fn chart(c: &mut Criterion) {
    let mut chart = CapacityChart::new("bench");
    chart.blocking = (0..3)
        .map(|k| {
            Series::new(
                format!("deployment {k}"),
                (0..12).map(|i| {
                    let a = 10.0 + 2.0 * f64::from(i);
                    let b = erlang_b(23 + 4 * k, a).unwrap();
                    SeriesPoint::new(a, b, Some((0.8 * b, (1.2 * b).min(1.0))))
                }),
            )
        })
        .collect();
    chart.erlang_b = vec![ErlangBOverlay::new(23)];
    c.bench_function("capacity_chart_svg", |b| {
        b.iter(|| render_svg(&chart).unwrap().len())
    });
}

criterion_group!(benches, per_call, erlang, chart);

fn main() {
    // plotters is built with ab_glyph only, so criterion's own report plots need the
    // embedded font registered before they are drawn.
    register_embedded_font().expect("embedded font");
    benches();
    Criterion::default().configure_from_args().final_summary();
}
