mod common;
use common::scenarios::*;
use common::*;
#[test]
fn dbg() {
    let mut b = lync_transfers(
        "siemens-openscape-voice-6",
        &[refer(true)],
        (PSTN, pstn(1)),
        ev(1),
        ext(3),
        false,
        true,
    );
    b.run(90.0);
    eprintln!("{}", b.ladder());
    for l in &b.h.logs {
        eprintln!(
            "{:?} {:?} {:?} {:?} media {}",
            l.tag,
            l.outcome,
            l.final_status,
            l.limitations,
            l.media.len()
        );
    }
}
