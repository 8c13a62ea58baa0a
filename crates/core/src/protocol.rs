//! The page ⇄ worker protocol: [`Command`] in, [`Event`] out, JSON over `postMessage`.
//!
//! Lab commands and events name their lab (the registry's unions) and the page's session id:
//! the page drops events of a session it has replaced. An export's bytes travel beside the JSON
//! as a transferable buffer, never inside it. The page holds only these plain values; tensors
//! stay in the worker.

use crate::registry::{AnyCommand, AnyEvent, LabKind};
use crate::CoreError;
use neurolab_base::bench::BenchProgress;
use serde::{Deserialize, Serialize};

/// Which compute backend the user asked for. `Auto` = WebGPU when the browser has it, else CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    #[default]
    Auto,
    Webgpu,
    Cpu,
}

impl BackendChoice {
    pub const ALL: [BackendChoice; 3] = [
        BackendChoice::Auto,
        BackendChoice::Webgpu,
        BackendChoice::Cpu,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Webgpu => "webgpu",
            BackendChoice::Cpu => "cpu",
        }
    }

    pub fn parse(s: &str) -> Option<BackendChoice> {
        BackendChoice::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// Which backend the worker runs on, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// "webgpu" or "cpu".
    pub kind: String,
    /// The adapter's name (WebGPU) or the CPU backend's name.
    pub adapter: String,
    /// Set when WebGPU was wanted but could not start, or was lost: the reason, for the user.
    pub fallback_reason: Option<String>,
}

/// Hooks the browser tests use to provoke failures no link can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DebugHook {
    /// `GPUDevice.destroy()` on the worker's WebGPU device.
    LoseDevice,
    /// A Rust panic in the worker (the page restarts it).
    Panic,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Pick the compute backend (first message; sent again to switch, which rebuilds every
    /// lab's session on the new device).
    Init {
        backend: BackendChoice,
    },
    /// A command to one lab, for the page's session `session` of that lab. `Run` pauses the
    /// other labs.
    Lab {
        session: u32,
        command: AnyCommand,
    },
    Debug {
        hook: DebugHook,
    },
    /// Time every lab's benchmark cases on this backend, each for about `seconds` after its
    /// warm-up (the labs pause; starting one stops the benchmark).
    Bench {
        seconds: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The worker's wasm has loaded and accepts commands.
    Loaded,
    /// The backend is ready (answer to `Init`, and after a fallback to the CPU).
    Backend { info: BackendInfo },
    /// An event of one lab's session.
    Lab { session: u32, event: AnyEvent },
    /// A message the worker could not read, or a failure outside any lab; for the user.
    Error { message: String },
    /// The worker panicked; the page starts a new one (on the CPU backend).
    Crashed { message: String },
    /// Where the benchmark stands (after each case, and when it stops).
    Bench { progress: BenchProgress },
}

impl Command {
    pub fn lab(lab: LabKind, session: u32, command: AnyCommand) -> Command {
        debug_assert_eq!(command.lab(), lab);
        Command::Lab { session, command }
    }

    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Result<Self, CoreError> {
        serde_json::from_str(s).map_err(|e| CoreError::BadMessage {
            what: "command",
            why: e.to_string(),
        })
    }
}

impl Event {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Result<Self, CoreError> {
        serde_json::from_str(s).map_err(|e| CoreError::BadMessage {
            what: "event",
            why: e.to_string(),
        })
    }

    /// The bytes of an export, if this is one (they travel beside the JSON).
    pub fn export_bytes_mut(&mut self) -> Option<&mut Vec<u8>> {
        match self {
            Event::Lab { event, .. } => event.export_bytes_mut(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grok::GrokConfig;
    use crate::registry::Generic;
    use neurolab_base::msg::{LabCommand, LabEvent};
    use neurolab_base::{Position, StopReason};

    #[test]
    fn messages_round_trip_as_json() {
        let cmds = [
            Command::Init {
                backend: BackendChoice::Cpu,
            },
            Command::Lab {
                session: 3,
                command: AnyCommand::Grok(LabCommand::Configure {
                    config: GrokConfig::preset_transformer(),
                    prepare: true,
                }),
            },
            Command::Lab {
                session: 1,
                command: AnyCommand::generic(LabKind::Sae, Generic::Pause),
            },
            Command::Debug {
                hook: DebugHook::LoseDevice,
            },
        ];
        for c in cmds {
            assert_eq!(Command::from_json(&c.to_json()).unwrap(), c);
        }
        let e = Event::Lab {
            session: 2,
            event: AnyEvent::Spike(LabEvent::Stopped {
                position: Position::ms(10.0, 100.0),
                reason: StopReason::Diverged {
                    at: 10.0,
                    message: "NaN".into(),
                },
            }),
        };
        assert_eq!(Event::from_json(&e.to_json()).unwrap(), e);
        assert!(Command::from_json("{\"cmd\":\"nope\"}").is_err());
    }

    #[test]
    fn export_bytes_stay_out_of_the_json() {
        let mut e = Event::Lab {
            session: 1,
            event: AnyEvent::Grok(LabEvent::Exported {
                file_name: "w.safetensors".into(),
                mime: "application/octet-stream".into(),
                size: 3,
                bytes: vec![1, 2, 3],
            }),
        };
        let json = e.to_json();
        assert!(
            !json.contains("bytes") && json.contains("\"size\":3"),
            "{json}"
        );
        assert_eq!(e.export_bytes_mut().map(|b| b.len()), Some(3));
    }
}
