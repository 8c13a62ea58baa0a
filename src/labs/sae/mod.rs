//! The sparse-autoencoder lab's page: the decomposition's size and source, its metric curves
//! (reconstruction, L0, dead latents, MMCS / CE-loss score) and log-density histogram, the
//! feature browser (the list densest first; a latent's or a model neuron's detail with its
//! label, top inputs, the p×p heat-map for grok sources, activation histogram and logit
//! effect), "decode a neuron", the clamp panel (the model's output before vs after) and the
//! weights export. The form, run controls and metric tiles come from the shell.
//!
//! The feature list is asked for whenever a built decomposition stops or is configured
//! ([`SaeState::wants_features`]); every edit of the config builds a new session.

mod about;
mod state;
mod views;

pub use state::SaeState;

use crate::lab::{LabCtx, PageLab};
use leptos::prelude::*;
use neurolab_base::msg::LabEvent;
use neurolab_core::sae::{SaeControl, SaeLab};

impl PageLab for SaeLab {
    type State = SaeState;
    const ABOUT: &'static crate::plot::figure::About = &about::LAB;
    const SUMMARY: &'static str = about::SUMMARY;

    fn sketch(seed: &mut u64) -> Vec<(String, &'static str, bool)> {
        about::sketch(seed)
    }

    fn fold(state: &mut SaeState, event: &LabEvent<SaeLab>) {
        state.fold(event);
    }

    fn metrics(state: &SaeState) -> Vec<(&'static str, String)> {
        state.metrics()
    }

    fn panels(ctx: LabCtx<SaeLab>) -> AnyView {
        views::panels(ctx).into_any()
    }

    fn after(ctx: LabCtx<SaeLab>, event: &LabEvent<SaeLab>) {
        if ctx.state.with_untracked(|s| s.wants_features(event)) {
            ctx.control(SaeControl::Features);
        }
    }
}
