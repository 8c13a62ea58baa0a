//! A [`Decomposition`]: the activations of one prepared source, one decomposition (SAE or
//! semi-NMF) trained on them, and the analysis a feature browser needs, all as plain structs.
//!
//! `train_step()` queues device work and reads nothing back; `metrics()`, `features()`,
//! `feature()`, `clamp()` and the exports (`safetensors()`, `saelens()`) are async and read
//! back once each (sync reads panic in the browser). Activations are normalised by one scalar
//! so that E‖x‖² = d (so λ and the learning rate mean the same on every source); everything
//! spliced back into a model is divided by it first, and the SAELens export folds it in.

use super::analysis::{density_histogram, fourier_label, histogram, top_n, FourierLabel};
use super::config::{SaeConfig, SaeKind, SaeSource};
use super::export::{self, Folder, Named, Trained};
use super::model::{sae_step, Sae, StepKind};
use super::report::{
    ClampInput, ClampOp, ClampRequest, ClampResponse, FeatureDetail, FeatureSummary, LogitEffect,
    LogitShift, SaeReport, Target, TopInput, TrueMatch,
};
use super::session::{SaeError, SaeSession};
use super::snmf::Snmf;
use super::source::{LmSource, SourceModel};
use super::toy::{sample_hidden, ToyModel, ToySpec};
use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};
use neurolab_base::rng::SeededRng;
use neurolab_base::LabConfig as _;
use neurolab_grok::config::{GrokConfig, ModelKind, Op};
use neurolab_grok::GrokModel;

/// RNG stream for minibatch sampling.
const BATCH_STREAM: u64 = 61;
/// A semi-NMF code counts as active above this (normalised units; multiplicative updates
/// shrink codes towards 0 but rarely reach it exactly).
pub const SNMF_ACTIVE: f64 = 1e-3;
const TOP_INPUTS: usize = 12;
const TOP_LOGITS: usize = 8;
/// Largest clamp value or factor (beyond it the outputs are not finite numbers).
pub const CLAMP_MAX: f32 = 1e6;
const HIST_BINS: usize = 32;

enum Method {
    Sae {
        /// Always `Some` outside `train_step`.
        sae: Option<Sae>,
        optim: ModuleOptimizer,
    },
    Snmf(Snmf),
}

pub struct Decomposition {
    config: SaeConfig,
    source: SourceModel,
    /// Normalised activations `[N, d]` (plain device).
    data: Tensor<2>,
    /// `[1]`: data = raw · scale.
    scale: Tensor<1>,
    n: usize,
    d: usize,
    /// Grok sources: p, the operation, and labels `[N]`.
    p: usize,
    op: Op,
    labels: Option<Tensor<1, Int>>,
    /// Transformer MLP site: the residual before the MLP `[N, d_model]`.
    resid_mid: Option<Tensor<2>>,
    /// Toy source: true feature directions `[n, m]`.
    true_dirs: Option<Tensor<2>>,
    method: Method,
    since_fired: Tensor<1>,
    losses: Option<Tensor<1>>,
    rng: SeededRng,
    step: u32,
}

impl Decomposition {
    /// On the toy model's hidden layer: `toy_samples` seeded samples of `h = W x`.
    pub fn from_toy(config: SaeConfig, spec: &ToySpec, toy: &ToyModel) -> Result<Self, SaeError> {
        config.validate()?;
        let device = toy.w.val().device();
        let (h, _x) = sample_hidden(spec, toy, config.toy_samples as usize);
        let true_dirs = toy.w.val();
        Self::build(
            config,
            device,
            SourceModel::Toy(toy.clone()),
            h,
            None,
            Some(true_dirs),
        )
    }

    /// Prepare the source and build at once (tests and benches; the worker prepares in chunks
    /// through [`SaeSession`]). `device` is a plain device; natively only (it blocks on the
    /// preparation).
    #[cfg(not(target_family = "wasm"))]
    pub fn new(config: SaeConfig, device: Device) -> Result<Self, SaeError> {
        let mut session = SaeSession::new(config, device, None)?;
        pollster::block_on(session.prepare_steps(u32::MAX))?;
        session.into_decomposition().ok_or(SaeError::NotReady)
    }

