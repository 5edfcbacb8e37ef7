//! `serve uas` on a real UDP socket answers malformed requests the RFC 3261 way: 400 for
//! a syntax error or a missing mandatory header, 405/501 for an unknown method, 416 for an
//! unsupported URI scheme, 505 for an unsupported version, and keeps serving.

mod live_support;

use live_support::{RawClient, header, serve_config, spawn_server, status};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(3);

/// A request with the usual headers; `{start}` is the request line, `{extra}` more headers.
fn request(start: &str, method: &str, call_id: &str, drop: &[&str]) -> String {
    let headers = [
        (
            "Via",
            "SIP/2.0/UDP LOCAL;branch=z9hG4bK-CALLID".replace("CALLID", call_id),
        ),
        ("Max-Forwards", "70".to_string()),
        ("From", "<sip:tester@127.0.0.1>;tag=t1".to_string()),
        ("To", "<sip:service@127.0.0.1>".to_string()),
        ("Call-ID", call_id.to_string()),
        ("CSeq", format!("1 {method}")),
        ("Content-Length", "0".to_string()),
    ];
    let mut s = format!("{start}\r\n");
    for (n, v) in headers {
        if !drop.contains(&n) {
            s.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    s.push_str("\r\n");
    s
}

/// Sends `text` and returns the one response it gets.
fn answer_to(client: &RawClient, text: &str) -> String {
    client.send(text);
    let got = client
        .recv(WAIT)
        .unwrap_or_else(|| panic!("no response to:\n{text}"));
    assert!(got.starts_with("SIP/2.0 "), "not a response: {got}");
    got
}

#[test]
fn malformed_requests_get_rfc3261_responses_over_udp() {
    let server = spawn_server(serve_config());
    let client = RawClient::new(server.addr);

    // 400: a syntax error in a mandatory header (CSeq without a number).
    let bad_cseq = request("INVITE sip:service@127.0.0.1 SIP/2.0", "INVITE", "m1", &[])
        .replace("CSeq: 1 INVITE", "CSeq: x INVITE");
    let r = answer_to(&client, &bad_cseq);
    assert_eq!(status(&r), 400, "{r}");
    assert_eq!(header(&r, "Call-ID"), Some("m1"));

    // 400 naming the missing header: Max-Forwards, then From.
    for (i, missing) in ["Max-Forwards", "From"].into_iter().enumerate() {
        let id = format!("m2-{i}");
        let req = request(
            "INVITE sip:service@127.0.0.1 SIP/2.0",
            "INVITE",
            &id,
            &[missing],
        );
        let r = answer_to(&client, &req);
        assert_eq!(status(&r), 400, "{r}");
        let reason = r.lines().next().unwrap();
        assert!(
            reason.contains(missing),
            "reason should name {missing}: {reason}"
        );
    }

    // 400: Content-Length larger than the body.
    let short = request(
        "OPTIONS sip:service@127.0.0.1 SIP/2.0",
        "OPTIONS",
        "m3",
        &[],
    )
    .replace("Content-Length: 0", "Content-Length: 500");
    let r = answer_to(&client, &short);
    assert_eq!(status(&r), 400, "{r}");

    // 405 or 501: a method nobody knows.
    let r = answer_to(
        &client,
        &request("FOOBAR sip:service@127.0.0.1 SIP/2.0", "FOOBAR", "m4", &[]),
    );
    assert!(matches!(status(&r), 405 | 501), "{r}");
    if status(&r) == 405 {
        assert!(header(&r, "Allow").is_some(), "405 must carry Allow: {r}");
    }

    // 416: a Request-URI scheme the UA does not support (RFC 4475 §3.3.? `unksm`).
    let r = answer_to(
        &client,
        &request(
            "OPTIONS nobodyknowsthisscheme:totallyopaquecontent SIP/2.0",
            "OPTIONS",
            "m5",
            &[],
        ),
    );
    assert_eq!(status(&r), 416, "{r}");

    // 505: SIP/7.0 (RFC 4475 §3.4.? `badvers`).
    let r = answer_to(
        &client,
        &request(
            "OPTIONS sip:service@127.0.0.1 SIP/7.0",
            "OPTIONS",
            "m6",
            &[],
        ),
    );
    assert_eq!(status(&r), 505, "{r}");

    // Garbage gets nothing back and breaks nothing.
    client.send("\u{0}\u{1}not sip at all\r\n\r\n");
    client.send("");
    assert_eq!(client.recv(Duration::from_millis(300)), None);

    // The server still serves: OPTIONS gets 200 with Allow.
    let r = answer_to(
        &client,
        &request(
            "OPTIONS sip:service@127.0.0.1 SIP/2.0",
            "OPTIONS",
            "m7",
            &[],
        ),
    );
    assert_eq!(status(&r), 200, "{r}");
    assert!(
        header(&r, "Allow").is_some_and(|a| a.contains("INVITE")),
        "{r}"
    );

    let (summary, _) = server.stop();
    assert_eq!(summary.stats.inbound.answered, 0);
    assert!(summary.stats.sip_in >= 10, "{summary}");
}
