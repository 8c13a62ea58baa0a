//! `neurolab bench all`: every lab's speed figures, the download size of both wasm files (gzip
//! and brotli) and the peers users would pick instead (PyTorch, Brian2) when this machine's
//! Python has them — side by side in one run, written as one JSON object.

use crate::labs::CliLab;
use crate::CliError;
use clap::{Arg, ArgMatches, Command};
use neurolab_base::Lab;
use serde_json::{json, Map, Value};
use std::io::Write as _;
use std::path::{Path, PathBuf};

pub fn command() -> Command {
    Command::new("all")
        .about("every lab's speed figures, the wasm download sizes and the peers (PyTorch, Brian2) when installed, as one JSON object")
        .arg(
            Arg::new("json")
                .long("json")
                .value_name("FILE")
                .help("write the figures here (default: print them)"),
        )
        .arg(
            Arg::new("quick")
                .long("quick")
                .action(clap::ArgAction::SetTrue)
                .help("a few seconds per lab (a smoke run: the figures are noisy)"),
        )
        .arg(
            Arg::new("against-torch")
                .long("against-torch")
                .action(clap::ArgAction::SetTrue)
                .help("run the PyTorch baselines (crates/cli/bench/) in the same run; an error if this Python has no torch"),
        )
        .arg(
            Arg::new("dist")
                .long("dist")
                .value_name("DIR")
                .default_value("dist")
                .help("the trunk build whose wasm files are measured"),
        )
}

/// The Python the baselines run with (`NEUROLAB_PYTHON`, else `python3`).
fn python() -> String {
    std::env::var("NEUROLAB_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether this Python imports `module`; the reason when not.
fn has_module(module: &str) -> Result<(), String> {
    match std::process::Command::new(python())
        .args(["-c", &format!("import {module}")])
        .output()
    {
        Ok(o) if o.status.success() => Ok(()),
        Ok(_) => Err(format!(
            "{} has no {module} (pip install {module})",
            python()
        )),
        Err(e) => Err(format!("no {} ({e})", python())),
    }
}

/// A baseline script's standard output.
pub(crate) fn run_baseline(script: &str, args: &[&str]) -> Result<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench")
        .join(script);
    let out = std::process::Command::new(python())
        .arg(&path)
        .args(args)
        .output()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Brian2's line "… 12.3x real time" as its real-time factor.
pub fn real_time_factor(text: &str) -> Option<f64> {
    let before = text.split("x real time").next()?;
    before
        .rsplit(|c: char| c == ' ' || c == ':')
        .next()?
        .parse()
        .ok()
}

/// CSV text (a header line, then rows) as JSON objects; lines that are not CSV rows are skipped.
pub fn csv_rows(text: &str) -> Vec<Value> {
    let mut lines = text.lines().filter(|l| l.contains(','));
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let keys: Vec<&str> = header.split(',').map(str::trim).collect();
    lines
        .map(|line| {
            let mut row = Map::new();
            for (k, v) in keys.iter().zip(line.split(',')) {
                let v = v.trim();
                let value = v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .map_or_else(|| json!(v), |x| json!(x));
                row.insert((*k).to_string(), value);
            }
            Value::Object(row)
        })
        .collect()
}

/// A peer's figures, or why they are missing.
pub(crate) fn peer(
    module: &str,
    required: bool,
    run: impl FnOnce() -> Result<Value, String>,
) -> Result<Value, CliError> {
    match has_module(module).and_then(|()| run()) {
        Ok(figures) => Ok(figures),
        Err(why) if required => Err(CliError::Usage(why)),
        Err(why) => {
            eprintln!("bench all: no {module} baseline: {why}");
            Ok(json!({ "skipped": why }))
        }
    }
}

/// gzip (best) and brotli (quality 11) sizes of a file's bytes.
fn compressed(bytes: &[u8]) -> Result<(usize, usize), CliError> {
    let io = |e: std::io::Error| CliError::Io(e.to_string());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).map_err(io)?;
    let gzip = gz.finish().map_err(io)?.len();
    let mut br = Vec::new();
    brotli::BrotliCompress(
        &mut std::io::Cursor::new(bytes),
        &mut br,
        &brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        },
    )
    .map_err(io)?;
    Ok((gzip, br.len()))
}

