//! How the mechanism forms, on plain numbers read back from the device (no burn here): the
//! embedding's Fourier spectrum over the frequencies k = 1..(p−1)/2, its key frequencies and Gini
//! coefficient (Nanda et al. 2023); each neuron's dominant frequency, the share of its power there
//! and its phase (the modular-addition paper's single-frequency neurons); the restricted and
//! excluded losses (Nanda et al.'s progress measures); the three phases of grokking; and the
//! linear CKA between two representations (rich vs lazy learning).

use crate::config::Op;
use serde::{Deserialize, Serialize};
use std::f64::consts::TAU;

/// Most key frequencies reported.
pub const MAX_KEY_FREQS: usize = 10;
/// A frequency is key when its power is this many times the median power (and above the mean):
/// a flat spectrum, as at initialisation, has none; a grokked one has a handful.
pub const KEY_FACTOR: f32 = 10.0;

/// The Fourier spectrum of an embedding: per frequency k (index k − 1), the norm of its cos and
/// sin components over the embedding's dimensions (orthonormal basis, so the powers add up to
/// the embedding's non-constant energy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Spectrum {
    pub cos: Vec<f32>,
    pub sin: Vec<f32>,
}

neurolab_base::finite_fields!(Spectrum: cos, sin);

impl Spectrum {
    /// Power per frequency: cos² + sin².
    pub fn power(&self) -> Vec<f32> {
        self.cos
            .iter()
            .zip(&self.sin)
            .map(|(c, s)| c * c + s * s)
            .collect()
    }
}

/// `cos(2π j / p)` and `sin(2π j / p)` for j in 0..p.
struct Table {
    cos: Vec<f64>,
    sin: Vec<f64>,
}

impl Table {
    fn new(p: usize) -> Table {
        let angle = |j: usize| TAU * j as f64 / p as f64;
        Table {
            cos: (0..p).map(|j| angle(j).cos()).collect(),
            sin: (0..p).map(|j| angle(j).sin()).collect(),
        }
    }
}

/// The spectrum of `rows` row-major `[p, d]`: the embedding (or input weights) of each residue.
pub fn spectrum(rows: &[f32], p: usize, d: usize) -> Spectrum {
    let t = Table::new(p);
    let norm = (2.0 / p as f64).sqrt();
    let half = (p - 1) / 2;
    let mut out = Spectrum {
        cos: Vec::with_capacity(half),
        sin: Vec::with_capacity(half),
    };
    for k in 1..=half {
        let (mut cc, mut ss) = (0.0f64, 0.0f64);
        for j in 0..d {
            let (mut c, mut s) = (0.0f64, 0.0f64);
            for a in 0..p {
                let x = f64::from(rows[a * d + j]);
                let i = (k * a) % p;
                c += x * t.cos[i];
                s += x * t.sin[i];
            }
            cc += (c * norm).powi(2);
            ss += (s * norm).powi(2);
        }
        out.cos.push(cc.sqrt() as f32);
        out.sin.push(ss.sqrt() as f32);
    }
    out
}

/// The key frequencies (1-based), strongest first: those whose power is at least
/// [`KEY_FACTOR`] times the median and above the mean, at most [`MAX_KEY_FREQS`].
pub fn key_frequencies(power: &[f32]) -> Vec<u32> {
    if power.is_empty() {
        return Vec::new();
    }
    let mean = power.iter().sum::<f32>() / power.len() as f32;
    let mut sorted = power.to_vec();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[sorted.len() / 2];
    let mut keys: Vec<usize> = (0..power.len())
        .filter(|&i| mean > 0.0 && power[i] >= mean && power[i] >= KEY_FACTOR * median)
        .collect();
    keys.sort_by(|&a, &b| power[b].total_cmp(&power[a]));
    keys.truncate(MAX_KEY_FREQS);
    keys.into_iter().map(|i| i as u32 + 1).collect()
}

/// The share of the power the frequencies `keys` (1-based) carry.
pub fn power_fraction(power: &[f32], keys: &[u32]) -> f32 {
    let total: f32 = power.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    // Folded from +0.0: an empty float sum is -0.0, which would print as "-0".
    keys.iter()
        .filter_map(|&k| power.get(k as usize - 1))
        .fold(0.0, |acc, &v| acc + v)
        / total
}

