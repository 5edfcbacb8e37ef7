//! Dialogs (RFC 3261 §12): the state two user agents share for a call, and how requests
//! inside it are built (route set, remote target, CSeq).

use crate::sip::error::{Error, Result};
use crate::sip::wire::{
    CSeq, Essentials, HeaderName, Method, NameAddr, Request, Response, Uri, Via,
};

/// The identity of a dialog from one side: Call-ID, local tag, remote tag.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
}

/// One side's dialog state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    pub id: DialogId,
    /// Our address of record (From for the UAC side), without tag.
    pub local_uri: NameAddr,
    /// The peer's address of record, without tag.
    pub remote_uri: NameAddr,
    /// Our last CSeq number.
    pub local_seq: u32,
    /// The peer's last CSeq number, once it has sent a request.
    pub remote_seq: Option<u32>,
    /// The peer's Contact.
    pub remote_target: Uri,
    /// Route values for requests, in the order they are sent.
    pub route_set: Vec<String>,
    /// True once a 2xx has been seen (an early dialog otherwise).
    pub confirmed: bool,
}

fn strip_tag(mut a: NameAddr) -> NameAddr {
    a.params.remove("tag");
    a
}

fn contact_uri(headers: &crate::sip::wire::Headers) -> Result<Option<Uri>> {
    Ok(headers.contacts()?.into_iter().next().map(|c| c.uri))
}

impl Dialog {
    /// The UAC side of a dialog created by `resp` (1xx with a tag, or 2xx) to `req`
    /// (§12.1.2): the route set is the Record-Route of the response, reversed.
    pub fn uac(req: &Request, resp: &Response) -> Result<Dialog> {
        let from = req.headers.from_addr()?;
        let to = resp.headers.to_addr()?;
        let remote_tag = to
            .tag()
            .ok_or_else(|| Error::header("To", "response without a tag cannot create a dialog"))?
            .to_string();
        let local_tag = from
            .tag()
            .ok_or_else(|| Error::header("From", "request without a tag"))?
            .to_string();
        let mut route_set: Vec<String> = resp
            .headers
            .list(HeaderName::RecordRoute)
            .map(str::to_string)
            .collect();
        route_set.reverse();
        Ok(Dialog {
            id: DialogId {
                call_id: req.headers.call_id()?.to_string(),
                local_tag,
                remote_tag,
            },
            local_uri: strip_tag(from),
            remote_uri: strip_tag(to),
            local_seq: req.headers.cseq()?.seq,
            remote_seq: None,
            remote_target: contact_uri(&resp.headers)?.unwrap_or_else(|| req.uri.clone()),
            route_set,
            confirmed: resp.is_success(),
        })
    }

    /// The UAS side of a dialog created by our response to `req`, with our `local_tag`
    /// (§12.1.1): the route set is the request's Record-Route in order.
    pub fn uas(req: &Request, local_tag: &str) -> Result<Dialog> {
        let from = req.headers.from_addr()?;
        let to = req.headers.to_addr()?;
        let remote_tag = from.tag().unwrap_or("").to_string();
        let target = contact_uri(&req.headers)?.ok_or(Error::MissingHeader("Contact"))?;
        Ok(Dialog {
            id: DialogId {
                call_id: req.headers.call_id()?.to_string(),
                local_tag: local_tag.to_string(),
                remote_tag,
            },
            local_uri: strip_tag(to),
            remote_uri: strip_tag(from),
            local_seq: 0,
            remote_seq: Some(req.headers.cseq()?.seq),
            remote_target: target,
            route_set: req
                .headers
                .list(HeaderName::RecordRoute)
                .map(str::to_string)
                .collect(),
            confirmed: false,
        })
    }

    /// [`Dialog::uas`] from the already parsed essentials of the request.
    pub fn uas_with(req: &Request, ess: &Essentials, local_tag: &str) -> Result<Dialog> {
        let target = contact_uri(&req.headers)?.ok_or(Error::MissingHeader("Contact"))?;
        Ok(Dialog {
            id: DialogId {
                call_id: ess.call_id.clone(),
                local_tag: local_tag.to_string(),
                remote_tag: ess.from_tag().unwrap_or("").to_string(),
            },
            local_uri: strip_tag(ess.to.clone()),
            remote_uri: strip_tag(ess.from.clone()),
            local_seq: 0,
            remote_seq: Some(ess.cseq.seq),
            remote_target: target,
            route_set: req
                .headers
                .list(HeaderName::RecordRoute)
                .map(str::to_string)
                .collect(),
            confirmed: false,
        })
    }

    /// Completes a UAC dialog from a tagged response to our INVITE (§12.1.2): remote tag
    /// and URI from To, remote target from Contact, route set from Record-Route
    /// reversed. Local identity and CSeq are kept.
    pub fn establish(&mut self, resp: &Response) -> Result<()> {
        let to = resp.headers.to_addr()?;
        let tag = to
            .tag()
            .ok_or_else(|| Error::header("To", "response without a tag cannot create a dialog"))?
            .to_string();
        self.id.remote_tag = tag;
        self.remote_uri = strip_tag(to);
        if let Some(u) = contact_uri(&resp.headers)? {
            self.remote_target = u;
        }
        self.route_set = resp
            .headers
            .list(HeaderName::RecordRoute)
            .map(str::to_string)
            .collect();
        self.route_set.reverse();
        self.confirmed = resp.is_success();
        Ok(())
    }

    /// Replaces the remote target after a target refresh (re-INVITE, UPDATE or their
    /// 2xx) that carries a Contact.
    pub fn refresh_target(&mut self, headers: &crate::sip::wire::Headers) {
        if let Ok(Some(u)) = contact_uri(headers) {
            self.remote_target = u;
        }
    }

