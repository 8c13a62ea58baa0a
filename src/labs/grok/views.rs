//! The grokking lab's panels: ablation while it trains, the runs (legend, phases, forks, the
//! Grokfast comparison), the charts over steps with the phases shaded and every run overlaid,
//! the timeline scrubber, the mechanism views, exports.

use super::about;
use super::state::{GrokState, RunView};
use crate::browser;
use crate::format::{fmt_pct, fmt_sig, parse_neurons};
use crate::lab::LabCtx;
use crate::page::panel;
use crate::plot::curves::{self, Band, Curves, Geometry, Series, YAxis};
use crate::plot::figure::{figure, About};
use crate::plot::COLORS;
use leptos::prelude::*;
use neurolab_base::Phase;
use neurolab_core::grok::analysis::Stage;
use neurolab_core::grok::report::curves_csv;
use neurolab_core::grok::{GrokControl, GrokLab, StepReport};
use plotters::style::RGBColor;

const TRAIN: RGBColor = RGBColor(37, 99, 235);
const TEST: RGBColor = RGBColor(220, 38, 38);
const NORM: RGBColor = RGBColor(124, 58, 237);

/// A run's colour on every chart: the first run keeps the train/test colours when alone.
pub fn run_color(run: usize) -> RGBColor {
    COLORS[run % COLORS.len()]
}

/// A phase's shade on the charts (grokked is left clear).
pub fn stage_color(stage: Stage) -> Option<RGBColor> {
    match stage {
        Stage::Memorisation => Some(RGBColor(217, 119, 6)),
        Stage::CircuitFormation => Some(RGBColor(124, 58, 237)),
        Stage::CleanUp => Some(RGBColor(22, 163, 74)),
        Stage::Grokked => None,
    }
}

/// The grokking lab's charts over steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    Loss,
    Accuracy,
    WeightNorm,
    Fourier,
    Moved,
    Cka,
}

