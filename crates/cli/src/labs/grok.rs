//! `neurolab grok`: the grokking lab on the command line (`--csv`, `--stop-at-acc`,
//! `--save-weights`, `--checkpoint-every/--checkpoint-dir`, `--neurons-csv`), and `neurolab bench
//! grok`: steps/s of both presets on every backend here, with and without the analysis.

use super::CliLab;
use crate::CliError;
use clap::{Arg, ArgMatches, Command};
use neurolab_core::grok::analysis::{curve, stage_at, stages, StageSpan};
use neurolab_core::grok::report::{curves_csv, first_step_reaching, neurons_csv};
use neurolab_core::grok::{Analysis, GrokConfig, GrokLab, GrokReport, GrokSession, StepReport};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

pub struct Out {
    reports: Vec<StepReport>,
    /// `(step, restricted loss)` of each analysis.
    analysed: Vec<(u32, Option<f32>)>,
    /// The latest analysis of the first run.
    last: Option<Box<Analysis>>,
    stop_at_acc: Option<f32>,
    checkpoints: Option<(u32, PathBuf)>,
    written: BTreeSet<u32>,
    /// The forks' labels and reports (runs 2 and on), for the final object's `runs`.
    forks: BTreeMap<u32, (Option<String>, Vec<StepReport>)>,
    /// The first run's label.
    label: Option<String>,
}

impl Out {
    fn phases(&self) -> Vec<StageSpan> {
        let points = self
            .reports
            .iter()
            .map(|r| (r.step, r.train_acc, r.test_acc, r.test_loss));
        stages(&curve(points, &self.analysed))
    }
}

fn phases_json(spans: &[StageSpan]) -> Value {
    spans
        .iter()
        .map(|s| json!({"phase": s.stage.name(), "from": s.from, "to": s.to}))
        .collect()
}

fn report_json(r: &StepReport, a: Option<&Analysis>, phase: Option<&str>) -> Value {
    json!({
        "step": r.step,
        "train_loss": r.train_loss,
        "test_loss": r.test_loss,
        "train_acc": r.train_acc,
        "test_acc": r.test_acc,
        "weight_norm": r.weight_norm,
        "analysed_at": a.map(|a| a.step),
        "key_freqs": a.map(|a| a.key_freqs.clone()),
        "key_power_frac": a.map(|a| a.key_power_frac),
        "gini": a.map(|a| a.gini),
        "restricted_loss": a.and_then(|a| a.restricted_loss),
        "excluded_loss": a.and_then(|a| a.excluded_loss),
        "cka": a.and_then(|a| a.cka),
        "weight_change": a.map(|a| a.weight_change.iter().map(|c| (c.layer.clone(), json!(c.relative))).collect::<Map<String, Value>>()),
        "phase": phase,
    })
}

