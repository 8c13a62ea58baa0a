//! Neuronal avalanches (Beggs & Plenz 2003): population spike counts are binned in time; an
//! avalanche is a maximal run of non-empty bins with an empty bin before and after it. Its size is
//! the number of spikes, its duration the number of bins. At criticality the sizes follow a power
//! law `P(s) ∝ s^−α` with α ≈ 3/2 (durations: ≈ 2).
//!
//! The bin width defaults to the population's mean inter-event interval (the time between
//! successive spikes of the pooled train), as in Beggs & Plenz. The exponent is fitted by
//! maximum likelihood for a discrete power law above `x_min` (Clauset, Shalizi & Newman 2009):
//! the closed-form approximation `α ≈ 1 + n / Σ ln(x_i / (x_min − 1/2))` and the exact discrete
//! MLE (maximising `−n ln ζ(α, x_min) − α Σ ln x_i` with the Hurwitz zeta), with the standard
//! error `(α − 1)/√n` and the Kolmogorov–Smirnov distance of the fit. The collector is
//! incremental: feed counts chunk by chunk as the simulation runs.

use crate::error::{check, SpikeError};
use serde::{Deserialize, Serialize};

/// One avalanche.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Avalanche {
    /// Index of its first bin.
    pub start_bin: u64,
    /// Spikes in it.
    pub size: u64,
    /// Bins in it.
    pub duration_bins: u32,
}

/// Segments a stream of per-step spike counts into avalanches, incrementally.
#[derive(Debug, Clone, PartialEq)]
pub struct AvalancheCollector {
    steps_per_bin: u32,
    step_in_bin: u32,
    bin_count: u64,
    bin_index: u64,
    /// An empty bin has been seen (so a run that starts now is bounded on the left).
    seen_empty: bool,
    run_size: u64,
    run_bins: u32,
    run_start: u64,
    avalanches: Vec<Avalanche>,
}

impl AvalancheCollector {
    /// Bins of `steps_per_bin` simulation steps (1..=1e6).
    pub fn new(steps_per_bin: u32) -> Result<Self, SpikeError> {
        check("steps_per_bin", f64::from(steps_per_bin), 1.0, 1e6)?;
        Ok(Self {
            steps_per_bin,
            step_in_bin: 0,
            bin_count: 0,
            bin_index: 0,
            seen_empty: false,
            run_size: 0,
            run_bins: 0,
            run_start: 0,
            avalanches: Vec::new(),
        })
    }

    /// Bins of `bin_ms` (rounded to whole steps of `dt_ms`, at least one).
    pub fn with_bin_ms(bin_ms: f32, dt_ms: f32) -> Result<Self, SpikeError> {
        check("dt_ms", f64::from(dt_ms), 0.001, 10.0)?;
        check("bin_ms", f64::from(bin_ms), 0.0, 1e5)?;
        Self::new(((bin_ms / dt_ms).round() as u32).clamp(1, 1_000_000))
    }

    pub fn steps_per_bin(&self) -> u32 {
        self.steps_per_bin
    }

    /// The spike count of one simulation step.
    pub fn push_step(&mut self, count: u32) {
        self.bin_count += count as u64;
        self.step_in_bin += 1;
        if self.step_in_bin == self.steps_per_bin {
            let c = self.bin_count;
            self.step_in_bin = 0;
            self.bin_count = 0;
            self.push_bin(c);
        }
    }

    /// Per-step counts, in order.
    pub fn push_steps(&mut self, counts: &[u32]) {
        for &c in counts {
            self.push_step(c);
        }
    }

    /// One already-binned count (bypasses the step binning; don't mix with `push_step` mid-bin).
    pub fn push_bin(&mut self, count: u64) {
        if count == 0 {
            if self.run_bins > 0 && self.seen_empty {
                self.avalanches.push(Avalanche {
                    start_bin: self.run_start,
                    size: self.run_size,
                    duration_bins: self.run_bins,
                });
            }
            self.run_bins = 0;
            self.run_size = 0;
            self.seen_empty = true;
        } else {
            if self.run_bins == 0 {
                self.run_start = self.bin_index;
            }
            self.run_bins = self.run_bins.saturating_add(1);
            self.run_size += count;
        }
        self.bin_index += 1;
    }

