//! Routing and faults: least-latency paths, rerouting around failed links and nodes,
//! drops when no path is left, repair, and packets lost in flight.

mod net_common;

use net_common::*;
use voicetwin::net::{DropReason, Fault, FaultAction, FaultTarget, Network, Packet, SendOutcome};
use voicetwin::sim::{SimDuration, SimTime, TraceMode};

/// a — r1 — r2 — b with a primary r1–r2 link (10 ms) and, unless `alternate` is false, a
/// slower path r1 — r3 — r2 (15 + 15 ms).
fn diamond(alternate: bool, planned: &str) -> Network {
    let alt_nodes = if alternate {
        r#"(name: "r3", role: "router"),"#
    } else {
        ""
    };
    let alt_links = if alternate {
        r#"(a: "r1", b: "r3", latency_ms: 15), (a: "r3", b: "r2", latency_ms: 15),"#
    } else {
        ""
    };
    network(
        &format!(
            r#"Topology(
                name: "diamond",
                nodes: [(name: "a"), (name: "r1", role: "router"), (name: "r2", role: "router"),
                        {alt_nodes} (name: "b")],
                links: [
                    (a: "a", b: "r1", latency_ms: 1),
                    (name: "primary", a: "r1", b: "r2", latency_ms: 10),
                    {alt_links}
                    (a: "r2", b: "b", latency_ms: 1),
                ],
                faults: [{planned}],
            )"#
        ),
        1,
    )
}

fn link_fault(net: &Network, link: &str, action: FaultAction) -> Fault {
    Fault {
        target: FaultTarget::Link(net.link_id(link).unwrap()),
        action,
    }
}

fn ms(v: u64) -> SimTime {
    SimTime::from_millis(v)
}

#[test]
fn least_latency_route_and_deterministic_ties() {
    let net = diamond(true, "");
    let names = |p: Vec<_>| {
        p.into_iter()
            .map(|n| net.node_name(n).to_string())
            .collect::<Vec<_>>()
    };
    let (a, b) = (net.node_id("a").unwrap(), net.node_id("b").unwrap());
    assert_eq!(names(net.route(a, b).unwrap()), ["a", "r1", "r2", "b"]);
    assert_eq!(net.path_latency(a, b), Some(SimDuration::from_millis(12)));
    // Two equal-latency paths: the first-listed link wins, every time.
    let tie = network(
        r#"Topology(
            name: "tie",
            nodes: [(name: "a"), (name: "x", role: "router"), (name: "y", role: "router"),
                    (name: "b")],
            links: [(a: "a", b: "y", latency_ms: 5), (a: "a", b: "x", latency_ms: 5),
                    (a: "x", b: "b", latency_ms: 5), (a: "y", b: "b", latency_ms: 5)],
        )"#,
        1,
    );
    let (a, b) = (tie.node_id("a").unwrap(), tie.node_id("b").unwrap());
    let via = tie.route(a, b).unwrap()[1];
    assert_eq!(tie.node_name(via), "y");
}

#[test]
fn a_failed_link_reroutes_then_repair_restores() {
    let net = diamond(true, "");
    // A probe every 10 ms for 1 s; the primary fails at 300 ms and is repaired at 600 ms.
    let probes = stream(&net, "a", "b", SimTime::ZERO, 10_000, 100, 100, 0);
    let faults = vec![
        (ms(300), link_fault(&net, "primary", FaultAction::Down)),
        (ms(600), link_fault(&net, "primary", FaultAction::Up)),
    ];
    let (world, _) = run(net, probes, faults, SimTime::MAX, TraceMode::Off);
    let by_seq = |s: u64| world.received.iter().find(|r| r.seq == s);
    for r in &world.received {
        let sent = r.sent_at.as_nanos() / 1_000_000;
        let expect_ms = if (300..600).contains(&sent) {
            32.0
        } else {
            12.0
        };
        assert_eq!(r.delay_ms(), expect_ms, "{r:?}");
    }
    // The probe sent at 290 ms was on the primary (entered at 291 ms, due at 301 ms) when
    // it failed at 300 ms: lost. Every other probe arrives.
    assert!(by_seq(29).is_none());
    assert_eq!(world.received.len(), 99);
    let primary = world.net.link_id("primary").unwrap();
    let r1 = world.net.node_id("r1").unwrap();
    let c = world.net.dir_counters(primary, r1).unwrap();
    assert_eq!((c.dropped_failure, c.in_flight()), (1, 0));
    // Probes sent after the repair take the primary again (60 of them, from 600 ms on,
    // plus the 29 before the failure).
    assert_eq!(c.delivered, 29 + 40);
    assert!(world.outcomes.iter().all(|o| *o == Some(SendOutcome::Sent)));
}

