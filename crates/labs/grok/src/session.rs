//! A grokking training session: the data tensors and one or more runs of the model (the first,
//! and forks from its checkpoints), each with its optimiser state.
//!
//! `train_step` queues one full-batch AdamW step of every unfinished run and reads nothing back;
//! `metrics` and `analysis` are the readbacks and are async (sync reads panic in the browser).
//! At analysis steps a run keeps a checkpoint (weights, optimiser state, Grokfast EMA) under a
//! memory cap, thinning older ones when it fills; a fork starts a new run from one of them. As a
//! [`Session`], it trains in chunks, reports at report steps, analyses at analysis steps, stops on
//! a NaN/Inf and answers its controls. Same code natively and in wasm.

use super::data::Dataset;
use super::host;
use super::model::{mean_loss, GrokModel, Mlp, Pairs, Transformer, TransformerGrads};
use super::params::{Decay, Grokfast, NamedParams, SquaredNorm};
use crate::analysis::{self, NeuronFourier};
use crate::config::{GrokConfig, ModelKind};
use crate::control::{ForkChanges, ForkSpec, GrokAnswer, GrokControl};
use crate::report::{Analysis, GrokReport, GrokSummary, LayerChange, StepReport};
use crate::GrokLab;
use burn::module::{Module, Param, ParamId};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use neurolab_base::lab::{Advance, Chunk, ExportFile};
use neurolab_base::{ConfigError, LabConfig as _, Position, Session};
use std::collections::HashMap;
use thiserror::Error;

pub use crate::config::{CHECKPOINT_BYTES, MAX_RUNS};
/// Largest p whose progress measures are computed (they read p³ logits back).
pub const PROGRESS_P_MAX: u32 = 131;
/// Strongest frequencies of a neuron a race answer carries.
const RACE_FREQS: usize = 6;

#[derive(Debug, Error)]
pub enum GrokError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("reading results from the device failed: {0}")]
    Readback(String),
    #[error("writing the weights failed: {0}")]
    Export(String),
    #[error("neuron {neuron} does not exist: the hidden layer has {size} neurons (0 to {last})", last = .size - 1)]
    NoSuchNeuron { neuron: u32, size: usize },
    #[error("frequency {k} does not exist: frequencies run from 1 to {max} for p = {p}")]
    NoSuchFrequency { k: u32, max: u32, p: u32 },
    #[error("run {} does not exist: this session has {runs} run(s)", .run + 1)]
    NoSuchRun { run: u32, runs: usize },
    #[error("run {} has no checkpoint yet (they are kept every 'analyse every' steps)", .run + 1)]
    NoCheckpoint { run: u32 },
    #[error("run {} keeps no checkpoint at step {step} (the nearest is step {nearest}): fork at a kept step, or reset to replay the link with this fork", .run + 1)]
    NoCheckpointAt { run: u32, step: u32, nearest: u32 },
    #[error("at most {MAX_RUNS} runs: reset to start over")]
    TooManyRuns,
    #[error("{0}")]
    BadFork(String),
    #[error("the grokking lab exports 'weights', not '{0}'")]
    UnknownExport(String),
}

/// Pair columns on the device.
struct Batch {
    a: Tensor<1, Int>,
    b: Tensor<1, Int>,
    y: Tensor<1, Int>,
    n: usize,
}

impl Batch {
    fn new(data: &Dataset, pairs: &[u32], device: &Device) -> Self {
        let (a, b, y) = data.columns(pairs);
        let n = pairs.len();
        let t = |v: Vec<i32>| Tensor::<1, Int>::from_data(TensorData::new(v, [n]), device);
        Self {
            a: t(a),
            b: t(b),
            y: t(y),
            n,
        }
    }

    fn inner(&self) -> Self {
        Self {
            a: self.a.clone().inner(),
            b: self.b.clone().inner(),
            y: self.y.clone().inner(),
            n: self.n,
        }
    }
}

/// What a run's optimiser does (a fork may change it).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hyper {
    lr: f64,
    weight_decay: f64,
    grokfast: bool,
    alpha: f64,
    lambda: f64,
}

impl Hyper {
    fn of(c: &GrokConfig) -> Hyper {
        Hyper {
            lr: c.lr,
            weight_decay: c.weight_decay,
            grokfast: c.grokfast,
            alpha: c.grokfast_alpha,
            lambda: c.grokfast_lambda,
        }
    }
}

/// Adam; the decoupled weight decay is applied by the session ([`Decay`]) so that a fork can
/// change it and keep the moments.
fn optimiser(c: &GrokConfig) -> ModuleOptimizer {
    AdamWConfig::new()
        .with_beta_1(c.beta1 as f32)
        .with_beta_2(c.beta2 as f32)
        .with_epsilon(1e-8)
        .with_weight_decay(0.0)
        .init()
}

/// A run's state at one step (tensors are shared, so a clone is cheap until training moves on).
struct Checkpoint {
    step: u32,
    model: GrokModel,
    optim: ModuleOptimizer,
    ema: HashMap<ParamId, Tensor<1>>,
}

struct Run {
    label: String,
    hyper: Hyper,
    /// Always `Some` outside `train_step`.
    model: Option<GrokModel>,
    optim: ModuleOptimizer,
    ema: HashMap<ParamId, Tensor<1>>,
    step: u32,
    checkpoints: Vec<Checkpoint>,
    /// Per analysed step: each neuron's power per frequency, row-major `[H, (p−1)/2]`.
    history: Vec<(u32, Vec<f32>)>,
    /// Its label went out with a report.
    announced: bool,
}

impl Run {
    fn model(&self) -> &GrokModel {
        self.model
            .as_ref()
            .expect("the model slot is only empty inside train_step")
    }
}

/// The Fourier bases of the progress measures for every frequency (on the plain device, made
/// once): `outputs` `[p, 2K]` of c, `pairs` `[p², 2K]` of a ∘ b, and the training pairs' rows.
struct Fourier {
    outputs: Tensor<2>,
    pairs: Tensor<2>,
    train: Tensor<1, Int>,
}

