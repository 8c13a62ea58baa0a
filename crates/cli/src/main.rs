//! `neurolab`: run the lab's experiments natively and benchmark them.
//!
//! The same engine as the browser's worker: `neurolab <lab> --key value …` builds the config
//! from the lab's field table (the flags are the link's keys), and the engine's generic runner
//! prepares, runs and reports it. The subcommands come from the core's lab registry.

use clap::{Arg, ArgMatches, Command};
use neurolab_base::{ConfigError, Lab};
use std::process::ExitCode;

mod bench;
mod flags;
mod labs;
mod run;
mod sweep;

use labs::CliLab;

/// The CLI's one error type.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Lab(String),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Backend(String),
    #[error("{0}")]
    Usage(String),
}

fn cli() -> Command {
    let mut cmd = Command::new("neurolab")
        .version(env!("CARGO_PKG_VERSION"))
        .about("neurolab experiments on the command line")
        .subcommand_required(true)
        .arg_required_else_help(true);
    let mut bench = Command::new("bench")
        .about("Print speed figures")
        .subcommand_required(true);
    macro_rules! subcommands {
        ($($name:ident $Variant:ident $Lab:path;)*) => {
            $(
                cmd = cmd.subcommand(run::command::<$Lab>());
                bench = bench.subcommand(<$Lab as CliLab>::bench_args(Command::new(<$Lab as Lab>::NAME)));
            )*
        };
    }
    neurolab_core::for_each_lab!(subcommands);
    let bench = bench
        .subcommand(bench::command())
        .subcommand(bench::dispatches_command());
    cmd.subcommand(bench).subcommand(sweep::command()).subcommand(
        Command::new("run")
            .about("Run any lab's share link natively (its config and its interventions), with the lab's own flags after it")
            .arg(
                Arg::new("link")
                    .long("link")
                    .value_name("URL")
                    .required_unless_present("experiment")
                    .conflicts_with("experiment")
                    .help("a neurolab link, or only its fragment (#v=1&lab=…)"),
            )
            .arg(
                Arg::new("experiment")
                    .long("experiment")
                    .value_name("FILE")
                    .help("an experiment file (the page's export or --experiment-out): run it again and compare with its recorded reports"),
            )
            .arg(
                Arg::new("rest")
                    .num_args(0..)
                    .trailing_var_arg(true)
                    .allow_hyphen_values(true)
                    .help("more flags for the lab's command (--json, --backend, --csv …)"),
            ),
    )
}

/// `neurolab run --link L …` as the lab's own command: the link decoded strictly (the page's
/// messages), then its keys as flags, its script as `--ev`, and the flags after it.
fn link_args(m: &ArgMatches) -> Result<Vec<String>, CliError> {
    let mut compare = None;
    let text = match m.get_one::<String>("experiment") {
        Some(path) => {
            let file = std::fs::read_to_string(path)
                .map_err(|e| CliError::Io(format!("cannot read {path}: {e}")))?;
            let (experiment, _) = neurolab_core::experiment::Experiment::read(&file)
                .map_err(|e| CliError::Usage(format!("{path}: {e}")))?;
            compare = Some(path.clone());
            experiment.link
        }
        None => m.get_one::<String>("link").cloned().unwrap_or_default(),
    };
    let fragment = text.split_once('#').map_or(text.as_str(), |(_, f)| f);
    let link = neurolab_core::link::LabLink::decode(fragment)
        .map_err(|e| CliError::Usage(format!("the link does not open: {e}")))?;
    let mut args = vec!["neurolab".to_string()];
    args.extend(lab_args(&link, &[]));
    if let Some(path) = compare {
        args.push(format!("--compare={path}"));
    }
    args.extend(m.get_many::<String>("rest").into_iter().flatten().cloned());
    Ok(args)
}

/// A link as its lab's command line: the lab, every key as `--key=value` (a key in `overrides`
/// takes its value from there) and the script as `--ev`.
pub fn lab_args(
    link: &neurolab_core::link::LabLink,
    overrides: &[(String, String)],
) -> Vec<String> {
    let mut args = vec![link.lab.name().to_string()];
    for (key, value) in link.configs.pairs(link.lab) {
        let value = overrides
            .iter()
            .find(|(k, _)| k == key)
            .map_or(value, |(_, v)| v.clone());
        args.push(format!("--{key}={value}"));
    }
    if let Some(ev) = link.script_text() {
        args.push(format!("--ev={ev}"));
    }
    args
}

fn dispatch(name: &str, m: &ArgMatches, bench: bool) -> Result<(), CliError> {
    macro_rules! dispatch {
        ($($name:ident $Variant:ident $Lab:path;)*) => {
            match name {
                $(n if n == <$Lab as Lab>::NAME => {
                    if bench {
                        <$Lab as CliLab>::bench(m)
                    } else {
                        run::run::<$Lab>(m)
                    }
                })*
                other => Err(CliError::Usage(format!("unknown command '{other}'"))),
            }
        };
    }
    neurolab_core::for_each_lab!(dispatch)
}

/// Training allocates and frees the same few large tensors every step. glibc's defaults give
/// freed memory at the top of the heap back to the kernel (trim) and serve large buffers by
/// `mmap` (unmapped again on free), so every step faulted its buffers in afresh: a quarter of the
/// MLP preset's time and two thirds of a d = 512 SAE step went to page faults (perf). Keeping
/// freed memory for reuse made them ~1.6× and ~2.9× faster. (Where the heap cannot grow, glibc
/// still falls back to `mmap`.)
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: mallopt only changes allocator parameters; called first thing, on one thread.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        libc::mallopt(libc::M_MMAP_MAX, 0);
    }
}
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

fn main() -> ExitCode {
    keep_freed_memory();
    let matches = cli().get_matches();
    let result = match matches.subcommand() {
        Some(("bench", m)) => match m.subcommand() {
            Some(("all", m)) => bench::run(m),
            Some(("dispatches", m)) => bench::dispatches(m),
            Some((name, m)) => dispatch(name, m, true),
            None => Err(CliError::Usage("bench what?".into())),
        },
        Some(("sweep", m)) => sweep::run(m),
        Some(("run", m)) => link_args(m).and_then(|args| {
            let matches = cli()
                .try_get_matches_from(args)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            match matches.subcommand() {
                Some((name, m)) => dispatch(name, m, false),
                None => Err(CliError::Usage("the link names no lab".into())),
            }
        }),
        Some((name, m)) => dispatch(name, m, false),
        None => Err(CliError::Usage("no command".into())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
