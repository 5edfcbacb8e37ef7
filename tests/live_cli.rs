//! The `serve` and `call` subcommands as processes: stable output lines, clean shutdown on
//! SIGTERM/SIGINT and after `--duration`/`--max-calls`, exit codes.

mod live_support;

use live_support::{Guard, field};
use std::process::Command;
use std::time::Duration;

fn voicetwin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_voicetwin"))
}

fn summary_line(out: &str, prefix: &str) -> String {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{out}"))
        .to_string()
}

/// Starts `serve` on a free port and returns it with its address.
fn serve(args: &[&str]) -> (Guard, String) {
    let mut cmd = voicetwin();
    cmd.args(["serve", "uas", "--listen", "127.0.0.1:0"])
        .args(args);
    let mut g = Guard::spawn("voicetwin serve", &mut cmd);
    let addr = g.wait_line("listening on udp:", Duration::from_secs(20));
    (g, addr)
}

fn signal(g: &Guard, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &g.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name}");
}

#[test]
fn serve_stops_cleanly_on_sigterm_and_sigint_with_a_summary() {
    for sig in ["TERM", "INT"] {
        let (g, _) = serve(&[]);
        signal(&g, sig);
        let (status, out) = g.wait(Duration::from_secs(10));
        assert!(status.success(), "SIG{sig}: {status:?}\n{out}");
        let stopped = summary_line(&out, "stopped:");
        assert!(stopped.contains("Signal"), "{stopped}");
        assert_eq!(field(&summary_line(&out, "summary:"), "calls"), Some(0));
    }
}

#[test]
fn serve_stops_after_its_duration_and_after_max_calls() {
    let (g, _) = serve(&["--duration", "0.3"]);
    let (status, out) = g.wait(Duration::from_secs(10));
    assert!(status.success(), "{out}");
    assert!(summary_line(&out, "stopped:").contains("Duration"), "{out}");

    let (g, addr) = serve(&["--max-calls", "3", "--no-media"]);
    let uri = format!("sip:bob@{addr}");
    let mut cmd = voicetwin();
    cmd.args([
        "call",
        &uri,
        "--count",
        "3",
        "--rate",
        "20",
        "--hold-ms",
        "50",
    ]);
    let (status, call_out) = Guard::spawn("voicetwin call", &mut cmd).wait(Duration::from_secs(30));
    assert!(status.success(), "{call_out}");
    let line = summary_line(&call_out, "summary:");
    assert_eq!(field(&line, "answered"), Some(3), "{line}");
    assert_eq!(field(&line, "failed"), Some(0), "{line}");
    assert_eq!(
        call_out.lines().filter(|l| l.starts_with("call ")).count(),
        3
    );
    let (status, out) = g.wait(Duration::from_secs(10));
    assert!(status.success(), "{out}");
    assert!(summary_line(&out, "stopped:").contains("MaxCalls"), "{out}");
    let line = summary_line(&out, "summary:");
    assert_eq!(field(&line, "completed"), Some(3), "{out}");
    // Signalling only: no RTP either way.
    assert_eq!(
        field(&summary_line(&out, "messages:"), "rtp_out"),
        Some(0),
        "{out}"
    );
}

/// A peer that answers every INVITE with 486 Busy Here, until dropped.
fn busy_peer() -> (
    std::net::SocketAddr,
    std::thread::JoinHandle<()>,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let addr = sock.local_addr().unwrap();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&stop);
    let h = std::thread::spawn(move || {
        let mut buf = [0u8; 65_536];
        while !flag.load(Ordering::SeqCst) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !msg.starts_with("INVITE ") {
                continue;
            }
            let mut resp = String::from("SIP/2.0 486 Busy Here\r\n");
            for line in msg.split("\r\n") {
                let name = line
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                match name.as_str() {
                    "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq" => {
                        resp.push_str(line);
                        resp.push_str("\r\n");
                    }
                    "to" | "t" => {
                        resp.push_str(line);
                        resp.push_str(";tag=busy\r\n");
                    }
                    _ => {}
                }
            }
            resp.push_str("Content-Length: 0\r\n\r\n");
            let _ = sock.send_to(resp.as_bytes(), from);
        }
    });
    (addr, h, stop)
}

#[test]
fn call_exit_codes_say_whether_every_call_was_answered() {
    let (addr, peer, stop) = busy_peer();
    let mut cmd = voicetwin();
    cmd.args([
        "call",
        &format!("sip:bob@{addr}"),
        "--count",
        "2",
        "--rate",
        "50",
    ]);
    let (status, out) = Guard::spawn("voicetwin call", &mut cmd).wait(Duration::from_secs(30));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    peer.join().unwrap();
    assert_eq!(status.code(), Some(1), "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("call ") && l.contains(": busy status=486"))
            .count(),
        2,
        "{out}"
    );
    let line = summary_line(&out, "summary:");
    assert_eq!(
        (field(&line, "answered"), field(&line, "failed")),
        (Some(0), Some(2)),
        "{out}"
    );

    let mut cmd = voicetwin();
    cmd.args(["call", "not a uri"]);
    let (status, out) = Guard::spawn("voicetwin call", &mut cmd).wait(Duration::from_secs(10));
    assert_eq!(status.code(), Some(2), "{out}");
    assert!(out.contains("error:"), "{out}");

    let mut cmd = voicetwin();
    cmd.args(["call", "sip:a@127.0.0.1:5060", "--rate", "0"]);
    let (status, out) = Guard::spawn("voicetwin call", &mut cmd).wait(Duration::from_secs(10));
    assert_eq!(status.code(), Some(2), "{out}");
    assert!(out.contains("--rate"), "{out}");

    let mut cmd = voicetwin();
    cmd.args(["serve", "no-such-model", "--listen", "127.0.0.1:0"]);
    let (status, out) = Guard::spawn("voicetwin serve", &mut cmd).wait(Duration::from_secs(10));
    assert_eq!(status.code(), Some(2), "{out}");
    assert!(out.contains("no-such-model"), "{out}");
}
