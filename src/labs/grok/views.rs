//! The grokking lab's panels: ablation while it trains, its three charts (loss, accuracy, weight
//! norm) with a hover readout, exports and the log step axis.

use super::GrokState;
use crate::browser;
use crate::format::{fmt_pct, fmt_sig, parse_neurons};
use crate::lab::LabCtx;
use crate::plot::curves::{self, Curves, Geometry, Series, YAxis};
use leptos::prelude::*;
use neurolab_base::Phase;
use neurolab_core::grok::report::curves_csv;
use neurolab_core::grok::{GrokControl, GrokLab, StepReport};
use plotters::style::RGBColor;

const TRAIN: RGBColor = RGBColor(37, 99, 235);
const TEST: RGBColor = RGBColor(220, 38, 38);
const NORM: RGBColor = RGBColor(124, 58, 237);

/// The grokking lab's charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    Loss,
    Accuracy,
    WeightNorm,
}

impl Chart {
    pub const ALL: [Chart; 3] = [Chart::Loss, Chart::Accuracy, Chart::WeightNorm];

    pub fn title(self) -> &'static str {
        match self {
            Chart::Loss => "loss (log scale)",
            Chart::Accuracy => "accuracy",
            Chart::WeightNorm => "weight norm",
        }
    }

    pub fn test_id(self) -> &'static str {
        match self {
            Chart::Loss => "chart-loss",
            Chart::Accuracy => "chart-acc",
            Chart::WeightNorm => "chart-norm",
        }
    }

    fn y(self) -> YAxis {
        match self {
            Chart::Loss => YAxis::Decades,
            Chart::Accuracy => YAxis::Fixed(0.0, 1.02),
            Chart::WeightNorm => YAxis::Padded,
        }
    }

    /// The chart's curves from the reports.
    pub fn curves(self, reports: &[StepReport]) -> Curves<'static> {
        let series = |name, color, value: fn(&StepReport) -> f32| Series {
            name,
            color,
            points: reports
                .iter()
                .map(|r| (f64::from(r.step), f64::from(value(r))))
                .collect(),
        };
        let series = match self {
            Chart::Loss => vec![
                series("train", TRAIN, |r| r.train_loss),
                series("test", TEST, |r| r.test_loss),
            ],
            Chart::Accuracy => vec![
                series("train", TRAIN, |r| r.train_acc),
                series("test", TEST, |r| r.test_acc),
            ],
            Chart::WeightNorm => vec![series("‖w‖", NORM, |r| r.weight_norm)],
        };
        Curves {
            title: self.title(),
            series,
            y: self.y(),
        }
    }
}

/// What the pointer is over: the nearest report and where each chart marks it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hover {
    report: StepReport,
    /// Marker position per chart, in percent of the canvas width.
    left_pct: [Option<f64>; 3],
}

pub fn panels(ctx: LabCtx<GrokLab>) -> impl IntoView {
    view! {
        {ablation(ctx)}
        {charts(ctx)}
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
    let canvases: [NodeRef<leptos::html::Canvas>; 3] =
        [NodeRef::new(), NodeRef::new(), NodeRef::new()];
    let geometry = StoredValue::new([None::<Geometry>; 3]);
    let hover = RwSignal::new(None::<Hover>);
    let link = ctx.shell.link;
    let config = ctx.config_signal();
    let draw = move || {
        let log_x = link.with_untracked(|l| l.view.log_x);
        let budget = config.with_untracked(|c| c.steps);
        let mut drawn = [None; 3];
        ctx.state.with_untracked(|s: &GrokState| {
            let last = s.latest().map_or(0, |r| r.step);
            let x = curves::x_range(budget, last, log_x);
            for (i, chart) in Chart::ALL.into_iter().enumerate() {
                let Some(canvas) = canvases[i].get_untracked() else {
                    continue;
                };
                match curves::draw(canvas, &chart.curves(&s.reports), x, log_x) {
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
                    let steps: Vec<f64> = s.reports.iter().map(|r| f64::from(r.step)).collect();
                    g.nearest(&steps, px).map(|idx| {
                        let report = s.reports[idx];
                        let left_pct = all
                            .map(|g| g.map(|g| 100.0 * g.px_at(f64::from(report.step)) / width));
                        Hover { report, left_pct }
                    })
                }));
            };
            view! {
                <div class="chart">
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
                </div>
            }
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
    let export_csv = move |_| {
        let c = ctx.config();
        let csv = ctx.state.with_untracked(|s| curves_csv(&s.reports));
        let name = format!(
            "neurolab-grok-{}-p{}-{}-curves.csv",
            c.model.name(),
            c.p,
            c.op.name()
        );
        let result = browser::download(&name, "text/csv", csv.as_bytes());
        shell.say(match result {
            Ok(()) => format!("downloaded {name}"),
            Err(e) => e,
        });
    };
    view! {
        <div class="export" hidden=move || !shell.shown("export")()>
            {crate::page::weights_button(ctx, "Download weights (.safetensors)", move || !busy())}
            <button data-testid="export-csv" on:click=export_csv>
                "Download curves (CSV)"
            </button>
        </div>
    }
}
