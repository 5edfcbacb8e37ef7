//! `workload`: who calls whom, and when.
//!
//! User populations, Poisson arrivals at a busy-hour rate, holding-time distributions, the
//! call-mix matrix and feature probabilities. All draws come from named `sim` streams.
