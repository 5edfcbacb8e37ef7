//! Validated scalar types used by model files: limitation IDs, SIP status codes and product
//! software versions. Each deserializes from its RON literal through `TryFrom`, so a bad
//! value is a located deserialization error, and code above never checks it again.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// Whether a limitation ID names a configuration note (`-C`) or a known limitation (`-L`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LimitationKind {
    /// A configuration note of the source whose violation breaks calls (e.g. `AV61-C1`).
    Configuration,
    /// A known limitation listed by the source (e.g. `OXE-L6`).
    Known,
}

/// A limitation ID such as `OXE-L6` or `CU4x-C1`: a product prefix of ASCII letters and
/// digits, a dash, `C` or `L`, and a number from 1.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LimitationId(String);

impl LimitationId {
    /// Parses and validates an ID.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (prefix, rest) = text
            .split_once('-')
            .ok_or_else(|| format!("limitation ID `{text}` has no `-`: expected e.g. `OXE-L6`"))?;
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "limitation ID `{text}`: the prefix must be ASCII letters and digits"
            ));
        }
        if !prefix.starts_with(|c: char| c.is_ascii_uppercase()) {
            return Err(format!(
                "limitation ID `{text}`: the prefix must start with an upper-case letter"
            ));
        }
        let number = rest
            .strip_prefix('C')
            .or_else(|| rest.strip_prefix('L'))
            .ok_or_else(|| {
                format!("limitation ID `{text}`: expected `C` (configuration) or `L` (limitation) after the dash")
            })?;
        let valid_number = !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit())
            && !number.starts_with('0');
        if !valid_number {
            return Err(format!(
                "limitation ID `{text}`: expected a number from 1 after `C`/`L`"
            ));
        }
        Ok(LimitationId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The product prefix, e.g. `OXE` for `OXE-L6`.
    pub fn prefix(&self) -> &str {
        // Invariant: `parse` accepted only IDs containing a dash.
        self.0.split_once('-').map_or(self.0.as_str(), |(p, _)| p)
    }

    /// Configuration note or known limitation.
    pub fn kind(&self) -> LimitationKind {
        if self.0[self.prefix().len() + 1..].starts_with('C') {
            LimitationKind::Configuration
        } else {
            LimitationKind::Known
        }
    }

    /// The token a regression test name must contain for this ID: lower case with `_` for
    /// `-`, e.g. `oxe_l6` for `OXE-L6` (so `oxe_l6_502_blocks_failover` covers it).
    pub fn test_token(&self) -> String {
        self.0.to_ascii_lowercase().replace('-', "_")
    }
}

impl TryFrom<String> for LimitationId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        LimitationId::parse(&value)
    }
}

impl From<LimitationId> for String {
    fn from(id: LimitationId) -> String {
        id.0
    }
}

impl fmt::Display for LimitationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SIP response status code, 100..=699 (RFC 3261 §7.2).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct StatusCode(u16);

impl StatusCode {
    pub fn new(code: u16) -> Result<Self, String> {
        if (100..=699).contains(&code) {
            Ok(StatusCode(code))
        } else {
            Err(format!("SIP status code {code} is outside 100..=699"))
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }

    /// 2xx..6xx: ends the transaction.
    pub fn is_final(self) -> bool {
        self.0 >= 200
    }
}

impl TryFrom<u16> for StatusCode {
    type Error = String;
    fn try_from(value: u16) -> Result<Self, Self::Error> {
        StatusCode::new(value)
    }
}

impl From<StatusCode> for u16 {
    fn from(code: StatusCode) -> u16 {
        code.0
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A product software release such as `5.2.1` or `5.2.1 SP1`: dot-separated numbers and an
/// optional service pack. Missing trailing components compare as 0, and a release without a
/// service pack comes before its SP1 (`5.2.1 < 5.2.1 SP1 < 5.2.2`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SoftwareVersion {
    parts: Vec<u32>,
    service_pack: u32,
}

impl SoftwareVersion {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "software version `{text}`: expected dot-separated numbers with an optional ` SPn`, e.g. `5.2.1 SP1`"
            )
        };
        let (numbers, service_pack) = match text.split_once(" SP") {
            Some((numbers, sp)) => (numbers, sp.parse::<u32>().map_err(|_| bad())?),
            None => (text, 0),
        };
        let parts = numbers
            .split('.')
            .map(|p| p.parse::<u32>().map_err(|_| bad()))
            .collect::<Result<Vec<u32>, String>>()?;
        Ok(SoftwareVersion {
            parts,
            service_pack,
        })
    }

    fn component(&self, i: usize) -> u32 {
        self.parts.get(i).copied().unwrap_or(0)
    }
}

