//! `SpikeConfig`: everything that defines a run of the spiking lab (network, input, plasticity,
//! task, readout, duration), its presets, and its field table (short link keys, form, CLI flags,
//! limits: every field, exact round trip), its rules and its memory/time estimate.

use crate::network::{LifParams, Network, NeuronModel, SparseSpec, DEFAULT_LIF};
use crate::plasticity::{HomeostasisKind, HomeostasisParams, PlasticityParams, StdpParams};
use crate::readout::{
    Consolidation, ForceParams, ReadoutConfig, RidgeParams, ThreeFactorParams, MAX_FORCE_INPUTS,
    MAX_RIDGE_INPUTS,
};
use crate::task::InputMap;
use crate::task::{BarsParams, BarsTarget, SeriesParams, Signal, TaskConfig, WhatWhenParams};
use neurolab_base::budget::{f32s, Estimate};
use neurolab_base::field::Field;
use neurolab_base::{ConfigError, LabConfig, Position, Preset};
use serde::{Deserialize, Serialize};

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

    pub fn preset(name: &str) -> Result<SpikeConfig, ConfigError> {
        match name {
            "izhikevich2003" => Ok(SpikeConfig::izhikevich2003()),
            "reservoir" => Ok(SpikeConfig::reservoir()),
            "lif" => Ok(SpikeConfig::lif()),
            _ => Err(ConfigError::bad_value(
                "preset",
                name,
                "one of izhikevich2003, reservoir, lif",
            )),
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
    /// Homeostasis and STDP parameters with the defaults of `plasticity.rs`.
    pub fn default_plasticity() -> PlasticityParams {
        PlasticityParams {
            stdp: StdpParams::default(),
            homeostasis: HomeostasisParams::default(),
        }
    }

    /// Neurons of the readout's input (every neuron of the reservoir).
    fn readout_inputs(&self) -> u64 {
        self.n as u64
    }
}

type F = Field<SpikeConfig>;

fn f32_list(values: &[f32], sep: &str) -> String {
    values
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

/// A numeric parameter of one task kind: `task_f32!(WhatWhen, "tt", "trial (ms)", trial_ms,
/// 1e6, "task=what_when")` applies only with that task.
macro_rules! task_f32 {
    ($variant:ident, $key:literal, $label:literal, $field:ident, $max:expr, $needs:literal) => {
        F::f32(
            $key,
            $label,
            "task",
            0.0,
            $max,
            |c| match &c.task {
                Some(TaskConfig::$variant(p)) => p.$field,
                _ => 0.0,
            },
            |c, v| {
                if let Some(TaskConfig::$variant(p)) = &mut c.task {
                    p.$field = v
                }
            },
        )
        .when(|c| matches!(c.task, Some(TaskConfig::$variant(_))), $needs)
    };
}

/// A Mackey–Glass parameter.
macro_rules! mackey_glass {
    ($key:literal, $label:literal, $field:ident) => {
        F::f32(
            $key,
            $label,
            "task",
            0.0,
            1e4,
            |c| match &c.task {
                Some(TaskConfig::Series(SeriesParams {
                    signal: Signal::MackeyGlass { $field, .. },
                    ..
                })) => *$field,
                _ => 0.0,
            },
            |c, v| {
                if let Some(TaskConfig::Series(SeriesParams {
                    signal: Signal::MackeyGlass { $field, .. },
                    ..
                })) = &mut c.task
                {
                    *$field = v
                }
            },
        )
        .when(
            |c| {
                matches!(
                    c.task,
                    Some(TaskConfig::Series(SeriesParams {
                        signal: Signal::MackeyGlass { .. },
                        ..
                    }))
                )
            },
            "sig=mg",
        )
    };
}

/// The input map of whichever task there is.
fn input_map(c: &SpikeConfig) -> Option<&InputMap> {
    match &c.task {
        Some(TaskConfig::WhatWhen(p)) => Some(&p.input),
        Some(TaskConfig::Bars(p)) => Some(&p.input),
        Some(TaskConfig::Series(p)) => Some(&p.input),
        None => None,
    }
}

fn input_map_mut(c: &mut SpikeConfig) -> Option<&mut InputMap> {
    match &mut c.task {
        Some(TaskConfig::WhatWhen(p)) => Some(&mut p.input),
        Some(TaskConfig::Bars(p)) => Some(&mut p.input),
        Some(TaskConfig::Series(p)) => Some(&mut p.input),
        None => None,
    }
}

const HAS_TASK: fn(&SpikeConfig) -> bool = |c| c.task.is_some();
const IS_LIF: fn(&SpikeConfig) -> bool = |c| c.model == NeuronModel::Lif;
const STDP_ON: fn(&SpikeConfig) -> bool = |c| c.plasticity.stdp.enabled;
const HOMEOSTASIS_ON: fn(&SpikeConfig) -> bool =
    |c| c.plasticity.homeostasis.kind != HomeostasisKind::Off;

/// A three-factor readout parameter.
macro_rules! three_factor {
    ($key:literal, $label:literal, $field:ident, $max:expr) => {
        F::f32(
            $key,
            $label,
            "readout",
            0.0,
            $max,
            |c| match &c.readout {
                ReadoutConfig::ThreeFactor(p) => p.$field,
                _ => 0.0,
            },
            |c, v| {
                if let ReadoutConfig::ThreeFactor(p) = &mut c.readout {
                    p.$field = v
                }
            },
        )
        .when(
            |c| matches!(c.readout, ReadoutConfig::ThreeFactor(_)),
            "ro=three_factor",
        )
    };
}

/// The spiking lab's field table, in the order of the links' keys.
static FIELDS: &[F] = &[
    F::choice("preset", "preset", "run", &PRESETS, |c| match c.preset.as_str() {
        "reservoir" => "reservoir",
        "lif" => "lif",
        _ => "izhikevich2003",
    }, |c, v| {
        if let Ok(p) = SpikeConfig::preset(v) {
            *c = p;
        }
    })
    .preset()
    .not_in_form()
    .help("the network every other key starts from"),
    F::choice("eng", "engine", "run", &["cpu", "gpu"], |c| match c.engine {
        Engine::Cpu => "cpu",
        Engine::Gpu => "gpu",
    }, |c, v| c.engine = if v == "gpu" { Engine::Gpu } else { Engine::Cpu })
    .help("cpu: the CPU engine (any config); gpu: the WGSL engine (fixed networks, up to 100000 neurons)"),
    F::choice("model", "neuron model", "network", &["izh", "lif"], |c| match c.model {
        NeuronModel::Izhikevich => "izh",
        NeuronModel::Lif => "lif",
    }, |c, v| c.model = if v == "lif" { NeuronModel::Lif } else { NeuronModel::Izhikevich })
    .structural(),
    F::usize("n", "neurons", "network", 2, MAX_NEURONS_GPU as u32, |c| c.n, |c, v| c.n = v),
    F::f32("ef", "excitatory fraction", "network", 0.0, 1.0, |c| c.exc_frac, |c, v| c.exc_frac = v),
    F::flag("dense", "all-to-all", "network", |c| c.dense, |c, v| c.dense = v)
        .help("all-to-all including self-connections (the 2003 paper) instead of p_conn"),
    F::f32("pc", "connection prob.", "network", 0.0, 1.0, |c| c.p_conn, |c, v| c.p_conn = v),
    F::f32("we", "exc. weight scale", "network", 0.0, 1000.0, |c| c.w_exc, |c, v| c.w_exc = v),
    F::f32("wi", "inh. weight scale", "network", 0.0, 1000.0, |c| c.w_inh, |c, v| c.w_inh = v),
    F::f32("mix", "neuron type mix", "network", 0.0, 1.0, |c| c.type_mix, |c, v| c.type_mix = v),
    F::f32("het", "heterogeneity", "network", 0.0, 0.9, |c| c.heterogeneity, |c, v| c.heterogeneity = v),
    F::f32("dt", "dt (ms)", "network", 0.01, 2.0, |c| c.dt_ms, |c, v| c.dt_ms = v),
    F::f32("nse", "noise, exc.", "network", 0.0, 1000.0, |c| c.noise_exc, |c, v| c.noise_exc = v),
    F::f32("nsi", "noise, inh.", "network", 0.0, 1000.0, |c| c.noise_inh, |c, v| c.noise_inh = v),
    F::f32("drv", "drive current", "network", -1000.0, 1000.0, |c| c.drive, |c, v| c.drive = v),
    F::f32("ltm", "LIF τ_m (ms)", "neurons", 0.1, 1000.0, |c| c.lif.tau_m_ms, |c, v| c.lif.tau_m_ms = v).shown_when(IS_LIF),
    F::f32("lts", "LIF τ_syn (ms)", "neurons", 0.1, 1000.0, |c| c.lif.tau_syn_ms, |c, v| c.lif.tau_syn_ms = v).shown_when(IS_LIF),
    F::f32("lvr", "LIF v_rest (mV)", "neurons", -200.0, 100.0, |c| c.lif.v_rest_mv, |c, v| c.lif.v_rest_mv = v).shown_when(IS_LIF),
    F::f32("lvs", "LIF v_reset (mV)", "neurons", -200.0, 100.0, |c| c.lif.v_reset_mv, |c, v| c.lif.v_reset_mv = v).shown_when(IS_LIF),
    F::f32("lvt", "LIF v_th (mV)", "neurons", -200.0, 100.0, |c| c.lif.v_th_mv, |c, v| c.lif.v_th_mv = v).shown_when(IS_LIF),
    F::f32("ltr", "LIF refractory (ms)", "neurons", 0.0, 100.0, |c| c.lif.t_ref_ms, |c, v| c.lif.t_ref_ms = v).shown_when(IS_LIF),
    F::f32("lrm", "LIF R_m", "neurons", 0.0, 1000.0, |c| c.lif.r_m, |c, v| c.lif.r_m = v).shown_when(IS_LIF),
    F::u64("seed", "seed", "run", 0, u64::MAX, |c| c.seed, |c, v| c.seed = v),
    F::flag("stdp", "STDP", "plasticity", |c| c.plasticity.stdp.enabled, |c, v| c.plasticity.stdp.enabled = v),
    F::f32("ap", "STDP A+", "plasticity", 0.0, 10.0, |c| c.plasticity.stdp.a_plus, |c, v| c.plasticity.stdp.a_plus = v).shown_when(STDP_ON),
    F::f32("am", "STDP A−", "plasticity", 0.0, 10.0, |c| c.plasticity.stdp.a_minus, |c, v| c.plasticity.stdp.a_minus = v).shown_when(STDP_ON),
    F::f32("tp", "STDP τ+ (ms)", "plasticity", 0.1, 1000.0, |c| c.plasticity.stdp.tau_plus_ms, |c, v| c.plasticity.stdp.tau_plus_ms = v).shown_when(STDP_ON),
    F::f32("tmn", "STDP τ− (ms)", "plasticity", 0.1, 1000.0, |c| c.plasticity.stdp.tau_minus_ms, |c, v| c.plasticity.stdp.tau_minus_ms = v).shown_when(STDP_ON),
    F::f32("wmax", "w max", "plasticity", 0.0, 1000.0, |c| c.plasticity.stdp.w_max, |c, v| c.plasticity.stdp.w_max = v).shown_when(STDP_ON),
    F::choice("hom", "homeostasis", "plasticity", &["off", "scaling", "intrinsic", "both"], |c| c.plasticity.homeostasis.kind.name(), |c, v| {
        if let Some(k) = HomeostasisKind::from_name(v) {
            c.plasticity.homeostasis.kind = k;
        }
    }),
    F::f32("hr", "target rate (Hz)", "plasticity", 0.01, 500.0, |c| c.plasticity.homeostasis.target_rate_hz, |c, v| c.plasticity.homeostasis.target_rate_hz = v).shown_when(HOMEOSTASIS_ON),
    F::f32("htau", "rate τ (ms)", "plasticity", 1.0, 1e6, |c| c.plasticity.homeostasis.tau_rate_ms, |c, v| c.plasticity.homeostasis.tau_rate_ms = v).shown_when(HOMEOSTASIS_ON),
    F::f32("hsc", "scaling rate", "plasticity", 0.0, 100.0, |c| c.plasticity.homeostasis.scaling_per_s, |c, v| c.plasticity.homeostasis.scaling_per_s = v).shown_when(HOMEOSTASIS_ON),
    F::f32("hper", "scaling period (ms)", "plasticity", 1.0, 1e5, |c| c.plasticity.homeostasis.scaling_period_ms, |c, v| c.plasticity.homeostasis.scaling_period_ms = v).shown_when(HOMEOSTASIS_ON),
    F::f32("hip", "threshold rate", "plasticity", 0.0, 100.0, |c| c.plasticity.homeostasis.intrinsic_per_s, |c, v| c.plasticity.homeostasis.intrinsic_per_s = v).shown_when(HOMEOSTASIS_ON),
    F::f32("hmax", "max bias", "plasticity", 0.0, 1000.0, |c| c.plasticity.homeostasis.max_bias, |c, v| c.plasticity.homeostasis.max_bias = v).shown_when(HOMEOSTASIS_ON),
    F::f32("rtau", "readout trace τ (ms)", "readout", 0.1, 10_000.0, |c| c.readout_tau_ms, |c, v| c.readout_tau_ms = v),
    F::text("tr", "traced neurons", "run", "neuron indices joined by '.' (at most 4)", |c| {
        c.trace_neurons.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(".")
    }, |c, v| {
        let list: Vec<u32> = if v.is_empty() {
            Vec::new()
        } else {
            v.split('.')
                .map(|s| s.trim().parse::<u32>())
                .collect::<Result<_, _>>()
                .map_err(|_| "neuron indices joined by '.'".to_string())?
        };
        if list.len() > MAX_TRACE_NEURONS {
            return Err(format!("at most {MAX_TRACE_NEURONS} neuron indices joined by '.'"));
        }
        c.trace_neurons = list;
        Ok(())
    })
    .follows(&["n", "preset"]),
    F::u32("dur", "duration (ms)", "run", 1, MAX_DURATION_MS, |c| c.duration_ms, |c, v| c.duration_ms = v),
    F::choice("task", "task", "task", &["none", "what_when", "bars", "series"], |c| match &c.task {
        None => "none",
        Some(t) => t.kind_name(),
    }, |c, v| {
        if c.task.as_ref().map_or("none", TaskConfig::kind_name) == v {
            return;
        }
        c.task = match v {
            "what_when" => Some(TaskConfig::WhatWhen(WhatWhenParams::default())),
            "bars" => Some(TaskConfig::Bars(BarsParams::default())),
            "series" => Some(TaskConfig::Series(SeriesParams::default())),
            _ => None,
        }
    })
    .structural(),
    task_f32!(WhatWhen, "tt", "trial (ms)", trial_ms, 1e6, "task=what_when"),
    task_f32!(WhatWhen, "cue", "cue (ms)", cue_ms, 1e6, "task=what_when"),
    task_f32!(WhatWhen, "stim", "stimulus (ms)", stim_ms, 1e6, "task=what_when"),
    task_f32!(WhatWhen, "da", "delay A (ms)", delay_a_ms, 1e6, "task=what_when"),
    task_f32!(WhatWhen, "db", "delay B (ms)", delay_b_ms, 1e6, "task=what_when"),
    task_f32!(WhatWhen, "pa", "p(A)", p_a, 1.0, "task=what_when"),
    task_f32!(WhatWhen, "pb", "p(B)", p_b, 1.0, "task=what_when"),
    task_f32!(WhatWhen, "tw", "target width (ms)", width_ms, 1e6, "task=what_when"),
    task_f32!(WhatWhen, "go", "gate outside", gate_outside, 1.0, "task=what_when"),
    F::u32("side", "image side", "task", 2, 8,
        |c| match &c.task { Some(TaskConfig::Bars(p)) => p.side, _ => 2 },
        |c, v| if let Some(TaskConfig::Bars(p)) = &mut c.task { p.side = v })
    .when(|c| matches!(c.task, Some(TaskConfig::Bars(_))), "task=bars"),
    task_f32!(Bars, "bp", "present (ms)", present_ms, 1e6, "task=bars"),
    task_f32!(Bars, "bg", "gap (ms)", gap_ms, 1e6, "task=bars"),
    task_f32!(Bars, "bs", "settle (ms)", settle_ms, 1e6, "task=bars"),
    F::choice("bt", "target", "task", &["class", "pattern"],
        |c| match &c.task { Some(TaskConfig::Bars(BarsParams { target: BarsTarget::Pattern, .. })) => "pattern", _ => "class" },
        |c, v| if let Some(TaskConfig::Bars(p)) = &mut c.task {
            p.target = if v == "pattern" { BarsTarget::Pattern } else { BarsTarget::Class };
        })
    .when(|c| matches!(c.task, Some(TaskConfig::Bars(_))), "task=bars"),
    F::choice("sig", "signal", "task", &["mg", "sines"],
        |c| match &c.task { Some(TaskConfig::Series(SeriesParams { signal: Signal::Sines { .. }, .. })) => "sines", _ => "mg" },
        |c, v| if let Some(TaskConfig::Series(p)) = &mut c.task {
            match (v, &p.signal) {
                ("mg", Signal::MackeyGlass { .. }) | ("sines", Signal::Sines { .. }) => {}
                ("sines", _) => p.signal = Signal::Sines { periods_ms: vec![100.0, 270.0] },
                _ => p.signal = Signal::MackeyGlass { tau: 17.0, ms_per_unit: 10.0 },
            }
        })
    .structural()
    .when(|c| matches!(c.task, Some(TaskConfig::Series(_))), "task=series"),
    mackey_glass!("mgt", "Mackey–Glass τ", tau),
    mackey_glass!("mgu", "ms per unit", ms_per_unit),
    F::text("per", "periods (ms)", "task", "periods in ms joined by '_'",
        |c| match &c.task {
            Some(TaskConfig::Series(SeriesParams { signal: Signal::Sines { periods_ms }, .. })) => f32_list(periods_ms, "_"),
            _ => String::new(),
        },
        |c, v| {
            let periods: Vec<f32> = v
                .split('_')
                .map(|s| s.trim().parse::<f32>().ok().filter(|x| x.is_finite()))
                .collect::<Option<_>>()
                .ok_or_else(|| "finite periods in ms joined by '_'".to_string())?;
            if let Some(TaskConfig::Series(SeriesParams { signal: Signal::Sines { periods_ms }, .. })) = &mut c.task {
                *periods_ms = periods;
            }
            Ok(())
        })
    .when(|c| matches!(c.task, Some(TaskConfig::Series(SeriesParams { signal: Signal::Sines { .. }, .. }))), "sig=sines"),
    task_f32!(Series, "hzn", "horizon (ms)", horizon_ms, 1e7, "task=series"),
    task_f32!(Series, "rep", "report every (ms)", report_every_ms, 1e7, "task=series"),
    F::u32("if0", "first input neuron", "task", 0, MAX_NEURONS_GPU as u32,
        |c| input_map(c).map_or(0, |m| m.first_neuron),
        |c, v| if let Some(m) = input_map_mut(c) { m.first_neuron = v })
    .when(HAS_TASK, "a task"),
    F::u32("igs", "input group size", "task", 1, 100_000,
        |c| input_map(c).map_or(1, |m| m.group_size),
        |c, v| if let Some(m) = input_map_mut(c) { m.group_size = v })
    .when(HAS_TASK, "a task"),
    F::f32("iamp", "input current", "task", -1000.0, 1000.0,
        |c| input_map(c).map_or(0.0, |m| m.amp),
        |c, v| if let Some(m) = input_map_mut(c) { m.amp = v })
    .when(HAS_TASK, "a task"),
    F::choice("ro", "readout", "readout", &["three_factor", "ridge", "force"], |c| c.readout.kind_name(), |c, v| {
        if c.readout.kind_name() != v {
            c.readout = match v {
                "ridge" => ReadoutConfig::Ridge(RidgeParams::default()),
                "force" => ReadoutConfig::Force(ForceParams::default()),
                _ => ReadoutConfig::ThreeFactor(ThreeFactorParams::default()),
            }
        }
    })
    .structural(),
    three_factor!("eta", "learning rate η", eta, 10.0),
    F::flag("norm", "normalise η",  "readout",
        |c| matches!(&c.readout, ReadoutConfig::ThreeFactor(p) if p.normalize),
        |c, v| if let ReadoutConfig::ThreeFactor(p) = &mut c.readout { p.normalize = v })
    .when(|c| matches!(c.readout, ReadoutConfig::ThreeFactor(_)), "ro=three_factor"),
    three_factor!("wd", "weight decay", weight_decay, 1.0),
    three_factor!("tel", "eligibility τ (ms)", tau_elig_ms, 100_000.0),
    F::choice("cons", "consolidation", "readout", &["online", "deferred"],
        |c| match &c.readout { ReadoutConfig::ThreeFactor(ThreeFactorParams { consolidation: Consolidation::Deferred, .. }) => "deferred", _ => "online" },
        |c, v| if let ReadoutConfig::ThreeFactor(p) = &mut c.readout {
            p.consolidation = if v == "deferred" { Consolidation::Deferred } else { Consolidation::Online };
        })
    .when(|c| matches!(c.readout, ReadoutConfig::ThreeFactor(_)), "ro=three_factor"),
    F::f32("lam", "ridge λ", "readout", 0.0, 1e9,
        |c| match &c.readout { ReadoutConfig::Ridge(p) => p.lambda, _ => 0.0 },
        |c, v| if let ReadoutConfig::Ridge(p) = &mut c.readout { p.lambda = v })
    .when(|c| matches!(c.readout, ReadoutConfig::Ridge(_)), "ro=ridge"),
    F::u32("se", "sample every", "readout", 1, 1_000_000,
        |c| match &c.readout { ReadoutConfig::Ridge(p) => p.sample_every, _ => 1 },
        |c, v| if let ReadoutConfig::Ridge(p) = &mut c.readout { p.sample_every = v })
    .when(|c| matches!(c.readout, ReadoutConfig::Ridge(_)), "ro=ridge"),
    F::f32("alpha", "FORCE α", "readout", 1e-6, 1e6,
        |c| match &c.readout { ReadoutConfig::Force(p) => p.alpha, _ => 1.0 },
        |c, v| if let ReadoutConfig::Force(p) = &mut c.readout { p.alpha = v })
    .when(|c| matches!(c.readout, ReadoutConfig::Force(_)), "ro=force"),
    F::u32("ue", "update every", "readout", 1, 1_000_000,
        |c| match &c.readout { ReadoutConfig::Force(p) => p.update_every, _ => 1 },
        |c, v| if let ReadoutConfig::Force(p) = &mut c.readout { p.update_every = v })
    .when(|c| matches!(c.readout, ReadoutConfig::Force(_)), "ro=force"),
];

impl LabConfig for SpikeConfig {
    const LAB: &'static str = "spiking";

    fn fields() -> &'static [Field<Self>] {
        FIELDS
    }

    fn presets() -> Vec<Preset<Self>> {
        vec![
            Preset {
                name: "izhikevich2003",
                label: "Izhikevich 2003 (1000 neurons, all-to-all)",
                config: SpikeConfig::izhikevich2003(),
            },
            Preset {
                name: "reservoir",
                label: "sparse reservoir + what/when task",
                config: SpikeConfig::reservoir(),
            },
            Preset {
                name: "lif",
                label: "LIF network",
                config: SpikeConfig::lif(),
            },
        ]
    }

    /// Rules across fields: the engine's size limit, dense networks, synapses, LIF voltages,
    /// traced neurons, and the task's and readout's own limits.
    fn check(&self) -> Result<(), ConfigError> {
        let range = |key, label, v: f64, lo: f64, hi: f64| {
            neurolab_base::error::check_range(key, label, v, lo, hi)
        };
        range(
            "n",
            "neurons",
            self.n as f64,
            2.0,
            self.max_neurons() as f64,
        )?;
        if self.dense {
            range(
                "n",
                "neurons (dense)",
                self.n as f64,
                2.0,
                MAX_NEURONS_DENSE as f64,
            )?;
        }
        let syn = self.expected_synapses();
        if syn > MAX_SYNAPSES {
            return Err(ConfigError::rule(
                "pc",
                format!("the network would have about {syn} synapses, more than the limit of {MAX_SYNAPSES} (lower n or p_conn)"),
            ));
        }
        if self.lif.v_reset_mv > self.lif.v_th_mv {
            return Err(ConfigError::rule(
                "lvs",
                format!(
                    "the LIF reset ({} mV) must not be above the threshold ({} mV)",
                    self.lif.v_reset_mv, self.lif.v_th_mv
                ),
            ));
        }
        if let Some(&neuron) = self.trace_neurons.iter().find(|&&i| i as usize >= self.n) {
            return Err(ConfigError::rule(
                "tr",
                format!(
                    "trace neuron {neuron} is out of range: the network has {} neurons",
                    self.n
                ),
            ));
        }
        if self.trace_neurons.len() > MAX_TRACE_NEURONS {
            return Err(ConfigError::rule(
                "tr",
                format!(
                    "at most {MAX_TRACE_NEURONS} trace neurons, got {}",
                    self.trace_neurons.len()
                ),
            ));
        }
        let spike_error = |e: crate::error::SpikeError| match e {
            crate::error::SpikeError::Config(c) => c,
            other => ConfigError::rule("task", other.to_string()),
        };
        if let Some(task) = &self.task {
            task.validate(self.n, self.dt_ms).map_err(spike_error)?;
            self.readout
                .validate(self.n, task.n_outputs())
                .map_err(spike_error)?;
        }
        Ok(())
    }

    /// Synapses (CSR and CSC: 16 bytes each, plus STDP traces), per-neuron state, the readout's
    /// weights and solver state; per simulated ms, every neuron's update and, at worst, every
    /// synapse's event.
    fn estimate(&self) -> Estimate {
        let n = self.n as u64;
        let syn = self.expected_synapses();
        let stdp = if self.plasticity.stdp.enabled { 4 } else { 0 };
        let mut bytes = syn.saturating_mul(16 + stdp) + f32s(n * 32);
        let mut readout_flops = 0.0;
        if let Some(task) = &self.task {
            let outs = task.n_outputs() as u64;
            let m = self.readout_inputs() + 1;
            match &self.readout {
                ReadoutConfig::ThreeFactor(_) => {
                    bytes += f32s(4 * outs * m);
                    readout_flops = (6 * outs * m) as f64;
                }
                ReadoutConfig::Ridge(_) => {
                    let m = m.min(MAX_RIDGE_INPUTS as u64 + 1);
                    // Gram matrix, its Cholesky copy and the stored samples, in f64.
                    bytes += 8 * (3 * m * m + 2 * m * outs);
                    // A refit solves the m×m system in one step.
                    readout_flops = (m * m * m) as f64 / 3.0;
                }
                ReadoutConfig::Force(_) => {
                    let m = m.min(MAX_FORCE_INPUTS as u64 + 1);
                    bytes += 8 * (2 * m * m);
                    readout_flops = (4 * m * m) as f64;
                }
            }
        }
        let steps_per_ms = 1.0 / f64::from(self.dt_ms.max(0.01));
        let unit_work = steps_per_ms * (30.0 * n as f64 + syn as f64) + readout_flops;
        Estimate {
            bytes: bytes + (8 << 20),
            largest_buffer: syn.saturating_mul(4 + stdp),
            unit_work,
            what: "this network",
            hint: "lower n or p_conn, or use the three-factor readout",
        }
    }

    fn after_pairs(&mut self, given: &[&str]) {
        if !given.contains(&"tr") {
            // The preset's traced neurons follow a smaller network: keep those that exist.
            let n = self.n as u32;
            self.trace_neurons.retain(|&i| i < n);
            if self.trace_neurons.is_empty() {
                self.trace_neurons.push(0);
            }
        }
    }

    fn plan(&self) -> Position {
        Position::ms(0.0, f64::from(self.duration_ms))
    }

    fn step_units(&self) -> f64 {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurolab_base::field::{from_pairs, to_pairs};

    fn owned(p: Vec<(&'static str, String)>) -> Vec<(String, String)> {
        p.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn presets_validate_and_round_trip() {
        for name in PRESETS {
            let c = SpikeConfig::preset(name).unwrap();
            c.validate().unwrap();
            let back = from_pairs::<SpikeConfig>(&owned(to_pairs(&c))).unwrap();
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
                let back = from_pairs::<SpikeConfig>(&owned(to_pairs(&c))).unwrap();
                assert_eq!(back, c);
            }
        }
    }

    #[test]
    fn validation_messages_name_the_limits() {
        let mut c = SpikeConfig::reservoir();
        c.n = 50_000;
        let e = c.validate().unwrap_err().to_string();
        assert_eq!(e, "neurons (n) must be between 2 and 20000, got 50000");
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
            .contains("neurons (dense) (n) must be between 2 and 3000"));
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
            .starts_with("dt (ms) (dt) must be between 0.01 and 2"));
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
        let e = from_pairs::<SpikeConfig>(&p(&[("zz", "1")])).unwrap_err();
        assert_eq!(e.to_string(), "unknown spiking link parameter 'zz'");
        let e = from_pairs::<SpikeConfig>(&p(&[("n", "-3")])).unwrap_err();
        assert!(
            e.to_string().contains("'n'") && e.to_string().contains("a whole number"),
            "{e}"
        );
        let e = from_pairs::<SpikeConfig>(&p(&[("preset", "foo")])).unwrap_err();
        assert!(e.to_string().contains("izhikevich2003, reservoir, lif"));
        let e = from_pairs::<SpikeConfig>(&p(&[("pa", "0.5")])).unwrap_err();
        assert!(e.to_string().contains("task=what_when"), "{e}");
        let e = from_pairs::<SpikeConfig>(&p(&[("ro", "magic")])).unwrap_err();
        assert!(e.to_string().contains("three_factor, ridge, force"), "{e}");
        let e = from_pairs::<SpikeConfig>(&p(&[("we", "NaN")])).unwrap_err();
        assert!(e.to_string().contains("finite"));
        // Validation runs after parsing.
        let e = from_pairs::<SpikeConfig>(&p(&[("n", "1")])).unwrap_err();
        assert!(
            e.to_string().contains("neurons (n) must be between 2"),
            "{e}"
        );
        // Order of keys does not matter: task params before the task key.
        let c = from_pairs::<SpikeConfig>(&p(&[
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
        let c = from_pairs::<SpikeConfig>(&pairs).unwrap();
        assert_eq!((c.n, c.trace_neurons.clone()), (300, vec![0, 1]));
        // Given explicitly, an out-of-range trace neuron is still an error naming it.
        let mut pairs = pairs;
        pairs.push(("tr".into(), "0,800".into()));
        assert!(from_pairs::<SpikeConfig>(&pairs)
            .unwrap_err()
            .to_string()
            .contains("800"));
    }
}
