//! The spiking reservoir lab's page: the network form (built from the config's link pairs),
//! run controls, the live raster with click-to-pick interventions (silence, inject), and the
//! rate, membrane, readout, learning-curve, weight and avalanche views. Thin components over
//! [`SpikeLabState`]; all simulation happens in the worker.

use crate::browser;
use crate::lab::{fmt_sig, Phase};
use crate::pairs_form::{choices, group, label, PairsForm};
use crate::plot::{self, Line, RasterGeometry, COLORS};
use crate::spike_lab::SpikeLabState;
use crate::ui::Ctx;
use leptos::prelude::*;
use neurolab_core::protocol::Command;
use neurolab_core::spike::config::SpikeConfig;
use neurolab_core::spike::session::SpikeControl;
use neurolab_core::spike::task::TaskConfig;

/// The spiking lab's page state (all handles are `Copy`).
#[derive(Clone, Copy)]
pub struct SpikeCtx {
    pub state: RwSignal<SpikeLabState>,
    pub form: RwSignal<PairsForm>,
    pub form_error: RwSignal<Option<String>>,
    /// Silenced neuron ranges (shaded in the raster).
    pub silenced: RwSignal<Vec<(u32, u32)>>,
    /// The intervention's neuron range and current, as typed.
    pub from: RwSignal<String>,
    pub to: RwSignal<String>,
    pub current: RwSignal<String>,
    pub geometry: StoredValue<Option<RasterGeometry>>,
}

impl SpikeCtx {
    pub fn new(config: &SpikeConfig) -> Self {
        Self {
            state: RwSignal::new(SpikeLabState::new(f64::from(config.duration_ms))),
            form: RwSignal::new(PairsForm::from_pairs(config.to_link_pairs())),
            form_error: RwSignal::new(None),
            silenced: RwSignal::new(Vec::new()),
            from: RwSignal::new("0".into()),
            to: RwSignal::new("100".into()),
            current: RwSignal::new("10".into()),
            geometry: StoredValue::new(None),
        }
    }
}

/// Build a fresh network for the link's spike config.
pub fn restart(ctx: Ctx, command: Command) {
    let config = ctx.link.with_untracked(|l| l.spike.clone());
    ctx.spike.silenced.set(Vec::new());
    ctx.spike
        .state
        .update(|s| s.expect_run(f64::from(config.duration_ms)));
    ctx.send(command);
}

fn configure(ctx: Ctx) {
    let config = ctx.link.with_untracked(|l| l.spike.clone());
    restart(ctx, Command::SpikeConfigure { config });
}

fn edit(ctx: Ctx, key: String, value: String) {
    ctx.spike.form.update(|f| f.set(&key, value));
    let parsed = ctx
        .spike
        .form
        .with_untracked(|f| f.parse(&key, SpikeConfig::from_link_pairs));
    match parsed {
        Ok(config) => {
            ctx.spike.form_error.set(None);
            ctx.spike
                .form
                .set(PairsForm::from_pairs(config.to_link_pairs()));
            let old = ctx.link.with_untracked(|l| l.spike.clone());
            if old != config {
                let running = ctx
                    .spike
                    .state
                    .with_untracked(|s| s.phase != Phase::Starting);
                let live = running.then(|| live_controls(&old, &config)).flatten();
                ctx.link.update(|l| l.spike = config);
                match live {
                    // Plasticity, noise and drive change in the running network.
                    Some(controls) => {
                        for control in controls {
                            ctx.send(Command::SpikeControl { control });
                        }
                        ctx.status.set(Some("changed while running".into()));
                    }
                    None => configure(ctx),
                }
            }
        }
        Err(e) => ctx.spike.form_error.set(Some(e)),
    }
}

/// The controls that turn `old` into `new` in a running network, when only plasticity, input
/// noise or drive differ (anything else needs a new network).
pub fn live_controls(old: &SpikeConfig, new: &SpikeConfig) -> Option<Vec<SpikeControl>> {
    let mut same = new.clone();
    same.plasticity = old.plasticity;
    same.noise_exc = old.noise_exc;
    same.noise_inh = old.noise_inh;
    same.drive = old.drive;
    if &same != old {
        return None;
    }
    let mut controls = Vec::new();
    if new.plasticity != old.plasticity {
        controls.push(SpikeControl::Plasticity {
            params: new.plasticity,
        });
    }
    if (new.noise_exc, new.noise_inh) != (old.noise_exc, old.noise_inh) {
        controls.push(SpikeControl::Noise {
            exc: new.noise_exc,
            inh: new.noise_inh,
        });
    }
    if new.drive != old.drive {
        controls.push(SpikeControl::Drive { current: new.drive });
    }
    Some(controls)
}

