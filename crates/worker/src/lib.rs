//! neurolab-worker: the compute Web Worker. It owns the burn device (WebGPU, else the CPU
//! backend) and the labs' sessions, and answers `neurolab_core::protocol` commands with events.
//! The page (`neurolab-web`) never links burn: only this wasm carries it, so it is downloaded once.

pub mod compute;
pub mod sae;
pub mod spike;

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
