//! `SpikeSession`: one run of the spiking lab on the CPU engine — network, state, plasticity,
//! task, readout and incremental analyses — advanced in chunks (`run_ms`) that each return a
//! `SpikeReport`, and changed while it runs (`apply(SpikeControl)`): inject current into or
//! silence a neuron range, change plasticity, task or input-noise parameters.
//!
//! Per step, in this order: external current = drive + injected + homeostatic bias + task input;
//! engine step; plasticity; readout traces; readout step (learning gated by the task); trial
//! bookkeeping. Everything is seeded, so the same config and the same controls at the same times
//! give the same run however it is chunked.

use crate::avalanche::AvalancheCollector;
use crate::config::SpikeConfig;
use crate::control::{Injection, NeuronRange, SpikeAnswer, SpikeControl};
use crate::error::{rule, SpikeError};
use crate::network::Network;
use crate::neuron::V_PEAK_MV;
use crate::plasticity::{HomeostasisKind, Plasticity};
use crate::readout::{Readout, ReadoutConfig, SpikeTrace};
use crate::report::{
    AvalancheStats, ReadoutChunk, SpikeNet, SpikeReport, SpikeSummary, WeightHistogram,
};
use crate::sim::Sim;
use crate::task::{Task, TrialReport};
use crate::SpikeLab;
use neurolab_base::lab::{Advance, Chunk, ExportFile};
use neurolab_base::{LabConfig as _, Position, Session};

/// Most spikes listed in one report (the rest are counted in `spikes_dropped`).
pub const MAX_REPORT_SPIKES: usize = 200_000;
/// Longest chunk one `run_ms` call simulates.
pub const MAX_CHUNK_MS: u32 = 60_000;
/// Avalanche statistics are refitted at most this often (simulated ms).
pub const AVALANCHE_EVERY_MS: f64 = 1000.0;
/// Bins of the weight histogram.
pub const WEIGHT_BINS: usize = 32;
/// Ridge readouts are refitted every this many trials.
pub const RIDGE_FIT_EVERY_TRIALS: u64 = 5;

struct Learn {
    task: Task,
    readout: Readout,
    trace: SpikeTrace,
    running_pred_mse: Option<f32>,
    last_pred: Vec<f32>,
    trials: u64,
}

/// One run.
pub struct SpikeSession {
    config: SpikeConfig,
    net: Network,
    sim: Sim,
    plasticity: Plasticity,
    inject: Vec<f32>,
    learn: Option<Learn>,
    learning_on: bool,
    avalanche: AvalancheCollector,
    avalanche_cache: Option<AvalancheStats>,
    avalanche_at_ms: f64,
    weights_on_request: bool,
    spikes_total: u64,
    spikes_exc: u64,
    target_buf: Vec<f32>,
}

impl SpikeSession {
    /// Validates the config and builds the network (O(synapses)).
    pub fn new(config: SpikeConfig) -> Result<SpikeSession, SpikeError> {
        config.validate()?;
        let net = config.build_network();
        let sim = Sim::new(&net);
        let plasticity = Plasticity::new(&net, config.plasticity);
        let learn = match &config.task {
            None => None,
            Some(task_cfg) => {
                let task = Task::new(task_cfg, net.n, net.dt_ms, config.seed)?;
                let readout = Readout::new(&config.readout, net.n, task.n_outputs(), net.dt_ms)?;
                let trace = SpikeTrace::new(net.n, config.readout_tau_ms, net.dt_ms)?;
                Some(Learn {
                    task,
                    readout,
                    trace,
                    running_pred_mse: None,
                    last_pred: Vec::new(),
                    trials: 0,
                })
            }
        };
        let bin_ms = 1.0f32.max(net.dt_ms);
        let avalanche = AvalancheCollector::with_bin_ms(bin_ms, net.dt_ms)?;
        Ok(SpikeSession {
            inject: vec![0.0; net.n],
            config,
            net,
            sim,
            plasticity,
            learn,
            learning_on: true,
            avalanche,
            avalanche_cache: None,
            avalanche_at_ms: f64::NEG_INFINITY,
            weights_on_request: false,
            spikes_total: 0,
            spikes_exc: 0,
            target_buf: Vec::new(),
        })
    }

