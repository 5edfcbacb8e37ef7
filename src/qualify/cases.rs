//! The plan's call cases: basic calls, identity, decline, forwarding, simultaneous ring,
//! transfer, hold, failover, call history, deployment features.

use super::cases_media;
use super::judge::{Observed, Symptom as S};
use super::plan::{Case, Ctx, always, none};
use super::rig::{PRODUCT_IP, Rig, ev, ext, pstn, script};
use crate::elements::CallOutcome;
use crate::elements::callbook::CallLog;
use crate::elements::script::{
    AnswerAction, ForwardMode, ForwardScript, HoldScript, SimulRingScript, TransferMode,
    TransferScript,
};
use crate::sim::SimDuration;
use crate::vendor::{
    CallScenario, Deployment, Direction, Feature, LyncSetting, Party, Setting, Support,
    TransferMode as Tm, VendorModel,
};

pub(crate) fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

pub(crate) fn call(d: Direction, remote: Party, f: Feature) -> CallScenario {
    CallScenario::basic(d, remote).with_feature(f)
}

/// Adds the call's limitation notes and checks it finished; returns the log.
pub(crate) fn log_of<'r>(rig: &'r Rig, obs: &mut Observed, tag: u64) -> Option<&'r CallLog> {
    let log = rig.log(tag);
    match log {
        Some(l) => obs.acted.extend(l.limitations.iter().cloned()),
        None => obs.symptom(S::CallFailed, format!("call {tag} never finished")),
    }
    log
}

fn status(l: &CallLog) -> String {
    match l.final_status {
        Some(s) => format!("{:?} {s}", l.outcome),
        None => format!("{:?}", l.outcome),
    }
}

/// Answered, two-way audio, and (when `ringback`) ringback or early media before answer.
pub(crate) fn connected(obs: &mut Observed, l: &CallLog, what: &str, ringback: bool) -> bool {
    if l.outcome != CallOutcome::Answered {
        obs.symptom(S::CallFailed, format!("{what}: {}", status(l)));
        return false;
    }
    obs.check(
        l.two_way_audio(),
        S::NoTwoWayAudio,
        format!("{what}: no two-way audio"),
    );
    if ringback {
        obs.check(
            l.ringback_at.is_some() || l.early_media_at.is_some(),
            S::NoRingback,
            format!("{what}: caller heard no ringback"),
        );
    }
    true
}

/// The PSTN or PBX party calling in, for the product's kind.
fn remotes(ctx: &Ctx<'_>) -> Vec<Party> {
    if ctx.is_gateway() {
        vec![Party::Pstn]
    } else {
        vec![Party::Pstn, Party::Pbx]
    }
}

fn basic_calls(ctx: &Ctx<'_>, d: Direction) -> Vec<CallScenario> {
    remotes(ctx)
        .into_iter()
        .map(|p| call(d, p, Feature::Basic))
        .collect()
}

fn basic(ctx: &Ctx<'_>, inbound: bool) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let parties: Vec<(u64, String)> = remotes(ctx)
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let n = 1 + i as u32;
            (n as u64, if p == Party::Pstn { pstn(n) } else { ext(n) })
        })
        .collect();
    for (tag, remote) in &parties {
        let s = if inbound {
            script(*tag, remote, &ev(*tag as u32))
        } else {
            script(*tag, &ev(*tag as u32), remote)
        };
        rig.place(1.0 + *tag as f64 * 0.1, s);
    }
    rig.run(40.0);
    let mut details = Vec::new();
    for (tag, remote) in &parties {
        if let Some(l) = log_of(&rig, &mut obs, *tag) {
            connected(&mut obs, l, remote, true);
            details.push(format!(
                "{}: answered, pdd {:.0} ms",
                if remote.starts_with("+1206") {
                    "PSTN"
                } else {
                    "PBX"
                },
                l.ringback_at
                    .or(l.early_media_at)
                    .map_or(0.0, |t| (t - l.started_at).as_secs_f64() * 1000.0)
            ));
        }
    }
    obs.detail = format!("{}; two-way audio", details.join(", "));
    Ok(obs)
}

