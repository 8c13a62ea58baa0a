//! `SaeConfig`: which activations, which decomposition, its hyper-parameters, budget and seed.
//!
//! Plain data shared by the form, the share link, the CLI and the tests, through one field
//! table; its rules and its memory/time estimate.

use neurolab_base::budget::{f32s, prod, Estimate};
use neurolab_base::field::Field;
use neurolab_base::{ConfigError, LabConfig, Position, Preset};
use neurolab_grok::config::ModelKind;
use neurolab_grok::config::{is_prime, P_MAX, P_MIN, STEPS_MAX};
use neurolab_grok::GrokConfig;
use neurolab_lm::{CorpusKind, LmConfig};
use serde::{Deserialize, Serialize};

pub const LATENTS_MAX: u32 = 65_536;
pub const K_MAX: u32 = 1024;
pub const BATCH_MAX: u32 = 65_536;
pub const REPORT_EVERY_MAX: u32 = 100_000;
pub const L1_MAX: f64 = 100.0;
pub const LR_MAX: f64 = 1.0;
pub const AUX_COEF_MAX: f64 = 10.0;
pub const DEAD_AFTER_MAX: u32 = 1_000_000_000;
pub const TOY_N_MAX: u32 = 1024;
pub const TOY_SAMPLES_MIN: u32 = 16;
pub const TOY_SAMPLES_MAX: u32 = 1_000_000;
pub const TOY_STEPS_MAX: u32 = 100_000;
/// Language-model source: tokens of its corpus the decomposition sees.
pub const LM_TOKENS_MIN: u32 = 256;
pub const LM_TOKENS_MAX: u32 = 65_536;
/// Semi-NMF solves an L×L system every step: keep L modest.
pub const SNMF_LATENTS_MAX: u32 = 2048;

/// Where the activations come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaeSource {
    /// Elhage et al.'s toy model of superposition (hidden layer `h = W x`).
    #[serde(rename = "toy")]
    Toy,
    /// The grokking MLP's hidden layer over all p² pairs.
    #[serde(rename = "grok-mlp")]
    GrokMlp,
    /// The grokking transformer at `=`: the final residual stream or the MLP activations.
    #[serde(rename = "grok-transformer")]
    GrokTransformer,
    /// The language-model lab's GPT over its corpus, every token: one layer's MLP neurons or
    /// the residual stream after it.
    #[serde(rename = "lm")]
    Lm,
}

impl SaeSource {
    pub const ALL: [SaeSource; 4] = [
        SaeSource::Toy,
        SaeSource::GrokMlp,
        SaeSource::GrokTransformer,
        SaeSource::Lm,
    ];
    pub fn name(self) -> &'static str {
        match self {
            SaeSource::Toy => "toy",
            SaeSource::GrokMlp => "grok-mlp",
            SaeSource::GrokTransformer => "grok-transformer",
            SaeSource::Lm => "lm",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == s)
    }
    pub fn is_grok(self) -> bool {
        matches!(self, SaeSource::GrokMlp | SaeSource::GrokTransformer)
    }
}

/// The decomposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaeKind {
    /// TopK SAE with the AuxK loss (Gao et al. 2024).
    #[serde(rename = "topk")]
    TopK,
    /// ReLU SAE with an L1 penalty (Bricken et al. 2023).
    #[serde(rename = "relu-l1")]
    ReluL1,
    /// Semi-NMF A ≈ Z W, Z ≥ 0 (Ding, Li & Jordan 2010; Shafran et al. 2025).
    #[serde(rename = "snmf")]
    Snmf,
}

impl SaeKind {
    pub const ALL: [SaeKind; 3] = [SaeKind::TopK, SaeKind::ReluL1, SaeKind::Snmf];
    pub fn name(self) -> &'static str {
        match self {
            SaeKind::TopK => "topk",
            SaeKind::ReluL1 => "relu-l1",
            SaeKind::Snmf => "snmf",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == s)
    }
}

/// Which activations of the transformer or the language model (ignored for the other sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransformerSite {
    /// The residual stream at `=` after the MLP (what the unembedding reads), `d_model` dims.
    Resid,
    /// The MLP's hidden activations at `=`, `d_mlp` dims.
    Mlp,
}

