//! neurolab-base: what every lab shares, and nothing any one lab owns.
//!
//! - [`field`]: the field table (key, label, group, kind, limits, when it applies, accessors) that
//!   drives a config's link codec, the page's form, the CLI's flags and validation;
//! - [`error`]: [`ConfigError`], the one error a config, a link key, a form value or a flag gives,
//!   every limit named;
//! - [`budget`]: memory and time estimates checked at validation against one budget;
//! - [`run`]: run phase, position (steps or simulated ms), rate smoothing, why a run stopped;
//! - [`lab`]: the [`Lab`](lab::Lab), [`LabConfig`](lab::LabConfig) and [`Session`](lab::Session)
//!   traits each lab implements;
//! - [`msg`]: the lab-generic halves of the page ⇄ worker protocol;
//! - [`finite`]: reports never carry NaN/Inf across the protocol;
//! - [`curve`]: a run's headline curves from its reports, and how two runs' curves compare;
//! - [`rng`]: seeded portable randomness;
//! - `rows` (feature `tensors`): row-parallel loops for host-side training steps (rayon natively).
//!
//! Must not depend on burn, leptos, web-sys or wasm-bindgen, nor on any lab.

pub mod bench;
pub mod budget;
pub mod curve;
pub mod error;
pub mod field;
pub mod finite;
pub mod lab;
pub mod msg;
pub mod rng;
#[cfg(feature = "tensors")]
pub mod rows;
pub mod run;
pub mod script;
#[cfg(feature = "tensors")]
pub mod tensors;

pub use curve::Curve;
pub use error::ConfigError;
pub use finite::Finite;
pub use lab::{Lab, LabConfig, Preset, Session};
pub use run::{Phase, Position, StopReason, Unit};
pub use script::{Script, Scripted};
