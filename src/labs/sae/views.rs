//! The SAE lab's panels: the size line, the metric curves and the log-density histogram, the
//! feature browser with "decode a neuron", a target's detail (top inputs, heat-map, activation
//! histogram, logit effect), the clamp panel and the exports (weights, SAELens zip). Thin components over
//! [`SaeState`]; the texts and the clamp form's parsing live there.

use super::about;
use super::state::{
    clamp_summary, detail_title, effect_text, heat_rgba, parse_neuron, size_text, top_input_texts,
    ClampForm, Clamped, Metric, SaeState, CLAMP_OPS, CLAMP_TARGETS,
};
use crate::format::fmt_sig;
use crate::lab::LabCtx;
use crate::page::panel;
use crate::plot::curves::{self, Curves, Series, YAxis};
use crate::plot::figure::{self, figure, About};
use crate::plot::{self, Line, COLORS};
use leptos::html::Canvas;
use leptos::prelude::*;
use neurolab_base::Phase;
use neurolab_core::sae::{FeatureDetail, SaeControl, SaeKind, SaeLab, SaeSummary, Target};

/// Feature list items rendered at most (the others stay reachable through the clamp's index).
pub const LIST_MAX: usize = 200;

/// The panels' own handles (all `Copy`): what the clamp form and the neuron box hold as typed,
/// and the parts of the state that redraw only when they change.
#[derive(Clone, Copy)]
struct Ui {
    ctx: LabCtx<SaeLab>,
    clamp: RwSignal<ClampForm>,
    /// "Decode a neuron": the neuron index as typed.
    neuron: RwSignal<String>,
    size: Memo<Option<SaeSummary>>,
    detail: Memo<Option<FeatureDetail>>,
    clamped: Memo<Option<Clamped>>,
}

impl Ui {
    /// Whether the decomposition exists (its source is prepared).
    fn built(self) -> bool {
        self.size
            .with(|s| s.as_ref().is_some_and(|s| !s.source.is_empty()))
    }
}

pub fn panels(ctx: LabCtx<SaeLab>) -> impl IntoView {
    let state = ctx.state;
    let ui = Ui {
        ctx,
        clamp: RwSignal::new(ClampForm::default()),
        neuron: RwSignal::new("0".into()),
        size: Memo::new(move |_| state.with(|s| s.size.clone())),
        detail: Memo::new(move |_| state.with(|s| s.detail.clone())),
        clamped: Memo::new(move |_| state.with(|s| s.clamp.clone())),
    };
    let shell = ctx.shell;
    view! {
        {panel(shell, "size", size_line(ui))}
        {panel(shell, "charts", charts(ctx))}
        {panel(shell, "features", feature_browser(ui))}
        {panel(shell, "clamp", clamp_panel(ui))}
        {export(ui)}
    }
}

fn size_line(ui: Ui) -> impl IntoView {
    let shell = ui.ctx.shell;
    view! {
        <p class="muted size" data-testid="sae-size" hidden=move || !shell.shown("metrics")()>
            {move || ui.size.with(|s| s.as_ref().map(size_text))}
        </p>
    }
}

/// Open a latent or neuron in the browser and make it the clamp's target.
fn open(ui: Ui, target: Target) {
    ui.ctx.state.update(|s| s.select(target));
    ui.clamp.update(|c| c.aim(target));
    ui.ctx.control(SaeControl::Feature { target });
}

fn send_clamp(ui: Ui) {
    let shell = ui.ctx.shell;
    let Some(size) = ui.size.get_untracked().filter(|s| !s.source.is_empty()) else {
        shell.say("the SAE is not built yet: wait for its source, or press Run");
        return;
    };
    match ui.clamp.with_untracked(|c| c.parse(&size)) {
        Ok(request) => {
            shell.status.set(None);
            ui.ctx.control(SaeControl::Clamp { request });
        }
        Err(e) => shell.say(e),
    }
}

fn decode_neuron(ui: Ui) {
    let shell = ui.ctx.shell;
    let Some(size) = ui.size.get_untracked().filter(|s| !s.source.is_empty()) else {
        shell.say("the SAE is not built yet: wait for its source, or press Run");
        return;
    };
    match parse_neuron(&ui.neuron.get_untracked(), size.d) {
        Ok(j) => open(ui, Target::Neuron(j)),
        Err(e) => shell.say(e),
    }
}

/// Enter or Space on a focused item acts like a click.
fn activates(ev: &leptos::ev::KeyboardEvent) -> bool {
    let hit = matches!(ev.key().as_str(), "Enter" | " ");
    if hit {
        ev.prevent_default();
    }
    hit
}

