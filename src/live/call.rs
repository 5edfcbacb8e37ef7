//! `voicetwin call`: real calls from our user agent to a live SIP peer.
//!
//! The caller is a [`crate::elements::endpoint::SipEndpoint`] in a live host, driven by
//! call scripts exactly as in the simulator: each call is INVITE, answer, talk with RTP
//! for the hold time, BYE. Its call log gives the outcome, the post-dial delay and what
//! the media session heard.

use super::error::LiveError;
use super::host::{HostOptions, LiveHost, LiveStats, SipSocket};
use super::model::{Applied, LiveModel, calling_element};
use crate::elements::callbook::{CallLog, PartyRole};
use crate::elements::script::{AnswerAction, CallScript};
use crate::elements::{CallOutcome, CallTag};
use crate::sim::{RngFactory, SimDuration, SimTime};
use crate::sip::wire::{Host, Uri};
use std::fmt;
use std::net::{SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The user part called when the URI has none (SIPp's default service).
pub const DEFAULT_USER: &str = "service";

/// How to call.
#[derive(Clone, Debug)]
pub struct CallConfig {
    /// `sip:user@host[:port]`; the host is an IPv4 literal or a name resolved once.
    pub uri: String,
    pub count: u32,
    /// Calls placed per second.
    pub rate: f64,
    /// Talk time from answer to BYE.
    pub hold: SimDuration,
    /// The caller gives up (CANCEL) if nobody answers by then.
    pub ring_timeout: SimDuration,
    /// The model shaping our user agent (`uas` for the plain one).
    pub model: LiveModel,
    /// Our SIP address (port 0: any free port); `None`: the local address the OS routes
    /// toward the target from (loopback for a loopback target), any port.
    pub bind: Option<SocketAddrV4>,
    pub seed: u64,
}

/// Where a call goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub user: String,
    /// The host as written in the URI (it goes into the Request-URI).
    pub host: String,
    pub addr: SocketAddrV4,
}

impl Target {
    /// Parses and resolves a SIP URI.
    pub fn parse(uri: &str) -> Result<Target, LiveError> {
        let bad = |reason: String| LiveError::Target {
            uri: uri.to_string(),
            reason,
        };
        let parsed = Uri::parse(uri).map_err(|e| bad(e.to_string()))?;
        let sip = parsed
            .as_sip()
            .ok_or_else(|| bad("not a sip: URI".into()))?;
        let port = sip.port.unwrap_or(5060);
        let addr = match &sip.host {
            Host::Domain(name) => (name.as_str(), port)
                .to_socket_addrs()
                .map_err(|e| bad(format!("cannot resolve {name}: {e}")))?
                .find_map(|a| match a {
                    SocketAddr::V4(v4) => Some(v4),
                    SocketAddr::V6(_) => None,
                })
                .ok_or_else(|| bad(format!("{name} has no IPv4 address")))?,
            h => match h.ip() {
                Some(std::net::IpAddr::V4(ip)) => SocketAddrV4::new(ip, port),
                _ => return Err(bad("only IPv4 peers are supported".into())),
            },
        };
        let host = match &sip.host {
            Host::Domain(name) => name.clone(),
            _ => addr.ip().to_string(),
        };
        Ok(Target {
            user: sip
                .user
                .as_deref()
                .filter(|u| !u.is_empty())
                .unwrap_or(DEFAULT_USER)
                .to_string(),
            host,
            addr,
        })
    }
}

/// The outcome of one call.
#[derive(Clone, Debug, PartialEq)]
pub struct CallResult {
    /// 1-based, in placing order.
    pub index: u32,
    pub outcome: CallOutcome,
    /// The final failure status (None when answered).
    pub status: Option<u16>,
    pub detail: String,
    /// Post-dial delay: INVITE to first ringback or answer.
    pub pdd_ms: Option<f64>,
    /// INVITE to answer.
    pub setup_ms: Option<f64>,
    /// Answer to the end of the call.
    pub talk_ms: Option<f64>,
    /// RTP audio packets our side received, and whether it played any.
    pub audio_packets: u64,
    pub audio_heard: bool,
}

impl CallResult {
    fn from_log(log: &CallLog) -> CallResult {
        let ms = |from: SimTime, to: Option<SimTime>| {
            to.map(|t| t.saturating_since(from).as_millis_f64())
        };
        let first_sign = match (log.ringback_at, log.answered_at) {
            (Some(r), Some(a)) => Some(r.min(a)),
            (r, a) => r.or(a),
        };
        let media = log.media_for(PartyRole::Caller);
        CallResult {
            index: log.tag.0 as u32,
            outcome: log.outcome,
            status: log.final_status,
            detail: log.detail.clone(),
            pdd_ms: ms(log.started_at, first_sign),
            setup_ms: ms(log.started_at, log.answered_at),
            talk_ms: log.answered_at.and_then(|a| ms(a, log.ended_at)),
            audio_packets: media.map_or(0, |m| m.audio_packets),
            audio_heard: media.is_some_and(|m| m.audio_heard),
        }
    }

    /// Answered and ended normally.
    pub fn succeeded(&self) -> bool {
        self.outcome == CallOutcome::Answered
    }
}

impl fmt::Display for CallResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        write!(
            f,
            "call {}: {} status={} pdd_ms={} setup_ms={} talk_ms={} rtp_in={}",
            self.index,
            self.outcome.as_str(),
            self.status.map_or("-".to_string(), |s| s.to_string()),
            opt(self.pdd_ms),
            opt(self.setup_ms),
            opt(self.talk_ms),
            self.audio_packets
        )?;
        if !self.succeeded() && !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// What a calling run did.
#[derive(Clone, Debug)]
pub struct CallReport {
    pub results: Vec<CallResult>,
    pub stats: LiveStats,
    pub elapsed: Duration,
    /// Stopped by a signal (or the stop flag) before every call finished.
    pub interrupted: bool,
}

impl CallReport {
    pub fn answered(&self) -> usize {
        self.results.iter().filter(|r| r.succeeded()).count()
    }

    pub fn failed(&self) -> usize {
        self.results.len() - self.answered()
    }
}

impl fmt::Display for CallReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        let mut setup: Vec<f64> = self.results.iter().filter_map(|r| r.setup_ms).collect();
        setup.sort_by(f64::total_cmp);
        let median = setup.get(setup.len() / 2).copied();
        writeln!(
            f,
            "summary: calls={} answered={} failed={}{} setup_ms_median={}",
            self.results.len(),
            self.answered(),
            self.failed(),
            if self.interrupted {
                " (interrupted)"
            } else {
                ""
            },
            median.map_or("-".to_string(), |m| format!("{m:.1}"))
        )?;
        write!(
            f,
            "messages: sip_in={} sip_out={} rtp_in={} rtp_out={} send_errors={} elapsed_s={:.3}",
            s.sip_in,
            s.sip_out,
            s.media_in,
            s.media_out,
            s.send_errors,
            self.elapsed.as_secs_f64()
        )
    }
}

