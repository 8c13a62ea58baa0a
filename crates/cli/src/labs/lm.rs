//! `neurolab lm`: the language-model lab on the command line — train on `--corpus facts`,
//! `stories` or a `FILE.txt` (reports, `--save-weights`, a final object with the losses, tokens/s
//! and recall per relation); with `--load F` its tools instead of training: `--generate PROMPT`
//! (with `--clamp LAYER.NEURON=VALUE` / `--add LAYER.NEURON=SCALE`), `--patch --clean T
//! --corrupt T`, `--relation-neurons`, each printing one JSON object. `neurolab bench lm`:
//! training tokens/s on the CPU backend beside PyTorch's (crates/cli/bench/lm_torch.py).

use super::CliLab;
use crate::CliError;
use clap::{Arg, ArgAction, ArgMatches, Command};
use neurolab_base::{Lab as _, LabConfig as _};
use neurolab_core::lm::corpus::{read_text, CorpusKind};
use neurolab_core::lm::{
    GenerateRequest, LmConfig, LmLab, LmReport, LmSession, PatchRequest, Steer,
};
use serde_json::{json, Map, Value};
use std::time::Instant;

pub struct Out {
    last: Option<LmReport>,
}

fn report_json(r: &LmReport) -> Value {
    let mut v = json!({
        "step": r.step,
        "tokens": r.tokens,
        "train_loss": r.train_loss,
        "val_loss": r.val_loss,
        "lr": r.lr,
    });
    if let Some(obj) = v.as_object_mut() {
        if !r.recall.is_empty() {
            obj.insert("recall".into(), recall_json(r));
        }
        if let Some(s) = &r.sample {
            obj.insert(
                "sample".into(),
                json!({ "prompt": s.prompt, "text": s.text }),
            );
        }
    }
    v
}

fn recall_json(r: &LmReport) -> Value {
    let mut per = Map::new();
    for rel in &r.recall {
        per.insert(
            rel.relation.clone(),
            json!({ "seen": rel.seen, "held_out": rel.held_out }),
        );
    }
    per.insert("mean_seen".into(), json!(r.recall_seen()));
    per.insert("mean_held_out".into(), json!(r.recall_held_out()));
    Value::Object(per)
}

/// `LAYER.NEURON=VALUE`.
fn parse_steer(text: &str, add: bool) -> Result<Steer, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--{} takes LAYER.NEURON=VALUE (e.g. 1.37=5), got '{text}'",
            if add { "add" } else { "clamp" }
        ))
    };
    let (at, value) = text.split_once('=').ok_or_else(bad)?;
    let (layer, neuron) = at.split_once('.').ok_or_else(bad)?;
    let layer: u32 = layer.trim().parse().map_err(|_| bad())?;
    let neuron: u32 = neuron.trim().parse().map_err(|_| bad())?;
    let value: f32 = value.trim().parse().map_err(|_| bad())?;
    if !value.is_finite() {
        return Err(bad());
    }
    Ok(if add {
        Steer::Add {
            layer,
            neuron,
            scale: value,
        }
    } else {
        Steer::Clamp {
            layer,
            neuron,
            value,
        }
    })
}

fn lab_error(e: impl std::fmt::Display) -> CliError {
    CliError::Lab(e.to_string())
}

fn print_json(v: &impl serde::Serialize) -> Result<(), CliError> {
    println!(
        "{}",
        serde_json::to_string(v).map_err(|e| CliError::Io(e.to_string()))?
    );
    Ok(())
}

/// `--load F` and a tool: the session built from the flags, the weights loaded, the tool's answer.
fn tool(m: &ArgMatches, path: &str) -> Result<(), CliError> {
    let config = LmLab::cli_config(m)?;
    let backend = m.get_one::<String>("backend").map_or("cpu", String::as_str);
    let env = crate::run::env_for(backend)?;
    let mut s = LmSession::new(config, env.device.clone()).map_err(lab_error)?;
    let bytes =
        std::fs::read(path).map_err(|e| CliError::Io(format!("cannot read {path}: {e}")))?;
    s.import(&bytes).map_err(lab_error)?;
    if let Some(prompt) = m.get_one::<String>("generate") {
        let mut steer = Vec::new();
        for c in m.get_many::<String>("clamp").into_iter().flatten() {
            steer.push(parse_steer(c, false)?);
        }
        for c in m.get_many::<String>("add").into_iter().flatten() {
            steer.push(parse_steer(c, true)?);
        }
        let num = |key: &str, default: f64| -> Result<f64, CliError> {
            m.get_one::<String>(key).map_or(Ok(default), |v| {
                v.parse()
                    .map_err(|_| CliError::Usage(format!("--{key} takes a number, got '{v}'")))
            })
        };
        let request = GenerateRequest {
            prompt: prompt.clone(),
            temperature: num("temperature", 0.0)? as f32,
            top_k: num("top-k", 0.0)? as u32,
            length: num("length", 20.0)? as u32,
            seed: num("gen-seed", 0.0)? as u64,
            steer,
        };
        let (plain, steered) = pollster::block_on(s.generate(&request)).map_err(lab_error)?;
        return print_json(&json!({ "plain": plain, "steered": steered }));
    }
    if m.get_flag("patch") {
        let get = |k: &str| m.get_one::<String>(k).cloned();
        let request = PatchRequest {
            clean: get("clean")
                .ok_or_else(|| CliError::Usage("--patch needs --clean TEXT".into()))?,
            corrupt: get("corrupt")
                .ok_or_else(|| CliError::Usage("--patch needs --corrupt TEXT".into()))?,
            answer_clean: None,
            answer_corrupt: None,
        };
        let result = pollster::block_on(s.patch(&request)).map_err(lab_error)?;
        return print_json(&result);
    }
    if m.get_flag("relation-neurons") {
        let result = pollster::block_on(s.relation_neurons(
            &[],
            m.get_flag("mean-ablation"),
            m.get_flag("all-positions"),
        ))
        .map_err(lab_error)?;
        return print_json(&result);
    }
    Err(CliError::Usage(
        "--load needs a tool: --generate PROMPT, --patch --clean T --corrupt T, or --relation-neurons"
            .into(),
    ))
}