fn caller_id(ctx: &Ctx<'_>, anonymous: bool) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let mut s = script(1, &pstn(1), &ev(1));
    s.anonymous = anonymous;
    rig.place(1.0, s);
    rig.place(1.0, script(2, &ev(2), &pstn(2)));
    rig.run(40.0);
    let sip = rig.sip();
    let to_lync = sip
        .iter()
        .find(|m| m.from(PRODUCT_IP) && m.is_request("INVITE"))
        .map(|m| m.text.clone())
        .unwrap_or_default();
    let digits = |n: &str| n.trim_start_matches('+').to_string();
    if anonymous {
        let hidden = !to_lync.contains(&digits(&pstn(1))) || to_lync.contains("Privacy: id");
        obs.check(
            to_lync.contains("anonymous") && hidden,
            S::CallerIdWrong,
            "the product's INVITE to Lync does not withhold the caller",
        );
    } else {
        obs.check(
            to_lync.contains(&digits(&pstn(1))),
            S::CallerIdWrong,
            "the PSTN caller's number is not in the product's INVITE",
        );
        let setup = rig
            .isdn()
            .into_iter()
            .find(|(_, from, _, l)| from == "product" && l.starts_with("SETUP"));
        let shown = setup
            .as_ref()
            .is_some_and(|(.., l)| l.contains(&digits(&ev(2))))
            || sip.iter().any(|m| {
                m.to(PRODUCT_IP) && m.is_request("INVITE") && m.text.contains(&digits(&ev(2)))
            });
        obs.check(
            shown,
            S::CallerIdWrong,
            "the Lync caller's number is not presented",
        );
    }
    for tag in [1, 2] {
        if let Some(l) = log_of(&rig, &mut obs, tag) {
            connected(
                &mut obs,
                l,
                if tag == 1 { "inbound" } else { "outbound" },
                false,
            );
        }
    }
    obs.detail = if anonymous {
        "From anonymous with Privacy: id; answered".into()
    } else {
        "caller numbers presented both ways; answered".into()
    };
    Ok(obs)
}

fn decline(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let mut s = script(1, &pstn(1), &ev(1));
    s.callee_action = AnswerAction::Decline;
    s.abandon_after = secs(20);
    rig.place(1.0, s);
    rig.run(60.0);
    let sip = rig.sip();
    let declined = sip.iter().find(|m| m.is_response(603) && m.to(PRODUCT_IP));
    obs.check(
        declined.is_some(),
        S::CallFailed,
        "Lync sent no 603 to the product",
    );
    let t603 = declined.map_or(0.0, |m| m.t);
    let released = rig.isdn().into_iter().find(|(t, from, to, l)| {
        from == "product" && to == "pstn" && *t >= t603 && l.starts_with("DISCONNECT")
    });
    match released {
        Some((t, ..)) if t - t603 < 2.0 => {
            obs.detail = format!("603 → ISDN DISCONNECT after {:.0} ms", (t - t603) * 1000.0)
        }
        _ => obs.symptom(
            S::CallerNotReleased,
            "no DISCONNECT toward the PSTN caller after the 603",
        ),
    }
    log_of(&rig, &mut obs, 1);
    Ok(obs)
}

fn forward(ctx: &Ctx<'_>, mode: ForwardMode) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let mut s = script(1, &pstn(1), &ev(1));
    if mode == ForwardMode::Busy {
        s.callee_action = AnswerAction::Busy;
    }
    s.forward = Some(ForwardScript {
        mode,
        target: pstn(60),
    });
    rig.place(1.0, s);
    rig.run(40.0);
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        if l.outcome != CallOutcome::Answered {
            obs.symptom(S::ForwardFailed, format!("forwarded call: {}", status(l)));
        } else {
            obs.check(
                l.two_way_audio(),
                S::NoTwoWayAudio,
                "no two-way audio with the target",
            );
            obs.detail = "forwarded to the PSTN target and answered; two-way audio".into();
        }
    }
    Ok(obs)
}

fn simul_ring(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    for (tag, target_answers) in [(1u64, false), (2, true)] {
        let mut s = script(tag, &pstn(tag as u32), &ev(tag as u32));
        s.callee_action = AnswerAction::Answer { after: secs(6) };
        s.secondary_ring = secs(3);
        s.simul_ring = Some(SimulRingScript {
            target: pstn(70 + tag as u32),
            target_answers,
        });
        rig.place(1.0 + tag as f64 * 30.0, s);
    }
    rig.run(100.0);
    for tag in [1, 2] {
        if let Some(l) = log_of(&rig, &mut obs, tag) {
            connected(
                &mut obs,
                l,
                if tag == 1 {
                    "client answers"
                } else {
                    "simul-ring target answers"
                },
                true,
            );
        }
    }
    obs.detail = "both forks ring; client-first and target-first both connect".into();
    Ok(obs)
}

