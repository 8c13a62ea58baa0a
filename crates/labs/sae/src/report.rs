//! The SAE lab's plain results: metrics ([`SaeReport`]), the feature browser's list and detail,
//! and clamp requests/answers. No burn here: the page (built without `compute`) folds these from
//! the worker's events, and the CLI prints them.

use super::analysis::{DensityHistogram, FourierLabel, Histogram};
use serde::{Deserialize, Serialize};

/// What a built decomposition is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SaeSummary {
    pub n_samples: u32,
    /// Activation dimensions.
    pub d: u32,
    pub latents: u32,
    /// Grok sources: the modulus (the clamp's inputs are pairs (a, b) < p).
    pub p: Option<u32>,
    /// Where the activations came from, for the user.
    pub source: String,
}

/// The toy model's true feature closest to a latent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrueMatch {
    pub feature: u32,
    pub cosine: f32,
}

/// One output's logit change along a direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogitShift {
    pub output: u32,
    pub delta: f32,
    /// Language-model source: the output's token.
    #[serde(default)]
    pub token: Option<String>,
}

/// Metrics at one step, read back in one transfer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SaeReport {
    pub step: u32,
    /// Mean over samples of ‖x − x̂‖² / d, in normalised units (E‖x‖²/d = 1).
    pub mse: f32,
    /// Fraction of variance unexplained: Σ‖x − x̂‖² / Σ‖x − x̄‖².
    pub fvu: f32,
    /// Mean number of active latents per sample.
    pub l0: f32,
    /// SAEs: latents that have not fired in the last `dead_after` training samples;
    /// semi-NMF: latents never active on the data.
    pub dead_frac: f32,
    pub density_hist: DensityHistogram,
    /// Grok sources: (CE_zero_abl − CE_sae) / (CE_zero_abl − CE_clean) over all p² pairs.
    pub ce_loss_score: Option<f32>,
    pub ce_clean: Option<f32>,
    pub ce_sae: Option<f32>,
    pub ce_zero_abl: Option<f32>,
    /// Toy source: mean over true features of the best cosine with a decoder direction.
    pub mmcs: Option<f32>,
    /// Last training step's loss terms (0 before the first step; semi-NMF: none).
    pub loss_recon: f32,
    pub loss_aux: f32,
}

neurolab_base::finite_fields!(ClampRequest: op);
neurolab_base::finite_fields!(SaeReport: mse, fvu, l0, dead_frac, density_hist, ce_loss_score, ce_clean, ce_sae, ce_zero_abl, mmcs, loss_recon, loss_aux);

neurolab_base::finite_fields!(TrueMatch: cosine);
neurolab_base::finite_fields!(LogitShift: delta);
neurolab_base::finite_fields!(FeatureSummary: density, max_act, mean_act, fourier, best_true);
neurolab_base::finite_fields!(TopInput: activation, context_acts);
neurolab_base::finite_fields!(LogitEffect: promoted, suppressed);
neurolab_base::finite_fields!(FeatureDetail: density, top_inputs, heatmap, fourier, histogram, logit_effect, best_true);
neurolab_base::finite_fields!(ClampResponse: outputs_before, outputs_after, probs_before, probs_after, value_before, value_after);

/// One latent in the browser's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSummary {
    pub index: u32,
    /// Fraction of samples where it is active.
    pub density: f32,
    pub max_act: f32,
    /// Mean activation over the samples where it is active.
    pub mean_act: f32,
    /// Automatic label: grok sources the dominant Fourier frequency, toy the matching feature.
    pub label: String,
    pub fourier: Option<FourierLabel>,
    /// Toy: the true feature whose direction matches best.
    pub best_true: Option<TrueMatch>,
}

/// What to open in the browser: an SAE latent or a raw model neuron (a site dimension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Feature(u32),
    Neuron(u32),
}

/// One sample that activates a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopInput {
    pub sample: u32,
    /// Grok sources: the pair and its label.
    pub a: Option<u32>,
    pub b: Option<u32>,
    pub label: Option<u32>,
    pub activation: f32,
    /// Language-model source: the tokens around the sample, the latent's activation on each,
    /// and which of them is the sample.
    #[serde(default)]
    pub context: Option<Vec<String>>,
    #[serde(default)]
    pub context_acts: Option<Vec<f32>>,
    #[serde(default)]
    pub at: Option<u32>,
}

/// Output-logit effect of one unit along a direction (through the model's unembedding).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LogitEffect {
    /// Largest first.
    pub promoted: Vec<LogitShift>,
    /// Most negative first.
    pub suppressed: Vec<LogitShift>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDetail {
    pub target: Target,
    pub density: f32,
    pub top_inputs: Vec<TopInput>,
    /// Grok sources: activation over (a, b), row-major `p × p`.
    pub heatmap: Option<Vec<f32>>,
    pub p: Option<u32>,
    pub fourier: Option<FourierLabel>,
    pub histogram: Histogram,
    pub logit_effect: LogitEffect,
    pub best_true: Option<TrueMatch>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClampOp {
    Set(f32),
    Zero,
    /// Replace by its mean over all samples.
    MeanAblate,
    Scale(f32),
}

impl neurolab_base::Finite for ClampOp {
    fn all_finite(&self) -> bool {
        match self {
            ClampOp::Set(v) | ClampOp::Scale(v) => v.is_finite(),
            ClampOp::Zero | ClampOp::MeanAblate => true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClampInput {
    /// Grok sources.
    Pair { a: u32, b: u32 },
    /// Any source: the index of an activation sample.
    Sample(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClampRequest {
    pub input: ClampInput,
    pub target: Target,
    pub op: ClampOp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClampResponse {
    /// Logits over p (grok) or the toy model's n outputs, before and after.
    pub outputs_before: Vec<f32>,
    pub outputs_after: Vec<f32>,
    /// Grok sources: softmax over p.
    pub probs_before: Option<Vec<f32>>,
    pub probs_after: Option<Vec<f32>>,
    pub value_before: f32,
    pub value_after: f32,
    /// Language-model source: every output's token.
    #[serde(default)]
    pub labels: Option<Vec<String>>,
}
