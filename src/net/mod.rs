//! `net`: the virtual network.
//!
//! A petgraph topology of hosts (each with a role, a site and an IPv4 address) joined by
//! links with propagation latency, jitter, loss, bandwidth and a finite queue. Packets carry
//! real bytes between `address:port` pairs and are delivered to the destination host.
//! Routing is least-latency with deterministic tie-breaks and is recomputed on faults.
//!
//! Depends only on `sim`. Knows nothing of SIP, RTP or the elements.