    /// On a grokking model (its config `gc`, its weights now). `config.source` must name that
    /// model; `grok_p` is taken from it.
    pub fn from_grok(
        mut config: SaeConfig,
        gc: &GrokConfig,
        model: &GrokModel,
    ) -> Result<Self, SaeError> {
        let gc = gc.clone();
        let want = match gc.model {
            ModelKind::Mlp => SaeSource::GrokMlp,
            ModelKind::Transformer => SaeSource::GrokTransformer,
        };
        if config.source != want {
            return Err(SaeError::Request(format!(
                "source {} does not match the grokking run's model ({})",
                config.source.name(),
                gc.model.name()
            )));
        }
        config.grok_p = gc.p;
        config.validate()?;
        let source = match model {
            GrokModel::Mlp(m) => SourceModel::Mlp(m.valid()),
            GrokModel::Transformer(t) => SourceModel::Transformer(Box::new(t.valid()), config.site),
        };
        let device = match &source {
            SourceModel::Mlp(m) => m.w_in.val().device(),
            SourceModel::Transformer(t, _) => t.w_e.val().device(),
            SourceModel::Toy(t) => t.w.val().device(),
            SourceModel::Lm(s) => s.model.w_e.val().device(),
        };
        let p = gc.p as usize;
        let n = p * p;
        let col = |f: &dyn Fn(usize) -> u32| {
            let v: Vec<i32> = (0..n).map(|i| f(i) as i32).collect();
            Tensor::<1, Int>::from_data(TensorData::new(v, [n]), &device)
        };
        let a = col(&|i| (i / p) as u32);
        let b = col(&|i| (i % p) as u32);
        let op: Op = gc.op;
        let labels = col(&|i| op.apply((i / p) as u32, (i % p) as u32, gc.p));
        let site = source.site(a, b);
        let mut s = Self::build(config, device, source, site.acts, Some(labels), None)?;
        s.resid_mid = site.resid_mid;
        s.p = p;
        s.op = op;
        Ok(s)
    }

    /// On a language model (`model` on a plain device, its corpus): every token of
    /// `lm_tokens / ctx` evenly spaced windows of the training text, at layer `lm_layer`'s MLP
    /// neurons or the residual stream after it; the next tokens are the labels (CE-loss score).
    pub fn from_lm(
        config: SaeConfig,
        model: &neurolab_lm::Gpt,
        corpus: &neurolab_lm::Corpus,
    ) -> Result<Self, SaeError> {
        config.validate()?;
        let lc = config.lm_preset();
        let t = lc.ctx as usize;
        let n = config.n_samples();
        let train = &corpus.train;
        let span = train.len().saturating_sub(t + 1);
        let windows = (n / t).min(span.max(1));
        let starts: Vec<usize> = (0..windows)
            .map(|i| {
                if windows > 1 {
                    i * span / (windows - 1)
                } else {
                    0
                }
            })
            .collect();
        let host_tokens: Vec<u32> = starts
            .iter()
            .flat_map(|&s| train[s..s + t].to_vec())
            .collect();
        let next: Vec<i32> = starts
            .iter()
            .flat_map(|&s| train[s + 1..s + t + 1].iter().map(|&x| x as i32))
            .collect();
        let device = model.w_e.val().device();
        let ints: Vec<i32> = host_tokens.iter().map(|&x| x as i32).collect();
        let tokens = Tensor::<2, Int>::from_data(TensorData::new(ints, [windows, t]), &device);
        let labels = Tensor::<1, Int>::from_data(TensorData::new(next, [windows * t]), &device);
        let layer = config.lm_layer as usize;
        let site = match config.site {
            super::config::TransformerSite::Mlp => neurolab_lm::Site::Act(layer),
            super::config::TransformerSite::Resid => neurolab_lm::Site::Resid(layer + 1),
        };
        let source = LmSource {
            model: model.clone(),
            site,
            layer,
            tokens,
            host_tokens,
            ctx: t,
            vocab: corpus.vocab.clone(),
        };
        let acts = source.acts();
        Self::build(
            config,
            device,
            SourceModel::Lm(Box::new(source)),
            acts,
            Some(labels),
            None,
        )
    }

    /// Language-model source: sample `i`'s surrounding tokens, the values `acts` gives them and
    /// the sample's index among them.
    fn lm_context(&self, i: usize, acts: &[f32]) -> Option<(Vec<String>, Vec<f32>, u32)> {
        let s = self.source.lm()?;
        let w = i / s.ctx;
        let start = (w * s.ctx).max(i.saturating_sub(10));
        let end = ((w + 1) * s.ctx).min(i + 4);
        let tokens = s.host_tokens[start..end]
            .iter()
            .map(|&t| s.vocab.get(t as usize).cloned().unwrap_or_default())
            .collect();
        Some((tokens, acts[start..end].to_vec(), (i - start) as u32))
    }

