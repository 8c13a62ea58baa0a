//! Experiment configs: plain data with defaults, presets and validation.
//!
//! The same structs feed the form, the share link, the CLI and the tests. Every limit is checked
//! in [`GrokConfig::validate`], and each message names the limit so a user can act on it.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Largest modulus accepted (the limit; p² pairs must stay a full batch).
pub const P_MIN: u32 = 5;
pub const P_MAX: u32 = 257;
pub const FRAC_MIN: f64 = 0.05;
pub const FRAC_MAX: f64 = 0.95;
pub const HIDDEN_MAX: u32 = 4096;
pub const D_MODEL_MAX: u32 = 512;
pub const D_MLP_MAX: u32 = 4096;
pub const HEADS_MAX: u32 = 16;
pub const STEPS_MAX: u32 = 1_000_000;
pub const REPORT_EVERY_MAX: u32 = 10_000;
pub const WD_MAX: f64 = 10.0;
pub const LR_MAX: f64 = 1.0;
pub const GROKFAST_LAMBDA_MAX: f64 = 100.0;
pub const INIT_SCALE_MAX: f64 = 100.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Add,
    Sub,
    Mul,
}

impl Op {
    pub const ALL: [Op; 3] = [Op::Add, Op::Sub, Op::Mul];

    pub fn name(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Sub => "sub",
            Op::Mul => "mul",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "−",
            Op::Mul => "×",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == s)
    }

    /// `a ∘ b mod p`.
    pub fn apply(self, a: u32, b: u32, p: u32) -> u32 {
        let (a, b, p) = (a as u64, b as u64, p as u64);
        (match self {
            Op::Add => (a + b) % p,
            Op::Sub => (a + p - b) % p,
            Op::Mul => (a * b) % p,
        }) as u32
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Mlp,
    Transformer,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Mlp => "mlp",
            ModelKind::Transformer => "transformer",
        }
    }
    pub fn parse(s: &str) -> Option<ModelKind> {
        [ModelKind::Mlp, ModelKind::Transformer]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

/// Hidden activation of the MLP (Gromov's analysis uses the quadratic one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Quadratic,
    Relu,
}

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Quadratic => "quadratic",
            Activation::Relu => "relu",
        }
    }
    pub fn parse(s: &str) -> Option<Activation> {
        [Activation::Quadratic, Activation::Relu]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// Cross-entropy on the logits.
    Ce,
    /// Mean squared error against the one-hot target (Gromov).
    Mse,
}

impl LossKind {
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Ce => "ce",
            LossKind::Mse => "mse",
        }
    }
    pub fn parse(s: &str) -> Option<LossKind> {
        [LossKind::Ce, LossKind::Mse]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

/// Which compute backend the user asked for. `Auto` = WebGPU when the browser has it, else CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    #[default]
    Auto,
    Webgpu,
    Cpu,
}

impl BackendChoice {
    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Webgpu => "webgpu",
            BackendChoice::Cpu => "cpu",
        }
    }
    pub fn parse(s: &str) -> Option<BackendChoice> {
        [
            BackendChoice::Auto,
            BackendChoice::Webgpu,
            BackendChoice::Cpu,
        ]
        .into_iter()
        .find(|m| m.name() == s)
    }
}

/// One grokking experiment: task, model, optimiser, budget and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrokConfig {
    pub model: ModelKind,
    /// The modulus, a prime in [P_MIN, P_MAX].
    pub p: u32,
    pub op: Op,
    /// Fraction of the p² pairs used for training.
    pub train_frac: f64,
    pub seed: u64,
    /// MLP: hidden units.
    pub hidden: u32,
    /// MLP: hidden activation.
    pub activation: Activation,
    pub loss: LossKind,
    /// Transformer sizes (Nanda et al. 2023).
    pub d_model: u32,
    pub n_heads: u32,
    pub d_mlp: u32,
    /// Multiplies the default initial weight scale (rich vs lazy regimes).
    pub init_scale: f64,
    /// AdamW.
    pub lr: f64,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    /// Grokfast-EMA gradient filter: g ← g + λ·EMA_α(g). Off when `grokfast` is false.
    pub grokfast: bool,
    pub grokfast_alpha: f64,
    pub grokfast_lambda: f64,
    /// The step budget.
    pub steps: u32,
    /// Metrics are read back every this many steps (each readback costs a GPU sync).
    pub report_every: u32,
}

impl Default for GrokConfig {
    fn default() -> Self {
        Self::preset_mlp()
    }
}

/// A named starting point for the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    MlpP97,
    TransformerP113,
}

impl Preset {
    pub const ALL: [Preset; 2] = [Preset::MlpP97, Preset::TransformerP113];
    pub fn label(self) -> &'static str {
        match self {
            Preset::MlpP97 => "MLP p=97",
            Preset::TransformerP113 => "Transformer p=113",
        }
    }
    pub fn config(self) -> GrokConfig {
        match self {
            Preset::MlpP97 => GrokConfig::preset_mlp(),
            Preset::TransformerP113 => GrokConfig::preset_transformer(),
        }
    }
}

