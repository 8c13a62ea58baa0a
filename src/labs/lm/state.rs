//! What the language-model page knows of its run, folded from the lab's events: the model's
//! size and vocabulary, the reports (losses, recall per relation, samples), and the last answer
//! of each tool (a generation, a layer's neurons, a neuron's detail, patching, relation
//! neurons); plus the plain helpers its views use (curves, the forms' parsing with messages
//! that name the limit, token shading and heat-map colours, the own-text notice). The run itself
//! (phase, position, rate) is the shell's. Plain data, tested natively.

use crate::format::{fmt_pct, fmt_sig};
use neurolab_base::msg::LabEvent;
use neurolab_base::StopReason;
use neurolab_core::lm::config::SAMPLE_LEN_MAX;
use neurolab_core::lm::{
    CorpusKind, GenerateRequest, Generation, LmAnswer, LmConfig, LmLab, LmReport, LmSummary,
    NeuronDetail, NeuronRow, PatchRequest, PatchResult, RelationNeurons, Sample, Steer, TokenValue,
};

/// A generation the worker answered: what was asked, the plain and (steered) the steered text.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub request: GenerateRequest,
    pub plain: Generation,
    pub steered: Option<Generation>,
}

/// Patching the worker answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Patched {
    pub request: PatchRequest,
    pub result: PatchResult,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LmState {
    /// The built model and its corpus (`None` until the session is configured).
    pub summary: Option<LmSummary>,
    /// Reports of the current session, in step order.
    pub reports: Vec<LmReport>,
    pub generated: Option<Generated>,
    /// The layer the neuron browser lists (asked for; the list follows).
    pub layer: Option<u32>,
    pub neurons: Vec<NeuronRow>,
    /// The step and layer the list was computed at.
    pub neurons_at: Option<(u32, u32)>,
    /// The neuron the browser opened `(layer, neuron)` and its detail once it arrives.
    pub selected: Option<(u32, u32)>,
    pub detail: Option<NeuronDetail>,
    pub detail_step: Option<u32>,
    pub patched: Option<Patched>,
    pub relations: Option<RelationNeurons>,
    pub relations_step: Option<u32>,
    /// Parameters of weights loaded from a file.
    pub imported: Option<u64>,
}

impl LmState {
    /// Fold one event of the lab.
    pub fn fold(&mut self, event: &LabEvent<LmLab>) {
        match event {
            // A session: everything before it is gone.
            LabEvent::Configured { summary, .. } => {
                *self = LmState {
                    summary: Some(summary.clone()),
                    ..LmState::default()
                };
            }
            LabEvent::Report { report } => {
                // A report at a step already shown (loaded weights, a Step) replaces it.
                self.reports.retain(|r| r.step < report.step);
                self.reports.push(report.clone());
            }
            LabEvent::Answer { answer } => self.answer(answer),
            _ => {}
        }
    }

    fn answer(&mut self, answer: &LmAnswer) {
        match answer {
            LmAnswer::Generated {
                request,
                plain,
                steered,
            } => {
                self.generated = Some(Generated {
                    request: request.clone(),
                    plain: plain.clone(),
                    steered: steered.clone(),
                });
            }
            LmAnswer::NeuronList {
                step,
                layer,
                neurons,
            } => {
                self.neurons = neurons.clone();
                self.neurons_at = Some((*step, *layer));
            }
            LmAnswer::NeuronDetail { step, detail } => {
                self.selected = Some((detail.layer, detail.neuron));
                self.detail = Some(detail.clone());
                self.detail_step = Some(*step);
            }
            LmAnswer::Patched { request, result } => {
                self.patched = Some(Patched {
                    request: request.clone(),
                    result: result.clone(),
                });
            }
            LmAnswer::RelationNeurons { step, result } => {
                self.relations = Some(result.clone());
                self.relations_step = Some(*step);
            }
            LmAnswer::Imported { params } => self.imported = Some(*params),
        }
    }

    /// Whether the model exists (the tools are answered).
    pub fn built(&self) -> bool {
        self.summary.is_some()
    }

    /// Whether the corpus is `facts` (recall per relation, relation neurons).
    pub fn has_relations(&self) -> bool {
        self.summary
            .as_ref()
            .is_some_and(|s| !s.relations.is_empty())
    }

