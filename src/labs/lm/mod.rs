//! The language-model lab's page: your own text to train on (a .txt file or pasted), the loss
//! and recall curves with the latest sample, generation with the next-token distribution at
//! every token and steering side by side, the neuron browser (contexts shaded by activation,
//! histogram, promoted and suppressed tokens), activation patching as layer × position
//! heat-maps, relation-specific neurons with cumulative ablation, and the weights' export and
//! import. The form, run controls and metric tiles come from the shell.
//!
//! A layer's neuron list is asked for again whenever the run pauses or finishes with a layer
//! open ([`LmState::wants_neurons`]); every edit of the config builds a new session.

mod about;
mod state;
mod views;

pub use state::LmState;

use crate::lab::{LabCtx, PageLab};
use leptos::prelude::*;
use neurolab_base::msg::LabEvent;
use neurolab_core::lm::{LmControl, LmLab};

impl PageLab for LmLab {
    type State = LmState;
    const ABOUT: &'static crate::plot::figure::About = &about::LAB;
    const SUMMARY: &'static str = about::SUMMARY;

    fn sketch(seed: &mut u64) -> Vec<(String, &'static str, bool)> {
        about::sketch(seed)
    }

    fn fold(state: &mut LmState, event: &LabEvent<LmLab>) {
        state.fold(event);
    }

    fn metrics(state: &LmState) -> Vec<(&'static str, String)> {
        state.metrics()
    }

    fn panels(ctx: LabCtx<LmLab>) -> AnyView {
        views::panels(ctx).into_any()
    }

    fn after(ctx: LabCtx<LmLab>, event: &LabEvent<LmLab>) {
        if let Some(layer) = ctx.state.with_untracked(|s| s.wants_neurons(event)) {
            ctx.control(LmControl::Neurons { layer });
        }
    }
}
