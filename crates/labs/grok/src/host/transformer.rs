//! Nanda et al.'s one-layer transformer's step on the host, for the CPU backend: the gradients of
//! [`Transformer::grads`](crate::model::Transformer::grads), with what depends on a token alone
//! computed once per token instead of once per pair.
//!
//! With three positions and attention read only at `=`, the residual at `=` after attention is
//! `resid = r + Σ_h (α_a,h · O_a[a, h] + α_b,h · O_b[b, h] + α_=,h · O_=[h])`, where `r = E[=] +
//! P[2]`, `O_x[t, h] = (E[t] + P[x]) · W_V[:, h] · W_O[h, :]` is head `h`'s output for token `t`
//! at position `x`, and the scores `S_x[t, h]` are tables too. The MLP's pre-activations are then
//! `resid · W_in + b_in = r·W_in + b_in + Σ_h α · (O · W_in)`: tables `[p, heads, d_mlp]` mixed
//! per pair instead of an `[n, d] × [d, d_mlp]` product, and the backward through them is sums
//! per token (each token's row one task, its pairs in order) and products of the tables. The
//! logits are linear in the residual, so the attention's part of them is tables `O · W_u`
//! `[p, heads, p]` mixed the same way, and the backward sums `α · ∂L/∂logits` (length p) per
//! token instead of forming `∂L/∂out` `[n, d]`. What stays per pair is the MLP's output layer
//! through `W_out · W_u` (three `gemm` products of n·d_mlp·p) and a few passes over rows. At the
//! preset this is ~0.9 G multiply-adds a step instead of autodiff's ~1.9 G.

use super::{exp, loss_gradient_rows, mm, simd_fn, Columns, Groups, View};
use crate::config::LossKind;
use neurolab_base::rows::{for_row_pairs, for_rows};

/// One step's inputs: the weights read back row-major (shapes as in
/// [`Transformer`](crate::model::Transformer)), the MLP mask (0 = ablated, else positive).
pub struct Inputs<'a> {
    /// `[p + 1, d]`, `[3, d]`.
    pub w_e: &'a [f32],
    pub w_pos: &'a [f32],
    /// `[d, d]` each.
    pub w_q: &'a [f32],
    pub w_k: &'a [f32],
    pub w_v: &'a [f32],
    pub w_o: &'a [f32],
    /// `[d, d_mlp]`, `[d_mlp]`, `[d_mlp, d]`, `[d]`, `[d, p]`.
    pub w_in: &'a [f32],
    pub b_in: &'a [f32],
    pub w_out: &'a [f32],
    pub b_out: &'a [f32],
    pub w_u: &'a [f32],
    pub heads: usize,
    pub mask: Option<&'a [f32]>,
    pub loss: LossKind,
}

/// One gradient per parameter, row-major, in [`Inputs`]' shapes.
pub struct Grads {
    pub w_e: Vec<f32>,
    pub w_pos: Vec<f32>,
    pub w_q: Vec<f32>,
    pub w_k: Vec<f32>,
    pub w_v: Vec<f32>,
    pub w_o: Vec<f32>,
    pub w_in: Vec<f32>,
    pub b_in: Vec<f32>,
    pub w_out: Vec<f32>,
    pub b_out: Vec<f32>,
    pub w_u: Vec<f32>,
}

/// The per-pair buffers, kept between steps (`[n, d_mlp]` twice, `[n, d]`, `[n, p]`: 19 MB at
/// the preset) and the per-token sums.
#[derive(Debug, Default)]
pub struct Scratch {
    /// `[n, heads, 3]`: attention at `=` on (a, b, =), then `∂L/∂score` in `ds`.
    alpha: Vec<f32>,
    ds: Vec<f32>,
    /// `[n, d_mlp]`: the MLP's activations; `∂L/∂pre`.
    hidden: Vec<f32>,
    d_pre: Vec<f32>,
    /// `[n, d]`, only where the MLP's output goes through it (see `via_product`): `hidden ·
    /// W_out`, then `∂L/∂out`.
    out: Vec<f32>,
    /// `[n, p]`: logits, then `∂L/∂logits`.
    logits: Vec<f32>,
    /// Per position a, b: `Σ α · ∂L/∂pre` `[p, heads, d_mlp]` and `Σ α · ∂L/∂logits`
    /// `[p, heads, p]` over each token's pairs; `∂L/∂O` `[p, heads, d]`.
    acc_pre: [Vec<f32>; 2],
    acc_logits: [Vec<f32>; 2],
    d_o: [Vec<f32>; 2],
    /// The sums over all pairs (`=`'s tables and the biases), one row per part of the pairs.
    parts: Vec<f32>,
}

