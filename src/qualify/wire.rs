//! What crossed the wire in a rig run: SIP messages, RTP/RTCP packets and ISDN messages,
//! by sending element.

use super::rig::Rig;
use crate::elements::host::Captured;
use std::net::{Ipv4Addr, SocketAddrV4};

/// One SIP message handed to the network.
#[derive(Clone, Debug)]
pub(crate) struct SipLine {
    pub t: f64,
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
    pub text: String,
}

impl SipLine {
    pub fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }
    pub fn is_request(&self, method: &str) -> bool {
        self.first_line().starts_with(&format!("{method} "))
    }
    pub fn is_response(&self, status: u16) -> bool {
        self.first_line().starts_with(&format!("SIP/2.0 {status} "))
    }
    pub fn status(&self) -> Option<u16> {
        let rest = self.first_line().strip_prefix("SIP/2.0 ")?;
        rest.get(..3)?.parse().ok()
    }
    pub fn cseq_method(&self) -> Option<&str> {
        self.header("CSeq")
            .and_then(|v| v.split_whitespace().nth(1))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.text.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
    pub fn from(&self, ip: Ipv4Addr) -> bool {
        *self.src.ip() == ip
    }
    pub fn to(&self, ip: Ipv4Addr) -> bool {
        *self.dst.ip() == ip
    }
}

/// One ISDN message: (time, from element name, to element name, label).
pub(crate) type IsdnLine = (f64, String, String, String);

impl Rig {
    /// Every SIP message sent, in order.
    pub(crate) fn sip(&self) -> Vec<SipLine> {
        self.capture()
            .iter()
            .filter_map(|c| match c {
                Captured::Datagram {
                    time,
                    packet,
                    delivered: false,
                    media: false,
                } => Some(SipLine {
                    t: time.as_secs_f64(),
                    src: packet.src,
                    dst: packet.dst,
                    text: String::from_utf8_lossy(&packet.payload).into_owned(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Every ISDN message.
    pub(crate) fn isdn(&self) -> Vec<IsdnLine> {
        self.capture()
            .iter()
            .filter_map(|c| match c {
                Captured::Isdn {
                    time,
                    from,
                    to,
                    label,
                } => Some((
                    time.as_secs_f64(),
                    self.element_name(*from).to_string(),
                    self.element_name(*to).to_string(),
                    label.clone(),
                )),
                _ => None,
            })
            .collect()
    }

    /// Media datagrams sent from `ip`: (RTP packets with payload type `pt`, any RTCP).
    fn media_from(&self, ip: Ipv4Addr) -> impl Iterator<Item = (u16, &[u8])> {
        self.capture().iter().filter_map(move |c| match c {
            Captured::Datagram {
                packet,
                delivered: false,
                media: true,
                ..
            } if *packet.src.ip() == ip => Some((packet.src.port(), &packet.payload[..])),
            _ => None,
        })
    }

    /// RTP packets (even ports) with payload type `pt` sent from `ip`.
    pub(crate) fn rtp_from(&self, ip: Ipv4Addr, pt: u8) -> usize {
        self.media_from(ip)
            .filter(|(port, p)| port % 2 == 0 && p.len() > 1 && (p[1] & 0x7f) == pt)
            .count()
    }

    /// RTCP packets (odd ports) sent from `ip`.
    pub(crate) fn rtcp_from(&self, ip: Ipv4Addr) -> usize {
        self.media_from(ip)
            .filter(|(port, _)| port % 2 == 1)
            .count()
    }

    /// A compact SIP/ISDN ladder of the run (printed by failing tests).
    #[cfg(test)]
    pub(crate) fn ladder(&self) -> String {
        let names = self.names();
        let by_ip = |a: &SocketAddrV4| -> String {
            let ip = *a.ip();
            names
                .keys()
                .find(|id| {
                    self.sim
                        .built
                        .directory
                        .elements
                        .values()
                        .any(|p| p.id == **id && p.ip == ip)
                })
                .map(|id| names[id].clone())
                .unwrap_or_else(|| ip.to_string())
        };
        let mut out = String::new();
        for c in self.capture() {
            match c {
                Captured::Datagram {
                    time,
                    packet,
                    delivered: false,
                    media: false,
                } => {
                    let text = String::from_utf8_lossy(&packet.payload);
                    let first = text.lines().next().unwrap_or("");
                    out.push_str(&format!(
                        "{:>9.3}s {:>8} -> {:<8} {first}\n",
                        time.as_secs_f64(),
                        by_ip(&packet.src),
                        by_ip(&packet.dst)
                    ));
                }
                Captured::Isdn {
                    time,
                    from,
                    to,
                    label,
                } => out.push_str(&format!(
                    "{:>9.3}s {:>8} => {:<8} {label}\n",
                    time.as_secs_f64(),
                    self.element_name(*from),
                    self.element_name(*to)
                )),
                _ => {}
            }
        }
        out
    }
}
