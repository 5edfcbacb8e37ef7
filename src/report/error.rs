//! The report layer's error type.

use std::path::PathBuf;

/// What went wrong writing a report artefact.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written or renamed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A trace (ladder or pcap) could not be built.
    #[error("trace: {0}")]
    Trace(String),
    /// The plotting backend failed (SVG string or PNG buffer).
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The embedded font could not be registered.
    #[error("embedded font: {0}")]
    Font(String),
    /// Sweep results that cannot be read or published (missing, incomplete or not ours).
    #[error("{0}")]
    Results(String),
    /// Chart input that cannot be drawn honestly (a NaN, an interval that excludes its mean,
    /// rows of different lengths).
    #[error("{chart} chart: {message}")]
    InvalidData {
        chart: &'static str,
        message: String,
    },
}

impl ReportError {
    pub(crate) fn invalid(chart: &'static str, message: impl Into<String>) -> Self {
        ReportError::InvalidData {
            chart,
            message: message.into(),
        }
    }
}
