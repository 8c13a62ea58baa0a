//! What the grokking page knows of its run, folded from the lab's events: the session's size,
//! the reports in step order, the ablation in force. Plain data, tested natively.

use crate::format::{fmt_pct, fmt_sig};
use neurolab_base::msg::LabEvent;
use neurolab_core::grok::{GrokLab, GrokSummary, StepReport};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct GrokState {
    pub size: Option<GrokSummary>,
    /// Reports of the current session, in step order.
    pub reports: Vec<StepReport>,
    /// Hidden neurons ablated now (the worker's answer), and what the last control did.
    pub ablated: Vec<u32>,
    pub ablation_note: Option<String>,
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
                // Reports arrive in step order; a repeat of a step replaces it.
                while self
                    .reports
                    .last()
                    .is_some_and(|last| last.step >= report.step)
                {
                    self.reports.pop();
                }
                self.reports.push(*report);
            }
            LabEvent::Answer { answer } => {
                self.ablated = answer.ablated.clone();
                self.ablation_note = Some(answer.what.clone());
            }
            _ => {}
        }
    }

    pub fn latest(&self) -> Option<&StepReport> {
        self.reports.last()
    }

    /// The metric tiles of the latest report, and the session's size.
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
    use neurolab_core::grok::GrokAnswer;

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
    fn reports_stay_in_step_order_and_a_session_starts_clean() {
        let mut s = GrokState::default();
        for step in [0, 10, 20] {
            s.fold(&LabEvent::Report {
                report: report(step, 0.0),
            });
        }
        s.fold(&LabEvent::Report {
            report: report(10, 0.9),
        });
        let steps: Vec<u32> = s.reports.iter().map(|r| r.step).collect();
        assert_eq!(steps, [0, 10]);
        assert_eq!(s.latest().unwrap().test_acc, 0.9);
        s.fold(&LabEvent::Answer {
            answer: GrokAnswer {
                ablated: vec![1, 2],
                what: "2 neurons ablated".into(),
            },
        });
        assert_eq!(s.ablated, [1, 2]);
        let m = s.metrics();
        assert_eq!(m[4], ("test acc", "90.0%".to_string()));
        s.fold(&LabEvent::Configured {
            summary: GrokSummary {
                n_train: 1,
                n_test: 1,
                n_params: 1,
            },
            position: neurolab_base::Position::steps(0, 10),
            note: None,
        });
        assert!(s.reports.is_empty() && s.ablated.is_empty());
        assert!(s.metrics().last().unwrap().1.contains("1 parameters"));
    }
}
