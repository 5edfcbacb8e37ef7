//! Link and node failures and repairs.
//!
//! A failure clears the transmitters it affects: a failed link loses what is queued on it
//! and what is on its wire; a failed node loses what it had not finished transmitting, and
//! packets reaching it are dropped. Routes are recomputed on every change of state.

use super::{Kind, NetEvent, Network};
use crate::net::spec::FaultTarget;
use crate::sim::{Scheduler, SimTime};

/// Down or up.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FaultAction {
    Down,
    Up,
}

/// A change of state of a link or node.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub target: FaultTarget,
    pub action: FaultAction,
}

impl Fault {
    /// A node going down or up.
    pub fn node(node: crate::net::NodeId, action: FaultAction) -> Fault {
        Fault {
            target: FaultTarget::Node(node),
            action,
        }
    }

    /// A link going down or up.
    pub fn link(link: crate::net::LinkId, action: FaultAction) -> Fault {
        Fault {
            target: FaultTarget::Link(link),
            action,
        }
    }
}

impl Network {
    /// Schedules a fault at `at` (experiments use this to inject failures).
    pub fn schedule_fault<E: From<NetEvent>>(
        &mut self,
        sched: &mut Scheduler<E>,
        at: SimTime,
        fault: Fault,
    ) {
        let index = self.faults.len() as u32;
        self.faults.push(fault);
        sched.schedule_at(at, NetEvent(Kind::Fault { index }).into());
    }

    /// Applies a fault now. A failed link or node drops what it holds (packets queued, and
    /// for a link, packets on the wire); routes are recomputed on every change.
    pub fn apply_fault(&mut self, now: SimTime, fault: Fault) {
        let flushed: Vec<u32> = match (fault.target, fault.action) {
            (FaultTarget::Link(l), FaultAction::Down) if self.link_up[l.index()] => {
                self.link_up[l.index()] = false;
                vec![2 * l.index() as u32, 2 * l.index() as u32 + 1]
            }
            (FaultTarget::Node(n), FaultAction::Down) if self.node_up[n.index()] => {
                self.node_up[n.index()] = false;
                self.out_dirs[n.index()].clone()
            }
            (FaultTarget::Link(l), FaultAction::Up) if !self.link_up[l.index()] => {
                self.link_up[l.index()] = true;
                Vec::new()
            }
            (FaultTarget::Node(n), FaultAction::Up) if !self.node_up[n.index()] => {
                self.node_up[n.index()] = true;
                Vec::new()
            }
            _ => return, // already in that state
        };
        if !flushed.is_empty() {
            self.fault_seq += 1;
            let link = matches!(fault.target, FaultTarget::Link(_));
            for dir in flushed {
                for id in self.dirs[dir as usize].flush(now, self.fault_seq, link) {
                    self.arena.remove(id);
                }
            }
        }
        self.recompute_routes();
    }
}
