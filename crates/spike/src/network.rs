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
//! Spikes of step t are those found in 1., recorded with time t (ms).

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
