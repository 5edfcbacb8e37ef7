//! The on/off conversational speech model of ITU-T P.59 (03/1993) "Artificial
//! conversational speech", Table 1: talk spurts last 1.004 s and pauses 1.587 s on average,
//! both exponentially distributed, so a party talks 38.7 % of the time (P.59 measures
//! 38.53 %).
//!
//! We use the two-state model per party, each party with its own random stream (one per call
//! and party). P.59's four-state conversation model (double talk 0.228 s, mutual silence
//! 0.508 s) couples the two parties; the independent model over-estimates double talk
//! (15 % instead of 6.6 %), which matters for neither packet counts per direction nor
//! voice quality, so we keep the simpler one.
//!
//! The model is queried with non-decreasing times and draws lazily, so a call that lasts
//! longer draws more and nothing else changes.

use crate::sim::{SimDuration, SimRng, SimTime};
use rand::Rng;

/// Whether a party is talking.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Voice {
    Talking,
    Silent,
}

/// Mean durations of the on/off model.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct TalkSpurtParams {
    pub mean_talk_spurt: SimDuration,
    pub mean_pause: SimDuration,
}

impl TalkSpurtParams {
    /// ITU-T P.59 Table 1: talk spurt 1.004 s, pause 1.587 s.
    pub const P59: TalkSpurtParams = TalkSpurtParams {
        mean_talk_spurt: SimDuration::from_millis(1004),
        mean_pause: SimDuration::from_millis(1587),
    };

    /// The long-run share of time spent talking.
    pub fn activity(&self) -> f64 {
        let on = self.mean_talk_spurt.as_secs_f64();
        on / (on + self.mean_pause.as_secs_f64())
    }
}

#[derive(Clone, Debug)]
enum Kind {
    /// Exponential on/off durations from a random stream.
    Random {
        rng: Box<SimRng>,
        params: TalkSpurtParams,
    },
    /// A fixed cycle (tests, scripted scenarios): talk `on`, then pause `off`, repeated.
    Cycle { on: SimDuration, off: SimDuration },
    /// Always in one state (a party that never pauses, or a muted one).
    Constant,
}

/// A party's voice activity over time.
#[derive(Clone, Debug)]
pub struct TalkSpurtModel {
    kind: Kind,
    state: Voice,
    /// When `state` ends (`SimTime::MAX` for a constant model).
    until: SimTime,
}

impl TalkSpurtModel {
    /// The P.59 model starting at `start`, in its stationary distribution: the first state is
    /// drawn with the activity probability, and (being exponential) its residual duration
    /// has the same law as a full one.
    pub fn p59(rng: SimRng, start: SimTime) -> Self {
        Self::random(rng, TalkSpurtParams::P59, start)
    }

    /// An on/off model with other means.
    pub fn random(mut rng: SimRng, params: TalkSpurtParams, start: SimTime) -> Self {
        let state = if rng.random::<f64>() < params.activity() {
            Voice::Talking
        } else {
            Voice::Silent
        };
        let mut m = TalkSpurtModel {
            kind: Kind::Random {
                rng: Box::new(rng),
                params,
            },
            state,
            until: start,
        };
        m.until = start + m.draw(state);
        m
    }

    /// Talks for `on`, pauses for `off`, and so on, starting to talk at `start`.
    pub fn cycle(on: SimDuration, off: SimDuration, start: SimTime) -> Self {
        TalkSpurtModel {
            kind: Kind::Cycle { on, off },
            state: Voice::Talking,
            until: start + on,
        }
    }

    /// Always `voice`.
    pub fn constant(voice: Voice) -> Self {
        TalkSpurtModel {
            kind: Kind::Constant,
            state: voice,
            until: SimTime::MAX,
        }
    }