/// The representation and weights at step 0, for the rich/lazy measures.
struct Initial {
    /// `(layer, flattened weights)` on the plain device.
    params: Vec<(String, Tensor<1>)>,
    /// The pairs CKA compares the representations on (at most [`CKA_PAIRS`] of all pairs,
    /// evenly strided: the minibatch estimate of Nguyen et al. 2021, far cheaper than all p²).
    pairs: Tensor<1, Int>,
    /// The centred hidden representation at step 0 on those pairs `[n, H]`.
    hidden: Tensor<2>,
    /// ‖X0ᵀX0‖²_F of it (CKA's constant part).
    self_similarity: Tensor<1>,
}

/// Most pairs the representation change (linear CKA) is measured on.
pub const CKA_PAIRS: usize = 1024;

pub struct GrokSession {
    config: GrokConfig,
    runs: Vec<Run>,
    train: Batch,
    /// The training pairs as the closed-form gradients take them (plain device).
    pairs: Pairs,
    test: Batch,
    /// Every pair, in order (analysis).
    all: Batch,
    train_pairs: Vec<u32>,
    /// Ablated hidden neurons (sorted) and their mask (`None` when nothing is ablated).
    ablated: Vec<u32>,
    mask: Option<Tensor<1>>,
    /// The same mask on the host (the CPU backend's MLP step).
    host_mask: Option<Vec<f32>>,
    /// The CPU backend's MLP step's buffers, kept between steps.
    scratch: host::Scratch,
    initial: Option<Initial>,
    /// Bytes one checkpoint holds (parameters, two Adam moments, the EMA).
    checkpoint_size: u64,
    /// Forks of the first run still ahead of it, in step order.
    pending: Vec<ForkSpec>,
    fourier: Option<Fourier>,
    /// Gradients in closed form ([`Mlp::grads`], [`Transformer::grads`]) instead of through
    /// autodiff.
    fused: bool,
    /// On the CPU backend, the MLP's closed form on the host ([`host::mlp_grads`]) instead of
    /// through burn's tensor ops.
    use_host: bool,
}

impl GrokSession {
    /// A fresh session at step 0. `device` is a plain backend device; autodiff is added here.
    pub fn new(config: GrokConfig, device: Device) -> Result<Self, GrokError> {
        config.validate()?;
        let device = device.autodiff();
        let data = Dataset::new(&config);
        let model = match config.model {
            ModelKind::Mlp => GrokModel::Mlp(Mlp::new(&config, &device)),
            ModelKind::Transformer => GrokModel::Transformer(Transformer::new(&config, &device)),
        };
        let hyper = Hyper::of(&config);
        let all_pairs: Vec<u32> = (0..config.n_pairs() as u32).collect();
        let checkpoint_size = 4 * 4 * model.num_params() as u64;
        let (a, b, y) = data.columns(&data.train);
        let mut session = Self {
            pairs: Pairs::new(&a, &b, &y, config.p as usize, &device.clone().inner()),
            train: Batch::new(&data, &data.train, &device),
            test: Batch::new(&data, &data.test, &device),
            all: Batch::new(&data, &all_pairs, &device),
            train_pairs: data.train.clone(),
            runs: vec![Run {
                label: "run 1".into(),
                optim: optimiser(&config),
                hyper,
                model: Some(model),
                ema: HashMap::new(),
                step: 0,
                checkpoints: Vec::new(),
                history: Vec::new(),
                announced: false,
            }],
            pending: config.forks.clone(),
            fourier: None,
            fused: true,
            use_host: true,
            config,
            ablated: Vec::new(),
            mask: None,
            host_mask: None,
            scratch: host::Scratch::default(),
            initial: None,
            checkpoint_size,
        };
        if session.config.analyse_every > 0 {
            // Step 0 is where the rich/lazy measures start and where comparisons fork from.
            session.initial = Some(session.initial_state());
            session.keep_checkpoint(0);
        }
        session.fork_due()?;
        Ok(session)
    }

    pub fn config(&self) -> &GrokConfig {
        &self.config
    }
    /// Train through burn's autodiff (`false`) instead of the models' closed-form gradients
    /// (the default): for the tests that compare the two and the benchmark's before/after.
    pub fn set_fused(&mut self, fused: bool) {
        self.fused = fused;
    }
    /// With closed-form gradients on the CPU backend, the MLP's on the host (`true`, the default)
    /// or through burn's tensor ops (`false`, the WebGPU path): for the tests that compare them.
    pub fn set_host(&mut self, host: bool) {
        self.use_host = host;
    }
    /// The first run's step.
    pub fn step_count(&self) -> u32 {
        self.runs[0].step
    }
    /// Every run has spent its budget.
    pub fn finished(&self) -> bool {
        self.runs.iter().all(|r| r.step >= self.config.steps)
    }
    pub fn n_train(&self) -> usize {
        self.train.n
    }
    pub fn n_test(&self) -> usize {
        self.test.n
    }
    pub fn n_params(&self) -> usize {
        self.model().num_params()
    }
    pub fn runs(&self) -> usize {
        self.runs.len()
    }
    /// The first run's model.
    pub fn model(&self) -> &GrokModel {
        self.runs[0].model()
    }

    fn run(&self, run: u32) -> Result<&Run, GrokError> {
        self.runs.get(run as usize).ok_or(GrokError::NoSuchRun {
            run,
            runs: self.runs.len(),
        })
    }

    fn is_report_step(&self, step: u32) -> bool {
        step.is_multiple_of(self.config.report_every.max(1)) || step >= self.config.steps
    }

    fn is_analysis_step(&self, step: u32) -> bool {
        let every = self.config.analyse_every;
        every > 0 && (step.is_multiple_of(every) || step >= self.config.steps)
    }

    /// The learning rate of step `step` (0-based): Nanda et al.'s linear warm-up,
    /// `lr · min(step / warmup, 1)`.
    fn lr_at(&self, lr: f64, step: u32) -> f64 {
        match self.config.warmup {
            0 => lr,
            w => lr * (f64::from(step) / f64::from(w)).min(1.0),
        }
    }