    fn token_name(&self, output: usize) -> Option<String> {
        self.source.lm().and_then(|s| s.vocab.get(output).cloned())
    }

    fn build(
        config: SaeConfig,
        device: Device,
        source: SourceModel,
        raw: Tensor<2>,
        labels: Option<Tensor<1, Int>>,
        true_dirs: Option<Tensor<2>>,
    ) -> Result<Self, SaeError> {
        let [n, d] = raw.dims();
        let ms = raw.clone().square().sum_dim(1).mean(); // [1]
        let scale = ms.div_scalar(d as f64).add_scalar(1e-20).sqrt().recip();
        let data = raw * scale.clone().unsqueeze::<2>();
        let ad = device.clone().autodiff();
        let latents = config.latents as usize;
        let method = match config.kind {
            SaeKind::Snmf => Method::Snmf(Snmf::new(n, latents, d, config.seed, &device)),
            _ => {
                let mean = data.clone().mean_dim(0).reshape([d]);
                Method::Sae {
                    sae: Some(Sae::new(latents, mean, config.seed, &ad)),
                    optim: AdamConfig::new().init(),
                }
            }
        };
        Ok(Self {
            rng: SeededRng::new(config.seed, BATCH_STREAM),
            since_fired: Tensor::zeros([latents], &device),
            config,
            source,
            data,
            scale,
            n,
            d,
            p: 0,
            op: Op::Add,
            labels,
            resid_mid: None,
            true_dirs,
            method,
            losses: None,
            step: 0,
        })
    }

    pub fn config(&self) -> &SaeConfig {
        &self.config
    }
    pub fn step_count(&self) -> u32 {
        self.step
    }
    pub fn finished(&self) -> bool {
        self.step >= self.config.steps
    }

    /// Wait for the device: one number read back.
    pub async fn sync(&self) -> Result<(), SaeError> {
        let t = match &self.losses {
            Some(l) => l.clone(),
            None => self.scale.clone(),
        };
        read_f32(t.narrow(0, 0, 1)).await.map(|_| ())
    }
    /// Activation samples and their dimension.
    pub fn n_samples(&self) -> usize {
        self.n
    }
    pub fn d(&self) -> usize {
        self.d
    }
    /// Grok sources: the modulus (0 for the toy source).
    pub fn p(&self) -> usize {
        self.p
    }

    /// One training step (SAE: an Adam step on a seeded minibatch; semi-NMF: one full
    /// alternation). Queues work; reads nothing (on the CPU backend the TopK selection copies
    /// the pre-activations, see [`crate::top_k`]).
    pub async fn train_step(&mut self) {
        match &mut self.method {
            Method::Snmf(s) => s.step(&self.data),
            Method::Sae { sae, optim } => {
                let bsz = self.config.batch as usize;
                let idx: Vec<i32> = (0..bsz).map(|_| self.rng.below(self.n) as i32).collect();
                let idx =
                    Tensor::<1, Int>::from_data(TensorData::new(idx, [bsz]), &self.data.device());
                let x = Tensor::<2>::from_inner(self.data.clone().select(0, idx));
                let kind = match self.config.kind {
                    SaeKind::ReluL1 => StepKind::ReluL1 { l1: self.config.l1 },
                    _ => StepKind::TopK {
                        k: self.config.k as usize,
                        k_aux: self.config.k_aux as usize,
                        aux_coef: self.config.aux_coef,
                        dead_after: self.config.dead_after as f64,
                    },
                };
                let Some(model) = sae.take() else { return };
                let out = sae_step(
                    model,
                    optim,
                    self.config.lr,
                    kind,
                    x,
                    self.since_fired.clone(),
                )
                .await;
                *sae = Some(out.sae);
                self.since_fired = out.since_fired;
                self.losses = Some(out.losses);
            }
        }
        self.step += 1;
    }

    fn topk(&self) -> Option<usize> {
        (self.config.kind == SaeKind::TopK).then_some(self.config.k as usize)
    }

    /// Latents `[N', L]` of the normalised samples `x` (semi-NMF: the codes of all samples;
    /// `x` must then be the whole data set).
    fn latents_of(&self, x: Tensor<2>) -> Tensor<2> {
        match &self.method {
            Method::Sae { sae: Some(sae), .. } => sae.valid().encode(x, self.topk()),
            Method::Sae { sae: None, .. } => {
                Tensor::zeros([x.dims()[0], self.config.latents as usize], &x.device())
            }
            Method::Snmf(s) => s.z.clone(),
        }
    }

