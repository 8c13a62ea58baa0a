//! [`WorkerError`]: the worker's one error type. Every lab's session error keeps its type up to
//! here; [`crate::runner`] turns it into the lab's `Failed` event, the one way errors reach the
//! page.

use neurolab_base::ConfigError;
use neurolab_core::CoreError;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Core(#[from] CoreError),
    #[error("{0}")]
    Grok(#[from] neurolab_core::grok::GrokError),
    #[error("{0}")]
    Spike(#[from] neurolab_core::spike::SpikeError),
    #[error("{0}")]
    Sae(#[from] neurolab_core::sae::SaeError),
    #[error("{0}")]
    Lm(#[from] neurolab_core::lm::LmError),
    #[error("the {lab} lab has no session yet (it is built when the backend is ready)")]
    NoSession { lab: &'static str },
    #[error("the file is {size}; the browser can take at most {max} in one download")]
    ExportTooLarge { size: String, max: String },
    #[error("this worker has no WebGPU device to lose")]
    NoGpu,
    #[error("{0}")]
    Bench(String),
}

impl WorkerError {
    /// Whether the error says the GPU device is gone (cubecl marks a lost device "poisoned").
    pub fn device_lost(&self) -> bool {
        let text = format!("{self:?}").to_lowercase();
        text.contains("poison") || text.contains("device was lost") || text.contains("devicelost")
    }
}
