//! Tasks for the reservoir lab: what each step injects into the reservoir (input currents to
//! groups of neurons), what the readouts should output (targets), where learning attends (the
//! gate), and a per-trial error report.
//!
//! - **What/when** (Yamada & Chao 2025): each trial starts with a cue; then stimulus A (with
//!   probability `p_a`) at `delay_a_ms`, or B (`p_b`) at `delay_b_ms`, or nothing. Outputs:
//!   `[when, what_a, what_b]`. Their targets are bumps (raised cosine, half-width `width_ms`)
//!   centred on the onset of the stimulus that occurs in this trial — so a readout that sees only
//!   the pre-onset reservoir state learns the *expected* target: `what_x` peaks at `p_x` at
//!   `delay_x`, `when` at P(a stimulus at that time). The gate is 1 inside the attended windows
//!   around the expected onsets and `gate_outside` elsewhere. New parameters (a switch of delay or
//!   probability) take effect at the next trial start.
//! - **Bars and stripes** (as in Gros & Kaczor 2009, "Semantic learning in autonomously active
//!   recurrent networks"): `side × side` binary images where a non-empty, non-full set of rows
//!   (bars, class 0) or columns (stripes, class 1) is on. Each pixel drives a group of neurons;
//!   the target is the one-hot class or the one-hot pattern identity.
//! - **Series**: Mackey–Glass or a sum of sines fed as a current; the target is the signal
//!   `horizon_ms` ahead.
//!
//! All randomness is a pure function of (seed, trial) through `noise::uniform`, so a task
//! replays identically however the simulation is chunked.

use crate::error::{check, rule, SpikeError};
use crate::noise;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Which neurons receive a task's input: group g is neurons
/// `first_neuron + g·group_size .. first_neuron + (g+1)·group_size`; an active group gets `amp`
/// (current units of the neuron model) on each of its neurons, added to whatever is there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputMap {
    pub first_neuron: u32,
    pub group_size: u32,
    pub amp: f32,
}

impl Default for InputMap {
    fn default() -> Self {
        Self {
            first_neuron: 0,
            group_size: 20,
            amp: 10.0,
        }
    }
}

impl InputMap {
    fn validate(&self, n_groups: usize, n_neurons: usize) -> Result<(), SpikeError> {
        check("group_size", self.group_size as f64, 1.0, 100_000.0)?;
        check("input amp", self.amp as f64, -1000.0, 1000.0)?;
        let end = self.first_neuron as u64 + self.group_size as u64 * n_groups as u64;
        if end > n_neurons as u64 {
            return Err(rule(
                "igs",
                format!(
                    "the task's input groups need neurons {}..{end} but the network has {n_neurons} neurons",
                    self.first_neuron
                ),
            ));
        }
        Ok(())
    }

    /// Adds `scale · amp` to every neuron of group `g` (out-of-range neurons skipped).
    fn drive(&self, g: usize, scale: f32, current: &mut [f32]) {
        let start = self.first_neuron as usize + g * self.group_size as usize;
        let end = (start + self.group_size as usize).min(current.len());
        if start >= end {
            return;
        }
        let v = scale * self.amp;
        for c in &mut current[start..end] {
            *c += v;
        }
    }
}

/// The what/when paradigm's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatWhenParams {
    pub trial_ms: f32,
    /// The cue (group 0) is on for `cue_ms` from the trial start.
    pub cue_ms: f32,
    /// Stimuli (group 1 = A, group 2 = B) are on for `stim_ms` from their onset.
    pub stim_ms: f32,
    pub delay_a_ms: f32,
    pub delay_b_ms: f32,
    pub p_a: f32,
    pub p_b: f32,
    /// Half-width of the target bump and of the attended window around each expected onset.
    pub width_ms: f32,
    /// Gate outside the attended windows (0 = learn only while attending).
    pub gate_outside: f32,
    pub input: InputMap,
}

impl Default for WhatWhenParams {
    fn default() -> Self {
        Self {
            trial_ms: 1000.0,
            cue_ms: 50.0,
            stim_ms: 50.0,
            delay_a_ms: 400.0,
            delay_b_ms: 400.0,
            p_a: 0.8,
            p_b: 0.2,
            width_ms: 60.0,
            gate_outside: 0.05,
            input: InputMap::default(),
        }
    }
}

