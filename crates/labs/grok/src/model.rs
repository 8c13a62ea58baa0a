//! The two grokking models, written to compute only what the loss needs.
//!
//! Both take pair columns `a`, `b` (`[batch]` int tensors) and return logits `[batch, p]`.
//! Weight layout is `x · W` (input dimension first); the safetensors export uses the field names.

use crate::config::{Activation, GrokConfig};
use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::{relu, softmax};
use neurolab_base::rng::SeededRng;

/// RNG stream for initial weights.
const INIT_STREAM: u64 = 2;

fn init_normal(
    rng: &mut SeededRng,
    shape: [usize; 2],
    std: f64,
    device: &Device,
) -> Param<Tensor<2>> {
    let data: Vec<f32> = (0..shape[0] * shape[1])
        .map(|_| (rng.normal() * std) as f32)
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(data, shape), device))
}

fn init_uniform(
    rng: &mut SeededRng,
    shape: [usize; 2],
    bound: f64,
    device: &Device,
) -> Param<Tensor<2>> {
    let data: Vec<f32> = (0..shape[0] * shape[1])
        .map(|_| rng.uniform_range(-bound, bound) as f32)
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(data, shape), device))
}

/// A rank-`r` matrix `U·V` (both standard normal) scaled so that its entries have standard
/// deviation `std`, like the full-rank initialisation it replaces.
fn init_low_rank(
    rng: &mut SeededRng,
    shape: [usize; 2],
    r: usize,
    std: f64,
    device: &Device,
) -> Param<Tensor<2>> {
    let [n, m] = shape;
    let u: Vec<f64> = (0..n * r).map(|_| rng.normal()).collect();
    let v: Vec<f64> = (0..r * m).map(|_| rng.normal()).collect();
    let scale = std / (r as f64).sqrt();
    let data: Vec<f32> = (0..n * m)
        .map(|idx| {
            let (i, j) = (idx / m, idx % m);
            let dot: f64 = (0..r).map(|q| u[i * r + q] * v[q * m + j]).sum();
            (dot * scale) as f32
        })
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(data, shape), device))
}

fn zeros(n: usize, device: &Device) -> Param<Tensor<1>> {
    Param::from_tensor(Tensor::zeros([n], device))
}

/// Gromov-style two-layer MLP without biases: one-hot(a) ‖ one-hot(b) → H → p.
///
/// The one-hot input layer is a lookup: `w_in[a] + w_in[p + b]`, the same function and
/// gradients as the dense matmul at a fraction of its cost.
#[derive(Module, Debug)]
pub struct Mlp {
    /// `[2p, H]`: rows 0..p embed `a`, rows p..2p embed `b`.
    pub w_in: Param<Tensor<2>>,
    /// `[H, p]`.
    pub w_out: Param<Tensor<2>>,
    pub p: usize,
    pub quadratic: bool,
}

impl Mlp {
    pub fn new(config: &GrokConfig, device: &Device) -> Self {
        let p = config.p as usize;
        let h = config.hidden as usize;
        let mut rng = SeededRng::new(config.seed, INIT_STREAM);
        // PyTorch's nn.Linear default bound 1/sqrt(fan_in), times the user's init scale.
        let s = config.init_scale;
        let bound = s / ((2 * p) as f64).sqrt();
        let w_in = match config.init_rank {
            // Uniform(−b, b) has standard deviation b/√3.
            0 => init_uniform(&mut rng, [2 * p, h], bound, device),
            r => init_low_rank(
                &mut rng,
                [2 * p, h],
                r as usize,
                bound / 3f64.sqrt(),
                device,
            ),
        };
        Self {
            w_in,
            w_out: init_uniform(&mut rng, [h, p], s / (h as f64).sqrt(), device),
            p,
            quadratic: config.activation == Activation::Quadratic,
        }
    }

