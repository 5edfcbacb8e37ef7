//! The plan's media and trunk cases: early media, DTMF, comfort noise, RTCP, session
//! timers, PRACK, OPTIONS, the PBX's alternate route, voicemail, TLS/SRTP, the SDP
//! connection address, conference, and the dual-forking deployments.

use super::cases::{call, connected, log_of, product_is_pbx, secs};
use super::judge::{Observed, Symptom as S};
use super::plan::{Case, Ctx, always, none};
use super::rig::{MEDIATION_IP, PBX_VOICEMAIL, PRODUCT_IP, ev, ext, ivr, pstn, script};
use crate::elements::callbook::PartyRole;
use crate::elements::script::{AnswerAction, ForwardMode, ForwardScript, SimulRingScript};
use crate::elements::{CallOutcome, Command, Element};
use crate::vendor::{
    CallScenario, ConnectionAddress, Deployment, Direction, EncryptionLevel, Feature, LyncSetting,
    Party, Setting, SipTransport, Support, VendorModel,
};

fn caller(ctx: &Ctx<'_>) -> (Party, String) {
    if ctx.is_gateway() {
        (Party::Pstn, pstn(1))
    } else {
        (Party::Pbx, ext(1))
    }
}

fn early_media(ctx: &Ctx<'_>, how: u8) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    // The caller on the product's side is a PBX phone (whose ear the PBX reports) or a
    // PSTN line behind the gateway.
    let mut s = match how {
        0 => script(1, &ev(1), &ivr(1)),
        _ => script(1, &caller(ctx).1, &ev(1)),
    };
    match how {
        1 => {
            s.forward = Some(ForwardScript {
                mode: ForwardMode::All,
                target: ivr(1),
            })
        }
        2 => {
            s.callee_action = AnswerAction::Answer { after: secs(12) };
            s.simul_ring = Some(SimulRingScript {
                target: ivr(1),
                target_answers: false,
            });
        }
        _ => {}
    }
    rig.place(1.0, s);
    rig.run(60.0);
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        obs.check(
            l.early_media_at.is_some(),
            S::NoEarlyMedia,
            if l.ringback_at.is_some() {
                "the caller heard ringback, not the IVR's early media"
            } else {
                "the caller heard no early media"
            },
        );
        if l.outcome != CallOutcome::Answered {
            obs.symptom(S::CallFailed, format!("{:?}", l.outcome));
        }
        obs.detail = format!(
            "early media heard after {:.0} ms; answered",
            l.early_media_at
                .map_or(0.0, |t| (t - l.started_at).as_secs_f64() * 1000.0)
        );
    }
    Ok(obs)
}

fn dtmf(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let (_, from) = caller(ctx);
    let mut s = script(1, &from, &ev(1));
    s.dtmf = Some("1234".into());
    rig.place(1.0, s);
    let mut s = script(2, &ev(2), &pstn(2));
    s.dtmf = Some("42".into());
    rig.place(1.0, s);
    rig.run(40.0);
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        let got = l.media_for(PartyRole::Callee).map_or(0, |m| m.dtmf_digits);
        obs.check(
            got >= 4,
            S::NoDtmf,
            format!("Lync received {got} of 4 digits"),
        );
    }
    let inband = rig
        .isdn()
        .iter()
        .filter(|(_, from, _, l)| from != "pstn" && l.starts_with("DTMF"))
        .count();
    let rfc4733 = rig.rtp_from(PRODUCT_IP, 101);
    if let Some(l) = log_of(&rig, &mut obs, 2) {
        let got = l.media_for(PartyRole::Callee).map_or(0, |m| m.dtmf_digits);
        obs.check(
            got >= 2 || inband >= 2,
            S::NoDtmf,
            "digits from Lync did not reach the PSTN",
        );
    }
    obs.detail = format!("RFC 4733 both ways ({rfc4733} telephone-event packets from the product)");
    Ok(obs)
}

