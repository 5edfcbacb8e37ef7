//! The catalogue: every product id and every limitation ID voicetwin models, embedded from
//! `catalogue.ron`. Model validation checks each model against it, and the regression-test
//! audit lists the IDs that no test name covers.

use super::ids::LimitationId;
use super::model::{Role, SourceKey};
use serde::Deserialize;
use std::path::Path;
use std::sync::OnceLock;

const CATALOGUE_RON: &str = include_str!("catalogue.ron");

/// One product of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueProduct {
    pub id: String,
    pub vendor: String,
    pub product: String,
    pub version: String,
    pub source: SourceKey,
    pub role: Role,
    /// The prefix of the product's limitation IDs, when it has any.
    pub id_prefix: Option<String>,
}

/// One limitation ID of the catalogue, with our own one-line summary.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueLimitation {
    pub id: LimitationId,
    pub product: String,
    pub source: SourceKey,
    pub symptom: String,
    pub workaround: String,
}

/// Products and limitation IDs.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub products: Vec<CatalogueProduct>,
    pub limitations: Vec<CatalogueLimitation>,
}

impl Catalogue {
    pub fn product(&self, id: &str) -> Option<&CatalogueProduct> {
        self.products.iter().find(|p| p.id == id)
    }

    pub fn limitation(&self, id: &str) -> Option<&CatalogueLimitation> {
        self.limitations.iter().find(|l| l.id.as_str() == id)
    }

    /// The limitations of one product, in catalogue order.
    pub fn limitations_of<'a>(
        &'a self,
        product: &'a str,
    ) -> impl Iterator<Item = &'a CatalogueLimitation> + 'a {
        self.limitations
            .iter()
            .filter(move |l| l.product == product)
    }

    /// Every limitation ID, in catalogue order.
    pub fn limitation_ids(&self) -> impl Iterator<Item = &LimitationId> {
        self.limitations.iter().map(|l| &l.id)
    }

    /// The IDs that no name in `test_names` covers: a test covers an ID when its name
    /// contains [`LimitationId::test_token`] (e.g. `oxe_l6_502_blocks_failover`).
    pub fn ids_without_test<'a, S: AsRef<str>>(
        &'a self,
        test_names: &[S],
    ) -> Vec<&'a LimitationId> {
        self.limitation_ids()
            .filter(|id| {
                let token = id.test_token();
                !test_names.iter().any(|n| covers(n.as_ref(), &token))
            })
            .collect()
    }

    /// Internal consistency: unique ids, limitations naming known products with the same
    /// source, IDs carrying their product's prefix.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, p) in self.products.iter().enumerate() {
            if self.products[..i].iter().any(|q| q.id == p.id) {
                out.push(format!("product `{}` is listed twice", p.id));
            }
        }
        for (i, l) in self.limitations.iter().enumerate() {
            if self.limitations[..i].iter().any(|m| m.id == l.id) {
                out.push(format!("limitation `{}` is listed twice", l.id));
            }
            match self.product(&l.product) {
                None => out.push(format!(
                    "limitation `{}` names unknown product `{}`",
                    l.id, l.product
                )),
                Some(p) => {
                    if p.source != l.source {
                        out.push(format!(
                            "limitation `{}` has source {} but its product has {}",
                            l.id, l.source, p.source
                        ));
                    }
                    if p.id_prefix.as_deref() != Some(l.id.prefix()) {
                        out.push(format!(
                            "limitation `{}` does not carry product `{}`'s prefix {:?}",
                            l.id, p.id, p.id_prefix
                        ));
                    }
                }
            }
        }
        out
    }
}

/// True when `name` contains `token` bounded by `_` or the ends, so `cu4x_l1` does not
/// cover `cu4x_l10` and `mx_l1` does not match inside `xmx_l1`.
fn covers(name: &str, token: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.match_indices(token).any(|(i, _)| {
        let before_ok = i == 0 || !name[..i].ends_with(|c: char| c.is_ascii_alphanumeric());
        let after = &name[i + token.len()..];
        let after_ok = after.is_empty() || !after.starts_with(|c: char| c.is_ascii_digit());
        before_ok && after_ok
    })
}

/// The embedded catalogue.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        // Invariant: `catalogue.ron` is compiled in, and the unit test
        // `embedded_catalogue_parses_and_is_consistent` parses and checks it.
        crate::config::from_ron_str(Path::new("src/vendor/catalogue.ron"), CATALOGUE_RON)
            .expect("the embedded catalogue parses")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_parses_and_is_consistent() {
        let c = catalogue();
        assert_eq!(c.problems(), Vec::<String>::new());
        let pbxs = c.products.iter().filter(|p| p.role == Role::IpPbx).count();
        assert_eq!(pbxs, 15, "15 IP-PBXs in VENDORS.md");
        assert_eq!(c.products.len() - pbxs, 18, "18 gateways in VENDORS.md");
        assert_eq!(c.limitations.len(), 41);
        assert!(c.limitation("OXE-L6").is_some());
        assert_eq!(c.limitations_of("aastra-mx-one-4.1").count(), 4);
    }

    #[test]
    fn test_audit_matches_whole_tokens() {
        assert!(covers("oxe_l6_502_blocks_failover", "oxe_l6"));
        assert!(covers("regression::oxe_l6", "oxe_l6"));
        assert!(!covers("cu4x_l10_x", "cu4x_l1"));
        assert!(!covers("xmx_l1", "mx_l1"));
        let c = catalogue();
        let missing = c.ids_without_test(&["oxe_l6_502_blocks_failover", "mx_l4_no_dtmf"]);
        assert_eq!(missing.len(), 39);
        assert!(!missing.iter().any(|id| id.as_str() == "OXE-L6"));
    }
}