    pub fn config(&self) -> &SpikeConfig {
        &self.config
    }
    pub fn network(&self) -> &Network {
        &self.net
    }
    pub fn sim(&self) -> &Sim {
        &self.sim
    }
    pub fn t_ms(&self) -> f64 {
        self.sim.t_ms(&self.net)
    }
    /// The run reached `duration_ms`.
    pub fn done(&self) -> bool {
        self.t_ms() + 1e-9 >= self.config.duration_ms as f64
    }

    /// Applies a change; bad values are an error naming the limit, and nothing changes.
    pub fn apply(&mut self, cmd: SpikeControl) -> Result<(), SpikeError> {
        let n = self.net.n;
        let range = |from: u32, to: u32| neuron_range(from, to, n);
        match cmd {
            SpikeControl::Inject { from, to, current } => {
                let r = range(from, to)?;
                check("injected current", current, -1000.0, 1000.0)?;
                self.inject[r].iter_mut().for_each(|x| *x = current);
            }
            SpikeControl::Silence { from, to, on } => {
                let r = range(from, to)?;
                self.sim.set_silenced(r.start, r.end, on);
            }
            SpikeControl::Plasticity { params } => {
                let mut c = self.config.clone();
                c.plasticity = params;
                c.validate()?;
                self.config.plasticity = params;
                self.plasticity.set_params(params);
            }
            SpikeControl::Task { task } => {
                let Some(learn) = &mut self.learn else {
                    return Err(rule("task", "switching the task needs a run with a task"));
                };
                task.validate(n, self.net.dt_ms)?;
                learn.task.set_params(&task)?;
                self.config.task = Some(task);
            }
            SpikeControl::Noise { exc, inh } => {
                check("noise_exc", exc, 0.0, 1000.0)?;
                check("noise_inh", inh, 0.0, 1000.0)?;
                let ne = self.net.n_exc;
                self.net.noise_std[..ne].iter_mut().for_each(|x| *x = exc);
                self.net.noise_std[ne..].iter_mut().for_each(|x| *x = inh);
                self.config.noise_exc = exc;
                self.config.noise_inh = inh;
            }
            SpikeControl::Drive { current } => {
                check("drive", current, -1000.0, 1000.0)?;
                self.config.drive = current;
            }
            SpikeControl::Traces { neurons } => {
                let mut c = self.config.clone();
                c.trace_neurons = neurons;
                c.validate()?;
                self.config.trace_neurons = c.trace_neurons;
            }
            SpikeControl::WeightHistogram { on } => self.weights_on_request = on,
            SpikeControl::Learning { on } => self.learning_on = on,
        }
        Ok(())
    }

    /// What the interventions are now (the answer to every control).
    pub fn interventions(&self, what: String) -> SpikeAnswer {
        SpikeAnswer {
            silenced: mask_ranges(self.sim.silenced.iter().copied()),
            injected: current_ranges(&self.inject),
            what,
        }
    }

    fn weights_wanted(&self) -> bool {
        self.weights_on_request || self.config.plasticity.any_on()
    }