/// What the bars-and-stripes readout should output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BarsTarget {
    /// Two outputs: [bars, stripes].
    #[default]
    Class,
    /// One output per pattern (2·(2^side − 2) outputs; side ≤ 5).
    Pattern,
}

/// Bars-and-stripes parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarsParams {
    /// Image side (2..=8); pixel p = row·side + col drives input group p.
    pub side: u32,
    /// Each pattern is shown for `present_ms`, then `gap_ms` of no input.
    pub present_ms: f32,
    pub gap_ms: f32,
    /// The gate opens `settle_ms` after the pattern onset (the reservoir's response settles) and
    /// stays open until the end of the presentation; closed in the gap.
    pub settle_ms: f32,
    pub target: BarsTarget,
    pub input: InputMap,
}

impl Default for BarsParams {
    fn default() -> Self {
        Self {
            side: 4,
            present_ms: 200.0,
            gap_ms: 100.0,
            settle_ms: 50.0,
            target: BarsTarget::Class,
            input: InputMap::default(),
        }
    }
}

/// The signal of the series task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// Mackey–Glass `x' = β x(t−τ)/(1 + x(t−τ)^10) − γ x` (β = 0.2, γ = 0.1), chaotic for
    /// τ = 17; one model time unit lasts `ms_per_unit` ms.
    MackeyGlass { tau: f32, ms_per_unit: f32 },
    /// Mean of `sin(2π t/P_i + φ_i)` with seeded phases φ_i.
    Sines { periods_ms: Vec<f32> },
}

/// Series-prediction parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesParams {
    pub signal: Signal,
    /// The target is the (normalised) signal this far ahead.
    pub horizon_ms: f32,
    /// Length of the stretches reported as "trials".
    pub report_every_ms: f32,
    /// Group 0 gets `amp·x`, group 1 gets `amp·(1 − x)`, x the signal normalised to ≈ [0, 1]
    /// (a push–pull code, so the total drive stays constant).
    pub input: InputMap,
}

impl Default for SeriesParams {
    fn default() -> Self {
        Self {
            signal: Signal::MackeyGlass {
                tau: 17.0,
                ms_per_unit: 10.0,
            },
            horizon_ms: 50.0,
            report_every_ms: 1000.0,
            input: InputMap::default(),
        }
    }
}

/// Which task and its parameters (crosses to the UI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskConfig {
    WhatWhen(WhatWhenParams),
    Bars(BarsParams),
    Series(SeriesParams),
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig::WhatWhen(WhatWhenParams::default())
    }
}