fn write(path: &std::path::Path, bytes: impl AsRef<[u8]>) -> Result<(), CliError> {
    std::fs::write(path, bytes)
        .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))
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
        .arg(
            Arg::new("checkpoint-every")
                .long("checkpoint-every")
                .value_name("N")
                .value_parser(clap::value_parser!(u32).range(1..))
                .requires("checkpoint-dir")
                .help("write the weights every N steps (a multiple of --ana, where checkpoints are kept)"),
        )
        .arg(
            Arg::new("checkpoint-dir")
                .long("checkpoint-dir")
                .value_name("DIR")
                .requires("checkpoint-every")
                .help("where --checkpoint-every writes step-NNNNNN.safetensors"),
        )
        .arg(
            Arg::new("neurons-csv")
                .long("neurons-csv")
                .value_name("FILE")
                .help("write the last analysis' per-neuron table (frequency, power share, phase)"),
        )
    }

    fn bench_args(cmd: Command) -> Command {
        cmd.about("steps/s of both grokking presets on every backend available here, with and without the analysis")
            .arg(
                Arg::new("steps")
                    .long("steps")
                    .value_parser(clap::value_parser!(u32))
                    .default_value("300")
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
        let steps = m.get_one::<u32>("steps").copied().unwrap_or(300);
        let backends: Vec<String> = m
            .get_many::<String>("backend")
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
        bench(steps, &backends).map(|_| ())
    }

    fn bench_all(quick: bool) -> Result<Value, CliError> {
        let rows = bench(if quick { 20 } else { 200 }, &["cpu".to_string()])?;
        let to_99 = if quick {
            json!({ "skipped": "--quick" })
        } else {
            steps_to_99(&rows)?
        };
        Ok(json!({ "steps_per_s": rows, "mlp_to_99": to_99 }))
    }

    /// Both presets' steps with their closed-form gradients and, for comparison, through
    /// autodiff.
    fn bench_dispatches(
        env: &neurolab_worker::env::Env,
        launches: &crate::bench::Launches,
    ) -> Result<Vec<(String, f64, f64)>, CliError> {
        let quiet = |c: GrokConfig| GrokConfig {
            analyse_every: 0,
            report_every: 10_000,
            steps: 100_000,
            ..c
        };
        let mut rows = Vec::new();
        for (name, config, fused) in [
            (
                "grok mlp-p97 (closed-form gradients)",
                GrokConfig::preset_mlp(),
                true,
            ),
            ("grok mlp-p97 (autodiff)", GrokConfig::preset_mlp(), false),
            (
                "grok transformer-p113 (closed-form gradients)",
                GrokConfig::preset_transformer(),
                true,
            ),
            (
                "grok transformer-p113 (autodiff)",
                GrokConfig::preset_transformer(),
                false,
            ),
        ] {
            let mut s = GrokSession::new(quiet(config), env.device.clone())
                .map_err(|e| CliError::Lab(e.to_string()))?;
            s.set_fused(fused);
            let (per, wall) = launches.per_step(&mut s)?;
            rows.push((name.to_string(), per, wall));
        }
        Ok(rows)
    }

    fn start(m: &ArgMatches) -> Result<Out, CliError> {
        let checkpoints = match (
            m.get_one::<u32>("checkpoint-every"),
            m.get_one::<String>("checkpoint-dir"),
        ) {
            (Some(&every), Some(dir)) => {
                let config: GrokConfig = crate::flags::config_from(m)?;
                let ana = config.analyse_every;
                if ana == 0 || every % ana != 0 {
                    return Err(CliError::Usage(format!(
                        "--checkpoint-every {every} must be a multiple of the analysis interval ana = {ana} (checkpoints are kept at analysis steps; set --ana too)"
                    )));
                }
                std::fs::create_dir_all(dir)
                    .map_err(|e| CliError::Io(format!("cannot create {dir}: {e}")))?;
                Some((every, PathBuf::from(dir)))
            }
            _ => None,
        };
        Ok(Out {
            reports: Vec::new(),
            analysed: Vec::new(),
            last: None,
            stop_at_acc: m.get_one::<f32>("stop-at-acc").copied(),
            checkpoints,
            written: BTreeSet::new(),
            forks: BTreeMap::new(),
            label: None,
        })
    }

    fn report(out: &mut Out, report: &GrokReport, json: bool) -> Result<bool, CliError> {
        let r = &report.metrics;
        if r.run != 0 {
            let (label, reports) = out.forks.entry(r.run).or_default();
            if report.label.is_some() {
                label.clone_from(&report.label);
            }
            reports.push(*r);
            if json {
                let mut line = report_json(r, None, None);
                line["run"] = json!(r.run + 1);
                println!("{line}");
            }
            return Ok(true);
        }
        if report.label.is_some() {
            out.label.clone_from(&report.label);
        }
        if let Some(a) = &report.analysis {
            out.last = Some(a.clone());
            out.analysed.push((a.step, a.restricted_loss));
        }
        out.reports.push(*r);
        let a = out.last.as_deref();
        let phase = stage_at(&out.phases(), r.step).map(|s| s.name());
        if json {
            println!("{}", report_json(r, a, phase));
        } else {
            let mechanism = match &report.analysis {
                Some(a) => format!(
                    "  keys {:?} ({:.0} % of power, Gini {:.2}){}",
                    a.key_freqs,
                    (100.0 * a.key_power_frac).max(0.0),
                    a.gini,
                    match (a.restricted_loss, a.excluded_loss) {
                        (Some(r), Some(e)) => format!("  restricted {r:.4}  excluded {e:.4}"),
                        _ => String::new(),
                    }
                ),
                None => String::new(),
            };
            println!(
                "step {:>6}  train loss {:.4}  test loss {:.4}  train acc {:.3}  test acc {:.3}  |w| {:.2}  {}{mechanism}",
                r.step, r.train_loss, r.test_loss, r.train_acc, r.test_acc, r.weight_norm,
                phase.unwrap_or("")
            );
        }
        Ok(!out.stop_at_acc.is_some_and(|t| r.test_acc >= t))
    }

    fn after_chunk(out: &mut Out, session: &GrokSession, _m: &ArgMatches) -> Result<(), CliError> {
        let Some((every, dir)) = &out.checkpoints else {
            return Ok(());
        };
        for step in session.checkpoint_steps(0) {
            if step % every != 0 || out.written.contains(&step) {
                continue;
            }
            let (at, bytes) = block(session.checkpoint_file(0, step))?;
            write(&dir.join(format!("step-{at:06}.safetensors")), bytes)?;
            out.written.insert(at);
        }
        Ok(())
    }

    fn finish(
        out: &mut Out,
        _session: &GrokSession,
        m: &ArgMatches,
        fin: &mut Map<String, Value>,
    ) -> Result<(), CliError> {
        if let Some(path) = m.get_one::<String>("csv") {
            write(path.as_ref(), curves_csv(&out.reports))?;
        }
        if let Some(path) = m.get_one::<String>("neurons-csv") {
            let a = out.last.as_deref().ok_or_else(|| {
                CliError::Lab("no analysis ran (ana = 0?), so there is no neuron table".into())
            })?;
            write(path.as_ref(), neurons_csv(a))?;
        }
        let phases = out.phases();
        if let Some(last) = out.reports.last() {
            let phase = stage_at(&phases, last.step).map(|s| s.name());
            if let Value::Object(r) = report_json(last, out.last.as_deref(), phase) {
                fin.extend(r);
            }
        }
        fin.insert("phases".into(), phases_json(&phases));
        fin.insert(
            "step_test_acc_99".into(),
            json!(first_step_reaching(&out.reports, 0.99)),
        );
        if out.checkpoints.is_some() {
            fin.insert("checkpoints_written".into(), json!(out.written));
        }
        if !out.forks.is_empty() {
            // Every run (1-based, as the page numbers them): its name, last report and the
            // first step at 99 % test accuracy.
            let mut runs = vec![json!({
                "run": 1,
                "label": out.label,
                "step": out.reports.last().map(|r| r.step),
                "test_acc": out.reports.last().map(|r| r.test_acc),
                "step_test_acc_99": first_step_reaching(&out.reports, 0.99),
            })];
            for (run, (label, reports)) in &out.forks {
                runs.push(json!({
                    "run": run + 1,
                    "label": label,
                    "step": reports.last().map(|r| r.step),
                    "test_acc": reports.last().map(|r| r.test_acc),
                    "step_test_acc_99": first_step_reaching(reports, 0.99),
                }));
            }
            fin.insert("runs".into(), Value::Array(runs));
        }
        Ok(())
    }
}

