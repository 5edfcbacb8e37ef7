//! The metrics layer's error type.

/// What went wrong computing a statistic. Every variant names the argument and the value.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// An argument outside its domain (negative load, probability outside (0, 1), NaN...).
    #[error("invalid {what}: {value} ({expected})")]
    InvalidArgument {
        what: &'static str,
        value: f64,
        expected: &'static str,
    },
    /// A count argument out of range (e.g. successes > trials).
    #[error("invalid {what}: {value} ({expected})")]
    InvalidCount {
        what: &'static str,
        value: u64,
        expected: &'static str,
    },
    /// A sweep that cannot be interpolated (unsorted, duplicated or non-finite loads).
    #[error("invalid sweep: {0}")]
    InvalidSweep(String),
    /// Stored statistics (e.g. a deserialised histogram) that break an invariant.
    #[error("inconsistent stored statistics: {0}")]
    Inconsistent(String),
}

impl MetricsError {
    pub(crate) fn arg(what: &'static str, value: f64, expected: &'static str) -> Self {
        MetricsError::InvalidArgument {
            what,
            value,
            expected,
        }
    }
}
