//! neurolab-sae: the SAE lab. Sparse autoencoders (TopK + AuxK, ReLU + L1) and semi-NMF on
//! model activations (the toy model of superposition, the grokking MLP, the grokking
//! transformer), their metrics, a feature browser's data and clamping. Callers only ever see
//! plain structs.
//!
//! The config, control, report and analysis modules are plain data (the page uses them without
//! burn); the models and the session need `compute`. A grok source trains a preset of the
//! grokking lab (`neurolab-grok`) on the spot. Must not depend on leptos, web-sys or wasm-bindgen.

pub mod analysis;
pub mod config;
pub mod control;
#[cfg(feature = "compute")]
mod decomposition;
#[cfg(feature = "compute")]
pub mod export;
#[cfg(feature = "compute")]
mod host;
#[cfg(feature = "compute")]
mod model;
pub mod report;
#[cfg(feature = "compute")]
mod session;
#[cfg(feature = "compute")]
mod snmf;
#[cfg(feature = "compute")]
mod source;
#[cfg(feature = "compute")]
mod toy;

pub use config::*;
pub use control::{SaeAnswer, SaeControl};
#[cfg(feature = "compute")]
pub use decomposition::{Decomposition, CLAMP_MAX, SNMF_ACTIVE};
#[cfg(feature = "compute")]
pub use host::{top_k_rows, topk_grads_host, HostGrads, TopkInputs};
#[cfg(feature = "compute")]
pub use model::{
    sae_step, step_grads, top_k, unit_rows, GradPath, Sae, StepGrads, StepKind, StepOut,
};
pub use report::*;
#[cfg(feature = "compute")]
pub use session::{PreparedSource, SaeError, SaeSession};
#[cfg(feature = "compute")]
pub use snmf::Snmf;
#[cfg(feature = "compute")]
pub use source::{SiteActs, SourceModel};
#[cfg(feature = "compute")]
pub use toy::{sample_hidden, train_toy, ToyModel, ToySpec, ToyTrainer};

/// The SAE lab's plain types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SaeLab;

impl neurolab_base::Lab for SaeLab {
    const NAME: &'static str = "sae";
    const LABEL: &'static str = "Sparse autoencoders";
    type Config = SaeConfig;
    type Control = SaeControl;
    type Answer = SaeAnswer;
    type Report = SaeReport;
    type Summary = SaeSummary;
    const PANELS: &'static [&'static str] = &["size", "charts", "features", "clamp"];

    /// Reconstruction (FVU, MSE), sparsity (L0) and dead latents by step.
    fn curves(reports: &[SaeReport]) -> Vec<neurolab_base::Curve> {
        let names = ["fvu", "mse", "l0", "dead_frac"];
        let mut curves: Vec<neurolab_base::Curve> = names
            .iter()
            .map(|n| neurolab_base::Curve::new(*n))
            .collect();
        for r in reports {
            let step = f64::from(r.step);
            for (c, v) in curves.iter_mut().zip([r.fvu, r.mse, r.l0, r.dead_frac]) {
                c.points.push((step, f64::from(v)));
            }
        }
        curves
    }

    /// The feature shown and the clamps are part of the experiment; refreshing the list is not.
    fn records(control: &SaeControl) -> bool {
        !matches!(control, SaeControl::Features)
    }

    /// A TopK SAE the size of `bench sae`'s smallest (d = 128, 1024 latents, k = 32) on toy
    /// activations of an untrained toy model (made in the preparation, not timed).
    fn bench_cases() -> Vec<neurolab_base::bench::BenchCase<SaeConfig>> {
        let config = SaeConfig {
            toy_m: 128,
            toy_n: 512,
            // The toy model untrained: its activations serve as well, and preparing stays short.
            toy_steps: 0,
            toy_samples: 4096,
            latents: 1024,
            k: 32,
            k_aux: 64,
            batch: 256,
            steps: 1_000_000,
            report_every: 1000,
            ..SaeConfig::preset(config::SaeSource::Toy)
        };
        vec![neurolab_base::bench::BenchCase {
            name: "TopK SAE (d=128, 1024 latents, k=32, batch 256)",
            per_position: f64::from(config.batch),
            config,
            unit: "samples",
        }]
    }
}