impl TaskConfig {
    pub fn kind_name(&self) -> &'static str {
        match self {
            TaskConfig::WhatWhen(_) => "what_when",
            TaskConfig::Bars(_) => "bars",
            TaskConfig::Series(_) => "series",
        }
    }

    /// Number of readout outputs this task asks for.
    pub fn n_outputs(&self) -> usize {
        match self {
            TaskConfig::WhatWhen(_) => 3,
            TaskConfig::Bars(p) => match p.target {
                BarsTarget::Class => 2,
                BarsTarget::Pattern => 2 * ((1usize << p.side.min(8)) - 2),
            },
            TaskConfig::Series(_) => 1,
        }
    }

    /// Number of input groups.
    pub fn n_groups(&self) -> usize {
        match self {
            TaskConfig::WhatWhen(_) => 3,
            TaskConfig::Bars(p) => (p.side.min(8) * p.side.min(8)) as usize,
            TaskConfig::Series(_) => 2,
        }
    }

    /// Checks the parameters against a network of `n_neurons` and step `dt_ms`.
    pub fn validate(&self, n_neurons: usize, dt_ms: f32) -> Result<(), SpikeError> {
        check("dt_ms", dt_ms as f64, 0.001, 10.0)?;
        match self {
            TaskConfig::WhatWhen(p) => {
                check("trial_ms", p.trial_ms as f64, 10.0, 1e6)?;
                let t = p.trial_ms as f64;
                check("cue_ms", p.cue_ms as f64, 0.0, t)?;
                check("stim_ms", p.stim_ms as f64, 0.0, t)?;
                check("delay_a_ms", p.delay_a_ms as f64, 0.0, t)?;
                check("delay_b_ms", p.delay_b_ms as f64, 0.0, t)?;
                check("p_a", p.p_a as f64, 0.0, 1.0)?;
                check("p_b", p.p_b as f64, 0.0, 1.0)?;
                if p.p_a + p.p_b > 1.0 + 1e-6 {
                    return Err(rule(
                        "pa",
                        format!("p_a + p_b must be at most 1, got {}", p.p_a + p.p_b),
                    ));
                }
                check("width_ms", p.width_ms as f64, dt_ms as f64, t)?;
                check("gate_outside", p.gate_outside as f64, 0.0, 1.0)?;
                p.input.validate(3, n_neurons)?;
            }
            TaskConfig::Bars(p) => {
                check("side", p.side as f64, 2.0, 8.0)?;
                if p.target == BarsTarget::Pattern {
                    check("side (pattern targets)", p.side as f64, 2.0, 5.0)?;
                }
                check("present_ms", p.present_ms as f64, dt_ms as f64, 1e6)?;
                check("gap_ms", p.gap_ms as f64, 0.0, 1e6)?;
                check("settle_ms", p.settle_ms as f64, 0.0, p.present_ms as f64)?;
                p.input.validate(self.n_groups(), n_neurons)?;
            }
            TaskConfig::Series(p) => {
                match &p.signal {
                    Signal::MackeyGlass { tau, ms_per_unit } => {
                        check("Mackey-Glass tau", *tau as f64, 1.0, 100.0)?;
                        check("ms_per_unit", *ms_per_unit as f64, 1.0, 1000.0)?;
                    }
                    Signal::Sines { periods_ms } => {
                        check("number of periods", periods_ms.len() as f64, 1.0, 16.0)?;
                        for &q in periods_ms {
                            check("period_ms", q as f64, 2.0, 1e6)?;
                        }
                    }
                }
                check("horizon_ms", p.horizon_ms as f64, 0.0, 10_000.0)?;
                check("report_every_ms", p.report_every_ms as f64, 10.0, 1e7)?;
                p.input.validate(2, n_neurons)?;
            }
        }
        Ok(())
    }
}

/// One finished trial (what/when, bars) or reporting stretch (series).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialReport {
    pub trial: u64,
    /// Simulated time at the end of the trial.
    pub end_ms: f64,
    /// Gate-weighted mean over steps and outputs of (y − target)².
    pub mse: f32,
    /// Gate-weighted mean of (y − expected target)²: against the target averaged over the
    /// trial's random outcome (what/when: p_x·bump), i.e. the error of the prediction itself.
    /// Equals `mse` for the deterministic tasks.
    pub pred_mse: f32,
    /// What/when: 0 = A, 1 = B, −1 = none; bars: class (Class target) or pattern id; series: −1.
    pub label: i32,
    /// Bars: did the argmax of the outputs averaged over the gated steps match? Else None.
    pub correct: Option<bool>,
    /// Per output: its mean over the scoring window. What/when: the `width_ms/2` before the
    /// expected onset (when: both onsets; what_x: onset of x) — the prediction before the
    /// stimulus is seen. Bars: the gated steps. Series: the whole stretch.
    pub window_mean: Vec<f32>,
    /// Per output: the time within the trial (ms) of its maximum.
    pub peak_ms: Vec<f32>,
}

/// The three what/when outputs.
pub const WHEN: usize = 0;
pub const WHAT_A: usize = 1;
pub const WHAT_B: usize = 2;

#[derive(Debug, Clone)]
struct Acc {
    se: f64,
    pse: f64,
    gsum: f64,
    win_sum: Vec<f64>,
    win_n: Vec<f64>,
    peak_v: Vec<f32>,
    peak_t: Vec<f32>,
}

impl Acc {
    fn new(k: usize) -> Self {
        Self {
            se: 0.0,
            pse: 0.0,
            gsum: 0.0,
            win_sum: vec![0.0; k],
            win_n: vec![0.0; k],
            peak_v: vec![f32::NEG_INFINITY; k],
            peak_t: vec![0.0; k],
        }
    }
}

#[derive(Debug, Clone)]
enum Kind {
    WhatWhen {
        p: WhatWhenParams,
        /// 0 = A, 1 = B, -1 = none, for the current trial.
        outcome: i32,
    },
    Bars {
        p: BarsParams,
        /// Class 0 = bars (rows), 1 = stripes (columns); mask over rows/columns in 1..2^side−1.
        class: u32,
        mask: u32,
    },
    Series {
        p: SeriesParams,
        gen: SeriesGen,
    },
}

