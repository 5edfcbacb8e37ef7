//! `voicetwin serve`: a model as a live SIP endpoint on a real UDP socket.

use super::error::LiveError;
use super::host::{HostOptions, LiveHost, LiveStats, SipSocket};
use super::model::{Applied, LiveModel, serving_element};
use crate::elements::callbook::CallLog;
use crate::sim::{RngFactory, SimDuration, SimTime};
use std::fmt;
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// After the last call, the host stays until the peer has been quiet for two T1 (a lost
/// response's retransmitted request comes after T1), at most 5 s.
pub(crate) const LINGER_QUIET: Duration = Duration::from_millis(1000);
pub(crate) const LINGER_MAX: Duration = Duration::from_secs(5);

/// How to serve.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub model: LiveModel,
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddrV4,
    /// Stop after this many calls have finished (completed, failed or cancelled).
    pub max_calls: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Ring time before answering.
    pub answer_after: SimDuration,
    /// Run media (RTP/RTCP) for calls; without it calls are signalling only.
    pub media: bool,
    /// Seeds the element's identifiers and media.
    pub seed: u64,
}

/// Why serving stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// SIGINT/SIGTERM (or the caller's stop flag).
    Signal,
    MaxCalls,
    Duration,
}

/// What a serving run did.
#[derive(Clone, Debug)]
pub struct ServeSummary {
    pub stats: LiveStats,
    pub elapsed: Duration,
    pub reason: StopReason,
    /// Calls still up when it stopped.
    pub open_calls: usize,
}

impl fmt::Display for ServeSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        let i = &s.inbound;
        writeln!(
            f,
            "summary: calls={} answered={} completed={} failed={} cancelled={} open={}",
            i.offered, i.answered, i.completed, i.failed, i.cancelled, self.open_calls
        )?;
        writeln!(
            f,
            "messages: sip_in={} sip_out={} rtp_in={} rtp_out={} send_errors={}",
            s.sip_in, s.sip_out, s.media_in, s.media_out, s.send_errors
        )?;
        write!(
            f,
            "stopped: {:?} after {:.3} s (peak media socket pairs {})",
            self.reason,
            self.elapsed.as_secs_f64(),
            s.peak_media_pairs
        )
    }
}

/// A model listening on a socket.
pub struct Server {
    host: LiveHost,
    local: SocketAddrV4,
    description: String,
    applied: Vec<Applied>,
}

impl Server {
    /// Binds the socket and builds the model's element.
    pub fn start(cfg: &ServeConfig) -> Result<Server, LiveError> {
        let rngs = RngFactory::new(cfg.seed);
        let options = HostOptions {
            script_inbound: cfg.media.then_some(cfg.answer_after),
            bind_media: cfg.media,
            ..HostOptions::default()
        };
        let mut host = LiveHost::new(rngs, options)?;
        let socket = SipSocket::bind(cfg.listen)?;
        let local = socket.local();
        let served = serving_element(&cfg.model, local, cfg.answer_after, &rngs)?;
        host.add(served.element, vec![socket])?;
        Ok(Server {
            host,
            local,
            description: served.description,
            applied: served.applied,
        })
    }

    /// The address it listens on.
    pub fn local(&self) -> SocketAddrV4 {
        self.local
    }

    /// Which element serves the model.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The model's behaviours and whether they act on the wire.
    pub fn applied(&self) -> &[Applied] {
        &self.applied
    }

    /// Serves until `stop` is set, or the configured call count or duration is reached.
    /// `on_call` sees each finished call log (media-carrying calls only).
    pub fn run(
        &mut self,
        cfg: &ServeConfig,
        stop: &AtomicBool,
        mut on_call: impl FnMut(&CallLog),
    ) -> Result<ServeSummary, LiveError> {
        let started = self.host.now();
        let deadline = match cfg.duration {
            Some(d) => {
                started + SimDuration::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            }
            None => SimTime::MAX,
        };
        let mut reason = StopReason::Duration;
        self.host.run_until(deadline, |h| {
            while let Some(log) = h.pop_finished() {
                on_call(&log);
            }
            if stop.load(Ordering::SeqCst) {
                reason = StopReason::Signal;
                return true;
            }
            if cfg
                .max_calls
                .is_some_and(|n| h.stats().inbound.finished() >= n)
            {
                reason = StopReason::MaxCalls;
                return true;
            }
            false
        })?;
        let elapsed = Duration::from_nanos(self.host.now().saturating_since(started).as_nanos());
        if reason == StopReason::MaxCalls {
            // Answer retransmissions (a BYE whose 200 was lost) before going away.
            self.host.linger(LINGER_QUIET, LINGER_MAX)?;
        }
        let open_calls = self.host.inbound_open();
        self.host.finish_all();
        while let Some(log) = self.host.pop_finished() {
            on_call(&log);
        }
        Ok(ServeSummary {
            stats: self.host.stats(),
            elapsed,
            reason,
            open_calls,
        })
    }
}
