//! Elhage et al. (2022)'s toy model of superposition: n sparse features squeezed into m < n
//! hidden dimensions, `h = W x`, `x' = ReLU(Wᵀ W x + b)`, trained with importance-weighted MSE.
//!
//! Because the true feature directions (the columns of W) are known, a decomposition of `h`
//! can be scored against them. Layout here is `x · W` with `w: [n, m]` (row i = feature i's
//! direction in the hidden space, i.e. column i of the paper's W).

use burn::module::{Module, Param};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::relu;
use neurolab_base::rng::SeededRng;

/// RNG streams: weights, training batches, the sampled activations.
const INIT_STREAM: u64 = 31;
const TRAIN_STREAM: u64 = 32;
const SAMPLE_STREAM: u64 = 33;
/// Elhage et al. train the toy models with Adam at this rate.
const TOY_LR: f64 = 1e-3;
const TOY_BATCH: usize = 1024;

#[derive(Module, Debug)]
pub struct ToyModel {
    /// `[n, m]`.
    pub w: Param<Tensor<2>>,
    /// `[n]`.
    pub b: Param<Tensor<1>>,
}

impl ToyModel {
    /// `h = x · w` (`[batch, m]`).
    pub fn hidden(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.w.val())
    }
    /// `x' = ReLU(h · wᵀ + b)` (`[batch, n]`).
    pub fn out_from_hidden(&self, h: Tensor<2>) -> Tensor<2> {
        relu(h.matmul(self.w.val().transpose()) + self.b.val().unsqueeze::<2>())
    }
}

/// Parameters of the toy data distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToySpec {
    pub n: usize,
    pub m: usize,
    pub p_active: f64,
    pub decay: f64,
    pub seed: u64,
}

impl ToySpec {
    /// `count` samples of x: each feature active with probability `p_active`, uniform(0, 1)
    /// value when active.
    pub fn sample_x(&self, rng: &mut SeededRng, count: usize) -> Vec<f32> {
        (0..count * self.n)
            .map(|_| {
                if rng.uniform() < self.p_active {
                    rng.uniform() as f32
                } else {
                    0.0
                }
            })
            .collect()
    }

    pub fn importance(&self) -> Vec<f32> {
        (0..self.n)
            .map(|i| self.decay.powi(i as i32) as f32)
            .collect()
    }
}

/// The toy model in training: Adam on fresh seeded batches, a few steps at a time (the SAE
/// lab's preparation runs in chunks so the worker stays responsive).
pub struct ToyTrainer {
    model: ToyModel,
    optim: ModuleOptimizer,
    importance: Tensor<2>,
    rng: SeededRng,
    spec: ToySpec,
    done: u32,
}

impl ToyTrainer {
    /// The initial model (Xavier-normal like the paper's reference code). `device` is plain.
    pub fn new(spec: &ToySpec, device: &Device) -> Self {
        let ad = device.clone().autodiff();
        let mut rng = SeededRng::new(spec.seed, INIT_STREAM);
        let std = (2.0 / (spec.n + spec.m) as f64).sqrt();
        let w: Vec<f32> = (0..spec.n * spec.m)
            .map(|_| (rng.normal() * std) as f32)
            .collect();
        let model = ToyModel {
            w: Param::from_tensor(Tensor::from_data(TensorData::new(w, [spec.n, spec.m]), &ad)),
            b: Param::from_tensor(Tensor::zeros([spec.n], &ad)),
        };
        let importance = Tensor::<1>::from_data(TensorData::new(spec.importance(), [spec.n]), &ad)
            .unsqueeze::<2>();
        Self {
            model,
            optim: AdamConfig::new().init(),
            importance,
            rng: SeededRng::new(spec.seed, TRAIN_STREAM),
            spec: *spec,
            done: 0,
        }
    }

    /// Steps taken so far.
    pub fn done(&self) -> u32 {
        self.done
    }

    /// `steps` more Adam steps (queued on the device; nothing read back).
    pub fn train(&mut self, steps: u32) {
        let ad = self.importance.device();
        for _ in 0..steps {
            let x = Tensor::<2>::from_data(
                TensorData::new(
                    self.spec.sample_x(&mut self.rng, TOY_BATCH),
                    [TOY_BATCH, self.spec.n],
                ),
                &ad,
            );
            let out = self.model.out_from_hidden(self.model.hidden(x.clone()));
            // Σ_i I_i (x_i − x'_i)², averaged over the batch.
            let loss = ((out - x).square() * self.importance.clone())
                .sum_dim(1)
                .mean();
            let grads = GradientsParams::from_grads(loss.backward(), &self.model);
            self.model = self.optim.step(TOY_LR, self.model.clone(), grads);
            self.done += 1;
        }
    }

    /// Wait for the device: one number read back.
    pub async fn sync(&self) -> Result<(), crate::SaeError> {
        self.model
            .b
            .val()
            .inner()
            .narrow(0, 0, 1)
            .into_data_async()
            .await
            .map(|_| ())
            .map_err(|e| crate::SaeError::Readback(format!("{e:?}")))
    }

    /// The trained model (plain device).
    pub fn finish(self) -> ToyModel {
        self.model.valid()
    }
}

/// Train the toy model for `steps` Adam steps on fresh batches. `device` is a plain device.
pub fn train_toy(spec: &ToySpec, steps: u32, device: &Device) -> ToyModel {
    let mut trainer = ToyTrainer::new(spec, device);
    trainer.train(steps);
    trainer.finish()
}

/// `count` activation samples `h` (`[count, m]`) with the feature values `x` (`[count, n]`)
/// that produced them, from the sampling stream of `spec.seed`.
pub fn sample_hidden(spec: &ToySpec, model: &ToyModel, count: usize) -> (Tensor<2>, Tensor<2>) {
    let device = model.w.val().device();
    let mut rng = SeededRng::new(spec.seed, SAMPLE_STREAM);
    let x = Tensor::<2>::from_data(
        TensorData::new(spec.sample_x(&mut rng, count), [count, spec.n]),
        &device,
    );
    (model.hidden(x.clone()), x)
}
