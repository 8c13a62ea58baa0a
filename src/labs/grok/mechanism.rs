//! The mechanism views of the grokking lab, at the latest analysis or a scrubbed checkpoint: the
//! embedding spectrum with its key frequencies, the frequency × step heat-map, the neurons ×
//! frequency view, a phase wheel per key frequency, a neuron's frequency race, the progress
//! measures in numbers. The pictures are computed here from plain numbers (tested natively).

use super::about;
use super::state::GrokState;
use crate::format::{fmt_pct, fmt_sig};
use crate::lab::LabCtx;
use crate::plot::figure::{self, figure};
use crate::plot::{self, Line, COLORS};
use leptos::html::Canvas;
use leptos::prelude::*;
use neurolab_core::grok::{Analysis, GrokControl, GrokLab};

/// Most phase wheels drawn (the frequencies with the most neurons).
pub const MAX_WHEELS: usize = 6;

/// The frequency × step picture: one column per analysis of the first run, one row per
/// frequency (k = 1 on top), each column its spectrum's shares of the power. Row-major
/// `[K, columns]` and the column count.
pub fn frequency_heat(s: &GrokState) -> (Vec<f32>, usize) {
    let Some(run) = s.runs.first() else {
        return (Vec::new(), 0);
    };
    let columns: Vec<Vec<f32>> = run
        .analyses
        .iter()
        .map(|a| {
            let mut power = a.spectrum.power();
            if let Some(b) = &a.spectrum_b {
                power.iter_mut().zip(b.power()).for_each(|(x, y)| *x += y);
            }
            let total: f32 = power.iter().sum();
            power.iter().map(|v| v / total.max(1e-30)).collect()
        })
        .collect();
    let k = columns.first().map_or(0, Vec::len);
    let n = columns.len();
    let mut out = vec![0f32; k * n];
    for (c, col) in columns.iter().enumerate() {
        for (row, &v) in col.iter().enumerate().take(k) {
            out[row * n + c] = v;
        }
    }
    (out, n)
}

/// The neurons × frequency picture of an analysis: neurons sorted by dominant frequency (then
/// by share, strongest first), one row each, their power shares per frequency; with the neuron
/// each row shows.
pub fn neuron_heat(a: &Analysis) -> (Vec<f32>, Vec<u32>) {
    let n = a.neurons.len();
    let k = if n == 0 { 0 } else { a.neuron_powers.len() / n };
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by(|&x, &y| {
        let (nx, ny) = (&a.neurons[x as usize], &a.neurons[y as usize]);
        nx.freq.cmp(&ny.freq).then(ny.frac.total_cmp(&nx.frac))
    });
    let mut out = Vec::with_capacity(n * k);
    for &h in &order {
        let row = &a.neuron_powers[h as usize * k..(h as usize + 1) * k];
        out.extend(row.iter().map(|&v| f32::from(v) / 255.0));
    }
    (out, order)
}

/// The phase wheels of an analysis: for the frequencies with the most neurons (at most
/// [`MAX_WHEELS`]), each neuron of that frequency as `(phase, norm / largest norm)`.
pub fn wheels(a: &Analysis) -> Vec<(u32, Vec<(f64, f64)>)> {
    let largest = a
        .neurons
        .iter()
        .map(|n| n.norm)
        .fold(0f32, f32::max)
        .max(1e-30);
    let mut by_freq: Vec<(u32, Vec<(f64, f64)>)> = Vec::new();
    for n in &a.neurons {
        let point = (f64::from(n.phase), f64::from(n.norm / largest));
        match by_freq.iter_mut().find(|(k, _)| *k == n.freq) {
            Some((_, v)) => v.push(point),
            None => by_freq.push((n.freq, vec![point])),
        }
    }
    by_freq.sort_by(|x, y| y.1.len().cmp(&x.1.len()).then(x.0.cmp(&y.0)));
    by_freq.truncate(MAX_WHEELS);
    by_freq
}

/// The spectrum's numbers in words.
pub fn spectrum_summary(a: &Analysis) -> String {
    let keys = if a.key_freqs.is_empty() {
        "no key frequency stands out of the embedding's spectrum".to_string()
    } else {
        format!(
            "{} key frequencies (k = {}) carry {} of the power",
            a.key_freqs.len(),
            list(&a.key_freqs),
            fmt_pct(a.key_power_frac)
        )
    };
    let single = a.neurons.iter().filter(|n| n.frac >= 0.5).count();
    format!(
        "step {}: {keys} · Gini {} · {single} of {} neurons have over half their power at one frequency",
        a.step,
        fmt_sig(a.gini),
        a.neurons.len()
    )
}

