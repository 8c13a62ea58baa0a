//! What the spiking page shows, in plain words: the lab and each chart ("what am I seeing",
//! behind an ⓘ), with the paper each comes from; its gallery line and picture.

use crate::plot::figure::About;

pub const LAB: About = About {
    what: "A recurrent network of spiking neurons (Izhikevich or leaky integrate-and-fire) runs in simulated milliseconds. Excitatory and inhibitory cells, random connections and noise give population rhythms; STDP changes the synapses, and a readout learns from the spikes — with a three-factor Hebbian rule (pre × post × error), ridge regression or FORCE — to predict what comes next and when.",
    paper: "Izhikevich 2003, Simple model of spiking neurons; Joint encoding of \"what\" and \"when\" predictions through error-modulated plasticity in reservoir spiking networks (2025)",
};

pub const RASTER: About = About {
    what: "Every spike as a dot: time to the right, neurons down (excitatory blue above, inhibitory red below; silenced neurons grey). Vertical stripes are the population firing together — the 1000-neuron 2003 network shows alpha and gamma rhythms. Click a row, or focus the raster and use the arrow keys, to pick neurons for the interventions.",
    paper: "Izhikevich 2003, Simple model of spiking neurons",
};

pub const RATE: About = About {
    what: "The population's firing rate in Hz, per time bin, excitatory and inhibitory. Oscillations here are the rhythms visible in the raster; a rate that climbs without bound means the network has run away (try more inhibition or less drive).",
    paper: "Izhikevich 2003; Brunel 2000 (asynchronous and oscillatory states)",
};

pub const TRACES: About = About {
    what: "The membrane potential of a few chosen neurons over time. Each Izhikevich preset has its own signature — regular spiking, bursting, fast spiking — from the same two equations with four parameters.",
    paper: "Izhikevich 2003, Simple model of spiking neurons (the neuron presets)",
};

pub const READOUT: About = About {
    what: "The readout's output against its target over time. In the what/when task the trained readouts fire at the expected stimulus times, with amplitude proportional to the stimulus's probability; after a switch of timing or probability the three-factor rule re-adapts within a few trials.",
    paper: "Joint encoding of \"what\" and \"when\" predictions through error-modulated plasticity in reservoir spiking networks (2025)",
};

pub const LEARNING: About = About {
    what: "The readout's error on each trial. It should fall as the readout learns; a switch of the task makes it jump and then fall again — how fast it falls is the comparison between the three-factor rule, FORCE and ridge.",
    paper: "Joint encoding of \"what\" and \"when\" predictions (2025); Sussillo & Abbott 2009 (FORCE)",
};

pub const WEIGHTS: About = About {
    what: "The distribution of excitatory synaptic weights. With STDP on, weights drift towards the bounds (potentiated or depressed) as spike timing shapes them; homeostatic scaling keeps the neurons' rates near their targets so the network does not run away.",
    paper: "Song, Miller & Abbott 2000 (STDP); Supervised learning of spatial features with STDP and homeostasis (2023)",
};

pub const AVALANCHES: About = About {
    what: "Neuronal avalanches — runs of consecutive active time bins — by size, on log–log axes, with the fitted power-law exponent. Near criticality the sizes follow a power law with exponent close to −3/2; a subcritical network cuts off early, a supercritical one has a bump of huge avalanches.",
    paper: "Beggs & Plenz 2003, Neuronal avalanches in neocortical circuits; Clauset et al. 2009 (power-law fits)",
};

pub const SUMMARY: &str =
    "a spiking network's rhythms, STDP and a readout that learns what comes next and when";

/// The gallery's sketch: a raster with rhythmic stripes (the period varies).
pub fn sketch(seed: &mut u64) -> Vec<(String, &'static str, bool)> {
    use crate::plot::noise;
    let period = 14.0 + 10.0 * noise(seed);
    let (mut blue, mut red) = (String::new(), String::new());
    for row in 0..24 {
        for _ in 0..10 {
            let mut x = noise(seed) * 118.0;
            if noise(seed) < 0.6 {
                x = (x / period).round() * period + (noise(seed) - 0.5) * 3.0;
            }
            let y = 3.0 + f64::from(row) * 2.3;
            let dot = format!("M{x:.1},{y:.1}h1.4");
            if row < 19 {
                blue.push_str(&dot);
            } else {
                red.push_str(&dot);
            }
        }
    }
    vec![(blue, "#2563eb", false), (red, "#dc2626", false)]
}