impl CliLab for LmLab {
    const ABOUT: &'static str =
        "Train a small GPT on facts, stories or your text; generate, steer, patch, find relation neurons (flags are the link's keys)";
    type Out = Out;
    const EXPORTS_WEIGHTS: bool = true;

    fn extra_args(cmd: Command) -> Command {
        let text = |id: &'static str, name: &'static str, help: &'static str| {
            Arg::new(id).long(id).value_name(name).help(help)
        };
        let flag = |id: &'static str, help: &'static str| {
            Arg::new(id).long(id).action(ArgAction::SetTrue).help(help)
        };
        cmd.arg(text("load", "FILE", "weights this lab exported (.safetensors): run a tool on them instead of training (the other flags must describe the same model and corpus)"))
            .arg(text("generate", "PROMPT", "with --load: continue the prompt (JSON: the tokens and each position's next-token distribution)"))
            .arg(
                text("clamp", "LAYER.NEURON=VALUE", "with --generate: hold an MLP neuron at VALUE (the steered generation beside the plain one)")
                    .action(ArgAction::Append),
            )
            .arg(
                text("add", "LAYER.NEURON=SCALE", "with --generate: add SCALE × the neuron's output direction to the residual stream after its layer")
                    .action(ArgAction::Append),
            )
            .arg(text("temperature", "X", "with --generate: 0 is greedy (default 0)"))
            .arg(text("top-k", "N", "with --generate: sample among the N most likely (0: all)"))
            .arg(text("length", "N", "with --generate: tokens to write (default 20)"))
            .arg(text("gen-seed", "N", "with --generate: the sampling seed (default 0)"))
            .arg(flag("patch", "with --load: activation patching of --clean into --corrupt at every layer × position (JSON heat-map)"))
            .arg(text("clean", "TEXT", "with --patch: the clean prompt"))
            .arg(text("corrupt", "TEXT", "with --patch: the corrupted prompt (as many tokens)"))
            .arg(flag("relation-neurons", "with --load: per relation, the neurons ranked by attribution and recall with the top k ablated (JSON)"))
            .arg(flag("mean-ablation", "with --relation-neurons: replace neurons by their mean instead of zero"))
            .arg(flag("all-positions", "with --relation-neurons: silence the neurons at every position (default: at the answer's)"))
    }

    /// `--corpus FILE.txt` reads the file (refused with its message when empty, binary, not
    /// UTF-8 or over 5 MB) and trains on it by characters.
    fn cli_config(m: &ArgMatches) -> Result<LmConfig, CliError> {
        let corpus = m.get_one::<String>("corpus").cloned().unwrap_or_default();
        if corpus.is_empty() || CorpusKind::parse(&corpus).is_some() {
            return Ok(crate::flags::config_from(m)?);
        }
        let bytes = std::fs::read(&corpus).map_err(|e| {
            CliError::Usage(format!(
                "--corpus takes facts, stories or a text file; cannot read '{corpus}': {e}"
            ))
        })?;
        let text = read_text(&bytes).map_err(|e| CliError::Usage(format!("{corpus}: {e}")))?;
        let config: LmConfig = crate::flags::config_with(m, &[("corpus", "text")])?;
        let config = config.with_text(text);
        config.validate()?;
        Ok(config)
    }

    fn tool(m: &ArgMatches) -> Option<Result<(), CliError>> {
        m.get_one::<String>("load").map(|path| tool(m, path))
    }

    fn start(_m: &ArgMatches) -> Result<Out, CliError> {
        Ok(Out { last: None })
    }

    fn report(out: &mut Out, r: &LmReport, json: bool) -> Result<bool, CliError> {
        if json {
            println!("{}", report_json(r));
        } else {
            let recall = r
                .recall_seen()
                .map_or(String::new(), |v| format!("  recall {:.1}%", 100.0 * v));
            println!(
                "step {:>6}  loss {:.4}  val {:.4}{recall}",
                r.step, r.train_loss, r.val_loss
            );
            if let Some(s) = &r.sample {
                println!("    {} | {}", s.prompt, s.text);
            }
        }
        out.last = Some(r.clone());
        Ok(true)
    }

    fn finish(
        out: &mut Out,
        session: &LmSession,
        _m: &ArgMatches,
        fin: &mut Map<String, Value>,
    ) -> Result<(), CliError> {
        use neurolab_base::Session as _;
        let c = session.config();
        if let Some(r) = &out.last {
            fin.insert("train_loss".into(), json!(r.train_loss));
            fin.insert("val_loss".into(), json!(r.val_loss));
            if !r.recall.is_empty() {
                fin.insert("recall".into(), recall_json(r));
            }
        }
        let steps_per_s = fin
            .get("steps_per_s")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        fin.insert(
            "tokens_per_s".into(),
            json!(steps_per_s * f64::from(c.batch * c.ctx)),
        );
        let summary = session.summary();
        fin.insert("corpus".into(), json!(summary.corpus));
        fin.insert("vocab".into(), json!(summary.vocab.len()));
        fin.insert("params".into(), json!(summary.params));
        Ok(())
    }

    fn bench_args(cmd: Command) -> Command {
        cmd.about("training tokens/s of the facts preset on the CPU backend, beside PyTorch's when installed")
            .arg(
                Arg::new("steps")
                    .long("steps")
                    .value_name("N")
                    .default_value("100")
                    .help("timed training steps (after 5 warm-up steps)"),
            )
    }

    fn bench(m: &ArgMatches) -> Result<(), CliError> {
        let steps = m
            .get_one::<String>("steps")
            .and_then(|s| s.parse().ok())
            .unwrap_or(100);
        let v = bench_all_steps(steps, false)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| CliError::Io(e.to_string()))?
        );
        Ok(())
    }

    fn bench_all(quick: bool) -> Result<Value, CliError> {
        bench_all_steps(if quick { 3 } else { 100 }, false)
    }

    fn bench_dispatches(
        env: &neurolab_worker::env::Env,
        launches: &crate::bench::Launches,
    ) -> Result<Vec<(String, f64, f64)>, CliError> {
        let mut rows = Vec::new();
        for case in LmLab::bench_cases() {
            let mut s = LmSession::new(case.config, env.device.clone()).map_err(lab_error)?;
            let (per, wall) = launches.per_step(&mut s)?;
            rows.push((format!("lm {}", case.name), per, wall));
        }
        Ok(rows)
    }
}