    /// Completed avalanches so far (a run still open, or one that began before the first empty
    /// bin, is not included).
    pub fn avalanches(&self) -> &[Avalanche] {
        &self.avalanches
    }

    pub fn sizes(&self) -> Vec<u64> {
        self.avalanches.iter().map(|a| a.size).collect()
    }

    pub fn durations(&self) -> Vec<u64> {
        self.avalanches
            .iter()
            .map(|a| a.duration_bins as u64)
            .collect()
    }

    /// Bins completed so far.
    pub fn n_bins(&self) -> u64 {
        self.bin_index
    }

    /// Forgets everything (same bin width).
    pub fn clear(&mut self) {
        *self = Self {
            avalanches: Vec::new(),
            ..Self::new(self.steps_per_bin).unwrap_or_else(|_| self.clone())
        };
    }
}

/// The mean inter-event interval (ms) of the pooled spike train given per-step counts: the span
/// from the first to the last spike over (spikes − 1). Spikes in the same step are 0 ms apart.
/// None with fewer than two spikes.
pub fn mean_iei_ms(step_counts: &[u32], dt_ms: f32) -> Option<f32> {
    let first = step_counts.iter().position(|&c| c > 0)?;
    let last = step_counts.iter().rposition(|&c| c > 0)?;
    let n: u64 = step_counts.iter().map(|&c| c as u64).sum();
    if n < 2 {
        return None;
    }
    Some(((last - first) as f64 * dt_ms as f64 / (n - 1) as f64) as f32)
}

/// A power-law fit of integer data above `x_min`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PowerLawFit {
    /// The exact discrete maximum-likelihood exponent (P(x) ∝ x^−α).
    pub alpha: f64,
    /// The closed-form approximation `1 + n / Σ ln(x / (x_min − 1/2))`.
    pub alpha_approx: f64,
    /// Standard error `(α − 1)/√n`.
    pub stderr: f64,
    pub x_min: u64,
    /// Data points ≥ x_min.
    pub n_tail: usize,
    /// Kolmogorov–Smirnov distance between the tail's empirical CDF and the fitted one.
    pub ks: f64,
}

/// The Hurwitz zeta ζ(s, q) = Σ_{k≥0} (q + k)^−s for s > 1, q ≥ 1, by Euler–Maclaurin summation
/// (20 terms + 4 Bernoulli corrections; relative error far below 1e-10).
pub fn hurwitz_zeta(s: f64, q: f64) -> f64 {
    const N: usize = 20;
    let mut sum = 0.0;
    for k in 0..N {
        sum += (q + k as f64).powf(-s);
    }
    let a = q + N as f64;
    sum += a.powf(1.0 - s) / (s - 1.0) + 0.5 * a.powf(-s);
    // B_2j / (2j)! · s(s+1)…(s+2j−2) · a^(−s−2j+1)
    let coef = [1.0 / 12.0, -1.0 / 720.0, 1.0 / 30_240.0, -1.0 / 1_209_600.0];
    let mut rising = s; // (s)_{2j−1}
    let mut pw = a.powf(-s - 1.0);
    for (j, c) in coef.iter().enumerate() {
        sum += c * rising * pw;
        let m = (2 * j + 1) as f64;
        rising *= (s + m) * (s + m + 1.0);
        pw /= a * a;
    }
    sum
}

