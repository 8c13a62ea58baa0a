//! Host-side analysis on plain numbers: density histograms, activation histograms, the 2D DFT
//! label of a p×p heat-map, top-n selection. Pure functions, tested without a device.

use serde::{Deserialize, Serialize};

/// log10 feature-density histogram: bins of width `bin_width` from `lo` to 0, plus the count of
/// latents that never fired (density 0, no logarithm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DensityHistogram {
    /// Lower edge of the first bin (log10 density).
    pub lo: f32,
    pub bin_width: f32,
    pub counts: Vec<u32>,
    /// Latents with density exactly 0 in the evaluated samples.
    pub never_fired: u32,
}

neurolab_base::finite_fields!(DensityHistogram: lo, bin_width);
neurolab_base::finite_fields!(Histogram: lo, hi);

pub const DENSITY_LO: f32 = -6.0;
pub const DENSITY_BIN: f32 = 0.25;

pub fn density_histogram(densities: &[f32]) -> DensityHistogram {
    let bins = ((-DENSITY_LO) / DENSITY_BIN).round() as usize;
    let mut counts = vec![0u32; bins];
    let mut never_fired = 0;
    for &d in densities {
        if d <= 0.0 || !d.is_finite() {
            never_fired += 1;
            continue;
        }
        let x = d.log10().clamp(DENSITY_LO, -1e-6);
        let i = (((x - DENSITY_LO) / DENSITY_BIN) as usize).min(bins - 1);
        counts[i] += 1;
    }
    DensityHistogram {
        lo: DENSITY_LO,
        bin_width: DENSITY_BIN,
        counts,
        never_fired,
    }
}

/// Histogram of a feature's non-zero activations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Histogram {
    pub lo: f32,
    pub hi: f32,
    pub counts: Vec<u32>,
    /// Values equal to 0 (not counted in the bins).
    pub zeros: u32,
}

pub fn histogram(values: &[f32], bins: usize) -> Histogram {
    let nz: Vec<f32> = values.iter().copied().filter(|v| *v != 0.0).collect();
    let zeros = (values.len() - nz.len()) as u32;
    if nz.is_empty() || bins == 0 {
        return Histogram {
            lo: 0.0,
            hi: 0.0,
            counts: vec![0; bins],
            zeros,
        };
    }
    let lo = nz.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = nz.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let width = ((hi - lo) / bins as f32).max(f32::MIN_POSITIVE);
    let mut counts = vec![0u32; bins];
    for v in nz {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    Histogram {
        lo,
        hi,
        counts,
        zeros,
    }
}

/// Indices of the `n` largest values, largest first (ties by index).
pub fn top_n(values: &[f32], n: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&i, &j| values[j].total_cmp(&values[i]).then(i.cmp(&j)));
    idx.truncate(n);
    idx
}

/// The dominant 2D Fourier component of a p×p heat-map over (a, b) (DC removed), with the
/// frequencies folded to 0..=p/2 (a real map has equal power at k and p − k).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FourierLabel {
    pub ka: u32,
    pub kb: u32,
    /// Share of the non-DC power in this component and its mirror images.
    pub power_frac: f32,
}

neurolab_base::finite_fields!(FourierLabel: power_frac);

impl FourierLabel {
    /// A short automatic label, e.g. "k=(14,14) 62%".
    pub fn text(&self) -> String {
        format!(
            "k=({},{}) {:.0}%",
            self.ka,
            self.kb,
            100.0 * self.power_frac
        )
    }
}

/// Power of the 2D DFT of `map` (`p*p`, row a, column b), computed separably in O(p³).
pub fn dft2_power(map: &[f32], p: usize) -> Vec<f64> {
    let (cos, sin): (Vec<f64>, Vec<f64>) = (0..p * p)
        .map(|i| {
            let t = std::f64::consts::TAU * ((i / p) * (i % p) % p) as f64 / p as f64;
            (t.cos(), -t.sin())
        })
        .unzip();
    // Along b: F1[a][kb] = Σ_b map[a][b] e^{-2πi kb b / p}.
    let mut re1 = vec![0.0; p * p];
    let mut im1 = vec![0.0; p * p];
    for a in 0..p {
        for kb in 0..p {
            let (mut re, mut im) = (0.0, 0.0);
            for b in 0..p {
                let v = map[a * p + b] as f64;
                re += v * cos[kb * p + b];
                im += v * sin[kb * p + b];
            }
            re1[a * p + kb] = re;
            im1[a * p + kb] = im;
        }
    }
    // Along a.
    let mut power = vec![0.0; p * p];
    for ka in 0..p {
        for kb in 0..p {
            let (mut re, mut im) = (0.0, 0.0);
            for a in 0..p {
                let (c, s) = (cos[ka * p + a], sin[ka * p + a]);
                let (r, i) = (re1[a * p + kb], im1[a * p + kb]);
                re += r * c - i * s;
                im += r * s + i * c;
            }
            power[ka * p + kb] = re * re + im * im;
        }
    }
    power
}

pub fn fourier_label(map: &[f32], p: usize) -> Option<FourierLabel> {
    if map.len() != p * p || p < 2 {
        return None;
    }
    let power = dft2_power(map, p);
    let fold = |k: usize| k.min(p - k);
    // Sum the power of each folded (ka, kb) class, DC excluded.
    let half = p / 2 + 1;
    let mut class = vec![0.0; half * half];
    let mut total = 0.0;
    for ka in 0..p {
        for kb in 0..p {
            if ka == 0 && kb == 0 {
                continue;
            }
            class[fold(ka) * half + fold(kb)] += power[ka * p + kb];
            total += power[ka * p + kb];
        }
    }
    if total <= 0.0 {
        return None;
    }
    let best = top_n(&class.iter().map(|&v| v as f32).collect::<Vec<_>>(), 1)[0];
    Some(FourierLabel {
        ka: (best / half) as u32,
        kb: (best % half) as u32,
        power_frac: (class[best] / total) as f32,
    })
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na * nb)) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourier_label_finds_the_stripe_frequency() {
        let p = 13;
        let k = 4.0;
        let map: Vec<f32> = (0..p * p)
            .map(|i| {
                let (a, b) = ((i / p) as f64, (i % p) as f64);
                (std::f64::consts::TAU * k * (a + b) / p as f64).cos() as f32
            })
            .collect();
        let l = fourier_label(&map, p).unwrap();
        assert_eq!((l.ka, l.kb), (4, 4));
        assert!(l.power_frac > 0.99);
    }

    #[test]
    fn density_histogram_counts_and_dead() {
        let h = density_histogram(&[0.0, 1.0, 0.01, 0.011, 1e-9]);
        assert_eq!(h.never_fired, 1);
        assert_eq!(h.counts.iter().sum::<u32>(), 4);
        assert_eq!(h.counts[0], 1, "below the range lands in the first bin");
        assert_eq!(*h.counts.last().unwrap(), 1);
    }

    #[test]
    fn top_n_is_descending() {
        assert_eq!(top_n(&[0.1, 3.0, -1.0, 2.0], 2), vec![1, 3]);
    }
}
