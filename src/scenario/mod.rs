//! `scenario`: loading and validating RON inputs, and running one simulation.
//!
//! Topology, deployment, vendor models and workload are parsed with unknown fields rejected
//! and errors located by file, line and column, then turned into runtime types that cannot
//! be wrong. Below the loader, nothing checks a value again.

pub mod build;
pub mod deployment;
pub mod run;
pub mod spec;
pub mod topology;
