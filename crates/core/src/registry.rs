//! The lab registry: the one place that lists the labs. [`for_each_lab!`] hands the list to a
//! macro; this module generates [`LabKind`], [`Configs`] and the protocol's per-lab unions from
//! it, and the worker, the page and the CLI generate their own dispatch the same way. Adding a
//! lab is one line here (plus the lab's own folder in each layer).

use neurolab_base::field;
use neurolab_base::msg::{LabCommand, LabEvent};
use neurolab_base::{ConfigError, Lab, LabConfig};
use serde::{Deserialize, Serialize};

// The labs' crates (each also a dependency line in this crate's Cargo.toml).
pub use neurolab_grok as grok;
pub use neurolab_lm as lm;
pub use neurolab_sae as sae;
pub use neurolab_spike as spike;

/// Calls `$m! { name Variant path::to::Lab; … }` with every lab, in the order the lab picker
/// shows them.
#[macro_export]
macro_rules! for_each_lab {
    ($m:ident) => {
        $m! {
            grok Grok $crate::grok::GrokLab;
            spike Spike $crate::spike::SpikeLab;
            sae Sae $crate::sae::SaeLab;
            lm Lm $crate::lm::LmLab;
        }
    };
}

macro_rules! registry {
    ($($name:ident $Variant:ident $Lab:path;)*) => {
        /// The labs a link can open.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum LabKind {
            $($Variant),*
        }

        impl LabKind {
            pub const ALL: &'static [LabKind] = &[$(LabKind::$Variant),*];

            /// The link's `lab=` value.
            pub fn name(self) -> &'static str {
                match self {
                    $(LabKind::$Variant => <$Lab as Lab>::NAME),*
                }
            }

            pub fn label(self) -> &'static str {
                match self {
                    $(LabKind::$Variant => <$Lab as Lab>::LABEL),*
                }
            }

            /// The lab's presets: (name, label), in the preset picker's order.
            pub fn presets(self) -> Vec<(&'static str, &'static str)> {
                match self {
                    $(LabKind::$Variant => <<$Lab as Lab>::Config as LabConfig>::presets()
                        .into_iter()
                        .map(|p| (p.name, p.label))
                        .collect()),*
                }
            }

            /// The lab's page panels a link may hide (`hide=`).
            pub fn panels(self) -> &'static [&'static str] {
                match self {
                    $(LabKind::$Variant => <$Lab as Lab>::PANELS),*
                }
            }

            /// The headline curves of this lab's reports given as protocol JSON (an
            /// experiment file's); the message names the report that is not one of this lab's.
            pub fn curves_of(
                self,
                reports: &[serde_json::Value],
            ) -> Result<Vec<neurolab_base::Curve>, String> {
                match self {
                    $(LabKind::$Variant => crate::experiment::curves_of::<$Lab>(reports)),*
                }
            }
        }

        /// Every lab's config: switching labs in the page loses nothing; a link encodes only
        /// the open lab's.
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        pub struct Configs {
            $(pub $name: <$Lab as Lab>::Config),*
        }

        impl Configs {
            /// Put the lab's preset `name` in force; `false` if the lab has no such preset.
            pub fn set_preset(&mut self, lab: LabKind, name: &str) -> bool {
                match lab {
                    $(LabKind::$Variant => {
                        match <<$Lab as Lab>::Config as LabConfig>::presets()
                            .into_iter()
                            .find(|p| p.name == name)
                        {
                            Some(p) => {
                                self.$name = p.config;
                                true
                            }
                            None => false,
                        }
                    })*
                }
            }

            /// The lab's link keys and values.
            pub fn pairs(&self, lab: LabKind) -> Vec<(&'static str, String)> {
                match lab {
                    $(LabKind::$Variant => field::to_pairs(&self.$name)),*
                }
            }

            /// Replace the lab's config by the one these keys describe (strict, validated).
            pub fn set_from_pairs(
                &mut self,
                lab: LabKind,
                pairs: &[(String, String)],
            ) -> Result<(), ConfigError> {
                match lab {
                    $(LabKind::$Variant => self.$name = field::from_pairs(pairs)?),*
                }
                Ok(())
            }

            /// Whether these keys give a valid config of the lab (nothing is changed).
            pub fn try_pairs(lab: LabKind, pairs: &[(String, String)]) -> Result<(), ConfigError> {
                match lab {
                    $(LabKind::$Variant => field::from_pairs::<<$Lab as Lab>::Config>(pairs).map(|_| ())),*
                }
            }

            /// How many events a link's script (`ev=`) holds, if it is a valid script of the
            /// lab's controls.
            pub fn check_script(lab: LabKind, text: &str) -> Result<usize, ConfigError> {
                match lab {
                    $(LabKind::$Variant => neurolab_base::Script::<<$Lab as Lab>::Control>::decode(text).map(|s| s.len())),*
                }
            }

            /// Presets first (0), then the keys that shape the others (1), then the rest (2).
            pub fn key_rank(lab: LabKind, key: &str) -> u8 {
                match lab {
                    $(LabKind::$Variant => rank::<<$Lab as Lab>::Config>(key)),*
                }
            }

            pub fn validate(&self, lab: LabKind) -> Result<(), ConfigError> {
                match lab {
                    $(LabKind::$Variant => self.$name.validate()),*
                }
            }

            /// The lab's config as a `Configure` command.
            pub fn configure(&self, lab: LabKind, prepare: bool) -> AnyCommand {
                match lab {
                    $(LabKind::$Variant => AnyCommand::$Variant(LabCommand::Configure {
                        config: self.$name.clone(),
                        prepare,
                    })),*
                }
            }
        }

        $(impl Registered for $Lab {
            const KIND: LabKind = LabKind::$Variant;
            fn wrap_event(event: LabEvent<Self>) -> AnyEvent {
                AnyEvent::$Variant(event)
            }
            fn wrap_command(command: LabCommand<Self>) -> AnyCommand {
                AnyCommand::$Variant(command)
            }
            fn unwrap_event(event: AnyEvent) -> Option<LabEvent<Self>> {
                match event {
                    AnyEvent::$Variant(e) => Some(e),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
            fn config(configs: &Configs) -> &Self::Config {
                &configs.$name
            }
            fn config_mut(configs: &mut Configs) -> &mut Self::Config {
                &mut configs.$name
            }
        })*

        /// A command to one lab.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum AnyCommand {
            $($Variant(LabCommand<$Lab>)),*
        }

        impl AnyCommand {
            pub fn lab(&self) -> LabKind {
                match self {
                    $(AnyCommand::$Variant(_) => LabKind::$Variant),*
                }
            }

            /// `Run` or `Step`: the lab will run (the others pause).
            pub fn starts(&self) -> bool {
                match self {
                    $(AnyCommand::$Variant(c) => matches!(c, LabCommand::Run | LabCommand::Step)),*
                }
            }

            /// The same lab-generic command (run, pause, step, reset, export) for `lab`.
            pub fn generic(lab: LabKind, command: Generic) -> AnyCommand {
                match lab {
                    $(LabKind::$Variant => AnyCommand::$Variant(command.into_lab())),*
                }
            }
        }

        /// An event from one lab.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum AnyEvent {
            $($Variant(LabEvent<$Lab>)),*
        }

        impl AnyEvent {
            pub fn lab(&self) -> LabKind {
                match self {
                    $(AnyEvent::$Variant(_) => LabKind::$Variant),*
                }
            }

            /// An export's bytes, which travel beside the JSON.
            pub fn export_bytes_mut(&mut self) -> Option<&mut Vec<u8>> {
                match self {
                    $(AnyEvent::$Variant(LabEvent::Exported { bytes, .. }) => Some(bytes),)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }

            /// An error of `lab`'s session, for the user.
            pub fn failed(lab: LabKind, message: String) -> AnyEvent {
                match lab {
                    $(LabKind::$Variant => AnyEvent::$Variant(LabEvent::Failed { message })),*
                }
            }
        }
    };
}

