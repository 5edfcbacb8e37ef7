//! `vendor`: product models and the behaviour engine.
//!
//! A `vendor-models/*.ron` file declares a product's identity, capabilities, defaults and
//! limitation rules. Rules come from a closed, typed vocabulary of behaviours, each
//! implemented once here and acting on the real SIP/RTP of the element the model drives.
//! Every rule carries its limitation ID from the catalogue.
