//! `experiment`: sweeps, replications, the parallel runner, sharding and merging.
//!
//! A point's seed comes from the experiment seed, the point's parameter values and the
//! replication number, so results never depend on grid order, thread count or sharding.
