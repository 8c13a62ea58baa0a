//! Experiment files on the page: export this run (its link, every report, where it ran) as one
//! JSON file; import one by the file picker or by dropping it on the page, which opens its link
//! and draws its recorded curves at once; re-running it overlays the new curves on the recorded
//! ones with their largest difference. The file format is the core's (`neurolab run
//! --experiment` reads the same files).

use crate::browser;
use crate::context::{ImportExperiment, Shell};
use crate::lab::{LabCtx, PageLab};
use crate::plot::{self, Line, COLORS};
use leptos::prelude::*;
use neurolab_base::curve::{compare, Curve};
use neurolab_core::experiment::{Experiment, Ran, MAX_BYTES};
use wasm_bindgen::JsValue;

/// The experiment file of `ctx`'s run so far.
pub fn experiment_json<L: PageLab>(ctx: LabCtx<L>) -> String {
    let link = ctx.shell.link.get_untracked();
    let (backend, adapter) = ctx.shell.backend.with_untracked(|b| {
        b.as_ref()
            .map_or(("unknown".into(), "unknown".into()), |b| {
                (b.kind.clone(), b.adapter.clone())
            })
    });
    let ran = Ran {
        lab_version: neurolab_core::LAB_VERSION.into(),
        backend,
        adapter,
    };
    let reports = ctx.reports.with_untracked(|r| {
        r.iter()
            .map(|r| serde_json::to_value(r).expect("a report serialises"))
            .collect()
    });
    Experiment::new(&link, ran, reports).to_json()
}

/// Read the first file `holder` holds (a file input, a drop's `dataTransfer`) and open it.
pub fn import_from(shell: Shell, open: ImportExperiment, holder: JsValue) {
    leptos::task::spawn_local(async move {
        let message = match browser::first_file_text(&holder, MAX_BYTES).await {
            Ok(None) => return,
            Ok(Some((name, text))) => match open.0.run((name.clone(), text)) {
                Ok(()) => format!("opened the experiment {name}: press run to re-run it"),
                Err(e) => format!("could not open the experiment {name}: {e}"),
            },
            Err(e) => format!("could not read the file: {e}"),
        };
        shell.say(message);
    });
}

/// Dropping a file anywhere on the page imports it.
pub fn accept_drops(shell: Shell, open: ImportExperiment) {
    let over = window_event_listener(leptos::ev::dragover, |ev| ev.prevent_default());
    let drop = window_event_listener(leptos::ev::drop, move |ev| {
        ev.prevent_default();
        let transfer = js_sys::Reflect::get(&ev, &JsValue::from_str("dataTransfer"))
            .unwrap_or(JsValue::UNDEFINED);
        import_from(shell, open, transfer);
    });
    // The listeners live as long as the page.
    std::mem::forget((over, drop));
}

/// Export and import buttons, and an imported run's curves under the re-run's.
pub fn experiment_block<L: PageLab>(ctx: LabCtx<L>) -> impl IntoView {
    let shell = ctx.shell;
    let open = expect_context::<ImportExperiment>();
    let export = move |_| {
        let name = format!("neurolab-{}.experiment.json", L::NAME);
        let text = experiment_json(ctx);
        shell.say(
            match browser::download(&name, "application/json", text.as_bytes()) {
                Ok(()) => format!(
                    "downloaded {name} ({} reports)",
                    ctx.reports.with_untracked(Vec::len)
                ),
                Err(e) => e,
            },
        );
    };
    let pick = move |ev: leptos::ev::Event| {
        let Some(target) = ev.target() else { return };
        let input: JsValue = target.into();
        import_from(shell, open, input.clone());
        // The same file picked again is a new import.
        let _ = js_sys::Reflect::set(&input, &JsValue::from_str("value"), &JsValue::from_str(""));
    };
    view! {
        <div class="experiment" hidden=move || !shell.shown("export")()>
            <button
                data-testid="export-experiment"
                title="this run's link, every report and where it ran, as one JSON file"
                on:click=export
            >
                "Export experiment"
            </button>
            <label class="file-pick">
                "Import experiment… "
                <input
                    type="file"
                    accept=".json,application/json"
                    data-testid="import-experiment"
                    aria-label="import an experiment file (or drop it on the page)"
                    on:change=pick
                />
            </label>
            <span class="muted">"or drop a file on the page"</span>
        </div>
        {move || ctx.recorded.with(Option::is_some).then(|| recorded_view(ctx))}
    }
}

