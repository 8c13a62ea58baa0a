//! `LmConfig`: the corpus, the decoder's shape, AdamW, the budget and the seed.
//!
//! Plain data shared by the form, the share link, the CLI and the tests, through one field
//! table; its rules and its memory/time estimate. The user's own text travels in the config
//! (`text`) but not in links: a link names it by `text_id` (its fingerprint and size).

use crate::corpus::{self, CorpusKind, TEXT_MAX_VOCAB};
use neurolab_base::budget::{f32s, Estimate};
use neurolab_base::field::Field;
use neurolab_base::{ConfigError, LabConfig, Position, Preset};
use serde::{Deserialize, Serialize};

pub const LAYERS_MAX: u32 = 4;
pub const D_MODEL_MIN: u32 = 16;
pub const D_MODEL_MAX: u32 = 256;
pub const HEADS_MAX: u32 = 8;
pub const D_MLP_MAX: u32 = 1024;
pub const CTX_MIN: u32 = 8;
pub const CTX_MAX: u32 = 128;
pub const BATCH_MAX: u32 = 256;
pub const STEPS_MAX: u32 = 1_000_000;
pub const REPORT_EVERY_MAX: u32 = 100_000;
pub const CORPUS_TOKENS_MIN: u32 = 1000;
pub const CORPUS_TOKENS_MAX: u32 = 2_000_000;
pub const SAMPLE_LEN_MAX: u32 = 256;
pub const LR_MAX: f64 = 1.0;
pub const WEIGHT_DECAY_MAX: f64 = 10.0;
/// Vocabulary sizes the estimate assumes before the corpus is built.
const FACTS_VOCAB: u64 = 200;
const STORIES_VOCAB: u64 = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmConfig {
    pub corpus: CorpusKind,
    /// `corpus = text`: the user's text (not in links).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// `corpus = text`: the text's name in links, `<fingerprint>-<bytes>` (empty when none).
    #[serde(default)]
    pub text_id: String,
    /// Shipped corpora: training tokens generated.
    pub corpus_tokens: u32,
    pub layers: u32,
    pub d_model: u32,
    pub heads: u32,
    pub d_mlp: u32,
    /// Context length (learned positions).
    pub ctx: u32,
    /// Unembedding = token embedding transposed.
    pub tied: bool,
    pub lr: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// Linear warm-up steps (then cosine decay to a tenth of `lr`).
    pub warmup: u32,
    /// Sequences per step.
    pub batch: u32,
    pub steps: u32,
    pub seed: u64,
    pub report_every: u32,
    /// A generated sample at every report whose step is a multiple of this (0: never).
    pub sample_every: u32,
    /// Tokens per sample.
    pub sample_len: u32,
}

impl Default for LmConfig {
    fn default() -> Self {
        Self::preset(CorpusKind::Facts)
    }
}

impl LmConfig {
    pub fn preset(corpus: CorpusKind) -> Self {
        let facts = Self {
            corpus: CorpusKind::Facts,
            text: String::new(),
            text_id: String::new(),
            corpus_tokens: 100_000,
            layers: 2,
            d_model: 64,
            heads: 4,
            d_mlp: 256,
            ctx: 16,
            tied: false,
            lr: 3e-3,
            weight_decay: 0.01,
            warmup: 50,
            batch: 32,
            steps: 1200,
            seed: 0,
            report_every: 100,
            sample_every: 200,
            sample_len: 24,
        };
        match corpus {
            CorpusKind::Facts => facts,
            CorpusKind::Stories => Self {
                corpus,
                ctx: 48,
                batch: 16,
                steps: 1500,
                sample_len: 40,
                ..facts
            },
            CorpusKind::Text => Self {
                corpus,
                ctx: 64,
                batch: 16,
                steps: 2000,
                lr: 2e-3,
                sample_len: 120,
                ..facts
            },
        }
    }

    /// The user's text as the corpus (its `text_id` set from it).
    pub fn with_text(mut self, text: String) -> Self {
        self.corpus = CorpusKind::Text;
        self.text_id = text_id(&text);
        self.text = text;
        self
    }