/// The Gini coefficient of non-negative values: 0 when all are equal, → 1 when one holds all.
pub fn gini(values: &[f32]) -> f32 {
    let n = values.len();
    let total: f64 = values.iter().map(|&v| f64::from(v.max(0.0))).sum();
    if n == 0 || total <= 0.0 {
        return 0.0;
    }
    let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v.max(0.0))).collect();
    sorted.sort_by(f64::total_cmp);
    let weighted: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, &v)| (2.0 * (i as f64 + 1.0) - n as f64 - 1.0) * v)
        .sum();
    (weighted / (n as f64 * total)) as f32
}

/// One neuron's Fourier profile over its input from `a`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct NeuronFourier {
    /// The dominant frequency k (1..=(p−1)/2).
    pub freq: u32,
    /// The share of the neuron's (non-constant) power at that frequency.
    pub frac: f32,
    /// The phase φ of that frequency (radians, −π..π]: the input is ≈ A·cos(2πka/p + φ).
    pub phase: f32,
    /// The size of the neuron's input over `a` without its mean: √ of its total power (unnormalised
    /// DFT). Dead neurons have a small one.
    #[serde(default)]
    pub norm: f32,
}

neurolab_base::finite_fields!(NeuronFourier: frac, phase, norm);

/// Per neuron of `inputs` row-major `[p, n]` (its input from each residue a): the power at each
/// frequency (row-major `[n, (p−1)/2]`) and the dominant frequency, share and phase.
pub fn neuron_fourier(inputs: &[f32], p: usize, n: usize) -> (Vec<f32>, Vec<NeuronFourier>) {
    let t = Table::new(p);
    let half = (p - 1) / 2;
    let mut powers = vec![0f32; n * half];
    let mut out = Vec::with_capacity(n);
    for h in 0..n {
        let mut best = (0.0f64, 1usize, 0.0f64);
        let mut total = 0.0f64;
        for k in 1..=half {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            for a in 0..p {
                let x = f64::from(inputs[a * n + h]);
                let i = (k * a) % p;
                re += x * t.cos[i];
                im -= x * t.sin[i];
            }
            let power = re * re + im * im;
            powers[h * half + k - 1] = power as f32;
            total += power;
            if power > best.0 {
                best = (power, k, im.atan2(re));
            }
        }
        out.push(NeuronFourier {
            freq: best.1 as u32,
            frac: if total > 0.0 {
                (best.0 / total) as f32
            } else {
                0.0
            },
            phase: best.2 as f32,
            norm: total.sqrt() as f32,
        });
    }
    (powers, out)
}

/// Each row of `powers` (row-major `[n, half]`) as shares of its total, scaled to 0..=255: the
/// compact neurons × frequency picture the page draws.
pub fn power_shares_u8(powers: &[f32], half: usize) -> Vec<u8> {
    powers
        .chunks(half.max(1))
        .flat_map(|row| {
            let total: f32 = row.iter().sum();
            row.iter().map(move |&v| {
                if total > 0.0 {
                    (255.0 * v / total).round().clamp(0.0, 255.0) as u8
                } else {
                    0
                }
            })
        })
        .collect()
}

/// The progress measures' output basis: row c holds cos(2πkc/p) for each key k, then
/// sin(2πkc/p) for each — row-major `[p, 2K]`. With it the key components of the logits are two
/// matrix products (`logits · basis`, then `rows · basisᵀ`), so the device does the p³ work and
/// only `[p², 2K]` numbers come back.
pub fn output_basis(p: usize, keys: &[u32]) -> Vec<f32> {
    let t = Table::new(p);
    let nk = keys.len();
    let mut out = vec![0f32; p * 2 * nk];
    for c in 0..p {
        for (i, &k) in keys.iter().enumerate() {
            let j = (k as usize * c) % p;
            out[c * 2 * nk + i] = t.cos[j] as f32;
            out[c * 2 * nk + nk + i] = t.sin[j] as f32;
        }
    }
    out
}

