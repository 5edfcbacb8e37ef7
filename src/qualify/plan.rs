//! Running the plan: for each deployment of the model and each case, the baseline run under
//! the recommended configuration, then trigger and what-if variants.

use super::judge::{Observed, Symptom, judge, rule_symptoms};
use super::rig::{Rig, RigSpec};
use super::{CaseResult, Report, Verdict};
use crate::vendor::{
    CallScenario, Deployment, LimitationRule, Role, Setting, Trigger, TrunkConfig, VendorModel,
};

/// The seed of every rig: qualification is deterministic.
const SEED: u64 = 7;

/// What a case sees: the model, the deployment and the trunk configuration it runs under.
pub(crate) struct Ctx<'a> {
    pub model: &'a VendorModel,
    pub deployment: Deployment,
    pub config: TrunkConfig,
}

impl Ctx<'_> {
    pub fn is_gateway(&self) -> bool {
        self.model.is_gateway()
    }

    /// Builds the rig; `f` adjusts the spec.
    pub fn rig(&self, f: impl FnOnce(&mut RigSpec<'_>)) -> Result<Rig, String> {
        let mut spec = RigSpec {
            model: self.model,
            deployment: self.deployment,
            config: self.config.clone(),
            spans: 2,
            provider: false,
            alternate_route: false,
        };
        f(&mut spec);
        spec.build(SEED)
    }
}

