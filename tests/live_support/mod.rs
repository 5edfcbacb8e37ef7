//! Helpers for the live tests: a served model on a thread, a raw UDP SIP client, child
//! processes bounded in time, and the SIPp gate (skip locally when missing, fail in CI).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddrV4, UdpSocket};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use voicetwin::elements::CallOutcome;
use voicetwin::elements::callbook::PartyRole;
use voicetwin::live::{LiveModel, ServeConfig, ServeSummary, Server};
use voicetwin::sim::SimDuration;

/// What a served call's log said (call logs hold `Rc`s and stay on the server thread).
#[derive(Clone, Debug, PartialEq)]
pub struct ServedCall {
    pub outcome: CallOutcome,
    pub caller: String,
    pub callee: String,
    /// RTP audio packets the served element received.
    pub audio_packets: u64,
}

/// A model served on a thread until stopped.
pub struct Running {
    pub addr: SocketAddrV4,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<(ServeSummary, Vec<ServedCall>)>>,
}

impl Running {
    /// Stops the server and returns its summary and call logs.
    pub fn stop(mut self) -> (ServeSummary, Vec<ServedCall>) {
        self.stop.store(true, Ordering::SeqCst);
        self.handle
            .take()
            .expect("joined once")
            .join()
            .expect("server thread")
    }

