//! Typed access to the headers voicetwin uses. Values are parsed on demand from the
//! stored strings; each accessor's error names the header.

mod misc;
mod name_addr;
mod via;

pub use misc::{CSeq, MediaType, RAck, Reason, Refresher, Replaces, SessionExpires, TokenParams};
pub(crate) use misc::{parse_number, parse_tokens};
pub use name_addr::NameAddr;
pub use via::{MAGIC_COOKIE, Via};

use super::headers::{HeaderName, Headers};
use super::method::Method;
use crate::sip::error::{Error, Result};

fn one(headers: &Headers, name: HeaderName) -> Result<&str> {
    headers.get(name).ok_or(Error::MissingHeader(name.as_str()))
}

fn addr(value: &str, header: &'static str) -> Result<NameAddr> {
    NameAddr::parse(value).map_err(|d| Error::header(header, format!("{d} in {value:?}")))
}

fn addr_list(headers: &Headers, name: HeaderName) -> Result<Vec<NameAddr>> {
    headers.list(name).map(|v| addr(v, name.as_str())).collect()
}

impl Headers {
    /// The topmost Via value.
    pub fn via_top(&self) -> Result<Via> {
        let v = self
            .list(HeaderName::Via)
            .next()
            .ok_or(Error::MissingHeader("Via"))?;
        Via::parse(v)
    }

    /// Every Via value, top first.
    pub fn vias(&self) -> Result<Vec<Via>> {
        self.list(HeaderName::Via).map(Via::parse).collect()
    }

    pub fn from_addr(&self) -> Result<NameAddr> {
        addr(one(self, HeaderName::From)?, "From")
    }

    pub fn to_addr(&self) -> Result<NameAddr> {
        addr(one(self, HeaderName::To)?, "To")
    }

    pub fn call_id(&self) -> Result<&str> {
        let v = one(self, HeaderName::CallId)?;
        if v.is_empty() || v.contains([' ', '\t']) {
            return Err(Error::header("Call-ID", format!("{v:?} is not a word")));
        }
        Ok(v)
    }

    pub fn cseq(&self) -> Result<CSeq> {
        CSeq::parse(one(self, HeaderName::CSeq)?)
    }

    /// Max-Forwards (0..=255), `None` when absent.
    pub fn max_forwards(&self) -> Result<Option<u8>> {
        self.get(HeaderName::MaxForwards)
            .map(|v| parse_number(v, 255, "Max-Forwards").map(|n| n as u8))
            .transpose()
    }

    pub fn contacts(&self) -> Result<Vec<NameAddr>> {
        addr_list(self, HeaderName::Contact)
    }

    pub fn routes(&self) -> Result<Vec<NameAddr>> {
        addr_list(self, HeaderName::Route)
    }

    pub fn record_routes(&self) -> Result<Vec<NameAddr>> {
        addr_list(self, HeaderName::RecordRoute)
    }

    pub fn content_type(&self) -> Result<Option<MediaType>> {
        self.get(HeaderName::ContentType)
            .map(MediaType::parse)
            .transpose()
    }

    /// Option tags of Require.
    pub fn require(&self) -> Result<Vec<&str>> {
        parse_tokens(self.get_all(HeaderName::Require), "Require")
    }

    pub fn proxy_require(&self) -> Result<Vec<&str>> {
        parse_tokens(self.get_all(HeaderName::ProxyRequire), "Proxy-Require")
    }

    pub fn supported(&self) -> Result<Vec<&str>> {
        parse_tokens(self.get_all(HeaderName::Supported), "Supported")
    }

    pub fn unsupported(&self) -> Result<Vec<&str>> {
        parse_tokens(self.get_all(HeaderName::Unsupported), "Unsupported")
    }

    pub fn allow(&self) -> Result<Vec<Method>> {
        parse_tokens(self.get_all(HeaderName::Allow), "Allow")?
            .into_iter()
            .map(Method::parse)
            .collect()
    }

