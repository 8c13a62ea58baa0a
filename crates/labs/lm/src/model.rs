//! The GPT-style decoder and its hooks.
//!
//! Tokens `[B, T]` → learned token and position embeddings → `layers` pre-LN blocks (causal
//! multi-head attention, then a GELU MLP, each added to the residual stream) → the unembedding
//! (its own `W_U`, or the token embedding transposed when tied) → logits `[B, T, V]`. There is no
//! final LayerNorm: the residual stream is read by `W_U` directly, so a last-layer neuron's effect
//! on the logits is exactly its activation × `W_out[n] · W_U` (the seed paper's decoding through
//! the final projection layer reads it without approximation).
//!
//! Weight layout is `x · W` (input dimension first); heads are consecutive blocks of
//! `d_model / heads` columns of `W_Q`, `W_K`, `W_V` (and rows of `W_O`). The safetensors names
//! are in [`Gpt::named`].
//!
//! [`Hooks`] edit or capture activations at named [`Site`]s: every edit is `x · keep + add` with
//! tensors broadcast over `[B, T, width]` — clamping, zero/mean ablation, steering and patching
//! are all that one operation.

use crate::config::LmConfig;
use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::{gelu, log_softmax, softmax};
use neurolab_base::rng::SeededRng;

/// RNG stream for initial weights.
const INIT_STREAM: u64 = 41;
const LN_EPS: f64 = 1e-5;

/// A place in the forward pass whose activations a hook edits or captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Site {
    /// The residual stream entering block `l` (`l = layers`: the stream the unembedding reads).
    Resid(usize),
    /// Block `l`'s attention output (before it is added to the stream).
    Attn(usize),
    /// Block `l`'s MLP output.
    Mlp(usize),
    /// Block `l`'s MLP neurons (after GELU), `d_mlp` wide.
    Act(usize),
}

/// `x · keep + add`, broadcast to the site's `[B, T, width]`.
#[derive(Debug, Clone)]
pub struct Edit {
    pub keep: Tensor<3>,
    pub add: Tensor<3>,
}

/// Edits to apply and whether to capture every site.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    pub edits: Vec<(Site, Edit)>,
    pub capture: bool,
}

impl Hooks {
    fn apply(&self, site: Site, mut x: Tensor<3>, caps: &mut Vec<(Site, Tensor<3>)>) -> Tensor<3> {
        for (s, e) in &self.edits {
            if *s == site {
                x = x * e.keep.clone() + e.add.clone();
            }
        }
        if self.capture {
            caps.push((site, x.clone()));
        }
        x
    }
}

#[derive(Module, Debug)]
pub struct Block {
    pub ln1_w: Param<Tensor<1>>,
    pub ln1_b: Param<Tensor<1>>,
    pub w_q: Param<Tensor<2>>,
    pub w_k: Param<Tensor<2>>,
    pub w_v: Param<Tensor<2>>,
    pub w_o: Param<Tensor<2>>,
    pub ln2_w: Param<Tensor<1>>,
    pub ln2_b: Param<Tensor<1>>,
    /// `[d, m]`, `[m]`, `[m, d]`, `[d]`.
    pub w_in: Param<Tensor<2>>,
    pub b_in: Param<Tensor<1>>,
    pub w_out: Param<Tensor<2>>,
    pub b_out: Param<Tensor<1>>,
}

#[derive(Module, Debug)]
pub struct Gpt {
    /// `[V, d]` token embedding.
    pub w_e: Param<Tensor<2>>,
    /// `[ctx, d]` position embedding.
    pub w_pos: Param<Tensor<2>>,
    pub blocks: Vec<Block>,
    /// `[d, V]`; `None` when tied to `w_e`.
    pub w_u: Option<Param<Tensor<2>>>,
    pub heads: usize,
}

fn normal(rng: &mut SeededRng, shape: [usize; 2], std: f64, device: &Device) -> Param<Tensor<2>> {
    let data: Vec<f32> = (0..shape[0] * shape[1])
        .map(|_| (rng.normal() * std) as f32)
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(data, shape), device))
}

fn full(n: usize, v: f32, device: &Device) -> Param<Tensor<1>> {
    Param::from_tensor(Tensor::full([n], v, device))
}

fn layer_norm(x: Tensor<3>, w: Tensor<1>, b: Tensor<1>) -> Tensor<3> {
    let mean = x.clone().mean_dim(2);
    let centred = x - mean;
    let var = centred.clone().square().mean_dim(2);
    let normed = centred / var.add_scalar(LN_EPS).sqrt();
    normed * w.unsqueeze::<3>() + b.unsqueeze::<3>()
}

/// `[B, T, a] · [a, b]` as one 2-D product.
fn linear(x: Tensor<3>, w: Tensor<2>) -> Tensor<3> {
    let [b, t, a] = x.dims();
    let out = w.dims()[1];
    x.reshape([b * t, a]).matmul(w).reshape([b, t, out])
}

