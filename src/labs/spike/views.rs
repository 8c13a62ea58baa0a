//! The spiking lab's panels: interventions on the running network, the raster with
//! click-to-pick, and the rate, membrane, readout, learning-curve, weight and avalanche views.

use super::about;
use crate::format::fmt_sig;
use crate::lab::LabCtx;
use crate::page::panel;
use crate::plot::figure::{figure, About};
use crate::plot::{self, Line, RasterGeometry, COLORS};
use leptos::prelude::*;
use neurolab_core::spike::task::TaskConfig;
use neurolab_core::spike::{SpikeControl, SpikeLab};

/// The intervention's neuron range and current as typed, and where the raster's rows are.
#[derive(Clone, Copy)]
pub struct Iv {
    pub from: RwSignal<String>,
    pub to: RwSignal<String>,
    pub current: RwSignal<String>,
    pub geometry: StoredValue<Option<RasterGeometry>>,
}

pub fn panels(ctx: LabCtx<SpikeLab>) -> impl IntoView {
    let iv = Iv {
        from: RwSignal::new("0".into()),
        to: RwSignal::new("100".into()),
        current: RwSignal::new("10".into()),
        geometry: StoredValue::new(None),
    };
    let shell = ctx.shell;
    view! {
        {panel(shell, "interventions", interventions(ctx, iv))}
        {charts(ctx, iv)}
    }
}

/// Parse the intervention's range; the message names the limit.
fn range(ctx: LabCtx<SpikeLab>, iv: Iv) -> Result<(u32, u32), String> {
    let n = ctx.state.with_untracked(|s| s.neurons);
    let parse = |s: String, what: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| format!("{what} must be a whole number from 0 to {n}, got '{s}'"))
    };
    let from = parse(iv.from.get_untracked(), "from")?;
    let to = parse(iv.to.get_untracked(), "to")?;
    if from >= to || to > n {
        return Err(format!(
            "the neuron range must satisfy 0 ≤ from < to ≤ {n}, got {from}..{to}"
        ));
    }
    Ok((from, to))
}

fn intervene(ctx: LabCtx<SpikeLab>, iv: Iv, kind: &'static str) {
    let result = range(ctx, iv).and_then(|(from, to)| {
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
                let text = iv.current.get_untracked();
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
            ctx.control(control);
        }
        Ok(format!("{kind}: neurons {from}..{to}"))
    });
    ctx.shell.say(result.unwrap_or_else(|e| e));
}

/// Live changes of a what/when task: new probabilities and delays, effective next trial.
fn switch_task(ctx: LabCtx<SpikeLab>, pa: String, pb: String, da: String, db: String) {
    let task = ctx.config().task;
    let Some(TaskConfig::WhatWhen(mut p)) = task else {
        ctx.shell.say("switching needs the what/when task");
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
            ctx.control(SpikeControl::Task {
                task: TaskConfig::WhatWhen(p),
            });
            ctx.shell.say(format!(
                "switch sent: p(A) {pa}, p(B) {pb}, delays {da}/{db} ms (from the next trial)"
            ));
        }
        Err(e) => ctx.shell.say(e),
    }
}