#[component]
pub fn SpikeLab(ctx: Ctx) -> impl IntoView {
    view! {
        <aside class="panel config" hidden=move || !ctx.shown("config")()>
            <SpikeForm ctx=ctx />
        </aside>
        <section class="panel run">
            <SpikeControls ctx=ctx />
            <div class="progress" data-testid="progress" hidden=move || !ctx.shown("progress")()>
                <div class="bar">
                    <div
                        class="fill"
                        style:width=move || {
                            format!("{:.1}%", 100.0 * ctx.spike.state.with(SpikeLabState::progress_fraction))
                        }
                    ></div>
                </div>
                <span>{move || ctx.spike.state.with(SpikeLabState::progress_text)}</span>
            </div>
            <div class="metrics" data-testid="metrics" hidden=move || !ctx.shown("metrics")()>
                {move || {
                    ctx.spike
                        .state
                        .with(SpikeLabState::metrics)
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
                }}
            </div>
            {move || {
                ctx.spike
                    .state
                    .with(|s| s.note.clone())
                    .map(|note| {
                        view! {
                            <p class="banner notice" data-testid="engine-note">
                                "Running on the CPU engine: "
                                {note}
                            </p>
                        }
                    })
            }}
            <Interventions ctx=ctx />
            <SpikeCharts ctx=ctx />
            <crate::ui::ShareBlock ctx=ctx />
        </section>
    }
}

#[component]
fn SpikeForm(ctx: Ctx) -> impl IntoView {
    let groups = ["run", "network", "neurons", "plasticity", "task", "readout"];
    view! {
        <h2>"Network"</h2>
        <form class="config-form" on:submit=|ev| ev.prevent_default()>
            {move || {
                let fields = ctx.spike.form.with(|f| f.fields.clone());
                groups
                    .into_iter()
                    .filter(|g| fields.iter().any(|(k, _)| group(k) == *g))
                    .map(|g| {
                        view! {
                            <fieldset>
                                <legend>{g}</legend>
                                {fields
                                    .iter()
                                    .filter(|(k, _)| group(k) == g)
                                    .map(|(k, v)| field(ctx, k.clone(), v.clone()))
                                    .collect_view()}
                            </fieldset>
                        }
                    })
                    .collect_view()
            }}
        </form>
        <p class="config-error" data-testid="config-error" hidden=move || ctx.spike.form_error.with(Option::is_none)>
            {move || ctx.spike.form_error.get().unwrap_or_default()}
        </p>
    }
}

fn field(ctx: Ctx, key: String, value: String) -> impl IntoView {
    let id = format!("spike-{key}");
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
fn SpikeControls(ctx: Ctx) -> impl IntoView {
    let phase = move || ctx.spike.state.with(|s| s.phase);
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
                "+100 ms"
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

/// Parse the intervention's range; the message names the limit.
fn range(ctx: Ctx) -> Result<(u32, u32), String> {
    let n = ctx.spike.state.with_untracked(|s| s.neurons);
    let parse = |s: String, what: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| format!("{what} must be a whole number from 0 to {n}, got '{s}'"))
    };
    let from = parse(ctx.spike.from.get_untracked(), "from")?;
    let to = parse(ctx.spike.to.get_untracked(), "to")?;
    if from >= to || to > n {
        return Err(format!(
            "the neuron range must satisfy 0 ≤ from < to ≤ {n}, got {from}..{to}"
        ));
    }
    Ok((from, to))
}

fn intervene(ctx: Ctx, kind: &'static str) {
    let result = range(ctx).and_then(|(from, to)| {
        let controls = match kind {
            "silence" => vec![SpikeControl::Silence { from, to, on: true }],
            "release" => vec![
                SpikeControl::Silence {
                    from,
                    to,
                    on: false,
                },
                SpikeControl::Inject {
                    from,
                    to,
                    current: 0.0,
                },
            ],
            _ => {
                let text = ctx.spike.current.get_untracked();
                let current: f32 = text
                    .trim()
                    .parse()
                    .ok()
                    .filter(|c: &f32| c.is_finite() && c.abs() <= 1000.0)
                    .ok_or_else(|| {
                        format!("the current must be a number from -1000 to 1000, got '{text}'")
                    })?;
                vec![SpikeControl::Inject { from, to, current }]
            }
        };
        for control in controls {
            ctx.send(Command::SpikeControl { control });
        }
        ctx.spike.silenced.update(|s| match kind {
            "silence" => s.push((from, to)),
            "release" => s.retain(|&(a, b)| b <= from || a >= to),
            _ => {}
        });
        Ok(format!("{kind}: neurons {from}..{to}"))
    });
    ctx.status.set(Some(result.unwrap_or_else(|e| e)));
}

