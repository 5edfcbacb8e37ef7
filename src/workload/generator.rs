//! The validated workload and the call generator.

use super::plan::{
    CallNumber, CallPlan, CalleeAction, ForwardKind, ForwardPlan, HoldPlan, Party, SimulRingPlan,
    TransferKind, TransferPlan,
};
use super::sample::{bernoulli, exponential, lognormal, weighted_index};
use super::spec::{CallMix, FeatureSpec, HoldingSpec, LoadSpec, PopulationKind, WorkloadSpec};
use crate::sim::{RngFactory, SimDuration, SimRng, SimTime};
use rand::Rng;

/// A workload value that cannot be used. `field` is the path of the value in the file.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct WorkloadError {
    pub field: String,
    pub message: String,
}

fn err(field: &str, message: impl Into<String>) -> WorkloadError {
    WorkloadError {
        field: field.to_string(),
        message: message.into(),
    }
}

/// How many parties each population has.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct Populations {
    pub enterprise_voice: u32,
    pub pbx: u32,
    pub pstn: u32,
}

impl Populations {
    pub fn count(&self, kind: PopulationKind) -> u32 {
        match kind {
            PopulationKind::EnterpriseVoice => self.enterprise_voice,
            PopulationKind::Pbx => self.pbx,
            PopulationKind::Pstn => self.pstn,
        }
    }
}

/// The holding-time distribution, validated.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Holding {
    Exponential { mean_s: f64 },
    Lognormal { mean_s: f64, sd_s: f64 },
    Fixed { s: f64 },
}

impl Holding {
    pub fn mean_s(&self) -> f64 {
        match *self {
            Holding::Exponential { mean_s } | Holding::Lognormal { mean_s, .. } => mean_s,
            Holding::Fixed { s } => s,
        }
    }

    fn sample(&self, rng: &mut SimRng) -> SimDuration {
        let s = match *self {
            Holding::Exponential { mean_s } => exponential(rng, mean_s),
            Holding::Lognormal { mean_s, sd_s } => lognormal(rng, mean_s, sd_s),
            Holding::Fixed { s } => s,
        };
        SimDuration::from_secs_f64(s)
    }
}

/// A workload that has passed validation against the deployment's populations.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// Call attempts per second (first attempts).
    pub arrival_rate: f64,
    pub holding: Holding,
    mix_kinds: Vec<CallMix>,
    mix_weights: Vec<f64>,
    pub features: FeatureSpec,
    pub redial: Option<super::spec::RedialSpec>,
    pub warmup: SimDuration,
    pub measure: SimDuration,
    pub populations: Populations,
}

fn check_probability(field: &str, p: f64) -> Result<(), WorkloadError> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(err(
            field,
            format!("probability must be in [0, 1], got {p}"),
        ))
    }
}

fn check_positive(field: &str, v: f64) -> Result<(), WorkloadError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(err(field, format!("must be a finite number > 0, got {v}")))
    }
}

fn check_weights(
    field: &str,
    w: &[(PopulationKind, f64)],
    pops: &Populations,
) -> Result<(), WorkloadError> {
    let mut total = 0.0;
    for (kind, weight) in w {
        if !weight.is_finite() || *weight < 0.0 {
            return Err(err(
                field,
                format!("weight for {kind:?} must be ≥ 0, got {weight}"),
            ));
        }
        if *weight > 0.0 && pops.count(*kind) == 0 {
            return Err(err(
                field,
                format!("{kind:?} has weight {weight} but the deployment has no such users"),
            ));
        }
        total += weight;
    }
    if total <= 0.0 {
        return Err(err(field, "at least one weight must be positive"));
    }
    Ok(())
}