    /// Simulates `ms` more milliseconds (at most `MAX_CHUNK_MS` per call) and reports them.
    /// `duration_ms` is advisory: the report's `done` says when it is reached, the caller stops.
    pub fn run_ms(&mut self, ms: u32) -> SpikeReport {
        let ms = ms.min(MAX_CHUNK_MS);
        let dt = self.net.dt_ms;
        let bin_ms = 1.0f32.max(dt);
        let t0 = self.t_ms();
        let steps = ((ms as f64 / dt as f64).round() as u64).max(if ms > 0 { 1 } else { 0 });
        let n_bins = ((steps as f64 * dt as f64) / bin_ms as f64).ceil() as usize;
        let traces: Vec<u32> = self.config.trace_neurons.clone();
        let mut rep = SpikeReport {
            t0_ms: t0,
            t_ms: t0,
            bin_ms,
            spike_t_ms: Vec::new(),
            spike_neuron: Vec::new(),
            spikes_dropped: 0,
            rate_hz: vec![0.0; n_bins],
            rate_exc_hz: 0.0,
            rate_inh_hz: 0.0,
            traces_mv: vec![vec![0.0; n_bins]; traces.len()],
            trace_neurons: traces,
            readout: None,
            weights: None,
            avalanches: None,
            done: false,
        };
        let n_out = self.learn.as_ref().map_or(0, |l| l.task.n_outputs());
        let mut chunk = ReadoutChunk {
            outputs: vec![vec![0.0; n_bins]; n_out],
            targets: vec![vec![0.0; n_bins]; n_out],
            gate: vec![0.0; n_bins],
            trials: Vec::new(),
            running_pred_mse: None,
            trials_done: 0,
        };
        let (mut exc, mut inh) = (0u64, 0u64);
        let ne = self.net.n_exc;
        let intrinsic = matches!(
            self.config.plasticity.homeostasis.kind,
            HomeostasisKind::Intrinsic | HomeostasisKind::Both
        );
        let plastic = self.config.plasticity.any_on();
        // The external current changes from step to step only with homeostatic biases or a task;
        // otherwise drive + injected is written once (controls change it between chunks).
        let ext_per_step = intrinsic || self.learn.is_some();
        for k in 0..steps {
            let t_ms = self.t_ms();
            // External current.
            if ext_per_step || k == 0 {
                let drive = self.config.drive;
                for (x, &inj) in self.sim.i_ext.iter_mut().zip(&self.inject) {
                    *x = drive + inj;
                }
            }
            if intrinsic {
                for (x, &b) in self.sim.i_ext.iter_mut().zip(&self.plasticity.bias) {
                    *x += b;
                }
            }
            if let Some(l) = &mut self.learn {
                l.task.advance(t_ms);
                l.task.input(t_ms, &mut self.sim.i_ext);
            }
            // Engine.
            self.sim.step(&self.net);
            let fired = self.sim.fired();
            let bin = (((k as f64 + 1.0) * dt as f64 / bin_ms as f64).ceil() as usize)
                .saturating_sub(1)
                .min(n_bins.saturating_sub(1));
            let count = fired.len() as u64;
            let n_exc_fired = fired.partition_point(|&i| (i as usize) < ne) as u64;
            exc += n_exc_fired;
            inh += count - n_exc_fired;
            if n_bins > 0 {
                rep.rate_hz[bin] += count as f32;
            }
            let t_whole = t_ms.floor().max(0.0).min(u32::MAX as f64) as u32;
            let room = MAX_REPORT_SPIKES.saturating_sub(rep.spike_neuron.len());
            let take = fired.len().min(room);
            rep.spike_neuron.extend_from_slice(&fired[..take]);
            rep.spike_t_ms.extend(std::iter::repeat_n(t_whole, take));
            rep.spikes_dropped += (fired.len() - take) as u64;
            self.avalanche.push_step(count as u32);
            if plastic {
                self.plasticity.after_step(&mut self.net, self.sim.fired());
            }
            // Readout.
            if let Some(l) = &mut self.learn {
                l.trace.step(self.sim.fired());
                self.target_buf.clear();
                self.target_buf.extend_from_slice(l.task.target(t_ms));
                let gate = l.task.gate(t_ms);
                let y = l.readout.step(
                    l.trace.values(),
                    Some(&self.target_buf),
                    gate,
                    self.learning_on,
                );
                if n_bins > 0 {
                    for (o, &yo) in y.iter().enumerate() {
                        chunk.outputs[o][bin] = yo;
                        chunk.targets[o][bin] = self.target_buf.get(o).copied().unwrap_or(0.0);
                    }
                    chunk.gate[bin] = gate;
                }
                let y = y.to_vec();
                if let Some(tr) = l.task.observe(t_ms, &y) {
                    l.readout.consolidate();
                    l.trials += 1;
                    if matches!(l.readout.config(), ReadoutConfig::Ridge(_))
                        && self.learning_on
                        && l.trials % RIDGE_FIT_EVERY_TRIALS == 0
                    {
                        // A failed solve keeps the old weights; the next fit has more data.
                        let _ = l.readout.fit();
                    }
                    record_trial(l, &tr);
                    chunk.trials.push(tr);
                }
            }
            if n_bins > 0 {
                for (r, &i) in rep.trace_neurons.iter().enumerate() {
                    let v = self.sim.v.get(i as usize).copied().unwrap_or(0.0);
                    rep.traces_mv[r][bin] = v.min(V_PEAK_MV);
                }
            }
        }
        let n = self.net.n as f32;
        for r in &mut rep.rate_hz {
            // spikes per bin → Hz per neuron (the last bin may be partial; it is rare).
            *r *= 1000.0 / (bin_ms * n);
        }
        let chunk_s = (steps as f64 * dt as f64 / 1000.0).max(1e-12);
        rep.rate_exc_hz = (exc as f64 / chunk_s / ne.max(1) as f64) as f32;
        rep.rate_inh_hz = (inh as f64 / chunk_s / (self.net.n - ne).max(1) as f64) as f32;
        self.spikes_total += exc + inh;
        self.spikes_exc += exc;
        rep.t_ms = self.t_ms();
        if let Some(l) = &self.learn {
            chunk.running_pred_mse = l.running_pred_mse;
            chunk.trials_done = l.trials;
            rep.readout = Some(chunk);
        }
        if self.weights_wanted() {
            rep.weights = Some(self.weight_histogram());
        }
        if avalanche_due(
            rep.t_ms,
            self.avalanche_at_ms,
            self.avalanche_cache.is_some(),
            self.done(),
        ) {
            self.avalanche_at_ms = rep.t_ms;
            self.avalanche_cache = Some(self.avalanche_stats());
        }
        rep.avalanches = self.avalanche_cache.clone();
        rep.done = self.done();
        rep
    }

