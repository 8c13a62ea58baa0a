//! What the page knows about the run, as plain data updated from the worker's [`Event`]s.
//!
//! The page never sees tensors: it keeps the [`StepReport`]s and a few numbers, and derives the
//! progress and metric texts from them. No leptos or web-sys here, so it is tested natively.

use neurolab_core::protocol::{BackendInfo, Event};
use neurolab_core::report::StepReport;

/// Where the run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// Waiting for the worker (loading wasm, choosing a backend, building the session).
    #[default]
    Starting,
    /// A session exists and is not training.
    Ready,
    Running,
    Paused,
    /// The step budget was reached.
    Finished,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Ready => "ready",
            Phase::Running => "running",
            Phase::Paused => "paused",
            Phase::Finished => "finished",
        }
    }
}

/// Sizes of the current session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSize {
    pub n_train: u32,
    pub n_test: u32,
    pub n_params: u32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabState {
    pub phase: Phase,
    pub backend: Option<BackendInfo>,
    pub size: Option<SessionSize>,
    /// Reports of the current session, in step order.
    pub reports: Vec<StepReport>,
    pub step: u32,
    pub steps_per_s: f64,
    /// The step budget of the configured session.
    pub budget: u32,
    /// The worker's last error, for the user.
    pub error: Option<String>,
    /// Hidden neurons ablated in the session, and what the last ablation did.
    pub ablated: Vec<u32>,
    pub ablation_note: Option<String>,
}

impl LabState {
    pub fn new(budget: u32) -> Self {
        Self {
            budget,
            ..Self::default()
        }
    }

    /// The page asked for a new session (new config, reset or backend switch): forget the old
    /// curves until the worker confirms.
    pub fn expect_session(&mut self, budget: u32) {
        self.phase = Phase::Starting;
        self.budget = budget;
        self.reports.clear();
        self.step = 0;
        self.steps_per_s = 0.0;
        self.error = None;
    }

    /// Fold one worker event into the state.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Loaded | Event::Weights { .. } => {}
            Event::Backend { info } => self.backend = Some(info.clone()),
            Event::Configured {
                n_train,
                n_test,
                n_params,
            } => {
                self.ablated.clear();
                self.ablation_note = None;
                self.size = Some(SessionSize {
                    n_train: *n_train,
                    n_test: *n_test,
                    n_params: *n_params,
                });
                self.reports.clear();
                self.step = 0;
                self.steps_per_s = 0.0;
                self.phase = Phase::Ready;
                self.error = None;
            }
            Event::Report { report } => {
                // Reports arrive in step order; a repeat of the last step replaces it.
                while self
                    .reports
                    .last()
                    .is_some_and(|last| last.step >= report.step)
                {
                    self.reports.pop();
                }
                self.reports.push(*report);
                self.step = self.step.max(report.step);
            }
            Event::Progress {
                step,
                steps_per_s,
                running,
            } => {
                self.step = *step;
                self.steps_per_s = *steps_per_s;
                if *running {
                    self.phase = Phase::Running;
                }
            }
            Event::Stopped { step, finished } => {
                self.step = *step;
                self.phase = if *finished {
                    Phase::Finished
                } else {
                    Phase::Paused
                };
            }
            Event::Error { message } => {
                self.error = Some(message.clone());
                if self.phase == Phase::Running {
                    self.phase = Phase::Paused;
                }
            }
            Event::Ablated { neurons, what } => {
                self.ablated = neurons.clone();
                self.ablation_note = Some(what.clone());
            }
            // Other labs' events.
            _ => {}
        }
    }

    pub fn latest(&self) -> Option<&StepReport> {
        self.reports.last()
    }

    /// Seconds left at the current speed, while running.
    pub fn eta_secs(&self) -> Option<f64> {
        (self.phase == Phase::Running && self.steps_per_s > 0.0)
            .then(|| f64::from(self.budget.saturating_sub(self.step)) / self.steps_per_s)
    }

    /// "step 120 / 300 · 850 steps/s · ETA 0.2 s".
    pub fn progress_text(&self) -> String {
        let mut s = format!("step {} / {}", self.step, self.budget);
        if self.steps_per_s > 0.0 {
            s.push_str(&format!(" · {} steps/s", fmt_rate(self.steps_per_s)));
        }
        if let Some(eta) = self.eta_secs() {
            s.push_str(&format!(" · ETA {}", fmt_duration(eta)));
        }
        s
    }

    /// Fraction of the budget done, for the progress bar.
    pub fn progress_fraction(&self) -> f64 {
        if self.budget == 0 {
            0.0
        } else {
            (f64::from(self.step) / f64::from(self.budget)).clamp(0.0, 1.0)
        }
    }
}

