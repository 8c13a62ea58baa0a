//! What the SAE page shows, in plain words: the lab and each chart ("what am I seeing", behind an
//! ⓘ), with the paper each comes from; its gallery line and picture.

use crate::plot::figure::About;

pub const LAB: About = About {
    what: "A sparse autoencoder rewrites a model's activations as a sparse sum of many directions (latents), hoping each latent is one human-readable feature. On the toy model the true features are known, so recovery is measured directly (MMCS); on the grokked model the features should be its Fourier frequencies, and splicing the SAE in shows how much of the model's behaviour it keeps (CE-loss score).",
    paper: "Elhage et al. 2022, Toy models of superposition; Gao et al. 2024, Scaling and evaluating sparse autoencoders (TopK, AuxK); Bricken et al. 2023 (ReLU + L1); semi-NMF: Decomposing MLP Activations into Interpretable Features via Semi-NMF (2025)",
};

pub const RECON: About = About {
    what: "How well the SAE reconstructs its inputs: MSE, and FVU — the fraction of variance unexplained, MSE divided by the activations' variance (0 = perfect, 1 = no better than the mean). Both fall as training goes on; a lower L0 (sparser code) usually costs some FVU.",
    paper: "Gao et al. 2024, Scaling and evaluating sparse autoencoders",
};

pub const L0: About = About {
    what: "L0: how many latents are active per input, on average. TopK fixes it at k; with ReLU + L1 the L1 coefficient sets it and it drifts during training. Fewer active latents is a sparser, more interpretable code.",
    paper: "Gao et al. 2024; Bricken et al. 2023, Towards monosemanticity",
};

pub const DEAD: About = About {
    what: "The fraction of latents that never fired on the recent batches. Dead latents are wasted capacity; TopK's auxiliary loss (AuxK) trains them on the residual to bring them back, so this should stay low.",
    paper: "Gao et al. 2024 (AuxK against dead latents)",
};

pub const QUALITY: About = About {
    what: "On the toy source, MMCS: for each true feature, the best cosine with any decoder direction, averaged — 1 means every true feature was found. On a grokking source, the CE-loss score: the model is run with its activations replaced by the SAE's reconstruction; 1 = the model's loss unchanged, 0 = as bad as zeroing the layer.",
    paper: "Sharkey et al. 2022 (MMCS on toy data); Gao et al. 2024 and Bricken et al. 2023 (loss recovered)",
};

pub const DENSITY: About = About {
    what: "A histogram of how often each latent fires (log10 of the fraction of inputs). Healthy SAEs have most latents between rare and common; a spike at the far left is dead latents, a spike at the right is dense latents that fire on everything and explain little.",
    paper: "Bricken et al. 2023, Towards monosemanticity (feature density histograms)",
};

pub const HEATMAP: About = About {
    what: "The chosen latent's activation on every input pair (a, b) of the grokked model (rows a, columns b). A Fourier feature shows stripes: its activation depends on cos(k(a + b)) or on a and b separately at one frequency k — the label above names the strongest.",
    paper: "Nanda et al. 2023 (the model's Fourier features); Bricken et al. 2023 (feature dashboards)",
};

pub const HISTOGRAM: About = About {
    what: "How strongly the chosen latent fires when it fires: a histogram of its non-zero activations. A feature that is either off or clearly on is easier to interpret than one with a long smear of weak activations.",
    paper: "Bricken et al. 2023, Towards monosemanticity (activation histograms)",
};

pub const CLAMP: About = About {
    what: "The model's outputs on one input before and after clamping a latent or a neuron (set to zero, scaled, or pinned to a value), decoded through the model's own output layer. A feature that matters moves the outputs it promotes; this is the causal check that a feature is used, not just correlated.",
    paper: "Decoding specialised feature neurons in LLMs with the final projection layer (2025); Templeton et al. 2024 (feature steering)",
};

pub const SUMMARY: &str =
    "train a sparse autoencoder on a model's activations and browse, decode and clamp its features";

/// The gallery's sketch: a feature-density histogram, a few dead latents at the left.
pub fn sketch(seed: &mut u64) -> Vec<(String, &'static str, bool)> {
    use crate::plot::noise;
    let centre = 55.0 + 30.0 * noise(seed);
    let mut bars = String::new();
    for i in 0..20 {
        let x = 4.0 + f64::from(i) * 5.8;
        let h = 46.0 * (-((x - centre) / 22.0).powi(2)).exp() + 3.0 * noise(seed);
        bars.push_str(&format!("M{x:.1},56v{:.1}h4v{:.1}z", -h, h));
    }
    let dead = format!("M2,56v{:.1}h3v{:.1}z", -8.0 - 10.0 * noise(seed), 8.0);
    vec![(bars, "#2563eb", true), (dead, "#dc2626", true)]
}
