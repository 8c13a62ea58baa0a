//! neurolab-core: everything an experiment is, with no web dependency.
//!
//! Configs (the share link *is* the config), the link codec, the worker protocol, and the
//! grokking lab's data, models and training session. Nothing here may depend on leptos,
//! web-sys or wasm-bindgen: the same code runs natively (CLI, tests), in wasm on the CPU and on
//! WebGPU. Tensors never leave this crate: callers get plain reports.

pub mod config;
#[cfg(feature = "compute")]
pub mod grok;
pub mod link;
pub mod protocol;
pub mod report;
pub mod rng;
#[cfg(feature = "compute")]
pub mod sae;
/// Without `compute` (the page), the SAE lab is its config (for the link), its plain results and
/// the host-side analysis helpers: no burn.
#[cfg(not(feature = "compute"))]
pub mod sae {
    #[path = "analysis.rs"]
    pub mod analysis;
    #[path = "config.rs"]
    mod config;
    #[path = "report.rs"]
    mod report;
    pub use config::*;
    pub use report::*;
}

/// The spiking reservoir lab (its own crate: it needs no burn).
pub use neurolab_spike as spike;

/// The version of the share-link format this build writes and understands.
pub const LINK_VERSION: u32 = 1;
/// The lab's own version, recorded in every link.
pub const LAB_VERSION: &str = env!("CARGO_PKG_VERSION");
