//! What the grokking page knows of its session, folded from the lab's events: the session's
//! size, every run (the first and its forks) with its reports and analyses in step order, the
//! ablation in force, a neuron's frequency race, the mechanism at a scrubbed checkpoint. Plain
//! data, tested natively.

use crate::format::{fmt_pct, fmt_sig};
use neurolab_base::msg::LabEvent;
use neurolab_core::grok::analysis::{curve, stage_at, stages, StageSpan};
use neurolab_core::grok::report::first_step_reaching;
use neurolab_core::grok::{Analysis, GrokAnswer, GrokLab, GrokSummary, StepReport};

/// One run of the session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunView {
    pub label: String,
    /// Reports in step order.
    pub reports: Vec<StepReport>,
    /// Analyses in step order; only the latest keeps its per-neuron tables.
    pub analyses: Vec<Analysis>,
}

impl RunView {
    /// Nanda et al.'s phases of this run so far.
    pub fn stages(&self) -> Vec<StageSpan> {
        let analysed: Vec<(u32, Option<f32>)> = self
            .analyses
            .iter()
            .map(|a| (a.step, a.restricted_loss))
            .collect();
        let points = self
            .reports
            .iter()
            .map(|r| (r.step, r.train_acc, r.test_acc, r.test_loss));
        stages(&curve(points, &analysed))
    }

    /// The first step with test accuracy at 99 %.
    pub fn grokked_at(&self) -> Option<u32> {
        first_step_reaching(&self.reports, 0.99)
    }

    pub fn latest_analysis(&self) -> Option<&Analysis> {
        self.analyses.last()
    }
}

/// A neuron's power per frequency over training (the worker's answer).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Race {
    pub run: u32,
    pub neuron: u32,
    pub steps: Vec<u32>,
    pub freqs: Vec<u32>,
    pub powers: Vec<Vec<f32>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct GrokState {
    pub size: Option<GrokSummary>,
    pub runs: Vec<RunView>,
    /// Hidden neurons ablated now (the worker's answer), and what the last control did.
    pub ablated: Vec<u32>,
    pub ablation_note: Option<String>,
    pub race: Option<Race>,
    /// The mechanism at the checkpoint the timeline is scrubbed to (`None`: live).
    pub snapshot: Option<Analysis>,
    /// What the last fork did.
    pub fork_note: Option<String>,
}

impl GrokState {
    pub fn fold(&mut self, event: &LabEvent<GrokLab>) {
        match event {
            LabEvent::Configured { summary, .. } => {
                *self = GrokState {
                    size: Some(*summary),
                    ..GrokState::default()
                };
            }
            LabEvent::Report { report } => {
                let i = report.metrics.run as usize;
                while self.runs.len() <= i {
                    let label = format!("run {}", self.runs.len() + 1);
                    self.runs.push(RunView {
                        label,
                        ..RunView::default()
                    });
                }
                let run = &mut self.runs[i];
                if let Some(label) = &report.label {
                    run.label = label.clone();
                }
                // Reports arrive in step order; a repeat of a step replaces it.
                let step = report.metrics.step;
                while run.reports.last().is_some_and(|last| last.step >= step) {
                    run.reports.pop();
                }
                run.reports.push(report.metrics);
                if let Some(a) = &report.analysis {
                    while run.analyses.last().is_some_and(|last| last.step >= a.step) {
                        run.analyses.pop();
                    }
                    if let Some(previous) = run.analyses.last_mut() {
                        *previous = previous.without_neurons();
                    }
                    run.analyses.push((**a).clone());
                }
            }
            LabEvent::Answer { answer } => match answer {
                GrokAnswer::Ablated { ablated, what } => {
                    self.ablated = ablated.clone();
                    self.ablation_note = Some(what.clone());
                }
                GrokAnswer::Race {
                    run,
                    neuron,
                    steps,
                    freqs,
                    powers,
                } => {
                    self.race = Some(Race {
                        run: *run,
                        neuron: *neuron,
                        steps: steps.clone(),
                        freqs: freqs.clone(),
                        powers: powers.clone(),
                    });
                }
                GrokAnswer::Snapshot { analysis } => self.snapshot = Some((**analysis).clone()),
                GrokAnswer::Forked { label, .. } => {
                    self.fork_note = Some(format!("{label} started"));
                }
                GrokAnswer::ForkQueued { step } => {
                    self.fork_note =
                        Some(format!("the fork starts when run 1 reaches step {step}"));
                }
            },
            _ => {}
        }
    }

    /// The first run's latest report.
    pub fn latest(&self) -> Option<&StepReport> {
        self.runs.first().and_then(|r| r.reports.last())
    }

    /// The analysis the mechanism views show: the scrubbed checkpoint's, else the first run's
    /// latest.
    pub fn shown(&self) -> Option<&Analysis> {
        self.snapshot
            .as_ref()
            .or_else(|| self.runs.first().and_then(RunView::latest_analysis))
    }

    /// The steps the first run keeps checkpoints at (its latest analysis says).
    pub fn checkpoints(&self) -> Vec<u32> {
        self.runs
            .first()
            .and_then(RunView::latest_analysis)
            .map(|a| a.checkpoints.clone())
            .unwrap_or_default()
    }

