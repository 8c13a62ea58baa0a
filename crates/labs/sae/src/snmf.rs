//! Semi-nonnegative matrix factorisation `A ≈ Z W` with `Z ≥ 0` and `W` of any sign (Ding, Li &
//! Jordan 2010, used on MLP activations by Shafran et al. 2025).
//!
//! `A: [N, d]` (samples × activation dims), `Z: [N, L]` (non-negative codes), `W: [L, d]`
//! (features). Each step is Ding et al.'s alternation:
//! - W ← argmin ‖A − Z W‖²: the normal equations `(ZᵀZ) W = ZᵀA`, solved on the device by
//!   conjugate gradients (one independent CG per column of W, warm-started from the previous W,
//!   a tiny ridge keeps ZᵀZ definite when a code column dies). No readback, so it runs in the
//!   browser's worker as it does natively.
//! - Z ← Z ⊙ sqrt( ([AWᵀ]⁺ + Z[WWᵀ]⁻) / ([AWᵀ]⁻ + Z[WWᵀ]⁺) ), which keeps Z ≥ 0 and does not
//!   increase the error (Ding et al., Theorem 1).

use burn::prelude::*;
use neurolab_base::rng::SeededRng;

const INIT_STREAM: u64 = 51;
/// CG iterations: more on the first solve (cold start), then warm-started refinements.
const CG_FIRST: usize = 60;
const CG_ITERS: usize = 12;
/// Ridge, relative to the mean diagonal of ZᵀZ.
const RIDGE_REL: f64 = 1e-6;
const EPS: f64 = 1e-12;

pub struct Snmf {
    pub z: Tensor<2>,
    pub w: Tensor<2>,
    solved_once: bool,
}

fn pos(m: Tensor<2>) -> Tensor<2> {
    (m.clone().abs() + m).mul_scalar(0.5)
}
fn neg(m: Tensor<2>) -> Tensor<2> {
    (m.clone().abs() - m).mul_scalar(0.5)
}

impl Snmf {
    /// Z uniform in [0, 1) (seeded), W = 0 until the first least-squares solve.
    pub fn new(n: usize, latents: usize, d: usize, seed: u64, device: &Device) -> Self {
        let mut rng = SeededRng::new(seed, INIT_STREAM);
        let z: Vec<f32> = (0..n * latents).map(|_| rng.uniform() as f32).collect();
        Self {
            z: Tensor::from_data(TensorData::new(z, [n, latents]), device),
            w: Tensor::zeros([latents, d], device),
            solved_once: false,
        }
    }

    /// W by least squares for the current Z (warm-started CG on the normal equations).
    pub fn solve_w(&mut self, a: &Tensor<2>) {
        let latents = self.z.dims()[1];
        let device = self.z.device();
        let zt = self.z.clone().transpose();
        let gram = zt.clone().matmul(self.z.clone()); // [L, L]
        let ridge = gram
            .clone()
            .mul(Tensor::<2>::eye(latents, &device))
            .sum()
            .div_scalar(latents as f64)
            .mul_scalar(RIDGE_REL)
            .add_scalar(EPS);
        let gram = gram + Tensor::<2>::eye(latents, &device) * ridge.unsqueeze::<2>();
        let rhs = zt.matmul(a.clone()); // [L, d]
        let iters = if self.solved_once { CG_ITERS } else { CG_FIRST };
        self.solved_once = true;
        let mut w = self.w.clone();
        let mut r = rhs - gram.clone().matmul(w.clone());
        let mut p = r.clone();
        let mut rs = r.clone().square().sum_dim(0); // [1, d], one CG per column
        for _ in 0..iters {
            let gp = gram.clone().matmul(p.clone());
            let alpha = rs.clone() / (p.clone() * gp.clone()).sum_dim(0).add_scalar(EPS);
            w = w + p.clone() * alpha.clone();
            r = r - gp * alpha;
            let rs_new = r.clone().square().sum_dim(0);
            let beta = rs_new.clone() / rs.add_scalar(EPS);
            p = r.clone() + p * beta;
            rs = rs_new;
        }
        self.w = w;
    }

    /// The multiplicative update of Z for the current W.
    pub fn update_z(&mut self, a: &Tensor<2>) {
        let aw = a.clone().matmul(self.w.clone().transpose()); // [N, L]
        let ww = self.w.clone().matmul(self.w.clone().transpose()); // [L, L]
        let num = pos(aw.clone()) + self.z.clone().matmul(neg(ww.clone()));
        let den = neg(aw) + self.z.clone().matmul(pos(ww)).add_scalar(EPS);
        self.z = self.z.clone() * (num / den).sqrt();
    }

    /// One alternation: W by least squares, then Z multiplicatively.
    pub fn step(&mut self, a: &Tensor<2>) {
        self.solve_w(a);
        self.update_z(a);
    }

    pub fn reconstruct(&self) -> Tensor<2> {
        self.z.clone().matmul(self.w.clone())
    }
}