    /// Decoder directions `[L, d]` (normalised units).
    fn decoder(&self) -> Tensor<2> {
        match &self.method {
            Method::Sae { sae: Some(sae), .. } => sae.w_dec.val().inner(),
            Method::Sae { sae: None, .. } => {
                Tensor::zeros([self.config.latents as usize, self.d], &self.data.device())
            }
            Method::Snmf(s) => s.w.clone(),
        }
    }

    fn reconstruct(&self, z: Tensor<2>) -> Tensor<2> {
        match &self.method {
            Method::Sae { sae: Some(sae), .. } => sae.valid().decode(z),
            Method::Sae { sae: None, .. } => z.zeros_like().narrow(1, 0, 0),
            Method::Snmf(s) => z.matmul(s.w.clone()),
        }
    }

    fn active(&self, z: Tensor<2>) -> Tensor<2, Bool> {
        match self.config.kind {
            SaeKind::Snmf => z.greater_elem(SNMF_ACTIVE),
            _ => z.greater_elem(0.0),
        }
    }

    /// How many of the rows of `z` (`[N', L]`) each latent is active in, `[L]`.
    fn fire_counts(&self, z: Tensor<2>) -> Tensor<1> {
        let latents = z.dims()[1];
        self.active(z).float().sum_dim(0).reshape([latents])
    }

    /// Mean cross-entropy of `logits` against the labels.
    fn ce(&self, logits: Tensor<2>) -> Option<Tensor<1>> {
        let y = self.labels.clone()?;
        Some(
            log_softmax(logits, 1)
                .gather(1, y.unsqueeze_dim::<2>(1))
                .mean()
                .neg(),
        )
    }

    /// Cosines `[n, L]` between the true toy directions and the decoder directions.
    fn true_cosines(&self) -> Option<Tensor<2>> {
        let t = self.true_dirs.clone()?;
        let unit = |w: Tensor<2>| {
            let n = w.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
            w / n
        };
        Some(unit(t).matmul(unit(self.decoder()).transpose()))
    }

    /// Metrics over all samples, one readback.
    pub async fn metrics(&self) -> Result<SaeReport, SaeError> {
        let x = self.data.clone();
        let z = self.latents_of(x.clone());
        let x_hat = self.reconstruct(z.clone());
        let latents = self.config.latents as usize;
        let d = self.d as f64;
        let err = (x.clone() - x_hat.clone()).square().sum_dim(1); // [N, 1]
        let mse = err.clone().mean().div_scalar(d);
        let var = (x.clone() - x.clone().mean_dim(0)).square().sum();
        let fvu = err.sum() / var.add_scalar(1e-20);
        let active = self.active(z).float();
        let l0 = active.clone().sum_dim(1).mean();
        let density = active.mean_dim(0).reshape([latents]);
        let dead = match self.config.kind {
            SaeKind::Snmf => density.clone().lower_equal_elem(0.0).float().mean(),
            _ => self
                .since_fired
                .clone()
                .greater_equal_elem(self.config.dead_after as f64)
                .float()
                .mean(),
        };
        let mut parts = vec![mse, fvu, l0, dead];
        let zeros1 = || Tensor::<1>::zeros([1], &x.device());
        parts.extend(match &self.losses {
            Some(l) => vec![l.clone()],
            None => vec![zeros1(), zeros1()],
        });
        let inv = self.scale.clone().recip().unsqueeze::<2>();
        let ce = self.labels.as_ref().map(|_| {
            let out = |acts: Tensor<2>| self.source.output(acts, self.resid_mid.clone());
            let clean = self.ce(out(x.clone() * inv.clone()));
            let sae = self.ce(out(x_hat * inv.clone()));
            let zero = self.ce(out(x.zeros_like()));
            (clean, sae, zero)
        });
        if let Some((Some(c), Some(s), Some(z))) = ce.clone() {
            parts.extend([c, s, z]);
        }
        let mmcs = self.true_cosines().map(|c| c.max_dim(1).mean());
        if let Some(m) = mmcs.clone() {
            parts.push(m);
        }
        parts.push(density);
        let v = read_f32(Tensor::cat(parts, 0)).await?;
        let mut i = 6;
        let (ce_clean, ce_sae, ce_zero) = if matches!(ce, Some((Some(_), Some(_), Some(_)))) {
            i += 3;
            (Some(v[6]), Some(v[7]), Some(v[8]))
        } else {
            (None, None, None)
        };
        let mmcs = mmcs.map(|_| {
            i += 1;
            v[i - 1]
        });
        let dens = &v[i..];
        let score = match (ce_clean, ce_sae, ce_zero) {
            (Some(c), Some(s), Some(z)) if (z - c).abs() > 1e-9 => Some((z - s) / (z - c)),
            _ => None,
        };
        Ok(SaeReport {
            step: self.step,
            mse: v[0],
            fvu: v[1],
            l0: v[2],
            dead_frac: v[3],
            density_hist: density_histogram(dens),
            ce_loss_score: score,
            ce_clean,
            ce_sae,
            ce_zero_abl: ce_zero,
            mmcs,
            loss_recon: v[4],
            loss_aux: v[5],
        })
    }