fn dtmf_early(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let (_, from) = caller(ctx);
    let mut s = script(1, &from, &ev(1));
    s.callee_action = AnswerAction::Answer { after: secs(12) };
    s.simul_ring = Some(SimulRingScript {
        target: ivr(1),
        target_answers: false,
    });
    s.dtmf = Some("1234".into());
    rig.place(1.0, s);
    rig.run(60.0);
    let events = rig.rtp_from(PRODUCT_IP, 101);
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        let early: u32 = l.media.iter().map(|m| m.dtmf_in_early_media).sum();
        if l.early_media_at.is_none() {
            obs.symptom(S::NoEarlyMedia, "no early media to send digits into");
        }
        obs.check(
            early > 0,
            S::NoDtmfInEarlyMedia,
            format!("no digit arrived during early media ({events} telephone-event packets from the product)"),
        );
        obs.detail = format!("{early} digits received during early media");
    }
    Ok(obs)
}

fn comfort_noise(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let (_, from) = caller(ctx);
    let mut s = script(1, &from, &ev(1));
    s.holding = secs(30);
    rig.place(1.0, s);
    rig.run(60.0);
    let offer = rig
        .sip()
        .into_iter()
        .find(|m| m.from(PRODUCT_IP) && m.is_request("INVITE"));
    let in_sdp = offer.is_some_and(|m| m.text.contains("CN/8000"));
    let packets = rig.rtp_from(PRODUCT_IP, 13);
    obs.check(
        in_sdp,
        S::NoComfortNoise,
        "no CN (PT 13) in the product's SDP",
    );
    obs.check(
        packets > 0,
        S::NoComfortNoise,
        "no CN packets from the product",
    );
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        let played = l
            .media_for(PartyRole::Callee)
            .is_some_and(|m| m.comfort_noise_played);
        obs.check(played, S::NoComfortNoise, "Lync played no comfort noise");
    }
    obs.detail = format!("PT 13 offered, {packets} CN packets, Lync played comfort noise");
    Ok(obs)
}

fn rtcp_applies(ctx: &Ctx<'_>) -> Result<(), String> {
    let has_rule = ctx
        .model
        .limitations
        .iter()
        .any(|r| r.behaviours.iter().any(|b| b.name() == "no-rtcp"));
    if !ctx.config.lync.rtcp && !has_rule {
        return Err("RTCP disabled in the recommended configuration".into());
    }
    if ctx.model.capabilities.rtcp == Support::No && !has_rule {
        return Err("the product sends no RTCP (capability table, no limitation ID)".into());
    }
    Ok(())
}

fn rtcp(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let (_, from) = caller(ctx);
    let mut s = script(1, &from, &ev(1));
    s.holding = secs(30);
    rig.place(1.0, s);
    rig.run(60.0);
    let reports = rig.rtcp_from(PRODUCT_IP);
    obs.check(reports > 0, S::NoRtcp, "no RTCP from the product");
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        let jitter = l
            .media_for(PartyRole::Callee)
            .and_then(|m| m.monitor_jitter_ms);
        obs.check(
            jitter.is_some(),
            S::NoRtcp,
            "Lync's monitoring has no jitter or loss",
        );
        obs.detail = format!(
            "{reports} RTCP packets; monitoring jitter {:.2} ms",
            jitter.unwrap_or(0.0)
        );
    }
    Ok(obs)
}

fn session_timers_applies(ctx: &Ctx<'_>) -> Result<(), String> {
    if !ctx.config.lync.session_timer {
        return Err("session timer off in the recommended configuration".into());
    }
    Ok(())
}

fn session_timers(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    rig.flow_media();
    let mut obs = Observed::default();
    let (_, from) = caller(ctx);
    let mut s = script(1, &from, &ev(1));
    s.holding = secs(1000);
    rig.place(1.0, s);
    rig.run(1100.0);
    let sip = rig.sip();
    let negotiated = sip
        .iter()
        .any(|m| m.is_response(200) && m.header("Session-Expires").is_some());
    let refresh = sip
        .iter()
        .filter(|m| m.t > 100.0 && m.t < 1000.0)
        .any(|m| m.is_request("INVITE") || m.is_request("UPDATE"));
    obs.check(
        negotiated,
        S::NoSessionTimer,
        "no Session-Expires in the 200 OK",
    );
    obs.check(refresh, S::NoSessionTimer, "no session refresh");
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        if l.outcome != CallOutcome::Answered || l.ended_at.is_none_or(|t| t.as_secs_f64() < 1000.0)
        {
            obs.symptom(S::CallFailed, "the call did not last its 1000 s");
        }
    }
    obs.detail = "Session-Expires negotiated, refreshed, 1000 s call kept".into();
    Ok(obs)
}