    /// The layer whose neuron list the page asks for again after `event` (already folded):
    /// when the run pauses or finishes with a layer open, the list is of the trained model.
    pub fn wants_neurons(&self, event: &LabEvent<LmLab>) -> Option<u32> {
        match event {
            LabEvent::Stopped { reason, .. }
                if matches!(reason, StopReason::Paused | StopReason::Finished) =>
            {
                self.layer.filter(|_| self.built())
            }
            _ => None,
        }
    }

    pub fn latest(&self) -> Option<&LmReport> {
        self.reports.last()
    }

    /// The newest sample the model wrote during training, with its step.
    pub fn latest_sample(&self) -> Option<(u32, &Sample)> {
        self.reports
            .iter()
            .rev()
            .find_map(|r| r.sample.as_ref().map(|s| (r.step, s)))
    }

    /// The metric tiles: (label, value).
    pub fn metrics(&self) -> Vec<(&'static str, String)> {
        let mut m = Vec::new();
        if let Some(r) = self.latest() {
            m.push(("step", r.step.to_string()));
            m.push(("train loss", fmt_sig(r.train_loss)));
            m.push(("val loss", fmt_sig(r.val_loss)));
            if let (Some(seen), Some(held)) = (r.recall_seen(), r.recall_held_out()) {
                m.push(("recall seen", fmt_pct(seen)));
                m.push(("recall held-out", fmt_pct(held)));
            }
        }
        if let Some(s) = &self.summary {
            m.push(("parameters", s.params.to_string()));
            m.push(("corpus", s.corpus.clone()));
        }
        m
    }

    /// One loss over the reports as (step, value) points.
    pub fn curve(&self, of: fn(&LmReport) -> f32) -> Vec<(f64, f64)> {
        self.reports
            .iter()
            .map(|r| (f64::from(r.step), f64::from(of(r))))
            .filter(|p| p.1.is_finite())
            .collect()
    }

    /// Recall of every relation over the reports: (relation, seen points, held-out points).
    pub fn recall_curves(&self) -> Vec<RecallCurve> {
        let Some(s) = &self.summary else {
            return Vec::new();
        };
        s.relations
            .iter()
            .map(|name| {
                let mut c = RecallCurve {
                    relation: name.clone(),
                    seen: Vec::new(),
                    held_out: Vec::new(),
                };
                for r in &self.reports {
                    if let Some(x) = r.recall.iter().find(|x| &x.relation == name) {
                        let step = f64::from(r.step);
                        c.seen.push((step, f64::from(x.seen)));
                        c.held_out.push((step, f64::from(x.held_out)));
                    }
                }
                c
            })
            .collect()
    }
}

/// One relation's recall over training.
#[derive(Debug, Clone, PartialEq)]
pub struct RecallCurve {
    pub relation: String,
    pub seen: Vec<(f64, f64)>,
    pub held_out: Vec<(f64, f64)>,
}

/// Training tokens per wall second: steps per second × sequences × context.
pub fn tokens_per_sec(steps_per_sec: f64, batch: u32, ctx: u32) -> f64 {
    steps_per_sec * f64::from(batch) * f64::from(ctx)
}

/// "12.3 k tokens/s" (nothing while the rate is unknown).
pub fn rate_text(tokens_per_sec: f64) -> String {
    if !(tokens_per_sec.is_finite() && tokens_per_sec > 0.0) {
        return String::new();
    }
    if tokens_per_sec >= 1e6 {
        format!("{:.2} M tokens/s", tokens_per_sec / 1e6)
    } else if tokens_per_sec >= 1e3 {
        format!("{:.1} k tokens/s", tokens_per_sec / 1e3)
    } else {
        format!("{tokens_per_sec:.0} tokens/s")
    }
}

/// A token as the page shows it: characters that would vanish (a space, a line break, a tab)
/// made visible.
pub fn show_token(token: &str) -> String {
    match token {
        " " => "␣".into(),
        "\n" => "↵".into(),
        "\t" => "⇥".into(),
        t => t.replace('\n', "↵"),
    }
}