/// A running task.
#[derive(Debug, Clone)]
pub struct Task {
    config: TaskConfig,
    pending: Option<TaskConfig>,
    kind: Kind,
    n_neurons: usize,
    dt_ms: f32,
    seed: u64,
    /// Current step and trial; `trial_start` is the step the trial began at.
    step: u64,
    trial: u64,
    trial_start: u64,
    started: bool,
    target: Vec<f32>,
    expected: Vec<f32>,
    gate: f32,
    acc: Acc,
}

impl Task {
    /// A task for a network of `n_neurons` stepped every `dt_ms`, seeded.
    pub fn new(
        config: &TaskConfig,
        n_neurons: usize,
        dt_ms: f32,
        seed: u64,
    ) -> Result<Self, SpikeError> {
        config.validate(n_neurons, dt_ms)?;
        let k = config.n_outputs();
        let kind = Self::make_kind(config, seed);
        let mut t = Self {
            config: config.clone(),
            pending: None,
            kind,
            n_neurons,
            dt_ms,
            seed,
            step: 0,
            trial: 0,
            trial_start: 0,
            started: false,
            target: vec![0.0; k],
            expected: vec![0.0; k],
            gate: 0.0,
            acc: Acc::new(k),
        };
        t.advance(0.0);
        Ok(t)
    }

    fn make_kind(config: &TaskConfig, seed: u64) -> Kind {
        match config {
            TaskConfig::WhatWhen(p) => Kind::WhatWhen {
                p: p.clone(),
                outcome: -1,
            },
            TaskConfig::Bars(p) => Kind::Bars {
                p: p.clone(),
                class: 0,
                mask: 1,
            },
            TaskConfig::Series(p) => Kind::Series {
                p: p.clone(),
                gen: SeriesGen::new(&p.signal, seed),
            },
        }
    }

    pub fn config(&self) -> &TaskConfig {
        &self.config
    }

    pub fn n_outputs(&self) -> usize {
        self.target.len()
    }

    /// The current trial index.
    pub fn trial(&self) -> u64 {
        self.trial
    }

    /// New parameters of the same task while it runs. What/when and bars: from the next trial
    /// start (a switch of delay or probabilities); series: now (the signal generator restarts
    /// only if the signal changed). The number of outputs must stay the same.
    pub fn set_params(&mut self, config: &TaskConfig) -> Result<(), SpikeError> {
        if config.kind_name() != self.config.kind_name() {
            return Err(SpikeError::KindMismatch {
                what: "task",
                old: self.config.kind_name(),
                new: config.kind_name(),
            });
        }
        config.validate(self.n_neurons, self.dt_ms)?;
        check(
            "n_outputs of the new parameters",
            config.n_outputs() as f64,
            self.n_outputs() as f64,
            self.n_outputs() as f64,
        )?;
        match (&mut self.kind, config) {
            (Kind::Series { p, gen }, TaskConfig::Series(q)) => {
                if p.signal != q.signal {
                    *gen = SeriesGen::new(&q.signal, self.seed);
                }
                *p = q.clone();
                self.config = config.clone();
            }
            _ => self.pending = Some(config.clone()),
        }
        Ok(())
    }

    fn steps(&self, ms: f32) -> u64 {
        ((ms / self.dt_ms).round() as u64).max(1)
    }

    fn trial_steps(&self) -> u64 {
        match &self.kind {
            Kind::WhatWhen { p, .. } => self.steps(p.trial_ms),
            Kind::Bars { p, .. } => self.steps(p.present_ms + p.gap_ms),
            Kind::Series { p, .. } => self.steps(p.report_every_ms),
        }
    }

    /// Moves the task to time `t_ms` (idempotent for the same time; time may only increase —
    /// an earlier time is treated as the current one). Starts new trials as needed.
    pub fn advance(&mut self, t_ms: f64) {
        let s = (t_ms / self.dt_ms as f64).round().max(0.0) as u64;
        if self.started && s <= self.step {
            return;
        }
        if !self.started {
            self.started = true;
            self.trial = 0;
            self.trial_start = 0;
            self.begin_trial();
        }
        self.step = s;
        while self.step >= self.trial_start + self.trial_steps() {
            self.trial_start += self.trial_steps();
            self.trial += 1;
            self.begin_trial();
        }
        self.compute_targets();
    }

