//! `vendor`: product models and the behaviour vocabulary.
//!
//! A `vendor-models/*.ron` file (`VendorModel(...)`) declares a product's identity, role and
//! deployments, transports, capabilities, recommended Direct SIP trunk configuration,
//! preconditions, capacity and limitation rules. Rules pick behaviours from the closed
//! [`Behaviour`] vocabulary; each rule carries its limitation ID from the [`catalogue`], a
//! typed [`Trigger`] over the trunk configuration and the call, and a [`Workaround`] that is
//! checked to remove the trigger. The elements layer executes the behaviours on the wire.
//!
//! This layer never schedules, sends or reads a clock: it is data, its loader and validator,
//! and pure queries over it (`active_rules`, `expected_symptoms`, `unmet_preconditions`,
//! `config_conflicts`), and the behaviour engine ([`BehaviourEngine`]): the element a model
//! drives asks it, call by call, what the product does, and runs its SIP filters (egress,
//! ingress, SDP shaping) on the real messages.
//! Invariant: a `VendorModel` handed out by [`parse_model`], [`load_model`],
//! [`builtin_models`] or [`lookup`] has passed every semantic check of `validate.rs`.

mod behaviour;
mod builtin;
mod capacity;
mod catalogue;
mod engine;
mod filter;
mod ids;
mod model;
mod rule;
mod trunk;
mod validate;

pub use behaviour::{Behaviour, HistoryHeader, Tone};
pub use builtin::{builtin_models, builtin_sources, lookup, resolve};
pub use capacity::{Basis, Capacity, Failover, Quantity, SpanKind, Spans};
pub use catalogue::{Catalogue, CatalogueLimitation, CatalogueProduct, catalogue};
pub use engine::{
    Acted, AlternateRouteTimer, BehaviourEngine, DeclineHandling, EarlyMediaHandling,
    HoldRejection, Keepalive, MediaProfile,
};
pub use filter::{
    Egress, HOLD_REFUSED_MUTED, Refusal, has_fqdn_connection, hold_refusal_mutes_client,
};
pub use ids::{LimitationId, LimitationKind, SoftwareVersion, StatusCode};
pub use model::{
    Capabilities, Capability, Codec, ConfigurationNote, Deployment, DeploymentFeature,
    GatewayConfiguration, HeaderPolicy, LineState, Precondition, Role, Scope, Source, SourceKey,
    Support, TransportOption, VendorModel,
};
pub use rule::{
    CallCondition, CallScenario, Direction, Feature, LimitationRule, Party, TransferMode, Trigger,
    WhatIf, Workaround,
};
pub use trunk::{
    ConfigView, ConnectionAddress, EncryptionLevel, LyncServer, LyncSetting, LyncTrunkConfig,
    PartialConfig, PbxKnob, PbxSetting, PbxTrunkConfig, ResponseCodeTranslation, Setting,
    SipTransport, TrunkConfig, Truth, Update,
};

use crate::config::{self, ConfigError, FileKind};
use std::fmt;
use std::path::Path;

/// Errors of the vendor layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model file is malformed or fails validation; every problem, located.
    #[error("{}", Errors(.0))]
    Invalid(Vec<ConfigError>),
    /// No built-in model has this id.
    #[error("unknown vendor model `{id}`")]
    UnknownModel { id: String },
}

struct Errors<'a>(&'a [ConfigError]);

impl fmt::Display for Errors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Parses and validates a model from `text`; `path` names it in errors and its stem must
/// equal the model id.
pub fn parse_model(path: &Path, text: &str) -> Result<VendorModel, Error> {
    let kind = config::detect_kind(path, text).map_err(|e| Error::Invalid(vec![e]))?;
    if kind != FileKind::VendorModel {
        return Err(Error::Invalid(vec![ConfigError::at(
            path,
            1,
            1,
            format!(
                "expected a `VendorModel(...)` file, found `{}(...)`",
                kind.struct_name()
            ),
        )]));
    }
    let model: VendorModel =
        config::from_ron_str(path, text).map_err(|e| Error::Invalid(vec![e]))?;
    let errors = validate::validate(path, text, &model);
    if errors.is_empty() {
        Ok(model)
    } else {
        Err(Error::Invalid(errors))
    }
}

/// Reads, parses and validates a model file.
pub fn load_model(path: &Path) -> Result<VendorModel, Error> {
    let text = config::read_text(path).map_err(|e| Error::Invalid(vec![e]))?;
    parse_model(path, &text)
}

/// What `voicetwin check` runs on a `VendorModel(...)` file: every problem, located.
pub fn check_file(path: &Path, text: &str) -> Result<(), Vec<ConfigError>> {
    match parse_model(path, text) {
        Ok(_) => Ok(()),
        Err(Error::Invalid(errors)) => Err(errors),
        Err(e @ Error::UnknownModel { .. }) => {
            Err(vec![ConfigError::unlocated(path, e.to_string())])
        }
    }
}
