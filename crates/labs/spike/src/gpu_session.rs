//! A spiking run on the WGSL engine, reporting exactly like `SpikeSession` (the same
//! `SpikeReport`s, so the page and the CLI do not care which engine ran). The GPU engine runs
//! the network itself — noise, drive, injected current, silencing, membrane probes — while the
//! plasticity and readout learning stay on the CPU engine: a config with STDP, homeostasis or a
//! task is refused with a message saying so.

use crate::avalanche::AvalancheCollector;
use crate::config::SpikeConfig;
use crate::control::{SpikeAnswer, SpikeControl};
use crate::error::{check, rule, SpikeError};
use crate::gpu::{GpuInfo, GpuSim};
use crate::network::Network;
use crate::report::{AvalancheStats, SpikeReport, SpikeSummary};
use crate::session::{
    avalanche_due, current_ranges, mask_ranges, neuron_range, MAX_CHUNK_MS, MAX_REPORT_SPIKES,
};
use neurolab_base::LabConfig as _;

/// The Izhikevich spike peak (mV): traces are clipped there, as on the CPU engine.
const V_PEAK_MV: f32 = 30.0;

/// Why a config cannot run on the GPU engine, if it cannot.
pub fn gpu_unsupported(config: &SpikeConfig) -> Option<&'static str> {
    if config.plasticity.any_on() {
        Some("the GPU engine runs fixed networks; STDP and homeostasis run on the CPU engine")
    } else if config.task.is_some() {
        Some("the GPU engine runs networks without a readout task; tasks run on the CPU engine")
    } else {
        None
    }
}

/// One run on the GPU engine.
pub struct GpuSession {
    config: SpikeConfig,
    net: Network,
    gpu: GpuSim,
    info: GpuInfo,
    inject: Vec<f32>,
    /// A host copy of the engine's silenced mask (for the answers).
    silenced: Vec<bool>,
    avalanche: AvalancheCollector,
    avalanche_cache: Option<AvalancheStats>,
    avalanche_at_ms: f64,
    spikes_total: u64,
    spikes_exc: u64,
}

impl GpuSession {
    /// Builds the network and uploads it to `device` (for instance one requested with
    /// `gpu::request_device`, kept for the page's lifetime).
    pub fn new(
        config: SpikeConfig,
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: GpuInfo,
    ) -> Result<GpuSession, SpikeError> {
        config.validate()?;
        if let Some(why) = gpu_unsupported(&config) {
            return Err(rule("eng", why));
        }
        let net = config.build_network();
        let mut gpu = GpuSim::new(device, queue, &net)?;
        gpu.set_probes(&config.trace_neurons)?;
        let bin_ms = 1.0f32.max(net.dt_ms);
        let avalanche = AvalancheCollector::with_bin_ms(bin_ms, net.dt_ms)?;
        let mut session = GpuSession {
            inject: vec![0.0; net.n],
            silenced: vec![false; net.n],
            config,
            net,
            gpu,
            info,
            avalanche,
            avalanche_cache: None,
            avalanche_at_ms: f64::NEG_INFINITY,
            spikes_total: 0,
            spikes_exc: 0,
        };
        session.upload_current()?;
        Ok(session)
    }

    pub fn config(&self) -> &SpikeConfig {
        &self.config
    }
    pub fn network(&self) -> &Network {
        &self.net
    }
    pub fn info(&self) -> &GpuInfo {
        &self.info
    }
    pub fn steps_per_submit(&self) -> u32 {
        self.gpu.steps_per_submit()
    }
    pub fn t_ms(&self) -> f64 {
        self.gpu.t_ms()
    }
    pub fn done(&self) -> bool {
        self.t_ms() + 1e-9 >= self.config.duration_ms as f64
    }

    fn upload_current(&mut self) -> Result<(), SpikeError> {
        let drive = self.config.drive;
        let i_ext: Vec<f32> = self.inject.iter().map(|&x| x + drive).collect();
        self.gpu.set_i_ext(&i_ext)
    }

    /// Applies a change while running. Plasticity, task and learning controls need the CPU
    /// engine; they are refused with a message.
    pub fn apply(&mut self, control: SpikeControl) -> Result<(), SpikeError> {
        let n = self.net.n;
        match control {
            SpikeControl::Inject { from, to, current } => {
                let r = neuron_range(from, to, n)?;
                check("injected current", f64::from(current), -1000.0, 1000.0)?;
                self.inject[r].iter_mut().for_each(|x| *x = current);
                self.upload_current()
            }
            SpikeControl::Silence { from, to, on } => {
                let r = neuron_range(from, to, n)?;
                self.gpu.set_silenced_range(r.clone(), on)?;
                self.silenced[r].iter_mut().for_each(|s| *s = on);
                Ok(())
            }
            SpikeControl::Drive { current } => {
                check("drive", f64::from(current), -1000.0, 1000.0)?;
                self.config.drive = current;
                self.upload_current()
            }
            SpikeControl::Traces { neurons } => {
                let mut c = self.config.clone();
                c.trace_neurons = neurons;
                c.validate()?;
                self.gpu.set_probes(&c.trace_neurons)?;
                self.config.trace_neurons = c.trace_neurons;
                Ok(())
            }
            SpikeControl::WeightHistogram { .. } => Ok(()),
            SpikeControl::Noise { .. } => Err(rule(
                "nse",
                "the GPU engine keeps the noise it was built with; change it in the config (or use the CPU engine)",
            )),
            SpikeControl::Plasticity { .. }
            | SpikeControl::Task { .. }
            | SpikeControl::Learning { .. } => Err(rule(
                "eng",
                "plasticity and readout learning run on the CPU engine",
            )),
        }
    }

