//! neurolab-worker: the compute engine — the burn device (WebGPU, else the CPU backend) and every
//! lab's session, driven by one generic runner. In the browser it is the Web Worker (the only
//! wasm that links burn, downloaded once); natively the CLI drives the same engine. It answers
//! `neurolab_core::protocol` commands with events.
//!
//! - [`env`]: the device and the clock;
//! - [`runner`]: the generic runner (chunks, rate, GPU sync, progress, stops, controls);
//! - [`bench`]: every lab's benchmark cases timed on the worker's backend;
//! - [`engine`]: the router (the backend, one runner per lab, the GPU fallback);
//! - [`labs`]: one thin file per lab (how its session is built);
//! - `web` (wasm only): the Web Worker glue.

pub mod bench;
pub mod engine;
pub mod env;
pub mod error;
pub mod labs;
pub mod runner;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use engine::Engine;
pub use error::WorkerError;

/// Run the wasm module's static constructors, once, first thing in `main`.
///
/// burn's IR (via `pliron`) registers types with `inventory`, i.e. with static constructors.
/// When nothing calls `__wasm_call_ctors` explicitly, wasm-ld links a bin "command-style" and
/// re-runs every constructor at the top of *each* exported function: every call from JS into
/// the wasm (each message handler and allocation) paid for it. Calling it once here turns that
/// off (see the `inventory` crate docs).
pub fn run_static_constructors() {
    #[cfg(target_family = "wasm")]
    {
        extern "C" {
            fn __wasm_call_ctors();
        }
        // SAFETY: called once, before any other code of this module runs; the constructors
        // only fill registries (`inventory` guards against running twice anyway).
        unsafe { __wasm_call_ctors() }
    }
}
