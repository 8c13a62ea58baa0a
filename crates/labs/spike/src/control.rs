//! Changes to a running network (from the page's controls, the CLI or a script) and the
//! worker's answer: the interventions that hold afterwards, so the page draws the engine's truth
//! rather than a copy of its own.

use crate::plasticity::PlasticityParams;
use crate::task::TaskConfig;
use serde::{Deserialize, Serialize};

/// A change while the run goes on (from the UI's controls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "control", rename_all = "snake_case")]
pub enum SpikeControl {
    /// Sets the injected current of neurons `from..to` (replaces an earlier injection there).
    Inject { from: u32, to: u32, current: f32 },
    /// Silences (`on`) or releases neurons `from..to`.
    Silence { from: u32, to: u32, on: bool },
    /// New STDP / homeostasis parameters.
    Plasticity { params: PlasticityParams },
    /// New task parameters of the same task kind (what/when: a switch of timing/probability,
    /// effective at the next trial).
    Task { task: TaskConfig },
    /// New input-noise std of excitatory and inhibitory neurons.
    Noise { exc: f32, inh: f32 },
    /// New constant drive current to every neuron.
    Drive { current: f32 },
    /// Neurons whose membrane potentials the reports carry (≤ 4).
    Traces { neurons: Vec<u32> },
    /// Include the weight histogram in reports even when plasticity is off.
    WeightHistogram { on: bool },
    /// Pause or resume readout learning (the readout still runs).
    Learning { on: bool },
}

/// Neurons `from..to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronRange {
    pub from: u32,
    pub to: u32,
}

/// A current injected into neurons `from..to`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Injection {
    pub from: u32,
    pub to: u32,
    pub current: f32,
}

/// The interventions after a control.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SpikeAnswer {
    /// Silenced neurons, as ranges.
    pub silenced: Vec<NeuronRange>,
    /// Neurons with injected current, as ranges of equal current.
    pub injected: Vec<Injection>,
    /// What the control did ("silence: neurons 0..100").
    pub what: String,
}

neurolab_base::finite_fields!(Injection: current);
neurolab_base::finite_fields!(SpikeAnswer: injected);
