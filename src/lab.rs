//! How a lab plugs into the page: [`PageLab`] (its plain state, folded from its events, and its
//! own panels) and [`LabCtx`] (the handles its components use). One folder per lab under
//! [`crate::labs`]: `mod.rs` (the page), `state.rs` (the plain state, tested natively),
//! `views.rs` (its panels and charts).

use crate::context::Shell;
use crate::form::{FormCtx, FormState};
use crate::run::RunState;
use leptos::prelude::*;
use neurolab_base::msg::{LabCommand, LabEvent};
use neurolab_base::{LabConfig, Script};
use neurolab_core::link::LabLink;
use neurolab_core::protocol::Command;
use neurolab_core::Registered;

/// A lab's page.
pub trait PageLab: Registered + neurolab_base::Lab<Report: Send + Sync> {
    /// What the page knows of the run beyond the generic run state (reports, answers).
    type State: Default + Send + Sync + 'static;

    /// The lab's "what am I seeing" (behind an ⓘ at the top of its page).
    const ABOUT: &'static crate::plot::figure::About;

    /// One line for the lab's gallery cards.
    const SUMMARY: &'static str;

    /// A gallery card's picture: SVG paths `(d, colour, filled)` in a 120 × 60 box, a sketch of
    /// what the lab draws, varied by `seed` (one per card).
    fn sketch(seed: &mut u64) -> Vec<(String, &'static str, bool)>;

    /// Fold one of the lab's events into its state (the run state is folded by the shell).
    fn fold(state: &mut Self::State, event: &LabEvent<Self>);

    /// The metric tiles: (label, value).
    fn metrics(state: &Self::State) -> Vec<(&'static str, String)>;

    /// The lab's own panels under the shared controls (interventions, charts, browsers).
    fn panels(ctx: LabCtx<Self>) -> AnyView;

    /// Edits a running session takes as controls instead of a new session (`None`: rebuild).
    fn live_edit(_old: &Self::Config, _new: &Self::Config) -> Option<Vec<Self::Control>> {
        None
    }

    /// After an event was folded: what the lab asks next (the SAE lab's feature list after a
    /// stop).
    fn after(_ctx: LabCtx<Self>, _event: &LabEvent<Self>) {}
}

/// The handles a lab's components use (all `Copy`).
pub struct LabCtx<L: PageLab> {
    pub shell: Shell,
    pub state: RwSignal<L::State>,
    pub run: RwSignal<RunState>,
    pub form: RwSignal<FormState>,
    /// The id of the session this page shows; events of others are dropped.
    pub session: RwSignal<u32>,
    /// Whether the worker has been asked to build this lab's session.
    pub configured: RwSignal<bool>,
    /// This session's reports in order (at most [`REPORTS_KEPT`]): what an exported experiment
    /// holds and what its curves are drawn from.
    pub reports: RwSignal<Vec<L::Report>>,
    /// An imported experiment's recorded run, drawn under the re-run.
    pub recorded: RwSignal<Option<Recorded>>,
}

/// Most reports a page keeps for its experiment file.
pub const REPORTS_KEPT: usize = 20_000;

/// An imported experiment's run, or a sweep's runs, as they were recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The file, what was recorded, where, for the user.
    pub about: String,
    /// The recorded runs: one for an experiment, one per point for a sweep (its name).
    pub runs: Vec<(String, Vec<neurolab_base::Curve>)>,
}

impl<L: PageLab> Clone for LabCtx<L> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<L: PageLab> Copy for LabCtx<L> {}

impl<L: PageLab> LabCtx<L> {
    pub fn new(shell: Shell, link: &LabLink) -> Self {
        let config = L::config(&link.configs);
        let run = RunState {
            position: config.plan(),
            ..RunState::default()
        };
        Self {
            shell,
            state: RwSignal::new(L::State::default()),
            run: RwSignal::new(run),
            form: RwSignal::new(FormState::of(config)),
            session: RwSignal::new(0),
            configured: RwSignal::new(false),
            reports: RwSignal::new(Vec::new()),
            recorded: RwSignal::new(None),
        }
    }