/// `a ∘ b` as the angle index the Fourier directions use (a + b or a − b); `None` for
/// multiplication, which has no such basis.
fn pair_sum(op: Op, p: usize) -> Option<impl Fn(usize, usize) -> usize> {
    let sign = match op {
        Op::Add => 1,
        Op::Sub => p - 1,
        Op::Mul => return None,
    };
    Some(move |a: usize, b: usize| (a + sign * b) % p)
}

/// cos and sin of 2πk(a ∘ b)/p per pair a·p + b: row-major `[p², 2K]` (cos of each k, then sin).
/// With `logits · output_basis` it gives the logits' Fourier coefficients on the device. `None`
/// for multiplication.
pub fn pair_basis(p: usize, op: Op, keys: &[u32]) -> Option<Vec<f32>> {
    let sum = pair_sum(op, p)?;
    let t = Table::new(p);
    let nk = keys.len();
    let mut out = vec![0f32; p * p * 2 * nk];
    for a in 0..p {
        for b in 0..p {
            let row = &mut out[(a * p + b) * 2 * nk..(a * p + b + 1) * 2 * nk];
            for (i, &k) in keys.iter().enumerate() {
                let j = (k as usize * sum(a, b)) % p;
                row[i] = t.cos[j] as f32;
                row[nk + i] = t.sin[j] as f32;
            }
        }
    }
    Some(out)
}

/// A frequency's logit power (C_k² + S_k²) at least this share of the strongest one's makes it a
/// key frequency of the logits, which the progress measures keep or remove.
pub const LOGIT_KEY_SHARE: f64 = 0.1;

/// The key frequencies of the logits (1-based, strongest first) from their coefficients for
/// k = 1..=(p−1)/2: a grokked transformer's handful, or every frequency of an MLP that spreads
/// its neurons over all of them (Gromov's solution); none for logits without any.
pub fn logit_key_frequencies(coefs: &[(f64, f64)]) -> Vec<u32> {
    let power: Vec<f64> = coefs.iter().map(|(c, s)| c * c + s * s).collect();
    let max = power.iter().copied().fold(0.0, f64::max);
    if max <= 0.0 {
        return Vec::new();
    }
    let mut keys: Vec<usize> = (0..power.len())
        .filter(|&i| power[i] >= LOGIT_KEY_SHARE * max)
        .collect();
    keys.sort_by(|&a, &b| power[b].total_cmp(&power[a]));
    keys.into_iter().map(|i| i as u32 + 1).collect()
}

/// The logits' coefficients `(C_k, S_k)` along cos/sin(2πk(a ∘ b − c)/p), from
/// `projected = logits · output_basis` (row-major `[p², 2K]`, pair a·p + b). `None` for
/// multiplication or a wrong size.
pub fn key_coefficients(
    projected: &[f32],
    p: usize,
    op: Op,
    keys: &[u32],
) -> Option<Vec<(f64, f64)>> {
    let sum = pair_sum(op, p)?;
    let nk = keys.len();
    if projected.len() != p * p * 2 * nk {
        return None;
    }
    let t = Table::new(p);
    // Σ cos² = Σ sin² = p³/2 over the cube (p odd).
    let half_cube = (p * p * p) as f64 / 2.0;
    Some(
        keys.iter()
            .enumerate()
            .map(|(i, &k)| {
                let (mut c, mut s) = (0.0f64, 0.0f64);
                for a in 0..p {
                    for b in 0..p {
                        let j = (k as usize * sum(a, b)) % p;
                        let row = &projected[(a * p + b) * 2 * nk..];
                        let (lc, ls) = (f64::from(row[i]), f64::from(row[nk + i]));
                        // cos(θ − φ) = cosθ cosφ + sinθ sinφ; sin(θ − φ) = sinθ cosφ − cosθ sinφ.
                        c += t.cos[j] * lc + t.sin[j] * ls;
                        s += t.sin[j] * lc - t.cos[j] * ls;
                    }
                }
                (c / half_cube, s / half_cube)
            })
            .collect(),
    )
}