    /// Every latent with its density, activation statistics and automatic label, sorted by
    /// density (densest first). One readback.
    pub async fn features(&self) -> Result<Vec<FeatureSummary>, SaeError> {
        let latents = self.config.latents as usize;
        let z = self.latents_of(self.data.clone());
        let count = self.fire_counts(z.clone());
        let density = count.clone().div_scalar(self.n as f64);
        let max = z.clone().max_dim(0).reshape([latents]);
        let mean = z.sum_dim(0).reshape([latents]) / count.clamp_min(1.0);
        let mut parts = vec![density, max, mean];
        let cos = self.true_cosines();
        if let Some(c) = cos.clone() {
            // Best true feature per latent: max over the n true features.
            let (best, idx) = c.max_dim_with_indices(0);
            parts.push(best.reshape([latents]));
            parts.push(idx.float().reshape([latents]));
        }
        let power = (self.p > 0).then(|| self.fourier_power());
        if let Some(pw) = power {
            parts.push(pw);
        }
        // Language model: the token each latent's direction promotes most (direct path).
        let lm = self.source.lm().is_some();
        if lm {
            let dirs = self.decoder() / self.scale.clone().unsqueeze::<2>();
            let logits = dirs.matmul(self.source.unembed());
            let (best, idx) = logits.max_dim_with_indices(1);
            parts.push(best.reshape([latents]));
            parts.push(idx.float().reshape([latents]));
        }
        let v = read_f32(Tensor::cat(parts, 0)).await?;
        let lm_base = v.len() - 2 * latents;
        let p = self.p;
        let half = p / 2 + 1;
        let mut out: Vec<FeatureSummary> = (0..latents)
            .map(|j| {
                let best_true = cos.as_ref().map(|_| TrueMatch {
                    feature: v[4 * latents + j] as u32,
                    cosine: v[3 * latents + j],
                });
                let fourier = (p > 0).then(|| {
                    let base = if cos.is_some() { 5 } else { 3 } * latents + j * p * p;
                    fold_power(&v[base..base + p * p], p, half)
                });
                let fourier = fourier.flatten();
                let label = match (&fourier, &best_true) {
                    (Some(f), _) => f.text(),
                    (None, Some(m)) => format!("feature {} (cos {:.2})", m.feature, m.cosine),
                    _ if lm => {
                        let token = self
                            .token_name(v[lm_base + latents + j] as usize)
                            .unwrap_or_default();
                        format!("promotes '{token}' ({:.2})", v[lm_base + j])
                    }
                    _ => String::new(),
                };
                FeatureSummary {
                    index: j as u32,
                    density: v[j],
                    max_act: v[latents + j],
                    mean_act: v[2 * latents + j],
                    label,
                    fourier,
                    best_true,
                }
            })
            .collect();
        out.sort_by(|a, b| b.density.total_cmp(&a.density).then(a.index.cmp(&b.index)));
        Ok(out)
    }

    /// 2D DFT power of every latent's p×p map, flat `[L·p·p]` (latent, ka, kb), by matmuls.
    fn fourier_power(&self) -> Tensor<1> {
        let p = self.p;
        let latents = self.config.latents as usize;
        let device = self.data.device();
        let (c, s): (Vec<f32>, Vec<f32>) = (0..p * p)
            .map(|i| {
                let t = std::f64::consts::TAU * ((i / p) * (i % p) % p) as f64 / p as f64;
                (t.cos() as f32, t.sin() as f32)
            })
            .unzip();
        let c = Tensor::<2>::from_data(TensorData::new(c, [p, p]), &device);
        let s = Tensor::<2>::from_data(TensorData::new(s, [p, p]), &device);
        let z = self.latents_of(self.data.clone()).reshape([p, p * latents]); // [a, (b, l)]
        let to_b = |t: Tensor<2>| {
            t.reshape([p, p, latents])
                .swap_dims(1, 2)
                .reshape([p * latents, p])
        };
        let xc = to_b(c.clone().matmul(z.clone())); // [(ka, l), b]
        let xs = to_b(s.clone().matmul(z));
        // e^{-iθ}: Re = C·H·Cᵀ − S·H·Sᵀ, Im = −(S·H·Cᵀ + C·H·Sᵀ); the sign of Im is irrelevant.
        let re =
            xc.clone().matmul(c.clone().transpose()) - xs.clone().matmul(s.clone().transpose());
        let im = xs.matmul(c.transpose()) + xc.matmul(s.transpose());
        let power = re.square() + im.square(); // [(ka, l), kb]
        power
            .reshape([p, latents, p])
            .swap_dims(0, 1)
            .reshape([latents * p * p])
    }

