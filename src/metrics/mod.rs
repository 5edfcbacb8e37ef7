//! `metrics`: CDRs, histograms, the ITU-T G.107 E-model, and summaries with confidence
//! intervals.

pub mod emodel;