/// Fits a discrete power law to the values ≥ `x_min` (x_min ≥ 1). None if fewer than 2 values
/// are in the tail or they are all equal to x_min.
pub fn fit_power_law(values: &[u64], x_min: u64) -> Option<PowerLawFit> {
    let x_min = x_min.max(1);
    let mut tail: Vec<u64> = values.iter().copied().filter(|&x| x >= x_min).collect();
    let n = tail.len();
    if n < 2 {
        return None;
    }
    let sum_ln: f64 = tail.iter().map(|&x| (x as f64).ln()).sum();
    let denom: f64 = tail
        .iter()
        .map(|&x| (x as f64 / (x_min as f64 - 0.5)).ln())
        .sum();
    if denom <= 0.0 {
        return None;
    }
    let alpha_approx = 1.0 + n as f64 / denom;
    // Exact MLE: maximise ℓ(α) = −n ln ζ(α, x_min) − α Σ ln x (concave in α) by golden section.
    let q = x_min as f64;
    let ll = |a: f64| -(n as f64) * hurwitz_zeta(a, q).ln() - a * sum_ln;
    let (mut lo, mut hi) = (1.0001f64, 8.0f64);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = hi - g * (hi - lo);
    let mut d = lo + g * (hi - lo);
    let (mut fc, mut fd) = (ll(c), ll(d));
    for _ in 0..100 {
        if fc > fd {
            hi = d;
            d = c;
            fd = fc;
            c = hi - g * (hi - lo);
            fc = ll(c);
        } else {
            lo = c;
            c = d;
            fc = fd;
            d = lo + g * (hi - lo);
            fd = ll(d);
        }
        if hi - lo < 1e-9 {
            break;
        }
    }
    let alpha = 0.5 * (lo + hi);
    // KS distance over the tail: compare empirical and model P(X ≥ x) at each distinct x.
    tail.sort_unstable();
    let z0 = hurwitz_zeta(alpha, q);
    let mut ks = 0.0f64;
    let mut i = 0;
    // ζ(α, x) at `zeta_at`, carried along: ζ(α, x + 1) = ζ(α, x) − x^−α, so consecutive values
    // (most of the tail) cost one power instead of two Euler–Maclaurin sums.
    let (mut zeta_at, mut zeta) = (x_min, z0);
    while i < n {
        let x = tail[i];
        // Empirical P(X ≥ x) = (n − i)/n; model = ζ(α, x)/ζ(α, x_min).
        let emp_ge = (n - i) as f64 / n as f64;
        let mut j = i;
        while j < n && tail[j] == x {
            j += 1;
        }
        let emp_gt = (n - j) as f64 / n as f64;
        if zeta_at != x {
            zeta = hurwitz_zeta(alpha, x as f64);
        }
        let zeta_next = zeta - (x as f64).powf(-alpha);
        let model_ge = zeta / z0;
        let model_gt = zeta_next / z0;
        (zeta_at, zeta) = (x + 1, zeta_next);
        ks = ks
            .max((emp_ge - model_ge).abs())
            .max((emp_gt - model_gt).abs());
        i = j;
    }
    Some(PowerLawFit {
        alpha,
        alpha_approx,
        stderr: (alpha - 1.0) / (n as f64).sqrt(),
        x_min,
        n_tail: n,
        ks,
    })
}

/// Chooses x_min by the smallest KS distance (Clauset et al.) among the distinct values up to
/// `max_x_min` that leave at least `min_tail` points, and fits there.
pub fn fit_power_law_auto(values: &[u64], max_x_min: u64, min_tail: usize) -> Option<PowerLawFit> {
    let mut cand: Vec<u64> = values
        .iter()
        .copied()
        .filter(|&x| x >= 1 && x <= max_x_min)
        .collect();
    cand.sort_unstable();
    cand.dedup();
    let mut best: Option<PowerLawFit> = None;
    for xm in cand {
        if values.iter().filter(|&&x| x >= xm).count() < min_tail.max(2) {
            break;
        }
        if let Some(f) = fit_power_law(values, xm) {
            if best.is_none_or(|b| f.ks < b.ks) {
                best = Some(f);
            }
        }
    }
    best
}

