//! A spiking network as plain arrays: per-neuron parameters and the synapses twice — by
//! presynaptic neuron (CSR, for the CPU engine's event-driven propagation) and by postsynaptic
//! neuron (CSC, for the GPU engine's gather). Both lists are sorted by the other index, so each
//! neuron's input is summed in ascending presynaptic order on both engines (same f32 sums).
//!
//! One simulation step (dt = 1 ms for Izhikevich, as in the 2003 paper's MATLAB code), for
//! every neuron i, in this order — the GPU engine must follow it exactly:
//! 1. `fired_i = v_i >= v_peak` (v from the previous step); a silenced neuron never fires.
//! 2. if fired: `v_i = c_i; u_i += d_i` (Izhikevich) or `v_i = v_reset`, refractory (LIF).
//! 3. `I_i = noise_std_i * noise::normal(seed, step, i) + i_ext_i + Σ_{j fired, ascending j} w_ji`
//!    (for LIF the synaptic sum feeds an exponential synaptic current instead; see `sim`).
//! 4. Izhikevich: two half-steps `v += 0.5 * (0.04 v² + 5 v + 140 − u + I)`, then
//!    `u += a (b v − u)`. A silenced neuron is held at `v = c_i` (its u still integrates).
//!
//! Spikes of step t are those found in 1., recorded with time t (ms). The exact f32 expressions
//! (evaluation order, the general-dt form, LIF) are spelled out in `sim`'s module doc; the LIF
//! decay factors and refractory steps come from `LifParams::{membrane_decay, synapse_decay,
//! refractory_steps}` (computed once on the CPU, so both engines use the same numbers).

use serde::{Deserialize, Serialize};

/// The neuron model of a whole network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeuronModel {
    Izhikevich,
    /// Current-based leaky integrate-and-fire with exponential synapses.
    Lif,
}

/// Parameters of the LIF model (shared by all neurons of a network).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LifParams {
    pub tau_m_ms: f32,
    pub tau_syn_ms: f32,
    pub v_rest_mv: f32,
    pub v_reset_mv: f32,
    pub v_th_mv: f32,
    pub t_ref_ms: f32,
    /// Membrane resistance × input (mV per unit current).
    pub r_m: f32,
}

/// A network: neuron parameters and synapses. Excitatory neurons are `0..n_exc`.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub model: NeuronModel,
    pub n: usize,
    pub n_exc: usize,
    /// Simulation time step in ms.
    pub dt_ms: f32,
    /// Izhikevich parameters per neuron (unused for LIF).
    pub a: Vec<f32>,
    pub b: Vec<f32>,
    pub c: Vec<f32>,
    pub d: Vec<f32>,
    pub lif: LifParams,
    /// Std of the random (thalamic) input current per neuron, per step.
    pub noise_std: Vec<f32>,
    /// Outgoing synapses (CSR by presynaptic neuron): `out_ptr[j]..out_ptr[j+1]` index
    /// `out_post` (ascending) and `out_w`.
    pub out_ptr: Vec<u32>,
    pub out_post: Vec<u32>,
    pub out_w: Vec<f32>,
    /// Incoming synapses (CSC by postsynaptic neuron): `in_ptr[i]..in_ptr[i+1]` index `in_pre`
    /// (ascending) and `in_syn`, the position of that synapse in the CSR arrays (so weights
    /// changed by plasticity in `out_w` are found from either side).
    pub in_ptr: Vec<u32>,
    pub in_pre: Vec<u32>,
    pub in_syn: Vec<u32>,
    /// The seed of the noise (`noise::normal(seed, step, i)`).
    pub seed: u64,
}

impl Network {
    pub fn n_synapses(&self) -> usize {
        self.out_post.len()
    }
}

// ---------------------------------------------------------------------------------------------
// Builders (H1). All randomness comes from ChaCha8 seeded with the network's seed, so the same
// seed gives the same network on every platform.
// ---------------------------------------------------------------------------------------------

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Default LIF parameters: a cortical-like membrane (20 ms), 5 ms synapses, threshold 20 mV above
/// rest, 2 ms refractory period.
pub const DEFAULT_LIF: LifParams = LifParams {
    tau_m_ms: 20.0,
    tau_syn_ms: 5.0,
    v_rest_mv: -65.0,
    v_reset_mv: -65.0,
    v_th_mv: -45.0,
    t_ref_ms: 2.0,
    r_m: 1.0,
};

