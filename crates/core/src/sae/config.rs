//! `SaeConfig`: which activations, which decomposition, its hyper-parameters, budget and seed.
//!
//! Plain data shared by the form, the share link (`to_link_pairs` / `from_link_pairs`), the CLI
//! and the tests. Every limit is checked in [`SaeConfig::validate`] with a message naming it.

use crate::config::{is_prime, P_MAX, P_MIN, STEPS_MAX};
use serde::{Deserialize, Serialize};
use thiserror::Error;

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
/// Semi-NMF solves an L×L system every step: keep L modest.
pub const SNMF_LATENTS_MAX: u32 = 2048;
/// Samples × latents of the full latent matrix read for reports and the feature browser.
pub const SAMPLES_X_LATENTS_MAX: u64 = 1 << 26;

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
}

impl SaeSource {
    pub const ALL: [SaeSource; 3] = [
        SaeSource::Toy,
        SaeSource::GrokMlp,
        SaeSource::GrokTransformer,
    ];
    pub fn name(self) -> &'static str {
        match self {
            SaeSource::Toy => "toy",
            SaeSource::GrokMlp => "grok-mlp",
            SaeSource::GrokTransformer => "grok-transformer",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == s)
    }
    pub fn is_grok(self) -> bool {
        self != SaeSource::Toy
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

/// Which activations of the transformer (ignored for the other sources).
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
                ..toy
            },
        }
    }

    /// Number of activation samples the decomposition sees.
    pub fn n_samples(&self) -> usize {
        match self.source {
            SaeSource::Toy => self.toy_samples as usize,
            _ => (self.grok_p as usize) * (self.grok_p as usize),
        }
    }

    pub fn validate(&self) -> Result<(), SaeConfigError> {
        use SaeConfigError::*;
        let latents_max = if self.kind == SaeKind::Snmf {
            SNMF_LATENTS_MAX
        } else {
            LATENTS_MAX
        };
        range_u("latents", self.latents, 2, latents_max)?;
        if self.kind == SaeKind::TopK {
            range_u("k", self.k, 1, K_MAX.min(self.latents))?;
            range_u("k_aux", self.k_aux, 1, self.latents)?;
            range_f("aux_coef", self.aux_coef, 0.0, AUX_COEF_MAX)?;
        }
        if self.kind == SaeKind::ReluL1 {
            range_f("l1", self.l1, 0.0, L1_MAX)?;
        }
        range_u("dead_after", self.dead_after, 1, DEAD_AFTER_MAX)?;
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= LR_MAX) {
            return Err(AboveZero {
                name: "lr",
                hi: LR_MAX,
                got: self.lr,
            });
        }
        range_u("steps", self.steps, 1, STEPS_MAX)?;
        range_u("batch", self.batch, 1, BATCH_MAX)?;
        range_u("report_every", self.report_every, 1, REPORT_EVERY_MAX)?;
        match self.source {
            SaeSource::Toy => {
                range_u("toy_n", self.toy_n, 2, TOY_N_MAX)?;
                range_u("toy_m", self.toy_m, 1, self.toy_n - 1)?;
                if !(self.toy_p_active.is_finite()
                    && self.toy_p_active > 0.0
                    && self.toy_p_active <= 1.0)
                {
                    return Err(AboveZero {
                        name: "toy_p_active",
                        hi: 1.0,
                        got: self.toy_p_active,
                    });
                }
                if !(self.toy_decay.is_finite() && self.toy_decay > 0.0 && self.toy_decay <= 1.0) {
                    return Err(AboveZero {
                        name: "toy_decay",
                        hi: 1.0,
                        got: self.toy_decay,
                    });
                }
                range_u("toy_steps", self.toy_steps, 0, TOY_STEPS_MAX)?;
                range_u(
                    "toy_samples",
                    self.toy_samples,
                    TOY_SAMPLES_MIN,
                    TOY_SAMPLES_MAX,
                )?;
            }
            _ => {
                if !(P_MIN..=P_MAX).contains(&self.grok_p) || !is_prime(self.grok_p) {
                    return Err(NotPrime { p: self.grok_p });
                }
                range_u("grok_steps", self.grok_steps, 0, STEPS_MAX)?;
            }
        }
        let cells = self.n_samples() as u64 * self.latents as u64;
        if cells > SAMPLES_X_LATENTS_MAX {
            return Err(TooLarge {
                samples: self.n_samples(),
                latents: self.latents,
            });
        }
        Ok(())
    }

    /// Every field as `(key, value)` text, `source` first (it picks the preset on decode).
    pub fn to_link_pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("source", self.source.name().to_string()),
            ("kind", self.kind.name().to_string()),
            ("site", self.site.name().to_string()),
            ("latents", self.latents.to_string()),
            ("k", self.k.to_string()),
            ("k_aux", self.k_aux.to_string()),
            ("aux_coef", self.aux_coef.to_string()),
            ("dead_after", self.dead_after.to_string()),
            ("l1", self.l1.to_string()),
            ("lr", self.lr.to_string()),
            ("steps", self.steps.to_string()),
            ("batch", self.batch.to_string()),
            ("seed", self.seed.to_string()),
            ("report_every", self.report_every.to_string()),
            ("toy_n", self.toy_n.to_string()),
            ("toy_m", self.toy_m.to_string()),
            ("toy_p_active", self.toy_p_active.to_string()),
            ("toy_decay", self.toy_decay.to_string()),
            ("toy_steps", self.toy_steps.to_string()),
            ("toy_samples", self.toy_samples.to_string()),
            ("grok_p", self.grok_p.to_string()),
            ("grok_steps", self.grok_steps.to_string()),
        ]
    }

    /// The inverse of [`to_link_pairs`](Self::to_link_pairs): the preset named by `source`
    /// (toy when absent), then every pair applied in order. An unknown key or a value that does
    /// not parse is an error naming it; the result is validated.
    pub fn from_link_pairs(pairs: &[(String, String)]) -> Result<SaeConfig, SaeConfigError> {
        let bad = |key: &str, value: &str| SaeConfigError::BadValue {
            key: key.to_string(),
            value: value.to_string(),
        };
        let source = match pairs.iter().find(|(k, _)| k == "source") {
            Some((_, v)) => SaeSource::parse(v).ok_or_else(|| bad("source", v))?,
            None => SaeSource::Toy,
        };
        let mut c = SaeConfig::preset(source);
        for (key, value) in pairs {
            fn num<T: std::str::FromStr>(v: &str) -> Option<T> {
                v.parse().ok()
            }
            let ok = match key.as_str() {
                "source" => true,
                "kind" => SaeKind::parse(value).map(|v| c.kind = v).is_some(),
                "site" => TransformerSite::parse(value).map(|v| c.site = v).is_some(),
                "latents" => num(value).map(|v| c.latents = v).is_some(),
                "k" => num(value).map(|v| c.k = v).is_some(),
                "k_aux" => num(value).map(|v| c.k_aux = v).is_some(),
                "aux_coef" => num(value).map(|v| c.aux_coef = v).is_some(),
                "dead_after" => num(value).map(|v| c.dead_after = v).is_some(),
                "l1" => num(value).map(|v| c.l1 = v).is_some(),
                "lr" => num(value).map(|v| c.lr = v).is_some(),
                "steps" => num(value).map(|v| c.steps = v).is_some(),
                "batch" => num(value).map(|v| c.batch = v).is_some(),
                "seed" => num(value).map(|v| c.seed = v).is_some(),
                "report_every" => num(value).map(|v| c.report_every = v).is_some(),
                "toy_n" => num(value).map(|v| c.toy_n = v).is_some(),
                "toy_m" => num(value).map(|v| c.toy_m = v).is_some(),
                "toy_p_active" => num(value).map(|v| c.toy_p_active = v).is_some(),
                "toy_decay" => num(value).map(|v| c.toy_decay = v).is_some(),
                "toy_steps" => num(value).map(|v| c.toy_steps = v).is_some(),
                "toy_samples" => num(value).map(|v| c.toy_samples = v).is_some(),
                "grok_p" => num(value).map(|v| c.grok_p = v).is_some(),
                "grok_steps" => num(value).map(|v| c.grok_steps = v).is_some(),
                _ => return Err(SaeConfigError::UnknownKey(key.clone())),
            };
            if !ok {
                return Err(bad(key, value));
            }
        }
        c.validate()?;
        Ok(c)
    }
}

