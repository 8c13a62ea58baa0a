//! One run-state fold for every lab: where the run is (phase, position, rate, preparation),
//! folded from the lab-generic events, and the texts the progress bar shows. Plain data, tested
//! natively; the components that draw it live in [`crate::shell`].

use neurolab_base::msg::LabEvent;
use neurolab_base::run::fmt_duration;
use neurolab_base::{Lab, Phase, Position, StopReason, Unit};

/// Preparation under way (an SAE's source model training).
#[derive(Debug, Clone, PartialEq)]
pub struct Preparing {
    pub what: String,
    pub done: u32,
    pub total: u32,
    /// Preparing now (otherwise paused, or waiting for Run).
    pub running: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunState {
    pub phase: Phase,
    pub position: Position,
    /// Units per wall second (steps/s, or simulated ms per second).
    pub rate: f64,
    pub preparing: Option<Preparing>,
    /// Why the session differs from what was asked (another engine, a fallback).
    pub note: Option<String>,
    /// The lab's last failure, for the user.
    pub error: Option<String>,
    /// Why the run last stopped.
    pub stop: Option<StopReason>,
}

impl RunState {
    /// A new session was asked for: forget the old run until the worker confirms.
    pub fn expect_session(&mut self, plan: Position) {
        *self = RunState {
            position: plan,
            ..RunState::default()
        };
    }

    /// Fold one event of the lab.
    pub fn apply<L: Lab>(&mut self, event: &LabEvent<L>) {
        match event {
            LabEvent::Configured { position, note, .. } => {
                self.position = *position;
                if note.is_some() {
                    self.note = note.clone();
                }
                self.error = None;
                self.stop = None;
                self.rate = 0.0;
                self.preparing = None;
                self.phase = Phase::Ready;
            }
            LabEvent::Preparing {
                what,
                done,
                total,
                running,
            } => {
                self.preparing = Some(Preparing {
                    what: what.clone(),
                    done: *done,
                    total: *total,
                    running: *running,
                });
                self.phase = Phase::Preparing;
            }
            LabEvent::Progress {
                position,
                rate,
                running,
            } => {
                self.position = *position;
                self.rate = *rate;
                if *running {
                    self.preparing = None;
                    self.phase = Phase::Running;
                }
            }
            LabEvent::Stopped { position, reason } => {
                self.position = *position;
                self.phase = reason.phase(position);
                if *reason == StopReason::Prepared {
                    self.preparing = None;
                }
                self.stop = Some(reason.clone());
                if let StopReason::Diverged { message, .. } | StopReason::Failed { message } =
                    reason
                {
                    self.error = Some(message.clone());
                }
            }
            LabEvent::Failed { message } => {
                self.error = Some(message.clone());
                if self.phase == Phase::Starting {
                    // Nothing was built: the form shows what to change.
                    self.phase = Phase::Ready;
                }
            }
            LabEvent::Report { .. }
            | LabEvent::Answer { .. }
            | LabEvent::Recorded { .. }
            | LabEvent::Exported { .. } => {}
        }
    }

    /// Whether Run can start or continue the run.
    pub fn can_run(&self) -> bool {
        self.phase.can_run() && !self.preparing.as_ref().is_some_and(|p| p.running)
    }

    /// Seconds left at the current speed, while running.
    pub fn eta_secs(&self) -> Option<f64> {
        (self.phase == Phase::Running && self.rate > 0.0).then(|| self.position.left() / self.rate)
    }

    /// "step 120 / 300 · 850 steps/s · ETA 0.2 s", or what is being prepared.
    pub fn progress_text(&self) -> String {
        if let (Some(p), Phase::Preparing | Phase::Starting) = (&self.preparing, self.phase) {
            return if p.total > 0 {
                format!("{}: {} / {}", p.what, p.done, p.total)
            } else {
                format!("{}…", p.what)
            };
        }
        if self.phase == Phase::Starting {
            return "starting…".to_string();
        }
        let mut s = self.position.text();
        if self.rate > 0.0 {
            s.push_str(&format!(" · {}", self.position.rate_text(self.rate)));
        }
        if let Some(eta) = self.eta_secs() {
            s.push_str(&format!(" · ETA {}", fmt_duration(eta)));
        }
        s
    }

