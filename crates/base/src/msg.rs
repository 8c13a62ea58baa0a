//! The lab-generic halves of the page ⇄ worker protocol: what the page asks of one lab
//! ([`LabCommand`]) and what that lab answers ([`LabEvent`]). The core's registry wraps them in
//! one enum per direction, naming the lab and the session.

use crate::lab::Lab;
use crate::run::{Position, StopReason};
use crate::script::Script;
use serde::{Deserialize, Serialize};

/// A command to one lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "", tag = "do", rename_all = "snake_case")]
pub enum LabCommand<L: Lab> {
    /// Build a fresh session (position 0). With `prepare`, its preparation starts at once;
    /// otherwise (an embed) it waits for `Run`.
    Configure {
        config: L::Config,
        prepare: bool,
    },
    /// Change the run; always answered (`Answer` or `Failed`).
    Control {
        control: L::Control,
    },
    /// Run until the budget, a `Pause` or a divergence.
    Run,
    Pause,
    /// Advance by the lab's step (one training step, 100 simulated ms), in chunks.
    Step,
    /// Back to position 0 with the same config and seed (a new session id).
    Reset {
        prepare: bool,
    },
    /// A file of the run (`what`: "weights").
    Export {
        what: String,
    },
    /// Replace the session's event script (a link's interventions): each event is applied when
    /// the run reaches its position; events at or before the current position count as done.
    /// A new config clears the script; a reset replays it from the start.
    Script {
        script: Script<L::Control>,
    },
}

/// An event from one lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "", tag = "event", rename_all = "snake_case")]
pub enum LabEvent<L: Lab> {
    /// A session exists (answer to `Configure` and `Reset`); `note` says why it differs from
    /// what was asked (another engine, a fallback).
    Configured {
        summary: L::Summary,
        position: Position,
        note: Option<String>,
    },
    /// Preparation is under way.
    Preparing {
        what: String,
        done: u32,
        total: u32,
        running: bool,
    },
    Report {
        report: L::Report,
    },
    /// The answer to a control.
    Answer {
        answer: L::Answer,
    },
    /// A control from the page was applied at position `at` and is now part of the script
    /// (the link records it).
    Recorded {
        at: f64,
        control: L::Control,
    },
    /// Between reports: where the run is and how fast it goes (units per wall second).
    Progress {
        position: Position,
        rate: f64,
        running: bool,
    },
    Stopped {
        position: Position,
        reason: StopReason,
    },
    /// A file; its bytes travel beside the JSON as a transferable buffer.
    Exported {
        file_name: String,
        mime: String,
        size: u64,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// A command failed; the run (if any) is unchanged.
    Failed {
        message: String,
    },
}
