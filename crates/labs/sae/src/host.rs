//! The TopK step on the host, for the CPU backend (where "reading" a tensor is a copy): partial
//! top-k selection and the step's gradients written out, with no autodiff graph. Rows are
//! independent, so natively they run on every core (rayon); in wasm, in order. Every sum runs
//! in the same order either way, so the numbers do not depend on the number of threads.

use neurolab_base::rows::{for_row_pairs, for_rows};

/// A value's place in `f32::total_cmp`'s order as an unsigned integer: negative values with all
/// bits flipped, the others with the sign bit set.
fn order_bits(v: f32) -> u32 {
    let bits = v.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

/// The inverse of [`order_bits`].
fn from_order_bits(o: u32) -> f32 {
    f32::from_bits(if o >> 31 == 1 { o & 0x7fff_ffff } else { !o })
}

/// A selection key: the value's total order above the complement of its column, so a larger key
/// is a larger value or, for equal values, the lower column.
fn key(v: f32, j: usize) -> u64 {
    (u64::from(order_bits(v)) << 32) | u64::from(u32::MAX - j as u32)
}

fn key_column(key: u64) -> usize {
    (u32::MAX - key as u32) as usize
}

/// Restores the min-heap property below `i`.
fn sift_down(heap: &mut [u64], mut i: usize) {
    let n = heap.len();
    loop {
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut m = i;
        if l < n && heap[l] < heap[m] {
            m = l;
        }
        if r < n && heap[r] < heap[m] {
            m = r;
        }
        if m == i {
            return;
        }
        heap.swap(i, m);
        i = m;
    }
}

/// The `out.len()` largest entries of `row` as keys ([`key`]), largest first. One pass over a
/// min-heap of the winners so far: a block of 16 entries is skipped when none reaches the
/// smallest winner (a compare the compiler vectorises; `!(v < t)` also lets NaN through to the
/// exact key comparison), so almost every entry costs one compare.
fn row_top_k(row: &[f32], heap: &mut Vec<u64>, out: &mut [u64]) {
    let k = out.len();
    heap.clear();
    heap.extend(row[..k].iter().enumerate().map(|(j, &v)| key(v, j)));
    for i in (0..k / 2).rev() {
        sift_down(heap, i);
    }
    let mut t = from_order_bits((heap[0] >> 32) as u32);
    let consider = |heap: &mut Vec<u64>, t: &mut f32, j: usize, v: f32| {
        let kj = key(v, j);
        if kj > heap[0] {
            heap[0] = kj;
            sift_down(heap, 0);
            *t = from_order_bits((heap[0] >> 32) as u32);
        }
    };
    const BLOCK: usize = 16;
    let mut j = k;
    while j + BLOCK <= row.len() {
        let block = &row[j..j + BLOCK];
        if block.iter().fold(false, |any, &v| any | !(v < t)) {
            for (o, &v) in block.iter().enumerate() {
                if !(v < t) {
                    consider(heap, &mut t, j + o, v);
                }
            }
        }
        j += BLOCK;
    }
    for (o, &v) in row[j..].iter().enumerate() {
        consider(heap, &mut t, j + o, v);
    }
    heap.sort_unstable_by(|a, b| b.cmp(a));
    out.copy_from_slice(heap);
}

/// Per row of the row-major `values` (`cols` columns) the k largest entries as keys, `[rows, k]`.
fn top_k_keys(values: &[f32], cols: usize, k: usize) -> Vec<u64> {
    let rows = values.len() / cols.max(1);
    let mut keys = vec![0u64; rows * k];
    for_rows(&mut keys, k, Vec::new, |heap, r, out| {
        row_top_k(&values[r * cols..(r + 1) * cols], heap, out)
    });
    keys
}

/// Per row of the row-major `values` with `cols` columns the k largest (ties to the lower
/// column), largest first, as `(values, column indices)` flattened `[rows, k]` — the order of a
/// stable descending sort, by partial selection in O(cols) per row where a sort is
/// O(cols · log cols).
pub fn top_k_rows(values: &[f32], cols: usize, k: usize) -> (Vec<f32>, Vec<i32>) {
    let k = k.min(cols);
    let keys = top_k_keys(values, cols, k);
    let idx: Vec<i32> = keys.iter().map(|&h| key_column(h) as i32).collect();
    let vals = idx
        .iter()
        .enumerate()
        .map(|(n, &j)| values[(n / k) * cols + j as usize])
        .collect();
    (vals, idx)
}

/// The inputs of one TopK step, row-major on the host.
pub struct TopkInputs<'a> {
    /// `[B, d]`.
    pub x: &'a [f32],
    /// Dense pre-activations `(x − b_dec) · w_encᵀ + b_enc`, `[B, L]`.
    pub pre: &'a [f32],
    /// `[L, d]`.
    pub w_enc: &'a [f32],
    /// `[L, d]`.
    pub w_dec: &'a [f32],
    /// `[d]`.
    pub b_dec: &'a [f32],
    /// Dead latents (AuxK on), `[L]`; `None`: no AuxK term.
    pub dead: Option<&'a [bool]>,
    pub d: usize,
    pub k: usize,
    pub k_aux: usize,
    pub aux_coef: f32,
}