    /// Fraction done, for the progress bar (of the preparation while it runs).
    pub fn progress_fraction(&self) -> f64 {
        match (&self.preparing, self.phase) {
            (Some(p), Phase::Preparing) if p.total > 0 => {
                (f64::from(p.done) / f64::from(p.total)).clamp(0.0, 1.0)
            }
            _ => self.position.fraction(),
        }
    }

    /// The Step button's label: "Step" or "+100 ms".
    pub fn step_label(unit: Unit, step_units: f64) -> String {
        match unit {
            Unit::Step if step_units == 1.0 => "Step".to_string(),
            Unit::Step => format!("+{step_units} steps"),
            Unit::Ms => format!("+{step_units} ms"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurolab_core::grok::{GrokLab, GrokSummary};

    fn ev(e: LabEvent<GrokLab>, s: &mut RunState) {
        s.apply(&e);
    }

    #[test]
    fn follows_a_run() {
        let mut s = RunState::default();
        s.expect_session(Position::steps(0, 100));
        assert_eq!(s.progress_text(), "starting…");
        ev(
            LabEvent::Configured {
                summary: GrokSummary::default(),
                position: Position::steps(0, 100),
                note: None,
            },
            &mut s,
        );
        assert_eq!(s.phase, Phase::Ready);
        ev(
            LabEvent::Progress {
                position: Position::steps(40, 100),
                rate: 20.0,
                running: true,
            },
            &mut s,
        );
        assert_eq!(s.phase, Phase::Running);
        assert_eq!(s.eta_secs(), Some(3.0));
        assert_eq!(
            s.progress_text(),
            "step 40 / 100 · 20.0 steps/s · ETA 3.0 s"
        );
        ev(
            LabEvent::Stopped {
                position: Position::steps(50, 100),
                reason: StopReason::Paused,
            },
            &mut s,
        );
        assert_eq!(s.phase, Phase::Paused);
        assert_eq!(s.eta_secs(), None);
        ev(
            LabEvent::Stopped {
                position: Position::steps(60, 100),
                reason: StopReason::Diverged {
                    at: 60.0,
                    message: "the loss became NaN".into(),
                },
            },
            &mut s,
        );
        assert_eq!(s.phase, Phase::Diverged);
        assert_eq!(s.error.as_deref(), Some("the loss became NaN"));
        assert!(!s.can_run());
        ev(
            LabEvent::Stopped {
                position: Position::steps(100, 100),
                reason: StopReason::Finished,
            },
            &mut s,
        );
        assert_eq!(s.phase, Phase::Finished);
        assert_eq!(s.progress_fraction(), 1.0);
    }

    #[test]
    fn preparation_shows_its_own_progress_and_waits_for_run() {
        let mut s = RunState::default();
        s.expect_session(Position::steps(0, 10));
        ev(
            LabEvent::Configured {
                summary: GrokSummary::default(),
                position: Position::steps(0, 10),
                note: Some("CPU engine".into()),
            },
            &mut s,
        );
        ev(
            LabEvent::Preparing {
                what: "training the toy model".into(),
                done: 300,
                total: 1500,
                running: true,
            },
            &mut s,
        );
        assert_eq!(s.phase, Phase::Preparing);
        assert_eq!(s.progress_text(), "training the toy model: 300 / 1500");
        assert!((s.progress_fraction() - 0.2).abs() < 1e-9);
        ev(
            LabEvent::Stopped {
                position: Position::steps(0, 10),
                reason: StopReason::Prepared,
            },
            &mut s,
        );
        assert_eq!(s.phase, Phase::Ready);
        assert_eq!(s.note.as_deref(), Some("CPU engine"));
        assert_eq!(RunState::step_label(Unit::Ms, 100.0), "+100 ms");
    }
}
