//! A tiny discrete-event network for sans-IO SIP nodes (quinn's `Pair`, widened): nodes
//! exchange datagrams with a fixed one-way latency in virtual time, timers fire in
//! order, and every datagram and event is recorded for assertions.
#![allow(dead_code)]

use bytes::Bytes;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use voicetwin::sim::{RngFactory, SimDuration, SimTime};
use voicetwin::sip::Transmit;
use voicetwin::sip::proxy::{ProxyCore, ProxyEvent};
use voicetwin::sip::ua::{CallHandle, UaConfig, UaEvent, UserAgent};
use voicetwin::sip::wire::Uri;

/// The routing logic of a proxy element under test: called for each proxy event.
pub type Router = Box<dyn FnMut(&mut ProxyCore, SimTime, ProxyEvent)>;

/// Application logic of a user agent under test: gets each event, may act on the agent,
/// and returns the events to record.
pub type Hook = Box<dyn FnMut(&mut UserAgent, SimTime, UaEvent) -> Vec<UaEvent>>;

pub enum Node {
    Ua(Box<UserAgent>),
    App(Box<UserAgent>, Hook),
    Proxy(Box<ProxyCore>, Router),
}

impl Node {
    fn recv(&mut self, now: SimTime, src: SocketAddr, b: &[u8]) {
        match self {
            Node::Ua(u) | Node::App(u, _) => u.handle_datagram(now, src, b),
            Node::Proxy(p, _) => p.handle_datagram(now, src, b),
        }
    }
    fn transmit(&mut self) -> Option<Transmit> {
        match self {
            Node::Ua(u) | Node::App(u, _) => u.poll_transmit(),
            Node::Proxy(p, _) => p.poll_transmit(),
        }
    }
    fn timeout(&self) -> Option<SimTime> {
        match self {
            Node::Ua(u) | Node::App(u, _) => u.poll_timeout(),
            Node::Proxy(p, _) => p.poll_timeout(),
        }
    }
    fn fire(&mut self, now: SimTime) {
        match self {
            Node::Ua(u) | Node::App(u, _) => u.handle_timeout(now),
            Node::Proxy(p, _) => p.handle_timeout(now),
        }
    }
}

/// A datagram seen on the wire.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: SimTime,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub bytes: Bytes,
}

impl Seen {
    /// The start line.
    pub fn first_line(&self) -> String {
        let s = String::from_utf8_lossy(&self.bytes);
        s.lines().next().unwrap_or("").to_string()
    }
}

pub type DropRule = Box<dyn FnMut(&Seen) -> bool>;

pub struct Net {
    pub now: SimTime,
    pub latency: SimDuration,
    nodes: BTreeMap<SocketAddr, Node>,
    queue: BTreeMap<(SimTime, u64), Seen>,
    seq: u64,
    pub wire: Vec<Seen>,
    pub events: Vec<(SimTime, SocketAddr, UaEvent)>,
    proxy_log: Vec<(SimTime, SocketAddr, ProxyEvent)>,
    /// Datagrams for which this returns true are lost.
    pub drop: Option<DropRule>,
    /// Master seed of the user agents' identifier streams.
    pub seed: u64,
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

pub fn secs(n: u64) -> SimDuration {
    SimDuration::from_secs(n)
}

/// `sip:user@addr`.
pub fn uri_of(user: &str, a: SocketAddr) -> Uri {
    Uri::parse(&format!("sip:{user}@{a}")).unwrap()
}

impl Net {
    pub fn new() -> Net {
        Net {
            now: SimTime::ZERO,
            latency: ms(10),
            nodes: BTreeMap::new(),
            queue: BTreeMap::new(),
            seq: 0,
            wire: Vec::new(),
            events: Vec::new(),
            proxy_log: Vec::new(),
            drop: None,
            seed: 7,
        }
    }

    pub fn with_seed(seed: u64) -> Net {
        Net { seed, ..Net::new() }
    }

    /// Adds a user agent with its own seeded stream.
    pub fn add_ua(&mut self, cfg: UaConfig) -> SocketAddr {
        let a = cfg.local;
        let rng = RngFactory::new(self.seed).stream(&a.to_string(), "ua");
        self.nodes
            .insert(a, Node::Ua(Box::new(UserAgent::new(cfg, rng))));
        a
    }

    pub fn ua(&mut self, a: SocketAddr) -> &mut UserAgent {
        match self.nodes.get_mut(&a) {
            Some(Node::Ua(u)) | Some(Node::App(u, _)) => u,
            _ => panic!("no UA at {a}"),
        }
    }

    /// Adds a user agent driven by `hook` (an element under test).
    pub fn add_app(&mut self, cfg: UaConfig, hook: Hook) -> SocketAddr {
        let a = cfg.local;
        let rng = RngFactory::new(self.seed).stream(&a.to_string(), "ua");
        self.nodes
            .insert(a, Node::App(Box::new(UserAgent::new(cfg, rng)), hook));
        a
    }

    pub fn add_proxy(&mut self, p: ProxyCore, router: Router) -> SocketAddr {
        let a = p.address();
        self.nodes.insert(a, Node::Proxy(Box::new(p), router));
        a
    }

