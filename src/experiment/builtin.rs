//! Experiments and topologies compiled into the binary, so that `voicetwin run` with no
//! argument works outside the repository.
//!
//! An embedded experiment refers to its topologies by file name as in the repository
//! (`../topologies/voip-only.ron`); with no directory to read from, each reference is looked
//! up here by its file stem. Vendor models are embedded by the vendor layer
//! ([`crate::vendor::builtin_sources`]).
//!
//! To embed a file, add a line to the lists below, e.g.
//! `("voip-only", include_str!("../../topologies/voip-only.ron"))`. The integration tests
//! load every entry, so a broken embedded file fails the build's tests, not a user's run.

/// The experiment `voicetwin run` runs without an argument.
pub const DEFAULT_EXPERIMENT: &str = "incremental-vs-voip-only";

/// `(file stem, RON text)` of the embedded experiments.
static EXPERIMENTS: &[(&str, &str)] = &[
    (
        "incremental-vs-voip-only",
        include_str!("../../experiments/incremental-vs-voip-only.ron"),
    ),
    (
        "capacity-study",
        include_str!("../../experiments/capacity-study.ron"),
    ),
    (
        "media-bypass",
        include_str!("../../experiments/media-bypass.ron"),
    ),
    (
        "wan-impairment",
        include_str!("../../experiments/wan-impairment.ron"),
    ),
    (
        "gateway-failover",
        include_str!("../../experiments/gateway-failover.ron"),
    ),
    (
        "vendor-comparison",
        include_str!("../../experiments/vendor-comparison.ron"),
    ),
];

/// `(file stem, RON text)` of the embedded topologies.
static TOPOLOGIES: &[(&str, &str)] = &[
    (
        "direct-sip-gateway",
        include_str!("../../topologies/direct-sip-gateway.ron"),
    ),
    (
        "dual-homed-branch",
        include_str!("../../topologies/dual-homed-branch.ron"),
    ),
    (
        "incremental-in-front-of-pbx",
        include_str!("../../topologies/incremental-in-front-of-pbx.ron"),
    ),
    (
        "incremental-behind-pbx",
        include_str!("../../topologies/incremental-behind-pbx.ron"),
    ),
    (
        "multi-site-wan",
        include_str!("../../topologies/multi-site-wan.ron"),
    ),
    (
        "sip-trunk-internet",
        include_str!("../../topologies/sip-trunk-internet.ron"),
    ),
    (
        "sip-trunking",
        include_str!("../../topologies/sip-trunking.ron"),
    ),
    (
        "three-site-wan",
        include_str!("../../topologies/three-site-wan.ron"),
    ),
    ("voip-only", include_str!("../../topologies/voip-only.ron")),
];

/// Every embedded experiment, `(name, text)`.
pub fn experiments() -> &'static [(&'static str, &'static str)] {
    EXPERIMENTS
}

/// Every embedded topology, `(name, text)`.
pub fn topologies() -> &'static [(&'static str, &'static str)] {
    TOPOLOGIES
}

/// The embedded experiment with this file stem.
pub fn experiment(name: &str) -> Option<&'static str> {
    lookup(EXPERIMENTS, name)
}

/// The embedded topology with this file stem.
pub fn topology(name: &str) -> Option<&'static str> {
    lookup(TOPOLOGIES, name)
}

fn lookup(list: &'static [(&'static str, &'static str)], name: &str) -> Option<&'static str> {
    list.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The names in a list, for "known: ..." messages.
pub(crate) fn names(list: &[(&str, &str)]) -> String {
    if list.is_empty() {
        "none".into()
    } else {
        list.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    }
}