fn prack_applies(ctx: &Ctx<'_>) -> Result<(), String> {
    if !ctx.is_gateway() && !ctx.config.pbx.prack {
        return Err("PRACK disabled in the recommended configuration".into());
    }
    if ctx.is_gateway() && ctx.model.capabilities.prack != Support::Yes {
        return Err("the gateway does not use 100rel (capability table)".into());
    }
    Ok(())
}

fn prack(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let (_, remote) = caller(ctx);
    let remote2 = remote.replace("0001", "0002");
    rig.place(1.0, script(1, &ev(1), &remote));
    rig.place(1.0, script(2, &remote2, &ev(2)));
    rig.run(80.0);
    let sip = rig.sip();
    let reliable = sip.iter().filter(|m| {
        m.status().is_some_and(|s| (101..200).contains(&s)) && m.header("RSeq").is_some()
    });
    let pracks: Vec<_> = sip.iter().filter(|m| m.is_request("PRACK")).collect();
    let bad = pracks
        .iter()
        .filter(|m| m.header("Max-Forwards").is_none())
        .count();
    if bad > 0 {
        obs.symptom(S::PrackFailed, format!("{bad} PRACK without Max-Forwards"));
    }
    let n = reliable.count();
    obs.check(
        n > 0 && !pracks.is_empty(),
        S::PrackFailed,
        "no reliable provisional was PRACKed",
    );
    for tag in [1, 2] {
        if let Some(l) = log_of(&rig, &mut obs, tag) {
            connected(
                &mut obs,
                l,
                if tag == 1 { "outbound" } else { "inbound" },
                false,
            );
        }
    }
    obs.detail = format!("{n} reliable 18x, {} PRACKs", pracks.len());
    Ok(obs)
}

fn options_applies(ctx: &Ctx<'_>) -> Result<(), String> {
    let has_rule = ctx.model.limitations.iter().any(|r| {
        r.behaviours
            .iter()
            .any(|b| b.name() == "no-options-keepalive")
    });
    if ctx.model.capabilities.options_keepalive == Support::No && !has_rule {
        return Err("the product sends no OPTIONS (capability table, no limitation ID)".into());
    }
    Ok(())
}

fn options(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    rig.run(120.0);
    let sip = rig.sip();
    let from_product = sip
        .iter()
        .filter(|m| m.from(PRODUCT_IP) && m.is_request("OPTIONS"))
        .count();
    let from_lync = sip
        .iter()
        .filter(|m| m.from(MEDIATION_IP) && m.is_request("OPTIONS"))
        .count();
    obs.check(
        from_product > 0,
        S::NoOptions,
        "no OPTIONS from the product in 120 s",
    );
    obs.acted.extend(
        ctx.model
            .limitations
            .iter()
            .filter(|r| {
                r.behaviours
                    .iter()
                    .any(|b| b.name() == "no-options-keepalive")
            })
            .filter(|_| from_product == 0)
            .map(|r| r.id.as_str().to_string()),
    );
    obs.detail = format!("{from_product} OPTIONS from the product, {from_lync} from Lync in 120 s");
    Ok(obs)
}

fn alternate_route(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut obs = Observed::default();
    // Lync unreachable: the PBX should know from OPTIONS and reroute at once.
    let mut rig = ctx.rig(|s| s.alternate_route = true)?;
    rig.command(0.0, "med1", Command::Fail);
    let mut s = script(1, &ext(1), &ev(1));
    s.abandon_after = secs(90);
    rig.place(100.0, s);
    rig.run(220.0);
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        match l.answered_at {
            Some(t) => {
                let wait = (t - l.started_at).as_secs_f64();
                obs.check(
                    wait < 10.0,
                    S::NoOptions,
                    format!("rerouted only after {wait:.1} s (INVITE timeout)"),
                );
                obs.detail = format!("Lync down: alternate route after {wait:.1} s");
            }
            None => obs.symptom(
                S::CallFailed,
                "Lync down: the call never reached the alternate route",
            ),
        }
    }
    // Lync alive but slow to answer (15 s): the PBX must wait.
    let mut rig = ctx.rig(|s| s.alternate_route = true)?;
    let mut s = script(2, &ext(2), &ev(2));
    s.callee_action = AnswerAction::Answer { after: secs(15) };
    rig.place(1.0, s);
    rig.run(60.0);
    let cancel = rig
        .sip()
        .iter()
        .any(|m| m.from(PRODUCT_IP) && m.is_request("CANCEL"));
    obs.check(
        !cancel,
        S::PrematureReroute,
        "the PBX cancelled the ringing Lync call for its alternate route",
    );
    log_of(&rig, &mut obs, 2);
    Ok(obs)
}