/// The rows `G` (row-major `[p², 2K]`) with `key part of the logits = G · output_basisᵀ`.
pub fn key_part_rows(coefs: &[(f64, f64)], p: usize, op: Op, keys: &[u32]) -> Option<Vec<f32>> {
    let sum = pair_sum(op, p)?;
    let nk = keys.len();
    let t = Table::new(p);
    let mut g = vec![0f32; p * p * 2 * nk];
    for a in 0..p {
        for b in 0..p {
            let row = &mut g[(a * p + b) * 2 * nk..(a * p + b + 1) * 2 * nk];
            for (i, (&k, &(ck, sk))) in keys.iter().zip(coefs).enumerate() {
                let j = (k as usize * sum(a, b)) % p;
                row[i] = (ck * t.cos[j] + sk * t.sin[j]) as f32;
                row[nk + i] = (ck * t.sin[j] - sk * t.cos[j]) as f32;
            }
        }
    }
    Some(g)
}

/// Mean cross-entropy of row-major `[n, p]` logits against `labels`.
pub fn cross_entropy(logits: &[f32], p: usize, labels: &[u32]) -> f32 {
    let n = labels.len().max(1);
    let total: f64 = logits
        .chunks(p)
        .zip(labels)
        .map(|(row, &y)| {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let lse = max
                + row
                    .iter()
                    .map(|&v| (f64::from(v) - max).exp())
                    .sum::<f64>()
                    .ln();
            lse - f64::from(row[y as usize])
        })
        .sum();
    (total / n as f64) as f32
}

/// `[n, k] · [m, k]ᵀ` for row-major matrices.
fn matmul_t(x: &[f32], y: &[f32], k: usize) -> Vec<f32> {
    x.chunks(k.max(1))
        .flat_map(|r| {
            y.chunks(k.max(1))
                .map(move |c| r.iter().zip(c).map(|(a, b)| a * b).sum::<f32>())
        })
        .collect()
}

/// Nanda et al.'s restricted and excluded losses of `logits` row-major `[p², p]` (pair a·p + b,
/// output c), computed here on the CPU (the session does the same products on the device): the
/// logits keep only (restricted, on all pairs) or lose (excluded, on the training pairs `train`)
/// their components along cos/sin(2πk(a ∘ b − c)/p) for the key frequencies. `None` for
/// multiplication.
pub fn progress_losses(
    logits: &[f32],
    p: usize,
    op: Op,
    keys: &[u32],
    train: &[u32],
) -> Option<(f32, f32)> {
    if logits.len() != p * p * p {
        return None;
    }
    let nk = 2 * keys.len();
    let basis = output_basis(p, keys);
    // logits · basis = logits · (basisᵀ)ᵀ.
    let basis_t: Vec<f32> = (0..nk)
        .flat_map(|col| (0..p).map(move |c| (c, col)))
        .map(|(c, col)| basis[c * nk + col])
        .collect();
    let projected = matmul_t(logits, &basis_t, p);
    let coefs = key_coefficients(&projected, p, op, keys)?;
    let rows = key_part_rows(&coefs, p, op, keys)?;
    let key_part = if keys.is_empty() {
        vec![0.0; p * p * p]
    } else {
        matmul_t(&rows, &basis, nk)
    };
    let label = |i: u32| op.apply(i / p as u32, i % p as u32, p as u32);
    let all: Vec<u32> = (0..(p * p) as u32).map(label).collect();
    let restricted = cross_entropy(&key_part, p, &all);
    let mut rest = Vec::with_capacity(train.len() * p);
    for &i in train {
        let base = i as usize * p;
        rest.extend((0..p).map(|c| logits[base + c] - key_part[base + c]));
    }
    let labels: Vec<u32> = train.iter().map(|&i| label(i)).collect();
    Some((restricted, cross_entropy(&rest, p, &labels)))
}

