//! The PSTN as written in a deployment.

use super::super::build::{BuildEnv, BuildError};
use super::super::element::Element;
use super::super::spec::ElementKindSpec;
use super::{Pstn, PstnConfig, PstnLink, PstnRoute, SetupTime};
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
    /// The carrier network's setup time for calls to PSTN parties: from the SETUP on the
    /// enterprise's trunk to the called exchange alerting, s. ITU-T E.721 sets mean
    /// post-selection delay objectives of 3.0 s (local) to 8.0 s (international) for
    /// circuit-switched networks; today's all-digital networks do better. Assumed 1.5 s.
    #[serde(default = "default_network_setup")]
    pub network_setup_s: f64,
    /// The spread of that setup time from call to call: the coefficient of variation of a
    /// lognormal with mean `network_setup_s` (0 makes it fixed). Assumed 0.4.
    #[serde(default = "default_network_setup_cv")]
    pub network_setup_cv: f64,
}

fn default_network_setup_cv() -> f64 {
    0.4
}

fn default_network_setup() -> f64 {
    1.5
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
        if !(self.network_setup_s.is_finite() && self.network_setup_s >= 0.0) {
            return Err(BuildError::new(
                &self.name,
                "network_setup_s",
                "must be ≥ 0",
            ));
        }
        if !(self.network_setup_cv.is_finite() && self.network_setup_cv >= 0.0) {
            return Err(BuildError::new(
                &self.name,
                "network_setup_cv",
                "must be ≥ 0",
            ));
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
            network_setup: SetupTime::new(self.network_setup_s, self.network_setup_cv),
        };
        let rng = env.rng("network-setup");
        Ok(Element::Pstn(Pstn::new(cfg, links, routes, rng)))
    }
}

#[cfg(test)]
mod tests {
    use super::SetupTime;
    use crate::sim::RngFactory;

    /// The lognormal setup time has the configured mean and coefficient of variation
    /// (20,000 draws: the standard error of the mean is 0.4·1.5/√20000 ≈ 0.004 s).
    #[test]
    fn carrier_setup_time_has_its_mean_and_spread() {
        let t = SetupTime::new(1.5, 0.4);
        let mut rng = RngFactory::new(7).stream("pstn", "network-setup");
        let xs: Vec<f64> = (0..20_000)
            .map(|_| t.draw(&mut rng).as_secs_f64())
            .collect();
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        approx::assert_abs_diff_eq!(mean, 1.5, epsilon = 0.02);
        approx::assert_abs_diff_eq!(sd / mean, 0.4, epsilon = 0.02);
        assert!(xs.iter().all(|&x| x > 0.0));
        let fixed = SetupTime::new(1.5, 0.0);
        assert_eq!(fixed.draw(&mut rng).as_secs_f64(), 1.5);
    }
}
