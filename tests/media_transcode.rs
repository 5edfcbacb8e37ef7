//! Transcoding at the Mediation Server when the legs share no codec: re-packetisation,
//! added delay, DTMF pass-through, and the quality cost of tandem coding.

use voicetwin::metrics::emodel::{CodecStage, DirectionInput, Variant};
use voicetwin::rtp::wire::{RtpRepr, TelephoneEvent};
use voicetwin::rtp::{
    Codec, MediaSender, SenderConfig, SilenceMode, TalkSpurtModel, Transcoder, TranscoderConfig,
    Voice,
};
use voicetwin::sim::{RngFactory, SimDuration, SimTime};

/// Runs a 20 ms RTAudio sender into a transcoder for `secs` and returns the output
/// datagrams with their release times.
fn run(
    out_codec: Codec,
    out_ptime: u32,
    talk: TalkSpurtModel,
    silence: SilenceMode,
    dtmf_at: Option<SimTime>,
) -> (Transcoder, Vec<(SimTime, Vec<u8>)>) {
    let f = RngFactory::new(9);
    let mut rng = f.stream("lync", "media");
    let mut scfg = SenderConfig::new(Codec::RtAudioNb.profile());
    scfg.silence = silence;
    let mut s = MediaSender::new(scfg, talk, &mut rng, SimTime::ZERO).unwrap();
    let mut cfg = TranscoderConfig::new(Codec::RtAudioNb.profile(), out_codec.profile());
    cfg.output_ptime_ms = out_ptime;
    let mut t = Transcoder::new(cfg, &mut f.stream("mediation", "transcode")).unwrap();
    let mut out = vec![];
    let end = SimTime::from_secs(2);
    let mut dtmf = dtmf_at;
    loop {
        let next = [s.poll_timeout(), t.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(now) = next.filter(|&n| n <= end) else {
            break;
        };
        if dtmf.is_some_and(|d| d <= now) {
            s.send_dtmf(
                voicetwin::rtp::wire::DtmfDigit::from_char('#').unwrap(),
                SimDuration::from_millis(100),
            )
            .unwrap();
            dtmf = None;
        }
        s.handle_timeout(now);
        // One-hop: the sender's packets reach the transcoder at once (no network here).
        while let Some(pkt) = s.poll_transmit() {
            t.handle_rtp(now, &pkt);
        }
        t.handle_timeout(now);
        while let Some(o) = t.poll_transmit() {
            out.push((now, o));
        }
    }
    (t, out)
}

#[test]
fn rtaudio_to_g711_repacketises_and_adds_processing_delay() {
    let (t, out) = run(
        Codec::Pcmu,
        20,
        TalkSpurtModel::constant(Voice::Talking),
        SilenceMode::Continuous,
        None,
    );
    // 100 input packets in 2 s; the last one's output is released 10 ms later, after 2 s.
    assert_eq!(out.len(), 99);
    let reprs: Vec<_> = out
        .iter()
        .map(|(_, v)| RtpRepr::parse(v).unwrap())
        .collect();
    assert!(
        reprs
            .iter()
            .all(|r| r.payload_type == 0 && r.payload.len() == 160)
    );
    assert!(reprs[0].marker && reprs[1..].iter().all(|r| !r.marker));
    assert!(
        reprs
            .windows(2)
            .all(|w| w[1].timestamp.wrapping_sub(w[0].timestamp) == 160)
    );
    // Input packet k leaves the sender at 20(k+1) ms; its output 10 ms later.
    assert_eq!(out[0].0, SimTime::from_millis(30));
    assert_eq!(t.relay_delay(), SimDuration::from_millis(10));
    assert_ne!(reprs[0].ssrc, 0);
}

#[test]
fn longer_output_ptime_waits_for_the_packet_to_fill() {
    let (t, out) = run(
        Codec::G729a,
        40,
        TalkSpurtModel::constant(Voice::Talking),
        SilenceMode::Continuous,
        None,
    );
    let reprs: Vec<_> = out
        .iter()
        .map(|(_, v)| RtpRepr::parse(v).unwrap())
        .collect();
    assert!(
        reprs
            .iter()
            .all(|r| r.payload_type == 18 && r.payload.len() == 40)
    );
    assert!(
        reprs
            .windows(2)
            .all(|w| w[1].timestamp.wrapping_sub(w[0].timestamp) == 320)
    );
    // The first 40 ms packet is complete with the second input packet (sent at 40 ms).
    assert_eq!(out[0].0, SimTime::from_millis(50));
    assert_eq!(t.relay_delay(), SimDuration::from_millis(30));
}

#[test]
fn silence_becomes_a_timestamp_gap_not_a_loss_and_dtmf_passes_through() {
    let talk = TalkSpurtModel::cycle(
        SimDuration::from_millis(500),
        SimDuration::from_millis(500),
        SimTime::ZERO,
    );
    let (t, out) = run(
        Codec::Pcma,
        20,
        talk,
        SilenceMode::Suppressed,
        Some(SimTime::from_millis(1200)),
    );
    let reprs: Vec<_> = out
        .iter()
        .map(|(_, v)| RtpRepr::parse(v).unwrap())
        .collect();
    assert!(
        reprs
            .windows(2)
            .all(|w| w[1].sequence_number == w[0].sequence_number.wrapping_add(1))
    );
    let audio: Vec<_> = reprs.iter().filter(|r| r.payload_type == 8).collect();
    // A new talk spurt after silence is marked and jumps in timestamp.
    // Talk 0-0.5 s and 1.0-1.5 s (the run ends at 2 s); the digit at 1.2 s interrupts the
    // audio. Three marked starts (0, 1.0 s, after the digit) and two timestamp jumps.
    let jumps = audio
        .windows(2)
        .filter(|w| w[1].timestamp.wrapping_sub(w[0].timestamp) > 160)
        .count();
    assert_eq!(jumps, 2);
    assert_eq!(audio.iter().filter(|r| r.marker).count(), 3);
    let silence_gap = audio[25].timestamp.wrapping_sub(audio[24].timestamp);
    assert_eq!(
        silence_gap,
        160 * 26,
        "0.5 s of silence between the first two spurts"
    );
    let events: Vec<_> = reprs
        .iter()
        .filter(|r| r.payload_type == 101)
        .map(|r| TelephoneEvent::parse(r.payload).unwrap())
        .collect();
    assert_eq!(events.len(), 7);
    assert!(events.iter().all(|e| e.event == 11));
    assert_eq!(t.stats().events_forwarded, 7);
}

#[test]
fn tandem_coding_costs_quality() {
    // Direct G.711 versus RTAudio on the Lync leg transcoded to G.711 on the PSTN leg, at
    // 1 % random loss on each leg.
    let g711 = Codec::Pcmu.profile();
    let rta = Codec::RtAudioNb.profile();
    let stage = |p: voicetwin::rtp::CodecProfile| CodecStage {
        ie: p.ie,
        bpl: p.bpl,
        ppl: 1.0,
        burst_r: 1.0,
    };
    let direct = DirectionInput {
        mouth_to_ear_ms: 90.0,
        stages: vec![stage(g711)],
    };
    let tandem = DirectionInput {
        mouth_to_ear_ms: 100.0,
        stages: vec![stage(rta), stage(g711)],
    };
    assert!(tandem.evaluate(Variant::Full).mos < direct.evaluate(Variant::Full).mos - 0.2);
}