/// Linear CKA between two representations `x` and `y`, row-major `[n, dx]` and `[n, dy]` of the
/// same n inputs: 1 when one is a rotation/scaling of the other, → 0 when unrelated.
pub fn linear_cka(x: &[f32], dx: usize, y: &[f32], dy: usize) -> f32 {
    let n = if dx > 0 { x.len() / dx } else { 0 };
    if n < 2 || dy == 0 || y.len() != n * dy {
        return 0.0;
    }
    let center = |m: &[f32], d: usize| -> Vec<f64> {
        let mut mean = vec![0.0f64; d];
        for row in m.chunks(d) {
            for (s, &v) in mean.iter_mut().zip(row) {
                *s += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|s| *s /= n as f64);
        m.chunks(d)
            .flat_map(|row| row.iter().zip(&mean).map(|(&v, &mu)| f64::from(v) - mu))
            .collect()
    };
    let (xc, yc) = (center(x, dx), center(y, dy));
    // ‖AᵀB‖²_F for centred A [n, da], B [n, db].
    let cross = |a: &[f64], da: usize, b: &[f64], db: usize| -> f64 {
        let mut m = vec![0.0f64; da * db];
        for i in 0..n {
            let (ra, rb) = (&a[i * da..(i + 1) * da], &b[i * db..(i + 1) * db]);
            for (p, &va) in ra.iter().enumerate() {
                if va == 0.0 {
                    continue;
                }
                let row = &mut m[p * db..(p + 1) * db];
                for (q, &vb) in rb.iter().enumerate() {
                    row[q] += va * vb;
                }
            }
        }
        m.iter().map(|v| v * v).sum()
    };
    let xy = cross(&xc, dx, &yc, dy);
    let xx = cross(&xc, dx, &xc, dx).sqrt();
    let yy = cross(&yc, dy, &yc, dy).sqrt();
    if xx <= 0.0 || yy <= 0.0 {
        return 0.0;
    }
    (xy / (xx * yy)) as f32
}

/// A stage of grokking (Nanda et al.): the network memorises, then forms the Fourier circuit
/// while test accuracy is still low, then cleans up the memorisation and generalises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Memorisation,
    CircuitFormation,
    CleanUp,
    Grokked,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Memorisation => "memorisation",
            Stage::CircuitFormation => "circuit formation",
            Stage::CleanUp => "clean-up",
            Stage::Grokked => "grokked",
        }
    }
}

/// Where each stage lies: `from` inclusive, `to` exclusive (`None`: still going).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StageSpan {
    pub stage: Stage,
    pub from: u32,
    pub to: Option<u32>,
}

/// One point of a run's curves, as the stage detection reads it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CurvePoint {
    pub step: u32,
    pub train_acc: f32,
    pub test_acc: f32,
    pub test_loss: f32,
    /// The latest restricted loss at or before this step (analysis steps only).
    pub restricted_loss: Option<f32>,
}

/// A run's curve for [`stages`]: its reports `(step, train_acc, test_acc, test_loss)` with the
/// latest restricted loss of `analyses` `(step, restricted)` at or before each (both in step
/// order).
pub fn curve(
    reports: impl IntoIterator<Item = (u32, f32, f32, f32)>,
    analyses: &[(u32, Option<f32>)],
) -> Vec<CurvePoint> {
    let mut next = 0;
    let mut restricted = None;
    reports
        .into_iter()
        .map(|(step, train_acc, test_acc, test_loss)| {
            while analyses.get(next).is_some_and(|&(s, _)| s <= step) {
                restricted = analyses[next].1.or(restricted);
                next += 1;
            }
            CurvePoint {
                step,
                train_acc,
                test_acc,
                test_loss,
                restricted_loss: restricted,
            }
        })
        .collect()
}

/// Test loss within this factor of the restricted loss, or within [`CLEAN_GAP`] nats of it: the
/// memorising components are gone.
pub const CLEAN_FACTOR: f32 = 2.0;
pub const CLEAN_GAP: f32 = 0.05;