impl LifParams {
    /// Per-step decay factor of the membrane, `exp(-dt/tau_m)`. Computed once on the CPU (the
    /// GPU engine takes this number, not its own `exp`, so both engines integrate identically).
    pub fn membrane_decay(&self, dt_ms: f32) -> f32 {
        (-(dt_ms as f64) / self.tau_m_ms.max(1e-6) as f64).exp() as f32
    }
    /// Per-step decay factor of the synaptic current, `exp(-dt/tau_syn)`.
    pub fn synapse_decay(&self, dt_ms: f32) -> f32 {
        (-(dt_ms as f64) / self.tau_syn_ms.max(1e-6) as f64).exp() as f32
    }
    /// Refractory period in whole steps (rounded).
    pub fn refractory_steps(&self, dt_ms: f32) -> u32 {
        (self.t_ref_ms / dt_ms.max(1e-6)).round().max(0.0) as u32
    }
}

/// How to build a sparse random network (`Network::sparse`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SparseSpec {
    pub model: NeuronModel,
    pub n: usize,
    /// Fraction of excitatory neurons (they are `0..round(n * exc_frac)`).
    pub exc_frac: f32,
    /// Probability of each directed connection i≠j (no autapses).
    pub p_conn: f32,
    /// Excitatory weights are `w_exc · U(0,1)`, inhibitory `−w_inh · U(0,1)` (the 2003 paper's
    /// form with free scales).
    pub w_exc: f32,
    pub w_inh: f32,
    /// Neuron-type mix in [0, 1] (Izhikevich only): each excitatory cell gets r = mix·U(0,1) and
    /// c = −65 + 15r², d = 8 − 6r² (r = 0 → RS, r = 1 → CH, in between IB-like); inhibitory cells
    /// a = .02 + .08r, b = .25 − .05r (r = 0 → LTS, r = 1 → FS). The paper's network is mix = 1.
    pub type_mix: f32,
    /// Multiplicative jitter in [0, 1) of every neuron's a and d (±heterogeneity·U(−1,1)), on top
    /// of the type mix: a more heterogeneous reservoir.
    pub heterogeneity: f32,
    /// Noise std (per step) of excitatory and inhibitory neurons.
    pub noise_exc: f32,
    pub noise_inh: f32,
    pub dt_ms: f32,
    pub lif: LifParams,
    pub seed: u64,
}

impl SparseSpec {
    /// The 2003 paper's network as a spec (for `Network::dense`).
    pub fn izhikevich2003(seed: u64) -> SparseSpec {
        SparseSpec {
            model: NeuronModel::Izhikevich,
            n: 1000,
            exc_frac: 0.8,
            p_conn: 1.0,
            w_exc: 0.5,
            w_inh: 1.0,
            type_mix: 1.0,
            heterogeneity: 0.0,
            noise_exc: 5.0,
            noise_inh: 2.0,
            dt_ms: 1.0,
            lif: DEFAULT_LIF,
            seed,
        }
    }

    /// Number of excitatory neurons, `round(n · exc_frac)`.
    pub fn n_exc(&self) -> usize {
        let n = self.n.max(1);
        ((n as f64 * self.exc_frac.clamp(0.0, 1.0) as f64).round() as usize).min(n)
    }
}

impl Network {
    /// The network of Izhikevich (2003), exactly as the paper's MATLAB code: Ne = 800, Ni = 200,
    /// re = rand(Ne,1), ri = rand(Ni,1); excitatory a = .02, b = .2, c = −65 + 15re², d = 8 − 6re²;
    /// inhibitory a = .02 + .08ri, b = .25 − .05ri, c = −65, d = 2; S = [0.5·rand(N,Ne),
    /// −rand(N,Ni)] all-to-all including self-connections; thalamic noise 5·N(0,1) (exc) and
    /// 2·N(0,1) (inh) per 1 ms step.
    pub fn izhikevich2003(seed: u64) -> Network {
        Network::dense(&SparseSpec::izhikevich2003(seed))
    }

    /// An all-to-all network including self-connections (the 2003 paper's form; `p_conn` is
    /// ignored): neuron parameters drawn first (`draw_neurons`), then S column by column —
    /// the outgoing weights of neuron j in post order, `w_exc·U(0,1)` or `−w_inh·U(0,1)`.
    pub fn dense(spec: &SparseSpec) -> Network {
        let n = spec.n.max(1);
        let ne = spec.n_exc();
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let mut net = Network::empty(spec.model, n, ne, spec.dt_ms, spec.seed);
        net.lif = spec.lif;
        net.draw_neurons(spec, &mut rng);
        net.out_ptr = (0..=n).map(|j| (j * n) as u32).collect();
        net.out_post = Vec::with_capacity(n * n);
        net.out_w = Vec::with_capacity(n * n);
        for j in 0..n {
            for i in 0..n {
                let x: f32 = rng.random();
                net.out_post.push(i as u32);
                net.out_w.push(if j < ne {
                    spec.w_exc * x
                } else {
                    -spec.w_inh * x
                });
            }
        }
        net.build_csc();
        net
    }

