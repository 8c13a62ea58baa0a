//! [`SpikeError`]: the spiking lab's one error type — bad configs and controls (with the base's
//! [`ConfigError`] inside), readout solves that fail, and the WGSL engine's device limits.
//! Every message names the limit that was hit.

use neurolab_base::ConfigError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpikeError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("new parameters are for a different {what} ({new}) than the running one ({old})")]
    KindMismatch {
        what: &'static str,
        old: &'static str,
        new: &'static str,
    },
    #[error("the ridge readout has no training samples (no step had learn = true, a target and gate > 0)")]
    NoSamples,
    #[error("the ridge system is not positive definite; raise lambda (now {lambda})")]
    NotPositiveDefinite { lambda: f32 },
    #[error("no GPU adapter is available ({0}); in a browser WebGPU must be enabled, natively a Vulkan, Metal, DX12 or GL driver is needed")]
    NoAdapter(String),
    #[error("the GPU adapter refused to create a device: {0}")]
    RequestDevice(String),
    #[error("{what} needs {needed} bytes, but the device's {limit} is {max} bytes")]
    BufferTooLarge {
        what: &'static str,
        needed: u64,
        limit: &'static str,
        max: u64,
    },
    #[error("the network has {n} neurons; one dispatch of this engine handles at most {max} (the device's max_compute_workgroups_per_dimension × {workgroup})")]
    TooManyNeurons { n: usize, max: u64, workgroup: u32 },
    #[error(
        "the device allows {got} storage buffers per shader stage; this engine needs {needed}"
    )]
    TooFewStorageBuffers { got: u32, needed: u32 },
    #[error("invalid network: {0}")]
    InvalidNetwork(String),
    #[error("{what} must have one entry per neuron ({n}), got {got}")]
    WrongLength {
        what: &'static str,
        n: usize,
        got: usize,
    },
    #[error("neuron index {index} is out of range: the network has {n} neurons")]
    NeuronOutOfRange { index: usize, n: usize },
    #[error("at most {max} neurons can be probed, got {got}")]
    TooManyProbes { got: usize, max: usize },
    #[error("steps_per_submit must be between 1 and {max}, got {got}")]
    StepsPerSubmit { got: u32, max: u32 },
    #[error("the step counter would pass 2^32 steps (now {now}, asked {asked} more)")]
    StepOverflow { now: u32, asked: u32 },
    #[error("reading back from the GPU failed: {0}")]
    Readback(String),
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    #[error("the spiking lab exports 'raster' or 'weights', not '{0}'")]
    UnknownExport(String),
}

/// `min ≤ got ≤ max` (and finite), naming `name`.
pub fn check(name: &'static str, got: f64, min: f64, max: f64) -> Result<(), SpikeError> {
    neurolab_base::error::check_range(name, name, got, min, max).map_err(SpikeError::from)
}

/// A rule's error, naming `key`.
pub fn rule(key: &'static str, message: impl Into<String>) -> SpikeError {
    SpikeError::Config(ConfigError::rule(key, message))
}
