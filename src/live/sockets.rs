//! The real UDP sockets of a live host: one per SIP address of an element, and an RTP/RTCP
//! pair per media address the media engine hands out.
//!
//! Media addresses are chosen by the media engine (ascending even ports from 20000, as in
//! the simulator). The live host installs a [`PortGate`] that binds both sockets of a
//! candidate pair before the engine may hand it out, so an address written into an SDP is
//! always one this process really owns; pairs the OS has given to another process are
//! skipped.

use super::error::LiveError;
use crate::elements::ElementId;
use crate::elements::host::PortGate;
use crate::sim::SimTime;
use mio::{Interest, Registry, Token};
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{SocketAddr, SocketAddrV4, UdpSocket as StdUdpSocket};
use std::rc::Rc;

/// What a socket is for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// A SIP address of an element.
    Sip(ElementId),
    /// One socket of a media pair; `rtp` is the pair's RTP address.
    Media {
        rtp: SocketAddrV4,
        reserved_at: SimTime,
        /// A session or relay has used the address.
        opened: bool,
    },
}

pub(crate) struct Socket {
    pub(crate) sock: mio::net::UdpSocket,
    pub(crate) local: SocketAddrV4,
    pub(crate) role: Role,
}

/// Every socket of a host, indexed by mio token and by local address.
#[derive(Default)]
pub(crate) struct Sockets {
    slots: Vec<Option<Socket>>,
    free: Vec<usize>,
    by_addr: HashMap<SocketAddrV4, usize>,
    media_pairs: usize,
}

impl Sockets {
    /// Registers a bound, non-blocking socket for reading.
    pub(crate) fn insert(
        &mut self,
        registry: &Registry,
        std: StdUdpSocket,
        local: SocketAddrV4,
        role: Role,
    ) -> Result<usize, LiveError> {
        let mut sock = mio::net::UdpSocket::from_std(std);
        let index = self.free.pop().unwrap_or(self.slots.len());
        registry
            .register(&mut sock, Token(index), Interest::READABLE)
            .map_err(|e| LiveError::Io("registering a socket", e))?;
        if index == self.slots.len() {
            self.slots.push(None);
        }
        self.slots[index] = Some(Socket { sock, local, role });
        self.by_addr.insert(local, index);
        Ok(index)
    }

    /// Closes a socket.
    pub(crate) fn remove(&mut self, registry: &Registry, index: usize) {
        if let Some(mut s) = self.slots.get_mut(index).and_then(Option::take) {
            // A deregistration error only means the socket is already gone from epoll.
            let _ = registry.deregister(&mut s.sock);
            self.by_addr.remove(&s.local);
            self.free.push(index);
        }
    }

    pub(crate) fn get(&self, index: usize) -> Option<&Socket> {
        self.slots.get(index).and_then(Option::as_ref)
    }

    pub(crate) fn index_of(&self, local: &SocketAddrV4) -> Option<usize> {
        self.by_addr.get(local).copied()
    }

    /// Sends one datagram from the socket bound at `src`.
    pub(crate) fn send(
        &self,
        src: &SocketAddrV4,
        dst: SocketAddrV4,
        payload: &[u8],
    ) -> Result<(), SendError> {
        let s = self
            .index_of(src)
            .and_then(|i| self.get(i))
            .ok_or(SendError::NoSocket)?;
        match s.sock.send_to(payload, SocketAddr::V4(dst)) {
            Ok(_) => Ok(()),
            Err(_) => Err(SendError::Io),
        }
    }

    /// Adopts the media pairs the gate bound; returns their RTP addresses.
    pub(crate) fn adopt(
        &mut self,
        registry: &Registry,
        pool: &ReservedPairs,
        now: SimTime,
    ) -> Result<Vec<SocketAddrV4>, LiveError> {
        let pairs = std::mem::take(&mut pool.borrow_mut().pairs);
        let mut adopted = Vec::with_capacity(pairs.len());
        for (rtp, a, b) in pairs {
            adopted.push(rtp);
            let rtcp = rtcp_of(rtp);
            for (sock, local) in [(a, rtp), (b, rtcp)] {
                let role = Role::Media {
                    rtp,
                    reserved_at: now,
                    opened: false,
                };
                self.insert(registry, sock, local, role)?;
            }
            self.media_pairs += 1;
        }
        pool.borrow_mut().live = self.media_pairs;
        Ok(adopted)
    }

    /// Closes the RTP/RTCP pair at `rtp` (the media engine released it).
    pub(crate) fn close_media_pair(&mut self, registry: &Registry, rtp: SocketAddrV4) {
        let mut closed = false;
        for local in [rtp, rtcp_of(rtp)] {
            if let Some(i) = self.index_of(&local) {
                if matches!(self.get(i).map(|s| s.role), Some(Role::Media { .. })) {
                    self.remove(registry, i);
                    closed = true;
                }
            }
        }
        if closed {
            self.media_pairs = self.media_pairs.saturating_sub(1);
        }
    }