fn range_u(name: &'static str, v: u32, lo: u32, hi: u32) -> Result<(), SaeConfigError> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(SaeConfigError::OutOfRange {
            name,
            lo: lo as f64,
            hi: hi as f64,
            got: v as f64,
        })
    }
}

fn range_f(name: &'static str, v: f64, lo: f64, hi: f64) -> Result<(), SaeConfigError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(SaeConfigError::OutOfRange {
            name,
            lo,
            hi,
            got: v,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum SaeConfigError {
    #[error("{name} must be between {lo} and {hi}, got {got}")]
    OutOfRange {
        name: &'static str,
        lo: f64,
        hi: f64,
        got: f64,
    },
    #[error("{name} must be above 0 and at most {hi}, got {got}")]
    AboveZero {
        name: &'static str,
        hi: f64,
        got: f64,
    },
    #[error("grok_p must be a prime between {P_MIN} and {P_MAX}, got {p}")]
    NotPrime { p: u32 },
    #[error(
        "samples × latents must be at most {SAMPLES_X_LATENTS_MAX}, got {samples} × {latents}"
    )]
    TooLarge { samples: usize, latents: u32 },
    #[error("unknown SAE link key `{0}`")]
    UnknownKey(String),
    #[error("bad value `{value}` for SAE link key `{key}`")]
    BadValue { key: String, value: String },
}