    /// Activations of a target over all samples `[N]` and its direction's logit effect.
    fn target_column(&self, target: Target) -> Result<(Tensor<1>, Tensor<1>), SaeError> {
        let u = self.source.unembed();
        let outputs = u.dims()[1];
        match target {
            Target::Feature(j) => {
                let j = self.check_index(j, self.config.latents as usize, "feature")?;
                let z = self.latents_of(self.data.clone());
                let col = z.narrow(1, j, 1).reshape([self.n]);
                // One unit of latent j adds w_dec[j] / scale to the raw activations.
                let dir = self.decoder().narrow(0, j, 1) / self.scale.clone().unsqueeze::<2>();
                Ok((col, dir.matmul(u).reshape([outputs])))
            }
            Target::Neuron(j) => {
                let j = self.check_index(j, self.d, "neuron")?;
                let col = (self.data.clone().narrow(1, j, 1) / self.scale.clone().unsqueeze::<2>())
                    .reshape([self.n]);
                Ok((col, u.narrow(0, j, 1).reshape([outputs])))
            }
        }
    }

    fn check_index(&self, j: u32, n: usize, what: &str) -> Result<usize, SaeError> {
        if (j as usize) < n {
            Ok(j as usize)
        } else {
            Err(SaeError::Request(format!(
                "{what} index must be below {n}, got {j}"
            )))
        }
    }

    /// The browser's view of one latent or neuron. One readback.
    pub async fn feature(&self, target: Target) -> Result<FeatureDetail, SaeError> {
        let (col, logits) = self.target_column(target)?;
        let mut parts = vec![col, logits.clone()];
        let cos = match target {
            Target::Feature(j) => self.true_cosines().map(|c| c.narrow(1, j as usize, 1)),
            Target::Neuron(_) => None,
        };
        if let Some(c) = cos.clone() {
            let n_true = c.dims()[0];
            parts.push(c.reshape([n_true]));
        }
        let outputs = logits.dims()[0];
        let v = read_f32(Tensor::cat(parts, 0)).await?;
        let acts = &v[..self.n];
        let effect = &v[self.n..self.n + outputs];
        let best_true = cos.and_then(|_| {
            let c = &v[self.n + outputs..];
            let i = *top_n(c, 1).first()?;
            Some(TrueMatch {
                feature: i as u32,
                cosine: c[i],
            })
        });
        let active = match (self.config.kind, target) {
            (SaeKind::Snmf, Target::Feature(_)) => SNMF_ACTIVE as f32,
            _ => 0.0,
        };
        let density = acts.iter().filter(|&&a| a > active).count() as f32 / self.n as f32;
        let p = self.p;
        let top_inputs = top_n(acts, TOP_INPUTS)
            .into_iter()
            .map(|i| {
                let context = self.lm_context(i, acts);
                TopInput {
                    sample: i as u32,
                    a: (p > 0).then_some((i / p.max(1)) as u32),
                    b: (p > 0).then_some((i % p.max(1)) as u32),
                    label: (p > 0).then(|| self.op.apply((i / p) as u32, (i % p) as u32, p as u32)),
                    activation: acts[i],
                    at: context.as_ref().map(|c| c.2),
                    context_acts: context.as_ref().map(|c| c.1.clone()),
                    context: context.map(|c| c.0),
                }
            })
            .collect();
        let shift = |i: usize| LogitShift {
            output: i as u32,
            delta: effect[i],
            token: self.token_name(i),
        };
        let promoted = top_n(effect, TOP_LOGITS).into_iter().map(shift).collect();
        let neg: Vec<f32> = effect.iter().map(|v| -v).collect();
        let suppressed = top_n(&neg, TOP_LOGITS).into_iter().map(shift).collect();
        Ok(FeatureDetail {
            target,
            density,
            top_inputs,
            heatmap: (p > 0).then(|| acts.to_vec()),
            p: (p > 0).then_some(p as u32),
            fourier: if p > 0 { fourier_label(acts, p) } else { None },
            histogram: histogram(acts, HIST_BINS),
            logit_effect: LogitEffect {
                promoted,
                suppressed,
            },
            best_true,
        })
    }

