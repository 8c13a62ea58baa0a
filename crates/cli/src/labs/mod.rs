//! One file per lab: its extra flags, how its reports print, its final figures, its bench.

use crate::CliError;
use clap::{ArgMatches, Command};
use neurolab_worker::labs::WorkerLab;
use serde_json::{Map, Value};

pub mod grok;
pub mod lm;
pub mod sae;
pub mod spike;

/// A lab on the command line.
pub trait CliLab: WorkerLab {
    const ABOUT: &'static str;
    /// What the lab keeps while it runs (reports for a CSV, a raster file …).
    type Out;
    /// `--save-weights FILE` writes the lab's "weights" export.
    const EXPORTS_WEIGHTS: bool = false;

    /// Flags beyond the field table (files to write, early stops).
    fn extra_args(cmd: Command) -> Command {
        cmd
    }

    /// The run's config from the flags (a lab may read a file a flag names).
    fn cli_config(m: &ArgMatches) -> Result<Self::Config, CliError> {
        Ok(crate::flags::config_from(m)?)
    }

    /// A mode of the lab's command that is not a training run (the LM's `--load` with
    /// `--generate`): `Some` when the flags ask for one, with its outcome.
    fn tool(_m: &ArgMatches) -> Option<Result<(), CliError>> {
        None
    }

    fn start(m: &ArgMatches) -> Result<Self::Out, CliError>;

    /// A report arrived: print it (one JSON object per line with `json`), keep what the end
    /// needs. `Ok(false)` stops the run early.
    fn report(out: &mut Self::Out, report: &Self::Report, json: bool) -> Result<bool, CliError>;

    /// A chunk of work ended: the lab may look at its session (files written as the run goes).
    fn after_chunk(
        _out: &mut Self::Out,
        _session: &Self::Session,
        _m: &ArgMatches,
    ) -> Result<(), CliError> {
        Ok(())
    }

    /// `neurolab bench <lab>`'s flags.
    fn bench_args(cmd: Command) -> Command {
        cmd
    }

    /// `neurolab bench <lab>`: print the lab's speed figures.
    fn bench(m: &ArgMatches) -> Result<(), CliError>;

    /// The lab's part of `neurolab bench all`: its figures as JSON (`quick`: seconds, for tests).
    fn bench_all(quick: bool) -> Result<Value, CliError>;

    /// `neurolab bench dispatches`: the lab's GPU workloads on `env`, each counted by
    /// [`crate::bench::Launches::per_step`] as `(workload, launches per step, wall s)`.
    fn bench_dispatches(
        _env: &neurolab_worker::env::Env,
        _launches: &crate::bench::Launches,
    ) -> Result<Vec<(String, f64, f64)>, CliError> {
        Ok(Vec::new())
    }

    /// The run ended: write files, add the lab's figures to the final object.
    fn finish(
        out: &mut Self::Out,
        session: &Self::Session,
        m: &ArgMatches,
        fin: &mut Map<String, Value>,
    ) -> Result<(), CliError>;
}
