//! `neurolab`: run the lab's experiments natively and benchmark them.
//!
//! The same core code as the browser: configs, sessions and reports come from `neurolab-core`.

use burn::tensor::Device;
use clap::{Args, Parser, Subcommand, ValueEnum};
use neurolab_core::config::{Activation, GrokConfig, LossKind, ModelKind, Op};
use neurolab_core::grok::{GrokError, GrokSession};
use neurolab_core::report::{curves_csv, first_step_reaching, StepReport};
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;

mod sae;
mod spike;

#[derive(Parser)]
#[command(
    name = "neurolab",
    version,
    about = "neurolab experiments on the command line"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Train a grokking model on a ∘ b mod p.
    Grok(GrokArgs),
    /// Simulate a spiking network (Izhikevich / LIF), optionally with a readout task.
    Spike(spike::SpikeArgs),
    /// Train a sparse autoencoder (or semi-NMF) on a model's activations.
    Sae(sae::SaeArgs),
    /// Print speed figures.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Steps/s of both grokking presets on every backend available here.
    Grok {
        /// Timed steps per preset and backend (after warm-up).
        #[arg(long, default_value_t = 30)]
        steps: u32,
        /// Only these backends (default: all available).
        #[arg(long, value_enum)]
        backend: Vec<Backend>,
    },
    /// Real-time factor of the spiking engines.
    Spike(spike::BenchSpikeArgs),
    /// Training samples/s of sparse autoencoders.
    Sae(sae::BenchSaeArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
enum Backend {
    /// burn-flex, pure Rust (the browser's CPU fallback too).
    Cpu,
    /// burn-ndarray (deprecated in burn; for comparison).
    Ndarray,
    /// burn wgpu (Vulkan/Metal/GL natively; lavapipe without a GPU).
    Wgpu,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu (burn-flex)",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
        }
    }

    fn device(self) -> Result<(Device, String), String> {
        match self {
            Backend::Cpu => Ok((Device::flex(), self.name().to_string())),
            #[allow(deprecated)]
            Backend::Ndarray => Ok((Device::ndarray(), self.name().to_string())),
            Backend::Wgpu => {
                let (device, setup) = Device::wgpu_options()
                    .init_with_setup()
                    .map_err(|e| format!("wgpu could not start: {e:?}"))?;
                let info = setup.adapter.get_info();
                Ok((device, format!("wgpu ({}, {:?})", info.name, info.backend)))
            }
        }
    }
}

#[derive(Args)]
struct GrokArgs {
    #[arg(long, value_parser = ["mlp", "transformer"], default_value = "mlp")]
    model: String,
    #[arg(long)]
    p: Option<u32>,
    #[arg(long, value_parser = ["add", "sub", "mul"])]
    op: Option<String>,
    #[arg(long)]
    frac: Option<f64>,
    #[arg(long)]
    steps: Option<u32>,
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    wd: Option<f64>,
    #[arg(long)]
    beta1: Option<f64>,
    #[arg(long)]
    beta2: Option<f64>,
    /// MLP hidden units.
    #[arg(long)]
    hidden: Option<u32>,
    #[arg(long, value_parser = ["quadratic", "relu"])]
    activation: Option<String>,
    #[arg(long, value_parser = ["ce", "mse"])]
    loss: Option<String>,
    #[arg(long)]
    d_model: Option<u32>,
    #[arg(long)]
    heads: Option<u32>,
    #[arg(long)]
    d_mlp: Option<u32>,
    #[arg(long)]
    init_scale: Option<f64>,
    /// Turn on the Grokfast-EMA gradient filter.
    #[arg(long)]
    grokfast: bool,
    #[arg(long)]
    grokfast_alpha: Option<f64>,
    #[arg(long)]
    grokfast_lambda: Option<f64>,
    /// Report every N steps.
    #[arg(long)]
    every: Option<u32>,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// One JSON object per report, then a final summary object.
    #[arg(long)]
    json: bool,
    /// Write the trained weights here (.safetensors).
    #[arg(long)]
    save_weights: Option<String>,
    /// Write the curves here (CSV).
    #[arg(long)]
    csv: Option<String>,
    /// Stop early once test accuracy reaches this value (e.g. 0.99).
    #[arg(long)]
    stop_at_acc: Option<f32>,
}

impl GrokArgs {
    fn config(&self) -> GrokConfig {
        let mut c = match self.model.as_str() {
            "transformer" => GrokConfig::preset_transformer(),
            _ => GrokConfig::preset_mlp(),
        };
        macro_rules! set {
            ($field:ident, $arg:expr) => {
                if let Some(v) = $arg {
                    c.$field = v;
                }
            };
        }
        set!(p, self.p);
        set!(op, self.op.as_deref().and_then(Op::parse));
        set!(train_frac, self.frac);
        set!(steps, self.steps);
        set!(seed, self.seed);
        set!(lr, self.lr);
        set!(weight_decay, self.wd);
        set!(beta1, self.beta1);
        set!(beta2, self.beta2);
        set!(hidden, self.hidden);
        set!(
            activation,
            self.activation.as_deref().and_then(Activation::parse)
        );
        set!(loss, self.loss.as_deref().and_then(LossKind::parse));
        set!(d_model, self.d_model);
        set!(n_heads, self.heads);
        set!(d_mlp, self.d_mlp);
        set!(init_scale, self.init_scale);
        set!(grokfast_alpha, self.grokfast_alpha);
        set!(grokfast_lambda, self.grokfast_lambda);
        set!(report_every, self.every);
        c.grokfast |= self.grokfast;
        debug_assert!(matches!(c.model, ModelKind::Mlp | ModelKind::Transformer));
        c
    }
}

