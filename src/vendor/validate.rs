//! Semantic validation of a parsed model: identity against the file name and the catalogue,
//! role and deployments, capabilities against rules, workarounds that really remove their
//! triggers, a recommended configuration the product and server can run, capacities.
//! Every problem is reported (not just the first), located in the file where possible.

use super::behaviour::Behaviour;
use super::capacity::Basis;
use super::catalogue::catalogue;
use super::ids::LimitationKind;
use super::model::{
    Codec, Deployment, DeploymentFeature, GatewayConfiguration, Role, Support, VendorModel,
};
use super::rule::{LimitationRule, Trigger, Workaround};
use super::trunk::{PbxKnob, PbxSetting, Setting};
use crate::config::{ConfigError, line_col};
use std::path::Path;

struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    /// An error at the `nth` (0-based) quoted occurrence of `value`, else at `field:`.
    fn at_value(&mut self, value: &str, nth: usize, field: Option<&str>, msg: String) {
        let needle = format!("\"{value}\"");
        match self.text.match_indices(&needle).nth(nth) {
            Some((offset, _)) => {
                let (line, column) = line_col(self.text, offset);
                self.errors
                    .push(ConfigError::at(self.path, line, column, msg));
            }
            None => self.at_field(field, msg),
        }
    }

    fn at_field(&mut self, field: Option<&str>, msg: String) {
        self.errors.push(ConfigError::semantic(
            self.path, self.text, None, field, msg,
        ));
    }

    /// An error about a rule, located at its ID.
    fn at_rule(&mut self, rule: &LimitationRule, msg: String) {
        let id = rule.id.as_str().to_string();
        self.at_value(&id, 0, Some("limitations"), format!("{id}: {msg}"));
    }
}

/// Validates `model`, read from `path` with contents `text`.
pub(crate) fn validate(path: &Path, text: &str, model: &VendorModel) -> Vec<ConfigError> {
    let mut c = Checker {
        path,
        text,
        errors: Vec::new(),
    };
    identity(&mut c, model);
    deployments(&mut c, model);
    transports_and_codecs(&mut c, model);
    knobs(&mut c, model);
    configuration(&mut c, model);
    capacity(&mut c, model);
    rules(&mut c, model);
    c.errors
}

fn identity(c: &mut Checker, m: &VendorModel) {
    if let Some(stem) = c.path.file_stem().and_then(|s| s.to_str()) {
        // `file_stem` of `x/alcatel-oxe-r9.1.ron` is `alcatel-oxe-r9.1`.
        if stem != m.id {
            c.at_value(
                &m.id,
                0,
                Some("id"),
                format!(
                    "model id `{}` does not match the file name `{stem}.ron`",
                    m.id
                ),
            );
        }
    }
    let Some(p) = catalogue().product(&m.id) else {
        c.at_value(
            &m.id,
            0,
            Some("id"),
            format!("product id `{}` is not in the catalogue", m.id),
        );
        return;
    };
    let fields = [
        ("vendor", &p.vendor, &m.vendor),
        ("product", &p.product, &m.product),
        ("version", &p.version, &m.version),
    ];
    for (field, want, got) in fields {
        if want != got {
            c.at_value(
                got,
                0,
                Some(field),
                format!("{field} `{got}` differs from the catalogue's `{want}`"),
            );
        }
    }
    if p.source != m.source.key {
        c.at_field(
            Some("key"),
            format!(
                "source key {} differs from the catalogue's {}",
                m.source.key, p.source
            ),
        );
    }
    if p.role != m.role {
        c.at_field(
            Some("role"),
            format!(
                "role {:?} differs from the catalogue's {:?}",
                m.role, p.role
            ),
        );
    }
    if m.source.document.trim().is_empty() {
        c.at_field(
            Some("document"),
            "the source document reference is empty".into(),
        );
    }
    if m.tested_versions.windows(2).any(|w| w[0] >= w[1]) {
        c.at_field(
            Some("tested_versions"),
            "tested_versions must be unique and oldest first".into(),
        );
    }
}

