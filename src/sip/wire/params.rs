//! `;name=value` parameter lists of URIs and header values.

use super::scan::{Cursor, is_token};

/// One parameter; `value` is `None` for a flag such as `;lr`. Values are kept as written
/// (a quoted value keeps its quotes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: Option<String>,
}

impl Param {
    pub fn new(name: &str, value: Option<&str>) -> Param {
        Param {
            name: name.to_string(),
            value: value.map(str::to_string),
        }
    }
}

/// An ordered parameter list; names compare case-insensitively.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<Param>);

impl Params {
    pub fn new() -> Params {
        Params(Vec::new())
    }

    /// `Some(Some(v))` for `name=v`, `Some(None)` for a flag, `None` when absent.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_deref())
    }

    /// The value of `name=value`, if present with a value.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name` (replacing an existing one in place, or appending).
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        match self
            .0
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
        {
            Some(p) => p.value = value.map(str::to_string),
            None => self.0.push(Param::new(name, value)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|p| !p.name.eq_ignore_ascii_case(name));
    }

    pub fn push(&mut self, p: Param) {
        self.0.push(p);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Param> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Writes `;name=value...` as in a URI.
    pub(crate) fn write_uri(&self, out: &mut String) {
        for p in &self.0 {
            out.push(';');
            out.push_str(&p.name);
            if let Some(v) = &p.value {
                out.push('=');
                out.push_str(v);
            }
        }
    }

    /// Parses `*( SEMI generic-param )` from a header value (RFC 3261 §25.1), with the
    /// white space the grammar allows around `;` and `=`. Stops at the end or at a byte
    /// that cannot continue the list, leaving the cursor there.
    pub(crate) fn parse_header(c: &mut Cursor<'_>) -> Result<Params, &'static str> {
        let mut params = Params::new();
        while c.eat_sep(b';') {
            let name = c.token().ok_or("empty parameter")?;
            let value = if c.eat_sep(b'=') {
                if c.peek() == Some(b'"') {
                    Some(c.quoted_raw()?)
                } else {
                    let v = c.take_while(|b| is_token(b) || b == b':' || b == b'[' || b == b']');
                    if v.is_empty() {
                        return Err("empty parameter value");
                    }
                    Some(v)
                }
            } else {
                None
            };
            params.push(Param::new(name, value));
        }
        Ok(params)
    }
}

impl std::fmt::Display for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        self.write_uri(&mut s);
        f.write_str(&s)
    }
}

impl FromIterator<Param> for Params {
    fn from_iter<I: IntoIterator<Item = Param>>(iter: I) -> Params {
        Params(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_params_allow_white_space_and_quotes() {
        let mut c = Cursor::new(r#" ;   tag    = 1918181833n ; lr;x="a;b" ; ip=[::1]"#);
        let p = Params::parse_header(&mut c).unwrap();
        assert!(c.at_end());
        assert_eq!(p.value("TAG"), Some("1918181833n"));
        assert_eq!(p.get("lr"), Some(None));
        assert_eq!(p.value("x"), Some(r#""a;b""#));
        assert_eq!(p.value("ip"), Some("[::1]"));
        assert!(Params::parse_header(&mut Cursor::new(";;")).is_err());
        assert!(Params::parse_header(&mut Cursor::new(";a=")).is_err());
    }
}