/// One bin of a logarithmically binned histogram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistBin {
    /// Integers in `[lo, hi)` fall in this bin.
    pub lo: f64,
    pub hi: f64,
    pub count: u64,
    /// count / (total · integers in the bin): an estimate of P(x) for a log-log plot.
    pub density: f64,
}

/// Log-binned histogram of positive integers, `bins_per_decade` (1..=100) bins per factor 10;
/// bins that contain no integer are skipped, empty bins are kept (count 0).
pub fn log_histogram(values: &[u64], bins_per_decade: u32) -> Vec<HistBin> {
    let b = bins_per_decade.clamp(1, 100) as f64;
    let pos: Vec<u64> = values.iter().copied().filter(|&x| x >= 1).collect();
    let Some(&max) = pos.iter().max() else {
        return Vec::new();
    };
    let total = pos.len() as f64;
    let n_bins = ((max as f64).log10() * b).floor() as usize + 1;
    let mut counts = vec![0u64; n_bins];
    for &x in &pos {
        let i = (((x as f64).log10() * b).floor() as usize).min(n_bins - 1);
        counts[i] += 1;
    }
    let mut out = Vec::new();
    for (i, &count) in counts.iter().enumerate() {
        let lo = 10f64.powf(i as f64 / b);
        let hi = 10f64.powf((i + 1) as f64 / b);
        let ints = hi.ceil() - lo.ceil();
        if ints < 1.0 {
            continue;
        }
        out.push(HistBin {
            lo,
            hi,
            count,
            density: count as f64 / (total * ints),
        });
    }
    out
}

/// Avalanche statistics for the UI and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvalancheSummary {
    pub bin_ms: f32,
    pub n_avalanches: usize,
    pub mean_size: f64,
    pub size_hist: Vec<HistBin>,
    pub duration_hist: Vec<HistBin>,
    /// Fits with x_min chosen by KS (x_min ≤ 100 for sizes, ≤ 20 for durations, ≥ 50 points).
    pub size_fit: Option<PowerLawFit>,
    pub duration_fit: Option<PowerLawFit>,
}

impl AvalancheCollector {
    /// Histograms (5 bins per decade) and fits of what was collected; `dt_ms` names the bin.
    pub fn summary(&self, dt_ms: f32) -> AvalancheSummary {
        let sizes = self.sizes();
        let durs = self.durations();
        let mean_size = if sizes.is_empty() {
            0.0
        } else {
            sizes.iter().sum::<u64>() as f64 / sizes.len() as f64
        };
        AvalancheSummary {
            bin_ms: self.steps_per_bin as f32 * dt_ms,
            n_avalanches: sizes.len(),
            mean_size,
            size_hist: log_histogram(&sizes, 5),
            duration_hist: log_histogram(&durs, 5),
            size_fit: fit_power_law_auto(&sizes, 100, 50),
            duration_fit: fit_power_law_auto(&durs, 20, 50),
        }
    }
}

