//! What the page asks of a trained decomposition — the feature list, one feature's detail, a
//! clamp — and the worker's answers.

use crate::report::{ClampRequest, ClampResponse, FeatureDetail, FeatureSummary, Target};
use neurolab_base::Finite;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "control", rename_all = "snake_case")]
pub enum SaeControl {
    /// Every latent, densest first.
    Features,
    /// One latent's or neuron's detail.
    Feature { target: Target },
    /// Edit a latent or neuron at one input.
    Clamp { request: ClampRequest },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum SaeAnswer {
    /// The feature list, computed at `step`.
    FeatureList {
        step: u32,
        features: Vec<FeatureSummary>,
    },
    FeatureDetail {
        detail: FeatureDetail,
    },
    Clamped {
        request: ClampRequest,
        response: ClampResponse,
    },
}

impl Finite for SaeAnswer {
    fn all_finite(&self) -> bool {
        match self {
            SaeAnswer::FeatureList { features, .. } => features.all_finite(),
            SaeAnswer::FeatureDetail { detail } => detail.all_finite(),
            SaeAnswer::Clamped { request, response } => {
                request.all_finite() && response.all_finite()
            }
        }
    }
}