/// Nanda et al.'s phases from a run's curves in step order. Memorisation lasts until train
/// accuracy reaches 99 %. Circuit formation (the key frequencies grow while test loss stays
/// high) lasts until the test loss has fallen to half its peak since memorisation. Clean-up (weight
/// decay removes the memorisation, test loss falls to the restricted loss) lasts until test
/// accuracy reaches 99 % with the test loss close to the restricted loss ([`CLEAN_FACTOR`],
/// [`CLEAN_GAP`])
/// (where the progress measures exist); after that the run has grokked.
pub fn stages(curve: &[CurvePoint]) -> Vec<StageSpan> {
    let Some(start) = curve.first().map(|c| c.step) else {
        return Vec::new();
    };
    let after = |from: u32| curve.iter().filter(move |c| c.step >= from);
    let mut spans = Vec::new();
    let memorised = after(start).find(|c| c.train_acc >= 0.99).map(|c| c.step);
    spans.push(StageSpan {
        stage: Stage::Memorisation,
        from: start,
        to: memorised,
    });
    let Some(m) = memorised else {
        return spans;
    };
    let mut peak = f32::NEG_INFINITY;
    let falling = after(m)
        .find(|c| {
            peak = peak.max(c.test_loss);
            c.step > m && c.test_loss <= 0.5 * peak
        })
        .map(|c| c.step);
    spans.push(StageSpan {
        stage: Stage::CircuitFormation,
        from: m,
        to: falling,
    });
    let Some(f) = falling else {
        return spans;
    };
    let grokked = after(f)
        .find(|c| {
            c.test_acc >= 0.99
                && c.restricted_loss
                    .is_none_or(|r| c.test_loss <= (CLEAN_FACTOR * r).max(r + CLEAN_GAP))
        })
        .map(|c| c.step);
    spans.push(StageSpan {
        stage: Stage::CleanUp,
        from: f,
        to: grokked,
    });
    if let Some(g) = grokked {
        spans.push(StageSpan {
            stage: Stage::Grokked,
            from: g,
            to: None,
        });
    }
    spans
}