/// Convenience: avalanches of a whole recording of per-step counts, binned at `bin_ms` or, if
/// None, at the mean inter-event interval (at least one step).
pub fn analyse(
    step_counts: &[u32],
    dt_ms: f32,
    bin_ms: Option<f32>,
) -> Result<AvalancheCollector, SpikeError> {
    let bin = bin_ms
        .or_else(|| mean_iei_ms(step_counts, dt_ms))
        .unwrap_or(dt_ms);
    let mut c = AvalancheCollector::with_bin_ms(bin, dt_ms)?;
    c.push_steps(step_counts);
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segmentation_is_exact() {
        // Bins: the leading run (3, 1) has no empty bin before it and is dropped; the trailing
        // run (4) is never closed.
        let bins = [3u64, 1, 0, 2, 0, 0, 5, 1, 1, 0, 7, 0, 4];
        let mut c = AvalancheCollector::new(1).unwrap();
        for &b in &bins {
            c.push_bin(b);
        }
        let got: Vec<(u64, u64, u32)> = c
            .avalanches()
            .iter()
            .map(|a| (a.start_bin, a.size, a.duration_bins))
            .collect();
        assert_eq!(got, vec![(3, 2, 1), (6, 7, 3), (10, 7, 1)]);
    }

    #[test]
    fn step_binning_and_chunking_agree() {
        let steps: Vec<u32> = (0..200u32)
            .map(|i| if (i / 3) % 4 == 0 { i % 2 } else { 0 })
            .collect();
        let mut whole = AvalancheCollector::new(2).unwrap();
        whole.push_steps(&steps);
        let mut chunked = AvalancheCollector::new(2).unwrap();
        for ch in steps.chunks(7) {
            chunked.push_steps(ch);
        }
        assert_eq!(whole.avalanches(), chunked.avalanches());
        assert!(!whole.avalanches().is_empty());
        // Binned by 2 steps: bin k = steps 2k, 2k+1.
        assert_eq!(whole.n_bins(), 100);
    }

    #[test]
    fn mean_iei() {
        // Spikes at steps 2 (two), 5 and 10: span 8 ms over 3 intervals.
        let mut c = vec![0u32; 12];
        c[2] = 2;
        c[5] = 1;
        c[10] = 1;
        assert!((mean_iei_ms(&c, 1.0).unwrap() - 8.0 / 3.0).abs() < 1e-6);
        assert_eq!(mean_iei_ms(&[0, 1, 0], 1.0), None);
    }

    #[test]
    fn hurwitz_zeta_matches_known_values() {
        // ζ(2) = π²/6, ζ(2, 2) = π²/6 − 1, ζ(1.5) = 2.6123753486854883.
        let pi2 = std::f64::consts::PI.powi(2) / 6.0;
        assert!((hurwitz_zeta(2.0, 1.0) - pi2).abs() < 1e-10);
        assert!((hurwitz_zeta(2.0, 2.0) - (pi2 - 1.0)).abs() < 1e-10);
        assert!((hurwitz_zeta(1.5, 1.0) - 2.612_375_348_685_488).abs() < 1e-9);
    }

    #[test]
    fn log_histogram_counts_everything() {
        let v: Vec<u64> = (1..=1000).collect();
        let h = log_histogram(&v, 5);
        assert_eq!(h.iter().map(|b| b.count).sum::<u64>(), 1000);
        // Uniform data: density ≈ 1/1000 in every bin the data covers fully.
        for b in h.iter().filter(|b| b.hi <= 1001.0) {
            assert!((b.density - 1e-3).abs() < 2e-4, "{b:?}");
        }
    }

    #[test]
    fn ks_by_the_zeta_recurrence_equals_the_direct_sums() {
        // Dense small values and sparse large ones (both branches of the recurrence).
        let v: Vec<u64> = (0..3000u64)
            .map(|i| 1 + (i * 7919 % 97) * (i % 5) + if i % 11 == 0 { 400 + i } else { 0 })
            .collect();
        for x_min in [1u64, 3, 10] {
            let f = fit_power_law(&v, x_min).unwrap();
            let mut tail: Vec<u64> = v.iter().copied().filter(|&x| x >= x_min).collect();
            tail.sort_unstable();
            let n = tail.len();
            let z0 = hurwitz_zeta(f.alpha, x_min as f64);
            let mut ks = 0.0f64;
            for (i, &x) in tail.iter().enumerate() {
                if i > 0 && tail[i - 1] == x {
                    continue;
                }
                let j = tail.partition_point(|&y| y <= x);
                let ge = (n - i) as f64 / n as f64 - hurwitz_zeta(f.alpha, x as f64) / z0;
                let gt = (n - j) as f64 / n as f64 - hurwitz_zeta(f.alpha, x as f64 + 1.0) / z0;
                ks = ks.max(ge.abs()).max(gt.abs());
            }
            assert!((f.ks - ks).abs() < 1e-12, "x_min {x_min}: {} vs {ks}", f.ks);
        }
    }
}
