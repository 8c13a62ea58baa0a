//! How each lab plugs into the runner: [`WorkerLab`] builds its session on the worker's device.
//! One thin file per lab; the runner, the engine and the protocol know no lab.

use crate::env::Env;
use crate::error::WorkerError;
use neurolab_base::Session;
use neurolab_core::Registered;
use std::future::Future;

mod grok;
mod lm;
mod sae;
mod spike;

/// A session just built, and why it differs from what was asked (another engine …).
pub struct Created<S> {
    pub session: S,
    pub note: Option<String>,
}

/// A lab in the worker.
pub trait WorkerLab: Registered + Sized {
    type Session: Session<Lab = Self>;
    /// What the lab keeps across its sessions (a GPU device of its own, a prepared source).
    type Shared: Default;
    /// Report at once after this control, so the curves show its effect while paused.
    fn report_after(_control: &Self::Control) -> bool {
        false
    }

    /// A fresh session for a validated `config` on `env`'s device.
    fn create(
        config: Self::Config,
        env: &Env,
        shared: &mut Self::Shared,
    ) -> impl Future<Output = Result<Created<Self::Session>, WorkerError>>;

    /// The session finished preparing on `env`: keep what the next one can reuse.
    fn prepared(_session: &Self::Session, _env: &Env, _shared: &mut Self::Shared) {}

    /// After `error`, a config to restart with (e.g. the CPU engine after the GPU engine
    /// failed) and what to tell the user; `None`: the error stands.
    fn fallback(_config: &Self::Config, _error: &WorkerError) -> Option<(Self::Config, String)> {
        None
    }
}
