//! `voicetwin trace`: the SIP ladder of one call across every element, and the pcap of its
//! SIP and RTP, read back by tshark (Debian package `tshark`). Locally a missing tshark skips
//! the tshark test with a notice; under `CI=true` it fails it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod live_support;

const EXPERIMENT: &str = "tests/data/trace-small.ron";

fn voicetwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voicetwin"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the voicetwin binary runs")
}

fn trace_pcap(call: u64, path: &Path) {
    let out = voicetwin(&[
        "trace",
        EXPERIMENT,
        "--call",
        &call.to_string(),
        "--pcap",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tshark_available(test: &str) -> bool {
    live_support::tool_available(test, "tshark", "--version", "tshark")
}

fn tshark(pcap: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(pcap)
        .args(args)
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

fn temp_pcap(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// Call 0 of the small experiment is a Lync user calling the PSTN through the PBX: the ladder
/// shows it crossing the Lync pool, the Front End, the Mediation Server, the PBX and the
/// PSTN (over ISDN), with RTP on every leg and nothing lost.
#[test]
fn the_ladder_shows_a_lync_to_pstn_call_across_every_element() {
    let out = voicetwin(&["trace", EXPERIMENT, "--call", "0", "--ladder"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ladder = String::from_utf8(out.stdout).unwrap();
    let header = ladder.lines().nth(1).unwrap();
    let names: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        names,
        ["pool-hq", "fe1", "med1", "pbx1", "pstn"],
        "{ladder}"
    );
    for needle in [
        "INVITE (SDP)",
        "100 Trying",
        "180 Ringing",
        "200 OK (SDP)",
        "ACK",
        "BYE",
        "ISDN SETUP",
        "ISDN CONNECT",
        "ISDN DISCONNECT",
        "RTP PT 0",
    ] {
        assert!(ladder.contains(needle), "no {needle} in\n{ladder}");
    }
    assert!(!ladder.contains("[lost]"), "{ladder}");
    // Lanes line up: every row's bars sit where the header's lane bars are.
    let lanes: Vec<usize> = ladder
        .lines()
        .nth(2)
        .unwrap()
        .char_indices()
        .filter(|(_, c)| *c == '|')
        .map(|(i, _)| i)
        .collect();
    assert_eq!(lanes.len(), 5);
    let bye = ladder.lines().find(|l| l.contains("BYE")).unwrap();
    let chars: Vec<char> = bye.chars().collect();
    for &x in &lanes {
        assert!(matches!(chars[x], '|' | '-' | '<' | '>'), "{bye}");
    }
    insta::assert_snapshot!("lync_to_pstn_ladder", ladder);
}

#[test]
fn the_pcap_of_a_call_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (temp_pcap(&dir, "a.pcap"), temp_pcap(&dir, "b.pcap"));
    trace_pcap(0, &a);
    trace_pcap(0, &b);
    let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert!(a.len() > 100_000, "{} bytes: SIP and RTP expected", a.len());
    assert!(a == b, "two traces of the same call differ");
}

/// tshark decodes the SIP dialogs (every message of the call, on every hop) and the RTP
/// streams the SDP announced, at 20 ms spacing; G.711 frames are 214 bytes on the wire
/// (200 at IP plus the 14-byte Ethernet header: 85.6 kbit/s in a capture).
#[test]
fn tshark_decodes_the_sip_dialogs_and_rtp_at_20_ms() {
    if !tshark_available("tshark_decodes_the_sip_dialogs_and_rtp_at_20_ms") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pcap = temp_pcap(&dir, "call.pcap");
    trace_pcap(0, &pcap);

    // SIP: method or status per frame, and the dialogs' Call-IDs.
    let sip = tshark(
        &pcap,
        &[
            "-Y",
            "sip",
            "-T",
            "fields",
            "-e",
            "sip.Method",
            "-e",
            "sip.Status-Code",
            "-e",
            "sip.Call-ID",
        ],
    );
    let rows: Vec<Vec<&str>> = sip.lines().map(|l| l.split('\t').collect()).collect();
    let count = |what: &str| rows.iter().filter(|r| r[0] == what || r[1] == what).count();
    // Three SIP hops (pool → FE → Mediation → PBX): an INVITE, ACK and BYE on each.
    assert_eq!(count("INVITE"), 3, "{sip}");
    assert_eq!(count("ACK"), 3, "{sip}");
    assert_eq!(count("BYE"), 3, "{sip}");
    assert!(count("200") >= 6, "{sip}");
    let call_ids: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[2]).collect();
    // The Front End proxies (one Call-ID to the Mediation Server); the Mediation Server is a
    // B2BUA (a new Call-ID toward the PBX).
    assert_eq!(call_ids.len(), 2, "{call_ids:?}");

    // Nothing in the capture is left undecoded: every frame is SIP, RTP or RTCP.
    let all = tshark(&pcap, &["-T", "fields", "-e", "frame.protocols"]);
    for p in all.lines() {
        assert!(
            p.ends_with(":sip") || p.contains(":sdp") || p.contains(":rtp") || p.contains("rtcp"),
            "undecoded frame: {p}"
        );
    }

    // RTP streams: four (two per media leg), each at 20 ms spacing.
    let streams = tshark(&pcap, &["-q", "-z", "rtp,streams"]);
    let stream_rows: Vec<&str> = streams.lines().filter(|l| l.contains(" 0x")).collect();
    assert_eq!(stream_rows.len(), 4, "{streams}");
    for row in &stream_rows {
        // ... Payload Pkts Lost Min Max Mean Delta ...: find the mean delta column (ms).
        let fields: Vec<&str> = row.split_whitespace().collect();
        let lost = fields.iter().position(|f| f.ends_with("%)")).unwrap();
        let packets: u32 = fields[lost - 2].parse().unwrap();
        let min_delta: f64 = fields[lost + 1].parse().unwrap();
        let mean_delta: f64 = fields[lost + 2].parse().unwrap();
        assert!(packets > 200, "{row}");
        assert_eq!(min_delta, 20.0, "{row}");
        // Comfort-noise gaps lengthen some intervals; talk spurts run at exactly 20 ms.
        assert!((19.0..=25.0).contains(&mean_delta), "{row}");
    }

    // G.711 (PT 0) frames: 214 bytes each in the capture.
    let g711 = tshark(
        &pcap,
        &["-Y", "rtp.p_type == 0", "-T", "fields", "-e", "frame.len"],
    );
    let lens: Vec<u32> = g711.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert!(lens.len() > 400, "{} G.711 frames", lens.len());
    assert!(lens.iter().all(|&n| n == 214), "{lens:?}");
}

#[test]
fn trace_names_what_is_wrong_and_exits_non_zero() {
    let out = voicetwin(&["trace", EXPERIMENT, "--call", "999999"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no call 999999"), "{err}");

    let out = voicetwin(&["trace", EXPERIMENT, "--point", "5", "--call", "0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no point 5"), "{err}");

    let out = voicetwin(&["trace", "tests/data/no-such-file.ron", "--call", "0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-file.ron"), "{err}");
}
