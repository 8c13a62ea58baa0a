//! What the page knows about the SAE lab, folded from the worker's events: the source being
//! prepared, the reports (metrics and their curves), the feature list, the open feature's detail
//! and the last clamp; plus the plain helpers its views use (metric texts, the clamp form's
//! parsing, the heat-map's colours). No leptos or web-sys here, so it is tested natively.

use crate::lab::{fmt_pct, fmt_sig, Phase};
use neurolab_core::protocol::Event;
use neurolab_core::sae::{
    ClampInput, ClampOp, ClampRequest, ClampResponse, FeatureDetail, FeatureSummary, SaeReport,
    Target,
};

/// The size of the decomposition the worker built.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SaeSize {
    pub n_samples: u32,
    pub d: u32,
    pub latents: u32,
    pub p: Option<u32>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SaeLabState {
    pub phase: Phase,
    /// While the source trains: what, done, total.
    pub preparing: Option<(String, u32, u32)>,
    pub size: Option<SaeSize>,
    pub reports: Vec<SaeReport>,
    pub step: u32,
    pub steps_per_s: f64,
    /// The step budget of the configured decomposition.
    pub budget: u32,
    pub features: Vec<FeatureSummary>,
    /// The training step the feature list was computed at.
    pub features_step: Option<u32>,
    /// What the browser shows (a latent or a neuron) and its detail once it arrives.
    pub selected: Option<Target>,
    pub detail: Option<FeatureDetail>,
    pub clamp: Option<(ClampRequest, ClampResponse)>,
    pub error: Option<String>,
}

impl SaeLabState {
    pub fn new(budget: u32) -> Self {
        Self {
            budget,
            ..Self::default()
        }
    }

    /// A new decomposition is coming (config, reset, backend): forget the old one.
    pub fn expect_session(&mut self, budget: u32) {
        *self = Self::new(budget);
    }

    /// Fold one worker event in (other labs' events are ignored).
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::SaePreparing { what, done, total } => {
                self.phase = Phase::Starting;
                self.preparing = Some((what.clone(), *done, *total));
            }
            Event::SaeConfigured {
                n_samples,
                d,
                latents,
                p,
                source,
            } => {
                let budget = self.budget;
                *self = Self::new(budget);
                self.size = Some(SaeSize {
                    n_samples: *n_samples,
                    d: *d,
                    latents: *latents,
                    p: *p,
                    source: source.clone(),
                });
                self.phase = Phase::Ready;
            }
            Event::SaeReport { report } => {
                self.step = report.step;
                // A report at a step already shown (Step after a report step) replaces it.
                self.reports.retain(|r| r.step < report.step);
                self.reports.push(report.clone());
                if self.budget > 0 && report.step >= self.budget {
                    self.phase = Phase::Finished;
                }
            }
            Event::SaeProgress {
                step,
                steps_per_s,
                running,
            } => {
                self.step = self.step.max(*step);
                self.steps_per_s = *steps_per_s;
                if *running {
                    self.phase = Phase::Running;
                }
            }
            Event::SaeStopped { step, finished } => {
                self.step = self.step.max(*step);
                self.phase = if *finished {
                    Phase::Finished
                } else {
                    Phase::Paused
                };
            }
            Event::SaeFeatureList { features } => {
                self.features = features.clone();
                self.features_step = Some(self.step);
            }
            Event::SaeFeatureDetail { detail } => {
                self.selected = Some(detail.target);
                self.detail = Some(detail.clone());
            }
            Event::SaeClamped { request, response } => {
                self.clamp = Some((*request, response.clone()));
            }
            Event::Error { message } => {
                self.error = Some(message.clone());
                if matches!(self.phase, Phase::Running | Phase::Starting) && self.size.is_some() {
                    self.phase = Phase::Paused;
                }
            }
            _ => {}
        }
    }

    pub fn latest(&self) -> Option<&SaeReport> {
        self.reports.last()
    }

    pub fn progress_fraction(&self) -> f64 {
        if let (Some((_, done, total)), Phase::Starting) = (&self.preparing, self.phase) {
            return if *total > 0 {
                f64::from(*done) / f64::from(*total)
            } else {
                0.0
            };
        }
        if self.budget > 0 {
            (f64::from(self.step) / f64::from(self.budget)).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    pub fn progress_text(&self) -> String {
        if self.phase == Phase::Starting {
            return match &self.preparing {
                Some((what, done, total)) if *total > 0 => format!("{what}: {done} / {total}"),
                Some((what, _, _)) => format!("{what}…"),
                None => "starting…".to_string(),
            };
        }
        let speed = if self.steps_per_s > 0.0 {
            format!(" · {} steps/s", fmt_sig(self.steps_per_s as f32))
        } else {
            String::new()
        };
        format!("step {} of {}{speed}", self.step, self.budget)
    }

    /// The metric tiles: (label, value). CE-loss score for grok sources, MMCS for the toy.
    pub fn metrics(&self) -> Vec<(&'static str, String)> {
        let Some(r) = self.latest() else {
            return vec![];
        };
        let mut m = vec![
            ("step", r.step.to_string()),
            ("MSE", fmt_sig(r.mse)),
            ("FVU", fmt_sig(r.fvu)),
            ("L0", format!("{:.2}", r.l0)),
            ("dead", fmt_pct(r.dead_frac)),
        ];
        if let Some(s) = r.ce_loss_score {
            m.push(("CE-loss score", format!("{s:.3}")));
        }
        if let (Some(c), Some(s)) = (r.ce_clean, r.ce_sae) {
            m.push(("CE clean → SAE", format!("{} → {}", fmt_sig(c), fmt_sig(s))));
        }
        if let Some(v) = r.mmcs {
            m.push(("MMCS", format!("{v:.3}")));
        }
        m
    }

    /// One metric over the reports as (step, value) points.
    pub fn curve(&self, metric: Metric) -> Vec<(f64, f64)> {
        self.reports
            .iter()
            .filter_map(|r| metric.of(r).map(|v| (f64::from(r.step), f64::from(v))))
            .filter(|p| p.1.is_finite())
            .collect()
    }
}

/// The curves the page draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Fvu,
    Mse,
    L0,
    Dead,
    CeScore,
    Mmcs,
}

