//! The charts of a sweep, built from `summary.json`, `distributions.json` and the stored
//! plan (never from the units), drawn with [`crate::report::charts`].
//!
//! Always drawn:
//! - `capacity`: for each load curve (a deployment, with the other swept parameters fixed),
//!   the capacity metric (blocking by default) and call success against the offered load,
//!   with 95% bands, the grade of service, and Erlang B for the bottleneck trunk group when
//!   the runs report one `bottleneck_channels` value (one Erlang B curve per group size, in
//!   its curve's colour, when the sweep varies the channels);
//! - `pdd_cdf`: the post-dial-delay CDF of each deployment over all its points;
//! - `mos`: MOS by deployment, one bar per combination of the other swept parameters.
//!
//! On request (`charts:` in the experiment): `comparison` (the headline metrics side by side),
//! `mos_heatmap` (a metric over two swept parameters, per deployment) and `vendor_METRIC`
//! (a metric for each value of a swept parameter, such as the PBX model).

use super::summary::{Distributions, PointSummary, SummaryDoc};
use crate::experiment::{ChartSpec, Node, Plan};
use crate::metrics::{Histogram, Summary};
use crate::report::ReportError;
use crate::report::charts::{
    BarChart, BarSeries, CapacityChart, CdfChart, CdfSeries, ComparisonChart, ComparisonMetric,
    ErlangBOverlay, Estimate, HeatmapChart, Series, SeriesPoint, write_chart,
};
use std::path::{Path, PathBuf};

/// Most bar series drawn before points are pooled.
const MAX_GROUPS: usize = 12;
/// Most capacity curves drawn before the other parameters are pooled.
const MAX_CURVES: usize = 8;
/// Most comparison categories (one colour each, from a 7-colour palette) before pooling.
const MAX_CATEGORIES: usize = 7;
/// Points of each CDF curve.
const CDF_POINTS: usize = 400;

/// How a metric is shown: label, unit, scale from stored value to shown value, decimals,
/// and a fixed axis range when it has a natural one.
struct MetricInfo {
    label: String,
    unit: &'static str,
    scale: f64,
    decimals: usize,
    range: Option<(f64, f64)>,
    probability: bool,
}

fn metric_info(name: &str) -> MetricInfo {
    let pct = |label: &str| MetricInfo {
        label: label.into(),
        unit: "%",
        scale: 100.0,
        decimals: 2,
        range: None,
        probability: true,
    };
    let ms = |label: &str| MetricInfo {
        label: label.into(),
        unit: "ms",
        scale: 1.0,
        decimals: 0,
        range: None,
        probability: false,
    };
    match name {
        "blocking" => pct("Blocking"),
        "success_rate" => MetricInfo {
            range: Some((0.0, 100.0)),
            ..pct("Call success")
        },
        "failure_rate" => pct("Failure"),
        "mos_below_3_1" => MetricInfo {
            range: Some((0.0, 100.0)),
            ..pct("Directions below MOS 3.1")
        },
        "failover_rate" => pct("Failover"),
        "rejected_capacity_rate" => pct("Rejected for capacity"),
        "answer_rate" => pct("Answered"),
        "mos_below_3_6" => MetricInfo {
            range: Some((0.0, 100.0)),
            ..pct("Directions below MOS 3.6")
        },
        "delay_ms_mean" => ms("Mean mouth-to-ear delay"),
        "media_relayed_rate" => pct("Media relayed by the Mediation Server"),
        "two_way_audio_rate" => pct("Two-way audio"),
        "limitation_rate" => pct("Calls affected by a vendor limitation"),
        "trunk_peak_utilisation" => pct("Peak trunk utilisation"),
        m if m.starts_with("calls_") => MetricInfo {
            label: format!("Calls {} per run", m["calls_".len()..].replace('_', " ")),
            unit: "calls",
            scale: 1.0,
            decimals: 1,
            range: None,
            probability: false,
        },
        "mediation_relays_peak" => MetricInfo {
            label: "Peak Mediation Server relays".into(),
            unit: "calls",
            scale: 1.0,
            decimals: 0,
            range: None,
            probability: false,
        },
        "pdd_ms_mean" => ms("Mean post-dial delay"),
        "pdd_ms_p50" => ms("Median post-dial delay"),
        "pdd_ms_p95" => ms("95th percentile post-dial delay"),
        "pdd_ms_p99" => ms("99th percentile post-dial delay"),
        "setup_ms_mean" => ms("Mean setup time"),
        "offered_erlangs" => MetricInfo {
            label: "Offered load".into(),
            unit: "E",
            scale: 1.0,
            decimals: 1,
            range: None,
            probability: false,
        },
        m if m.starts_with("mos") => MetricInfo {
            label: match m {
                "mos_caller_mean" => "MOS heard by the caller".into(),
                "mos_callee_mean" => "MOS heard by the callee".into(),
                _ => "MOS".into(),
            },
            unit: "MOS",
            scale: 1.0,
            decimals: 2,
            range: Some((1.0, 5.0)),
            probability: false,
        },
        other => MetricInfo {
            label: other.to_string(),
            unit: "",
            scale: 1.0,
            decimals: 3,
            range: None,
            probability: false,
        },
    }
}