    fn begin_trial(&mut self) {
        if let Some(c) = self.pending.take() {
            self.kind = Self::make_kind(&c, self.seed);
            self.config = c;
        }
        let u = noise::uniform(self.seed, self.trial as u32, (self.trial >> 32) as u32, 11);
        let u2 = noise::uniform(self.seed, self.trial as u32, (self.trial >> 32) as u32, 12);
        match &mut self.kind {
            Kind::WhatWhen { p, outcome } => {
                *outcome = if u < p.p_a {
                    0
                } else if u < p.p_a + p.p_b {
                    1
                } else {
                    -1
                };
            }
            Kind::Bars { p, class, mask } => {
                let n = (1u32 << p.side) - 2;
                *class = (u >= 0.5) as u32;
                *mask = 1 + ((u2 * n as f32) as u32).min(n - 1);
            }
            Kind::Series { .. } => {}
        }
        self.acc = Acc::new(self.target.len());
    }

    /// Time since the trial start (ms).
    fn phase_ms(&self) -> f32 {
        (self.step - self.trial_start) as f32 * self.dt_ms
    }

    fn compute_targets(&mut self) {
        let tau = self.phase_ms();
        let now_ms = self.step as f64 * self.dt_ms as f64;
        match &mut self.kind {
            Kind::WhatWhen { p, outcome } => {
                let ba = bump(tau, p.delay_a_ms, p.width_ms);
                let bb = bump(tau, p.delay_b_ms, p.width_ms);
                let (a, b) = match *outcome {
                    0 => (ba, 0.0),
                    1 => (0.0, bb),
                    _ => (0.0, 0.0),
                };
                self.target[WHAT_A] = a;
                self.target[WHAT_B] = b;
                self.target[WHEN] = a.max(b);
                self.expected[WHAT_A] = p.p_a * ba;
                self.expected[WHAT_B] = p.p_b * bb;
                // E[max(a, b)]: only one stimulus per trial, so this is p_a·ba + p_b·bb.
                self.expected[WHEN] = p.p_a * ba + p.p_b * bb;
                let attend = (tau - p.delay_a_ms).abs() < p.width_ms
                    || (tau - p.delay_b_ms).abs() < p.width_ms;
                self.gate = if attend { 1.0 } else { p.gate_outside };
            }
            Kind::Bars { p, class, mask } => {
                let on = tau < p.present_ms;
                self.gate = if on && tau >= p.settle_ms { 1.0 } else { 0.0 };
                self.target.iter_mut().for_each(|x| *x = 0.0);
                if on {
                    let idx = match p.target {
                        BarsTarget::Class => *class as usize,
                        BarsTarget::Pattern => {
                            (*class as usize) * ((1usize << p.side) - 2) + (*mask as usize - 1)
                        }
                    };
                    if let Some(x) = self.target.get_mut(idx) {
                        *x = 1.0;
                    }
                }
                self.expected.copy_from_slice(&self.target);
            }
            Kind::Series { p, gen } => {
                self.gate = 1.0;
                self.target[0] = gen.value(now_ms + p.horizon_ms as f64);
                self.expected[0] = self.target[0];
            }
        }
    }

    /// Adds this step's input current to `current` (length = the network's neurons).
    pub fn input(&mut self, t_ms: f64, current: &mut [f32]) {
        self.advance(t_ms);
        let tau = self.phase_ms();
        let now_ms = self.step as f64 * self.dt_ms as f64;
        match &mut self.kind {
            Kind::WhatWhen { p, outcome } => {
                if tau < p.cue_ms {
                    p.input.drive(0, 1.0, current);
                }
                let (onset, g) = match *outcome {
                    0 => (p.delay_a_ms, 1),
                    1 => (p.delay_b_ms, 2),
                    _ => return,
                };
                if tau >= onset && tau < onset + p.stim_ms {
                    p.input.drive(g, 1.0, current);
                }
            }
            Kind::Bars { p, class, mask } => {
                if tau >= p.present_ms {
                    return;
                }
                let side = p.side as usize;
                for r in 0..side {
                    for c in 0..side {
                        let line = if *class == 0 { r } else { c };
                        if (*mask >> line) & 1 == 1 {
                            p.input.drive(r * side + c, 1.0, current);
                        }
                    }
                }
            }
            Kind::Series { p, gen } => {
                let x = gen.value(now_ms);
                p.input.drive(0, x, current);
                p.input.drive(1, 1.0 - x, current);
            }
        }
    }

