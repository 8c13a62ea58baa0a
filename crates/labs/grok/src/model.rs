//! The two grokking models, written to compute only what the loss needs.
//!
//! Both take pair columns `a`, `b` (`[batch]` int tensors) and return logits `[batch, p]`.
//! Weight layout is `x · W` (input dimension first); the safetensors export uses the field names.

use crate::config::{Activation, GrokConfig, LossKind};
use crate::host::Columns;
use burn::module::Param;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, relu, softmax};
use burn::tensor::IndexingUpdateOp;
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

/// Mean loss of `logits` `[n, p]` against labels `[n]`.
pub fn mean_loss(kind: LossKind, logits: Tensor<2>, y: Tensor<1, Int>) -> Tensor<1> {
    let [n, p] = logits.dims();
    let picked = |t: Tensor<2>| t.gather(1, y.clone().unsqueeze_dim::<2>(1)); // [n, 1]
    match kind {
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

/// The training pairs as the closed-form gradients take them, on the plain device, built once
/// per session: the columns `a`, `b` and the labels one-hot `[n, p]`, which `∂L/∂logits`
/// subtracts in the softmax's fused tail (no scatter and no constant per step: 4 fewer GPU
/// dispatches per MLP step). The MLP still shifts `b` by `p` each step: with `b + p` kept here
/// as well, burn-fusion ran every step's kernels unfused on WebGPU (45 dispatches per step
/// instead of 16, `neurolab bench dispatches`).
#[derive(Debug, Clone)]
pub struct Pairs {
    pub a: Tensor<1, Int>,
    pub b: Tensor<1, Int>,
    pub onehot: Tensor<2>,
    /// The same pairs on the host, for the CPU backend's MLP step ([`crate::host`]).
    pub host: std::sync::Arc<Columns>,
}

impl Pairs {
    /// Columns `a`, `b`, `y` (equal lengths, values below `p`); `p` classes.
    pub fn new(a: &[i32], b: &[i32], y: &[i32], p: usize, device: &Device) -> Self {
        let n = a.len();
        let column = |v: Vec<i32>| Tensor::<1, Int>::from_data(TensorData::new(v, [n]), device);
        let mut onehot = vec![0.0f32; n * p];
        for (row, &label) in y.iter().enumerate() {
            onehot[row * p + label as usize] = 1.0;
        }
        Self {
            a: column(a.to_vec()),
            b: column(b.to_vec()),
            onehot: Tensor::from_data(TensorData::new(onehot, [n, p]), device),
            host: std::sync::Arc::new(Columns::new(a, b, y, p)),
        }
    }
}

/// `∂L/∂logits` of [`mean_loss`] on the plain device: CE → (softmax − onehot)/n; MSE over n·p
/// entries → 2(l − onehot)/(n·p). The same bits as adding −1 at each label.
fn loss_gradient(kind: LossKind, logits: Tensor<2>, onehot: Tensor<2>) -> Tensor<2> {
    let [n, p] = logits.dims();
    let (scaled, scale) = match kind {
        LossKind::Ce => (softmax(logits, 1), 1.0 / n as f64),
        LossKind::Mse => (logits, 2.0 / (n * p) as f64),
    };
    (scaled - onehot).mul_scalar(scale)
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

    /// The gradients `(∂L/∂w_in, ∂L/∂w_out)` of the mean loss over the pairs `(a, b) → y`, in
    /// closed form on the plain device: no autodiff graph, three matmuls and a handful of
    /// element-wise ops (the one-hot input layer's gradient is a scatter-add of the hidden
    /// gradient into the rows of `a` and `p + b`). Equal to the autodiff gradients up to float
    /// rounding (`tests`: 1e-5).
    ///
    /// `pairs` and `mask` `[H]` (0 = ablated) must be on the plain device.
    pub fn grads(
        &self,
        pairs: &Pairs,
        mask: Option<Tensor<1>>,
        loss: LossKind,
    ) -> (Tensor<2>, Tensor<2>) {
        let w_in = self.w_in.val().inner();
        let w_out = self.w_out.val().inner();
        let [rows, h] = w_in.dims();
        let (a, b) = (pairs.a.clone(), pairs.b.clone().add_scalar(self.p as i64));
        let device = w_in.device();
        // `pre` `[n, H]`, then the activation and its derivative at `pre`.
        let pre = w_in.clone().select(0, a.clone()) + w_in.select(0, b.clone());
        let (hidden, slope) = if self.quadratic {
            (pre.clone().square(), pre.mul_scalar(2.0))
        } else {
            let on = pre.clone().greater_elem(0.0).float();
            (pre * on.clone(), on)
        };
        let (hidden, slope) = match mask {
            Some(m) => {
                let m = m.unsqueeze::<2>();
                (hidden * m.clone(), slope * m)
            }
            None => (hidden, slope),
        };
        let logits = hidden.clone().matmul(w_out.clone()); // [n, p]
        let d_logits = loss_gradient(loss, logits, pairs.onehot.clone());
        let g_out = hidden.transpose().matmul(d_logits.clone()); // [H, p]
        let d_pre = d_logits.matmul(w_out.transpose()) * slope; // [n, H]
        let g_in = Tensor::<2>::zeros([rows, h], &device)
            .select_assign(0, a, d_pre.clone(), IndexingUpdateOp::Add)
            .select_assign(0, b, d_pre, IndexingUpdateOp::Add);
        (g_in, g_out)
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

    /// The gradients of the mean loss over the pairs `(a, b) → y` with respect to every
    /// parameter, in closed form on the plain device: the forward pass of
    /// [`Transformer::forward_masked`] keeping what the backward needs, then the backward written
    /// out (the unembedding, the MLP, the attention at `=` through its three-way softmax, and the
    /// key/value tables' rows scatter-added back into the embeddings). No autodiff graph; equal
    /// to the autodiff gradients up to float rounding (`tests`: 1e-5).
    ///
    /// `pairs` and `mask` `[d_mlp]` (0 = ablated) must be on the plain device.
    pub fn grads(
        &self,
        pairs: &Pairs,
        mask: Option<Tensor<1>>,
        loss: LossKind,
    ) -> TransformerGrads {
        let (a, b) = (pairs.a.clone(), pairs.b.clone());
        let n = a.dims()[0];
        let p = self.p;
        let heads = self.n_heads;
        let (w_e, w_pos) = (self.w_e.val().inner(), self.w_pos.val().inner());
        let (w_q, w_k, w_v, w_o) = (
            self.w_q.val().inner(),
            self.w_k.val().inner(),
            self.w_v.val().inner(),
            self.w_o.val().inner(),
        );
        let (w_in, b_in) = (self.w_in.val().inner(), self.b_in.val().inner());
        let (w_out, b_out) = (self.w_out.val().inner(), self.b_out.val().inner());
        let w_u = self.w_u.val().inner();
        let [_, d] = w_q.dims();
        let m = b_in.dims()[0];
        let dh = d / heads;
        let scale = 1.0 / (dh as f64).sqrt();
        let device = w_e.device();
        let split = |t: Tensor<2>| {
            let rows = t.dims()[0];
            t.reshape([rows, heads, dh])
        };

        // Forward (as `resid_and_mlp` and `forward_masked`).
        let r_eq = w_e.clone().narrow(0, p, 1) + w_pos.clone().narrow(0, 2, 1); // [1, d]
        let q = split(r_eq.clone().matmul(w_q.clone())); // [1, heads, dh]
        let k_eq = r_eq.clone().matmul(w_k.clone()); // [1, d]
        let v_eq = r_eq.clone().matmul(w_v.clone());
        let (ek, ev) = (
            w_e.clone().matmul(w_k.clone()),
            w_e.clone().matmul(w_v.clone()),
        );
        let (pk, pv) = (
            w_pos.clone().matmul(w_k.clone()),
            w_pos.clone().matmul(w_v.clone()),
        );
        let k_a = split(ek.clone().select(0, a.clone()) + pk.clone().narrow(0, 0, 1)); // [n, heads, dh]
        let k_b = split(ek.select(0, b.clone()) + pk.narrow(0, 1, 1));
        let v_a = split(ev.clone().select(0, a.clone()) + pv.clone().narrow(0, 0, 1));
        let v_b = split(ev.select(0, b.clone()) + pv.narrow(0, 1, 1));
        let (k_eq, v_eq) = (split(k_eq), split(v_eq)); // [1, heads, dh]
        let s_a = (k_a.clone() * q.clone()).sum_dim(2); // [n, heads, 1]
        let s_b = (k_b.clone() * q.clone()).sum_dim(2);
        let s_eq = (k_eq.clone() * q.clone()).sum_dim(2).repeat_dim(0, n);
        let attn = softmax(Tensor::cat(vec![s_a, s_b, s_eq], 2).mul_scalar(scale), 2);
        let (al_a, al_b, al_e) = (
            attn.clone().narrow(2, 0, 1),
            attn.clone().narrow(2, 1, 1),
            attn.narrow(2, 2, 1),
        ); // [n, heads, 1] each
        let z =
            (al_a.clone() * v_a.clone() + al_b.clone() * v_b.clone() + al_e.clone() * v_eq.clone())
                .reshape([n, d]);
        let resid = r_eq.clone() + z.clone().matmul(w_o.clone()); // [n, d]
        let pre = resid.clone().matmul(w_in.clone()) + b_in.unsqueeze::<2>(); // [n, m]
        let on = pre.clone().greater_elem(0.0).float();
        let (hidden, slope) = match mask {
            Some(mask) => {
                let mask = mask.unsqueeze::<2>();
                (pre * on.clone() * mask.clone(), on * mask)
            }
            None => (pre * on.clone(), on),
        };
        let out = resid.clone() + hidden.clone().matmul(w_out.clone()) + b_out.unsqueeze::<2>();
        let d_logits = loss_gradient(loss, out.clone().matmul(w_u.clone()), pairs.onehot.clone()); // [n, p]

        // Backward: unembedding and MLP.
        let g_u = out.transpose().matmul(d_logits.clone()); // [d, p]
        let d_out = d_logits.matmul(w_u.transpose()); // [n, d]
        let g_out = hidden.transpose().matmul(d_out.clone()); // [m, d]
        let g_b_out = d_out.clone().sum_dim(0).reshape([d]);
        let d_pre = d_out.clone().matmul(w_out.transpose()) * slope; // [n, m]
        let g_in = resid.transpose().matmul(d_pre.clone()); // [d, m]
        let g_b_in = d_pre.clone().sum_dim(0).reshape([m]);
        let d_resid = d_out + d_pre.matmul(w_in.transpose()); // [n, d]
        let g_o = z.transpose().matmul(d_resid.clone()); // [d, d]

        // Attention: the weighted sum of values, the softmax over (a, b, =), the scores.
        let dz = split(d_resid.clone().matmul(w_o.transpose())); // [n, heads, dh]
        let d_al_a = (dz.clone() * v_a).sum_dim(2); // [n, heads, 1]
        let d_al_b = (dz.clone() * v_b).sum_dim(2);
        let d_al_e = (dz.clone() * v_eq).sum_dim(2);
        let dv_a = (al_a.clone() * dz.clone()).reshape([n, d]);
        let dv_b = (al_b.clone() * dz.clone()).reshape([n, d]);
        let dv_eq = (al_e.clone() * dz).sum_dim(0).reshape([1, d]);
        let mean = al_a.clone() * d_al_a.clone()
            + al_b.clone() * d_al_b.clone()
            + al_e.clone() * d_al_e.clone();
        // ∂L/∂(k·q) per head, the score's 1/√dh folded in.
        let ds_a = (al_a * (d_al_a - mean.clone())).mul_scalar(scale);
        let ds_b = (al_b * (d_al_b - mean.clone())).mul_scalar(scale);
        let ds_e = (al_e * (d_al_e - mean)).mul_scalar(scale);
        let dq = (ds_a.clone() * k_a + ds_b.clone() * k_b + ds_e.clone() * k_eq)
            .sum_dim(0)
            .reshape([1, d]);
        let dk_a = (ds_a * q.clone()).reshape([n, d]);
        let dk_b = (ds_b * q.clone()).reshape([n, d]);
        let dk_eq = (ds_e.sum_dim(0) * q).reshape([1, d]);

        // The key and value tables: E's rows looked up by a and b, the positions' rows 0 and 1;
        // `=` reaches them through its residual r_eq = E[p] + P[2].
        let table = |da: Tensor<2>, db: Tensor<2>| {
            Tensor::<2>::zeros([p + 1, d], &device)
                .select_assign(0, a.clone(), da, IndexingUpdateOp::Add)
                .select_assign(0, b.clone(), db, IndexingUpdateOp::Add)
        };
        let positions = |da: Tensor<2>, db: Tensor<2>| {
            Tensor::cat(
                vec![da.sum_dim(0), db.sum_dim(0), Tensor::zeros([1, d], &device)],
                0,
            )
        };
        let (d_ek, d_pk) = (table(dk_a.clone(), dk_b.clone()), positions(dk_a, dk_b));
        let (d_ev, d_pv) = (table(dv_a.clone(), dv_b.clone()), positions(dv_a, dv_b));
        let d_r_eq = d_resid.sum_dim(0)
            + dq.clone().matmul(w_q.clone().transpose())
            + dk_eq.clone().matmul(w_k.clone().transpose())
            + dv_eq.clone().matmul(w_v.clone().transpose()); // [1, d]
        let g_q = r_eq.clone().transpose().matmul(dq);
        let g_k = w_e.clone().transpose().matmul(d_ek.clone())
            + w_pos.clone().transpose().matmul(d_pk.clone())
            + r_eq.clone().transpose().matmul(dk_eq);
        let g_v = w_e.transpose().matmul(d_ev.clone())
            + w_pos.transpose().matmul(d_pv.clone())
            + r_eq.transpose().matmul(dv_eq);
        let (w_kt, w_vt) = (w_k.transpose(), w_v.transpose());
        let g_e = d_ek.matmul(w_kt.clone())
            + d_ev.matmul(w_vt.clone())
            + Tensor::cat(vec![Tensor::zeros([p, d], &device), d_r_eq.clone()], 0);
        let g_pos = d_pk.matmul(w_kt)
            + d_pv.matmul(w_vt)
            + Tensor::cat(vec![Tensor::zeros([2, d], &device), d_r_eq], 0);
        TransformerGrads {
            w_e: g_e,
            w_pos: g_pos,
            w_q: g_q,
            w_k: g_k,
            w_v: g_v,
            w_o: g_o,
            w_in: g_in,
            b_in: g_b_in,
            w_out: g_out,
            b_out: g_b_out,
            w_u: g_u,
        }
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

/// [`Transformer::grads`]: one gradient per parameter, on the plain device.
pub struct TransformerGrads {
    pub w_e: Tensor<2>,
    pub w_pos: Tensor<2>,
    pub w_q: Tensor<2>,
    pub w_k: Tensor<2>,
    pub w_v: Tensor<2>,
    pub w_o: Tensor<2>,
    pub w_in: Tensor<2>,
    pub b_in: Tensor<1>,
    pub w_out: Tensor<2>,
    pub b_out: Tensor<1>,
    pub w_u: Tensor<2>,
}

impl TransformerGrads {
    /// The gradients keyed by `t`'s parameter ids, for the optimiser.
    pub fn params(self, t: &Transformer) -> GradientsParams {
        let mut g = GradientsParams::new();
        g.register(t.w_e.id, self.w_e);
        g.register(t.w_pos.id, self.w_pos);
        g.register(t.w_q.id, self.w_q);
        g.register(t.w_k.id, self.w_k);
        g.register(t.w_v.id, self.w_v);
        g.register(t.w_o.id, self.w_o);
        g.register(t.w_in.id, self.w_in);
        g.register(t.b_in.id, self.b_in);
        g.register(t.w_out.id, self.w_out);
        g.register(t.b_out.id, self.b_out);
        g.register(t.w_u.id, self.w_u);
        g
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, GrokConfig, LossKind};

    fn values(t: Tensor<2>) -> Vec<f32> {
        let n = t.shape().num_elements();
        t.reshape([n]).into_data().try_to_vec::<f32>().unwrap()
    }

    /// Largest |x − y| relative to the largest |y| (gradients of very different sizes).
    fn relative_gap(x: &[f32], y: &[f32]) -> f32 {
        let scale = y.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30);
        x.iter().zip(y).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / scale
    }

    /// `n` random `(a, b, y)` columns below `p` (repeats likely).
    fn random_triples(rng: &mut SeededRng, n: usize, p: usize) -> [Vec<i32>; 3] {
        let mut ints = || -> Vec<i32> {
            (0..n)
                .map(|_| (rng.uniform() * p as f64) as i32 % p as i32)
                .collect()
        };
        [ints(), ints(), ints()]
    }

    fn column(v: &[i32], device: &Device) -> Tensor<1, Int> {
        Tensor::<1, Int>::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
    }

    /// When `masked`, a mask over `size` hidden neurons with every `every`-th one ablated.
    fn every_nth_ablated(
        masked: bool,
        size: usize,
        every: usize,
        device: &Device,
    ) -> Option<Tensor<1>> {
        masked.then(|| {
            let m: Vec<f32> = (0..size)
                .map(|i| if i % every == 0 { 0.0 } else { 1.0 })
                .collect();
            Tensor::<1>::from_data(TensorData::new(m, [size]), device)
        })
    }

    /// The closed-form gradients equal autodiff's on random pairs (with repeats), for every
    /// activation × loss, with and without an ablation mask.
    #[test]
    fn closed_form_gradients_equal_autodiff() {
        let device = crate::backend_cpu();
        let autodiff = device.clone().autodiff();
        let mut rng = SeededRng::new(7, 0);
        for act in [Activation::Quadratic, Activation::Relu] {
            for loss in [LossKind::Ce, LossKind::Mse] {
                for masked in [false, true] {
                    let config = GrokConfig {
                        p: 13,
                        hidden: 24,
                        activation: act,
                        loss,
                        seed: 3,
                        ..GrokConfig::preset_mlp()
                    };
                    let mlp = Mlp::new(&config, &autodiff);
                    let [a, b, y] = random_triples(&mut rng, 60, 13);
                    let col = column;
                    let mask_on = |d: &Device| every_nth_ablated(masked, 24, 5, d);
                    let logits = mlp.forward_masked(
                        col(&a, &autodiff),
                        col(&b, &autodiff),
                        mask_on(&autodiff),
                    );
                    let grads = mean_loss(loss, logits, col(&y, &autodiff)).backward();
                    let want_in = mlp.w_in.val().grad(&grads).unwrap();
                    let want_out = mlp.w_out.val().grad(&grads).unwrap();
                    let pairs = Pairs::new(&a, &b, &y, 13, &device);
                    let (g_in, g_out) = mlp.grads(&pairs, mask_on(&device), loss);
                    let what = format!("{act:?} {loss:?} masked {masked}");
                    let gap_in = relative_gap(&values(g_in), &values(want_in));
                    let gap_out = relative_gap(&values(g_out), &values(want_out));
                    assert!(gap_in < 1e-5, "{what}: w_in gradient differs by {gap_in}");
                    assert!(
                        gap_out < 1e-5,
                        "{what}: w_out gradient differs by {gap_out}"
                    );
                }
            }
        }
    }

    /// The transformer's closed-form gradients equal autodiff's for every parameter, on random
    /// pairs (with repeats), both losses, with and without an ablation mask, one and four heads,
    /// two widths; and so do the host step's ([`crate::host::transformer`]).
    #[test]
    fn transformer_closed_form_gradients_equal_autodiff() {
        let device = crate::backend_cpu();
        let autodiff = device.clone().autodiff();
        let mut rng = SeededRng::new(11, 0);
        // d_model 16 and 8: the host step's two orders of the MLP's output (see
        // `via_product` in host/transformer.rs).
        for (heads, d_model) in [(1u32, 16u32), (4, 16), (4, 8)] {
            for loss in [LossKind::Ce, LossKind::Mse] {
                for masked in [false, true] {
                    let config = GrokConfig {
                        p: 13,
                        d_model,
                        n_heads: heads,
                        d_mlp: 24,
                        loss,
                        seed: 5,
                        // Larger weights than the preset's, so the softmax is far from uniform.
                        init_scale: 3.0,
                        ..GrokConfig::preset_transformer()
                    };
                    let t = Transformer::new(&config, &autodiff);
                    let [a, b, y] = random_triples(&mut rng, 50, 13);
                    let col = column;
                    let mask_on = |d: &Device| every_nth_ablated(masked, 24, 3, d);
                    let logits = t.forward_masked(
                        col(&a, &autodiff),
                        col(&b, &autodiff),
                        mask_on(&autodiff),
                    );
                    let want = mean_loss(loss, logits, col(&y, &autodiff)).backward();
                    let pairs = Pairs::new(&a, &b, &y, 13, &device);
                    let got = t.grads(&pairs, mask_on(&device), loss);
                    let what = format!("{heads} heads d {d_model} {loss:?} masked {masked}");
                    let flat1 = |x: Tensor<1>| values(x.unsqueeze::<2>());
                    let pairs: Vec<(&str, Vec<f32>, Vec<f32>)> = vec![
                        (
                            "w_e",
                            values(got.w_e),
                            values(t.w_e.val().grad(&want).unwrap()),
                        ),
                        (
                            "w_pos",
                            values(got.w_pos),
                            values(t.w_pos.val().grad(&want).unwrap()),
                        ),
                        (
                            "w_q",
                            values(got.w_q),
                            values(t.w_q.val().grad(&want).unwrap()),
                        ),
                        (
                            "w_k",
                            values(got.w_k),
                            values(t.w_k.val().grad(&want).unwrap()),
                        ),
                        (
                            "w_v",
                            values(got.w_v),
                            values(t.w_v.val().grad(&want).unwrap()),
                        ),
                        (
                            "w_o",
                            values(got.w_o),
                            values(t.w_o.val().grad(&want).unwrap()),
                        ),
                        (
                            "w_in",
                            values(got.w_in),
                            values(t.w_in.val().grad(&want).unwrap()),
                        ),
                        (
                            "b_in",
                            flat1(got.b_in),
                            flat1(t.b_in.val().grad(&want).unwrap()),
                        ),
                        (
                            "w_out",
                            values(got.w_out),
                            values(t.w_out.val().grad(&want).unwrap()),
                        ),
                        (
                            "b_out",
                            flat1(got.b_out),
                            flat1(t.b_out.val().grad(&want).unwrap()),
                        ),
                        (
                            "w_u",
                            values(got.w_u),
                            values(t.w_u.val().grad(&want).unwrap()),
                        ),
                    ];
                    // The host step, from the same weights.
                    let w2 = |x: &Param<Tensor<2>>| values(x.val().inner());
                    let w1 = |x: &Param<Tensor<1>>| flat1(x.val().inner());
                    let (w_e, w_pos, w_q, w_k) = (w2(&t.w_e), w2(&t.w_pos), w2(&t.w_q), w2(&t.w_k));
                    let (w_v, w_o, w_in, w_out) =
                        (w2(&t.w_v), w2(&t.w_o), w2(&t.w_in), w2(&t.w_out));
                    let (b_in, b_out, w_u) = (w1(&t.b_in), w1(&t.b_out), w2(&t.w_u));
                    let mask: Vec<f32> = (0..24)
                        .map(|i| if i % 3 == 0 { 0.0 } else { 1.0 })
                        .collect();
                    let inputs = crate::host::transformer::Inputs {
                        w_e: &w_e,
                        w_pos: &w_pos,
                        w_q: &w_q,
                        w_k: &w_k,
                        w_v: &w_v,
                        w_o: &w_o,
                        w_in: &w_in,
                        b_in: &b_in,
                        w_out: &w_out,
                        b_out: &b_out,
                        w_u: &w_u,
                        heads: heads as usize,
                        mask: masked.then_some(&mask[..]),
                        loss,
                    };
                    let cols = crate::host::Columns::new(&a, &b, &y, 13);
                    let h =
                        crate::host::transformer::grads(&inputs, &cols, &mut Default::default());
                    let host = [
                        h.w_e, h.w_pos, h.w_q, h.w_k, h.w_v, h.w_o, h.w_in, h.b_in, h.w_out,
                        h.b_out, h.w_u,
                    ];
                    for ((name, g, w), host) in pairs.into_iter().zip(host) {
                        assert_eq!(g.len(), w.len(), "{what}: {name} shape");
                        let gap = relative_gap(&g, &w);
                        assert!(gap < 1e-5, "{what}: {name} gradient differs by {gap}");
                        assert_eq!(host.len(), w.len(), "{what}: host {name} shape");
                        let gap = relative_gap(&host, &w);
                        assert!(gap < 1e-5, "{what}: host {name} gradient differs by {gap}");
                    }
                }
            }
        }
    }
}