/// Both wasm files of a trunk build: raw, gzip and brotli bytes, and the first load's total.
pub fn sizes(dist: &Path) -> Result<Value, CliError> {
    let Ok(entries) = std::fs::read_dir(dist) else {
        return Ok(
            json!({ "skipped": format!("no build at {} (trunk build --release)", dist.display()) }),
        );
    };
    let mut files = Map::new();
    let (mut gzip_total, mut brotli_total) = (0, 0);
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wasm"))
        .collect();
    names.sort();
    for name in names {
        let bytes =
            std::fs::read(dist.join(&name)).map_err(|e| CliError::Io(format!("{name}: {e}")))?;
        let (gzip, brotli) = compressed(&bytes)?;
        gzip_total += gzip;
        brotli_total += brotli;
        let role = if name.starts_with("worker") {
            "worker"
        } else {
            "page"
        };
        files.insert(
            role.to_string(),
            json!({ "file": name, "bytes": bytes.len(), "gzip": gzip, "brotli": brotli }),
        );
    }
    Ok(json!({ "wasm": files, "gzip_total": gzip_total, "brotli_total": brotli_total }))
}

pub fn run(m: &ArgMatches) -> Result<(), CliError> {
    let quick = m.get_flag("quick");
    let against_torch = m.get_flag("against-torch");
    let mut out = Map::new();
    out.insert(
        "machine".into(),
        json!({
            "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "neurolab": env!("CARGO_PKG_VERSION"),
            "quick": quick,
        }),
    );
    macro_rules! labs {
        ($($name:ident $Variant:ident $Lab:path;)*) => {
            $(
                eprintln!("bench all: {}", <$Lab as Lab>::NAME);
                out.insert(<$Lab as Lab>::NAME.into(), <$Lab as CliLab>::bench_all(quick)?);
            )*
        };
    }
    neurolab_core::for_each_lab!(labs);
    out.insert(
        "dispatches".into(),
        if quick {
            json!({ "skipped": "--quick" })
        } else {
            eprintln!("bench all: GPU dispatches per step (wgpu)");
            dispatches_child()
        },
    );
    eprintln!("bench all: the Benchmark panel's cases");
    out.insert(
        "page_cases".into(),
        page_cases(if quick { 0.1 } else { 3.0 })?,
    );
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .to_string();
    let steps = if quick { "2" } else { "10" };
    out.insert(
        "torch".into(),
        json!({
            "sae": peer("torch", against_torch, || {
                let text = run_baseline("sae_torch.py", &["--threads", &threads, "--steps", steps])?;
                Ok(json!({ "topk_samples_per_s": csv_rows(&text) }))
            })?,
            "grok": peer("torch", against_torch, || {
                let steps = if quick { "5" } else { "200" };
                let text = run_baseline("grok_torch.py", &["--threads", &threads, "--steps", steps])?;
                Ok(json!({ "steps_per_s": csv_rows(&text) }))
            })?,
        }),
    );
    let seconds = if quick { "0.2" } else { "5" };
    out.insert(
        "brian2".into(),
        peer("brian2", false, || {
            let text = run_baseline("spike_brian2.py", &[seconds])?;
            Ok(json!({ "izhikevich2003_real_time_factor": real_time_factor(&text), "output": text.trim() }))
        })?,
    );
    let dist = m.get_one::<String>("dist").map_or("dist", String::as_str);
    out.insert("size".into(), sizes(Path::new(dist))?);
    let text = serde_json::to_string_pretty(&Value::Object(out))
        .map_err(|e| CliError::Io(e.to_string()))?;
    match m.get_one::<String>("json") {
        Some(path) => {
            std::fs::write(path, text + "\n")
                .map_err(|e| CliError::Io(format!("cannot write {path}: {e}")))?;
            eprintln!("bench all: wrote {path}");
        }
        None => println!("{text}"),
    }
    Ok(())
}