    /// The readout targets at `t_ms` (length n_outputs).
    pub fn target(&mut self, t_ms: f64) -> &[f32] {
        self.advance(t_ms);
        &self.target
    }

    /// The expected target at `t_ms` (averaged over the trial's random outcome): what an ideal
    /// predictor outputs before the stimulus.
    pub fn expected_target(&mut self, t_ms: f64) -> &[f32] {
        self.advance(t_ms);
        &self.expected
    }

    /// The attention gate at `t_ms` (0..=1).
    pub fn gate(&mut self, t_ms: f64) -> f32 {
        self.advance(t_ms);
        self.gate
    }

    /// Feeds the readout output `y` of the step at `t_ms`; returns the trial's report when this
    /// step was the trial's last (call the readout's `consolidate` then).
    pub fn observe(&mut self, t_ms: f64, y: &[f32]) -> Option<TrialReport> {
        self.advance(t_ms);
        let k = self.target.len();
        let g = self.gate as f64;
        let tau = self.phase_ms();
        for i in 0..k {
            let yi = y.get(i).copied().unwrap_or(0.0);
            let d = (yi - self.target[i]) as f64;
            let de = (yi - self.expected[i]) as f64;
            self.acc.se += g * d * d;
            self.acc.pse += g * de * de;
            if yi > self.acc.peak_v[i] {
                self.acc.peak_v[i] = yi;
                self.acc.peak_t[i] = tau;
            }
            let in_window = match &self.kind {
                Kind::WhatWhen { p, .. } => {
                    let pre = |d: f32| tau >= d - 0.5 * p.width_ms && tau < d;
                    match i {
                        WHAT_A => pre(p.delay_a_ms),
                        WHAT_B => pre(p.delay_b_ms),
                        _ => pre(p.delay_a_ms) || pre(p.delay_b_ms),
                    }
                }
                Kind::Bars { .. } => self.gate > 0.0,
                Kind::Series { .. } => true,
            };
            if in_window {
                self.acc.win_sum[i] += yi as f64;
                self.acc.win_n[i] += 1.0;
            }
        }
        self.acc.gsum += g;
        if self.step + 1 < self.trial_start + self.trial_steps() {
            return None;
        }
        let denom = (self.acc.gsum * k as f64).max(1e-12);
        let window_mean: Vec<f32> = (0..k)
            .map(|i| (self.acc.win_sum[i] / self.acc.win_n[i].max(1.0)) as f32)
            .collect();
        let (label, correct) = match &self.kind {
            Kind::WhatWhen { outcome, .. } => (*outcome, None),
            Kind::Bars { p, class, mask } => {
                let label = match p.target {
                    BarsTarget::Class => *class as i32,
                    BarsTarget::Pattern => {
                        (*class as i32) * ((1i32 << p.side) - 2) + (*mask as i32 - 1)
                    }
                };
                let best = window_mean
                    .iter()
                    .enumerate()
                    .fold((0usize, f32::NEG_INFINITY), |b, (i, &v)| {
                        if v > b.1 {
                            (i, v)
                        } else {
                            b
                        }
                    })
                    .0;
                (label, Some(best as i32 == label))
            }
            Kind::Series { .. } => (-1, None),
        };
        Some(TrialReport {
            trial: self.trial,
            end_ms: (self.step + 1) as f64 * self.dt_ms as f64,
            mse: (self.acc.se / denom) as f32,
            pred_mse: (self.acc.pse / denom) as f32,
            label,
            correct,
            window_mean,
            peak_ms: self.acc.peak_t.clone(),
        })
    }
}

/// A raised-cosine bump of height 1 at `centre`, zero beyond `half_width`.
fn bump(t: f32, centre: f32, half_width: f32) -> f32 {
    let x = (t - centre) / half_width;
    if x.abs() >= 1.0 {
        0.0
    } else {
        0.5 * (1.0 + (std::f32::consts::PI * x).cos())
    }
}

