//! The call scenarios the behaviour and regression tests run, each for a model and extra
//! trunk settings. Each returns the bench after the run; tests read the wire, the PBX and
//! the call logs from it.

use super::*;
use voicetwin::elements::script::{
    AnswerAction, ForwardMode, ForwardScript, HoldScript, SimulRingScript, TransferMode,
    TransferScript,
};
use voicetwin::sim::SimDuration;
use voicetwin::vendor::{LyncSetting, PbxSetting, Setting};

fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

pub fn with(mut b: BenchBuilder, settings: &[Setting]) -> BenchBuilder {
    for s in settings {
        b = b.set(s.clone());
    }
    b
}

pub fn bypass(on: bool) -> Setting {
    Setting::Lync(LyncSetting::MediaBypass(on))
}

pub fn refer(on: bool) -> Setting {
    Setting::Lync(LyncSetting::Refer(on))
}

pub fn prack(on: bool) -> Setting {
    Setting::Pbx(PbxSetting::Prack(on))
}

/// Call 1: Lync user ev(1) calls PBX phone ext(1), puts it on hold at +5 s for 4 s.
pub fn lync_holds_pbx_call(model: &str, settings: &[Setting]) -> Bench {
    let mut b = with(bench(model), settings).build();
    let mut s = script(1, &ev(1), &ext(1));
    s.hold = Some(HoldScript {
        after: secs(5),
        duration: secs(4),
        by_caller: true,
    });
    b.place(1.0, LYNC, s);
    b.run(40.0);
    b
}

/// Call 2: PSTN pstn(1) (or PBX phone ext(2)) calls Lync user ev(2), answered after 4 s.
pub fn inbound_call(model: &str, settings: &[Setting], from_pstn: bool) -> Bench {
    let mut b = with(bench(model), settings).build();
    let mut s = script(2, &if from_pstn { pstn(1) } else { ext(2) }, &ev(2));
    s.callee_action = AnswerAction::Answer { after: secs(4) };
    b.place(1.0, if from_pstn { PSTN } else { PBX }, s);
    b.run(40.0);
    b
}

/// Call 3: PSTN pstn(1) calls Lync user ev(3) who simul-rings a number with early media;
/// Lync answers the PBX with 183 and early RTP, then 200 after 6 s.
pub fn inbound_simul_ring_early_media(model: &str, settings: &[Setting]) -> Bench {
    let mut b = with(bench(model), settings)
        .lync(|l| l.early_media = true)
        .build();
    let mut s = script(3, &pstn(1), &ev(3));
    s.callee_action = AnswerAction::Answer { after: secs(6) };
    s.simul_ring = Some(SimulRingScript {
        target: pstn(300),
        target_answers: false,
    });
    b.place(1.0, PSTN, s);
    b.run(40.0);
    b
}

/// Call 4: PSTN pstn(1) calls Lync user ev(4), who declines; the caller would give up
/// after 20 s.
pub fn pstn_call_declined(model: &str, settings: &[Setting]) -> Bench {
    let mut b = with(bench(model), settings).build();
    let mut s = script(4, &pstn(1), &ev(4));
    s.callee_action = AnswerAction::Decline;
    s.abandon_after = secs(20);
    b.place(1.0, PSTN, s);
    b.run(60.0);
    b
}

/// Call 5: Lync user ev(5) calls pstn(5) while span 0 of the PRI is down (of `spans`).
pub fn outbound_with_span_down(model: &str, settings: &[Setting], spans: u16) -> Bench {
    let mut b = with(bench(model), settings).spans(spans).build();
    let port = b.pbx_port;
    b.command(
        0.5,
        PBX,
        voicetwin::elements::Command::SpanState {
            port,
            span: 0,
            in_service: false,
        },
    );
    b.place(1.0, LYNC, script(5, &ev(5), &pstn(5)));
    b.run(40.0);
    b
}

/// Call 6: a call from pstn(9) to Lync user ev(6) forwarded (CFA) by Lync to pstn(60): the
/// Mediation Server's INVITE reaches the PBX for the PSTN target. `history_info`: Lync's
/// ForwardCallHistory adds History-Info. The PSTN requires call history on forwarded calls
/// (except when the target is an IVR: `ivr`).
pub fn lync_forwards_to_pstn(
    model: &str,
    settings: &[Setting],
    history_info: bool,
    ivr: bool,
) -> Bench {
    let mut b = with(bench(model), settings)
        .lync(|l| l.history_info = history_info)
        .pstn(|p| {
            // The IVR variant checks early media alone, with a lenient provider.
            p.require_history = !ivr;
            if ivr {
                p.ivr = vec![pstn(60)];
            }
        })
        .build();
    let mut s = script(6, &pstn(9), &ev(6));
    s.dialled = pstn(60);
    s.forward = Some(ForwardScript {
        mode: ForwardMode::All,
        target: pstn(60),
    });
    b.place(1.0, LYNC, s);
    b.run(40.0);
    b
}

