//! The grokking lab: modular arithmetic data, the two models, and the training session.

mod data;
mod model;
mod params;
mod session;

pub use data::Dataset;
pub use model::{GrokModel, Mlp, Transformer};
pub use session::{dominant_frequencies, GrokError, GrokSession};

use burn::tensor::Device;

/// The CPU backend used natively and as the browser's fallback (burn's pure-Rust `flex`).
pub fn backend_cpu() -> Device {
    Device::flex()
}

/// Short name of the CPU backend, for reports.
pub const CPU_BACKEND_NAME: &str = "burn-flex (CPU)";
