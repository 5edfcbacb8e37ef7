//! Client transactions (RFC 3261 §17.1).

use super::{Timers, TxEvent, earliest};
use crate::sim::{SimDuration, SimTime};
use crate::sip::transport::{Transmit, Transport};
use crate::sip::wire::{CSeq, HeaderName, Method, Request, Response};
use bytes::Bytes;
use std::collections::VecDeque;
use std::net::SocketAddr;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum IctState {
    Calling,
    Proceeding,
    Completed,
    Terminated,
}

/// The INVITE client transaction (§17.1.1, Figure 5).
#[derive(Debug)]
pub struct InviteClient {
    state: IctState,
    request: Request,
    bytes: Bytes,
    dst: SocketAddr,
    transport: Transport,
    timers: Timers,
    /// Timer A: next retransmission, and the interval that led to it.
    timer_a: Option<SimTime>,
    a_interval: SimDuration,
    timer_b: Option<SimTime>,
    timer_d: Option<SimTime>,
    ack: Option<Bytes>,
    out: VecDeque<Transmit>,
}

impl InviteClient {
    /// Starts the transaction: the INVITE is queued for sending at `now`.
    pub fn new(
        now: SimTime,
        request: Request,
        dst: SocketAddr,
        transport: Transport,
        timers: Timers,
    ) -> InviteClient {
        let bytes = request.to_bytes();
        let mut out = VecDeque::with_capacity(2);
        out.push_back(Transmit {
            dst,
            transport,
            bytes: bytes.clone(),
        });
        let timer_a = (!transport.is_reliable()).then_some(now + timers.t1);
        InviteClient {
            state: IctState::Calling,
            request,
            bytes,
            dst,
            transport,
            timers,
            timer_a,
            a_interval: timers.t1,
            timer_b: Some(now + timers.timeout()),
            timer_d: None,
            ack: None,
            out,
        }
    }

    pub fn request(&self) -> &Request {
        &self.request
    }

    pub fn is_terminated(&self) -> bool {
        self.state == IctState::Terminated
    }

