//! The grokking lab in the worker: its session is the core's `GrokSession` on the worker's
//! device.

use super::{Created, WorkerLab};
use crate::env::Env;
use crate::error::WorkerError;
use neurolab_core::grok::{GrokConfig, GrokControl, GrokLab, GrokSession};

impl WorkerLab for GrokLab {
    type Session = GrokSession;
    type Shared = ();
    /// An ablation shows in the curves at once (a race, a snapshot or a fork changes nothing
    /// the first run's report shows).
    fn report_after(control: &GrokControl) -> bool {
        matches!(
            control,
            GrokControl::Ablate { .. } | GrokControl::AblateFrequency { .. }
        )
    }

    async fn create(
        config: GrokConfig,
        env: &Env,
        _shared: &mut (),
    ) -> Result<Created<GrokSession>, WorkerError> {
        Ok(Created {
            session: GrokSession::new(config, env.device.clone())?,
            note: None,
        })
    }
}