    pub fn proxy(&mut self, a: SocketAddr) -> &mut ProxyCore {
        match self.nodes.get_mut(&a) {
            Some(Node::Proxy(p, _)) => p,
            _ => panic!("no proxy at {a}"),
        }
    }

    /// Proxy events seen so far, as recorded by [`Net::collect`].
    pub fn proxy_events(&self) -> &[(SimTime, SocketAddr, ProxyEvent)] {
        &self.proxy_log
    }

    /// Injects raw bytes as if `src` had sent them to `dst`.
    pub fn inject(&mut self, src: SocketAddr, dst: SocketAddr, bytes: &[u8]) {
        let s = Seen {
            at: self.now,
            src,
            dst,
            bytes: Bytes::copy_from_slice(bytes),
        };
        self.seq += 1;
        self.queue.insert((self.now + self.latency, self.seq), s);
    }

    fn collect(&mut self) {
        let now = self.now;
        let mut sent = Vec::new();
        for (a, n) in self.nodes.iter_mut() {
            match n {
                Node::Ua(u) => {
                    while let Some(e) = u.poll_event() {
                        self.events.push((now, *a, e));
                    }
                }
                Node::App(u, hook) => {
                    while let Some(e) = u.poll_event() {
                        for out in hook(u, now, e) {
                            self.events.push((now, *a, out));
                        }
                    }
                }
                Node::Proxy(p, router) => {
                    while let Some(e) = p.poll_event() {
                        self.proxy_log.push((now, *a, e.clone()));
                        router(p, now, e);
                    }
                }
            }
            while let Some(t) = n.transmit() {
                sent.push(Seen {
                    at: now,
                    src: *a,
                    dst: t.dst,
                    bytes: t.bytes,
                });
            }
        }
        for s in sent {
            self.wire.push(s.clone());
            if let Some(rule) = self.drop.as_mut() {
                if rule(&s) {
                    continue;
                }
            }
            self.seq += 1;
            self.queue.insert((now + self.latency, self.seq), s);
        }
    }

    /// Runs the network until `until` (absolute).
    pub fn run_until(&mut self, until: SimTime) {
        loop {
            self.collect();
            let next_packet = self.queue.keys().next().map(|(t, _)| *t);
            let next_timer = self.nodes.values().filter_map(Node::timeout).min();
            let next = match (next_packet, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            self.now = next;
            while let Some(entry) = self.queue.first_entry() {
                if entry.key().0 > self.now {
                    break;
                }
                let s = entry.remove();
                if let Some(n) = self.nodes.get_mut(&s.dst) {
                    n.recv(self.now, s.src, &s.bytes);
                }
            }
            let now = self.now;
            for n in self.nodes.values_mut() {
                if n.timeout().is_some_and(|t| t <= now) {
                    n.fire(now);
                }
            }
        }
        self.now = self.now.max(until);
    }

    pub fn run(&mut self, d: SimDuration) {
        let t = self.now + d;
        self.run_until(t);
    }

    /// Removes and returns the events of node `a` recorded so far.
    pub fn take(&mut self, a: SocketAddr) -> Vec<UaEvent> {
        let mut mine = Vec::new();
        self.events.retain(|(_, n, e)| {
            if *n == a {
                mine.push(e.clone());
                false
            } else {
                true
            }
        });
        mine
    }

    /// The call of the first IncomingCall event at `a` (consumed with the others).
    pub fn incoming(&mut self, a: SocketAddr) -> CallHandle {
        let evs = self.take(a);
        evs.iter()
            .find_map(|e| match e {
                UaEvent::IncomingCall { call, .. } => Some(*call),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no incoming call at {a}: {evs:?}"))
    }

    /// Start lines sent between `from` and `to`, in order.
    pub fn lines(&self, from: SocketAddr, to: SocketAddr) -> Vec<String> {
        self.wire
            .iter()
            .filter(|s| s.src == from && s.dst == to)
            .map(Seen::first_line)
            .collect()
    }

    /// Every start line on the wire, as "src>dst line".
    pub fn ladder(&self) -> Vec<String> {
        self.wire
            .iter()
            .map(|s| format!("{}>{} {}", s.src.port(), s.dst.port(), s.first_line()))
            .collect()
    }

    /// Number of datagrams whose start line begins with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.wire
            .iter()
            .filter(|s| s.first_line().starts_with(prefix))
            .count()
    }
}

/// RFC 4475 vectors (tests/data/sip/rfc4475).
/// Loads a vector: LF → CRLF, `<hex>..</hex>` → bytes, `@CL@` → body length.
pub fn load(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/sip/rfc4475/{name}.sip",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text = text.replace('\n', "\r\n");
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("<hex>") {
        out.extend_from_slice(&rest.as_bytes()[..i]);
        let end = rest[i..].find("</hex>").expect("closed hex") + i;
        let hex = &rest[i + 5..end];
        for k in (0..hex.len()).step_by(2) {
            out.push(u8::from_str_radix(&hex[k..k + 2], 16).expect("hex"));
        }
        rest = &rest[end + 6..];
    }
    out.extend_from_slice(rest.as_bytes());
    if let Some(at) = find(&out, b"@CL@") {
        let body = find(&out, b"\r\n\r\n").expect("blank line") + 4;
        let body_len = out.len() - body;
        out.splice(at..at + 4, body_len.to_string().bytes());
    }
    out
}

pub fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}
