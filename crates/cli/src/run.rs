//! `neurolab <lab> [--key value …]`: a lab's experiment natively, through the same engine and
//! runner as the browser's worker — the config from the flags (decoded like a link), the session
//! built, prepared, run in chunks to its budget (or a divergence), reports printed as they come;
//! then its exports (`--save-<what> PATH`) written and the final object printed.

use crate::labs::CliLab;
use crate::CliError;
use burn::tensor::Device;
use clap::{Arg, ArgAction, ArgMatches, Command};
use neurolab_base::lab::ExportFile;
use neurolab_base::msg::{LabCommand, LabEvent};
use neurolab_base::{LabConfig, Position, Script, StopReason, Unit};
use neurolab_core::experiment::{max_difference, Experiment, Ran};
use neurolab_core::protocol::Event;
use neurolab_worker::engine::HasRunner;
use neurolab_worker::env::{now_ms, Env};
use neurolab_worker::Engine;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

/// The subcommand of lab `L`: its field table's flags, the common ones, the lab's own.
pub fn command<L: CliLab>() -> Command {
    let cmd = Command::new(L::NAME).about(L::ABOUT);
    let cmd = crate::flags::add_fields::<L::Config>(cmd)
        .arg(
            Arg::new("backend")
                .long("backend")
                .value_parser(["cpu", "ndarray", "wgpu"])
                .default_value("cpu")
                .help("cpu: burn-flex (the browser's CPU fallback too); ndarray; wgpu: Vulkan/Metal/GL (lavapipe without a GPU)"),
        )
        .arg(
            Arg::new("ev")
                .long("ev")
                .value_name("SCRIPT")
                .help("the link's event script (ev=…): interventions replayed at their steps or times"),
        )
        .arg(
            Arg::new("experiment-out")
                .long("experiment-out")
                .value_name("FILE")
                .help("write the experiment (its link, every report, where it ran) as one JSON file, as the page exports it"),
        )
        .arg(
            Arg::new("compare")
                .long("compare")
                .value_name("FILE")
                .hide(true)
                .help("an experiment file whose recorded reports this run is compared with"),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("one JSON object per report, then a final object with \"final\": true"),
        );
    let cmd = if L::EXPORTS_WEIGHTS {
        cmd.arg(
            Arg::new("save-weights")
                .long("save-weights")
                .value_name("FILE")
                .help("write the trained weights here (.safetensors), as the page's download"),
        )
    } else {
        cmd
    };
    L::extra_args(cmd)
}

/// The burn device for `--backend`.
pub fn env_for(name: &str) -> Result<Env, CliError> {
    match name {
        "ndarray" => {
            #[allow(deprecated)]
            let device = Device::ndarray();
            Ok(Env::native(device, "cpu", "ndarray".into()))
        }
        "wgpu" => {
            let (device, setup) = Device::wgpu_options()
                .init_with_setup()
                .map_err(|e| CliError::Backend(format!("wgpu could not start: {e:?}")))?;
            let info = setup.adapter.get_info();
            Ok(Env::native(
                device,
                "wgpu",
                format!("wgpu ({}, {:?})", info.name, info.backend),
            ))
        }
        _ => Ok(Env::cpu(None)),
    }
}

type Events = Rc<RefCell<Vec<Event>>>;

/// The lab's events posted since the last call, in order.
fn take_lab_events<L: CliLab>(events: &Events) -> Vec<LabEvent<L>> {
    events
        .borrow_mut()
        .drain(..)
        .filter_map(|e| match e {
            Event::Lab { event, .. } => L::unwrap_event(event),
            _ => None,
        })
        .collect()
}

/// The lab's export `what` (its bytes and name), asked for as the page asks for it.
fn export<L: CliLab>(
    engine: &mut Engine,
    events: &Events,
    what: &str,
) -> Result<ExportFile, CliError> {
    pollster::block_on(engine.handle(neurolab_core::protocol::Command::Lab {
        session: 1,
        command: L::wrap_command(LabCommand::Export { what: what.into() }),
    }));
    let mut file = None;
    for e in take_lab_events::<L>(events) {
        match e {
            LabEvent::Exported {
                file_name,
                mime,
                bytes,
                ..
            } => {
                file = Some(ExportFile {
                    file_name,
                    mime,
                    bytes,
                })
            }
            LabEvent::Failed { message } => return Err(CliError::Lab(message)),
            _ => {}
        }
    }
    file.ok_or_else(|| CliError::Lab(format!("the lab did not export its {what}")))
}

