//! What the page knows about a spiking run, folded from the worker's events: the recent spikes
//! for the raster, the binned rate, traces and readout series of a sliding window, the
//! learning curve, and the latest weight and avalanche statistics. Plain data, tested natively.

use crate::lab::Phase;
use neurolab_core::protocol::Event;
use neurolab_core::spike::report::{AvalancheStats, SpikeReport, WeightHistogram};
use neurolab_core::spike::task::TrialReport;
use std::collections::VecDeque;

/// The raster and the series show this much simulated time.
pub const WINDOW_MS: f64 = 2000.0;
/// Spikes kept for the raster at most (older ones are dropped first).
pub const MAX_RASTER_SPIKES: usize = 400_000;

/// A series sampled on the reports' bins: (t_ms, value).
pub type Series = VecDeque<(f64, f32)>;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpikeLabState {
    pub phase: Phase,
    pub neurons: u32,
    pub synapses: u64,
    pub engine: String,
    pub note: Option<String>,
    pub t_ms: f64,
    pub duration_ms: f64,
    pub realtime_factor: f64,
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
    pub error: Option<String>,
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

impl SpikeLabState {
    pub fn new(duration_ms: f64) -> Self {
        Self {
            duration_ms,
            ..Self::default()
        }
    }

    /// A new network is coming (config, reset): forget the old run until the worker confirms.
    pub fn expect_run(&mut self, duration_ms: f64) {
        *self = Self {
            duration_ms,
            ..Self::default()
        };
    }

    /// Fold one worker event in (events of other labs are ignored).
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::SpikeConfigured {
                neurons,
                synapses,
                engine,
                note,
            } => {
                let duration_ms = self.duration_ms;
                self.expect_run(duration_ms);
                self.neurons = *neurons;
                self.synapses = *synapses;
                self.engine = engine.clone();
                self.note = note.clone();
                self.phase = Phase::Ready;
            }
            Event::SpikeReport { report } => self.add(report),
            Event::SpikeProgress {
                t_ms,
                realtime_factor,
                running,
            } => {
                self.t_ms = self.t_ms.max(*t_ms);
                self.realtime_factor = *realtime_factor;
                if *running {
                    self.phase = Phase::Running;
                }
            }
            Event::SpikeStopped { t_ms, finished } => {
                self.t_ms = self.t_ms.max(*t_ms);
                self.phase = if *finished {
                    Phase::Finished
                } else {
                    Phase::Paused
                };
            }
            Event::Error { message } if self.phase == Phase::Running => {
                self.error = Some(message.clone());
                self.phase = Phase::Paused;
            }
            _ => {}
        }
    }

    fn add(&mut self, r: &SpikeReport) {
        self.t_ms = r.t_ms;
        if self.phase == Phase::Starting || self.phase == Phase::Ready {
            self.phase = Phase::Running;
        }
        if r.done {
            self.phase = Phase::Finished;
        }
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

    pub fn progress_fraction(&self) -> f64 {
        if self.duration_ms > 0.0 {
            (self.t_ms / self.duration_ms).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    pub fn progress_text(&self) -> String {
        let speed = if self.realtime_factor > 0.0 {
            format!(" · {:.1}× real time", self.realtime_factor)
        } else {
            String::new()
        };
        format!(
            "t = {:.2} s of {:.2} s{speed}",
            self.t_ms / 1000.0,
            self.duration_ms / 1000.0
        )
    }

    /// The metric tiles: (label, value).
    pub fn metrics(&self) -> Vec<(&'static str, String)> {
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
    use neurolab_core::spike::config::SpikeConfig;
    use neurolab_core::spike::session::SpikeSession;

    #[test]
    fn reports_fill_a_sliding_window() {
        let mut config = SpikeConfig::izhikevich2003();
        config.n = 100;
        config.trace_neurons = vec![0, 90];
        config.duration_ms = 3000;
        let mut session = SpikeSession::new(config).unwrap();
        let mut state = SpikeLabState::new(3000.0);
        state.apply(&Event::SpikeConfigured {
            neurons: 100,
            synapses: 10_000,
            engine: "cpu".into(),
            note: None,
        });
        assert_eq!(state.phase, Phase::Ready);
        let mut total = 0;
        for _ in 0..30 {
            let report = session.run_ms(100);
            total += report.spike_neuron.len() as u64;
            state.apply(&Event::SpikeReport { report });
        }
        assert_eq!(state.total_spikes, total);
        assert_eq!(state.phase, Phase::Finished);
        assert_eq!(state.t_ms, 3000.0);
        let (lo, hi) = state.window();
        assert_eq!((lo, hi), (1000.0, 3000.0));
        assert!(state.spikes.iter().all(|&(t, _)| f64::from(t) >= lo));
        assert!(!state.spikes.is_empty());
        assert_eq!(state.rate_hz.len(), 2000, "one bin per ms over the window");
        assert!(state.progress_text().starts_with("t = 3.00 s of 3.00 s"));
        let all = state.range_rate_hz(0, 100, 1000.0).unwrap();
        assert!(all > 0.5, "rate {all}");
        assert_eq!(state.range_rate_hz(5, 5, 1000.0), None);
    }
}
