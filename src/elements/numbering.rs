//! The number plan: which E.164 numbers belong to which population and element.

use serde::{Deserialize, Serialize};

/// Who a number belongs to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NumberKind {
    /// An Enterprise Voice (Lync) user.
    EnterpriseVoice,
    /// A PBX extension with a DID.
    Pbx,
    /// A party on the public network.
    Pstn,
    /// A service number (voicemail pilot, IVR, auto-attendant).
    Service,
}

/// A block of consecutive E.164 numbers `+<first>` .. `+<first + count - 1>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberRange {
    pub kind: NumberKind,
    /// The first number's digits, without the `+`.
    pub first: u64,
    pub count: u32,
    /// The element that hosts these numbers (a Lync pool, a PBX, the PSTN...).
    pub element: String,
    /// The site of the users, when it matters (multi-site deployments).
    pub site: String,
}

impl NumberRange {
    /// The `index`-th number of the range, in E.164 form with `+`.
    pub fn number(&self, index: u32) -> String {
        format!("+{}", self.first + u64::from(index))
    }

    /// The index of an E.164 number in this range.
    pub fn index_of(&self, number: &str) -> Option<u32> {
        let digits: u64 = number.strip_prefix('+').unwrap_or(number).parse().ok()?;
        let offset = digits.checked_sub(self.first)?;
        (offset < u64::from(self.count)).then_some(offset as u32)
    }
}

/// Every number range of a deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberPlan {
    pub ranges: Vec<NumberRange>,
}

impl NumberPlan {
    /// The range holding an E.164 number.
    pub fn lookup(&self, number: &str) -> Option<(&NumberRange, u32)> {
        self.ranges
            .iter()
            .find_map(|r| r.index_of(number).map(|i| (r, i)))
    }

    /// The ranges of one kind, in plan order.
    pub fn of_kind(&self, kind: NumberKind) -> impl Iterator<Item = &NumberRange> {
        self.ranges.iter().filter(move |r| r.kind == kind)
    }

    /// The ranges hosted by one element.
    pub fn of_element<'a>(
        &'a self,
        element: &'a str,
    ) -> impl Iterator<Item = &'a NumberRange> + 'a {
        self.ranges.iter().filter(move |r| r.element == element)
    }

    /// The `index`-th number across all ranges of `kind`, in plan order.
    pub fn nth(&self, kind: NumberKind, mut index: u32) -> Option<String> {
        for r in self.of_kind(kind) {
            if index < r.count {
                return Some(r.number(index));
            }
            index -= r.count;
        }
        None
    }

    /// How many numbers of `kind` there are.
    pub fn count(&self, kind: NumberKind) -> u32 {
        self.of_kind(kind).map(|r| r.count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_nth_agree() {
        let plan = NumberPlan {
            ranges: vec![
                NumberRange {
                    kind: NumberKind::EnterpriseVoice,
                    first: 14255550000,
                    count: 100,
                    element: "pool-hq".into(),
                    site: "hq".into(),
                },
                NumberRange {
                    kind: NumberKind::EnterpriseVoice,
                    first: 14255570000,
                    count: 50,
                    element: "pool-br".into(),
                    site: "br".into(),
                },
                NumberRange {
                    kind: NumberKind::Pbx,
                    first: 14255560000,
                    count: 300,
                    element: "pbx1".into(),
                    site: "hq".into(),
                },
            ],
        };
        assert_eq!(plan.count(NumberKind::EnterpriseVoice), 150);
        let n = plan.nth(NumberKind::EnterpriseVoice, 120).unwrap();
        assert_eq!(n, "+14255570020");
        let (range, i) = plan.lookup(&n).unwrap();
        assert_eq!((range.element.as_str(), i), ("pool-br", 20));
        assert!(plan.lookup("+14255550100").is_none());
        assert!(plan.lookup("not a number").is_none());
        assert_eq!(plan.lookup("14255560299").unwrap().0.element, "pbx1");
    }
}
