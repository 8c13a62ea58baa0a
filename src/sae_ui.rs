//! The SAE lab's page: the form (built from `SaeConfig`'s link pairs), run controls, live
//! metrics and their curves, the log-density histogram, the feature browser (list sorted by
//! density; detail with label, top inputs, the p×p heat-map for grok sources, activation
//! histogram, logit effect), "decode a neuron", and the clamp panel (output before vs after).
//! Thin components over [`SaeLabState`]; all compute happens in the worker.

use crate::browser;
use crate::lab::{fmt_sig, Phase};
use crate::pairs_form::{choices, label, sae_group, PairsForm};
use crate::plot::{self, Line, COLORS};
use crate::sae_lab::{clamp_summary, heat_rgba, ClampForm, Metric, SaeLabState, CLAMP_OPS};
use crate::ui::Ctx;
use leptos::prelude::*;
use neurolab_core::protocol::Command;
use neurolab_core::sae::{SaeConfig, Target};

/// Feature list items rendered at most (the rest are reachable by index).
const LIST_MAX: usize = 200;

/// The SAE lab's page state (all handles are `Copy`).
#[derive(Clone, Copy)]
pub struct SaeCtx {
    pub state: RwSignal<SaeLabState>,
    pub form: RwSignal<PairsForm>,
    pub form_error: RwSignal<Option<String>>,
    pub clamp: RwSignal<ClampForm>,
    /// "Decode a neuron": the neuron index as typed.
    pub neuron: RwSignal<String>,
}

impl SaeCtx {
    pub fn new(config: &SaeConfig) -> Self {
        Self {
            state: RwSignal::new(SaeLabState::new(config.steps)),
            form: RwSignal::new(PairsForm::from_pairs(config.to_link_pairs())),
            form_error: RwSignal::new(None),
            clamp: RwSignal::new(ClampForm::default()),
            neuron: RwSignal::new("0".into()),
        }
    }
}

/// A new decomposition is coming (config or reset).
pub fn restart(ctx: Ctx, command: Command) {
    let steps = ctx.link.with_untracked(|l| l.sae.steps);
    ctx.sae.state.update(|s| s.expect_session(steps));
    ctx.send(command);
}

fn configure(ctx: Ctx) {
    let config = ctx.link.with_untracked(|l| l.sae.clone());
    restart(ctx, Command::SaeConfigure { config });
}

fn edit(ctx: Ctx, key: String, value: String) {
    ctx.sae.form.update(|f| f.set(&key, value));
    let parsed = ctx
        .sae
        .form
        .with_untracked(|f| f.parse(&key, SaeConfig::from_link_pairs));
    match parsed {
        Ok(config) => {
            ctx.sae.form_error.set(None);
            ctx.sae
                .form
                .set(PairsForm::from_pairs(config.to_link_pairs()));
            if ctx.link.with_untracked(|l| l.sae != config) {
                ctx.link.update(|l| l.sae = config);
                configure(ctx);
            }
        }
        Err(e) => ctx.sae.form_error.set(Some(e)),
    }
}

/// Open a latent or neuron in the browser (and make it the clamp's target).
fn open(ctx: Ctx, target: Target) {
    ctx.sae.state.update(|s| s.selected = Some(target));
    ctx.sae.clamp.update(|c| {
        let (kind, i) = match target {
            Target::Feature(i) => ("feature", i),
            Target::Neuron(i) => ("neuron", i),
        };
        c.target = kind.into();
        c.index = i.to_string();
    });
    ctx.send(Command::SaeFeature { target });
}

fn send_clamp(ctx: Ctx) {
    let Some(size) = ctx.sae.state.with_untracked(|s| s.size.clone()) else {
        ctx.status.set(Some("the SAE is not built yet".into()));
        return;
    };
    match ctx.sae.clamp.with_untracked(|c| c.parse(&size)) {
        Ok(request) => {
            ctx.status.set(None);
            ctx.send(Command::SaeClamp { request });
        }
        Err(e) => ctx.status.set(Some(e)),
    }
}