/// What [`topk_grads_host`] returns: the four gradients, the two loss terms, the fired latents.
pub struct HostGrads {
    pub w_enc: Vec<f32>,
    pub b_enc: Vec<f32>,
    pub w_dec: Vec<f32>,
    pub b_dec: Vec<f32>,
    pub recon: f32,
    pub aux: f32,
    pub fired: Vec<bool>,
}

/// `y += a · x`.
fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// One path's selections: per sample `k` (value, latent) pairs, and the sample's residual `r`
/// (`[B, d]`) whose gradient is `scale · r`.
struct Path {
    vals: Vec<f32>,
    idx: Vec<usize>,
    k: usize,
    r: Vec<f32>,
    scale: f32,
    /// Per selection `g_j = scale · r_s · w_dec[i_j]` where the value is positive, else 0.
    gj: Vec<f32>,
}

impl Path {
    fn new(
        vals: Vec<f32>,
        idx: Vec<usize>,
        k: usize,
        r: Vec<f32>,
        scale: f32,
        inp: &TopkInputs,
    ) -> Self {
        let d = inp.d;
        let mut gj = vec![0f32; vals.len()];
        for_rows(
            &mut gj,
            k,
            || (),
            |_, s, out| {
                let r = &r[s * d..(s + 1) * d];
                for (o, (&v, &i)) in out.iter_mut().zip(vals[s * k..].iter().zip(&idx[s * k..])) {
                    if v > 0.0 {
                        *o = scale * dot(r, &inp.w_dec[i * d..(i + 1) * d]);
                    }
                }
            },
        );
        Path {
            vals,
            idx,
            k,
            r,
            scale,
            gj,
        }
    }
}

/// The per-sample residuals of one path: `r_s = base_s + sign · Σ_j z_j w_dec[i_j]` over the
/// positive selections.
fn residuals(
    inp: &TopkInputs,
    base: impl Fn(usize, &mut [f32]) + Sync + Send,
    sign: f32,
    vals: &[f32],
    idx: &[usize],
    k: usize,
) -> Vec<f32> {
    let d = inp.d;
    let b = inp.x.len() / d.max(1);
    let mut r = vec![0f32; b * d];
    for_rows(
        &mut r,
        d,
        || (),
        |_, s, row| {
            base(s, row);
            for (&v, &i) in vals[s * k..(s + 1) * k]
                .iter()
                .zip(&idx[s * k..(s + 1) * k])
            {
                if v > 0.0 {
                    axpy(row, sign * v, &inp.w_dec[i * d..(i + 1) * d]);
                }
            }
        },
    );
    r
}