simd_fn! {
    /// `⟨x, y⟩` in 16 interleaved partial sums, added up in a fixed order: vectorises (a plain
    /// `sum()` is one serial chain of adds) and gives the same bits on every target.
    fn dot(x: &[f32], y: &[f32]) -> f32 {
        const L: usize = 16;
        let n = x.len().min(y.len());
        let (xs, xr) = x[..n].as_chunks::<L>();
        let (ys, yr) = y[..n].as_chunks::<L>();
        let mut acc = [0.0f32; L];
        for (a, b) in xs.iter().zip(ys) {
            for l in 0..L {
                acc[l] += a[l] * b[l];
            }
        }
        for half in [8, 4, 2, 1] {
            for l in 0..half {
                acc[l] += acc[l + half];
            }
        }
        let mut total = acc[0];
        for (a, b) in xr.iter().zip(yr) {
            total += a * b;
        }
        total
    }
}

simd_fn! {
    /// `∂L/∂pre` from `∂L/∂hidden` in place: times relu'(pre) · mask, read off the activations
    /// (with a positive mask, hidden > 0 exactly where pre > 0).
    fn slope(g: &mut [f32], hidden: &[f32], mask: Option<&[f32]>) {
        match mask {
            Some(mask) => {
                for ((g, &x), &k) in g.iter_mut().zip(hidden).zip(mask) {
                    *g *= if x > 0.0 { k } else { 0.0 };
                }
            }
            None => {
                for (g, &x) in g.iter_mut().zip(hidden) {
                    *g = if x > 0.0 { *g } else { 0.0 };
                }
            }
        }
    }
}

simd_fn! {
    /// `y += a · x`.
    fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y += a * x;
        }
    }
}

simd_fn! {
    fn add(y: &mut [f32], x: &[f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y += x;
        }
    }
}

/// `x · W` for `W` `[x.len(), cols]`.
fn vm(x: &[f32], w: &[f32], cols: usize) -> Vec<f32> {
    let mut o = vec![0.0; cols];
    for (i, &xi) in x.iter().enumerate() {
        axpy(&mut o, xi, &w[i * cols..][..cols]);
    }
    o
}

/// `W · x` (each row of `W` dotted with `x`).
fn mv(w: &[f32], x: &[f32]) -> Vec<f32> {
    w.chunks(x.len()).map(|row| dot(row, x)).collect()
}

/// `g += x ⊗ y` for `g` `[x.len(), y.len()]`.
fn outer_add(g: &mut [f32], x: &[f32], y: &[f32]) {
    for (row, &xi) in g.chunks_mut(y.len()).zip(x) {
        axpy(row, xi, y);
    }
}

/// A new `[m, n]` = `lhs · rhs`.
fn product([m, n, k]: [usize; 3], lhs: View, rhs: View) -> Vec<f32> {
    let mut o = vec![0.0; m * n];
    mm([m, n, k], &mut o, 0, n, lhs, rhs, false);
    o
}

/// Each row of `t` (row length `row.len()`) plus `row`.
fn add_row(t: &[f32], row: &[f32]) -> Vec<f32> {
    let mut o = t.to_vec();
    for r in o.chunks_mut(row.len()) {
        add(r, row);
    }
    o
}

/// Column sums of `t` (row length `len`).
fn column_sums(t: &[f32], len: usize) -> Vec<f32> {
    let mut o = vec![0.0; len];
    for r in t.chunks(len) {
        add(&mut o, r);
    }
    o
}

