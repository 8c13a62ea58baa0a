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
pub fn import_from(shell: Shell, open: ImportExperiment, holder: &JsValue) {
    let Some(file) = browser::first_file(holder) else {
        return;
    };
    leptos::task::spawn_local(async move {
        let message = match browser::file_text(file, MAX_BYTES).await {
            Ok((name, text)) => match open.0.run((name.clone(), text)) {
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
        import_from(shell, open, &transfer);
    });
    // The listeners live as long as the page.
    std::mem::forget((over, drop));
}

/// Export and import buttons.
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
        import_from(shell, open, &input);
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
    }
}

/// An imported experiment's or sweep's runs, when there are any (above the lab's panels, so
/// that they show at once).
pub fn recorded_block<L: PageLab>(ctx: LabCtx<L>) -> impl IntoView {
    let shown = ctx.shell.shown("imported");
    move || (shown() && ctx.recorded.with(Option::is_some)).then(|| recorded_view(ctx))
}

/// The recorded runs' curves (dashed; a sweep's points each in its colour) under this run's,
/// one curve at a time; for one recorded run, the largest difference over the points both have.
fn recorded_view<L: PageLab>(ctx: LabCtx<L>) -> impl IntoView {
    let chosen = RwSignal::new(0usize);
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let current = Memo::new(move |_| ctx.reports.with(|r| L::curves(r)));
    // Curve names in first-seen order over the recorded runs.
    let names = move || {
        ctx.recorded.with(|r| {
            let mut names: Vec<String> = Vec::new();
            for (_, curves) in r.iter().flat_map(|r| &r.runs) {
                for c in curves {
                    if !names.contains(&c.name) {
                        names.push(c.name.clone());
                    }
                }
            }
            names
        })
    };
    let comparison = move || {
        ctx.recorded
            .with(|r| match r.as_ref().map(|r| r.runs.as_slice()) {
                Some([(_, recorded)]) => current.with(|now| {
                    format!(
                        "this run against the recorded one: {}",
                        compare(recorded, now).text()
                    )
                }),
                Some(runs) => format!("{} recorded runs, dashed; this run solid", runs.len()),
                None => String::new(),
            })
    };
    let about = move || {
        ctx.recorded
            .with(|r| r.as_ref().map(|r| r.about.clone()))
            .unwrap_or_default()
    };
    let draw = move || {
        let Some(c) = canvas.get_untracked() else {
            return;
        };
        if c.client_width() == 0 {
            return;
        }
        let Some(name) = names().get(chosen.get_untracked()).cloned() else {
            return;
        };
        let find = |curves: &[Curve]| curves.iter().find(|c| c.name == name).cloned();
        let recorded: Vec<(String, Curve)> = ctx.recorded.with_untracked(|r| {
            r.iter()
                .flat_map(|r| &r.runs)
                .filter_map(|(label, curves)| find(curves).map(|c| (label.clone(), c)))
                .collect()
        });
        let now = current.with_untracked(|now| find(now));
        let mut lines: Vec<Line<'_>> = recorded
            .iter()
            .enumerate()
            .map(|(i, (label, c))| Line {
                label,
                points: c.points.clone(),
                color: COLORS[i % COLORS.len()],
                dashed: true,
            })
            .collect();
        if let Some(now) = now {
            lines.push(Line {
                label: "this run",
                points: now.points,
                color: plotters::style::RGBColor(30, 30, 30),
                dashed: false,
            });
        }
        let x = plot::span(
            lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)),
            (0.0, 1.0),
        );
        if let Err(e) = plot::lines(c, &name, &lines, x, None) {
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
            <h3>"Imported runs"</h3>
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
                {comparison}
            </p>
            <button data-testid="recorded-close" on:click=move |_| ctx.recorded.set(None)>
                "Hide the imported runs"
            </button>
        </section>
    }
}