fn transfer_target(ctx: &Ctx<'_>) -> (Party, String) {
    if ctx.is_gateway() {
        (Party::Pstn, pstn(80))
    } else {
        (Party::Pbx, ext(80))
    }
}

fn transfer(ctx: &Ctx<'_>, mode: TransferMode, target_answers: bool) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let (_, target) = transfer_target(ctx);
    let caller = if ctx.is_gateway() { pstn(1) } else { ext(1) };
    let mut s = script(1, &caller, &ev(1));
    s.holding = secs(40);
    s.transfer = Some(TransferScript {
        mode,
        after: secs(5),
        target: target.clone(),
        target_answers,
        by_caller: false,
    });
    rig.place(1.0, s);
    rig.run(if mode == TransferMode::Blind {
        15.0
    } else {
        30.0
    });
    let sip = rig.sip();
    if ctx.config.lync.refer {
        if let Some(refer) = sip
            .iter()
            .find(|m| m.is_request("REFER") && m.to(PRODUCT_IP))
        {
            obs.check(
                refer.header("Referred-By").is_some(),
                S::HistoryMissing,
                "REFER without Referred-By",
            );
        }
    }
    let refer_at = sip
        .iter()
        .find(|m| m.is_request("REFER") || (m.is_request("INVITE") && m.t > 8.0))
        .map_or(6.0, |m| m.t);
    let display = match rig.element("product") {
        Some(crate::elements::Element::Pbx(p)) => {
            p.station(&caller).and_then(|s| s.display.clone())
        }
        _ => None,
    };
    // The PBX learns the new party from the REFER it executes; a transfer Lync makes by
    // itself (REFER off) gives the PBX nothing to update its display or play from.
    let by_refer = ctx.config.lync.refer;
    if target_answers && mode == TransferMode::Blind && by_refer {
        if let Some(d) = &display {
            obs.check(
                *d != ev(1),
                S::StaleDisplay,
                format!("the PBX phone still shows {d}"),
            );
        }
        // Ringback to the transferee while the target rang: a tone at its PBX phone (a
        // consultative transfer completes after the target answered: nothing to hear).
        if let (TransferMode::Blind, true, Some(crate::elements::Element::Pbx(p))) =
            (mode, by_refer, rig.element("product"))
        {
            if let Some(st) = p.station(&caller) {
                let heard = st
                    .tones
                    .iter()
                    .any(|(t, _)| t.as_secs_f64() > refer_at - 0.5);
                obs.check(
                    heard,
                    S::NoRingbackDuringTransfer,
                    "the transferee heard no ringback while the target rang",
                );
            }
        }
    }
    rig.run(90.0);
    if let (TransferMode::Consultative, true, Some(crate::elements::Element::Pbx(p))) =
        (mode, ctx.config.lync.refer, rig.element("product"))
    {
        if let Some(d) = p.station(&caller).and_then(|s| s.last_display.clone()) {
            obs.check(
                d != ev(1),
                S::StaleDisplay,
                format!("the PBX phone still shows {d}"),
            );
        }
    }
    // The PBX's verdict on the REFER it executed: the last sipfrag it NOTIFYed.
    let sip = rig.sip();
    let referred = sip
        .iter()
        .any(|m| m.is_request("REFER") && m.to(PRODUCT_IP));
    let sipfrag = sip
        .iter()
        .filter(|m| m.from(PRODUCT_IP) && m.is_request("NOTIFY"))
        .filter_map(|m| m.text.lines().rev().find(|l| l.starts_with("SIP/2.0 ")))
        .next_back()
        .map(|l| l.trim().to_string());
    if referred && target_answers && sipfrag.as_deref().is_none_or(|f| !f.contains(" 200 ")) {
        obs.symptom(
            S::TransferFailed,
            format!(
                "the PBX reported {} to the REFER",
                sipfrag.as_deref().unwrap_or("nothing")
            ),
        );
    }
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        if target_answers {
            if l.outcome != CallOutcome::Answered || !l.two_way_audio() {
                obs.symptom(
                    S::TransferFailed,
                    format!("transferred call: {}", status(l)),
                );
            }
            obs.detail = format!(
                "{:?} transfer {} to {target}; connected{}",
                mode,
                if ctx.config.lync.refer {
                    "by REFER with Referred-By"
                } else {
                    "by Lync"
                },
                display.map_or(String::new(), |d| format!("; phone shows {d}"))
            );
        } else {
            let cut = rig.isdn().iter().any(|(t, from, _, lbl)| {
                from == "product" && lbl.starts_with("DISCONNECT") && *t < 40.0
            }) || l.ended_at.is_some_and(|t| t.as_secs_f64() < 40.0);
            obs.check(
                !cut,
                S::TransferNotRecovered,
                "the transferee was disconnected when the target did not answer",
            );
            obs.detail = "target did not answer; the call returned to the transferor".into();
        }
    }
    Ok(obs)
}

