//! Charts: every chart type renders to SVG and PNG, deterministically, from plain data.
//!
//! Set `VOICETWIN_CHART_DIR=/some/dir` to also write the sample charts there for a visual
//! check (they go to a temporary directory otherwise).

use std::path::PathBuf;
use voicetwin::metrics::Histogram;
use voicetwin::metrics::erlang::erlang_b;
use voicetwin::report::ReportError;
use voicetwin::report::charts::{
    BarChart, BarSeries, CapacityChart, CdfChart, CdfSeries, Chart, ComparisonChart,
    ComparisonMetric, ErlangBOverlay, Estimate, HeatmapChart, Series, SeriesPoint, render_svg,
    write_chart,
};

/// A band of ±`rel` around `v`, as a 95% interval.
fn band(v: f64, rel: f64) -> Option<(f64, f64)> {
    Some(((v * (1.0 - rel)).max(0.0), (v * (1.0 + rel)).min(1.0)))
}

fn capacity_chart() -> CapacityChart {
    let loads: Vec<f64> = (0..9).map(|i| 8.0 + 2.0 * f64::from(i)).collect();
    // Incremental: one T1 (23 B-channels) is the bottleneck, plus 0.3% signalling failures.
    // VoIP-only: a 30-channel SIP trunk.
    let inc_block: Vec<f64> = loads
        .iter()
        .map(|&a| erlang_b(23, a).unwrap() + 0.003)
        .collect();
    let voip_block: Vec<f64> = loads.iter().map(|&a| erlang_b(30, a).unwrap()).collect();
    let mk = |label: &str, vals: &[f64]| {
        Series::new(
            label,
            loads
                .iter()
                .zip(vals)
                .map(|(&a, &b)| SeriesPoint::new(a, b, band(b, 0.18))),
        )
    };

    let mut c = CapacityChart::new("Capacity: incremental vs VoIP-only");
    c.blocking = vec![
        mk("Incremental (EV behind PBX)", &inc_block),
        mk("VoIP-only", &voip_block),
    ];
    // Success = 1 − blocking − 0.4% other failures, with the blocking band mirrored.
    let success = |label: &str, vals: &[f64]| {
        let pts = loads.iter().zip(vals).map(|(&a, &b)| {
            let (lo, hi) = band(b, 0.18).unwrap();
            let ci = Some((1.0 - hi - 0.004, 1.0 - lo - 0.004));
            SeriesPoint::new(a, 1.0 - b - 0.004, ci)
        });
        Series::new(label, pts)
    };
    c.success = vec![
        success("Incremental (EV behind PBX)", &inc_block),
        success("VoIP-only", &voip_block),
    ];
    c.erlang_b = vec![ErlangBOverlay {
        label: Some("Erlang B, N = 23 (T1 PRI)".into()),
        ..ErlangBOverlay::new(23)
    }];
    c
}

fn cdf_chart() -> CdfChart {
    let mut c = CdfChart::new("Post-dial delay");
    for (label, scale, spread) in [
        ("Incremental (EV behind PBX)", 1350.0, 1.6),
        ("VoIP-only", 420.0, 1.35),
    ] {
        let mut h = Histogram::new();
        // A deterministic lognormal-like spread from a low-discrepancy sequence.
        for i in 1..20_000 {
            let u = (f64::from(i) * 0.618_033_988_749_895).fract();
            let z = (u - 0.5) * 5.0;
            h.try_record(scale * f64::powf(spread, z)).unwrap();
        }
        c.series.push(CdfSeries {
            label: label.into(),
            points: h.cdf_curve(200),
        });
    }
    c.x_max = Some(4000.0);
    c
}

fn est(mean: f64, hw: f64) -> Option<Estimate> {
    Some(Estimate {
        mean,
        ci: Some((mean - hw, mean + hw)),
    })
}

fn mos_chart() -> BarChart {
    BarChart::mos(
        "MOS by deployment",
        vec![
            "Incremental (EV behind PBX)".into(),
            "Incremental (EV in front of PBX)".into(),
            "VoIP-only".into(),
            "Multi-site WAN".into(),
        ],
        vec![
            BarSeries {
                label: "Caller".into(),
                values: vec![
                    est(4.12, 0.04),
                    est(4.08, 0.05),
                    est(4.31, 0.02),
                    est(3.52, 0.11),
                ],
            },
            BarSeries {
                label: "Callee".into(),
                values: vec![est(4.10, 0.05), est(4.05, 0.06), est(4.30, 0.03), None],
            },
        ],
    )
}

