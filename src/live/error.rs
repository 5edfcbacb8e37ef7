//! The live layer's errors.

use crate::elements::build::BuildError;
use std::net::SocketAddrV4;

/// What can stop a live driver.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// A socket could not be bound (address in use, not local...).
    #[error("cannot bind udp:{addr}: {source}")]
    Bind {
        addr: SocketAddrV4,
        #[source]
        source: std::io::Error,
    },
    /// The event loop or signal set-up failed.
    #[error("{0}: {1}")]
    Io(&'static str, #[source] std::io::Error),
    /// The MODEL argument names no usable model.
    #[error(transparent)]
    Model(#[from] crate::vendor::Error),
    /// The element of the model could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The URI to call is not usable.
    #[error("cannot call `{uri}`: {reason}")]
    Target { uri: String, reason: String },
    /// A command-line option is out of range.
    #[error("{option}: {reason}")]
    Option {
        option: &'static str,
        reason: String,
    },
}
