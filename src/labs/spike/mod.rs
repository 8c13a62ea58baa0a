//! The spiking reservoir lab's page: interventions on the running network (silence, inject,
//! switch the task), the live raster (click a neuron to pick it), and the rate, membrane,
//! readout, learning-curve, weight and avalanche views. Plasticity, noise and drive change in
//! the running network; anything else builds a new one.

mod about;
mod state;
mod views;

pub use state::SpikeState;

use crate::lab::{LabCtx, PageLab};
use leptos::prelude::*;
use neurolab_base::msg::LabEvent;
use neurolab_core::spike::{SpikeConfig, SpikeControl, SpikeLab};

impl PageLab for SpikeLab {
    type State = SpikeState;
    const ABOUT: &'static crate::plot::figure::About = &about::LAB;
    const SUMMARY: &'static str = about::SUMMARY;

    fn sketch(seed: &mut u64) -> Vec<(String, &'static str, bool)> {
        about::sketch(seed)
    }

    fn fold(state: &mut SpikeState, event: &LabEvent<SpikeLab>) {
        state.fold(event);
    }

    fn metrics(state: &SpikeState) -> Vec<(&'static str, String)> {
        state.metrics()
    }

    fn panels(ctx: LabCtx<SpikeLab>) -> AnyView {
        views::panels(ctx).into_any()
    }

    fn live_edit(old: &SpikeConfig, new: &SpikeConfig) -> Option<Vec<SpikeControl>> {
        live_controls(old, new)
    }
}

/// The controls that turn `old` into `new` in a running network, when only plasticity, input
/// noise or drive differ (anything else needs a new network).
pub fn live_controls(old: &SpikeConfig, new: &SpikeConfig) -> Option<Vec<SpikeControl>> {
    let mut same = new.clone();
    same.plasticity = old.plasticity;
    same.noise_exc = old.noise_exc;
    same.noise_inh = old.noise_inh;
    same.drive = old.drive;
    if &same != old {
        return None;
    }
    let mut controls = Vec::new();
    if new.plasticity != old.plasticity {
        controls.push(SpikeControl::Plasticity {
            params: new.plasticity,
        });
    }
    if (new.noise_exc, new.noise_inh) != (old.noise_exc, old.noise_inh) {
        controls.push(SpikeControl::Noise {
            exc: new.noise_exc,
            inh: new.noise_inh,
        });
    }
    if new.drive != old.drive {
        controls.push(SpikeControl::Drive { current: new.drive });
    }
    Some(controls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plasticity_noise_and_drive_change_live() {
        let old = SpikeConfig::reservoir();
        let mut new = old.clone();
        new.noise_exc = 3.0;
        new.drive = 1.5;
        new.plasticity.stdp.enabled = true;
        let controls = live_controls(&old, &new).unwrap();
        assert_eq!(controls.len(), 3);
        assert!(matches!(controls[1], SpikeControl::Noise { exc, .. } if exc == 3.0));
        new.n += 1;
        assert_eq!(
            live_controls(&old, &new),
            None,
            "a new size needs a new network"
        );
    }
}