impl MetricInfo {
    fn axis(&self) -> String {
        if self.unit.is_empty() || self.unit == "MOS" {
            self.label.clone()
        } else {
            format!("{} ({})", self.label, self.unit)
        }
    }

    /// A summary as a drawn estimate (scaled; probability intervals kept inside [0, 1]).
    fn estimate(&self, s: &Summary) -> Option<Estimate> {
        let e = Estimate::from_summary(s)?;
        // A Student-t interval over few replications can reach below zero; delays, counts,
        // loads and MOS cannot, so their intervals are cut at zero (and at MOS 1..5).
        let non_negative = !self.unit.is_empty() && e.mean >= 0.0;
        let clamp = |v: f64| {
            if self.probability {
                v.clamp(0.0, 1.0)
            } else if let Some((lo, hi)) = self.range {
                v.clamp(lo / self.scale, hi / self.scale)
            } else if non_negative {
                v.max(0.0)
            } else {
                v
            }
        };
        Some(Estimate {
            mean: clamp(e.mean) * self.scale,
            ci: e.ci.map(|(lo, hi)| {
                (
                    clamp(lo.min(e.mean)) * self.scale,
                    clamp(hi.max(e.mean)) * self.scale,
                )
            }),
        })
    }
}

/// A point as the charts see it.
struct View<'a> {
    deployment: &'a str,
    params: Vec<(String, Node)>,
    metrics: &'a std::collections::BTreeMap<String, Summary>,
}