/// The TopK SAE's gradients written out, O(B·k·d) beyond the given pre-activations. With
/// `z = ReLU` of each sample's k largest pre-activations (ties to the lower latent, as
/// [`top_k_rows`]), `x̂ = b_dec + Σ_j z_j · w_dec[i_j]` and `L = mean_b ‖x − x̂‖²`:
/// `g = ∂L/∂x̂ = −2 (x − x̂) / B`; `∂w_dec[i_j] += z_j g`; `g_j = g · w_dec[i_j]` where `z_j > 0`;
/// `∂w_enc[i_j] += g_j (x − b_dec)`, `∂b_enc[i_j] += g_j`; `∂b_dec = Σ_b g − Σ_j g_j w_enc[i_j]`
/// (b_dec is subtracted before encoding). AuxK (`dead` given, Gao et al. §A.2): the k_aux
/// largest positive pre-activations among dead latents reconstruct `e = x − x̂` (held fixed) as
/// `ê = Σ z_j w_dec[i_j]`, loss `c · mean_b ‖ê − e‖² / Var(e)`, with `b_dec` held fixed on that
/// path: the same chain rule with `g = 2c (ê − e) / (B · Var(e))` and no `∂b_dec` term.
///
/// Per sample (in parallel): the residual and each selection's `g_j`; then per latent (in
/// parallel, each row written once): the sums over the samples that selected it.
pub fn topk_grads_host(inp: &TopkInputs) -> HostGrads {
    let d = inp.d;
    let latents = inp.w_dec.len() / d.max(1);
    let b = inp.x.len() / d.max(1);
    let k = inp.k.min(latents);
    let (vals, idx) = top_k_rows(inp.pre, latents, k);
    let idx: Vec<usize> = idx.into_iter().map(|i| i as usize).collect();
    // e = x − x̂ = (x − b_dec) − Σ z_j w_dec[i_j].
    let x_minus_b = |s: usize, row: &mut [f32]| {
        for ((o, x), m) in row
            .iter_mut()
            .zip(&inp.x[s * d..(s + 1) * d])
            .zip(inp.b_dec)
        {
            *o = x - m;
        }
    };
    let err = residuals(inp, x_minus_b, -1.0, &vals, &idx, k);
    let recon = err.iter().map(|v| f64::from(v * v)).sum::<f64>() / b as f64;
    let main = Path::new(vals, idx, k, err, -2.0 / b as f32, inp);
    let mut fired = vec![false; latents];
    for (&v, &i) in main.vals.iter().zip(&main.idx) {
        if v > 0.0 {
            fired[i] = true;
        }
    }
    let mut paths = vec![main];
    let mut aux = 0f64;
    if let Some(dead) = inp.dead {
        let err = &paths[0].r;
        // Var(e): Σ over d of the per-dimension variance over the batch (population).
        let mut mean = vec![0f64; d];
        for e in err.chunks_exact(d) {
            for (m, e) in mean.iter_mut().zip(e) {
                *m += f64::from(*e);
            }
        }
        mean.iter_mut().for_each(|m| *m /= b as f64);
        let var = err
            .chunks_exact(d)
            .map(|e| {
                e.iter()
                    .zip(&mean)
                    .map(|(e, m)| (f64::from(*e) - m).powi(2))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / b as f64
            + 1e-12;
        // The dead latents' positive pre-activations, per sample, in latent order.
        let cols: Vec<usize> = (0..latents).filter(|&i| dead[i]).collect();
        let ka = inp.k_aux.min(cols.len());
        let mut keys = vec![0u64; b * ka];
        for_rows(
            &mut keys,
            ka,
            || (Vec::new(), Vec::new()),
            |(heap, row), s, out| {
                let pre = &inp.pre[s * latents..(s + 1) * latents];
                row.clear();
                row.extend(cols.iter().map(|&i| pre[i].max(0.0)));
                row_top_k(row, heap, out);
            },
        );
        let aidx: Vec<usize> = keys.iter().map(|&h| cols[key_column(h)]).collect();
        let avals: Vec<f32> = aidx
            .iter()
            .enumerate()
            .map(|(n, &i)| inp.pre[(n / ka.max(1)) * latents + i].max(0.0))
            .collect();
        // ê − e = Σ z_j w_dec[i_j] − e.
        let minus_err = |s: usize, row: &mut [f32]| {
            for (o, e) in row.iter_mut().zip(&err[s * d..(s + 1) * d]) {
                *o = -e;
            }
        };
        let diff = residuals(inp, minus_err, 1.0, &avals, &aidx, ka);
        aux = diff.iter().map(|v| f64::from(v * v)).sum::<f64>() / b as f64 / var
            * f64::from(inp.aux_coef);
        let gscale = (2.0 * f64::from(inp.aux_coef) / (b as f64 * var)) as f32;
        paths.push(Path::new(avals, aidx, ka, diff, gscale, inp));
    }
    // Per latent: the (path, sample, selection) triples that chose it, in sample order.
    let mut start = vec![0usize; latents + 1];
    for p in &paths {
        for (&v, &i) in p.vals.iter().zip(&p.idx) {
            if v > 0.0 {
                start[i + 1] += 1;
            }
        }
    }
    for i in 0..latents {
        start[i + 1] += start[i];
    }
    let mut next = start.clone();
    let mut picks = vec![(0u8, 0u32); start[latents]];
    for s in 0..b {
        for (pi, p) in paths.iter().enumerate() {
            for n in s * p.k..(s + 1) * p.k {
                if p.vals[n] > 0.0 {
                    picks[next[p.idx[n]]] = (pi as u8, n as u32);
                    next[p.idx[n]] += 1;
                }
            }
        }
    }
    let mut gw_enc = vec![0f32; latents * d];
    let mut gw_dec = vec![0f32; latents * d];
    for_row_pairs(&mut gw_enc, d, &mut gw_dec, d, |i, enc, dec| {
        let mut sum_gj = 0f32;
        for &(pi, n) in &picks[start[i]..start[i + 1]] {
            let p = &paths[pi as usize];
            let n = n as usize;
            let s = n / p.k;
            axpy(dec, p.vals[n] * p.scale, &p.r[s * d..(s + 1) * d]);
            axpy(enc, p.gj[n], &inp.x[s * d..(s + 1) * d]);
            sum_gj += p.gj[n];
        }
        // Σ g_j (x − b_dec) = Σ g_j x − (Σ g_j) b_dec.
        axpy(enc, -sum_gj, inp.b_dec);
    });
    let mut gb_enc = vec![0f32; latents];
    let mut gb_enc_main = vec![0f32; latents];
    for i in 0..latents {
        for &(pi, n) in &picks[start[i]..start[i + 1]] {
            let g = paths[pi as usize].gj[n as usize];
            gb_enc[i] += g;
            if pi == 0 {
                gb_enc_main[i] += g;
            }
        }
    }
    // ∂b_dec = Σ_s g_s − Σ_i (Σ_j g_j) w_enc[i], over the main path only.
    let main = &paths[0];
    let mut gb_dec = vec![0f32; d];
    for r in main.r.chunks_exact(d) {
        axpy(&mut gb_dec, main.scale, r);
    }
    for (i, &g) in gb_enc_main.iter().enumerate() {
        if g != 0.0 {
            axpy(&mut gb_dec, -g, &inp.w_enc[i * d..(i + 1) * d]);
        }
    }
    HostGrads {
        w_enc: gw_enc,
        b_enc: gb_enc,
        w_dec: gw_dec,
        b_dec: gb_dec,
        recon: recon as f32,
        aux: aux as f32,
        fired,
    }
}
