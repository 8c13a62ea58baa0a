//! The one message protocol between the page and the compute worker: `Command` in, `Event` out.
//!
//! Messages travel as JSON strings (`serde_json`) through `postMessage`. The page holds only
//! these plain values; tensors stay in the worker.

use crate::config::{BackendChoice, GrokConfig};
use crate::link::LabKind;
use crate::report::StepReport;
use crate::sae::{
    ClampRequest, ClampResponse, FeatureDetail, FeatureSummary, SaeConfig, SaeReport, Target,
};
use crate::spike::config::SpikeConfig;
use crate::spike::report::SpikeReport;
use crate::spike::session::SpikeControl;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Pick the compute backend (first message; may be sent again to switch, which resets).
    Init {
        backend: BackendChoice,
    },
    /// Which lab `Run`, `Pause`, `Step` and `Reset` address (the others pause; their sessions
    /// are kept).
    Lab {
        lab: LabKind,
    },
    /// Build a fresh grokking session for this config (step 0). Training does not start.
    Configure {
        config: GrokConfig,
    },
    /// Build a fresh spiking network for this config (t = 0). It does not start.
    SpikeConfigure {
        config: SpikeConfig,
    },
    /// Change the running network (inject, silence, plasticity, task switch, noise, …).
    SpikeControl {
        control: SpikeControl,
    },
    /// SAE lab: build its source (train the toy model or the grokking preset, or take the
    /// grokking lab's current run when it matches) and a fresh decomposition (step 0).
    SaeConfigure {
        config: SaeConfig,
    },
    /// SAE lab: the feature list (answered with `SaeFeatureList`).
    SaeFeatures,
    /// SAE lab: one latent's or neuron's detail (answered with `SaeFeatureDetail`).
    SaeFeature {
        target: Target,
    },
    /// SAE lab: edit a latent or neuron at one input (answered with `SaeClamped`).
    SaeClamp {
        request: ClampRequest,
    },
    /// Run the current lab until its budget or a `Pause`.
    Run,
    Pause,
    /// One step (grokking) or one short chunk of simulated time (spiking), then report.
    Step,
    /// Back to the start with the same config and seed.
    Reset,
    /// Grokking lab: ablate these hidden neurons from now on (training and reports); empty
    /// restores them.
    Ablate {
        neurons: Vec<u32>,
    },
    /// Grokking lab: ablate the hidden neurons whose dominant Fourier frequency is `k`.
    AblateFrequency {
        k: u32,
    },
    /// Ask for the weights as a `.safetensors` file.
    ExportWeights,
}

/// Which backend the worker runs on, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// "webgpu" or "cpu".
    pub kind: String,
    /// The adapter's name (WebGPU) or the CPU backend's name.
    pub adapter: String,
    /// Set when WebGPU was wanted but could not start: the reason, for the user.
    pub fallback_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The worker's wasm has loaded and accepts commands.
    Loaded,
    /// The backend is ready (answer to `Init`).
    Backend {
        info: BackendInfo,
    },
    /// A session exists at step 0 (answer to `Configure` and `Reset`).
    Configured {
        n_train: u32,
        n_test: u32,
        n_params: u32,
    },
    /// Metrics at a report step.
    Report {
        report: StepReport,
    },
    /// Progress between reports: the current step and the measured speed.
    Progress {
        step: u32,
        steps_per_s: f64,
        running: bool,
    },
    /// Training stopped (paused, or the budget was reached when `finished`).
    Stopped {
        step: u32,
        finished: bool,
    },
    /// The weights, base64-encoded safetensors bytes.
    Weights {
        file_name: String,
        base64: String,
    },
    /// A spiking network exists at t = 0 (answer to `SpikeConfigure` and `Reset`).
    SpikeConfigured {
        neurons: u32,
        synapses: u64,
        /// "cpu" or "gpu (<adapter>)".
        engine: String,
        /// Why the engine is not the one asked for, if so.
        note: Option<String>,
    },
    /// One chunk of simulated time.
    SpikeReport {
        report: SpikeReport,
    },
    /// Between reports: simulated time, and simulated ms per wall ms (the real-time factor).
    SpikeProgress {
        t_ms: f64,
        realtime_factor: f64,
        running: bool,
    },
    /// The simulation stopped (paused, or `duration_ms` reached when `finished`).
    SpikeStopped {
        t_ms: f64,
        finished: bool,
    },
    /// SAE lab: its source is being prepared (`done` of `total` source-model training steps).
    SaePreparing {
        what: String,
        done: u32,
        total: u32,
    },
    /// SAE lab: a decomposition exists at step 0 (answer to `SaeConfigure` and `Reset`).
    SaeConfigured {
        n_samples: u32,
        /// Activation dimensions.
        d: u32,
        latents: u32,
        /// Grok sources: the modulus (the clamp's inputs are pairs (a, b) < p).
        p: Option<u32>,
        /// Where the activations came from, for the user.
        source: String,
    },
    /// SAE lab: metrics at a report step.
    SaeReport {
        report: SaeReport,
    },
    /// SAE lab: between reports.
    SaeProgress {
        step: u32,
        steps_per_s: f64,
        running: bool,
    },
    /// SAE lab: training stopped (paused, or `steps` reached when `finished`).
    SaeStopped {
        step: u32,
        finished: bool,
    },
    /// SAE lab: every latent, densest first.
    SaeFeatureList {
        features: Vec<FeatureSummary>,
    },
    SaeFeatureDetail {
        detail: FeatureDetail,
    },
    SaeClamped {
        request: ClampRequest,
        response: ClampResponse,
    },
    /// The grokking session's ablated neurons now (answer to `Ablate` / `AblateFrequency`).
    Ablated {
        neurons: Vec<u32>,
        what: String,
    },
    /// Something failed; the message is for the user.
    Error {
        message: String,
    },
}

impl Command {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("commands are plain data")
    }
    pub fn from_json(s: &str) -> Result<Self, String> {
        serde_json::from_str(s).map_err(|e| format!("bad command message: {e}"))
    }
}

impl Event {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events are plain data")
    }
    pub fn from_json(s: &str) -> Result<Self, String> {
        serde_json::from_str(s).map_err(|e| format!("bad event message: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_json() {
        let cmds = [
            Command::Init {
                backend: BackendChoice::Cpu,
            },
            Command::Configure {
                config: GrokConfig::preset_transformer(),
            },
            Command::Run,
            Command::Pause,
        ];
        for c in cmds {
            assert_eq!(Command::from_json(&c.to_json()).unwrap(), c);
        }
        let e = Event::Progress {
            step: 3,
            steps_per_s: 1.5,
            running: true,
        };
        assert_eq!(Event::from_json(&e.to_json()).unwrap(), e);
        assert!(Command::from_json("{\"cmd\":\"nope\"}").is_err());
    }
}
