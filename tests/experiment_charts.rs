//! The charts an experiment asks for beyond the three always drawn: a MOS heatmap over two
//! swept parameters (one per deployment) and a bar chart per value of a swept product id.

mod experiment_support;

use experiment_support::*;

#[test]
fn heatmap_and_vendor_bars_are_drawn_from_the_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let sweep = r#"(grid: [
        ("topology.model", ["avaya-aura-sm-6.3", "cisco-ucm-8.6.2"]),
        ("topology.links[name=wan1].latency_ms", [20.0, 120.0, 250.0]),
        ("topology.links[name=wan1].loss", [0.0, 0.01, 0.03]),
    ])"#;
    let text = experiment_text(sweep, "", 2).replace(
        "charts: [Capacity, PddCdf, Mos, Comparison]",
        "charts: [MosHeatmap(x: \"topology.links[name=wan1].latency_ms\", \
             y: \"topology.links[name=wan1].loss\"), \
             VendorBars(param: \"topology.model\", metric: \"mos_mean\")]",
    );
    let exp = fixture(t, &text);
    std::fs::write(
        t.join("topologies/small.ron"),
        SMALL.replace("channels: 8,", "channels: 8, model: \"none\","),
    )
    .unwrap();
    std::fs::write(
        t.join("topologies/large.ron"),
        LARGE.replace("channels: 12,", "channels: 12, model: \"none\","),
    )
    .unwrap();
    voicetwin_ok(&["run", exp.to_str().unwrap(), "--out", "r"], t);
    for stem in [
        "mos_heatmap_small",
        "mos_heatmap_large",
        "vendor_mos_mean",
        "capacity",
        "pdd_cdf",
        "mos",
    ] {
        for ext in ["svg", "png"] {
            let f = t.join(format!("r/charts/{stem}.{ext}"));
            assert!(f.is_file(), "{} missing", f.display());
        }
    }
    // Without a swept load there is no capacity to report, and the chart says so.
    let summary = std::fs::read_to_string(t.join("r/summary.json")).unwrap();
    assert!(summary.contains("\"capacity\": []"), "{summary}");
    let capacity = std::fs::read_to_string(t.join("r/charts/capacity.svg")).unwrap();
    assert!(capacity.contains("offered load not swept"));
    // The heatmap shows MOS falling with latency and loss: its SVG holds the cell values.
    let svg = std::fs::read_to_string(t.join("r/charts/mos_heatmap_small.svg")).unwrap();
    assert!(
        svg.contains("4.40") || svg.contains("4.39"),
        "best cell missing"
    );
    let vendor = std::fs::read_to_string(t.join("r/charts/vendor_mos_mean.svg")).unwrap();
    for label in ["avaya-aura-sm-6.3", "cisco-ucm-8.6.2"] {
        assert!(
            vendor.contains(label),
            "{label} missing from the vendor chart"
        );
    }
    if std::env::var_os("VOICETWIN_KEEP_CHARTS").is_some() {
        let keep = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("experiment_charts");
        let _ = std::fs::remove_dir_all(&keep);
        std::fs::create_dir_all(&keep).unwrap();
        for e in std::fs::read_dir(t.join("r/charts")).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, keep.join(p.file_name().unwrap())).unwrap();
        }
    }
}