impl Chart {
    pub const ALL: [Chart; 6] = [
        Chart::Loss,
        Chart::Accuracy,
        Chart::WeightNorm,
        Chart::Fourier,
        Chart::Moved,
        Chart::Cka,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Chart::Loss => "loss, with the progress measures (log scale)",
            Chart::Accuracy => "accuracy",
            Chart::WeightNorm => "weight norm",
            Chart::Fourier => "key frequencies: share of the embedding's power, Gini",
            Chart::Moved => "weights moved: ‖W−W₀‖/‖W₀‖ per layer",
            Chart::Cka => "representation moved: CKA with step 0",
        }
    }

    pub fn about(self) -> &'static About {
        match self {
            Chart::Loss => &about::LOSS,
            Chart::Accuracy => &about::ACCURACY,
            Chart::WeightNorm => &about::NORM,
            Chart::Fourier => &about::FOURIER,
            Chart::Moved => &about::MOVED,
            Chart::Cka => &about::CKA,
        }
    }

    pub fn test_id(self) -> &'static str {
        match self {
            Chart::Loss => "chart-loss",
            Chart::Accuracy => "chart-acc",
            Chart::WeightNorm => "chart-norm",
            Chart::Fourier => "chart-fourier",
            Chart::Moved => "chart-moved",
            Chart::Cka => "chart-cka",
        }
    }

    fn y(self) -> YAxis {
        match self {
            Chart::Loss => YAxis::Decades,
            Chart::Accuracy | Chart::Fourier | Chart::Cka => YAxis::Fixed(0.0, 1.02),
            Chart::WeightNorm | Chart::Moved => YAxis::Padded,
        }
    }

    /// The chart's curves: every run's, the first run's phases shaded.
    pub fn curves(self, s: &GrokState, x_hi: f64, mark: Option<u32>) -> Curves<'static> {
        let alone = s.runs.len() <= 1;
        let mut series = Vec::new();
        for (i, run) in s.runs.iter().enumerate() {
            let name = |what: &str| {
                if alone {
                    what.to_string()
                } else {
                    format!("run {} {what}", i + 1)
                }
            };
            let (train_color, test_color) = if alone {
                (TRAIN, TEST)
            } else {
                (run_color(i), run_color(i))
            };
            let metric = |value: fn(&StepReport) -> f32| -> Vec<(f64, f64)> {
                run.reports
                    .iter()
                    .map(|r| (f64::from(r.step), f64::from(value(r))))
                    .collect()
            };
            let analysed = |value: &dyn Fn(&neurolab_core::grok::Analysis) -> Option<f32>| {
                run.analyses
                    .iter()
                    .filter_map(|a| value(a).map(|v| (f64::from(a.step), f64::from(v))))
                    .collect::<Vec<_>>()
            };
            let mut push = |name: String, color, points: Vec<(f64, f64)>, light| {
                if !points.is_empty() {
                    series.push(Series {
                        name,
                        color,
                        points,
                        light,
                    });
                }
            };
            match self {
                Chart::Loss => {
                    push(name("train"), train_color, metric(|r| r.train_loss), !alone);
                    push(name("test"), test_color, metric(|r| r.test_loss), false);
                    if i == 0 {
                        push(
                            name("restricted"),
                            RGBColor(22, 163, 74),
                            analysed(&|a| a.restricted_loss),
                            true,
                        );
                        push(
                            name("excluded"),
                            RGBColor(217, 119, 6),
                            analysed(&|a| a.excluded_loss),
                            true,
                        );
                    }
                }
                Chart::Accuracy => {
                    push(name("train"), train_color, metric(|r| r.train_acc), !alone);
                    push(name("test"), test_color, metric(|r| r.test_acc), false);
                }
                Chart::WeightNorm => {
                    let color = if alone { NORM } else { run_color(i) };
                    push(name("‖w‖"), color, metric(|r| r.weight_norm), false);
                }
                Chart::Fourier => {
                    let color = if alone { TEST } else { run_color(i) };
                    push(
                        name("key share"),
                        color,
                        analysed(&|a| Some(a.key_power_frac)),
                        false,
                    );
                    push(name("Gini"), color, analysed(&|a| Some(a.gini)), true);
                }
                Chart::Moved => {
                    if i == 0 {
                        let layers: Vec<String> = run
                            .analyses
                            .iter()
                            .flat_map(|a| a.weight_change.iter().map(|c| c.layer.clone()))
                            .fold(Vec::new(), |mut v, l| {
                                if !v.contains(&l) {
                                    v.push(l);
                                }
                                v
                            });
                        for (j, layer) in layers.iter().enumerate() {
                            let points = run
                                .analyses
                                .iter()
                                .filter_map(|a| {
                                    a.weight_change
                                        .iter()
                                        .find(|c| &c.layer == layer)
                                        .map(|c| (f64::from(a.step), f64::from(c.relative)))
                                })
                                .collect();
                            push(name(layer), COLORS[(j + 2) % COLORS.len()], points, false);
                        }
                    }
                }
                Chart::Cka => {
                    let color = if alone { TEST } else { run_color(i) };
                    push(name("CKA"), color, analysed(&|a| a.cka), false);
                }
            }
        }
        let bands = s
            .runs
            .first()
            .map(|r| stage_bands(r, x_hi))
            .unwrap_or_default();
        Curves {
            title: self.title(),
            series,
            y: self.y(),
            bands,
            mark: mark.map(f64::from),
        }
    }
}

/// The first run's phases as shaded spans (a phase still going ends at `x_hi`).
fn stage_bands(run: &RunView, x_hi: f64) -> Vec<Band> {
    run.stages()
        .into_iter()
        .filter_map(|span| {
            stage_color(span.stage).map(|color| Band {
                from: f64::from(span.from),
                to: span.to.map_or(x_hi, f64::from),
                color,
            })
        })
        .collect()
}

/// What the pointer is over: the first run's nearest report and where each chart marks it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hover {
    report: StepReport,
    /// Marker position per chart, in percent of the canvas width.
    left_pct: [Option<f64>; Chart::ALL.len()],
}

pub fn panels(ctx: LabCtx<GrokLab>) -> impl IntoView {
    let shell = ctx.shell;
    view! {
        {panel(shell, "interventions", ablation(ctx))}
        {panel(shell, "runs", super::timeline::runs_panel(ctx))}
        {panel(shell, "charts", charts(ctx))}
        {panel(shell, "timeline", super::timeline::scrubber(ctx))}
        {panel(shell, "mechanism", super::mechanism::views(ctx))}
        {export(ctx)}
    }
}

