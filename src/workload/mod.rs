//! `workload`: who calls whom, and when.
//!
//! User populations, Poisson arrivals at a busy-hour rate or an offered load in Erlangs,
//! holding-time distributions (exponential, lognormal, fixed), the call-mix matrix and
//! per-call feature probabilities. The output is a stream of [`CallPlan`]s in arrival order:
//! what both parties intend. What actually happens is up to the elements.
//!
//! Arrival times come from the `workload/arrivals` stream and each call's details from a
//! stream indexed by its number, so changing a feature probability never shifts arrivals.
//! Samplers use `libm`, not the platform's maths library.

mod generator;
mod plan;
mod sample;
mod spec;

pub use generator::{CallGenerator, Holding, Populations, Workload, WorkloadError};
pub use plan::{
    CallNumber, CallPlan, CalleeAction, ForwardKind, ForwardPlan, HoldPlan, Party, SimulRingPlan,
    TransferKind, TransferPlan,
};
pub use sample::{bernoulli, exponential, lognormal, weighted_index};
pub use spec::{
    CallMix, FeatureSpec, HoldingSpec, LoadSpec, PopulationKind, RedialSpec, WorkloadSpec,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RngFactory, SimTime};

    fn spec() -> WorkloadSpec {
        WorkloadSpec {
            load: LoadSpec::OfferedErlangs(20.0),
            load_factor: 1.0,
            holding: HoldingSpec::Exponential { mean_s: 180.0 },
            mix: vec![
                (CallMix::LyncToPstn, 3.0),
                (CallMix::PstnToLync, 1.0),
                (CallMix::PbxToLync, 1.0),
            ],
            features: FeatureSpec {
                busy: 0.1,
                hold: 0.2,
                ..FeatureSpec::default()
            },
            redial: None,
            warmup_s: 600.0,
            measure_s: 3600.0,
        }
    }

    fn pops() -> Populations {
        Populations {
            enterprise_voice: 100,
            pbx: 300,
            pstn: 10_000,
        }
    }

    #[test]
    fn offered_load_and_poisson_count() {
        let w = spec().validate(pops()).unwrap();
        assert!((w.offered_erlangs() - 20.0).abs() < 1e-9);
        let mut g = w.generator(&RngFactory::new(9));
        let plans: Vec<CallPlan> = std::iter::from_fn(|| g.next_call()).collect();
        // Expected count λT = 20/180 × 4200 = 466.7; Poisson sd ≈ 21.6; 4 sd bound.
        let expected = 20.0 / 180.0 * 4200.0;
        assert!(
            (plans.len() as f64 - expected).abs() < 4.0 * expected.sqrt(),
            "{}",
            plans.len()
        );
        assert!(plans.windows(2).all(|p| p[0].start <= p[1].start));
        let measured = plans.iter().filter(|p| p.measured).count() as f64;
        assert!((measured / plans.len() as f64 - 3600.0 / 4200.0).abs() < 0.06);
        assert!(plans.iter().all(|p| p.start < SimTime::from_secs(4200)));
    }

    #[test]
    fn plans_are_deterministic_and_features_do_not_shift_arrivals() {
        let w = spec().validate(pops()).unwrap();
        let starts = |w: &Workload, seed| {
            let mut g = w.generator(&RngFactory::new(seed));
            std::iter::from_fn(|| g.next_call())
                .map(|p| p.start)
                .collect::<Vec<_>>()
        };
        assert_eq!(starts(&w, 1), starts(&w, 1));
        assert_ne!(starts(&w, 1), starts(&w, 2));
        let mut other = spec();
        other.features.hold = 0.9;
        other.features.decline = 0.3;
        let w2 = other.validate(pops()).unwrap();
        assert_eq!(starts(&w, 1), starts(&w2, 1));
    }

    #[test]
    fn mix_and_features_follow_their_probabilities() {
        let mut s = spec();
        s.measure_s = 200_000.0;
        let w = s.validate(pops()).unwrap();
        let mut g = w.generator(&RngFactory::new(4));
        let plans: Vec<CallPlan> = std::iter::from_fn(|| g.next_call()).collect();
        let n = plans.len() as f64;
        let share = plans
            .iter()
            .filter(|p| p.mix == CallMix::LyncToPstn)
            .count() as f64
            / n;
        let busy = plans
            .iter()
            .filter(|p| p.callee_action == CalleeAction::Busy)
            .count() as f64
            / n;
        // n ≈ 22k: binomial SE ≤ 0.0034; bounds at about 4 SE.
        assert!((share - 0.6).abs() < 0.015, "share {share}");
        assert!((busy - 0.1).abs() < 0.01, "busy {busy}");
        for p in &plans {
            assert_eq!(p.caller.kind, p.mix.caller_kind());
            assert_eq!(p.callee.kind, p.mix.callee_kind());
        }
    }

    #[test]
    fn pbx_kinds_fold_into_lync_for_voip_only() {
        let w = spec()
            .validate(Populations {
                enterprise_voice: 400,
                pbx: 0,
                pstn: 10_000,
            })
            .unwrap();
        let shares = w.mix_shares();
        assert!(
            shares
                .iter()
                .all(|(k, _)| k.caller_kind() != PopulationKind::Pbx
                    && k.callee_kind() != PopulationKind::Pbx)
        );
        let lync_lync = shares
            .iter()
            .find(|(k, _)| *k == CallMix::LyncToLync)
            .unwrap()
            .1;
        assert!((lync_lync - 0.2).abs() < 1e-12);
    }

    #[test]
    fn invalid_values_name_their_field() {
        let mut s = spec();
        s.features.busy = 1.5;
        assert_eq!(
            s.validate(pops()).unwrap_err().field,
            "workload.features.busy"
        );
        let mut s = spec();
        s.holding = HoldingSpec::Exponential { mean_s: f64::NAN };
        assert_eq!(
            s.validate(pops()).unwrap_err().field,
            "workload.holding.mean_s"
        );
        let mut s = spec();
        s.mix = vec![(CallMix::PbxToPbx, 1.0)];
        let e = s
            .validate(Populations {
                enterprise_voice: 1,
                pbx: 1,
                pstn: 0,
            })
            .unwrap_err();
        assert!(e.message.contains("pbx-pbx needs 2"), "{e}");
    }

    #[test]
    fn redials_keep_parties_and_stop_after_max_attempts() {
        let mut s = spec();
        s.redial = Some(RedialSpec {
            probability: 1.0,
            mean_delay_s: 10.0,
            max_attempts: 2,
        });
        let w = s.validate(pops()).unwrap();
        let mut g = w.generator(&RngFactory::new(5));
        let first = g.next_call().unwrap();
        let r1 = g.redial(&first, first.start).unwrap();
        assert_eq!(
            (r1.caller, r1.callee, r1.attempt),
            (first.caller, first.callee, 1)
        );
        assert_eq!(r1.number.first_attempt(), first.number);
        assert!(r1.start > first.start);
        let r2 = g.redial(&r1, r1.start).unwrap();
        assert_eq!(r2.attempt, 2);
        assert!(g.redial(&r2, r2.start).is_none());
    }
}
