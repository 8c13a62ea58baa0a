// neurolab-spike's GPU engine: one simulation step = `*_detect` (one thread per 32 neurons: spike
// test on the previous v, reset, write the step's spike bits) then `*_integrate` (one thread per
// neuron: noise + external + synaptic gather over the CSC lists, reading the spike bits just
// written, then the model's update). The arithmetic is the CPU engine's (`sim.rs`), term by term
// and in the same order. Every intermediate result goes through `nf`, which XORs its bits with a
// uniform that is always 0: the shader compiler cannot prove that, so it can neither fuse a product
// and the addition it feeds into one FMA (one rounding instead of two) nor reassociate sums
// (Mesa's NIR reorders "inexact" float additions with constants) — either would make the two
// engines drift apart. With it, each operation is one IEEE f32 operation as on the CPU.

struct Globals {
    n: u32,
    words: u32,
    seed_hash: u32,
    zero: u32,
    t0: u32,
    n_probes: u32,
    refractory_steps: u32,
    _pad0: u32,
    v_peak: f32,
    dt: f32,
    half_dt: f32,
    mem_decay: f32,
    syn_decay: f32,
    v_rest: f32,
    v_reset: f32,
    r_m: f32,
}

struct Step {
    row: u32,
}

// Per-neuron parameters and inputs (32 bytes). `probe` is the neuron's column in the trace
// buffer, or 0xffffffff when its v is not recorded.
struct NeuronParams {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
    noise_std: f32,
    i_ext: f32,
    silenced: u32,
    probe: u32,
}

@group(0) @binding(0) var<uniform> g: Globals;
@group(0) @binding(1) var<storage, read_write> v: array<f32>;
// Izhikevich: x = u. LIF: x = synaptic current, y = refractory steps left (a small integer).
@group(0) @binding(2) var<storage, read_write> aux: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> np: array<NeuronParams>;
@group(0) @binding(4) var<storage, read> in_ptr: array<u32>;
@group(0) @binding(5) var<storage, read> in_pre: array<u32>;
@group(0) @binding(6) var<storage, read> w: array<f32>;
// Spike record: row r (step t0 + r) holds `words` u32 words, bit (i & 31) of word (i >> 5) = neuron i.
@group(0) @binding(7) var<storage, read_write> rec: array<u32>;
// Membrane traces: row r holds the v of the `n_probes` probed neurons after step t0 + r.
@group(0) @binding(8) var<storage, read_write> trace: array<f32>;
@group(1) @binding(0) var<uniform> s: Step;

// Keeps a product from being contracted into an FMA with the addition it feeds.
fn nf(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) ^ g.zero);
}

// noise.rs `hash` (lowbias32); u32 arithmetic wraps as Rust's wrapping_mul.
fn hash(x0: u32) -> u32 {
    var x = x0;
    x = x ^ (x >> 16u);
    x = x * 0x7feb352du;
    x = x ^ (x >> 15u);
    x = x * 0x846ca68bu;
    return x ^ (x >> 16u);
}

// noise.rs `normal(seed, step, neuron)`: twelve 16-bit uniforms summed (exact in f32) minus 6.
fn normal(step: u32, i: u32) -> f32 {
    let k = hash(g.seed_hash ^ hash(step ^ hash(i)));
    var sum = 0.0;
    for (var j = 0u; j < 6u; j++) {
        let h = hash(k + j);
        sum = sum + f32(h & 0xffffu) * (1.0 / 65536.0);
        sum = sum + f32(h >> 16u) * (1.0 / 65536.0);
    }
    return sum - 6.0;
}

// Noise plus external current, as the CPU engine: `noise_std·N + i_ext`, or `i_ext` alone.
fn drive(p: NeuronParams, step: u32, i: u32) -> f32 {
    if (p.noise_std != 0.0) {
        return nf(nf(p.noise_std * normal(step, i)) + p.i_ext);
    }
    return p.i_ext;
}

