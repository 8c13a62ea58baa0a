//! What the language-model page shows, in plain words: the lab and each chart and tool ("what
//! am I seeing", behind an ⓘ), with the paper each comes from; its gallery line and picture.

use crate::plot::figure::About;

const DECODING: &str =
    "Decoding specialised feature neurons in LLMs with the final projection layer (2025)";
const RELATIONS_PAPER: &str = "On Relation-Specific Neurons (2025)";
const PATCHING_PAPER: &str = "Disentangling Recall and Reasoning (2025) (activation patching)";

pub const LAB: About = About {
    what: "A small GPT-style decoder (learned positions, pre-LayerNorm blocks with attention and a GELU MLP) learns to predict the next token of a corpus generated here — facts (a country's capital, its language, an object's colour, an animal's sound), short stories — or of your own text, by characters. While it trains you can generate from it and see the distribution after every token, browse its MLP neurons (where they fire, which tokens they write), steer it by clamping a neuron, patch activations between a clean and a corrupted prompt, and find the neurons specific to one relation. The model has no final LayerNorm, so a last-layer neuron's decoding W_out·W_U is exactly what it adds to the logits.",
    paper: "Decoding specialised feature neurons in LLMs with the final projection layer (2025); On Relation-Specific Neurons (2025); Disentangling Recall and Reasoning (2025)",
};

pub const LOSS: About = About {
    what: "Cross-entropy of the next token, in nats per token, on the training batches (averaged since the last report) and on validation text the model never trains on (for facts: the same facts phrased by held-out templates). A validation loss that stops falling while the training loss goes on is memorisation.",
    paper: "Radford et al. 2019 (GPT-2: next-token prediction)",
};

pub const RECALL: About = About {
    what: "For the facts corpus: the share of facts whose object (paris, french, yellow, woof) is the model's top next token after a prompt, per relation, on the training templates (solid) and on held-out templates (light) that phrase the same fact in words the model never saw it in. Held-out recall shows whether the fact is stored apart from its phrasing.",
    paper: RELATIONS_PAPER,
};

pub const SAMPLE: About = About {
    what: "Text the model wrote at the last report with a sample, from a fixed prompt at temperature 0.8: watch it go from noise to the corpus's words to its grammar.",
    paper: "Radford et al. 2019 (GPT-2: sampling)",
};

pub const GENERATE: About = About {
    what: "The model continues your prompt (greedy at temperature 0, else sampled among the top k). Hover or focus a token to see what the model expected after it: its five most likely next tokens. With steers the same prompt and seed run twice, plain and steered (a neuron held at a value, or its output direction added to the residual stream), side by side.",
    paper: DECODING,
};

pub const NEURONS: About = About {
    what: "The chosen layer's MLP neurons, most active first, each with the token its output weights promote most through the unembedding (W_out[n]·W_U). Open one to see the corpus windows where it fires most, every token shaded by its activation (darker is stronger), how its activations are spread, and the tokens it promotes and suppresses. In the last layer that decoding is exact: the model has no final LayerNorm, so the neuron adds exactly activation × W_out[n]·W_U to the logits.",
    paper: DECODING,
};

pub const HISTOGRAM: About = About {
    what: "How the neuron's activations spread over the browser's sample of the corpus. GELU neurons sit mostly near zero; a neuron that is either off or clearly on is easier to read than one with a long smear.",
    paper: DECODING,
};

pub const PATCHING: About = About {
    what: "The model runs on a corrupted prompt (spain instead of france) with one activation copied from the clean prompt's run: the residual stream entering a layer, or an attention or MLP output, at one position. A cell is the share of the clean-minus-corrupted logit difference of the two answers that the patch brings back (1: all of it, 0: nothing). Where the cells light up is where the fact is carried: the subject's position in early layers, the last position late.",
    paper: PATCHING_PAPER,
};

pub const RELATIONS: About = About {
    what: "For one relation (say capital), the neurons whose attribution to its answers is highest compared with the other relations are silenced, the top 1, 2, 4 … k together, and the recall of every relation is measured again. Relation-specific neurons make the chosen relation's line fall while the others stay up.",
    paper: RELATIONS_PAPER,
};

pub const SUMMARY: &str =
    "train a small GPT on facts, stories or your own text; generate, decode and steer its neurons, patch activations";

/// The gallery's sketch: a falling loss curve over a row of shaded tokens.
pub fn sketch(seed: &mut u64) -> Vec<(String, &'static str, bool)> {
    use crate::plot::noise;
    let speed = 4.0 + 4.0 * noise(seed);
    let mut loss = String::from("M4,6");
    for i in 1..=28 {
        let x = 4.0 + f64::from(i) * 4.0;
        // Loss falls: down the picture (SVG's y grows downwards).
        let y = 6.0 + 32.0 * (1.0 - (-f64::from(i) / speed).exp()) + 1.5 * noise(seed);
        loss.push_str(&format!(" L{x:.1},{y:.1}"));
    }
    let mut faint = String::new();
    let mut strong = String::new();
    for i in 0..9 {
        let x = 4.0 + f64::from(i) * 12.8;
        let cell = format!("M{x:.1},48h11v9h-11z");
        if noise(seed) > 0.6 {
            strong.push_str(&cell);
        } else {
            faint.push_str(&cell);
        }
    }
    vec![
        (faint, "#bfdbfe", true),
        (strong, "#2563eb", true),
        (loss, "#dc2626", false),
    ]
}