/// The metric readout of one report, as (label, value) pairs.
pub fn metric_items(r: &StepReport) -> [(&'static str, String); 6] {
    [
        ("step", r.step.to_string()),
        ("train loss", fmt_sig(r.train_loss)),
        ("test loss", fmt_sig(r.test_loss)),
        ("train acc", fmt_pct(r.train_acc)),
        ("test acc", fmt_pct(r.test_acc)),
        ("weight norm", fmt_sig(r.weight_norm)),
    ]
}

/// Four significant digits, switching to exponent form for very small or large values.
/// A list of neurons as typed: `3, 7-9, 12` (ranges inclusive); the message names the problem.
pub fn parse_neurons(text: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let number = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("'{s}' is not a neuron number (write e.g. 3, 7-9, 12)"))
        };
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (number(lo)?, number(hi)?);
                if lo > hi || hi - lo >= 100_000 {
                    return Err(format!(
                        "the range {lo}-{hi} must run upwards and span under 100000"
                    ));
                }
                out.extend(lo..=hi);
            }
            None => out.push(number(part)?),
        }
    }
    Ok(out)
}

pub fn fmt_sig(x: f32) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{x:.3e}")
    } else {
        let digits = if a >= 1000.0 {
            0
        } else if a >= 100.0 {
            1
        } else if a >= 10.0 {
            2
        } else if a >= 1.0 || a == 0.0 {
            3
        } else {
            // 0.001 ≤ a < 1: four significant digits after the leading zeros.
            (3 - a.log10().floor() as i32) as usize
        };
        format!("{x:.digits$}")
    }
}

pub fn fmt_pct(x: f32) -> String {
    format!("{:.1}%", 100.0 * x)
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

pub fn fmt_duration(secs: f64) -> String {
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

    fn report(step: u32, test_acc: f32) -> StepReport {
        StepReport {
            step,
            train_loss: 1.0,
            test_loss: 2.0,
            train_acc: 1.0,
            test_acc,
            weight_norm: 3.0,
        }
    }

    #[test]
    fn follows_a_run() {
        let mut lab = LabState::new(100);
        lab.apply(&Event::Configured {
            n_train: 10,
            n_test: 39,
            n_params: 1000,
        });
        assert_eq!(lab.phase, Phase::Ready);
        lab.apply(&Event::Report {
            report: report(0, 0.0),
        });
        lab.apply(&Event::Progress {
            step: 40,
            steps_per_s: 20.0,
            running: true,
        });
        assert_eq!(lab.phase, Phase::Running);
        assert_eq!(lab.eta_secs(), Some(3.0));
        assert_eq!(
            lab.progress_text(),
            "step 40 / 100 · 20.0 steps/s · ETA 3.0 s"
        );
        lab.apply(&Event::Report {
            report: report(50, 0.5),
        });
        lab.apply(&Event::Stopped {
            step: 50,
            finished: false,
        });
        assert_eq!(lab.phase, Phase::Paused);
        assert_eq!(lab.eta_secs(), None);
        assert_eq!(lab.latest().unwrap().test_acc, 0.5);
        lab.apply(&Event::Stopped {
            step: 100,
            finished: true,
        });
        assert_eq!(lab.phase, Phase::Finished);
        assert_eq!(lab.progress_fraction(), 1.0);
    }

    #[test]
    fn reports_stay_in_step_order() {
        let mut lab = LabState::new(100);
        for step in [0, 10, 20] {
            lab.apply(&Event::Report {
                report: report(step, 0.0),
            });
        }
        // A session restarted without a Configured in between (should not happen, but never
        // draw a curve that goes backwards).
        lab.apply(&Event::Report {
            report: report(10, 0.9),
        });
        let steps: Vec<u32> = lab.reports.iter().map(|r| r.step).collect();
        assert_eq!(steps, [0, 10]);
        lab.apply(&Event::Configured {
            n_train: 1,
            n_test: 1,
            n_params: 1,
        });
        assert!(lab.reports.is_empty());
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(fmt_sig(4.5678), "4.568");
        assert_eq!(fmt_sig(0.012345), "0.01235");
        assert_eq!(fmt_sig(123.456), "123.5");
        assert_eq!(fmt_sig(0.0), "0.000");
        assert_eq!(fmt_sig(1.5e-6), "1.500e-6");
        assert_eq!(fmt_pct(0.4567), "45.7%");
        assert_eq!(fmt_duration(75.0), "1m 15s");
        assert_eq!(fmt_duration(7300.0), "2h 01m");
    }

    #[test]
    fn neuron_lists_parse_or_say_why() {
        assert_eq!(parse_neurons("3, 7-9,12").unwrap(), vec![3, 7, 8, 9, 12]);
        assert_eq!(parse_neurons("  ").unwrap(), Vec::<u32>::new());
        assert!(parse_neurons("3, x").unwrap_err().contains("'x'"));
        assert!(parse_neurons("9-7").unwrap_err().contains("upwards"));
    }
}
