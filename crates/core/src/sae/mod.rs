//! The SAE lab: sparse autoencoders (TopK + AuxK, ReLU + L1) and semi-NMF on model activations
//! (the toy model of superposition, the grokking MLP, the grokking transformer), their metrics,
//! a feature browser's data and clamping. Callers only ever see plain structs.

pub mod analysis;
mod config;
mod model;
mod report;
mod session;
mod snmf;
mod source;
mod toy;

pub use config::*;
pub use model::{sae_step, unit_rows, Sae, StepKind, StepOut};
pub use report::*;
pub use session::{grok_preset, SaeError, SaeSession, SNMF_ACTIVE};
pub use snmf::Snmf;
pub use source::{SiteActs, SourceModel};
pub use toy::{sample_hidden, train_toy, ToyModel, ToySpec};