    /// Each later run's speed-up over the first in steps to 99 % test accuracy: `(run, ratio)`
    /// where both got there (steps counted from step 0 for both).
    pub fn speedups(&self) -> Vec<(usize, f64)> {
        let Some(base) = self.runs.first().and_then(RunView::grokked_at) else {
            return Vec::new();
        };
        self.runs
            .iter()
            .enumerate()
            .skip(1)
            .filter_map(|(i, r)| {
                r.grokked_at()
                    .map(|s| (i, f64::from(base.max(1)) / f64::from(s.max(1))))
            })
            .collect()
    }

    /// The metric tiles of the latest report and analysis, and the session's size.
    pub fn metrics(&self) -> Vec<(&'static str, String)> {
        let mut m = match self.latest() {
            Some(r) => vec![
                ("step", r.step.to_string()),
                ("train loss", fmt_sig(r.train_loss)),
                ("test loss", fmt_sig(r.test_loss)),
                ("train acc", fmt_pct(r.train_acc)),
                ("test acc", fmt_pct(r.test_acc)),
                ("weight norm", fmt_sig(r.weight_norm)),
            ],
            None => Vec::new(),
        };
        if let Some(run) = self.runs.first() {
            let stage = self.latest().and_then(|r| stage_at(&run.stages(), r.step));
            if let Some(stage) = stage {
                m.push(("phase", stage.name().to_string()));
            }
            if let Some(a) = run.latest_analysis() {
                m.push(("key frequencies", a.key_freqs.len().to_string()));
            }
        }
        if let Some(s) = self.size {
            m.push((
                "size",
                format!(
                    "{} parameters · {} train / {} test pairs",
                    s.n_params, s.n_train, s.n_test
                ),
            ));
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurolab_core::grok::analysis::NeuronFourier;
    use neurolab_core::grok::GrokReport;

    fn report(run: u32, step: u32, test_acc: f32) -> LabEvent<GrokLab> {
        LabEvent::Report {
            report: GrokReport {
                metrics: StepReport {
                    step,
                    train_loss: 1.0,
                    test_loss: 2.0,
                    train_acc: 1.0,
                    test_acc,
                    weight_norm: 3.0,
                    run,
                },
                analysis: (step % 20 == 0).then(|| {
                    Box::new(Analysis {
                        step,
                        run,
                        key_freqs: vec![3],
                        neurons: vec![NeuronFourier::default(); 4],
                        neuron_powers: vec![1; 8],
                        checkpoints: (0..=step).step_by(20).collect(),
                        ..Analysis::default()
                    })
                }),
                label: (step == 0).then(|| format!("run {}", run + 1)),
            },
        }
    }

    #[test]
    fn reports_stay_in_step_order_per_run_and_a_session_starts_clean() {
        let mut s = GrokState::default();
        for step in [0, 10, 20] {
            s.fold(&report(0, step, 0.0));
        }
        s.fold(&report(0, 10, 0.9));
        let steps: Vec<u32> = s.runs[0].reports.iter().map(|r| r.step).collect();
        assert_eq!(steps, [0, 10]);
        assert_eq!(s.latest().unwrap().test_acc, 0.9);
        // The analysis at 20 went with the repeat of 10; only the latest keeps its neurons.
        s.fold(&report(0, 20, 0.995));
        s.fold(&report(0, 40, 1.0));
        let a = &s.runs[0].analyses;
        assert_eq!(a.iter().map(|a| a.step).collect::<Vec<_>>(), [0, 20, 40]);
        assert!(a[0].neurons.is_empty() && a[1].neuron_powers.is_empty());
        assert_eq!(a[2].neurons.len(), 4);
        assert_eq!(s.checkpoints(), [0, 20, 40]);
        assert_eq!(s.shown().unwrap().step, 40);
        s.fold(&LabEvent::Answer {
            answer: GrokAnswer::Ablated {
                ablated: vec![1, 2],
                what: "2 neurons ablated".into(),
            },
        });
        assert_eq!(s.ablated, [1, 2]);
        let m = s.metrics();
        assert_eq!(m[4], ("test acc", "100.0%".to_string()));
        assert!(m.iter().any(|(k, _)| *k == "key frequencies"));
        s.fold(&LabEvent::Configured {
            summary: GrokSummary {
                n_train: 1,
                n_test: 1,
                n_params: 1,
            },
            position: neurolab_base::Position::steps(0, 10),
            note: None,
        });
        assert!(s.runs.is_empty() && s.ablated.is_empty());
        assert!(s.metrics().last().unwrap().1.contains("1 parameters"));
    }

    #[test]
    fn forks_get_their_own_runs_and_a_speedup() {
        let mut s = GrokState::default();
        for step in (0..=100).step_by(10) {
            s.fold(&report(0, step, if step >= 100 { 1.0 } else { 0.1 }));
        }
        for step in (0..=50).step_by(10) {
            s.fold(&report(1, step, if step >= 20 { 1.0 } else { 0.1 }));
        }
        assert_eq!(s.runs.len(), 2);
        assert_eq!(s.runs[1].label, "run 2");
        assert_eq!(s.runs[1].grokked_at(), Some(20));
        assert_eq!(s.speedups(), [(1, 5.0)]);
        s.fold(&LabEvent::Answer {
            answer: GrokAnswer::Snapshot {
                analysis: Box::new(Analysis {
                    step: 20,
                    ..Analysis::default()
                }),
            },
        });
        assert_eq!(s.shown().unwrap().step, 20);
    }
}