fn block<T>(
    f: impl std::future::Future<Output = Result<T, neurolab_core::grok::GrokError>>,
) -> Result<T, CliError> {
    pollster::block_on(f).map_err(|e| CliError::Lab(e.to_string()))
}

/// Steps/s of both presets on each backend (after a warm-up), through the session's chunks as
/// the worker runs them (reports at the preset's interval), with the analysis at its default
/// interval and without it (`ana` = 0), as CSV lines.
pub fn bench(steps: u32, backends: &[String]) -> Result<Vec<Value>, CliError> {
    use neurolab_base::lab::Chunk;
    use neurolab_base::Session as _;
    let backends: Vec<String> = if backends.is_empty() {
        vec!["cpu".into(), "ndarray".into(), "wgpu".into()]
    } else {
        backends.to_vec()
    };
    println!("preset,backend,analysis_every,gradients,steps,wall_s,steps_per_s");
    let mut rows = Vec::new();
    for backend in backends {
        let env = match crate::run::env_for(&backend) {
            Ok(env) => env,
            Err(e) => {
                eprintln!("skipping {backend}: {e}");
                continue;
            }
        };
        for (label, preset) in [
            ("mlp-p97", GrokConfig::preset_mlp()),
            ("transformer-p113", GrokConfig::preset_transformer()),
        ] {
            // The sessions side by side, advanced in alternating chunks of 50 steps and each
            // chunk timed: drift on the machine (measured: runs in one process differ up to 2×
            // in turn) falls on all alike. With and without the analysis; also through autodiff
            // instead of the closed-form gradients (what each trained with before) and, on the CPU
            // backend, the closed form through burn's tensor ops instead of the host step (what
            // the CPU backend ran before it; the WebGPU path).
            let mut variants = vec![(preset.analyse_every, true, true), (0, true, true)];
            if backend == "cpu" {
                variants.push((0, true, false));
            }
            variants.push((0, false, true));
            let mut sessions = Vec::new();
            for &(ana, fused, host) in &variants {
                let config = GrokConfig {
                    analyse_every: ana,
                    steps: steps + 3,
                    ..preset.clone()
                };
                let mut session = GrokSession::new(config, env.device.clone())
                    .map_err(|e| CliError::Lab(e.to_string()))?;
                session.set_fused(fused);
                session.set_host(host);
                // Warm-up: the first steps allocate and (on wgpu) compile kernels.
                block(session.advance(Chunk {
                    units: 3,
                    sync: true,
                }))?;
                sessions.push(session);
            }
            let mut walls = vec![0f64; variants.len()];
            let mut done = 0;
            while done < steps {
                let units = (steps - done).min(50);
                for (session, wall) in sessions.iter_mut().zip(&mut walls) {
                    let start = Instant::now();
                    block(session.advance(Chunk { units, sync: true }))?;
                    *wall += start.elapsed().as_secs_f64();
                }
                done += units;
            }
            for ((ana, fused, host), wall) in variants.into_iter().zip(walls) {
                let gradients = match (fused, host) {
                    (false, _) => "autodiff",
                    (true, true) => "closed form",
                    (true, false) => "closed form (burn ops)",
                };
                println!(
                    "{label},{},{ana},{gradients},{steps},{wall:.3},{:.2}",
                    env.info.adapter,
                    steps as f64 / wall
                );
                rows.push(json!({
                    "preset": label,
                    "backend": env.info.adapter,
                    "analysis_every": ana,
                    "gradients": gradients,
                    "steps": steps,
                    "wall_s": wall,
                    "steps_per_s": steps as f64 / wall,
                }));
            }
        }
    }
    Ok(rows)
}

