//! Transports and the datagram type the SIP state machines emit.

use bytes::Bytes;
use std::fmt;
use std::net::SocketAddr;

/// The transport a message travels on.
///
/// TLS is modelled as a capability: the SIP layer treats it as a reliable stream (no
/// retransmissions, Timer D/I/K zero) and marks it in Via and `sips:` URIs. The cost of
/// the handshake is the driver's business: when it opens a new connection it delays the
/// first datagram by [`Transport::setup_round_trips`] round trips of the path.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Transport {
    #[default]
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    /// The Via transport token.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// Parses a Via transport token (case-insensitive).
    pub fn from_token(s: &str) -> Option<Transport> {
        if s.eq_ignore_ascii_case("UDP") {
            Some(Transport::Udp)
        } else if s.eq_ignore_ascii_case("TCP") {
            Some(Transport::Tcp)
        } else if s.eq_ignore_ascii_case("TLS") {
            Some(Transport::Tls)
        } else {
            None
        }
    }

    /// Reliable transports carry no SIP-level retransmissions (RFC 3261 §17).
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// Round trips a driver spends before the first message on a new connection: none for
    /// UDP, the TCP handshake for TCP, and TCP plus a full TLS 1.2 handshake (two round
    /// trips) for TLS.
    pub fn setup_round_trips(self) -> u32 {
        match self {
            Transport::Udp => 0,
            Transport::Tcp => 1,
            Transport::Tls => 3,
        }
    }

    /// The `transport=` URI parameter value.
    pub fn uri_param(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message to send: the driver puts `bytes` on `transport` toward `dst`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub dst: SocketAddr,
    pub transport: Transport,
    pub bytes: Bytes,
}
