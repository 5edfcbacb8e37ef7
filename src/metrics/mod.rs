//! `metrics`: CDRs, histograms, the ITU-T G.107 E-model, and summaries with confidence
//! intervals.
//!
//! The statistics here take plain numbers and know nothing of the simulator:
//! - [`cdr`]: the call detail record, one row of `calls.csv`;
//! - [`emodel`]: the ITU-T G.107 E-model (R-factor and MOS);
//! - [`erlang`]: Erlang B (stable recursion) and its inverses, Erlang C;
//! - [`Summary`] and [`Welford`]: means with Student-t 95% intervals across replications,
//!   streaming mean/variance for per-call values;
//! - [`Histogram`]: bounded-memory percentiles and empirical CDFs with a stated error bound;
//! - [`Proportion`] and [`ShareBelow`]: blocking probabilities with Wilson or
//!   Clopper–Pearson intervals, and shares below a MOS threshold;
//! - [`capacity_at_gos`]: the offered load at which a sweep crosses the grade of service.
//!
//! Invariants: no wall clock, no randomness, no `HashMap` iteration. Every result depends only
//! on the values given and the order they were given in. Invalid input (NaN, negative loads,
//! impossible counts) is a [`MetricsError`], never a panic.

mod capacity;
pub mod cdr;
pub mod emodel;
pub mod erlang;
mod error;
mod histogram;
mod proportion;
pub mod record;
mod summary;

pub use capacity::{Capacity, Crossing, DEFAULT_GOS, Interpolation, LoadPoint, capacity_at_gos};
pub use error::MetricsError;
pub use histogram::{DEFAULT_EXACT_LIMIT, DEFAULT_PRECISION_BITS, Histogram};
pub use proportion::{MOS_MANY_DISSATISFIED, MOS_SOME_DISSATISFIED, Proportion, ShareBelow};
pub use summary::{CONFIDENCE_95, Summary, Welford, student_t_quantile};
