//! Where the activations come from, and the way back: reading a site's activations out of a
//! model and splicing (possibly edited) activations back in to get its outputs.
//!
//! All tensors here live on the plain (non-autodiff) device: nothing is trained through them.

use super::config::TransformerSite;
use super::toy::ToyModel;
use burn::prelude::*;
use neurolab_grok::{Mlp, Transformer};
use neurolab_lm::{Edit, Gpt, Hooks, Site};

/// A model with one activation site.
#[derive(Debug, Clone)]
pub enum SourceModel {
    Toy(ToyModel),
    Mlp(Mlp),
    Transformer(Box<Transformer>, TransformerSite),
    Lm(Box<LmSource>),
}

/// The language model over the decomposition's windows of its corpus: every token a sample.
#[derive(Debug, Clone)]
pub struct LmSource {
    pub model: Gpt,
    /// `Act(layer)` (MLP neurons) or `Resid(layer + 1)` (the stream after the layer).
    pub site: Site,
    pub layer: usize,
    /// `[windows, ctx]`: sample `i` is window `i / ctx`, position `i % ctx`.
    pub tokens: Tensor<2, Int>,
    pub host_tokens: Vec<u32>,
    pub ctx: usize,
    pub vocab: Vec<String>,
}

impl LmSource {
    /// The site's activations of every sample `[N, d]`.
    pub fn acts(&self) -> Tensor<2> {
        let hooks = Hooks {
            capture: true,
            ..Hooks::default()
        };
        let (_, caps) = self.model.forward_hooked(self.tokens.clone(), &hooks);
        let x = caps
            .into_iter()
            .find(|(s, _)| *s == self.site)
            .map(|(_, x)| x)
            .expect("every site is captured");
        let [w, t, d] = x.dims();
        x.reshape([w * t, d])
    }

    /// Logits `[N, V]` with the site's activations replaced by `acts` `[N, d]`.
    fn splice(&self, acts: Tensor<2>) -> Tensor<2> {
        let [w, t] = self.tokens.dims();
        let d = acts.dims()[1];
        let device = acts.device();
        let hooks = Hooks {
            edits: vec![(
                self.site,
                Edit {
                    keep: Tensor::zeros([1, 1, 1], &device),
                    add: acts.reshape([w, t, d]),
                },
            )],
            capture: false,
        };
        let (logits, _) = self.model.forward_hooked(self.tokens.clone(), &hooks);
        let v = logits.dims()[2];
        logits.reshape([w * t, v])
    }

    /// Logits `[1, V]` at sample `i` with its activation replaced by `row` `[1, d]` (the rest
    /// of its window as it was).
    fn splice_at(&self, i: usize, row: Tensor<2>) -> Tensor<2> {
        let t = self.ctx;
        let (w, pos) = (i / t, i % t);
        let d = row.dims()[1];
        let device = row.device();
        let mut one = vec![0f32; t];
        one[pos] = 1.0;
        let one = Tensor::<3>::from_data(TensorData::new(one, [1, t, 1]), &device);
        let hooks = Hooks {
            edits: vec![(
                self.site,
                Edit {
                    keep: one.clone().neg().add_scalar(1.0),
                    add: row.reshape([1, 1, d]) * one,
                },
            )],
            capture: false,
        };
        let (logits, _) = self
            .model
            .forward_hooked(self.tokens.clone().narrow(0, w, 1), &hooks);
        let v = logits.dims()[2];
        logits.narrow(1, pos, 1).reshape([1, v])
    }

    /// A unit along the site's direction → logits, through the direct path `[d, V]`.
    fn unembed(&self) -> Tensor<2> {
        match self.site {
            Site::Act(l) => self.model.blocks[l]
                .w_out
                .val()
                .matmul(self.model.unembed()),
            _ => self.model.unembed(),
        }
    }
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
            SourceModel::Toy(_) | SourceModel::Lm(_) => unreachable_toy(a),
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
            SourceModel::Lm(s) => s.splice(acts),
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
            SourceModel::Lm(s) => s.unembed(),
            SourceModel::Mlp(m) => m.w_out.val(),
            SourceModel::Transformer(t, TransformerSite::Resid) => t.w_u.val(),
            SourceModel::Transformer(t, TransformerSite::Mlp) => t.w_out.val().matmul(t.w_u.val()),
        }
    }

    pub fn is_toy(&self) -> bool {
        matches!(self, SourceModel::Toy(_))
    }

    /// The language model, when it is the source.
    pub fn lm(&self) -> Option<&LmSource> {
        match self {
            SourceModel::Lm(s) => Some(s),
            _ => None,
        }
    }

    /// The outputs at one sample with its activations `row` `[1, d]` (raw units), when the
    /// model needs the sample's context to get them (the language model); else `None` and
    /// [`SourceModel::output`] serves.
    pub fn output_at(&self, sample: usize, row: Tensor<2>) -> Option<Tensor<2>> {
        self.lm().map(|s| s.splice_at(sample, row))
    }
}

/// The toy model and the language model have no (a, b) inputs; callers never ask (the session routes toy inputs to
/// `ToyModel::hidden`). Returns an empty activation set instead of panicking.
fn unreachable_toy(a: Tensor<1, Int>) -> SiteActs {
    SiteActs {
        acts: Tensor::zeros([a.dims()[0], 0], &a.device()),
        resid_mid: None,
    }
}
