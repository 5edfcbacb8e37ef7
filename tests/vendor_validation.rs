//! Broken model files give located errors: each case breaks a valid model in one place and
//! checks the message and the `file:line:column` of the error.

use std::path::Path;
use voicetwin::config::ConfigError;
use voicetwin::vendor;

fn source(id: &str) -> &'static str {
    vendor::builtin_sources()
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no model {id}"))
}

/// `id`'s file with the first `from` replaced by `to`, checked as `vendor-models/<id>.ron`.
fn broken(id: &str, from: &str, to: &str) -> (String, Vec<ConfigError>) {
    let text = source(id);
    assert!(text.contains(from), "{id} has no `{from}`");
    let text = text.replacen(from, to, 1);
    let path = format!("vendor-models/{id}.ron");
    let errors =
        vendor::check_file(Path::new(&path), &text).expect_err("the broken model must be rejected");
    (text, errors)
}

/// 1-based line of the first occurrence of `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let offset = text.find(needle).unwrap_or_else(|| panic!("no `{needle}`"));
    text[..offset].matches('\n').count() + 1
}

/// Asserts that one error contains `message` and sits on the line of `needle`.
fn assert_located(text: &str, errors: &[ConfigError], message: &str, needle: &str) {
    let line = line_of(text, needle);
    let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains(message) && e.line == line && e.column > 0),
        "no error `{message}` on line {line}; got:\n{}",
        all.join("\n")
    );
    assert!(
        all.iter().all(|e| e.starts_with("vendor-models/")),
        "errors name the file: {all:?}"
    );
}

#[test]
fn unknown_field_is_a_located_syntax_error() {
    let (text, errors) = broken(
        "aastra-mx-one-4.1",
        "    pbx_knobs: [ForcedGateway],",
        "    pbx_knobs: [ForcedGateway],\n    colour: 3,",
    );
    assert_located(&text, &errors, "colour", "colour: 3");
}

#[test]
fn wrong_top_level_struct_is_rejected() {
    let (_, errors) = broken("aastra-mx-one-4.1", "VendorModel(", "Topology(");
    assert!(
        errors[0]
            .message
            .contains("expected a `VendorModel(...)` file")
    );
    assert_eq!((errors[0].line, errors[0].column), (1, 1));
}

#[test]
fn id_must_match_the_file_name() {
    let text = source("aastra-mx-one-4.1");
    let errors =
        vendor::check_file(Path::new("vendor-models/mx-one.ron"), text).expect_err("rejected");
    assert_located(
        text,
        &errors,
        "does not match the file name `mx-one.ron`",
        "\"aastra-mx-one-4.1\"",
    );
}

#[test]
fn product_not_in_the_catalogue() {
    let text = source("aastra-mx-one-4.1").replacen("aastra-mx-one-4.1", "aastra-mx-two", 1);
    let errors = vendor::check_file(Path::new("vendor-models/aastra-mx-two.ron"), &text)
        .expect_err("rejected");
    assert_located(&text, &errors, "not in the catalogue", "\"aastra-mx-two\"");
}

#[test]
fn identity_must_agree_with_the_catalogue() {
    let (text, errors) = broken("aastra-mx-one-4.1", "\"V.4.1 SP3\"", "\"V.4.2\"");
    assert_located(
        &text,
        &errors,
        "differs from the catalogue's `V.4.1 SP3`",
        "\"V.4.2\"",
    );
}

#[test]
fn malformed_limitation_id_is_a_located_error() {
    let (text, errors) = broken("aastra-mx-one-4.1", "\"MX-L4\"", "\"MX-X4\"");
    assert_located(
        &text,
        &errors,
        "expected `C` (configuration) or `L`",
        "\"MX-X4\"",
    );
}

