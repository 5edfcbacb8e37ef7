//! Routing: where a number goes from the PBX, and which party a number is.

use super::{DualForking, Pbx};
use crate::elements::numbering::NumberKind;
use crate::vendor::Party;

/// Where the PBX sends a call for a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// One of its extensions.
    Phone(String),
    /// An extension that rings its phone and the Lync client at once.
    DualFork(String),
    /// A hunt group pilot (index in the station table's groups).
    Hunt(usize),
    /// The PBX's own voicemail.
    Voicemail,
    /// The Direct SIP trunk to Lync.
    Lync,
    /// The PRI trunk groups toward the PSTN.
    Pri,
    /// The SIP trunk toward a provider.
    Provider,
}

impl Pbx {
    /// Whether `number` is one of this PBX's extensions.
    pub(crate) fn hosts_extension(&self, number: &str) -> bool {
        self.setup
            .plan
            .lookup(number)
            .is_some_and(|(r, _)| r.kind == NumberKind::Pbx && r.element == self.setup.name)
    }

    /// The route of a dialled number (E.164).
    pub(crate) fn route(&self, number: &str) -> Route {
        if self.setup.voicemail.as_deref() == Some(number) {
            return Route::Voicemail;
        }
        if let Some(i) = self
            .stations
            .hunt_groups
            .iter()
            .position(|g| g.pilot == number)
        {
            return Route::Hunt(i);
        }
        if self.hosts_extension(number) {
            let dual = match &self.setup.dual_forking {
                DualForking::None => false,
                DualForking::All => true,
                DualForking::Numbers(n) => n.contains(number),
            };
            return if dual {
                Route::DualFork(number.to_string())
            } else {
                Route::Phone(number.to_string())
            };
        }
        if party_in(&self.setup.plan, number) == Party::Lync {
            // Enterprise Voice users and the service numbers of other elements (Exchange UM,
            // auto-attendants) are on Lync.
            Route::Lync
        } else {
            self.pstn_route()
        }
    }

    /// The way to the PSTN: the PRI, else the provider trunk, else through Lync's gateways.
    pub(crate) fn pstn_route(&self) -> Route {
        if !self.setup.pri.is_empty() {
            Route::Pri
        } else if self.setup.provider.is_some() {
            Route::Provider
        } else {
            Route::Lync
        }
    }

    /// Which party a number is, as the behaviour rules name parties.
    pub(crate) fn party(&self, number: &str) -> Party {
        party_in(&self.setup.plan, number)
    }
}

/// Which party a number is in a number plan (a free function so call-state code can
/// borrow the plan alone).
/// A service number hosted by the element that hosts PSTN numbers (an IVR on the PSTN) is
/// a PSTN party.
pub(crate) fn party_in(plan: &crate::elements::numbering::NumberPlan, number: &str) -> Party {
    let on_pstn = |element: &str| {
        plan.ranges
            .iter()
            .any(|r| r.kind == NumberKind::Pstn && r.element == element)
    };
    if let Some((r, _)) = plan.lookup(number) {
        if r.kind == NumberKind::Service && on_pstn(&r.element) {
            return Party::Pstn;
        }
    }
    match plan.lookup(number).map(|(r, _)| r.kind) {
        Some(NumberKind::EnterpriseVoice) | Some(NumberKind::Service) => Party::Lync,
        Some(NumberKind::Pbx) => Party::Pbx,
        _ => Party::Pstn,
    }
}