    /// The corpus this config trains on (the user's text checked again).
    pub fn build_corpus(&self) -> Result<corpus::Corpus, corpus::TextError> {
        match self.corpus {
            CorpusKind::Text => corpus::from_text(&self.text, 2 * (self.ctx as usize + 1)),
            kind => Ok(corpus::shipped(
                kind,
                self.corpus_tokens as usize,
                self.seed,
            )),
        }
    }

    /// The vocabulary size the estimate assumes.
    fn vocab_estimate(&self) -> u64 {
        match self.corpus {
            CorpusKind::Facts => FACTS_VOCAB,
            CorpusKind::Stories => STORIES_VOCAB,
            CorpusKind::Text => TEXT_MAX_VOCAB as u64,
        }
    }

    /// Parameters for a vocabulary of `v`.
    pub fn params(&self, v: u64) -> u64 {
        let (d, m, t, l) = (
            u64::from(self.d_model),
            u64::from(self.d_mlp),
            u64::from(self.ctx),
            u64::from(self.layers),
        );
        let unembed = if self.tied { 0 } else { d * v };
        v * d + t * d + l * (4 * d * d + 2 * d * m + m + d + 4 * d) + unembed
    }
}

/// `<fingerprint>-<bytes>` of a text.
pub fn text_id(text: &str) -> String {
    format!("{}-{}", corpus::fingerprint(text), text.len())
}

type F = Field<LmConfig>;

const SHIPPED: fn(&LmConfig) -> bool = |c| c.corpus != CorpusKind::Text;

static FIELDS: &[F] = &[
    F::choice(
        "corpus",
        "corpus",
        "corpus",
        &["facts", "stories", "text"],
        |c| c.corpus.name(),
        |c, v| *c = LmConfig::preset(CorpusKind::parse(v).unwrap_or(CorpusKind::Facts)),
    )
    .preset()
    .help("facts: subject–relation–object statements; stories: templated stories; text: your own text, by characters"),
    F::text(
        "text_id",
        "your text",
        "corpus",
        "the text's fingerprint and size, <16 hex digits>-<bytes>",
        |c| c.text_id.clone(),
        |c, v| {
            let ok = v.is_empty()
                || v.split_once('-').is_some_and(|(h, n)| {
                    h.len() == 16
                        && h.chars().all(|ch| ch.is_ascii_hexdigit())
                        && n.parse::<usize>().is_ok()
                });
            if !ok {
                return Err("a text fingerprint <16 hex digits>-<bytes>".into());
            }
            c.text_id = v.to_string();
            Ok(())
        },
    )
    .when(|c| c.corpus == CorpusKind::Text, "corpus=text")
    .not_in_form()
    .help("which text a corpus=text link trained on (the text itself stays on your machine)"),
    F::u32(
        "corpus_tokens",
        "corpus tokens",
        "corpus",
        CORPUS_TOKENS_MIN,
        CORPUS_TOKENS_MAX,
        |c| c.corpus_tokens,
        |c, v| c.corpus_tokens = v,
    )
    .shown_when(SHIPPED)
    .help("training tokens generated from the corpus's grammar"),
    F::u32(
        "layers",
        "layers",
        "model",
        1,
        LAYERS_MAX,
        |c| c.layers,
        |c, v| c.layers = v,
    ),
    F::u32(
        "d_model",
        "d_model",
        "model",
        D_MODEL_MIN,
        D_MODEL_MAX,
        |c| c.d_model,
        |c, v| c.d_model = v,
    ),
    F::u32(
        "heads",
        "heads",
        "model",
        1,
        HEADS_MAX,
        |c| c.heads,
        |c, v| c.heads = v,
    ),
    F::u32(
        "d_mlp",
        "MLP neurons",
        "model",
        4,
        D_MLP_MAX,
        |c| c.d_mlp,
        |c, v| c.d_mlp = v,
    ),
    F::u32(
        "ctx",
        "context",
        "model",
        CTX_MIN,
        CTX_MAX,
        |c| c.ctx,
        |c, v| c.ctx = v,
    ),
    F::flag("tied", "tied unembedding", "model", |c| c.tied, |c, v| c.tied = v),
    F::f64("lr", "learning rate", "training", 0.0, LR_MAX, |c| c.lr, |c, v| c.lr = v).open_min(),
    F::f64(
        "weight_decay",
        "weight decay",
        "training",
        0.0,
        WEIGHT_DECAY_MAX,
        |c| c.weight_decay,
        |c, v| c.weight_decay = v,
    ),
    F::u32(
        "warmup",
        "warm-up steps",
        "training",
        0,
        STEPS_MAX,
        |c| c.warmup,
        |c, v| c.warmup = v,
    ),
    F::u32(
        "batch",
        "batch (sequences)",
        "training",
        1,
        BATCH_MAX,
        |c| c.batch,
        |c, v| c.batch = v,
    ),
    F::u32(
        "steps",
        "steps",
        "training",
        1,
        STEPS_MAX,
        |c| c.steps,
        |c, v| c.steps = v,
    ),
    F::u64("seed", "seed", "training", 0, u64::MAX, |c| c.seed, |c, v| c.seed = v),
    F::u32(
        "report_every",
        "report every",
        "training",
        1,
        REPORT_EVERY_MAX,
        |c| c.report_every,
        |c, v| c.report_every = v,
    ),
    F::u32(
        "sample_every",
        "sample every",
        "training",
        0,
        STEPS_MAX,
        |c| c.sample_every,
        |c, v| c.sample_every = v,
    )
    .help("a generated sample at reports whose step is a multiple of this (0: never)"),
    F::u32(
        "sample_len",
        "sample tokens",
        "training",
        1,
        SAMPLE_LEN_MAX,
        |c| c.sample_len,
        |c, v| c.sample_len = v,
    ),
];

