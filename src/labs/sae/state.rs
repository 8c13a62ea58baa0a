//! What the SAE page knows of its run, folded from the lab's events: the decomposition's size
//! and source, the reports (metrics and their curves), the feature list and the step it was
//! computed at, the open target and its detail, the last clamp; plus the plain helpers its views
//! use (metric and detail texts, the clamp form's parsing, the heat-map's colours). The run
//! itself (phase, position, preparation, rate) is the shell's. Plain data, tested natively.

use crate::format::{fmt_pct, fmt_sig};
use neurolab_base::msg::LabEvent;
use neurolab_base::StopReason;
use neurolab_core::sae::{
    ClampInput, ClampOp, ClampRequest, ClampResponse, FeatureDetail, FeatureSummary, LogitShift,
    SaeAnswer, SaeLab, SaeReport, SaeSummary, Target, TopInput,
};

/// A clamp the worker answered: what was asked and what the model did.
#[derive(Debug, Clone, PartialEq)]
pub struct Clamped {
    pub request: ClampRequest,
    pub response: ClampResponse,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SaeState {
    /// The decomposition's size; its `source` text is empty until the source is prepared.
    pub size: Option<SaeSummary>,
    /// Reports of the current session, in step order.
    pub reports: Vec<SaeReport>,
    /// Every latent, densest first.
    pub features: Vec<FeatureSummary>,
    /// The training step the feature list was computed at.
    pub features_step: Option<u32>,
    /// What the browser shows (a latent or a neuron) and its detail once it arrives.
    pub selected: Option<Target>,
    pub detail: Option<FeatureDetail>,
    pub clamp: Option<Clamped>,
}

impl SaeState {
    /// Fold one event of the lab.
    pub fn fold(&mut self, event: &LabEvent<SaeLab>) {
        match event {
            // A session (or its prepared decomposition): everything before it is gone.
            LabEvent::Configured { summary, .. } => {
                *self = SaeState {
                    size: Some(summary.clone()),
                    ..SaeState::default()
                };
            }
            LabEvent::Report { report } => {
                // A report at a step already shown (a Step after a report step) replaces it.
                self.reports.retain(|r| r.step < report.step);
                self.reports.push(report.clone());
            }
            LabEvent::Answer { answer } => match answer {
                SaeAnswer::FeatureList { step, features } => {
                    let mut features = features.clone();
                    // Densest first (stable: the worker's order breaks ties).
                    features.sort_by(|a, b| b.density.total_cmp(&a.density));
                    self.features = features;
                    self.features_step = Some(*step);
                }
                SaeAnswer::FeatureDetail { detail } => {
                    self.selected = Some(detail.target);
                    self.detail = Some(detail.clone());
                }
                SaeAnswer::Clamped { request, response } => {
                    self.clamp = Some(Clamped {
                        request: *request,
                        response: response.clone(),
                    });
                }
            },
            _ => {}
        }
    }

    /// Whether the decomposition exists (its source is prepared): only then are the feature
    /// list, details and clamps answered.
    pub fn built(&self) -> bool {
        self.size.as_ref().is_some_and(|s| !s.source.is_empty())
    }

    /// Whether the page asks for the feature list after `event` (already folded): when a
    /// built decomposition stops (paused, finished) and when one is configured (its source
    /// prepared — a `Stopped { Prepared }` always follows such a `Configured`, so it asks
    /// nothing more). Not after a divergence or a failure, nor while the source is prepared.
    pub fn wants_features(&self, event: &LabEvent<SaeLab>) -> bool {
        self.built()
            && match event {
                LabEvent::Configured { .. } => true,
                LabEvent::Stopped { reason, .. } => {
                    matches!(reason, StopReason::Paused | StopReason::Finished)
                }
                _ => false,
            }
    }

    /// The browser opens `target` (its detail follows from the worker).
    pub fn select(&mut self, target: Target) {
        self.selected = Some(target);
    }

    pub fn latest(&self) -> Option<&SaeReport> {
        self.reports.last()
    }

