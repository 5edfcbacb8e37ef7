//! An ASCII SIP ladder diagram (in the spirit of sngrep's call flow view, our own layout).
//!
//! One column per element the call crossed, in order of first appearance; one row per SIP
//! message as it was sent (marked `lost` when it never arrived), per ISDN message on a TDM
//! span, and one summary row per RTP stream (first packet time, packet count, payload).

use super::Captured;
use crate::sip::wire::Message;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};

/// Who is behind an address: element names by SIP address and by node address.
#[derive(Clone, Debug, Default)]
pub struct Participants {
    pub by_sip: BTreeMap<SocketAddrV4, String>,
    pub by_ip: BTreeMap<Ipv4Addr, String>,
    /// Element names by element id (for ISDN messages).
    pub by_id: Vec<String>,
}

impl Participants {
    fn name(&self, a: SocketAddrV4) -> String {
        self.by_sip
            .get(&a)
            .or_else(|| self.by_ip.get(a.ip()))
            .cloned()
            .unwrap_or_else(|| a.to_string())
    }
}

const COL: usize = 22;

struct Row {
    time: crate::sim::SimTime,
    from: String,
    to: String,
    label: String,
}

/// Renders the ladder of a captured call. `title` is printed above it.
pub fn ladder(title: &str, items: &[Captured], who: &Participants) -> String {
    let mut rows: Vec<Row> = Vec::new();
    // Delivered copies, to mark lost messages: (src, dst, payload).
    let delivered: std::collections::BTreeSet<(SocketAddrV4, SocketAddrV4, &[u8])> = items
        .iter()
        .filter_map(|c| match c {
            Captured::Datagram {
                packet,
                delivered: true,
                media: false,
                ..
            } => Some((packet.src, packet.dst, &packet.payload[..])),
            _ => None,
        })
        .collect();
    // RTP streams: (src, dst) → (first time, packets, payload type).
    let mut streams: BTreeMap<(SocketAddrV4, SocketAddrV4), (crate::sim::SimTime, u64, u8)> =
        BTreeMap::new();
    for c in items {
        match c {
            Captured::Datagram {
                time,
                packet,
                delivered: false,
                media: false,
            } => {
                let label = match Message::parse(&packet.payload) {
                    Ok(Message::Request(r)) => {
                        let sdp = if r.body.is_empty() { "" } else { " (SDP)" };
                        format!("{}{sdp}", r.method)
                    }
                    Ok(Message::Response(r)) => {
                        let sdp = if r.body.is_empty() { "" } else { " (SDP)" };
                        format!("{} {}{sdp}", r.status, r.reason)
                    }
                    Err(_) => "(malformed SIP)".to_string(),
                };
                let lost = !delivered.contains(&(packet.src, packet.dst, &packet.payload[..]));
                rows.push(Row {
                    time: *time,
                    from: who.name(packet.src),
                    to: who.name(packet.dst),
                    label: if lost {
                        format!("{label} [lost]")
                    } else {
                        label
                    },
                });
            }
            Captured::Datagram {
                time,
                packet,
                delivered: false,
                media: true,
            } => {
                // RTCP is on odd ports; count RTP only.
                if packet.src.port() % 2 == 0 && packet.payload.len() >= 12 {
                    let pt = packet.payload[1] & 0x7f;
                    let e = streams
                        .entry((packet.src, packet.dst))
                        .or_insert((*time, 0, pt));
                    e.1 += 1;
                }
            }
            Captured::Isdn {
                time,
                from,
                to,
                label,
            } => rows.push(Row {
                time: *time,
                from: who.by_id.get(from.0 as usize).cloned().unwrap_or_default(),
                to: who.by_id.get(to.0 as usize).cloned().unwrap_or_default(),
                label: format!("ISDN {label}"),
            }),
            Captured::Datagram { .. } => {}
        }
    }
    for ((src, dst), (time, n, pt)) in &streams {
        rows.push(Row {
            time: *time,
            from: who.name(*src),
            to: who.name(*dst),
            label: format!("RTP PT {pt} ×{n}"),
        });
    }
    rows.sort_by_key(|r| r.time);
    let mut columns: Vec<String> = Vec::new();
    for r in &rows {
        for n in [&r.from, &r.to] {
            if !columns.contains(n) {
                columns.push(n.clone());
            }
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "{title}");
    let pad = 14;
    let mut header = " ".repeat(pad);
    for c in &columns {
        let name: String = c.chars().take(COL - 2).collect();
        let _ = write!(header, "{name:^COL$}");
    }
    let _ = writeln!(out, "{}", header.trim_end());
    let lanes = |out: &mut String| {
        // The same positions as the message rows' lanes.
        let mut line = vec![' '; pad + columns.len() * COL];
        for i in 0..columns.len() {
            line[pad + i * COL + COL / 2] = '|';
        }
        let line: String = line.into_iter().collect();
        let _ = writeln!(out, "{}", line.trim_end());
    };
    lanes(&mut out);
    for r in &rows {
        let (Some(a), Some(b)) = (
            columns.iter().position(|c| *c == r.from),
            columns.iter().position(|c| *c == r.to),
        ) else {
            continue;
        };
        let mut line: Vec<char> = format!("{:>12}  ", format!("{:.6}", r.time.as_secs_f64()))
            .chars()
            .collect();
        let width = columns.len() * COL;
        let mut lane: Vec<char> = vec![' '; width];
        for i in 0..columns.len() {
            lane[i * COL + COL / 2] = '|';
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let (x0, x1) = (lo * COL + COL / 2, hi * COL + COL / 2);
        if a == b {
            // A message to itself (rare): a loop mark.
            lane[x0] = 'o';
        } else {
            for c in lane.iter_mut().take(x1).skip(x0 + 1) {
                *c = '-';
            }
            if a < b {
                lane[x1 - 1] = '>';
            } else {
                lane[x0 + 1] = '<';
            }
            let text: Vec<char> = r.label.chars().collect();
            let room = x1 - x0 - 3;
            let text: Vec<char> = text.into_iter().take(room).collect();
            let start = x0 + 2 + (room - text.len()) / 2;
            for (i, ch) in text.into_iter().enumerate() {
                lane[start + i] = ch;
            }
        }
        line.extend(lane);
        let s: String = line.into_iter().collect();
        let _ = writeln!(out, "{}", s.trim_end());
    }
    lanes(&mut out);
    out
}
