//! The state every part of the page shares, provided as leptos context: the link, the status
//! line, the backend, the link's problem, the worker. Below the labs and the shell: both use it,
//! it uses neither.

use crate::browser::bridge::WorkerLink;
use leptos::prelude::*;
use neurolab_core::link::LabLink;
use neurolab_core::protocol::{BackendInfo, Command};

/// Controls an embedded page keeps: the charts and the run buttons.
const EMBED_HIDES: [&str; 6] = [
    "config", "backend", "share", "export", "progress", "metrics",
];

/// Whether a control is visible under these view options.
pub fn shown(link: &LabLink, control: &str) -> bool {
    let hidden = link.view.hide.iter().any(|h| h == control);
    let embedded_away = link.view.embed && EMBED_HIDES.contains(&control);
    !(hidden || embedded_away)
}

/// What opening the link dropped, for the banner: the message, the keys, the text as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkProblem {
    pub message: String,
    pub dropped: Vec<String>,
    pub original: String,
}

/// Opens an experiment file (its name, its text) in the lab it names; the error names what is
/// wrong with it. Provided by the shell (which knows the labs) to the pages (which do not).
#[derive(Clone, Copy)]
pub struct ImportExperiment(pub Callback<(String, String), Result<(), String>>);

/// Whether the open experiment's run has started and reached its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Activity {
    pub ran: bool,
    pub finished: bool,
}

/// The state every part of the page shares (all handles are `Copy`), provided as context.
#[derive(Clone, Copy)]
pub struct Shell {
    pub link: RwSignal<LabLink>,
    pub status: RwSignal<Option<String>>,
    pub backend: RwSignal<Option<BackendInfo>>,
    pub problem: RwSignal<Option<LinkProblem>>,
    /// Another neurolab version made the opened link: what may differ.
    pub version_notice: RwSignal<Option<String>>,
    /// A failure outside any lab (the worker could not start, crashed, …).
    pub worker_error: RwSignal<Option<String>>,
    /// A new build of neurolab replaced the cached one (offline use): its version.
    pub updated: RwSignal<Option<String>>,
    /// What the open experiment's run has done since it was opened (a lesson reveals its
    /// answer after the run).
    pub activity: RwSignal<Activity>,
    /// The start page (gallery of presets and lessons) is shown instead of a lab.
    pub gallery: RwSignal<bool>,
    /// The Benchmark panel is open, and where its last run stands.
    pub bench_open: RwSignal<bool>,
    pub bench: RwSignal<Option<neurolab_core::base::bench::BenchProgress>>,
    pub(crate) worker: StoredValue<Option<WorkerLink>, LocalStorage>,
    pub(crate) sessions: StoredValue<u32>,
}

impl Shell {
    pub fn send(self, command: Command) {
        self.worker.with_value(|w| {
            if let Some(w) = w {
                w.send(command)
            }
        });
    }

    /// A fresh session id (ids are unique across labs and restarts).
    pub fn next_session(self) -> u32 {
        let id = self.sessions.get_value() + 1;
        self.sessions.set_value(id);
        id
    }

    pub fn shown(self, control: &'static str) -> impl Fn() -> bool + Copy {
        move || self.link.with(|l| shown(l, control))
    }

    /// `lock=1`: the config and the interventions are read-only.
    pub fn locked(self) -> impl Fn() -> bool + Copy {
        move || self.link.with(|l| l.view.lock)
    }

    pub fn say(self, message: impl Into<String>) {
        self.status.set(Some(message.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_and_hide_choose_the_controls() {
        let mut link = LabLink::default();
        assert!(shown(&link, "config") && shown(&link, "step"));
        link.view.hide = vec!["step".into()];
        assert!(!shown(&link, "step") && shown(&link, "config"));
        link.view.embed = true;
        assert!(!shown(&link, "config") && !shown(&link, "metrics"));
        let full = link.full_page();
        assert!(!full.view.embed && full.view.hide.is_empty());
        assert_eq!(full.configs, link.configs);
    }
}