fn heatmap_chart() -> HeatmapChart {
    let latency = vec![20.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0];
    let loss = vec![0.0, 0.5, 1.0, 2.0, 3.0, 5.0];
    // A G.107-shaped surface: Id grows past 177 ms, Ie,eff with loss (G.711, Bpl = 25.1).
    let values = loss
        .iter()
        .map(|&ppl: &f64| {
            latency
                .iter()
                .map(|&d: &f64| {
                    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
                    let ie = 95.0 * ppl / (ppl + 25.1);
                    let r: f64 = 93.2 - id - ie;
                    let mos = if r <= 0.0 {
                        1.0
                    } else {
                        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
                    };
                    Some(mos.clamp(1.0, 4.5))
                })
                .collect()
        })
        .collect();
    HeatmapChart::mos(
        "MOS over WAN latency and loss (multi-site)",
        latency,
        loss,
        values,
    )
}

fn comparison_chart() -> ComparisonChart {
    let mut c = ComparisonChart::new(
        "Incremental vs VoIP-only at busy-hour load",
        vec![
            "Incremental (EV behind PBX)".into(),
            "Incremental (EV in front of PBX)".into(),
            "VoIP-only".into(),
        ],
    );
    let m =
        |name: &str, unit: &str, vals: Vec<Option<Estimate>>, range, decimals| ComparisonMetric {
            name: name.into(),
            unit: unit.into(),
            values: vals,
            y_range: range,
            decimals,
        };
    c.metrics = vec![
        m(
            "Call success",
            "%",
            vec![est(98.7, 0.3), est(98.9, 0.2), est(99.6, 0.1)],
            Some((90.0, 100.0)),
            1,
        ),
        m(
            "Blocking",
            "%",
            vec![est(0.9, 0.2), est(0.7, 0.2), est(0.1, 0.05)],
            None,
            2,
        ),
        m(
            "PDD p95",
            "ms",
            vec![est(2450.0, 120.0), est(2210.0, 90.0), est(780.0, 40.0)],
            None,
            0,
        ),
        m(
            "Setup time",
            "ms",
            vec![est(1650.0, 60.0), est(1420.0, 70.0), est(390.0, 20.0)],
            None,
            0,
        ),
        m(
            "MOS",
            "E-model",
            vec![est(4.11, 0.04), est(4.07, 0.05), est(4.31, 0.02)],
            Some((1.0, 5.0)),
            2,
        ),
        m(
            "Calls with MOS < 3.6",
            "%",
            vec![est(2.1, 0.4), est(2.6, 0.5), est(0.3, 0.1)],
            None,
            1,
        ),
    ];
    c
}

fn vendor_chart() -> BarChart {
    let vendors = vec![
        "Alcatel-Lucent OXE R9.1".into(),
        "Avaya Communication Manager 6.3".into(),
        "Cisco UCM 9.1".into(),
        "Mitel MiVoice Business 7.0".into(),
        "Siemens OpenScape Voice V7".into(),
    ];
    let mut c = BarChart::vendor_comparison(
        "Call success when a T1 dies, by PBX model",
        "Call success (%)",
        vendors,
        Vec::new(),
    );
    c.series = vec![
        BarSeries {
            label: "Default routes (503/504 fail over)".into(),
            values: vec![
                est(71.2, 2.1),
                est(99.1, 0.3),
                est(98.8, 0.4),
                est(84.5, 1.5),
                est(99.0, 0.3),
            ],
        },
        BarSeries {
            label: "With 502 → 503 translation".into(),
            values: vec![
                est(98.9, 0.4),
                est(99.2, 0.3),
                est(98.9, 0.4),
                est(98.7, 0.4),
                est(99.1, 0.3),
            ],
        },
        BarSeries {
            label: "With OPTIONS keepalive".into(),
            values: vec![
                est(99.3, 0.3),
                est(99.4, 0.2),
                est(99.2, 0.3),
                est(99.0, 0.3),
                None,
            ],
        },
    ];
    c.y_range = Some((0.0, 100.0));
    c.value_decimals = 1;
    c
}

fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("VOICETWIN_CHART_DIR") {
        Some(d) => (None, PathBuf::from(d)),
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

/// Decodes a PNG fully (every IDAT chunk, CRCs checked) and returns its dimensions.
fn png_dims(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG image data");
    // Not a blank canvas: some pixels are far from white.
    let dark = buf.chunks(3).filter(|p| p.iter().all(|&c| c < 128)).count();
    assert!(dark > 1000, "only {dark} dark pixels");
    (info.width, info.height)
}

fn check_chart<C: Chart>(chart: &C, stem: &str) {
    let (_keep, dir) = out_dir();
    let files = write_chart(chart, &dir, stem).unwrap();
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let (w, h) = chart.size();
    assert!(svg.contains(&format!(r#"width="{w}" height="{h}""#)));
    assert!(svg.contains("DejaVu Sans"), "text names the embedded font");
    // Byte-identical across renderings.
    assert_eq!(
        render_svg(chart).unwrap(),
        svg,
        "{stem}: SVG differs between runs"
    );
    let png = std::fs::read(&files.png).unwrap();
    assert_eq!(png_dims(&png), (w, h));
    let again = write_chart(chart, &dir.join("again"), stem).unwrap();
    assert_eq!(
        std::fs::read(again.png).unwrap(),
        png,
        "{stem}: PNG differs"
    );
    // No temporary files left behind (other tests may be mid-write in a shared directory).
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!(".{stem}."))
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn capacity_chart_renders() {
    let c = capacity_chart();
    check_chart(&c, "capacity");
    let svg = render_svg(&c).unwrap();
    // The legend carries each deployment's interpolated capacity at 1%.
    assert!(
        svg.contains("Incremental (EV behind PBX) (capacity "),
        "legend"
    );
    assert!(svg.contains("Erlang B, N = 23 (T1 PRI)"));
    assert!(svg.contains("Offered load (Erlangs)") && svg.contains("Blocking (%)"));
    assert!(svg.contains("Call success (%)"));
    assert!(svg.contains("GoS 1%"));
}

#[test]
fn capacity_without_success_panel() {
    let mut c = capacity_chart();
    c.success.clear();
    c.metric = "Failure".into();
    let svg = render_svg(&c).unwrap();
    assert!(svg.contains("Failure (%)") && !svg.contains("Call success (%)"));
}

#[test]
fn pdd_cdf_renders() {
    let c = cdf_chart();
    check_chart(&c, "pdd_cdf");
    let svg = render_svg(&c).unwrap();
    assert!(svg.contains("Post-dial delay (ms)") && svg.contains("Cumulative share of calls (%)"));
    assert!(svg.contains("p95 "));
}

#[test]
fn mos_chart_renders() {
    let c = mos_chart();
    check_chart(&c, "mos");
    let svg = render_svg(&c).unwrap();
    assert!(svg.contains("MOS (ITU-T G.107 E-model)"));
    assert!(svg.contains("4.31") && svg.contains("n/a"));
    assert!(svg.contains("MOS 3.6: some users dissatisfied"));
}

#[test]
fn heatmap_renders() {
    let c = heatmap_chart();
    check_chart(&c, "mos_heatmap");
    let svg = render_svg(&c).unwrap();
    assert!(svg.contains("One-way latency (ms)") && svg.contains("Packet loss (%)"));
    assert!(svg.contains("MOS (E-model)"));
}

#[test]
fn comparison_renders() {
    let c = comparison_chart();
    check_chart(&c, "comparison");
    let svg = render_svg(&c).unwrap();
    assert!(svg.contains("PDD p95 (ms)") && svg.contains("Calls with MOS &lt; 3.6 (%)"));
}

#[test]
fn vendor_chart_renders() {
    let c = vendor_chart();
    check_chart(&c, "vendor_comparison");
    let svg = render_svg(&c).unwrap();
    assert!(svg.contains("With 502 → 503 translation"));
}

#[test]
fn empty_charts_still_render() {
    check_chart(&CapacityChart::new("Empty capacity"), "empty_capacity");
    check_chart(&CdfChart::new("Empty CDF"), "empty_cdf");
    let svg = render_svg(&BarChart::new("Empty", "Deployment", "MOS")).unwrap();
    assert!(svg.contains("No data"));
}

#[test]
fn bad_data_is_an_error_not_a_panic() {
    let mut c = capacity_chart();
    c.blocking[0].points[2].y.mean = f64::NAN;
    assert!(matches!(
        render_svg(&c),
        Err(ReportError::InvalidData { .. })
    ));

    let mut c = capacity_chart();
    c.blocking[0].points[2].y.ci = Some((0.5, 0.6));
    let err = render_svg(&c).unwrap_err().to_string();
    assert!(err.contains("excludes the mean"), "{err}");

    let mut m = mos_chart();
    m.series[0].values.pop();
    let err = render_svg(&m).unwrap_err().to_string();
    assert!(err.contains("has 3 values for 4 categories"), "{err}");

    let mut h = heatmap_chart();
    h.values[1].push(Some(3.0));
    assert!(render_svg(&h).is_err());

    let mut cdf = cdf_chart();
    cdf.series[0].points.reverse();
    assert!(render_svg(&cdf).is_err());
}

/// The SVG of each sample chart, hashed. Pinned below so a change in any process, build or
/// dependency that alters a single byte is caught; a deliberate style change updates them
/// (run with `--nocapture` to print the new values).
#[test]
fn svg_fingerprints_are_pinned() {
    let hash = |svg: String| voicetwin::sim::stable_hash(&[svg.as_bytes()]);
    let got = [
        ("capacity", hash(render_svg(&capacity_chart()).unwrap())),
        ("pdd_cdf", hash(render_svg(&cdf_chart()).unwrap())),
        ("mos", hash(render_svg(&mos_chart()).unwrap())),
        ("mos_heatmap", hash(render_svg(&heatmap_chart()).unwrap())),
        ("comparison", hash(render_svg(&comparison_chart()).unwrap())),
        (
            "vendor_comparison",
            hash(render_svg(&vendor_chart()).unwrap()),
        ),
    ];
    for (name, h) in &got {
        println!("(\"{name}\", {h:#018x}),");
    }
    let pinned: [(&str, u64); 6] = PINNED_SVG_HASHES;
    assert_eq!(got, pinned);
}

const PINNED_SVG_HASHES: [(&str, u64); 6] = [
    ("capacity", 0xb912c7ab5ffa3828),
    ("pdd_cdf", 0x950097cd5274a454),
    ("mos", 0x7476ceb2e3986552),
    ("mos_heatmap", 0x628a149459b1ee1d),
    ("comparison", 0x6451d3853e410689),
    ("vendor_comparison", 0x8ec39b49a39f87b4),
];

#[test]
fn degenerate_inputs_render() {
    // One sweep point, no interval, zero blocking: no band, no crossing, no panic.
    let mut c = CapacityChart::new("One load point");
    c.blocking = vec![Series::new("only", [SeriesPoint::new(12.0, 0.0, None)])];
    c.success = vec![Series::new(
        "only",
        [SeriesPoint::new(12.0, 1.0, Some((0.99, 1.0)))],
    )];
    check_chart(&c, "edge_capacity");
    let svg = render_svg(&c).unwrap();
    assert!(
        svg.contains("capacity at 1%: &gt; 12.0 E"),
        "not crossed is said"
    );

    // A three-value CDF is drawn as exact steps.
    let mut cdf = CdfChart::new("Three calls");
    cdf.series = vec![CdfSeries {
        label: "tiny".into(),
        points: vec![(120.0, 1.0 / 3.0), (180.0, 2.0 / 3.0), (900.0, 1.0)],
    }];
    check_chart(&cdf, "edge_cdf");

    // A 1 × 1 heatmap and a single-metric comparison.
    let h = HeatmapChart::mos("One cell", vec![80.0], vec![1.0], vec![vec![Some(4.1)]]);
    check_chart(&h, "edge_heatmap");
    let mut cmp = ComparisonChart::new("One metric", vec!["A".into(), "B".into()]);
    cmp.metrics = vec![ComparisonMetric {
        name: "Call success".into(),
        unit: "%".into(),
        values: vec![Some(Estimate::exact(99.0)), None],
        y_range: None,
        decimals: 1,
    }];
    check_chart(&cmp, "edge_comparison");
}