/// Live changes of a what/when task: new probabilities and delays, effective next trial.
fn switch_task(ctx: Ctx, pa: String, pb: String, da: String, db: String) {
    let task = ctx.link.with_untracked(|l| l.spike.task.clone());
    let Some(TaskConfig::WhatWhen(mut p)) = task else {
        ctx.status
            .set(Some("switching needs the what/when task".into()));
        return;
    };
    let num = |s: &str, what: &str| {
        s.trim()
            .parse::<f32>()
            .map_err(|_| format!("{what} must be a number, got '{s}'"))
    };
    let parsed = (|| -> Result<(), String> {
        p.p_a = num(&pa, "p(A)")?;
        p.p_b = num(&pb, "p(B)")?;
        p.delay_a_ms = num(&da, "delay A")?;
        p.delay_b_ms = num(&db, "delay B")?;
        Ok(())
    })();
    match parsed {
        Ok(()) => {
            ctx.send(Command::SpikeControl {
                control: SpikeControl::Task {
                    task: TaskConfig::WhatWhen(p),
                },
            });
            ctx.status.set(Some(format!(
                "switch sent: p(A) {pa}, p(B) {pb}, delays {da}/{db} ms (from the next trial)"
            )));
        }
        Err(e) => ctx.status.set(Some(e)),
    }
}

#[component]
fn Interventions(ctx: Ctx) -> impl IntoView {
    let text = |signal: RwSignal<String>, id: &'static str, label: &'static str| {
        view! {
            <label class="field inline">
                <span>{label}</span>
                <input
                    type="text"
                    data-testid=id
                    prop:value=move || signal.get()
                    on:change=move |ev| signal.set(event_target_value(&ev))
                />
            </label>
        }
    };
    let what_when = move || {
        ctx.link
            .with(|l| matches!(l.spike.task, Some(TaskConfig::WhatWhen(_))))
    };
    let (pa, pb, da, db) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    Effect::new(move |_| {
        if let Some(TaskConfig::WhatWhen(p)) = ctx.link.with(|l| l.spike.task.clone()) {
            // Start from the swapped probabilities: the classic switch.
            pa.set(p.p_b.to_string());
            pb.set(p.p_a.to_string());
            da.set(p.delay_a_ms.to_string());
            db.set(p.delay_b_ms.to_string());
        }
    });
    view! {
        <div class="interventions">
            <span class="muted">"Click the raster to pick a neuron (shift-click: extend the range)."</span>
            {text(ctx.spike.from, "iv-from", "from")}
            {text(ctx.spike.to, "iv-to", "to")}
            <button data-testid="silence" on:click=move |_| intervene(ctx, "silence")>"Silence"</button>
            <button data-testid="release" on:click=move |_| intervene(ctx, "release")>"Release"</button>
            {text(ctx.spike.current, "iv-current", "current")}
            <button data-testid="inject" on:click=move |_| intervene(ctx, "inject")>"Inject"</button>
            <span class="muted" data-testid="range-rate">
                {move || {
                    let from = ctx.spike.from.get().trim().parse::<u32>().ok();
                    let to = ctx.spike.to.get().trim().parse::<u32>().ok();
                    match (from, to) {
                        (Some(a), Some(b)) => ctx
                            .spike
                            .state
                            .with(|s| s.range_rate_hz(a, b, 200.0))
                            .map(|hz| format!("neurons {a}..{b}: {hz:.1} Hz over the last 200 ms"))
                            .unwrap_or_default(),
                        _ => String::new(),
                    }
                }}
            </span>
        </div>
        <div class="interventions" hidden=move || !what_when()>
            <span class="muted">"Switch the what/when task mid-run:"</span>
            {text(pa, "sw-pa", "p(A)")}
            {text(pb, "sw-pb", "p(B)")}
            {text(da, "sw-da", "delay A")}
            {text(db, "sw-db", "delay B")}
            <button
                data-testid="switch"
                on:click=move |_| switch_task(ctx, pa.get_untracked(), pb.get_untracked(), da.get_untracked(), db.get_untracked())
            >
                "Switch"
            </button>
        </div>
    }
}