/// The local address the OS would send from toward `target` (no packet is sent).
fn local_ip_toward(target: SocketAddrV4) -> Result<std::net::Ipv4Addr, LiveError> {
    let io = |e| LiveError::Io("finding the local address toward the target", e);
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").map_err(io)?;
    probe.connect(target).map_err(io)?;
    match probe.local_addr().map_err(io)? {
        SocketAddr::V4(a) => Ok(*a.ip()),
        SocketAddr::V6(_) => Ok(std::net::Ipv4Addr::LOCALHOST),
    }
}

/// The scripted calls' common parts.
fn script(index: u32, target: &Target, cfg: &CallConfig) -> CallScript {
    CallScript {
        tag: CallTag(u64::from(index)),
        caller: "voicetwin".into(),
        dialled: target.user.clone(),
        callee: target.user.clone(),
        anonymous: false,
        // The callee is the remote peer: it decides for itself.
        callee_action: AnswerAction::Answer {
            after: SimDuration::ZERO,
        },
        holding: cfg.hold,
        abandon_after: cfg.ring_timeout,
        hold: None,
        transfer: None,
        forward: None,
        simul_ring: None,
        dtmf: None,
        secondary_ring: SimDuration::ZERO,
    }
}

/// A caller ready to place calls.
pub struct Caller {
    host: LiveHost,
    id: crate::elements::ElementId,
    target: Target,
    local: SocketAddrV4,
    applied: Vec<Applied>,
}