    /// Per-neuron parameters: the 2003 paper's r-randomised types (see `SparseSpec::type_mix`),
    /// then (only if `heterogeneity > 0`, so the paper's draw sequence is kept otherwise) a
    /// jitter of a and d.
    fn draw_neurons(&mut self, spec: &SparseSpec, rng: &mut ChaCha8Rng) {
        let (n, ne) = (self.n, self.n_exc);
        let mix = spec.type_mix.clamp(0.0, 1.0);
        for i in 0..n {
            let r: f32 = mix * rng.random::<f32>();
            if i < ne {
                self.a[i] = 0.02;
                self.b[i] = 0.2;
                self.c[i] = -65.0 + 15.0 * r * r;
                self.d[i] = 8.0 - 6.0 * r * r;
                self.noise_std[i] = spec.noise_exc;
            } else {
                self.a[i] = 0.02 + 0.08 * r;
                self.b[i] = 0.25 - 0.05 * r;
                self.c[i] = -65.0;
                self.d[i] = 2.0;
                self.noise_std[i] = spec.noise_inh;
            }
        }
        let het = spec.heterogeneity.clamp(0.0, 0.99);
        if het > 0.0 {
            for i in 0..n {
                self.a[i] *= 1.0 + het * (2.0 * rng.random::<f32>() - 1.0);
                self.d[i] *= 1.0 + het * (2.0 * rng.random::<f32>() - 1.0);
            }
        }
    }

    /// A sparse random network (Izhikevich or LIF) in O(synapses): each presynaptic neuron's
    /// targets are drawn by geometric skipping, so they come out ascending (CSR directly).
    pub fn sparse(spec: &SparseSpec) -> Network {
        let n = spec.n.max(1);
        let ne = spec.n_exc();
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let mut net = Network::empty(spec.model, n, ne, spec.dt_ms, spec.seed);
        net.lif = spec.lif;
        net.draw_neurons(spec, &mut rng);
        let p = spec.p_conn.clamp(0.0, 1.0) as f64;
        let expected = (p * (n * n) as f64) as usize;
        net.out_ptr = Vec::with_capacity(n + 1);
        net.out_post = Vec::with_capacity(expected + expected / 8 + 16);
        net.out_w = Vec::with_capacity(expected + expected / 8 + 16);
        net.out_ptr.push(0);
        // ln(1 − p) for the geometric gaps; p = 1 means every target.
        let log_q = if p < 1.0 {
            (1.0 - p).ln()
        } else {
            f64::NEG_INFINITY
        };
        for j in 0..n {
            if p > 0.0 {
                let mut i: i64 = -1;
                loop {
                    let gap = if p >= 1.0 {
                        0
                    } else {
                        // u in (0, 1]: floor(ln u / ln(1−p)) failures before the next success.
                        let u: f64 = 1.0 - rng.random::<f64>();
                        (u.ln() / log_q).floor().min(n as f64) as i64
                    };
                    i += gap + 1;
                    if i >= n as i64 {
                        break;
                    }
                    if i as usize == j {
                        continue;
                    }
                    let x: f32 = rng.random();
                    net.out_post.push(i as u32);
                    net.out_w.push(if j < ne {
                        spec.w_exc * x
                    } else {
                        -spec.w_inh * x
                    });
                }
            }
            net.out_ptr.push(net.out_post.len() as u32);
        }
        net.build_csc();
        net
    }

    /// A network with parameters allocated for `n` neurons and no synapses.
    pub fn empty(model: NeuronModel, n: usize, n_exc: usize, dt_ms: f32, seed: u64) -> Network {
        Network {
            model,
            n,
            n_exc,
            dt_ms,
            a: vec![0.02; n],
            b: vec![0.2; n],
            c: vec![-65.0; n],
            d: vec![8.0; n],
            lif: DEFAULT_LIF,
            noise_std: vec![0.0; n],
            out_ptr: vec![0; n + 1],
            out_post: Vec::new(),
            out_w: Vec::new(),
            in_ptr: vec![0; n + 1],
            in_pre: Vec::new(),
            in_syn: Vec::new(),
            seed,
        }
    }

