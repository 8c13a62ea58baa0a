//! The page shell (leptos, client-side): header with the lab picker and the backend, banners,
//! and around each lab's own panels what every lab shares — the config form over its field
//! table, the run controls, progress, metrics, the share link. It knows no lab: the labs'
//! registry ([`crate::labs::Labs`]) builds and routes them. Thin components over plain state;
//! compute happens in the worker. It must not use burn.

use crate::browser;
use crate::browser::bridge::{WorkerLink, WORKER_URL};
use crate::form::config_form;
use crate::labs::{LabCtx, Labs, PageLab};
use crate::run::RunState;
use leptos::prelude::*;
use neurolab_base::msg::LabCommand;
use neurolab_base::{LabConfig as _, Phase};
use neurolab_core::link::LabLink;
use neurolab_core::protocol::{BackendChoice, BackendInfo, Command, DebugHook, Event};
use neurolab_core::LabKind;
use std::rc::Rc;

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

/// The state every part of the page shares (all handles are `Copy`), provided as context.
#[derive(Clone, Copy)]
pub struct Shell {
    pub link: RwSignal<LabLink>,
    pub status: RwSignal<Option<String>>,
    pub backend: RwSignal<Option<BackendInfo>>,
    pub problem: RwSignal<Option<LinkProblem>>,
    /// A failure outside any lab (the worker could not start, crashed, …).
    pub worker_error: RwSignal<Option<String>>,
    worker: StoredValue<Option<WorkerLink>, LocalStorage>,
    sessions: StoredValue<u32>,
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

    pub fn say(self, message: impl Into<String>) {
        self.status.set(Some(message.into()));
    }
}