    /// The excitatory weight histogram now (bins over [0, w_max] with STDP on, else [0, max w]).
    pub fn weight_histogram(&self) -> WeightHistogram {
        let stdp = self.config.plasticity.stdp;
        let (hi, counts) = Plasticity::exc_weight_histogram(
            &self.net,
            WEIGHT_BINS,
            stdp.enabled.then_some(stdp.w_max),
        );
        WeightHistogram {
            hi,
            counts,
            mean: self.net.mean_exc_weight(),
        }
    }

    /// Avalanche statistics of the run so far (fits are O(avalanches); the session calls this at
    /// most every `AVALANCHE_EVERY_MS`).
    pub fn avalanche_stats(&self) -> AvalancheStats {
        AvalancheStats::of(&self.avalanche, 1.0f32.max(self.net.dt_ms))
    }

    /// Figures of the whole run so far.
    pub fn final_summary(&self) -> SpikeSummary {
        let mut summary = SpikeSummary::of(
            &self.net,
            self.t_ms() / 1000.0,
            self.spikes_total,
            self.spikes_exc,
        );
        if let Some(l) = &self.learn {
            let last = &l.last_pred[l.last_pred.len().saturating_sub(10)..];
            summary.trials = l.trials;
            summary.final_pred_mse =
                (!last.is_empty()).then(|| last.iter().sum::<f32>() / last.len() as f32);
        }
        summary
    }
}

fn record_trial(l: &mut Learn, tr: &TrialReport) {
    l.last_pred.push(tr.pred_mse);
    if l.last_pred.len() > 64 {
        l.last_pred.drain(..32);
    }
    l.running_pred_mse = Some(match l.running_pred_mse {
        None => tr.pred_mse,
        Some(m) => m + 0.1 * (tr.pred_mse - m),
    });
}

/// A run on either engine, as one [`Session`]: the worker and the CLI drive this.
pub enum SpikeRun {
    Cpu(Box<SpikeSession>),
    #[cfg(feature = "gpu")]
    Gpu(Box<crate::gpu_session::GpuSession>),
}

impl SpikeRun {
    pub fn config(&self) -> &SpikeConfig {
        match self {
            SpikeRun::Cpu(s) => s.config(),
            #[cfg(feature = "gpu")]
            SpikeRun::Gpu(s) => s.config(),
        }
    }

    pub fn network(&self) -> &Network {
        match self {
            SpikeRun::Cpu(s) => s.network(),
            #[cfg(feature = "gpu")]
            SpikeRun::Gpu(s) => s.network(),
        }
    }

    pub fn t_ms(&self) -> f64 {
        match self {
            SpikeRun::Cpu(s) => s.t_ms(),
            #[cfg(feature = "gpu")]
            SpikeRun::Gpu(s) => s.t_ms(),
        }
    }

    /// Figures of the whole run so far.
    pub fn final_summary(&self) -> SpikeSummary {
        match self {
            SpikeRun::Cpu(s) => s.final_summary(),
            #[cfg(feature = "gpu")]
            SpikeRun::Gpu(s) => s.final_summary(),
        }
    }

