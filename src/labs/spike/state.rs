//! What the spiking page knows of its run, folded from the lab's events: the network's size and
//! engine, the recent spikes for the raster, the binned rate, traces and readout series of a
//! sliding window, the learning curve, the latest weight and avalanche statistics, and the
//! interventions in force (the worker's answer). Plain data, tested natively.

use neurolab_base::msg::LabEvent;
use neurolab_core::spike::control::{Injection, NeuronRange};
use neurolab_core::spike::report::{AvalancheStats, SpikeReport, WeightHistogram};
use neurolab_core::spike::task::TrialReport;
use neurolab_core::spike::SpikeLab;
use std::collections::VecDeque;

/// The raster and the series show this much simulated time.
pub const WINDOW_MS: f64 = 2000.0;
/// Spikes kept for the raster at most (older ones are dropped first).
pub const MAX_RASTER_SPIKES: usize = 400_000;

/// A series sampled on the reports' bins: (t_ms, value).
pub type Series = VecDeque<(f64, f32)>;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpikeState {
    pub neurons: u32,
    pub synapses: u64,
    pub n_exc: u32,
    pub engine: String,
    pub t_ms: f64,
    /// Recent spikes (t_ms, neuron), in time order.
    pub spikes: VecDeque<(u32, u32)>,
    pub total_spikes: u64,
    pub rate_hz: Series,
    pub rate_exc_hz: f32,
    pub rate_inh_hz: f32,
    pub trace_neurons: Vec<u32>,
    pub traces_mv: Vec<Series>,
    pub outputs: Vec<Series>,
    pub targets: Vec<Series>,
    pub trials: Vec<TrialReport>,
    pub running_pred_mse: Option<f32>,
    pub weights: Option<WeightHistogram>,
    pub avalanches: Option<AvalancheStats>,
    /// The interventions in force, as the worker last answered.
    pub silenced: Vec<NeuronRange>,
    pub injected: Vec<Injection>,
}

fn push_binned(series: &mut Series, t0_ms: f64, bin_ms: f32, values: &[f32]) {
    for (i, &v) in values.iter().enumerate() {
        series.push_back((t0_ms + (i as f64 + 1.0) * f64::from(bin_ms), v));
    }
}

fn trim(series: &mut Series, from_ms: f64) {
    while series.front().is_some_and(|&(t, _)| t <= from_ms) {
        series.pop_front();
    }
}

impl SpikeState {
    /// Fold one event of the lab.
    pub fn fold(&mut self, event: &LabEvent<SpikeLab>) {
        match event {
            LabEvent::Configured { summary, .. } => {
                *self = SpikeState {
                    neurons: summary.neurons,
                    synapses: summary.synapses,
                    n_exc: summary.n_exc,
                    engine: summary.engine.clone(),
                    ..SpikeState::default()
                };
            }
            LabEvent::Report { report } => self.add(report),
            LabEvent::Answer { answer } => {
                self.silenced = answer.silenced.clone();
                self.injected = answer.injected.clone();
            }
            _ => {}
        }
    }

    fn add(&mut self, r: &SpikeReport) {
        self.t_ms = r.t_ms;
        self.total_spikes += r.spike_neuron.len() as u64 + r.spikes_dropped;
        self.spikes.extend(
            r.spike_t_ms
                .iter()
                .copied()
                .zip(r.spike_neuron.iter().copied()),
        );
        push_binned(&mut self.rate_hz, r.t0_ms, r.bin_ms, &r.rate_hz);
        self.rate_exc_hz = r.rate_exc_hz;
        self.rate_inh_hz = r.rate_inh_hz;
        if self.trace_neurons != r.trace_neurons {
            self.trace_neurons = r.trace_neurons.clone();
            self.traces_mv = vec![Series::new(); r.trace_neurons.len()];
        }
        for (series, values) in self.traces_mv.iter_mut().zip(&r.traces_mv) {
            push_binned(series, r.t0_ms, r.bin_ms, values);
        }
        if let Some(ro) = &r.readout {
            if self.outputs.len() != ro.outputs.len() {
                self.outputs = vec![Series::new(); ro.outputs.len()];
                self.targets = vec![Series::new(); ro.outputs.len()];
            }
            for (series, values) in self.outputs.iter_mut().zip(&ro.outputs) {
                push_binned(series, r.t0_ms, r.bin_ms, values);
            }
            for (series, values) in self.targets.iter_mut().zip(&ro.targets) {
                push_binned(series, r.t0_ms, r.bin_ms, values);
            }
            self.trials.extend(ro.trials.iter().cloned());
            self.running_pred_mse = ro.running_pred_mse;
        }
        if r.weights.is_some() {
            self.weights = r.weights.clone();
        }
        if r.avalanches.is_some() {
            self.avalanches = r.avalanches.clone();
        }
        // Slide the window.
        let from = r.t_ms - WINDOW_MS;
        while self
            .spikes
            .front()
            .is_some_and(|&(t, _)| f64::from(t) < from)
            || self.spikes.len() > MAX_RASTER_SPIKES
        {
            self.spikes.pop_front();
        }
        trim(&mut self.rate_hz, from);
        for s in self
            .traces_mv
            .iter_mut()
            .chain(self.outputs.iter_mut())
            .chain(self.targets.iter_mut())
        {
            trim(s, from);
        }
    }

