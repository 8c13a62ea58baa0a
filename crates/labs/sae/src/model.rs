//! The sparse autoencoder: weights, encoder/decoder, and one training step for each kind.
//!
//! Layout is `x · W`: `w_enc: [L, d]` and `w_dec: [L, d]` both hold one row per latent, so the
//! tied-transposed init (Gao et al.; Bricken et al.) is simply `w_enc = w_dec`, and a latent's
//! decoder direction is a row. Decoder rows are kept at unit norm.
//!
//! TopK step: the dense pre-activations are computed once *outside* the autodiff graph, only to
//! pick the k winners; the winners' pre-activations are then recomputed with gradients from the
//! selected encoder rows, and the reconstruction sums the k selected decoder rows. Every other
//! latent has zero gradient in a TopK SAE, so this is the same gradient as the dense version,
//! at O(B·k·d) instead of O(B·L·d) for everything but the one dense encoder product. On the
//! CPU backend ([`GradPath::ClosedForm`]) the pick and the gradients are written out on the host
//! (`crate::host`, every core natively) with no autodiff graph; on WebGPU through autodiff.

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::IndexingUpdateOp;
use neurolab_base::rng::SeededRng;

use crate::host::{top_k_rows, topk_grads_host, TopkInputs};

const INIT_STREAM: u64 = 41;

#[derive(Module, Debug)]
pub struct Sae {
    /// `[L, d]`: row i is latent i's encoder.
    pub w_enc: Param<Tensor<2>>,
    /// `[L]`.
    pub b_enc: Param<Tensor<1>>,
    /// `[L, d]`: row i is latent i's (unit-norm) decoder direction.
    pub w_dec: Param<Tensor<2>>,
    /// `[d]`: subtracted before encoding, added after decoding.
    pub b_dec: Param<Tensor<1>>,
}

/// Unit-norm rows of a `[L, d]` tensor.
pub fn unit_rows(w: Tensor<2>) -> Tensor<2> {
    let norm = w.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
    w / norm
}

impl Sae {
    /// Random unit decoder rows, `w_enc = w_dec`, `b_enc = 0`, `b_dec = mean` (the data mean,
    /// Gao et al.'s initialisation). `device` may be an autodiff device; `mean` is on its
    /// plain counterpart.
    pub fn new(latents: usize, mean: Tensor<1>, seed: u64, device: &Device) -> Self {
        let d = mean.dims()[0];
        let mut rng = SeededRng::new(seed, INIT_STREAM);
        let data: Vec<f32> = (0..latents * d).map(|_| rng.normal() as f32).collect();
        // Two tensors of the same values: one tensor in both parameters would be one autodiff
        // leaf, and the first step would give both the sum of their gradients.
        let w = || {
            unit_rows(Tensor::from_data(
                TensorData::new(data.clone(), [latents, d]),
                device,
            ))
        };
        let mean = mean.autodiff();
        Self {
            w_enc: Param::from_tensor(w()),
            b_enc: Param::from_tensor(Tensor::zeros([latents], device)),
            w_dec: Param::from_tensor(w()),
            b_dec: Param::from_tensor(mean),
        }
    }

    pub fn latents(&self) -> usize {
        self.w_dec.val().dims()[0]
    }

    /// Dense pre-activations `(x − b_dec) · w_encᵀ + b_enc`, `[B, L]`.
    pub fn pre(&self, x: Tensor<2>) -> Tensor<2> {
        (x - self.b_dec.val().unsqueeze::<2>()).matmul(self.w_enc.val().transpose())
            + self.b_enc.val().unsqueeze::<2>()
    }

    /// Latents `[B, L]`: ReLU(pre), and for TopK only the k largest pre-activations kept.
    pub fn encode(&self, x: Tensor<2>, topk: Option<usize>) -> Tensor<2> {
        let pre = self.pre(x);
        match topk {
            None => relu(pre),
            Some(k) => {
                let [b, _] = pre.dims();
                let (vals, idx) = pre.clone().topk_with_indices(k, 1);
                pre.zeros_like()
                    .scatter(1, idx, relu(vals), IndexingUpdateOp::Assign)
                    .reshape([b, self.latents()])
            }
        }
    }