    /// The metric tiles: (label, value). CE-loss score for grok sources, MMCS for the toy;
    /// the source once it is prepared.
    pub fn metrics(&self) -> Vec<(&'static str, String)> {
        let mut m = match self.latest() {
            Some(r) => {
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
            None => Vec::new(),
        };
        if let Some(s) = self.size.as_ref().filter(|s| !s.source.is_empty()) {
            m.push(("source", s.source.clone()));
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

/// "toy model … · 1024 samples × 6 dims → 32 latents" (no source text while it is prepared).
pub fn size_text(s: &SaeSummary) -> String {
    let sizes = format!(
        "{} samples × {} dims → {} latents",
        s.n_samples, s.d, s.latents
    );
    if s.source.is_empty() {
        sizes
    } else {
        format!("{} · {sizes}", s.source)
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

/// "feature #3" or "model neuron 7".
pub fn target_name(target: Target) -> String {
    match target {
        Target::Feature(i) => format!("feature #{i}"),
        Target::Neuron(i) => format!("model neuron {i}"),
    }
}

/// The detail's heading: what it is, its density, and its automatic label.
pub fn detail_title(d: &FeatureDetail) -> String {
    let label = match (&d.fourier, &d.best_true) {
        (Some(f), _) => format!(" · dominant Fourier frequency {}", f.text()),
        (None, Some(m)) => format!(
            " · matches true feature {} (cos {:.2})",
            m.feature, m.cosine
        ),
        _ => String::new(),
    };
    format!(
        "{} · density {:.2}%{label}",
        target_name(d.target),
        100.0 * d.density
    )
}

/// A top input as the clamp's input field takes it ("a, b" or the sample), and as listed.
pub fn top_input_texts(t: &TopInput) -> (String, String) {
    if let (Some(tokens), Some(at)) = (&t.context, t.at) {
        // "sample 40: … the capital of [france] is …: 2.500"
        let words: Vec<String> = tokens
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i as u32 == at {
                    format!("[{w}]")
                } else {
                    w.clone()
                }
            })
            .collect();
        return (
            t.sample.to_string(),
            format!(
                "sample {}: … {} …: {}",
                t.sample,
                words.join(" "),
                fmt_sig(t.activation)
            ),
        );
    }
    match (t.a, t.b, t.label) {
        (Some(a), Some(b), Some(c)) => (
            format!("{a}, {b}"),
            format!("({a}, {b}) → {c}: {}", fmt_sig(t.activation)),
        ),
        _ => (
            t.sample.to_string(),
            format!("sample {}: {}", t.sample, fmt_sig(t.activation)),
        ),
    }
}

/// "5 (1.234), 7 (0.9000)": outputs and their logit change.
pub fn effect_text(shifts: &[LogitShift]) -> String {
    shifts
        .iter()
        .map(|s| match &s.token {
            Some(token) => format!("'{token}' ({})", fmt_sig(s.delta)),
            None => format!("{} ({})", s.output, fmt_sig(s.delta)),
        })
        .collect::<Vec<_>>()
        .join(", ")
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

/// "value 0.5 → 5 · top output before: 1 (p 0.84) · after: 2 (p 0.93)": the clamp's effect in
/// words.
pub fn clamp_summary(r: &ClampResponse) -> String {
    let name = |i: usize| match r.labels.as_ref().and_then(|l| l.get(i)) {
        Some(token) => format!("'{token}'"),
        None => i.to_string(),
    };
    let side = |outputs: &[f32], probs: &Option<Vec<f32>>| match argmax(outputs) {
        Some(i) => match probs.as_ref().and_then(|p| p.get(i)) {
            Some(p) => format!("{} (p {p:.2})", name(i)),
            None => format!("{} ({})", name(i), fmt_sig(outputs[i])),
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
    /// "a, b" for grok sources, a sample index for the toy.
    pub input: String,
    /// "feature" or "neuron".
    pub target: String,
    pub index: String,
    /// One of [`CLAMP_OPS`].
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
pub const CLAMP_TARGETS: [&str; 2] = ["feature", "neuron"];

impl ClampForm {
    /// The form aimed at `target` (the browser opened it).
    pub fn aim(&mut self, target: Target) {
        let (kind, i) = match target {
            Target::Feature(i) => ("feature", i),
            Target::Neuron(i) => ("neuron", i),
        };
        self.target = kind.into();
        self.index = i.to_string();
    }

    /// Parse against the built decomposition; messages name the limit.
    pub fn parse(&self, size: &SaeSummary) -> Result<ClampRequest, String> {
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

/// "Decode a neuron": the neuron index as typed, below `d`.
pub fn parse_neuron(text: &str, d: u32) -> Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|j| *j < d)
        .ok_or_else(|| {
            format!(
                "the neuron must be a whole number from 0 to {}, got '{}'",
                d.saturating_sub(1),
                text.trim()
            )
        })
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
    use neurolab_base::Position;
    use neurolab_core::sae::analysis::{density_histogram, histogram};
    use neurolab_core::sae::{LogitEffect, TrueMatch};

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

    fn toy_size() -> SaeSummary {
        SaeSummary {
            n_samples: 2048,
            d: 6,
            latents: 32,
            p: None,
            source: "toy model of superposition: 16 features in 6 dims, 2048 samples".into(),
        }
    }

    fn configured(summary: SaeSummary) -> LabEvent<SaeLab> {
        LabEvent::Configured {
            summary,
            position: Position::steps(0, 200),
            note: None,
        }
    }

    fn stopped(reason: StopReason) -> LabEvent<SaeLab> {
        LabEvent::Stopped {
            position: Position::steps(200, 200),
            reason,
        }
    }

    fn feature(index: u32, density: f32) -> FeatureSummary {
        FeatureSummary {
            index,
            density,
            max_act: 1.0,
            mean_act: 0.5,
            label: format!("f{index}"),
            fourier: None,
            best_true: None,
        }
    }

    fn detail(target: Target) -> FeatureDetail {
        FeatureDetail {
            target,
            density: 0.1,
            top_inputs: vec![],
            heatmap: None,
            p: None,
            fourier: None,
            histogram: histogram(&[0.0, 1.0, 2.0], 4),
            logit_effect: LogitEffect::default(),
            best_true: Some(TrueMatch {
                feature: 5,
                cosine: 0.97,
            }),
        }
    }

    #[test]
    fn events_fold_into_a_run() {
        let mut s = SaeState::default();
        // While the source is prepared the summary has no source text.
        s.fold(&configured(SaeSummary {
            source: String::new(),
            ..toy_size()
        }));
        assert!(!s.built());
        assert!(s.metrics().is_empty());
        s.fold(&configured(toy_size()));
        assert!(s.built());
        assert_eq!(s.metrics(), vec![("source", toy_size().source)]);
        s.fold(&LabEvent::Report {
            report: report(0, 1.0, Some(0.3)),
        });
        s.fold(&LabEvent::Report {
            report: report(100, 0.2, Some(0.8)),
        });
        // A repeated report step replaces the old one.
        s.fold(&LabEvent::Report {
            report: report(100, 0.19, Some(0.81)),
        });
        s.fold(&LabEvent::Report {
            report: report(200, 0.1, Some(0.9)),
        });
        assert_eq!(
            s.curve(Metric::Fvu),
            vec![(0.0, 1.0), (100.0, 0.19f32 as f64), (200.0, 0.1f32 as f64)]
        );
        assert!(
            s.curve(Metric::CeScore).is_empty(),
            "no CE score on the toy source"
        );
        let m = s.metrics();
        assert_eq!(m[0], ("step", "200".to_string()));
        assert!(m.contains(&("MMCS", "0.900".to_string())), "{m:?}");
        assert!(m.iter().all(|(l, _)| *l != "CE-loss score"));
        assert!(m.last().unwrap().1.contains("16 features in 6 dims"));
        s.select(Target::Feature(3));
        s.fold(&LabEvent::Answer {
            answer: SaeAnswer::FeatureDetail {
                detail: detail(Target::Feature(3)),
            },
        });
        assert_eq!(s.selected, Some(Target::Feature(3)));
        assert_eq!(
            detail_title(s.detail.as_ref().unwrap()),
            "feature #3 · density 10.00% · matches true feature 5 (cos 0.97)"
        );
        // A new session forgets everything of the old one.
        s.fold(&configured(toy_size()));
        assert_eq!(
            s,
            SaeState {
                size: Some(toy_size()),
                ..SaeState::default()
            }
        );
    }

    #[test]
    fn grok_metrics_show_the_ce_loss_score() {
        let mut s = SaeState::default();
        s.fold(&configured(SaeSummary {
            p: Some(23),
            source: "grokking preset trained here (mlp, p = 23, 300 steps)".into(),
            ..toy_size()
        }));
        s.fold(&LabEvent::Report {
            report: SaeReport {
                ce_loss_score: Some(0.8125),
                ce_clean: Some(0.01),
                ce_sae: Some(0.5),
                ..report(0, 0.5, None)
            },
        });
        let m = s.metrics();
        assert!(m.contains(&("CE-loss score", "0.812".to_string())), "{m:?}");
        assert!(
            m.contains(&("CE clean → SAE", "0.01000 → 0.5000".to_string())),
            "{m:?}"
        );
        assert!(m.iter().all(|(l, _)| *l != "MMCS"));
        assert_eq!(s.curve(Metric::CeScore), vec![(0.0, 0.8125)]);
    }

    #[test]
    fn the_feature_list_is_densest_first_and_asked_for_after_stops() {
        let mut s = SaeState::default();
        let preparing = SaeSummary {
            source: String::new(),
            ..toy_size()
        };
        s.fold(&configured(preparing));
        assert!(
            !s.wants_features(&configured(toy_size())),
            "nothing to list while the source is prepared"
        );
        assert!(!s.wants_features(&stopped(StopReason::Paused)));
        s.fold(&configured(toy_size()));
        assert!(s.wants_features(&configured(toy_size())));
        assert!(
            !s.wants_features(&stopped(StopReason::Prepared)),
            "the configured decomposition already asked"
        );
        assert!(s.wants_features(&stopped(StopReason::Paused)));
        assert!(s.wants_features(&stopped(StopReason::Finished)));
        assert!(!s.wants_features(&stopped(StopReason::Diverged {
            at: 10.0,
            message: "NaN".into()
        })));
        assert!(!s.wants_features(&stopped(StopReason::Failed {
            message: "lost".into()
        })));
        assert!(!s.wants_features(&LabEvent::Report {
            report: report(0, 1.0, None)
        }));
        s.fold(&LabEvent::Answer {
            answer: SaeAnswer::FeatureList {
                step: 300,
                features: vec![
                    feature(0, 0.01),
                    feature(1, 0.5),
                    feature(2, 0.01),
                    feature(3, 0.2),
                ],
            },
        });
        let order: Vec<u32> = s.features.iter().map(|f| f.index).collect();
        assert_eq!(
            order,
            [1, 3, 0, 2],
            "densest first, ties in the worker's order"
        );
        assert_eq!(s.features_step, Some(300));
    }

    #[test]
    fn detail_and_size_texts_name_what_they_show() {
        let pair = TopInput {
            sample: 40,
            a: Some(1),
            b: Some(17),
            label: Some(18),
            activation: 2.5,
            context: None,
            context_acts: None,
            at: None,
        };
        assert_eq!(
            top_input_texts(&pair),
            ("1, 17".to_string(), "(1, 17) → 18: 2.500".to_string())
        );
        let sample = TopInput {
            a: None,
            b: None,
            label: None,
            ..pair
        };
        assert_eq!(top_input_texts(&sample).1, "sample 40: 2.500");
        let in_text = TopInput {
            context: Some(vec!["capital".into(), "of".into(), "france".into()]),
            context_acts: Some(vec![0.0, 0.5, 2.5]),
            at: Some(2),
            ..sample.clone()
        };
        assert_eq!(
            top_input_texts(&in_text).1,
            "sample 40: … capital of [france] …: 2.500"
        );
        let shifts = [
            LogitShift {
                output: 5,
                delta: 1.5,
                token: None,
            },
            LogitShift {
                output: 7,
                delta: 0.25,
                token: None,
            },
        ];
        assert_eq!(effect_text(&shifts), "5 (1.500), 7 (0.2500)");
        let named = [LogitShift {
            output: 5,
            delta: 1.5,
            token: Some("paris".into()),
        }];
        assert_eq!(effect_text(&named), "'paris' (1.500)");
        assert_eq!(
            detail_title(&FeatureDetail {
                best_true: None,
                ..detail(Target::Neuron(7))
            }),
            "model neuron 7 · density 10.00%"
        );
        assert_eq!(
            size_text(&toy_size()),
            "toy model of superposition: 16 features in 6 dims, 2048 samples · 2048 samples × 6 dims → 32 latents"
        );
        assert_eq!(
            size_text(&SaeSummary {
                source: String::new(),
                ..toy_size()
            }),
            "2048 samples × 6 dims → 32 latents"
        );
        assert_eq!(parse_neuron(" 5 ", 6), Ok(5));
        assert_eq!(
            parse_neuron("6", 6).unwrap_err(),
            "the neuron must be a whole number from 0 to 5, got '6'"
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
        let grok = SaeSummary {
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
            ..f.clone()
        };
        assert!(bad.parse(&grok).unwrap_err().contains("'junk'"));
        let bad = ClampForm {
            input: "99999".into(),
            ..ClampForm::default()
        };
        assert_eq!(
            bad.parse(&toy_size()).unwrap_err(),
            "the sample must be a whole number from 0 to 2047, got '99999'"
        );
        // Opening a target in the browser aims the clamp at it.
        let mut aimed = ClampForm::default();
        aimed.aim(Target::Neuron(4));
        assert_eq!(
            (aimed.target.as_str(), aimed.index.as_str()),
            ("neuron", "4")
        );
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
            labels: None,
        };
        let s = clamp_summary(&r);
        assert!(
            s.contains("before: 1 (p 0.84)") && s.contains("after: 2 (p 0.93)"),
            "{s}"
        );
        assert!(s.starts_with("value 0.5000 → 5.000 ·"), "{s}");
        assert_eq!(argmax(&[f32::NAN, -1.0, -0.5]), Some(2));
        assert_eq!(argmax(&[]), None);
        let mut state = SaeState::default();
        let request = ClampRequest {
            input: ClampInput::Sample(1),
            target: Target::Feature(2),
            op: ClampOp::Zero,
        };
        state.fold(&LabEvent::Answer {
            answer: SaeAnswer::Clamped {
                request,
                response: r.clone(),
            },
        });
        assert_eq!(
            state.clamp,
            Some(Clamped {
                request,
                response: r
            })
        );
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