/// The MLP preset on the CPU backend until its test accuracy reaches 99 % (reports every 10
/// steps): the first such step, the run's wall time (reports included), and the figure
/// `steps × seconds per training step`, with the training step timed by `bench grok` (`rows`:
/// the closed-form row without the analysis) when it is there.
fn steps_to_99(rows: &[Value]) -> Result<Value, CliError> {
    use neurolab_base::lab::Chunk;
    use neurolab_base::Session as _;
    let env = crate::run::env_for("cpu")?;
    let config = GrokConfig {
        analyse_every: 0,
        report_every: 10,
        steps: 20_000,
        ..GrokConfig::preset_mlp()
    };
    let mut session =
        GrokSession::new(config, env.device.clone()).map_err(|e| CliError::Lab(e.to_string()))?;
    let start = Instant::now();
    while session.step_count() < 20_000 {
        block(session.advance(Chunk {
            units: 10,
            sync: true,
        }))?;
        let report = block(session.report())?;
        if report.is_some_and(|r| r.metrics.test_acc >= 0.99) {
            let wall = start.elapsed().as_secs_f64();
            let steps = session.step_count();
            let step_s = rows
                .iter()
                .find(|r| {
                    r["preset"] == "mlp-p97"
                        && r["analysis_every"] == 0
                        && r["gradients"] == "closed form"
                })
                .and_then(|r| r["steps_per_s"].as_f64())
                .map_or(wall / f64::from(steps), |rate| 1.0 / rate);
            println!(
                "mlp-p97 to 99 % test accuracy: {steps} steps, {wall:.2} s with reports; {steps} × {:.1} ms = {:.2} s",
                1e3 * step_s,
                f64::from(steps) * step_s
            );
            return Ok(json!({
                "steps": steps,
                "wall_s": wall,
                "seconds_per_step": step_s,
                "steps_times_seconds_per_step": f64::from(steps) * step_s,
            }));
        }
    }
    Ok(json!({ "steps": null, "note": "did not reach 99 % in 20,000 steps" }))
}
