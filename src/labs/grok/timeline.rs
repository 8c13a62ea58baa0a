//! The grokking lab's timeline: the runs (legend, steps to 99 % test accuracy, speed-ups), the
//! first run's phases, forks from a kept checkpoint and the one-click Grokfast comparison (both
//! go into the link, so it replays them), the checkpoint scrubber, and how long each preset
//! takes on this backend.

use super::views::{run_color, stage_color};
use crate::format::fmt_sig;
use crate::lab::LabCtx;
use leptos::prelude::*;
use neurolab_base::run::fmt_duration;
use neurolab_base::{LabConfig as _, Phase};
use neurolab_core::grok::config::MAX_RUNS;
use neurolab_core::grok::control::ForkSpec;
use neurolab_core::grok::{ForkChanges, GrokConfig, GrokControl, GrokLab};

/// Add a fork of the first run at `step` to the config in force: a live session takes it as a
/// control, and the link keeps it.
pub fn fork(ctx: LabCtx<GrokLab>, step: u32, changes: ForkChanges) {
    if let Err(e) = changes.check() {
        ctx.shell.say(e);
        return;
    }
    let mut config = ctx.config();
    if config.forks.len() + 1 >= MAX_RUNS {
        ctx.shell.say(format!(
            "at most {} forks: the first run and its forks make at most {MAX_RUNS} runs",
            MAX_RUNS - 1
        ));
        return;
    }
    let spec = ForkSpec { step, changes };
    if config.forks.contains(&spec) {
        ctx.shell
            .say(format!("that fork (step {step}) is already running"));
        return;
    }
    let at = config.forks.partition_point(|f| f.step <= step);
    config.forks.insert(at, spec);
    ctx.apply_config(config);
}

/// Seconds each preset takes on this backend: from the rate of the run in force (its steps/s
/// times its work per step gives this machine's throughput), or a rough default per backend
/// before anything has run.
pub fn preset_times(current: &GrokConfig, rate: f64, webgpu: bool) -> Vec<(&'static str, f64)> {
    // Work units per second before a measurement (headless Chromium's CPU backend on a 2-core
    // machine does about this on the small presets; a real GPU does far more).
    let default = if webgpu { 2e10 } else { 6e9 };
    let work = |c: &GrokConfig| c.estimate().unit_work * (1 + c.forks.len()) as f64;
    let throughput = if rate > 0.0 {
        rate * work(current)
    } else {
        default
    };
    GrokConfig::presets()
        .into_iter()
        .map(|p| {
            (
                p.label,
                f64::from(p.config.steps) * work(&p.config) / throughput,
            )
        })
        .collect()
}

