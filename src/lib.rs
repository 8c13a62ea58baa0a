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

/// Run the wasm module's static constructors, once, first thing in `main`.
///
/// burn's IR (via `pliron`) registers types with `inventory`, i.e. with static constructors.
/// When nothing calls `__wasm_call_ctors` explicitly, wasm-ld links a bin "command-style" and
/// re-runs every constructor at the top of *each* exported function: every call from JS into
/// the wasm (each event handler, closure and allocation) paid for it, which made a chart redraw
/// ~50 ms instead of ~2. Calling it once here turns that off (see the `inventory` crate docs).
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
