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
    /// LIF: noise + external current of the step in progress.
    drive_buf: Vec<f32>,
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
            drive_buf: vec![0.0; n],
            fired: Vec::with_capacity(n),
            seed_hash: 0,
            neuron_hash: (0..n as u32).map(noise::hash).collect(),
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
        self.seed_hash = noise::seed_hash(seed);
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
                add_row(buf, ws);
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
        drive_input(
            self.seed_hash,
            step,
            &self.neuron_hash[..n],
            &net.noise_std[..n],
            &self.i_ext[..n],
            &mut self.i_buf[..n],
        );
        self.propagate(net);
        // 4. two half-steps of v, one step of u.
        let dt = net.dt_ms;
        let h = 0.5 * dt;
        let (v, u, ib) = (&mut self.v[..n], &mut self.u[..n], &self.i_buf[..n]);
        let (a, b, c) = (&net.a[..n], &net.b[..n], &net.c[..n]);
        let silenced = &self.silenced[..n];
        let start = lanes::izhikevich(h, dt, v, u, ib, (a, b, c), silenced);
        izhikevich_update(
            h,
            dt,
            &mut v[start..],
            &mut u[start..],
            &ib[start..],
            (&a[start..], &b[start..], &c[start..]),
            &silenced[start..],
        );
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
        drive_input(
            self.seed_hash,
            step,
            &self.neuron_hash[..n],
            &net.noise_std[..n],
            &self.i_ext[..n],
            &mut self.drive_buf[..n],
        );
        for i in 0..n {
            self.i_syn[i] = self.i_syn[i] * syn_decay + self.i_buf[i];
            let ii = self.drive_buf[i];
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

/// `noise::normal` from the cached seed and neuron hashes. Every partial sum of twelve 16-bit
/// uniforms is an exact multiple of 2^-16 below 12, so summing the halves as integers and scaling
/// once gives the same bits as the float sum, without a serial chain of float additions.
#[inline(always)]
fn normal_of(seed_hash: u32, step: u32, neuron_hash: u32) -> f32 {
    let k = noise::hash(seed_hash ^ noise::hash(step ^ neuron_hash));
    let mut sum = 0u32;
    for j in 0..6u32 {
        let h = noise::hash(k.wrapping_add(j));
        sum += (h & 0xffff) + (h >> 16);
    }
    sum as f32 * (1.0 / 65536.0) - 6.0
}

/// Step 3's first part for every neuron: `std·N + i_ext`, or `i_ext` where the std is 0 (the
/// deviate is drawn and dropped there, so the loop has no branch). The slices have one length.
fn drive_input(
    seed_hash: u32,
    step: u32,
    neuron_hash: &[u32],
    std: &[f32],
    ext: &[f32],
    out: &mut [f32],
) {
    let s = lanes::drive_input(seed_hash, step, neuron_hash, std, ext, out);
    drive_input_scalar(
        seed_hash,
        step,
        &neuron_hash[s..],
        &std[s..],
        &ext[s..],
        &mut out[s..],
    );
}

#[inline(always)]
fn drive_input_scalar(
    seed_hash: u32,
    step: u32,
    neuron_hash: &[u32],
    std: &[f32],
    ext: &[f32],
    out: &mut [f32],
) {
    let n = out
        .len()
        .min(neuron_hash.len())
        .min(std.len())
        .min(ext.len());
    for i in 0..n {
        let z = normal_of(seed_hash, step, neuron_hash[i]);
        out[i] = if std[i] != 0.0 {
            std[i] * z + ext[i]
        } else {
            ext[i]
        };
    }
}

/// `buf += row`, element by element (a dense network's full row of weights).
fn add_row(buf: &mut [f32], row: &[f32]) {
    let s = lanes::add_row(buf, row);
    add_row_scalar(&mut buf[s..], &row[s..]);
}

#[inline(always)]
fn add_row_scalar(buf: &mut [f32], row: &[f32]) {
    for (x, &w) in buf.iter_mut().zip(row) {
        *x += w;
    }
}

/// Step 4: two half-steps of v, one step of u (a silenced neuron's v is held at c).
#[inline(always)]
fn izhikevich_update(
    h: f32,
    dt: f32,
    v: &mut [f32],
    u: &mut [f32],
    i_in: &[f32],
    (a, b, c): (&[f32], &[f32], &[f32]),
    silenced: &[bool],
) {
    let n = v.len().min(u.len()).min(i_in.len()).min(a.len());
    let n = n.min(b.len()).min(c.len()).min(silenced.len());
    for i in 0..n {
        let mut vi = v[i];
        let mut ui = u[i];
        if silenced[i] {
            vi = c[i];
        } else {
            let ii = i_in[i];
            vi += h * (0.04 * vi * vi + 5.0 * vi + 140.0 - ui + ii);
            vi += h * (0.04 * vi * vi + 5.0 * vi + 140.0 - ui + ii);
        }
        ui += (dt * a[i]) * (b[i] * vi - ui);
        v[i] = vi;
        u[i] = ui;
    }
}

/// The engine's hot loops four neurons at a time with WebAssembly SIMD128, the same operations in
/// the same order as the scalar code (so the same bits). The browser's build is size-optimised
/// (opt-level "z" and whole-program LTO), which leaves LLVM's auto-vectoriser off, so these are
/// written out; each returns how many leading elements it did (a multiple of 4) and the scalar
/// loop finishes the rest. On x86-64 the scalar loops run as AVX2 copies (below); elsewhere as they are.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use crate::noise::HASH_MUL;
    use core::arch::wasm32::*;

    #[inline(always)]
    fn hash(x: v128) -> v128 {
        let x = v128_xor(x, u32x4_shr(x, 16));
        let x = i32x4_mul(x, u32x4_splat(HASH_MUL[0]));
        let x = v128_xor(x, u32x4_shr(x, 15));
        let x = i32x4_mul(x, u32x4_splat(HASH_MUL[1]));
        v128_xor(x, u32x4_shr(x, 16))
    }

    #[inline(always)]
    fn load_u32(s: &[u32]) -> v128 {
        // SAFETY: callers pass chunks of exactly 4 elements; wasm loads may be unaligned.
        unsafe { v128_load(s.as_ptr() as *const v128) }
    }

    #[inline(always)]
    fn load(s: &[f32]) -> v128 {
        // SAFETY: as `load_u32`.
        unsafe { v128_load(s.as_ptr() as *const v128) }
    }

    #[inline(always)]
    fn store(s: &mut [f32], x: v128) {
        // SAFETY: as `load_u32`.
        unsafe { v128_store(s.as_mut_ptr() as *mut v128, x) }
    }

    pub fn drive_input(
        seed_hash: u32,
        step: u32,
        neuron_hash: &[u32],
        std: &[f32],
        ext: &[f32],
        out: &mut [f32],
    ) -> usize {
        let n4 = out.len() / 4 * 4;
        let (seed, step) = (u32x4_splat(seed_hash), u32x4_splat(step));
        let (low16, scale, six) = (
            u32x4_splat(0xffff),
            f32x4_splat(1.0 / 65536.0),
            f32x4_splat(6.0),
        );
        let zero = f32x4_splat(0.0);
        for (((o, h), sd), e) in out[..n4]
            .chunks_exact_mut(4)
            .zip(neuron_hash.chunks_exact(4))
            .zip(std.chunks_exact(4))
            .zip(ext.chunks_exact(4))
        {
            let k = hash(v128_xor(seed, hash(v128_xor(step, load_u32(h)))));
            let mut sum = u32x4_splat(0);
            for j in 0..6u32 {
                let hj = hash(i32x4_add(k, u32x4_splat(j)));
                sum = i32x4_add(sum, i32x4_add(v128_and(hj, low16), u32x4_shr(hj, 16)));
            }
            let z = f32x4_sub(f32x4_mul(f32x4_convert_u32x4(sum), scale), six);
            let (sd, e) = (load(sd), load(e));
            let noisy = f32x4_add(f32x4_mul(sd, z), e);
            store(o, v128_bitselect(noisy, e, f32x4_ne(sd, zero)));
        }
        n4
    }

    pub fn add_row(buf: &mut [f32], row: &[f32]) -> usize {
        let n4 = buf.len().min(row.len()) / 4 * 4;
        for (x, w) in buf[..n4].chunks_exact_mut(4).zip(row.chunks_exact(4)) {
            store(x, f32x4_add(load(x), load(w)));
        }
        n4
    }

    /// Step 4, four neurons at a time (a silenced neuron's v is c, as in the scalar loop).
    #[allow(clippy::too_many_arguments)]
    pub fn izhikevich(
        h: f32,
        dt: f32,
        v: &mut [f32],
        u: &mut [f32],
        i_in: &[f32],
        (a, b, c): (&[f32], &[f32], &[f32]),
        silenced: &[bool],
    ) -> usize {
        let n4 = v.len() / 4 * 4;
        let (h, dt) = (f32x4_splat(h), f32x4_splat(dt));
        let (k04, k5, k140) = (f32x4_splat(0.04), f32x4_splat(5.0), f32x4_splat(140.0));
        let groups = v[..n4]
            .chunks_exact_mut(4)
            .zip(u.chunks_exact_mut(4))
            .zip(i_in.chunks_exact(4))
            .zip(
                a.chunks_exact(4)
                    .zip(b.chunks_exact(4))
                    .zip(c.chunks_exact(4)),
            )
            .zip(silenced.chunks_exact(4));
        for ((((v4, u4), i4), ((a4, b4), c4)), s4) in groups {
            let (mut vi, mut ui, ii) = (load(v4), load(u4), load(i4));
            let u0 = ui;
            for _ in 0..2 {
                // v + h·(((((0.04·v)·v + 5·v) + 140) − u) + I)
                let q = f32x4_add(f32x4_mul(f32x4_mul(k04, vi), vi), f32x4_mul(k5, vi));
                let q = f32x4_add(f32x4_sub(f32x4_add(q, k140), u0), ii);
                vi = f32x4_add(vi, f32x4_mul(h, q));
            }
            let quiet = u32x4(s4[0] as u32, s4[1] as u32, s4[2] as u32, s4[3] as u32);
            vi = v128_bitselect(load(c4), vi, u32x4_ne(quiet, u32x4_splat(0)));
            // u + (dt·a)·(b·v − u)
            let da = f32x4_mul(dt, load(a4));
            ui = f32x4_add(ui, f32x4_mul(da, f32x4_sub(f32x4_mul(load(b4), vi), ui)));
            store(v4, vi);
            store(u4, ui);
        }
        n4
    }
}