/// Write an export to `path`; a zip of one folder (the SAE lab's SAELens layout) saved to a
/// path that does not end in `.zip` becomes that folder's files in the directory `path`.
fn save(path: &str, file: &ExportFile) -> Result<(), CliError> {
    use std::path::Path;
    let write = |to: &Path, bytes: &[u8]| {
        std::fs::write(to, bytes)
            .map_err(|e| CliError::Io(format!("cannot write {}: {e}", to.display())))
    };
    if file.mime != "application/zip" || path.ends_with(".zip") {
        return write(Path::new(path), &file.bytes);
    }
    let bad = |e: &dyn std::fmt::Display| CliError::Lab(format!("{}: {e}", file.file_name));
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(&file.bytes[..])).map_err(|e| bad(&e))?;
    let mut top = None;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| bad(&e))?;
        let name = entry
            .enclosed_name()
            .ok_or_else(|| bad(&format!("unsafe path {}", entry.name())))?;
        let mut parts = name.components();
        let first = parts.next().map(|c| c.as_os_str().to_os_string());
        if *top.get_or_insert_with(|| first.clone()) != first {
            return Err(bad(&"the zip holds more than one folder"));
        }
        let out = Path::new(path).join(parts.as_path());
        let dir = match out.parent() {
            Some(parent) if !entry.is_dir() => parent,
            _ => &out,
        };
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::Io(format!("cannot create {}: {e}", dir.display())))?;
        if entry.is_dir() {
            continue;
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).map_err(|e| bad(&e))?;
        write(&out, &bytes)?;
    }
    Ok(())
}