/// One bars-and-stripes image as `side × side` pixels (row-major, 0/1): class 0 = the rows in
/// `mask` on (bars), class 1 = the columns in `mask` on (stripes).
pub fn bars_image(side: u32, class: u32, mask: u32) -> Vec<u8> {
    let s = side as usize;
    let mut img = vec![0u8; s * s];
    for r in 0..s {
        for c in 0..s {
            let line = if class == 0 { r } else { c };
            img[r * s + c] = ((mask >> line) & 1) as u8;
        }
    }
    img
}

/// All bars-and-stripes images of a side, in pattern-id order (class-major, mask 1..2^side−2).
pub fn all_bars_patterns(side: u32) -> Vec<(u32, Vec<u8>)> {
    let n = (1u32 << side.min(16)) - 2;
    let mut out = Vec::new();
    for class in 0..2 {
        for mask in 1..=n {
            out.push((class, bars_image(side, class, mask)));
        }
    }
    out
}

/// Generates the series signal at 1 ms resolution, lazily, keeping only the history it needs.
#[derive(Debug, Clone)]
struct SeriesGen {
    signal: Signal,
    phases: Vec<f32>,
    /// Mackey–Glass samples (normalised), one per ms; buf[0] is at ms `start`.
    buf: VecDeque<f32>,
    start: u64,
    /// Raw MG state and its delayed history (in integration sub-steps).
    hist: VecDeque<f64>,
    x: f64,
    sub: u32,
    h: f64,
}

impl SeriesGen {
    fn new(signal: &Signal, seed: u64) -> Self {
        let mut g = Self {
            signal: signal.clone(),
            phases: Vec::new(),
            buf: VecDeque::new(),
            start: 0,
            hist: VecDeque::new(),
            x: 0.0,
            sub: 1,
            h: 0.1,
        };
        match signal {
            Signal::Sines { periods_ms } => {
                g.phases = (0..periods_ms.len() as u32)
                    .map(|i| std::f32::consts::TAU * noise::uniform(seed, 0, i, 21))
                    .collect();
            }
            Signal::MackeyGlass { tau, ms_per_unit } => {
                // Euler sub-steps of h ≤ 0.1 model units, an integer number per ms.
                let units_per_ms = 1.0 / *ms_per_unit as f64;
                g.sub = ((units_per_ms / 0.1).ceil() as u32).max(1);
                g.h = units_per_ms / g.sub as f64;
                let lag = ((*tau as f64) / g.h).round().max(1.0) as usize;
                // Seeded initial history around 1.2, then a 1000-unit transient is discarded.
                for i in 0..lag {
                    let u = noise::uniform(seed, 1, i as u32, 22) as f64;
                    g.hist.push_back(1.2 + 0.2 * (u - 0.5));
                }
                g.x = 1.2;
                let transient = (1000.0 / g.h) as usize;
                for _ in 0..transient {
                    g.mg_substep();
                }
            }
        }
        g
    }

    fn mg_substep(&mut self) {
        let xd = self.hist.pop_front().unwrap_or(self.x);
        let dx = 0.2 * xd / (1.0 + xd.powi(10)) - 0.1 * self.x;
        self.x += self.h * dx;
        self.hist.push_back(self.x);
    }

