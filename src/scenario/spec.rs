//! The scenario section of an experiment: the workload, the media mode, and the events
//! scheduled during the run (element, span and link faults).

use crate::workload::WorkloadSpec;
use serde::{Deserialize, Serialize};

/// How media is simulated.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum MediaMode {
    /// Every RTP/RTCP packet of every call crosses the network (the default).
    #[default]
    PerPacket,
    /// A seeded sample of calls (this fraction) gets per-packet media; the others get the
    /// flow model: loss, jitter and delay computed from the path's link parameters.
    Sampled(f64),
    /// Every call gets the flow model.
    Flow,
    /// No media at all (signalling studies); MOS columns stay empty.
    Off,
}

/// Something that happens at a planned time during the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ScheduledEvent {
    /// An element crashes at `at_s` and, with `for_s`, restarts after that long.
    ElementDown {
        element: String,
        at_s: f64,
        #[serde(default)]
        for_s: Option<f64>,
    },
    /// A span of a TDM link goes out of service (a dead T1).
    SpanDown {
        link: String,
        span: u16,
        at_s: f64,
        #[serde(default)]
        for_s: Option<f64>,
    },
    /// A network link fails.
    LinkDown {
        link: String,
        at_s: f64,
        #[serde(default)]
        for_s: Option<f64>,
    },
    /// A network node fails.
    NodeDown {
        node: String,
        at_s: f64,
        #[serde(default)]
        for_s: Option<f64>,
    },
}

/// What to run on a deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    pub workload: WorkloadSpec,
    #[serde(default)]
    pub media: MediaMode,
    /// After the measurement window, how long calls still in progress may take to end
    /// before the run stops (they are then recorded as still up), seconds.
    #[serde(default = "default_drain")]
    pub drain_s: f64,
    #[serde(default)]
    pub events: Vec<ScheduledEvent>,
}

fn default_drain() -> f64 {
    3600.0
}