/// Run lab `L` with the flags in `m`.
pub fn run<L: CliLab>(m: &ArgMatches) -> Result<(), CliError>
where
    neurolab_worker::engine::Runners: HasRunner<L>,
    neurolab_worker::WorkerError: From<<L::Session as neurolab_base::Session>::Error>,
{
    if let Some(done) = L::tool(m) {
        return done;
    }
    let config: L::Config = L::cli_config(m)?;
    let experiment_link = {
        let mut link = neurolab_core::link::LabLink {
            lab: neurolab_core::LabKind::parse(L::NAME).expect("a registered lab"),
            ..Default::default()
        };
        *L::config_mut(&mut link.configs) = config.clone();
        if let Some(ev) = m.get_one::<String>("ev") {
            link.scripts.insert(L::NAME.to_string(), ev.clone());
        }
        link
    };
    let recorded: RefCell<Vec<Value>> = RefCell::new(Vec::new());
    let json = m.get_flag("json");
    let backend = m.get_one::<String>("backend").map_or("cpu", String::as_str);
    let env = env_for(backend)?;
    let backend_name = env.info.adapter.clone();
    let events: Events = Rc::new(RefCell::new(Vec::new()));
    let sink = events.clone();
    let mut engine = Engine::with_env(move |e| sink.borrow_mut().push(e), now_ms, env);
    let mut out = L::start(m)?;
    let unit = config.plan().unit;
    let lab = |command| neurolab_core::protocol::Command::Lab {
        session: 1,
        command: L::wrap_command(command),
    };
    let setup = Instant::now();
    let script = match m.get_one::<String>("ev") {
        Some(text) => Script::<L::Control>::decode(text)?,
        None => Script::default(),
    };
    pollster::block_on(engine.handle(lab(LabCommand::Configure {
        config,
        prepare: true,
    })));
    if !script.is_empty() {
        pollster::block_on(engine.handle(lab(LabCommand::Script { script })));
    }
    let stop: RefCell<Option<(Position, StopReason)>> = RefCell::new(None);
    let handle = |e: LabEvent<L>, out: &mut L::Out| -> Result<bool, CliError> {
        match e {
            LabEvent::Report { report } => {
                recorded
                    .borrow_mut()
                    .push(serde_json::to_value(&report).expect("a report serialises"));
                L::report(out, &report, json)
            }
            LabEvent::Failed { message } => Err(CliError::Lab(message)),
            LabEvent::Configured { note: Some(n), .. } => {
                eprintln!("note: {n}");
                Ok(true)
            }
            LabEvent::Preparing {
                what, done, total, ..
            } if !json && (done == 0 || done == total) => {
                eprintln!("{what}: {done} / {total}");
                Ok(true)
            }
            LabEvent::Stopped { position, reason } => {
                *stop.borrow_mut() = Some((position, reason));
                Ok(true)
            }
            _ => Ok(true),
        }
    };
    // Preparation (an SAE's source) runs to its end first.
    let mut go_on = true;
    loop {
        for e in take_lab_events::<L>(&events) {
            go_on &= handle(e, &mut out)?;
        }
        if !engine.is_busy() {
            break;
        }
        pollster::block_on(engine.work());
    }
    let setup_s = setup.elapsed().as_secs_f64();
    *stop.borrow_mut() = None;
    let start = Instant::now();
    if go_on {
        pollster::block_on(engine.handle(lab(LabCommand::Run)));
    }
    loop {
        for e in take_lab_events::<L>(&events) {
            go_on &= handle(e, &mut out)?;
        }
        if !go_on {
            pollster::block_on(engine.handle(lab(LabCommand::Pause)));
            for e in take_lab_events::<L>(&events) {
                handle(e, &mut out)?;
            }
            break;
        }
        if !engine.is_busy() {
            break;
        }
        pollster::block_on(engine.work());
        if let Some(session) = engine.runners.runner().session() {
            L::after_chunk(&mut out, session, m)?;
        }
    }
    let wall_s = start.elapsed().as_secs_f64();
    // Every `--save-<what> PATH` (`--save-weights`, a lab's own such as `--save-saelens`)
    // writes the lab's export `<what>`.
    let saves: Vec<(&str, &String)> = m
        .ids()
        .filter_map(|id| {
            let what = id.as_str().strip_prefix("save-")?;
            Some((what, m.try_get_one::<String>(id.as_str()).ok().flatten()?))
        })
        .collect();
    for (what, path) in saves {
        save(path, &export::<L>(&mut engine, &events, what)?)?;
    }
    let runner = engine.runners.runner();
    let session = runner
        .session()
        .ok_or_else(|| CliError::Lab("the session was not built".into()))?;
    let position = runner.position().unwrap_or_default();
    let mut fin = Map::new();
    fin.insert("final".into(), json!(true));
    let rate = position.done / wall_s.max(1e-9);
    match unit {
        Unit::Step => fin.insert("steps_per_s".into(), json!(rate)),
        Unit::Ms => fin.insert("realtime_factor".into(), json!(rate / 1000.0)),
    };
    fin.insert("backend".into(), json!(backend_name));
    fin.insert("wall_s".into(), json!(wall_s));
    fin.insert("setup_s".into(), json!(setup_s));
    let stop = stop.borrow().clone();
    let diverged = match stop.as_ref().map(|(_, r)| r) {
        Some(StopReason::Diverged { message, .. }) => {
            eprintln!("diverged: {message}");
            fin.insert("divergence".into(), json!(message));
            true
        }
        _ => false,
    };
    fin.insert("diverged".into(), json!(diverged));
    L::finish(&mut out, session, m, &mut fin)?;
    let reports = recorded.into_inner();
    if let Some(path) = m.get_one::<String>("compare") {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Io(format!("cannot read {path}: {e}")))?;
        let (before, _) = Experiment::read(&text).map_err(CliError::Usage)?;
        let diff = max_difference(&before.reports, &reports);
        fin.insert("recorded_reports".into(), json!(before.reports.len()));
        fin.insert("max_difference".into(), json!(diff));
        // The curves do not depend on how either run was cut into chunks.
        let curves = |values: &[Value]| {
            neurolab_core::experiment::curves_of::<L>(values).map_err(CliError::Usage)
        };
        let comparison =
            neurolab_base::curve::compare(&curves(&before.reports)?, &curves(&reports)?);
        fin.insert("curve_difference".into(), json!(comparison));
        if !json {
            match diff {
                Some(d) => eprintln!(
                    "against the {} recorded reports ({} on {}): largest difference {d:e}",
                    before.reports.len(),
                    before.ran.lab_version,
                    before.ran.adapter
                ),
                None => eprintln!("the reports differ in number or shape from the recorded ones"),
            }
            eprintln!("the curves: {}", comparison.text());
        }
    }
    if let Some(path) = m.get_one::<String>("experiment-out") {
        let ran = Ran {
            lab_version: neurolab_core::LAB_VERSION.into(),
            backend: backend.into(),
            adapter: backend_name.clone(),
        };
        let file = Experiment::new(&experiment_link, ran, reports);
        std::fs::write(path, file.to_json())
            .map_err(|e| CliError::Io(format!("cannot write {path}: {e}")))?;
    }
    if json {
        println!("{}", Value::Object(fin));
    } else {
        println!(
            "done: {} in {wall_s:.2} s ({}) on {backend_name}{}",
            position.text(),
            position.rate_text(rate),
            if diverged { " — diverged" } else { "" }
        );
    }
    Ok(())
}