/// The SAE lab's metric charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chart {
    Recon,
    L0,
    Dead,
    Quality,
}

impl Chart {
    const ALL: [Chart; 4] = [Chart::Recon, Chart::L0, Chart::Dead, Chart::Quality];

    fn test_id(self) -> &'static str {
        match self {
            Chart::Recon => "chart-recon",
            Chart::L0 => "chart-l0",
            Chart::Dead => "chart-dead",
            Chart::Quality => "chart-quality",
        }
    }

    fn about(self) -> &'static About {
        match self {
            Chart::Recon => &about::RECON,
            Chart::L0 => &about::L0,
            Chart::Dead => &about::DEAD,
            Chart::Quality => &about::QUALITY,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Chart::Recon => "reconstruction: FVU and MSE (log scale)",
            Chart::L0 => "L0 (active latents per sample)",
            Chart::Dead => "dead-latent fraction",
            Chart::Quality => "MMCS (toy) / CE-loss score (grok)",
        }
    }

    fn metrics(self) -> &'static [Metric] {
        match self {
            Chart::Recon => &[Metric::Fvu, Metric::Mse],
            Chart::L0 => &[Metric::L0],
            Chart::Dead => &[Metric::Dead],
            Chart::Quality => &[Metric::Mmcs, Metric::CeScore],
        }
    }

    /// The chart's curves from the reports (metrics a source does not have are left out).
    fn curves(self, s: &SaeState) -> Curves<'static> {
        let series: Vec<Series> = self
            .metrics()
            .iter()
            .enumerate()
            .map(|(k, &m)| Series {
                name: m.label().to_string(),
                color: COLORS[k % COLORS.len()],
                points: s.curve(m),
                light: false,
            })
            .filter(|series| !series.points.is_empty())
            .collect();
        let y = match self {
            Chart::Recon => YAxis::Decades,
            Chart::L0 | Chart::Dead => YAxis::Padded,
            // Scores of 1 are perfect; a CE-loss score can fall below 0.
            Chart::Quality => {
                let lo = series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.1))
                    .fold(0.0, f64::min);
                let hi = series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.1))
                    .fold(1.0, f64::max);
                YAxis::Fixed(if lo < 0.0 { lo - 0.05 } else { 0.0 }, hi + 0.02)
            }
        };
        Curves {
            title: self.title(),
            series,
            y,
            bands: Vec::new(),
            mark: None,
        }
    }
}

fn charts(ctx: LabCtx<SaeLab>) -> impl IntoView {
    let canvases: [NodeRef<Canvas>; 4] = std::array::from_fn(|_| NodeRef::new());
    let density = NodeRef::<Canvas>::new();
    let config = ctx.config_signal();
    let draw = move || {
        let budget = config.with_untracked(|c| c.steps);
        let mut failures = Vec::new();
        ctx.state.with_untracked(|s: &SaeState| {
            let last = s.latest().map_or(0, |r| r.step);
            let x = curves::x_range(budget, last, false);
            for (i, chart) in Chart::ALL.into_iter().enumerate() {
                let Some(canvas) = canvases[i].get_untracked() else {
                    continue;
                };
                if let Err(e) = curves::draw(canvas, &chart.curves(s), x, false) {
                    failures.push(e);
                }
            }
            if let (Some(canvas), Some(r)) = (density.get_untracked(), s.latest()) {
                let h = &r.density_hist;
                let counts: Vec<f64> = h.counts.iter().map(|&n| f64::from(n)).collect();
                let lo = f64::from(h.lo);
                let hi = lo + f64::from(h.bin_width) * counts.len() as f64;
                let title = format!(
                    "feature density (log10 of firing fraction; {} never fired)",
                    h.never_fired
                );
                if let Err(e) = plot::bars(canvas, &title, &counts, lo, hi) {
                    failures.push(e);
                }
            }
        });
        for e in failures {
            leptos::logging::warn!("{e}");
        }
    };
    plot::redraw_on(move || ctx.state.track(), draw);
    let shell = ctx.shell;
    view! {
        <div class="charts">
            {Chart::ALL
                .into_iter()
                .enumerate()
                .map(|(i, chart)| {
                    let canvas = view! {
                        <canvas
                            node_ref=canvases[i]
                            width="640"
                            height="220"
                            data-testid=chart.test_id()
                            aria-label=chart.title()
                        ></canvas>
                    };
                    let id = chart.test_id().trim_start_matches("chart-");
                    figure(shell, id, chart.about(), "", || false, None, canvas)
                })
                .collect_view()}
            {figure(shell, "density", &about::DENSITY, "", || false, None, view! {
                <canvas
                    node_ref=density
                    width="640"
                    height="220"
                    data-testid="chart-density"
                    aria-label="feature density"
                ></canvas>
            })}
        </div>
    }
}

