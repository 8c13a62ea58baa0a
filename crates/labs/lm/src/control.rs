//! What the page asks of the model — generate (steered or not), a layer's neurons, one neuron,
//! patching, relation neurons, weights to load — and the worker's answers.

use crate::report::{Generation, NeuronDetail, NeuronRow, PatchResult, RelationNeurons};
use neurolab_base::Finite;
use serde::{Deserialize, Serialize};

/// A change to the model while it generates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "steer", rename_all = "snake_case")]
pub enum Steer {
    /// Hold an MLP neuron's activation at `value` at every position.
    Clamp { layer: u32, neuron: u32, value: f32 },
    /// Add `scale` × the neuron's output direction (`W_out[neuron]`) to the residual stream
    /// after its layer, at every position.
    Add { layer: u32, neuron: u32, scale: f32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub prompt: String,
    /// 0: greedy.
    pub temperature: f32,
    /// Sample among the k most likely (0: all).
    pub top_k: u32,
    pub length: u32,
    pub seed: u64,
    /// Empty: one generation; otherwise the unsteered and the steered one, same seed.
    #[serde(default)]
    pub steer: Vec<Steer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchRequest {
    pub clean: String,
    pub corrupt: String,
    /// The tokens whose logit difference is measured (default: each prompt's top next token).
    #[serde(default)]
    pub answer_clean: Option<String>,
    #[serde(default)]
    pub answer_corrupt: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "control", rename_all = "snake_case")]
pub enum LmControl {
    Generate {
        request: GenerateRequest,
    },
    /// Every neuron of a layer, most active first.
    Neurons {
        layer: u32,
    },
    Neuron {
        layer: u32,
        neuron: u32,
    },
    Patch {
        request: PatchRequest,
    },
    /// Per relation, neurons ranked by attribution; recall with the top k ablated, for each k.
    RelationNeurons {
        ks: Vec<u32>,
        #[serde(default)]
        mean_ablation: bool,
        /// Silence the neurons at every position (default: at the answer's position, the last
        /// prompt token, where the relation is read).
        #[serde(default)]
        all_positions: bool,
    },
    /// Weights this lab exported (safetensors, base64): shapes checked against the config.
    Import {
        safetensors: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum LmAnswer {
    Generated {
        request: GenerateRequest,
        plain: Generation,
        steered: Option<Generation>,
    },
    NeuronList {
        step: u32,
        layer: u32,
        neurons: Vec<NeuronRow>,
    },
    NeuronDetail {
        step: u32,
        detail: NeuronDetail,
    },
    Patched {
        request: PatchRequest,
        result: PatchResult,
    },
    RelationNeurons {
        step: u32,
        result: RelationNeurons,
    },
    Imported {
        params: u64,
    },
}

impl Finite for Steer {
    fn all_finite(&self) -> bool {
        match self {
            Steer::Clamp { value, .. } => value.is_finite(),
            Steer::Add { scale, .. } => scale.is_finite(),
        }
    }
}

impl Finite for LmAnswer {
    fn all_finite(&self) -> bool {
        match self {
            LmAnswer::Generated {
                plain,
                steered,
                request,
            } => plain.all_finite() && steered.all_finite() && request.steer.all_finite(),
            LmAnswer::NeuronList { neurons, .. } => neurons.all_finite(),
            LmAnswer::NeuronDetail { detail, .. } => detail.all_finite(),
            LmAnswer::Patched { result, .. } => result.all_finite(),
            LmAnswer::RelationNeurons { result, .. } => result.all_finite(),
            LmAnswer::Imported { .. } => true,
        }
    }
}