#[test]
fn limitation_ids_must_be_catalogued_and_complete() {
    let (text, errors) = broken("aastra-mx-one-4.1", "\"MX-L4\"", "\"MX-L9\"");
    assert_located(
        &text,
        &errors,
        "MX-L9: the ID is not in the catalogue",
        "\"MX-L9\"",
    );
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("catalogue limitation MX-L4 has no rule")),
        "{errors:?}"
    );
}

#[test]
fn duplicate_limitation_id_points_at_the_second_one() {
    let (text, errors) = broken("aastra-mx-one-4.1", "\"MX-L3\"", "\"MX-L2\"");
    let second = text.match_indices("\"MX-L2\"").nth(1).unwrap().0;
    let line = text[..second].matches('\n').count() + 1;
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("MX-L2: the ID is used twice") && e.line == line),
        "{errors:?}"
    );
}

#[test]
fn zero_capacity_is_rejected() {
    let (text, errors) = broken("aastra-mx-one-4.1", "value: 100", "value: 0");
    assert_located(&text, &errors, "zero", "value: 0");
}

#[test]
fn status_codes_must_be_in_range() {
    let (text, errors) = broken("alcatel-oxe-r9.1", "sent: 502", "sent: 702");
    assert_located(&text, &errors, "outside 100..=699", "sent: 702");
}

#[test]
fn version_strings_must_parse() {
    let (text, errors) = broken(
        "avaya-cm-ses-5.2.1",
        "\"5.2.1 SP1\"",
        "\"5.2.1 Service Pack 1\"",
    );
    assert_located(
        &text,
        &errors,
        "software version",
        "\"5.2.1 Service Pack 1\"",
    );
}

#[test]
fn a_workaround_that_keeps_the_trigger_is_rejected() {
    let (text, errors) = broken(
        "aastra-mx-one-4.1",
        "workaround: Configure(set: [Lync(Refer(false))], note: \"Disable REFER (the guide's solution).\"),",
        "workaround: Configure(set: [Lync(Refer(true))], note: \"Enable REFER.\"),",
    );
    assert_located(
        &text,
        &errors,
        "MX-L1: the workaround does not remove the trigger",
        "\"MX-L1\"",
    );
}

#[test]
fn a_what_if_that_changes_nothing_is_rejected() {
    let (text, errors) = broken(
        "alcatel-oxe-r9.1",
        "set: [Lync(Server(Lync2013)), Lync(TranslateResponseCode((from: 502, to: 503)))]",
        "set: [Lync(Server(Lync2013)), Lync(TranslateResponseCode((from: 502, to: 500)))]",
    );
    assert_located(
        &text,
        &errors,
        "OXE-L6: the what-if changes nothing",
        "\"OXE-L6\"",
    );
}

#[test]
fn an_upgrade_must_reach_a_fixed_release() {
    let (text, errors) = broken(
        "avaya-cm-ses-5.2.1",
        "Upgrade(to: \"5.2.1 SP1\"",
        "Upgrade(to: \"5.2.1\"",
    );
    assert_located(
        &text,
        &errors,
        "AVSES-L2: an upgrade to 5.2.1 must be newer",
        "\"AVSES-L2\"",
    );
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("does not remove the trigger"))
    );
}

#[test]
fn rules_must_agree_with_the_capability_table() {
    let (text, errors) = broken(
        "aastra-mx-one-4.1",
        "dtmf_in_early_media: No",
        "dtmf_in_early_media: Yes",
    );
    assert_located(
        &text,
        &errors,
        "needs capability DtmfInEarlyMedia to be `No`",
        "\"MX-L4\"",
    );
}

#[test]
fn pbx_knobs_must_be_declared() {
    let (text, errors) = broken("aastra-mx-one-4.1", "    pbx_knobs: [ForcedGateway],\n", "");
    assert_located(
        &text,
        &errors,
        "PBX knob ForcedGateway is used but not declared",
        "configuration:",
    );
}

