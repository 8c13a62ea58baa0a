//! `GrokConfig`: task, model, optimiser, budget and seed of a grokking run; its presets; its
//! field table (link keys, form, CLI flags, limits); its rules and its memory/time estimate.
//! The same struct feeds the form, the share link, the CLI and the tests.

use crate::control::{forks_text, parse_forks, ForkSpec};
use neurolab_base::budget::{f32s, prod, Estimate};
use neurolab_base::field::Field;
use neurolab_base::{ConfigError, LabConfig, Position, Preset};
use serde::{Deserialize, Serialize};

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
/// Most runs one session trains: the first and its forks.
pub const MAX_RUNS: usize = 6;
/// Most analyses one run makes (each one goes to the page and stays in its timeline).
pub const MAX_ANALYSES: u32 = 2000;
/// Memory all runs' checkpoints may hold together (each run keeps at least its first and last).
pub const CHECKPOINT_BYTES: u64 = 64 << 20;

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
    /// Linear learning-rate warm-up over this many steps (Nanda et al.: 10); 0 = none.
    pub warmup: u32,
    /// Rank of the hidden layer's initial weights (MLP `w_in`, transformer `w_in`); 0 = full.
    pub init_rank: u32,
    /// The mechanism (spectra, neurons, progress measures, checkpoints) is analysed every this
    /// many steps; 0 = never.
    pub analyse_every: u32,
    /// Forks of the first run (each a new run from its state at a step, with changes), in step
    /// order.
    #[serde(default)]
    pub forks: Vec<ForkSpec>,
}

