//! The `deployment` section of a topology file: which elements run on which nodes, the
//! number plan, the TDM spans between elements, and the names elements resolve.
//!
//! ```ron
//! deployment: (
//!     kind: VoipOnly,
//!     domain: "contoso.com",
//!     populations: [
//!         (name: "ev-hq", kind: EnterpriseVoice, site: "hq", count: 200, first: "+14255550000", element: "pool-hq"),
//!         (name: "pstn", kind: Pstn, count: 10000, first: "+12065550000", element: "pstn"),
//!     ],
//!     elements: [ Endpoint((name: "pool-hq", node: "hq-lan")), ... ],
//!     tdm: [(name: "gw1-pri", a: "gw1", b: "pstn", kind: T1, spans: 2)],
//!     hosts: [("pool.contoso.com", "fe1")],
//! )
//! ```

use crate::elements::numbering::{NumberKind, NumberPlan, NumberRange};
use crate::elements::spec::{ElementKindSpec, ElementSpec};
use crate::elements::tdm::SpanKind;
use serde::{Deserialize, Serialize};

/// A deployment: elements, numbers and spans on top of the topology's network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// The kind of deployment (DESIGN.md and VENDORS.md's deployment list).
    pub kind: crate::vendor::Deployment,
    /// The SIP domain of the enterprise.
    #[serde(default = "default_domain")]
    pub domain: String,
    /// Users and external parties, as number blocks hosted by elements.
    pub populations: Vec<Population>,
    /// Service numbers (voicemail pilot, IVRs).
    #[serde(default)]
    pub services: Vec<Service>,
    /// How users dial.
    #[serde(default)]
    pub dialling: Dialling,
    pub elements: Vec<ElementSpec>,
    /// TDM spans between elements (PRIs to the PSTN, gateway to a TDM PBX).
    #[serde(default)]
    pub tdm: Vec<TdmLink>,
    /// DNS names: (FQDN, element name) — the FQDN resolves to the element's address.
    #[serde(default)]
    pub hosts: Vec<(String, String)>,
}

fn default_domain() -> String {
    "contoso.com".into()
}

/// A block of numbers: users of one kind at one site, hosted by one element.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    pub name: String,
    pub kind: NumberKind,
    #[serde(default = "default_site")]
    pub site: String,
    pub count: u32,
    /// The first E.164 number, e.g. `+14255550000`.
    pub first: String,
    /// The element that hosts the numbers (a Lync pool, a PBX, the PSTN).
    pub element: String,
}

fn default_site() -> String {
    "default".into()
}

/// A service number hosted by an element.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    pub number: String,
    pub element: String,
}

/// How users dial numbers, before the Front End's normalisation rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dialling {
    /// Enterprise Voice users dial PSTN numbers with this outside-line prefix and the
    /// national number (e.g. `9` + 10 digits); none: they dial E.164.
    pub pstn_prefix: Option<String>,
    /// The country code stripped to form a national number (e.g. `1`).
    pub country_code: String,
    /// Users dial colleagues (Lync and PBX) by the last N digits; none: E.164.
    pub extension_digits: Option<u8>,
}

impl Default for Dialling {
    fn default() -> Self {
        Dialling {
            pstn_prefix: None,
            country_code: "1".into(),
            extension_digits: None,
        }
    }
}

impl Dialling {
    /// What a user of the enterprise dials to reach E.164 `number` of kind `kind`.
    pub fn dial(&self, number: &str, kind: NumberKind) -> String {
        let digits = number.strip_prefix('+').unwrap_or(number);
        match kind {
            NumberKind::Pstn => match &self.pstn_prefix {
                Some(prefix) => {
                    let national = digits
                        .strip_prefix(self.country_code.as_str())
                        .unwrap_or(digits);
                    format!("{prefix}{national}")
                }
                None => number.to_string(),
            },
            NumberKind::EnterpriseVoice | NumberKind::Pbx => match self.extension_digits {
                Some(n) if usize::from(n) <= digits.len() => {
                    digits[digits.len() - usize::from(n)..].to_string()
                }
                _ => number.to_string(),
            },
            NumberKind::Service => number.to_string(),
        }
    }
}

/// A TDM link between two elements.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TdmLink {
    pub name: String,
    pub a: String,
    pub b: String,
    pub kind: SpanKind,
    pub spans: u16,
    /// One-way Q.931 delay over the D-channel, ms (assumed 20 ms: LAPD framing at 64 kbit/s
    /// plus switch processing).
    #[serde(default = "default_d_channel_ms")]
    pub d_channel_ms: f64,
}

fn default_d_channel_ms() -> f64 {
    20.0
}

/// A deployment problem, with the name or field to locate it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentError {
    /// A quoted value to find in the text (a name), if any.
    pub value: Option<String>,
    /// A field name to find, if no value.
    pub field: Option<String>,
    pub message: String,
}

fn err(value: Option<&str>, field: Option<&str>, message: impl Into<String>) -> DeploymentError {
    DeploymentError {
        value: value.map(str::to_string),
        field: field.map(str::to_string),
        message: message.into(),
    }
}