    /// `ms` more simulated milliseconds on this engine.
    pub async fn run_ms(&mut self, ms: u32) -> Result<SpikeReport, SpikeError> {
        match self {
            SpikeRun::Cpu(s) => Ok(s.run_ms(ms)),
            #[cfg(feature = "gpu")]
            SpikeRun::Gpu(s) => s.run_ms(ms).await,
        }
    }
}

fn describe(control: &SpikeControl) -> String {
    match control {
        SpikeControl::Inject { from, to, current } => {
            format!("inject {current}: neurons {from}..{to}")
        }
        SpikeControl::Silence { from, to, on: true } => format!("silence: neurons {from}..{to}"),
        SpikeControl::Silence {
            from,
            to,
            on: false,
        } => format!("release: neurons {from}..{to}"),
        SpikeControl::Plasticity { .. } => "plasticity changed".into(),
        SpikeControl::Task { .. } => "task switched (from the next trial)".into(),
        SpikeControl::Noise { exc, inh } => format!("noise {exc} / {inh}"),
        SpikeControl::Drive { current } => format!("drive {current}"),
        SpikeControl::Traces { neurons } => format!("tracing {neurons:?}"),
        SpikeControl::WeightHistogram { on } => {
            format!("weight histogram {}", if *on { "on" } else { "off" })
        }
        SpikeControl::Learning { on } => format!("learning {}", if *on { "on" } else { "off" }),
    }
}

impl Session for SpikeRun {
    type Lab = SpikeLab;
    type Error = SpikeError;

    fn position(&self) -> Position {
        Position::ms(self.t_ms(), f64::from(self.config().duration_ms))
    }

    fn summary(&self) -> SpikeNet {
        let net = self.network();
        let engine = match self {
            SpikeRun::Cpu(_) => "cpu".to_string(),
            #[cfg(feature = "gpu")]
            SpikeRun::Gpu(s) => format!(
                "gpu ({}, {} steps per submit)",
                s.info().name,
                s.steps_per_submit()
            ),
        };
        SpikeNet {
            neurons: u32::try_from(net.n).unwrap_or(u32::MAX),
            synapses: net.n_synapses() as u64,
            n_exc: u32::try_from(net.n_exc).unwrap_or(u32::MAX),
            engine,
        }
    }

    /// `chunk.units` simulated ms (at most to the end of the run), one report.
    async fn advance(&mut self, chunk: Chunk) -> Result<Advance<SpikeReport>, SpikeError> {
        let left = self.position().left().ceil() as u32;
        let ms = chunk.units.min(left).max(1);
        let report = self.run_ms(ms).await?;
        let mut out = Advance::default();
        out.push_checked(report, |r| {
            format!(
                "the membrane potentials became NaN/Inf by t = {:.0} ms (try a smaller dt or weaker weights)",
                r.t_ms
            )
        });
        Ok(out)
    }

    async fn report(&mut self) -> Result<Option<SpikeReport>, SpikeError> {
        Ok(None)
    }

    async fn apply(&mut self, control: SpikeControl) -> Result<SpikeAnswer, SpikeError> {
        let what = describe(&control);
        match self {
            SpikeRun::Cpu(s) => {
                s.apply(control)?;
                Ok(s.interventions(what))
            }
            #[cfg(feature = "gpu")]
            SpikeRun::Gpu(s) => {
                s.apply(control)?;
                Ok(s.interventions(what))
            }
        }
    }

    async fn export(&mut self, what: &str) -> Result<ExportFile, SpikeError> {
        Err(SpikeError::UnknownExport(what.to_string()))
    }
}

fn check(name: &'static str, got: f32, min: f32, max: f32) -> Result<(), SpikeError> {
    crate::error::check(name, f64::from(got), f64::from(min), f64::from(max))
}

/// Whether the avalanche statistics are recomputed at `t_ms` (last at `at_ms`): every
/// `AVALANCHE_EVERY_MS` at first, then every quarter of the run so far — each fit covers the whole
/// run, so a fixed period made a long run ever slower (the Izhikevich 2003 network ran at half
/// speed after a minute) — and at the end of the run.
pub fn avalanche_due(t_ms: f64, at_ms: f64, cached: bool, done: bool) -> bool {
    !cached || done || t_ms - at_ms >= AVALANCHE_EVERY_MS.max(at_ms / 4.0)
}

