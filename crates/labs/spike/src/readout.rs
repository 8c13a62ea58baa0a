//! Readouts of a spiking reservoir: spike-trace features and three ways to learn a linear map
//! `y = W r + b` from the trace vector `r` (one entry per reservoir neuron) to `k` outputs.
//!
//! - [`SpikeTrace`]: an exponential filter per neuron, `r_j ← r_j·e^(−dt/τ) + Σ spikes of j`, fed
//!   with the list of neurons that fired this step (O(n) decay + O(fired)). A neuron firing at a
//!   steady rate ν has `r ≈ ν·τ` (a rate estimate in "spikes per τ").
//! - **Three-factor** (Yamada & Chao 2025, "Joint encoding of 'what' and 'when' predictions through
//!   error-modulated plasticity in reservoir spiking networks"): an error-modulated,
//!   attention-gated Hebbian rule. For readout k and presynaptic neuron j:
//!   `Δw_kj = η · g(t) · M_k(t) · e_j(t)` with `M_k = target_k − y_k` (the modulatory error,
//!   which carries the postsynaptic term: the teacher-clamped rate minus the readout's own rate),
//!   `g(t)` the attention gate supplied by the task (1 inside attended windows, small or 0
//!   elsewhere) and `e_j` the presynaptic eligibility (the spike trace itself, or a slower filter of
//!   it when `tau_elig_ms > 0`). Updates are applied every step ("online", used for "when") or
//!   summed over a trial and applied at [`Readout::consolidate`] ("deferred", the paper's offline
//!   consolidation of "what": the outcome is only known at the end of the trial). Only the
//!   paper's abstract was available to us; the exact form above (delta-rule modulator, optional
//!   eligibility, divisive normalisation) is our reading of it and of the issue.
//! - **Ridge**: collect gated `(r, target)` pairs, then solve `(RᵀR + λI) W = RᵀY` in closed form
//!   (Cholesky of the Gram matrix, or of the dual `RRᵀ + λI` while there are fewer samples than
//!   features). The least-squares baseline.
//! - **FORCE** (Sussillo & Abbott 2009): recursive least squares on the readout,
//!   `P ← P − P r rᵀ P / (1 + rᵀ P r)`, `w ← w − e P r`, `P(0) = I/α`. O(n²) per update and n²
//!   doubles of memory, hence `n ≤ 2000` (32 MB) and an `update_every` stride. Because `P` shrinks
//!   as evidence accumulates, FORCE adapts slowly after the task changes unless `P` is reset
//!   ([`Readout::reset_learning_state`]) — the contrast the paper draws.
//!
//! Every readout has a bias (a constant input of 1, learned like a weight).

use crate::error::{check, SpikeError};
use serde::{Deserialize, Serialize};

/// Most reservoir neurons a readout accepts (three-factor; ridge and FORCE have lower limits).
pub const MAX_INPUTS: usize = 100_000;
/// Most inputs of a ridge readout (its Gram matrix is (n+1)² doubles: 128 MB at 4000).
pub const MAX_RIDGE_INPUTS: usize = 4000;
/// Most inputs of a FORCE readout (its P matrix is (n+1)² doubles: 32 MB at 2000).
pub const MAX_FORCE_INPUTS: usize = 2000;
/// Most readout outputs.
pub const MAX_OUTPUTS: usize = 64;

/// Exponentially filtered spike trains, one per reservoir neuron.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeTrace {
    tau_ms: f32,
    dt_ms: f32,
    decay: f32,
    r: Vec<f32>,
}

impl SpikeTrace {
    /// `n` neurons (1..=MAX_INPUTS), time constant `tau_ms` (0.1..=10000), step `dt_ms` (0.001..=10).
    pub fn new(n: usize, tau_ms: f32, dt_ms: f32) -> Result<Self, SpikeError> {
        check("n_neurons", n as f64, 1.0, MAX_INPUTS as f64)?;
        check("trace tau_ms", tau_ms as f64, 0.1, 10_000.0)?;
        check("dt_ms", dt_ms as f64, 0.001, 10.0)?;
        Ok(Self {
            tau_ms,
            dt_ms,
            decay: (-dt_ms / tau_ms).exp(),
            r: vec![0.0; n],
        })
    }