pub fn runs_panel(ctx: LabCtx<GrokLab>) -> impl IntoView {
    let shell = ctx.shell;
    let ready = move || ctx.run.with(|r| r.phase != Phase::Starting);
    let legend = move || {
        ctx.state.with(|s| {
            let speedups = s.speedups();
            s.runs
                .iter()
                .enumerate()
                .map(|(i, run)| {
                    let color = run_color(i);
                    let grokked = match run.grokked_at() {
                        Some(step) => format!("99 % test accuracy at step {step}"),
                        None => "not at 99 % test accuracy yet".to_string(),
                    };
                    let speedup = speedups
                        .iter()
                        .find(|(r, _)| *r == i)
                        .map(|(_, x)| format!(" · {}× run 1's speed", fmt_sig(*x as f32)))
                        .unwrap_or_default();
                    view! {
                        <li data-testid="run-entry">
                            <span
                                class="swatch"
                                style:background=format!("rgb({},{},{})", color.0, color.1, color.2)
                            ></span>
                            <strong>{run.label.clone()}</strong>
                            " — "
                            {grokked}
                            {speedup}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let stages = move || {
        ctx.state.with(|s| {
            s.runs.first().map(|run| {
                run.stages()
                    .into_iter()
                    .map(|span| {
                        let color = stage_color(span.stage)
                            .map(|c| format!("rgba({},{},{},0.18)", c.0, c.1, c.2))
                            .unwrap_or_else(|| "transparent".into());
                        let range = match span.to {
                            Some(to) => format!("{}–{}", span.from, to),
                            None => format!("from {}", span.from),
                        };
                        view! {
                            <span class="stage" style:background=color>
                                {span.stage.name()}
                                " "
                                {range}
                            </span>
                        }
                    })
                    .collect_view()
            })
        })
    };
    // Grokfast on for a first run without it, and off for one with it; from step 0, same seed.
    let compare = move |_| {
        let on = !ctx.config().grokfast;
        fork(
            ctx,
            0,
            ForkChanges {
                grokfast: Some(on),
                ..ForkChanges::default()
            },
        );
    };
    let times = move || {
        let config = ctx.config_signal().get();
        // The last measured rate of the config in force (a new config resets it).
        let rate = ctx.run.with(|r| r.rate);
        let webgpu = shell
            .backend
            .with(|b| b.as_ref().is_some_and(|b| b.kind == "webgpu"));
        let list = preset_times(&config, rate, webgpu)
            .into_iter()
            .map(|(label, secs)| format!("{label} ≈ {}", fmt_duration(secs)))
            .collect::<Vec<_>>()
            .join(" · ");
        let basis = if rate > 0.0 {
            "measured on this run"
        } else {
            "a rough guess until a run is measured"
        };
        format!("Presets on this backend ({basis}): {list}")
    };
    view! {
        <div class="runs">
            <ul class="legend" data-testid="runs">{legend}</ul>
            <p class="stages" data-testid="stages">
                <span class="muted">"Phases of run 1: "</span>
                {stages}
            </p>
            <div class="interventions" hidden=move || !shell.shown("config")()>
                <button
                    data-testid="compare-grokfast"
                    disabled=move || !ready()
                    on:click=compare
                    title="a second run from step 0, same seed, with Grokfast toggled"
                >
                    {move || {
                        if ctx.config_signal().with(|c| c.grokfast) {
                            "Compare without Grokfast"
                        } else {
                            "Compare with Grokfast"
                        }
                    }}
                </button>
                <span class="muted" data-testid="fork-note" aria-live="polite">
                    {move || ctx.state.with(|s| s.fork_note.clone().unwrap_or_default())}
                </span>
            </div>
            <p class="muted" data-testid="preset-times">{times}</p>
        </div>
    }
}

/// The checkpoint scrubber (every view at a kept step) and the fork panel (a new run from the
/// step shown, with other hyper-parameters).
pub fn scrubber(ctx: LabCtx<GrokLab>) -> impl IntoView {
    let shell = ctx.shell;
    let steps = Memo::new(move |_| ctx.state.with(|s| s.checkpoints()));
    let shown = move || ctx.state.with(|s| s.snapshot.as_ref().map(|a| a.step));
    let index = move || {
        let all = steps.get();
        match shown() {
            Some(step) => all.iter().position(|&s| s == step).unwrap_or(0),
            None => all.len().saturating_sub(1),
        }
    };
    let scrub = move |ev: leptos::ev::Event| {
        let i: usize = event_target_value(&ev).parse().unwrap_or(0);
        let all = steps.get_untracked();
        if i + 1 >= all.len() {
            ctx.state.update(|s| s.snapshot = None);
        } else if let Some(&step) = all.get(i) {
            ctx.control(GrokControl::Checkpoint { run: 0, step });
        }
    };
    let here = move || shown().or_else(|| steps.with(|s| s.last().copied()));
    let summary = move || {
        ctx.state.with(|s| {
            let all = s.checkpoints();
            let bytes = s
                .runs
                .first()
                .and_then(|r| r.latest_analysis())
                .map_or(0, |a| a.checkpoint_bytes);
            let at = match s.snapshot.as_ref() {
                Some(a) => format!("showing step {} (a checkpoint)", a.step),
                None => "showing the latest step (live)".to_string(),
            };
            format!(
                "{at} · {} checkpoints kept ({:.1} MB; older ones are thinned when the cap fills)",
                all.len(),
                bytes as f64 / 1e6
            )
        })
    };
    let wd = RwSignal::new(String::new());
    let lr = RwSignal::new(String::new());
    let gf = RwSignal::new("same".to_string());
    let do_fork = move |_| {
        let Some(step) = here() else {
            shell.say(
                "no checkpoint yet: forks start from a kept step (every 'analyse every' steps)",
            );
            return;
        };
        let number = |text: String, what: &str| -> Result<Option<f64>, String> {
            let t = text.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<f64>()
                .map(Some)
                .map_err(|_| format!("the fork's {what} must be a number, got '{t}'"))
        };
        let changes = (|| {
            Ok::<_, String>(ForkChanges {
                weight_decay: number(wd.get_untracked(), "weight decay")?,
                lr: number(lr.get_untracked(), "learning rate")?,
                grokfast: match gf.get_untracked().as_str() {
                    "on" => Some(true),
                    "off" => Some(false),
                    _ => None,
                },
                ..ForkChanges::default()
            })
        })();
        match changes {
            Ok(changes) => fork(ctx, step, changes),
            Err(e) => shell.say(e),
        }
    };
    view! {
        <div class="timeline">
            <label class="scrub">
                <span>"Timeline"</span>
                <input
                    type="range"
                    data-testid="scrub"
                    min="0"
                    max=move || steps.get().len().saturating_sub(1).to_string()
                    step="1"
                    prop:value=move || index().to_string()
                    disabled=move || steps.with(|s| s.len() < 2)
                    on:change=scrub
                />
            </label>
            <button
                data-testid="live"
                disabled=move || shown().is_none()
                on:click=move |_| ctx.state.update(|s| s.snapshot = None)
            >
                "Live"
            </button>
            <span class="muted" data-testid="scrub-step">{summary}</span>
            <div class="interventions fork" hidden=move || !shell.shown("config")()>
                <span class="muted">
                    {move || match here() {
                        Some(step) => format!("Fork run 1 at step {step}:"),
                        None => "Fork run 1 (after its first checkpoint):".to_string(),
                    }}
                </span>
                {crate::page::text_input("fork-wd", "weight decay", move || wd.get(), move |v| wd.set(v))}
                {crate::page::text_input("fork-lr", "lr", move || lr.get(), move |v| lr.set(v))}
                <label class="field inline">
                    <span>"Grokfast"</span>
                    <select
                        data-testid="fork-gf"
                        on:change=move |ev| gf.set(event_target_value(&ev))
                        prop:value=move || gf.get()
                    >
                        <option value="same">"as run 1"</option>
                        <option value="on">"on"</option>
                        <option value="off">"off"</option>
                    </select>
                </label>
                <button data-testid="fork" disabled=move || here().is_none() on:click=do_fork>
                    "Fork from here"
                </button>
            </div>
        </div>
    }
}
