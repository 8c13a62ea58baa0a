//! The training steps on the host, for the CPU backend: Gromov's MLP here, Nanda's transformer
//! in [`transformer`].
//!
//! Gromov's MLP step on the host, for the CPU backend (where "reading" a tensor is a copy): the
//! closed-form gradients of [`Mlp::grads`](crate::model::Mlp::grads) in five passes over
//! buffers kept from step to step, with the three matmuls through `gemm` (the kernels burn's CPU
//! backend calls, here without the tensor ops between them: no graph, no temporaries, no
//! one-hot matrix, no scatter). Natively the passes and the matmuls use every core; in wasm they
//! run in order. Every sum runs in the same order either way, so the numbers do not depend on
//! the number of threads.
//!
//! The passes: `pre = w_in[a] + w_in[p + b]` and `hidden = act(pre)` (one pass); `logits =
//! hidden · w_out`; `∂L/∂logits` in place (softmax − one-hot, from the labels); `g_out =
//! hiddenᵀ · ∂L/∂logits`; `∂L/∂hidden = ∂L/∂logits · w_outᵀ` (into `hidden`'s buffer); and
//! `g_in`, `∂L/∂hidden · act'(pre)` added into the two rows each pair looks up, a fixed number
//! of parts of the pairs summed apart and then in order.

use crate::config::LossKind;
use neurolab_base::rows::{for_row_pairs, for_rows};

pub mod transformer;

/// The training pairs as the host step takes them, built once per session.
#[derive(Debug, Clone)]
pub struct Columns {
    pub a: Vec<u32>,
    pub b: Vec<u32>,
    pub y: Vec<u32>,
    pub p: usize,
    /// The pairs grouped by `a` and by `b` (the transformer's per-token sums).
    pub by_a: Groups,
    pub by_b: Groups,
}

impl Columns {
    /// Columns `a`, `b`, `y` (equal lengths, values below `p`).
    pub fn new(a: &[i32], b: &[i32], y: &[i32], p: usize) -> Self {
        let col = |v: &[i32]| -> Vec<u32> { v.iter().map(|&x| x as u32).collect() };
        let (a, b) = (col(a), col(b));
        Self {
            by_a: Groups::new(&a, p),
            by_b: Groups::new(&b, p),
            a,
            b,
            y: col(y),
            p,
        }
    }

    pub fn len(&self) -> usize {
        self.a.len()
    }

    pub fn is_empty(&self) -> bool {
        self.a.is_empty()
    }
}

/// Row indices grouped by their value below `p`: group `t` lists, in row order, the rows whose
/// value is `t` (a counting sort, built once per session).
#[derive(Debug, Clone)]
pub struct Groups {
    start: Vec<usize>,
    rows: Vec<u32>,
}

impl Groups {
    pub fn new(values: &[u32], p: usize) -> Self {
        let mut start = vec![0usize; p + 1];
        for &v in values {
            start[v as usize + 1] += 1;
        }
        for t in 0..p {
            start[t + 1] += start[t];
        }
        let mut next = start.clone();
        let mut rows = vec![0u32; values.len()];
        for (i, &v) in values.iter().enumerate() {
            rows[next[v as usize]] = i as u32;
            next[v as usize] += 1;
        }
        Self { start, rows }
    }

    /// The rows whose value is `t`.
    pub fn get(&self, t: usize) -> &[u32] {
        &self.rows[self.start[t]..self.start[t + 1]]
    }
}

/// One step's inputs: the weights read back row-major, the hidden mask (0 = ablated).
pub struct MlpInputs<'a> {
    /// `[2p, H]`.
    pub w_in: &'a [f32],
    /// `[H, p]`.
    pub w_out: &'a [f32],
    pub mask: Option<&'a [f32]>,
    pub quadratic: bool,
    pub loss: LossKind,
}

/// The buffers one step needs, kept between steps (`[n, H]` twice and `[n, p]`: 20 MB at the
/// preset), so a step allocates only its two gradients.
#[derive(Debug, Default)]
pub struct Scratch {
    pre: Vec<f32>,
    hidden: Vec<f32>,
    logits: Vec<f32>,
    /// `g_in`'s partial sums, one `[2p, H]` per part of the pairs.
    parts: Vec<f32>,
    /// The transformer's buffers.
    pub(crate) transformer: transformer::Scratch,
}

/// Defines `fn $name` whose body is compiled for AVX-512 and AVX2 as well as the baseline, picked
/// at run time on x86-64 (the native CLI is built for baseline x86-64, SSE2 only; gemm dispatches
/// its own kernels the same way). Only the vector width changes: no FMA contraction, so each
/// variant gives the same bits as the others and as SIMD128 in wasm.
macro_rules! simd_fn {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($a:ident: $t:ty),* $(,)?) $(-> $r:ty)? $body:block) => {
        $(#[$m])*
        $vis fn $name($($a: $t),*) $(-> $r)? {
            #[inline(always)]
            fn body($($a: $t),*) $(-> $r)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn v4($($a: $t),*) $(-> $r)? { body($($a),*) }
                #[target_feature(enable = "avx2")]
                fn v3($($a: $t),*) $(-> $r)? { body($($a),*) }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F.
                    return unsafe { v4($($a),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2.
                    return unsafe { v3($($a),*) };
                }
            }
            body($($a),*)
        }
    };
}
pub(crate) use simd_fn;

