//! Transactions (RFC 3261 §17): the INVITE and non-INVITE client and server state
//! machines with timers A, B, D, E, F, G, H, I, J and K.
//!
//! Each transaction is sans-IO: the transaction user feeds it messages and the current
//! time (`on_response`/`on_request`/`send_response`, `on_timeout(now)`), drains what it
//! wants sent with `poll_transmit()`, and arms one timer at `next_timeout()`. Over UDP
//! requests and final responses are retransmitted at the RFC values; over TCP and TLS
//! nothing is retransmitted and timers D, I, J and K are zero. 2xx responses to INVITE
//! leave the transaction layer as RFC 3261 specifies (the UA core retransmits the 2xx and
//! its ACK), so the `Accepted` state of RFC 6026 is not modelled.

mod client;
mod key;
mod server;

pub use client::{InviteClient, NonInviteClient};
pub use key::{KeyMethod, TxKey};
pub use server::{InviteServer, NonInviteServer, response_destination};

use crate::sim::{SimDuration, SimTime};
use crate::sip::transport::Transmit;
use crate::sip::wire::{Request, Response};

/// The RFC 3261 timer base values (Table 4).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate, 500 ms.
    pub t1: SimDuration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses, 4 s.
    pub t2: SimDuration,
    /// Maximum time a message stays in the network, 5 s.
    pub t4: SimDuration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: SimDuration::from_millis(500),
            t2: SimDuration::from_secs(4),
            t4: SimDuration::from_secs(5),
        }
    }
}

impl Timers {
    /// Timers B, F, H and J: 64·T1.
    pub fn timeout(&self) -> SimDuration {
        self.t1 * 64
    }

    /// Timer D: at least 32 s over UDP, zero over reliable transports.
    pub fn d(&self, reliable: bool) -> SimDuration {
        if reliable {
            SimDuration::ZERO
        } else {
            SimDuration::from_secs(32).max(self.timeout())
        }
    }
}

/// What a transaction reports to its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxEvent {
    /// A response for the user (client transactions; retransmissions are absorbed).
    Response(Response),
    /// Timer B or F fired: no final response arrived. The user acts as on a 408.
    Timeout,
    /// Timer H fired: no ACK arrived for the final response of an INVITE server.
    AckTimeout,
}

/// The four kinds of transaction behind one interface, as a table stores them.
#[derive(Debug)]
pub enum Transaction {
    InviteClient(InviteClient),
    NonInviteClient(NonInviteClient),
    InviteServer(InviteServer),
    NonInviteServer(NonInviteServer),
}

impl Transaction {
    pub fn on_timeout(&mut self, now: SimTime) -> Option<TxEvent> {
        match self {
            Transaction::InviteClient(t) => t.on_timeout(now),
            Transaction::NonInviteClient(t) => t.on_timeout(now),
            Transaction::InviteServer(t) => t.on_timeout(now),
            Transaction::NonInviteServer(t) => {
                t.on_timeout(now);
                None
            }
        }
    }

    pub fn next_timeout(&self) -> Option<SimTime> {
        match self {
            Transaction::InviteClient(t) => t.next_timeout(),
            Transaction::NonInviteClient(t) => t.next_timeout(),
            Transaction::InviteServer(t) => t.next_timeout(),
            Transaction::NonInviteServer(t) => t.next_timeout(),
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        match self {
            Transaction::InviteClient(t) => t.poll_transmit(),
            Transaction::NonInviteClient(t) => t.poll_transmit(),
            Transaction::InviteServer(t) => t.poll_transmit(),
            Transaction::NonInviteServer(t) => t.poll_transmit(),
        }
    }

    pub fn is_terminated(&self) -> bool {
        match self {
            Transaction::InviteClient(t) => t.is_terminated(),
            Transaction::NonInviteClient(t) => t.is_terminated(),
            Transaction::InviteServer(t) => t.is_terminated(),
            Transaction::NonInviteServer(t) => t.is_terminated(),
        }
    }

    /// Feeds a response to a client transaction (servers ignore it).
    pub fn on_response(&mut self, now: SimTime, resp: Response) -> Option<TxEvent> {
        match self {
            Transaction::InviteClient(t) => t.on_response(now, resp),
            Transaction::NonInviteClient(t) => t.on_response(now, resp),
            _ => None,
        }
    }

    /// Feeds a retransmitted request (or the ACK of a non-2xx) to a server transaction.
    /// Returns true when the transaction absorbed it.
    pub fn on_request(&mut self, now: SimTime, req: &Request) -> bool {
        match self {
            Transaction::InviteServer(t) => t.on_request(now, req),
            Transaction::NonInviteServer(t) => t.on_request(now, req),
            _ => false,
        }
    }

    /// Sends a response through a server transaction (clients ignore it).
    pub fn send_response(&mut self, now: SimTime, resp: &Response) {
        match self {
            Transaction::InviteServer(t) => t.send_response(now, resp),
            Transaction::NonInviteServer(t) => t.send_response(now, resp),
            _ => {}
        }
    }

    /// Sends an already serialised response through a server transaction.
    pub fn send_encoded(&mut self, now: SimTime, status: u16, bytes: bytes::Bytes) {
        match self {
            Transaction::InviteServer(t) => t.send_encoded(now, status, bytes),
            Transaction::NonInviteServer(t) => t.send_encoded(now, status, bytes),
            _ => {}
        }
    }

    /// The request of a client transaction.
    pub fn request(&self) -> Option<&Request> {
        match self {
            Transaction::InviteClient(t) => Some(t.request()),
            Transaction::NonInviteClient(t) => Some(t.request()),
            _ => None,
        }
    }
}

/// The earliest of a set of optional deadlines.
pub(crate) fn earliest(times: &[Option<SimTime>]) -> Option<SimTime> {
    times.iter().flatten().min().copied()
}