fn hold(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let callee = if ctx.is_gateway() { pstn(1) } else { ext(1) };
    let mut s = script(1, &ev(1), &callee);
    s.holding = secs(20);
    s.hold = Some(HoldScript {
        after: secs(5),
        duration: secs(4),
        by_caller: true,
    });
    rig.place(1.0, s);
    rig.run(40.0);
    let sip = rig.sip();
    let reinvites: Vec<_> = sip
        .iter()
        .filter(|m| m.to(PRODUCT_IP) && m.is_request("INVITE"))
        .skip(1)
        .collect();
    let refused = sip
        .iter()
        .filter(|m| m.from(PRODUCT_IP) && m.cseq_method() == Some("INVITE"))
        .filter_map(|m| m.status())
        .find(|s| *s >= 400);
    if let Some(code) = refused {
        obs.symptom(
            S::HoldRefused,
            format!("the product answered the hold with {code}"),
        );
    }
    let held = reinvites
        .iter()
        .any(|m| m.text.contains("a=sendonly") || m.text.contains("a=inactive"));
    obs.check(
        held || refused.is_some(),
        S::HoldRefused,
        "no hold re-INVITE reached the product",
    );
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        obs.check(!l.muted, S::ClientMuted, "the Lync client was left muted");
        connected(&mut obs, l, "held call", false);
    }
    obs.detail = format!(
        "hold (sendonly) and resume accepted, media bypass {}",
        if ctx.config.lync.media_bypass {
            "on"
        } else {
            "off"
        }
    );
    Ok(obs)
}

fn bypass_on(_: &VendorModel) -> Vec<Setting> {
    vec![Setting::Lync(LyncSetting::MediaBypass(true))]
}

fn bypass_possible(ctx: &Ctx<'_>) -> Result<(), String> {
    let c = &ctx.model.capabilities;
    if !ctx.config.lync.server.has_media_bypass() {
        return Err(format!("{:?} has no media bypass", ctx.config.lync.server));
    }
    if c.media_bypass_inbound == Support::No && c.media_bypass_outbound == Support::No {
        return Err("the product supports media bypass in neither direction".into());
    }
    Ok(())
}

fn failover(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut obs = Observed::default();
    // (a) one span of two out of service: the product hunts the other span.
    let mut rig = ctx.rig(|s| s.spans = 2)?;
    rig.span_down(0.5, "product-pri", 0);
    rig.place(1.0, script(1, &ev(1), &pstn(1)));
    rig.run(40.0);
    let mut detail = Vec::new();
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        if l.outcome == CallOutcome::Answered {
            detail.push(if l.failovers > 0 {
                "span down: alternate route"
            } else {
                "span down: next span"
            });
        } else {
            obs.symptom(S::NoFailover, format!("one span down: {}", status(l)));
        }
    }
    // (b) the whole PRI out of service: the product answers a failover code and Lync tries
    // the alternate gateway on the route.
    let mut rig = ctx.rig(|s| s.spans = 1)?;
    rig.span_down(0.5, "product-pri", 0);
    rig.place(1.0, script(2, &ev(2), &pstn(2)));
    rig.run(40.0);
    let code = rig
        .sip()
        .iter()
        .find(|m| m.from(PRODUCT_IP) && m.cseq_method() == Some("INVITE"))
        .and_then(|m| m.status().filter(|s| *s >= 300));
    if let Some(l) = log_of(&rig, &mut obs, 2) {
        let via_alt = l.route.iter().any(|id| rig.element_name(*id) == "alt");
        if l.outcome == CallOutcome::Answered && via_alt {
            detail.push("PRI down: product answered");
            obs.detail = format!(
                "{}; {} → Lync failed over to the alternate gateway",
                detail.join(", "),
                code.map_or("no code".to_string(), |c| c.to_string())
            );
        } else {
            obs.symptom(
                S::NoFailover,
                format!(
                    "PRI down: product sent {}, call {}",
                    code.map_or("nothing".to_string(), |c| c.to_string()),
                    status(l)
                ),
            );
        }
    }
    Ok(obs)
}