    /// Waits for the server to stop by itself (max calls or duration), bounded.
    pub fn join(mut self, within: Duration) -> (ServeSummary, Vec<ServedCall>) {
        let deadline = Instant::now() + within;
        let handle = self.handle.take().expect("joined once");
        while !handle.is_finished() {
            if Instant::now() > deadline {
                self.stop.store(true, Ordering::SeqCst);
                let _ = handle.join();
                panic!("the server did not stop within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        handle.join().expect("server thread")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A plain config: `uas`, loopback, a free port, media on, immediate answer.
pub fn serve_config() -> ServeConfig {
    ServeConfig {
        model: LiveModel::Uas,
        listen: "127.0.0.1:0".parse().unwrap(),
        max_calls: None,
        duration: None,
        answer_after: SimDuration::ZERO,
        media: true,
        seed: 7,
    }
}

/// Serves `cfg` on a new thread (the server is built there: it is not `Send`).
pub fn spawn_server(cfg: ServeConfig) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let flag = Arc::clone(&stop);
    let handle = std::thread::spawn(move || {
        let mut server = Server::start(&cfg).expect("server starts");
        tx.send(server.local()).expect("address sent");
        let mut calls = Vec::new();
        let summary = server
            .run(&cfg, &flag, |log| {
                calls.push(ServedCall {
                    outcome: log.outcome,
                    caller: log.script.caller.clone(),
                    callee: log.script.callee.clone(),
                    audio_packets: log
                        .media_for(PartyRole::Callee)
                        .map_or(0, |m| m.audio_packets),
                })
            })
            .expect("server runs");
        (summary, calls)
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the server reports its address");
    Running {
        addr,
        stop,
        handle: Some(handle),
    }
}

/// A raw SIP client on a UDP socket, for hand-written requests.
pub struct RawClient {
    pub sock: UdpSocket,
    pub local: SocketAddrV4,
    pub server: SocketAddrV4,
}

impl RawClient {
    pub fn new(server: SocketAddrV4) -> RawClient {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let local = match sock.local_addr().unwrap() {
            std::net::SocketAddr::V4(a) => a,
            _ => unreachable!(),
        };
        RawClient {
            sock,
            local,
            server,
        }
    }

    pub fn send(&self, text: &str) {
        let text = text.replace("LOCAL", &self.local.to_string());
        self.sock.send_to(text.as_bytes(), self.server).unwrap();
    }

    /// The next datagram received within `within`, as text.
    pub fn recv(&self, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        let mut buf = [0u8; 65_536];
        while Instant::now() < deadline {
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                return Some(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        None
    }

    /// Responses received until one with a final status (≥ 200) to `method`, bounded.
    pub fn until_final(&self, method: &str, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut got = Vec::new();
        while Instant::now() < deadline {
            let Some(msg) = self.recv(Duration::from_millis(200)) else {
                continue;
            };
            let done = msg.starts_with("SIP/2.0 ")
                && status(&msg) >= 200
                && header(&msg, "CSeq").is_some_and(|c| c.ends_with(method));
            got.push(msg);
            if done {
                return got;
            }
        }
        panic!("no final response to {method} within {within:?}; got {got:#?}");
    }
}

/// The status code of a response (0 for a request).
pub fn status(msg: &str) -> u16 {
    msg.strip_prefix("SIP/2.0 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The first value of a header (full name, case-insensitive).
pub fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.split("\r\n").find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// The To tag of a response.
pub fn to_tag(msg: &str) -> Option<String> {
    let to = header(msg, "To")?;
    let at = to.find(";tag=")? + 5;
    Some(to[at..].split(';').next()?.to_string())
}

/// Whether `sipp` can run here. Locally a missing tool skips the test with a notice;
/// under `CI=true` it fails it.
pub fn sipp_available(test: &str) -> bool {
    tool_available(test, "sipp", "-v", "sip-tester")
}

/// Whether the external `tool` runs (`tool probe_arg`). Locally a missing tool skips the
/// test with a notice; under `CI=true` it fails it, naming the Debian `package`.
pub fn tool_available(test: &str, tool: &str, probe_arg: &str, package: &str) -> bool {
    let ok = Command::new(tool)
        .arg(probe_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: `{tool}` (Debian package {package}) is required under CI=true");
        }
        eprintln!("{test}: skipped, `{tool}` is not installed (apt-get install {package})");
    }
    ok
}

/// A free UDP port on loopback whose next port is free too (for RTP/RTCP pairs and SIPp
/// media ports), found by binding port 0.
pub fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port % 2 == 0 && port < 65_534 && UdpSocket::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free even port pair on loopback");
}

/// A free UDP port on loopback.
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when dropped (so a failing test leaves nothing behind). Its
/// output is read by threads from the start, so a chatty child never blocks on a pipe.
pub struct Guard {
    pub child: Child,
    pub name: String,
    lines: mpsc::Receiver<String>,
    readers: Vec<JoinHandle<String>>,
}

impl Guard {
    pub fn spawn(name: &str, cmd: &mut Command) -> Guard {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout piped");
        let mut stderr = child.stderr.take().expect("stderr piped");
        let out = std::thread::spawn(move || {
            let mut all = String::new();
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                let _ = tx.send(line.trim_end().to_string());
                all.push_str(&line);
                line.clear();
            }
            all
        });
        let err = std::thread::spawn(move || {
            let mut all = String::new();
            let _ = stderr.read_to_string(&mut all);
            all
        });
        Guard {
            child,
            name: name.to_string(),
            lines,
            readers: vec![out, err],
        }
    }

    /// Waits for a stdout line starting with `prefix` (bounded); returns the rest of it.
    pub fn wait_line(&mut self, prefix: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_string();
                    }
                }
                Err(_) => panic!("{}: no `{prefix}` line within {within:?}", self.name),
            }
        }
    }

    /// Waits for the process to exit (bounded, killed on expiry); returns its status and
    /// its whole output (stdout then stderr).
    pub fn wait(mut self, within: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                let mut out = String::new();
                for r in self.readers.drain(..) {
                    out.push_str(&r.join().unwrap_or_default());
                }
                return (status, out);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let mut out = String::new();
                for r in self.readers.drain(..) {
                    out.push_str(&r.join().unwrap_or_default());
                }
                panic!(
                    "{} did not finish within {within:?}; output:\n{out}",
                    self.name
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The value of `key=` in a line of `key=value` pairs.
pub fn field(line: &str, key: &str) -> Option<u64> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
}

/// The cumulative count SIPp prints for a statistics row (e.g. `Successful call`).
pub fn sipp_count(output: &str, row: &str) -> Option<u64> {
    output
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with(row))
        .and_then(|l| l.split('|').nth(2))
        .and_then(|c| c.trim().parse().ok())
}
