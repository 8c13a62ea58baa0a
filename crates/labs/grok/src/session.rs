//! A grokking training session: owns the model, optimiser state and data tensors.
//!
//! `train_step` queues one full-batch AdamW step and reads nothing back; `metrics` is the only
//! readback and is async (sync reads panic in the browser). Same code natively and in wasm.
//! As a [`Session`], it trains in chunks, reports at report steps, stops on a NaN/Inf and
//! answers ablation controls.

use super::data::Dataset;
use super::model::{GrokModel, Mlp, Transformer};
use super::params::{Grokfast, NamedParams, SquaredNorm};
use crate::config::{GrokConfig, LossKind, ModelKind};
use crate::control::{GrokAnswer, GrokControl};
use crate::report::{GrokSummary, StepReport};
use crate::GrokLab;
use burn::module::{Module, ParamId};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use neurolab_base::lab::{Advance, Chunk, ExportFile};
use neurolab_base::{ConfigError, Finite as _, LabConfig as _, Position, Session};
use std::collections::HashMap;
use thiserror::Error;

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

pub struct GrokSession {
    config: GrokConfig,
    /// Always `Some` outside `train_step`.
    model: Option<GrokModel>,
    optim: ModuleOptimizer,
    train: Batch,
    test: Batch,
    step: u32,
    ema: HashMap<ParamId, Tensor<1>>,
    /// Ablated hidden neurons (sorted) and their mask (`None` when nothing is ablated).
    ablated: Vec<u32>,
    mask: Option<Tensor<1>>,
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
        let optim = AdamWConfig::new()
            .with_beta_1(config.beta1 as f32)
            .with_beta_2(config.beta2 as f32)
            .with_epsilon(1e-8)
            .with_weight_decay(config.weight_decay as f32)
            .init();
        Ok(Self {
            train: Batch::new(&data, &data.train, &device),
            test: Batch::new(&data, &data.test, &device),
            config,
            model: Some(model),
            optim,
            step: 0,
            ema: HashMap::new(),
            ablated: Vec::new(),
            mask: None,
        })
    }

    pub fn config(&self) -> &GrokConfig {
        &self.config
    }
    pub fn step_count(&self) -> u32 {
        self.step
    }
    fn is_report_step(&self) -> bool {
        self.step.is_multiple_of(self.config.report_every.max(1)) || self.finished()
    }
    /// The step budget is spent.
    pub fn finished(&self) -> bool {
        self.step >= self.config.steps
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
    pub fn model(&self) -> &GrokModel {
        self.model
            .as_ref()
            .expect("the model slot is only empty inside train_step")
    }

    /// Mean loss of `logits` `[n, p]` against labels `[n]`.
    fn loss(&self, logits: Tensor<2>, y: Tensor<1, Int>) -> Tensor<1> {
        let [n, p] = logits.dims();
        let picked = |t: Tensor<2>| t.gather(1, y.clone().unsqueeze_dim::<2>(1)); // [n, 1]
        match self.config.loss {
            LossKind::Ce => picked(log_softmax(logits, 1)).mean().neg(),
            // Σ_c (l_c − δ_cy)² = Σ_c l_c² − 2·l_y + 1, without materialising the one-hot matrix.
            LossKind::Mse => {
                let sq = logits.clone().square().sum();
                let ly = picked(logits).sum();
                (sq - ly.mul_scalar(2.0))
                    .add_scalar(n as f64)
                    .div_scalar((n * p) as f64)
            }
        }
    }

    /// One full-batch AdamW step (with the Grokfast filter when on). Queues work; reads nothing.
    pub fn train_step(&mut self) {
        let lr = self.config.lr;
        let (a, b, y) = (
            self.train.a.clone(),
            self.train.b.clone(),
            self.train.y.clone(),
        );
        let loss = self.loss(self.model().forward_masked(a, b, self.mask.clone()), y);
        let grads = loss.backward();
        // Each arm is the same step for a different module type.
        macro_rules! step {
            ($m:expr) => {{
                let mut grads = GradientsParams::from_grads(grads, &$m);
                if self.config.grokfast {
                    $m.visit(&mut Grokfast {
                        grads: &mut grads,
                        ema: &mut self.ema,
                        alpha: self.config.grokfast_alpha,
                        lambda: self.config.grokfast_lambda,
                    });
                }
                self.optim.step(lr, $m, grads)
            }};
        }
        // The optimiser consumes the module; the slot is refilled before anyone can look.
        let model = self
            .model
            .take()
            .expect("the model slot is only empty inside train_step");
        self.model = Some(match model {
            GrokModel::Mlp(m) => GrokModel::Mlp(step!(m)),
            GrokModel::Transformer(t) => GrokModel::Transformer(step!(t)),
        });
        self.step += 1;
    }

    /// Ablate these hidden neurons (zero their activations) in training and in reports from now
    /// on; an empty list restores them. Mid-run, the curves show what the neurons carried.
    pub fn set_ablation(&mut self, neurons: &[u32]) -> Result<(), GrokError> {
        let size = self.model().hidden_size();
        if let Some(&neuron) = neurons.iter().find(|&&i| i as usize >= size) {
            return Err(GrokError::NoSuchNeuron { neuron, size });
        }
        let mut sorted = neurons.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        self.mask = (!sorted.is_empty()).then(|| {
            let mut mask = vec![1.0f32; size];
            for &i in &sorted {
                mask[i as usize] = 0.0;
            }
            Tensor::<1>::from_data(TensorData::new(mask, [size]), &self.train.a.device())
        });
        self.ablated = sorted;
        Ok(())
    }

    /// The ablated hidden neurons, sorted.
    pub fn ablated(&self) -> &[u32] {
        &self.ablated
    }

    /// The hidden neurons whose input over `a` has its largest Fourier power at frequency `k`
    /// (1 ≤ k ≤ (p−1)/2): the neurons that carry that frequency (one async readback).
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

    /// Loss, accuracy (train and test) and weight norm, read back in one transfer.
    pub async fn metrics(&self) -> Result<StepReport, GrokError> {
        let model = match self.model() {
            GrokModel::Mlp(m) => GrokModel::Mlp(m.valid()),
            GrokModel::Transformer(t) => GrokModel::Transformer(t.valid()),
        };
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
            (self.loss(logits, batch.y), correct)
        };
        let (train_loss, train_acc) = metrics(&self.train);
        let (test_loss, test_acc) = metrics(&self.test);
        let mut norm = SquaredNorm::default();
        match &model {
            GrokModel::Mlp(m) => m.visit(&mut norm),
            GrokModel::Transformer(t) => t.visit(&mut norm),
        }
        let norm = match norm.total {
            Some(total) => total.sqrt(),
            None => Tensor::zeros([1], &self.train.a.clone().inner().device()),
        };
        let all = Tensor::cat(vec![train_loss, test_loss, train_acc, test_acc, norm], 0);
        let values = read_f32(all).await?;
        Ok(StepReport {
            step: self.step,
            train_loss: values[0],
            test_loss: values[1],
            train_acc: values[2],
            test_acc: values[3],
            weight_norm: values[4],
        })
    }

    /// The weight norm alone: one number read back (waits for the device).
    pub async fn weight_norm(&self) -> Result<f32, GrokError> {
        let mut norm = SquaredNorm::default();
        match self.model() {
            GrokModel::Mlp(m) => m.valid().visit(&mut norm),
            GrokModel::Transformer(t) => t.valid().visit(&mut norm),
        }
        let Some(total) = norm.total else {
            return Ok(0.0);
        };
        Ok(read_f32(total.sqrt())
            .await?
            .first()
            .copied()
            .unwrap_or(0.0))
    }

    /// The weights as a `.safetensors` file: f32 tensors named by field (`w_in`, `w_out` for the
    /// MLP; `w_e`, `w_pos`, `w_q`, `w_k`, `w_v`, `w_o`, `w_in`, `b_in`, `w_out`, `b_out`, `w_u`
    /// for the transformer), shapes as documented on the models, plus metadata with the config.
    pub async fn safetensors(&self) -> Result<Vec<u8>, GrokError> {
        let mut named = NamedParams::default();
        match self.model() {
            GrokModel::Mlp(m) => m.valid().visit(&mut named),
            GrokModel::Transformer(t) => t.valid().visit(&mut named),
        }
        let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (name, shape, tensor) in named.tensors {
            let values = read_f32(tensor).await?;
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            owned.push((name, shape, bytes));
        }
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = owned
            .iter()
            .map(|(name, shape, bytes)| {
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| GrokError::Export(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let metadata: HashMap<String, String> = [
            ("format".to_string(), "neurolab-grok".to_string()),
            ("step".to_string(), self.step.to_string()),
            (
                "config".to_string(),
                serde_json::to_string(&self.config)
                    .map_err(|e| GrokError::Export(e.to_string()))?,
            ),
        ]
        .into();
        safetensors::serialize(views, Some(metadata)).map_err(|e| GrokError::Export(e.to_string()))
    }
}

impl Session for GrokSession {
    type Lab = GrokLab;
    type Error = GrokError;

    fn position(&self) -> Position {
        Position::steps(self.step, self.config.steps)
    }

    fn summary(&self) -> GrokSummary {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        GrokSummary {
            n_train: count(self.n_train()),
            n_test: count(self.n_test()),
            n_params: count(self.n_params()),
        }
    }

    /// Train up to `chunk.units` steps, reporting at report steps; a report that is not finite
    /// ends the chunk as diverged.
    async fn advance(&mut self, chunk: Chunk) -> Result<Advance<StepReport>, GrokError> {
        let mut out = Advance::default();
        let mut synced = false;
        for _ in 0..chunk.units {
            if self.finished() {
                break;
            }
            self.train_step();
            synced = false;
            if self.is_report_step() {
                let report = self.metrics().await?;
                synced = true;
                let finite = report.all_finite();
                out.reports.push(report);
                if !finite {
                    out.diverged = Some(format!(
                        "the loss or the weights became NaN/Inf by step {} (try a lower learning rate)",
                        self.step
                    ));
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
                    self.step
                ));
            }
        }
        Ok(out)
    }

    async fn report(&mut self) -> Result<Option<StepReport>, GrokError> {
        Ok(Some(self.metrics().await?))
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
        };
        self.set_ablation(&neurons)?;
        Ok(GrokAnswer {
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
            self.step
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
    let max = (p - 1) / 2;
    (0..size)
        .map(|h| {
            let mut best = (0.0f64, 1u32);
            for f in 1..=max {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for a in 0..p {
                    let x = f64::from(values[a * size + h]);
                    let angle = std::f64::consts::TAU * (f * a) as f64 / p as f64;
                    re += x * angle.cos();
                    im -= x * angle.sin();
                }
                let power = re * re + im * im;
                if power > best.0 {
                    best = (power, f as u32);
                }
            }
            best.1
        })
        .collect()
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