    /// The URI of the next hop: the first route, or the remote target.
    pub fn next_hop_uri(&self) -> Uri {
        self.route_set
            .first()
            .and_then(|r| NameAddr::parse(r).ok())
            .map(|a| a.uri)
            .unwrap_or_else(|| self.remote_target.clone())
    }

    /// Checks the CSeq of a request from the peer (§12.2.2): it must grow. Returns false
    /// for an out-of-order request (answered with 500).
    pub fn accept_remote_seq(&mut self, seq: u32, method: &Method) -> bool {
        if matches!(method, Method::Ack | Method::Cancel) {
            return true;
        }
        match self.remote_seq {
            Some(last) if seq <= last => false,
            _ => {
                self.remote_seq = Some(seq);
                true
            }
        }
    }

    /// Builds a request inside the dialog (§12.2.1.1). `seq` is given for ACK and CANCEL
    /// (which reuse the INVITE's number); otherwise the local CSeq is incremented.
    pub fn request(&mut self, method: Method, via: &Via, seq: Option<u32>) -> Request {
        let seq = match seq {
            Some(s) => s,
            None => {
                self.local_seq = self.local_seq.wrapping_add(1).max(1);
                self.local_seq
            }
        };
        let first_loose = self
            .route_set
            .first()
            .and_then(|r| NameAddr::parse(r).ok())
            .map(|a| (a.uri.as_sip().is_some_and(|u| u.is_loose_router()), a.uri));
        let (ruri, routes): (Uri, Vec<String>) = match first_loose {
            None => (self.remote_target.clone(), Vec::new()),
            Some((true, _)) => (self.remote_target.clone(), self.route_set.clone()),
            Some((false, first)) => {
                // Strict routing: the first route becomes the Request-URI and the remote
                // target goes last.
                let mut r: Vec<String> = self.route_set[1..].to_vec();
                r.push(format!("<{}>", self.remote_target));
                (first, r)
            }
        };
        let mut req = Request::new(method.clone(), ruri);
        let h = &mut req.headers;
        h.push(HeaderName::Via, via.encode());
        h.push(HeaderName::MaxForwards, "70");
        let mut from = self.local_uri.clone();
        from.params.set("tag", Some(&self.id.local_tag));
        h.push(HeaderName::From, from.encode());
        let mut to = self.remote_uri.clone();
        if !self.id.remote_tag.is_empty() {
            to.params.set("tag", Some(&self.id.remote_tag));
        }
        h.push(HeaderName::To, to.encode());
        h.push(HeaderName::CallId, self.id.call_id.as_str());
        h.push(HeaderName::CSeq, CSeq::new(seq, method).encode());
        for r in routes {
            h.push(HeaderName::Route, r);
        }
        req
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::wire::make_response;

    fn invite() -> Request {
        Request::parse(
            b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: \"A\" <sip:alice@example.com>;tag=at\r\nTo: <sip:bob@example.com>\r\nCall-ID: d1\r\nCSeq: 7 INVITE\r\nContact: <sip:alice@a.example.com>\r\nRecord-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n\r\n",
        )
        .unwrap()
    }

    #[test]
    fn both_sides_agree_on_route_and_target() {
        let req = invite();
        let mut resp = make_response(&req, 200, "OK", Some("bt"));
        resp.headers
            .push(HeaderName::Contact, "<sip:bob@b.example.com>");
        for rr in req.headers.get_all(HeaderName::RecordRoute) {
            resp.headers.push(HeaderName::RecordRoute, rr);
        }
        let mut uac = Dialog::uac(&req, &resp).unwrap();
        let mut uas = Dialog::uas(&req, "bt").unwrap();
        assert_eq!(uac.id.call_id, uas.id.call_id);
        assert_eq!(uac.id.local_tag, uas.id.remote_tag);
        assert_eq!(
            uac.route_set,
            ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
        );
        assert_eq!(
            uas.route_set,
            ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
        );
        let via = Via::parse("SIP/2.0/UDP a.example.com;branch=z9hG4bK2").unwrap();
        let bye = uac.request(Method::Bye, &via, None);
        assert_eq!(bye.uri.to_string(), "sip:bob@b.example.com");
        assert_eq!(bye.headers.cseq().unwrap().seq, 8);
        assert_eq!(bye.headers.to_addr().unwrap().tag(), Some("bt"));
        assert_eq!(bye.headers.routes().unwrap().len(), 2);
        let bye2 = uas.request(Method::Bye, &via, None);
        assert_eq!(bye2.uri.to_string(), "sip:alice@a.example.com");
        assert_eq!(bye2.headers.from_addr().unwrap().tag(), Some("bt"));
        assert!(uas.accept_remote_seq(8, &Method::Bye));
        assert!(!uas.accept_remote_seq(8, &Method::Update));
    }

    #[test]
    fn strict_route_moves_the_target_last() {
        let req = invite();
        let mut resp = make_response(&req, 200, "OK", Some("bt"));
        resp.headers
            .push(HeaderName::Contact, "<sip:bob@b.example.com>");
        resp.headers
            .push(HeaderName::RecordRoute, "<sip:strict.example.com>");
        let mut d = Dialog::uac(&req, &resp).unwrap();
        let via = Via::parse("SIP/2.0/UDP a;branch=z9hG4bK3").unwrap();
        let r = d.request(Method::Bye, &via, None);
        assert_eq!(r.uri.to_string(), "sip:strict.example.com");
        assert_eq!(
            r.headers.get(HeaderName::Route),
            Some("<sip:bob@b.example.com>")
        );
    }
}