fn deployments(c: &mut Checker, m: &VendorModel) {
    if m.deployments.is_empty() {
        c.at_field(
            Some("deployments"),
            "a model supports at least one deployment".into(),
        );
    }
    for (i, d) in m.deployments.iter().enumerate() {
        if m.deployments[..i].contains(d) {
            c.at_field(
                Some("deployments"),
                format!("deployment {d:?} is listed twice"),
            );
        }
        if !d.allowed_for(m.role) {
            c.at_field(
                Some("deployments"),
                format!("deployment {d:?} is not possible for role {:?}", m.role),
            );
        }
    }
    let has = |f: fn(&DeploymentFeature) -> bool| m.deployment_features.iter().any(f);
    let dual = has(|f| matches!(f, DeploymentFeature::DualForking));
    let rcc = has(|f| matches!(f, DeploymentFeature::RemoteCallControl { .. }));
    let hybrid = has(|f| matches!(f, DeploymentFeature::CollocatedMediation { .. }));
    let deploys = |d: Deployment| m.deployments.contains(&d);
    let dual_deploy = deploys(Deployment::DualForking) || deploys(Deployment::DualForkingWithRcc);
    if dual_deploy != dual {
        c.at_field(
            Some("deployment_features"),
            "the DualForking feature and a dual forking deployment go together".into(),
        );
    }
    if deploys(Deployment::DualForkingWithRcc) != rcc {
        c.at_field(
            Some("deployment_features"),
            "the RemoteCallControl feature and the DualForkingWithRcc deployment go together"
                .into(),
        );
    }
    let is_hybrid = m.role == Role::Gateway(GatewayConfiguration::BasicHybrid);
    if is_hybrid != hybrid {
        c.at_field(
            Some("deployment_features"),
            "a Basic Hybrid gateway, and only one, has the CollocatedMediation feature".into(),
        );
    }
    for f in &m.deployment_features {
        if let DeploymentFeature::RemoteCallControl { states } = f
            && states.is_empty()
        {
            c.at_field(
                Some("states"),
                "remote call control reports no line state".into(),
            );
        }
    }
}

fn transports_and_codecs(c: &mut Checker, m: &VendorModel) {
    if m.transports.is_empty() {
        c.at_field(
            Some("transports"),
            "a model offers at least one transport".into(),
        );
    }
    for (i, t) in m.transports.iter().enumerate() {
        if t.pbx_port == 0 || t.lync_port == 0 {
            c.at_field(Some("transports"), format!("{} uses port 0", t.transport));
        }
        if m.transports[..i].iter().any(|u| u.transport == t.transport) {
            c.at_field(
                Some("transports"),
                format!("transport {} is listed twice", t.transport),
            );
        }
        if t.transport == super::trunk::SipTransport::Tls && m.capabilities.tls == Support::No {
            c.at_field(
                Some("transports"),
                "TLS is offered but the capability table says no TLS".into(),
            );
        }
    }
    let codecs = &m.capabilities.codecs;
    if !codecs
        .iter()
        .any(|k| matches!(k, Codec::Pcmu | Codec::Pcma))
    {
        c.at_field(
            Some("codecs"),
            "Direct SIP to the Mediation Server needs G.711 (Pcmu or Pcma)".into(),
        );
    }
    if codecs
        .iter()
        .enumerate()
        .any(|(i, k)| codecs[..i].contains(k))
    {
        c.at_field(Some("codecs"), "a codec is listed twice".into());
    }
    basis(c, &m.capabilities.codecs_basis, "codecs_basis");
}

fn basis(c: &mut Checker, b: &Basis, field: &str) {
    if !matches!(b, Basis::Seed) && b.text().trim().is_empty() {
        c.at_field(
            Some(field),
            "a data sheet must be named and an assumption must give its reason".into(),
        );
    }
}

