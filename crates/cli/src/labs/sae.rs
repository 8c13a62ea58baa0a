//! `neurolab sae`: the sparse-autoencoder lab on the command line (the source prepared, then the
//! decomposition trained; `--save-weights`, `--save-saelens`), and `neurolab bench sae`: TopK SAE training
//! samples/s on the CPU backend for the sizes on synthetic activations.

use super::CliLab;
use crate::CliError;
use burn::module::Module;
use burn::optim::AdamConfig;
use burn::prelude::*;
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches as _};
use neurolab_base::rng::SeededRng;
use neurolab_base::Session as _;
use neurolab_core::sae::{sae_step, Sae, SaeKind, SaeLab, SaeReport, SaeSession, StepKind};
use serde_json::{json, Map, Value};
use std::time::Instant;

pub struct Out {
    last: Option<SaeReport>,
}

fn report_json(r: &SaeReport) -> Value {
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

impl CliLab for SaeLab {
    const ABOUT: &'static str =
        "Train a sparse autoencoder (or semi-NMF) on a model's activations (flags are the link's keys)";
    type Out = Out;
    const EXPORTS_WEIGHTS: bool = true;

    /// `--save-saelens PATH`: the lab's "saelens" export (run.rs writes every `--save-<what>`).
    fn extra_args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new("save-saelens")
                .long("save-saelens")
                .value_name("PATH")
                .help("write the SAE in SAELens's saved layout (cfg.json, sae_weights.safetensors, sparsity.safetensors; on raw activations, the normalisation folded in): PATH.zip as the page's download, any other PATH as that folder (not for semi-NMF)"),
        )
    }

    fn bench_args(cmd: Command) -> Command {
        BenchSaeArgs::augment_args(
            cmd.about("TopK SAE training samples/s (CPU backend, synthetic activations)"),
        )
    }

    fn bench(m: &ArgMatches) -> Result<(), CliError> {
        let args = BenchSaeArgs::from_arg_matches(m).map_err(|e| CliError::Usage(e.to_string()))?;
        bench(&args).map(|_| ())
    }

    fn bench_all(quick: bool) -> Result<Value, CliError> {
        // Every size of `bench sae` (d128/L1024 … d512/L8192); quick: the smallest, 2 steps.
        let argv: &[&str] = if quick {
            &["sae", "--d", "128", "--expansion", "8", "--steps", "2"]
        } else {
            &["sae"]
        };
        let m = BenchSaeArgs::augment_args(Command::new("sae"))
            .try_get_matches_from(argv)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let args =
            BenchSaeArgs::from_arg_matches(&m).map_err(|e| CliError::Usage(e.to_string()))?;
        Ok(json!({ "topk_samples_per_s": bench(&args)? }))
    }

    /// The Benchmark panel's TopK SAE.
    fn bench_dispatches(
        env: &neurolab_worker::env::Env,
        launches: &crate::bench::Launches,
    ) -> Result<Vec<(String, f64, f64)>, CliError> {
        use neurolab_base::Lab as _;
        let mut rows = Vec::new();
        for case in SaeLab::bench_cases() {
            let mut s = SaeSession::new(case.config, env.device.clone(), None)
                .map_err(|e| CliError::Lab(e.to_string()))?;
            let (per, wall) = launches.per_step(&mut s)?;
            rows.push((format!("sae {}", case.name), per, wall));
        }
        Ok(rows)
    }

    fn start(_m: &ArgMatches) -> Result<Out, CliError> {
        Ok(Out { last: None })
    }

    fn report(out: &mut Out, r: &SaeReport, json: bool) -> Result<bool, CliError> {
        if json {
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
        out.last = Some(r.clone());
        Ok(true)
    }

    fn finish(
        out: &mut Out,
        session: &SaeSession,
        _m: &ArgMatches,
        fin: &mut Map<String, Value>,
    ) -> Result<(), CliError> {
        let c = session.config();
        let summary = session.summary();
        if let Some(Value::Object(r)) = out.last.as_ref().map(report_json) {
            fin.extend(r);
        }
        let steps = out.last.as_ref().map_or(0, |r| r.step) as f64;
        let per_step = match c.kind {
            SaeKind::Snmf => f64::from(summary.n_samples),
            _ => f64::from(c.batch),
        };
        let steps_per_s = fin
            .get("steps_per_s")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        fin.insert("samples_per_s".into(), json!(per_step * steps_per_s));
        fin.insert("samples".into(), json!(per_step * steps));
        fin.insert("source".into(), json!(c.source.name()));
        fin.insert("source_text".into(), json!(summary.source));
        fin.insert("kind".into(), json!(c.kind.name()));
        fin.insert("latents".into(), json!(c.latents));
        fin.insert("d".into(), json!(summary.d));
        fin.insert("n_samples".into(), json!(summary.n_samples));
        Ok(())
    }
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
pub fn bench(args: &BenchSaeArgs) -> Result<Vec<Value>, CliError> {
    let device = Device::flex();
    let ad = device.clone().autodiff();
    println!("backend,d,latents,k,batch,auxk,steps,wall_s,samples_per_s");
    let mut rows = Vec::new();
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
                let out = pollster::block_on(sae_step(sae, &mut optim, 1e-3, kind, x, since));
                (out.sae, out.since_fired, out.losses)
            };
            let sync = |t: Tensor<1>| {
                pollster::block_on(t.into_data_async()).map_err(|e| CliError::Lab(format!("{e:?}")))
            };
            if args.profile {
                let x = pool.clone().narrow(0, 0, args.batch);
                let w = sae.w_enc.val().inner();
                let t = Instant::now();
                let pre = x.matmul(w.transpose());
                sync(pre.clone().sum())?;
                let mm = t.elapsed().as_secs_f64();
                let t = Instant::now();
                let (v, _) = pollster::block_on(neurolab_core::sae::top_k(pre, args.k));
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
            rows.push(json!({
                "backend": neurolab_core::grok::CPU_BACKEND_NAME,
                "d": d,
                "latents": latents,
                "k": args.k,
                "batch": args.batch,
                "auxk": args.auxk,
                "steps": args.steps,
                "wall_s": wall,
                "samples_per_s": (args.steps as usize * args.batch) as f64 / wall,
            }));
            let _ = sae.num_params();
        }
    }
    Ok(rows)
}
