//! `report`: CSV and JSON outputs, charts (plotters), SIP ladder diagrams and pcap files.
//!
//! [`output`] writes a sweep's `points.csv`, `calls.csv`, `summary.json` and charts from its
//! stored units.
//!
//! [`charts`] turns plain data (series of means with confidence intervals, CDF curves, grids)
//! into SVG and PNG files. It knows nothing of the simulator: the experiment layer builds the
//! chart inputs from its summaries.
//!
//! Invariants: the same input gives byte-identical files (no clock, no randomness, no
//! `HashMap` iteration, no system fonts: the font is embedded), and bad input is a
//! [`ReportError`], never a panic.

pub mod charts;
mod error;
pub mod output;
pub mod trace;

pub use error::ReportError;
