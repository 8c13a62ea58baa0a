//! Counter-based noise: the random input of neuron `i` at step `t` is a pure function of
//! (seed, t, i), so the CPU engine and the WGSL engine draw the *same* numbers without sharing
//! state, and any chunking of the simulation gives the same run.
//!
//! The normal deviate is the classic sum of twelve uniforms minus six (mean 0, variance 1): with
//! 16-bit uniforms every partial sum is exact in f32, so both engines get bit-identical values
//! (Box–Muller would need `ln`/`cos`, whose last bits differ between CPUs and GPUs).

/// A 32-bit integer hash: Chris Wellons' `lowbias32` (xor-shifts by constants and two
/// multiplies, a bijection with near-ideal avalanche). Every shift is by a constant, so the CPU
/// engine's noise loop vectorises (SIMD128 in the browser, SSE/AVX natively): the PCG hash this
/// replaced shifts by a data-dependent amount, which no SIMD instruction set has per lane, and its
/// eight hashes per neuron per step were two thirds of a step of the Izhikevich 2003 network.
/// WGSL's `u32` arithmetic wraps the same way, so both engines draw the same bits.
#[inline(always)]
pub fn hash(x: u32) -> u32 {
    let mut x = x;
    x ^= x >> 16;
    x = x.wrapping_mul(HASH_MUL[0]);
    x ^= x >> 15;
    x = x.wrapping_mul(HASH_MUL[1]);
    x ^ (x >> 16)
}

/// `hash`'s two multipliers (the CPU engine's SIMD lanes use them too).
pub const HASH_MUL: [u32; 2] = [0x7feb_352d, 0x846c_a68b];

/// The seed's part of every key (both engines cache it).
#[inline]
pub fn seed_hash(seed: u64) -> u32 {
    hash((seed as u32) ^ hash((seed >> 32) as u32 ^ 0x9e37_79b9))
}

/// The hash key of (seed, step, neuron); the WGSL engine computes the same expression.
#[inline]
pub fn key(seed: u64, step: u32, neuron: u32) -> u32 {
    hash(seed_hash(seed) ^ hash(step ^ hash(neuron)))
}

/// A standard-normal-like deviate (Irwin–Hall, n = 12) for (seed, step, neuron).
#[inline]
pub fn normal(seed: u64, step: u32, neuron: u32) -> f32 {
    let k = key(seed, step, neuron);
    let mut sum = 0.0f32;
    for j in 0..6u32 {
        let h = hash(k.wrapping_add(j));
        sum += (h & 0xffff) as f32 * (1.0 / 65536.0);
        sum += (h >> 16) as f32 * (1.0 / 65536.0);
    }
    sum - 6.0
}

/// A uniform deviate in [0, 1) for (seed, step, neuron, which).
#[inline]
pub fn uniform(seed: u64, step: u32, neuron: u32, which: u32) -> f32 {
    let h = hash(key(seed, step, neuron).wrapping_add(0x5bd1_e995 ^ which));
    (h >> 8) as f32 * (1.0 / 16_777_216.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_has_unit_moments_and_is_deterministic() {
        let n = 200_000u32;
        let (mut s, mut s2) = (0.0f64, 0.0f64);
        for i in 0..n {
            let x = normal(7, i / 1000, i % 1000) as f64;
            s += x;
            s2 += x * x;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
        assert_eq!(normal(7, 3, 4), normal(7, 3, 4));
        assert_ne!(normal(7, 3, 4), normal(8, 3, 4));
        assert_ne!(normal(7, 3, 4), normal(7, 4, 4));
    }

    #[test]
    fn uniform_is_in_range() {
        for i in 0..10_000u32 {
            let u = uniform(1, i, i * 7, 2);
            assert!((0.0..1.0).contains(&u));
        }
    }
}
