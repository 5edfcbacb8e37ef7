//! RFC 4475 torture messages (tests/data/sip/rfc4475): the valid ones parse and pass
//! validation; the invalid ones are rejected with the right error or response; none of
//! them, nor any prefix or mutation of them, makes the wire layer panic.

mod sip_support;

use sip_support::{find, load};
use voicetwin::sip::Error;
use voicetwin::sip::wire::{
    HeaderName, Message, Method, Policy, Request, Response, Uri, check_request, check_response,
    salvage, unescape,
};

fn request(name: &str) -> Request {
    match Message::parse(&load(name)) {
        Ok(Message::Request(r)) => r,
        other => panic!("{name}: {other:?}"),
    }
}

fn response(name: &str) -> Response {
    match Message::parse(&load(name)) {
        Ok(Message::Response(r)) => r,
        other => panic!("{name}: {other:?}"),
    }
}

fn valid(name: &str) -> Request {
    let r = request(name);
    if let Err(rej) = check_request(&r, &Policy::default()) {
        panic!("{name} rejected: {rej:?}");
    }
    r
}

fn rejected(name: &str) -> (u16, String) {
    let r = request(name);
    let rej = check_request(&r, &Policy::default()).expect_err(name);
    (rej.status, rej.reason)
}

#[test]
fn wsinv_short_tortuous_invite() {
    let r = valid("wsinv");
    assert_eq!(r.method, Method::Invite);
    assert_eq!(
        r.uri.to_string(),
        "sip:vivekg@chair-dnrc.example.com;unknownparam"
    );
    let h = &r.headers;
    assert_eq!(h.to_addr().unwrap().tag(), Some("1918181833n"));
    let from = h.from_addr().unwrap();
    assert_eq!(from.display.as_deref(), Some(r#"J Rosenberg \""#));
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(h.max_forwards().unwrap(), Some(68));
    let cseq = h.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (9, Method::Invite));
    let vias = h.vias().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].branch(), Some("390skdjuw"));
    assert_eq!(vias[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(h.get(HeaderName::Subject), Some(""));
    assert_eq!(
        h.get_named("newfangledheader"),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(
        h.get_named("UnknownHeaderWithUnusualValue"),
        Some(";;,,;;,;")
    );
    let contact = &h.contacts().unwrap()[0];
    assert_eq!(contact.display.as_deref(), Some(r#"Quoted string """#));
    assert_eq!(contact.params.value("q"), Some("0.33"));
    assert_eq!(contact.params.value("newparam"), Some("newvalue"));
    assert!(contact.params.contains("secondparam"));
    assert_eq!(h.routes().unwrap().len(), 1);
    assert!(r.body.starts_with(b"v=0\r\n"));
    assert!(r.body.ends_with(b"a=rtpmap:31 LPC\r\n"));
}

#[test]
fn intmeth_wide_range_of_valid_characters() {
    let r = valid("intmeth");
    let m = "!interesting-Method0123456789_*+`.%indeed'~";
    assert_eq!(r.method, Method::Extension(m.into()));
    assert_eq!(
        r.uri.user(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    let to = r.headers.to_addr().unwrap();
    assert_eq!(
        to.display.as_deref(),
        Some("BEL:\u{7} NUL:\u{0} DEL:\u{7f}")
    );
    let from = r.headers.from_addr().unwrap();
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        from.params.value("fromParam''~+*_!.-%"),
        Some("\"работающий\"")
    );
    assert_eq!(
        r.headers.get_named("extensionHeader-!.%*+_`'~"),
        Some("大停電")
    );
    assert_eq!(r.headers.cseq().unwrap().method.as_str(), m);
    assert!(r.body.is_empty());
}

#[test]
fn escapes_in_uris() {
    let r = valid("esc01");
    assert_eq!(unescape(r.uri.user().unwrap()), "sips:user@example.com");
    let to = r.headers.to_addr().unwrap();
    assert_eq!(unescape(to.uri.user().unwrap()), "user");
    let c = &r.headers.contacts().unwrap()[0];
    let u = c.uri.as_sip().unwrap();
    assert_eq!(u.params.iter().count(), 2);
    assert_eq!(unescape(u.params.value("n%61me").unwrap()), "value%41");
    assert_eq!(r.headers.content_type().unwrap().unwrap().subtype, "sdp");

    let r = valid("escnull");
    let c = r.headers.contacts().unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(unescape(c[1].uri.user().unwrap()), "\0\0");

    // RE%47IST%45R is not REGISTER, and C%6Fntact is not Contact.
    let r = valid("esc02");
    assert_eq!(r.method, Method::Extension("RE%47IST%45R".into()));
    assert_eq!(r.headers.contacts().unwrap().len(), 2);
    assert_eq!(
        r.headers.get_named("C%6Fntact"),
        Some("<sip:alias2@host2.example.com>")
    );
    assert_eq!(
        r.headers.to_addr().unwrap().display.as_deref(),
        Some("%Z%45")
    );
}

#[test]
fn lwsdisp_longreq_semiuri_transports() {
    let r = valid("lwsdisp");
    assert_eq!(
        r.headers.from_addr().unwrap().display.as_deref(),
        Some("caller")
    );

    let r = valid("longreq");
    assert_eq!(r.headers.vias().unwrap().len(), 34);
    assert_eq!(
        r.headers.from_addr().unwrap().tag().unwrap().len(),
        2 + 150 + 3
    );
    assert!(
        r.headers
            .to_addr()
            .unwrap()
            .display
            .unwrap()
            .contains("extremeextreme")
    );
    assert_eq!(r.headers.count(HeaderName::Via), 34);

    let r = valid("semiuri");
    assert_eq!(r.uri.user(), Some("user;par=u%40example.net"));
    assert_eq!(
        r.headers.get(HeaderName::Accept),
        Some(
            "application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed, message/sip, message/sipfrag"
        )
    );

    let r = valid("transports");
    let t: Vec<String> = r
        .headers
        .vias()
        .unwrap()
        .into_iter()
        .map(|v| v.transport)
        .collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
}

#[test]
fn dblreq_extra_octets_in_a_datagram_are_ignored() {
    let r = valid("dblreq");
    assert_eq!(r.method, Method::Register);
    assert!(r.body.is_empty());
}

#[test]
fn mpart01_binary_multipart_body() {
    let r = valid("mpart01");
    assert_eq!(r.method, Method::Message);
    assert!(find(&r.body, &[0x30, 0x82, 0x01, 0x52, 0x06, 0x09, 0x2A, 0x86]).is_some());
    let ct = r.headers.content_type().unwrap().unwrap();
    assert_eq!(ct.params.value("boundary"), Some("7a9cbec02ceef655"));
}

#[test]
fn unusual_and_empty_reason_phrases() {
    let r = response("unreason");
    assert_eq!(r.status, 200);
    assert_eq!(r.reason, "= 2**3 * 5**2 но сто девяносто девять - простое");
    check_response(&r).unwrap();
    assert!(
        r.to_bytes().starts_with(
            "SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое\r\n".as_bytes()
        )
    );
    let r = response("noreason");
    assert_eq!((r.status, r.reason.as_str()), (100, ""));
    check_response(&r).unwrap();
}

#[test]
fn framing_errors() {
    assert!(matches!(
        Message::parse(&load("clerr")),
        Err(Error::Truncated { declared: 9999, .. })
    ));
    assert!(matches!(
        Message::parse(&load("ncl")),
        Err(Error::Syntax {
            what: "Content-Length",
            ..
        })
    ));
    assert!(matches!(
        Message::parse(&load("mcl01")),
        Err(Error::Syntax {
            what: "Content-Length",
            ..
        })
    ));
    assert!(Message::parse(&load("bigcode")).is_err());
}

#[test]
fn malformed_request_lines_are_rejected_but_answerable() {
    for name in ["ltgtruri", "lwsruri", "lwsstart", "trws"] {
        let bytes = load(name);
        let err = Message::parse(&bytes).expect_err(name);
        assert!(
            matches!(
                err,
                Error::Syntax {
                    what: "Request-Line" | "Request-URI",
                    ..
                }
            ),
            "{name}: {err}"
        );
        // Enough survives to send the 400 back along the Via.
        let s = salvage(&bytes).expect(name);
        assert!(s.headers.via_top().is_ok(), "{name}");
        assert_eq!(s.headers.call_id().unwrap(), format!("{name}.1@192.0.2.5"));
    }
}

#[test]
fn invalid_requests_get_the_right_response() {
    let cases: &[(&str, u16, &str)] = &[
        ("badinv01", 400, "Via"),
        ("scalar02", 400, "Max-Forwards"),
        ("quotbal", 400, "To"),
        ("escruri", 400, "Request-URI"),
        ("baddate", 400, "Date"),
        ("regbadct", 400, "Contact"),
        ("badaspec", 400, "To"),
        ("baddn", 400, "From"),
        ("badvers", 505, ""),
        ("mismatch01", 400, "CSeq"),
        ("mismatch02", 501, ""),
        ("badbranch", 400, "branch"),
        ("insuf", 400, "Missing"),
        ("multi01", 400, "Multiple"),
        ("unkscm", 416, ""),
        ("novelsc", 416, ""),
    ];
    for &(name, status, word) in cases {
        let (s, reason) = rejected(name);
        assert_eq!(s, status, "{name}: {reason}");
        assert!(
            reason.contains(word),
            "{name}: {reason:?} should name {word}"
        );
    }
}

#[test]
fn scalarlg_response_is_dropped() {
    let r = response("scalarlg");
    assert!(check_response(&r).is_err());
}

#[test]
fn application_level_vectors_parse() {
    for name in [
        "unksm2", "bext01", "invut", "regaut01", "zeromf", "cparam01", "cparam02", "regescrt",
        "sdp01",
    ] {
        valid(name);
    }
    let r = valid("unksm2");
    assert!(matches!(
        r.headers.to_addr().unwrap().uri,
        Uri::Other { .. }
    ));
    assert_eq!(valid("zeromf").headers.max_forwards().unwrap(), Some(0));
    let c = &valid("cparam01").headers.contacts().unwrap()[0];
    // In a bare addr-spec the parameter belongs to the header, not the URI.
    assert!(c.params.contains("unknownparam"));
    let c = &valid("cparam02").headers.contacts().unwrap()[0];
    assert!(c.uri.as_sip().unwrap().params.contains("unknownparam"));
    let c = &valid("regescrt").headers.contacts().unwrap()[0];
    assert_eq!(
        c.uri.as_sip().unwrap().header("Route").as_deref(),
        Some("<sip:sip.example.com>")
    );
    check_response(&response("bcast")).unwrap();
}

#[test]
fn inv2543_needs_the_compatibility_policy() {
    let r = request("inv2543");
    let rej = check_request(&r, &Policy::default()).unwrap_err();
    assert_eq!(rej.reason, "Bad Request - Missing Max-Forwards header");
    let compat = Policy {
        rfc2543_compat: true,
        ..Policy::default()
    };
    let e = check_request(&r, &compat).unwrap();
    assert!(!e.via.is_rfc3261());
    assert_eq!(e.from_tag(), None);
}

const ALL: &[&str] = &[
    "wsinv",
    "intmeth",
    "esc01",
    "escnull",
    "esc02",
    "lwsdisp",
    "longreq",
    "dblreq",
    "semiuri",
    "transports",
    "mpart01",
    "unreason",
    "noreason",
    "badinv01",
    "clerr",
    "ncl",
    "scalar02",
    "scalarlg",
    "quotbal",
    "ltgtruri",
    "lwsruri",
    "lwsstart",
    "trws",
    "escruri",
    "baddate",
    "regbadct",
    "badaspec",
    "baddn",
    "badvers",
    "mismatch01",
    "mismatch02",
    "bigcode",
    "badbranch",
    "insuf",
    "unkscm",
    "novelsc",
    "unksm2",
    "bext01",
    "invut",
    "regaut01",
    "multi01",
    "mcl01",
    "bcast",
    "zeromf",
    "cparam01",
    "cparam02",
    "regescrt",
    "sdp01",
    "inv2543",
];

/// Exercises every entry point on `bytes`; the point is that nothing panics.
fn exercise(bytes: &[u8]) {
    let _ = salvage(bytes);
    if let Ok(m) = Message::parse(bytes) {
        let h = m.headers();
        let _ = (h.vias(), h.from_addr(), h.to_addr(), h.call_id(), h.cseq());
        let _ = (
            h.contacts(),
            h.routes(),
            h.record_routes(),
            h.max_forwards(),
        );
        let _ = (h.require(), h.supported(), h.allow(), h.rseq(), h.rack());
        let _ = (h.session_expires(), h.min_se(), h.refer_to(), h.replaces());
        let _ = (
            h.privacy(),
            h.reason(),
            h.content_type(),
            h.p_asserted_identity(),
        );
        match &m {
            Message::Request(r) => {
                let _ = check_request(r, &Policy::default());
            }
            Message::Response(r) => {
                let _ = check_response(r);
            }
        }
        let again = Message::parse(&m.to_bytes()).expect("what we emit parses");
        assert_eq!(again, m);
    }
}

#[test]
fn every_vector_and_every_prefix_never_panics() {
    assert_eq!(ALL.len(), 49);
    for name in ALL {
        let bytes = load(name);
        exercise(&bytes);
        for cut in (0..bytes.len()).step_by(7) {
            exercise(&bytes[..cut]);
        }
        // Flip single bytes to nasty values.
        for (i, nasty) in (0..bytes.len()).step_by(13).zip(
            [0u8, b'\r', b'\n', b':', b'"', b'<', 0xff, b' ']
                .iter()
                .cycle(),
        ) {
            let mut m = bytes.clone();
            m[i] = *nasty;
            exercise(&m);
        }
    }
}