impl WorkloadSpec {
    /// Validates against the deployment's populations. `pbx_folds_into_lync` maps PBX users
    /// to Enterprise Voice users when the deployment has no PBX (VoIP-only), so that the same
    /// organisation and traffic can be compared across deployments.
    pub fn validate(&self, pops: Populations) -> Result<Workload, WorkloadError> {
        check_positive("workload.load_factor", self.load_factor)?;
        let holding = match self.holding {
            HoldingSpec::Exponential { mean_s } => {
                check_positive("workload.holding.mean_s", mean_s)?;
                Holding::Exponential { mean_s }
            }
            HoldingSpec::Lognormal { mean_s, sd_s } => {
                check_positive("workload.holding.mean_s", mean_s)?;
                check_positive("workload.holding.sd_s", sd_s)?;
                Holding::Lognormal { mean_s, sd_s }
            }
            HoldingSpec::Fixed { s } => {
                check_positive("workload.holding.s", s)?;
                Holding::Fixed { s }
            }
        };
        let arrival_rate = match self.load {
            LoadSpec::BusyHourCallsPerUser(b) => {
                check_positive("workload.load", b)?;
                b * f64::from(pops.enterprise_voice + pops.pbx) / 3600.0
            }
            LoadSpec::OfferedErlangs(a) => {
                check_positive("workload.load", a)?;
                a / holding.mean_s()
            }
        } * self.load_factor;
        if arrival_rate <= 0.0 || !arrival_rate.is_finite() {
            return Err(err(
                "workload.load",
                "gives no calls: the deployment has no users",
            ));
        }
        // Fold PBX kinds into Lync kinds when there is no PBX.
        let mut mix: Vec<(CallMix, f64)> = Vec::new();
        for &(kind, weight) in &self.mix {
            if !weight.is_finite() || weight < 0.0 {
                return Err(err(
                    "workload.mix",
                    format!("weight of {kind:?} must be ≥ 0, got {weight}"),
                ));
            }
            let kind = if pops.pbx == 0 { fold_pbx(kind) } else { kind };
            match mix.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, w)) => *w += weight,
                None => mix.push((kind, weight)),
            }
        }
        mix.retain(|(_, w)| *w > 0.0);
        mix.sort_by_key(|(k, _)| *k);
        if mix.is_empty() {
            return Err(err(
                "workload.mix",
                "at least one call kind needs a positive weight",
            ));
        }
        for (kind, _) in &mix {
            for (role, pop) in [
                ("caller", kind.caller_kind()),
                ("callee", kind.callee_kind()),
            ] {
                let n = pops.count(pop);
                let needed = if kind.caller_kind() == kind.callee_kind() {
                    2
                } else {
                    1
                };
                if n < needed {
                    return Err(err(
                        "workload.mix",
                        format!(
                            "{} needs {needed} {pop:?} user(s) as {role}, the deployment has {n}",
                            kind.label()
                        ),
                    ));
                }
            }
        }
        let f = &self.features;
        for (name, p) in [
            ("busy", f.busy),
            ("no_answer", f.no_answer),
            ("decline", f.decline),
            ("voicemail", f.voicemail),
            ("hold", f.hold),
            ("transfer_blind", f.transfer_blind),
            ("transfer_consultative", f.transfer_consultative),
            ("forward", f.forward),
            ("forward_busy", f.forward_busy),
            ("simul_ring", f.simul_ring),
            ("dtmf", f.dtmf),
            ("transfer_target_answers", f.transfer_target_answers),
            ("simul_ring_target_answers", f.simul_ring_target_answers),
        ] {
            check_probability(&format!("workload.features.{name}"), p)?;
        }
        if f.busy + f.no_answer + f.decline + f.voicemail > 1.0 {
            return Err(err(
                "workload.features",
                "busy + no_answer + decline + voicemail must not exceed 1",
            ));
        }
        if f.transfer_blind + f.transfer_consultative > 1.0 {
            return Err(err(
                "workload.features",
                "transfer_blind + transfer_consultative must not exceed 1",
            ));
        }
        check_positive("workload.features.ring_mean_s", f.ring_mean_s)?;
        check_positive("workload.features.abandon_after_s", f.abandon_after_s)?;
        check_positive("workload.features.hold_mean_s", f.hold_mean_s)?;
        let folded = |w: &[(PopulationKind, f64)]| -> Vec<(PopulationKind, f64)> {
            w.iter()
                .map(|&(k, x)| {
                    if pops.pbx == 0 && k == PopulationKind::Pbx {
                        (PopulationKind::EnterpriseVoice, x)
                    } else {
                        (k, x)
                    }
                })
                .collect()
        };
        let mut features = f.clone();
        features.transfer_targets = folded(&f.transfer_targets);
        features.forward_targets = folded(&f.forward_targets);
        features.simul_ring_targets = folded(&f.simul_ring_targets);
        if f.transfer_blind + f.transfer_consultative > 0.0 {
            check_weights(
                "workload.features.transfer_targets",
                &features.transfer_targets,
                &pops,
            )?;
        }
        if f.forward + f.forward_busy > 0.0 {
            check_weights(
                "workload.features.forward_targets",
                &features.forward_targets,
                &pops,
            )?;
        }
        if f.simul_ring > 0.0 {
            check_weights(
                "workload.features.simul_ring_targets",
                &features.simul_ring_targets,
                &pops,
            )?;
        }
        if let Some(r) = &self.redial {
            check_probability("workload.redial.probability", r.probability)?;
            check_positive("workload.redial.mean_delay_s", r.mean_delay_s)?;
        }
        if !(self.warmup_s.is_finite() && self.warmup_s >= 0.0) {
            return Err(err(
                "workload.warmup_s",
                format!("must be ≥ 0, got {}", self.warmup_s),
            ));
        }
        check_positive("workload.measure_s", self.measure_s)?;
        Ok(Workload {
            arrival_rate,
            holding,
            mix_kinds: mix.iter().map(|(k, _)| *k).collect(),
            mix_weights: mix.iter().map(|(_, w)| *w).collect(),
            features,
            redial: self.redial.clone(),
            warmup: SimDuration::from_secs_f64(self.warmup_s),
            measure: SimDuration::from_secs_f64(self.measure_s),
            populations: pops,
        })
    }
}