    /// One full-batch AdamW step of every unfinished run (with the Grokfast filter when on).
    /// On WebGPU it queues work and reads nothing; on the CPU backend the MLP's step reads its
    /// weights (a copy; the future is ready at once).
    pub async fn train_step(&mut self) {
        for i in 0..self.runs.len() {
            if self.runs[i].step < self.config.steps {
                self.train_run(i).await;
            }
        }
        // Forks are validated when they are asked for; one that still fails is skipped.
        let _ = self.fork_due();
    }

    /// Start the pending forks due at the first run's step, from its state now.
    fn fork_due(&mut self) -> Result<(), GrokError> {
        let step = self.runs[0].step;
        while self.pending.first().is_some_and(|f| f.step <= step) {
            let spec = self.pending.remove(0);
            let base = &self.runs[0];
            let state = Checkpoint {
                step,
                model: base.model().clone(),
                optim: base.optim.clone(),
                ema: base.ema.clone(),
            };
            self.start_fork(0, &state, spec.changes)?;
        }
        Ok(())
    }

    async fn train_run(&mut self, i: usize) {
        let lr = self.lr_at(self.runs[i].hyper.lr, self.runs[i].step);
        let on_host = self.fused && self.use_host && self.pairs.a.device() == Device::flex();
        let host_grads = match self.runs[i].model() {
            GrokModel::Mlp(m) if on_host => {
                let mask = self.host_mask.as_deref();
                host_mlp_grads(m, &self.pairs, mask, self.config.loss, &mut self.scratch).await
            }
            GrokModel::Transformer(t) if on_host => {
                let mask = self.host_mask.as_deref();
                let scratch = &mut self.scratch.transformer;
                host_transformer_grads(t, &self.pairs, mask, self.config.loss, scratch).await
            }
            _ => None,
        };
        // Both models' gradients in closed form (unless the autodiff path is asked for).
        let grads = match (host_grads, self.runs[i].model()) {
            (Some(grads), _) => grads,
            (None, model) if self.fused => {
                let mask = self.mask.clone().map(|m| m.inner());
                match model {
                    GrokModel::Mlp(m) => {
                        let (g_in, g_out) = m.grads(&self.pairs, mask, self.config.loss);
                        let mut grads = GradientsParams::new();
                        grads.register(m.w_in.id, g_in);
                        grads.register(m.w_out.id, g_out);
                        grads
                    }
                    GrokModel::Transformer(t) => {
                        t.grads(&self.pairs, mask, self.config.loss).params(t)
                    }
                }
            }
            (None, model) => {
                let (a, b, y) = (
                    self.train.a.clone(),
                    self.train.b.clone(),
                    self.train.y.clone(),
                );
                let loss = mean_loss(
                    self.config.loss,
                    model.forward_masked(a, b, self.mask.clone()),
                    y,
                );
                match model {
                    GrokModel::Mlp(m) => GradientsParams::from_grads(loss.backward(), m),
                    GrokModel::Transformer(t) => GradientsParams::from_grads(loss.backward(), t),
                }
            }
        };
        let run = &mut self.runs[i];
        let hyper = run.hyper;
        // Each arm is the same step for a different module type.
        macro_rules! step {
            ($m:expr) => {{
                let mut grads = grads;
                if hyper.grokfast {
                    $m.visit(&mut Grokfast {
                        grads: &mut grads,
                        ema: &mut run.ema,
                        alpha: hyper.alpha,
                        lambda: hyper.lambda,
                    });
                }
                let decay = lr * hyper.weight_decay;
                let m = if decay > 0.0 {
                    $m.map(&mut Decay {
                        factor: 1.0 - decay,
                    })
                } else {
                    $m
                };
                run.optim.step(lr, m, grads)
            }};
        }
        // The optimiser consumes the module; the slot is refilled before anyone can look.
        let model = run
            .model
            .take()
            .expect("the model slot is only empty inside train_step");
        run.model = Some(match model {
            GrokModel::Mlp(m) => GrokModel::Mlp(step!(m)),
            GrokModel::Transformer(t) => GrokModel::Transformer(step!(t)),
        });
        run.step += 1;
    }

    /// Ablate these hidden neurons (zero their activations) in every run's training and reports
    /// from now on; an empty list restores them.
    pub fn set_ablation(&mut self, neurons: &[u32]) -> Result<(), GrokError> {
        let size = self.model().hidden_size();
        if let Some(&neuron) = neurons.iter().find(|&&i| i as usize >= size) {
            return Err(GrokError::NoSuchNeuron { neuron, size });
        }
        let mut sorted = neurons.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        self.host_mask = (!sorted.is_empty()).then(|| {
            let mut mask = vec![1.0f32; size];
            for &i in &sorted {
                mask[i as usize] = 0.0;
            }
            mask
        });
        self.mask = self.host_mask.as_ref().map(|mask| {
            Tensor::<1>::from_data(
                TensorData::new(mask.clone(), [size]),
                &self.train.a.device(),
            )
        });
        self.ablated = sorted;
        Ok(())
    }

    /// The ablated hidden neurons, sorted.
    pub fn ablated(&self) -> &[u32] {
        &self.ablated
    }

    /// The hidden neurons of the first run whose input over `a` has its largest Fourier power at
    /// frequency `k` (1 ≤ k ≤ (p−1)/2): the neurons that carry that frequency.
    pub async fn neurons_of_frequency(&self, k: u32) -> Result<Vec<u32>, GrokError> {
        let p = self.config.p;
        let max = (p - 1) / 2;
        if k == 0 || k > max {
            return Err(GrokError::NoSuchFrequency { k, max, p });
        }
        let model = self.model();
        let size = model.hidden_size();
        let inputs = model.neuron_inputs_over_a(); // [p, H]
        let values = read_f32(inputs.reshape([p as usize * size])).await?;
        Ok(dominant_frequencies(&values, p as usize, size)
            .into_iter()
            .enumerate()
            .filter(|&(_, f)| f == k)
            .map(|(h, _)| h as u32)
            .collect())
    }

