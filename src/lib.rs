//! neurolab-web: the browser front end of neurolab.
//!
//! The page (`app` bin) talks to the compute Web Worker (crate `neurolab-worker`) only through
//! `neurolab_core::protocol` messages. This crate does not link burn (it uses `neurolab-core`
//! without its `compute` feature), so the page's wasm stays small.
//!
//! Layers, top to bottom (no module uses one above it):
//! - [`shell`]: the app, header, banners, event routing; it knows no lab; [`bench`]: the
//!   Benchmark panel (every lab's cases timed by the worker on this backend);
//! - [`gallery`]: the start page (cards for presets and lessons); [`lesson`]: lessons (the
//!   shipped files, the lesson panel, progress in local storage);
//! - [`labs`]: the labs' registry and one folder per lab (page, state, views);
//! - [`page`]: what every lab's page shares (form, run controls, progress, metrics, share);
//! - [`embed`]: the embed API (a host page drives the lab by `postMessage` and hears it);
//! - [`experiment`]: experiment files (export, import by picker or drop, recorded vs re-run);
//! - [`lab`]: the plug-in API (`PageLab`, `LabCtx`);
//! - [`context`]: the shared state (`Shell`); [`run`]: the one run-state fold; [`form`]: the one
//!   config form over a field table; [`plot`]: every chart; [`browser`]: the browser glue and
//!   the worker bridge; [`format`]: numbers as the page shows them.
//!
//! The plain modules (run, form state, the labs' states, plot geometry) are tested natively.

pub mod bench;
pub mod browser;
pub mod context;
pub mod embed;
pub mod experiment;
pub mod form;
pub mod format;
pub mod gallery;
pub mod lab;
pub mod labs;
pub mod lesson;
pub mod page;
pub mod plot;
pub mod run;
pub mod shell;