/// Ablate hidden neurons, or every neuron of one Fourier frequency, while it trains; the
/// answer (and a report) shows the effect on the curves at once.
fn ablation(ctx: LabCtx<GrokLab>) -> impl IntoView {
    let shell = ctx.shell;
    let neurons = RwSignal::new(String::new());
    let frequency = RwSignal::new(String::new());
    let ready = move || ctx.run.with(|r| r.phase != Phase::Starting);
    let ablate = move |_| match parse_neurons(&neurons.get_untracked()) {
        Ok(list) if list.is_empty() => shell.say("type the neurons to ablate, e.g. 0-49, 77"),
        Ok(list) => ctx.control(GrokControl::Ablate { neurons: list }),
        Err(e) => shell.say(e),
    };
    let ablate_frequency = move |_| {
        let text = frequency.get_untracked();
        let max = (ctx.config().p - 1) / 2;
        match text.trim().parse::<u32>() {
            Ok(k) => ctx.control(GrokControl::AblateFrequency { k }),
            Err(_) => shell.say(format!(
                "the frequency must be a whole number from 1 to {max}, got '{text}'"
            )),
        }
    };
    view! {
        <div class="interventions" hidden=move || !shell.shown("config")()>
            <span class="muted">"Ablate while it trains:"</span>
            {crate::page::text_input("ablate-neurons", "neurons", move || neurons.get(), move |v| {
                neurons.set(v)
            })}
            <button data-testid="ablate" disabled=move || !ready() on:click=ablate>"Ablate"</button>
            {crate::page::text_input("ablate-frequency", "frequency k", move || frequency.get(), move |v| {
                frequency.set(v)
            })}
            <button data-testid="ablate-k" disabled=move || !ready() on:click=ablate_frequency>
                "Ablate frequency"
            </button>
            <button
                data-testid="restore"
                disabled=move || ctx.state.with(|s| s.ablated.is_empty())
                on:click=move |_| ctx.control(GrokControl::Ablate { neurons: Vec::new() })
            >
                "Restore"
            </button>
            <span class="muted" data-testid="ablation" aria-live="polite">
                {move || ctx.state.with(|s| s.ablation_note.clone().unwrap_or_default())}
            </span>
        </div>
    }
}