    /// Rebuilds the CSC view (`in_ptr`, `in_pre`, `in_syn`) from the CSR arrays by a counting
    /// sort; walking presynaptic neurons in ascending order leaves each column's `in_pre` ascending.
    pub fn build_csc(&mut self) {
        let n = self.n;
        let m = self.out_post.len();
        let mut count = vec![0u32; n + 1];
        for &i in &self.out_post {
            count[i as usize + 1] += 1;
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        self.in_ptr = count.clone();
        self.in_pre = vec![0; m];
        self.in_syn = vec![0; m];
        let mut next = count;
        for j in 0..n {
            for s in self.out_ptr[j] as usize..self.out_ptr[j + 1] as usize {
                let i = self.out_post[s] as usize;
                let k = next[i] as usize;
                self.in_pre[k] = j as u32;
                self.in_syn[k] = s as u32;
                next[i] += 1;
            }
        }
    }

    /// Builds a network from a list of synapses `(pre, post, w)` in any order (tests, small
    /// hand-made circuits). Duplicates are kept as separate synapses.
    pub fn from_synapses(mut self, synapses: &[(u32, u32, f32)]) -> Network {
        let mut syn: Vec<(u32, u32, f32)> = synapses
            .iter()
            .copied()
            .filter(|&(j, i, _)| (j as usize) < self.n && (i as usize) < self.n)
            .collect();
        syn.sort_by_key(|&(j, i, _)| (j, i));
        self.out_ptr = vec![0; self.n + 1];
        for &(j, _, _) in &syn {
            self.out_ptr[j as usize + 1] += 1;
        }
        for j in 0..self.n {
            self.out_ptr[j + 1] += self.out_ptr[j];
        }
        self.out_post = syn.iter().map(|s| s.1).collect();
        self.out_w = syn.iter().map(|s| s.2).collect();
        self.build_csc();
        self
    }

    /// Is neuron `j` excitatory?
    #[inline]
    pub fn is_exc(&self, j: usize) -> bool {
        j < self.n_exc
    }

    /// Mean of the excitatory (≥ 0) synaptic weights; 0 when there are none.
    pub fn mean_exc_weight(&self) -> f32 {
        let end = self.out_ptr[self.n_exc] as usize;
        if end == 0 {
            return 0.0;
        }
        (self.out_w[..end].iter().map(|&w| w as f64).sum::<f64>() / end as f64) as f32
    }
}

#[cfg(test)]
mod builder_tests {
    use super::*;

    #[test]
    fn izhikevich2003_has_the_papers_shape() {
        let net = Network::izhikevich2003(1);
        assert_eq!((net.n, net.n_exc), (1000, 800));
        assert_eq!(net.n_synapses(), 1_000_000);
        assert!(net.out_w[..800_000]
            .iter()
            .all(|&w| (0.0..0.5).contains(&w)));
        assert!(net.out_w[800_000..]
            .iter()
            .all(|&w| (-1.0..=0.0).contains(&w)));
        assert!(net.c[..800].iter().all(|&c| (-65.0..=-50.0).contains(&c)));
        assert!(net.d[800..].iter().all(|&d| d == 2.0));
        // CSC and CSR describe the same synapses.
        for i in [0usize, 17, 999] {
            for k in net.in_ptr[i] as usize..net.in_ptr[i + 1] as usize {
                let s = net.in_syn[k] as usize;
                assert_eq!(net.out_post[s] as usize, i);
                let j = net.in_pre[k] as usize;
                assert!((net.out_ptr[j] as usize..net.out_ptr[j + 1] as usize).contains(&s));
            }
        }
        assert_eq!(Network::izhikevich2003(1), net);
        assert_ne!(Network::izhikevich2003(2).out_w, net.out_w);
    }

    #[test]
    fn sparse_has_the_asked_density_and_sorted_lists() {
        let spec = SparseSpec {
            model: NeuronModel::Izhikevich,
            n: 2000,
            exc_frac: 0.8,
            p_conn: 0.05,
            w_exc: 1.0,
            w_inh: 2.0,
            type_mix: 1.0,
            heterogeneity: 0.1,
            noise_exc: 5.0,
            noise_inh: 2.0,
            dt_ms: 1.0,
            lif: DEFAULT_LIF,
            seed: 3,
        };
        let net = Network::sparse(&spec);
        let m = net.n_synapses() as f64;
        let expected = 0.05 * 2000.0 * 1999.0;
        assert!((m - expected).abs() < 0.03 * expected, "{m} vs {expected}");
        for j in 0..net.n {
            let row = &net.out_post[net.out_ptr[j] as usize..net.out_ptr[j + 1] as usize];
            assert!(row.windows(2).all(|w| w[0] < w[1]));
            assert!(!row.contains(&(j as u32)));
        }
        for i in 0..net.n {
            let col = &net.in_pre[net.in_ptr[i] as usize..net.in_ptr[i + 1] as usize];
            assert!(col.windows(2).all(|w| w[0] < w[1]));
        }
        assert_eq!(net.n_exc, 1600);
    }
}