/// A matrix inside a slice: entry `(i, j)` at `off + i·rs + j·cs`. Transposes are strides,
/// never copies.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    data: &'a [f32],
    off: usize,
    rs: usize,
    cs: usize,
}

impl<'a> View<'a> {
    /// The row-major matrix at `off` with row stride `rs`.
    pub(crate) fn at(data: &'a [f32], off: usize, rs: usize) -> Self {
        Self {
            data,
            off,
            rs,
            cs: 1,
        }
    }

    /// The transpose of the row-major matrix at `off` with row stride `rs`.
    pub(crate) fn t(data: &'a [f32], off: usize, rs: usize) -> Self {
        Self {
            data,
            off,
            rs: 1,
            cs: rs,
        }
    }

    fn check(&self, rows: usize, cols: usize) {
        let last = self.off + (rows - 1) * self.rs + (cols - 1) * self.cs;
        assert!(last < self.data.len(), "matrix view out of bounds");
    }
}

/// `dst[m, n]` (at `off`, row stride `rs`) `= lhs · rhs`, or `+=` with `add`, through gemm (the
/// kernels burn's CPU backend calls). Bounds are checked; `dst` cannot overlap the operands.
pub(crate) fn mm(
    [m, n, k]: [usize; 3],
    dst: &mut [f32],
    off: usize,
    rs: usize,
    lhs: View,
    rhs: View,
    add: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(m == 1 || rs >= n, "rows of dst overlap");
    assert!(off + (m - 1) * rs + n <= dst.len(), "dst out of bounds");
    if k == 0 {
        if !add {
            for i in 0..m {
                dst[off + i * rs..][..n].fill(0.0);
            }
        }
        return;
    }
    lhs.check(m, k);
    rhs.check(k, n);
    // Below burn-flex's threshold (192³ multiply-adds) splitting costs more than it saves.
    #[cfg(not(target_family = "wasm"))]
    let parallelism = if m * n * k >= 192 * 192 * 192 {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    #[cfg(target_family = "wasm")]
    let parallelism = gemm::Parallelism::None;
    let s = |x: usize| x as isize;
    // SAFETY: every entry the dims and strides address is in bounds (checked above), and `dst`
    // is a unique borrow, so it overlaps neither operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr().add(off),
            1,
            s(rs),
            add,
            lhs.data.as_ptr().add(lhs.off),
            s(lhs.cs),
            s(lhs.rs),
            rhs.data.as_ptr().add(rhs.off),
            s(rhs.cs),
            s(rhs.rs),
            if add { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `eᵡ` to about 2 ulp (Cephes' `expf`: `2ⁿ · e^r`, `|r| ≤ ln 2 / 2`, a degree-6 polynomial),
/// written without branches or calls so that the softmax's loop vectorises (SIMD128 in wasm,
/// where `f32::exp` is a scalar libm call per entry), and the same bits on every target.
/// Inputs below −87.3 give 2⁻¹²⁶ (the softmax only takes `x − max ≤ 0`).
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.336_55, 88.0);
    // n = round(x / ln 2) by the 1.5·2²³ trick (round to nearest, vectorisable).
    const MAGIC: f32 = 12_582_912.0;
    let n = (x * std::f32::consts::LOG2_E + MAGIC) - MAGIC;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let z = r * r;
    let y = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 5.000_000_1e-1;
    let y = y * z + r + 1.0;
    y * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// `∂L/∂logits` `[n, p]` in place, from the labels: CE → (softmax − onehot)/n, MSE →
/// 2(l − onehot)/(n·p).
pub(crate) fn loss_gradient_rows(logits: &mut [f32], cols: &Columns, loss: LossKind) {
    let (n, p) = (cols.len(), cols.p);
    let (ce, scale) = match loss {
        LossKind::Ce => (true, (1.0 / n as f64) as f32),
        LossKind::Mse => (false, (2.0 / (n * p) as f64) as f32),
    };
    for_rows(
        logits,
        p,
        || (),
        |_, r, row| {
            if ce {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                for x in row.iter_mut() {
                    *x = exp(*x - max);
                }
                let sum: f32 = row.iter().sum();
                for x in row.iter_mut() {
                    *x /= sum;
                }
            }
            row[cols.y[r] as usize] -= 1.0;
            for x in row.iter_mut() {
                *x *= scale;
            }
        },
    );
}

/// The gradients `(∂L/∂w_in [2p, H], ∂L/∂w_out [H, p])` of the mean loss over `cols`, row-major:
/// the same function as [`Mlp::grads`](crate::model::Mlp::grads), in the same order of
/// operations per element.
pub fn mlp_grads(inp: &MlpInputs, cols: &Columns, s: &mut Scratch) -> (Vec<f32>, Vec<f32>) {
    let p = cols.p;
    let n = cols.len();
    let h = inp.w_out.len() / p.max(1);
    assert_eq!(inp.w_in.len(), 2 * p * h, "w_in is [2p, H]");
    if n == 0 || h == 0 {
        return (vec![0.0; 2 * p * h], vec![0.0; h * p]);
    }
    s.pre.resize(n * h, 0.0);
    s.hidden.resize(n * h, 0.0);
    s.logits.resize(n * p, 0.0);
    let (w_in, w_out, mask) = (inp.w_in, inp.w_out, inp.mask);

    // pre and hidden, row by row.
    for_row_pairs(&mut s.pre, h, &mut s.hidden, h, |r, pre, hid| {
        let wa = &w_in[cols.a[r] as usize * h..][..h];
        let wb = &w_in[(p + cols.b[r] as usize) * h..][..h];
        for (x, (&u, &v)) in pre.iter_mut().zip(wa.iter().zip(wb)) {
            *x = u + v;
        }
        if inp.quadratic {
            for (o, &x) in hid.iter_mut().zip(pre.iter()) {
                *o = x * x;
            }
        } else {
            for (o, &x) in hid.iter_mut().zip(pre.iter()) {
                *o = if x > 0.0 { x } else { 0.0 };
            }
        }
        if let Some(m) = mask {
            for (o, &mj) in hid.iter_mut().zip(m) {
                *o *= mj;
            }
        }
    });

    // logits [n, p] = hidden [n, H] · w_out [H, p].
    mm(
        [n, p, h],
        &mut s.logits,
        0,
        p,
        View::at(&s.hidden, 0, h),
        View::at(w_out, 0, p),
        false,
    );

    loss_gradient_rows(&mut s.logits, cols, inp.loss);

    // g_out [H, p] = hiddenᵀ · ∂L/∂logits; then ∂L/∂hidden [n, H] = ∂L/∂logits · w_outᵀ into
    // hidden's buffer.
    let mut g_out = vec![0.0f32; h * p];
    let d_logits = View::at(&s.logits, 0, p);
    mm(
        [h, p, n],
        &mut g_out,
        0,
        p,
        View::t(&s.hidden, 0, h),
        d_logits,
        false,
    );
    mm(
        [n, h, p],
        &mut s.hidden,
        0,
        h,
        d_logits,
        View::t(w_out, 0, p),
        false,
    );

    // g_in: ∂L/∂pre = ∂L/∂hidden · act'(pre) (· mask), added into rows a and p + b of each
    // pair. The pairs in PARTS fixed parts, each summed in pair order into its own copy of g_in
    // (a part per task: pre and ∂L/∂hidden are read once, row by row), then the copies in order:
    // the same sums whatever the number of threads.
    const PARTS: usize = 8;
    let per = n.div_ceil(PARTS);
    s.parts.resize(PARTS * 2 * p * h, 0.0);
    let (pre, d_hidden) = (&s.pre, &s.hidden);
    let ones = vec![1.0f32; if mask.is_some() { 0 } else { h }];
    let m = mask.unwrap_or(&ones[..]);
    for_rows(
        &mut s.parts,
        2 * p * h,
        Vec::new,
        |dp: &mut Vec<f32>, part, g| {
            g.fill(0.0);
            dp.resize(h, 0.0);
            for r in part * per..((part + 1) * per).min(n) {
                let x = &pre[r * h..][..h];
                let d = &d_hidden[r * h..][..h];
                let terms = dp.iter_mut().zip(d.iter().zip(x)).zip(m);
                if inp.quadratic {
                    for ((o, (&d, &x)), &m) in terms {
                        *o = d * (x * 2.0 * m);
                    }
                } else {
                    for ((o, (&d, &x)), &m) in terms {
                        *o = d * (if x > 0.0 { m } else { 0.0 });
                    }
                }
                for q in [cols.a[r] as usize, p + cols.b[r] as usize] {
                    for (g, &v) in g[q * h..][..h].iter_mut().zip(dp.iter()) {
                        *g += v;
                    }
                }
            }
        },
    );
    let mut g_in = s.parts[..2 * p * h].to_vec();
    for part in s.parts.chunks(2 * p * h).skip(1) {
        for (g, &v) in g_in.iter_mut().zip(part) {
            *g += v;
        }
    }
    (g_in, g_out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut worst = 0f64;
        for i in 0..=200_000 {
            let x = -87.0 + 175.0 * i as f32 / 200_000.0;
            let (got, want) = (super::exp(x) as f64, (x as f64).exp());
            worst = worst.max((got - want).abs() / want);
        }
        assert!(worst < 2.5e-7, "relative error {worst}");
        assert_eq!(super::exp(0.0), 1.0);
        assert!(super::exp(-1000.0) >= 0.0 && super::exp(-1000.0) < 1e-37);
    }
}