const CHARTS: [(&str, &str); 6] = [
    ("rate", "population rate (Hz)"),
    ("traces", "membrane potential (mV)"),
    ("readout", "readout output vs target"),
    ("learning", "readout error per trial"),
    ("weights", "excitatory weights"),
    ("avalanches", "avalanche sizes (log–log)"),
];

#[component]
fn SpikeCharts(ctx: Ctx) -> impl IntoView {
    let raster = NodeRef::<leptos::html::Canvas>::new();
    let canvases: [NodeRef<leptos::html::Canvas>; 6] = std::array::from_fn(|_| NodeRef::new());
    let frame_pending = StoredValue::new(false);
    let schedule = move || {
        if frame_pending.get_value() {
            return;
        }
        frame_pending.set_value(true);
        browser::on_next_frame(move || {
            frame_pending.set_value(false);
            redraw(ctx, raster, canvases);
        });
    };
    Effect::new(move |_| {
        ctx.spike.state.track();
        ctx.spike.silenced.track();
        schedule();
    });
    let on_resize = window_event_listener(leptos::ev::resize, move |_| schedule());
    on_cleanup(move || on_resize.remove());
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let (Some(el), Some(g)) = (raster.get_untracked(), ctx.spike.geometry.get_value()) else {
            return;
        };
        let scale = f64::from(el.height()) / f64::from(el.client_height().max(1));
        let neuron = g.neuron_at(f64::from(ev.offset_y()) * scale);
        if ev.shift_key() {
            let from: u32 = ctx.spike.from.get_untracked().parse().unwrap_or(neuron);
            let (lo, hi) = (from.min(neuron), from.max(neuron) + 1);
            ctx.spike.from.set(lo.to_string());
            ctx.spike.to.set(hi.to_string());
        } else {
            ctx.spike.from.set(neuron.to_string());
            ctx.spike.to.set((neuron + 1).to_string());
        }
        ctx.status.set(Some(format!("picked neuron {neuron}")));
    };
    let has = move |name: &str| {
        ctx.spike.state.with(|s| match name {
            "traces" => !s.trace_neurons.is_empty(),
            "readout" => !s.outputs.is_empty(),
            "learning" => !s.trials.is_empty(),
            "weights" => s.weights.is_some(),
            "avalanches" => s.avalanches.as_ref().is_some_and(|a| a.count > 0),
            _ => true,
        })
    };
    view! {
        <div class="chart raster-box">
            <canvas
                node_ref=raster
                class="raster"
                width="900"
                height="320"
                data-testid="raster"
                title="spike raster: time → , neuron ↓ (excitatory blue, inhibitory red)"
                on:click=on_click
            ></canvas>
        </div>
        <div class="charts">
            {CHARTS
                .into_iter()
                .enumerate()
                .map(|(i, (name, title))| {
                    view! {
                        <div class="chart" hidden=move || !has(name)>
                            <canvas node_ref=canvases[i] width="640" height="220" data-testid=format!("chart-{name}") aria-label=title></canvas>
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plasticity_noise_and_drive_change_live() {
        let old = SpikeConfig::reservoir();
        let mut new = old.clone();
        new.noise_exc = 3.0;
        new.drive = 1.5;
        new.plasticity.stdp.enabled = true;
        let controls = live_controls(&old, &new).unwrap();
        assert_eq!(controls.len(), 3);
        assert!(matches!(controls[1], SpikeControl::Noise { exc, .. } if exc == 3.0));
        new.n += 1;
        assert_eq!(
            live_controls(&old, &new),
            None,
            "a new size needs a new network"
        );
    }
}

fn series(points: &std::collections::VecDeque<(f64, f32)>) -> Vec<(f64, f64)> {
    // At most ~1000 points per line (the canvas is not wider).
    let stride = points.len().div_ceil(1000).max(1);
    points
        .iter()
        .step_by(stride)
        .map(|&(t, v)| (t, f64::from(v)))
        .collect()
}

fn redraw(
    ctx: Ctx,
    raster: NodeRef<leptos::html::Canvas>,
    canvases: [NodeRef<leptos::html::Canvas>; 6],
) {
    let config = ctx.link.with_untracked(|l| l.spike.clone());
    let n_exc = config.network_spec().n_exc() as u32;
    let silenced = ctx.spike.silenced.get_untracked();
    let mut failures = Vec::new();
    ctx.spike.state.with_untracked(|s| {
        let (t_lo, t_hi) = s.window();
        if let Some(canvas) = raster.get_untracked() {
            match plot::raster(
                &canvas,
                s.spikes.iter().copied(),
                s.neurons.max(1),
                n_exc,
                t_lo,
                t_hi,
                &silenced,
            ) {
                Ok(g) => ctx.spike.geometry.set_value(Some(g)),
                Err(e) => failures.push(e),
            }
        }
        let x = (t_lo, t_hi);
        let mut draw = |i: usize, f: &dyn Fn(web_sys::HtmlCanvasElement) -> Result<(), String>| {
            if let Some(c) = canvases[i].get_untracked() {
                if c.client_width() > 0 {
                    if let Err(e) = f(c) {
                        failures.push(e);
                    }
                }
            }
        };
        draw(0, &|c| {
            let line = Line {
                label: "rate",
                points: series(&s.rate_hz),
                color: COLORS[0],
                dashed: false,
            };
            plot::lines(c, CHARTS[0].1, &[line], x, None)
        });
        draw(1, &|c| {
            let lines: Vec<Line> = s
                .traces_mv
                .iter()
                .enumerate()
                .map(|(k, tr)| Line {
                    label: "",
                    points: series(tr),
                    color: COLORS[k % COLORS.len()],
                    dashed: false,
                })
                .collect();
            plot::lines(c, CHARTS[1].1, &lines, x, Some((-90.0, 35.0)))
        });
        draw(2, &|c| {
            let names = ["when", "what A", "what B", "out 4", "out 5", "out 6"];
            let mut lines = Vec::new();
            for (k, (o, t)) in s.outputs.iter().zip(&s.targets).enumerate() {
                let color = COLORS[k % COLORS.len()];
                lines.push(Line {
                    label: names[k.min(5)],
                    points: series(o),
                    color,
                    dashed: false,
                });
                lines.push(Line {
                    label: "",
                    points: series(t),
                    color,
                    dashed: true,
                });
            }
            plot::lines(c, CHARTS[2].1, &lines, x, None)
        });
        draw(3, &|c| {
            let points: Vec<(f64, f64)> = s
                .trials
                .iter()
                .map(|t| (t.trial as f64, f64::from(t.pred_mse)))
                .collect();
            let hi = points.last().map_or(1.0, |p| p.0.max(1.0));
            let line = Line {
                label: "prediction error",
                points,
                color: COLORS[1],
                dashed: false,
            };
            plot::lines(c, CHARTS[3].1, &[line], (0.0, hi), None)
        });
        draw(4, &|c| match &s.weights {
            Some(w) => {
                let counts: Vec<f64> = w.counts.iter().map(|&n| f64::from(n)).collect();
                plot::bars(c, CHARTS[4].1, &counts, 0.0, f64::from(w.hi))
            }
            None => Ok(()),
        });
        draw(5, &|c| match &s.avalanches {
            Some(a) => {
                let points: Vec<(f64, f64)> = a
                    .size_hist
                    .iter()
                    .map(|b| ((b.lo * b.hi).sqrt(), b.density))
                    .collect();
                let mut lines = vec![Line {
                    label: "sizes",
                    points: points.clone(),
                    color: COLORS[0],
                    dashed: false,
                }];
                if let (Some(fit), Some(&(x0, y0))) = (&a.size_fit, points.first()) {
                    // The fitted power law through the first point.
                    let x1 = points.last().map_or(x0 * 100.0, |p| p.0);
                    lines.push(Line {
                        label: "fit",
                        points: vec![(x0, y0), (x1, y0 * (x1 / x0).powf(-fit.alpha))],
                        color: COLORS[1],
                        dashed: true,
                    });
                }
                let title = match &a.size_fit {
                    Some(f) => format!(
                        "avalanche sizes: α = {} (−3/2 at criticality)",
                        fmt_sig(f.alpha as f32)
                    ),
                    None => CHARTS[5].1.to_string(),
                };
                plot::log_log(c, &title, &lines)
            }
            None => Ok(()),
        });
    });
    for e in failures {
        leptos::logging::warn!("{e}");
    }
}
