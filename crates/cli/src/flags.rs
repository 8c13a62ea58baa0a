//! The CLI's flags are the link's keys: one `--key` per row of a lab's field table, parsed by
//! the table itself (the same values, limits and messages as links and the page's form).

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use neurolab_base::field::{self, Field, Kind};
use neurolab_base::{ConfigError, LabConfig};

/// One `--key` per field of `C`'s table (plus `--preset` when the table has no preset key).
pub fn add_fields<C: LabConfig>(mut cmd: Command) -> Command {
    let has_preset_key = C::fields().iter().any(|f| f.key == "preset");
    if !has_preset_key {
        let names: Vec<&'static str> = C::presets().iter().map(|p| p.name).collect();
        cmd = cmd.arg(
            Arg::new("preset")
                .long("preset")
                .value_name("NAME")
                .help(format!("start from a preset: {}", names.join(", "))),
        );
    }
    for f in C::fields() {
        cmd = cmd.arg(arg_for(f));
    }
    cmd
}

fn arg_for<C: LabConfig>(f: &'static Field<C>) -> Arg {
    let help = if f.help.is_empty() {
        format!("{} ({})", f.label, f.expected())
    } else {
        format!("{}: {} ({})", f.label, f.help, f.expected())
    };
    let arg = Arg::new(f.key)
        .long(f.key)
        .help(help)
        .action(ArgAction::Set);
    match f.kind {
        Kind::Flag => arg
            .value_name("0|1")
            .num_args(0..=1)
            .default_missing_value("1"),
        Kind::Choice(values) => arg.value_name(values.join("|")),
        Kind::Int { .. } => arg.value_name("N"),
        Kind::Num { .. } => arg.value_name("X"),
        Kind::Text { .. } => arg.value_name("TEXT"),
    }
}

/// The config the flags describe: the preset (if `--preset`), then every flag given, decoded
/// like a link (strict, validated).
pub fn config_from<C: LabConfig>(m: &ArgMatches) -> Result<C, ConfigError> {
    config_with(m, &[])
}

/// [`config_from`] with some keys' values given here instead of by their flags.
pub fn config_with<C: LabConfig>(
    m: &ArgMatches,
    overrides: &[(&str, &str)],
) -> Result<C, ConfigError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let has_preset_key = C::fields().iter().any(|f| f.key == "preset");
    if !has_preset_key {
        if let Some(name) = m.get_one::<String>("preset") {
            let preset = C::presets()
                .into_iter()
                .find(|p| p.name == name.as_str())
                .ok_or_else(|| {
                    let names: Vec<&str> = C::presets().iter().map(|p| p.name).collect();
                    ConfigError::bad_value("preset", name, format!("one of {}", names.join(", ")))
                })?;
            pairs = field::to_pairs(&preset.config)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        }
    }
    for f in C::fields() {
        if let Some((_, v)) = overrides.iter().find(|(k, _)| *k == f.key) {
            pairs.retain(|(k, _)| k != f.key);
            pairs.push((f.key.to_string(), (*v).to_string()));
            continue;
        }
        if m.value_source(f.key) != Some(ValueSource::CommandLine) {
            continue;
        }
        if let Some(v) = m.get_one::<String>(f.key) {
            pairs.retain(|(k, _)| k != f.key);
            pairs.push((f.key.to_string(), v.clone()));
        }
    }
    field::from_pairs(&pairs)
}
