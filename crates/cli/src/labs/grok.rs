//! `neurolab grok`: the grokking lab on the command line (`--csv`, `--stop-at-acc`,
//! `--save-weights`), and `neurolab bench grok`: steps/s of both presets on every backend here.

use super::CliLab;
use crate::CliError;
use clap::{Arg, ArgMatches, Command};
use neurolab_core::grok::report::{curves_csv, first_step_reaching};
use neurolab_core::grok::{GrokConfig, GrokLab, GrokSession, StepReport};
use serde_json::{json, Map, Value};
use std::time::Instant;

pub struct Out {
    reports: Vec<StepReport>,
    stop_at_acc: Option<f32>,
}

fn report_json(r: &StepReport) -> Value {
    json!({
        "step": r.step,
        "train_loss": r.train_loss,
        "test_loss": r.test_loss,
        "train_acc": r.train_acc,
        "test_acc": r.test_acc,
        "weight_norm": r.weight_norm,
    })
}

impl CliLab for GrokLab {
    const ABOUT: &'static str = "Train a grokking model on a ∘ b mod p (flags are the link's keys)";
    type Out = Out;
    const EXPORTS_WEIGHTS: bool = true;

    fn extra_args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new("csv")
                .long("csv")
                .value_name("FILE")
                .help("write the curves here (CSV)"),
        )
        .arg(
            Arg::new("stop-at-acc")
                .long("stop-at-acc")
                .value_name("ACC")
                .value_parser(clap::value_parser!(f32))
                .help("stop once test accuracy reaches this (e.g. 0.99)"),
        )
    }

    fn bench_args(cmd: Command) -> Command {
        cmd.about("steps/s of both grokking presets on every backend available here")
            .arg(
                Arg::new("steps")
                    .long("steps")
                    .value_parser(clap::value_parser!(u32))
                    .default_value("30")
                    .help("timed steps per preset and backend (after warm-up)"),
            )
            .arg(
                Arg::new("backend")
                    .long("backend")
                    .value_parser(["cpu", "ndarray", "wgpu"])
                    .action(clap::ArgAction::Append)
                    .help("only these backends (default: all)"),
            )
    }

    fn bench(m: &ArgMatches) -> Result<(), CliError> {
        let steps = m.get_one::<u32>("steps").copied().unwrap_or(30);
        let backends: Vec<String> = m
            .get_many::<String>("backend")
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
        bench(steps, &backends)
    }

    fn start(m: &ArgMatches) -> Result<Out, CliError> {
        Ok(Out {
            reports: Vec::new(),
            stop_at_acc: m.get_one::<f32>("stop-at-acc").copied(),
        })
    }

    fn report(out: &mut Out, r: &StepReport, json: bool) -> Result<bool, CliError> {
        if json {
            println!("{}", report_json(r));
        } else {
            println!(
                "step {:>6}  train loss {:.4}  test loss {:.4}  train acc {:.3}  test acc {:.3}  |w| {:.2}",
                r.step, r.train_loss, r.test_loss, r.train_acc, r.test_acc, r.weight_norm
            );
        }
        out.reports.push(*r);
        Ok(!out.stop_at_acc.is_some_and(|t| r.test_acc >= t))
    }

    fn finish(
        out: &mut Out,
        _session: &GrokSession,
        m: &ArgMatches,
        fin: &mut Map<String, Value>,
    ) -> Result<(), CliError> {
        if let Some(path) = m.get_one::<String>("csv") {
            std::fs::write(path, curves_csv(&out.reports))
                .map_err(|e| CliError::Io(format!("cannot write {path}: {e}")))?;
        }
        if let Some(last) = out.reports.last() {
            if let Value::Object(r) = report_json(last) {
                fin.extend(r);
            }
        }
        fin.insert(
            "step_test_acc_99".into(),
            json!(first_step_reaching(&out.reports, 0.99)),
        );
        Ok(())
    }
}

fn block<T>(
    f: impl std::future::Future<Output = Result<T, neurolab_core::grok::GrokError>>,
) -> Result<T, CliError> {
    pollster::block_on(f).map_err(|e| CliError::Lab(e.to_string()))
}

/// Steps/s of both presets on each backend (after a warm-up), as CSV lines.
pub fn bench(steps: u32, backends: &[String]) -> Result<(), CliError> {
    let backends: Vec<String> = if backends.is_empty() {
        vec!["cpu".into(), "ndarray".into(), "wgpu".into()]
    } else {
        backends.to_vec()
    };
    println!("preset,backend,steps,wall_s,steps_per_s");
    for backend in backends {
        let env = match crate::run::env_for(&backend) {
            Ok(env) => env,
            Err(e) => {
                eprintln!("skipping {backend}: {e}");
                continue;
            }
        };
        for (label, config) in [
            ("mlp-p97", GrokConfig::preset_mlp()),
            ("transformer-p113", GrokConfig::preset_transformer()),
        ] {
            let mut session = GrokSession::new(config, env.device.clone())
                .map_err(|e| CliError::Lab(e.to_string()))?;
            // Warm-up: first steps allocate and (on wgpu) compile kernels.
            for _ in 0..3 {
                session.train_step();
            }
            block(session.metrics())?;
            let start = Instant::now();
            for _ in 0..steps {
                session.train_step();
            }
            // A readback makes sure queued device work is done before the clock stops.
            block(session.metrics())?;
            let wall = start.elapsed().as_secs_f64();
            println!(
                "{label},{},{steps},{wall:.3},{:.2}",
                env.info.adapter,
                steps as f64 / wall
            );
        }
    }
    Ok(())
}
