//! Plain reports: what the UI, the CLI and the tests see of a grokking run. Never tensors.

use crate::analysis::{NeuronFourier, Spectrum};
use serde::{Deserialize, Serialize};

/// The size of a built session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GrokSummary {
    pub n_train: u32,
    pub n_test: u32,
    pub n_params: u32,
}

/// Metrics of a run at one step, read back from the device in one transfer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct StepReport {
    pub step: u32,
    pub train_loss: f32,
    pub test_loss: f32,
    pub train_acc: f32,
    pub test_acc: f32,
    /// sqrt of the sum of squares of every parameter.
    pub weight_norm: f32,
    /// Which run of the session (0: the first; forks and comparisons count up).
    #[serde(default)]
    pub run: u32,
}

neurolab_base::finite_fields!(StepReport: train_loss, test_loss, train_acc, test_acc, weight_norm);

/// How far one layer moved from its initial weights: ‖W − W₀‖ / ‖W₀‖.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerChange {
    pub layer: String,
    pub relative: f32,
}

neurolab_base::finite_fields!(LayerChange: relative);

/// The mechanism at one step: the embedding's Fourier spectrum, its key frequencies, every
/// hidden neuron's frequency and phase, the progress measures, how far the weights and the
/// hidden representation moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Analysis {
    pub step: u32,
    pub run: u32,
    /// The embedding of `a` (MLP: `w_in` rows 0..p; transformer: `W_E`).
    pub spectrum: Spectrum,
    /// The MLP's embedding of `b` (`w_in` rows p..2p).
    pub spectrum_b: Option<Spectrum>,
    /// Key frequencies (1-based, strongest first), the share of the power they carry, and the
    /// Gini coefficient of the spectrum.
    pub key_freqs: Vec<u32>,
    pub key_power_frac: f32,
    pub gini: f32,
    /// Per hidden neuron (MLP hidden units; the transformer's MLP neurons through the attention's
    /// value path): dominant frequency, its share, its phase.
    pub neurons: Vec<NeuronFourier>,
    /// Each neuron's power per frequency as shares of its total ×255, row-major
    /// `[neurons, (p−1)/2]` (the neurons × frequency view).
    #[serde(default)]
    pub neuron_powers: Vec<u8>,
    /// The logits' key frequencies, which the progress measures keep (restricted) or remove
    /// (excluded): those along cos/sin(2πk(a ∘ b − c)/p) with a tenth of the strongest's power.
    #[serde(default)]
    pub logit_freqs: Vec<u32>,
    /// Nanda et al.'s progress measures (addition and subtraction, p ≤ 131).
    pub restricted_loss: Option<f32>,
    pub excluded_loss: Option<f32>,
    pub weight_change: Vec<LayerChange>,
    /// Linear CKA of the hidden representation over all pairs with the one at step 0.
    pub cka: Option<f32>,
    /// The steps whose checkpoints this run keeps now, and their memory.
    pub checkpoints: Vec<u32>,
    pub checkpoint_bytes: u64,
}

neurolab_base::finite_fields!(Analysis: spectrum, spectrum_b, key_power_frac, gini, neurons, restricted_loss, excluded_loss, weight_change, cka);

/// What a report point carries: the metrics, and at analysis steps the mechanism.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GrokReport {
    pub metrics: StepReport,
    pub analysis: Option<Box<Analysis>>,
    /// The run's name, on its first report ("run 2 (run 1 at step 500: wd 0)").
    #[serde(default)]
    pub label: Option<String>,
}

neurolab_base::finite_fields!(GrokReport: metrics, analysis);

impl Analysis {
    /// This analysis without its per-neuron tables (older points of a timeline keep only what
    /// the curves and the heat-map need).
    pub fn without_neurons(&self) -> Analysis {
        Analysis {
            neurons: Vec::new(),
            neuron_powers: Vec::new(),
            ..self.clone()
        }
    }
}

impl StepReport {
    pub const CSV_HEADER: &'static str =
        "run,step,train_loss,test_loss,train_acc,test_acc,weight_norm";

    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{},{},{},{},{}",
            self.run,
            self.step,
            self.train_loss,
            self.test_loss,
            self.train_acc,
            self.test_acc,
            self.weight_norm
        )
    }
}

/// The curves of a run as CSV (header plus one row per report).
pub fn curves_csv(reports: &[StepReport]) -> String {
    let mut out = String::from(StepReport::CSV_HEADER);
    out.push('\n');
    for r in reports {
        out.push_str(&r.csv_row());
        out.push('\n');
    }
    out
}

/// The per-neuron table of an analysis as CSV: neuron, frequency, power fraction, phase, norm.
pub fn neurons_csv(analysis: &Analysis) -> String {
    let mut out = String::from("run,step,neuron,freq,power_frac,phase_rad,norm\n");
    for (i, n) in analysis.neurons.iter().enumerate() {
        out.push_str(&format!(
            "{},{},{i},{},{},{},{}\n",
            analysis.run, analysis.step, n.freq, n.frac, n.phase, n.norm
        ));
    }
    out
}

/// The first step at which test accuracy reached `threshold`, if it did.
pub fn first_step_reaching(reports: &[StepReport], threshold: f32) -> Option<u32> {
    reports
        .iter()
        .find(|r| r.test_acc >= threshold)
        .map(|r| r.step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_header_and_rows() {
        let r = StepReport {
            step: 10,
            train_loss: 1.5,
            test_loss: 2.0,
            train_acc: 0.5,
            test_acc: 0.25,
            weight_norm: 3.0,
            run: 1,
        };
        let csv = curves_csv(&[r]);
        assert_eq!(
            csv,
            "run,step,train_loss,test_loss,train_acc,test_acc,weight_norm\n1,10,1.5,2,0.5,0.25,3\n"
        );
        assert_eq!(first_step_reaching(&[r], 0.2), Some(10));
        assert_eq!(first_step_reaching(&[r], 0.9), None);
        let a = Analysis {
            neurons: vec![NeuronFourier {
                freq: 3,
                frac: 0.9,
                phase: 0.5,
                norm: 2.0,
            }],
            ..Analysis::default()
        };
        assert_eq!(
            neurons_csv(&a),
            "run,step,neuron,freq,power_frac,phase_rad,norm\n0,0,0,3,0.9,0.5,2\n"
        );
    }
}