/// Our training tokens/s for the bench case(s) and PyTorch's for the same model and batch.
fn bench_all_steps(steps: u32, torch_required: bool) -> Result<Value, CliError> {
    let mut ours = Vec::new();
    for case in LmLab::bench_cases() {
        let c = case.config.clone();
        let mut s = LmSession::new(c.clone(), burn::tensor::Device::flex()).map_err(lab_error)?;
        for _ in 0..5 {
            s.train_step();
        }
        pollster::block_on(s.sync()).map_err(lab_error)?;
        let t = Instant::now();
        for _ in 0..steps {
            s.train_step();
        }
        pollster::block_on(s.sync()).map_err(lab_error)?;
        let wall = t.elapsed().as_secs_f64();
        let tokens = f64::from(steps * c.batch * c.ctx);
        eprintln!("bench lm: {} {:.0} tokens/s", case.name, tokens / wall);
        ours.push(json!({
            "case": case.name,
            "layers": c.layers, "d_model": c.d_model, "heads": c.heads, "d_mlp": c.d_mlp,
            "ctx": c.ctx, "batch": c.batch, "vocab": s.corpus().vocab.len(),
            "steps": steps, "wall_s": wall, "tokens_per_s": tokens / wall,
        }));
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .to_string();
    let c = LmLab::bench_cases()
        .into_iter()
        .next()
        .map(|b| b.config)
        .unwrap_or_default();
    let vocab = c.build_corpus().map(|k| k.vocab.len()).unwrap_or(0);
    let args: Vec<String> = [
        ("--threads", threads),
        ("--steps", steps.to_string()),
        ("--layers", c.layers.to_string()),
        ("--d-model", c.d_model.to_string()),
        ("--heads", c.heads.to_string()),
        ("--d-mlp", c.d_mlp.to_string()),
        ("--ctx", c.ctx.to_string()),
        ("--batch", c.batch.to_string()),
        ("--vocab", vocab.to_string()),
    ]
    .into_iter()
    .flat_map(|(k, v)| [k.to_string(), v])
    .collect();
    let torch = crate::bench::peer("torch", torch_required, || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let text = crate::bench::run_baseline("lm_torch.py", &args)?;
        Ok(json!({ "tokens_per_s": crate::bench::csv_rows(&text) }))
    })?;
    Ok(json!({ "tokens_per_s": ours, "torch": torch }))
}