    /// One step: decay every trace, then add 1 for each neuron in `fired` (indices ≥ n are ignored).
    pub fn step(&mut self, fired: &[u32]) {
        let d = self.decay;
        for x in &mut self.r {
            *x *= d;
        }
        for &j in fired {
            if let Some(x) = self.r.get_mut(j as usize) {
                *x += 1.0;
            }
        }
    }

    /// The trace vector (length n).
    pub fn values(&self) -> &[f32] {
        &self.r
    }

    pub fn len(&self) -> usize {
        self.r.len()
    }

    pub fn is_empty(&self) -> bool {
        self.r.is_empty()
    }

    pub fn tau_ms(&self) -> f32 {
        self.tau_ms
    }

    pub fn dt_ms(&self) -> f32 {
        self.dt_ms
    }

    /// All traces to zero.
    pub fn reset(&mut self) {
        self.r.iter_mut().for_each(|x| *x = 0.0);
    }
}

/// When the three-factor rule's updates reach the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Consolidation {
    /// Every step (real-time learning, the paper's "when").
    #[default]
    Online,
    /// Summed over a trial and applied at [`Readout::consolidate`] (the paper's offline
    /// consolidation of "what").
    Deferred,
}

/// Parameters of the error-modulated, attention-gated three-factor rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreeFactorParams {
    /// Learning rate η. With `normalize` it is the fraction of the current error corrected by one
    /// fully gated step (stable for η·(steps per consolidation) < 2); without, raw units.
    pub eta: f32,
    /// Divide η by a running mean of ‖r‖² + 1 (tracked with a 1 s time constant), so η does not
    /// depend on the reservoir size or rate.
    pub normalize: bool,
    /// Weight decay per gated step, as a fraction of η: `w ← w − η·g·decay·w`.
    pub weight_decay: f32,
    /// Eligibility time constant (ms); 0 = the eligibility is the spike trace itself.
    pub tau_elig_ms: f32,
    pub consolidation: Consolidation,
}

impl Default for ThreeFactorParams {
    fn default() -> Self {
        Self {
            eta: 0.002,
            normalize: true,
            weight_decay: 0.0,
            tau_elig_ms: 0.0,
            consolidation: Consolidation::Online,
        }
    }
}

/// Parameters of the ridge (closed-form least squares) readout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeParams {
    /// Regularisation λ (≥ 0; 0 only works with more samples than features).
    pub lambda: f32,
    /// Collect one sample every this many learning steps.
    pub sample_every: u32,
}

impl Default for RidgeParams {
    fn default() -> Self {
        Self {
            lambda: 1e-2,
            sample_every: 1,
        }
    }
}

/// Parameters of the FORCE (recursive least squares) readout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForceParams {
    /// `P(0) = I/α`: small α = fast initial learning.
    pub alpha: f32,
    /// Update every this many learning steps (O(n²) per update).
    pub update_every: u32,
}

impl Default for ForceParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            update_every: 2,
        }
    }
}

/// Which readout and its parameters (crosses to the UI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReadoutConfig {
    ThreeFactor(ThreeFactorParams),
    Ridge(RidgeParams),
    Force(ForceParams),
}

impl Default for ReadoutConfig {
    fn default() -> Self {
        ReadoutConfig::ThreeFactor(ThreeFactorParams::default())
    }
}

