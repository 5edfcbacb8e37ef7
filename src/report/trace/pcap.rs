//! A pcap (Ethernet / IPv4 / UDP) of a call's SIP and RTP, with virtual timestamps.

use super::Captured;
use crate::report::ReportError;
use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, TsResolution};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// A locally administered MAC derived from an IPv4 address (02:00:a.b.c.d), so that
/// each host has a stable address in Wireshark.
fn mac(ip: std::net::Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x00, o[0], o[1], o[2], o[3]]
}

/// Writes every datagram of the capture, as its sender put it on the wire, to `out`.
pub fn write_pcap_to<W: Write>(items: &[Captured], out: W) -> Result<W, String> {
    let header = PcapHeader {
        ts_resolution: TsResolution::NanoSecond,
        datalink: DataLink::ETHERNET,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(out, header).map_err(|e| e.to_string())?;
    let mut frame = Vec::with_capacity(1600);
    for c in items {
        let Captured::Datagram {
            time,
            packet,
            delivered: false,
            ..
        } = c
        else {
            continue;
        };
        frame.clear();
        let builder = PacketBuilder::ethernet2(mac(*packet.src.ip()), mac(*packet.dst.ip()))
            .ipv4(packet.src.ip().octets(), packet.dst.ip().octets(), 64)
            .udp(packet.src.port(), packet.dst.port());
        builder
            .write(&mut frame, &packet.payload)
            .map_err(|e| e.to_string())?;
        let ts = Duration::from_nanos(time.as_nanos());
        w.write_packet(&PcapPacket::new(ts, frame.len() as u32, &frame))
            .map_err(|e| e.to_string())?;
    }
    Ok(w.into_writer())
}

/// Writes the capture as a pcap file (through a temporary file renamed into place).
pub fn write_pcap(items: &[Captured], path: &Path) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("pcap.tmp");
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let mut buf =
        write_pcap_to(items, std::io::BufWriter::new(file)).map_err(ReportError::Trace)?;
    buf.flush().map_err(io)?;
    drop(buf);
    std::fs::rename(&tmp, path).map_err(io)
}
