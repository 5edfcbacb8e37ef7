//! `rtp`: media (RFC 3550 RTP/RTCP, RFC 3389 comfort noise, RFC 4733 DTMF).
//!
//! Wire codecs ([`wire`]) and sans-IO media state machines: a [`MediaSender`] driven by a
//! per-party talk-spurt model ([`TalkSpurtModel`], ITU-T P.59), a [`MediaReceiver`] with the
//! RFC 3550 statistics, a fixed or adaptive jitter buffer and the loss-run statistics the
//! E-model needs, an [`RtcpAgent`] (RFC 3550 §6 with the A.7 interval), and a
//! [`MediaSession`] that joins the three for one endpoint of one leg. A [`Transcoder`]
//! re-packetises a stream between two codecs for the Mediation Server.
//!
//! Every object takes `(now, input)` and returns packets as bytes ([`Transmit`]) and the next
//! time it wants to be woken ([`MediaSession::poll_timeout`]). Nothing here schedules, sleeps,
//! reads a clock or touches a socket, and every random draw comes from a [`crate::sim::SimRng`]
//! handed in by the caller. Parsing never panics on input: it returns [`Error`].
//!
//! Depends only on `sim` time types.

pub mod codec;
mod error;
mod jitter_buffer;
mod receiver;
mod rtcp;
mod sender;
mod session;
mod stats;
pub mod talkspurt;
mod transcode;
pub mod wire;

pub use codec::{Codec, CodecProfile, HeaderOverhead};
pub use error::Error;
pub use jitter_buffer::{AdaptiveConfig, JitterBufferConfig};
pub use receiver::{
    DelayBreakdown, DtmfDigitReceived, LegObservables, MediaReceiver, ReceiverConfig,
};
pub use rtcp::{RemoteReception, RtcpAgent, RtcpConfig, rtcp_interval};
pub use sender::{Direction, MediaClock, MediaSender, SenderConfig, SenderStats, SilenceMode};
pub use session::{Channel, MediaConfig, MediaSession, SessionEvent, Transmit};
pub use stats::{LossRunStats, ReceptionStats};
pub use talkspurt::{TalkSpurtModel, Voice};
pub use transcode::{Transcoder, TranscoderConfig, TranscoderStats};

/// Where a call is in its life, as far as media is concerned.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum CallPhase {
    /// After a 183 Session Progress with SDP and before the 200 OK: early media.
    EarlyMedia,
    /// After the 200 OK (or the ACK): the call is connected.
    #[default]
    Connected,
}