/// The page's Benchmark panel cases, timed here on the CPU backend by the same engine the
/// worker runs (so a browser's figure can be set beside this machine's).
fn page_cases(seconds: f64) -> Result<Value, CliError> {
    use neurolab_core::protocol::{Command, Event};
    use std::cell::RefCell;
    use std::rc::Rc;
    let events: Rc<RefCell<Vec<Event>>> = Rc::default();
    let sink = events.clone();
    let env = crate::run::env_for("cpu")?;
    let mut engine = neurolab_worker::Engine::with_env(
        move |e| sink.borrow_mut().push(e),
        neurolab_worker::env::now_ms,
        env,
    );
    pollster::block_on(engine.handle(Command::Bench { seconds }));
    while engine.is_busy() {
        pollster::block_on(engine.work());
    }
    let progress = events.borrow().iter().rev().find_map(|e| match e {
        Event::Bench { progress } => Some(progress.clone()),
        _ => None,
    });
    match progress {
        Some(p) if p.stopped.is_none() => {
            serde_json::to_value(p).map_err(|e| CliError::Io(e.to_string()))
        }
        Some(p) => Err(CliError::Lab(p.stopped.unwrap_or_default())),
        None => Err(CliError::Lab("the benchmark posted nothing".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_output_becomes_rows() {
        let rows = csv_rows(
            "note: warming up\nvariant,d,samples_per_s\ndense,128,1500.5\nsparse,128,nan\n",
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["variant"], "dense");
        assert_eq!(rows[0]["samples_per_s"], 1500.5);
        assert_eq!(rows[1]["samples_per_s"], "nan");
        let brian = "brian2 cython: izhikevich2003 1000 neurons, 1000000 synapses, 5.0 s simulated in 0.41 s: 12.2x real time";
        assert_eq!(real_time_factor(brian), Some(12.2));
        assert_eq!(real_time_factor("nothing"), None);
    }
}

/// `bench dispatches` in a child process (cubecl's logging is chosen once per process, and
/// profiling slows every kernel): its JSON, or why there is none (no wgpu adapter …).
fn dispatches_child() -> Value {
    let run = || -> Result<Value, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let out = std::process::Command::new(exe)
            .args(["bench", "dispatches", "--steps", "5"])
            .output()
            .map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        match stdout.lines().last().map(serde_json::from_str::<Value>) {
            Some(Ok(v)) if out.status.success() => Ok(v),
            _ => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        }
    };
    run().unwrap_or_else(|why| json!({ "skipped": why }))
}

/// `neurolab bench dispatches`.
pub fn dispatches_command() -> Command {
    Command::new("dispatches")
        .about("GPU kernel launches per training step (grokking presets, the MLP also through autodiff, a TopK SAE) on this machine's wgpu adapter (lavapipe without a GPU), counted in cubecl's profiling log")
        .arg(
            Arg::new("steps")
                .long("steps")
                .value_parser(clap::value_parser!(u32))
                .default_value("10")
                .help("counted steps per workload (after 3 warm-up steps)"),
        )
}

/// cubecl's profiling log of this process, and how many steps a workload is counted over.
pub struct Launches {
    log: PathBuf,
    pub steps: u32,
}

impl Launches {
    /// Kernel launches in the log so far (one `| duration | kernel` line each).
    fn count(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|t| t.lines().filter(|l| l.starts_with("| ")).count())
            .unwrap_or(0)
    }

    /// The log is written by a background task: wait until its line count stops moving.
    fn settled(&self) -> usize {
        let mut last = self.count();
        for _ in 0..50 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let now = self.count();
            if now == last {
                return now;
            }
            last = now;
        }
        last
    }

    /// Launches per step of `session` after its preparation and 3 warm-up steps: the count over
    /// `steps` steps in one chunk, and that chunk's wall time (kernels are timed one by one while
    /// profiling: slow). The chunk's closing sync (one small read) is counted in.
    pub fn per_step<S: neurolab_base::Session>(
        &self,
        session: &mut S,
    ) -> Result<(f64, f64), CliError> {
        use neurolab_base::lab::Chunk;
        let go = |s: &mut S, units: u32| {
            pollster::block_on(s.advance(Chunk { units, sync: true }))
                .map(|_| ())
                .map_err(|e| CliError::Lab(e.to_string()))
        };
        while session.preparing().is_some() {
            pollster::block_on(session.prepare(64)).map_err(|e| CliError::Lab(e.to_string()))?;
        }
        go(session, 3)?;
        let before = self.settled();
        let start = std::time::Instant::now();
        go(session, self.steps)?;
        let wall = start.elapsed().as_secs_f64();
        let after = self.settled();
        Ok((
            after.saturating_sub(before) as f64 / f64::from(self.steps),
            wall,
        ))
    }
}

pub fn dispatches(m: &ArgMatches) -> Result<(), CliError> {
    let steps = m.get_one::<u32>("steps").copied().unwrap_or(10).max(1);
    let log = std::env::temp_dir().join(format!("neurolab-cubecl-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    // cubecl reads these once, when its first device starts (none has in this process yet).
    std::env::set_var("CUBECL_DEBUG_LOG", &log);
    std::env::set_var("CUBECL_DEBUG_OPTION", "profile");
    let env = crate::run::env_for("wgpu")?;
    let launches = Launches { log, steps };
    println!("workload,backend,steps,dispatches_per_step");
    let mut rows = Vec::new();
    macro_rules! labs {
        ($($name:ident $Variant:ident $Lab:path;)*) => {
            $(
                for (name, per, wall) in <$Lab as CliLab>::bench_dispatches(&env, &launches)? {
                    println!("{name},{},{steps},{per:.1}", env.info.adapter);
                    rows.push(json!({ "workload": name, "dispatches_per_step": per, "steps": steps, "profiled_wall_s": wall }));
                }
            )*
        };
    }
    neurolab_core::for_each_lab!(labs);
    let _ = std::fs::remove_file(&launches.log);
    println!(
        "{}",
        json!({ "backend": env.info.adapter, "rows": rows, "readbacks_per_step": 0,
                "note": "no training step reads back; a report reads its numbers in one readback and a chunk ends with one small sync read" })
    );
    Ok(())
}