fn interventions(ctx: LabCtx<SpikeLab>, iv: Iv) -> impl IntoView {
    let text = |signal: RwSignal<String>, id: &'static str, label: &'static str| {
        crate::page::text_input(id, label, move || signal.get(), move |v| signal.set(v))
    };
    let config = ctx.config_signal();
    let what_when = move || config.with(|c| matches!(c.task, Some(TaskConfig::WhatWhen(_))));
    let (pa, pb, da, db) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    Effect::new(move |_| {
        if let Some(TaskConfig::WhatWhen(p)) = config.with(|c| c.task.clone()) {
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
            {text(iv.from, "iv-from", "from")}
            {text(iv.to, "iv-to", "to")}
            <button data-testid="silence" on:click=move |_| intervene(ctx, iv, "silence")>"Silence"</button>
            <button data-testid="release" on:click=move |_| intervene(ctx, iv, "release")>"Release"</button>
            {text(iv.current, "iv-current", "current")}
            <button data-testid="inject" on:click=move |_| intervene(ctx, iv, "inject")>"Inject"</button>
            <span class="muted" data-testid="range-rate">
                {move || {
                    let from = iv.from.get().trim().parse::<u32>().ok();
                    let to = iv.to.get().trim().parse::<u32>().ok();
                    match (from, to) {
                        (Some(a), Some(b)) => ctx
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

fn charts(ctx: LabCtx<SpikeLab>, iv: Iv) -> impl IntoView {
    let raster = NodeRef::<leptos::html::Canvas>::new();
    let canvases: [NodeRef<leptos::html::Canvas>; 6] = std::array::from_fn(|_| NodeRef::new());
    let geometry = iv.geometry;
    plot::redraw_on(
        move || ctx.state.track(),
        move || redraw(ctx, geometry, raster, canvases),
    );
    // Pick a neuron (shift: extend the range from the range's start to it).
    let pick = move |neuron: u32, extend: bool| {
        if extend {
            let from: u32 = iv.from.get_untracked().parse().unwrap_or(neuron);
            let (lo, hi) = (from.min(neuron), from.max(neuron) + 1);
            iv.from.set(lo.to_string());
            iv.to.set(hi.to_string());
        } else {
            iv.from.set(neuron.to_string());
            iv.to.set((neuron + 1).to_string());
        }
        ctx.shell.say(format!("picked neuron {neuron}"));
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let (Some(el), Some(g)) = (raster.get_untracked(), geometry.get_value()) else {
            return;
        };
        let scale = f64::from(el.height()) / f64::from(el.client_height().max(1));
        pick(
            g.neuron_at(f64::from(ev.offset_y()) * scale),
            ev.shift_key(),
        );
    };
    // The keyboard way: ↑/↓ move the picked neuron by one, PageUp/PageDown by a tenth of the
    // network, Home/End to the first/last; with shift the range grows instead.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let neurons = ctx.state.with_untracked(|s| s.neurons).max(1);
        let at: u32 = if ev.shift_key() {
            iv.to
                .get_untracked()
                .parse::<u32>()
                .map_or(0, |t| t.saturating_sub(1))
        } else {
            iv.from.get_untracked().parse().unwrap_or(0)
        };
        let tenth = (neurons / 10).max(1);
        let next = match ev.key().as_str() {
            "ArrowDown" => at.saturating_add(1),
            "ArrowUp" => at.saturating_sub(1),
            "PageDown" => at.saturating_add(tenth),
            "PageUp" => at.saturating_sub(tenth),
            "Home" => 0,
            "End" => neurons - 1,
            _ => return,
        }
        .min(neurons - 1);
        ev.prevent_default();
        pick(next, ev.shift_key());
    };
    let has = move |name: &str| {
        ctx.state.with(|s| match name {
            "traces" => !s.trace_neurons.is_empty(),
            "readout" => !s.outputs.is_empty(),
            "learning" => !s.trials.is_empty(),
            "weights" => s.weights.is_some(),
            "avalanches" => s.avalanches.as_ref().is_some_and(|a| a.count > 0),
            _ => true,
        })
    };
    let shell = ctx.shell;
    // The raster's data: every spike in the window (its pixels are painted, not recorded).
    let raster_csv = Callback::new(move |()| {
        ctx.state.with_untracked(|s| {
            (!s.spikes.is_empty()).then(|| {
                let mut csv = String::from("t_ms,neuron,excitatory\n");
                for &(t, i) in &s.spikes {
                    csv.push_str(&format!("{t},{i},{}\n", i < s.n_exc));
                }
                csv
            })
        })
    });
    let raster_view = view! {
        <canvas
            node_ref=raster
            class="raster"
            width="900"
            height="320"
            tabindex="0"
            data-testid="raster"
            aria-label="spike raster"
            title="spike raster: time → , neuron ↓ (excitatory blue, inhibitory red). Click or use ↑/↓ (shift: a range) to pick neurons."
            on:click=on_click
            on:keydown=on_key
        ></canvas>
    };
    view! {
        <div data-panel="raster" hidden=move || !shell.shown("raster")()>
            {figure(shell, "raster", &about::RASTER, "raster-box", || false, Some(raster_csv), raster_view)}
        </div>
        <div class="charts" data-panel="charts" hidden=move || !shell.shown("charts")()>
            {CHARTS
                .into_iter()
                .enumerate()
                .map(|(i, (name, title))| {
                    let canvas = view! {
                        <canvas node_ref=canvases[i] width="640" height="220" data-testid=format!("chart-{name}") aria-label=title></canvas>
                    };
                    figure(shell, name, ABOUT[i], "", move || !has(name), None, canvas)
                })
                .collect_view()}
        </div>
    }
}

/// Each of [`CHARTS`]' explanation.
const ABOUT: [&About; 6] = [
    &about::RATE,
    &about::TRACES,
    &about::READOUT,
    &about::LEARNING,
    &about::WEIGHTS,
    &about::AVALANCHES,
];

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
    ctx: LabCtx<SpikeLab>,
    geometry: StoredValue<Option<RasterGeometry>>,
    raster: NodeRef<leptos::html::Canvas>,
    canvases: [NodeRef<leptos::html::Canvas>; 6],
) {
    let mut failures = Vec::new();
    ctx.state.with_untracked(|s| {
        let n_exc = s.n_exc;
        let silenced: Vec<std::ops::Range<u32>> = s.silenced.iter().map(|r| r.from..r.to).collect();
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
                Ok(g) => {
                    geometry.set_value(Some(g));
                    let alt = format!(
                        "{} spikes of {} neurons between {:.0} and {:.0} ms",
                        s.spikes.len(),
                        s.neurons,
                        t_lo,
                        t_hi
                    );
                    plot::figure::record(&canvas, "spike raster", None, &alt);
                }
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
