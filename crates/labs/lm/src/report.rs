//! The LM lab's plain results: training reports, and the answers of its tools (generation,
//! the neuron browser, activation patching, relation-specific neurons). No burn here: the page
//! folds these from the worker's events and the CLI prints them.

use serde::{Deserialize, Serialize};

/// What a built session is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LmSummary {
    pub corpus: String,
    /// Token id → text (the prompt box's words, the tables' labels).
    pub vocab: Vec<String>,
    pub word_level: bool,
    pub params: u64,
    pub train_tokens: u64,
    pub val_tokens: u64,
    /// `facts`: the relations, in order.
    pub relations: Vec<String>,
    pub layers: u32,
    pub d_model: u32,
    pub d_mlp: u32,
    pub heads: u32,
    pub ctx: u32,
}

/// Recall of one relation: the object as the top next token after the prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationRecall {
    pub relation: String,
    /// On the training templates.
    pub seen: f32,
    /// On the held-out templates (the same facts, phrased as training never did).
    pub held_out: f32,
}

/// Text the model wrote during training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub prompt: String,
    pub text: String,
}

/// Metrics at one report step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LmReport {
    pub step: u32,
    /// Training tokens seen so far.
    pub tokens: u64,
    /// Mean training loss (nats per token) over the steps since the last report.
    pub train_loss: f32,
    /// On the validation text (`facts`: the held-out templates' statements).
    pub val_loss: f32,
    pub lr: f32,
    /// `facts` only, per relation.
    pub recall: Vec<RelationRecall>,
    pub sample: Option<Sample>,
}

impl LmReport {
    /// Mean recall over relations on the training templates (`None` without facts).
    pub fn recall_seen(&self) -> Option<f32> {
        (!self.recall.is_empty())
            .then(|| self.recall.iter().map(|r| r.seen).sum::<f32>() / self.recall.len() as f32)
    }
    pub fn recall_held_out(&self) -> Option<f32> {
        (!self.recall.is_empty())
            .then(|| self.recall.iter().map(|r| r.held_out).sum::<f32>() / self.recall.len() as f32)
    }
}

/// A token with a number (a probability, a logit, an activation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenValue {
    pub token: String,
    pub value: f32,
}

/// One generation: the prompt and what followed, with the next-token distribution after every
/// position (its most likely tokens).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Generation {
    pub tokens: Vec<String>,
    /// The first `prompt_len` tokens are the prompt.
    pub prompt_len: u32,
    /// After token i: the five most likely next tokens and their probabilities.
    pub next: Vec<Vec<TokenValue>>,
    /// The text as one string.
    pub text: String,
}

/// A neuron's window of the corpus, every token with the neuron's activation there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Context {
    pub tokens: Vec<String>,
    pub acts: Vec<f32>,
    /// The token where the activation peaks (index into `tokens`).
    pub at: u32,
    pub activation: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Histogram {
    pub lo: f32,
    pub hi: f32,
    pub counts: Vec<u32>,
}

/// One MLP neuron (or, in the SAE lab, a feature): where it fires and what it writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronDetail {
    pub layer: u32,
    pub neuron: u32,
    /// Over the browser's sample of the corpus.
    pub max_act: f32,
    pub mean_act: f32,
    /// Fraction of tokens where it is above zero.
    pub density: f32,
    pub contexts: Vec<Context>,
    pub histogram: Histogram,
    /// Its output weights through the unembedding (`W_out[n] · W_U`): the tokens it promotes,
    /// largest first, and suppresses, most negative first.
    pub promoted: Vec<TokenValue>,
    pub suppressed: Vec<TokenValue>,
}

/// One neuron in a layer's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronRow {
    pub neuron: u32,
    pub max_act: f32,
    pub mean_act: f32,
    /// The token its output weights promote most, and by how much.
    pub top_token: String,
    pub top_logit: f32,
}

/// Patching results at one site: the logit difference recovered, layer-major `layers × positions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchSite {
    /// `resid` (the residual stream entering the layer), `attn` or `mlp` (the layer's outputs).
    pub site: String,
    pub layers: u32,
    pub recovered: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchResult {
    pub clean: Vec<String>,
    pub corrupt: Vec<String>,
    /// The answers compared: the clean and the corrupted prompt's top next tokens (or the user's).
    pub answer_clean: String,
    pub answer_corrupt: String,
    /// logit(answer_clean) − logit(answer_corrupt) on each prompt.
    pub ld_clean: f32,
    pub ld_corrupt: f32,
    pub sites: Vec<PatchSite>,
}

/// A neuron named by its layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronScore {
    pub layer: u32,
    pub neuron: u32,
    /// Its attribution to this relation's answers minus its largest over the other relations.
    pub score: f32,
}

/// One relation's neurons and what ablating them does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationAblation {
    pub relation: String,
    /// Ranked, most specific first (the first `max(ks)`).
    pub top: Vec<NeuronScore>,
    /// `[k][relation]`: recall on the training templates with this relation's top k ablated.
    pub recall: Vec<Vec<f32>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationNeurons {
    pub relations: Vec<String>,
    pub ks: Vec<u32>,
    /// How the neurons were silenced: `zero` or `mean`.
    pub ablation: String,
    /// Where: `last` (the answer's position) or `all` positions.
    pub positions: String,
    pub by_relation: Vec<RelationAblation>,
}

neurolab_base::finite_fields!(RelationRecall: seen, held_out);
neurolab_base::finite_fields!(LmReport: train_loss, val_loss, lr, recall);
neurolab_base::finite_fields!(TokenValue: value);
neurolab_base::finite_fields!(Generation: next);
neurolab_base::finite_fields!(Context: acts, activation);
neurolab_base::finite_fields!(Histogram: lo, hi);
neurolab_base::finite_fields!(NeuronDetail: max_act, mean_act, density, contexts, histogram, promoted, suppressed);
neurolab_base::finite_fields!(NeuronRow: max_act, mean_act, top_logit);
neurolab_base::finite_fields!(PatchSite: recovered);
neurolab_base::finite_fields!(PatchResult: ld_clean, ld_corrupt, sites);
neurolab_base::finite_fields!(NeuronScore: score);
neurolab_base::finite_fields!(RelationAblation: top, recall);
neurolab_base::finite_fields!(RelationNeurons: by_relation);