    /// Open an experiment file's run: its link in force (config and script), its recorded
    /// curves shown, a new session ready to re-run it. Every report must be one of this lab's.
    pub fn import(
        self,
        file_name: String,
        experiment: neurolab_core::experiment::Experiment,
        link: LabLink,
    ) -> Result<(), String> {
        let curves = neurolab_core::experiment::curves_of::<L>(&experiment.reports)?;
        let ran = &experiment.ran;
        self.show_recorded(
            Recorded {
                about: format!(
                    "{file_name}: {} reports recorded by neurolab {} on {} ({})",
                    experiment.reports.len(),
                    ran.lab_version,
                    ran.backend,
                    ran.adapter
                ),
                runs: vec![("recorded".into(), curves)],
            },
            link,
        );
        Ok(())
    }

    /// Open a sweep's summary: its base link in force, every point's curves drawn.
    pub fn import_sweep(
        self,
        file_name: String,
        sweep: neurolab_core::experiment::Sweep,
        link: LabLink,
    ) -> Result<(), String> {
        let mut keys: Vec<&str> = Vec::new();
        for p in &sweep.points {
            for (k, _) in &p.values {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
        let about = format!(
            "{file_name}: a sweep of {} points over {}",
            sweep.points.len(),
            if keys.is_empty() {
                "nothing".to_string()
            } else {
                keys.join(", ")
            }
        );
        let runs = sweep
            .points
            .into_iter()
            .map(|p| (p.name, p.curves))
            .collect();
        self.show_recorded(Recorded { about, runs }, link);
        Ok(())
    }

    /// Open `link` (this lab's experiment): its config in force, a new session.
    pub fn open_link(self, link: LabLink) {
        self.recorded.set(None);
        self.form.set(FormState::of(L::config(&link.configs)));
        self.shell.link.set(link);
        self.shell.activity.set(Default::default());
        self.restart(false);
    }

    fn show_recorded(self, recorded: Recorded, link: LabLink) {
        self.recorded.set(Some(recorded));
        self.form.set(FormState::of(L::config(&link.configs)));
        self.shell.link.set(link);
        self.restart(false);
    }

    /// The config in force (untracked).
    pub fn config(self) -> L::Config {
        self.shell
            .link
            .with_untracked(|l| L::config(&l.configs).clone())
    }

    /// The config in force, tracked.
    pub fn config_signal(self) -> Signal<L::Config> {
        let link = self.shell.link;
        Signal::derive(move || link.with(|l| L::config(&l.configs).clone()))
    }

    /// A command to the current session.
    pub fn send(self, command: LabCommand<L>) {
        self.shell.send(Command::Lab {
            session: self.session.get_untracked(),
            command: L::wrap_command(command),
        });
    }

    pub fn control(self, control: L::Control) {
        self.send(LabCommand::Control { control });
    }

    /// Ask for a new session (the config in force, or a reset): a new id, the old state gone.
    pub fn restart(self, reset: bool) {
        let id = self.shell.next_session();
        self.session.set(id);
        self.configured.set(true);
        let config = self.config();
        self.run.update(|r| r.expect_session(config.plan()));
        self.state.set(L::State::default());
        self.reports.set(Vec::new());
        let prepare = !self.shell.link.with_untracked(|l| l.view.embed);
        if reset {
            // The worker keeps its script and replays it from the start.
            self.send(LabCommand::Reset { prepare });
            return;
        }
        self.send(LabCommand::Configure { config, prepare });
        let script = self.script();
        if !script.is_empty() {
            self.send(LabCommand::Script { script });
        }
    }

    /// The link's interventions for this lab (an invalid text was refused when the link opened).
    pub fn script(self) -> Script<L::Control> {
        self.shell.link.with_untracked(|l| {
            l.scripts
                .get(L::NAME)
                .and_then(|t| Script::decode(t).ok())
                .unwrap_or_default()
        })
    }

    fn set_script(self, script: &Script<L::Control>) {
        let text = script.encode();
        self.shell.link.update(|l| l.set_script_text(L::NAME, text));
    }

    /// A control the worker applied at `at`: into the link's script, in position order.
    fn record(self, at: f64, control: &L::Control) {
        let mut script = self.script();
        let index = script.events.partition_point(|e| e.at <= at);
        match script.insert(index, at, control.clone()) {
            Ok(()) => self.set_script(&script),
            Err(e) => self.shell.status.set(Some(e.to_string())),
        }
    }

    /// An event of this lab's session `session`.
    pub fn on_event(self, session: u32, mut event: LabEvent<L>, bytes: Option<Vec<u8>>) {
        if session != self.session.get_untracked() {
            return;
        }
        match &mut event {
            LabEvent::Exported {
                file_name, mime, ..
            } => {
                let result = match bytes {
                    Some(bytes) => crate::browser::download(file_name, mime, &bytes),
                    None => Err("the file arrived without its bytes".to_string()),
                };
                self.shell.status.set(Some(match result {
                    Ok(()) => format!("downloaded {file_name}"),
                    Err(e) => e,
                }));
                return;
            }
            LabEvent::Failed { message } => self.shell.status.set(Some(message.clone())),
            LabEvent::Recorded { at, control } => self.record(*at, control),
            LabEvent::Report { report } => {
                if self.reports.with_untracked(Vec::len) < REPORTS_KEPT {
                    self.reports.update(|r| r.push(report.clone()));
                }
            }
            _ => {}
        }
        self.run.update(|r| r.apply(&event));
        self.state.update(|s| L::fold(s, &event));
        L::after(self, &event);
        match &event {
            LabEvent::Progress { running: true, .. } => {
                if !self.shell.activity.with_untracked(|a| a.ran) {
                    self.shell.activity.update(|a| a.ran = true);
                }
            }
            LabEvent::Stopped {
                reason: neurolab_base::StopReason::Finished,
                ..
            } => self.shell.activity.update(|a| {
                a.ran = true;
                a.finished = true;
            }),
            _ => {}
        }
        // `autorun=1`: a freshly built run starts at once (an embed otherwise waits for Run).
        if let LabEvent::Configured { position, .. } = &event {
            if position.done == 0.0 && self.shell.link.with_untracked(|l| l.view.autorun) {
                self.send(LabCommand::Run);
            }
        }
    }

    /// The user edited a form field.
    pub fn edit(self, key: String, value: String) {
        let mut form = self.form.get_untracked();
        let parsed = form.edit::<L::Config>(&key, value);
        self.form.set(form);
        if let Some(config) = parsed {
            self.apply_config(config);
        }
    }

    /// Put `config` in force: live controls when the lab takes them, else a new session.
    pub fn apply_config(self, config: L::Config) {
        let old = self.config();
        if old == config {
            return;
        }
        let live = self
            .run
            .with_untracked(|r| r.phase != neurolab_base::Phase::Starting)
            .then(|| L::live_edit(&old, &config))
            .flatten();
        self.form.set(FormState::of(&config));
        // A live edit made of recorded controls is part of the script, not of the config (the
        // link must not replay it from step 0); a new config starts a run without a script.
        let scripted = live
            .as_ref()
            .is_some_and(|controls| controls.iter().all(L::records));
        if !scripted {
            self.shell
                .link
                .update(|l| *L::config_mut(&mut l.configs) = config);
        }
        if live.is_none() {
            self.set_script(&Script::default());
        }
        match live {
            Some(controls) => {
                for control in controls {
                    self.control(control);
                }
                self.shell.status.set(Some("changed while running".into()));
            }
            None => self.restart(false),
        }
    }

    /// The form's handles.
    pub fn form_ctx(self) -> FormCtx<L::Config> {
        FormCtx {
            lab: L::NAME,
            form: self.form,
            config: self.config_signal(),
            edit: Callback::new(move |(k, v)| self.edit(k, v)),
            preset: Callback::new(move |c| self.apply_config(c)),
        }
    }
}
