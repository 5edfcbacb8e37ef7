//! Interop with SIPp, a real SIP implementation, on loopback: SIPp's built-in `uac`
//! scenario against `voicetwin serve uas`, and `voicetwin call` against SIPp's built-in
//! `uas`. 100 calls each, RTP echoed by SIPp (`-rtp_echo`); and SIPp calling an extension
//! of a served IP-PBX model. Every process is bounded in time
//! and killed if a test fails. Locally the tests skip with a notice when `sipp` is
//! missing; under `CI=true` they fail.

mod live_support;

use live_support::{Guard, field, free_port, free_port_pair, sipp_available, sipp_count};
use std::process::Command;
use std::time::Duration;

const CALLS: u64 = 100;

fn voicetwin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_voicetwin"))
}

fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{out}"))
}

#[test]
fn sipp_uac_completes_100_calls_against_serve_uas() {
    if !sipp_available("sipp_uac_completes_100_calls_against_serve_uas") {
        return;
    }
    let mut cmd = voicetwin();
    cmd.args(["serve", "uas", "--listen", "127.0.0.1:0"])
        .args(["--max-calls", &CALLS.to_string()]);
    let mut server = Guard::spawn("voicetwin serve", &mut cmd);
    let addr = server.wait_line("listening on udp:", Duration::from_secs(20));

    let mut sipp = Command::new("sipp");
    sipp.args(["-sn", "uac", &addr, "-i", "127.0.0.1"])
        .args(["-p", &free_port().to_string()])
        .args(["-mp", &free_port_pair().to_string()])
        .args([
            "-m",
            &CALLS.to_string(),
            "-r",
            "50",
            "-d",
            "200",
            "-rtp_echo",
        ])
        .args(["-timeout", "60s", "-timeout_error", "-nostdin"]);
    let (status, sipp_out) = Guard::spawn("sipp uac", &mut sipp).wait(Duration::from_secs(90));
    assert_eq!(
        status.code(),
        Some(0),
        "SIPp reports failed calls:\n{sipp_out}"
    );
    assert_eq!(
        sipp_count(&sipp_out, "Successful call"),
        Some(CALLS),
        "{sipp_out}"
    );
    assert_eq!(sipp_count(&sipp_out, "Failed call"), Some(0), "{sipp_out}");

    let (status, out) = server.wait(Duration::from_secs(20));
    assert!(status.success(), "{out}");
    let summary = line(&out, "summary:");
    for (key, want) in [("calls", CALLS), ("answered", CALLS), ("completed", CALLS)] {
        assert_eq!(field(summary, key), Some(want), "{summary}");
    }
    assert_eq!(field(summary, "failed"), Some(0), "{summary}");
    assert!(line(&out, "stopped:").contains("MaxCalls"), "{out}");
    // Our RTP went to SIPp's media port and came back echoed.
    let messages = line(&out, "messages:");
    assert!(
        field(messages, "rtp_out").unwrap_or(0) >= CALLS,
        "{messages}"
    );
    assert!(field(messages, "rtp_in").unwrap_or(0) > 0, "{messages}");
}

#[test]
fn our_uac_completes_100_calls_against_sipp_uas() {
    if !sipp_available("our_uac_completes_100_calls_against_sipp_uas") {
        return;
    }
    let port = free_port();
    let mut sipp = Command::new("sipp");
    sipp.args(["-sn", "uas", "-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-mp", &free_port_pair().to_string()])
        .args(["-m", &CALLS.to_string(), "-rtp_echo"])
        .args(["-timeout", "60s", "-timeout_error", "-nostdin"]);
    let sipp = Guard::spawn("sipp uas", &mut sipp);
    // SIPp binds before it reads the scenario's first message; give it a moment.
    std::thread::sleep(Duration::from_millis(300));

    let uri = format!("sip:service@127.0.0.1:{port}");
    let mut cmd = voicetwin();
    cmd.args(["call", &uri, "--count", &CALLS.to_string(), "--rate", "50"])
        .args(["--hold-ms", "200", "--quiet"]);
    let (status, out) = Guard::spawn("voicetwin call", &mut cmd).wait(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{out}");
    let summary = line(&out, "summary:");
    assert_eq!(field(summary, "calls"), Some(CALLS), "{summary}");
    assert_eq!(field(summary, "answered"), Some(CALLS), "{summary}");
    assert_eq!(field(summary, "failed"), Some(0), "{summary}");
    let messages = line(&out, "messages:");
    // 180, 200 and the BYE's 200 per call, all received.
    assert_eq!(field(messages, "sip_in"), Some(3 * CALLS), "{messages}");
    assert!(
        field(messages, "rtp_out").unwrap_or(0) >= CALLS,
        "{messages}"
    );

    // SIPp keeps each call 4 s after the BYE (its timewait), then exits.
    let (status, sipp_out) = sipp.wait(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{sipp_out}");
    assert_eq!(
        sipp_count(&sipp_out, "Successful call"),
        Some(CALLS),
        "{sipp_out}"
    );
    assert_eq!(sipp_count(&sipp_out, "Failed call"), Some(0), "{sipp_out}");
}

#[test]
fn sipp_uac_calls_an_extension_of_a_served_ip_pbx_model() {
    if !sipp_available("sipp_uac_calls_an_extension_of_a_served_ip_pbx_model") {
        return;
    }
    const PBX_CALLS: u64 = 20;
    let mut cmd = voicetwin();
    cmd.args(["serve", "avaya-aura-sm-6.3", "--listen", "127.0.0.1:0"])
        .args(["--max-calls", &PBX_CALLS.to_string()]);
    let mut server = Guard::spawn("voicetwin serve avaya-aura-sm-6.3", &mut cmd);
    let addr = server.wait_line("listening on udp:", Duration::from_secs(20));

    // One call at a time (`-l 1`): extension 1000 has one line.
    let mut sipp = Command::new("sipp");
    sipp.args(["-sn", "uac", &addr, "-s", "1000", "-i", "127.0.0.1"])
        .args(["-p", &free_port().to_string()])
        .args(["-mp", &free_port_pair().to_string()])
        .args([
            "-m",
            &PBX_CALLS.to_string(),
            "-r",
            "20",
            "-l",
            "1",
            "-d",
            "100",
        ])
        .args(["-rtp_echo", "-timeout", "60s", "-timeout_error", "-nostdin"]);
    let (status, sipp_out) = Guard::spawn("sipp uac", &mut sipp).wait(Duration::from_secs(90));
    assert_eq!(status.code(), Some(0), "{sipp_out}");
    assert_eq!(
        sipp_count(&sipp_out, "Successful call"),
        Some(PBX_CALLS),
        "{sipp_out}"
    );

    let (status, out) = server.wait(Duration::from_secs(20));
    assert!(status.success(), "{out}");
    assert!(
        line(&out, "serving ").contains("the IP-PBX element"),
        "{out}"
    );
    let summary = line(&out, "summary:");
    assert_eq!(field(summary, "completed"), Some(PBX_CALLS), "{summary}");
    assert!(
        field(line(&out, "messages:"), "rtp_in").unwrap_or(0) > 0,
        "{out}"
    );
}