fn voicemail(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let mut s = script(1, &ev(1), PBX_VOICEMAIL);
    s.holding = secs(20);
    rig.place(1.0, s);
    rig.run(60.0);
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        match (l.answered_at, l.ended_at) {
            (Some(a), Some(e)) => {
                let talk = (e - a).as_secs_f64();
                obs.check(
                    talk >= 19.0,
                    S::VoicemailCut,
                    format!("voicemail audio for {talk:.1} s, then BYE"),
                );
                obs.detail = format!("voicemail answered, {talk:.0} s of audio");
            }
            _ => obs.symptom(S::CallFailed, "voicemail did not answer"),
        }
    }
    Ok(obs)
}

fn tls_settings(m: &VendorModel) -> Vec<Setting> {
    let Some(t) = m
        .transports
        .iter()
        .find(|t| t.transport == SipTransport::Tls)
    else {
        return Vec::new();
    };
    vec![
        Setting::Lync(LyncSetting::Transport(SipTransport::Tls)),
        Setting::Lync(LyncSetting::GatewayPort(t.pbx_port)),
        Setting::Lync(LyncSetting::MediationPort(t.lync_port)),
        Setting::Lync(LyncSetting::Encryption(EncryptionLevel::Required)),
    ]
}

fn tls_applies(ctx: &Ctx<'_>) -> Result<(), String> {
    let c = &ctx.model.capabilities;
    match (c.tls, c.srtp) {
        (Support::No, _) | (_, Support::No) => Err("TLS/SRTP not supported (source)".into()),
        (Support::Untested, _) | (_, Support::Untested) => {
            Err("TLS/SRTP not tested by the source".into())
        }
        _ if !ctx
            .model
            .transports
            .iter()
            .any(|t| t.transport == SipTransport::Tls) =>
        {
            Err("the model offers no TLS transport".into())
        }
        _ => Ok(()),
    }
}

fn tls(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let (_, remote) = caller(ctx);
    rig.place(1.0, script(1, &remote, &ev(1)));
    rig.run(40.0);
    let invite = rig
        .sip()
        .into_iter()
        .find(|m| m.from(PRODUCT_IP) && m.is_request("INVITE"));
    let secure = invite
        .as_ref()
        .is_some_and(|m| m.header("Via").is_some_and(|v| v.contains("TLS")));
    obs.check(secure, S::NotSecure, "the trunk INVITE did not go over TLS");
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        connected(&mut obs, l, "TLS call", false);
    }
    obs.detail = format!(
        "SIP over TLS {}→{}, SRTP required; answered",
        invite.as_ref().map_or(0, |m| m.src.port()),
        invite.as_ref().map_or(0, |m| m.dst.port())
    );
    Ok(obs)
}

fn sdp_address(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    let (_, remote) = caller(ctx);
    let remote2 = remote.replace("0001", "0002");
    rig.place(1.0, script(1, &ev(1), &remote));
    rig.place(1.0, script(2, &remote2, &ev(2)));
    rig.run(40.0);
    let refused = rig
        .sip()
        .iter()
        .filter(|m| m.from(PRODUCT_IP))
        .filter_map(|m| m.status())
        .find(|s| *s == 488 || *s == 400);
    if let Some(code) = refused {
        obs.symptom(
            S::SdpRejected,
            format!("the product refused Lync's SDP with {code}"),
        );
    }
    for tag in [1, 2] {
        if let Some(l) = log_of(&rig, &mut obs, tag) {
            connected(
                &mut obs,
                l,
                if tag == 1 { "outbound" } else { "inbound" },
                false,
            );
        }
    }
    obs.detail = format!(
        "c= {:?} accepted both ways; answered",
        ctx.config.lync.sdp_connection
    );
    Ok(obs)
}