fn history(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|s| s.provider = true)?;
    let mut obs = Observed::default();
    let mut s = script(1, &pstn(1), &ev(1));
    s.forward = Some(ForwardScript {
        mode: ForwardMode::All,
        target: pstn(60),
    });
    rig.place(1.0, s);
    rig.run(40.0);
    let sip = rig.sip();
    let out = sip
        .iter()
        .filter(|m| m.from(PRODUCT_IP) && m.is_request("INVITE"))
        .find(|m| m.first_line().contains(pstn(60).trim_start_matches('+')));
    let has =
        out.is_some_and(|m| m.header("History-Info").is_some() || m.header("Diversion").is_some());
    obs.check(
        has,
        S::HistoryMissing,
        "the forwarded INVITE to the provider carries no History-Info or Diversion",
    );
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        if l.outcome != CallOutcome::Answered {
            obs.symptom(S::ForwardFailed, format!("provider refused: {}", status(l)));
        }
    }
    obs.detail = "forwarded call reached the provider with call history; answered".into();
    Ok(obs)
}

fn history_applies(ctx: &Ctx<'_>) -> Result<(), String> {
    if ctx.is_gateway() {
        return Err(
            "the gateway's provider side is an ISDN PRI: no SIP call-history headers".into(),
        );
    }
    if ctx.deployment != Deployment::IncrementalBehindPbx {
        return Err("run in the incremental deployment".into());
    }
    Ok(())
}

fn forward_history_on(_: &VendorModel) -> Vec<Setting> {
    vec![Setting::Lync(LyncSetting::ForwardCallHistory(true))]
}

pub(crate) fn product_is_pbx(ctx: &Ctx<'_>) -> Result<(), String> {
    if ctx.is_gateway() {
        Err("needs an IP-PBX station on the product side".into())
    } else {
        Ok(())
    }
}

fn dir_in(ctx: &Ctx<'_>, f: Feature) -> Vec<CallScenario> {
    vec![call(Direction::Inbound, Party::Pstn, f)]
        .into_iter()
        .chain((!ctx.is_gateway()).then(|| call(Direction::Inbound, Party::Pbx, f)))
        .collect()
}