    /// The first run's loss, accuracy (train and test) and weight norm, read back in one
    /// transfer.
    pub async fn metrics(&self) -> Result<StepReport, GrokError> {
        self.metrics_of(0).await
    }

    async fn metrics_of(&self, run: u32) -> Result<StepReport, GrokError> {
        let r = self.run(run)?;
        let model = valid(r.model());
        let metrics = |batch: &Batch| {
            let batch = batch.inner();
            let mask = self.mask.clone().map(|m| m.inner());
            let logits = model.forward_masked(batch.a, batch.b, mask);
            let correct = logits
                .clone()
                .argmax(1)
                .squeeze_dim::<1>(1)
                .equal(batch.y.clone())
                .float()
                .mean();
            (mean_loss(self.config.loss, logits, batch.y), correct)
        };
        let (train_loss, train_acc) = metrics(&self.train);
        let (test_loss, test_acc) = metrics(&self.test);
        let norm = squared_norm(&model).sqrt();
        let all = Tensor::cat(vec![train_loss, test_loss, train_acc, test_acc, norm], 0);
        let values = read_f32(all).await?;
        Ok(StepReport {
            step: r.step,
            train_loss: values[0],
            test_loss: values[1],
            train_acc: values[2],
            test_acc: values[3],
            weight_norm: values[4],
            run,
        })
    }

    /// The weight norm of the first run alone: one number read back (waits for the device).
    pub async fn weight_norm(&self) -> Result<f32, GrokError> {
        let norm = squared_norm(&valid(self.model())).sqrt();
        Ok(read_f32(norm).await?.first().copied().unwrap_or(0.0))
    }

    /// The mechanism of a model (a run's now, or a checkpoint's): spectra, neurons, progress
    /// measures, how far it moved. A few readbacks.
    async fn analyse(
        &mut self,
        model: &GrokModel,
        run: u32,
        step: u32,
    ) -> Result<(Analysis, Vec<f32>), GrokError> {
        let p = self.config.p as usize;
        let model = valid(model);
        let (emb_a, emb_b) = model.embeddings();
        let d = emb_a.dims()[1];
        let spectrum = analysis::spectrum(&read2(emb_a).await?, p, d);
        let spectrum_b = match emb_b {
            Some(e) => {
                let h = e.dims()[1];
                Some(analysis::spectrum(&read2(e).await?, p, h))
            }
            None => None,
        };
        let mut power = spectrum.power();
        if let Some(b) = &spectrum_b {
            power.iter_mut().zip(b.power()).for_each(|(x, y)| *x += y);
        }
        let key_freqs = analysis::key_frequencies(&power);
        let inputs = model.neuron_inputs_over_a();
        let h = inputs.dims()[1];
        let (neuron_powers, neurons) = analysis::neuron_fourier(&read2(inputs).await?, p, h);
        let all = self.all.inner();
        let (logit_freqs, restricted_loss, excluded_loss) = self.progress(&model).await?;
        let (weight_change, cka) = match &self.initial {
            Some(init) => {
                let mut named = NamedParams::default();
                model.visit_params(&mut named);
                let mut parts = Vec::new();
                let mut layers = Vec::new();
                for (name, _, now) in named.tensors {
                    if let Some((_, w0)) = init.params.iter().find(|(n, _)| *n == name) {
                        parts.push((now - w0.clone()).square().sum().sqrt());
                        parts.push(w0.clone().square().sum().sqrt());
                        layers.push(name);
                    }
                }
                let hidden = centred(model.hidden(
                    all.a.clone().select(0, init.pairs.clone()),
                    all.b.clone().select(0, init.pairs.clone()),
                ));
                parts.push(fro2(init.hidden.clone().transpose().matmul(hidden.clone())));
                parts.push(init.self_similarity.clone());
                parts.push(fro2(hidden.clone().transpose().matmul(hidden)));
                let v = read_f32(Tensor::cat(parts, 0)).await?;
                let changes = layers
                    .into_iter()
                    .enumerate()
                    .map(|(i, layer)| LayerChange {
                        layer,
                        relative: v[2 * i] / v[2 * i + 1].max(1e-12),
                    })
                    .collect::<Vec<_>>();
                let c = &v[2 * changes.len()..];
                let cka = c[0] / (c[1] * c[2]).sqrt().max(1e-30);
                (changes, Some(cka))
            }
            None => (Vec::new(), None),
        };
        let r = self.run(run)?;
        Ok((
            Analysis {
                step,
                run,
                key_power_frac: analysis::power_fraction(&power, &key_freqs),
                gini: analysis::gini(&power),
                key_freqs,
                spectrum,
                spectrum_b,
                neuron_powers: analysis::power_shares_u8(&neuron_powers, (p - 1) / 2),
                neurons,
                logit_freqs,
                restricted_loss,
                excluded_loss,
                weight_change,
                cka,
                checkpoints: r.checkpoints.iter().map(|c| c.step).collect(),
                checkpoint_bytes: self.checkpoint_bytes(),
            },
            neuron_powers,
        ))
    }