#[test]
fn without_an_alternate_path_traffic_is_dropped_until_repair() {
    let net = diamond(false, "");
    let probes = stream(&net, "a", "b", SimTime::ZERO, 10_000, 100, 100, 0);
    let faults = vec![
        (ms(300), link_fault(&net, "primary", FaultAction::Down)),
        (ms(600), link_fault(&net, "primary", FaultAction::Up)),
    ];
    let (world, _) = run(net, probes, faults, SimTime::MAX, TraceMode::Off);
    // Probes sent at the instant of a fault go before it (they were scheduled first).
    // The probe of 290 ms dies on the failed link; the one of 300 ms reaches r1 and finds
    // no route there; those of 310..=600 ms find no route at the source.
    for (i, o) in world.outcomes.iter().enumerate() {
        let expect = if (31..=60).contains(&i) {
            SendOutcome::Dropped(DropReason::NoRoute)
        } else {
            SendOutcome::Sent
        };
        assert_eq!(*o, Some(expect), "probe {i}");
    }
    assert_eq!(world.received.len(), 100 - 30 - 1 - 1);
    assert!(world.received.iter().all(|r| r.delay_ms() == 12.0));
    assert_eq!(world.net.stats().dropped_no_route, 31);
    assert!(
        world.received.iter().any(|r| r.seq >= 60),
        "repair restores delivery"
    );
}

#[test]
fn planned_faults_and_node_failures() {
    // The topology plans the primary down from 200 ms for 200 ms; r3 fails at 300 ms for
    // good, so from 300 ms to 400 ms there is no path; after 400 ms the primary is back.
    let net = diamond(
        true,
        r#"LinkDown(link: "primary", at_s: 0.2, for_s: 0.2), NodeDown(node: "r3", at_s: 0.3)"#,
    );
    let probes = stream(&net, "a", "b", SimTime::ZERO, 10_000, 60, 100, 0);
    let (world, _) = run(net, probes, vec![], SimTime::MAX, TraceMode::Off);
    for (i, o) in world.outcomes.iter().enumerate() {
        let no_route = (30..40).contains(&i);
        assert_eq!(
            *o == Some(SendOutcome::Dropped(DropReason::NoRoute)),
            no_route,
            "probe {i}: {o:?}"
        );
    }
    let delay = |s: u64| {
        world
            .received
            .iter()
            .find(|r| r.seq == s)
            .map(Received::delay_ms)
    };
    assert_eq!(delay(10), Some(12.0));
    assert_eq!(delay(25), Some(32.0), "around the failed primary");
    assert_eq!(delay(45), Some(12.0), "primary repaired");
    let r3 = world.net.node_id("r3").unwrap();
    assert!(!world.net.is_node_up(r3));
}