/// Call 7: the Lync side is dead from the start; PBX phone ext(7) calls ev(7) at 100 s with
/// the PBX voicemail as the alternate route.
pub fn call_to_dead_lync(model: &str, settings: &[Setting]) -> Bench {
    let mut b = with(bench(model), settings)
        .spec(|s| s.alternate_route = Some(VOICEMAIL.into()))
        .build();
    b.command(0.0, LYNC, voicetwin::elements::Command::Fail);
    let mut s = script(7, &ext(7), &ev(7));
    s.abandon_after = secs(90);
    b.place(100.0, PBX, s);
    b.run(200.0);
    b
}

/// Call 8: PBX phone ext(8) calls ev(8); Lync rings with a reliable 183 with SDP and
/// answers after 3 s.
pub fn reliable_early_media_from_lync(model: &str, settings: &[Setting]) -> Bench {
    let mut b = with(bench(model), settings)
        .lync(|l| {
            l.reliable = true;
            l.early_media = true;
        })
        .build();
    let mut s = script(8, &ext(8), &ev(8));
    s.callee_action = AnswerAction::Answer { after: secs(3) };
    b.place(1.0, PBX, s);
    b.run(60.0);
    b
}

/// Calls 9 (Lync ev(9) → ext(9)) and 10 (ext(10) → ev(10)) with the Mediation Server's
/// SDP holding `fqdn` in `c=` when given.
pub fn calls_with_sdp_address(model: &str, settings: &[Setting], fqdn: bool) -> Bench {
    let mut b = with(bench(model), settings)
        .lync(|l| {
            if fqdn {
                l.fqdn = Some(MED_FQDN.into());
            }
        })
        .build();
    b.place(1.0, LYNC, script(9, &ev(9), &ext(9)));
    b.place(1.0, PBX, script(10, &ext(10), &ev(10)));
    b.run(40.0);
    b
}

/// Call 11: PBX phone ext(11) calls ev(11), who answers after 15 s; the PBX voicemail is
/// the alternate route.
pub fn slow_answer_with_alternate_route(model: &str, settings: &[Setting], factory: bool) -> Bench {
    let mut b = with(bench(model), settings)
        .spec(|s| {
            s.alternate_route = Some(VOICEMAIL.into());
            s.factory_config = factory;
        })
        .build();
    let mut s = script(11, &ext(11), &ev(11));
    s.callee_action = AnswerAction::Answer { after: secs(15) };
    b.place(1.0, PBX, s);
    b.run(60.0);
    b
}

/// Call 12: PBX phone ext(12) calls ev(12); a plain basic call (media observables).
pub fn basic_outbound_from_pbx(model: &str, settings: &[Setting]) -> Bench {
    let mut b = with(bench(model), settings).build();
    b.place(1.0, PBX, script(12, &ext(12), &ev(12)));
    b.run(40.0);
    b
}

/// Call 13: PBX phone ext(13) calls ev(13) and presses digits while hearing Lync's early
/// media (183 with SDP); Lync answers after 5 s.
pub fn dtmf_in_early_media(model: &str, settings: &[Setting]) -> Bench {
    let mut b = with(bench(model), settings)
        .lync(|l| l.early_media = true)
        .build();
    let mut s = script(13, &ext(13), &ev(13));
    s.callee_action = AnswerAction::Answer { after: secs(5) };
    s.dtmf = Some("1234".into());
    b.place(1.0, PBX, s);
    b.run(40.0);
    b
}

/// Call 14: PSTN pstn(14) calls Lync user ev(14) whose client (media bypass) runs media at
/// its own address.
pub fn inbound_with_bypass_media(model: &str, settings: &[Setting], bypass_media: bool) -> Bench {
    let mut b = with(bench(model), settings)
        .lync(|l| {
            if bypass_media {
                l.media_ip = Some(CLIENT_IP);
            }
        })
        .build();
    b.place(1.0, PSTN, script(14, &pstn(14), &ev(14)));
    b.run(40.0);
    b
}

/// Call 15: Lync user ev(15) calls the PBX voicemail and talks 20 s.
pub fn call_to_pbx_voicemail(model: &str, settings: &[Setting]) -> Bench {
    let mut b = with(bench(model), settings).build();
    b.place(1.0, LYNC, script(15, &ev(15), VOICEMAIL));
    b.run(40.0);
    b
}

/// Call 16: a transfer by a Lync user. `origin` places the call to `lync_user`, the Lync
/// user transfers it (blind) at +5 s after answer to `target`, which answers after 3 s
/// (or never). `by_refer`: REFER, else a connected-identity re-INVITE.
pub fn lync_transfers(
    model: &str,
    settings: &[Setting],
    origin: (ElementId, String),
    lync_user: String,
    target: String,
    target_answers: bool,
    by_refer: bool,
) -> Bench {
    let mut b = with(bench(model), settings)
        .lync(|l| l.refer_transfers = by_refer)
        .build();
    let (from, caller) = origin;
    let lync_is_caller = from == LYNC;
    let mut s = if lync_is_caller {
        script(16, &lync_user, &caller)
    } else {
        script(16, &caller, &lync_user)
    };
    s.holding = SimDuration::from_secs(60);
    s.transfer = Some(TransferScript {
        mode: TransferMode::Blind,
        after: secs(5),
        target,
        target_answers,
        by_caller: lync_is_caller,
    });
    b.place(1.0, from, s);
    b.run(12.0);
    b
}