    /// What the interventions are now (the answer to every control).
    pub fn interventions(&self, what: String) -> SpikeAnswer {
        SpikeAnswer {
            silenced: mask_ranges(self.silenced.iter().copied()),
            injected: current_ranges(&self.inject),
            what,
        }
    }

    /// Simulates `ms` more milliseconds on the GPU (spikes read back asynchronously).
    pub async fn run_ms(&mut self, ms: u32) -> Result<SpikeReport, SpikeError> {
        let ms = ms.min(MAX_CHUNK_MS);
        let dt = self.net.dt_ms;
        let bin_ms = 1.0f32.max(dt);
        let t0 = self.t_ms();
        let steps = ((ms as f64 / dt as f64).round() as u32).max(u32::from(ms > 0));
        let chunk = self.gpu.run(steps).await?;
        let n_bins = ((steps as f64 * dt as f64) / bin_ms as f64).ceil() as usize;
        let bin_of = |s: u32| {
            (((s as f64 + 1.0) * dt as f64 / bin_ms as f64).ceil() as usize)
                .saturating_sub(1)
                .min(n_bins.saturating_sub(1))
        };
        let ne = self.net.n_exc as u32;
        let mut rate_hz = vec![0.0f32; n_bins];
        let (mut exc, mut inh) = (0u64, 0u64);
        for (s, &count) in chunk.counts.iter().enumerate() {
            if n_bins > 0 {
                rate_hz[bin_of(s as u32)] += count as f32;
            }
            self.avalanche.push_step(count);
        }
        let take = chunk.spikes.len().min(MAX_REPORT_SPIKES);
        let mut spike_t_ms = Vec::with_capacity(take);
        let mut spike_neuron = Vec::with_capacity(take);
        for &(step, neuron) in &chunk.spikes {
            if neuron < ne {
                exc += 1;
            } else {
                inh += 1;
            }
            if spike_neuron.len() < take {
                let t = (step as f64 * dt as f64)
                    .floor()
                    .clamp(0.0, u32::MAX as f64);
                spike_t_ms.push(t as u32);
                spike_neuron.push(neuron);
            }
        }
        let n = self.net.n as f32;
        for r in &mut rate_hz {
            *r *= 1000.0 / (bin_ms * n);
        }
        let k = chunk.probes.len();
        let mut traces_mv = vec![vec![0.0f32; n_bins]; k];
        if k > 0 {
            for s in 0..chunk.steps as usize {
                for (p, trace) in traces_mv.iter_mut().enumerate() {
                    if let Some(&v) = chunk.traces_mv.get(s * k + p) {
                        trace[bin_of(s as u32)] = v.min(V_PEAK_MV);
                    }
                }
            }
        }
        let chunk_s = (steps as f64 * dt as f64 / 1000.0).max(1e-12);
        let n_inh = (self.net.n - self.net.n_exc).max(1) as f64;
        self.spikes_total += exc + inh;
        self.spikes_exc += exc;
        let t_ms = self.t_ms();
        if avalanche_due(
            t_ms,
            self.avalanche_at_ms,
            self.avalanche_cache.is_some(),
            self.done(),
        ) {
            self.avalanche_at_ms = t_ms;
            self.avalanche_cache = Some(AvalancheStats::of(
                &self.avalanche,
                1.0f32.max(self.net.dt_ms),
            ));
        }
        Ok(SpikeReport {
            t0_ms: t0,
            t_ms,
            bin_ms,
            spikes_dropped: (chunk.spikes.len() - take) as u64,
            spike_t_ms,
            spike_neuron,
            rate_hz,
            rate_exc_hz: (exc as f64 / chunk_s / self.net.n_exc.max(1) as f64) as f32,
            rate_inh_hz: (inh as f64 / chunk_s / n_inh) as f32,
            trace_neurons: chunk.probes.clone(),
            traces_mv,
            readout: None,
            weights: None,
            avalanches: self.avalanche_cache.clone(),
            done: self.done(),
        })
    }

    /// Figures of the whole run so far.
    pub fn final_summary(&self) -> SpikeSummary {
        SpikeSummary::of(
            &self.net,
            self.t_ms() / 1000.0,
            self.spikes_total,
            self.spikes_exc,
        )
    }
}
