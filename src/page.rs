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
            <fieldset class="plain" disabled=shell.locked() aria-label="the experiment's settings">
                {config_form(ctx.form_ctx())}
            </fieldset>
        </aside>
        <section class="panel run">
            {crate::plot::figure::lab_about(shell, L::ABOUT)}
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
        {embed_dialog(shell)}
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

/// This experiment as an embed: embed mode, the chosen panels hidden.
pub fn embed_link(link: &LabLink, hide: &[String], lock: bool) -> LabLink {
    let mut embedded = link.full_page();
    embedded.view.embed = true;
    embedded.view.hide = hide.to_vec();
    embedded.view.lock = lock;
    embedded
}

/// The iframe snippet for `src`: its size and title, every attribute escaped. The embedded lab
/// shows its charts and run controls and starts when the reader presses Run.
pub fn embed_snippet(src: &str, width: &str, height: &str, lab_label: &str) -> String {
    let attr = |v: &str| v.replace('&', "&amp;").replace('"', "&quot;");
    format!(
        "<iframe src=\"{}\" width=\"{}\" height=\"{}\" style=\"border:0\" loading=\"lazy\" title=\"neurolab: {}\"></iframe>",
        attr(src),
        attr(width),
        attr(height),
        attr(lab_label)
    )
}

fn embed_dialog(shell: Shell) -> impl IntoView {
    let open = RwSignal::new(false);
    let width = RwSignal::new("100%".to_string());
    let height = RwSignal::new("640".to_string());
    let hide = RwSignal::new(Vec::<String>::new());
    let lock = RwSignal::new(false);
    let on_click = RwSignal::new(true);
    let snippet = move || {
        shell.link.with(|l| {
            let mut embedded = hide.with(|h| embed_link(l, h, lock.get()));
            embedded.view.autorun = !on_click.get();
            let src = browser::page_url(&embedded.encode());
            width.with(|w| height.with(|ht| embed_snippet(&src, w, ht, l.lab.label())))
        })
    };
    let choices = move || {
        let lab = shell.link.with(|l| l.lab);
        ["step", "imported", "explain"]
            .into_iter()
            .chain(lab.panels().iter().copied())
            .map(|name| {
                let checked = move || hide.with(|h| h.iter().any(|x| x == name));
                view! {
                    <label class="inline">
                        <input
                            type="checkbox"
                            data-testid=format!("embed-hide-{name}")
                            prop:checked=checked
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                hide.update(|h| {
                                    h.retain(|x| x != name);
                                    if on {
                                        h.push(name.to_string());
                                    }
                                });
                            }
                        />
                        {name}
                    </label>
                }
            })
            .collect_view()
    };
    let copy = move |_| {
        let text = snippet();
        leptos::task::spawn_local(async move {
            shell.say(match browser::copy_text(&text).await {
                Ok(()) => "embed snippet copied".to_string(),
                Err(e) => format!("could not copy ({e}); select the snippet and copy it by hand"),
            });
        });
    };
    view! {
        <div class="embed-box" hidden=move || !shell.shown("share")() || shell.link.with(|l| l.view.embed)>
            <button
                data-testid="embed-open"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                "Embed…"
            </button>
            <div class="embed-dialog" role="group" aria-label="embed this lab" hidden=move || !open.get()>
                <p class="muted">
                    "An iframe for course material: the charts and the run controls of this experiment."
                </p>
                <label class="field inline">
                    <span>"width"</span>
                    <input type="text" size="6" data-testid="embed-width" prop:value=move || width.get() on:input=move |ev| width.set(event_target_value(&ev)) />
                </label>
                <label class="field inline">
                    <span>"height"</span>
                    <input type="text" size="6" data-testid="embed-height" prop:value=move || height.get() on:input=move |ev| height.set(event_target_value(&ev)) />
                </label>
                <div class="embed-hide">"hide: " {choices}</div>
                {checkbox("embed-lock", "interventions read-only (lock)", lock)}
                {checkbox("embed-on-click", "start on the reader's click (otherwise it runs as soon as it loads)", on_click)}
                <textarea readonly rows="3" data-testid="embed-snippet" aria-label="the iframe snippet" prop:value=snippet></textarea>
                <button data-testid="embed-copy" on:click=copy>"Copy snippet"</button>
            </div>
        </div>
    }
}

/// A labelled checkbox bound to `value`.
fn checkbox(id: &'static str, label: &'static str, value: RwSignal<bool>) -> impl IntoView {
    view! {
        <label class="inline">
            <input
                type="checkbox"
                data-testid=id
                prop:checked=move || value.get()
                on:change=move |ev| value.set(event_target_checked(&ev))
            />
            {label}
        </label>
    }
}

/// One of a lab's panels (`L::PANELS`), hidden when the link's `hide=` names it.
pub fn panel(shell: Shell, name: &'static str, content: impl IntoView) -> impl IntoView {
    let locked = shell.locked();
    let read_only = move || locked() && LOCKABLE.contains(&name);
    view! {
        <div class="lab-panel" data-panel=name hidden=move || !shell.shown(name)()>
            <fieldset class="plain" disabled=read_only>
                {content}
            </fieldset>
        </div>
    }
}

/// Panels that change the experiment: read-only under `lock=1`.
const LOCKABLE: [&str; 4] = ["interventions", "runs", "timeline", "clamp"];

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

/// A download button for the lab's export `what` (enabled when `ready`): the file comes back as
/// an `Exported` event and is downloaded under the name and type the lab gives it.
pub fn export_button<L: PageLab>(
    ctx: LabCtx<L>,
    what: &'static str,
    test_id: &'static str,
    label: &'static str,
    ready: impl Fn() -> bool + Send + Sync + 'static,
) -> impl IntoView {
    let shell = ctx.shell;
    view! {
        <button
            data-testid=test_id
            disabled=move || !ready()
            on:click=move |_| {
                shell.say(format!("preparing the {what} file…"));
                ctx.send(LabCommand::Export {
                    what: what.into(),
                });
            }
        >
            {label}
        </button>
    }
}

/// The lab's "weights" export as a download button (enabled when `ready`).
pub fn weights_button<L: PageLab>(
    ctx: LabCtx<L>,
    label: &'static str,
    ready: impl Fn() -> bool + Send + Sync + 'static,
) -> impl IntoView {
    export_button(ctx, "weights", "export-weights", label, ready)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embed_snippet_is_an_iframe_of_this_experiment_in_embed_mode() {
        let mut link = LabLink::default();
        link.view.hide = vec!["config".into()];
        let e = embed_link(&link, &["mechanism".into()], false);
        assert!(e.view.embed && e.view.hide == ["mechanism"] && !e.view.lock);
        assert!(embed_link(&link, &[], true)
            .encode()
            .ends_with("&embed=1&lock=1"));
        assert_eq!(e.configs, link.configs);
        let fragment = e.encode();
        assert!(fragment.ends_with("&embed=1&hide=mechanism"), "{fragment}");
        let s = embed_snippet(&format!("https://x/#{fragment}"), "100%", "480", "Grokking");
        assert!(s.starts_with("<iframe src=\"https://x/#v=1&amp;"), "{s}");
        assert!(s.ends_with("\" width=\"100%\" height=\"480\" style=\"border:0\" loading=\"lazy\" title=\"neurolab: Grokking\"></iframe>"), "{s}");
        // An attribute cannot be broken out of.
        assert!(embed_snippet("x", "1\"><script>", "1", "L").contains("1&quot;><script>"));
    }
}