impl LabConfig for LmConfig {
    const LAB: &'static str = "language-model";

    fn fields() -> &'static [Field<Self>] {
        FIELDS
    }

    fn presets() -> Vec<Preset<Self>> {
        CorpusKind::ALL
            .into_iter()
            .map(|corpus| Preset {
                name: corpus.name(),
                label: match corpus {
                    CorpusKind::Facts => "facts: recall and relation neurons",
                    CorpusKind::Stories => "stories: generation",
                    CorpusKind::Text => "your text (by characters)",
                },
                config: LmConfig::preset(corpus),
            })
            .collect()
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !self.d_model.is_multiple_of(self.heads) {
            return Err(ConfigError::rule(
                "heads",
                format!(
                    "heads must divide d_model = {}, got {}",
                    self.d_model, self.heads
                ),
            ));
        }
        if self.corpus == CorpusKind::Text && !self.text.is_empty() {
            corpus::check_text(&self.text).map_err(|e| ConfigError::rule("text", e.to_string()))?;
        }
        Ok(())
    }

    /// Parameters with AdamW's two moments and their gradients; a step's activations (kept for
    /// the backward pass) with the attention scores and the logits; the corpus; the neuron
    /// browser's activations over its sample of the corpus.
    fn estimate(&self) -> Estimate {
        let v = self.vocab_estimate();
        let (b, t, d, m, l, h) = (
            u64::from(self.batch),
            u64::from(self.ctx),
            u64::from(self.d_model),
            u64::from(self.d_mlp),
            u64::from(self.layers),
            u64::from(self.heads),
        );
        let params = self.params(v);
        let tokens = b * t;
        let acts = tokens * (l * (12 * d + 3 * m + 3 * h * t) + 3 * v);
        let corpus_tokens = match self.corpus {
            CorpusKind::Text => self.text.chars().count() as u64,
            _ => u64::from(self.corpus_tokens) * 11 / 10,
        };
        let browser = l * crate::BROWSER_TOKENS as u64 * m;
        let bytes = f32s(4 * params + 2 * acts + corpus_tokens + browser) + (16 << 20);
        let largest = f32s((tokens * v).max(b * h * t * t).max(browser / l.max(1)));
        let step_work = 6.0 * params as f64 * tokens as f64 + 12.0 * (l * b * t * t * d) as f64;
        // A report: the validation windows and (facts) the recall prompts, forward only.
        let report_work = 2.0 * params as f64 * (crate::VAL_WINDOWS as u64 * t + 1024 * 12) as f64;
        Estimate {
            bytes,
            largest_buffer: largest,
            unit_work: step_work.max(report_work),
            what: "this language model",
            hint: "lower the batch, the context, d_model or the MLP neurons",
        }
    }

    fn plan(&self) -> Position {
        Position::steps(0, self.steps)
    }
}