    /// Nanda et al.'s restricted and excluded losses of `model` (without autodiff), as in
    /// [`analysis::progress_losses`] but on the device: the logits' Fourier coefficients for
    /// every frequency, the key ones among them ([`analysis::logit_key_frequencies`]), their
    /// part of the logits kept or removed. `2·(p−1)/2` numbers and two losses come back. Empty
    /// for multiplication and above [`PROGRESS_P_MAX`].
    async fn progress(
        &mut self,
        model: &GrokModel,
    ) -> Result<(Vec<u32>, Option<f32>, Option<f32>), GrokError> {
        let (p, op) = (self.config.p as usize, self.config.op);
        if self.config.p > PROGRESS_P_MAX || op == crate::config::Op::Mul {
            return Ok((Vec::new(), None, None));
        }
        let half = (p - 1) / 2;
        let all = self.all.inner();
        let device = all.a.device();
        if self.fourier.is_none() {
            let every: Vec<u32> = (1..=half as u32).collect();
            let pairs = analysis::pair_basis(p, op, &every).unwrap_or_default();
            self.fourier = Some(Fourier {
                outputs: Tensor::from_data(
                    TensorData::new(analysis::output_basis(p, &every), [p, 2 * half]),
                    &device,
                ),
                pairs: Tensor::from_data(TensorData::new(pairs, [p * p, 2 * half]), &device),
                train: Tensor::from_data(
                    TensorData::new(
                        self.train_pairs
                            .iter()
                            .map(|&i| i as i32)
                            .collect::<Vec<_>>(),
                        [self.train_pairs.len()],
                    ),
                    &device,
                ),
            });
        }
        let Some(f) = &self.fourier else {
            return Ok((Vec::new(), None, None));
        };
        let mask = self.mask.clone().map(|m| m.inner());
        let logits = model.forward_masked(all.a, all.b, mask); // [p², p]
        let projected = logits.clone().matmul(f.outputs.clone()); // [p², 2K]
        let part = |t: &Tensor<2>, i: usize| t.clone().narrow(1, i * half, half);
        let (lc, ls) = (part(&projected, 0), part(&projected, 1));
        let (tc, ts) = (part(&f.pairs, 0), part(&f.pairs, 1));
        // cos(θ − φ) = cosθ cosφ + sinθ sinφ; sin(θ − φ) = sinθ cosφ − cosθ sinφ.
        let c = (tc.clone() * lc.clone() + ts.clone() * ls.clone()).sum_dim(0);
        let s = (ts.clone() * lc - tc.clone() * ls).sum_dim(0);
        let half_cube = (p * p * p) as f64 / 2.0;
        let cs = read2(Tensor::cat(vec![c.clone(), s.clone()], 1).div_scalar(half_cube)).await?;
        let coefs: Vec<(f64, f64)> = (0..half)
            .map(|k| (f64::from(cs[k]), f64::from(cs[half + k])))
            .collect();
        let keys = analysis::logit_key_frequencies(&coefs);
        if keys.is_empty() {
            return Ok((keys, None, None));
        }
        // The key part of the logits: Σ_k cosφ·(C cosθ + S sinθ) + sinφ·(C sinθ − S cosθ).
        let index: Vec<i32> = keys.iter().map(|&k| k as i32 - 1).collect();
        let nk = index.len();
        let index = Tensor::<1, Int>::from_data(TensorData::new(index, [nk]), &device);
        let pick = |t: Tensor<2>| t.select(1, index.clone());
        let (c, s) = (pick(c.div_scalar(half_cube)), pick(s.div_scalar(half_cube))); // [1, nk]
        let (tc, ts) = (pick(tc), pick(ts)); // [p², nk]
        let rows_c = tc.clone() * c.clone() + ts.clone() * s.clone();
        let rows_s = ts * c - tc * s;
        let outputs_c = pick(part(&f.outputs, 0)); // [p, nk]
        let outputs_s = pick(part(&f.outputs, 1));
        let key_part = rows_c.matmul(outputs_c.transpose()) + rows_s.matmul(outputs_s.transpose()); // [p², p]
        let ce = |l: Tensor<2>, y: Tensor<1, Int>| {
            log_softmax(l, 1)
                .gather(1, y.unsqueeze_dim::<2>(1))
                .mean()
                .neg()
        };
        let restricted = ce(key_part.clone(), self.all.y.clone().inner());
        let excluded = ce(
            (logits - key_part).select(0, f.train.clone()),
            self.train.y.clone().inner(),
        );
        let v = read_f32(Tensor::cat(vec![restricted, excluded], 0)).await?;
        Ok((keys, v.first().copied(), v.get(1).copied()))
    }

    fn checkpoint_bytes(&self) -> u64 {
        let kept: usize = self.runs.iter().map(|r| r.checkpoints.len()).sum();
        kept as u64 * self.checkpoint_size
    }

    /// Keep a checkpoint of run `i`; thin the fullest run's (every other one, the first and the
    /// last kept) while all of them hold more than [`CHECKPOINT_BYTES`].
    fn keep_checkpoint(&mut self, i: usize) {
        let run = &mut self.runs[i];
        if run.checkpoints.last().is_some_and(|c| c.step == run.step) {
            return;
        }
        run.checkpoints.push(Checkpoint {
            step: run.step,
            model: run.model().clone(),
            optim: run.optim.clone(),
            ema: run.ema.clone(),
        });
        while self.checkpoint_bytes() > CHECKPOINT_BYTES {
            let Some(fullest) =
                (0..self.runs.len()).max_by_key(|&r| self.runs[r].checkpoints.len())
            else {
                break;
            };
            let run = &mut self.runs[fullest];
            if run.checkpoints.len() <= 2 {
                break;
            }
            let last = run.checkpoints.len() - 1;
            let mut index = 0;
            run.checkpoints.retain(|_| {
                let keep = index % 2 == 0 || index == last;
                index += 1;
                keep
            });
            let kept: Vec<u32> = run.checkpoints.iter().map(|c| c.step).collect();
            run.history.retain(|(s, _)| kept.contains(s));
        }
    }

    /// The report of run `i` now: metrics, and at analysis steps the mechanism (and a
    /// checkpoint).
    async fn report_of(&mut self, i: usize) -> Result<GrokReport, GrokError> {
        let metrics = self.metrics_of(i as u32).await?;
        let step = self.runs[i].step;
        let analysis = if self.is_analysis_step(step) {
            self.keep_checkpoint(i);
            let model = self.runs[i].model().clone();
            let (analysis, powers) = self.analyse(&model, i as u32, step).await?;
            let run = &mut self.runs[i];
            if !run.history.iter().any(|(s, _)| *s == step) {
                run.history.push((step, powers));
            }
            Some(Box::new(analysis))
        } else {
            None
        };
        let run = &mut self.runs[i];
        let label = (!run.announced).then(|| run.label.clone());
        run.announced = true;
        Ok(GrokReport {
            metrics,
            analysis,
            label,
        })
    }