impl ReadoutConfig {
    pub fn kind_name(&self) -> &'static str {
        match self {
            ReadoutConfig::ThreeFactor(_) => "three_factor",
            ReadoutConfig::Ridge(_) => "ridge",
            ReadoutConfig::Force(_) => "force",
        }
    }

    /// Checks the parameters for `n_inputs` reservoir neurons and `n_outputs` outputs.
    pub fn validate(&self, n_inputs: usize, n_outputs: usize) -> Result<(), SpikeError> {
        check("n_outputs", n_outputs as f64, 1.0, MAX_OUTPUTS as f64)?;
        match self {
            ReadoutConfig::ThreeFactor(p) => {
                check("readout n_inputs", n_inputs as f64, 1.0, MAX_INPUTS as f64)?;
                check("eta", p.eta as f64, 0.0, 10.0)?;
                check("weight_decay", p.weight_decay as f64, 0.0, 1.0)?;
                check("tau_elig_ms", p.tau_elig_ms as f64, 0.0, 100_000.0)?;
            }
            ReadoutConfig::Ridge(p) => {
                check(
                    "ridge n_inputs",
                    n_inputs as f64,
                    1.0,
                    MAX_RIDGE_INPUTS as f64,
                )?;
                check("lambda", p.lambda as f64, 0.0, 1e9)?;
                check("sample_every", p.sample_every as f64, 1.0, 1e6)?;
            }
            ReadoutConfig::Force(p) => {
                check(
                    "FORCE n_inputs",
                    n_inputs as f64,
                    1.0,
                    MAX_FORCE_INPUTS as f64,
                )?;
                check("alpha", p.alpha as f64, 1e-6, 1e6)?;
                check("update_every", p.update_every as f64, 1.0, 1e6)?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum State {
    ThreeFactor {
        p: ThreeFactorParams,
        decay_elig: f32,
        /// Eligibility (n + 1, last = bias input), used when tau_elig_ms > 0.
        elig: Vec<f32>,
        /// Summed deferred updates, n_out × (n + 1).
        pending: Vec<f32>,
        /// Running mean of ‖x‖² (x = [r, 1]).
        norm2: f32,
        norm_alpha: f32,
        have_norm: bool,
    },
    Ridge {
        p: RidgeParams,
        counter: u64,
        /// Stored (weighted) samples while fewer than n + 1: rows of n + 1.
        rows: Vec<f64>,
        /// Targets of the stored rows (n_out each).
        ys: Vec<f64>,
        n_samples: usize,
        /// Gram mode: (n+1)² and (n+1)×n_out sums, used once n_samples > n + 1.
        gram: Vec<f64>,
        rty: Vec<f64>,
        gram_mode: bool,
    },
    Force {
        p: ForceParams,
        counter: u64,
        /// (n+1)², symmetric.
        pm: Vec<f64>,
        k: Vec<f64>,
    },
}

/// A linear readout `y = W r + b` with its learning rule.
#[derive(Debug, Clone)]
pub struct Readout {
    config: ReadoutConfig,
    n_in: usize,
    n_out: usize,
    dt_ms: f32,
    /// n_out × (n_in + 1), row-major; column n_in is the bias.
    w: Vec<f32>,
    y: Vec<f32>,
    state: State,
}

impl Readout {
    /// A readout from `n_inputs` traces to `n_outputs` outputs, zero weights. `dt_ms` is the
    /// simulation step (for the eligibility and norm time constants).
    pub fn new(
        config: &ReadoutConfig,
        n_inputs: usize,
        n_outputs: usize,
        dt_ms: f32,
    ) -> Result<Self, SpikeError> {
        config.validate(n_inputs, n_outputs)?;
        check("dt_ms", dt_ms as f64, 0.001, 10.0)?;
        let m = n_inputs + 1;
        let state = Self::fresh_state(config, m, n_outputs, dt_ms);
        Ok(Self {
            config: config.clone(),
            n_in: n_inputs,
            n_out: n_outputs,
            dt_ms,
            w: vec![0.0; n_outputs * m],
            y: vec![0.0; n_outputs],
            state,
        })
    }

    fn fresh_state(config: &ReadoutConfig, m: usize, n_out: usize, dt_ms: f32) -> State {
        match config {
            ReadoutConfig::ThreeFactor(p) => State::ThreeFactor {
                p: p.clone(),
                decay_elig: if p.tau_elig_ms > 0.0 {
                    (-dt_ms / p.tau_elig_ms).exp()
                } else {
                    0.0
                },
                elig: if p.tau_elig_ms > 0.0 {
                    vec![0.0; m]
                } else {
                    Vec::new()
                },
                pending: if p.consolidation == Consolidation::Deferred {
                    vec![0.0; n_out * m]
                } else {
                    Vec::new()
                },
                norm2: 0.0,
                norm_alpha: 1.0 - (-dt_ms / 1000.0).exp(),
                have_norm: false,
            },
            ReadoutConfig::Ridge(p) => State::Ridge {
                p: p.clone(),
                counter: 0,
                rows: Vec::new(),
                ys: Vec::new(),
                n_samples: 0,
                gram: Vec::new(),
                rty: Vec::new(),
                gram_mode: false,
            },
            ReadoutConfig::Force(p) => {
                let mut pm = vec![0.0f64; m * m];
                for i in 0..m {
                    pm[i * m + i] = 1.0 / p.alpha as f64;
                }
                State::Force {
                    p: p.clone(),
                    counter: 0,
                    pm,
                    k: vec![0.0; m],
                }
            }
        }
    }

    /// One step: computes `y = W r + b` from `trace` (length n_inputs), then, if `learn` and a
    /// `target` (length n_outputs) is given and `gate > 0`, learns from the error `target − y`.
    /// Three-factor: updates weighted by `gate`; ridge: collects the sample weighted by `gate`
    /// (solve with [`Readout::fit`]); FORCE: an RLS update every `update_every` gated steps.
    /// Returns the output computed before the update.
    pub fn step(
        &mut self,
        trace: &[f32],
        target: Option<&[f32]>,
        gate: f32,
        learn: bool,
    ) -> &[f32] {
        let m = self.n_in + 1;
        for k in 0..self.n_out {
            let row = &self.w[k * m..(k + 1) * m];
            let mut s = row[self.n_in];
            for (wj, rj) in row[..self.n_in].iter().zip(trace) {
                s += wj * rj;
            }
            self.y[k] = s;
        }
        let target = match target {
            Some(t) if learn && gate > 0.0 && gate.is_finite() => t,
            _ => {
                // The eligibility keeps filtering even when nothing is learned.
                if let State::ThreeFactor {
                    elig, decay_elig, ..
                } = &mut self.state
                {
                    filter_elig(elig, *decay_elig, trace, self.n_in);
                }
                return &self.y;
            }
        };
        let (n_in, n_out) = (self.n_in, self.n_out);
        match &mut self.state {
            State::ThreeFactor {
                p,
                decay_elig,
                elig,
                pending,
                norm2,
                norm_alpha,
                have_norm,
            } => {
                filter_elig(elig, *decay_elig, trace, n_in);
                let x2: f32 = trace.iter().take(n_in).map(|r| r * r).sum::<f32>() + 1.0;
                if *have_norm {
                    *norm2 += *norm_alpha * (x2 - *norm2);
                } else {
                    *norm2 = x2;
                    *have_norm = true;
                }
                let eta = if p.normalize {
                    p.eta / norm2.max(1e-6)
                } else {
                    p.eta
                };
                let deferred = p.consolidation == Consolidation::Deferred;
                for k in 0..n_out {
                    let err = target.get(k).copied().unwrap_or(0.0) - self.y[k];
                    let f = eta * gate * err;
                    let shrink = 1.0 - (p.eta * gate * p.weight_decay).min(1.0);
                    let dst: &mut [f32] = if deferred {
                        &mut pending[k * m..(k + 1) * m]
                    } else {
                        &mut self.w[k * m..(k + 1) * m]
                    };
                    if elig.is_empty() {
                        for (d, rj) in dst[..n_in].iter_mut().zip(trace) {
                            *d += f * rj;
                        }
                        dst[n_in] += f;
                    } else {
                        for (d, ej) in dst.iter_mut().zip(elig.iter()) {
                            *d += f * ej;
                        }
                    }
                    if shrink < 1.0 {
                        // Decay acts on the consolidated weights even in deferred mode.
                        for wj in &mut self.w[k * m..(k + 1) * m] {
                            *wj *= shrink;
                        }
                    }
                }
            }
            State::Ridge {
                p,
                counter,
                rows,
                ys,
                n_samples,
                gram,
                rty,
                gram_mode,
            } => {
                *counter += 1;
                if (*counter - 1) % p.sample_every as u64 != 0 {
                    return &self.y;
                }
                let sw = (gate as f64).sqrt();
                let mut x: Vec<f64> = (0..n_in)
                    .map(|j| trace.get(j).copied().unwrap_or(0.0) as f64 * sw)
                    .collect();
                x.push(sw);
                let yv: Vec<f64> = (0..n_out)
                    .map(|k| target.get(k).copied().unwrap_or(0.0) as f64 * sw)
                    .collect();
                *n_samples += 1;
                if !*gram_mode {
                    rows.extend_from_slice(&x);
                    ys.extend_from_slice(&yv);
                    if *n_samples > m {
                        // More samples than features: fold into the Gram sums from now on.
                        *gram = vec![0.0; m * m];
                        *rty = vec![0.0; m * n_out];
                        for s in 0..*n_samples {
                            let xs = &rows[s * m..(s + 1) * m];
                            let yss = &ys[s * n_out..(s + 1) * n_out];
                            accumulate_gram(gram, rty, xs, yss, m, n_out);
                        }
                        rows.clear();
                        rows.shrink_to_fit();
                        ys.clear();
                        *gram_mode = true;
                    }
                } else {
                    accumulate_gram(gram, rty, &x, &yv, m, n_out);
                }
            }
            State::Force {
                p,
                counter,
                pm,
                k: kv,
            } => {
                *counter += 1;
                if (*counter - 1) % p.update_every as u64 != 0 {
                    return &self.y;
                }
                let x = |j: usize| -> f64 {
                    if j == n_in {
                        1.0
                    } else {
                        trace.get(j).copied().unwrap_or(0.0) as f64
                    }
                };
                // k = P x (P symmetric).
                for i in 0..m {
                    let row = &pm[i * m..(i + 1) * m];
                    let mut s: f64 = row[..n_in]
                        .iter()
                        .zip(trace)
                        .map(|(pij, r)| pij * *r as f64)
                        .sum();
                    s += row[n_in];
                    kv[i] = s;
                }
                let xpx: f64 = (0..m).map(|j| x(j) * kv[j]).sum();
                let c = 1.0 / (1.0 + xpx);
                for i in 0..m {
                    let ki = kv[i] * c;
                    if ki == 0.0 {
                        continue;
                    }
                    let row = &mut pm[i * m..(i + 1) * m];
                    for (pij, kj) in row.iter_mut().zip(kv.iter()) {
                        *pij -= ki * kj;
                    }
                }
                // w ← w − e P(t) x = w − e c k.
                for kk in 0..n_out {
                    let e = (self.y[kk] - target.get(kk).copied().unwrap_or(0.0)) as f64;
                    let row = &mut self.w[kk * m..(kk + 1) * m];
                    for (wj, kj) in row.iter_mut().zip(kv.iter()) {
                        *wj -= (e * c * kj) as f32;
                    }
                }
            }
        }
        &self.y
    }

    /// Three-factor with deferred consolidation: adds the summed updates to the weights and
    /// clears them (call at the end of each trial). No-op otherwise.
    pub fn consolidate(&mut self) {
        if let State::ThreeFactor { pending, .. } = &mut self.state {
            for (w, d) in self.w.iter_mut().zip(pending.iter_mut()) {
                *w += *d;
                *d = 0.0;
            }
        }
    }

    /// Ridge: solves for the weights from all samples collected so far (collection goes on, so a
    /// later `fit` uses more data). Other readouts: no-op.
    pub fn fit(&mut self) -> Result<(), SpikeError> {
        let (m, n_out) = (self.n_in + 1, self.n_out);
        let State::Ridge {
            p,
            rows,
            ys,
            n_samples,
            gram,
            rty,
            gram_mode,
            ..
        } = &self.state
        else {
            return Ok(());
        };
        if *n_samples == 0 {
            return Err(SpikeError::NoSamples);
        }
        let lambda = p.lambda as f64;
        if *gram_mode {
            let mut a = gram.clone();
            for i in 0..m {
                a[i * m + i] += lambda;
            }
            cholesky(&mut a, m).ok_or(SpikeError::NotPositiveDefinite { lambda: p.lambda })?;
            for k in 0..n_out {
                let mut b: Vec<f64> = (0..m).map(|i| rty[i * n_out + k]).collect();
                cholesky_solve(&a, m, &mut b);
                for (w, bi) in self.w[k * m..(k + 1) * m].iter_mut().zip(&b) {
                    *w = *bi as f32;
                }
            }
        } else {
            // Dual: (R Rᵀ + λI) A = Y, W = Rᵀ A.
            let s = *n_samples;
            let mut kmat = vec![0.0f64; s * s];
            for i in 0..s {
                for j in 0..=i {
                    let v: f64 = rows[i * m..(i + 1) * m]
                        .iter()
                        .zip(&rows[j * m..(j + 1) * m])
                        .map(|(a, b)| a * b)
                        .sum();
                    kmat[i * s + j] = v;
                    kmat[j * s + i] = v;
                }
                kmat[i * s + i] += lambda;
            }
            cholesky(&mut kmat, s).ok_or(SpikeError::NotPositiveDefinite { lambda: p.lambda })?;
            for k in 0..n_out {
                let mut b: Vec<f64> = (0..s).map(|i| ys[i * n_out + k]).collect();
                cholesky_solve(&kmat, s, &mut b);
                for j in 0..m {
                    let v: f64 = (0..s).map(|i| rows[i * m + j] * b[i]).sum();
                    self.w[k * m + j] = v as f32;
                }
            }
        }
        Ok(())
    }

    /// Number of samples a ridge readout has collected (0 for the others).
    pub fn n_samples(&self) -> usize {
        match &self.state {
            State::Ridge { n_samples, .. } => *n_samples,
            _ => 0,
        }
    }

    /// Weights and bias to zero, and [`Readout::reset_learning_state`].
    pub fn reset(&mut self) {
        self.w.iter_mut().for_each(|w| *w = 0.0);
        self.y.iter_mut().for_each(|y| *y = 0.0);
        self.reset_learning_state();
    }

    /// Keeps the weights but forgets the learning state: FORCE's P back to I/α, ridge samples
    /// dropped, three-factor eligibility/pending updates/norm cleared.
    pub fn reset_learning_state(&mut self) {
        self.state = Self::fresh_state(&self.config, self.n_in + 1, self.n_out, self.dt_ms);
    }

    /// Changes the parameters of the same kind of readout while it runs (weights kept; FORCE's P
    /// and ridge samples kept unless the new parameters need a fresh state).
    pub fn set_config(&mut self, config: &ReadoutConfig) -> Result<(), SpikeError> {
        if config.kind_name() != self.config.kind_name() {
            return Err(SpikeError::KindMismatch {
                what: "readout",
                old: self.config.kind_name(),
                new: config.kind_name(),
            });
        }
        config.validate(self.n_in, self.n_out)?;
        let m = self.n_in + 1;
        match (&mut self.state, config) {
            (
                State::ThreeFactor {
                    p,
                    decay_elig,
                    elig,
                    pending,
                    ..
                },
                ReadoutConfig::ThreeFactor(q),
            ) => {
                if q.consolidation != p.consolidation && !pending.is_empty() {
                    // Switching away from deferred: apply what is pending first.
                    for (w, d) in self.w.iter_mut().zip(pending.iter()) {
                        *w += *d;
                    }
                }
                *pending = if q.consolidation == Consolidation::Deferred {
                    vec![0.0; self.n_out * m]
                } else {
                    Vec::new()
                };
                if q.tau_elig_ms > 0.0 {
                    *decay_elig = (-self.dt_ms / q.tau_elig_ms).exp();
                    if elig.is_empty() {
                        *elig = vec![0.0; m];
                    }
                } else {
                    *decay_elig = 0.0;
                    elig.clear();
                }
                *p = q.clone();
            }
            (State::Ridge { p, .. }, ReadoutConfig::Ridge(q)) => *p = q.clone(),
            (State::Force { p, .. }, ReadoutConfig::Force(q)) => {
                // α only matters at a reset of P; keep the accumulated P.
                *p = q.clone();
            }
            _ => {}
        }
        self.config = config.clone();
        Ok(())
    }

    pub fn config(&self) -> &ReadoutConfig {
        &self.config
    }

    pub fn n_inputs(&self) -> usize {
        self.n_in
    }

    pub fn n_outputs(&self) -> usize {
        self.n_out
    }

    /// The last output.
    pub fn output(&self) -> &[f32] {
        &self.y
    }

    /// The weights of output `k` onto the reservoir neurons (length n_inputs, bias excluded);
    /// empty if k is out of range.
    pub fn weight_row(&self, k: usize) -> &[f32] {
        let m = self.n_in + 1;
        if k >= self.n_out {
            return &[];
        }
        &self.w[k * m..k * m + self.n_in]
    }

    /// The bias of output `k` (0 if out of range).
    pub fn bias(&self, k: usize) -> f32 {
        if k >= self.n_out {
            return 0.0;
        }
        self.w[k * (self.n_in + 1) + self.n_in]
    }

    /// All weights, n_outputs rows of n_inputs + 1 (last column = bias), row-major.
    pub fn weights(&self) -> &[f32] {
        &self.w
    }

    /// Replaces the weights (same layout as [`Readout::weights`]).
    pub fn set_weights(&mut self, w: &[f32]) -> Result<(), SpikeError> {
        check(
            "weights length",
            w.len() as f64,
            self.w.len() as f64,
            self.w.len() as f64,
        )?;
        self.w.copy_from_slice(w);
        Ok(())
    }

    /// Cosine between the weight vectors of outputs `a` and `b` (bias excluded): near 0 =
    /// orthogonal readouts (the paper's "what" vs "when" subspaces).
    pub fn cosine_between(&self, a: usize, b: usize) -> f32 {
        cosine(self.weight_row(a), self.weight_row(b))
    }
}

/// Cosine similarity of two vectors (0 if either is zero or empty).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        ab += (*x as f64) * (*y as f64);
        aa += (*x as f64) * (*x as f64);
        bb += (*y as f64) * (*y as f64);
    }
    if aa <= 0.0 || bb <= 0.0 {
        0.0
    } else {
        (ab / (aa.sqrt() * bb.sqrt())) as f32
    }
}

fn filter_elig(elig: &mut [f32], decay: f32, trace: &[f32], n_in: usize) {
    if elig.is_empty() {
        return;
    }
    for (e, r) in elig[..n_in].iter_mut().zip(trace) {
        *e = *e * decay + r;
    }
    elig[n_in] = elig[n_in] * decay + 1.0;
}

fn accumulate_gram(
    gram: &mut [f64],
    rty: &mut [f64],
    x: &[f64],
    y: &[f64],
    m: usize,
    n_out: usize,
) {
    for i in 0..m {
        let xi = x[i];
        if xi == 0.0 {
            continue;
        }
        // Upper triangle only; mirrored at solve time by reading (i, j) with i ≤ j.
        let row = &mut gram[i * m..(i + 1) * m];
        for j in i..m {
            row[j] += xi * x[j];
        }
        for k in 0..n_out {
            rty[i * n_out + k] += xi * y[k];
        }
    }
}

/// In-place Cholesky `A = L Lᵀ` of an m×m matrix whose upper triangle (i ≤ j) holds A; L is
/// written to the lower triangle including the diagonal. None if A is not positive definite.
fn cholesky(a: &mut [f64], m: usize) -> Option<()> {
    for j in 0..m {
        let mut d = a[j * m + j];
        for k in 0..j {
            d -= a[j * m + k] * a[j * m + k];
        }
        if d.is_nan() || d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * m + j] = d;
        for i in j + 1..m {
            // A(i, j) from the upper triangle (j ≤ i): stored at (j, i).
            let mut s = a[j * m + i];
            for k in 0..j {
                s -= a[i * m + k] * a[j * m + k];
            }
            a[i * m + j] = s / d;
        }
    }
    Some(())
}