// `start + w_j1 + w_j2 + …` over the presynaptic neurons j of i that fired in this step,
// ascending j (the CSC list is sorted), as the CPU's event-driven propagation adds them.
fn gather(i: u32, start: f32) -> f32 {
    let row = s.row * g.words;
    var acc = start;
    let k1 = in_ptr[i + 1u];
    for (var k = in_ptr[i]; k < k1; k++) {
        let j = in_pre[k];
        if (((rec[row + (j >> 5u)] >> (j & 31u)) & 1u) != 0u) {
            acc = nf(acc + w[k]);
        }
    }
    return acc;
}

fn record_trace(p: NeuronParams, vi: f32) {
    if (p.probe != 0xffffffffu) {
        trace[s.row * g.n_probes + p.probe] = vi;
    }
}

@compute @workgroup_size(64)
fn izh_detect(@builtin(global_invocation_id) gid: vec3<u32>) {
    let word = gid.x;
    if (word >= g.words) {
        return;
    }
    let base = word * 32u;
    let end = min(base + 32u, g.n);
    var bits = 0u;
    for (var i = base; i < end; i++) {
        if (v[i] >= g.v_peak && np[i].silenced == 0u) {
            bits = bits | (1u << (i - base));
            v[i] = np[i].c;
            var x = aux[i];
            x.x = x.x + np[i].d;
            aux[i] = x;
        }
    }
    rec[s.row * g.words + word] = bits;
}

// v + h·(((((0.04·v)·v + 5·v) + 140) − u) + I), one rounding per operation, left to right.
fn half_step(vi: f32, ui: f32, current: f32) -> f32 {
    let quad = nf(nf(0.04 * vi) * vi);
    var x = nf(quad + nf(5.0 * vi));
    x = nf(x + 140.0);
    x = nf(x - ui);
    x = nf(x + current);
    return nf(vi + nf(g.half_dt * x));
}

@compute @workgroup_size(64)
fn izh_integrate(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= g.n) {
        return;
    }
    let p = np[i];
    let current = gather(i, drive(p, g.t0 + s.row, i));
    var vi = v[i];
    var ui = aux[i].x;
    if (p.silenced != 0u) {
        vi = p.c;
    } else {
        vi = half_step(vi, ui, current);
        vi = half_step(vi, ui, current);
    }
    // u = u + (dt·a)·(b·v − u)
    ui = nf(ui + nf(nf(g.dt * p.a) * nf(nf(p.b * vi) - ui)));
    v[i] = vi;
    aux[i] = vec2<f32>(ui, 0.0);
    record_trace(p, vi);
}

@compute @workgroup_size(64)
fn lif_detect(@builtin(global_invocation_id) gid: vec3<u32>) {
    let word = gid.x;
    if (word >= g.words) {
        return;
    }
    let base = word * 32u;
    let end = min(base + 32u, g.n);
    var bits = 0u;
    for (var i = base; i < end; i++) {
        if (v[i] >= g.v_peak && np[i].silenced == 0u) {
            bits = bits | (1u << (i - base));
            v[i] = g.v_reset;
            var x = aux[i];
            x.y = f32(g.refractory_steps);
            aux[i] = x;
        }
    }
    rec[s.row * g.words + word] = bits;
}

@compute @workgroup_size(64)
fn lif_integrate(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= g.n) {
        return;
    }
    let p = np[i];
    let syn = gather(i, 0.0);
    var x = aux[i];
    x.x = nf(nf(x.x * g.syn_decay) + syn);
    let current = drive(p, g.t0 + s.row, i);
    var vi = v[i];
    if (p.silenced != 0u) {
        vi = g.v_reset;
        x.y = 0.0;
    } else if (x.y > 0.0) {
        x.y = x.y - 1.0;
        vi = g.v_reset;
    } else {
        let v_inf = nf(g.v_rest + nf(g.r_m * nf(x.x + current)));
        vi = nf(v_inf + nf(nf(vi - v_inf) * g.mem_decay));
    }
    v[i] = vi;
    aux[i] = x;
    record_trace(p, vi);
}