    /// True when `tag` is listed in Require (or Supported, with `supported`). Malformed
    /// lists count as not listing it.
    pub fn lists_option(&self, name: HeaderName, tag: &str) -> bool {
        parse_tokens(self.get_all(name), "option")
            .map(|v| v.iter().any(|t| t.eq_ignore_ascii_case(tag)))
            .unwrap_or(false)
    }

    /// RSeq (RFC 3262): 1..2^31-1.
    pub fn rseq(&self) -> Result<Option<u32>> {
        self.get(HeaderName::RSeq)
            .map(|v| parse_number(v, (1 << 31) - 1, "RSeq").map(|n| n as u32))
            .transpose()
    }

    pub fn rack(&self) -> Result<Option<RAck>> {
        self.get(HeaderName::RAck).map(RAck::parse).transpose()
    }

    pub fn session_expires(&self) -> Result<Option<SessionExpires>> {
        self.get(HeaderName::SessionExpires)
            .map(SessionExpires::parse)
            .transpose()
    }

    /// Min-SE in seconds (RFC 4028 §5).
    pub fn min_se(&self) -> Result<Option<u32>> {
        self.get(HeaderName::MinSE)
            .map(|v| {
                let n = v.split(';').next().unwrap_or("");
                parse_number(n, u64::from(u32::MAX), "Min-SE").map(|n| n as u32)
            })
            .transpose()
    }

    pub fn refer_to(&self) -> Result<Option<NameAddr>> {
        self.get(HeaderName::ReferTo)
            .map(|v| addr(v, "Refer-To"))
            .transpose()
    }

    pub fn referred_by(&self) -> Result<Option<NameAddr>> {
        self.get(HeaderName::ReferredBy)
            .map(|v| addr(v, "Referred-By"))
            .transpose()
    }

    pub fn replaces(&self) -> Result<Option<Replaces>> {
        self.get(HeaderName::Replaces)
            .map(Replaces::parse)
            .transpose()
    }

    pub fn history_info(&self) -> Result<Vec<NameAddr>> {
        addr_list(self, HeaderName::HistoryInfo)
    }

    pub fn diversion(&self) -> Result<Vec<NameAddr>> {
        addr_list(self, HeaderName::Diversion)
    }

    pub fn p_asserted_identity(&self) -> Result<Vec<NameAddr>> {
        addr_list(self, HeaderName::PAssertedIdentity)
    }

    /// Privacy values (RFC 3323: `id`, `header`, `session`, `user`, `none`, `critical`).
    pub fn privacy(&self) -> Result<Vec<&str>> {
        let mut out = Vec::new();
        for v in self.get_all(HeaderName::Privacy) {
            for p in v.split(';').map(|p| p.trim()) {
                if p.is_empty() || !p.bytes().all(crate::sip::wire::scan::is_token) {
                    return Err(Error::header("Privacy", format!("{v:?}")));
                }
                out.push(p);
            }
        }
        Ok(out)
    }

    pub fn reason(&self) -> Result<Vec<Reason>> {
        self.list(HeaderName::Reason).map(Reason::parse).collect()
    }

    pub fn event(&self) -> Result<Option<TokenParams>> {
        self.get(HeaderName::Event)
            .map(|v| TokenParams::parse(v, "Event"))
            .transpose()
    }

    pub fn subscription_state(&self) -> Result<Option<TokenParams>> {
        self.get(HeaderName::SubscriptionState)
            .map(|v| TokenParams::parse(v, "Subscription-State"))
            .transpose()
    }
}

/// The (type, subtype) pairs of an Accept value (parameters ignored).
pub fn split_accept(value: &str) -> impl Iterator<Item = (&str, &str)> {
    crate::sip::wire::scan::split_list(value).filter_map(|item| {
        let media = item.split(';').next()?.trim();
        let (t, s) = media.split_once('/')?;
        Some((t.trim(), s.trim()))
    })
}
