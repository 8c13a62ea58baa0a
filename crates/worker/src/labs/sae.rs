//! The SAE lab in the worker: its session prepares its source in chunks (the runner drives
//! them); the last prepared source is kept so that editing the SAE's own hyper-parameters does
//! not train the source again (a backend change drops it with the device).

use super::{Created, WorkerLab};
use crate::env::Env;
use crate::error::WorkerError;
use neurolab_core::sae::{PreparedSource, SaeConfig, SaeLab, SaeSession};

impl WorkerLab for SaeLab {
    type Session = SaeSession;
    /// The last prepared source, on the device it was prepared on.
    type Shared = Option<(String, PreparedSource)>;

    async fn create(
        config: SaeConfig,
        env: &Env,
        shared: &mut Self::Shared,
    ) -> Result<Created<SaeSession>, WorkerError> {
        let device_name = env.info.adapter.clone();
        let cached = shared
            .as_ref()
            .filter(|(device, source)| *device == device_name && source.serves(&config))
            .map(|(_, source)| source.clone());
        Ok(Created {
            session: SaeSession::new(config, env.device.clone(), cached)?,
            note: None,
        })
    }

    fn prepared(session: &SaeSession, env: &Env, shared: &mut Self::Shared) {
        if let Some(source) = session.source() {
            *shared = Some((env.info.adapter.clone(), source.clone()));
        }
    }
}