impl GrokConfig {
    /// Gromov-style MLP on a + b mod 97: H=500, quadratic, half the pairs for training.
    pub fn preset_mlp() -> Self {
        Self {
            model: ModelKind::Mlp,
            p: 97,
            op: Op::Add,
            train_frac: 0.5,
            seed: 0,
            hidden: 500,
            activation: Activation::Quadratic,
            loss: LossKind::Ce,
            d_model: 128,
            n_heads: 4,
            d_mlp: 512,
            init_scale: 1.0,
            lr: 3e-3,
            weight_decay: 1.0,
            beta1: 0.9,
            beta2: 0.98,
            grokfast: false,
            grokfast_alpha: 0.98,
            grokfast_lambda: 2.0,
            steps: 1000,
            report_every: 10,
        }
    }

    /// Nanda et al.'s 1-layer transformer on a + b mod 113, 30% of pairs, full batch.
    pub fn preset_transformer() -> Self {
        Self {
            model: ModelKind::Transformer,
            p: 113,
            train_frac: 0.3,
            lr: 1e-3,
            steps: 10_000,
            report_every: 50,
            ..Self::preset_mlp()
        }
    }

    pub fn n_pairs(&self) -> usize {
        (self.p as usize) * (self.p as usize)
    }

    /// Number of training pairs (at least one, at most all but one).
    pub fn n_train(&self) -> usize {
        let n = self.n_pairs();
        ((self.train_frac * n as f64).round() as usize).clamp(1, n - 1)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        use ConfigError::*;
        if !(P_MIN..=P_MAX).contains(&self.p) || !is_prime(self.p) {
            return Err(NotPrime { p: self.p });
        }
        range_f("train fraction", self.train_frac, FRAC_MIN, FRAC_MAX)?;
        range_u("hidden units", self.hidden, 1, HIDDEN_MAX)?;
        range_u("d_model", self.d_model, 4, D_MODEL_MAX)?;
        range_u("heads", self.n_heads, 1, HEADS_MAX)?;
        if self.d_model % self.n_heads != 0 {
            return Err(HeadsDivide {
                d_model: self.d_model,
                n_heads: self.n_heads,
            });
        }
        range_u("d_mlp", self.d_mlp, 1, D_MLP_MAX)?;
        range_open_f("learning rate", self.lr, 0.0, LR_MAX)?;
        range_f("weight decay", self.weight_decay, 0.0, WD_MAX)?;
        range_f("beta1", self.beta1, 0.0, 0.9999)?;
        range_f("beta2", self.beta2, 0.0, 0.9999)?;
        range_f("grokfast alpha", self.grokfast_alpha, 0.0, 0.9999)?;
        range_f(
            "grokfast lambda",
            self.grokfast_lambda,
            0.0,
            GROKFAST_LAMBDA_MAX,
        )?;
        range_open_f("init scale", self.init_scale, 0.0, INIT_SCALE_MAX)?;
        range_u("steps", self.steps, 1, STEPS_MAX)?;
        range_u("report every", self.report_every, 1, REPORT_EVERY_MAX)?;
        Ok(())
    }
}

fn range_u(name: &'static str, v: u32, lo: u32, hi: u32) -> Result<(), ConfigError> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            name,
            lo: lo as f64,
            hi: hi as f64,
            got: v as f64,
        })
    }
}

fn range_f(name: &'static str, v: f64, lo: f64, hi: f64) -> Result<(), ConfigError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            name,
            lo,
            hi,
            got: v,
        })
    }
}

/// `lo < v <= hi`.
fn range_open_f(name: &'static str, v: f64, lo: f64, hi: f64) -> Result<(), ConfigError> {
    if v.is_finite() && v > lo && v <= hi {
        Ok(())
    } else {
        Err(ConfigError::AboveZero { name, hi, got: v })
    }
}

pub fn is_prime(n: u32) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    #[error("p must be a prime between {P_MIN} and {P_MAX}, got {p}")]
    NotPrime { p: u32 },
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
    #[error("heads ({n_heads}) must divide d_model ({d_model})")]
    HeadsDivide { d_model: u32, n_heads: u32 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        for preset in Preset::ALL {
            preset.config().validate().unwrap();
        }
    }

    #[test]
    fn p_must_be_prime_in_range() {
        let mut c = GrokConfig::preset_mlp();
        c.p = 300;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "p must be a prime between 5 and 257, got 300"
        );
        c.p = 91;
        assert!(c.validate().is_err());
        c.p = 3;
        assert!(c.validate().is_err());
        c.p = 257;
        assert!(c.validate().is_ok());
    }

    #[test]
    fn frac_limits_named() {
        let mut c = GrokConfig::preset_mlp();
        c.train_frac = 0.99;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "train fraction must be between 0.05 and 0.95, got 0.99"
        );
        c.train_frac = f64::NAN;
        assert!(c.validate().is_err());
    }

    #[test]
    fn ops_compute_mod_p() {
        assert_eq!(Op::Add.apply(96, 5, 97), 4);
        assert_eq!(Op::Sub.apply(3, 5, 97), 95);
        assert_eq!(Op::Mul.apply(96, 96, 97), 1);
    }
}