    /// The weights and hidden representation at step 0 (queued work, nothing read back).
    fn initial_state(&self) -> Initial {
        let model = valid(self.model());
        let mut named = NamedParams::default();
        model.visit_params(&mut named);
        let all = self.all.inner();
        let n = self.config.n_pairs();
        let stride = n.div_ceil(CKA_PAIRS);
        let index: Vec<i32> = (0..n).step_by(stride).map(|i| i as i32).collect();
        let count = index.len();
        let pairs = Tensor::<1, Int>::from_data(TensorData::new(index, [count]), &all.a.device());
        let hidden = centred(model.hidden(
            all.a.select(0, pairs.clone()),
            all.b.select(0, pairs.clone()),
        ));
        Initial {
            params: named
                .tensors
                .into_iter()
                .map(|(name, _, t)| (name, t))
                .collect(),
            self_similarity: fro2(hidden.clone().transpose().matmul(hidden.clone())),
            hidden,
            pairs,
        }
    }

    fn checkpoint(&self, run: u32, step: u32) -> Result<&Checkpoint, GrokError> {
        let r = self.run(run)?;
        r.checkpoints
            .iter()
            .min_by_key(|c| c.step.abs_diff(step))
            .ok_or(GrokError::NoCheckpoint { run })
    }

    /// Fork `run` at `step`: from its kept checkpoint nearest to it, or, for a step the first
    /// run has not reached, when it gets there.
    fn fork(&mut self, run: u32, step: u32, changes: ForkChanges) -> Result<GrokAnswer, GrokError> {
        changes.check().map_err(GrokError::BadFork)?;
        if self.runs.len() + self.pending.len() >= MAX_RUNS {
            return Err(GrokError::TooManyRuns);
        }
        self.fork_fits()?;
        if run == 0 && step > self.runs[0].step {
            let at = self.pending.partition_point(|f| f.step <= step);
            self.pending.insert(at, ForkSpec { step, changes });
            return Ok(GrokAnswer::ForkQueued { step });
        }
        // A fork replays from its link only from the very step it names.
        let cp = self.checkpoint(run, step)?;
        if cp.step != step {
            return Err(GrokError::NoCheckpointAt {
                run,
                step,
                nearest: cp.step,
            });
        }
        let state = Checkpoint {
            step: cp.step,
            model: cp.model.clone(),
            optim: cp.optim.clone(),
            ema: cp.ema.clone(),
        };
        let (index, label) = self.start_fork(run, &state, changes)?;
        Ok(GrokAnswer::Forked {
            run: index,
            from_step: state.step,
            label,
        })
    }

    /// One more run must fit the memory budget.
    fn fork_fits(&self) -> Result<(), GrokError> {
        let mut more = self.config.clone();
        more.forks = vec![ForkSpec::default(); self.runs.len() + self.pending.len()];
        neurolab_base::budget::check(&more.estimate())
            .map_err(|e| GrokError::BadFork(format!("one more run does not fit: {e}")))
    }

    /// A new run from `state` of run `run` with `changes`: its index and label.
    fn start_fork(
        &mut self,
        run: u32,
        state: &Checkpoint,
        changes: ForkChanges,
    ) -> Result<(u32, String), GrokError> {
        if self.runs.len() >= MAX_RUNS {
            return Err(GrokError::TooManyRuns);
        }
        let base = self.run(run)?;
        let mut hyper = base.hyper;
        hyper.lr = changes.lr.unwrap_or(hyper.lr);
        hyper.weight_decay = changes.weight_decay.unwrap_or(hyper.weight_decay);
        hyper.grokfast = changes.grokfast.unwrap_or(hyper.grokfast);
        hyper.alpha = changes.grokfast_alpha.unwrap_or(hyper.alpha);
        hyper.lambda = changes.grokfast_lambda.unwrap_or(hyper.lambda);
        let index = self.runs.len() as u32;
        let what = changes.describe();
        let label = format!(
            "run {} (run {} at step {}{}{what})",
            index + 1,
            run + 1,
            state.step,
            if what.is_empty() { "" } else { ": " },
        );
        self.runs.push(Run {
            label: label.clone(),
            hyper,
            model: Some(state.model.clone()),
            // The Adam moments carry over; the learning rate and decay are the fork's own.
            optim: state.optim.clone(),
            ema: if hyper.grokfast {
                state.ema.clone()
            } else {
                HashMap::new()
            },
            step: state.step,
            checkpoints: Vec::new(),
            history: Vec::new(),
            announced: false,
        });
        Ok((index, label))
    }

    fn race(&self, run: u32, neuron: u32) -> Result<GrokAnswer, GrokError> {
        let r = self.run(run)?;
        let size = r.model().hidden_size();
        if neuron as usize >= size {
            return Err(GrokError::NoSuchNeuron { neuron, size });
        }
        let half = (self.config.p as usize - 1) / 2;
        let n = neuron as usize;
        let steps: Vec<u32> = r.history.iter().map(|(s, _)| *s).collect();
        // The neuron's strongest frequencies at its last analysed step.
        let mut freqs: Vec<usize> = (0..half).collect();
        if let Some((_, last)) = r.history.last() {
            freqs.sort_by(|&x, &y| last[n * half + y].total_cmp(&last[n * half + x]));
        }
        freqs.truncate(RACE_FREQS);
        let powers = freqs
            .iter()
            .map(|&f| {
                r.history
                    .iter()
                    .map(|(_, p)| {
                        let total: f32 = p[n * half..(n + 1) * half].iter().sum();
                        p[n * half + f] / total.max(1e-30)
                    })
                    .collect()
            })
            .collect();
        Ok(GrokAnswer::Race {
            run,
            neuron,
            steps,
            freqs: freqs.into_iter().map(|f| f as u32 + 1).collect(),
            powers,
        })
    }

    /// The run labels, in order.
    pub fn labels(&self) -> Vec<String> {
        self.runs.iter().map(|r| r.label.clone()).collect()
    }

