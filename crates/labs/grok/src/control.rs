//! Changes to a running grokking session and the worker's answers.

use serde::{Deserialize, Serialize};

/// A change while the model trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "control", rename_all = "snake_case")]
pub enum GrokControl {
    /// Ablate these hidden neurons from now on (training and reports); empty restores them.
    Ablate { neurons: Vec<u32> },
    /// Ablate the hidden neurons whose dominant Fourier frequency is `k`.
    AblateFrequency { k: u32 },
}

/// What holds after a control: the ablated neurons and what the control did.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GrokAnswer {
    /// The ablated hidden neurons, sorted.
    pub ablated: Vec<u32>,
    /// "16 neurons ablated", "frequency 2: 31 neurons ablated", "all neurons restored".
    pub what: String,
}

neurolab_base::finite_fields!(GrokAnswer: ablated);
