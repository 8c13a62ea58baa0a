//! `neurolab`: run the lab's experiments natively and benchmark them.
//!
//! The same engine as the browser's worker: `neurolab <lab> --key value …` builds the config
//! from the lab's field table (the flags are the link's keys), and the engine's generic runner
//! prepares, runs and reports it. The subcommands come from the core's lab registry.

use clap::{ArgMatches, Command};
use neurolab_base::{ConfigError, Lab};
use std::process::ExitCode;

mod flags;
mod labs;
mod run;

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
    cmd.subcommand(bench)
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

fn main() -> ExitCode {
    let matches = cli().get_matches();
    let result = match matches.subcommand() {
        Some(("bench", m)) => match m.subcommand() {
            Some((name, m)) => dispatch(name, m, true),
            None => Err(CliError::Usage("bench what?".into())),
        },
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