impl Metric {
    pub fn of(self, r: &SaeReport) -> Option<f32> {
        match self {
            Metric::Fvu => Some(r.fvu),
            Metric::Mse => Some(r.mse),
            Metric::L0 => Some(r.l0),
            Metric::Dead => Some(r.dead_frac),
            Metric::CeScore => r.ce_loss_score,
            Metric::Mmcs => r.mmcs,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Metric::Fvu => "FVU",
            Metric::Mse => "MSE",
            Metric::L0 => "L0",
            Metric::Dead => "dead fraction",
            Metric::CeScore => "CE-loss score",
            Metric::Mmcs => "MMCS",
        }
    }
}

/// Index of the largest value (the model's top output).
pub fn argmax(values: &[f32]) -> Option<usize> {
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
}

/// "top output 5 (p 0.93) → 2 (p 0.41)": the clamp's effect in words.
pub fn clamp_summary(r: &ClampResponse) -> String {
    let side = |outputs: &[f32], probs: &Option<Vec<f32>>| match argmax(outputs) {
        Some(i) => match probs.as_ref().and_then(|p| p.get(i)) {
            Some(p) => format!("{i} (p {p:.2})"),
            None => format!("{i} ({})", fmt_sig(outputs[i])),
        },
        None => "none".to_string(),
    };
    format!(
        "value {} → {} · top output before: {} · after: {}",
        fmt_sig(r.value_before),
        fmt_sig(r.value_after),
        side(&r.outputs_before, &r.probs_before),
        side(&r.outputs_after, &r.probs_after)
    )
}

/// The clamp form's text fields, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClampForm {
    /// "a,b" for grok sources, a sample index for the toy.
    pub input: String,
    /// "feature" or "neuron".
    pub target: String,
    pub index: String,
    /// "set", "zero", "mean", "scale".
    pub op: String,
    pub value: String,
}

impl Default for ClampForm {
    fn default() -> Self {
        Self {
            input: "0".into(),
            target: "feature".into(),
            index: "0".into(),
            op: "set".into(),
            value: "5".into(),
        }
    }
}

pub const CLAMP_OPS: [&str; 4] = ["set", "zero", "mean", "scale"];