fn charts(ctx: LabCtx<GrokLab>) -> impl IntoView {
    const N: usize = Chart::ALL.len();
    let canvases: [NodeRef<leptos::html::Canvas>; N] = std::array::from_fn(|_| NodeRef::new());
    let geometry = StoredValue::new([None::<Geometry>; N]);
    let hover = RwSignal::new(None::<Hover>);
    let link = ctx.shell.link;
    let config = ctx.config_signal();
    let draw = move || {
        let log_x = link.with_untracked(|l| l.view.log_x);
        let budget = config.with_untracked(|c| c.steps);
        let mut drawn = [None; N];
        ctx.state.with_untracked(|s: &GrokState| {
            let last = s.latest().map_or(0, |r| r.step);
            let x = curves::x_range(budget, last, log_x);
            let mark = s.snapshot.as_ref().map(|a| a.step);
            for (i, chart) in Chart::ALL.into_iter().enumerate() {
                let Some(canvas) = canvases[i].get_untracked() else {
                    continue;
                };
                match curves::draw(canvas, &chart.curves(s, x.1, mark), x, log_x) {
                    Ok(g) => drawn[i] = Some(g),
                    Err(e) => leptos::logging::warn!("{e}"),
                }
            }
        });
        geometry.set_value(drawn);
    };
    crate::plot::redraw_on(
        move || {
            ctx.state.track();
            link.track();
        },
        draw,
    );
    let log_x = move || link.with(|l| l.view.log_x);
    let charts = Chart::ALL
        .into_iter()
        .enumerate()
        .map(|(i, chart)| {
            let canvas = canvases[i];
            let on_move = move |ev: leptos::ev::MouseEvent| {
                let (Some(el), Some(g)) = (canvas.get_untracked(), geometry.get_value()[i]) else {
                    return;
                };
                let scale = f64::from(el.width()) / f64::from(el.client_width().max(1));
                let px = f64::from(ev.offset_x()) * scale;
                let width = f64::from(el.width().max(1));
                let all = geometry.get_value();
                hover.set(ctx.state.with_untracked(|s| {
                    let reports = &s.runs.first()?.reports;
                    let steps: Vec<f64> = reports.iter().map(|r| f64::from(r.step)).collect();
                    g.nearest(&steps, px).map(|idx| {
                        let report = reports[idx];
                        let left_pct =
                            all.map(|g| g.map(|g| 100.0 * g.px_at(f64::from(report.step)) / width));
                        Hover { report, left_pct }
                    })
                }));
            };
            let content = view! {
                <canvas
                    node_ref=canvas
                    width="640"
                    height="250"
                    data-testid=chart.test_id()
                    aria-label=chart.title()
                    on:mousemove=on_move
                    on:mouseleave=move |_| hover.set(None)
                ></canvas>
                {move || {
                    hover
                        .get()
                        .and_then(|h| h.left_pct[i])
                        .map(|left| {
                            view! { <div class="marker" style:left=format!("{left:.2}%")></div> }
                        })
                }}
            };
            let id = chart.test_id().trim_start_matches("chart-");
            figure(ctx.shell, id, chart.about(), "", || false, None, content)
        })
        .collect_view();
    view! {
        <label class="toggle">
            <input
                type="checkbox"
                data-testid="logx"
                prop:checked=log_x
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    link.update(|l| l.view.log_x = on);
                }
            />
            " log step axis"
        </label>
        <div class="charts">{charts}</div>
        <p class="hover" data-testid="hover">
            {move || match hover.get() {
                Some(h) => {
                    let r = h.report;
                    format!(
                        "step {} · train loss {} · test loss {} · train acc {} · test acc {} · weight norm {}",
                        r.step,
                        fmt_sig(r.train_loss),
                        fmt_sig(r.test_loss),
                        fmt_pct(r.train_acc),
                        fmt_pct(r.test_acc),
                        fmt_sig(r.weight_norm),
                    )
                }
                None => "Hover over a chart to read the values at a step.".to_string(),
            }}
        </p>
    }
}

fn export(ctx: LabCtx<GrokLab>) -> impl IntoView {
    let shell = ctx.shell;
    let busy = move || ctx.run.with(|r| r.phase == Phase::Starting);
    let name = move |what: &str, ext: &str| {
        let c = ctx.config();
        format!(
            "neurolab-grok-{}-p{}-{}-{what}.{ext}",
            c.model.name(),
            c.p,
            c.op.name()
        )
    };
    let download = move |file: String, mime: &str, bytes: &[u8]| {
        let result = browser::download(&file, mime, bytes);
        shell.say(match result {
            Ok(()) => format!("downloaded {file}"),
            Err(e) => e,
        });
    };
    let export_csv = move |_| {
        let csv = ctx.state.with_untracked(|s| {
            let all: Vec<StepReport> = s.runs.iter().flat_map(|r| r.reports.clone()).collect();
            curves_csv(&all)
        });
        download(name("curves", "csv"), "text/csv", csv.as_bytes());
    };
    let export_neurons = move |_| {
        let csv = ctx
            .state
            .with_untracked(|s| s.shown().map(neurolab_core::grok::report::neurons_csv));
        match csv {
            Some(csv) => download(name("neurons", "csv"), "text/csv", csv.as_bytes()),
            None => shell.say("no analysis yet: the neuron table comes with the first one"),
        }
    };
    view! {
        <div class="export" hidden=move || !shell.shown("export")()>
            {crate::page::weights_button(ctx, "Download weights (.safetensors)", move || !busy())}
            <button data-testid="export-csv" on:click=export_csv>
                "Download curves (CSV)"
            </button>
            <button
                data-testid="export-neurons"
                disabled=move || ctx.state.with(|s| s.shown().is_none())
                on:click=export_neurons
            >
                "Download neuron table (CSV)"
            </button>
        </div>
    }
}
