//! `SpikeConfig`: everything that defines a run of the spiking lab (network, input, plasticity,
//! task, readout, duration), its presets, its validation (errors name the limit), and the share
//! link codec (`to_link_pairs` / `from_link_pairs`: short keys, every field, exact round trip).

use crate::network::{LifParams, Network, NeuronModel, SparseSpec, DEFAULT_LIF};
use crate::plasticity::{HomeostasisKind, HomeostasisParams, PlasticityParams, StdpParams};
use crate::readout::{
    Consolidation, ForceParams, ReadoutConfig, ReadoutError, RidgeParams, ThreeFactorParams,
};
use crate::task::{
    BarsParams, BarsTarget, InputMap, SeriesParams, Signal, TaskConfig, TaskError, WhatWhenParams,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Most neurons the CPU engine accepts.
pub const MAX_NEURONS_CPU: usize = 20_000;
/// Most neurons the WGSL engine accepts.
pub const MAX_NEURONS_GPU: usize = 100_000;
/// Most neurons of an all-to-all (dense) network: n² synapses.
pub const MAX_NEURONS_DENSE: usize = 3_000;
/// Most synapses (expected n²·p_conn): CSR + CSC take 16 bytes each.
pub const MAX_SYNAPSES: u64 = 12_000_000;
/// Most neurons whose membrane potential a report carries.
pub const MAX_TRACE_NEURONS: usize = 4;
/// Longest run (ms), 1 hour of simulated time.
pub const MAX_DURATION_MS: u32 = 3_600_000;
/// Preset names.
pub const PRESETS: [&str; 3] = ["izhikevich2003", "reservoir", "lif"];

/// Which engine runs the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    Cpu,
    Gpu,
}