    /// `z · w_dec + b_dec`.
    pub fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        z.matmul(self.w_dec.val()) + self.b_dec.val().unsqueeze::<2>()
    }

    /// Pre-activations of the latents `idx` (`[B, k]`) with gradients: row b of the result is
    /// `(x_b − b_dec) · w_enc[idx[b, j]] + b_enc[idx[b, j]]`.
    fn pre_selected(&self, xc: Tensor<2>, idx: Tensor<2, Int>) -> Tensor<2> {
        let [b, k] = idx.dims();
        let d = xc.dims()[1];
        let flat = idx.reshape([b * k]);
        let we = self.w_enc.val().select(0, flat.clone()).reshape([b, k, d]);
        let dot = (we * xc.unsqueeze_dim::<3>(1)).sum_dim(2).reshape([b, k]);
        dot + self.b_enc.val().select(0, flat).reshape([b, k])
    }

    /// `Σ_j z[b, j] · w_dec[idx[b, j]]`, `[B, d]` (no bias).
    fn decode_selected(&self, z: Tensor<2>, idx: Tensor<2, Int>) -> Tensor<2> {
        let [b, k] = idx.dims();
        let d = self.w_dec.val().dims()[1];
        let wd = self
            .w_dec
            .val()
            .select(0, idx.reshape([b * k]))
            .reshape([b, k, d]);
        (wd * z.unsqueeze_dim::<3>(2)).sum_dim(1).reshape([b, d])
    }
}

/// The `k` largest entries of each row of `x` `[B, L]` (plain device): `(values, column
/// indices)`, both `[B, k]`, largest first, ties to the lower column (the order of a stable
/// descending sort). On the CPU backend by partial selection — `select_nth_unstable` puts the k
/// winners first in O(L) per row, then only those k are sorted — where burn's `topk` sorts every
/// row whole (O(L log L), the TopK step's largest cost at L ≥ 1024); elsewhere burn's `topk`.
pub async fn top_k(x: Tensor<2>, k: usize) -> (Tensor<2>, Tensor<2, Int>) {
    let device = x.device();
    let [rows, cols] = x.dims();
    let k = k.min(cols);
    if device.clone().inner() == Device::flex() && k > 0 {
        // On the CPU "reading" is a copy; the future is ready at once.
        let read = x.clone().into_data_async().await.ok();
        if let Some(values) = read.and_then(|d| d.try_into_vec::<f32>().ok()) {
            let (vals, idx) = top_k_rows(&values, cols, k);
            return (
                Tensor::from_data(TensorData::new(vals, [rows, k]), &device),
                Tensor::from_data(TensorData::new(idx, [rows, k]), &device),
            );
        }
    }
    x.topk_with_indices(k, 1)
}

/// Hyper-parameters of one SAE step.
#[derive(Debug, Clone, Copy)]
pub enum StepKind {
    TopK {
        k: usize,
        k_aux: usize,
        aux_coef: f64,
        dead_after: f64,
    },
    ReluL1 {
        l1: f64,
    },
}

/// What a step leaves on the device (nothing is read back).
pub struct StepOut {
    pub sae: Sae,
    /// Samples since each latent last fired, updated with this batch, `[L]` (plain device).
    pub since_fired: Tensor<1>,
    /// The step's loss terms `[2]`: reconstruction (Σ over d, mean over batch), auxiliary.
    pub losses: Tensor<1>,
}

/// How a step's gradients are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradPath {
    /// burn's autodiff through the selected rows (every device, every kind).
    Autodiff,
    /// TopK only: the gradients written out and computed on the host from the step's inputs
    /// ([`topk_grads_host`]); the CPU backend's path, where "reading" a tensor is a copy.
    ClosedForm,
}

/// One step's gradients (plain device) and what it measured, before the optimiser.
pub struct StepGrads {
    pub w_enc: Tensor<2>,
    pub b_enc: Tensor<1>,
    pub w_dec: Tensor<2>,
    pub b_dec: Tensor<1>,
    /// `[2]`: reconstruction (Σ over d, mean over batch), auxiliary (already weighted).
    pub losses: Tensor<1>,
    /// Latents that fired in this batch, `[L]`.
    pub fired: Tensor<1, Bool>,
}

/// One Adam step of the SAE on `x` (`[B, d]`, autodiff device, no gradient).
/// `since_fired` lives on the plain device. Async for the CPU backend, where a TopK step reads
/// its inputs (copies, ready at once) and computes its gradients in closed form
/// ([`GradPath::ClosedForm`]); on WebGPU it queues autodiff work and reads nothing.
pub async fn sae_step(
    sae: Sae,
    optim: &mut ModuleOptimizer,
    lr: f64,
    kind: StepKind,
    x: Tensor<2>,
    since_fired: Tensor<1>,
) -> StepOut {
    let path = match kind {
        StepKind::TopK { .. } if x.device().inner() == Device::flex() => GradPath::ClosedForm,
        _ => GradPath::Autodiff,
    };
    let [b, _] = x.dims();
    let g = step_grads(&sae, kind, x, &since_fired, path).await;
    // Anthropic's recipe: drop the gradient component parallel to each (unit) decoder row, so
    // the step moves the direction and the renormalisation below only corrects curvature.
    let w = sae.w_dec.val().inner();
    let parallel = (g.w_dec.clone() * w.clone()).sum_dim(1);
    let mut grads = GradientsParams::new();
    grads.register(sae.w_enc.id, g.w_enc);
    grads.register(sae.b_enc.id, g.b_enc);
    grads.register(sae.w_dec.id, g.w_dec - w * parallel);
    grads.register(sae.b_dec.id, g.b_dec);
    let sae = optim.step(lr, sae, grads);
    let sae = Sae {
        w_dec: sae
            .w_dec
            .map(|w| Tensor::from_inner(unit_rows(w.inner())).require_grad()),
        ..sae
    };
    let since_fired = since_fired.add_scalar(b as f64).mask_fill(g.fired, 0.0);
    StepOut {
        sae,
        since_fired,
        losses: g.losses,
    }
}

