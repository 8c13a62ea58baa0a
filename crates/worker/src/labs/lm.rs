//! The language-model lab in the worker: its session on the worker's device (training, the
//! tools' forward passes and readbacks all there; the page gets plain answers).

use super::{Created, WorkerLab};
use crate::env::Env;
use crate::error::WorkerError;
use neurolab_core::lm::{LmConfig, LmControl, LmLab, LmSession};

impl WorkerLab for LmLab {
    type Session = LmSession;
    type Shared = ();

    /// Loaded weights show in the curves at once.
    fn report_after(control: &LmControl) -> bool {
        matches!(control, LmControl::Import { .. })
    }

    async fn create(
        config: LmConfig,
        env: &Env,
        _shared: &mut (),
    ) -> Result<Created<LmSession>, WorkerError> {
        Ok(Created {
            session: LmSession::new(config, env.device.clone())?,
            note: None,
        })
    }
}
