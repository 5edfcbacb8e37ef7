//! Least-latency routing with deterministic tie-breaks.
//!
//! For every destination, a Dijkstra search over the links that are up, backwards from the
//! destination, gives every node its next hop. Paths compare by (total propagation latency,
//! hop count, index of the first direction), so equal-latency alternatives always resolve
//! the same way, and the next hops form a loop-free tree per destination. Only transit nodes
//! relay; a host can only be the first or the last node of a path. Tables are recomputed
//! from scratch after each fault.

use super::NodeId;
use petgraph::graph::{NodeIndex, UnGraph};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// No next hop.
const NONE: u32 = u32::MAX;

/// What routing needs to know about the network at one moment.
pub(crate) struct RoutingView<'a> {
    /// The topology: node weights are unused, edge weights are link indices.
    pub(crate) graph: &'a UnGraph<(), u32>,
    pub(crate) node_up: &'a [bool],
    pub(crate) transit: &'a [bool],
    pub(crate) link_up: &'a [bool],
    /// Propagation latency of each link, in ns.
    pub(crate) latency_ns: &'a [u64],
    /// The `a` end of each link (direction `2·link` goes a → b, `2·link + 1` goes b → a).
    pub(crate) link_a: &'a [NodeId],
}

/// Next hops and path latencies between every pair of nodes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Routes {
    n: usize,
    /// `next[src·n + dst]`: the direction to send on, or `NONE`.
    next: Vec<u32>,
    /// `latency[src·n + dst]`: total propagation latency in ns, `u64::MAX` if unreachable.
    latency: Vec<u64>,
}

impl Routes {
    pub(crate) fn compute(view: &RoutingView<'_>) -> Routes {
        let n = view.node_up.len();
        let mut routes = Routes {
            n,
            next: vec![NONE; n * n],
            latency: vec![u64::MAX; n * n],
        };
        let mut best: Vec<(u64, u32, u32)> = vec![(u64::MAX, u32::MAX, NONE); n];
        let mut done = vec![false; n];
        let mut heap = BinaryHeap::new();
        for dst in 0..n {
            if !view.node_up[dst] {
                continue;
            }
            best.fill((u64::MAX, u32::MAX, NONE));
            done.fill(false);
            best[dst] = (0, 0, NONE);
            heap.push(Reverse((0u64, 0u32, dst)));
            while let Some(Reverse((cost, hops, v))) = heap.pop() {
                if done[v] {
                    continue;
                }
                done[v] = true;
                if v != dst && !view.transit[v] {
                    continue; // a host does not relay
                }
                for edge in view.graph.edges(NodeIndex::new(v)) {
                    use petgraph::visit::EdgeRef;
                    let link = *edge.weight() as usize;
                    let u = if edge.source().index() == v {
                        edge.target().index()
                    } else {
                        edge.source().index()
                    };
                    if !view.link_up[link] || !view.node_up[u] || done[u] {
                        continue;
                    }
                    // The direction from u towards v.
                    let dir = if view.link_a[link].index() == u {
                        2 * link
                    } else {
                        2 * link + 1
                    } as u32;
                    let cand = (cost.saturating_add(view.latency_ns[link]), hops + 1, dir);
                    if cand < best[u] {
                        best[u] = cand;
                        heap.push(Reverse((cand.0, cand.1, u)));
                    }
                }
            }
            for src in 0..n {
                if done[src] {
                    routes.next[src * n + dst] = best[src].2;
                    routes.latency[src * n + dst] = best[src].0;
                }
            }
        }
        routes
    }

    /// The direction `src` sends on towards `dst`; `None` if unreachable or `src == dst`.
    #[inline]
    pub(crate) fn next_dir(&self, src: NodeId, dst: NodeId) -> Option<u32> {
        let d = *self.next.get(src.index() * self.n + dst.index())?;
        (d != NONE).then_some(d)
    }

    /// Total propagation latency from `src` to `dst` in ns, if reachable.
    pub(crate) fn latency_ns(&self, src: NodeId, dst: NodeId) -> Option<u64> {
        let l = *self.latency.get(src.index() * self.n + dst.index())?;
        (l != u64::MAX).then_some(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Net {
        graph: UnGraph<(), u32>,
        link_a: Vec<NodeId>,
        latency: Vec<u64>,
    }

    fn net(n: usize, links: &[(usize, usize, u64)]) -> Net {
        let mut graph = UnGraph::new_undirected();
        for _ in 0..n {
            graph.add_node(());
        }
        for (i, &(a, b, _)) in links.iter().enumerate() {
            graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), i as u32);
        }
        Net {
            graph,
            link_a: links.iter().map(|l| NodeId(l.0 as u32)).collect(),
            latency: links.iter().map(|l| l.2).collect(),
        }
    }

    fn routes(net: &Net, node_up: &[bool], transit: &[bool], link_up: &[bool]) -> Routes {
        Routes::compute(&RoutingView {
            graph: &net.graph,
            node_up,
            transit,
            link_up,
            latency_ns: &net.latency,
            link_a: &net.link_a,
        })
    }

    #[test]
    fn least_latency_then_fewest_hops_then_lowest_direction() {
        // 0 - 1 - 3 costs 10 + 10; 0 - 2 - 3 costs 5 + 15; 0 - 3 direct costs 25.
        let n = net(
            4,
            &[(0, 1, 10), (1, 3, 10), (0, 2, 5), (2, 3, 15), (0, 3, 25)],
        );
        let up = [true; 5];
        let r = routes(&n, &[true; 4], &[true; 4], &up);
        // Both two-hop paths cost 20: the tie goes to the lower direction index (link 0).
        assert_eq!(r.next_dir(NodeId(0), NodeId(3)), Some(0));
        assert_eq!(r.latency_ns(NodeId(0), NodeId(3)), Some(20));
        assert_eq!(
            r.next_dir(NodeId(3), NodeId(0)),
            Some(3),
            "3 -> 1 on link 1"
        );
        // Without link 0, 0 -> 2 -> 3 (20) beats the direct 25.
        let r = routes(&n, &[true; 4], &[true; 4], &[false, true, true, true, true]);
        assert_eq!(r.next_dir(NodeId(0), NodeId(3)), Some(4));
        // A zero-latency tie: fewer hops wins.
        let n = net(3, &[(0, 1, 0), (1, 2, 0), (0, 2, 0)]);
        let r = routes(&n, &[true; 3], &[true; 3], &[true; 3]);
        assert_eq!(r.next_dir(NodeId(0), NodeId(2)), Some(4));
    }

    #[test]
    fn hosts_do_not_relay_and_down_nodes_are_avoided() {
        // 0 - 1 - 2 with 1 a host; 0 - 3 - 2 slower through a router.
        let n = net(4, &[(0, 1, 1), (1, 2, 1), (0, 3, 50), (3, 2, 50)]);
        let transit = [false, false, false, true];
        let r = routes(&n, &[true; 4], &transit, &[true; 4]);
        assert_eq!(r.latency_ns(NodeId(0), NodeId(2)), Some(100));
        assert_eq!(
            r.latency_ns(NodeId(0), NodeId(1)),
            Some(1),
            "host as endpoint"
        );
        let r = routes(&n, &[true, true, true, false], &transit, &[true; 4]);
        assert_eq!(r.next_dir(NodeId(0), NodeId(2)), None);
        assert_eq!(r.next_dir(NodeId(0), NodeId(0)), None, "no hop to itself");
    }
}