/// `[T, T]`: 0 on and below the diagonal, a large negative number above (no looking ahead).
fn causal_mask(t: usize, device: &Device) -> Tensor<2> {
    let data: Vec<f32> = (0..t * t)
        .map(|i| if i % t > i / t { -1e9 } else { 0.0 })
        .collect();
    Tensor::from_data(TensorData::new(data, [t, t]), device)
}

impl Gpt {
    /// Seeded initial weights (GPT-2's: normal(0, 0.02), output projections scaled by
    /// 1/√(2·layers)), on `device` (plain or autodiff).
    pub fn new(config: &LmConfig, vocab: usize, device: &Device) -> Self {
        let (d, m, t) = (
            config.d_model as usize,
            config.d_mlp as usize,
            config.ctx as usize,
        );
        let mut rng = SeededRng::new(config.seed, INIT_STREAM);
        let std = 0.02;
        let proj = std / (2.0 * f64::from(config.layers)).sqrt();
        let w_e = normal(&mut rng, [vocab, d], std, device);
        let w_pos = normal(&mut rng, [t, d], std, device);
        let blocks = (0..config.layers)
            .map(|_| Block {
                ln1_w: full(d, 1.0, device),
                ln1_b: full(d, 0.0, device),
                w_q: normal(&mut rng, [d, d], std, device),
                w_k: normal(&mut rng, [d, d], std, device),
                w_v: normal(&mut rng, [d, d], std, device),
                w_o: normal(&mut rng, [d, d], proj, device),
                ln2_w: full(d, 1.0, device),
                ln2_b: full(d, 0.0, device),
                w_in: normal(&mut rng, [d, m], std, device),
                b_in: full(m, 0.0, device),
                w_out: normal(&mut rng, [m, d], proj, device),
                b_out: full(d, 0.0, device),
            })
            .collect();
        let w_u = (!config.tied).then(|| normal(&mut rng, [d, vocab], std, device));
        Self {
            w_e,
            w_pos,
            blocks,
            w_u,
            heads: config.heads as usize,
        }
    }

    pub fn layers(&self) -> usize {
        self.blocks.len()
    }

    /// `[d, V]`.
    pub fn unembed(&self) -> Tensor<2> {
        match &self.w_u {
            Some(w) => w.val(),
            None => self.w_e.val().transpose(),
        }
    }

