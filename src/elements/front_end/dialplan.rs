//! Dial plans: Lync normalization rules, and the scopes (global, site, user) that assign
//! dial plans and voice policies to users.
//!
//! A normalization rule is a regular expression over the dialled string and a translation
//! that rewrites it, usually to E.164 (`New-CsVoiceNormalizationRule -Pattern
//! '^(\d{4})$' -Translation '+1425555$1'`). The rules of a dial plan are tried in order
//! and the first match wins; a string no rule matches is left as dialled. Translations
//! name groups `$1`..`$9` (or `${n}`); `$$` is a literal `$`.

use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One piece of a translation pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Group(usize),
}

/// A parsed translation pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Translation(Vec<Piece>);

impl Translation {
    /// Parses `+1425555$1`-style translations; errors say what is wrong and where.
    pub(crate) fn parse(text: &str) -> Result<Translation, String> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if c != '$' {
                lit.push(c);
                continue;
            }
            let group = match chars.next() {
                Some((_, '$')) => {
                    lit.push('$');
                    continue;
                }
                Some((_, d)) if d.is_ascii_digit() => d as usize - '0' as usize,
                Some((_, '{')) => {
                    let mut digits = String::new();
                    loop {
                        match chars.next() {
                            Some((_, '}')) => break,
                            Some((_, d)) if d.is_ascii_digit() => digits.push(d),
                            _ => return Err(format!("unterminated `${{` at byte {at}")),
                        }
                    }
                    digits
                        .parse()
                        .map_err(|_| format!("empty group number at byte {at}"))?
                }
                _ => {
                    return Err(format!(
                        "`$` at byte {at} is not followed by a group number"
                    ));
                }
            };
            if !lit.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut lit)));
            }
            pieces.push(Piece::Group(group));
        }
        if !lit.is_empty() {
            pieces.push(Piece::Literal(lit));
        }
        Ok(Translation(pieces))
    }

    /// The largest group number used.
    fn max_group(&self) -> usize {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Group(g) => *g,
                Piece::Literal(_) => 0,
            })
            .max()
            .unwrap_or(0)
    }

    fn expand(&self, caps: &Captures<'_>) -> String {
        let mut out = String::with_capacity(16);
        for p in &self.0 {
            match p {
                Piece::Literal(s) => out.push_str(s),
                Piece::Group(g) => out.push_str(caps.get(*g).map_or("", |m| m.as_str())),
            }
        }
        out
    }
}

/// A normalization rule.
#[derive(Clone, Debug)]
pub(crate) struct NormalizationRule {
    pub(crate) name: String,
    pattern: Regex,
    translation: Translation,
}

impl NormalizationRule {
    /// A rule from its pattern and translation; the error names which is wrong.
    pub(crate) fn new(
        name: &str,
        pattern: &str,
        translation: &str,
    ) -> Result<NormalizationRule, (&'static str, String)> {
        let pattern = Regex::new(pattern).map_err(|e| ("pattern", e.to_string()))?;
        let translation = Translation::parse(translation).map_err(|e| ("translation", e))?;
        if translation.max_group() >= pattern.captures_len() {
            return Err((
                "translation",
                format!(
                    "uses group ${} but the pattern has {} group(s)",
                    translation.max_group(),
                    pattern.captures_len() - 1
                ),
            ));
        }
        Ok(NormalizationRule {
            name: name.to_string(),
            pattern,
            translation,
        })
    }

    fn apply(&self, dialled: &str) -> Option<String> {
        self.pattern
            .captures(dialled)
            .map(|c| self.translation.expand(&c))
    }
}

/// A dial plan: normalization rules tried in order.
#[derive(Clone, Debug)]
pub(crate) struct DialPlan {
    pub(crate) name: String,
    pub(crate) rules: Vec<NormalizationRule>,
}

/// The result of normalizing a dialled string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Normalized {
    pub(crate) number: String,
    /// The index of the rule that matched, if any.
    pub(crate) rule: Option<usize>,
}