impl ClampForm {
    /// Parse against the built decomposition; messages name the limit.
    pub fn parse(&self, size: &SaeSize) -> Result<ClampRequest, String> {
        let int = |s: &str, what: &str, below: u32| -> Result<u32, String> {
            s.trim()
                .parse::<u32>()
                .ok()
                .filter(|v| *v < below)
                .ok_or_else(|| {
                    format!(
                        "{what} must be a whole number from 0 to {}, got '{}'",
                        below.saturating_sub(1),
                        s.trim()
                    )
                })
        };
        let input = match size.p {
            Some(p) => {
                let mut parts = self.input.split([',', ' ']).filter(|s| !s.is_empty());
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(a), Some(b), None) => ClampInput::Pair {
                        a: int(a, "a", p)?,
                        b: int(b, "b", p)?,
                    },
                    _ => {
                        return Err(format!(
                            "the input must be a pair 'a, b' with a, b below {p}, got '{}'",
                            self.input.trim()
                        ))
                    }
                }
            }
            None => ClampInput::Sample(int(&self.input, "the sample", size.n_samples)?),
        };
        let target = match self.target.as_str() {
            "neuron" => Target::Neuron(int(&self.index, "the neuron", size.d)?),
            _ => Target::Feature(int(&self.index, "the feature", size.latents)?),
        };
        let number = || -> Result<f32, String> {
            self.value
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite() && v.abs() <= 1e6)
                .ok_or_else(|| {
                    format!(
                        "the value must be a number from -1e6 to 1e6, got '{}'",
                        self.value.trim()
                    )
                })
        };
        let op = match self.op.as_str() {
            "zero" => ClampOp::Zero,
            "mean" => ClampOp::MeanAblate,
            "scale" => ClampOp::Scale(number()?),
            _ => ClampOp::Set(number()?),
        };
        Ok(ClampRequest { input, target, op })
    }
}