/// Outside the browser: on x86-64 CPUs with AVX2 the scalar loops compiled a second time with AVX2
/// enabled (LLVM vectorises them eight lanes wide; integer ops and separately rounded f32 adds and
/// multiplies, so the same bits) — the baseline build (SSE2) has no 32-bit lane multiply for the
/// hash. Elsewhere each returns 0 and the scalar loop does everything.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    /// Runs `work` (a scalar loop compiled with AVX2) when the CPU has AVX2; how many it did.
    #[inline(always)]
    fn with_avx2(len: usize, work: impl FnOnce()) -> usize {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            work();
            return len;
        }
        let _ = (len, work);
        0
    }

    pub fn drive_input(
        seed_hash: u32,
        step: u32,
        neuron_hash: &[u32],
        std: &[f32],
        ext: &[f32],
        out: &mut [f32],
    ) -> usize {
        let len = out.len();
        // SAFETY: `with_avx2` runs it only on a CPU with AVX2.
        with_avx2(len, || unsafe {
            avx2::drive_input(seed_hash, step, neuron_hash, std, ext, out)
        })
    }

    pub fn add_row(buf: &mut [f32], row: &[f32]) -> usize {
        let len = buf.len();
        // SAFETY: as above.
        with_avx2(len, || unsafe { avx2::add_row(buf, row) })
    }

    pub fn izhikevich(
        h: f32,
        dt: f32,
        v: &mut [f32],
        u: &mut [f32],
        i_in: &[f32],
        abc: (&[f32], &[f32], &[f32]),
        silenced: &[bool],
    ) -> usize {
        let len = v.len();
        // SAFETY: as above.
        with_avx2(len, || unsafe {
            avx2::izhikevich(h, dt, v, u, i_in, abc, silenced)
        })
    }

    /// The scalar loops, compiled with AVX2 (x86-64 only; other targets never call them).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    mod avx2 {
        #[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
        pub unsafe fn drive_input(
            seed_hash: u32,
            step: u32,
            neuron_hash: &[u32],
            std: &[f32],
            ext: &[f32],
            out: &mut [f32],
        ) {
            super::super::drive_input_scalar(seed_hash, step, neuron_hash, std, ext, out);
        }

        #[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
        pub unsafe fn add_row(buf: &mut [f32], row: &[f32]) {
            super::super::add_row_scalar(buf, row);
        }

        #[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
        pub unsafe fn izhikevich(
            h: f32,
            dt: f32,
            v: &mut [f32],
            u: &mut [f32],
            i_in: &[f32],
            abc: (&[f32], &[f32], &[f32]),
            silenced: &[bool],
        ) {
            super::super::izhikevich_update(h, dt, v, u, i_in, abc, silenced);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drive_input_is_the_noise_module_times_std_plus_external() {
        let n = 53; // not a multiple of 4: the lanes and the scalar tail both run
        let net = Network::empty(NeuronModel::Izhikevich, n, 40, 1.0, 0xdead_beef_1234);
        let sim = Sim::new(&net);
        let std: Vec<f32> = (0..n)
            .map(|i| if i % 7 == 0 { 0.0 } else { 0.3 * i as f32 })
            .collect();
        let ext: Vec<f32> = (0..n).map(|i| 0.1 * i as f32 - 2.0).collect();
        for step in [0u32, 1, 77, 100_000] {
            let mut out = vec![f32::NAN; n];
            drive_input(sim.seed_hash, step, &sim.neuron_hash, &std, &ext, &mut out);
            for i in 0..n {
                let want = if std[i] != 0.0 {
                    std[i] * noise::normal(net.seed, step, i as u32) + ext[i]
                } else {
                    ext[i]
                };
                assert_eq!(out[i].to_bits(), want.to_bits(), "step {step}, neuron {i}");
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