/// Solves `L Lᵀ x = b` with L from [`cholesky`].
fn cholesky_solve(l: &[f64], m: usize, b: &mut [f64]) {
    for i in 0..m {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * m + k] * b[k];
        }
        b[i] = s / l[i * m + i];
    }
    for i in (0..m).rev() {
        let mut s = b[i];
        for k in i + 1..m {
            s -= l[k * m + i] * b[k];
        }
        b[i] = s / l[i * m + i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_decays_and_jumps() {
        let mut t = SpikeTrace::new(3, 10.0, 1.0).unwrap();
        t.step(&[1, 7]);
        assert_eq!(t.values(), &[0.0, 1.0, 0.0]);
        t.step(&[]);
        assert!((t.values()[1] - (-0.1f32).exp()).abs() < 1e-6);
        assert!(SpikeTrace::new(0, 10.0, 1.0).is_err());
    }

    #[test]
    fn cholesky_solves_small_system() {
        // A = [[4, 2], [2, 3]] (upper triangle), b = [2, 1] → x = [0.5, 0].
        let mut a = vec![4.0, 2.0, 0.0, 3.0];
        cholesky(&mut a, 2).unwrap();
        let mut b = vec![2.0, 1.0];
        cholesky_solve(&a, 2, &mut b);
        assert!((b[0] - 0.5).abs() < 1e-12 && b[1].abs() < 1e-12, "{b:?}");
    }

    #[test]
    fn errors_name_limits() {
        let e =
            Readout::new(&ReadoutConfig::Force(ForceParams::default()), 5000, 1, 1.0).unwrap_err();
        assert!(e.to_string().contains("between 1 and 2000"), "{e}");
    }
}