/// One feature list item: index, density, label.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    index: u32,
    density: f32,
    label: String,
}

/// The densest features (at most [`LIST_MAX`]), the step they were computed at, how many there
/// are.
#[derive(Debug, Clone, PartialEq, Default)]
struct List {
    items: Vec<Item>,
    step: Option<u32>,
    total: usize,
}

fn feature_browser(ui: Ui) -> impl IntoView {
    let state = ui.ctx.state;
    let list = Memo::new(move |_| {
        state.with(|s| List {
            items: s
                .features
                .iter()
                .take(LIST_MAX)
                .map(|f| Item {
                    index: f.index,
                    density: f.density,
                    label: f.label.clone(),
                })
                .collect(),
            step: s.features_step,
            total: s.features.len(),
        })
    });
    let selected = Memo::new(move |_| state.with(|s| s.selected));
    let more = move || {
        list.with(|l| {
            (l.total > l.items.len()).then(|| {
                format!(
                    "the densest {} of {} latents; clamp the others by index",
                    l.items.len(),
                    l.total
                )
            })
        })
    };
    view! {
        <div class="sae-browser">
            <div class="feature-list-box">
                <h3>"Features (densest first)"</h3>
                <ol
                    class="feature-list"
                    role="listbox"
                    aria-label="features, densest first: Enter opens one"
                    data-testid="feature-list"
                    data-step=move || list.with(|l| l.step.map(|v| v.to_string()))
                >
                    {move || {
                        list.with(|l| {
                            l.items
                                .iter()
                                .map(|item| {
                                    let i = item.index;
                                    let is_selected = move || selected.get() == Some(Target::Feature(i));
                                    view! {
                                        <li
                                            data-testid=format!("feature-{i}")
                                            tabindex="0"
                                            role="option"
                                            aria-selected=move || is_selected().to_string()
                                            class:selected=is_selected
                                            on:click=move |_| open(ui, Target::Feature(i))
                                            on:keydown=move |ev| {
                                                if activates(&ev) {
                                                    open(ui, Target::Feature(i));
                                                }
                                            }
                                        >
                                            <span class="idx">{format!("#{i}")}</span>
                                            <span class="dens">{format!("{:.2}%", 100.0 * item.density)}</span>
                                            <span class="lbl">{item.label.clone()}</span>
                                        </li>
                                    }
                                })
                                .collect_view()
                        })
                    }}
                </ol>
                <p class="muted" hidden=move || more().is_none()>{more}</p>
                <div class="decode">
                    <label class="field inline">
                        <span>"neuron"</span>
                        <input
                            type="text"
                            data-testid="neuron-index"
                            prop:value=move || ui.neuron.get()
                            on:change=move |ev| ui.neuron.set(event_target_value(&ev))
                        />
                    </label>
                    <button
                        data-testid="decode-neuron"
                        title="the outputs this model neuron's output weights promote (decode through the final projection)"
                        disabled=move || !ui.built()
                        on:click=move |_| decode_neuron(ui)
                    >
                        "Decode neuron"
                    </button>
                </div>
            </div>
            {feature_detail(ui)}
        </div>
    }
}

