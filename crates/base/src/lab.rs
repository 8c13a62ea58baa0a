//! The traits a lab implements, one per layer below the page:
//! - [`Lab`]: the lab's name and its plain message types (config, control, answer, report,
//!   summary) — what the page and the protocol see;
//! - [`LabConfig`]: its config's field table, presets, rules and budget estimate;
//! - [`Session`]: one run, advanced in chunks, changed by controls, exported — what the worker
//!   and the CLI drive.

use crate::budget::Estimate;
use crate::error::ConfigError;
use crate::field::Field;
use crate::finite::Finite;
use crate::run::Position;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::future::Future;

/// Plain data that travels in messages.
pub trait Msg: Clone + Debug + PartialEq + Serialize + DeserializeOwned + 'static {}
impl<T: Clone + Debug + PartialEq + Serialize + DeserializeOwned + 'static> Msg for T {}

/// A lab: its name and the plain types its messages carry.
pub trait Lab: 'static {
    /// The link's `lab=` value.
    const NAME: &'static str;
    /// For the lab picker.
    const LABEL: &'static str;
    type Config: LabConfig;
    /// A change to a run (ablate, silence, clamp, ask for a feature …).
    type Control: Msg;
    /// The worker's answer to every control: what holds now.
    type Answer: Msg + Finite;
    /// The metrics at a report point.
    type Report: Msg + Finite;
    /// The lab's page panels, by the names a link's `hide=` takes.
    const PANELS: &'static [&'static str] = &[];
    /// What a built session is (sizes, engine), sent when it is configured.
    type Summary: Msg;

    /// Whether this control changes the run, so that the link records it with its position
    /// (a view — a checkpoint shown, a neuron's history, a list refreshed — is not recorded).
    /// A live edit whose controls are all recorded leaves the link's config as it was.
    fn records(_control: &Self::Control) -> bool {
        true
    }

    /// The run's headline curves from its reports in order (an experiment's recorded run is
    /// drawn and compared with its re-run by these), keyed by position so that they do not
    /// depend on how the run was cut into chunks.
    fn curves(_reports: &[Self::Report]) -> Vec<crate::Curve> {
        Vec::new()
    }

    /// The workloads the benchmark times for this lab (the page's Benchmark panel, `bench all`).
    fn bench_cases() -> Vec<crate::bench::BenchCase<Self::Config>> {
        Vec::new()
    }
}

/// A named starting point.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset<C> {
    /// For links and `--preset`.
    pub name: &'static str,
    /// For the preset picker.
    pub label: &'static str,
    pub config: C,
}

/// A lab's config: plain data with one field table.
pub trait LabConfig: Msg + Default + Send + Sync {
    /// The lab's name, for messages.
    const LAB: &'static str;
    /// The field table: link keys, form, CLI flags and limits.
    fn fields() -> &'static [Field<Self>];
    fn presets() -> Vec<Preset<Self>>;
    /// Rules the table's limits cannot say (across fields, primality …).
    fn check(&self) -> Result<(), ConfigError> {
        Ok(())
    }
    /// Memory and time this config needs.
    fn estimate(&self) -> Estimate;
    /// After a link's keys are applied; `given` lists the keys it had.
    fn after_pairs(&mut self, _given: &[&str]) {}
    /// The run's length at its start.
    fn plan(&self) -> Position;
    /// What `Step` advances (one training step, 100 simulated ms …).
    fn step_units(&self) -> f64 {
        1.0
    }
    /// The table's limits, [`LabConfig::check`] and the budget.
    fn validate(&self) -> Result<(), ConfigError> {
        crate::field::validate(self)
    }
}

/// One call's worth of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// At most this many units (steps, simulated ms).
    pub units: u32,
    /// End with the device caught up (one small readback): on WebGPU, work is only queued.
    pub sync: bool,
}

/// What a chunk produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Advance<R> {
    /// Reports due within the chunk, in order.
    pub reports: Vec<R>,
    /// Set when a value became NaN/Inf: what, for the user.
    pub diverged: Option<String>,
}

impl<R: Finite> Advance<R> {
    /// Adds a due report. When a number in it is NaN/Inf the chunk has diverged: `why` (given the
    /// report) says what, for the user, and this returns `true` so the training loop stops there.
    pub fn push_checked(&mut self, report: R, why: impl FnOnce(&R) -> String) -> bool {
        let diverged = !report.all_finite();
        if diverged {
            self.diverged = Some(why(&report));
        }
        self.reports.push(report);
        diverged
    }
}

impl<R> Default for Advance<R> {
    fn default() -> Self {
        Self {
            reports: Vec::new(),
            diverged: None,
        }
    }
}

/// Work a session does before it can run (training the model an SAE decomposes).
#[derive(Debug, Clone, PartialEq)]
pub struct Preparing {
    pub what: String,
    pub done: u32,
    pub total: u32,
}

/// A file for the user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportFile {
    pub file_name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// One run of a lab. Every method that reads the device is async (sync reads panic in the
/// browser); none blocks for long: the runner calls `prepare` and `advance` with chunks sized to
/// a few tens of milliseconds.
pub trait Session {
    type Lab: Lab;
    type Error: std::error::Error + 'static;

    fn position(&self) -> Position;
    fn summary(&self) -> <Self::Lab as Lab>::Summary;

    /// `Some` while preparation is left to do.
    fn preparing(&self) -> Option<Preparing> {
        None
    }
    /// Up to `units` units of preparation.
    fn prepare(&mut self, _units: u32) -> impl Future<Output = Result<(), Self::Error>> {
        async { Ok(()) }
    }
    /// Up to `chunk.units` units of the run, with the reports due on the way.
    fn advance(
        &mut self,
        chunk: Chunk,
    ) -> impl Future<Output = Result<Advance<<Self::Lab as Lab>::Report>, Self::Error>>;
    /// A report of the run as it is now (`None` when the lab reports only as it runs).
    fn report(
        &mut self,
    ) -> impl Future<Output = Result<Option<<Self::Lab as Lab>::Report>, Self::Error>>;
    /// Change the run; the answer says what holds now.
    fn apply(
        &mut self,
        control: <Self::Lab as Lab>::Control,
    ) -> impl Future<Output = Result<<Self::Lab as Lab>::Answer, Self::Error>>;
    /// A file of the run (`what`: "weights", …).
    fn export(&mut self, what: &str) -> impl Future<Output = Result<ExportFile, Self::Error>>;
}
