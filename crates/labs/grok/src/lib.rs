//! neurolab-grok: the grokking lab. `a ∘ b mod p` over all p² pairs, Gromov's 2-layer MLP and
//! Nanda et al.'s 1-layer transformer, trained full-batch with AdamW (optionally Grokfast), with
//! ablation of hidden neurons or of a Fourier frequency while it trains, and the mechanism as it
//! forms: spectra, key frequencies, single-frequency neurons, progress measures, stages, a
//! timeline of checkpoints to scrub and fork from, rich vs lazy measures.
//!
//! The config, control and report modules are plain data (the page uses them without burn); the
//! models and the session need the `compute` feature. Must not depend on leptos, web-sys or
//! wasm-bindgen, nor on another lab.

pub mod analysis;
pub mod config;
pub mod control;
pub mod data;
#[cfg(feature = "compute")]
pub mod host;
#[cfg(feature = "compute")]
mod model;
#[cfg(feature = "compute")]
pub mod params;
pub mod report;
#[cfg(feature = "compute")]
mod session;

pub use config::GrokConfig;
pub use control::{ForkChanges, GrokAnswer, GrokControl};
pub use data::Dataset;
#[cfg(feature = "compute")]
pub use model::{GrokModel, Mlp, Pairs, Transformer};
pub use report::{Analysis, GrokReport, GrokSummary, StepReport};
#[cfg(feature = "compute")]
pub use session::{dominant_frequencies, GrokError, GrokSession};

/// The grokking lab's plain types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GrokLab;

impl neurolab_base::Lab for GrokLab {
    const NAME: &'static str = "grok";
    const LABEL: &'static str = "Grokking";
    type Config = GrokConfig;
    type Control = GrokControl;
    type Answer = GrokAnswer;
    type Report = GrokReport;
    type Summary = GrokSummary;
    const PANELS: &'static [&'static str] =
        &["interventions", "runs", "charts", "timeline", "mechanism"];

    /// Losses and accuracies by step, per run (forks get their run's number).
    fn curves(reports: &[GrokReport]) -> Vec<neurolab_base::Curve> {
        let mut curves: Vec<neurolab_base::Curve> = Vec::new();
        for r in reports {
            let m = &r.metrics;
            for (name, v) in [
                ("train_loss", m.train_loss),
                ("test_loss", m.test_loss),
                ("train_acc", m.train_acc),
                ("test_acc", m.test_acc),
            ] {
                let name = match m.run {
                    0 => name.to_string(),
                    run => format!("{name} (run {})", run + 1),
                };
                let i = match curves.iter().position(|c| c.name == name) {
                    Some(i) => i,
                    None => {
                        curves.push(neurolab_base::Curve::new(name));
                        curves.len() - 1
                    }
                };
                curves[i].points.push((f64::from(m.step), f64::from(v)));
            }
        }
        curves
    }

    /// Ablations change the run; races and checkpoints are views, forks live in the config.
    fn records(control: &GrokControl) -> bool {
        matches!(
            control,
            GrokControl::Ablate { .. } | GrokControl::AblateFrequency { .. }
        )
    }

    /// Both presets' training steps, without the analysis (its cost is `bench grok`'s subject).
    fn bench_cases() -> Vec<neurolab_base::bench::BenchCase<GrokConfig>> {
        let timed = |config: GrokConfig| GrokConfig {
            analyse_every: 0,
            report_every: 100,
            steps: 1_000_000,
            ..config
        };
        vec![
            neurolab_base::bench::BenchCase {
                name: "MLP preset (p=97, H=500, full batch)",
                config: timed(GrokConfig::preset_mlp()),
                unit: "steps",
                per_position: 1.0,
            },
            neurolab_base::bench::BenchCase {
                name: "transformer preset (p=113, full batch)",
                config: timed(GrokConfig::preset_transformer()),
                unit: "steps",
                per_position: 1.0,
            },
        ]
    }
}

/// The CPU backend used natively and as the browser's fallback (burn's pure-Rust `flex`).
#[cfg(feature = "compute")]
pub fn backend_cpu() -> burn::tensor::Device {
    burn::tensor::Device::flex()
}

/// Short name of the CPU backend, for reports.
pub const CPU_BACKEND_NAME: &str = "burn-flex (CPU)";