/// The plan, in order.
pub(crate) fn plan() -> Vec<Case> {
    let mut p = vec![
        Case {
            name: "basic-inbound",
            area: "basic",
            settings: none,
            applies: always,
            calls: |c| basic_calls(c, Direction::Inbound),
            checks: &[S::CallFailed, S::NoRingback, S::NoTwoWayAudio],
            run: |c| basic(c, true),
        },
        Case {
            name: "basic-outbound",
            area: "basic",
            settings: none,
            applies: always,
            calls: |c| basic_calls(c, Direction::Outbound),
            checks: &[S::CallFailed, S::NoRingback, S::NoTwoWayAudio],
            run: |c| basic(c, false),
        },
        Case {
            name: "anonymous",
            area: "caller-id",
            settings: none,
            applies: always,
            calls: |_| vec![call(Direction::Inbound, Party::Pstn, Feature::Basic)],
            checks: &[S::CallerIdWrong, S::CallFailed, S::NoTwoWayAudio],
            run: |c| caller_id(c, true),
        },
        Case {
            name: "caller-id",
            area: "caller-id",
            settings: none,
            applies: always,
            calls: |_| {
                vec![
                    call(Direction::Inbound, Party::Pstn, Feature::Basic),
                    call(Direction::Outbound, Party::Pstn, Feature::Basic),
                ]
            },
            checks: &[S::CallerIdWrong, S::CallFailed, S::NoTwoWayAudio],
            run: |c| caller_id(c, false),
        },
        Case {
            name: "decline-603",
            area: "decline",
            settings: none,
            applies: always,
            calls: |_| vec![call(Direction::Inbound, Party::Pstn, Feature::Decline)],
            checks: &[S::CallerNotReleased, S::CallFailed],
            run: decline,
        },
        Case {
            name: "call-forward-all",
            area: "forward",
            settings: none,
            applies: always,
            calls: |_| {
                vec![call(
                    Direction::Inbound,
                    Party::Pstn,
                    Feature::Forward {
                        to: Party::Pstn,
                        early_media: false,
                    },
                )]
            },
            checks: &[S::ForwardFailed, S::NoTwoWayAudio],
            run: |c| forward(c, ForwardMode::All),
        },
        Case {
            name: "call-forward-busy",
            area: "forward",
            settings: none,
            applies: always,
            calls: |_| {
                vec![call(
                    Direction::Inbound,
                    Party::Pstn,
                    Feature::Forward {
                        to: Party::Pstn,
                        early_media: false,
                    },
                )]
            },
            checks: &[S::ForwardFailed, S::NoTwoWayAudio],
            run: |c| forward(c, ForwardMode::Busy),
        },
        Case {
            name: "simultaneous-ring",
            area: "simul-ring",
            settings: none,
            applies: always,
            calls: |_| {
                vec![call(
                    Direction::Inbound,
                    Party::Pstn,
                    Feature::SimulRing {
                        to: Party::Pstn,
                        early_media: false,
                    },
                )]
            },
            checks: &[S::CallFailed, S::NoTwoWayAudio, S::NoRingback],
            run: simul_ring,
        },
        Case {
            name: "blind-transfer",
            area: "transfer",
            settings: none,
            applies: always,
            calls: |c| {
                dir_in(
                    c,
                    Feature::Transfer {
                        mode: Tm::Blind,
                        target: transfer_target(c).0,
                    },
                )
            },
            checks: &[
                S::TransferFailed,
                S::StaleDisplay,
                S::NoRingbackDuringTransfer,
                S::HistoryMissing,
            ],
            run: |c| transfer(c, TransferMode::Blind, true),
        },
        Case {
            name: "blind-transfer-no-answer",
            area: "transfer",
            settings: none,
            applies: always,
            calls: |c| {
                dir_in(
                    c,
                    Feature::Transfer {
                        mode: Tm::Blind,
                        target: transfer_target(c).0,
                    },
                )
            },
            checks: &[S::TransferNotRecovered],
            run: |c| transfer(c, TransferMode::Blind, false),
        },
        Case {
            name: "consultative-transfer",
            area: "transfer",
            settings: none,
            applies: always,
            calls: |c| {
                dir_in(
                    c,
                    Feature::Transfer {
                        mode: Tm::Consultative,
                        target: transfer_target(c).0,
                    },
                )
            },
            checks: &[
                S::TransferFailed,
                S::StaleDisplay,
                S::NoRingbackDuringTransfer,
                S::HistoryMissing,
            ],
            run: |c| transfer(c, TransferMode::Consultative, true),
        },
        Case {
            name: "hold-bypass-off",
            area: "hold",
            settings: |_| vec![Setting::Lync(LyncSetting::MediaBypass(false))],
            applies: always,
            calls: |c| {
                vec![call(
                    Direction::Outbound,
                    transfer_target(c).0,
                    Feature::Hold,
                )]
            },
            checks: &[
                S::HoldRefused,
                S::ClientMuted,
                S::NoTwoWayAudio,
                S::CallFailed,
            ],
            run: hold,
        },
        Case {
            name: "hold-bypass-on",
            area: "hold",
            settings: bypass_on,
            applies: bypass_possible,
            calls: |c| {
                vec![call(
                    Direction::Outbound,
                    transfer_target(c).0,
                    Feature::Hold,
                )]
            },
            checks: &[
                S::HoldRefused,
                S::ClientMuted,
                S::NoTwoWayAudio,
                S::CallFailed,
            ],
            run: hold,
        },
        Case {
            name: "failover",
            area: "failover",
            settings: none,
            applies: always,
            calls: |_| {
                let mut c = call(Direction::Outbound, Party::Pstn, Feature::Basic);
                c.span_out_of_service = true;
                vec![c]
            },
            checks: &[S::NoFailover, S::CallFailed],
            run: failover,
        },
        Case {
            name: "history-toward-provider",
            area: "history",
            settings: forward_history_on,
            applies: history_applies,
            calls: |_| {
                vec![call(
                    Direction::Inbound,
                    Party::Pstn,
                    Feature::Forward {
                        to: Party::Pstn,
                        early_media: false,
                    },
                )]
            },
            checks: &[S::HistoryMissing, S::ForwardFailed],
            run: history,
        },
    ];
    p.extend(cases_media::plan());
    p
}