/// One slow hop a → r → b (1 Mbit/s, 1000-byte packets: 8.144 ms each); five packets sent
/// at once from a, and the given fault at 20 ms. Returns the sequence numbers delivered.
fn burst_then_fault(queueing: &str, target: &str, link_fault: bool) -> Vec<u64> {
    let net = network(
        &format!(
            r#"Topology(
                name: "slow",
                nodes: [(name: "a"), (name: "r", role: "router"), (name: "b")],
                links: [(a: "a", b: "r", latency_ms: 5, bandwidth_mbps: 1, queueing: {queueing}),
                        (a: "r", b: "b", latency_ms: 1)],
            )"#
        ),
        1,
    );
    let probes = stream(&net, "a", "b", SimTime::ZERO, 0, 5, 1000, 0);
    let target = if link_fault {
        FaultTarget::Link(net.link_id(target).unwrap())
    } else {
        FaultTarget::Node(net.node_id(target).unwrap())
    };
    let faults = vec![(
        ms(20),
        Fault {
            target,
            action: FaultAction::Down,
        },
    )];
    let (world, _) = run(net, probes, faults, SimTime::MAX, TraceMode::Off);
    let link = world.net.link_id("a-r").unwrap();
    let c = world
        .net
        .dir_counters(link, world.net.node_id("a").unwrap())
        .unwrap();
    assert_eq!(c.sent, c.delivered + c.dropped(), "{c:?}");
    world.received.iter().map(|r| r.seq).collect()
}

#[test]
fn failures_drop_what_is_queued_and_a_failed_link_what_is_on_the_wire() {
    for queueing in ["Fifo", "StrictPriority"] {
        // Departures at 8.144, 16.288, 24.432... ms; the source fails at 20 ms: the two
        // packets that had left it still arrive (the wire is fine), the three queued die.
        assert_eq!(burst_then_fault(queueing, "a", false), [0, 1], "{queueing}");
        // The link fails at 20 ms: packet 0 arrived at 13.144 ms; packet 1 (due at
        // 21.288 ms) was on the wire and is lost with the queued ones.
        assert_eq!(burst_then_fault(queueing, "a-r", true), [0], "{queueing}");
        // The far node fails: everything not yet delivered to it is lost.
        assert_eq!(burst_then_fault(queueing, "r", false), [0], "{queueing}");
    }
}

#[test]
fn extra_addresses_unknown_destinations_and_local_delivery() {
    let mut net = diamond(true, "");
    let b = net.node_id("b").unwrap();
    let a = net.node_id("a").unwrap();
    // A site LAN hosts many clients: bind 1000 addresses to b.
    for i in 0..1000u32 {
        let [_, _, hi, lo] = (i + 1).to_be_bytes();
        net.bind_address(b, ip(172, 16, hi, lo)).unwrap();
    }
    assert_eq!(net.resolve(ip(172, 16, 3, 232)), Some(b));
    assert!(
        net.bind_address(a, ip(172, 16, 0, 1)).is_err(),
        "taken by b"
    );
    assert!(net.bind_address(a, ip(224, 0, 0, 1)).is_err(), "multicast");
    let client = |o: u8| std::net::SocketAddrV4::new(ip(172, 16, 0, o), 5060);
    let from_a = std::net::SocketAddrV4::new(net.address(a), 5060);
    let payload = |s: u64| bytes::Bytes::from(s.to_le_bytes().to_vec());
    let probes = vec![
        Probe {
            at: ms(1),
            packet: Packet::new(from_a, client(7), payload(0)),
        },
        Probe {
            at: ms(2),
            packet: Packet::new(
                from_a,
                std::net::SocketAddrV4::new(ip(192, 0, 2, 1), 1),
                payload(1),
            ),
        },
        Probe {
            at: ms(3),
            packet: Packet::new(client(8), client(9), payload(2)),
        },
    ];
    let (world, _) = run(net, probes, vec![], SimTime::MAX, TraceMode::Off);
    assert_eq!(
        world.outcomes[1],
        Some(SendOutcome::Dropped(DropReason::UnknownDestination))
    );
    let got: Vec<(u64, &str, u8, f64)> = world
        .received
        .iter()
        .map(|r| (r.seq, r.node.as_str(), r.hops, r.delay_ms()))
        .collect();
    // Between two addresses of one node: delivered at once, no link crossed.
    assert_eq!(got, [(2, "b", 0, 0.0), (0, "b", 3, 12.0)]);
    assert_eq!(world.net.stats().delivered, 2);
    assert_eq!(world.net.stats().dropped_unknown_destination, 1);
}