/// A lab in the registry: how its messages enter the protocol's unions and where its config
/// lives. Implemented for every lab by the registry.
pub trait Registered: Lab + Sized {
    const KIND: LabKind;
    fn wrap_event(event: LabEvent<Self>) -> AnyEvent;
    fn wrap_command(command: LabCommand<Self>) -> AnyCommand;
    /// This lab's event, if `event` is one.
    fn unwrap_event(event: AnyEvent) -> Option<LabEvent<Self>>;
    fn config(configs: &Configs) -> &Self::Config;
    fn config_mut(configs: &mut Configs) -> &mut Self::Config;
}

for_each_lab!(registry);

fn rank<C: LabConfig>(key: &str) -> u8 {
    match field::find::<C>(key).map(|f| f.role) {
        Some(field::Role::Preset) => 0,
        Some(field::Role::Structural) => 1,
        _ => 2,
    }
}

impl Default for LabKind {
    fn default() -> Self {
        LabKind::ALL[0]
    }
}

impl LabKind {
    pub fn parse(s: &str) -> Option<LabKind> {
        LabKind::ALL.iter().copied().find(|l| l.name() == s)
    }

    /// "grok, spike, sae".
    pub fn names() -> String {
        LabKind::ALL
            .iter()
            .map(|l| l.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The commands every lab takes the same way.
#[derive(Debug, Clone, PartialEq)]
pub enum Generic {
    Run,
    Pause,
    Step,
    Reset { prepare: bool },
    Export { what: String },
}

impl Generic {
    fn into_lab<L: Lab>(self) -> LabCommand<L> {
        match self {
            Generic::Run => LabCommand::Run,
            Generic::Pause => LabCommand::Pause,
            Generic::Step => LabCommand::Step,
            Generic::Reset { prepare } => LabCommand::Reset { prepare },
            Generic::Export { what } => LabCommand::Export { what },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lab_is_listed_once_with_its_own_name() {
        let names: Vec<&str> = LabKind::ALL.iter().map(|l| l.name()).collect();
        assert_eq!(names, ["grok", "spike", "sae", "lm"]);
        for &lab in LabKind::ALL {
            assert_eq!(LabKind::parse(lab.name()), Some(lab));
            assert!(!lab.label().is_empty());
            // Every lab's default config validates and round-trips through its keys.
            let configs = Configs::default();
            configs.validate(lab).unwrap();
            let pairs: Vec<(String, String)> = configs
                .pairs(lab)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            let mut back = Configs::default();
            back.set_from_pairs(lab, &pairs).unwrap();
            assert_eq!(back, configs);
        }
    }

    #[test]
    fn every_labs_field_table_is_consistent() {
        macro_rules! check {
            ($($name:ident $Variant:ident $Lab:path;)*) => {
                $(field::table_is_consistent::<<$Lab as Lab>::Config>()
                    .unwrap_or_else(|e| panic!("{}: {e}", stringify!($name)));)*
            };
        }
        for_each_lab!(check);
    }

    #[test]
    fn commands_name_their_lab() {
        let c = AnyCommand::generic(LabKind::Spike, Generic::Run);
        assert_eq!(c.lab(), LabKind::Spike);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"spike":{"do":"run"}}"#);
        let back: AnyCommand = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }
}