/// The gradients of one step's loss on `x` (`[B, d]`, autodiff device) by `path`
/// ([`GradPath::ClosedForm`] needs [`StepKind::TopK`]; it falls back to autodiff otherwise).
pub async fn step_grads(
    sae: &Sae,
    kind: StepKind,
    x: Tensor<2>,
    since_fired: &Tensor<1>,
    path: GradPath,
) -> StepGrads {
    if let (
        GradPath::ClosedForm,
        StepKind::TopK {
            k,
            k_aux,
            aux_coef,
            dead_after,
        },
    ) = (path, kind)
    {
        if let Some(g) =
            closed_form_grads(sae, x.clone(), since_fired, k, k_aux, aux_coef, dead_after).await
        {
            return g;
        }
    }
    autodiff_grads(sae, kind, x, since_fired).await
}

async fn read_vec(t: Tensor<2>) -> Option<Vec<f32>> {
    t.into_data_async().await.ok()?.try_into_vec::<f32>().ok()
}

/// [`GradPath::ClosedForm`]: reads the inputs, computes the dense pre-activations with burn
/// (the step's one large product) and the rest with [`topk_grads_host`]. `None` if a read fails.
async fn closed_form_grads(
    sae: &Sae,
    x: Tensor<2>,
    since_fired: &Tensor<1>,
    k: usize,
    k_aux: usize,
    aux_coef: f64,
    dead_after: f64,
) -> Option<StepGrads> {
    let x = x.inner();
    let device = x.device();
    let d = x.dims()[1];
    let latents = sae.latents();
    let w_enc = sae.w_enc.val().inner();
    let b_enc = sae.b_enc.val().inner();
    let b_dec = sae.b_dec.val().inner();
    let pre = (x.clone() - b_dec.clone().unsqueeze::<2>()).matmul(w_enc.clone().transpose())
        + b_enc.unsqueeze::<2>();
    let dead = if aux_coef > 0.0 {
        let dead = since_fired.clone().greater_equal_elem(dead_after);
        let v = dead
            .into_data_async()
            .await
            .ok()?
            .try_into_vec::<bool>()
            .ok()?;
        Some(v)
    } else {
        None
    };
    let inputs = TopkInputs {
        x: &read_vec(x).await?,
        pre: &read_vec(pre).await?,
        w_enc: &read_vec(w_enc).await?,
        w_dec: &read_vec(sae.w_dec.val().inner()).await?,
        b_dec: &read_vec(b_dec.unsqueeze::<2>()).await?,
        dead: dead.as_deref(),
        d,
        k,
        k_aux,
        aux_coef: aux_coef as f32,
    };
    let h = topk_grads_host(&inputs);
    let t2 =
        |v: Vec<f32>, rows: usize| Tensor::<2>::from_data(TensorData::new(v, [rows, d]), &device);
    let t1 = |v: Vec<f32>| {
        let n = v.len();
        Tensor::<1>::from_data(TensorData::new(v, [n]), &device)
    };
    Some(StepGrads {
        w_enc: t2(h.w_enc, latents),
        b_enc: t1(h.b_enc),
        w_dec: t2(h.w_dec, latents),
        b_dec: t1(h.b_dec),
        losses: t1(vec![h.recon, h.aux]),
        fired: Tensor::from_data(TensorData::new(h.fired, [latents]), &device),
    })
}

