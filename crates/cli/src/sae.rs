//! `neurolab sae` and `neurolab bench sae`: the sparse-autoencoder lab on the command line.
//!
//! `sae` trains a decomposition with the same `SaeSession` as the browser and prints reports
//! (JSON with `--json`); `bench sae` times SAE training steps on the CPU backend for the
//! issue's sizes on synthetic activations.

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::prelude::*;
use clap::Args;
use neurolab_core::rng::SeededRng;
use neurolab_core::sae::{
    sae_step, Sae, SaeConfig, SaeError, SaeKind, SaeReport, SaeSession, SaeSource, StepKind,
    TransformerSite,
};
use serde_json::json;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct SaeArgs {
    #[arg(long, value_parser = ["toy", "grok-mlp", "grok-transformer"], default_value = "toy")]
    source: String,
    #[arg(long, value_parser = ["topk", "relu-l1", "snmf"], default_value = "topk")]
    kind: String,
    /// Transformer activations: the residual stream at `=` or the MLP's hidden layer.
    #[arg(long, value_parser = ["resid", "mlp"])]
    site: Option<String>,
    #[arg(long)]
    latents: Option<u32>,
    #[arg(long)]
    k: Option<u32>,
    #[arg(long)]
    k_aux: Option<u32>,
    #[arg(long)]
    aux_coef: Option<f64>,
    #[arg(long)]
    dead_after: Option<u32>,
    #[arg(long)]
    l1: Option<f64>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    steps: Option<u32>,
    #[arg(long)]
    batch: Option<u32>,
    #[arg(long)]
    seed: Option<u64>,
    /// Report every N steps.
    #[arg(long)]
    every: Option<u32>,
    #[arg(long)]
    toy_n: Option<u32>,
    #[arg(long)]
    toy_m: Option<u32>,
    #[arg(long)]
    toy_p_active: Option<f64>,
    #[arg(long)]
    toy_decay: Option<f64>,
    #[arg(long)]
    toy_steps: Option<u32>,
    #[arg(long)]
    toy_samples: Option<u32>,
    /// Grok sources: modulus of the preset trained on the spot.
    #[arg(long)]
    grok_p: Option<u32>,
    /// Grok sources: training steps of that preset.
    #[arg(long)]
    grok_steps: Option<u32>,
    /// One JSON object per report, then a final summary object.
    #[arg(long)]
    json: bool,
    /// Write the decomposition here (.safetensors).
    #[arg(long)]
    save_weights: Option<String>,
}

impl SaeArgs {
    fn config(&self) -> SaeConfig {
        let source = SaeSource::parse(&self.source).unwrap_or(SaeSource::Toy);
        let mut c = SaeConfig::preset(source);
        if let Some(kind) = SaeKind::parse(&self.kind) {
            c.kind = kind;
        }
        macro_rules! set {
            ($field:ident, $arg:expr) => {
                if let Some(v) = $arg {
                    c.$field = v;
                }
            };
        }
        set!(site, self.site.as_deref().and_then(TransformerSite::parse));
        set!(latents, self.latents);
        set!(k, self.k);
        set!(k_aux, self.k_aux);
        set!(aux_coef, self.aux_coef);
        set!(dead_after, self.dead_after);
        set!(l1, self.l1);
        set!(lr, self.lr);
        set!(steps, self.steps);
        set!(batch, self.batch);
        set!(seed, self.seed);
        set!(report_every, self.every);
        set!(toy_n, self.toy_n);
        set!(toy_m, self.toy_m);
        set!(toy_p_active, self.toy_p_active);
        set!(toy_decay, self.toy_decay);
        set!(toy_steps, self.toy_steps);
        set!(toy_samples, self.toy_samples);
        set!(grok_p, self.grok_p);
        set!(grok_steps, self.grok_steps);
        c
    }
}

