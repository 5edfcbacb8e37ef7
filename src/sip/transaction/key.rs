//! Transaction matching keys (RFC 3261 §17.1.3 and §17.2.3).

use crate::sip::wire::{Essentials, MAGIC_COOKIE, Method, Uri};

/// The method part of a key: ACK matches the INVITE transaction on the server side, and
/// CANCEL has a transaction of its own with the same branch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyMethod {
    Invite,
    Cancel,
    Other(Method),
}

impl KeyMethod {
    fn of(m: &Method) -> KeyMethod {
        match m {
            Method::Invite | Method::Ack => KeyMethod::Invite,
            Method::Cancel => KeyMethod::Cancel,
            other => KeyMethod::Other(other.clone()),
        }
    }
}

/// Identifies a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TxKey {
    /// The branch (RFC 3261) or a digest of the RFC 2543 matching fields.
    pub branch: Box<str>,
    pub method: KeyMethod,
    /// sent-by of the top Via (server transactions only).
    pub sent_by: Option<Box<str>>,
}

impl TxKey {
    /// The key a client transaction is stored under: its branch and method.
    pub fn client(branch: &str, method: &Method) -> TxKey {
        TxKey {
            branch: branch.into(),
            method: KeyMethod::of(method),
            sent_by: None,
        }
    }

    /// The key a response matches (§17.1.3): top Via branch and CSeq method.
    pub fn for_response(e: &Essentials) -> Option<TxKey> {
        Some(TxKey::client(e.via.branch()?, &e.cseq.method))
    }

    /// The key a request matches on the server side (§17.2.3). Requests without the
    /// magic cookie get a key built from the RFC 2543 fields (Request-URI, From tag,
    /// Call-ID, CSeq number and top Via), which an INVITE and its ACK share.
    pub fn for_request(e: &Essentials, method: &Method, request_uri: &Uri) -> TxKey {
        let method = KeyMethod::of(method);
        match e.via.branch() {
            Some(b) if b.starts_with(MAGIC_COOKIE) => TxKey {
                branch: b.into(),
                method,
                sent_by: Some(e.via.sent_by_key().into()),
            },
            _ => {
                let digest = format!(
                    "2543|{}|{}|{}|{}|{}",
                    request_uri,
                    e.from_tag().unwrap_or(""),
                    e.call_id,
                    e.cseq.seq,
                    e.via
                );
                TxKey {
                    branch: digest.into(),
                    method,
                    sent_by: Some(e.via.sent_by_key().into()),
                }
            }
        }
    }
}