/// RGBA pixels of a `side × side` heat-map (row a, column b): white at 0, blue for positive
/// values and red for negative ones, scaled by the largest magnitude.
pub fn heat_rgba(values: &[f32], side: usize) -> Vec<u8> {
    let max = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0f32, |m, v| m.max(v.abs()))
        .max(1e-12);
    let mut px = Vec::with_capacity(side * side * 4);
    for i in 0..side * side {
        let v = values.get(i).copied().unwrap_or(0.0);
        let t = if v.is_finite() {
            (v / max).clamp(-1.0, 1.0)
        } else {
            0.0
        };
        let fade = |c: f32| (255.0 - (255.0 - c) * t.abs()).round() as u8;
        let rgb = if t >= 0.0 {
            [fade(37.0), fade(99.0), fade(235.0)]
        } else {
            [fade(220.0), fade(38.0), fade(38.0)]
        };
        px.extend_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
    }
    px
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurolab_core::sae::analysis::{density_histogram, histogram};

    fn report(step: u32, fvu: f32, mmcs: Option<f32>) -> SaeReport {
        SaeReport {
            step,
            mse: fvu,
            fvu,
            l0: 3.0,
            dead_frac: 0.25,
            density_hist: density_histogram(&[0.1, 0.01, 0.0]),
            mmcs,
            ..SaeReport::default()
        }
    }

    fn toy_size() -> SaeSize {
        SaeSize {
            n_samples: 2048,
            d: 6,
            latents: 32,
            p: None,
            source: "toy".into(),
        }
    }

    #[test]
    fn events_fold_into_a_run() {
        let mut s = SaeLabState::new(200);
        s.apply(&Event::SaePreparing {
            what: "training the toy model".into(),
            done: 0,
            total: 500,
        });
        assert_eq!(s.phase, Phase::Starting);
        assert!(s
            .progress_text()
            .starts_with("training the toy model: 0 / 500"));
        s.apply(&Event::SaeConfigured {
            n_samples: 2048,
            d: 6,
            latents: 32,
            p: None,
            source: "toy".into(),
        });
        assert_eq!(s.phase, Phase::Ready);
        assert!(s.metrics().is_empty());
        s.apply(&Event::SaeReport {
            report: report(0, 1.0, Some(0.3)),
        });
        s.apply(&Event::SaeProgress {
            step: 50,
            steps_per_s: 500.0,
            running: true,
        });
        assert_eq!(s.phase, Phase::Running);
        s.apply(&Event::SaeReport {
            report: report(100, 0.2, Some(0.8)),
        });
        // A repeated report step replaces the old one.
        s.apply(&Event::SaeReport {
            report: report(100, 0.19, Some(0.81)),
        });
        s.apply(&Event::SaeReport {
            report: report(200, 0.1, Some(0.9)),
        });
        assert_eq!(s.phase, Phase::Finished);
        assert_eq!(
            s.curve(Metric::Fvu),
            vec![(0.0, 1.0), (100.0, 0.19f32 as f64), (200.0, 0.1f32 as f64)]
        );
        assert!(
            s.curve(Metric::CeScore).is_empty(),
            "no CE score on the toy source"
        );
        let m = s.metrics();
        assert!(m.contains(&("MMCS", "0.900".to_string())), "{m:?}");
        assert!(m.iter().all(|(l, _)| *l != "CE-loss score"));
        assert_eq!(s.progress_fraction(), 1.0);
        let detail = FeatureDetail {
            target: Target::Feature(3),
            density: 0.1,
            top_inputs: vec![],
            heatmap: None,
            p: None,
            fourier: None,
            histogram: histogram(&[0.0, 1.0, 2.0], 4),
            logit_effect: Default::default(),
            best_true: Some((5, 0.97)),
        };
        s.apply(&Event::SaeFeatureDetail { detail });
        assert_eq!(s.selected, Some(Target::Feature(3)));
        // A new session forgets everything but the budget.
        s.expect_session(300);
        assert_eq!(
            (s.phase, s.budget, s.reports.len()),
            (Phase::Starting, 300, 0)
        );
    }

    #[test]
    fn the_clamp_form_parses_or_names_the_limit() {
        let form = ClampForm::default();
        assert_eq!(
            form.parse(&toy_size()).unwrap(),
            ClampRequest {
                input: ClampInput::Sample(0),
                target: Target::Feature(0),
                op: ClampOp::Set(5.0)
            }
        );
        let grok = SaeSize {
            p: Some(7),
            ..toy_size()
        };
        let f = ClampForm {
            input: "3, 4".into(),
            target: "neuron".into(),
            index: "5".into(),
            op: "mean".into(),
            value: "junk".into(),
        };
        assert_eq!(
            f.parse(&grok).unwrap(),
            ClampRequest {
                input: ClampInput::Pair { a: 3, b: 4 },
                target: Target::Neuron(5),
                op: ClampOp::MeanAblate
            }
        );
        let bad = ClampForm {
            input: "3, 9".into(),
            ..f.clone()
        };
        assert_eq!(
            bad.parse(&grok).unwrap_err(),
            "b must be a whole number from 0 to 6, got '9'"
        );
        let bad = ClampForm {
            index: "6".into(),
            ..f.clone()
        };
        assert!(bad
            .parse(&grok)
            .unwrap_err()
            .contains("neuron must be a whole number from 0 to 5"));
        let bad = ClampForm {
            op: "scale".into(),
            ..f
        };
        assert!(bad.parse(&grok).unwrap_err().contains("'junk'"));
    }

    #[test]
    fn clamp_summaries_name_the_top_output_before_and_after() {
        let r = ClampResponse {
            outputs_before: vec![0.0, 3.0, 1.0],
            outputs_after: vec![0.0, 1.0, 4.0],
            probs_before: Some(vec![0.04, 0.84, 0.12]),
            probs_after: Some(vec![0.02, 0.05, 0.93]),
            value_before: 0.5,
            value_after: 5.0,
        };
        let s = clamp_summary(&r);
        assert!(
            s.contains("before: 1 (p 0.84)") && s.contains("after: 2 (p 0.93)"),
            "{s}"
        );
        assert_eq!(argmax(&[f32::NAN, -1.0, -0.5]), Some(2));
    }

    #[test]
    fn the_heatmap_is_white_at_zero_and_saturated_at_the_extremes() {
        let px = heat_rgba(&[0.0, 2.0, -2.0, 1.0], 2);
        assert_eq!(px.len(), 16);
        assert_eq!(&px[0..4], &[255, 255, 255, 255]);
        assert_eq!(&px[4..8], &[37, 99, 235, 255]);
        assert_eq!(&px[8..12], &[220, 38, 38, 255]);
        assert!(px[12] > 37 && px[12] < 255, "half strength lies between");
    }
}