    /// The normalised signal (≈ 0..1) at `t_ms`.
    fn value(&mut self, t_ms: f64) -> f32 {
        match &self.signal {
            Signal::Sines { periods_ms } => {
                let n = periods_ms.len().max(1) as f32;
                let s: f32 = periods_ms
                    .iter()
                    .zip(&self.phases)
                    .map(|(p, ph)| {
                        (std::f64::consts::TAU * t_ms / *p as f64 + *ph as f64).sin() as f32
                    })
                    .sum::<f32>()
                    / n;
                0.5 + 0.5 * s
            }
            Signal::MackeyGlass { .. } => {
                let i = t_ms.max(0.0).floor() as u64;
                if i < self.start {
                    // Earlier than anything kept (time went back): the oldest sample.
                    return self.buf.front().copied().unwrap_or(0.5);
                }
                while self.start + (self.buf.len() as u64) <= i {
                    for _ in 0..self.sub {
                        self.mg_substep();
                    }
                    // MG with τ = 17 stays within ≈ [0.2, 1.4]: map that to [0, 1].
                    self.buf.push_back(((self.x - 0.2) / 1.2) as f32);
                }
                // Keep at most 20 s of samples behind the newest.
                while self.buf.len() > 20_000 {
                    self.buf.pop_front();
                    self.start += 1;
                }
                self.buf
                    .get((i - self.start) as usize)
                    .copied()
                    .unwrap_or(0.5)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_patterns_are_valid_and_balanced() {
        for side in 2..=5u32 {
            let pats = all_bars_patterns(side);
            let n = (1usize << side) - 2;
            assert_eq!(pats.len(), 2 * n);
            assert_eq!(pats.iter().filter(|(c, _)| *c == 0).count(), n);
            let s = side as usize;
            for (class, img) in &pats {
                let rows_const = (0..s).all(|r| (0..s).all(|c| img[r * s + c] == img[r * s]));
                let cols_const = (0..s).all(|c| (0..s).all(|r| img[r * s + c] == img[c]));
                let on = img.iter().filter(|&&p| p == 1).count();
                assert!(on > 0 && on < s * s, "empty or full image");
                // Non-empty, non-full: exactly one of rows/columns is constant.
                assert_eq!(rows_const, *class == 0);
                assert_eq!(cols_const, *class == 1);
            }
            // All distinct.
            for i in 0..pats.len() {
                for j in 0..i {
                    assert_ne!(pats[i].1, pats[j].1);
                }
            }
        }
    }

    #[test]
    fn bars_task_samples_balanced_classes() {
        let cfg = TaskConfig::Bars(BarsParams {
            present_ms: 10.0,
            gap_ms: 0.0,
            settle_ms: 0.0,
            ..Default::default()
        });
        let mut t = Task::new(&cfg, 400, 1.0, 3).unwrap();
        let mut counts = [0u32; 2];
        let mut cur = vec![0.0f32; 400];
        for trial in 0..2000u64 {
            let tm = trial as f64 * 10.0;
            cur.iter_mut().for_each(|c| *c = 0.0);
            t.input(tm, &mut cur);
            let tg = t.target(tm).to_vec();
            let class = if tg[0] == 1.0 { 0 } else { 1 };
            counts[class] += 1;
            // The driven pixel groups form a valid image of that class.
            let img: Vec<u8> = (0..16).map(|p| (cur[p * 20] > 0.0) as u8).collect();
            let s = 4;
            let rows_const = (0..s).all(|r| (0..s).all(|c| img[r * s + c] == img[r * s]));
            assert_eq!(rows_const, class == 0);
        }
        assert!(counts[0] > 900 && counts[1] > 900, "{counts:?}");
    }

    #[test]
    fn what_when_outcome_frequencies_match_probabilities() {
        let p = WhatWhenParams {
            trial_ms: 100.0,
            delay_a_ms: 50.0,
            delay_b_ms: 50.0,
            width_ms: 10.0,
            cue_ms: 10.0,
            stim_ms: 10.0,
            p_a: 0.6,
            p_b: 0.3,
            ..Default::default()
        };
        let mut t = Task::new(&TaskConfig::WhatWhen(p), 100, 1.0, 9).unwrap();
        let mut n = [0u32; 3];
        for trial in 0..3000u64 {
            let tm = trial as f64 * 100.0 + 50.0;
            let tg = t.target(tm).to_vec();
            if tg[WHAT_A] > 0.5 {
                n[0] += 1
            } else if tg[WHAT_B] > 0.5 {
                n[1] += 1
            } else {
                n[2] += 1
            }
            assert!((t.expected_target(tm)[WHEN] - 0.9).abs() < 1e-5);
        }
        let f = |c: u32| c as f32 / 3000.0;
        assert!((f(n[0]) - 0.6).abs() < 0.03, "{n:?}");
        assert!((f(n[1]) - 0.3).abs() < 0.03, "{n:?}");
    }

    #[test]
    fn mackey_glass_is_bounded_and_varies() {
        let mut g = SeriesGen::new(
            &Signal::MackeyGlass {
                tau: 17.0,
                ms_per_unit: 10.0,
            },
            1,
        );
        let v: Vec<f32> = (0..5000).map(|t| g.value(t as f64)).collect();
        let (lo, hi) = v
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        assert!(lo > -0.1 && hi < 1.1, "{lo} {hi}");
        assert!(hi - lo > 0.4, "{lo} {hi}");
    }

    #[test]
    fn bad_input_map_is_an_error() {
        let e = Task::new(&TaskConfig::default(), 30, 1.0, 1).unwrap_err();
        assert!(e.to_string().contains("30 neurons"), "{e}");
    }
}