impl View<'_> {
    fn mean(&self, metric: &str) -> Option<f64> {
        self.metrics.get(metric).and_then(|s| s.mean)
    }

    /// The parameters other than those at `skip`, as `name=value` text.
    fn others(&self, skip: &[usize]) -> String {
        self.params
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(_, (p, v))| format!("{}={}", short_name(p), v.display_text()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn short_name(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The mean of several estimates (no interval: pooled over different conditions).
fn pooled(values: &[Estimate]) -> Option<Estimate> {
    (!values.is_empty())
        .then(|| Estimate::exact(values.iter().map(|e| e.mean).sum::<f64>() / values.len() as f64))
}

/// Draws every chart; returns the files written.
pub fn draw_all(
    plan: &Plan,
    summary: &SummaryDoc,
    dists: &Distributions,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    if summary.points.len() != plan.points.len() || dists.points.len() != plan.points.len() {
        return Err(ReportError::Results(format!(
            "summary.json ({} points) and distributions.json ({} points) do not match the \
             stored plan ({} points)",
            summary.points.len(),
            dists.points.len(),
            plan.points.len()
        )));
    }
    let views: Vec<View> = plan
        .points
        .iter()
        .zip(&summary.points)
        .map(|(p, s): (_, &PointSummary)| View {
            deployment: &p.deployment,
            params: p.param_nodes(),
            metrics: &s.metrics,
        })
        .collect();
    let mut files = Vec::new();
    let mut put = |f: crate::report::charts::ChartFiles| {
        files.push(f.svg);
        files.push(f.png);
    };
    put(write_chart(&capacity(plan, &views), dir, "capacity")?);
    put(write_chart(&pdd_cdf(plan, &views, dists)?, dir, "pdd_cdf")?);
    put(write_chart(&mos(plan, &views), dir, "mos")?);
    for spec in &plan.charts {
        match spec {
            ChartSpec::Capacity | ChartSpec::PddCdf | ChartSpec::Mos => {}
            ChartSpec::Comparison => {
                put(write_chart(&comparison(plan, &views), dir, "comparison")?)
            }
            ChartSpec::MosHeatmap { x, y, metric } => {
                for (stem, chart) in heatmaps(plan, &views, x, y, metric) {
                    put(write_chart(&chart, dir, &stem)?);
                }
            }
            ChartSpec::VendorBars { param, metric } => put(write_chart(
                &vendor_bars(plan, &views, param, metric),
                dir,
                &format!("vendor_{}", slug(metric)),
            )?),
        }
    }
    Ok(files)
}

fn load_index(plan: &Plan) -> Option<usize> {
    let l = plan.load_parameter.as_ref()?;
    plan.parameters.iter().position(|p| p == l)
}

/// Load curves: `(label, points of the curve)`, in order of first appearance. Without a
/// swept load, or with more curves than [`MAX_CURVES`], one curve per deployment whose
/// points at the same load are pooled over the other parameters.
fn curves<'a>(plan: &Plan, views: &'a [View<'a>]) -> Vec<(String, Vec<&'a View<'a>>)> {
    let load = load_index(plan);
    let skip: Vec<usize> = load.into_iter().collect();
    let mut out: Vec<(String, Vec<&View>)> = Vec::new();
    for v in views {
        let others = v.others(&skip);
        let label = if others.is_empty() {
            v.deployment.to_string()
        } else {
            format!("{}, {others}", v.deployment)
        };
        match out.iter_mut().find(|(l, _)| *l == label) {
            Some((_, list)) => list.push(v),
            None => out.push((label, vec![v])),
        }
    }
    if load.is_some() && out.len() <= MAX_CURVES {
        return out;
    }
    plan.deployments
        .iter()
        .map(|d| {
            let members: Vec<&View> = views.iter().filter(|v| v.deployment == d).collect();
            let settings = out.iter().filter(|(_, m)| m[0].deployment == d).count();
            let label = if settings > 1 {
                format!("{d} (mean over {settings} settings)")
            } else {
                d.clone()
            };
            (label, members)
        })
        .collect()
}

fn capacity(plan: &Plan, views: &[View]) -> CapacityChart {
    let by_offered = views.iter().all(|v| v.mean("offered_erlangs").is_some());
    let load = load_index(plan);
    let x_of = |v: &View| -> Option<f64> {
        if by_offered {
            v.mean("offered_erlangs")
        } else {
            load.and_then(|i| v.params[i].1.as_f64())
        }
    };
    // A series of a probability metric, as fractions. Points at the same load are pooled
    // (their mean, without an interval: they were measured under different settings).
    let series_of = |metric: &str, label: &str, members: &[&View]| {
        let mut at: Vec<(f64, Vec<Estimate>)> = Vec::new();
        for v in members {
            let (Some(x), Some(s)) = (x_of(v), v.metrics.get(metric)) else {
                continue;
            };
            let Some(e) = metric_info(metric).estimate(s) else {
                continue;
            };
            let scale = metric_info(metric).scale;
            let e = Estimate {
                mean: e.mean / scale,
                ci: e.ci.map(|(lo, hi)| (lo / scale, hi / scale)),
            };
            match at.iter_mut().find(|(ax, _)| *ax == x) {
                Some((_, list)) => list.push(e),
                None => at.push((x, vec![e])),
            }
        }
        let mut pts: Vec<SeriesPoint> = at
            .into_iter()
            .filter_map(|(x, es)| {
                let e = if es.len() == 1 {
                    Some(es[0])
                } else {
                    pooled(&es)
                }?;
                Some(SeriesPoint { x, y: e })
            })
            .collect();
        pts.sort_by(|a, b| a.x.total_cmp(&b.x));
        Series::new(label, pts)
    };
    let title = if load.is_some() {
        format!("Capacity: {}", plan.experiment)
    } else {
        format!("Capacity: {} (offered load not swept)", plan.experiment)
    };
    let mut chart = CapacityChart::new(title);
    chart.metric = metric_info(&plan.capacity_metric).label;
    chart.gos = Some(plan.gos);
    if !by_offered {
        chart.x_label = plan
            .load_parameter
            .clone()
            .unwrap_or_else(|| "Sweep point".into());
    }
    let curves = curves(plan, views);
    for (label, members) in &curves {
        chart
            .blocking
            .push(series_of(&plan.capacity_metric, label, members));
        chart
            .success
            .push(series_of("success_rate", label, members));
    }
    chart.erlang_b = erlang_overlays(&curves, x_of);
    chart
}

/// The trunk group size of a run, when it reports a whole number of channels.
fn channels_of(v: &View) -> Option<u32> {
    v.mean("bottleneck_channels")
        .filter(|c| *c >= 1.0 && c.fract() == 0.0 && *c < 1e6)
        .map(|c| c as u32)
}

/// Erlang B overlays: one black curve when every run has the same bottleneck trunk group;
/// one per group size, in the colour of the first curve of that size and over its curves'
/// loads, when each curve has a single size but the sizes differ (a channel sweep); none
/// otherwise.
fn erlang_overlays(
    curves: &[(String, Vec<&View>)],
    x_of: impl Fn(&View) -> Option<f64>,
) -> Vec<ErlangBOverlay> {
    let mut per_curve = Vec::new();
    for (_, members) in curves {
        let sizes: Vec<Option<u32>> = members.iter().map(|v| channels_of(v)).collect();
        match sizes.first() {
            Some(Some(c)) if sizes.iter().all(|s| *s == Some(*c)) => per_curve.push(*c),
            _ => return Vec::new(),
        }
    }
    let mut distinct: Vec<u32> = Vec::new();
    for c in &per_curve {
        if !distinct.contains(c) {
            distinct.push(*c);
        }
    }
    // The share of each curve's offered load that its trunk group is offered (measured by
    // the runs), when every run reports it.
    let shares: Vec<Option<f64>> = curves
        .iter()
        .map(|(_, members)| {
            let r: Vec<f64> = members
                .iter()
                .filter_map(|v| {
                    let trunk = v.mean("bottleneck_offered_erlangs")?;
                    let all = v.mean("offered_erlangs").filter(|a| *a > 0.0)?;
                    Some(trunk / all)
                })
                .collect();
            (r.len() == members.len() && !r.is_empty())
                .then(|| r.iter().sum::<f64>() / r.len() as f64)
        })
        .collect();
    let partial = |s: &Option<f64>| s.is_some_and(|s| s < 0.9);
    if let [c] = distinct[..] {
        if !shares.iter().any(partial) {
            let share = shares.iter().copied().collect::<Option<Vec<f64>>>();
            let share = share.map(|v| v.iter().sum::<f64>() / v.len() as f64);
            return vec![ErlangBOverlay {
                label: Some(format!("Erlang B, N = {c} channels (bottleneck)")),
                load_share: share,
                ..ErlangBOverlay::new(c)
            }];
        }
        // Only part of the load reaches the trunk group (internal calls do not): one curve
        // per deployment, at the load its trunk group was measured to be offered.
        return curves
            .iter()
            .zip(&shares)
            .enumerate()
            .map(|(i, ((label, _), share))| ErlangBOverlay {
                label: Some(format!(
                    "Erlang B, N = {c}, at {label}'s trunk load ({:.0}% of offered)",
                    100.0 * share.unwrap_or(1.0)
                )),
                series: Some(i),
                load_share: *share,
                ..ErlangBOverlay::new(c)
            })
            .collect();
    }
    distinct
        .iter()
        .map(|&c| {
            let xs: Vec<f64> = curves
                .iter()
                .zip(&per_curve)
                .filter(|(_, n)| **n == c)
                .flat_map(|((_, members), _)| members.iter().filter_map(|v| x_of(v)))
                .collect();
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            ErlangBOverlay {
                label: Some(format!("Erlang B, N = {c} channels")),
                series: per_curve.iter().position(|n| *n == c),
                x_range: (lo.is_finite() && hi >= lo).then_some((lo, hi)),
                load_share: per_curve
                    .iter()
                    .zip(&shares)
                    .filter(|(n, _)| **n == c)
                    .map(|(_, s)| *s)
                    .collect::<Option<Vec<f64>>>()
                    .filter(|v| !v.is_empty())
                    .map(|v| v.iter().sum::<f64>() / v.len() as f64),
                ..ErlangBOverlay::new(c)
            }
        })
        .collect()
}

fn pdd_cdf(plan: &Plan, views: &[View], dists: &Distributions) -> Result<CdfChart, ReportError> {
    let mut chart = CdfChart::new(format!(
        "Post-dial delay: {} (all points and replications)",
        plan.experiment
    ));
    for d in &plan.deployments {
        let mut h = Histogram::new();
        for (v, dist) in views.iter().zip(&dists.points) {
            if v.deployment == d {
                h.merge(&dist.pdd_ms)
                    .map_err(|e| ReportError::Results(format!("distributions.json: {e}")))?;
            }
        }
        if h.count() > 0 {
            chart.series.push(CdfSeries {
                label: format!("{d} ({} calls)", h.count()),
                points: h.cdf_curve(CDF_POINTS),
            });
        }
    }
    Ok(chart)
}

/// Bars of `metric`: categories are the deployments, one series per combination of the
/// other parameters (pooled per deployment beyond [`MAX_GROUPS`]).
fn bars_by_deployment(plan: &Plan, views: &[View], metric: &str) -> (Vec<String>, Vec<BarSeries>) {
    let info = metric_info(metric);
    let mut combos: Vec<String> = Vec::new();
    for v in views {
        let o = v.others(&[]);
        if !combos.contains(&o) {
            combos.push(o);
        }
    }
    let categories = plan.deployments.clone();
    if combos.len() > MAX_GROUPS {
        let values = categories
            .iter()
            .map(|d| {
                let es: Vec<Estimate> = views
                    .iter()
                    .filter(|v| v.deployment == d)
                    .filter_map(|v| info.estimate(v.metrics.get(metric)?))
                    .collect();
                pooled(&es)
            })
            .collect();
        let series = vec![BarSeries {
            label: format!("mean over {} parameter combinations", combos.len()),
            values,
        }];
        return (categories, series);
    }
    let series = combos
        .iter()
        .map(|c| BarSeries {
            label: if c.is_empty() {
                info.label.clone()
            } else {
                c.clone()
            },
            values: categories
                .iter()
                .map(|d| {
                    views
                        .iter()
                        .find(|v| v.deployment == d && v.others(&[]) == *c)
                        .and_then(|v| info.estimate(v.metrics.get(metric)?))
                })
                .collect(),
        })
        .collect();
    (categories, series)
}

fn mos(plan: &Plan, views: &[View]) -> BarChart {
    let (categories, series) = bars_by_deployment(plan, views, "mos_mean");
    BarChart::mos(
        format!("MOS by deployment: {}", plan.experiment),
        categories,
        series,
    )
}

fn comparison(plan: &Plan, views: &[View]) -> ComparisonChart {
    let metrics: Vec<String> = if plan.metrics.is_empty() {
        ["success_rate", "blocking", "pdd_ms_mean", "mos_mean"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        plan.metrics.clone()
    };
    // One category per point when that stays readable, else per deployment (pooled).
    let per_point = views.len() <= MAX_CATEGORIES;
    let categories: Vec<String> = if per_point {
        views
            .iter()
            .map(|v| {
                let o = v.others(&[]);
                if o.is_empty() {
                    v.deployment.to_string()
                } else {
                    format!("{}, {o}", v.deployment)
                }
            })
            .collect()
    } else {
        plan.deployments.clone()
    };
    let mut chart = ComparisonChart::new(
        format!("Deployments compared: {}", plan.experiment),
        categories,
    );
    for m in metrics {
        let info = metric_info(&m);
        let values = if per_point {
            views
                .iter()
                .map(|v| info.estimate(v.metrics.get(&m)?))
                .collect()
        } else {
            plan.deployments
                .iter()
                .map(|d| {
                    let es: Vec<Estimate> = views
                        .iter()
                        .filter(|v| v.deployment == d)
                        .filter_map(|v| info.estimate(v.metrics.get(&m)?))
                        .collect();
                    pooled(&es)
                })
                .collect()
        };
        chart.metrics.push(ComparisonMetric {
            name: info.label.clone(),
            unit: if info.unit == "MOS" { "" } else { info.unit }.to_string(),
            values,
            y_range: info.range,
            decimals: info.decimals,
        });
    }
    chart
}

/// Distinct numeric values of parameter `i`, ascending.
fn axis_values(views: &[&View], i: usize) -> Vec<f64> {
    let mut vals: Vec<f64> = views
        .iter()
        .filter_map(|v| v.params[i].1.as_f64())
        .collect();
    vals.sort_by(f64::total_cmp);
    vals.dedup();
    vals
}

fn heatmaps(
    plan: &Plan,
    views: &[View],
    x: &str,
    y: &str,
    metric: &str,
) -> Vec<(String, HeatmapChart)> {
    let (Some(xi), Some(yi)) = (
        plan.parameters.iter().position(|p| p == x),
        plan.parameters.iter().position(|p| p == y),
    ) else {
        return Vec::new();
    };
    let info = metric_info(metric);
    let base = if metric == "mos_mean" {
        "mos_heatmap".to_string()
    } else {
        format!("heatmap_{}", slug(metric))
    };
    plan.deployments
        .iter()
        .map(|d| {
            let mine: Vec<&View> = views.iter().filter(|v| v.deployment == d).collect();
            let xs = axis_values(&mine, xi);
            let ys = axis_values(&mine, yi);
            let (x_label, x_scale) = param_axis(x);
            let (y_label, y_scale) = param_axis(y);
            // Cells average over the other swept parameters.
            let values = ys
                .iter()
                .map(|&yv| {
                    xs.iter()
                        .map(|&xv| {
                            let cell: Vec<f64> = mine
                                .iter()
                                .filter(|v| {
                                    v.params[xi].1.as_f64() == Some(xv)
                                        && v.params[yi].1.as_f64() == Some(yv)
                                })
                                .filter_map(|v| v.mean(metric))
                                .map(|m| m * info.scale)
                                .collect();
                            (!cell.is_empty()).then(|| cell.iter().sum::<f64>() / cell.len() as f64)
                        })
                        .collect()
                })
                .collect();
            let title = format!("{}: {} ({d})", info.label, plan.experiment);
            let shown = |vs: &[f64], k: f64| vs.iter().map(|v| v * k).collect::<Vec<f64>>();
            let mut chart =
                HeatmapChart::mos(title, shown(&xs, x_scale), shown(&ys, y_scale), values);
            chart.x_label = x_label;
            chart.y_label = y_label;
            if !metric.starts_with("mos") {
                chart.value_label = info.axis();
                chart.decimals = info.decimals;
                chart.higher_is_better = metric == "success_rate";
                chart.scale = info.range.unwrap_or((0.0, 100.0));
            }
            let stem = if plan.deployments.len() == 1 {
                base.clone()
            } else {
                format!("{base}_{}", slug(d))
            };
            (stem, chart)
        })
        .collect()
}

/// How a swept parameter is shown on an axis: a label with its unit, and the factor from the
/// stored value to the shown one (loss probabilities are shown in percent). Parameters this
/// does not know keep their path.
fn param_axis(path: &str) -> (String, f64) {
    // The element named in the path, e.g. `br1-access` in `links[name=br1-access].loss.p`.
    let subject = path
        .rsplit_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(sel, _)| sel.rsplit('=').next().unwrap_or(sel).trim_matches('"'));
    let of = |what: &str| match subject {
        Some(s) => format!("{s} {what}"),
        None => what.to_string(),
    };
    let last = short_name(path);
    if path.ends_with(".loss.p") || path.ends_with(".loss") {
        (of("packet loss (%)"), 100.0)
    } else if last == "latency_ms" {
        (of("one-way latency (ms)"), 1.0)
    } else if last.ends_with("_ms") {
        (of(&format!("{} (ms)", last.trim_end_matches("_ms"))), 1.0)
    } else if last == "bandwidth_mbps" {
        (of("bandwidth (Mbit/s)"), 1.0)
    } else if last == "load_factor" {
        ("Load factor (× busy hour)".into(), 1.0)
    } else if last == "spans" {
        (of("T1/E1 spans"), 1.0)
    } else {
        (path.to_string(), 1.0)
    }
}

fn vendor_bars(plan: &Plan, views: &[View], param: &str, metric: &str) -> BarChart {
    let info = metric_info(metric);
    let Some(pi) = plan.parameters.iter().position(|p| p == param) else {
        return BarChart::vendor_comparison(param, info.axis(), Vec::new(), Vec::new());
    };
    let mut vendors: Vec<String> = Vec::new();
    for v in views {
        let t = v.params[pi].1.display_text();
        if !vendors.contains(&t) {
            vendors.push(t);
        }
    }
    let series = plan
        .deployments
        .iter()
        .map(|d| BarSeries {
            label: d.clone(),
            values: vendors
                .iter()
                .map(|vendor| {
                    let es: Vec<Estimate> = views
                        .iter()
                        .filter(|v| v.deployment == d && v.params[pi].1.display_text() == *vendor)
                        .filter_map(|v| info.estimate(v.metrics.get(metric)?))
                        .collect();
                    if es.len() == 1 {
                        Some(es[0])
                    } else {
                        pooled(&es)
                    }
                })
                .collect(),
        })
        .collect();
    let mut chart = BarChart::vendor_comparison(
        format!(
            "{} by {}: {}",
            info.label,
            short_name(param),
            plan.experiment
        ),
        info.axis(),
        vendors,
        series,
    );
    chart.y_range = info.range;
    chart.value_decimals = info.decimals;
    chart
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_estimates_are_scaled_and_kept_in_range() {
        let s = Summary {
            mean: Some(0.004),
            ci95_low: Some(-0.002),
            ci95_high: Some(0.01),
            n: 3,
        };
        let e = metric_info("blocking").estimate(&s).unwrap();
        assert!((e.mean - 0.4).abs() < 1e-12);
        assert_eq!(e.ci.unwrap().0, 0.0);
        assert!((e.ci.unwrap().1 - 1.0).abs() < 1e-12);
        // Delays cannot be negative: the interval is cut at zero.
        let e = metric_info("pdd_ms_mean").estimate(&s).unwrap();
        assert_eq!(e.ci, Some((0.0, 0.01)));
        // A metric the charts do not know keeps its interval as it is.
        let e = metric_info("custom").estimate(&s).unwrap();
        assert_eq!(e.ci, Some((-0.002, 0.01)));
        assert_eq!(metric_info("mos_mean").range, Some((1.0, 5.0)));
        assert_eq!(metric_info("custom").axis(), "custom");
        assert_eq!(
            metric_info("pdd_ms_p95").axis(),
            "95th percentile post-dial delay (ms)"
        );
        assert_eq!(pooled(&[]), None);
        assert_eq!(
            pooled(&[Estimate::exact(1.0), Estimate::exact(2.0)]),
            Some(Estimate::exact(1.5))
        );
        assert_eq!(slug("a b/c"), "a_b_c");
    }
}