fn fold_pbx(kind: CallMix) -> CallMix {
    match kind {
        CallMix::LyncToPbx | CallMix::PbxToLync | CallMix::PbxToPbx => CallMix::LyncToLync,
        CallMix::PbxToPstn => CallMix::LyncToPstn,
        CallMix::PstnToPbx => CallMix::PstnToLync,
        other => other,
    }
}

impl Workload {
    /// Offered traffic in Erlangs: arrival rate × mean holding time.
    pub fn offered_erlangs(&self) -> f64 {
        self.arrival_rate * self.holding.mean_s()
    }

    /// The share of first attempts of each kind (normalised weights), in a fixed order.
    pub fn mix_shares(&self) -> Vec<(CallMix, f64)> {
        let total: f64 = self.mix_weights.iter().sum();
        self.mix_kinds
            .iter()
            .zip(&self.mix_weights)
            .map(|(k, w)| (*k, w / total))
            .collect()
    }

    /// When arrivals stop: the end of the measurement window.
    pub fn arrivals_end(&self) -> SimTime {
        SimTime::ZERO + self.warmup + self.measure
    }

    /// The generator of this workload's first attempts, in time order.
    pub fn generator(&self, rng: &RngFactory) -> CallGenerator {
        CallGenerator {
            workload: self.clone(),
            arrivals: rng.stream("workload", "arrivals"),
            factory: *rng,
            next_number: 0,
            clock: SimTime::ZERO,
        }
    }
}

/// Produces call plans in arrival order. Arrival times come from their own stream, and each
/// call's details from a stream indexed by its number, so a change to the features does not
/// shift the arrivals and vice versa.
pub struct CallGenerator {
    workload: Workload,
    arrivals: SimRng,
    factory: RngFactory,
    next_number: u64,
    clock: SimTime,
}

/// Redials carry the first attempt's number with the attempt in the top 16 bits.
const ATTEMPT_SHIFT: u32 = 48;

impl CallNumber {
    /// The first attempt's number.
    pub fn first_attempt(self) -> CallNumber {
        CallNumber(self.0 & ((1 << ATTEMPT_SHIFT) - 1))
    }
}

impl CallGenerator {
    /// The next first attempt, or None once the measurement window is over.
    pub fn next_call(&mut self) -> Option<CallPlan> {
        let gap = exponential(&mut self.arrivals, 1.0 / self.workload.arrival_rate);
        self.clock += SimDuration::from_secs_f64(gap);
        if self.clock >= self.workload.arrivals_end() {
            return None;
        }
        let number = CallNumber(self.next_number);
        self.next_number += 1;
        Some(self.plan(number, self.clock, 0, None))
    }

    /// A redial of a blocked call, if the caller tries again (drawn from the call's own
    /// stream). The redial keeps the caller, callee and mix of the original.
    pub fn redial(&self, blocked: &CallPlan, now: SimTime) -> Option<CallPlan> {
        let spec = self.workload.redial.as_ref()?;
        if blocked.attempt >= spec.max_attempts {
            return None;
        }
        let mut rng = self
            .factory
            .indexed_stream("workload", "redial", blocked.number.0);
        if !bernoulli(&mut rng, spec.probability) {
            return None;
        }
        let attempt = blocked.attempt + 1;
        let first = blocked.number.first_attempt();
        let number = CallNumber(first.0 | (u64::from(attempt) << ATTEMPT_SHIFT));
        let start = now + SimDuration::from_secs_f64(exponential(&mut rng, spec.mean_delay_s));
        let mut plan = self.plan(number, start, attempt, Some(first));
        plan.mix = blocked.mix;
        plan.caller = blocked.caller;
        plan.callee = blocked.callee;
        plan.measured = blocked.measured;
        Some(plan)
    }