fn report_json(r: &SaeReport) -> serde_json::Value {
    let mut v = json!({
        "step": r.step,
        "mse": r.mse,
        "fvu": r.fvu,
        "l0": r.l0,
        "dead_frac": r.dead_frac,
        "loss_recon": r.loss_recon,
        "loss_aux": r.loss_aux,
        "log10_density_hist": {
            "lo": r.density_hist.lo,
            "bin_width": r.density_hist.bin_width,
            "counts": r.density_hist.counts,
            "never_fired": r.density_hist.never_fired,
        },
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(s) = r.ce_loss_score {
            obj.insert("ce_loss_score".into(), json!(s));
            obj.insert("ce_clean".into(), json!(r.ce_clean));
            obj.insert("ce_sae".into(), json!(r.ce_sae));
            obj.insert("ce_zero_abl".into(), json!(r.ce_zero_abl));
        }
        if let Some(m) = r.mmcs {
            obj.insert("mmcs".into(), json!(m));
        }
    }
    v
}

fn block_on<T>(f: impl std::future::Future<Output = Result<T, SaeError>>) -> Result<T, String> {
    pollster::block_on(f).map_err(|e| e.to_string())
}

pub fn run(args: &SaeArgs) -> Result<(), String> {
    let config = args.config();
    config.validate().map_err(|e| e.to_string())?;
    let setup = Instant::now();
    let mut session = SaeSession::new(config.clone(), Device::flex()).map_err(|e| e.to_string())?;
    let setup_s = setup.elapsed().as_secs_f64();
    let emit = |r: &SaeReport| {
        if args.json {
            println!("{}", report_json(r));
        } else {
            let extra = match (r.ce_loss_score, r.mmcs) {
                (Some(s), _) => format!("  CE score {s:.3}"),
                (_, Some(m)) => format!("  MMCS {m:.3}"),
                _ => String::new(),
            };
            println!(
                "step {:>6}  mse {:.4}  fvu {:.4}  L0 {:.2}  dead {:.1}%{extra}",
                r.step,
                r.mse,
                r.fvu,
                r.l0,
                100.0 * r.dead_frac
            );
        }
    };
    let mut last = block_on(session.report())?;
    emit(&last);
    let mut train_s = 0.0;
    while !session.finished() {
        let t = Instant::now();
        session.train_step();
        // The CPU backend runs eagerly, so this times the step itself (reports excluded).
        train_s += t.elapsed().as_secs_f64();
        let step = session.step_count();
        if step % config.report_every == 0 || session.finished() {
            last = block_on(session.report())?;
            emit(&last);
        }
    }
    let samples = match config.kind {
        SaeKind::Snmf => session.n_samples() as f64 * last.step as f64,
        _ => config.batch as f64 * last.step as f64,
    };
    let samples_per_s = samples / train_s.max(1e-9);
    if let Some(path) = &args.save_weights {
        let bytes = block_on(session.safetensors())?;
        std::fs::write(path, bytes).map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    if args.json {
        let mut fin = report_json(&last);
        if let Some(obj) = fin.as_object_mut() {
            obj.insert("final".into(), json!(true));
            obj.insert("samples_per_s".into(), json!(samples_per_s));
            obj.insert("source".into(), json!(config.source.name()));
            obj.insert("kind".into(), json!(config.kind.name()));
            obj.insert("latents".into(), json!(config.latents));
            obj.insert("d".into(), json!(session.d()));
            obj.insert("n_samples".into(), json!(session.n_samples()));
            obj.insert("setup_s".into(), json!(setup_s));
            obj.insert("train_s".into(), json!(train_s));
            obj.insert(
                "backend".into(),
                json!(neurolab_core::grok::CPU_BACKEND_NAME),
            );
        }
        println!("{fin}");
    } else {
        println!(
            "done: {} steps, {:.0} samples/s (setup {setup_s:.1} s); fvu {:.4}, L0 {:.2}, dead {:.1}%",
            last.step,
            samples_per_s,
            last.fvu,
            last.l0,
            100.0 * last.dead_frac
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct BenchSaeArgs {
    /// Timed steps per size (after warm-up).
    #[arg(long, default_value_t = 10)]
    steps: u32,
    /// Minibatch size (samples per step).
    #[arg(long, default_value_t = 1024)]
    batch: usize,
    /// Activation dimensions to time.
    #[arg(long, value_delimiter = ',', default_values_t = [128usize, 512])]
    d: Vec<usize>,
    /// Dictionary sizes as multiples of d.
    #[arg(long, value_delimiter = ',', default_values_t = [8usize, 16])]
    expansion: Vec<usize>,
    #[arg(long, default_value_t = 32)]
    k: usize,
    /// Also time the AuxK term (k_aux = d/2, every latent counted dead so it always works).
    #[arg(long)]
    auxk: bool,
    /// Also time the step's two heaviest parts alone (dense encoder product, top-k).
    #[arg(long)]
    profile: bool,
}

/// TopK SAE training samples/s on the CPU backend, synthetic activations.
pub fn bench(args: &BenchSaeArgs) -> Result<(), String> {
    let device = Device::flex();
    let ad = device.clone().autodiff();
    println!("backend,d,latents,k,batch,auxk,steps,wall_s,samples_per_s");
    for &d in &args.d {
        for &e in &args.expansion {
            let latents = d * e;
            let mut rng = SeededRng::new(0, 1);
            // A fixed pool of activations to draw minibatches from.
            let pool_n = 8 * args.batch;
            let pool: Vec<f32> = (0..pool_n * d).map(|_| rng.normal() as f32).collect();
            let pool = Tensor::<2>::from_data(TensorData::new(pool, [pool_n, d]), &device);
            let mut sae = Sae::new(latents, pool.clone().mean_dim(0).reshape([d]), 0, &ad);
            let mut optim = AdamConfig::new().init();
            let mut since = if args.auxk {
                Tensor::<1>::full([latents], 1e9, &device)
            } else {
                Tensor::<1>::zeros([latents], &device)
            };
            let kind = StepKind::TopK {
                k: args.k,
                k_aux: d / 2,
                aux_coef: if args.auxk { 1.0 / 32.0 } else { 0.0 },
                dead_after: 1e12,
            };
            let mut step = |sae: Sae, since: Tensor<1>, rng: &mut SeededRng| {
                let idx: Vec<i32> = (0..args.batch).map(|_| rng.below(pool_n) as i32).collect();
                let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [args.batch]), &device);
                let x = Tensor::<2>::from_inner(pool.clone().select(0, idx));
                let out = sae_step(sae, &mut optim, 1e-3, kind, x, since);
                (out.sae, out.since_fired, out.losses)
            };
            let sync = |t: Tensor<1>| {
                pollster::block_on(t.into_data_async()).map_err(|e| format!("{e:?}"))
            };
            if args.profile {
                let x = pool.clone().narrow(0, 0, args.batch);
                let w = sae.w_enc.val().inner();
                let t = Instant::now();
                let pre = x.matmul(w.transpose());
                sync(pre.clone().sum())?;
                let mm = t.elapsed().as_secs_f64();
                let t = Instant::now();
                let (v, _) = pre.topk_with_indices(args.k, 1);
                sync(v.sum())?;
                eprintln!(
                    "profile d={d} L={latents}: encoder matmul {:.1} ms, top-k {:.1} ms",
                    1e3 * mm,
                    1e3 * t.elapsed().as_secs_f64()
                );
            }
            for _ in 0..2 {
                let (s, f, l) = step(sae, since, &mut rng);
                sae = s;
                since = f;
                sync(l)?;
            }
            let start = Instant::now();
            let mut last = None;
            for _ in 0..args.steps {
                let (s, f, l) = step(sae, since, &mut rng);
                sae = s;
                since = f;
                last = Some(l);
            }
            if let Some(l) = last {
                sync(l)?;
            }
            sync(sae.w_dec.val().inner().sum())?;
            let wall = start.elapsed().as_secs_f64();
            println!(
                "{},{d},{latents},{},{},{},{},{wall:.3},{:.0}",
                neurolab_core::grok::CPU_BACKEND_NAME,
                args.k,
                args.batch,
                args.auxk,
                args.steps,
                (args.steps as usize * args.batch) as f64 / wall
            );
            let _ = sae.num_params();
        }
    }
    Ok(())
}