/// [`GradPath::Autodiff`]: the loss through burn's autodiff (the TopK winners chosen outside
/// the graph, their rows gathered inside it).
async fn autodiff_grads(
    sae: &Sae,
    kind: StepKind,
    x: Tensor<2>,
    since_fired: &Tensor<1>,
) -> StepGrads {
    let [b, _d] = x.dims();
    let latents = sae.latents();
    let xc = x.clone() - sae.b_dec.val().unsqueeze::<2>();
    let (recon_loss, aux_loss, fired) = match kind {
        StepKind::TopK {
            k,
            k_aux,
            aux_coef,
            dead_after,
        } => {
            // Dense pre-activations on the plain device: only used to choose the winners.
            let pre_plain = {
                let w_enc = sae.w_enc.val().inner();
                let b_enc = sae.b_enc.val().inner();
                xc.clone().inner().matmul(w_enc.transpose()) + b_enc.unsqueeze::<2>()
            };
            let (_, idx_plain) = top_k(pre_plain.clone(), k).await;
            let idx = Tensor::<2, Int>::from_inner(idx_plain.clone());
            let z = relu(sae.pre_selected(xc.clone(), idx.clone()));
            let x_hat = sae.decode_selected(z.clone(), idx) + sae.b_dec.val().unsqueeze::<2>();
            let err = x.clone() - x_hat;
            let recon = err.clone().square().sum_dim(1).mean();
            // Fired: latents among the winners with a positive value.
            let pos = z.inner().greater_elem(0.0).float().reshape([b * k]);
            let counts = Tensor::<1>::zeros([latents], &pos.device()).select_assign(
                0,
                idx_plain.reshape([b * k]),
                pos,
                IndexingUpdateOp::Add,
            );
            let fired = counts.greater_elem(0.0);
            if aux_coef > 0.0 {
                // AuxK (Gao et al. §A.2): the top-k_aux *dead* latents reconstruct the residual
                // error; normalised by the error's variance, weighted by aux_coef.
                let dead = since_fired.clone().greater_equal_elem(dead_after).float(); // [L]
                let pre_plain_zeros = pre_plain.zeros_like();
                let (dead_vals, idx_aux_plain) =
                    top_k(relu(pre_plain) * dead.clone().unsqueeze::<2>(), k_aux).await;
                // When fewer than k_aux latents are dead, the extra picks are live ones with a
                // value of 0 here: mask them out. k_aux is large (≈ d/2), so the aux latents
                // go through the dense product with a 0/1 mask rather than gathered rows
                // (B·k_aux·d gathered values would dominate the step's memory traffic).
                let keep = dead_vals.greater_elem(0.0).float();
                let mask =
                    pre_plain_zeros.scatter(1, idx_aux_plain, keep, IndexingUpdateOp::Assign);
                // The aux loss trains the dead latents only: b_dec is held fixed in its path.
                let pre_aux = xc.detach().matmul(sae.w_enc.val().transpose())
                    + sae.b_enc.val().unsqueeze::<2>();
                let z_aux = relu(pre_aux) * Tensor::<2>::from_inner(mask);
                let e_hat = z_aux.matmul(sae.w_dec.val());
                let e = err.detach();
                let e_var = (e.clone() - e.clone().mean_dim(0))
                    .square()
                    .sum_dim(1)
                    .mean()
                    .detach()
                    .add_scalar(1e-12);
                let aux = (e_hat - e).square().sum_dim(1).mean() / e_var;
                (recon, Some(aux.mul_scalar(aux_coef)), fired)
            } else {
                (recon, None, fired)
            }
        }
        StepKind::ReluL1 { l1 } => {
            let z = relu(xc.matmul(sae.w_enc.val().transpose()) + sae.b_enc.val().unsqueeze::<2>());
            let x_hat = z.clone().matmul(sae.w_dec.val()) + sae.b_dec.val().unsqueeze::<2>();
            let recon = (x - x_hat).square().sum_dim(1).mean();
            // Decoder rows have unit norm, so Σ|z_i|·‖w_dec,i‖ = Σ z_i.
            let sparsity = z.clone().sum_dim(1).mean().mul_scalar(l1);
            let fired = z
                .inner()
                .greater_elem(0.0)
                .float()
                .sum_dim(0)
                .reshape([latents]);
            (recon, Some(sparsity), fired.greater_elem(0.0))
        }
    };
    let total = match aux_loss.clone() {
        Some(a) => recon_loss.clone() + a,
        None => recon_loss.clone(),
    };
    let mut grads = GradientsParams::from_grads(total.backward(), sae);
    let device = recon_loss.device().inner();
    let w_enc = grads.remove::<2>(sae.w_enc.id);
    let w_dec = grads.remove::<2>(sae.w_dec.id);
    let b_enc = grads.remove::<1>(sae.b_enc.id);
    let b_dec = grads.remove::<1>(sae.b_dec.id);
    let aux = aux_loss.map_or_else(|| Tensor::<1>::zeros([1], &device), |a| a.inner());
    StepGrads {
        w_enc: w_enc.unwrap_or_else(|| sae.w_enc.val().inner().zeros_like()),
        b_enc: b_enc.unwrap_or_else(|| sae.b_enc.val().inner().zeros_like()),
        w_dec: w_dec.unwrap_or_else(|| sae.w_dec.val().inner().zeros_like()),
        b_dec: b_dec.unwrap_or_else(|| sae.b_dec.val().inner().zeros_like()),
        losses: Tensor::cat(vec![recon_loss.inner(), aux], 0),
        fired,
    }
}