/// The stage at `step`.
pub fn stage_at(spans: &[StageSpan], step: u32) -> Option<Stage> {
    spans
        .iter()
        .rev()
        .find(|s| s.from <= step && s.to.is_none_or(|t| step < t))
        .map(|s| s.stage)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[p, n]` inputs where neuron h is A·cos(2π k_h a / p + φ_h).
    fn planted(p: usize, neurons: &[(usize, f64, f64)]) -> Vec<f32> {
        let n = neurons.len();
        let mut v = vec![0f32; p * n];
        for a in 0..p {
            for (h, &(k, phase, amp)) in neurons.iter().enumerate() {
                v[a * n + h] = (amp * (TAU * (k * a) as f64 / p as f64 + phase).cos()) as f32;
            }
        }
        v
    }

    #[test]
    fn a_planted_cosine_gives_back_its_frequency_and_phase() {
        let p = 23;
        let neurons = [(3, 0.4, 1.0), (7, -2.0, 0.8), (11, 3.0, 2.0)];
        let (powers, found) = neuron_fourier(&planted(p, &neurons), p, neurons.len());
        for (f, &(k, phase, _)) in found.iter().zip(&neurons) {
            assert_eq!(f.freq as usize, k);
            assert!((f.frac - 1.0).abs() < 1e-6, "{f:?}");
            assert!(
                (f64::from(f.phase) - phase).abs() < 1e-5,
                "{f:?} vs {phase}"
            );
        }
        assert_eq!(powers.len(), 3 * 11);
        // The embedding's spectrum has exactly these three frequencies, their energy preserved.
        let s = spectrum(&planted(p, &neurons), p, neurons.len());
        let power = s.power();
        assert_eq!(key_frequencies(&power), [11, 3, 7]);
        assert!((power_fraction(&power, &[3, 7, 11]) - 1.0).abs() < 1e-6);
        let energy: f64 = planted(p, &neurons)
            .iter()
            .map(|&v| f64::from(v).powi(2))
            .sum();
        let total: f32 = power.iter().sum();
        assert!((f64::from(total) - energy).abs() / energy < 1e-5);
        assert!(gini(&power) > 0.8);
    }

    #[test]
    fn gini_is_zero_when_flat_and_near_one_when_concentrated() {
        assert_eq!(gini(&[1.0; 10]), 0.0);
        let mut v = vec![0.0; 10];
        v[3] = 5.0;
        assert!((gini(&v) - 0.9).abs() < 1e-6);
        assert_eq!(gini(&[]), 0.0);
        assert!(
            key_frequencies(&[1.0; 20]).is_empty(),
            "a flat spectrum has no key frequency"
        );
    }

    /// Logits that are exactly a sum over key frequencies of cos(2πk(a + b − c)/p).
    fn fourier_logits(p: usize, keys: &[u32], scale: f64) -> Vec<f32> {
        let mut l = vec![0f32; p * p * p];
        for a in 0..p {
            for b in 0..p {
                for c in 0..p {
                    l[(a * p + b) * p + c] = keys
                        .iter()
                        .map(|&k| {
                            scale * (TAU * (k as f64) * (a + b + p - c) as f64 / p as f64).cos()
                        })
                        .sum::<f64>() as f32;
                }
            }
        }
        l
    }

    #[test]
    fn restricted_loss_is_the_loss_and_excluded_loss_is_ln_p_for_pure_fourier_logits() {
        let p = 13;
        let keys = [2, 5];
        let logits = fourier_logits(p, &keys, 3.0);
        let all: Vec<u32> = (0..(p * p) as u32).collect();
        let train: Vec<u32> = all.iter().copied().step_by(2).collect();
        let (restricted, excluded) = progress_losses(&logits, p, Op::Add, &keys, &train).unwrap();
        // The full loss over all pairs.
        let labels: Vec<u32> = (0..p * p).map(|i| ((i / p + i % p) % p) as u32).collect();
        let full = f64::from(cross_entropy(&logits, p, &labels));
        assert!(
            (f64::from(restricted) - full).abs() < 1e-4,
            "{restricted} vs {full}"
        );
        assert!(
            (f64::from(excluded) - (p as f64).ln()).abs() < 1e-4,
            "{excluded} vs ln p"
        );
        assert_eq!(progress_losses(&logits, p, Op::Mul, &keys, &train), None);
    }

    #[test]
    fn cka_sees_rotations_and_unrelated_representations() {
        let n = 64;
        let x: Vec<f32> = (0..n * 2)
            .map(|i| ((i * 37 % 17) as f32 - 8.0) * 0.3)
            .collect();
        // y = x rotated by 90° and scaled: the same representation.
        let y: Vec<f32> = x
            .chunks(2)
            .flat_map(|r| [-2.0 * r[1], 2.0 * r[0]])
            .collect();
        assert!((linear_cka(&x, 2, &y, 2) - 1.0).abs() < 1e-5);
        let z: Vec<f32> = (0..n)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        assert!(linear_cka(&x, 2, &z, 1) < 0.3);
    }

    #[test]
    fn stages_follow_the_curves_and_the_restricted_loss() {
        let point = |step, train_acc, test_acc, test_loss, restricted_loss| CurvePoint {
            step,
            train_acc,
            test_acc,
            test_loss,
            restricted_loss,
        };
        let curve = [
            point(0, 0.01, 0.01, 4.6, None),
            point(100, 0.6, 0.02, 6.0, Some(4.0)),
            point(200, 1.0, 0.03, 9.0, Some(3.0)),
            point(300, 1.0, 0.2, 8.0, Some(1.0)),
            point(400, 1.0, 0.7, 3.0, Some(0.3)),
            // Accurate, but the test loss is still far above the restricted loss.
            point(500, 1.0, 0.995, 0.5, Some(0.05)),
            point(600, 1.0, 1.0, 0.08, Some(0.05)),
        ];
        let spans = stages(&curve);
        let names: Vec<_> = spans.iter().map(|s| (s.stage, s.from, s.to)).collect();
        assert_eq!(
            names,
            [
                (Stage::Memorisation, 0, Some(200)),
                (Stage::CircuitFormation, 200, Some(400)),
                (Stage::CleanUp, 400, Some(600)),
                (Stage::Grokked, 600, None),
            ]
        );
        assert_eq!(stage_at(&spans, 250), Some(Stage::CircuitFormation));
        assert_eq!(stage_at(&spans, 9999), Some(Stage::Grokked));
        assert_eq!(stages(&curve[..2]).len(), 1);
        // Without progress measures (multiplication), accuracy alone ends the clean-up.
        let plain: Vec<CurvePoint> = curve
            .iter()
            .map(|c| CurvePoint {
                restricted_loss: None,
                ..*c
            })
            .collect();
        assert_eq!(stages(&plain)[2].to, Some(500));
    }
}
