//! neurolab-spike: the spiking reservoir lab.
//!
//! Izhikevich (2003) and LIF networks on a deterministic, seeded CPU engine; the same network on a
//! WGSL compute engine behind the `gpu` feature; STDP with homeostasis; readouts (three-factor
//! Hebbian, ridge, FORCE); tasks; avalanche analysis. No burn, leptos, web-sys or wasm-bindgen:
//! it runs natively, in wasm on the CPU, and (with `gpu`) on WebGPU. Must not depend on another
//! lab.

pub mod avalanche;
pub mod config;
pub mod control;
pub mod error;
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

pub use config::SpikeConfig;
pub use control::{SpikeAnswer, SpikeControl};
pub use error::SpikeError;
pub use report::{SpikeNet, SpikeReport};
pub use session::{SpikeRun, SpikeSession};

/// The spiking lab's plain types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpikeLab;

impl neurolab_base::Lab for SpikeLab {
    const NAME: &'static str = "spike";
    const LABEL: &'static str = "Spiking reservoir";
    type Config = SpikeConfig;
    type Control = SpikeControl;
    type Answer = SpikeAnswer;
    type Report = SpikeReport;
    type Summary = SpikeNet;
    const PANELS: &'static [&'static str] = &["interventions", "raster", "charts"];

    /// The population rate per bin over simulated time (bins do not depend on the chunks).
    fn curves(reports: &[SpikeReport]) -> Vec<neurolab_base::Curve> {
        let mut rate = neurolab_base::Curve::new("rate_hz");
        for r in reports {
            let bin = f64::from(r.bin_ms);
            for (i, &v) in r.rate_hz.iter().enumerate() {
                rate.points.push((r.t0_ms + i as f64 * bin, f64::from(v)));
            }
        }
        vec![rate]
    }

    /// Izhikevich's 2003 network of 1000 neurons on the CPU engine, as real-time factor.
    fn bench_cases() -> Vec<neurolab_base::bench::BenchCase<SpikeConfig>> {
        vec![neurolab_base::bench::BenchCase {
            name: "Izhikevich 2003 (1000 neurons, CPU engine)",
            config: SpikeConfig {
                duration_ms: 600_000,
                ..SpikeConfig::izhikevich2003()
            },
            unit: "× real time",
            per_position: 1e-3,
        }]
    }
}
