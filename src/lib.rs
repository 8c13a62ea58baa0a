//! neurolab-web: the browser front end of neurolab.
//!
//! The page (`app` bin: [`ui`], [`bridge`], [`browser`]) talks to the compute Web Worker (crate
//! `neurolab-worker`) only through `neurolab_core::protocol` messages. This crate does not link
//! burn (it uses `neurolab-core` without its `compute` feature), so the page's wasm stays small;
//! the plain modules ([`form`], [`lab`], [`chart`]'s geometry) are tested natively.

pub mod bridge;
pub mod browser;
pub mod chart;
pub mod form;
pub mod lab;
pub mod pairs_form;
pub mod plot;
pub mod sae_lab;
pub mod sae_ui;
pub mod spike_lab;
pub mod spike_ui;
pub mod ui;
