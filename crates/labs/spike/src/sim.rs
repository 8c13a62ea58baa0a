//! The CPU engine: a network's dynamic state as flat f32 arrays and one `step` that follows the
//! step order documented in `network.rs` exactly (the WGSL engine follows the same order, so a
//! small network gives the same spikes on both). Spike propagation is event-driven over the CSR
//! lists: only the neurons that fired touch their synapses. Nothing is allocated per step.
//!
//! Arithmetic, spelled out for the GPU engine (f32, evaluated left to right, no fused multiply-add):
//! - Izhikevich, h = 0.5·dt: `I = (noise_std·N + i_ext) + w_j1 + w_j2 + …` (fired j ascending);
//!   twice `v = v + h·(((((0.04·v)·v + 5·v) + 140) − u) + I)`; then `u = u + (dt·a)·(b·v − u)`.
//!   A silenced neuron: `v = c; u = u + (dt·a)·(b·v − u)`.
//! - LIF: `S = 0 + w_j1 + w_j2 + …`; `i_syn = i_syn·syn_decay + S`; `I = noise_std·N + i_ext`;
//!   if refractory steps left: `refr −= 1; v = v_reset`; else `v_inf = v_rest + r_m·(i_syn + I)`,
//!   `v = v_inf + (v − v_inf)·mem_decay` (exact exponential integration for constant input). A
//!   fired neuron gets `v = v_reset; refr = refractory_steps`. A silenced neuron: `v = v_reset`,
//!   `refr = 0` (its i_syn still integrates). Decay factors come from `LifParams`.

use crate::network::{Network, NeuronModel};
use crate::neuron::V_PEAK_MV;
use crate::noise;

/// The state of a simulation of one `Network` (the network itself stays outside, so plasticity
/// can change its weights between steps).
#[derive(Debug, Clone, PartialEq)]
pub struct Sim {
    pub model: NeuronModel,
    /// Membrane potential (mV).
    pub v: Vec<f32>,
    /// Izhikevich recovery variable (unused for LIF).
    pub u: Vec<f32>,
    /// LIF synaptic current (unused for Izhikevich).
    pub i_syn: Vec<f32>,
    /// LIF refractory steps left.
    pub refractory: Vec<u32>,
    /// External current per neuron (injection, homeostatic bias, task input), added every step.
    pub i_ext: Vec<f32>,
    /// Silenced neurons never fire and are held at rest.
    pub silenced: Vec<bool>,
    /// Steps done so far; the next step is number `t_step` (its spikes get time `t_step·dt`).
    pub t_step: u32,
    /// Input current of the step in progress (Izhikevich) / synaptic sum (LIF).
    i_buf: Vec<f32>,
    fired: Vec<u32>,
    /// Cached parts of `noise::key`: the seed's hash and each neuron's hash.
    seed_hash: u32,
    neuron_hash: Vec<u32>,
    seed: u64,
    /// Rows of the CSR whose targets are exactly 0..n (checked when the synapse count changes).
    full_row: Vec<bool>,
    full_row_synapses: usize,
}

impl Sim {
    /// The paper's initial state: v = −65, u = b·v (Izhikevich); v = v_rest (LIF).
    pub fn new(net: &Network) -> Sim {
        let n = net.n;
        let mut sim = Sim {
            model: net.model,
            v: vec![0.0; n],
            u: vec![0.0; n],
            i_syn: vec![0.0; n],
            refractory: vec![0; n],
            i_ext: vec![0.0; n],
            silenced: vec![false; n],
            t_step: 0,
            i_buf: vec![0.0; n],
            fired: Vec::with_capacity(n),
            seed_hash: 0,
            neuron_hash: (0..n as u32).map(noise::pcg_hash).collect(),
            seed: net.seed,
            full_row: Vec::new(),
            full_row_synapses: usize::MAX,
        };
        sim.set_seed(net.seed);
        sim.reset_state(net);
        sim
    }

    fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
        self.seed_hash =
            noise::pcg_hash((seed as u32) ^ noise::pcg_hash((seed >> 32) as u32 ^ 0x9e37_79b9));
    }

    /// Puts every neuron back to its initial state (time and inputs are kept).
    pub fn reset_state(&mut self, net: &Network) {
        for i in 0..net.n {
            match net.model {
                NeuronModel::Izhikevich => {
                    self.v[i] = -65.0;
                    self.u[i] = net.b[i] * -65.0;
                }
                NeuronModel::Lif => {
                    self.v[i] = net.lif.v_rest_mv;
                    self.u[i] = 0.0;
                }
            }
            self.i_syn[i] = 0.0;
            self.refractory[i] = 0;
        }
    }

    pub fn n(&self) -> usize {
        self.v.len()
    }

    /// Simulated time so far (ms).
    pub fn t_ms(&self, net: &Network) -> f64 {
        self.t_step as f64 * net.dt_ms as f64
    }

    /// The spikes of the last step (ascending neuron indices).
    pub fn fired(&self) -> &[u32] {
        &self.fired
    }

    /// `noise::normal(seed, step, i)` with the seed's and neuron's hashes cached (same bits).
    #[inline(always)]
    fn normal(&self, step: u32, i: usize) -> f32 {
        let k = noise::pcg_hash(self.seed_hash ^ noise::pcg_hash(step ^ self.neuron_hash[i]));
        // Every partial sum of `noise::normal` is an exact multiple of 2^-16 below 12, so summing
        // the 16-bit halves as integers and scaling once gives the same bits, without a serial
        // chain of float additions.
        let mut sum = 0u32;
        for j in 0..6u32 {
            let h = noise::pcg_hash(k.wrapping_add(j));
            sum += (h & 0xffff) + (h >> 16);
        }
        sum as f32 * (1.0 / 65536.0) - 6.0
    }

    /// One step of `dt_ms`; returns the neurons that fired (ascending). `net` must be the network
    /// this `Sim` was made for (same n); its weights may have changed since.
    pub fn step(&mut self, net: &Network) -> &[u32] {
        if net.seed != self.seed {
            self.set_seed(net.seed);
        }
        let n = self.v.len().min(net.n);
        let step = self.t_step;
        self.fired.clear();
        match net.model {
            NeuronModel::Izhikevich => self.step_izhikevich(net, n, step),
            NeuronModel::Lif => self.step_lif(net, n, step),
        }
        self.t_step = self.t_step.wrapping_add(1);
        &self.fired
    }

    fn check_full_rows(&mut self, net: &Network) {
        if self.full_row_synapses == net.out_post.len() && self.full_row.len() == net.n {
            return;
        }
        self.full_row_synapses = net.out_post.len();
        self.full_row = (0..net.n)
            .map(|j| {
                let (s0, s1) = (net.out_ptr[j] as usize, net.out_ptr[j + 1] as usize);
                s1 - s0 == net.n
                    && net.out_post[s0..s1]
                        .iter()
                        .enumerate()
                        .all(|(k, &i)| i as usize == k)
            })
            .collect();
    }

    fn propagate(&mut self, net: &Network) {
        self.check_full_rows(net);
        let buf = &mut self.i_buf;
        for &j in &self.fired {
            let j = j as usize;
            let (s0, s1) = (net.out_ptr[j] as usize, net.out_ptr[j + 1] as usize);
            let posts = &net.out_post[s0..s1];
            let ws = &net.out_w[s0..s1];
            if self.full_row.get(j).copied().unwrap_or(false) && ws.len() == buf.len() {
                // A full row (dense networks): posts are exactly 0..n, so a plain vector add
                // gives the same per-element sums in the same order, and vectorizes.
                for (x, &w) in buf.iter_mut().zip(ws) {
                    *x += w;
                }
                continue;
            }
            for (&i, &w) in posts.iter().zip(ws) {
                // SAFETY-free bounds: `post < n` holds for every network built by `network.rs`;
                // `get_mut` keeps a malformed hand-made network from panicking.
                if let Some(x) = buf.get_mut(i as usize) {
                    *x += w;
                }
            }
        }
    }

    fn step_izhikevich(&mut self, net: &Network, n: usize, step: u32) {
        // 1–2. spikes from the previous step's v, and reset.
        for i in 0..n {
            if self.v[i] >= V_PEAK_MV && !self.silenced[i] {
                self.fired.push(i as u32);
                self.v[i] = net.c[i];
                self.u[i] += net.d[i];
            }
        }
        // 3. input: noise + external, then the synaptic sum in ascending presynaptic order.
        for i in 0..n {
            let std = net.noise_std[i];
            self.i_buf[i] = if std != 0.0 {
                std * self.normal(step, i) + self.i_ext[i]
            } else {
                self.i_ext[i]
            };
        }
        self.propagate(net);
        // 4. two half-steps of v, one step of u.
        let dt = net.dt_ms;
        let h = 0.5 * dt;
        let (v, u, ib) = (&mut self.v[..n], &mut self.u[..n], &self.i_buf[..n]);
        let (a, b, c) = (&net.a[..n], &net.b[..n], &net.c[..n]);
        let silenced = &self.silenced[..n];
        for i in 0..n {
            let mut vi = v[i];
            let mut ui = u[i];
            if silenced[i] {
                vi = c[i];
            } else {
                let ii = ib[i];
                vi += h * (0.04 * vi * vi + 5.0 * vi + 140.0 - ui + ii);
                vi += h * (0.04 * vi * vi + 5.0 * vi + 140.0 - ui + ii);
            }
            ui += (dt * a[i]) * (b[i] * vi - ui);
            v[i] = vi;
            u[i] = ui;
        }
    }

    fn step_lif(&mut self, net: &Network, n: usize, step: u32) {
        let p = net.lif;
        let refr_steps = p.refractory_steps(net.dt_ms);
        for i in 0..n {
            if self.v[i] >= p.v_th_mv && !self.silenced[i] {
                self.fired.push(i as u32);
                self.v[i] = p.v_reset_mv;
                self.refractory[i] = refr_steps;
            }
        }
        for x in &mut self.i_buf[..n] {
            *x = 0.0;
        }
        self.propagate(net);
        let syn_decay = p.synapse_decay(net.dt_ms);
        let mem_decay = p.membrane_decay(net.dt_ms);
        for i in 0..n {
            self.i_syn[i] = self.i_syn[i] * syn_decay + self.i_buf[i];
            let std = net.noise_std[i];
            let ii = if std != 0.0 {
                std * self.normal(step, i) + self.i_ext[i]
            } else {
                self.i_ext[i]
            };
            if self.silenced[i] {
                self.v[i] = p.v_reset_mv;
                self.refractory[i] = 0;
            } else if self.refractory[i] > 0 {
                self.refractory[i] -= 1;
                self.v[i] = p.v_reset_mv;
            } else {
                let v_inf = p.v_rest_mv + p.r_m * (self.i_syn[i] + ii);
                self.v[i] = v_inf + (self.v[i] - v_inf) * mem_decay;
            }
        }
    }

    /// Runs `steps` steps, calling `on_step(step_index, fired)` after each.
    pub fn run(&mut self, net: &Network, steps: u32, mut on_step: impl FnMut(u32, &[u32])) {
        for _ in 0..steps {
            let t = self.t_step;
            self.step(net);
            on_step(t, &self.fired);
        }
    }

    /// Silences (or releases) neurons `from..to` (clamped to the network).
    pub fn set_silenced(&mut self, from: usize, to: usize, on: bool) {
        let n = self.n();
        for s in &mut self.silenced[from.min(n)..to.min(n)] {
            *s = on;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_noise_matches_noise_module() {
        let net = Network::empty(NeuronModel::Izhikevich, 50, 40, 1.0, 0xdead_beef_1234);
        let sim = Sim::new(&net);
        for step in [0u32, 1, 77, 100_000] {
            for i in [0usize, 3, 49] {
                assert_eq!(
                    sim.normal(step, i).to_bits(),
                    noise::normal(net.seed, step, i as u32).to_bits()
                );
            }
        }
    }

    #[test]
    fn one_synapse_kicks_the_target() {
        // Neuron 0 is driven to spike; its single synapse onto neuron 1 adds 20 to 1's input.
        let net =
            Network::empty(NeuronModel::Izhikevich, 2, 2, 1.0, 1).from_synapses(&[(0, 1, 20.0)]);
        let mut sim = Sim::new(&net);
        sim.i_ext[0] = 20.0;
        let mut fired1 = 0;
        for _ in 0..200 {
            let f = sim.step(&net);
            fired1 += f.iter().filter(|&&i| i == 1).count();
        }
        assert!(fired1 > 0, "target never fired");
    }
}