    fn draw(&mut self, state: Voice) -> SimDuration {
        match &mut self.kind {
            Kind::Random { rng, params } => {
                let mean = match state {
                    Voice::Talking => params.mean_talk_spurt,
                    Voice::Silent => params.mean_pause,
                };
                // Inverse CDF with libm so the draw is the same on every platform; 1 - u is
                // in (0, 1], so the log is finite.
                let u = 1.0 - rng.random::<f64>();
                let d = SimDuration::from_secs_f64(-libm::log(u) * mean.as_secs_f64());
                // A zero-length state would not change anything observable; keep 1 ns so
                // time always advances.
                d.max(SimDuration::from_nanos(1))
            }
            Kind::Cycle { on, off } => match state {
                Voice::Talking => *on,
                Voice::Silent => *off,
            }
            .max(SimDuration::from_nanos(1)),
            Kind::Constant => SimDuration::MAX,
        }
    }

    /// The voice state at `t`. Times must not decrease between calls (earlier times return
    /// the current state).
    pub fn voice_at(&mut self, t: SimTime) -> Voice {
        while t >= self.until && self.until != SimTime::MAX {
            self.state = match self.state {
                Voice::Talking => Voice::Silent,
                Voice::Silent => Voice::Talking,
            };
            let d = self.draw(self.state);
            self.until += d;
        }
        self.state
    }

    /// When the current state ends.
    pub fn current_until(&self) -> SimTime {
        self.until
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RngFactory;

    #[test]
    fn p59_means_and_activity_within_statistical_bounds() {
        let f = RngFactory::new(59);
        let mut m = TalkSpurtModel::p59(f.indexed_stream("call", "talkspurt", 0), SimTime::ZERO);
        let (mut on, mut off) = (Vec::new(), Vec::new());
        let mut t = SimTime::ZERO;
        let mut last = m.voice_at(t);
        let mut start = t;
        // Walk state changes for 20 000 s of speech.
        while t < SimTime::from_secs(20_000) {
            t = m.current_until();
            let v = m.voice_at(t);
            assert_ne!(v, last);
            let d = (t - start).as_secs_f64();
            if start != SimTime::ZERO {
                match last {
                    Voice::Talking => on.push(d),
                    Voice::Silent => off.push(d),
                }
            }
            last = v;
            start = t;
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        // An exponential's standard deviation equals its mean, so the sample mean of n
        // draws has a relative standard error of 1/sqrt(n) (~1.3 % for n ~ 7700). Allow 4
        // standard errors.
        let n = on.len() as f64;
        assert!(n > 7000.0);
        let tol = 4.0 / n.sqrt();
        assert!((mean(&on) / 1.004 - 1.0).abs() < tol, "talk {}", mean(&on));
        assert!(
            (mean(&off) / 1.587 - 1.0).abs() < tol,
            "pause {}",
            mean(&off)
        );
        let act = on.iter().sum::<f64>() / (on.iter().sum::<f64>() + off.iter().sum::<f64>());
        assert!(
            (act - TalkSpurtParams::P59.activity()).abs() < 0.02,
            "activity {act}"
        );
        assert!((TalkSpurtParams::P59.activity() - 0.3875).abs() < 1e-3);
    }

    #[test]
    fn streams_per_party_are_reproducible_and_independent() {
        let f = RngFactory::new(1);
        let trace = |party| {
            let mut m =
                TalkSpurtModel::p59(f.indexed_stream("call7", "talkspurt", party), SimTime::ZERO);
            (0..50)
                .map(|_| {
                    let t = m.current_until();
                    m.voice_at(t);
                    t
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(trace(0), trace(0));
        assert_ne!(trace(0), trace(1));
    }

    #[test]
    fn cycle_and_constant() {
        let ms = SimDuration::from_millis;
        let mut c = TalkSpurtModel::cycle(ms(100), ms(50), SimTime::ZERO);
        assert_eq!(c.voice_at(SimTime::from_millis(99)), Voice::Talking);
        assert_eq!(c.voice_at(SimTime::from_millis(100)), Voice::Silent);
        assert_eq!(c.voice_at(SimTime::from_millis(150)), Voice::Talking);
        let mut k = TalkSpurtModel::constant(Voice::Talking);
        assert_eq!(k.voice_at(SimTime::from_secs(1_000_000)), Voice::Talking);
    }
}
