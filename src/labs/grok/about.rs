//! What the grokking page shows, in plain words: the lab and each chart ("what am I seeing",
//! behind an ⓘ), with the paper each comes from; its gallery line and picture.

use crate::plot::figure::About;

pub const LAB: About = About {
    what: "A small network learns a ∘ b mod p from a fraction of all pairs. It first memorises the training pairs (train accuracy 100 %, test at chance), and much later — pushed by weight decay — generalises: test accuracy jumps. Underneath, the embedding and the neurons turn into a few Fourier frequencies, and that is the algorithm: add the angles, read off the sum.",
    paper: "Power et al. 2022 (grokking); Nanda et al. 2023, Progress measures for grokking; Gromov 2023 / On the Mechanism and Dynamics of Modular Addition (2025)",
};

pub const LOSS: About = About {
    what: "Training and test cross-entropy over steps (log scale), for every run on the page. Watch for the long plateau where the train loss is tiny and the test loss stays high (memorisation), then the test loss falling (generalisation). The restricted and excluded losses, when shown, are the progress measures: the restricted loss (only the key frequencies kept) falls before the test loss does; the excluded loss (key frequencies removed) rises.",
    paper: "Nanda et al. 2023, Progress measures for grokking via mechanistic interpretability",
};

pub const ACCURACY: About = About {
    what: "The fraction of training and test pairs the network gets right. Train accuracy reaches 100 % early; test accuracy stays near 1/p for a long time and then rises steeply — that delayed jump is grokking. The shaded spans are the phases the lab reads from these curves: memorisation, circuit formation, clean-up.",
    paper: "Power et al. 2022, Grokking: generalization beyond overfitting on small algorithmic datasets",
};

pub const NORM: About = About {
    what: "The total L2 norm of the weights. It grows while the network memorises and falls as weight decay trades the memorising solution for the smaller, general Fourier one; the fall lines up with the test accuracy's rise. Without weight decay it does not fall, and the network often does not grok.",
    paper: "Nanda et al. 2023; On the Mechanism and Dynamics of Modular Addition (2025): the tug of war between loss and weight decay",
};

pub const FOURIER: About = About {
    what: "How much of the embedding's power sits in its few key frequencies, and the Gini coefficient of its spectrum (0 = spread evenly, 1 = all in one frequency). Both climb as the network forms its Fourier circuit; a sparse spectrum is the sign that the general algorithm has taken over.",
    paper: "Nanda et al. 2023 (key frequencies); On the Mechanism and Dynamics of Modular Addition (2025)",
};

pub const MOVED: About = About {
    what: "How far each layer's weights have moved from where they started, ‖W − W₀‖ / ‖W₀‖. Large movement is the rich (feature-learning) regime, little movement the lazy one; the initial scale and rank controls move a run between them.",
    paper: "How connectivity structure shapes rich and lazy learning (2023)",
};

pub const CKA: About = About {
    what: "Linear CKA between the hidden representation now and at step 0 (1 = the same up to rotation and scale). A representation that changes a lot — CKA falling far below 1 — means the network learned new features rather than fitting with its initial ones.",
    paper: "Kornblith et al. 2019 (CKA); How connectivity structure shapes rich and lazy learning (2023)",
};

pub const SPECTRUM: About = About {
    what: "The embedding's power at each frequency k (cosine and sine parts) at the shown step; the key frequencies are in red. After grokking a handful of frequencies hold almost all the power — the circuit computes with cos(k·a), sin(k·a) at just those k.",
    paper: "Nanda et al. 2023, Progress measures for grokking",
};

pub const FREQ_HEAT: About = About {
    what: "Each frequency's share of the embedding's power (rows, k = 1 at the top) at every analysed step (columns). Early on the power is spread; during circuit formation a few rows darken and stay dark. It shows when the network settles on its frequencies.",
    paper: "Nanda et al. 2023; On the Mechanism and Dynamics of Modular Addition (2025)",
};

pub const NEURON_HEAT: About = About {
    what: "Every hidden neuron (rows, sorted by dominant frequency) against frequency (columns): the share of the neuron's input-weight power at each k. A trained network has one dark cell per row — each neuron is tuned to a single frequency. Click a row (or type a neuron) to race it.",
    paper: "On the Mechanism and Dynamics of Modular Addition: Fourier Features, Lottery Ticket, and Grokking (2025)",
};

pub const WHEELS: About = About {
    what: "For each key frequency, its neurons placed on a circle by their phase, with the neuron's size as the radius. Phases spread evenly around the wheel are what lets the neurons' noisy votes cancel, so that only the correct sum survives.",
    paper: "On the Mechanism and Dynamics of Modular Addition (2025): symmetric phases",
};

pub const RACE: About = About {
    what: "One neuron's share of power per frequency over training: the frequencies race, and the one that wins was usually ahead in the neuron's initial spectrum — the lottery ticket. Forking a run at step 0 with another seed shows a different winner.",
    paper: "On the Mechanism and Dynamics of Modular Addition (2025): the lottery ticket",
};

pub const SUMMARY: &str =
    "watch a network memorise a + b mod p, then grok it, while its Fourier features form";

/// The gallery's sketch: train accuracy rising early, test accuracy late (the delay varies).
pub fn sketch(seed: &mut u64) -> Vec<(String, &'static str, bool)> {
    let delay = 30.0 + 65.0 * crate::plot::noise(seed);
    let curve = |mid: f64| {
        (0..=60)
            .map(|i| {
                let x = f64::from(i) * 2.0;
                let y = 54.0 - 46.0 / (1.0 + (-(x - mid) / 5.0).exp());
                format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" })
            })
            .collect::<String>()
    };
    vec![
        (curve(14.0), "#94a3b8", false),
        (curve(delay), "#2563eb", false),
    ]
}
