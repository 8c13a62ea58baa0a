//! neurolab-web: the browser front end of neurolab.
//!
//! Two programs share this library: the page (`app` bin: [`ui`], [`bridge`], [`browser`]) and
//! the compute Web Worker (`worker` bin: [`compute`]). They talk only through
//! `neurolab_core::protocol` messages. Only [`compute`] may use burn, so the page's wasm stays
//! small; the plain modules ([`form`], [`lab`], [`chart`]'s geometry) are tested natively.

pub mod bridge;
pub mod browser;
pub mod chart;
pub mod compute;
pub mod form;
pub mod lab;
pub mod ui;
