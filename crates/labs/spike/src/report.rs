//! What a `SpikeSession` hands to the UI and the CLI: one `SpikeReport` per chunk of simulated
//! time (small enough to post every ~50 ms as JSON: spikes as two parallel integer arrays, series
//! binned per `bin_ms`), and a `SpikeSummary` at the end.

use crate::avalanche::{
    fit_power_law_auto, log_histogram, AvalancheCollector, HistBin, PowerLawFit,
};
use crate::network::Network;
use crate::task::TrialReport;
use serde::{Deserialize, Serialize};

/// The readout's part of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadoutChunk {
    /// Per output, its value at the end of each bin of the chunk.
    pub outputs: Vec<Vec<f32>>,
    /// Per output, its target at the end of each bin.
    pub targets: Vec<Vec<f32>>,
    /// The attention gate at the end of each bin.
    pub gate: Vec<f32>,
    /// Trials (or series stretches) that ended in this chunk: the learning curve's points.
    pub trials: Vec<TrialReport>,
    /// Exponential running mean (over ~10 trials) of the trials' prediction error.
    pub running_pred_mse: Option<f32>,
    /// Trials finished so far.
    pub trials_done: u64,
}

/// Excitatory weight histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightHistogram {
    /// Bins are equal over [0, hi].
    pub hi: f32,
    pub counts: Vec<u32>,
    pub mean: f32,
}

/// Avalanche statistics over the run so far (recomputed as `session::avalanche_due` says).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvalancheStats {
    pub bin_ms: f32,
    pub count: usize,
    pub mean_size: f64,
    pub size_fit: Option<PowerLawFit>,
    pub duration_fit: Option<PowerLawFit>,
    /// Log-binned size distribution for a log–log plot.
    pub size_hist: Vec<HistBin>,
    pub duration_hist: Vec<HistBin>,
}

/// One chunk of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpikeReport {
    /// Chunk start and end (simulated ms).
    pub t0_ms: f64,
    pub t_ms: f64,
    /// Width of the bins of the binned series (ms): max(1, dt).
    pub bin_ms: f32,
    /// Spikes of this chunk: `spike_t_ms[k]` (whole ms since the run's start) and
    /// `spike_neuron[k]`, in time order, ascending neuron within a step.
    pub spike_t_ms: Vec<u32>,
    pub spike_neuron: Vec<u32>,
    /// Spikes beyond the per-report cap (counted, not listed).
    pub spikes_dropped: u64,
    /// Population rate per bin (Hz per neuron).
    pub rate_hz: Vec<f32>,
    /// Mean rates over this chunk.
    pub rate_exc_hz: f32,
    pub rate_inh_hz: f32,
    /// Membrane potential (mV) of `trace_neurons`, one value per bin (clipped at the 30 mV peak).
    pub trace_neurons: Vec<u32>,
    pub traces_mv: Vec<Vec<f32>>,
    pub readout: Option<ReadoutChunk>,
    /// Present when plasticity is on or the histogram was asked for.
    pub weights: Option<WeightHistogram>,
    pub avalanches: Option<AvalancheStats>,
    /// The run reached its `duration_ms`.
    pub done: bool,
}

/// What a built network is (the answer to `Configure`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SpikeNet {
    pub neurons: u32,
    pub synapses: u64,
    /// Excitatory neurons come first: `0..n_exc`.
    pub n_exc: u32,
    /// "cpu" or "gpu (<adapter>, N steps per submit)".
    pub engine: String,
}

neurolab_base::finite_fields!(ReadoutChunk: outputs, targets, gate, trials, running_pred_mse);
neurolab_base::finite_fields!(WeightHistogram: hi, mean);
neurolab_base::finite_fields!(AvalancheStats: bin_ms, mean_size, size_fit, duration_fit, size_hist, duration_hist);
neurolab_base::finite_fields!(PowerLawFit: alpha, alpha_approx, stderr, ks);
neurolab_base::finite_fields!(HistBin: lo, hi, density);
neurolab_base::finite_fields!(TrialReport: end_ms, mse, pred_mse);
neurolab_base::finite_fields!(SpikeReport: t0_ms, t_ms, bin_ms, rate_hz, rate_exc_hz, rate_inh_hz, traces_mv, readout, weights, avalanches);

/// The end-of-run figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpikeSummary {
    pub neurons: usize,
    pub synapses: usize,
    pub sim_s: f64,
    pub spikes: u64,
    /// Mean rate per neuron over the run.
    pub rate_hz: f64,
    pub rate_exc_hz: f64,
    pub rate_inh_hz: f64,
    pub trials: u64,
    /// Mean prediction error of the last 10 trials, if there was a task.
    pub final_pred_mse: Option<f32>,
}

impl AvalancheStats {
    /// The statistics of every avalanche collected so far (fits are O(avalanches)).
    pub fn of(collector: &AvalancheCollector, bin_ms: f32) -> AvalancheStats {
        let sizes = collector.sizes();
        let durations = collector.durations();
        let mean_size = if sizes.is_empty() {
            0.0
        } else {
            sizes.iter().sum::<u64>() as f64 / sizes.len() as f64
        };
        AvalancheStats {
            bin_ms,
            count: sizes.len(),
            mean_size,
            size_fit: fit_power_law_auto(&sizes, 100, 50),
            duration_fit: fit_power_law_auto(&durations, 20, 50),
            size_hist: log_histogram(&sizes, 5),
            duration_hist: log_histogram(&durations, 5),
        }
    }
}

impl SpikeSummary {
    /// The figures of a run of `net` that lasted `sim_s` with these spike counts.
    pub fn of(net: &Network, sim_s: f64, spikes: u64, spikes_exc: u64) -> SpikeSummary {
        let per = |count: u64, neurons: usize| {
            if sim_s > 0.0 && neurons > 0 {
                count as f64 / sim_s / neurons as f64
            } else {
                0.0
            }
        };
        SpikeSummary {
            neurons: net.n,
            synapses: net.n_synapses(),
            sim_s,
            spikes,
            rate_hz: per(spikes, net.n),
            rate_exc_hz: per(spikes_exc, net.n_exc),
            rate_inh_hz: per(spikes - spikes_exc, net.n - net.n_exc),
            trials: 0,
            final_pred_mse: None,
        }
    }
}