    /// The first run's weights as a `.safetensors` file: f32 tensors named by field (`w_in`,
    /// `w_out` for the MLP; `w_e`, `w_pos`, `w_q`, `w_k`, `w_v`, `w_o`, `w_in`, `b_in`, `w_out`,
    /// `b_out`, `w_u` for the transformer), shapes as documented on the models, plus metadata
    /// with the config.
    pub async fn safetensors(&self) -> Result<Vec<u8>, GrokError> {
        safetensors_of(self.model(), self.step_count(), &self.config).await
    }

    /// The steps whose checkpoints run `run` keeps now (empty for a run that does not exist).
    pub fn checkpoint_steps(&self, run: u32) -> Vec<u32> {
        self.run(run)
            .map(|r| r.checkpoints.iter().map(|c| c.step).collect())
            .unwrap_or_default()
    }

    /// The weights of `run`'s checkpoint nearest to `step` as a `.safetensors` file (as
    /// [`Self::safetensors`]), and its step.
    pub async fn checkpoint_file(&self, run: u32, step: u32) -> Result<(u32, Vec<u8>), GrokError> {
        let cp = self.checkpoint(run, step)?;
        Ok((
            cp.step,
            safetensors_of(&cp.model, cp.step, &self.config).await?,
        ))
    }
}

/// A model without autodiff.
fn valid(model: &GrokModel) -> GrokModel {
    match model {
        GrokModel::Mlp(m) => GrokModel::Mlp(m.valid()),
        GrokModel::Transformer(t) => GrokModel::Transformer(t.valid()),
    }
}

fn squared_norm(model: &GrokModel) -> Tensor<1> {
    let mut norm = SquaredNorm::default();
    model.visit_params(&mut norm);
    norm.total
        .unwrap_or_else(|| Tensor::zeros([1], &Default::default()))
}

/// Columns minus their means (linear CKA compares centred representations).
fn centred(m: Tensor<2>) -> Tensor<2> {
    m.clone() - m.mean_dim(0)
}

/// The squared Frobenius norm. Linear CKA is ‖X0ᵀX‖²_F / (‖X0ᵀX0‖_F ‖XᵀX‖_F).
fn fro2(m: Tensor<2>) -> Tensor<1> {
    m.square().sum()
}

async fn safetensors_of(
    model: &GrokModel,
    step: u32,
    config: &GrokConfig,
) -> Result<Vec<u8>, GrokError> {
    let mut named = NamedParams::default();
    valid(model).visit_params(&mut named);
    let mut owned: Vec<(String, Vec<usize>, Vec<f32>)> = Vec::new();
    for (name, shape, tensor) in named.tensors {
        owned.push((name, shape, read_f32(tensor).await?));
    }
    let config = serde_json::to_string(config).map_err(|e| GrokError::Export(e.to_string()))?;
    neurolab_base::tensors::safetensors_f32(
        owned
            .iter()
            .map(|(n, s, v)| (n.as_str(), s.as_slice(), v.as_slice())),
        &[
            ("format", "neurolab-grok".to_string()),
            ("step", step.to_string()),
            ("config", config),
        ],
    )
    .map_err(GrokError::Export)
}

impl Session for GrokSession {
    type Lab = GrokLab;
    type Error = GrokError;

    /// Where the slowest unfinished run is.
    fn position(&self) -> Position {
        let step = self
            .runs
            .iter()
            .map(|r| r.step)
            .filter(|&s| s < self.config.steps)
            .min()
            .unwrap_or(self.config.steps);
        Position::steps(step, self.config.steps)
    }

    fn summary(&self) -> GrokSummary {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        GrokSummary {
            n_train: count(self.n_train()),
            n_test: count(self.n_test()),
            n_params: count(self.n_params()),
        }
    }

    /// Train every unfinished run up to `chunk.units` steps, reporting at report steps and
    /// analysing at analysis steps; a report that is not finite ends the chunk as diverged.
    async fn advance(&mut self, chunk: Chunk) -> Result<Advance<GrokReport>, GrokError> {
        let mut out = Advance::default();
        let mut synced = false;
        for _ in 0..chunk.units {
            if self.finished() {
                break;
            }
            self.train_step().await;
            synced = false;
            for i in 0..self.runs.len() {
                let step = self.runs[i].step;
                let just_trained = step > 0 && step <= self.config.steps;
                if !just_trained || !self.is_report_step(step) {
                    continue;
                }
                // Finished runs report once, at their last step.
                if out
                    .reports
                    .iter()
                    .any(|r: &GrokReport| r.metrics.run == i as u32 && r.metrics.step == step)
                {
                    continue;
                }
                let report = self.report_of(i).await?;
                synced = true;
                if out.push_checked(report, |_| {
                    format!(
                        "the loss or the weights became NaN/Inf by step {step} (try a lower learning rate)"
                    )
                }) {
                    return Ok(out);
                }
            }
        }
        if chunk.sync && !synced {
            // A read is the only way to wait for the GPU in the browser; the norm is one number.
            let norm = self.weight_norm().await?;
            if !norm.is_finite() {
                out.diverged = Some(format!(
                    "the weights became NaN/Inf by step {} (try a lower learning rate)",
                    self.step_count()
                ));
            }
        }
        Ok(out)
    }

    /// Every run's report now (the first run's at step 0 includes its analysis).
    async fn report(&mut self) -> Result<Option<GrokReport>, GrokError> {
        Ok(Some(self.report_of(0).await?))
    }