/// A bad config; every message names the limit or the expected values.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SpikeConfigError {
    #[error("{name} must be between {min} and {max}, got {got}")]
    OutOfRange {
        name: &'static str,
        min: f64,
        max: f64,
        got: f64,
    },
    #[error("the network would have about {got} synapses, more than the limit of {max} (lower n or p_conn)")]
    TooManySynapses { got: u64, max: u64 },
    #[error("trace neuron {neuron} is out of range: the network has {n} neurons")]
    TraceNeuron { neuron: u32, n: usize },
    #[error("at most {max} trace neurons, got {got}")]
    TooManyTraces { got: usize, max: usize },
    #[error("unknown preset {got:?}; expected one of izhikevich2003, reservoir, lif")]
    UnknownPreset { got: String },
    #[error("unknown link key {key:?}")]
    UnknownKey { key: String },
    #[error("bad value {value:?} for link key {key:?}: expected {expected}")]
    BadValue {
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("link key {key:?} needs {needs}")]
    KeyNotApplicable { key: String, needs: &'static str },
    #[error("task: {0}")]
    Task(#[from] TaskError),
    #[error("readout: {0}")]
    Readout(#[from] ReadoutError),
}

fn check(name: &'static str, got: f64, min: f64, max: f64) -> Result<(), SpikeConfigError> {
    if got.is_finite() && got >= min && got <= max {
        Ok(())
    } else {
        Err(SpikeConfigError::OutOfRange {
            name,
            min,
            max,
            got,
        })
    }
}

/// A whole run of the spiking lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpikeConfig {
    /// The preset this config started from (informational; the fields define the run).
    pub preset: String,
    pub engine: Engine,
    pub model: NeuronModel,
    pub n: usize,
    pub exc_frac: f32,
    /// All-to-all including self-connections (the 2003 paper) instead of `p_conn`.
    pub dense: bool,
    pub p_conn: f32,
    /// Excitatory weights `w_exc·U(0,1)`, inhibitory `−w_inh·U(0,1)`.
    pub w_exc: f32,
    pub w_inh: f32,
    /// Izhikevich type mix (0 = RS/LTS only, 1 = the paper's RS…CH / LTS…FS spread).
    pub type_mix: f32,
    /// Extra jitter of a and d (0..1).
    pub heterogeneity: f32,
    pub dt_ms: f32,
    /// Input noise std per step, excitatory / inhibitory neurons.
    pub noise_exc: f32,
    pub noise_inh: f32,
    /// Constant input current to every neuron.
    pub drive: f32,
    pub lif: LifParams,
    pub seed: u64,
    pub plasticity: PlasticityParams,
    /// The readout task, if any.
    pub task: Option<TaskConfig>,
    pub readout: ReadoutConfig,
    /// Time constant of the spike traces the readout sees (ms).
    pub readout_tau_ms: f32,
    /// Neurons whose membrane potential the reports carry (≤ 4).
    pub trace_neurons: Vec<u32>,
    /// Simulated time to run (ms); the UI and CLI stop there.
    pub duration_ms: u32,
}

impl Default for SpikeConfig {
    fn default() -> Self {
        SpikeConfig::izhikevich2003()
    }
}

impl SpikeConfig {
    /// The 2003 paper's network (1000 neurons, 10⁶ synapses), no task.
    pub fn izhikevich2003() -> SpikeConfig {
        SpikeConfig {
            preset: "izhikevich2003".into(),
            engine: Engine::Cpu,
            model: NeuronModel::Izhikevich,
            n: 1000,
            exc_frac: 0.8,
            dense: true,
            p_conn: 1.0,
            w_exc: 0.5,
            w_inh: 1.0,
            type_mix: 1.0,
            heterogeneity: 0.0,
            dt_ms: 1.0,
            noise_exc: 5.0,
            noise_inh: 2.0,
            drive: 0.0,
            lif: DEFAULT_LIF,
            seed: 1,
            plasticity: PlasticityParams::default(),
            task: None,
            readout: ReadoutConfig::default(),
            readout_tau_ms: 20.0,
            trace_neurons: vec![0, 1, 800, 801],
            duration_ms: 10_000,
        }
    }

    /// A sparse heterogeneous Izhikevich reservoir (1000 neurons, p = 0.1) driven by noise,
    /// with the what/when task and the three-factor readout.
    pub fn reservoir() -> SpikeConfig {
        SpikeConfig {
            preset: "reservoir".into(),
            dense: false,
            p_conn: 0.1,
            w_exc: 2.0,
            w_inh: 6.0,
            heterogeneity: 0.2,
            noise_exc: 4.0,
            noise_inh: 2.0,
            task: Some(TaskConfig::WhatWhen(WhatWhenParams::default())),
            trace_neurons: vec![0, 100, 500, 900],
            duration_ms: 60_000,
            ..SpikeConfig::izhikevich2003()
        }
    }

    /// A sparse current-based LIF network in the fluctuation-driven regime.
    pub fn lif() -> SpikeConfig {
        SpikeConfig {
            preset: "lif".into(),
            model: NeuronModel::Lif,
            dense: false,
            p_conn: 0.1,
            w_exc: 2.0,
            w_inh: 8.0,
            type_mix: 0.0,
            dt_ms: 0.5,
            noise_exc: 20.0,
            noise_inh: 20.0,
            drive: 18.0,
            trace_neurons: vec![0, 1, 800, 801],
            ..SpikeConfig::izhikevich2003()
        }
    }

    pub fn preset(name: &str) -> Result<SpikeConfig, SpikeConfigError> {
        match name {
            "izhikevich2003" => Ok(SpikeConfig::izhikevich2003()),
            "reservoir" => Ok(SpikeConfig::reservoir()),
            "lif" => Ok(SpikeConfig::lif()),
            _ => Err(SpikeConfigError::UnknownPreset { got: name.into() }),
        }
    }

    pub fn max_neurons(&self) -> usize {
        match self.engine {
            Engine::Cpu => MAX_NEURONS_CPU,
            Engine::Gpu => MAX_NEURONS_GPU,
        }
    }

    /// Expected number of synapses.
    pub fn expected_synapses(&self) -> u64 {
        let n = self.n as u64;
        if self.dense {
            n * n
        } else {
            (n as f64 * (n.saturating_sub(1)) as f64 * self.p_conn.clamp(0.0, 1.0) as f64) as u64
        }
    }

    pub fn validate(&self) -> Result<(), SpikeConfigError> {
        check("n", self.n as f64, 2.0, self.max_neurons() as f64)?;
        if self.dense {
            check("n (dense)", self.n as f64, 2.0, MAX_NEURONS_DENSE as f64)?;
        }
        check("exc_frac", self.exc_frac as f64, 0.0, 1.0)?;
        check("p_conn", self.p_conn as f64, 0.0, 1.0)?;
        let syn = self.expected_synapses();
        if syn > MAX_SYNAPSES {
            return Err(SpikeConfigError::TooManySynapses {
                got: syn,
                max: MAX_SYNAPSES,
            });
        }
        check("w_exc", self.w_exc as f64, 0.0, 1000.0)?;
        check("w_inh", self.w_inh as f64, 0.0, 1000.0)?;
        check("type_mix", self.type_mix as f64, 0.0, 1.0)?;
        check("heterogeneity", self.heterogeneity as f64, 0.0, 0.9)?;
        check("dt_ms", self.dt_ms as f64, 0.01, 2.0)?;
        check("noise_exc", self.noise_exc as f64, 0.0, 1000.0)?;
        check("noise_inh", self.noise_inh as f64, 0.0, 1000.0)?;
        check("drive", self.drive as f64, -1000.0, 1000.0)?;
        let l = &self.lif;
        check("lif tau_m_ms", l.tau_m_ms as f64, 0.1, 1000.0)?;
        check("lif tau_syn_ms", l.tau_syn_ms as f64, 0.1, 1000.0)?;
        check("lif v_rest_mv", l.v_rest_mv as f64, -200.0, 100.0)?;
        check(
            "lif v_reset_mv",
            l.v_reset_mv as f64,
            -200.0,
            l.v_th_mv as f64,
        )?;
        check("lif v_th_mv", l.v_th_mv as f64, -200.0, 100.0)?;
        check("lif t_ref_ms", l.t_ref_ms as f64, 0.0, 100.0)?;
        check("lif r_m", l.r_m as f64, 0.0, 1000.0)?;
        let s = &self.plasticity.stdp;
        check("stdp a_plus", s.a_plus as f64, 0.0, 10.0)?;
        check("stdp a_minus", s.a_minus as f64, 0.0, 10.0)?;
        check("stdp tau_plus_ms", s.tau_plus_ms as f64, 0.1, 1000.0)?;
        check("stdp tau_minus_ms", s.tau_minus_ms as f64, 0.1, 1000.0)?;
        check("stdp w_max", s.w_max as f64, 0.0, 1000.0)?;
        let h = &self.plasticity.homeostasis;
        check("target_rate_hz", h.target_rate_hz as f64, 0.01, 500.0)?;
        check("tau_rate_ms", h.tau_rate_ms as f64, 1.0, 1e6)?;
        check("scaling_per_s", h.scaling_per_s as f64, 0.0, 100.0)?;
        check("scaling_period_ms", h.scaling_period_ms as f64, 1.0, 1e5)?;
        check("intrinsic_per_s", h.intrinsic_per_s as f64, 0.0, 100.0)?;
        check("max_bias", h.max_bias as f64, 0.0, 1000.0)?;
        check("readout_tau_ms", self.readout_tau_ms as f64, 0.1, 10_000.0)?;
        if self.trace_neurons.len() > MAX_TRACE_NEURONS {
            return Err(SpikeConfigError::TooManyTraces {
                got: self.trace_neurons.len(),
                max: MAX_TRACE_NEURONS,
            });
        }
        if let Some(&neuron) = self.trace_neurons.iter().find(|&&i| i as usize >= self.n) {
            return Err(SpikeConfigError::TraceNeuron { neuron, n: self.n });
        }
        check(
            "duration_ms",
            self.duration_ms as f64,
            1.0,
            MAX_DURATION_MS as f64,
        )?;
        if let Some(task) = &self.task {
            task.validate(self.n, self.dt_ms)?;
            self.readout.validate(self.n, task.n_outputs())?;
        }
        Ok(())
    }

    /// The network spec of this config.
    pub fn network_spec(&self) -> SparseSpec {
        SparseSpec {
            model: self.model,
            n: self.n,
            exc_frac: self.exc_frac,
            p_conn: if self.dense { 1.0 } else { self.p_conn },
            w_exc: self.w_exc,
            w_inh: self.w_inh,
            type_mix: self.type_mix,
            heterogeneity: self.heterogeneity,
            noise_exc: self.noise_exc,
            noise_inh: self.noise_inh,
            dt_ms: self.dt_ms,
            lif: self.lif,
            seed: self.seed,
        }
    }

    /// Builds the network (validate first).
    pub fn build_network(&self) -> Network {
        let spec = self.network_spec();
        if self.dense {
            Network::dense(&spec)
        } else {
            Network::sparse(&spec)
        }
    }

    // -----------------------------------------------------------------------------------------
    // Share link codec
    // -----------------------------------------------------------------------------------------

    /// Every field that defines the run as (short key, value); f32s print in Rust's shortest
    /// round-trip form, so `from_link_pairs` restores them bit for bit.
    pub fn to_link_pairs(&self) -> Vec<(&'static str, String)> {
        let mut v: Vec<(&'static str, String)> = Vec::new();
        let f = |x: f32| format!("{x}");
        let b = |x: bool| if x { "1".to_string() } else { "0".to_string() };
        v.push(("preset", self.preset.clone()));
        v.push((
            "eng",
            match self.engine {
                Engine::Cpu => "cpu",
                Engine::Gpu => "gpu",
            }
            .into(),
        ));
        v.push((
            "model",
            match self.model {
                NeuronModel::Izhikevich => "izh",
                NeuronModel::Lif => "lif",
            }
            .into(),
        ));
        v.push(("n", self.n.to_string()));
        v.push(("ef", f(self.exc_frac)));
        v.push(("dense", b(self.dense)));
        v.push(("pc", f(self.p_conn)));
        v.push(("we", f(self.w_exc)));
        v.push(("wi", f(self.w_inh)));
        v.push(("mix", f(self.type_mix)));
        v.push(("het", f(self.heterogeneity)));
        v.push(("dt", f(self.dt_ms)));
        v.push(("nse", f(self.noise_exc)));
        v.push(("nsi", f(self.noise_inh)));
        v.push(("drv", f(self.drive)));
        let l = &self.lif;
        v.push(("ltm", f(l.tau_m_ms)));
        v.push(("lts", f(l.tau_syn_ms)));
        v.push(("lvr", f(l.v_rest_mv)));
        v.push(("lvs", f(l.v_reset_mv)));
        v.push(("lvt", f(l.v_th_mv)));
        v.push(("ltr", f(l.t_ref_ms)));
        v.push(("lrm", f(l.r_m)));
        v.push(("seed", self.seed.to_string()));
        let s = &self.plasticity.stdp;
        v.push(("stdp", b(s.enabled)));
        v.push(("ap", f(s.a_plus)));
        v.push(("am", f(s.a_minus)));
        v.push(("tp", f(s.tau_plus_ms)));
        v.push(("tmn", f(s.tau_minus_ms)));
        v.push(("wmax", f(s.w_max)));
        let h = &self.plasticity.homeostasis;
        v.push(("hom", h.kind.name().into()));
        v.push(("hr", f(h.target_rate_hz)));
        v.push(("htau", f(h.tau_rate_ms)));
        v.push(("hsc", f(h.scaling_per_s)));
        v.push(("hper", f(h.scaling_period_ms)));
        v.push(("hip", f(h.intrinsic_per_s)));
        v.push(("hmax", f(h.max_bias)));
        v.push(("rtau", f(self.readout_tau_ms)));
        v.push((
            "tr",
            self.trace_neurons
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("."),
        ));
        v.push(("dur", self.duration_ms.to_string()));
        match &self.task {
            None => v.push(("task", "none".into())),
            Some(t) => {
                v.push(("task", t.kind_name().into()));
                let input = match t {
                    TaskConfig::WhatWhen(p) => {
                        v.push(("tt", f(p.trial_ms)));
                        v.push(("cue", f(p.cue_ms)));
                        v.push(("stim", f(p.stim_ms)));
                        v.push(("da", f(p.delay_a_ms)));
                        v.push(("db", f(p.delay_b_ms)));
                        v.push(("pa", f(p.p_a)));
                        v.push(("pb", f(p.p_b)));
                        v.push(("tw", f(p.width_ms)));
                        v.push(("go", f(p.gate_outside)));
                        &p.input
                    }
                    TaskConfig::Bars(p) => {
                        v.push(("side", p.side.to_string()));
                        v.push(("bp", f(p.present_ms)));
                        v.push(("bg", f(p.gap_ms)));
                        v.push(("bs", f(p.settle_ms)));
                        v.push((
                            "bt",
                            match p.target {
                                BarsTarget::Class => "class",
                                BarsTarget::Pattern => "pattern",
                            }
                            .into(),
                        ));
                        &p.input
                    }
                    TaskConfig::Series(p) => {
                        match &p.signal {
                            Signal::MackeyGlass { tau, ms_per_unit } => {
                                v.push(("sig", "mg".into()));
                                v.push(("mgt", f(*tau)));
                                v.push(("mgu", f(*ms_per_unit)));
                            }
                            Signal::Sines { periods_ms } => {
                                v.push(("sig", "sines".into()));
                                v.push((
                                    "per",
                                    periods_ms
                                        .iter()
                                        .map(|&x| f(x))
                                        .collect::<Vec<_>>()
                                        .join("_"),
                                ));
                            }
                        }
                        v.push(("hzn", f(p.horizon_ms)));
                        v.push(("rep", f(p.report_every_ms)));
                        &p.input
                    }
                };
                v.push(("if0", input.first_neuron.to_string()));
                v.push(("igs", input.group_size.to_string()));
                v.push(("iamp", f(input.amp)));
            }
        }
        v.push(("ro", self.readout.kind_name().into()));
        match &self.readout {
            ReadoutConfig::ThreeFactor(p) => {
                v.push(("eta", f(p.eta)));
                v.push(("norm", b(p.normalize)));
                v.push(("wd", f(p.weight_decay)));
                v.push(("tel", f(p.tau_elig_ms)));
                v.push((
                    "cons",
                    match p.consolidation {
                        Consolidation::Online => "online",
                        Consolidation::Deferred => "deferred",
                    }
                    .into(),
                ));
            }
            ReadoutConfig::Ridge(p) => {
                v.push(("lam", f(p.lambda)));
                v.push(("se", p.sample_every.to_string()));
            }
            ReadoutConfig::Force(p) => {
                v.push(("alpha", f(p.alpha)));
                v.push(("ue", p.update_every.to_string()));
            }
        }
        v
    }

    /// Parses link pairs: starts from the preset named by `preset` (default izhikevich2003),
    /// applies the structural keys (`model`, `task`, `sig`, `ro`) and then every other key;
    /// an unknown key, a bad value, or a key of another task/readout kind is an error naming
    /// the key. The result is validated.
    pub fn from_link_pairs(pairs: &[(String, String)]) -> Result<SpikeConfig, SpikeConfigError> {
        let preset = pairs
            .iter()
            .find(|(k, _)| k == "preset")
            .map(|(_, v)| v.as_str())
            .unwrap_or("izhikevich2003");
        let mut c = SpikeConfig::preset(preset)?;
        const FIRST: [&str; 4] = ["model", "task", "sig", "ro"];
        for (k, v) in pairs.iter().filter(|(k, _)| FIRST.contains(&k.as_str())) {
            c.apply_structural(k, v)?;
        }
        for (k, v) in pairs
            .iter()
            .filter(|(k, _)| k != "preset" && !FIRST.contains(&k.as_str()))
        {
            c.apply_pair(k, v)?;
        }
        if !pairs.iter().any(|(k, _)| k == "tr") {
            // The preset's traced neurons follow a smaller network: keep those that exist.
            let n = c.n as u32;
            c.trace_neurons.retain(|&i| i < n);
            if c.trace_neurons.is_empty() {
                c.trace_neurons.push(0);
            }
        }
        c.validate()?;
        Ok(c)
    }

    fn apply_structural(&mut self, key: &str, value: &str) -> Result<(), SpikeConfigError> {
        match key {
            "model" => {
                self.model = match value {
                    "izh" => NeuronModel::Izhikevich,
                    "lif" => NeuronModel::Lif,
                    _ => return Err(bad(key, value, "izh or lif")),
                }
            }
            "task" => {
                let keep = |t: &Option<TaskConfig>, kind: &str| {
                    t.as_ref().filter(|t| t.kind_name() == kind).cloned()
                };
                self.task = match value {
                    "none" => None,
                    "what_when" => Some(
                        keep(&self.task, value)
                            .unwrap_or_else(|| TaskConfig::WhatWhen(WhatWhenParams::default())),
                    ),
                    "bars" => Some(
                        keep(&self.task, value)
                            .unwrap_or_else(|| TaskConfig::Bars(BarsParams::default())),
                    ),
                    "series" => Some(
                        keep(&self.task, value)
                            .unwrap_or_else(|| TaskConfig::Series(SeriesParams::default())),
                    ),
                    _ => return Err(bad(key, value, "none, what_when, bars or series")),
                }
            }
            "sig" => {
                let Some(TaskConfig::Series(p)) = &mut self.task else {
                    return Err(not_applicable(key, "task=series"));
                };
                match (value, &p.signal) {
                    ("mg", Signal::MackeyGlass { .. }) | ("sines", Signal::Sines { .. }) => {}
                    ("mg", _) => {
                        p.signal = Signal::MackeyGlass {
                            tau: 17.0,
                            ms_per_unit: 10.0,
                        }
                    }
                    ("sines", _) => {
                        p.signal = Signal::Sines {
                            periods_ms: vec![100.0, 270.0],
                        }
                    }
                    _ => return Err(bad(key, value, "mg or sines")),
                }
            }
            "ro" => {
                if self.readout.kind_name() != value {
                    self.readout = match value {
                        "three_factor" => ReadoutConfig::ThreeFactor(ThreeFactorParams::default()),
                        "ridge" => ReadoutConfig::Ridge(RidgeParams::default()),
                        "force" => ReadoutConfig::Force(ForceParams::default()),
                        _ => return Err(bad(key, value, "three_factor, ridge or force")),
                    }
                }
            }
            _ => return Err(SpikeConfigError::UnknownKey { key: key.into() }),
        }
        Ok(())
    }

    fn apply_pair(&mut self, key: &str, value: &str) -> Result<(), SpikeConfigError> {
        let fl = || parse_f32(key, value);
        match key {
            "eng" => {
                self.engine = match value {
                    "cpu" => Engine::Cpu,
                    "gpu" => Engine::Gpu,
                    _ => return Err(bad(key, value, "cpu or gpu")),
                }
            }
            "n" => self.n = parse_u64(key, value)? as usize,
            "ef" => self.exc_frac = fl()?,
            "dense" => self.dense = parse_bool(key, value)?,
            "pc" => self.p_conn = fl()?,
            "we" => self.w_exc = fl()?,
            "wi" => self.w_inh = fl()?,
            "mix" => self.type_mix = fl()?,
            "het" => self.heterogeneity = fl()?,
            "dt" => self.dt_ms = fl()?,
            "nse" => self.noise_exc = fl()?,
            "nsi" => self.noise_inh = fl()?,
            "drv" => self.drive = fl()?,
            "ltm" => self.lif.tau_m_ms = fl()?,
            "lts" => self.lif.tau_syn_ms = fl()?,
            "lvr" => self.lif.v_rest_mv = fl()?,
            "lvs" => self.lif.v_reset_mv = fl()?,
            "lvt" => self.lif.v_th_mv = fl()?,
            "ltr" => self.lif.t_ref_ms = fl()?,
            "lrm" => self.lif.r_m = fl()?,
            "seed" => self.seed = parse_u64(key, value)?,
            "stdp" => self.plasticity.stdp.enabled = parse_bool(key, value)?,
            "ap" => self.plasticity.stdp.a_plus = fl()?,
            "am" => self.plasticity.stdp.a_minus = fl()?,
            "tp" => self.plasticity.stdp.tau_plus_ms = fl()?,
            "tmn" => self.plasticity.stdp.tau_minus_ms = fl()?,
            "wmax" => self.plasticity.stdp.w_max = fl()?,
            "hom" => {
                self.plasticity.homeostasis.kind = HomeostasisKind::from_name(value)
                    .ok_or_else(|| bad(key, value, "off, scaling, intrinsic or both"))?
            }
            "hr" => self.plasticity.homeostasis.target_rate_hz = fl()?,
            "htau" => self.plasticity.homeostasis.tau_rate_ms = fl()?,
            "hsc" => self.plasticity.homeostasis.scaling_per_s = fl()?,
            "hper" => self.plasticity.homeostasis.scaling_period_ms = fl()?,
            "hip" => self.plasticity.homeostasis.intrinsic_per_s = fl()?,
            "hmax" => self.plasticity.homeostasis.max_bias = fl()?,
            "rtau" => self.readout_tau_ms = fl()?,
            "tr" => {
                self.trace_neurons = if value.is_empty() {
                    Vec::new()
                } else {
                    value
                        .split('.')
                        .map(|s| {
                            s.parse::<u32>()
                                .map_err(|_| bad(key, value, "neuron indices joined by '.'"))
                        })
                        .collect::<Result<_, _>>()?
                }
            }
            "dur" => {
                self.duration_ms = u32::try_from(parse_u64(key, value)?)
                    .map_err(|_| bad(key, value, "milliseconds up to 3600000"))?
            }
            "tt" | "cue" | "stim" | "da" | "db" | "pa" | "pb" | "tw" | "go" => {
                let Some(TaskConfig::WhatWhen(p)) = &mut self.task else {
                    return Err(not_applicable(key, "task=what_when"));
                };
                let x = fl()?;
                match key {
                    "tt" => p.trial_ms = x,
                    "cue" => p.cue_ms = x,
                    "stim" => p.stim_ms = x,
                    "da" => p.delay_a_ms = x,
                    "db" => p.delay_b_ms = x,
                    "pa" => p.p_a = x,
                    "pb" => p.p_b = x,
                    "tw" => p.width_ms = x,
                    _ => p.gate_outside = x,
                }
            }
            "side" | "bp" | "bg" | "bs" | "bt" => {
                let Some(TaskConfig::Bars(p)) = &mut self.task else {
                    return Err(not_applicable(key, "task=bars"));
                };
                match key {
                    "side" => p.side = parse_u64(key, value)?.min(u32::MAX as u64) as u32,
                    "bp" => p.present_ms = fl()?,
                    "bg" => p.gap_ms = fl()?,
                    "bs" => p.settle_ms = fl()?,
                    _ => {
                        p.target = match value {
                            "class" => BarsTarget::Class,
                            "pattern" => BarsTarget::Pattern,
                            _ => return Err(bad(key, value, "class or pattern")),
                        }
                    }
                }
            }
            "mgt" | "mgu" | "per" | "hzn" | "rep" => {
                let Some(TaskConfig::Series(p)) = &mut self.task else {
                    return Err(not_applicable(key, "task=series"));
                };
                match (key, &mut p.signal) {
                    ("mgt", Signal::MackeyGlass { tau, .. }) => *tau = fl()?,
                    ("mgu", Signal::MackeyGlass { ms_per_unit, .. }) => *ms_per_unit = fl()?,
                    ("per", Signal::Sines { periods_ms }) => {
                        *periods_ms = value
                            .split('_')
                            .map(|s| parse_f32(key, s))
                            .collect::<Result<_, _>>()?
                    }
                    ("hzn", _) => p.horizon_ms = fl()?,
                    ("rep", _) => p.report_every_ms = fl()?,
                    ("per", _) => return Err(not_applicable(key, "sig=sines")),
                    _ => return Err(not_applicable(key, "sig=mg")),
                }
            }
            "if0" | "igs" | "iamp" => {
                let input: &mut InputMap = match &mut self.task {
                    Some(TaskConfig::WhatWhen(p)) => &mut p.input,
                    Some(TaskConfig::Bars(p)) => &mut p.input,
                    Some(TaskConfig::Series(p)) => &mut p.input,
                    None => return Err(not_applicable(key, "a task")),
                };
                match key {
                    "if0" => {
                        input.first_neuron = parse_u64(key, value)?.min(u32::MAX as u64) as u32
                    }
                    "igs" => input.group_size = parse_u64(key, value)?.min(u32::MAX as u64) as u32,
                    _ => input.amp = fl()?,
                }
            }
            "eta" | "norm" | "wd" | "tel" | "cons" => {
                let ReadoutConfig::ThreeFactor(p) = &mut self.readout else {
                    return Err(not_applicable(key, "ro=three_factor"));
                };
                match key {
                    "eta" => p.eta = fl()?,
                    "norm" => p.normalize = parse_bool(key, value)?,
                    "wd" => p.weight_decay = fl()?,
                    "tel" => p.tau_elig_ms = fl()?,
                    _ => {
                        p.consolidation = match value {
                            "online" => Consolidation::Online,
                            "deferred" => Consolidation::Deferred,
                            _ => return Err(bad(key, value, "online or deferred")),
                        }
                    }
                }
            }
            "lam" | "se" => {
                let ReadoutConfig::Ridge(p) = &mut self.readout else {
                    return Err(not_applicable(key, "ro=ridge"));
                };
                if key == "lam" {
                    p.lambda = fl()?;
                } else {
                    p.sample_every = parse_u64(key, value)?.min(u32::MAX as u64) as u32;
                }
            }
            "alpha" | "ue" => {
                let ReadoutConfig::Force(p) = &mut self.readout else {
                    return Err(not_applicable(key, "ro=force"));
                };
                if key == "alpha" {
                    p.alpha = fl()?;
                } else {
                    p.update_every = parse_u64(key, value)?.min(u32::MAX as u64) as u32;
                }
            }
            _ => return Err(SpikeConfigError::UnknownKey { key: key.into() }),
        }
        Ok(())
    }

    /// Homeostasis and STDP parameters with the defaults of `plasticity.rs`.
    pub fn default_plasticity() -> PlasticityParams {
        PlasticityParams {
            stdp: StdpParams::default(),
            homeostasis: HomeostasisParams::default(),
        }
    }
}

fn bad(key: &str, value: &str, expected: &'static str) -> SpikeConfigError {
    SpikeConfigError::BadValue {
        key: key.into(),
        value: value.into(),
        expected,
    }
}

fn not_applicable(key: &str, needs: &'static str) -> SpikeConfigError {
    SpikeConfigError::KeyNotApplicable {
        key: key.into(),
        needs,
    }
}

fn parse_f32(key: &str, value: &str) -> Result<f32, SpikeConfigError> {
    value
        .parse::<f32>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| bad(key, value, "a finite number"))
}

fn parse_u64(key: &str, value: &str) -> Result<u64, SpikeConfigError> {
    value
        .parse::<u64>()
        .map_err(|_| bad(key, value, "a non-negative integer"))
}

fn parse_bool(key: &str, value: &str) -> Result<bool, SpikeConfigError> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(bad(key, value, "0 or 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(p: Vec<(&'static str, String)>) -> Vec<(String, String)> {
        p.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn presets_validate_and_round_trip() {
        for name in PRESETS {
            let c = SpikeConfig::preset(name).unwrap();
            c.validate().unwrap();
            let back = SpikeConfig::from_link_pairs(&owned(c.to_link_pairs())).unwrap();
            assert_eq!(back, c, "{name}");
        }
    }

    #[test]
    fn every_task_and_readout_round_trips() {
        let mut c = SpikeConfig::reservoir();
        c.plasticity.stdp.enabled = true;
        c.plasticity.homeostasis.kind = HomeostasisKind::Both;
        c.p_conn = 0.123_456_79;
        c.seed = u64::MAX;
        for task in [
            Some(TaskConfig::Bars(BarsParams {
                side: 3,
                target: BarsTarget::Pattern,
                ..BarsParams::default()
            })),
            Some(TaskConfig::Series(SeriesParams::default())),
            Some(TaskConfig::Series(SeriesParams {
                signal: Signal::Sines {
                    periods_ms: vec![33.3, 125.0, 700.5],
                },
                ..SeriesParams::default()
            })),
            None,
        ] {
            for ro in [
                ReadoutConfig::Ridge(RidgeParams::default()),
                ReadoutConfig::Force(ForceParams {
                    alpha: 0.3,
                    update_every: 3,
                }),
                ReadoutConfig::ThreeFactor(ThreeFactorParams {
                    consolidation: Consolidation::Deferred,
                    normalize: false,
                    ..ThreeFactorParams::default()
                }),
            ] {
                c.task = task.clone();
                c.readout = ro;
                c.validate().unwrap();
                let back = SpikeConfig::from_link_pairs(&owned(c.to_link_pairs())).unwrap();
                assert_eq!(back, c);
            }
        }
    }

    #[test]
    fn validation_messages_name_the_limits() {
        let mut c = SpikeConfig::reservoir();
        c.n = 50_000;
        let e = c.validate().unwrap_err().to_string();
        assert_eq!(e, "n must be between 2 and 20000, got 50000");
        c.engine = Engine::Gpu;
        c.task = None;
        c.p_conn = 0.001;
        c.validate().unwrap();
        c.n = 200_000;
        assert!(c.validate().unwrap_err().to_string().contains("100000"));
        let mut c = SpikeConfig::izhikevich2003();
        c.n = 5000;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("n (dense) must be between 2 and 3000"));
        let mut c = SpikeConfig::reservoir();
        c.n = 20_000;
        c.p_conn = 0.5;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("limit of 12000000"));
        let mut c = SpikeConfig::izhikevich2003();
        c.trace_neurons = vec![5000];
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("has 1000 neurons"));
        c.trace_neurons = vec![1, 2, 3, 4, 5];
        assert!(c.validate().unwrap_err().to_string().contains("at most 4"));
        let mut c = SpikeConfig::izhikevich2003();
        c.dt_ms = 0.0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("dt_ms must be between 0.01 and 2"));
        let mut c = SpikeConfig::reservoir();
        if let Some(TaskConfig::WhatWhen(p)) = &mut c.task {
            p.p_a = 0.9;
            p.p_b = 0.9;
        }
        assert!(c.validate().unwrap_err().to_string().contains("p_a + p_b"));
    }

    #[test]
    fn link_errors_name_the_key() {
        let p = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let e = SpikeConfig::from_link_pairs(&p(&[("zz", "1")])).unwrap_err();
        assert_eq!(e.to_string(), "unknown link key \"zz\"");
        let e = SpikeConfig::from_link_pairs(&p(&[("n", "-3")])).unwrap_err();
        assert!(e.to_string().contains("\"n\"") && e.to_string().contains("non-negative integer"));
        let e = SpikeConfig::from_link_pairs(&p(&[("preset", "foo")])).unwrap_err();
        assert!(e.to_string().contains("izhikevich2003, reservoir, lif"));
        let e = SpikeConfig::from_link_pairs(&p(&[("pa", "0.5")])).unwrap_err();
        assert!(e.to_string().contains("task=what_when"), "{e}");
        let e = SpikeConfig::from_link_pairs(&p(&[("ro", "magic")])).unwrap_err();
        assert!(e.to_string().contains("three_factor, ridge or force"));
        let e = SpikeConfig::from_link_pairs(&p(&[("we", "NaN")])).unwrap_err();
        assert!(e.to_string().contains("finite"));
        // Validation runs after parsing.
        let e = SpikeConfig::from_link_pairs(&p(&[("n", "1")])).unwrap_err();
        assert!(e.to_string().contains("n must be between 2"));
        // Order of keys does not matter: task params before the task key.
        let c = SpikeConfig::from_link_pairs(&p(&[
            ("side", "5"),
            ("task", "bars"),
            ("preset", "reservoir"),
        ]))
        .unwrap();
        assert!(matches!(
            c.task,
            Some(TaskConfig::Bars(BarsParams { side: 5, .. }))
        ));
    }

    #[test]
    fn build_network_matches_the_paper_builder() {
        let c = SpikeConfig::izhikevich2003();
        assert_eq!(c.build_network(), Network::izhikevich2003(1));
        let r = SpikeConfig::reservoir().build_network();
        assert_eq!(r.n, 1000);
        assert!((r.n_synapses() as f64 - 99_900.0).abs() < 3000.0);
    }

    #[test]
    fn a_smaller_network_from_a_link_keeps_the_traced_neurons_that_exist() {
        let pairs: Vec<(String, String)> = [("preset", "izhikevich2003"), ("n", "300")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let c = SpikeConfig::from_link_pairs(&pairs).unwrap();
        assert_eq!((c.n, c.trace_neurons.clone()), (300, vec![0, 1]));
        // Given explicitly, an out-of-range trace neuron is still an error naming it.
        let mut pairs = pairs;
        pairs.push(("tr".into(), "0,800".into()));
        assert!(SpikeConfig::from_link_pairs(&pairs)
            .unwrap_err()
            .to_string()
            .contains("800"));
    }
}