fn feature_detail(ui: Ui) -> impl IntoView {
    let heat = NodeRef::<Canvas>::new();
    let hist = NodeRef::<Canvas>::new();
    let detail = ui.detail;
    let shell = ui.ctx.shell;
    // The heat-map's pixels are painted: its data (rows a, columns b) from the detail.
    let heat_csv = Callback::new(move |()| {
        detail.with_untracked(|d| {
            let d = d.as_ref()?;
            let (map, p) = (d.heatmap.as_ref()?, d.p? as usize);
            let names: Vec<String> = (0..p).map(|i| i.to_string()).collect();
            Some(figure::matrix_csv("a\\b", &names, &names, map))
        })
    });
    plot::redraw_on(
        move || detail.track(),
        move || draw_detail(detail, heat, hist),
    );
    let has_heat = move || detail.with(|d| d.as_ref().is_some_and(|d| d.heatmap.is_some()));
    let top_inputs = move || {
        detail.with(|d| {
            d.as_ref()
                .map(|d| d.top_inputs.iter().map(top_input_texts).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };
    let effect = move |promoted: bool| {
        detail.with(|d| {
            d.as_ref()
                .map(|d| {
                    effect_text(if promoted {
                        &d.logit_effect.promoted
                    } else {
                        &d.logit_effect.suppressed
                    })
                })
                .unwrap_or_default()
        })
    };
    view! {
        <div class="feature-detail" data-testid="feature-detail" hidden=move || detail.with(Option::is_none)>
            <h3 data-testid="feature-title">
                {move || detail.with(|d| d.as_ref().map(detail_title).unwrap_or_default())}
            </h3>
            <div class="detail-grid">
                <div>
                    <h4>"Top activating inputs"</h4>
                    <ol class="top-inputs" role="listbox" aria-label="top activating inputs: Enter uses one in the clamp" data-testid="top-inputs">
                        {move || {
                            top_inputs()
                                .into_iter()
                                .map(|(input, text)| {
                                    let pick = input.clone();
                                    view! {
                                        <li
                                            title="use this input in the clamp below"
                                            tabindex="0"
                                            role="option"
                                            aria-selected="false"
                                            on:click=move |_| ui.clamp.update(|c| c.input = input.clone())
                                            on:keydown=move |ev| {
                                                if activates(&ev) {
                                                    ui.clamp.update(|c| c.input = pick.clone());
                                                }
                                            }
                                        >
                                            {text}
                                        </li>
                                    }
                                })
                                .collect_view()
                        }}
                    </ol>
                </div>
                {figure(shell, "heatmap", &about::HEATMAP, "plain", move || !has_heat(), Some(heat_csv), view! {
                    <h4>"Activation over (a, b) (rows a, columns b)"</h4>
                    <canvas
                        node_ref=heat
                        class="heatmap"
                        data-testid="heatmap"
                        width="97"
                        height="97"
                        aria-label="activation over the pairs (a, b)"
                    ></canvas>
                })}
                {figure(shell, "activation-hist", &about::HISTOGRAM, "plain", || false, None, view! {
                    <canvas
                        node_ref=hist
                        width="420"
                        height="180"
                        data-testid="activation-hist"
                        aria-label="activation histogram"
                    ></canvas>
                })}
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

fn draw_detail(detail: Memo<Option<FeatureDetail>>, heat: NodeRef<Canvas>, hist: NodeRef<Canvas>) {
    let result = detail.with_untracked(|d| -> Result<(), String> {
        let Some(d) = d else { return Ok(()) };
        if let (Some(map), Some(p), Some(canvas)) = (&d.heatmap, d.p, heat.get_untracked()) {
            draw_heat(&canvas, map, p)?;
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
fn draw_heat(canvas: &web_sys::HtmlCanvasElement, map: &[f32], p: u32) -> Result<(), String> {
    canvas.set_width(p);
    canvas.set_height(p);
    plot::put_pixels(canvas, p, p, &heat_rgba(map, p as usize), "heat-map")?;
    let strongest = map.iter().copied().fold(0f32, f32::max);
    let alt = format!(
        "{p} × {p} pairs, strongest activation {}",
        fmt_sig(strongest)
    );
    figure::record(canvas, "activation over the pairs (a, b)", None, &alt);
    Ok(())
}

fn clamp_panel(ui: Ui) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let clamp = ui.clamp;
    let grok = move || ui.size.with(|s| s.as_ref().is_some_and(|z| z.p.is_some()));
    let text = move |id: &'static str,
                     label: &'static str,
                     get: fn(&ClampForm) -> String,
                     set: fn(&mut ClampForm, String)| {
        crate::page::text_input(
            id,
            label,
            move || clamp.with(get),
            move |v| clamp.update(|c| set(c, v)),
        )
    };
    let select = move |id: &'static str,
                       label: &'static str,
                       options: &'static [&'static str],
                       get: fn(&ClampForm) -> &str,
                       set: fn(&mut ClampForm, String)| {
        view! {
            <select
                data-testid=id
                aria-label=label
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    clamp.update(|c| set(c, v));
                }
            >
                {options
                    .iter()
                    .map(|&o| {
                        view! {
                            <option value=o prop:selected=move || clamp.with(|c| get(c) == o)>
                                {o}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        }
    };
    // Grok sources take a pair (a, b), the toy a sample index.
    Effect::new(move |_| {
        let Some(pair) = ui.size.with(|s| s.as_ref().map(|z| z.p.is_some())) else {
            return;
        };
        let has_pair = clamp.with_untracked(|c| c.input.contains(','));
        if pair != has_pair {
            clamp.update(|c| c.input = if pair { "0, 0".into() } else { "0".into() });
        }
    });
    let clamped = ui.clamped;
    plot::redraw_on(move || clamped.track(), move || draw_clamp(clamped, canvas));
    view! {
        <div class="clamp-panel">
            <h3>"Clamp"</h3>
            <div class="interventions">
                <label class="field inline">
                    <span>{move || if grok() { "input a, b" } else { "input sample" }}</span>
                    <input
                        type="text"
                        data-testid="clamp-input"
                        prop:value=move || clamp.with(|c| c.input.clone())
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            clamp.update(|c| c.input = v);
                        }
                    />
                </label>
                {select("clamp-target", "clamp a feature or a neuron", &CLAMP_TARGETS, |c| &c.target, |c, v| c.target = v)}
                {text("clamp-index", "index", |c| c.index.clone(), |c, v| c.index = v)}
                {select("clamp-op", "how to clamp", &CLAMP_OPS, |c| &c.op, |c, v| c.op = v)}
                {text("clamp-value", "value", |c| c.value.clone(), |c, v| c.value = v)}
                <button
                    class="primary"
                    data-testid="clamp"
                    disabled=move || !ui.built()
                    on:click=move |_| send_clamp(ui)
                >
                    "Clamp"
                </button>
            </div>
            <p class="clamp-result" data-testid="clamp-result" aria-live="polite">
                {move || {
                    clamped
                        .with(|c| c.as_ref().map(|c| clamp_summary(&c.response)))
                        .unwrap_or_else(|| {
                            "Pick an input and a feature or neuron, then clamp it to see the model's output change."
                                .to_string()
                        })
                }}
            </p>
            {figure(ui.ctx.shell, "clamp", &about::CLAMP, "", move || clamped.with(Option::is_none), None, view! {
                <canvas
                    node_ref=canvas
                    width="640"
                    height="220"
                    data-testid="chart-clamp"
                    aria-label="the model's outputs before and after the clamp"
                ></canvas>
            })}
        </div>
    }
}

fn draw_clamp(clamped: Memo<Option<Clamped>>, canvas: NodeRef<Canvas>) {
    let result = clamped.with_untracked(|c| -> Result<(), String> {
        let (Some(c), Some(canvas)) = (c, canvas.get_untracked()) else {
            return Ok(());
        };
        let r = &c.response;
        let (before, after, what) = match (&r.probs_before, &r.probs_after) {
            (Some(b), Some(a)) => (b, a, "output probabilities"),
            _ => (&r.outputs_before, &r.outputs_after, "model outputs"),
        };
        let points = |v: &[f32]| -> Vec<(f64, f64)> {
            v.iter()
                .enumerate()
                .map(|(i, y)| (i as f64, f64::from(*y)))
                .collect()
        };
        let lines = [
            Line {
                label: "before",
                points: points(before),
                color: COLORS[0],
                dashed: true,
            },
            Line {
                label: "after",
                points: points(after),
                color: COLORS[1],
                dashed: false,
            },
        ];
        let x = (0.0, (before.len().max(2) - 1) as f64);
        plot::lines(
            canvas,
            &format!(
                "{what}: before vs after the clamp (value {} → {})",
                fmt_sig(r.value_before),
                fmt_sig(r.value_after)
            ),
            &lines,
            x,
            None,
        )
    });
    if let Err(e) = result {
        leptos::logging::warn!("{e}");
    }
}

/// Our weights (any decomposition), and an SAE in SAELens's layout once it has trained (semi-NMF
/// has no encoder, so no SAELens file).
fn export(ui: Ui) -> impl IntoView {
    let ctx = ui.ctx;
    let shell = ctx.shell;
    let ready = move || ctx.run.with(|r| r.phase != Phase::Starting) && ui.built();
    let config = ctx.config_signal();
    let sae_trained = move || {
        ready()
            && config.with(|c| c.kind != SaeKind::Snmf)
            && ctx.run.with(|r| r.position.done > 0.0)
    };
    view! {
        <div class="export" hidden=move || !shell.shown("export")()>
            {crate::page::weights_button(ctx, "Download the SAE (.safetensors)", ready)}
            {crate::page::export_button(
                ctx,
                "saelens",
                "export-saelens",
                "Download for SAELens (.zip)",
                sae_trained,
            )}
        </div>
    }
}