    /// Closes media pairs whose session has closed, and reservations never used within
    /// `ttl`. `owned` tells whether the media engine still uses an RTP address.
    pub(crate) fn sweep_media(
        &mut self,
        registry: &Registry,
        now: SimTime,
        ttl: crate::sim::SimDuration,
        owned: impl Fn(&SocketAddrV4) -> bool,
    ) {
        let mut close = Vec::new();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let Some(Socket {
                role:
                    Role::Media {
                        rtp,
                        reserved_at,
                        opened,
                    },
                ..
            }) = slot
            else {
                continue;
            };
            if owned(rtp) {
                *opened = true;
            } else if *opened || now.saturating_since(*reserved_at) > ttl {
                close.push(i);
            }
        }
        for i in close {
            if let Some(Role::Media { rtp, .. }) = self.get(i).map(|s| s.role) {
                self.close_media_pair(registry, rtp);
            }
        }
    }

    /// Tells the gate how many pairs are bound.
    pub(crate) fn publish(&self, pool: &ReservedPairs) {
        pool.borrow_mut().live = self.media_pairs;
    }

    /// Media socket pairs currently bound.
    pub(crate) fn media_pairs(&self) -> usize {
        self.media_pairs
    }
}

/// Why a datagram could not be sent.
#[derive(Debug)]
pub(crate) enum SendError {
    /// No socket is bound at the source address.
    NoSocket,
    /// The OS refused it (buffer full, unreachable...).
    Io,
}

/// Pairs bound by the gate and not yet registered by the host.
pub(crate) struct Reserved {
    pairs: Vec<(SocketAddrV4, StdUdpSocket, StdUdpSocket)>,
    /// Pairs the host holds.
    live: usize,
    /// The most pairs bound at once (two file descriptors each).
    cap: usize,
}

impl Reserved {
    pub(crate) fn new(cap: usize) -> ReservedPairs {
        Rc::new(RefCell::new(Reserved {
            pairs: Vec::new(),
            live: 0,
            cap,
        }))
    }
}

pub(crate) type ReservedPairs = Rc<RefCell<Reserved>>;

/// The RTCP address of an RTP address (the next port, RFC 3550 §11).
pub(crate) fn rtcp_of(rtp: SocketAddrV4) -> SocketAddrV4 {
    SocketAddrV4::new(*rtp.ip(), rtp.port().wrapping_add(1))
}

/// A gate that binds the RTP and RTCP sockets of each candidate address.
pub(crate) fn port_gate(pool: ReservedPairs) -> PortGate {
    Box::new(move |rtp: SocketAddrV4| {
        let mut p = pool.borrow_mut();
        if p.live + p.pairs.len() >= p.cap {
            return false;
        }
        match bind_pair(rtp) {
            Ok((a, b)) => {
                p.pairs.push((rtp, a, b));
                true
            }
            Err(_) => false,
        }
    })
}

fn bind_pair(rtp: SocketAddrV4) -> std::io::Result<(StdUdpSocket, StdUdpSocket)> {
    let a = bind_udp(rtp)?;
    let b = bind_udp(rtcp_of(rtp))?;
    Ok((a, b))
}

/// Binds a non-blocking UDP socket.
pub(crate) fn bind_udp(addr: SocketAddrV4) -> std::io::Result<StdUdpSocket> {
    let s = StdUdpSocket::bind(addr)?;
    s.set_nonblocking(true)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn the_gate_binds_both_ports_and_refuses_a_taken_pair() {
        let pool = Reserved::new(2);
        let mut gate = port_gate(Rc::clone(&pool));
        // Find a free even port by binding an ephemeral pair through the gate itself.
        let probe = bind_udp(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = match probe.local_addr().unwrap() {
            SocketAddr::V4(a) => a.port() & !1,
            SocketAddr::V6(_) => unreachable!(),
        };
        drop(probe);
        let rtp = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
        if !gate(rtp) {
            // Someone else holds it between probe and bind: nothing to test on this port.
            return;
        }
        assert_eq!(pool.borrow().pairs.len(), 1);
        // Both ports are now ours: a second gate call on the same pair must fail.
        assert!(!gate(rtp));
        assert!(bind_udp(rtcp_of(rtp)).is_err());
        assert_eq!(pool.borrow().pairs.len(), 1);
        // At the cap the gate refuses without binding anything.
        pool.borrow_mut().live = 1;
        let other = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0);
        assert!(!gate(other));
        assert_eq!(pool.borrow().pairs.len(), 1);
    }
}
