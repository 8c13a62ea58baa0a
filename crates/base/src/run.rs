//! Where a run is, how fast it goes and why it stopped: the same for every lab, so one runner
//! drives them and one page component shows them.

use serde::{Deserialize, Serialize};

/// What a lab counts its progress in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Training steps.
    #[default]
    Step,
    /// Simulated milliseconds.
    Ms,
}

/// How far a run is: `done` of `total` units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Position {
    pub done: f64,
    pub total: f64,
    pub unit: Unit,
}

impl Position {
    pub fn steps(done: u32, total: u32) -> Position {
        Position {
            done: f64::from(done),
            total: f64::from(total),
            unit: Unit::Step,
        }
    }

    pub fn ms(done: f64, total: f64) -> Position {
        Position {
            done,
            total,
            unit: Unit::Ms,
        }
    }

    pub fn finished(&self) -> bool {
        self.done >= self.total
    }

    /// Units left to the end (at least 0).
    pub fn left(&self) -> f64 {
        (self.total - self.done).max(0.0)
    }

    pub fn fraction(&self) -> f64 {
        if self.total > 0.0 {
            (self.done / self.total).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    /// "step 40 / 100" or "t = 1.00 s of 10.00 s".
    pub fn text(&self) -> String {
        match self.unit {
            Unit::Step => format!("step {} / {}", self.done as u64, self.total as u64),
            Unit::Ms => format!(
                "t = {:.2} s of {:.2} s",
                self.done / 1000.0,
                self.total / 1000.0
            ),
        }
    }

    /// "850 steps/s" or "24.0× real time" for `rate` units per wall second.
    pub fn rate_text(&self, rate: f64) -> String {
        match self.unit {
            Unit::Step => format!("{} steps/s", fmt_rate(rate)),
            Unit::Ms => format!("{:.1}× real time", rate / 1000.0),
        }
    }
}

fn fmt_rate(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Where a run is, as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for the worker (loading, choosing a backend, building the session).
    #[default]
    Starting,
    /// Preparing the session's inputs (training a source model) before it can run.
    Preparing,
    /// A session exists and is not running.
    Ready,
    Running,
    Paused,
    /// The budget was reached.
    Finished,
    /// The loss or the weights became NaN/Inf.
    Diverged,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Preparing => "preparing",
            Phase::Ready => "ready",
            Phase::Running => "running",
            Phase::Paused => "paused",
            Phase::Finished => "finished",
            Phase::Diverged => "diverged",
        }
    }

    /// A run can start or continue from here.
    pub fn can_run(self) -> bool {
        matches!(self, Phase::Ready | Phase::Paused | Phase::Preparing)
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum StopReason {
    Paused,
    /// The budget (steps or duration) was reached.
    Finished,
    /// Preparation ended; the session waits for Run.
    Prepared,
    /// A value became NaN/Inf at `at` (steps or ms).
    Diverged {
        at: f64,
        message: String,
    },
    /// The session failed; the message is for the user.
    Failed {
        message: String,
    },
}

impl StopReason {
    /// The phase a run is in after stopping for this reason.
    pub fn phase(&self, position: &Position) -> Phase {
        match self {
            StopReason::Finished => Phase::Finished,
            StopReason::Diverged { .. } => Phase::Diverged,
            StopReason::Prepared => Phase::Ready,
            StopReason::Paused | StopReason::Failed { .. } if position.finished() => {
                Phase::Finished
            }
            StopReason::Paused | StopReason::Failed { .. } => Phase::Paused,
        }
    }
}

/// Units per wall second, smoothed over measurement windows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rate {
    since_ms: f64,
    since: f64,
    per_s: f64,
}

impl Rate {
    /// Start a window at `now_ms`, position `at`.
    pub fn restart(&mut self, now_ms: f64, at: f64) {
        self.since_ms = now_ms;
        self.since = at;
    }

    /// Close the window at `now_ms`, position `at`; returns the smoothed rate and opens the next.
    pub fn update(&mut self, now_ms: f64, at: f64) -> f64 {
        let dt_ms = now_ms - self.since_ms;
        if dt_ms > 0.0 && at > self.since {
            let now = (at - self.since) * 1000.0 / dt_ms;
            self.per_s = if self.per_s > 0.0 {
                0.6 * self.per_s + 0.4 * now
            } else {
                now
            };
        }
        self.restart(now_ms, at);
        self.per_s
    }

    pub fn per_s(&self) -> f64 {
        self.per_s
    }
}

/// "1m 15s", "2h 01m", "4.2 s".
pub fn fmt_duration(secs: f64) -> String {
    if !secs.is_finite() {
        return "—".to_string();
    }
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        format!("{}m {:02}s", (secs / 60.0) as u32, (secs % 60.0) as u32)
    } else {
        format!(
            "{}h {:02}m",
            (secs / 3600.0) as u32,
            ((secs % 3600.0) / 60.0) as u32
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_as_steps_or_time() {
        let p = Position::steps(40, 100);
        assert_eq!(p.text(), "step 40 / 100");
        assert_eq!(p.rate_text(20.0), "20.0 steps/s");
        assert_eq!(p.fraction(), 0.4);
        let t = Position::ms(1000.0, 10_000.0);
        assert_eq!(t.text(), "t = 1.00 s of 10.00 s");
        assert_eq!(t.rate_text(24_000.0), "24.0× real time");
        assert!(Position::ms(10.0, 10.0).finished());
        assert_eq!(fmt_duration(75.0), "1m 15s");
        assert_eq!(fmt_duration(7300.0), "2h 01m");
    }

    #[test]
    fn rates_smooth_over_windows() {
        let mut r = Rate::default();
        r.restart(0.0, 0.0);
        assert_eq!(r.update(1000.0, 10.0), 10.0);
        assert_eq!(r.update(2000.0, 30.0), 0.6 * 10.0 + 0.4 * 20.0);
        // No progress: the rate holds.
        assert_eq!(r.update(3000.0, 30.0), r.per_s());
    }

    #[test]
    fn stop_reasons_map_to_phases() {
        let p = Position::steps(5, 10);
        assert_eq!(StopReason::Paused.phase(&p), Phase::Paused);
        assert_eq!(StopReason::Finished.phase(&p), Phase::Finished);
        let d = StopReason::Diverged {
            at: 5.0,
            message: "loss is NaN".into(),
        };
        assert_eq!(d.phase(&p), Phase::Diverged);
        assert_eq!(
            StopReason::Paused.phase(&Position::steps(10, 10)),
            Phase::Finished
        );
    }
}
