//! The Benchmark panel: times every lab's benchmark cases in this browser on the backend in force
//! (the worker's `Bench` command) and shows the rates as they come, to copy or download — users
//! can compare their machine with the figures `neurolab bench all` prints natively. The labs'
//! runs pause while it times; starting one stops it. Knows no lab (the worker names the cases).

use crate::browser;
use crate::context::Shell;
use leptos::prelude::*;
use neurolab_core::base::bench::{format_rate, BenchProgress};
use neurolab_core::protocol::Command;

/// Seconds each case is timed by default (after its warm-up).
const DEFAULT_SECONDS: f64 = 3.0;

#[component]
pub fn BenchPanel() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let seconds = RwSignal::new(DEFAULT_SECONDS);
    let running = move || {
        shell
            .bench
            .with(|b| b.as_ref().is_some_and(|p| !p.finished()))
    };
    let start = move |_| {
        shell.bench.set(None);
        shell.send(Command::Bench {
            seconds: seconds.get_untracked(),
        });
    };
    let text = move || shell.bench.with(|b| b.as_ref().map(BenchProgress::to_text));
    let copy = move |_| {
        let Some(text) = text() else { return };
        leptos::task::spawn_local(async move {
            shell.say(match browser::copy_text(&text).await {
                Ok(()) => "benchmark results copied".to_string(),
                Err(e) => format!("could not copy ({e}); select the results and copy them by hand"),
            });
        });
    };
    let download = move |_| {
        let json = shell
            .bench
            .with(|b| serde_json::to_string_pretty(b).unwrap_or_default());
        if let Err(e) =
            browser::download("neurolab-bench.json", "application/json", json.as_bytes())
        {
            shell.say(format!("could not download the results: {e}"));
        }
    };
    let status = move || {
        shell.bench.with(|b| match b {
            None => "Times each lab's standard workload here, on this backend; the open lab's run pauses meanwhile.".to_string(),
            Some(p) => match (&p.stopped, &p.current) {
                (Some(why), _) => format!("{why} ({} of {} cases timed)", p.done, p.of),
                (None, Some(case)) => format!("timing case {} of {}: {case}…", p.done + 1, p.of),
                (None, None) => format!("done: {} cases on {} · {}", p.done, p.backend, p.adapter),
            },
        })
    };
    let rows = move || {
        shell.bench.with(|b| {
            b.iter()
                .flat_map(|p| p.rows.iter())
                .map(|r| {
                    view! {
                        <tr data-testid="bench-row" data-lab=r.lab.clone() data-rate=r.rate.to_string()>
                            <td>{r.lab.clone()}</td>
                            <td>{r.case.clone()}</td>
                            <td class="num">{format_rate(r.rate)}</td>
                            <td>{format!("{} / s", r.unit)}</td>
                            <td class="num muted">{format!("{:.1} s", r.seconds)}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="bench panel" data-testid="bench" aria-label="benchmark">
            <div class="lesson-head">
                <strong>"Benchmark"</strong>
                <button class="close" aria-label="close the benchmark" data-testid="bench-close" on:click=move |_| shell.bench_open.set(false)>"×"</button>
            </div>
            <p class="muted" data-testid="bench-status" role="status">{status}</p>
            <div class="bench-controls">
                <label>
                    "seconds per case "
                    <input
                        type="number"
                        min="0.2"
                        max="60"
                        step="0.5"
                        data-testid="bench-seconds"
                        prop:value=move || seconds.get().to_string()
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                                if v.is_finite() {
                                    seconds.set(v.clamp(0.2, 60.0));
                                }
                            }
                        }
                    />
                </label>
                <button data-testid="bench-run" disabled=running on:click=start>"Run benchmark"</button>
                <button data-testid="bench-copy" disabled=move || text().is_none() on:click=copy>"Copy results"</button>
                <button data-testid="bench-download" disabled=move || text().is_none() on:click=download>"Download JSON"</button>
            </div>
            <table class="bench-table">
                <thead>
                    <tr><th>"lab"</th><th>"case"</th><th>"rate"</th><th>"unit"</th><th>"timed"</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