impl Caller {
    /// Resolves the target, binds our socket and builds our user agent.
    pub fn start(cfg: &CallConfig) -> Result<Caller, LiveError> {
        if cfg.count == 0 {
            return Err(LiveError::Option {
                option: "--count",
                reason: "must be at least 1".into(),
            });
        }
        if !(cfg.rate.is_finite() && cfg.rate > 0.0) {
            return Err(LiveError::Option {
                option: "--rate",
                reason: format!(
                    "must be a positive number of calls per second, not {}",
                    cfg.rate
                ),
            });
        }
        let target = Target::parse(&cfg.uri)?;
        let rngs = RngFactory::new(cfg.seed);
        let options = HostOptions {
            // Calls toward us are not what this driver is for: leave them unscripted.
            script_inbound: None,
            media_reservation_ttl: cfg.ring_timeout + SimDuration::from_secs(40),
            ..HostOptions::default()
        };
        let mut host = LiveHost::new(rngs, options)?;
        let bind = match cfg.bind {
            Some(b) => b,
            None => SocketAddrV4::new(local_ip_toward(target.addr)?, 0),
        };
        let socket = SipSocket::bind(bind)?;
        let local = socket.local();
        let (element, applied) =
            calling_element(&cfg.model, local, &target.host, target.addr, &rngs);
        let id = host.add(element, vec![socket])?;
        Ok(Caller {
            host,
            id,
            target,
            local,
            applied,
        })
    }

    pub fn local(&self) -> SocketAddrV4 {
        self.local
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn applied(&self) -> &[Applied] {
        &self.applied
    }

    /// Places the calls at the configured rate and waits for each to finish (or for
    /// `stop`). `on_result` sees each call as it finishes.
    pub fn run(
        &mut self,
        cfg: &CallConfig,
        stop: &AtomicBool,
        mut on_result: impl FnMut(&CallResult),
    ) -> Result<CallReport, LiveError> {
        let start = self.host.now();
        let gap = 1.0 / cfg.rate;
        for i in 0..cfg.count {
            let at = start + SimDuration::from_secs_f64(gap * f64::from(i));
            self.host
                .place_call_at(at, self.id, script(i + 1, &self.target, cfg));
        }
        // The last call's start, its ring timeout, its talk, and a BYE transaction
        // (64·T1) with margin.
        let last = SimDuration::from_secs_f64(gap * f64::from(cfg.count - 1));
        let deadline = start + last + cfg.ring_timeout + cfg.hold + SimDuration::from_secs(40);
        let mut results = Vec::with_capacity(cfg.count as usize);
        let mut interrupted = false;
        let total = cfg.count as usize;
        let all_done = self.host.run_until(deadline, |h| {
            while let Some(log) = h.pop_finished() {
                let r = CallResult::from_log(&log);
                on_result(&r);
                results.push(r);
            }
            if stop.load(Ordering::SeqCst) {
                interrupted = true;
                return true;
            }
            results.len() >= total
        })?;
        if !all_done || interrupted {
            self.host.finish_all();
            while let Some(log) = self.host.pop_finished() {
                let r = CallResult::from_log(&log);
                on_result(&r);
                results.push(r);
            }
        }
        let elapsed = Duration::from_nanos(self.host.now().saturating_since(start).as_nanos());
        if !interrupted {
            // Our last BYEs ended their calls when they were sent; wait for the answers (and
            // let our UA retransmit a BYE whose answer was lost).
            self.host
                .linger(super::serve::LINGER_QUIET, super::serve::LINGER_MAX)?;
        }
        results.sort_by_key(|r| r.index);
        Ok(CallReport {
            results,
            stats: self.host.stats(),
            elapsed,
            interrupted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_defaults_and_reject_what_cannot_be_called() {
        let t = Target::parse("sip:bob@127.0.0.1:5080").unwrap();
        assert_eq!((t.user.as_str(), t.host.as_str()), ("bob", "127.0.0.1"));
        assert_eq!(t.addr, "127.0.0.1:5080".parse().unwrap());
        let t = Target::parse("sip:127.0.0.1").unwrap();
        assert_eq!((t.user.as_str(), t.addr.port()), (DEFAULT_USER, 5060));
        let t = Target::parse("sip:alice@localhost:5090").unwrap();
        assert_eq!((t.host.as_str(), t.addr.port()), ("localhost", 5090));
        for bad in ["tel:+15551234", "http://x", "sip:a@[::1]:5060", "garbage"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_out_of_range_are_refused() {
        let cfg = CallConfig {
            uri: "sip:a@127.0.0.1:9".into(),
            count: 0,
            rate: 1.0,
            hold: SimDuration::ZERO,
            ring_timeout: SimDuration::from_secs(1),
            model: LiveModel::Uas,
            bind: None,
            seed: 1,
        };
        assert!(Caller::start(&cfg).is_err());
        let cfg = CallConfig {
            count: 1,
            rate: 0.0,
            ..cfg
        };
        let err = Caller::start(&cfg).err().unwrap();
        assert!(err.to_string().contains("--rate"), "{err}");
    }
}
