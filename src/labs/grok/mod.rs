//! The grokking lab's page: ablation while it trains, the loss / accuracy / weight-norm curves
//! with hover, exports. The form, run controls and metrics come from the shell.

mod state;
mod views;

pub use state::GrokState;

use crate::lab::{LabCtx, PageLab};
use leptos::prelude::*;
use neurolab_base::msg::LabEvent;
use neurolab_core::grok::GrokLab;

impl PageLab for GrokLab {
    type State = GrokState;

    fn fold(state: &mut GrokState, event: &LabEvent<GrokLab>) {
        state.fold(event);
    }

    fn metrics(state: &GrokState) -> Vec<(&'static str, String)> {
        state.metrics()
    }

    fn panels(ctx: LabCtx<GrokLab>) -> AnyView {
        views::panels(ctx).into_any()
    }
}