fn report_json(r: &StepReport) -> serde_json::Value {
    json!({
        "step": r.step,
        "train_loss": r.train_loss,
        "test_loss": r.test_loss,
        "train_acc": r.train_acc,
        "test_acc": r.test_acc,
        "weight_norm": r.weight_norm,
    })
}

fn run_grok(args: &GrokArgs) -> Result<(), String> {
    let config = args.config();
    config.validate().map_err(|e| e.to_string())?;
    let (device, backend) = args.backend.device()?;
    let mut session = GrokSession::new(config.clone(), device).map_err(|e| e.to_string())?;
    let mut reports = Vec::new();
    let emit = |r: &StepReport| {
        if args.json {
            println!("{}", report_json(r));
        } else {
            println!(
                "step {:>6}  train loss {:.4}  test loss {:.4}  train acc {:.3}  test acc {:.3}  |w| {:.2}",
                r.step, r.train_loss, r.test_loss, r.train_acc, r.test_acc, r.weight_norm
            );
        }
    };
    let first = block_on(session.report())?;
    emit(&first);
    reports.push(first);
    let start = Instant::now();
    while !session.finished() {
        session.train_step();
        let step = session.step_count();
        if step % config.report_every == 0 || session.finished() {
            let r = block_on(session.report())?;
            emit(&r);
            reports.push(r);
            if args.stop_at_acc.is_some_and(|t| r.test_acc >= t) {
                break;
            }
        }
    }
    let wall_s = start.elapsed().as_secs_f64();
    let last = *reports.last().expect("at least the first report");
    let steps_per_s = last.step as f64 / wall_s.max(1e-9);
    if let Some(path) = &args.save_weights {
        let bytes = block_on(session.safetensors())?;
        std::fs::write(path, bytes).map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, curves_csv(&reports))
            .map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    let grok_step = first_step_reaching(&reports, 0.99);
    if args.json {
        let mut fin = report_json(&last);
        let obj = fin.as_object_mut().expect("an object");
        obj.insert("final".into(), json!(true));
        obj.insert("steps_per_s".into(), json!(steps_per_s));
        obj.insert("backend".into(), json!(backend));
        obj.insert("wall_s".into(), json!(wall_s));
        obj.insert("step_test_acc_99".into(), json!(grok_step));
        println!("{fin}");
    } else {
        println!(
            "done: {} steps in {wall_s:.2} s ({steps_per_s:.1} steps/s) on {backend}; test accuracy first ≥ 99% at {}",
            last.step,
            grok_step.map_or("never".to_string(), |s| format!("step {s}"))
        );
    }
    Ok(())
}

fn block_on<T>(f: impl std::future::Future<Output = Result<T, GrokError>>) -> Result<T, String> {
    pollster::block_on(f).map_err(|e| e.to_string())
}

fn bench_grok(steps: u32, backends: &[Backend]) -> Result<(), String> {
    let backends = if backends.is_empty() {
        vec![Backend::Cpu, Backend::Ndarray, Backend::Wgpu]
    } else {
        backends.to_vec()
    };
    println!("preset,backend,steps,wall_s,steps_per_s");
    for backend in backends {
        let (device, name) = match backend.device() {
            Ok(d) => d,
            Err(e) => {
                eprintln!("skipping {}: {e}", backend.name());
                continue;
            }
        };
        for (label, config) in [
            ("mlp-p97", GrokConfig::preset_mlp()),
            ("transformer-p113", GrokConfig::preset_transformer()),
        ] {
            let mut session =
                GrokSession::new(config, device.clone()).map_err(|e| e.to_string())?;
            // Warm-up: first steps allocate and (on wgpu) compile kernels.
            for _ in 0..3 {
                session.train_step();
            }
            block_on(session.report())?;
            let start = Instant::now();
            for _ in 0..steps {
                session.train_step();
            }
            // A readback makes sure queued device work is done before the clock stops.
            block_on(session.report())?;
            let wall = start.elapsed().as_secs_f64();
            println!(
                "{label},{name},{steps},{wall:.3},{:.2}",
                steps as f64 / wall
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Cmd::Grok(args) => run_grok(args),
        Cmd::Bench {
            what: BenchWhat::Grok { steps, backend },
        } => bench_grok(*steps, backend),
        Cmd::Spike(args) => spike::run(args),
        Cmd::Sae(args) => sae::run(args),
        Cmd::Bench {
            what: BenchWhat::Spike(args),
        } => spike::bench(args),
        Cmd::Bench {
            what: BenchWhat::Sae(args),
        } => sae::bench(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