impl Default for GrokConfig {
    fn default() -> Self {
        Self::preset_mlp()
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
            warmup: 0,
            init_rank: 0,
            analyse_every: 100,
            forks: Vec::new(),
        }
    }

    /// Nanda et al.'s 1-layer transformer on a + b mod 113, 30% of pairs, full batch.
    /// The preset a model starts from (choosing the model in a form or a link resets to it).
    pub fn preset_of_model(model: ModelKind) -> Self {
        match model {
            ModelKind::Mlp => Self::preset_mlp(),
            ModelKind::Transformer => Self::preset_transformer(),
        }
    }

    pub fn preset_transformer() -> Self {
        Self {
            model: ModelKind::Transformer,
            p: 113,
            train_frac: 0.3,
            lr: 1e-3,
            steps: 10_000,
            report_every: 50,
            warmup: 10,
            analyse_every: 500,
            ..Self::preset_mlp()
        }
    }

    /// The MLP preset at Nanda's 30 % train fraction: test accuracy rises hundreds of steps after
    /// train accuracy reached 100 %.
    pub fn preset_delayed() -> Self {
        Self {
            train_frac: 0.3,
            steps: 2000,
            report_every: 20,
            ..Self::preset_mlp()
        }
    }

    /// A small MLP on p = 53 at 30 % train fraction: memorised by step ~125, grokked near
    /// step 2000, cleaned up (dead neurons gone, the rest single-frequency) by 6000; well under
    /// a minute on the browser's CPU backend.
    pub fn preset_quick() -> Self {
        Self {
            p: 53,
            hidden: 128,
            train_frac: 0.3,
            steps: 6000,
            report_every: 50,
            analyse_every: 100,
            ..Self::preset_mlp()
        }
    }

    /// The quick preset for 4000 steps from a full-rank initial hidden layer: one side of the
    /// rich-vs-lazy pair (grokked near step 1950; its hidden representation keeps CKA ≈ 0.06
    /// with its initial one).
    pub fn preset_full_rank() -> Self {
        Self {
            steps: 4000,
            ..Self::preset_quick()
        }
    }

    /// The same from a rank-1 initial hidden layer: the rich regime (its hidden representation
    /// moves further, CKA ≈ 0.01 with its initial one; grokked near step 2850).
    pub fn preset_low_rank() -> Self {
        Self {
            init_rank: 1,
            ..Self::preset_full_rank()
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
}

pub fn is_prime(n: u32) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

type F = Field<GrokConfig>;

const MLP_ONLY: fn(&GrokConfig) -> bool = |c| c.model == ModelKind::Mlp;
const TRANSFORMER_ONLY: fn(&GrokConfig) -> bool = |c| c.model == ModelKind::Transformer;
const GROKFAST_ON: fn(&GrokConfig) -> bool = |c| c.grokfast;

/// The grokking lab's field table. Model-specific fields are shown for their model only, but
/// every link carries them (links of the first format did), so `shown_when` rather than `when`.
static FIELDS: &[F] = &[
    F::choice("model", "model", "task", &["mlp", "transformer"], |c| c.model.name(), |c, v| {
        *c = GrokConfig::preset_of_model(ModelKind::parse(v).unwrap_or(ModelKind::Mlp))
    })
    .preset()
    .help("mlp: Gromov's 2-layer MLP; transformer: Nanda et al.'s 1-layer transformer (each starts from its preset)"),
    F::u32("p", "p", "task", P_MIN, P_MAX, |c| c.p, |c, v| c.p = v)
        .help("the modulus, a prime"),
    F::choice("op", "operation", "task", &["add", "sub", "mul"], |c| c.op.name(), |c, v| {
        c.op = Op::parse(v).unwrap_or(Op::Add)
    }),
    F::f64("frac", "train fraction", "task", FRAC_MIN, FRAC_MAX, |c| c.train_frac, |c, v| c.train_frac = v)
        .help("fraction of the p² pairs used for training"),
    F::u64("seed", "seed", "task", 0, u64::MAX, |c| c.seed, |c, v| c.seed = v),
    F::u32("hidden", "hidden units", "model", 1, HIDDEN_MAX, |c| c.hidden, |c, v| c.hidden = v)
        .shown_when(MLP_ONLY),
    F::choice("act", "activation", "model", &["quadratic", "relu"], |c| c.activation.name(), |c, v| {
        c.activation = Activation::parse(v).unwrap_or(Activation::Quadratic)
    })
    .shown_when(MLP_ONLY),
    F::choice("loss", "loss", "model", &["ce", "mse"], |c| c.loss.name(), |c, v| {
        c.loss = LossKind::parse(v).unwrap_or(LossKind::Ce)
    }),
    F::u32("dmodel", "d_model", "model", 4, D_MODEL_MAX, |c| c.d_model, |c, v| c.d_model = v)
        .shown_when(TRANSFORMER_ONLY),
    F::u32("heads", "heads", "model", 1, HEADS_MAX, |c| c.n_heads, |c, v| c.n_heads = v)
        .shown_when(TRANSFORMER_ONLY),
    F::u32("dmlp", "d_mlp", "model", 1, D_MLP_MAX, |c| c.d_mlp, |c, v| c.d_mlp = v)
        .shown_when(TRANSFORMER_ONLY),
    F::f64("init", "init scale", "model", 0.0, INIT_SCALE_MAX, |c| c.init_scale, |c, v| c.init_scale = v)
        .open_min()
        .help("multiplies the default initial weight scale (rich vs lazy regimes)"),
    F::f64("lr", "learning rate", "optimiser", 0.0, LR_MAX, |c| c.lr, |c, v| c.lr = v).open_min(),
    F::f64("wd", "weight decay", "optimiser", 0.0, WD_MAX, |c| c.weight_decay, |c, v| c.weight_decay = v),
    F::f64("b1", "beta1", "optimiser", 0.0, 0.9999, |c| c.beta1, |c, v| c.beta1 = v),
    F::f64("b2", "beta2", "optimiser", 0.0, 0.9999, |c| c.beta2, |c, v| c.beta2 = v),
    F::flag("gf", "Grokfast", "optimiser", |c| c.grokfast, |c, v| c.grokfast = v)
        .help("Grokfast-EMA gradient filter (Lee et al. 2024)"),
    F::f64("gfa", "Grokfast α", "optimiser", 0.0, 0.9999, |c| c.grokfast_alpha, |c, v| c.grokfast_alpha = v)
        .shown_when(GROKFAST_ON),
    F::f64("gfl", "Grokfast λ", "optimiser", 0.0, GROKFAST_LAMBDA_MAX, |c| c.grokfast_lambda, |c, v| c.grokfast_lambda = v)
        .shown_when(GROKFAST_ON),
    F::u32("steps", "steps", "budget", 1, STEPS_MAX, |c| c.steps, |c, v| c.steps = v),
    F::u32("rank", "initial rank", "model", 0, HIDDEN_MAX, |c| c.init_rank, |c, v| c.init_rank = v)
        .help("rank of the hidden layer's initial weights (0: full rank); low rank pushes learning towards the rich regime"),
    F::u32("wu", "lr warm-up (steps)", "optimiser", 0, STEPS_MAX, |c| c.warmup, |c, v| c.warmup = v)
        .help("linear learning-rate warm-up (Nanda et al. use 10 steps)"),
    F::u32("every", "report every", "budget", 1, REPORT_EVERY_MAX, |c| c.report_every, |c, v| c.report_every = v)
        .help("metrics are read back every this many steps (each readback waits for the GPU)"),
    F::u32("ana", "analyse every", "budget", 0, STEPS_MAX, |c| c.analyse_every, |c, v| c.analyse_every = v)
        .help("spectra, neurons, progress measures and a checkpoint every this many steps (0: never)"),
    F::text("fork", "forks", "timeline", "forks like 500wd0 (step, then changes lr, wd, gf, gfa, gfl) joined by '_'", |c| forks_text(&c.forks), |c, v| {
        let forks = parse_forks(v)?;
        if forks.len() >= MAX_RUNS {
            return Err(format!("at most {} forks (the first run and its forks make at most {MAX_RUNS} runs)", MAX_RUNS - 1));
        }
        c.forks = forks;
        Ok(())
    })
    .help("new runs from the first one's state at a step, with other hyper-parameters, trained beside it"),
];

impl LabConfig for GrokConfig {
    const LAB: &'static str = "grokking";

    fn fields() -> &'static [Field<Self>] {
        FIELDS
    }

    fn presets() -> Vec<Preset<Self>> {
        vec![
            Preset {
                name: "mlp",
                label: "MLP p=97",
                config: GrokConfig::preset_mlp(),
            },
            Preset {
                name: "delayed",
                label: "MLP p=97, 30 % train (delayed grokking)",
                config: GrokConfig::preset_delayed(),
            },
            Preset {
                name: "quick",
                label: "Quick: MLP p=53, 30 % train",
                config: GrokConfig::preset_quick(),
            },
            Preset {
                name: "transformer",
                label: "Transformer p=113 (Nanda et al.)",
                config: GrokConfig::preset_transformer(),
            },
            Preset {
                name: "fullrank",
                label: "Rich vs lazy: full-rank init (quick, 4000 steps)",
                config: GrokConfig::preset_full_rank(),
            },
            Preset {
                name: "lowrank",
                label: "Rich vs lazy: rank-1 init (quick, 4000 steps)",
                config: GrokConfig::preset_low_rank(),
            },
        ]
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !is_prime(self.p) {
            return Err(ConfigError::rule(
                "p",
                format!(
                    "p must be a prime between {P_MIN} and {P_MAX}, got {}",
                    self.p
                ),
            ));
        }
        let hidden = match self.model {
            ModelKind::Mlp => self.hidden.min(2 * self.p),
            ModelKind::Transformer => self.d_model.min(self.d_mlp),
        };
        if self.init_rank > hidden {
            return Err(ConfigError::rule(
                "rank",
                format!(
                    "the initial rank must be between 0 (full) and {hidden} (the hidden layer's smaller side), got {}",
                    self.init_rank
                ),
            ));
        }
        if self.analyse_every > 0 && self.steps / self.analyse_every > MAX_ANALYSES {
            return Err(ConfigError::rule(
                "ana",
                format!(
                    "analysing every {} steps over {} steps makes {} analyses, more than the {MAX_ANALYSES} a timeline keeps: raise 'analyse every' to at least {}",
                    self.analyse_every,
                    self.steps,
                    self.steps / self.analyse_every,
                    self.steps.div_ceil(MAX_ANALYSES)
                ),
            ));
        }
        if let Some(f) = self.forks.iter().find(|f| f.step >= self.steps) {
            return Err(ConfigError::rule(
                "fork",
                format!(
                    "a fork must start before the last step ({}), got step {}",
                    self.steps, f.step
                ),
            ));
        }
        if self.model == ModelKind::Transformer && self.d_model % self.n_heads != 0 {
            return Err(ConfigError::rule(
                "heads",
                format!(
                    "heads ({}) must divide d_model ({})",
                    self.n_heads, self.d_model
                ),
            ));
        }
        Ok(())
    }

    /// Parameters ×6 per run (weights, gradients, AdamW's two moments, the Grokfast EMA, a copy
    /// in flight), the activations of a full-batch step and of a report over all p² pairs, the
    /// analysis' tensors and the checkpoints' cap.
    fn estimate(&self) -> Estimate {
        let p = u64::from(self.p);
        let pairs = p * p;
        let n = self.n_train() as u64;
        let (params, width, act_per_pair, flops_per_pair) = match self.model {
            ModelKind::Mlp => {
                let h = u64::from(self.hidden);
                // Embedding lookups and the output matmul.
                (3 * p * h, h.max(p), 3 * h + 3 * p, 2 * h * p + 2 * h)
            }
            ModelKind::Transformer => {
                let (d, m) = (u64::from(self.d_model), u64::from(self.d_mlp));
                let heads = u64::from(self.n_heads);
                let params = (p + 4) * d + 4 * d * d + 2 * d * m + m + d + d * p;
                // q, k, v over 3 positions, attention at `=`, the MLP and the unembedding.
                let flops = 2 * (3 * 3 * d * d + d * d + 2 * d * m + d * p) + 18 * heads;
                (
                    params,
                    (3 * d).max(m).max(p),
                    12 * d + 3 * m + 3 * p + 9 * heads,
                    flops,
                )
            }
        };
        let runs = 1 + self.forks.len() as u64;
        // The analysis: the Fourier bases over all pairs, the logits, their projection and key
        // part, the hidden layer now and at step 0.
        let analysis = if self.analyse_every > 0 {
            5 * pairs * p + 2 * pairs * width
        } else {
            0
        };
        // Checkpoints: weights, two Adam moments and the EMA, under the cap (but two per run).
        let checkpoint = f32s(4 * params);
        let checkpoints = if self.analyse_every > 0 {
            CHECKPOINT_BYTES.max(2 * runs * checkpoint)
        } else {
            0
        };
        let bytes = f32s(6 * params * runs + act_per_pair * (n + pairs) + analysis)
            + checkpoints
            + (16 << 20);
        let largest = f32s(prod(&[pairs, width]).max(params));
        // A training step of every run is forward + backward (~3× forward) on the training
        // pairs; a report is a forward pass over all pairs.
        let step = 3.0 * (flops_per_pair * n * runs) as f64;
        let report = (flops_per_pair * pairs) as f64;
        Estimate {
            bytes,
            largest_buffer: largest,
            unit_work: step.max(report),
            what: "this grokking model",
            hint: "lower p, the hidden units or d_model/d_mlp",
        }
    }

    fn plan(&self) -> Position {
        Position::steps(0, self.steps)
    }
}
