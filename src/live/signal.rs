//! Clean shutdown on SIGINT and SIGTERM.

use super::error::LiveError;
use signal_hook::consts::{SIGINT, SIGTERM};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// A flag set by the first SIGINT or SIGTERM, so the driver loop stops at its next turn
/// and prints its summary. A second signal exits at once (status 130 / 143), in case the
/// shutdown itself hangs.
pub fn stop_on_signals() -> Result<Arc<AtomicBool>, LiveError> {
    let flag = Arc::new(AtomicBool::new(false));
    for (signal, status) in [(SIGINT, 130), (SIGTERM, 143)] {
        // Registered first so that it sees the flag as the previous signal left it.
        signal_hook::flag::register_conditional_shutdown(signal, status, Arc::clone(&flag))
            .map_err(|e| LiveError::Io("installing a signal handler", e))?;
        signal_hook::flag::register(signal, Arc::clone(&flag))
            .map_err(|e| LiveError::Io("installing a signal handler", e))?;
    }
    Ok(flag)
}
