//! The experiment layer's error type.

use crate::config::ConfigError;
use std::path::PathBuf;

/// What stopped an experiment from loading, running, resuming or merging. A failing
/// (point, replication) is not an error: it is recorded in its unit file and the sweep goes
/// on.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The experiment file (or a topology or model it names) is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// Several located problems (what `check` reports).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Configs(Vec<ConfigError>),
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A stored file is not what this version writes (truncated, edited, another format).
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    /// The output directory holds results of a different experiment (or of the same file
    /// with different seeds, documents, parameters or runner).
    #[error(
        "{dir} holds results of another experiment ({found}); this run is {expected}.\n\
         Use another --out directory, or --fresh to discard the old results"
    )]
    ChangedExperiment {
        dir: PathBuf,
        found: String,
        expected: String,
    },
    /// Shard directories that cannot be merged.
    #[error("cannot merge: {0}")]
    Merge(String),
    /// Units of the plan have no result yet.
    #[error("{dir}: {count} unit(s) have no result yet: {list}")]
    Incomplete {
        dir: PathBuf,
        count: usize,
        list: String,
    },
    /// A bad command-line value (`--shard 4/3`, `--target-ci x`).
    #[error("{0}")]
    Usage(String),
    /// The thread pool could not be built.
    #[error("thread pool: {0}")]
    Pool(String),
}

impl ExperimentError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| ExperimentError::Io { path, source }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ExperimentError::Corrupt {
            path: path.into(),
            message: message.into(),
        }
    }
}
