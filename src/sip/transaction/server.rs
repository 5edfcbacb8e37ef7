//! Server transactions (RFC 3261 §17.2) and where their responses go (§18.2.2).

use super::{Timers, TxEvent, earliest};
use crate::sim::{SimDuration, SimTime};
use crate::sip::transport::{Transmit, Transport};
use crate::sip::wire::{Method, Request, Response, Via};
use bytes::Bytes;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// Where responses to a request with top Via `via`, received from `src`, are sent:
/// back on the connection for reliable transports; to the source address with the
/// source port under `rport` (RFC 3581); otherwise to the source address and the Via
/// port (RFC 3261 §18.2.2, the `received` rule).
pub fn response_destination(via: &Via, src: SocketAddr, transport: Transport) -> SocketAddr {
    if transport.is_reliable() || via.rport().is_some() {
        return src;
    }
    SocketAddr::new(src.ip(), via.port.unwrap_or(5060))
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum IstState {
    Proceeding,
    Completed,
    Confirmed,
    Terminated,
}

/// The INVITE server transaction (§17.2.1, Figure 7).
#[derive(Debug)]
pub struct InviteServer {
    state: IstState,
    dst: SocketAddr,
    transport: Transport,
    timers: Timers,
    last: Option<Bytes>,
    timer_g: Option<SimTime>,
    g_interval: SimDuration,
    timer_h: Option<SimTime>,
    timer_i: Option<SimTime>,
    out: VecDeque<Transmit>,
}

impl InviteServer {
    /// A transaction for an INVITE just received; responses go to `dst`.
    pub fn new(dst: SocketAddr, transport: Transport, timers: Timers) -> InviteServer {
        InviteServer {
            state: IstState::Proceeding,
            dst,
            transport,
            timers,
            last: None,
            timer_g: None,
            g_interval: timers.t1,
            timer_h: None,
            timer_i: None,
            out: VecDeque::with_capacity(2),
        }
    }

    pub fn is_terminated(&self) -> bool {
        self.state == IstState::Terminated
    }

    /// True until a final response has been sent.
    pub fn is_proceeding(&self) -> bool {
        self.state == IstState::Proceeding
    }

    pub fn destination(&self) -> SocketAddr {
        self.dst
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    pub fn next_timeout(&self) -> Option<SimTime> {
        earliest(&[self.timer_g, self.timer_h, self.timer_i])
    }

    fn send(&mut self, bytes: Bytes) {
        self.out.push_back(Transmit {
            dst: self.dst,
            transport: self.transport,
            bytes,
        });
    }

    /// The transaction user sends a response. Only allowed while proceeding.
    pub fn send_response(&mut self, now: SimTime, resp: &Response) {
        self.send_encoded(now, resp.status, resp.to_bytes());
    }

    /// [`InviteServer::send_response`] for a response already serialised.
    pub fn send_encoded(&mut self, now: SimTime, status: u16, bytes: Bytes) {
        if self.state != IstState::Proceeding {
            return;
        }
        self.send(bytes.clone());
        match status {
            100..=199 => self.last = Some(bytes),
            200..=299 => self.state = IstState::Terminated,
            _ => {
                self.last = Some(bytes);
                self.state = IstState::Completed;
                if !self.transport.is_reliable() {
                    self.timer_g = Some(now + self.timers.t1);
                }
                self.timer_h = Some(now + self.timers.timeout());
            }
        }
    }

    /// A retransmitted INVITE or the ACK of a non-2xx final response. Returns true when
    /// absorbed here.
    pub fn on_request(&mut self, now: SimTime, req: &Request) -> bool {
        match (self.state, &req.method) {
            (IstState::Proceeding, Method::Invite) => {
                if let Some(p) = self.last.clone() {
                    self.send(p);
                }
                true
            }
            (IstState::Completed, Method::Invite) => {
                if let Some(f) = self.last.clone() {
                    self.send(f);
                }
                true
            }
            (IstState::Completed, Method::Ack) => {
                self.timer_g = None;
                self.timer_h = None;
                if self.transport.is_reliable() {
                    self.state = IstState::Terminated;
                } else {
                    self.state = IstState::Confirmed;
                    self.timer_i = Some(now + self.timers.t4);
                }
                true
            }
            (IstState::Confirmed, _) => true,
            _ => false,
        }
    }

    pub fn on_timeout(&mut self, now: SimTime) -> Option<TxEvent> {
        if self.timer_h.is_some_and(|t| t <= now) {
            self.state = IstState::Terminated;
            self.timer_g = None;
            self.timer_h = None;
            return Some(TxEvent::AckTimeout);
        }
        if self.timer_g.is_some_and(|t| t <= now) {
            if let Some(f) = self.last.clone() {
                self.send(f);
            }
            self.g_interval = (self.g_interval * 2).min(self.timers.t2);
            self.timer_g = Some(now + self.g_interval);
        }
        if self.timer_i.is_some_and(|t| t <= now) {
            self.timer_i = None;
            self.state = IstState::Terminated;
        }
        None
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum NistState {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// The non-INVITE server transaction (§17.2.2, Figure 8).
#[derive(Debug)]
pub struct NonInviteServer {
    state: NistState,
    dst: SocketAddr,
    transport: Transport,
    timers: Timers,
    last: Option<Bytes>,
    timer_j: Option<SimTime>,
    out: VecDeque<Transmit>,
}

impl NonInviteServer {
    pub fn new(dst: SocketAddr, transport: Transport, timers: Timers) -> NonInviteServer {
        NonInviteServer {
            state: NistState::Trying,
            dst,
            transport,
            timers,
            last: None,
            timer_j: None,
            out: VecDeque::with_capacity(1),
        }
    }

    pub fn is_terminated(&self) -> bool {
        self.state == NistState::Terminated
    }

    /// True until a final response has been sent.
    pub fn is_pending(&self) -> bool {
        matches!(self.state, NistState::Trying | NistState::Proceeding)
    }

    pub fn destination(&self) -> SocketAddr {
        self.dst
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    pub fn next_timeout(&self) -> Option<SimTime> {
        self.timer_j
    }

    pub fn send_response(&mut self, now: SimTime, resp: &Response) {
        self.send_encoded(now, resp.status, resp.to_bytes());
    }

    /// [`NonInviteServer::send_response`] for a response already serialised.
    pub fn send_encoded(&mut self, now: SimTime, status: u16, bytes: Bytes) {
        if !self.is_pending() {
            return;
        }
        self.out.push_back(Transmit {
            dst: self.dst,
            transport: self.transport,
            bytes: bytes.clone(),
        });
        self.last = Some(bytes);
        if status < 200 {
            self.state = NistState::Proceeding;
        } else if self.transport.is_reliable() {
            self.state = NistState::Terminated;
        } else {
            self.state = NistState::Completed;
            self.timer_j = Some(now + self.timers.timeout());
        }
    }

    /// A retransmission of the request: the last response is sent again.
    pub fn on_request(&mut self, _now: SimTime, _req: &Request) -> bool {
        if matches!(self.state, NistState::Proceeding | NistState::Completed) {
            if let Some(b) = self.last.clone() {
                self.out.push_back(Transmit {
                    dst: self.dst,
                    transport: self.transport,
                    bytes: b,
                });
            }
        }
        true
    }

    pub fn on_timeout(&mut self, now: SimTime) {
        if self.timer_j.is_some_and(|t| t <= now) {
            self.timer_j = None;
            self.state = NistState::Terminated;
        }
    }
}