fn on_event(shell: Shell, labs: Labs, event: Event, bytes: Option<Vec<u8>>) {
    match event {
        Event::Loaded => {}
        Event::Backend { info } => shell.backend.set(Some(info)),
        Event::Lab { session, event } => labs.on_event(session, event, bytes),
        Event::Error { message } => shell.worker_error.set(Some(message)),
        Event::Crashed { message } => {
            // A new worker on the CPU, every lab rebuilt there: nothing to reload.
            let restarted = shell
                .worker
                .with_value(|w| w.as_ref().map(WorkerLink::restart))
                .unwrap_or_else(|| Err("no worker".into()));
            match restarted {
                Ok(()) => {
                    shell.worker_error.set(Some(format!(
                        "The compute worker crashed ({message}); it was restarted on the CPU and the labs were rebuilt."
                    )));
                    shell.link.update(|l| l.backend = BackendChoice::Cpu);
                    shell.send(Command::Init {
                        backend: BackendChoice::Cpu,
                    });
                    labs.rebuild();
                }
                Err(e) => shell.worker_error.set(Some(format!(
                    "The compute worker crashed ({message}) and could not be restarted: {e}"
                ))),
            }
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let opened = LabLink::open(&browser::fragment());
    let link = opened.link.clone();
    let shell = Shell {
        link: RwSignal::new(link.clone()),
        status: RwSignal::new(None),
        backend: RwSignal::new(None),
        problem: RwSignal::new(opened.problem.as_ref().map(|p| LinkProblem {
            message: p.to_string(),
            dropped: opened.dropped.clone(),
            original: opened.original.clone(),
        })),
        worker_error: RwSignal::new(None),
        worker: StoredValue::new_local(None),
        sessions: StoredValue::new(0),
    };
    provide_context(shell);
    let labs = Labs::new(shell, &link);
    provide_context(labs);
    let handler: crate::browser::bridge::OnEvent =
        Rc::new(move |event, bytes| on_event(shell, labs, event, bytes));
    match WorkerLink::start(WORKER_URL, handler) {
        Ok(worker) => shell.worker.set_value(Some(worker)),
        Err(message) => shell.worker_error.set(Some(message)),
    }
    shell.send(Command::Init {
        backend: link.backend,
    });
    labs.open(link.lab);
    browser::expose_debug_hook(move |hook| {
        let hook = match hook.as_str() {
            "lose_device" => DebugHook::LoseDevice,
            "panic" => DebugHook::Panic,
            _ => return,
        };
        shell.send(Command::Debug { hook });
    });

    // The address always carries the current experiment.
    Effect::new(move |_| {
        let fragment = shell.link.with(LabLink::encode);
        if let Err(e) = browser::replace_fragment(&fragment) {
            leptos::logging::warn!("could not update the address: {e}");
        }
    });

    let embed = move || shell.link.with(|l| l.view.embed);
    let lab = move || shell.link.with(|l| l.lab);
    view! {
        <div class="app" class:embed=embed>
            <Show when=move || !embed()>
                <Header />
            </Show>
            <Banners />
            <main class="layout" data-lab=move || lab().name()>
                {move || labs.page(lab())}
            </main>
        </div>
    }
}

#[component]
fn Header() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let labs = expect_context::<Labs>();
    let badge = move || {
        shell.backend.with(|b| match b {
            Some(info) => format!("{} · {}", info.kind, info.adapter),
            None => "backend: starting…".to_string(),
        })
    };
    let badge_kind = move || {
        shell.backend.with(|b| {
            format!(
                "badge {}",
                b.as_ref().map_or("pending", |b| b.kind.as_str())
            )
        })
    };
    let on_backend = move |ev: leptos::ev::Event| {
        let Some(choice) = BackendChoice::parse(&event_target_value(&ev)) else {
            return;
        };
        shell.link.update(|l| l.backend = choice);
        shell.backend.set(None);
        labs.expect_rebuild();
        shell.send(Command::Init { backend: choice });
    };
    let backend_value = move || shell.link.with(|l| l.backend.name());
    view! {
        <header class="top">
            <h1>"neurolab"</h1>
            <label class="lab-picker">
                <span class="sr">"lab"</span>
                <select
                    data-testid="lab-picker"
                    title="lab"
                    on:change=move |ev| {
                        if let Some(lab) = LabKind::parse(&event_target_value(&ev)) {
                            shell.link.update(|l| l.lab = lab);
                            shell.status.set(None);
                            labs.open(lab);
                        }
                    }
                >
                    {LabKind::ALL
                        .iter()
                        .map(|&lab| {
                            view! {
                                <option
                                    value=lab.name()
                                    selected=shell.link.with_untracked(|l| l.lab == lab)
                                    prop:selected=move || shell.link.with(|l| l.lab == lab)
                                >
                                    {lab.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <div class="backend" hidden=move || !shell.shown("backend")()>
                <span class=badge_kind data-testid="backend" aria-live="polite">{badge}</span>
                <label>
                    "backend "
                    <select data-testid="backend-choice" on:change=on_backend>
                        {BackendChoice::ALL
                            .into_iter()
                            .map(|b| {
                                view! {
                                    <option
                                        value=b.name()
                                        selected=shell.link.with_untracked(|l| l.backend == b)
                                        prop:selected=move || backend_value() == b.name()
                                    >
                                        {b.name()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
            </div>
        </header>
    }
}

#[component]
fn Banners() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let fallback = move || {
        shell
            .backend
            .with(|b| b.as_ref().and_then(|b| b.fallback_reason.clone()))
    };
    view! {
        {move || {
            shell
                .problem
                .get()
                .map(|p| {
                    let dropped = (!p.dropped.is_empty())
                        .then(|| format!(" Left out: {}.", p.dropped.join(", ")));
                    view! {
                        <div class="banner error" data-testid="link-error" role="alert">
                            <strong>"This link could not be opened as it is: "</strong>
                            {p.message}
                            {dropped}
                            " The rest of it is open below; the link as it was:"
                            <input
                                type="text"
                                readonly
                                class="original-link"
                                data-testid="original-link"
                                aria-label="the link as it was opened"
                                prop:value=p.original
                            />
                            <button
                                class="close"
                                aria-label="close"
                                on:click=move |_| shell.problem.set(None)
                            >
                                "×"
                            </button>
                        </div>
                    }
                })
        }}
        {move || {
            (shell.shown("backend")())
                .then(fallback)
                .flatten()
                .map(|reason| {
                    view! {
                        <div class="banner notice" data-testid="backend-notice" role="status">
                            "WebGPU is not available, so training runs on the CPU (slower). "
                            <span class="reason">{reason}</span>
                        </div>
                    }
                })
        }}
        {move || {
            shell
                .worker_error
                .get()
                .map(|message| {
                    view! {
                        <div class="banner error" data-testid="worker-error" role="alert">
                            {message}
                        </div>
                    }
                })
        }}
    }
}

/// A lab's whole page: the shared parts around the lab's panels.
pub fn lab_page<L: PageLab>(ctx: LabCtx<L>) -> AnyView {
    let shell = ctx.shell;
    view! {
        <aside class="panel config" hidden=move || !shell.shown("config")()>
            <h2>{L::LABEL}</h2>
            {config_form(ctx.form_ctx())}
        </aside>
        <section class="panel run">
            {run_controls(ctx)}
            {progress(ctx.run, shell)}
            {metrics(ctx)}
            {move || {
                ctx.run
                    .with(|r| r.note.clone())
                    .map(|note| {
                        view! {
                            <p class="banner notice" data-testid="session-note" role="status">
                                {note}
                            </p>
                        }
                    })
            }}
            {move || {
                ctx.run
                    .with(|r| (r.phase == Phase::Diverged).then(|| r.error.clone()).flatten())
                    .map(|message| {
                        view! {
                            <p class="banner error" data-testid="diverged" role="alert">
                                <strong>"Diverged: "</strong>
                                {message}
                                " — change the config (a lower learning rate) and reset."
                            </p>
                        }
                    })
            }}
            {L::panels(ctx)}
            {share_block(shell)}
        </section>
    }
    .into_any()
}

fn run_controls<L: PageLab>(ctx: LabCtx<L>) -> impl IntoView {
    let phase = move || ctx.run.with(|r| r.phase);
    let can_run = move || ctx.run.with(RunState::can_run);
    let config = ctx.config_signal();
    let step_label = move || config.with(|c| RunState::step_label(c.plan().unit, c.step_units()));
    let shell = ctx.shell;
    view! {
        <div class="controls">
            <button
                class="primary"
                data-testid="run"
                disabled=move || !can_run()
                on:click=move |_| ctx.send(LabCommand::Run)
            >
                "▶ Run"
            </button>
            <button
                data-testid="pause"
                disabled=move || {
                    !(phase() == Phase::Running
                        || ctx.run.with(|r| r.preparing.as_ref().is_some_and(|p| p.running)))
                }
                on:click=move |_| ctx.send(LabCommand::Pause)
            >
                "Pause"
            </button>
            <button
                data-testid="step"
                hidden=move || !shell.shown("step")()
                disabled=move || !matches!(phase(), Phase::Ready | Phase::Paused)
                on:click=move |_| ctx.send(LabCommand::Step)
            >
                {step_label}
            </button>
            <button
                data-testid="reset"
                disabled=move || phase() == Phase::Starting
                on:click=move |_| ctx.restart(true)
            >
                "Reset"
            </button>
            <span
                class=move || format!("state {}", phase().name())
                data-testid="run-state"
                role="status"
                aria-live="polite"
            >
                {move || phase().name()}
            </span>
        </div>
    }
}

fn progress(run: RwSignal<RunState>, shell: Shell) -> impl IntoView {
    let pct = move || 100.0 * run.with(RunState::progress_fraction);
    view! {
        <div class="progress" data-testid="progress" hidden=move || !shell.shown("progress")()>
            <div
                class="bar"
                role="progressbar"
                aria-label="progress"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=move || format!("{:.0}", pct())
            >
                <div class="fill" style:width=move || format!("{:.1}%", pct())></div>
            </div>
            <span aria-live="polite">{move || run.with(RunState::progress_text)}</span>
        </div>
    }
}

fn metrics<L: PageLab>(ctx: LabCtx<L>) -> impl IntoView {
    let shell = ctx.shell;
    view! {
        <div class="metrics" data-testid="metrics" hidden=move || !shell.shown("metrics")()>
            {move || {
                let items = ctx.state.with(L::metrics);
                if items.is_empty() {
                    return view! { <span class="muted">"no metrics yet"</span> }.into_any();
                }
                items
                    .into_iter()
                    .map(|(label, value)| {
                        view! {
                            <div class="metric">
                                <span class="label">{label}</span>
                                <span class="value">{value}</span>
                            </div>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </div>
    }
}

/// The share link, the status line, and in an embed the way out to the full page.
fn share_block(shell: Shell) -> impl IntoView {
    let embed = move || shell.link.with(|l| l.view.embed);
    let url = move || browser::page_url(&shell.link.with(LabLink::encode));
    let input = NodeRef::<leptos::html::Input>::new();
    let copy = move |_| {
        let text = url();
        leptos::task::spawn_local(async move {
            let result = browser::copy_text(&text).await;
            shell.status.set(Some(match result {
                Ok(()) => "link copied".to_string(),
                Err(e) => {
                    // Select it so that Ctrl+C works.
                    if let Some(el) = input.get_untracked() {
                        el.select();
                    }
                    format!("could not copy ({e}); the link is selected: copy it by hand")
                }
            }));
        });
    };
    view! {
        <div class="share" hidden=move || !shell.shown("share")()>
            <button data-testid="share" on:click=copy>
                "Copy link"
            </button>
            <input
                node_ref=input
                type="text"
                readonly
                data-testid="share-link"
                aria-label="link to this experiment"
                prop:value=url
                on:focus=move |_| {
                    if let Some(el) = input.get_untracked() {
                        el.select();
                    }
                }
            />
        </div>
        <p class="status" data-testid="status" role="status" aria-live="polite">
            {move || shell.status.get().unwrap_or_default()}
        </p>
        <Show when=embed>
            <a
                class="open-full"
                data-testid="open-full"
                target="_blank"
                rel="noopener"
                href=move || browser::page_url(&shell.link.with(|l| l.full_page().encode()))
            >
                "open in neurolab ↗"
            </a>
        </Show>
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