/// Every setting the model mentions, with where.
fn mentioned_settings(m: &VendorModel) -> Vec<(&Setting, &'static str)> {
    let mut out: Vec<(&Setting, &'static str)> = Vec::new();
    for n in &m.configuration {
        out.extend(n.set.iter().map(|s| (s, "configuration")));
    }
    for p in &m.preconditions {
        out.extend(p.requires.iter().map(|s| (s, "preconditions")));
        if let super::model::Scope::When(s) = &p.scope {
            out.push((s, "preconditions"));
        }
    }
    for r in &m.limitations {
        out.extend(r.trigger.settings().into_iter().map(|s| (s, "trigger")));
        if let Workaround::Configure { set, .. } = &r.workaround {
            out.extend(set.iter().map(|s| (s, "workaround")));
        }
        if let Some(w) = r.workaround.what_if() {
            out.extend(w.set.iter().map(|s| (s, "what_if")));
        }
    }
    out
}

fn knobs(c: &mut Checker, m: &VendorModel) {
    for (s, field) in mentioned_settings(m) {
        if let Setting::Pbx(p) = s {
            let knob = p.knob();
            if knob == PbxKnob::Version {
                if m.tested_versions.is_empty() {
                    c.at_field(
                        Some(field),
                        "a PBX version is used but the model lists no tested_versions".into(),
                    );
                }
            } else if !m.pbx_knobs.contains(&knob) {
                c.at_field(
                    Some(field),
                    format!("PBX knob {knob:?} is used but not declared in pbx_knobs"),
                );
            }
        }
    }
    for r in &m.limitations {
        let mut stack = vec![&r.trigger];
        while let Some(t) = stack.pop() {
            match t {
                Trigger::Below(s) if !s.is_ordered() => c.at_rule(
                    r,
                    format!("`Below` needs an ordered knob (a timer or the version), not {s}"),
                ),
                Trigger::All(ts) | Trigger::Any(ts) => stack.extend(ts),
                Trigger::Not(t) => stack.push(t),
                _ => {}
            }
        }
    }
}

fn configuration(c: &mut Checker, m: &VendorModel) {
    let all: Vec<&Setting> = m.configuration.iter().flat_map(|n| &n.set).collect();
    for (i, s) in all.iter().enumerate() {
        if all[..i].iter().any(|t| t.same_knob(s) && t != s) {
            c.at_field(
                Some("configuration"),
                format!("the configuration notes set the knob of `{s}` to different values"),
            );
        }
    }
    for n in &m.configuration {
        if n.text.trim().is_empty() {
            c.at_field(
                Some("configuration"),
                "a configuration note has no text".into(),
            );
        }
        basis(c, &n.basis, "configuration");
    }
    let recommended = m.recommended_config();
    for problem in m.config_conflicts(&recommended) {
        c.at_field(
            Some("configuration"),
            format!("the recommended configuration cannot work: {problem}"),
        );
    }
    for p in &m.preconditions {
        if p.requires.is_empty() {
            c.at_field(
                Some("preconditions"),
                "a precondition requires nothing".into(),
            );
        }
    }
    for d in &m.deployments {
        for p in m.unmet_preconditions(&recommended, *d) {
            c.at_field(
                Some("preconditions"),
                format!(
                    "the recommended configuration does not meet the precondition \"{}\" in {d:?}",
                    p.note
                ),
            );
        }
    }
}

fn capacity(c: &mut Checker, m: &VendorModel) {
    let cap = &m.capacity;
    basis(c, &cap.spans.basis, "spans");
    basis(c, &cap.concurrent_calls.basis, "concurrent_calls");
    if let Some(t) = &cap.transcoding_sessions {
        basis(c, &t.basis, "transcoding_sessions");
    }
    basis(c, &m.failover.basis, "failover");
    if m.is_gateway() && cap.concurrent_calls.value.get() > cap.spans.b_channels() {
        c.at_field(
            Some("concurrent_calls"),
            format!(
                "a gateway cannot carry {} concurrent calls on {} B-channels",
                cap.concurrent_calls.value,
                cap.spans.b_channels()
            ),
        );
    }
    for f in &m.deployment_features {
        if let DeploymentFeature::CollocatedMediation { concurrent_calls } = f {
            basis(c, &concurrent_calls.basis, "concurrent_calls");
        }
    }
    for t in &m.transports {
        basis(c, &t.basis, "transports");
    }
}

fn rules(c: &mut Checker, m: &VendorModel) {
    let cat = catalogue();
    for (i, r) in m.limitations.iter().enumerate() {
        if m.limitations[..i].iter().any(|q| q.id == r.id) {
            let id = r.id.to_string();
            c.at_value(
                &id,
                1,
                Some("limitations"),
                format!("{id}: the ID is used twice"),
            );
        }
        match cat.limitation(r.id.as_str()) {
            None => c.at_rule(r, "the ID is not in the catalogue".into()),
            Some(l) if l.product != m.id => {
                c.at_rule(r, format!("the catalogue gives this ID to `{}`", l.product))
            }
            Some(_) => {}
        }
        let prefix = cat.product(&m.id).and_then(|p| p.id_prefix.as_deref());
        if prefix != Some(r.id.prefix()) {
            c.at_rule(
                r,
                format!("the ID's prefix does not match the product's prefix {prefix:?}"),
            );
        }
        if r.id.kind() == LimitationKind::Configuration {
            configuration_rule(c, m, r);
        }
        if r.source != m.source.key {
            c.at_rule(
                r,
                format!(
                    "source {} differs from the model's {}",
                    r.source, m.source.key
                ),
            );
        }
        rule_body(c, m, r);
    }
    for l in cat.limitations_of(&m.id) {
        if m.rule(l.id.as_str()).is_none() {
            c.at_field(
                Some("limitations"),
                format!("catalogue limitation {} has no rule in this model", l.id),
            );
        }
    }
}

/// A `-C` ID documents a configuration note: its workaround is a configuration change that
/// the model's configuration notes already make, so the recommended trunk is free of it.
fn configuration_rule(c: &mut Checker, m: &VendorModel, r: &LimitationRule) {
    let noted: Vec<&Setting> = m.configuration.iter().flat_map(|n| &n.set).collect();
    match &r.workaround {
        Workaround::Configure { set, .. } if set.iter().all(|s| noted.contains(&s)) => {}
        _ => c.at_rule(
            r,
            "a configuration-note ID (-C) needs a Configure workaround made of settings from the configuration notes".into(),
        ),
    }
}

fn rule_body(c: &mut Checker, m: &VendorModel, r: &LimitationRule) {
    if r.symptom.trim().is_empty() {
        c.at_rule(r, "the symptom is empty".into());
    }
    if r.behaviours.is_empty() {
        c.at_rule(r, "a rule needs at least one behaviour".into());
    }
    for b in &r.behaviours {
        if let Some(problem) = behaviour_problem(b, m) {
            c.at_rule(r, problem);
        }
        if !r.trigger.is_version_specific() {
            for cap in b.denied_capabilities() {
                if m.capabilities.support(cap) != Support::No {
                    c.at_rule(
                        r,
                        format!(
                            "behaviour {} needs capability {cap:?} to be `No` in the table",
                            b.name()
                        ),
                    );
                }
            }
        }
    }
    let base = m.recommended_config();
    match &r.workaround {
        Workaround::Configure { set, note } => {
            if set.is_empty() || note.trim().is_empty() {
                c.at_rule(r, "a Configure workaround needs settings and a note".into());
            } else if !r.removed_by(set, &base) {
                c.at_rule(
                    r,
                    "the workaround does not remove the trigger: some configuration or call still triggers it".into(),
                );
            }
        }
        Workaround::Upgrade { to, note } => {
            let newer = m.tested_versions.last().is_some_and(|v| v < to);
            if !newer || note.trim().is_empty() {
                c.at_rule(
                    r,
                    format!(
                        "an upgrade to {to} must be newer than the newest tested version and have a note"
                    ),
                );
            }
            let set = [Setting::Pbx(PbxSetting::Version(to.clone()))];
            if !r.removed_by(&set, &base) {
                c.at_rule(r, format!("upgrading to {to} does not remove the trigger"));
            }
        }
        Workaround::None { reason, what_if } => {
            if reason.trim().is_empty() {
                c.at_rule(r, "say why there is no workaround".into());
            }
            if let Some(w) = what_if
                && !r.removed_by(&w.set, &base)
            {
                c.at_rule(r, "the what-if changes nothing: it neither removes the trigger nor neutralizes the behaviour".into());
            }
        }
    }
}

fn behaviour_problem(b: &Behaviour, m: &VendorModel) -> Option<String> {
    let error = |code: super::ids::StatusCode| code.get() < 400;
    match b {
        Behaviour::HoldFails { response, .. }
        | Behaviour::NoIsdnFailover { response }
        | Behaviour::HistoryInfoBreaksPriForwarding { response }
        | Behaviour::FqdnConnectionAddressUnsupported { response }
            if error(*response) =>
        {
            Some(format!(
                "{} must answer with an error (4xx-6xx), not {response}",
                b.name()
            ))
        }
        Behaviour::WrongFailoverCode { sent, instead_of } => {
            if sent == instead_of || error(*sent) || error(*instead_of) {
                Some(format!(
                    "wrong-failover-code needs two different error codes, got {sent} and {instead_of}"
                ))
            } else if *instead_of != m.failover.span_down_response {
                Some(format!(
                    "wrong-failover-code replaces {instead_of}, but the failover profile's span-down response is {}",
                    m.failover.span_down_response
                ))
            } else {
                None
            }
        }
        Behaviour::HistoryHeadersDropped { headers } if headers.is_empty() => {
            Some("history-headers-dropped names no header".into())
        }
        Behaviour::VoicemailAudioCut { audio_ms: 0 } => {
            Some("voicemail-audio-cut needs some audio before the cut".into())
        }
        Behaviour::AlternateRouteTimerExpiry
            if !m.pbx_knobs.contains(&PbxKnob::AlternateRouteTimer) =>
        {
            Some("alternate-route-timer-expiry needs the AlternateRouteTimer PBX knob".into())
        }
        _ => None,
    }
}