impl Deployment {
    /// The number plan of the populations and services.
    pub fn number_plan(&self) -> Result<NumberPlan, Vec<DeploymentError>> {
        let mut errors = Vec::new();
        let mut plan = NumberPlan::default();
        for p in &self.populations {
            match parse_e164(&p.first) {
                Some(first) => plan.ranges.push(NumberRange {
                    kind: p.kind,
                    first,
                    count: p.count,
                    element: p.element.clone(),
                    site: p.site.clone(),
                }),
                None => errors.push(err(
                    Some(&p.first),
                    None,
                    format!("`{}` is not an E.164 number (+ and digits)", p.first),
                )),
            }
        }
        for s in &self.services {
            match parse_e164(&s.number) {
                Some(first) => plan.ranges.push(NumberRange {
                    kind: NumberKind::Service,
                    first,
                    count: 1,
                    element: s.element.clone(),
                    site: "default".into(),
                }),
                None => errors.push(err(
                    Some(&s.number),
                    None,
                    format!("`{}` is not an E.164 number", s.number),
                )),
            }
        }
        // Ranges must not overlap.
        let mut sorted: Vec<&NumberRange> = plan.ranges.iter().collect();
        sorted.sort_by_key(|r| r.first);
        for w in sorted.windows(2) {
            if w[0].first + u64::from(w[0].count) > w[1].first {
                errors.push(err(
                    None,
                    Some("populations"),
                    format!(
                        "number ranges +{} (×{}) and +{} overlap",
                        w[0].first, w[0].count, w[1].first
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(plan)
        } else {
            Err(errors)
        }
    }

    /// Cross-checks names: unique element names, populations and services hosted by
    /// existing elements, TDM links between existing elements, hosts naming elements.
    pub fn check_names(&self) -> Vec<DeploymentError> {
        let mut errors = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for e in &self.elements {
            if !names.insert(e.name().to_string()) {
                errors.push(err(
                    Some(e.name()),
                    None,
                    format!("element `{}` is defined twice", e.name()),
                ));
            }
        }
        let known = |n: &str| self.elements.iter().any(|e| e.name() == n);
        for p in &self.populations {
            if !known(&p.element) {
                errors.push(err(
                    Some(&p.element),
                    None,
                    format!(
                        "population `{}` is hosted by `{}`, which is not an element",
                        p.name, p.element
                    ),
                ));
            }
            if p.count == 0 {
                errors.push(err(
                    Some(&p.name),
                    None,
                    format!("population `{}` has no numbers (count 0)", p.name),
                ));
            }
        }
        for s in &self.services {
            if !known(&s.element) {
                errors.push(err(
                    Some(&s.element),
                    None,
                    format!(
                        "service `{}` is hosted by `{}`, which is not an element",
                        s.name, s.element
                    ),
                ));
            }
        }
        let mut links = std::collections::BTreeSet::new();
        for t in &self.tdm {
            if !links.insert(t.name.clone()) {
                errors.push(err(
                    Some(&t.name),
                    None,
                    format!("TDM link `{}` is defined twice", t.name),
                ));
            }
            for end in [&t.a, &t.b] {
                if !known(end) {
                    errors.push(err(
                        Some(end),
                        None,
                        format!(
                            "TDM link `{}` ends at `{end}`, which is not an element",
                            t.name
                        ),
                    ));
                }
            }
            if t.a == t.b {
                errors.push(err(
                    Some(&t.name),
                    None,
                    format!("TDM link `{}` joins `{}` to itself", t.name, t.a),
                ));
            }
            if t.spans == 0 {
                errors.push(err(
                    Some(&t.name),
                    None,
                    format!("TDM link `{}` has no spans", t.name),
                ));
            }
            if !(t.d_channel_ms.is_finite() && t.d_channel_ms >= 0.0) {
                errors.push(err(
                    Some(&t.name),
                    None,
                    format!("TDM link `{}`: d_channel_ms must be ≥ 0", t.name),
                ));
            }
        }
        for (fqdn, element) in &self.hosts {
            if !known(element) {
                errors.push(err(
                    Some(element),
                    None,
                    format!("host `{fqdn}` names `{element}`, which is not an element"),
                ));
            }
        }
        errors
    }
}

/// `+14255550000` → 14255550000.
pub fn parse_e164(s: &str) -> Option<u64> {
    let digits = s.strip_prefix('+')?;
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialling_habits() {
        let d = Dialling {
            pstn_prefix: Some("9".into()),
            country_code: "1".into(),
            extension_digits: Some(4),
        };
        assert_eq!(d.dial("+12065551234", NumberKind::Pstn), "92065551234");
        assert_eq!(d.dial("+14255550042", NumberKind::EnterpriseVoice), "0042");
        assert_eq!(
            Dialling::default().dial("+12065551234", NumberKind::Pstn),
            "+12065551234"
        );
    }

    #[test]
    fn e164() {
        assert_eq!(parse_e164("+14255550000"), Some(14255550000));
        assert_eq!(parse_e164("14255550000"), None);
        assert_eq!(parse_e164("+1425x"), None);
    }
}