/// One case of the plan.
pub(crate) struct Case {
    pub name: &'static str,
    pub area: &'static str,
    /// Settings the case needs on top of the recommended configuration.
    pub settings: fn(&VendorModel) -> Vec<Setting>,
    /// `Err(reason)` when the case does not apply.
    pub applies: fn(&Ctx<'_>) -> Result<(), String>,
    /// The calls the case places, as limitation triggers see them.
    pub calls: fn(&Ctx<'_>) -> Vec<CallScenario>,
    /// The symptoms the case looks for.
    pub checks: &'static [Symptom],
    pub run: fn(&Ctx<'_>) -> Result<Observed, String>,
}

pub(crate) fn none(_: &VendorModel) -> Vec<Setting> {
    Vec::new()
}

pub(crate) fn always(_: &Ctx<'_>) -> Result<(), String> {
    Ok(())
}

/// The deployments the plan runs for a model, with their labels.
fn deployments(model: &VendorModel) -> Vec<(Deployment, String)> {
    match model.role {
        Role::IpPbx => model
            .deployments
            .iter()
            .filter(|d| {
                matches!(
                    d,
                    Deployment::IncrementalBehindPbx
                        | Deployment::DualForking
                        | Deployment::DualForkingWithRcc
                )
            })
            .map(|d| (*d, format!("{d:?}")))
            .collect(),
        Role::Gateway(c) => vec![(
            Deployment::DirectSipViaGateway,
            format!("DirectSipViaGateway/{c:?}"),
        )],
    }
}

/// Applies the settings of unmet preconditions (e.g. TLS+SRTP when MX-ONE runs bypass).
fn fixup(model: &VendorModel, mut config: TrunkConfig, deployment: Deployment) -> TrunkConfig {
    for _ in 0..3 {
        let unmet: Vec<Setting> = model
            .unmet_preconditions(&config, deployment)
            .iter()
            .flat_map(|p| p.requires.clone())
            .collect();
        if unmet.is_empty() {
            break;
        }
        config = config.with(&unmet);
    }
    config
}

/// The `Is` settings a trigger needs to hold (outside any `Not`).
fn positive_settings(t: &Trigger, out: &mut Vec<Setting>) {
    match t {
        Trigger::Is(s) => out.push(s.clone()),
        Trigger::All(ts) | Trigger::Any(ts) => ts.iter().for_each(|t| positive_settings(t, out)),
        _ => {}
    }
}

/// Rules whose symptom the case's calls should show under `config`, among those it checks.
fn expected<'m>(case: &Case, ctx: &Ctx<'_>, model: &'m VendorModel) -> Vec<&'m LimitationRule> {
    let calls = (case.calls)(ctx);
    model
        .limitations
        .iter()
        .filter(|r| {
            calls.iter().any(|c| r.symptom_expected(&ctx.config, c))
                && rule_symptoms(r).iter().any(|s| case.checks.contains(s))
        })
        .collect()
}

fn run_one(case: &Case, name: String, label: &str, ctx: &Ctx<'_>) -> CaseResult {
    let na = |detail: String| CaseResult {
        case: name.clone(),
        area: case.area,
        deployment: label.to_string(),
        result: Verdict::NotApplicable,
        limitation_ids: Vec::new(),
        detail,
    };
    if let Some(c) = ctx.model.config_conflicts(&ctx.config).first() {
        return na(format!("configuration not possible: {c}"));
    }
    if let Err(reason) = (case.applies)(ctx) {
        return na(reason);
    }
    let want = expected(case, ctx, ctx.model);
    match (case.run)(ctx) {
        Ok(observed) => judge(name, case.area, label.to_string(), &observed, &want),
        Err(e) => CaseResult {
            case: name,
            area: case.area,
            deployment: label.to_string(),
            result: Verdict::Fail,
            limitation_ids: want.iter().map(|r| r.id.as_str().to_string()).collect(),
            detail: format!("the deployment does not build: {e}"),
        },
    }
}

fn describe(settings: &[Setting]) -> String {
    settings
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn run_case(
    case: &Case,
    model: &VendorModel,
    deployment: Deployment,
    label: &str,
) -> Vec<CaseResult> {
    let extra = (case.settings)(model);
    let base = fixup(model, model.recommended_config().with(&extra), deployment);
    let ctx = Ctx {
        model,
        deployment,
        config: base.clone(),
    };
    let mut out = vec![run_one(case, case.name.to_string(), label, &ctx)];
    if out[0].result == Verdict::NotApplicable && (case.applies)(&ctx).is_err() {
        return out;
    }
    let baseline_expected: Vec<&LimitationRule> = expected(case, &ctx, model);
    // Trigger variants: rules the recommended configuration keeps quiet.
    for rule in &model.limitations {
        if baseline_expected.iter().any(|r| r.id == rule.id)
            || !rule_symptoms(rule).iter().any(|s| case.checks.contains(s))
        {
            continue;
        }
        let mut pos = Vec::new();
        positive_settings(&rule.trigger, &mut pos);
        let candidates = [
            (base.clone().with(&pos), describe(&pos)),
            (
                model.factory_config().with(&extra).with(&pos),
                "factory defaults".to_string(),
            ),
        ];
        for (config, what) in candidates {
            let config = fixup(model, config, deployment);
            let vctx = Ctx {
                model,
                deployment,
                config,
            };
            let calls = (case.calls)(&vctx);
            if model.config_conflicts(&vctx.config).is_empty()
                && calls.iter().any(|c| rule.symptom_expected(&vctx.config, c))
            {
                let name = format!("{} [trigger: {what}]", case.name);
                if !out.iter().any(|r| r.case == name) {
                    out.push(run_one(case, name, label, &vctx));
                }
                break;
            }
        }
    }
    // What-if variants of the expected rules.
    for rule in &baseline_expected {
        if let Some(w) = rule.workaround.what_if() {
            let vctx = Ctx {
                model,
                deployment,
                config: fixup(model, base.clone().with(&w.set), deployment),
            };
            let name = format!("{} [what-if: {}]", case.name, describe(&w.set));
            out.push(run_one(case, name, label, &vctx));
        }
    }
    out
}

/// Runs the whole plan against `model`.
pub fn qualify(model: &VendorModel) -> Report {
    let mut cases = Vec::new();
    let plan = super::cases::plan();
    for (deployment, label) in deployments(model) {
        for case in &plan {
            cases.extend(run_case(case, model, deployment, &label));
        }
    }
    let role = match model.role {
        Role::IpPbx => "IpPbx".to_string(),
        Role::Gateway(c) => format!("{c:?}"),
    };
    Report {
        model: model.id.clone(),
        vendor: model.vendor.clone(),
        product: model.product.clone(),
        version: model.version.clone(),
        source: model.source.key.as_str().to_string(),
        role,
        deployments: deployments(model).into_iter().map(|d| d.1).collect(),
        ok: cases.iter().all(|c| c.result.as_expected()),
        cases,
    }
}

/// Runs the plan against every model, in parallel; the order of `models` is kept.
pub fn qualify_all(models: &[VendorModel]) -> Vec<Report> {
    use rayon::prelude::*;
    models.par_iter().map(qualify).collect()
}
