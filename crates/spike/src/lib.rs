//! neurolab-spike: the spiking reservoir lab's pure core.
//!
//! Izhikevich (2003) and LIF networks on a deterministic, seeded CPU engine; the same network on a
//! WGSL compute engine behind the `gpu` feature; STDP with homeostasis; readouts (three-factor
//! Hebbian, ridge, FORCE); tasks; avalanche analysis. No burn, leptos, web-sys or wasm-bindgen:
//! it runs natively, in wasm on the CPU, and (with `gpu`) on WebGPU. `neurolab-core` re-exports it
//! as `neurolab_core::spike`.

pub mod avalanche;
pub mod config;
#[cfg(feature = "gpu")]
pub mod gpu;
#[cfg(feature = "gpu")]
pub mod gpu_session;
pub mod network;
pub mod neuron;
pub mod noise;
pub mod plasticity;
pub mod readout;
pub mod report;
pub mod session;
pub mod sim;
pub mod task;