impl PartialEq for SoftwareVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SoftwareVersion {}

impl PartialOrd for SoftwareVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SoftwareVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        (0..n)
            .map(|i| self.component(i).cmp(&other.component(i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
            .then(self.service_pack.cmp(&other.service_pack))
    }
}

impl TryFrom<String> for SoftwareVersion {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        SoftwareVersion::parse(&value)
    }
}

impl From<SoftwareVersion> for String {
    fn from(v: SoftwareVersion) -> String {
        v.to_string()
    }
}

impl fmt::Display for SoftwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let numbers: Vec<String> = self.parts.iter().map(u32::to_string).collect();
        f.write_str(&numbers.join("."))?;
        if self.service_pack > 0 {
            write!(f, " SP{}", self.service_pack)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limitation_ids_parse_and_reject() {
        let id = LimitationId::parse("CU4x-C1").unwrap();
        assert_eq!(id.prefix(), "CU4x");
        assert_eq!(id.kind(), LimitationKind::Configuration);
        assert_eq!(id.test_token(), "cu4x_c1");
        assert_eq!(
            LimitationId::parse("OXE-L6").unwrap().kind(),
            LimitationKind::Known
        );
        for bad in [
            "OXE", "OXE-6", "OXE-X6", "OXE-L", "OXE-L06", "-L1", "oxe-L1", "OX E-L1",
        ] {
            assert!(LimitationId::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn versions_order_with_service_packs() {
        let v = |s: &str| SoftwareVersion::parse(s).unwrap();
        assert!(v("4.0") < v("5.1"));
        assert!(v("5.1") < v("5.2.1"));
        assert!(v("5.2.1") < v("5.2.1 SP1"));
        assert!(v("5.2.1 SP1") < v("5.2.2"));
        assert_eq!(v("5.2"), v("5.2.0"));
        assert_eq!(v("5.2.1 SP1").to_string(), "5.2.1 SP1");
        assert!(SoftwareVersion::parse("R9.1").is_err());
        assert!(SoftwareVersion::parse("5.2.1 SPx").is_err());
    }

    proptest::proptest! {
        #[test]
        fn versions_round_trip_and_order_like_their_parts(
            parts in proptest::collection::vec(0u32..100, 1..5),
            sp in 0u32..4,
            other in proptest::collection::vec(0u32..100, 1..5),
        ) {
            let text = |p: &[u32], sp: u32| {
                let n: Vec<String> = p.iter().map(u32::to_string).collect();
                if sp > 0 { format!("{} SP{sp}", n.join(".")) } else { n.join(".") }
            };
            let v = SoftwareVersion::parse(&text(&parts, sp)).unwrap();
            proptest::prop_assert_eq!(SoftwareVersion::parse(&v.to_string()).unwrap(), v.clone());
            let w = SoftwareVersion::parse(&text(&other, 0)).unwrap();
            let pad = |p: &[u32]| { let mut p = p.to_vec(); p.resize(5, 0); p };
            let expected = pad(&parts).cmp(&pad(&other)).then(sp.cmp(&0));
            proptest::prop_assert_eq!(v.cmp(&w), expected);
        }

        #[test]
        fn limitation_ids_round_trip(prefix in "[A-Z][A-Za-z0-9]{0,5}", kind in "[CL]", n in 1u32..100) {
            let text = format!("{prefix}-{kind}{n}");
            let id = LimitationId::parse(&text).unwrap();
            proptest::prop_assert_eq!(id.to_string(), text);
            proptest::prop_assert_eq!(id.prefix(), prefix.as_str());
        }
    }

    #[test]
    fn status_codes_are_bounded() {
        assert!(StatusCode::new(502).is_ok());
        assert!(StatusCode::new(99).is_err());
        assert!(StatusCode::new(700).is_err());
        assert!(!StatusCode::new(183).unwrap().is_final());
    }
}