/// Neurons `from..to` of a network of `n`, or an error naming the limit.
pub fn neuron_range(from: u32, to: u32, n: usize) -> Result<std::ops::Range<usize>, SpikeError> {
    if from >= to || to as usize > n {
        return Err(rule(
            "to",
            format!("the neuron range must satisfy 0 ≤ from < to ≤ {n}, got {from}..{to}"),
        ));
    }
    Ok(from as usize..to as usize)
}

/// Runs of `true` in a per-neuron mask, as ranges.
pub fn mask_ranges(mask: impl IntoIterator<Item = bool>) -> Vec<NeuronRange> {
    let mut out = Vec::new();
    let mut start = None;
    let mut i = 0u32;
    for on in mask {
        match (on, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(NeuronRange { from: s, to: i });
                start = None;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(s) = start {
        out.push(NeuronRange { from: s, to: i });
    }
    out
}

/// Runs of equal non-zero current, as injections.
pub fn current_ranges(current: &[f32]) -> Vec<Injection> {
    let mut out: Vec<Injection> = Vec::new();
    for (i, &c) in current.iter().enumerate() {
        if c == 0.0 {
            continue;
        }
        let i = i as u32;
        match out.last_mut() {
            Some(last) if last.to == i && last.current == c => last.to = i + 1,
            _ => out.push(Injection {
                from: i,
                to: i + 1,
                current: c,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::TaskConfig;

    #[test]
    fn chunking_does_not_change_the_run() {
        let c = SpikeConfig {
            duration_ms: 400,
            ..SpikeConfig::reservoir()
        };
        let mut a = SpikeSession::new(c.clone()).unwrap();
        let mut b = SpikeSession::new(c).unwrap();
        let ra = a.run_ms(400);
        let mut spikes_b = (Vec::new(), Vec::new());
        let mut outs = Vec::new();
        for ms in [13, 87, 100, 200] {
            let r = b.run_ms(ms);
            spikes_b.0.extend(r.spike_t_ms);
            spikes_b.1.extend(r.spike_neuron);
            outs.extend(r.readout.unwrap().outputs[0].clone());
        }
        assert!(ra.spike_neuron.len() > 100);
        assert_eq!(ra.spike_t_ms, spikes_b.0);
        assert_eq!(ra.spike_neuron, spikes_b.1);
        assert_eq!(ra.readout.unwrap().outputs[0], outs);
        assert!(b.done());
    }

    #[test]
    fn controls_reject_bad_input() {
        let mut s = SpikeSession::new(SpikeConfig::izhikevich2003()).unwrap();
        let e = s
            .apply(SpikeControl::Inject {
                from: 0,
                to: 2000,
                current: 5.0,
            })
            .unwrap_err();
        assert!(e.to_string().contains("to ≤ 1000"), "{e}");
        assert!(s
            .apply(SpikeControl::Noise {
                exc: f32::NAN,
                inh: 1.0
            })
            .is_err());
        assert!(s
            .apply(SpikeControl::Task {
                task: TaskConfig::default()
            })
            .is_err());
        let j = serde_json::to_string(&SpikeControl::Silence {
            from: 1,
            to: 5,
            on: true,
        })
        .unwrap();
        assert_eq!(j, r#"{"control":"silence","from":1,"to":5,"on":true}"#);
    }

    #[test]
    fn avalanche_fits_run_every_second_then_every_quarter_of_the_run_and_at_the_end() {
        assert!(
            avalanche_due(0.0, 0.0, false, false),
            "the first report has them"
        );
        assert!(!avalanche_due(999.0, 0.0, true, false));
        assert!(avalanche_due(1000.0, 0.0, true, false));
        assert!(avalanche_due(3000.0, 2000.0, true, false));
        // After 40 s: next at 50 s, not 41 s.
        assert!(!avalanche_due(41_000.0, 40_000.0, true, false));
        assert!(!avalanche_due(49_999.0, 40_000.0, true, false));
        assert!(avalanche_due(50_000.0, 40_000.0, true, false));
        assert!(
            avalanche_due(41_000.0, 40_000.0, true, true),
            "the last report has them"
        );
    }
}