    fn plan(
        &self,
        number: CallNumber,
        start: SimTime,
        attempt: u32,
        redial_of: Option<CallNumber>,
    ) -> CallPlan {
        let w = &self.workload;
        let f = &w.features;
        let mut rng = self.factory.indexed_stream("workload", "call", number.0);
        let mix = w.mix_kinds[weighted_index(&mut rng, &w.mix_weights)];
        let caller = pick(&mut rng, &w.populations, mix.caller_kind(), None);
        let callee = pick(&mut rng, &w.populations, mix.callee_kind(), Some(caller));
        let holding = w.holding.sample(&mut rng);
        let ring = |rng: &mut SimRng| {
            SimDuration::from_secs_f64(1.0 + exponential(rng, (f.ring_mean_s - 1.0).max(0.1)))
        };
        let u: f64 = rng.random();
        let callee_action = if u < f.busy {
            CalleeAction::Busy
        } else if u < f.busy + f.decline {
            CalleeAction::Decline
        } else if u < f.busy + f.decline + f.no_answer {
            CalleeAction::NoAnswer
        } else if u < f.busy + f.decline + f.no_answer + f.voicemail {
            CalleeAction::Voicemail {
                ring: ring(&mut rng),
            }
        } else {
            CalleeAction::Answer {
                ring: ring(&mut rng),
            }
        };
        let hold = bernoulli(&mut rng, f.hold).then(|| HoldPlan {
            after: SimDuration::from_secs_f64(rng.random::<f64>() * holding.as_secs_f64() * 0.5),
            duration: SimDuration::from_secs_f64(exponential(&mut rng, f.hold_mean_s)),
        });
        let t: f64 = rng.random();
        let transfer_kind = if t < f.transfer_blind {
            Some(TransferKind::Blind)
        } else if t < f.transfer_blind + f.transfer_consultative {
            Some(TransferKind::Consultative)
        } else {
            None
        };
        let transfer = transfer_kind.map(|kind| TransferPlan {
            kind,
            after: SimDuration::from_secs_f64(rng.random::<f64>() * holding.as_secs_f64() * 0.5),
            target: pick_target(
                &mut rng,
                &w.populations,
                &f.transfer_targets,
                &[caller, callee],
            ),
            target_answers: bernoulli(&mut rng, f.transfer_target_answers),
        });
        let forward = if bernoulli(&mut rng, f.forward) {
            Some(ForwardKind::All)
        } else if callee_action == CalleeAction::Busy && bernoulli(&mut rng, f.forward_busy) {
            Some(ForwardKind::Busy)
        } else {
            None
        }
        .map(|kind| ForwardPlan {
            kind,
            target: pick_target(
                &mut rng,
                &w.populations,
                &f.forward_targets,
                &[caller, callee],
            ),
            target_answers: true,
        });
        let simul_ring = (callee.kind == PopulationKind::EnterpriseVoice
            && bernoulli(&mut rng, f.simul_ring))
        .then(|| SimulRingPlan {
            target: pick_target(
                &mut rng,
                &w.populations,
                &f.simul_ring_targets,
                &[caller, callee],
            ),
            target_answers: bernoulli(&mut rng, f.simul_ring_target_answers),
        });
        let dtmf = bernoulli(&mut rng, f.dtmf).then(|| {
            (0..4)
                .map(|_| char::from(b"0123456789*#"[rng.random_range(0..12)]))
                .collect()
        });
        CallPlan {
            number,
            start,
            mix,
            caller,
            callee,
            callee_action,
            holding,
            abandon_after: SimDuration::from_secs_f64(f.abandon_after_s),
            hold,
            transfer,
            forward,
            simul_ring,
            dtmf,
            measured: start >= SimTime::ZERO + w.warmup && start < w.arrivals_end(),
            attempt,
            redial_of,
        }
    }
}

fn pick(rng: &mut SimRng, pops: &Populations, kind: PopulationKind, not: Option<Party>) -> Party {
    let n = pops.count(kind);
    // Validation guarantees n ≥ 2 when caller and callee share a kind, and n ≥ 1 otherwise.
    loop {
        let party = Party {
            kind,
            index: rng.random_range(0..n.max(1)),
        };
        if Some(party) != not || n < 2 {
            return party;
        }
    }
}

fn pick_target(
    rng: &mut SimRng,
    pops: &Populations,
    weights: &[(PopulationKind, f64)],
    avoid: &[Party],
) -> Party {
    let w: Vec<f64> = weights.iter().map(|(_, w)| *w).collect();
    let kind = weights[weighted_index(rng, &w)].0;
    let n = pops.count(kind);
    for _ in 0..16 {
        let party = Party {
            kind,
            index: rng.random_range(0..n.max(1)),
        };
        if !avoid.contains(&party) {
            return party;
        }
    }
    Party { kind, index: 0 }
}