/// The progress measures in words.
pub fn progress_summary(a: &Analysis) -> String {
    match (a.restricted_loss, a.excluded_loss) {
        (Some(r), Some(e)) => format!(
            "restricted loss {} (only the logits' key frequencies {}) · excluded loss {} (those removed, on the training pairs)",
            fmt_sig(r),
            list(&a.logit_freqs),
            fmt_sig(e)
        ),
        _ => "the progress measures need addition or subtraction with p ≤ 131".to_string(),
    }
}

fn list(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

pub fn views(ctx: LabCtx<GrokLab>) -> impl IntoView {
    let spectrum_a = NodeRef::<Canvas>::new();
    let spectrum_b = NodeRef::<Canvas>::new();
    let freq_heat = NodeRef::<Canvas>::new();
    let neuron_heat_ref = NodeRef::<Canvas>::new();
    let race_chart = NodeRef::<Canvas>::new();
    let wheel_refs: [NodeRef<Canvas>; MAX_WHEELS] = std::array::from_fn(|_| NodeRef::new());
    let rows = StoredValue::new(Vec::<u32>::new());
    let draw = move || {
        ctx.state.with_untracked(|s: &GrokState| {
            let result = (|| -> Result<(), String> {
                if let Some(a) = s.shown() {
                    let keys = |k: usize| a.key_freqs.contains(&(k as u32 + 1));
                    let hot: Vec<bool> = (0..a.spectrum.cos.len()).map(keys).collect();
                    let f = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
                    if let Some(c) = spectrum_a.get_untracked() {
                        let title = if a.spectrum_b.is_some() {
                            "embedding of a (w_in): norm per frequency k"
                        } else {
                            "embedding W_E: norm per frequency k"
                        };
                        plot::paired_bars(
                            c,
                            title,
                            &f(&a.spectrum.cos),
                            &f(&a.spectrum.sin),
                            &hot,
                            ("cos", "sin"),
                        )?;
                    }
                    if let (Some(c), Some(b)) = (spectrum_b.get_untracked(), &a.spectrum_b) {
                        plot::paired_bars(
                            c,
                            "embedding of b (w_in): norm per frequency k",
                            &f(&b.cos),
                            &f(&b.sin),
                            &hot,
                            ("cos", "sin"),
                        )?;
                    }
                    if let Some(c) = neuron_heat_ref.get_untracked() {
                        let (values, order) = neuron_heat(a);
                        let n = order.len() as u32;
                        if n > 0 {
                            let k = (values.len() / n as usize) as u32;
                            c.set_width(k.max(1));
                            c.set_height(n);
                            plot::put_pixels(
                                &c,
                                k.max(1),
                                n,
                                &plot::heat_pixels(&values, 1.0),
                                "neuron heat-map",
                            )?;
                            let alt =
                                format!("{n} neurons × {k} frequencies; {}", spectrum_summary(a));
                            figure::record(&c, "neurons by frequency", None, &alt);
                        }
                        rows.set_value(order);
                    }
                    for (i, (k, points)) in wheels(a).into_iter().enumerate() {
                        if let Some(c) = wheel_refs[i].get_untracked() {
                            let title = format!("k = {k} · {} neurons", points.len());
                            plot::wheel(c, &title, &points, COLORS[i % COLORS.len()])?;
                        }
                    }
                }
                if let Some(c) = freq_heat.get_untracked() {
                    let (values, n) = frequency_heat(s);
                    if n > 0 {
                        let k = (values.len() / n) as u32;
                        let max = values.iter().copied().fold(0f32, f32::max);
                        c.set_width(n as u32);
                        c.set_height(k.max(1));
                        plot::put_pixels(
                            &c,
                            n as u32,
                            k.max(1),
                            &plot::heat_pixels(&values, max),
                            "frequency heat-map",
                        )?;
                        let alt = format!("{k} frequencies × {n} analysed steps");
                        figure::record(&c, "key frequencies over training", None, &alt);
                    }
                }
                if let (Some(c), Some(race)) = (race_chart.get_untracked(), &s.race) {
                    let x: Vec<f64> = race.steps.iter().map(|&t| f64::from(t)).collect();
                    let labels: Vec<String> =
                        race.freqs.iter().map(|k| format!("k = {k}")).collect();
                    let lines: Vec<Line<'_>> = race
                        .powers
                        .iter()
                        .enumerate()
                        .map(|(i, p)| Line {
                            label: &labels[i],
                            points: x
                                .iter()
                                .copied()
                                .zip(p.iter().map(|&v| f64::from(v)))
                                .collect(),
                            color: COLORS[i % COLORS.len()],
                            dashed: false,
                        })
                        .collect();
                    let hi = x.last().copied().unwrap_or(1.0).max(1.0);
                    let title = format!("neuron {}: share of its power per frequency", race.neuron);
                    plot::lines(c, &title, &lines, (0.0, hi), Some((0.0, 1.02)))?;
                }
                Ok(())
            })();
            if let Err(e) = result {
                leptos::logging::warn!("{e}");
            }
        });
    };
    crate::plot::redraw_on(move || ctx.state.track(), draw);
    let neuron = RwSignal::new(String::new());
    let race = move |n: u32| ctx.control(GrokControl::Race { run: 0, neuron: n });
    let race_typed = move |_| {
        let text = neuron.get_untracked();
        match text.trim().parse::<u32>() {
            Ok(n) => race(n),
            Err(_) => ctx
                .shell
                .say(format!("the neuron must be a whole number, got '{text}'")),
        }
    };
    // A click on a row of the neurons × frequency view races that neuron.
    let pick_row = move |ev: leptos::ev::MouseEvent| {
        let Some(c) = neuron_heat_ref.get_untracked() else {
            return;
        };
        let order = rows.get_value();
        if order.is_empty() {
            return;
        }
        let frac = f64::from(ev.offset_y()) / f64::from(c.client_height().max(1));
        let row = ((frac * order.len() as f64) as usize).min(order.len() - 1);
        neuron.set(order[row].to_string());
        race(order[row]);
    };
    let has_b = move || {
        ctx.state
            .with(|s| s.shown().is_some_and(|a| a.spectrum_b.is_some()))
    };
    let shell = ctx.shell;
    // The heat-maps' pixels are painted: their data comes from the state when asked for.
    let freq_csv = Callback::new(move |()| {
        ctx.state.with_untracked(|s| {
            let (values, n) = frequency_heat(s);
            let run = s.runs.first()?;
            (n > 0).then(|| {
                let steps: Vec<String> = run.analyses.iter().map(|a| a.step.to_string()).collect();
                let ks: Vec<String> = (1..=values.len() / n).map(|k| k.to_string()).collect();
                figure::matrix_csv("k\\step", &ks, &steps, &values)
            })
        })
    });
    let neuron_csv = Callback::new(move |()| {
        ctx.state.with_untracked(|s| {
            let a = s.shown()?;
            let (values, order) = neuron_heat(a);
            (!order.is_empty()).then(|| {
                let names: Vec<String> = order.iter().map(|n| format!("neuron {n}")).collect();
                let ks: Vec<String> = (1..=values.len() / order.len())
                    .map(|k| format!("k={k}"))
                    .collect();
                figure::matrix_csv("neuron\\k", &names, &ks, &values)
            })
        })
    });
    let wheel_count = move || ctx.state.with(|s| s.shown().map_or(0, |a| wheels(a).len()));
    let wheels_view = wheel_refs
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            view! { <canvas node_ref=r class="wheel" hidden={move || i >= wheel_count()}></canvas> }
        })
        .collect_view();
    view! {
        <section class="mechanism" data-testid="mechanism" hidden=move || ctx.state.with(|s| s.shown().is_none())>
            <h3>"Mechanism"</h3>
            <p class="muted" data-testid="spectrum-summary">
                {move || ctx.state.with(|s| s.shown().map(spectrum_summary).unwrap_or_default())}
            </p>
            <p class="muted" data-testid="progress-summary">
                {move || ctx.state.with(|s| s.shown().map(progress_summary).unwrap_or_default())}
            </p>
            <div class="charts">
                {figure(shell, "spectrum", &about::SPECTRUM, "", || false, None, view! { <canvas node_ref=spectrum_a data-testid="spectrum"></canvas> })}
                {figure(shell, "spectrum-b", &about::SPECTRUM, "", move || !has_b(), None, view! { <canvas node_ref=spectrum_b data-testid="spectrum-b"></canvas> })}
            </div>
            <div class="heat-row">
                {figure(shell, "freq-heat", &about::FREQ_HEAT, "heat-figure", || false, Some(freq_csv), view! {
                    <canvas node_ref=freq_heat class="heat" data-testid="freq-heat" aria-label="key frequencies over training"></canvas>
                    <figcaption class="muted">
                        "Key frequencies over training: frequency k (1 at the top) × analysed step, share of the embedding's power"
                    </figcaption>
                })}
                {figure(shell, "neuron-heat", &about::NEURON_HEAT, "heat-figure", || false, Some(neuron_csv), view! {
                    <canvas node_ref=neuron_heat_ref class="heat pick" data-testid="neuron-heat" aria-label="neurons by frequency" on:click=pick_row></canvas>
                    <figcaption class="muted">
                        "Neurons (sorted by dominant frequency) × frequency k: each neuron's share of its power. Click a row (or type the neuron below) to race that neuron."
                    </figcaption>
                })}
            </div>
            <h4>"Phases of the neurons, per frequency (radius: the neuron's size)"</h4>
            {figure(shell, "wheels", &about::WHEELS, "wheels-figure", || false, None, view! { <div class="wheels" data-testid="phase-wheels">{wheels_view}</div> })}
            <div class="interventions">
                <span class="muted">"The frequency race inside one neuron:"</span>
                {crate::page::text_input("race-neuron", "neuron", move || neuron.get(), move |v| neuron.set(v))}
                <button data-testid="race" on:click=race_typed>"Race"</button>
            </div>
            {figure(shell, "race", &about::RACE, "", move || ctx.state.with(|s| s.race.is_none()), None, view! { <canvas node_ref=race_chart data-testid="race-chart"></canvas> })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurolab_core::grok::analysis::{NeuronFourier, Spectrum};

    fn neuron(freq: u32, frac: f32, phase: f32, norm: f32) -> NeuronFourier {
        NeuronFourier {
            freq,
            frac,
            phase,
            norm,
        }
    }

    #[test]
    fn pictures_sort_the_neurons_and_group_them_by_frequency() {
        let a = Analysis {
            step: 100,
            neurons: vec![
                neuron(2, 0.9, 0.1, 1.0),
                neuron(1, 0.5, 0.2, 2.0),
                neuron(2, 0.95, -1.0, 4.0),
            ],
            // Three neurons × two frequencies.
            neuron_powers: vec![25, 230, 128, 127, 12, 243],
            key_freqs: vec![2],
            key_power_frac: 0.8,
            logit_freqs: vec![2],
            restricted_loss: Some(0.01),
            excluded_loss: Some(4.0),
            ..Analysis::default()
        };
        let (values, order) = neuron_heat(&a);
        assert_eq!(order, [1, 2, 0]);
        assert!((values[2 * 2 + 1] - 230.0 / 255.0).abs() < 1e-6);
        let w = wheels(&a);
        assert_eq!(w[0].0, 2);
        assert_eq!(w[0].1, [(0.1f32 as f64, 0.25), (-1.0, 1.0)]);
        assert!(spectrum_summary(&a).contains("1 key frequencies (k = 2) carry 80.0%"));
        assert!(progress_summary(&a).contains("excluded loss 4.000"));
    }

    #[test]
    fn the_frequency_heat_map_has_a_column_per_analysis() {
        let mut s = GrokState::default();
        s.runs.push(Default::default());
        for (step, cos) in [(0, [1.0, 1.0]), (10, [0.0, 2.0])] {
            s.runs[0].analyses.push(Analysis {
                step,
                spectrum: Spectrum {
                    cos: cos.to_vec(),
                    sin: vec![0.0, 0.0],
                },
                ..Analysis::default()
            });
        }
        let (values, n) = frequency_heat(&s);
        assert_eq!(n, 2);
        // Row k=1: 0.5 then 0; row k=2: 0.5 then 1.
        assert_eq!(values, [0.5, 0.0, 0.5, 1.0]);
    }
}
