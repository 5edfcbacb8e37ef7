//! The PSTN as written in a deployment.

use super::super::build::{BuildEnv, BuildError};
use super::super::element::Element;
use super::super::spec::ElementKindSpec;
use super::{Pstn, PstnConfig, PstnLink, PstnRoute};
use crate::sim::SimDuration;
use serde::{Deserialize, Serialize};

/// Numbers hosted by some elements are reached over some TDM links.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PstnRouteSpec {
    /// Elements whose number ranges (DIDs) this route serves; empty: every number that no
    /// other route serves.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// TDM links (trunk groups), hunted in order: a call overflows to the next when every
    /// channel of one is busy.
    pub links: Vec<String>,
}

/// `Pstn((name: "pstn", node: "pstn", routes: [...]))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PstnSpec {
    pub name: String,
    pub node: String,
    /// Unused (the PSTN speaks ISDN only); kept for the common spec shape.
    #[serde(default)]
    pub sip_port: Option<u16>,
    pub routes: Vec<PstnRouteSpec>,
    /// The switch's no-answer timer: a call ringing this long is cleared with cause 19,
    /// s (assumed 180: carriers' ring-no-answer supervision is commonly 2–3 minutes).
    #[serde(default = "default_no_answer")]
    pub no_answer_s: f64,
    /// Called parties' exchanges give in-band ringback with ALERTING (progress indicator 8),
    /// so gateways signal 183 with early media rather than 180.
    #[serde(default)]
    pub inband_ringback: bool,
    /// An IVR (a service number on the PSTN) plays its announcement as early media, then
    /// answers after this long, s (assumed 8).
    #[serde(default = "default_ivr_answer")]
    pub ivr_answer_s: f64,
}

fn default_no_answer() -> f64 {
    180.0
}
fn default_ivr_answer() -> f64 {
    8.0
}

impl ElementKindSpec for PstnSpec {
    fn name(&self) -> &str {
        &self.name
    }
    fn node(&self) -> &str {
        &self.node
    }
    fn kind(&self) -> &'static str {
        "pstn"
    }
    fn sip_port(&self) -> u16 {
        self.sip_port.unwrap_or(5060)
    }

    fn build(&self, env: &BuildEnv<'_>) -> Result<Element, BuildError> {
        for (field, v) in [
            ("no_answer_s", self.no_answer_s),
            ("ivr_answer_s", self.ivr_answer_s),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(BuildError::new(&self.name, field, "must be > 0"));
            }
        }
        let mine = env.my_tdm_ports();
        let mut links: Vec<PstnLink> = Vec::new();
        let mut routes = Vec::new();
        for (i, r) in self.routes.iter().enumerate() {
            if r.links.is_empty() {
                return Err(BuildError::new(
                    &self.name,
                    &format!("routes[{i}].links"),
                    "needs at least one link",
                ));
            }
            let mut idx = Vec::new();
            for (j, name) in r.links.iter().enumerate() {
                let field = format!("routes[{i}].links[{j}]");
                let port = env.tdm_port(&field, name)?;
                let li = match links.iter().position(|l| l.port == port) {
                    Some(li) => li,
                    None => {
                        let far = mine
                            .iter()
                            .find(|(n, _, _)| n == name)
                            .map(|(_, _, f)| f.clone())
                            .unwrap_or_default();
                        let far_id = env.peer(&field, &far, &[])?.id;
                        links.push(PstnLink { port, far_id });
                        links.len() - 1
                    }
                };
                idx.push(li);
            }
            routes.push(PstnRoute {
                hosts: r.hosts.clone(),
                links: idx,
            });
        }
        // Links no route names still belong to the PSTN (calls may arrive on them).
        for (name, port, far) in mine {
            if !links.iter().any(|l| l.port == port) {
                let far_id = env.peer(&format!("link {name}"), &far, &[])?.id;
                links.push(PstnLink { port, far_id });
            }
        }
        let cfg = PstnConfig {
            name: self.name.clone(),
            numbers: env.directory.numbers.clone(),
            no_answer: SimDuration::from_secs_f64(self.no_answer_s),
            inband_ringback: self.inband_ringback,
            ivr_answer: SimDuration::from_secs_f64(self.ivr_answer_s),
        };
        Ok(Element::Pstn(Pstn::new(cfg, links, routes)))
    }
}