/// The gradients of the mean loss over `cols`: the same function as
/// [`Transformer::grads`](crate::model::Transformer::grads) (ReLU MLP), summed in another order.
pub fn grads(w: &Inputs, cols: &Columns, s: &mut Scratch) -> Grads {
    let (p, n) = (cols.p, cols.len());
    let d = w.w_pos.len() / 3;
    let m = w.b_in.len();
    let nh = w.heads;
    assert!(nh > 0 && d % nh == 0, "heads divide d_model");
    assert!(
        w.w_e.len() == (p + 1) * d
            && [w.w_q, w.w_k, w.w_v, w.w_o]
                .iter()
                .all(|x| x.len() == d * d)
            && w.w_in.len() == d * m
            && w.w_out.len() == m * d
            && w.b_out.len() == d
            && w.w_u.len() == d * p,
        "transformer shapes"
    );
    let dh = d / nh;
    let (hd, hm, h3) = (nh * d, nh * m, 3 * nh);
    let c = (1.0 / (dh as f64).sqrt()) as f32;
    let Scratch {
        alpha,
        ds,
        hidden,
        d_pre,
        out,
        logits,
        acc_pre,
        acc_logits,
        d_o,
        parts,
    } = s;

    // Per-token tables. r: the residual at `=` before attention.
    let r: Vec<f32> = (0..d)
        .map(|j| w.w_e[p * d + j] + w.w_pos[2 * d + j])
        .collect();
    let q = vm(&r, w.w_q, d);
    let (k_eq, v_eq) = (vm(&r, w.w_k, d), vm(&r, w.w_v, d));
    let e = View::at(w.w_e, 0, d); // rows 0..p (the numbers)
    let ek = product([p, d, d], e, View::at(w.w_k, 0, d));
    let ev = product([p, d, d], e, View::at(w.w_v, 0, d));
    let pos = |x: usize| &w.w_pos[x * d..][..d];
    let pk = [vm(pos(0), w.w_k, d), vm(pos(1), w.w_k, d)];
    let pv = [vm(pos(0), w.w_v, d), vm(pos(1), w.w_v, d)];
    // Keys and values of token t at position a (0) and b (1): [p, d].
    let keys = [add_row(&ek, &pk[0]), add_row(&ek, &pk[1])];
    let values = [add_row(&ev, &pv[0]), add_row(&ev, &pv[1])];
    // Scores per (token, head), 1/√dh included: [rows, heads].
    let scores = |k: &[f32]| -> Vec<f32> {
        let mut o = Vec::with_capacity(k.len() / dh);
        for row in k.chunks(d) {
            for h in 0..nh {
                o.push(c * dot(&row[h * dh..][..dh], &q[h * dh..][..dh]));
            }
        }
        o
    };
    let s_tab = [scores(&keys[0]), scores(&keys[1])];
    let s_eq = scores(&k_eq);
    // Head outputs O[t, h] = V[t]_h · W_O[h] [rows, heads, d], and O · W_in [rows, heads, d_mlp].
    let heads_out = |v: &[f32], rows: usize| {
        let mut o = vec![0.0; rows * hd];
        for h in 0..nh {
            let (vh, wo) = (View::at(v, h * dh, d), View::at(w.w_o, h * dh * d, d));
            mm([rows, d, dh], &mut o, h * d, hd, vh, wo, false);
        }
        o
    };
    let o_tab = [heads_out(&values[0], p), heads_out(&values[1], p)];
    let o_eq = heads_out(&v_eq, 1);
    let w_in = View::at(w.w_in, 0, m);
    let p_tab = [
        product([p * nh, m, d], View::at(&o_tab[0], 0, d), w_in),
        product([p * nh, m, d], View::at(&o_tab[1], 0, d), w_in),
    ];
    let p_eq = product([nh, m, d], View::at(&o_eq, 0, d), w_in);
    let mut pre_base = vm(&r, w.w_in, m);
    add(&mut pre_base, w.b_in);
    let mut out_base = r.clone();
    add(&mut out_base, w.b_out);

    // Attention at `=` per pair and head: softmax over the scores of (a, b, =).
    let tokens = |i: usize| [cols.a[i] as usize, cols.b[i] as usize];
    alpha.resize(n * h3, 0.0);
    for_rows(
        alpha,
        h3,
        || (),
        |_, i, row| {
            let t = tokens(i);
            for h in 0..nh {
                let x = [s_tab[0][t[0] * nh + h], s_tab[1][t[1] * nh + h], s_eq[h]];
                let max = x[0].max(x[1]).max(x[2]);
                let e = x.map(|v| exp(v - max));
                let sum = e[0] + e[1] + e[2];
                for j in 0..3 {
                    row[3 * h + j] = e[j] / sum;
                }
            }
        },
    );
    let alpha = &*alpha;

    // A pair's row of `base + Σ_h α · table[token, h]` over the three positions.
    let mix = |i: usize, row: &mut [f32], base: &[f32], tabs: [&[f32]; 2], eq: &[f32]| {
        let len = base.len();
        row.copy_from_slice(base);
        let (al, t) = (&alpha[i * h3..][..h3], tokens(i));
        for h in 0..nh {
            for x in 0..2 {
                axpy(row, al[3 * h + x], &tabs[x][(t[x] * nh + h) * len..][..len]);
            }
            axpy(row, al[3 * h + 2], &eq[h * len..][..len]);
        }
    };
    hidden.resize(n * m, 0.0);
    for_rows(
        hidden,
        m,
        || (),
        |_, i, row| {
            mix(i, row, &pre_base, [&p_tab[0], &p_tab[1]], &p_eq);
            for x in row.iter_mut() {
                *x = if *x > 0.0 { *x } else { 0.0 };
            }
            if let Some(mask) = w.mask {
                for (x, &k) in row.iter_mut().zip(mask) {
                    *x *= k;
                }
            }
        },
    );
    // The logits are linear in the residual: `logits = out_base · W_u + Σ α · (O · W_u) +
    // hidden · W_out · W_u`, so the attention's part mixes tables `[p, heads, p]` per pair (no
    // `[n, d] × [d, p]` product), and the backward never forms `∂L/∂out` per pair: its sums are
    // the sums of `α · ∂L/∂logits` (length p) times `W_uᵀ`.
    let w_u = View::at(w.w_u, 0, p);
    let ou_tab = [
        product([p * nh, p, d], View::at(&o_tab[0], 0, d), w_u),
        product([p * nh, p, d], View::at(&o_tab[1], 0, d), w_u),
    ];
    let ou_eq = product([nh, p, d], View::at(&o_eq, 0, d), w_u);
    let logit_base = vm(&out_base, w.w_u, p);
    logits.resize(n * p, 0.0);
    for_rows(
        logits,
        p,
        || (),
        |_, i, row| mix(i, row, &logit_base, [&ou_tab[0], &ou_tab[1]], &ou_eq),
    );
    // The MLP's part, `hidden · W_out · W_u`, in the cheaper order: through `W_out · W_u`
    // `[d_mlp, p]` (3·n·d_mlp·p multiply-adds a step, plus tables: the preset's), or through
    // `hidden · W_out` `[n, d]` (3·n·d·(d_mlp + p)).
    let hid = View::at(hidden, 0, m);
    let w_out_t = View::t(w.w_out, 0, d);
    let w_u_t = View::t(w.w_u, 0, p);
    let via_product = m * p * (n + d) <= n * d * (m + p);
    let w_out_u = if via_product {
        product([m, p, d], View::at(w.w_out, 0, d), w_u)
    } else {
        out.resize(n * d, 0.0);
        mm([n, d, m], out, 0, d, hid, View::at(w.w_out, 0, d), false);
        Vec::new()
    };
    if via_product {
        mm([n, p, m], logits, 0, p, hid, View::at(&w_out_u, 0, p), true);
    } else {
        mm([n, p, d], logits, 0, p, View::at(out, 0, d), w_u, true);
    }
    loss_gradient_rows(logits, cols, w.loss);
    let d_logits = View::at(logits, 0, p);

    // Backward through the MLP's output layer: W_out's gradient, the MLP's part of W_u's, and
    // ∂L/∂hidden = ∂L/∂logits · (W_out · W_u)ᵀ into d_pre's buffer.
    d_pre.resize(n * m, 0.0);
    let (g_out, mut g_u) = if via_product {
        let g = product([m, p, n], View::t(hidden, 0, m), d_logits);
        let g_out = product([m, d, p], View::at(&g, 0, p), w_u_t);
        let g_u = product([d, p, m], w_out_t, View::at(&g, 0, p));
        mm([n, m, p], d_pre, 0, m, d_logits, View::t(&w_out_u, 0, p), false);
        (g_out, g_u)
    } else {
        let g_u = product([d, p, n], View::t(out, 0, d), d_logits);
        mm([n, d, p], out, 0, d, d_logits, w_u_t, false);
        let d_out = View::at(out, 0, d);
        let g_out = product([m, d, n], View::t(hidden, 0, m), d_out);
        mm([n, m, d], d_pre, 0, m, d_out, w_out_t, false);
        (g_out, g_u)
    };
    let hidden = &*hidden;
    let d_logits = &*logits;

    // Per pair: ∂L/∂pre's slope in place; ∂L/∂α per head, ⟨∂L/∂resid, O⟩ with ∂L/∂resid =
    // ∂L/∂out + ∂L/∂pre · W_inᵀ and ∂L/∂out = ∂L/∂logits · W_uᵀ, so ⟨∂L/∂logits, O · W_u⟩ +
    // ⟨∂L/∂pre, O · W_in⟩; then through the softmax to the scores.
    ds.resize(n * h3, 0.0);
    for_row_pairs(d_pre, m, ds, h3, |i, gp, row| {
        slope(gp, &hidden[i * m..][..m], w.mask);
        let (al, t) = (&alpha[i * h3..][..h3], tokens(i));
        let gl = &d_logits[i * p..][..p];
        let gp = &*gp;
        for h in 0..nh {
            let da = |x: usize| {
                let k = t[x] * nh + h;
                dot(gl, &ou_tab[x][k * p..][..p]) + dot(gp, &p_tab[x][k * m..][..m])
            };
            let d_al = [
                da(0),
                da(1),
                dot(gl, &ou_eq[h * p..][..p]) + dot(gp, &p_eq[h * m..][..m]),
            ];
            let al = &al[3 * h..][..3];
            let mean = al[0] * d_al[0] + al[1] * d_al[1] + al[2] * d_al[2];
            for j in 0..3 {
                row[3 * h + j] = al[j] * (d_al[j] - mean) * c;
            }
        }
    });
    let d_pre = &*d_pre;

    // Per token: Σ α · ∂L/∂pre and Σ α · ∂L/∂logits over the token's pairs at positions a and b.
    let per_token = |acc: &mut Vec<f32>, grad: &[f32], len: usize, groups: &Groups, x: usize| {
        acc.resize(p * nh * len, 0.0);
        for_rows(
            acc,
            nh * len,
            || (),
            |_, t, row| {
                row.fill(0.0);
                for &i in groups.get(t) {
                    let i = i as usize;
                    let g = &grad[i * len..][..len];
                    for h in 0..nh {
                        axpy(&mut row[h * len..][..len], alpha[i * h3 + 3 * h + x], g);
                    }
                }
            },
        );
    };
    for (x, groups) in [&cols.by_a, &cols.by_b].into_iter().enumerate() {
        per_token(&mut acc_pre[x], d_pre, m, groups, x);
        per_token(&mut acc_logits[x], d_logits, p, groups, x);
    }
    // Over all pairs: `=`'s α-weighted sums and the sums for the biases, in fixed parts.
    const PARTS: usize = 8;
    let per = n.div_ceil(PARTS).max(1);
    let (hp, len) = (nh * p, hm + nh * p + m + p);
    parts.resize(PARTS * len, 0.0);
    for_rows(
        parts,
        len,
        || (),
        |_, part, row| {
            row.fill(0.0);
            let (e_pre, rest) = row.split_at_mut(hm);
            let (e_logits, rest) = rest.split_at_mut(hp);
            let (gb_in, sum_logits) = rest.split_at_mut(m);
            for i in part * per..((part + 1) * per).min(n) {
                let (gl, gp) = (&d_logits[i * p..][..p], &d_pre[i * m..][..m]);
                for h in 0..nh {
                    let ae = alpha[i * h3 + 3 * h + 2];
                    axpy(&mut e_pre[h * m..][..m], ae, gp);
                    axpy(&mut e_logits[h * p..][..p], ae, gl);
                }
                add(gb_in, gp);
                add(sum_logits, gl);
            }
        },
    );
    let mut sums = parts[..len].to_vec();
    for part in parts.chunks(len).skip(1) {
        add(&mut sums, part);
    }
    let (acc_e_pre, rest) = sums.split_at_mut(hm);
    let (acc_e_logits, rest) = rest.split_at_mut(hp);
    let (g_b_in, sum_logits) = rest.split_at_mut(m);
    let (acc_e_logits, sum_logits) = (&*acc_e_logits, &*sum_logits);
    let g_b_out = mv(w.w_u, sum_logits);
    // Scores' gradients per (token, head) and for `=`.
    let mut ds_tab = [vec![0.0f32; p * nh], vec![0.0f32; p * nh]];
    let mut ds_eq = vec![0.0f32; nh];
    for i in 0..n {
        let t = tokens(i);
        for h in 0..nh {
            let g = &ds[i * h3 + 3 * h..][..3];
            ds_tab[0][t[0] * nh + h] += g[0];
            ds_tab[1][t[1] * nh + h] += g[1];
            ds_eq[h] += g[2];
        }
    }

    // W_u's gradient, outᵀ · ∂L/∂logits, the residual written out through the tables.
    outer_add(&mut g_u, &out_base, sum_logits);
    for x in 0..2 {
        let o = View::t(&o_tab[x], 0, d);
        mm([d, p, p * nh], &mut g_u, 0, p, o, View::at(&acc_logits[x], 0, p), true);
    }
    let o = View::t(&o_eq, 0, d);
    mm([d, p, nh], &mut g_u, 0, p, o, View::at(acc_e_logits, 0, p), true);

    // ∂L/∂O = Σ α · ∂L/∂resid = (Σ α · ∂L/∂logits) · W_uᵀ + acc_pre · W_inᵀ.
    let w_in_t = View::t(w.w_in, 0, m);
    for x in 0..2 {
        let (dox, acc) = (&mut d_o[x], View::at(&acc_logits[x], 0, p));
        dox.resize(p * nh * d, 0.0);
        mm([p * nh, d, p], dox, 0, d, acc, w_u_t, false);
        let acc = View::at(&acc_pre[x], 0, m);
        mm([p * nh, d, m], dox, 0, d, acc, w_in_t, true);
    }
    let mut d_o_eq = product([nh, d, p], View::at(acc_e_logits, 0, p), w_u_t);
    let acc = View::at(acc_e_pre, 0, m);
    mm([nh, d, m], &mut d_o_eq, 0, d, acc, w_in_t, true);
    let (d_o, d_o_eq) = (&*d_o, &d_o_eq);
    // W_in: residᵀ · ∂L/∂pre, the residual written out through the tables.
    let mut g_in = vec![0.0f32; d * m];
    for x in 0..2 {
        let o = View::t(&o_tab[x], 0, d);
        mm(
            [d, m, p * nh],
            &mut g_in,
            0,
            m,
            o,
            View::at(&acc_pre[x], 0, m),
            true,
        );
    }
    mm(
        [d, m, nh],
        &mut g_in,
        0,
        m,
        View::t(&o_eq, 0, d),
        View::at(acc_e_pre, 0, m),
        true,
    );
    outer_add(&mut g_in, &r, g_b_in);

    // Through O = V_h · W_O[h]: W_O's gradient per head (rows h·dh..), and the values'.
    let mut g_o = vec![0.0f32; d * d];
    let mut d_values = [vec![0.0f32; p * d], vec![0.0f32; p * d]];
    let mut d_v_eq = vec![0.0f32; d];
    for h in 0..nh {
        let (rows, wo_t) = (h * dh * d, View::t(w.w_o, h * dh * d, d));
        for x in 0..2 {
            let (v, g) = (View::t(&values[x], h * dh, d), View::at(&d_o[x], h * d, hd));
            mm([dh, d, p], &mut g_o, rows, d, v, g, true);
            mm([p, dh, d], &mut d_values[x], h * dh, d, g, wo_t, false);
        }
        let g = View::at(d_o_eq, h * d, d);
        mm(
            [dh, d, 1],
            &mut g_o,
            rows,
            d,
            View::t(&v_eq, h * dh, 1),
            g,
            true,
        );
        mm([1, dh, d], &mut d_v_eq, h * dh, dh, g, wo_t, false);
    }
    // Through the scores S = c · K_h · q_h: the keys', the query's.
    let mut d_keys = [vec![0.0f32; p * d], vec![0.0f32; p * d]];
    let mut d_q = vec![0.0f32; d];
    for x in 0..2 {
        for t in 0..p {
            for h in 0..nh {
                let g = ds_tab[x][t * nh + h];
                let cols_h = (t * d + h * dh)..(t * d + (h + 1) * dh);
                axpy(&mut d_keys[x][cols_h.clone()], g, &q[h * dh..][..dh]);
                axpy(&mut d_q[h * dh..][..dh], g, &keys[x][cols_h]);
            }
        }
    }
    let mut d_k_eq = vec![0.0f32; d];
    for h in 0..nh {
        axpy(&mut d_k_eq[h * dh..][..dh], ds_eq[h], &q[h * dh..][..dh]);
        axpy(&mut d_q[h * dh..][..dh], ds_eq[h], &k_eq[h * dh..][..dh]);
    }

    // Keys and values are E[t]·W + P[x]·W (positions a, b) and r·W (`=`).
    let et = View::t(w.w_e, 0, d);
    let table_grads = |dx: &[Vec<f32>; 2], d_eq: &[f32]| {
        let mut d_e = dx[0].clone();
        add(&mut d_e, &dx[1]);
        let d_p = [column_sums(&dx[0], d), column_sums(&dx[1], d)];
        let mut g = product([d, d, p], et, View::at(&d_e, 0, d));
        outer_add(&mut g, pos(0), &d_p[0]);
        outer_add(&mut g, pos(1), &d_p[1]);
        outer_add(&mut g, &r, d_eq);
        (g, d_e, d_p)
    };
    let (g_k, d_ek, d_pk) = table_grads(&d_keys, &d_k_eq);
    let (g_v, d_ev, d_pv) = table_grads(&d_values, &d_v_eq);
    let mut g_q = vec![0.0f32; d * d];
    outer_add(&mut g_q, &r, &d_q);

    // r = E[=] + P[2] reaches every pair's residual, the query, `=`'s key and value.
    let mut d_r = g_b_out.to_vec();
    for x in [
        mv(w.w_in, g_b_in),
        mv(w.w_q, &d_q),
        mv(w.w_k, &d_k_eq),
        mv(w.w_v, &d_v_eq),
    ] {
        add(&mut d_r, &x);
    }
    let (w_kt, w_vt) = (View::t(w.w_k, 0, d), View::t(w.w_v, 0, d));
    let mut g_e = vec![0.0f32; (p + 1) * d];
    mm(
        [p, d, d],
        &mut g_e,
        0,
        d,
        View::at(&d_ek, 0, d),
        w_kt,
        false,
    );
    mm([p, d, d], &mut g_e, 0, d, View::at(&d_ev, 0, d), w_vt, true);
    g_e[p * d..].copy_from_slice(&d_r);
    let mut g_pos = vec![0.0f32; 3 * d];
    for x in 0..2 {
        let row = &mut g_pos[x * d..][..d];
        row.copy_from_slice(&mv(w.w_k, &d_pk[x]));
        add(row, &mv(w.w_v, &d_pv[x]));
    }
    g_pos[2 * d..].copy_from_slice(&d_r);

    Grads {
        w_e: g_e,
        w_pos: g_pos,
        w_q: g_q,
        w_k: g_k,
        w_v: g_v,
        w_o: g_o,
        w_in: g_in,
        b_in: g_b_in.to_vec(),
        w_out: g_out,
        b_out: g_b_out.to_vec(),
        w_u: g_u,
    }
}
