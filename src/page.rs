//! What every lab's page shares, drawn around the lab's own panels: the config form over its
//! field table, the run controls, the progress bar, the metric tiles, notes, the share link.

use crate::browser;
use crate::context::Shell;
use crate::form::config_form;
use crate::lab::{LabCtx, PageLab};
use crate::run::RunState;
use leptos::prelude::*;
use neurolab_base::msg::LabCommand;
use neurolab_base::{LabConfig as _, Phase};
use neurolab_core::link::LabLink;

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
            {crate::experiment::recorded_block(ctx)}
            {L::panels(ctx)}
            {crate::experiment::experiment_block(ctx)}
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
            <span class="muted" data-testid="script-note">
                {move || {
                    shell
                        .link
                        .with(|l| {
                            let n = l
                                .script_text()
                                .and_then(|t| {
                                    neurolab_core::Configs::check_script(l.lab, t).ok()
                                })
                                .unwrap_or(0);
                            match n {
                                0 => String::new(),
                                1 => "the link holds 1 intervention, replayed at its step".into(),
                                n => format!("the link holds {n} interventions, replayed at their steps"),
                            }
                        })
                }}
            </span>
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

/// One of a lab's panels (`L::PANELS`), hidden when the link's `hide=` names it.
pub fn panel(shell: Shell, name: &'static str, content: impl IntoView) -> impl IntoView {
    view! {
        <div class="lab-panel" data-panel=name hidden=move || !shell.shown(name)()>
            {content}
        </div>
    }
}

/// A small labelled text input (interventions, clamps): shows `value`, reports edits.
pub fn text_input(
    id: &'static str,
    label: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
    on_change: impl Fn(String) + 'static,
) -> impl IntoView {
    view! {
        <label class="field inline">
            <span>{label}</span>
            <input
                type="text"
                data-testid=id
                prop:value=value
                on:change=move |ev| on_change(event_target_value(&ev))
            />
        </label>
    }
}

/// The lab's "weights" export as a download button (enabled when `ready`).
pub fn weights_button<L: PageLab>(
    ctx: LabCtx<L>,
    label: &'static str,
    ready: impl Fn() -> bool + Send + Sync + 'static,
) -> impl IntoView {
    let shell = ctx.shell;
    view! {
        <button
            data-testid="export-weights"
            disabled=move || !ready()
            on:click=move |_| {
                shell.say("preparing the weights…");
                ctx.send(LabCommand::Export {
                    what: "weights".into(),
                });
            }
        >
            {label}
        </button>
    }
}