fn fqdn_applies(ctx: &Ctx<'_>) -> Result<(), String> {
    let has_rule = ctx.model.limitations.iter().any(|r| {
        r.behaviours
            .iter()
            .any(|b| b.name() == "fqdn-in-c-unsupported")
    });
    if ctx.model.capabilities.fqdn_in_sdp == Support::No && !has_rule {
        return Err("FQDN in c= not supported (capability table, no limitation ID)".into());
    }
    Ok(())
}

fn dual_forking(ctx: &Ctx<'_>) -> Result<Observed, String> {
    let mut rig = ctx.rig(|_| {})?;
    let mut obs = Observed::default();
    rig.place(1.0, script(1, &pstn(1), &ext(1)));
    rig.run(40.0);
    let sip = rig.sip();
    let forked = sip.iter().any(|m| {
        m.from(PRODUCT_IP)
            && m.is_request("INVITE")
            && m.first_line().contains(ext(1).trim_start_matches('+'))
    });
    obs.check(
        forked,
        S::FeatureMissing,
        "the PBX did not fork the call to Lync",
    );
    if ctx.deployment == Deployment::DualForkingWithRcc {
        let notifies = sip
            .iter()
            .filter(|m| m.from(PRODUCT_IP) && m.is_request("NOTIFY"))
            .count();
        obs.check(notifies >= 2, S::FeatureMissing, "no RCC line-state NOTIFY");
        obs.detail = format!("forked to phone and Lync; {notifies} RCC NOTIFYs");
    } else {
        obs.detail = "forked to phone and Lync; first answer wins".into();
    }
    if let Some(l) = log_of(&rig, &mut obs, 1) {
        connected(&mut obs, l, "dual-forked call", false);
    }
    if let Some(Element::Pbx(p)) = rig.element("product") {
        if let Some(st) = p.station(&ext(1)) {
            obs.detail
                .push_str(&format!("; phone last showed {:?}", st.last_display));
        }
    }
    Ok(obs)
}

fn dual_applies(ctx: &Ctx<'_>) -> Result<(), String> {
    match ctx.deployment {
        Deployment::DualForking | Deployment::DualForkingWithRcc => Ok(()),
        _ => Err("dual forking is a deployment of its own (Nortel CS 1000)".into()),
    }
}

fn product_side(ctx: &Ctx<'_>, f: Feature) -> Vec<CallScenario> {
    vec![call(Direction::Inbound, caller(ctx).0, f)]
}

fn both_ways(ctx: &Ctx<'_>) -> Vec<CallScenario> {
    let p = caller(ctx).0;
    vec![
        call(Direction::Inbound, p, Feature::Basic),
        call(Direction::Outbound, p, Feature::Basic),
    ]
}