    /// Hidden activations `[batch, H]` (after the nonlinearity).
    pub fn hidden(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<2> {
        let w = self.w_in.val();
        let pre = w.clone().select(0, a) + w.select(0, b.add_scalar(self.p as i64)); // [batch, H]
        if self.quadratic {
            pre.square()
        } else {
            relu(pre)
        }
    }

    /// Logits `[batch, p]`.
    pub fn forward(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<2> {
        self.forward_masked(a, b, None)
    }

    /// Logits with the hidden activations multiplied by `mask` `[H]` (0 = ablated).
    pub fn forward_masked(
        &self,
        a: Tensor<1, Int>,
        b: Tensor<1, Int>,
        mask: Option<Tensor<1>>,
    ) -> Tensor<2> {
        let hidden = self.hidden(a, b);
        let hidden = match mask {
            Some(m) => hidden * m.unsqueeze::<2>(),
            None => hidden,
        };
        hidden.matmul(self.w_out.val())
    }
}

/// Nanda et al.'s one-layer transformer on tokens `[a, b, =]`: learned embeddings, causal
/// multi-head attention, a ReLU MLP with biases, no LayerNorm, logits read at `=`.
///
/// Only the `=` position reaches the loss, so only its query, its attention output, its MLP and
/// its unembedding are computed; keys and values of the `p + 1` vocabulary are projected once
/// per step (`w_e · w_k`) and looked up per pair.
#[derive(Module, Debug)]
pub struct Transformer {
    /// `[p + 1, d]` token embedding (token `p` is `=`).
    pub w_e: Param<Tensor<2>>,
    /// `[3, d]` position embedding.
    pub w_pos: Param<Tensor<2>>,
    /// `[d, d]` each; heads are consecutive blocks of `d / n_heads` columns.
    pub w_q: Param<Tensor<2>>,
    pub w_k: Param<Tensor<2>>,
    pub w_v: Param<Tensor<2>>,
    /// `[d, d]` attention output.
    pub w_o: Param<Tensor<2>>,
    /// `[d, d_mlp]`, `[d_mlp]`, `[d_mlp, d]`, `[d]`.
    pub w_in: Param<Tensor<2>>,
    pub b_in: Param<Tensor<1>>,
    pub w_out: Param<Tensor<2>>,
    pub b_out: Param<Tensor<1>>,
    /// `[d, p]` unembedding.
    pub w_u: Param<Tensor<2>>,
    pub p: usize,
    pub n_heads: usize,
}

impl Transformer {
    pub fn new(config: &GrokConfig, device: &Device) -> Self {
        let p = config.p as usize;
        let d = config.d_model as usize;
        let m = config.d_mlp as usize;
        let mut rng = SeededRng::new(config.seed, INIT_STREAM);
        // Nanda's grokking code: randn / sqrt(d_model), unembedding randn / sqrt(d_vocab).
        let s = config.init_scale / (d as f64).sqrt();
        Self {
            w_e: init_normal(&mut rng, [p + 1, d], s, device),
            w_pos: init_normal(&mut rng, [3, d], s, device),
            w_q: init_normal(&mut rng, [d, d], s, device),
            w_k: init_normal(&mut rng, [d, d], s, device),
            w_v: init_normal(&mut rng, [d, d], s, device),
            w_o: init_normal(&mut rng, [d, d], s, device),
            w_in: match config.init_rank {
                0 => init_normal(&mut rng, [d, m], s, device),
                r => init_low_rank(&mut rng, [d, m], r as usize, s, device),
            },
            b_in: zeros(m, device),
            w_out: init_normal(&mut rng, [m, d], s, device),
            b_out: zeros(d, device),
            w_u: init_normal(
                &mut rng,
                [d, p],
                config.init_scale / ((p + 1) as f64).sqrt(),
                device,
            ),
            p,
            n_heads: config.n_heads as usize,
        }
    }

    /// Residual stream at `=` after attention `[batch, d]`, and the MLP's hidden activations
    /// `[batch, d_mlp]`.
    pub fn resid_and_mlp(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> (Tensor<2>, Tensor<2>) {
        let batch = a.dims()[0];
        let [_, d] = self.w_q.val().dims();
        let heads = self.n_heads;
        let dh = d / heads;
        let (w_e, w_pos) = (self.w_e.val(), self.w_pos.val());
        let (w_k, w_v) = (self.w_k.val(), self.w_v.val());

        // The `=` token's residual is the same for every pair: one row.
        let resid_eq = w_e.clone().narrow(0, self.p, 1) + w_pos.clone().narrow(0, 2, 1); // [1, d]
        let q = resid_eq
            .clone()
            .matmul(self.w_q.val())
            .reshape([1, heads, dh]);
        let k_eq = resid_eq.clone().matmul(w_k.clone()).reshape([1, heads, dh]);
        let v_eq = resid_eq.clone().matmul(w_v.clone()).reshape([1, heads, dh]);
        // Project the vocabulary once, then look up a and b.
        let ek = w_e.clone().matmul(w_k.clone()); // [p+1, d]
        let ev = w_e.matmul(w_v.clone());
        let pk = w_pos.clone().matmul(w_k); // [3, d]
        let pv = w_pos.matmul(w_v);
        let k_a = (ek.clone().select(0, a.clone()) + pk.clone().narrow(0, 0, 1))
            .reshape([batch, heads, dh]);
        let k_b = (ek.select(0, b.clone()) + pk.narrow(0, 1, 1)).reshape([batch, heads, dh]);
        let v_a =
            (ev.clone().select(0, a) + pv.clone().narrow(0, 0, 1)).reshape([batch, heads, dh]);
        let v_b = (ev.select(0, b) + pv.narrow(0, 1, 1)).reshape([batch, heads, dh]);

        let scale = 1.0 / (dh as f64).sqrt();
        let s_a = (k_a * q.clone()).sum_dim(2); // [batch, heads, 1]
        let s_b = (k_b * q.clone()).sum_dim(2);
        let s_eq = (k_eq * q).sum_dim(2).repeat_dim(0, batch);
        let attn = softmax(Tensor::cat(vec![s_a, s_b, s_eq], 2).mul_scalar(scale), 2); // [batch, heads, 3]
        let z = attn.clone().narrow(2, 0, 1) * v_a
            + attn.clone().narrow(2, 1, 1) * v_b
            + attn.narrow(2, 2, 1) * v_eq; // [batch, heads, dh]
        let resid = resid_eq + z.reshape([batch, d]).matmul(self.w_o.val()); // [batch, d]
        let hidden = relu(resid.clone().matmul(self.w_in.val()) + self.b_in.val().unsqueeze::<2>());
        (resid, hidden)
    }

    /// Logits `[batch, p]` at `=`.
    pub fn forward(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<2> {
        self.forward_masked(a, b, None)
    }

    /// Logits with the MLP's hidden activations multiplied by `mask` `[d_mlp]` (0 = ablated).
    pub fn forward_masked(
        &self,
        a: Tensor<1, Int>,
        b: Tensor<1, Int>,
        mask: Option<Tensor<1>>,
    ) -> Tensor<2> {
        let (resid, hidden) = self.resid_and_mlp(a, b);
        let hidden = match mask {
            Some(m) => hidden * m.unsqueeze::<2>(),
            None => hidden,
        };
        let resid = resid + hidden.matmul(self.w_out.val()) + self.b_out.val().unsqueeze::<2>();
        resid.matmul(self.w_u.val())
    }
}

/// Either model.
#[derive(Debug, Clone)]
pub enum GrokModel {
    Mlp(Mlp),
    Transformer(Transformer),
}

impl GrokModel {
    pub fn forward(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<2> {
        self.forward_masked(a, b, None)
    }

    /// Logits with the hidden neurons (MLP hidden layer; the transformer's MLP) scaled by `mask`.
    pub fn forward_masked(
        &self,
        a: Tensor<1, Int>,
        b: Tensor<1, Int>,
        mask: Option<Tensor<1>>,
    ) -> Tensor<2> {
        match self {
            GrokModel::Mlp(m) => m.forward_masked(a, b, mask),
            GrokModel::Transformer(t) => t.forward_masked(a, b, mask),
        }
    }

    /// Neurons of the hidden layer that `forward_masked` can ablate.
    pub fn hidden_size(&self) -> usize {
        match self {
            GrokModel::Mlp(m) => m.w_out.val().dims()[0],
            GrokModel::Transformer(t) => t.b_in.val().dims()[0],
        }
    }

    /// Each hidden neuron's input as a function of `a` alone, `[p, H]`: the MLP's `w_in` rows
    /// for `a`; for the transformer, `a`'s embedding along the path that reaches the MLP at `=`,
    /// through the attention's values and output (`W_E · W_V · W_O · W_in`).
    pub fn neuron_inputs_over_a(&self) -> Tensor<2> {
        match self {
            GrokModel::Mlp(m) => m.w_in.val().narrow(0, 0, m.p),
            GrokModel::Transformer(t) => t
                .w_e
                .val()
                .narrow(0, 0, t.p)
                .matmul(t.w_v.val())
                .matmul(t.w_o.val())
                .matmul(t.w_in.val()),
        }
    }

    /// The embeddings the spectrum is taken of: `[p, d]` for `a`, and for the MLP `[p, H]` for
    /// `b` (the transformer embeds both with `W_E`).
    pub fn embeddings(&self) -> (Tensor<2>, Option<Tensor<2>>) {
        match self {
            GrokModel::Mlp(m) => (
                m.w_in.val().narrow(0, 0, m.p),
                Some(m.w_in.val().narrow(0, m.p, m.p)),
            ),
            GrokModel::Transformer(t) => (t.w_e.val().narrow(0, 0, t.p), None),
        }
    }

    /// The hidden representation `[batch, H]` (the MLP's hidden layer; the transformer's MLP).
    pub fn hidden(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<2> {
        match self {
            GrokModel::Mlp(m) => m.hidden(a, b),
            GrokModel::Transformer(t) => t.resid_and_mlp(a, b).1,
        }
    }

    /// Walk every parameter of whichever model this is.
    pub fn visit_params<V: burn::module::ModuleVisitor>(&self, visitor: &mut V) {
        match self {
            GrokModel::Mlp(m) => m.visit(visitor),
            GrokModel::Transformer(t) => t.visit(visitor),
        }
    }

    pub fn num_params(&self) -> usize {
        match self {
            GrokModel::Mlp(m) => m.num_params(),
            GrokModel::Transformer(t) => t.num_params(),
        }
    }
}