#[test]
fn below_needs_an_ordered_knob() {
    let (text, errors) = broken(
        "avaya-cm-ses-5.2.1",
        "Below(Pbx(AlternateRouteTimer(30)))",
        "Below(Lync(Refer(true)))",
    );
    assert_located(
        &text,
        &errors,
        "AVSES-C1: `Below` needs an ordered knob",
        "\"AVSES-C1\"",
    );
}

#[test]
fn deployments_must_suit_the_role() {
    let (text, errors) = broken(
        "aastra-mx-one-4.1",
        "deployments: [IncrementalBehindPbx,",
        "deployments: [VoipOnly, IncrementalBehindPbx,",
    );
    assert_located(
        &text,
        &errors,
        "deployment VoipOnly is not possible for role IpPbx",
        "deployments:",
    );
}

#[test]
fn basic_hybrid_gateways_need_the_collocated_mediation_role() {
    let (text, errors) = broken(
        "aculab-applianx",
        "role: Gateway(BasicHybrid)",
        "role: Gateway(BasicGateway)",
    );
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("differs from the catalogue's"))
    );
    assert_located(
        &text,
        &errors,
        "CollocatedMediation feature",
        "deployment_features:",
    );
}

#[test]
fn gateways_cannot_exceed_their_b_channels() {
    let (text, errors) = broken(
        "cisco-isr-2851",
        "concurrent_calls: (value: 46",
        "concurrent_calls: (value: 47",
    );
    assert_located(
        &text,
        &errors,
        "cannot carry 47 concurrent calls on 46 B-channels",
        "concurrent_calls:",
    );
}

#[test]
fn recommended_configuration_must_be_runnable() {
    let (text, errors) = broken(
        "avaya-aura-sm-6.0.1",
        "set: [Lync(Transport(Tcp)), Lync(Encryption(NotSupported))]",
        "set: [Lync(Transport(Tcp))]",
    );
    assert_located(
        &text,
        &errors,
        "SRTP required, but the product does not support SRTP",
        "configuration:",
    );
}

#[test]
fn recommended_configuration_must_meet_preconditions() {
    let (text, errors) = broken(
        "cisco-ucm-6.1.1",
        "set: [Lync(Install(Ocs2007MediationServerAugust2008))],",
        "set: [],",
    );
    assert_located(
        &text,
        &errors,
        "does not meet the precondition",
        "preconditions:",
    );
}

#[test]
fn assumptions_must_give_a_reason() {
    let (text, errors) = broken(
        "seltatel-samoffice-4",
        "concurrent_calls: (value: 60, basis: Assumed(reason: \"Bounded by the SIP trunk licences, which the source does not give; 60 matches the two E1 spans.\"))",
        "concurrent_calls: (value: 60, basis: Assumed(reason: \" \"))",
    );
    assert_located(
        &text,
        &errors,
        "an assumption must give its reason",
        "concurrent_calls:",
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let text = source("aastra-mx-one-4.1")
        .replacen("\"MX-L4\"", "\"MX-L9\"", 1)
        .replacen("dtmf_in_early_media: No", "dtmf_in_early_media: Unknown", 1);
    let errors = vendor::check_file(Path::new("vendor-models/aastra-mx-one-4.1.ron"), &text)
        .expect_err("rejected");
    assert!(errors.len() >= 3, "{errors:?}");
    match vendor::parse_model(Path::new("vendor-models/aastra-mx-one-4.1.ron"), &text) {
        Err(vendor::Error::Invalid(es)) => assert_eq!(es, errors),
        other => panic!("{other:?}"),
    }
}

#[test]
fn configuration_ids_must_be_fixed_by_the_configuration_notes() {
    let (text, errors) = broken(
        "alcatel-oxe-r9.1",
        "set: [Lync(MediaBypass(false)), Lync(Rtcp(false)), Lync(Refer(false))],",
        "set: [Lync(Rtcp(false)), Lync(Refer(false))],",
    );
    assert_located(
        &text,
        &errors,
        "OXE-C1: a configuration-note ID (-C) needs",
        "\"OXE-C1\"",
    );
}