    async fn apply(&mut self, control: GrokControl) -> Result<GrokAnswer, GrokError> {
        let (neurons, what) = match control {
            GrokControl::Ablate { neurons } => {
                let what = if neurons.is_empty() {
                    "all neurons restored".to_string()
                } else {
                    format!("{} neurons ablated", neurons.len())
                };
                (neurons, what)
            }
            GrokControl::AblateFrequency { k } => {
                let neurons = self.neurons_of_frequency(k).await?;
                let what = format!("frequency {k}: {} neurons ablated", neurons.len());
                (neurons, what)
            }
            GrokControl::Race { run, neuron } => return self.race(run, neuron),
            GrokControl::Checkpoint { run, step } => {
                let cp = self.checkpoint(run, step)?;
                let (model, at) = (cp.model.clone(), cp.step);
                let (analysis, _) = self.analyse(&model, run, at).await?;
                return Ok(GrokAnswer::Snapshot {
                    analysis: Box::new(analysis),
                });
            }
            GrokControl::Fork { run, step, changes } => return self.fork(run, step, changes),
        };
        self.set_ablation(&neurons)?;
        Ok(GrokAnswer::Ablated {
            ablated: self.ablated.clone(),
            what,
        })
    }

    async fn export(&mut self, what: &str) -> Result<ExportFile, GrokError> {
        if what != "weights" {
            return Err(GrokError::UnknownExport(what.to_string()));
        }
        let c = &self.config;
        let file_name = format!(
            "neurolab-grok-{}-p{}-{}-step{}.safetensors",
            c.model.name(),
            c.p,
            c.op.name(),
            self.step_count()
        );
        Ok(ExportFile {
            file_name,
            mime: "application/octet-stream".into(),
            bytes: self.safetensors().await?,
        })
    }
}

/// Each column's dominant Fourier frequency (1..=(p−1)/2) of a row-major `[p, size]` matrix.
pub fn dominant_frequencies(values: &[f32], p: usize, size: usize) -> Vec<u32> {
    analysis::neuron_fourier(values, p, size)
        .1
        .into_iter()
        .map(|n: NeuronFourier| n.freq)
        .collect()
}

/// The MLP's gradients by [`host::mlp_grads`], as the optimiser takes them: reads the weights
/// (on the CPU backend a copy) and uploads the two gradients. `None` if a read fails (the caller
/// then takes burn's closed form).
async fn host_mlp_grads(
    m: &Mlp,
    pairs: &Pairs,
    mask: Option<&[f32]>,
    loss: crate::config::LossKind,
    scratch: &mut host::Scratch,
) -> Option<GradientsParams> {
    let w_in = m.w_in.val().inner();
    let w_out = m.w_out.val().inner();
    let device = w_in.device();
    let ([rows, h], [_, p]) = (w_in.dims(), w_out.dims());
    let inputs = host::MlpInputs {
        w_in: &read2(w_in).await.ok()?,
        w_out: &read2(w_out).await.ok()?,
        mask,
        quadratic: m.quadratic,
        loss,
    };
    let (g_in, g_out) = host::mlp_grads(&inputs, &pairs.host, scratch);
    let mut grads = GradientsParams::new();
    grads.register(
        m.w_in.id,
        Tensor::<2>::from_data(TensorData::new(g_in, [rows, h]), &device),
    );
    grads.register(
        m.w_out.id,
        Tensor::<2>::from_data(TensorData::new(g_out, [h, p]), &device),
    );
    Some(grads)
}

/// The transformer's gradients by [`host::transformer::grads`], as the optimiser takes them
/// (as [`host_mlp_grads`]).
async fn host_transformer_grads(
    t: &Transformer,
    pairs: &Pairs,
    mask: Option<&[f32]>,
    loss: crate::config::LossKind,
    scratch: &mut host::transformer::Scratch,
) -> Option<GradientsParams> {
    let two = |x: &Param<Tensor<2>>| x.val().inner();
    let one = |x: &Param<Tensor<1>>| x.val().inner();
    let device = t.w_e.val().device();
    let inputs = host::transformer::Inputs {
        w_e: &read2(two(&t.w_e)).await.ok()?,
        w_pos: &read2(two(&t.w_pos)).await.ok()?,
        w_q: &read2(two(&t.w_q)).await.ok()?,
        w_k: &read2(two(&t.w_k)).await.ok()?,
        w_v: &read2(two(&t.w_v)).await.ok()?,
        w_o: &read2(two(&t.w_o)).await.ok()?,
        w_in: &read2(two(&t.w_in)).await.ok()?,
        b_in: &read_f32(one(&t.b_in)).await.ok()?,
        w_out: &read2(two(&t.w_out)).await.ok()?,
        b_out: &read_f32(one(&t.b_out)).await.ok()?,
        w_u: &read2(two(&t.w_u)).await.ok()?,
        heads: t.n_heads,
        mask,
        loss,
    };
    let g = host::transformer::grads(&inputs, &pairs.host, scratch);
    let up2 = |v: Vec<f32>, x: &Param<Tensor<2>>| {
        Tensor::<2>::from_data(TensorData::new(v, x.val().dims()), &device)
    };
    let up1 = |v: Vec<f32>| {
        let n = v.len();
        Tensor::<1>::from_data(TensorData::new(v, [n]), &device)
    };
    let grads = TransformerGrads {
        w_e: up2(g.w_e, &t.w_e),
        w_pos: up2(g.w_pos, &t.w_pos),
        w_q: up2(g.w_q, &t.w_q),
        w_k: up2(g.w_k, &t.w_k),
        w_v: up2(g.w_v, &t.w_v),
        w_o: up2(g.w_o, &t.w_o),
        w_in: up2(g.w_in, &t.w_in),
        b_in: up1(g.b_in),
        w_out: up2(g.w_out, &t.w_out),
        b_out: up1(g.b_out),
        w_u: up2(g.w_u, &t.w_u),
    };
    Some(grads.params(t))
}

/// A 2-D tensor read back as row-major values.
async fn read2(t: Tensor<2>) -> Result<Vec<f32>, GrokError> {
    let n: usize = t.dims().iter().product();
    read_f32(t.reshape([n])).await
}

/// The one way this session reads a device tensor: asynchronously (sync reads panic in wasm).
async fn read_f32(tensor: Tensor<1>) -> Result<Vec<f32>, GrokError> {
    tensor
        .into_data_async()
        .await
        .map_err(|e| GrokError::Readback(format!("{e:?}")))?
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| GrokError::Readback(format!("{e:?}")))
}