/// The recorded run's curves (dashed) under this run's, one curve at a time, with the largest
/// difference over the points both have.
fn recorded_view<L: PageLab>(ctx: LabCtx<L>) -> impl IntoView {
    let chosen = RwSignal::new(0usize);
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let current = Memo::new(move |_| ctx.reports.with(|r| L::curves(r)));
    let names = move || {
        ctx.recorded
            .with(|r| {
                r.as_ref()
                    .map(|r| r.curves.iter().map(|c| c.name.clone()).collect())
            })
            .unwrap_or_else(Vec::<String>::new)
    };
    let comparison = move || {
        ctx.recorded.with(|r| {
            r.as_ref()
                .map(|r| current.with(|now| compare(&r.curves, now).text()))
                .unwrap_or_default()
        })
    };
    let about = move || {
        ctx.recorded
            .with(|r| {
                r.as_ref().map(|r| {
                    format!(
                        "{}: {} reports recorded by neurolab {} on {} ({})",
                        r.file_name, r.reports, r.ran.lab_version, r.ran.backend, r.ran.adapter
                    )
                })
            })
            .unwrap_or_default()
    };
    let draw = move || {
        let Some(c) = canvas.get_untracked() else {
            return;
        };
        if c.client_width() == 0 {
            return;
        }
        let i = chosen.get_untracked();
        let recorded: Option<Curve> = ctx
            .recorded
            .with_untracked(|r| r.as_ref().and_then(|r| r.curves.get(i).cloned()));
        let Some(recorded) = recorded else { return };
        let now =
            current.with_untracked(|now| now.iter().find(|c| c.name == recorded.name).cloned());
        let mut lines = vec![Line {
            label: "recorded",
            points: recorded.points.clone(),
            color: COLORS[0],
            dashed: true,
        }];
        if let Some(now) = now {
            lines.push(Line {
                label: "this run",
                points: now.points,
                color: COLORS[1],
                dashed: false,
            });
        }
        let x = plot::span(
            lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)),
            (0.0, 1.0),
        );
        if let Err(e) = plot::lines(c, &recorded.name, &lines, x, None) {
            leptos::logging::warn!("{e}");
        }
    };
    plot::redraw_on(
        move || {
            chosen.track();
            current.track();
            ctx.recorded.track();
        },
        draw,
    );
    view! {
        <section class="recorded" data-testid="recorded">
            <h3>"Imported experiment"</h3>
            <p class="muted" data-testid="recorded-about">{about}</p>
            <label class="field inline">
                <span>"curve"</span>
                <select
                    data-testid="recorded-curve"
                    on:change=move |ev| {
                        if let Ok(i) = event_target_value(&ev).parse() {
                            chosen.set(i);
                        }
                    }
                >
                    {move || {
                        names()
                            .into_iter()
                            .enumerate()
                            .map(|(i, n)| view! { <option value=i.to_string()>{n}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
            <canvas
                node_ref=canvas
                width="640"
                height="220"
                data-testid="chart-recorded"
                aria-label="the recorded curve (dashed) and this run's"
            ></canvas>
            <p data-testid="recorded-difference" aria-live="polite">
                "this run against the recorded one: "
                {comparison}
            </p>
            <button data-testid="recorded-close" on:click=move |_| ctx.recorded.set(None)>
                "Hide the imported run"
            </button>
        </section>
    }
}