pub(crate) fn plan() -> Vec<Case> {
    vec![
        Case {
            name: "early-media",
            area: "early-media",
            settings: none,
            applies: always,
            calls: |_| vec![call(Direction::Outbound, Party::Pstn, Feature::Basic)],
            checks: &[S::NoEarlyMedia, S::CallFailed],
            run: |c| early_media(c, 0),
        },
        Case {
            name: "forward-to-ivr-early-media",
            area: "early-media",
            settings: none,
            applies: always,
            calls: |c| {
                vec![call(
                    Direction::Inbound,
                    caller(c).0,
                    Feature::Forward {
                        to: Party::Pstn,
                        early_media: true,
                    },
                )]
            },
            checks: &[S::NoEarlyMedia],
            run: |c| early_media(c, 1),
        },
        Case {
            name: "simul-ring-ivr-early-media",
            area: "early-media",
            settings: none,
            applies: always,
            calls: |c| {
                vec![call(
                    Direction::Inbound,
                    caller(c).0,
                    Feature::SimulRing {
                        to: Party::Pstn,
                        early_media: true,
                    },
                )]
            },
            checks: &[S::NoEarlyMedia],
            run: |c| early_media(c, 2),
        },
        Case {
            name: "dtmf",
            area: "dtmf",
            settings: none,
            applies: always,
            calls: both_ways,
            checks: &[S::NoDtmf],
            run: dtmf,
        },
        Case {
            name: "dtmf-early-media",
            area: "dtmf",
            settings: none,
            applies: always,
            calls: |c| product_side(c, Feature::DtmfInEarlyMedia),
            checks: &[S::NoDtmfInEarlyMedia, S::NoEarlyMedia],
            run: dtmf_early,
        },
        Case {
            name: "comfort-noise",
            area: "comfort-noise",
            settings: none,
            applies: always,
            calls: |c| product_side(c, Feature::Basic),
            checks: &[S::NoComfortNoise],
            run: comfort_noise,
        },
        Case {
            name: "rtcp",
            area: "rtcp",
            settings: none,
            applies: rtcp_applies,
            calls: |c| product_side(c, Feature::Basic),
            checks: &[S::NoRtcp],
            run: rtcp,
        },
        Case {
            name: "session-timers",
            area: "session-timers",
            settings: none,
            applies: session_timers_applies,
            calls: |c| product_side(c, Feature::Basic),
            checks: &[S::NoSessionTimer, S::CallFailed],
            run: session_timers,
        },
        Case {
            name: "prack-100rel",
            area: "prack",
            settings: none,
            applies: prack_applies,
            calls: both_ways,
            checks: &[S::PrackFailed, S::CallFailed],
            run: prack,
        },
        Case {
            name: "options-keepalive",
            area: "options",
            settings: none,
            applies: options_applies,
            calls: |c| product_side(c, Feature::Basic),
            checks: &[S::NoOptions],
            run: options,
        },
        Case {
            name: "pbx-alternate-route",
            area: "failover",
            settings: none,
            applies: product_is_pbx,
            calls: |_| vec![call(Direction::Inbound, Party::Pbx, Feature::Basic)],
            checks: &[S::NoOptions, S::PrematureReroute, S::CallFailed],
            run: alternate_route,
        },
        Case {
            name: "pbx-voicemail",
            area: "basic",
            settings: none,
            applies: product_is_pbx,
            calls: |_| vec![call(Direction::Outbound, Party::Pbx, Feature::Voicemail)],
            checks: &[S::VoicemailCut, S::CallFailed],
            run: voicemail,
        },
        Case {
            name: "tls-srtp",
            area: "tls-srtp",
            settings: tls_settings,
            applies: tls_applies,
            calls: both_ways,
            checks: &[S::NotSecure, S::CallFailed, S::NoTwoWayAudio],
            run: tls,
        },
        Case {
            name: "sdp-c-ip",
            area: "sdp-address",
            settings: |_| {
                vec![Setting::Lync(LyncSetting::SdpConnection(
                    ConnectionAddress::Ip,
                ))]
            },
            applies: always,
            calls: both_ways,
            checks: &[S::SdpRejected, S::CallFailed, S::NoTwoWayAudio],
            run: sdp_address,
        },
        Case {
            name: "sdp-c-fqdn",
            area: "sdp-address",
            settings: |_| {
                vec![Setting::Lync(LyncSetting::SdpConnection(
                    ConnectionAddress::Fqdn,
                ))]
            },
            applies: fqdn_applies,
            calls: both_ways,
            checks: &[S::SdpRejected, S::CallFailed, S::NoTwoWayAudio],
            run: sdp_address,
        },
        Case {
            name: "conference",
            area: "conference",
            settings: none,
            applies: |_| {
                Err("not modelled: the elements layer has no A/V conferencing unit; a PSTN party joins a Lync conference through the same trunk as a basic call".into())
            },
            calls: |_| Vec::new(),
            checks: &[],
            run: |_| Ok(Observed::default()),
        },
        Case {
            name: "dual-forking",
            area: "deployment",
            settings: none,
            applies: dual_applies,
            calls: |_| vec![call(Direction::Inbound, Party::Pstn, Feature::Basic)],
            checks: &[S::FeatureMissing, S::CallFailed, S::NoTwoWayAudio],
            run: dual_forking,
        },
    ]
}
