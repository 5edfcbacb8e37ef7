//! `rtp`: media (RFC 3550 RTP/RTCP, RFC 3389 comfort noise, RFC 4733 DTMF).
//!
//! Wire codecs and sans-IO media sessions: senders driven by a talk-spurt model, receivers
//! with a jitter buffer and the RFC 3550 statistics. Like `sip`, it takes `(now, input)` and
//! returns packets and timers.
//!
//! Depends only on `sim` time types.