/// "paris 82.0% · rome 5.1%": a next-token distribution.
pub fn next_text(next: &[TokenValue]) -> String {
    next.iter()
        .map(|t| format!("{} {}", show_token(&t.token), fmt_pct(t.value)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// "paris (1.234), rome (0.5000)": tokens with their values.
pub fn token_values_text(tokens: &[TokenValue]) -> String {
    tokens
        .iter()
        .map(|t| format!("{} ({})", show_token(&t.token), fmt_sig(t.value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A token's shading: its activation over the neuron's largest, in 0..=1 (negative, non-finite
/// or a silent neuron: unshaded).
pub fn shade(act: f32, max: f32) -> f32 {
    if !(act.is_finite() && max.is_finite()) || max <= 0.0 {
        return 0.0;
    }
    (act / max).clamp(0.0, 1.0)
}

/// The CSS background of a token shaded by `alpha`.
pub fn shade_css(alpha: f32) -> String {
    format!("rgba(37, 99, 235, {alpha:.3})")
}

/// A patching heat-map cell's CSS colour: white at 0, blue toward 1 (the clean answer
/// recovered), red for negative values, saturated at ±1.
pub fn recovered_css(v: f32) -> String {
    let t = if v.is_finite() {
        v.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let fade = |c: f32| (255.0 - (255.0 - c) * t.abs()).round() as u8;
    let (r, g, b) = if t >= 0.0 {
        (fade(37.0), fade(99.0), fade(235.0))
    } else {
        (fade(220.0), fade(38.0), fade(38.0))
    };
    format!("rgb({r}, {g}, {b})")
}

/// Whether a cell's text should be light (a dark cell).
pub fn dark_cell(v: f32) -> bool {
    v.is_finite() && v.abs() > 0.6
}

/// The patching summary: answers and logit differences.
pub fn patch_summary(r: &PatchResult) -> String {
    format!(
        "answers: '{}' (clean) vs '{}' (corrupted) · logit difference clean {} · corrupted {} · a cell is the share of that difference the patch recovers (1 = all of it)",
        r.answer_clean,
        r.answer_corrupt,
        fmt_sig(r.ld_clean),
        fmt_sig(r.ld_corrupt)
    )
}

/// Positions of a site's layer-major map.
pub fn positions(recovered: &[f32], layers: u32) -> usize {
    recovered.len() / (layers.max(1) as usize)
}

/// For relation `which`'s ablation: one line per relation of recall against k.
pub fn ablation_lines(r: &RelationNeurons, which: usize) -> Vec<(String, Vec<(f64, f64)>)> {
    let Some(a) = r.by_relation.get(which) else {
        return Vec::new();
    };
    r.relations
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let points =
                r.ks.iter()
                    .zip(&a.recall)
                    .filter_map(|(k, row)| row.get(j).map(|v| (f64::from(*k), f64::from(*v))))
                    .collect();
            (name.clone(), points)
        })
        .collect()
}

/// What the page says when the config trains on the user's text: nothing for the shipped
/// corpora or when the text is there; otherwise that the text must be given (a link names it
/// by fingerprint only).
pub fn text_notice(config: &LmConfig) -> Option<String> {
    if config.corpus != CorpusKind::Text || !config.text.is_empty() {
        return None;
    }
    Some(if config.text_id.is_empty() {
        "This experiment trains on your own text: pick a .txt file or paste text below to run"
            .to_string()
    } else {
        format!(
            "This link trained on your own text (fingerprint {}): upload it to run",
            config.text_id
        )
    })
}

/// The config that trains on `text`: the current one when it already trains on a text (its
/// settings kept), else the text preset (longer context, characters).
pub fn text_config(current: &LmConfig, text: String) -> LmConfig {
    let base = if current.corpus == CorpusKind::Text {
        current.clone()
    } else {
        LmConfig {
            seed: current.seed,
            ..LmConfig::preset(CorpusKind::Text)
        }
    };
    base.with_text(text)
}

/// A prompt to start from on a corpus.
pub fn default_prompt(config: &LmConfig) -> String {
    match config.corpus {
        CorpusKind::Facts => "the capital of france is".into(),
        CorpusKind::Stories => "once upon a time".into(),
        CorpusKind::Text => config.text.chars().take(24).collect(),
    }
}

fn whole(text: &str, what: &str, lo: u32, hi: u32) -> Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|v| (lo..=hi).contains(v))
        .ok_or_else(|| {
            format!(
                "{what} must be a whole number from {lo} to {hi}, got '{}'",
                text.trim()
            )
        })
}

fn number(text: &str, what: &str, lo: f32, hi: f32) -> Result<f32, String> {
    text.trim()
        .parse::<f32>()
        .ok()
        .filter(|v| v.is_finite() && (lo..=hi).contains(v))
        .ok_or_else(|| {
            format!(
                "{what} must be a number from {lo} to {hi}, got '{}'",
                text.trim()
            )
        })
}

/// The generate form's text fields, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct GenForm {
    pub prompt: String,
    pub temperature: String,
    pub top_k: String,
    pub length: String,
    pub seed: String,
}

impl Default for GenForm {
    fn default() -> Self {
        Self {
            prompt: "the capital of france is".into(),
            temperature: "0.8".into(),
            top_k: "0".into(),
            length: "20".into(),
            seed: "0".into(),
        }
    }
}

impl GenForm {
    /// The request with `steer`; messages name the limit.
    pub fn parse(&self, steer: Vec<Steer>) -> Result<GenerateRequest, String> {
        if self.prompt.trim().is_empty() {
            return Err("the prompt is empty: type a few words".into());
        }
        let seed = self.seed.trim().parse::<u64>().map_err(|_| {
            format!(
                "the seed must be a whole number from 0, got '{}'",
                self.seed.trim()
            )
        })?;
        Ok(GenerateRequest {
            prompt: self.prompt.clone(),
            temperature: number(&self.temperature, "the temperature", 0.0, 10.0)?,
            top_k: whole(&self.top_k, "top-k", 0, 100_000)?,
            length: whole(&self.length, "the length", 1, SAMPLE_LEN_MAX)?,
            seed,
            steer,
        })
    }
}

/// The steer form: a clamp or an added direction, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct SteerForm {
    /// One of [`STEER_KINDS`].
    pub kind: String,
    pub layer: String,
    pub neuron: String,
    /// The clamped value, or the direction's scale.
    pub value: String,
}

pub const STEER_KINDS: [&str; 2] = ["clamp", "add"];

impl Default for SteerForm {
    fn default() -> Self {
        Self {
            kind: "clamp".into(),
            layer: "0".into(),
            neuron: "0".into(),
            value: "5".into(),
        }
    }
}

impl SteerForm {
    /// The steer against the built model; messages name the limit.
    pub fn parse(&self, size: &LmSummary) -> Result<Steer, String> {
        let layer = whole(&self.layer, "the layer", 0, size.layers.saturating_sub(1))?;
        let neuron = whole(&self.neuron, "the neuron", 0, size.d_mlp.saturating_sub(1))?;
        let value = number(&self.value, "the value", -1e4, 1e4)?;
        Ok(match self.kind.as_str() {
            "add" => Steer::Add {
                layer,
                neuron,
                scale: value,
            },
            _ => Steer::Clamp {
                layer,
                neuron,
                value,
            },
        })
    }
}

/// "clamp L1 N17 = 5" or "add 2 × L0 N3".
pub fn steer_text(s: &Steer) -> String {
    match *s {
        Steer::Clamp {
            layer,
            neuron,
            value,
        } => format!("clamp L{layer} N{neuron} = {}", fmt_sig(value)),
        Steer::Add {
            layer,
            neuron,
            scale,
        } => format!("add {} × L{layer} N{neuron}", fmt_sig(scale)),
    }
}

/// The detail's heading.
pub fn detail_title(d: &NeuronDetail) -> String {
    format!(
        "layer {} neuron {} · max {} · mean {} · active on {} of tokens",
        d.layer,
        d.neuron,
        fmt_sig(d.max_act),
        fmt_sig(d.mean_act),
        fmt_pct(d.density)
    )
}

/// The patch form's text fields, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchForm {
    pub clean: String,
    pub corrupt: String,
    pub answer_clean: String,
    pub answer_corrupt: String,
}

impl Default for PatchForm {
    fn default() -> Self {
        Self {
            clean: "the capital of france is".into(),
            corrupt: "the capital of spain is".into(),
            answer_clean: String::new(),
            answer_corrupt: String::new(),
        }
    }
}

impl PatchForm {
    pub fn parse(&self) -> Result<PatchRequest, String> {
        if self.clean.trim().is_empty() || self.corrupt.trim().is_empty() {
            return Err("patching needs a clean and a corrupted prompt".into());
        }
        let answer = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        Ok(PatchRequest {
            clean: self.clean.clone(),
            corrupt: self.corrupt.clone(),
            answer_clean: answer(&self.answer_clean),
            answer_corrupt: answer(&self.answer_corrupt),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurolab_base::Position;
    use neurolab_core::lm::{Histogram, PatchSite, RelationAblation, RelationRecall, TokenValue};

    fn summary(relations: &[&str]) -> LmSummary {
        LmSummary {
            corpus: "facts".into(),
            vocab: vec![".".into(), "paris".into()],
            word_level: true,
            params: 1000,
            relations: relations.iter().map(|r| r.to_string()).collect(),
            layers: 2,
            d_mlp: 8,
            d_model: 16,
            heads: 2,
            ctx: 16,
            ..LmSummary::default()
        }
    }

    fn configured(s: LmSummary) -> LabEvent<LmLab> {
        LabEvent::Configured {
            summary: s,
            position: Position::steps(0, 100),
            note: None,
        }
    }

    fn report(step: u32, loss: f32, sample: bool) -> LmReport {
        LmReport {
            step,
            train_loss: loss,
            val_loss: loss + 0.5,
            recall: vec![
                RelationRecall {
                    relation: "capital".into(),
                    seen: 0.5,
                    held_out: 0.25,
                },
                RelationRecall {
                    relation: "sound".into(),
                    seen: 1.0,
                    held_out: 0.75,
                },
            ],
            sample: sample.then(|| Sample {
                prompt: ". the capital of".into(),
                text: format!("step {step}"),
            }),
            ..LmReport::default()
        }
    }

    #[test]
    fn events_fold_into_a_run_and_a_new_session_forgets_it() {
        let mut s = LmState::default();
        assert!(!s.built() && s.metrics().is_empty());
        s.fold(&configured(summary(&["capital", "sound"])));
        assert!(s.built() && s.has_relations());
        s.fold(&LabEvent::Report {
            report: report(0, 5.0, true),
        });
        s.fold(&LabEvent::Report {
            report: report(100, 3.0, false),
        });
        s.fold(&LabEvent::Report {
            report: report(100, 2.5, false),
        });
        assert_eq!(s.curve(|r| r.train_loss), vec![(0.0, 5.0), (100.0, 2.5)]);
        let (step, sample) = s.latest_sample().unwrap();
        assert_eq!((step, sample.text.as_str()), (0, "step 0"));
        let m = s.metrics();
        assert_eq!(m[0], ("step", "100".to_string()));
        assert!(m.contains(&("recall seen", "75.0%".to_string())), "{m:?}");
        assert!(
            m.contains(&("recall held-out", "50.0%".to_string())),
            "{m:?}"
        );
        let curves = s.recall_curves();
        assert_eq!(curves.len(), 2);
        assert_eq!(curves[1].held_out, vec![(0.0, 0.75), (100.0, 0.75)]);
        s.layer = Some(1);
        let stop = |reason| LabEvent::Stopped {
            position: Position::steps(100, 100),
            reason,
        };
        assert_eq!(s.wants_neurons(&stop(StopReason::Paused)), Some(1));
        assert_eq!(s.wants_neurons(&stop(StopReason::Prepared)), None);
        s.fold(&configured(summary(&[])));
        assert_eq!(
            s,
            LmState {
                summary: Some(summary(&[])),
                ..LmState::default()
            }
        );
        assert!(!s.has_relations() && s.recall_curves().is_empty());
    }

    #[test]
    fn answers_land_in_their_tools() {
        let mut s = LmState::default();
        s.fold(&LabEvent::Answer {
            answer: LmAnswer::NeuronDetail {
                step: 7,
                detail: NeuronDetail {
                    layer: 1,
                    neuron: 3,
                    max_act: 2.0,
                    mean_act: 0.5,
                    density: 0.25,
                    contexts: vec![],
                    histogram: Histogram::default(),
                    promoted: vec![],
                    suppressed: vec![],
                },
            },
        });
        assert_eq!(s.selected, Some((1, 3)));
        assert_eq!(
            detail_title(s.detail.as_ref().unwrap()),
            "layer 1 neuron 3 · max 2.000 · mean 0.5000 · active on 25.0% of tokens"
        );
        s.fold(&LabEvent::Answer {
            answer: LmAnswer::Imported { params: 42 },
        });
        assert_eq!(s.imported, Some(42));
    }

    #[test]
    fn forms_parse_or_name_the_limit() {
        let g = GenForm::default().parse(vec![]).unwrap();
        assert_eq!((g.length, g.top_k, g.seed), (20, 0, 0));
        let bad = GenForm {
            length: "999".into(),
            ..GenForm::default()
        };
        assert_eq!(
            bad.parse(vec![]).unwrap_err(),
            format!("the length must be a whole number from 1 to {SAMPLE_LEN_MAX}, got '999'")
        );
        let size = summary(&[]);
        assert_eq!(
            SteerForm::default().parse(&size),
            Ok(Steer::Clamp {
                layer: 0,
                neuron: 0,
                value: 5.0
            })
        );
        let add = SteerForm {
            kind: "add".into(),
            layer: "1".into(),
            neuron: "7".into(),
            value: "-2".into(),
        };
        let steer = add.parse(&size).unwrap();
        assert_eq!(steer_text(&steer), "add -2.000 × L1 N7");
        let bad = SteerForm {
            neuron: "8".into(),
            ..add
        };
        assert_eq!(
            bad.parse(&size).unwrap_err(),
            "the neuron must be a whole number from 0 to 7, got '8'"
        );
        let p = PatchForm::default().parse().unwrap();
        assert_eq!((p.answer_clean, p.answer_corrupt), (None, None));
        assert!(PatchForm {
            clean: " ".into(),
            ..PatchForm::default()
        }
        .parse()
        .is_err());
    }

    #[test]
    fn shading_colours_and_texts() {
        assert_eq!(shade(1.0, 2.0), 0.5);
        assert_eq!(shade(-1.0, 2.0), 0.0);
        assert_eq!(shade(1.0, 0.0), 0.0);
        assert_eq!(shade(f32::NAN, 1.0), 0.0);
        assert_eq!(recovered_css(0.0), "rgb(255, 255, 255)");
        assert_eq!(recovered_css(1.0), "rgb(37, 99, 235)");
        assert_eq!(recovered_css(-3.0), "rgb(220, 38, 38)");
        assert_eq!(show_token(" "), "␣");
        let next = [
            TokenValue {
                token: "paris".into(),
                value: 0.82,
            },
            TokenValue {
                token: "\n".into(),
                value: 0.05,
            },
        ];
        assert_eq!(next_text(&next), "paris 82.0% · ↵ 5.0%");
        assert_eq!(rate_text(tokens_per_sec(10.0, 32, 16)), "5.1 k tokens/s");
        assert_eq!(rate_text(0.0), "");
    }

    #[test]
    fn patch_and_relation_helpers() {
        let r = PatchResult {
            clean: vec![".".into(), "a".into(), "b".into()],
            corrupt: vec![".".into(), "c".into(), "b".into()],
            answer_clean: "x".into(),
            answer_corrupt: "y".into(),
            ld_clean: 2.0,
            ld_corrupt: -1.0,
            sites: vec![PatchSite {
                site: "resid".into(),
                layers: 2,
                recovered: vec![0.0; 6],
            }],
        };
        assert_eq!(positions(&r.sites[0].recovered, 2), 3);
        assert!(patch_summary(&r).starts_with("answers: 'x' (clean) vs 'y' (corrupted)"));
        let rel = RelationNeurons {
            relations: vec!["capital".into(), "sound".into()],
            ks: vec![0, 4],
            ablation: "zero".into(),
            positions: "last".into(),
            by_relation: vec![RelationAblation {
                relation: "capital".into(),
                top: vec![],
                recall: vec![vec![1.0, 0.9], vec![0.1, 0.8]],
            }],
        };
        let lines = ablation_lines(&rel, 0);
        assert_eq!(
            lines[0],
            (
                "capital".to_string(),
                vec![(0.0, 1.0), (4.0, 0.1f32 as f64)]
            )
        );
        assert_eq!(lines[1].1, vec![(0.0, 0.9f32 as f64), (4.0, 0.8f32 as f64)]);
        assert!(ablation_lines(&rel, 3).is_empty());
    }

    #[test]
    fn own_text_configs_and_notices() {
        let facts = LmConfig::default();
        assert_eq!(text_notice(&facts), None);
        let c = text_config(&facts, "hello world, hello text".into());
        assert_eq!(c.corpus, CorpusKind::Text);
        assert_eq!(c.ctx, LmConfig::preset(CorpusKind::Text).ctx);
        assert_eq!(text_notice(&c), None);
        assert_eq!(default_prompt(&c), "hello world, hello text");
        let linked = LmConfig {
            text: String::new(),
            ..c.clone()
        };
        let notice = text_notice(&linked).unwrap();
        assert!(notice.contains(&c.text_id) && notice.ends_with("upload it to run"));
        // A second text keeps the settings of the first.
        let again = text_config(&LmConfig { steps: 77, ..c }, "another".into());
        assert_eq!(again.steps, 77);
    }
}
