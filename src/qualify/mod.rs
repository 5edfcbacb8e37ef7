//! `qualify`: the Direct SIP qualification plan (DESIGN.md) run against a vendor model.
//!
//! Each case places scripted calls through a complete deployment built around the product
//! ([`rig`]: Lync clients, Front End, Mediation Server, the PBX or gateway element the model
//! drives, the PSTN) and looks at what happened: SIP codes on the wire, RTP/RTCP packets,
//! ISDN messages, call outcome and leg flags in the call log. What it finds is a list of
//! [`Symptom`]s. The case then asks the model which limitation rules should act on its calls
//! under the configuration ([`VendorModel::expected_symptoms`]) and which symptoms each
//! rule's behaviours produce, and judges:
//! - `pass`: no symptom, and no rule expected;
//! - `expected-fail`: every symptom is explained by an expected rule, and every expected rule
//!   both acted (its ID is in the call log) and showed one of its symptoms;
//! - `fail`: anything else (an unexplained symptom, or a rule whose symptom did not appear);
//! - `n/a`: the deployment does not use what the case needs (with the reason).
//!
//! The baseline is the model's recommended configuration. A rule whose trigger needs a
//! non-recommended setting (media bypass on, PRACK on, History-Info on, the default
//! Alternate Route Timer) is also run under that trigger configuration, where it must show
//! its symptom; a rule with a what-if (Lync 2013's 502 → 503 translation) is run under it,
//! where the symptom must be gone.

mod cases;
mod cases_media;
mod judge;
mod matrix;
mod plan;
mod rig;
mod wire;

pub use judge::Symptom;
pub use matrix::{MatrixError, write_matrix};
pub use plan::{qualify, qualify_all};

use serde::Serialize;
use std::fmt;

/// A case's result.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Verdict {
    #[serde(rename = "pass")]
    Pass,
    #[serde(rename = "expected-fail")]
    ExpectedFail,
    #[serde(rename = "fail")]
    Fail,
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::ExpectedFail => "expected-fail",
            Verdict::Fail => "fail",
            Verdict::NotApplicable => "n/a",
        }
    }

    /// Whether the case matched its expectation (everything but `fail`).
    pub fn as_expected(self) -> bool {
        self != Verdict::Fail
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One case run in one deployment under one configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseResult {
    /// The case name (`hold-bypass-on`), with the configuration it ran under when that is
    /// not the recommended one (`prack [trigger: PBX PRACK on]`).
    pub case: String,
    /// The plan area (a matrix column).
    pub area: &'static str,
    pub deployment: String,
    pub result: Verdict,
    pub limitation_ids: Vec<String>,
    /// What was observed, in a few words.
    pub detail: String,
}

/// A model's qualification.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub model: String,
    pub vendor: String,
    pub product: String,
    pub version: String,
    /// The source key (`LYNC13`, `LYNC10`, `OCS07`, `MXONE`).
    pub source: String,
    /// `IpPbx`, `BasicGateway` or `BasicHybrid`.
    pub role: String,
    pub deployments: Vec<String>,
    pub cases: Vec<CaseResult>,
    /// Every case matched its expectation.
    pub ok: bool,
}

impl Report {
    pub fn counts(&self) -> [(Verdict, usize); 4] {
        let n = |v| self.cases.iter().filter(|c| c.result == v).count();
        [
            (Verdict::Pass, n(Verdict::Pass)),
            (Verdict::ExpectedFail, n(Verdict::ExpectedFail)),
            (Verdict::Fail, n(Verdict::Fail)),
            (Verdict::NotApplicable, n(Verdict::NotApplicable)),
        ]
    }

    /// The report as a fixed-width table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} {} {} ({}, {})\n",
            self.vendor, self.product, self.version, self.source, self.role
        );
        let w = self
            .cases
            .iter()
            .map(|c| c.case.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let d = self
            .cases
            .iter()
            .map(|c| c.deployment.len())
            .max()
            .unwrap_or(10)
            .max(10);
        out.push_str(&format!(
            "{:<w$}  {:<d$}  {:<13}  {:<18}  detail\n",
            "case", "deployment", "result", "limitations"
        ));
        for c in &self.cases {
            out.push_str(&format!(
                "{:<w$}  {:<d$}  {:<13}  {:<18}  {}\n",
                c.case,
                c.deployment,
                c.result.as_str(),
                if c.limitation_ids.is_empty() {
                    "-".to_string()
                } else {
                    c.limitation_ids.join(",")
                },
                c.detail
            ));
        }
        let counts: Vec<String> = self
            .counts()
            .iter()
            .map(|(v, n)| format!("{n} {v}"))
            .collect();
        out.push_str(&format!(
            "{}: {}\n",
            if self.ok { "OK" } else { "FAILED" },
            counts.join(", ")
        ));
        out
    }
}