    /// "Decode a neuron through the final projection": the outputs a site dimension's output
    /// weights promote and suppress.
    pub async fn neuron_logit_effect(&self, neuron: u32) -> Result<LogitEffect, SaeError> {
        Ok(self.feature(Target::Neuron(neuron)).await?.logit_effect)
    }

    /// Edit one latent or neuron at one input and return the model's outputs before and after.
    /// Feature edits keep the SAE's error term (x' = x + Δz·w_dec), so "before" is the clean
    /// model. One readback.
    pub async fn clamp(&self, req: &ClampRequest) -> Result<ClampResponse, SaeError> {
        match req.op {
            ClampOp::Set(v) | ClampOp::Scale(v) if !(v.is_finite() && v.abs() <= CLAMP_MAX) => {
                return Err(SaeError::Request(format!(
                    "a clamp value must be a number from -{CLAMP_MAX} to {CLAMP_MAX}, got {v}"
                )));
            }
            _ => {}
        }
        let i = match req.input {
            ClampInput::Sample(i) => self.check_index(i, self.n, "sample")?,
            ClampInput::Pair { a, b } => {
                if self.p == 0 {
                    return Err(SaeError::Request(
                        "the toy source has no (a, b) inputs: use a sample index".into(),
                    ));
                }
                let a = self.check_index(a, self.p, "a")?;
                let b = self.check_index(b, self.p, "b")?;
                a * self.p + b
            }
        };
        let inv = self.scale.clone().recip().unsqueeze::<2>();
        let x = self.data.clone().narrow(0, i, 1); // [1, d] normalised
        let resid = self.resid_mid.clone().map(|r| r.narrow(0, i, 1));
        let device = x.device();
        let (value, mean, direction) = match req.target {
            Target::Feature(j) => {
                let j = self.check_index(j, self.config.latents as usize, "feature")?;
                let z_all = self.latents_of(self.data.clone());
                let z = match self.config.kind {
                    SaeKind::Snmf => z_all.clone().narrow(0, i, 1),
                    _ => self.latents_of(x.clone()),
                };
                (
                    z.narrow(1, j, 1),
                    z_all.narrow(1, j, 1).mean_dim(0),
                    self.decoder().narrow(0, j, 1),
                )
            }
            Target::Neuron(j) => {
                let j = self.check_index(j, self.d, "neuron")?;
                // A raw neuron is edited in raw units: its normalised direction is e_j·scale.
                let mut e = vec![0f32; self.d];
                e[j] = 1.0;
                let e = Tensor::<2>::from_data(TensorData::new(e, [1, self.d]), &device)
                    * self.scale.clone().unsqueeze::<2>();
                (
                    x.clone().narrow(1, j, 1) * inv.clone(),
                    self.data.clone().narrow(1, j, 1).mean_dim(0) * inv.clone(),
                    e,
                )
            }
        };
        let new_value = match req.op {
            ClampOp::Set(v) => value.zeros_like().add_scalar(v),
            ClampOp::Zero => value.zeros_like(),
            ClampOp::MeanAblate => mean,
            ClampOp::Scale(f) => value.clone().mul_scalar(f),
        };
        let x_after = x.clone() + direction * (new_value.clone() - value.clone());
        let out = |row: Tensor<2>| match self.source.output_at(i, row.clone()) {
            Some(o) => o,
            None => self.source.output(row, resid.clone()),
        };
        let before = out(x * inv.clone());
        let after = out(x_after * inv);
        let outputs = before.dims()[1];
        let grok = self.p > 0 || self.source.lm().is_some();
        let mut parts = vec![
            before.clone().reshape([outputs]),
            after.clone().reshape([outputs]),
            value.reshape([1]),
            new_value.reshape([1]),
        ];
        if grok {
            parts.push(softmax(before, 1).reshape([outputs]));
            parts.push(softmax(after, 1).reshape([outputs]));
        }
        let v = read_f32(Tensor::cat(parts, 0)).await?;
        let o = outputs;
        Ok(ClampResponse {
            outputs_before: v[..o].to_vec(),
            outputs_after: v[o..2 * o].to_vec(),
            value_before: v[2 * o],
            value_after: v[2 * o + 1],
            probs_before: grok.then(|| v[2 * o + 2..3 * o + 2].to_vec()),
            probs_after: grok.then(|| v[3 * o + 2..4 * o + 2].to_vec()),
            labels: self.source.lm().map(|s| s.vocab.clone()),
        })
    }

