//! Where the activations come from, and the way back: reading a site's activations out of a
//! model and splicing (possibly edited) activations back in to get its outputs.
//!
//! All tensors here live on the plain (non-autodiff) device: nothing is trained through them.

use super::config::TransformerSite;
use super::toy::ToyModel;
use burn::prelude::*;
use neurolab_grok::{Mlp, Transformer};

/// A model with one activation site.
#[derive(Debug, Clone)]
pub enum SourceModel {
    Toy(ToyModel),
    Mlp(Mlp),
    Transformer(Box<Transformer>, TransformerSite),
}

/// The site's activations for a batch of inputs, plus what splicing needs besides them.
pub struct SiteActs {
    /// `[B, d]`.
    pub acts: Tensor<2>,
    /// Transformer MLP site: the residual stream before the MLP `[B, d_model]`.
    pub resid_mid: Option<Tensor<2>>,
}

impl SourceModel {
    /// Activations of the pairs `(a, b)` (grok sources). For the toy source `a` indexes nothing:
    /// use [`ToyModel::hidden`] on feature vectors instead.
    pub fn site(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> SiteActs {
        match self {
            SourceModel::Toy(_) => unreachable_toy(a),
            SourceModel::Mlp(m) => SiteActs {
                acts: m.hidden(a, b),
                resid_mid: None,
            },
            SourceModel::Transformer(t, site) => {
                let (resid_mid, hidden) = t.resid_and_mlp(a, b);
                match site {
                    TransformerSite::Mlp => SiteActs {
                        acts: hidden,
                        resid_mid: Some(resid_mid),
                    },
                    TransformerSite::Resid => SiteActs {
                        acts: resid_mid
                            + hidden.matmul(t.w_out.val())
                            + t.b_out.val().unsqueeze::<2>(),
                        resid_mid: None,
                    },
                }
            }
        }
    }

    /// The model's output for site activations `acts` (`[B, d]`): logits `[B, p]` for grok
    /// models, the reconstructed features `[B, n]` for the toy model.
    pub fn output(&self, acts: Tensor<2>, resid_mid: Option<Tensor<2>>) -> Tensor<2> {
        match self {
            SourceModel::Toy(t) => t.out_from_hidden(acts),
            SourceModel::Mlp(m) => acts.matmul(m.w_out.val()),
            SourceModel::Transformer(t, TransformerSite::Resid) => acts.matmul(t.w_u.val()),
            SourceModel::Transformer(t, TransformerSite::Mlp) => {
                let mlp_out = acts.matmul(t.w_out.val()) + t.b_out.val().unsqueeze::<2>();
                match resid_mid {
                    Some(r) => (r + mlp_out).matmul(t.w_u.val()),
                    None => mlp_out.matmul(t.w_u.val()),
                }
            }
        }
    }

    /// The linear map from a direction in the site to the outputs, `[d, outputs]`: what a unit
    /// of activation along a direction adds to the logits (the "decode through the final
    /// projection" view). For the toy model, its pre-ReLU outputs `wᵀ`.
    pub fn unembed(&self) -> Tensor<2> {
        match self {
            SourceModel::Toy(t) => t.w.val().transpose(),
            SourceModel::Mlp(m) => m.w_out.val(),
            SourceModel::Transformer(t, TransformerSite::Resid) => t.w_u.val(),
            SourceModel::Transformer(t, TransformerSite::Mlp) => t.w_out.val().matmul(t.w_u.val()),
        }
    }

    pub fn is_toy(&self) -> bool {
        matches!(self, SourceModel::Toy(_))
    }
}

/// The toy model has no (a, b) inputs; callers never ask (the session routes toy inputs to
/// `ToyModel::hidden`). Returns an empty activation set instead of panicking.
fn unreachable_toy(a: Tensor<1, Int>) -> SiteActs {
    SiteActs {
        acts: Tensor::zeros([a.dims()[0], 0], &a.device()),
        resid_mid: None,
    }
}