impl TransformerSite {
    pub fn name(self) -> &'static str {
        match self {
            TransformerSite::Resid => "resid",
            TransformerSite::Mlp => "mlp",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [TransformerSite::Resid, TransformerSite::Mlp]
            .into_iter()
            .find(|v| v.name() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaeConfig {
    pub source: SaeSource,
    pub kind: SaeKind,
    /// Transformer only: which activations.
    pub site: TransformerSite,
    /// Dictionary size L.
    pub latents: u32,
    /// TopK: latents kept per sample.
    pub k: u32,
    /// TopK: dead latents used by the AuxK loss (Gao et al.: about d/2).
    pub k_aux: u32,
    /// TopK: AuxK coefficient (Gao et al.: 1/32); 0 turns AuxK off.
    pub aux_coef: f64,
    /// A latent is dead when it has not fired for this many training samples.
    pub dead_after: u32,
    /// ReLU+L1: the sparsity coefficient λ (activations are normalised so E‖x‖² = d).
    pub l1: f64,
    /// Adam learning rate (SAEs).
    pub lr: f64,
    /// Training steps (SAE: Adam steps on a minibatch; semi-NMF: full update sweeps).
    pub steps: u32,
    /// SAE minibatch size (samples).
    pub batch: u32,
    pub seed: u64,
    pub report_every: u32,
    /// Toy model: number of ground-truth features n.
    pub toy_n: u32,
    /// Toy model: hidden dimensions m < n.
    pub toy_m: u32,
    /// Toy model: probability that a feature is active (uniform(0, 1) value when it is).
    pub toy_p_active: f64,
    /// Toy model: importance I_i = decay^i.
    pub toy_decay: f64,
    /// Toy model: its own Adam training steps before its activations are sampled.
    pub toy_steps: u32,
    /// Toy model: how many activation samples the decomposition sees.
    pub toy_samples: u32,
    /// Grok sources: the modulus of the preset trained on the spot.
    pub grok_p: u32,
    /// Grok sources: training steps of the preset trained on the spot.
    pub grok_steps: u32,
    /// Grok sources: the rest of the grokking run trained on the spot (its model follows
    /// `source`; its modulus, steps and seed are `grok_p`, `grok_steps` and `seed`). The link
    /// carries all of it, so a link names its source whatever a later version's presets say.
    #[serde(default)]
    pub grok: GrokConfig,
    /// Language-model source: the layer whose MLP neurons (or residual stream after it) are read.
    #[serde(default = "default_lm_layer")]
    pub lm_layer: u32,
    /// Language-model source: training steps of the model trained on the spot.
    #[serde(default = "default_lm_steps")]
    pub lm_steps: u32,
    /// Language-model source: corpus tokens whose activations are decomposed.
    #[serde(default = "default_lm_tokens")]
    pub lm_tokens: u32,
    /// Language-model source: the rest of its config (seed and steps are `seed`, `lm_steps`),
    /// pinned in the link like `grok`.
    #[serde(default)]
    pub lm: LmConfig,
}

fn default_lm_layer() -> u32 {
    1
}
fn default_lm_steps() -> u32 {
    600
}
fn default_lm_tokens() -> u32 {
    4096
}

impl Default for SaeConfig {
    fn default() -> Self {
        Self::preset(SaeSource::Toy)
    }
}

impl SaeConfig {
    /// The starting point for each source.
    pub fn preset(source: SaeSource) -> Self {
        let toy = Self {
            source: SaeSource::Toy,
            kind: SaeKind::TopK,
            site: TransformerSite::Resid,
            latents: 64,
            k: 4,
            k_aux: 8,
            aux_coef: 1.0 / 32.0,
            dead_after: 20_000,
            l1: 1.0,
            lr: 3e-3,
            steps: 1500,
            batch: 256,
            seed: 0,
            report_every: 100,
            toy_n: 32,
            toy_m: 12,
            toy_p_active: 0.05,
            toy_decay: 0.98,
            toy_steps: 1500,
            toy_samples: 16_384,
            grok_p: 97,
            grok_steps: 1000,
            grok: GrokConfig::preset_mlp(),
            lm_layer: default_lm_layer(),
            lm_steps: default_lm_steps(),
            lm_tokens: default_lm_tokens(),
            lm: LmConfig::preset(CorpusKind::Facts),
        };
        match source {
            SaeSource::Toy => toy,
            SaeSource::GrokMlp => Self {
                source,
                latents: 1024,
                k: 16,
                k_aux: 256,
                dead_after: 50_000,
                lr: 1e-3,
                steps: 2000,
                batch: 512,
                grok_p: 97,
                grok_steps: 1000,
                ..toy
            },
            SaeSource::GrokTransformer => Self {
                source,
                latents: 512,
                k: 16,
                k_aux: 64,
                dead_after: 50_000,
                lr: 1e-3,
                steps: 2000,
                batch: 512,
                grok_p: 113,
                grok_steps: 3000,
                grok: GrokConfig::preset_transformer(),
                ..toy
            },
            SaeSource::Lm => Self {
                source,
                site: TransformerSite::Mlp,
                latents: 1024,
                k: 16,
                k_aux: 128,
                dead_after: 50_000,
                lr: 1e-3,
                steps: 1500,
                batch: 512,
                ..toy
            },
        }
    }

    /// The language model a `source=lm` SAE trains on the spot.
    pub fn lm_preset(&self) -> LmConfig {
        let mut l = self.lm.clone();
        l.text.clear();
        l.text_id.clear();
        l.seed = self.seed;
        l.steps = self.lm_steps.max(1);
        l.report_every = l.steps;
        l.sample_every = 0;
        l
    }

    /// Number of activation samples the decomposition sees.
    pub fn n_samples(&self) -> usize {
        match self.source {
            SaeSource::Toy => self.toy_samples as usize,
            SaeSource::Lm => {
                let ctx = self.lm.ctx.max(1) as usize;
                (self.lm_tokens as usize / ctx).max(1) * ctx
            }
            _ => (self.grok_p as usize) * (self.grok_p as usize),
        }
    }

    /// The grokking preset a grok source trains on the spot.
    pub fn grok_preset(&self) -> GrokConfig {
        let mut g = self.grok.clone();
        g.model = match self.source {
            SaeSource::GrokTransformer => ModelKind::Transformer,
            _ => ModelKind::Mlp,
        };
        g.p = self.grok_p;
        g.forks.clear();
        g.seed = self.seed;
        g.steps = self.grok_steps.max(1);
        g
    }

    /// Activation dimensions of the source.
    pub fn d(&self) -> usize {
        match self.source {
            SaeSource::Toy => self.toy_m as usize,
            SaeSource::Lm => match self.site {
                TransformerSite::Mlp => self.lm.d_mlp as usize,
                TransformerSite::Resid => self.lm.d_model as usize,
            },
            _ => {
                let g = self.grok_preset();
                match (self.source, self.site) {
                    (SaeSource::GrokMlp, _) => g.hidden as usize,
                    (_, TransformerSite::Resid) => g.d_model as usize,
                    (_, TransformerSite::Mlp) => g.d_mlp as usize,
                }
            }
        }
    }
}

type F = Field<SaeConfig>;

/// Grokking keys a grok source sets elsewhere (`source`, `grok_p`, `grok_steps`, `seed`) or that
/// do not change the trained weights (readbacks, analyses, forks).
const GROK_OWN: &[&str] = &["model", "p", "steps", "seed", "every", "ana", "fork"];

/// The grokking run's pinned keys, `key-value` joined by `_`, in its table's order.
fn grok_text(g: &GrokConfig) -> String {
    GrokConfig::fields()
        .iter()
        .filter(|f| !GROK_OWN.contains(&f.key) && f.applies(g) && f.shown(g))
        .map(|f| format!("{}-{}", f.key, f.get(g)))
        .collect::<Vec<_>>()
        .join("_")
}

/// Sets the grokking run's keys from [`grok_text`]'s form, over the source's preset.
fn set_grok_text(c: &mut SaeConfig, text: &str) -> Result<(), String> {
    let mut g = c.grok.clone();
    for item in text.split('_').filter(|s| !s.is_empty()) {
        let (key, value) = item
            .split_once('-')
            .ok_or_else(|| format!("the grokking run's keys as key-value, not '{item}'"))?;
        let field = neurolab_base::field::find::<GrokConfig>(key)
            .filter(|f| !GROK_OWN.contains(&f.key))
            .ok_or_else(|| {
                format!("the grokking run's keys ('{key}' is not one this source takes)")
            })?;
        field
            .set(&mut g, value)
            .map_err(|e| format!("the grokking run's keys within their limits: {e}"))?;
    }
    c.grok = g;
    Ok(())
}

const TOY: fn(&SaeConfig) -> bool = |c| c.source == SaeSource::Toy;
const GROK: fn(&SaeConfig) -> bool = |c| c.source.is_grok();
const LM: fn(&SaeConfig) -> bool = |c| c.source == SaeSource::Lm;
/// The language model's keys the SAE sets elsewhere (`seed`, `lm_steps`) or that do not change
/// its weights.
const LM_OWN: &[&str] = &[
    "steps",
    "seed",
    "report_every",
    "sample_every",
    "sample_len",
    "text_id",
];
const TOPK: fn(&SaeConfig) -> bool = |c| c.kind == SaeKind::TopK;
const GRADIENT: fn(&SaeConfig) -> bool = |c| c.kind != SaeKind::Snmf;

/// The SAE lab's field table. Links of the first format carried every key, so the fields that
/// matter only for one source or kind are `shown_when` (form only), not `when`.
static FIELDS: &[F] = &[
    F::choice(
        "source",
        "activations",
        "source",
        &["toy", "grok-mlp", "grok-transformer", "lm"],
        |c| c.source.name(),
        |c, v| *c = SaeConfig::preset(SaeSource::parse(v).unwrap_or(SaeSource::Toy)),
    )
    .preset()
    .help("toy: the toy model of superposition; grok-*: a grokking preset trained on the spot; lm: the language-model lab's GPT trained on the spot"),
    F::choice(
        "site",
        "transformer site",
        "source",
        &["resid", "mlp"],
        |c| c.site.name(),
        |c, v| c.site = TransformerSite::parse(v).unwrap_or(TransformerSite::Resid),
    )
    .shown_when(|c| matches!(c.source, SaeSource::GrokTransformer | SaeSource::Lm))
    .help("transformer: the residual stream (after the layer, for lm) or the MLP neurons"),
    F::u32(
        "toy_n",
        "true features n",
        "source",
        2,
        TOY_N_MAX,
        |c| c.toy_n,
        |c, v| c.toy_n = v,
    )
    .shown_when(TOY),
    F::u32(
        "toy_m",
        "hidden dims m",
        "source",
        1,
        TOY_N_MAX,
        |c| c.toy_m,
        |c, v| c.toy_m = v,
    )
    .shown_when(TOY),
    F::f64(
        "toy_p_active",
        "p(active)",
        "source",
        0.0,
        1.0,
        |c| c.toy_p_active,
        |c, v| c.toy_p_active = v,
    )
    .open_min()
    .shown_when(TOY),
    F::f64(
        "toy_decay",
        "importance decay",
        "source",
        0.0,
        1.0,
        |c| c.toy_decay,
        |c, v| c.toy_decay = v,
    )
    .open_min()
    .shown_when(TOY),
    F::u32(
        "toy_steps",
        "toy model steps",
        "source",
        0,
        TOY_STEPS_MAX,
        |c| c.toy_steps,
        |c, v| c.toy_steps = v,
    )
    .shown_when(TOY),
    F::u32(
        "toy_samples",
        "samples",
        "source",
        TOY_SAMPLES_MIN,
        TOY_SAMPLES_MAX,
        |c| c.toy_samples,
        |c, v| c.toy_samples = v,
    )
    .shown_when(TOY),
    F::u32(
        "grok_p",
        "modulus p",
        "source",
        P_MIN,
        P_MAX,
        |c| c.grok_p,
        |c, v| c.grok_p = v,
    )
    .shown_when(GROK),
    F::u32(
        "grok_steps",
        "grokking steps",
        "source",
        0,
        STEPS_MAX,
        |c| c.grok_steps,
        |c, v| c.grok_steps = v,
    )
    .shown_when(GROK),
    F::text(
        "grok",
        "grokking run",
        "source",
        "the grokking run's keys as key-value joined by '_' (op-add_frac-0.5_lr-0.001_…)",
        |c| grok_text(&c.grok_preset()),
        |c, v| set_grok_text(c, v),
    )
    .when(GROK, "source=grok-mlp or source=grok-transformer")
    .help("the rest of the grokking run trained on the spot, pinned in the link (its keys are the grokking lab's)"),
    F::u32(
        "lm_layer",
        "LM layer",
        "source",
        0,
        neurolab_lm::config::LAYERS_MAX - 1,
        |c| c.lm_layer,
        |c, v| c.lm_layer = v,
    )
    .when(LM, "source=lm"),
    F::u32(
        "lm_steps",
        "LM training steps",
        "source",
        0,
        neurolab_lm::config::STEPS_MAX,
        |c| c.lm_steps,
        |c, v| c.lm_steps = v,
    )
    .when(LM, "source=lm"),
    F::u32(
        "lm_tokens",
        "LM tokens",
        "source",
        LM_TOKENS_MIN,
        LM_TOKENS_MAX,
        |c| c.lm_tokens,
        |c, v| c.lm_tokens = v,
    )
    .when(LM, "source=lm")
    .help("corpus tokens whose activations the SAE decomposes"),
    F::text(
        "lm",
        "language model",
        "source",
        "the language model's keys as key:value joined by ',' (corpus:facts,layers:2,…)",
        |c| neurolab_base::field::pinned_text(&c.lm_preset(), LM_OWN),
        |c, v| neurolab_base::field::set_pinned(&mut c.lm, v, LM_OWN),
    )
    .when(LM, "source=lm")
    .help("the language model trained on the spot, pinned in the link (its keys are the language-model lab's)"),
    F::choice(
        "kind",
        "decomposition",
        "decomposition",
        &["topk", "relu-l1", "snmf"],
        |c| c.kind.name(),
        |c, v| c.kind = SaeKind::parse(v).unwrap_or(SaeKind::TopK),
    )
    .structural(),
    F::u32(
        "latents",
        "latents L",
        "decomposition",
        2,
        LATENTS_MAX,
        |c| c.latents,
        |c, v| c.latents = v,
    ),
    F::u32(
        "k",
        "TopK k",
        "decomposition",
        1,
        K_MAX,
        |c| c.k,
        |c, v| c.k = v,
    )
    .shown_when(TOPK),
    F::u32(
        "k_aux",
        "AuxK k_aux",
        "decomposition",
        1,
        LATENTS_MAX,
        |c| c.k_aux,
        |c, v| c.k_aux = v,
    )
    .shown_when(TOPK),
    F::f64(
        "aux_coef",
        "AuxK coefficient",
        "decomposition",
        0.0,
        AUX_COEF_MAX,
        |c| c.aux_coef,
        |c, v| c.aux_coef = v,
    )
    .shown_when(TOPK),
    F::u32(
        "dead_after",
        "dead after (samples)",
        "decomposition",
        1,
        DEAD_AFTER_MAX,
        |c| c.dead_after,
        |c, v| c.dead_after = v,
    )
    .shown_when(GRADIENT),
    F::f64(
        "l1",
        "L1 λ",
        "decomposition",
        0.0,
        L1_MAX,
        |c| c.l1,
        |c, v| c.l1 = v,
    )
    .shown_when(|c| c.kind == SaeKind::ReluL1),
    F::f64(
        "lr",
        "learning rate",
        "training",
        0.0,
        LR_MAX,
        |c| c.lr,
        |c, v| c.lr = v,
    )
    .open_min()
    .shown_when(GRADIENT),
    F::u32(
        "steps",
        "steps",
        "training",
        1,
        STEPS_MAX,
        |c| c.steps,
        |c, v| c.steps = v,
    ),
    F::u32(
        "batch",
        "batch",
        "training",
        1,
        BATCH_MAX,
        |c| c.batch,
        |c, v| c.batch = v,
    )
    .shown_when(GRADIENT),
    F::u64(
        "seed",
        "seed",
        "training",
        0,
        u64::MAX,
        |c| c.seed,
        |c, v| c.seed = v,
    ),
    F::u32(
        "report_every",
        "report every",
        "training",
        1,
        REPORT_EVERY_MAX,
        |c| c.report_every,
        |c, v| c.report_every = v,
    ),
];

impl LabConfig for SaeConfig {
    const LAB: &'static str = "SAE";

    fn fields() -> &'static [Field<Self>] {
        FIELDS
    }

    fn presets() -> Vec<Preset<Self>> {
        SaeSource::ALL
            .into_iter()
            .map(|source| Preset {
                name: source.name(),
                label: match source {
                    SaeSource::Toy => "toy model of superposition",
                    SaeSource::GrokMlp => "grokking MLP",
                    SaeSource::GrokTransformer => "grokking transformer",
                    SaeSource::Lm => "language model (facts)",
                },
                config: SaeConfig::preset(source),
            })
            .collect()
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.kind == SaeKind::Snmf && self.latents > SNMF_LATENTS_MAX {
            return Err(ConfigError::rule(
                "latents",
                format!(
                    "latents must be between 2 and {SNMF_LATENTS_MAX}, got {} (semi-NMF solves an L×L system every step)",
                    self.latents
                ),
            ));
        }
        if self.kind == SaeKind::TopK {
            let k_max = K_MAX.min(self.latents);
            if self.k > k_max {
                return Err(ConfigError::rule(
                    "k",
                    format!("k must be between 1 and {k_max}, got {}", self.k),
                ));
            }
            if self.k_aux > self.latents {
                return Err(ConfigError::rule(
                    "k_aux",
                    format!(
                        "k_aux must be between 1 and {}, got {}",
                        self.latents, self.k_aux
                    ),
                ));
            }
        }
        match self.source {
            SaeSource::Toy if self.toy_m >= self.toy_n => Err(ConfigError::rule(
                "toy_m",
                format!(
                    "toy_m must be between 1 and {}, got {} (the toy model squeezes n features into m < n dims)",
                    self.toy_n - 1,
                    self.toy_m
                ),
            )),
            SaeSource::Toy => Ok(()),
            SaeSource::Lm => {
                let l = self.lm_preset();
                if l.corpus == CorpusKind::Text {
                    return Err(ConfigError::rule(
                        "lm",
                        "the SAE's language model trains on corpus:facts or corpus:stories (a link cannot carry your own text)",
                    ));
                }
                if self.lm_layer >= l.layers {
                    return Err(ConfigError::rule(
                        "lm_layer",
                        format!(
                            "lm_layer must be between 0 and {}, got {} (the model has {} layers)",
                            l.layers - 1,
                            self.lm_layer,
                            l.layers
                        ),
                    ));
                }
                neurolab_base::field::validate(&l)
                    .map_err(|e| ConfigError::rule("lm", format!("the language model: {e}")))
            }
            _ if !is_prime(self.grok_p) => Err(ConfigError::rule(
                "grok_p",
                format!("grok_p must be a prime between {P_MIN} and {P_MAX}, got {}", self.grok_p),
            )),
            _ => neurolab_base::field::validate(&self.grok_preset())
                .map_err(|e| ConfigError::rule("grok", format!("the grokking run: {e}"))),
        }
    }

    /// The source (its training, or the toy model's), the activations, the SAE's parameters with
    /// Adam's state, a training step's batch, and the full latent matrix reports and the feature
    /// browser read (with the grokking sources' 2-D Fourier transform of every latent).
    fn estimate(&self) -> Estimate {
        let n = self.n_samples() as u64;
        let d = self.d() as u64;
        let l = u64::from(self.latents);
        let b = u64::from(self.batch);
        let source = match self.source {
            SaeSource::Toy => {
                let (tn, tm) = (u64::from(self.toy_n), u64::from(self.toy_m));
                f32s(8 * tn * tm + 6 * 1024 * tn + n * tn)
            }
            // Its training, and the forward passes over every sample that splice the SAE in.
            SaeSource::Lm => {
                let l = self.lm_preset();
                let per_token = u64::from(l.layers)
                    * (12 * u64::from(l.d_model) + 3 * u64::from(l.d_mlp))
                    + 3 * 512;
                l.estimate().bytes + f32s(n * per_token)
            }
            _ => self.grok_preset().estimate().bytes,
        };
        let params = 2 * l * d + l + d;
        let (train, step_flops) = match self.kind {
            SaeKind::Snmf => (
                3 * n * l + 3 * l * l,
                6.0 * (n * l * d) as f64 + (l * l * l) as f64,
            ),
            // Pre-activations, the top-k mask, codes, their gradients; AuxK's dense product.
            _ => (8 * b * l + 6 * b * d, 14.0 * (b * l * d) as f64),
        };
        let full = prod(&[n, l]);
        let fourier = match self.source {
            SaeSource::Toy | SaeSource::Lm => 0,
            _ => 6 * full,
        };
        let bytes = source + f32s(4 * n * d + 5 * params + train + 3 * full + fourier) + (16 << 20);
        let largest = f32s(full.max(prod(&[b, l])).max(2 * l * d).max(n * d));
        let p = u64::from(self.grok_p);
        let report = 4.0 * (n * l * d) as f64;
        let features = match self.source {
            SaeSource::Toy | SaeSource::Lm => 0.0,
            _ => 8.0 * (p * p * p) as f64 * l as f64,
        };
        Estimate {
            bytes,
            largest_buffer: largest,
            unit_work: step_flops.max(report).max(features),
            what: "this SAE",
            hint: "lower the latents, the batch or the samples",
        }
    }

    fn plan(&self) -> Position {
        Position::steps(0, self.steps)
    }
}