    /// Logits `[B, T, V]` for tokens `[B, T]` (T ≤ ctx), with the hooks' edits, and every site
    /// when they capture (in forward order).
    pub fn forward_hooked(
        &self,
        tokens: Tensor<2, Int>,
        hooks: &Hooks,
    ) -> (Tensor<3>, Vec<(Site, Tensor<3>)>) {
        let [b, t] = tokens.dims();
        let device = tokens.device();
        let d = self.w_e.val().dims()[1];
        let mut caps = Vec::new();
        let emb = self
            .w_e
            .val()
            .select(0, tokens.reshape([b * t]))
            .reshape([b, t, d]);
        let pos = self.w_pos.val().narrow(0, 0, t).unsqueeze::<3>();
        let mut x = emb + pos;
        let heads = self.heads;
        let dh = d / heads;
        let mask = causal_mask(t, &device).unsqueeze::<4>();
        let scale = 1.0 / (dh as f64).sqrt();
        for (l, blk) in self.blocks.iter().enumerate() {
            x = hooks.apply(Site::Resid(l), x, &mut caps);
            let h = layer_norm(x.clone(), blk.ln1_w.val(), blk.ln1_b.val());
            let split = |w: Tensor<2>| {
                linear(h.clone(), w)
                    .reshape([b, t, heads, dh])
                    .swap_dims(1, 2)
            };
            let (q, k, v) = (
                split(blk.w_q.val()),
                split(blk.w_k.val()),
                split(blk.w_v.val()),
            );
            let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(scale) + mask.clone();
            let z = softmax(scores, 3)
                .matmul(v)
                .swap_dims(1, 2)
                .reshape([b, t, d]);
            let attn = hooks.apply(Site::Attn(l), linear(z, blk.w_o.val()), &mut caps);
            x = x + attn;
            let h2 = layer_norm(x.clone(), blk.ln2_w.val(), blk.ln2_b.val());
            let pre = linear(h2, blk.w_in.val()) + blk.b_in.val().unsqueeze::<3>();
            let act = hooks.apply(Site::Act(l), gelu(pre), &mut caps);
            let mlp = linear(act, blk.w_out.val()) + blk.b_out.val().unsqueeze::<3>();
            x = x + hooks.apply(Site::Mlp(l), mlp, &mut caps);
        }
        x = hooks.apply(Site::Resid(self.layers()), x, &mut caps);
        (linear(x, self.unembed()), caps)
    }

    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        self.forward_hooked(tokens, &Hooks::default()).0
    }

    /// Named tensors for the export, in a fixed order: `embed.W_E` `[V, d]`, `pos_embed.W_pos`
    /// `[ctx, d]`, per block `blocks.{l}.ln1.w|b`, `blocks.{l}.attn.W_Q|W_K|W_V` `[d, d]`
    /// (`x · W`, heads as column blocks), `blocks.{l}.attn.W_O` `[d, d]`, `blocks.{l}.ln2.w|b`,
    /// `blocks.{l}.mlp.W_in` `[d, m]`, `b_in`, `W_out` `[m, d]`, `b_out`; `unembed.W_U` `[d, V]`
    /// unless tied.
    pub fn named(&self) -> Vec<(String, Tensor<2>)> {
        let row = |t: Tensor<1>| t.unsqueeze::<2>();
        let mut out = vec![
            ("embed.W_E".to_string(), self.w_e.val()),
            ("pos_embed.W_pos".to_string(), self.w_pos.val()),
        ];
        for (l, b) in self.blocks.iter().enumerate() {
            let p = |n: &str| format!("blocks.{l}.{n}");
            out.extend([
                (p("ln1.w"), row(b.ln1_w.val())),
                (p("ln1.b"), row(b.ln1_b.val())),
                (p("attn.W_Q"), b.w_q.val()),
                (p("attn.W_K"), b.w_k.val()),
                (p("attn.W_V"), b.w_v.val()),
                (p("attn.W_O"), b.w_o.val()),
                (p("ln2.w"), row(b.ln2_w.val())),
                (p("ln2.b"), row(b.ln2_b.val())),
                (p("mlp.W_in"), b.w_in.val()),
                (p("mlp.b_in"), row(b.b_in.val())),
                (p("mlp.W_out"), b.w_out.val()),
                (p("mlp.b_out"), row(b.b_out.val())),
            ]);
        }
        if let Some(w) = &self.w_u {
            out.push(("unembed.W_U".into(), w.val()));
        }
        out
    }

    /// The same model with every tensor replaced by `get(name, shape)` (row-major data, shapes
    /// as [`Gpt::named`] lists them); the message names the first missing or misshapen tensor.
    pub fn with_values(
        &self,
        get: &mut dyn FnMut(&str, [usize; 2]) -> Result<Vec<f32>, String>,
        device: &Device,
    ) -> Result<Gpt, String> {
        // Matrices by their shape; vectors travel as `[1, n]` rows.
        macro_rules! p2 {
            ($name:expr, $like:expr) => {{
                let shape = $like.val().dims();
                let data = get($name, shape)?;
                Param::from_tensor(Tensor::<2>::from_data(TensorData::new(data, shape), device))
            }};
        }
        macro_rules! p1 {
            ($name:expr, $like:expr) => {{
                let n = $like.val().dims()[0];
                let data = get($name, [1, n])?;
                Param::from_tensor(Tensor::<1>::from_data(TensorData::new(data, [n]), device))
            }};
        }
        let w_e = p2!("embed.W_E", self.w_e);
        let w_pos = p2!("pos_embed.W_pos", self.w_pos);
        let mut blocks = Vec::new();
        for (l, b) in self.blocks.iter().enumerate() {
            let p = |n: &str| format!("blocks.{l}.{n}");
            blocks.push(Block {
                ln1_w: p1!(&p("ln1.w"), b.ln1_w),
                ln1_b: p1!(&p("ln1.b"), b.ln1_b),
                w_q: p2!(&p("attn.W_Q"), b.w_q),
                w_k: p2!(&p("attn.W_K"), b.w_k),
                w_v: p2!(&p("attn.W_V"), b.w_v),
                w_o: p2!(&p("attn.W_O"), b.w_o),
                ln2_w: p1!(&p("ln2.w"), b.ln2_w),
                ln2_b: p1!(&p("ln2.b"), b.ln2_b),
                w_in: p2!(&p("mlp.W_in"), b.w_in),
                b_in: p1!(&p("mlp.b_in"), b.b_in),
                w_out: p2!(&p("mlp.W_out"), b.w_out),
                b_out: p1!(&p("mlp.b_out"), b.b_out),
            });
        }
        let w_u = match &self.w_u {
            Some(w) => Some(p2!("unembed.W_U", w)),
            None => None,
        };
        Ok(Gpt {
            w_e,
            w_pos,
            blocks,
            w_u,
            heads: self.heads,
        })
    }
}

/// Mean cross-entropy of next-token prediction: logits `[B, T, V]` against targets `[B, T]`.
pub fn lm_loss(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<1> {
    let [b, t, v] = logits.dims();
    let lp = log_softmax(logits.reshape([b * t, v]), 1);
    lp.gather(1, targets.reshape([b * t, 1])).mean().neg()
}

/// Log-probabilities at the last position `[B, V]`.
pub fn last_log_probs(logits: Tensor<3>) -> Tensor<2> {
    let [b, t, v] = logits.dims();
    log_softmax(logits.narrow(1, t - 1, 1).reshape([b, v]), 1)
}