impl DialPlan {
    /// Applies the first matching rule; without a match the string is unchanged.
    pub(crate) fn normalize(&self, dialled: &str) -> Normalized {
        for (i, r) in self.rules.iter().enumerate() {
            if let Some(number) = r.apply(dialled) {
                return Normalized {
                    number,
                    rule: Some(i),
                };
            }
        }
        Normalized {
            number: dialled.to_string(),
            rule: None,
        }
    }
}

/// Where a dial plan or voice policy applies, like Lync's `Identity` (`Global`,
/// `site:Redmond`, or a per-user policy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Global,
    /// Every user of a site (the number range's site).
    Site(String),
    /// One user, by E.164 number.
    User(String),
}

/// Assignments of items (by index) to scopes; the narrowest scope wins.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scoped {
    global: Option<usize>,
    sites: HashMap<String, usize>,
    users: HashMap<String, usize>,
}

impl Scoped {
    /// Assigns item `index` to `scope`; false when the scope already has one.
    pub(crate) fn assign(&mut self, scope: &Scope, index: usize) -> bool {
        let slot = match scope {
            Scope::Global => {
                let had = self.global.is_some();
                self.global = Some(index);
                return !had;
            }
            Scope::Site(s) => self.sites.insert(s.clone(), index),
            Scope::User(u) => self.users.insert(u.clone(), index),
        };
        slot.is_none()
    }

    /// The item for a user at a site: user scope, else site, else global.
    pub(crate) fn resolve(&self, user: Option<&str>, site: Option<&str>) -> Option<usize> {
        user.and_then(|u| self.users.get(u))
            .or_else(|| site.and_then(|s| self.sites.get(s)))
            .copied()
            .or(self.global)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> DialPlan {
        DialPlan {
            name: "redmond".into(),
            rules: vec![
                NormalizationRule::new("4-digit", r"^(\d{4})$", "+1425555$1").unwrap(),
                NormalizationRule::new("national", r"^9(\d{10})$", "+1$1").unwrap(),
                NormalizationRule::new("international", r"^9011(\d+)$", "+$1").unwrap(),
                NormalizationRule::new("braced", r"^8(\d)(\d{3})$", "+1206${1}00$2").unwrap(),
            ],
        }
    }

    #[test]
    fn first_matching_rule_wins() {
        let p = plan();
        let n = p.normalize("0100");
        assert_eq!(n.number, "+14255550100");
        assert_eq!(n.rule, Some(0));
        assert_eq!(p.normalize("94255550123").number, "+14255550123");
        assert_eq!(p.normalize("9011441632960000").number, "+441632960000");
        assert_eq!(p.normalize("81234").number, "+1206100234");
        let kept = p.normalize("+14255550100");
        assert_eq!(kept.number, "+14255550100");
        assert_eq!(kept.rule, None);
    }

    #[test]
    fn bad_rules_are_refused_with_the_field() {
        assert_eq!(
            NormalizationRule::new("x", "^(\\d", "$1").unwrap_err().0,
            "pattern"
        );
        assert_eq!(
            NormalizationRule::new("x", "^(\\d)$", "$2").unwrap_err().0,
            "translation"
        );
        assert!(Translation::parse("+1$").is_err());
        assert!(Translation::parse("+1${2").is_err());
        assert_eq!(
            Translation::parse("$$1").unwrap(),
            Translation(vec![Piece::Literal("$1".into())])
        );
    }

    #[test]
    fn narrowest_scope_wins() {
        let mut s = Scoped::default();
        assert!(s.assign(&Scope::Global, 0));
        assert!(s.assign(&Scope::Site("hq".into()), 1));
        assert!(s.assign(&Scope::User("+1".into()), 2));
        assert!(!s.assign(&Scope::Site("hq".into()), 3));
        assert_eq!(s.resolve(Some("+1"), Some("hq")), Some(2));
        assert_eq!(s.resolve(Some("+2"), Some("hq")), Some(3));
        assert_eq!(s.resolve(Some("+2"), Some("br")), Some(0));
        assert_eq!(Scoped::default().resolve(None, None), None);
    }
}
