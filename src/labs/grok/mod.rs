//! The grokking lab's page: ablation while it trains; the runs (the first and its forks) overlaid
//! on every chart with the phases shaded; a timeline of checkpoints to scrub and fork from; the
//! mechanism as it forms (spectra, key frequencies, neurons, phase wheels, frequency races,
//! progress measures, rich/lazy measures); exports. The form, run controls and metrics come from
//! the shell.

mod about;
mod mechanism;
mod state;
mod timeline;
mod views;

pub use state::GrokState;

use crate::lab::{LabCtx, PageLab};
use leptos::prelude::*;
use neurolab_base::msg::{LabCommand, LabEvent};
use neurolab_base::Phase;
use neurolab_core::grok::{GrokAnswer, GrokConfig, GrokControl, GrokLab};

impl PageLab for GrokLab {
    type State = GrokState;
    const ABOUT: &'static crate::plot::figure::About = &about::LAB;
    const SUMMARY: &'static str = about::SUMMARY;

    fn sketch(seed: &mut u64) -> Vec<(String, &'static str, bool)> {
        about::sketch(seed)
    }

    fn fold(state: &mut GrokState, event: &LabEvent<GrokLab>) {
        state.fold(event);
    }

    fn metrics(state: &GrokState) -> Vec<(&'static str, String)> {
        state.metrics()
    }

    fn panels(ctx: LabCtx<GrokLab>) -> AnyView {
        views::panels(ctx).into_any()
    }

    /// New forks of the first run are controls to the running session (the link keeps them, so
    /// it replays them); any other change builds a new session.
    fn live_edit(old: &GrokConfig, new: &GrokConfig) -> Option<Vec<GrokControl>> {
        new_forks(old, new).map(|forks| {
            forks
                .into_iter()
                .map(|f| GrokControl::Fork {
                    run: 0,
                    step: f.step,
                    changes: f.changes,
                })
                .collect()
        })
    }

    /// A fork of a finished session trains at once.
    fn after(ctx: LabCtx<GrokLab>, event: &LabEvent<GrokLab>) {
        if let LabEvent::Answer {
            answer: GrokAnswer::Forked { .. },
        } = event
        {
            if ctx.run.with_untracked(|r| r.phase == Phase::Finished) {
                ctx.send(LabCommand::Run);
            }
        }
    }
}

/// The forks `new` adds to `old` when nothing else differs.
pub fn new_forks(
    old: &GrokConfig,
    new: &GrokConfig,
) -> Option<Vec<neurolab_core::grok::control::ForkSpec>> {
    let rest = |c: &GrokConfig| GrokConfig {
        forks: Vec::new(),
        ..c.clone()
    };
    if rest(old) != rest(new) {
        return None;
    }
    let mut added = new.forks.clone();
    for f in &old.forks {
        let i = added.iter().position(|g| g == f)?;
        added.remove(i);
    }
    Some(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurolab_core::grok::control::parse_forks;

    #[test]
    fn only_added_forks_are_live_edits() {
        let old = GrokConfig {
            forks: parse_forks("100wd0").unwrap(),
            ..GrokConfig::default()
        };
        let new = GrokConfig {
            forks: parse_forks("0gf1_100wd0").unwrap(),
            ..old.clone()
        };
        let added = new_forks(&old, &new).unwrap();
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].step, 0);
        // Removing a fork, or changing anything else, rebuilds.
        assert!(new_forks(&new, &old).is_none());
        let other = GrokConfig {
            lr: 0.01,
            ..new.clone()
        };
        assert!(new_forks(&old, &other).is_none());
    }
}