    /// Every parameter (normalised units: SAEs `w_enc [L, d]`, `b_enc [L]`, `w_dec [L, d]`,
    /// `b_dec [d]`; semi-NMF `w_dec [L, d]` (= W) and `z [N, L]`), the activation scale and,
    /// with `density`, each latent's firing frequency over all samples: what every export is
    /// built from, in one readback.
    async fn trained(&self, density: bool) -> Result<Trained, SaeError> {
        let flat = |t: Tensor<2>| {
            let [a, b] = t.dims();
            (vec![a, b], t.reshape([a * b]))
        };
        let named: Vec<(&'static str, (Vec<usize>, Tensor<1>))> = match &self.method {
            Method::Sae { sae: Some(sae), .. } => {
                let s = sae.valid();
                let latents = s.latents();
                vec![
                    ("w_enc", flat(s.w_enc.val())),
                    ("b_enc", (vec![latents], s.b_enc.val())),
                    ("w_dec", flat(s.w_dec.val())),
                    ("b_dec", (vec![self.d], s.b_dec.val())),
                ]
            }
            Method::Sae { sae: None, .. } => vec![],
            Method::Snmf(s) => vec![("w_dec", flat(s.w.clone())), ("z", flat(s.z.clone()))],
        };
        let mut parts: Vec<Tensor<1>> = named.iter().map(|(_, (_, t))| t.clone()).collect();
        parts.push(self.scale.clone());
        if density {
            let z = self.latents_of(self.data.clone());
            parts.push(self.fire_counts(z).div_scalar(self.n as f64));
        }
        let v = read_f32(Tensor::cat(parts, 0)).await?;
        let mut at = 0;
        let mut take = |n: usize| {
            at += n;
            v[at - n..at].to_vec()
        };
        let tensors = named
            .into_iter()
            .map(|(name, (shape, _))| {
                let values = take(shape.iter().product());
                Named {
                    name,
                    shape,
                    values,
                }
            })
            .collect();
        let act_scale = take(1)[0];
        Ok(Trained {
            config: self.config.clone(),
            step: self.step,
            tensors,
            act_scale,
            density: density.then(|| take(self.config.latents as usize)),
        })
    }

    /// The decomposition as our `.safetensors`: every parameter in normalised units, with
    /// `act_scale` (normalised = raw · act_scale) and the config in the metadata.
    pub async fn safetensors(&self) -> Result<Vec<u8>, SaeError> {
        export::neurolab_safetensors(&self.trained(false).await?)
    }

    /// The SAE in SAELens's saved layout, on raw activations (the scale folded in), in the
    /// folder `stem`. Semi-NMF has no encoder, so no such layout: [`SaeError::NoEncoder`].
    pub async fn saelens(&self, stem: &str) -> Result<Folder, SaeError> {
        if self.config.kind == SaeKind::Snmf {
            return Err(SaeError::NoEncoder);
        }
        export::saelens(&self.trained(true).await?, stem)
    }
}

/// Fold a `p × p` power map into classes (min(k, p−k) per axis) and label the strongest.
fn fold_power(power: &[f32], p: usize, half: usize) -> Option<FourierLabel> {
    let fold = |k: usize| k.min(p - k);
    let mut class = vec![0f32; half * half];
    let mut total = 0f32;
    for ka in 0..p {
        for kb in 0..p {
            if ka == 0 && kb == 0 {
                continue;
            }
            let v = power[ka * p + kb];
            class[fold(ka) * half + fold(kb)] += v;
            total += v;
        }
    }
    if total <= 0.0 {
        return None;
    }
    let best = top_n(&class, 1)[0];
    Some(FourierLabel {
        ka: (best / half) as u32,
        kb: (best % half) as u32,
        power_frac: class[best] / total,
    })
}

/// The one way this session reads a device tensor: asynchronously.
async fn read_f32(tensor: Tensor<1>) -> Result<Vec<f32>, SaeError> {
    tensor
        .into_data_async()
        .await
        .map_err(|e| SaeError::Readback(format!("{e:?}")))?
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| SaeError::Readback(format!("{e:?}")))
}