#[component]
pub fn SaeLab(ctx: Ctx) -> impl IntoView {
    view! {
        <aside class="panel config" hidden=move || !ctx.shown("config")()>
            <SaeForm ctx=ctx />
        </aside>
        <section class="panel run">
            <SaeControls ctx=ctx />
            <div class="progress" data-testid="progress" hidden=move || !ctx.shown("progress")()>
                <div class="bar">
                    <div
                        class="fill"
                        style:width=move || {
                            format!("{:.1}%", 100.0 * ctx.sae.state.with(SaeLabState::progress_fraction))
                        }
                    ></div>
                </div>
                <span>{move || ctx.sae.state.with(SaeLabState::progress_text)}</span>
            </div>
            <div class="metrics" data-testid="metrics" hidden=move || !ctx.shown("metrics")()>
                {move || {
                    let items = ctx.sae.state.with(SaeLabState::metrics);
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
                <span class="muted size" data-testid="sae-size">
                    {move || {
                        ctx.sae
                            .state
                            .with(|s| {
                                s.size
                                    .as_ref()
                                    .map(|z| {
                                        format!(
                                            "{} · {} samples × {} dims → {} latents",
                                            z.source,
                                            z.n_samples,
                                            z.d,
                                            z.latents,
                                        )
                                    })
                            })
                    }}
                </span>
            </div>
            <SaeCharts ctx=ctx />
            <FeatureBrowser ctx=ctx />
            <ClampPanel ctx=ctx />
            <div class="export" hidden=move || !ctx.shown("export")()>
                <button
                    data-testid="export-weights"
                    disabled=move || ctx.sae.state.with(|s| s.size.is_none())
                    on:click=move |_| {
                        ctx.status.set(Some("preparing the weights…".into()));
                        ctx.send(Command::ExportWeights);
                    }
                >
                    "Download the SAE (.safetensors)"
                </button>
            </div>
            <crate::ui::ShareBlock ctx=ctx />
        </section>
    }
}

#[component]
fn SaeForm(ctx: Ctx) -> impl IntoView {
    let groups = ["source", "decomposition", "training"];
    view! {
        <h2>"Sparse autoencoder"</h2>
        <form class="config-form" on:submit=|ev| ev.prevent_default()>
            {move || {
                let fields = ctx.sae.form.with(|f| f.fields.clone());
                let source = ctx.sae.form.with(|f| f.get("source").unwrap_or("toy").to_string());
                let kind = ctx.sae.form.with(|f| f.get("kind").unwrap_or("topk").to_string());
                groups
                    .into_iter()
                    .map(|g| {
                        view! {
                            <fieldset>
                                <legend>{g}</legend>
                                {fields
                                    .iter()
                                    .filter(|(k, _)| sae_group(k, &source, &kind) == Some(g))
                                    .map(|(k, v)| field(ctx, k.clone(), v.clone()))
                                    .collect_view()}
                            </fieldset>
                        }
                    })
                    .collect_view()
            }}
        </form>
        <p class="config-error" data-testid="config-error" hidden=move || ctx.sae.form_error.with(Option::is_none)>
            {move || ctx.sae.form_error.get().unwrap_or_default()}
        </p>
    }
}

fn field(ctx: Ctx, key: String, value: String) -> impl IntoView {
    let id = format!("sae-{key}");
    let k = key.clone();
    let input = match choices(&key) {
        Some(options) => view! {
            <select id=id.clone() data-testid=id.clone() on:change=move |ev| edit(ctx, k.clone(), event_target_value(&ev))>
                {options
                    .iter()
                    .map(|o| view! { <option value=*o selected=value == *o>{*o}</option> })
                    .collect_view()}
            </select>
        }
        .into_any(),
        None => view! {
            <input
                type="text"
                id=id.clone()
                data-testid=id.clone()
                autocomplete="off"
                spellcheck="false"
                value=value
                on:change=move |ev| edit(ctx, k.clone(), event_target_value(&ev))
            />
        }
        .into_any(),
    };
    view! {
        <label class="field" for=id>
            <span>{label(&key).to_string()}</span>
            {input}
        </label>
    }
}

#[component]
fn SaeControls(ctx: Ctx) -> impl IntoView {
    let phase = move || ctx.sae.state.with(|s| s.phase);
    view! {
        <div class="controls">
            <button
                class="primary"
                data-testid="run"
                disabled=move || matches!(phase(), Phase::Starting | Phase::Running | Phase::Finished)
                on:click=move |_| ctx.send(Command::Run)
            >
                "▶ Run"
            </button>
            <button data-testid="pause" disabled=move || phase() != Phase::Running on:click=move |_| ctx.send(Command::Pause)>
                "Pause"
            </button>
            <button
                data-testid="step"
                hidden=move || !ctx.shown("step")()
                disabled=move || matches!(phase(), Phase::Starting | Phase::Finished)
                on:click=move |_| ctx.send(Command::Step)
            >
                "Step"
            </button>
            <button data-testid="reset" disabled=move || phase() == Phase::Starting on:click=move |_| restart(ctx, Command::Reset)>
                "Reset"
            </button>
            <span class=move || format!("state {}", phase().name()) data-testid="run-state">
                {move || phase().name()}
            </span>
        </div>
    }
}

/// (test id, title, metrics drawn).
const CURVES: [(&str, &str, &[Metric]); 4] = [
    (
        "chart-recon",
        "reconstruction: FVU and MSE",
        &[Metric::Fvu, Metric::Mse],
    ),
    ("chart-l0", "L0 (active latents per sample)", &[Metric::L0]),
    ("chart-dead", "dead-latent fraction", &[Metric::Dead]),
    (
        "chart-quality",
        "MMCS (toy) / CE-loss score (grok)",
        &[Metric::Mmcs, Metric::CeScore],
    ),
];

#[component]
fn SaeCharts(ctx: Ctx) -> impl IntoView {
    let canvases: [NodeRef<leptos::html::Canvas>; 5] = std::array::from_fn(|_| NodeRef::new());
    let frame_pending = StoredValue::new(false);
    let schedule = move || {
        if frame_pending.get_value() {
            return;
        }
        frame_pending.set_value(true);
        browser::on_next_frame(move || {
            frame_pending.set_value(false);
            redraw(ctx, canvases);
        });
    };
    Effect::new(move |_| {
        ctx.sae.state.with(|s| (s.reports.len(), s.step, s.budget));
        schedule();
    });
    let on_resize = window_event_listener(leptos::ev::resize, move |_| schedule());
    on_cleanup(move || on_resize.remove());
    view! {
        <div class="charts">
            {CURVES
                .into_iter()
                .enumerate()
                .map(|(i, (id, title, _))| {
                    view! {
                        <div class="chart">
                            <canvas node_ref=canvases[i] width="640" height="220" data-testid=id aria-label=title></canvas>
                        </div>
                    }
                })
                .collect_view()}
            <div class="chart">
                <canvas node_ref=canvases[4] width="640" height="220" data-testid="chart-density" aria-label="feature density"></canvas>
            </div>
        </div>
    }
}

fn redraw(ctx: Ctx, canvases: [NodeRef<leptos::html::Canvas>; 5]) {
    let mut failures = Vec::new();
    ctx.sae.state.with_untracked(|s| {
        let x = (0.0, f64::from(s.budget.max(1)));
        for (i, (_, title, metrics)) in CURVES.into_iter().enumerate() {
            let Some(c) = canvases[i].get_untracked() else {
                continue;
            };
            let lines: Vec<Line> = metrics
                .iter()
                .enumerate()
                .map(|(k, m)| Line {
                    label: m.label(),
                    points: s.curve(*m),
                    color: COLORS[k % COLORS.len()],
                    dashed: false,
                })
                .filter(|l| !l.points.is_empty())
                .collect();
            if let Err(e) = plot::lines(c, title, &lines, x, None) {
                failures.push(e);
            }
        }
        if let (Some(c), Some(r)) = (canvases[4].get_untracked(), s.latest()) {
            let h = &r.density_hist;
            let counts: Vec<f64> = h.counts.iter().map(|&n| f64::from(n)).collect();
            let lo = f64::from(h.lo);
            let hi = lo + f64::from(h.bin_width) * counts.len() as f64;
            let title = format!(
                "feature density (log10 of firing fraction; {} never fired)",
                h.never_fired
            );
            if let Err(e) = plot::bars(c, &title, &counts, lo, hi) {
                failures.push(e);
            }
        }
    });
    for e in failures {
        leptos::logging::warn!("{e}");
    }
}

#[component]
fn FeatureBrowser(ctx: Ctx) -> impl IntoView {
    let items = move || {
        ctx.sae.state.with(|s| {
            s.features
                .iter()
                .take(LIST_MAX)
                .map(|f| (f.index, f.density, f.label.clone()))
                .collect::<Vec<_>>()
        })
    };
    let selected = move || ctx.sae.state.with(|s| s.selected);
    view! {
        <div class="sae-browser">
            <div class="feature-list-box">
                <h3>"Features (densest first)"</h3>
                <ol
                    class="feature-list"
                    data-testid="feature-list"
                    data-step=move || ctx.sae.state.with(|s| s.features_step.map(|v| v.to_string()))
                >
                    {move || {
                        items()
                            .into_iter()
                            .map(|(i, density, label)| {
                                view! {
                                    <li
                                        data-testid=format!("feature-{i}")
                                        class:selected=move || selected() == Some(Target::Feature(i))
                                        on:click=move |_| open(ctx, Target::Feature(i))
                                    >
                                        <span class="idx">{format!("#{i}")}</span>
                                        <span class="dens">{format!("{:.2}%", 100.0 * density)}</span>
                                        <span class="lbl">{label}</span>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ol>
                <div class="decode">
                    <label class="field inline">
                        <span>"neuron"</span>
                        <input
                            type="text"
                            data-testid="neuron-index"
                            prop:value=move || ctx.sae.neuron.get()
                            on:change=move |ev| ctx.sae.neuron.set(event_target_value(&ev))
                        />
                    </label>
                    <button
                        data-testid="decode-neuron"
                        title="the outputs this model neuron's output weights promote (decode through the final projection)"
                        on:click=move |_| {
                            let d = ctx.sae.state.with_untracked(|s| s.size.as_ref().map_or(0, |z| z.d));
                            let text = ctx.sae.neuron.get_untracked();
                            match text.trim().parse::<u32>().ok().filter(|j| *j < d) {
                                Some(j) => open(ctx, Target::Neuron(j)),
                                None => ctx.status.set(Some(format!(
                                    "the neuron must be a whole number from 0 to {}, got '{}'",
                                    d.saturating_sub(1),
                                    text.trim()
                                ))),
                            }
                        }
                    >
                        "Decode neuron"
                    </button>
                </div>
            </div>
            <FeatureDetailView ctx=ctx />
        </div>
    }
}

#[component]
fn FeatureDetailView(ctx: Ctx) -> impl IntoView {
    let heat = NodeRef::<leptos::html::Canvas>::new();
    let hist = NodeRef::<leptos::html::Canvas>::new();
    let has_detail = move || ctx.sae.state.with(|s| s.detail.is_some());
    let has_heat = move || {
        ctx.sae
            .state
            .with(|s| s.detail.as_ref().is_some_and(|d| d.heatmap.is_some()))
    };
    Effect::new(move |_| {
        ctx.sae.state.with(|s| s.detail.as_ref().map(|d| d.target));
        browser::on_next_frame(move || draw_detail(ctx, heat, hist));
    });
    let title = move || {
        ctx.sae.state.with(|s| {
            let Some(d) = &s.detail else {
                return String::new();
            };
            let name = match d.target {
                Target::Feature(i) => format!("feature #{i}"),
                Target::Neuron(i) => format!("model neuron {i}"),
            };
            let label = match (&d.fourier, &d.best_true) {
                (Some(f), _) => format!(" · dominant Fourier frequency {}", f.text()),
                (None, Some((i, c))) => format!(" · matches true feature {i} (cos {c:.2})"),
                _ => String::new(),
            };
            format!("{name} · density {:.2}%{label}", 100.0 * d.density)
        })
    };
    let top_inputs = move || {
        ctx.sae.state.with(|s| {
            s.detail
                .as_ref()
                .map(|d| {
                    d.top_inputs
                        .iter()
                        .map(|t| match (t.a, t.b, t.label) {
                            (Some(a), Some(b), Some(c)) => (
                                format!("{a}, {b}"),
                                format!("({a}, {b}) → {c}: {}", fmt_sig(t.activation)),
                            ),
                            _ => (
                                t.sample.to_string(),
                                format!("sample {}: {}", t.sample, fmt_sig(t.activation)),
                            ),
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let effect = move |promoted: bool| {
        ctx.sae.state.with(|s| {
            s.detail
                .as_ref()
                .map(|d| {
                    let list = if promoted {
                        &d.logit_effect.promoted
                    } else {
                        &d.logit_effect.suppressed
                    };
                    list.iter()
                        .map(|(o, v)| format!("{o} ({})", fmt_sig(*v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default()
        })
    };
    view! {
        <div class="feature-detail" data-testid="feature-detail" hidden=move || !has_detail()>
            <h3 data-testid="feature-title">{title}</h3>
            <div class="detail-grid">
                <div>
                    <h4>"Top activating inputs"</h4>
                    <ol class="top-inputs" data-testid="top-inputs">
                        {move || {
                            top_inputs()
                                .into_iter()
                                .map(|(input, text)| {
                                    view! {
                                        <li
                                            title="use this input in the clamp below"
                                            on:click=move |_| ctx.sae.clamp.update(|c| c.input = input.clone())
                                        >
                                            {text}
                                        </li>
                                    }
                                })
                                .collect_view()
                        }}
                    </ol>
                </div>
                <div hidden=move || !has_heat()>
                    <h4>"Activation over (a, b) (rows a, columns b)"</h4>
                    <canvas node_ref=heat class="heatmap" data-testid="heatmap" width="97" height="97"></canvas>
                </div>
                <div>
                    <canvas node_ref=hist width="420" height="180" data-testid="activation-hist"></canvas>
                </div>
            </div>
            <p class="logit-effect" data-testid="logit-effect">
                <strong>"Logit effect: "</strong>
                "promotes "
                <span data-testid="promoted">{move || effect(true)}</span>
                " · suppresses "
                <span data-testid="suppressed">{move || effect(false)}</span>
            </p>
        </div>
    }
}

fn draw_detail(ctx: Ctx, heat: NodeRef<leptos::html::Canvas>, hist: NodeRef<leptos::html::Canvas>) {
    let result = ctx.sae.state.with_untracked(|s| -> Result<(), String> {
        let Some(d) = &s.detail else { return Ok(()) };
        if let (Some(map), Some(p), Some(canvas)) = (&d.heatmap, d.p, heat.get_untracked()) {
            draw_heat(&canvas, map, p as usize)?;
        }
        if let Some(canvas) = hist.get_untracked() {
            if canvas.client_width() > 0 {
                let h = &d.histogram;
                let counts: Vec<f64> = h.counts.iter().map(|&n| f64::from(n)).collect();
                let title = format!("non-zero activations ({} zeros)", h.zeros);
                plot::bars(canvas, &title, &counts, f64::from(h.lo), f64::from(h.hi))?;
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        leptos::logging::warn!("{e}");
    }
}

/// The p×p map into a p×p canvas (CSS scales it up, pixelated).
fn draw_heat(canvas: &web_sys::HtmlCanvasElement, map: &[f32], p: usize) -> Result<(), String> {
    use wasm_bindgen::JsCast as _;
    canvas.set_width(p as u32);
    canvas.set_height(p as u32);
    let px = heat_rgba(map, p);
    let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(&px),
        p as u32,
        p as u32,
    )
    .map_err(|e| format!("the heat-map image could not be made: {e:?}"))?;
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .ok_or("this browser gives no 2D canvas context")?
        .dyn_into()
        .map_err(|_| "this browser gives no 2D canvas context")?;
    ctx.put_image_data(&data, 0.0, 0.0)
        .map_err(|e| format!("the heat-map could not be drawn: {e:?}"))
}

#[component]
fn ClampPanel(ctx: Ctx) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let grok = move || {
        ctx.sae
            .state
            .with(|s| s.size.as_ref().is_some_and(|z| z.p.is_some()))
    };
    let text = move |id: &'static str,
                     label: &'static str,
                     get: fn(&ClampForm) -> String,
                     set: fn(&mut ClampForm, String)| {
        view! {
            <label class="field inline">
                <span>{label}</span>
                <input
                    type="text"
                    data-testid=id
                    prop:value=move || ctx.sae.clamp.with(get)
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        ctx.sae.clamp.update(|c| set(c, v));
                    }
                />
            </label>
        }
    };
    // Grok sources take a pair (a, b), the toy a sample index.
    Effect::new(move |_| {
        let pair = ctx
            .sae
            .state
            .with(|s| s.size.as_ref().map(|z| z.p.is_some()));
        if let Some(pair) = pair {
            let has_pair = ctx.sae.clamp.with_untracked(|c| c.input.contains(','));
            if pair != has_pair {
                ctx.sae
                    .clamp
                    .update(|c| c.input = if pair { "0, 0".into() } else { "0".into() });
            }
        }
    });
    Effect::new(move |_| {
        ctx.sae.state.with(|s| s.clamp.as_ref().map(|c| c.0));
        browser::on_next_frame(move || draw_clamp(ctx, canvas));
    });
    view! {
        <div class="clamp-panel">
            <h3>"Clamp"</h3>
            <div class="interventions">
                <label class="field inline">
                    <span>{move || if grok() { "input a, b" } else { "input sample" }}</span>
                    <input
                        type="text"
                        data-testid="clamp-input"
                        prop:value=move || ctx.sae.clamp.with(|c| c.input.clone())
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            ctx.sae.clamp.update(|c| c.input = v);
                        }
                    />
                </label>
                <select
                    data-testid="clamp-target"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        ctx.sae.clamp.update(|c| c.target = v);
                    }
                >
                    {["feature", "neuron"]
                        .into_iter()
                        .map(|t| view! { <option value=t prop:selected=move || ctx.sae.clamp.with(|c| c.target == t)>{t}</option> })
                        .collect_view()}
                </select>
                {text("clamp-index", "index", |c| c.index.clone(), |c, v| c.index = v)}
                <select
                    data-testid="clamp-op"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        ctx.sae.clamp.update(|c| c.op = v);
                    }
                >
                    {CLAMP_OPS
                        .into_iter()
                        .map(|o| view! { <option value=o prop:selected=move || ctx.sae.clamp.with(|c| c.op == o)>{o}</option> })
                        .collect_view()}
                </select>
                {text("clamp-value", "value", |c| c.value.clone(), |c, v| c.value = v)}
                <button
                    class="primary"
                    data-testid="clamp"
                    disabled=move || ctx.sae.state.with(|s| s.size.is_none())
                    on:click=move |_| send_clamp(ctx)
                >
                    "Clamp"
                </button>
            </div>
            <p class="clamp-result" data-testid="clamp-result">
                {move || {
                    ctx.sae
                        .state
                        .with(|s| s.clamp.as_ref().map(|(_, r)| clamp_summary(r)))
                        .unwrap_or_else(|| {
                            "Pick an input and a feature or neuron, then clamp it to see the model's output change."
                                .to_string()
                        })
                }}
            </p>
            <div class="chart">
                <canvas node_ref=canvas width="640" height="220" data-testid="chart-clamp"></canvas>
            </div>
        </div>
    }
}

fn draw_clamp(ctx: Ctx, canvas: NodeRef<leptos::html::Canvas>) {
    let result = ctx.sae.state.with_untracked(|s| -> Result<(), String> {
        let (Some((_, r)), Some(c)) = (&s.clamp, canvas.get_untracked()) else {
            return Ok(());
        };
        let (before, after, what) = match (&r.probs_before, &r.probs_after) {
            (Some(b), Some(a)) => (b, a, "output probabilities"),
            _ => (&r.outputs_before, &r.outputs_after, "model outputs"),
        };
        let pts = |v: &[f32]| -> Vec<(f64, f64)> {
            v.iter()
                .enumerate()
                .map(|(i, y)| (i as f64, f64::from(*y)))
                .collect()
        };
        let lines = [
            Line {
                label: "before",
                points: pts(before),
                color: COLORS[0],
                dashed: true,
            },
            Line {
                label: "after",
                points: pts(after),
                color: COLORS[1],
                dashed: false,
            },
        ];
        let x = (0.0, (before.len().max(2) - 1) as f64);
        plot::lines(
            c,
            &format!("{what}: before vs after the clamp"),
            &lines,
            x,
            None,
        )
    });
    if let Err(e) = result {
        leptos::logging::warn!("{e}");
    }
}