    /// True once a provisional response has arrived (CANCEL may then be sent, §9.1).
    pub fn is_proceeding(&self) -> bool {
        self.state == IctState::Proceeding
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    pub fn next_timeout(&self) -> Option<SimTime> {
        earliest(&[self.timer_a, self.timer_b, self.timer_d])
    }

    fn send(&mut self, bytes: Bytes) {
        self.out.push_back(Transmit {
            dst: self.dst,
            transport: self.transport,
            bytes,
        });
    }

    /// A response whose branch and CSeq method matched this transaction.
    pub fn on_response(&mut self, now: SimTime, resp: Response) -> Option<TxEvent> {
        match self.state {
            IctState::Calling | IctState::Proceeding => match resp.status {
                100..=199 => {
                    self.state = IctState::Proceeding;
                    self.timer_a = None;
                    self.timer_b = None;
                    Some(TxEvent::Response(resp))
                }
                200..=299 => {
                    self.state = IctState::Terminated;
                    self.timer_a = None;
                    self.timer_b = None;
                    Some(TxEvent::Response(resp))
                }
                _ => {
                    let ack = self.ack_for(&resp).to_bytes();
                    self.send(ack.clone());
                    self.ack = Some(ack);
                    self.timer_a = None;
                    self.timer_b = None;
                    let d = self.timers.d(self.transport.is_reliable());
                    if d.is_zero() {
                        self.state = IctState::Terminated;
                    } else {
                        self.state = IctState::Completed;
                        self.timer_d = Some(now + d);
                    }
                    Some(TxEvent::Response(resp))
                }
            },
            IctState::Completed => {
                if resp.status >= 300 {
                    if let Some(ack) = self.ack.clone() {
                        self.send(ack);
                    }
                }
                None
            }
            IctState::Terminated => None,
        }
    }

    /// The ACK of §17.1.1.3 for a non-2xx final response.
    fn ack_for(&self, resp: &Response) -> Request {
        let req = &self.request;
        let mut ack = Request::new(Method::Ack, req.uri.clone());
        let h = &req.headers;
        if let Some(v) = h.list(HeaderName::Via).next() {
            ack.headers.push(HeaderName::Via, v);
        }
        if let Some(v) = h.get(HeaderName::MaxForwards) {
            ack.headers.push(HeaderName::MaxForwards, v);
        }
        for (name, src) in [(HeaderName::From, h), (HeaderName::To, &resp.headers)] {
            if let Some(v) = src.get(name) {
                ack.headers.push(name, v);
            }
        }
        if let Some(v) = h.get(HeaderName::CallId) {
            ack.headers.push(HeaderName::CallId, v);
        }
        let seq = h.cseq().map(|c| c.seq).unwrap_or(0);
        ack.headers
            .push(HeaderName::CSeq, CSeq::new(seq, Method::Ack).encode());
        for r in h.get_all(HeaderName::Route) {
            ack.headers.push(HeaderName::Route, r);
        }
        ack
    }

    pub fn on_timeout(&mut self, now: SimTime) -> Option<TxEvent> {
        if self.timer_b.is_some_and(|t| t <= now) {
            self.state = IctState::Terminated;
            self.timer_a = None;
            self.timer_b = None;
            return Some(TxEvent::Timeout);
        }
        if self.timer_a.is_some_and(|t| t <= now) {
            self.send(self.bytes.clone());
            self.a_interval = self.a_interval * 2;
            self.timer_a = Some(now + self.a_interval);
        }
        if self.timer_d.is_some_and(|t| t <= now) {
            self.timer_d = None;
            self.state = IctState::Terminated;
        }
        None
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum NictState {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// The non-INVITE client transaction (§17.1.2, Figure 6).
#[derive(Debug)]
pub struct NonInviteClient {
    state: NictState,
    request: Request,
    bytes: Bytes,
    dst: SocketAddr,
    transport: Transport,
    timers: Timers,
    timer_e: Option<SimTime>,
    e_interval: SimDuration,
    timer_f: Option<SimTime>,
    timer_k: Option<SimTime>,
    out: VecDeque<Transmit>,
}

impl NonInviteClient {
    pub fn new(
        now: SimTime,
        request: Request,
        dst: SocketAddr,
        transport: Transport,
        timers: Timers,
    ) -> NonInviteClient {
        let bytes = request.to_bytes();
        let mut out = VecDeque::with_capacity(1);
        out.push_back(Transmit {
            dst,
            transport,
            bytes: bytes.clone(),
        });
        NonInviteClient {
            state: NictState::Trying,
            request,
            bytes,
            dst,
            transport,
            timers,
            timer_e: (!transport.is_reliable()).then_some(now + timers.t1),
            e_interval: timers.t1,
            timer_f: Some(now + timers.timeout()),
            timer_k: None,
            out,
        }
    }

    pub fn request(&self) -> &Request {
        &self.request
    }

    pub fn is_terminated(&self) -> bool {
        self.state == NictState::Terminated
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    pub fn next_timeout(&self) -> Option<SimTime> {
        earliest(&[self.timer_e, self.timer_f, self.timer_k])
    }

    pub fn on_response(&mut self, now: SimTime, resp: Response) -> Option<TxEvent> {
        match self.state {
            NictState::Trying | NictState::Proceeding => {
                if resp.status < 200 {
                    self.state = NictState::Proceeding;
                } else {
                    self.timer_e = None;
                    self.timer_f = None;
                    if self.transport.is_reliable() {
                        self.state = NictState::Terminated;
                    } else {
                        self.state = NictState::Completed;
                        self.timer_k = Some(now + self.timers.t4);
                    }
                }
                Some(TxEvent::Response(resp))
            }
            NictState::Completed | NictState::Terminated => None,
        }
    }

    pub fn on_timeout(&mut self, now: SimTime) -> Option<TxEvent> {
        if self.timer_f.is_some_and(|t| t <= now) {
            self.state = NictState::Terminated;
            self.timer_e = None;
            self.timer_f = None;
            return Some(TxEvent::Timeout);
        }
        if self.timer_e.is_some_and(|t| t <= now) {
            self.out.push_back(Transmit {
                dst: self.dst,
                transport: self.transport,
                bytes: self.bytes.clone(),
            });
            self.e_interval = if self.state == NictState::Proceeding {
                self.timers.t2
            } else {
                (self.e_interval * 2).min(self.timers.t2)
            };
            self.timer_e = Some(now + self.e_interval);
        }
        if self.timer_k.is_some_and(|t| t <= now) {
            self.timer_k = None;
            self.state = NictState::Terminated;
        }
        None
    }
}