    /// The metric tiles: (label, value).
    pub fn metrics(&self) -> Vec<(&'static str, String)> {
        if self.neurons == 0 {
            return Vec::new();
        }
        let mut m = vec![
            ("neurons", self.neurons.to_string()),
            ("synapses", self.synapses.to_string()),
            ("engine", self.engine.clone()),
            ("spikes", self.total_spikes.to_string()),
            ("rate exc.", format!("{:.1} Hz", self.rate_exc_hz)),
            ("rate inh.", format!("{:.1} Hz", self.rate_inh_hz)),
        ];
        if let Some(a) = &self.avalanches {
            m.push(("avalanches", a.count.to_string()));
            if let Some(fit) = &a.size_fit {
                m.push((
                    "size exponent α",
                    format!("{:.2} ± {:.2}", fit.alpha, fit.stderr),
                ));
            }
        }
        if let Some(e) = self.running_pred_mse {
            m.push(("readout error", format!("{e:.4}")));
        }
        if !self.trials.is_empty() {
            m.push(("trials", self.trials.len().to_string()));
        }
        m
    }

    /// Mean rate (Hz per neuron) of neurons `from..to` over the last `ms` simulated ms.
    pub fn range_rate_hz(&self, from: u32, to: u32, ms: f64) -> Option<f64> {
        if to <= from || self.t_ms <= 0.0 {
            return None;
        }
        let since = (self.t_ms - ms).max(0.0);
        let span_s = (self.t_ms - since) / 1000.0;
        let count = self
            .spikes
            .iter()
            .rev()
            .take_while(|&&(t, _)| f64::from(t) >= since)
            .filter(|&&(_, i)| (from..to).contains(&i))
            .count();
        Some(count as f64 / span_s / f64::from(to - from))
    }

    /// The raster's time window `[t_lo, t_hi)` (ms).
    pub fn window(&self) -> (f64, f64) {
        let hi = self.t_ms.max(WINDOW_MS);
        (hi - WINDOW_MS, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurolab_base::Position;
    use neurolab_core::spike::control::SpikeAnswer;
    use neurolab_core::spike::{SpikeConfig, SpikeNet, SpikeSession};

    #[test]
    fn reports_fill_a_sliding_window() {
        let mut config = SpikeConfig::izhikevich2003();
        config.n = 100;
        config.trace_neurons = vec![0, 90];
        config.duration_ms = 3000;
        let mut session = SpikeSession::new(config).unwrap();
        let mut state = SpikeState::default();
        state.fold(&LabEvent::Configured {
            summary: SpikeNet {
                neurons: 100,
                synapses: 10_000,
                n_exc: 80,
                engine: "cpu".into(),
            },
            position: Position::ms(0.0, 3000.0),
            note: None,
        });
        let mut total = 0;
        for _ in 0..30 {
            let report = session.run_ms(100);
            total += report.spike_neuron.len() as u64;
            state.fold(&LabEvent::Report { report });
        }
        assert_eq!(state.total_spikes, total);
        assert_eq!(state.t_ms, 3000.0);
        let (lo, hi) = state.window();
        assert_eq!((lo, hi), (1000.0, 3000.0));
        assert!(state.spikes.iter().all(|&(t, _)| f64::from(t) >= lo));
        assert!(!state.spikes.is_empty());
        assert_eq!(state.rate_hz.len(), 2000, "one bin per ms over the window");
        let all = state.range_rate_hz(0, 100, 1000.0).unwrap();
        assert!(all > 0.5, "rate {all}");
        assert_eq!(state.range_rate_hz(5, 5, 1000.0), None);
        // The shaded rows are the worker's answer.
        state.fold(&LabEvent::Answer {
            answer: SpikeAnswer {
                silenced: vec![NeuronRange { from: 0, to: 10 }],
                injected: vec![],
                what: "silence: neurons 0..10".into(),
            },
        });
        assert_eq!(state.silenced, [NeuronRange { from: 0, to: 10 }]);
        assert_eq!(state.metrics()[0], ("neurons", "100".to_string()));
    }
}
