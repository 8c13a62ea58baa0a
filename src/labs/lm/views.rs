//! The language-model lab's panels: your own text (file or paste), the loss and recall curves
//! with the latest sample and the training speed, generation (the next-token distribution at
//! every token; plain and steered side by side), the neuron browser (a layer's list, a neuron's
//! shaded contexts, histogram and decoded tokens), activation patching (layer × position maps
//! per site), relation neurons (recall against k ablated) and the weights' export and import.
//! Thin components over [`LmState`]; the texts and the forms' parsing live there.

use super::about;
use super::state::{
    ablation_lines, dark_cell, default_prompt, detail_title, next_text, patch_summary, positions,
    rate_text, recovered_css, shade, shade_css, show_token, steer_text, text_config, text_notice,
    token_values_text, tokens_per_sec, GenForm, Generated, LmState, PatchForm, Patched, SteerForm,
    STEER_KINDS,
};
use crate::lab::LabCtx;
use crate::page::{panel, text_input};
use crate::plot::curves::{self, Curves, Series, YAxis};
use crate::plot::figure::{self, figure};
use crate::plot::{self, Line, COLORS};
use leptos::html::Canvas;
use leptos::prelude::*;
use neurolab_base::Phase;
use neurolab_core::lm::config::text_id;
use neurolab_core::lm::corpus::{self, TEXT_MAX_BYTES};
use neurolab_core::lm::{
    CorpusKind, Generation, LmControl, LmLab, LmSummary, NeuronDetail, RelationNeurons, Steer,
};
use neurolab_core::Registered as _;
use std::cell::RefCell;
use wasm_bindgen::{JsCast as _, JsValue};

/// Neuron list rows rendered at most (the others stay reachable through a steer's index).
const LIST_MAX: usize = 512;
/// The largest weights file the page reads.
const WEIGHTS_MAX_BYTES: usize = 256 << 20;

thread_local! {
    /// The user's last text, kept on the page (links carry only its fingerprint) so that a form
    /// edit, which rebuilds the config from its fields, does not lose it.
    static OWN_TEXT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The panels' own handles (all `Copy`): the tools' forms as typed, the steers, and the parts of
/// the state that redraw only when they change.
#[derive(Clone, Copy)]
struct Ui {
    ctx: LabCtx<LmLab>,
    gen: RwSignal<GenForm>,
    steer_form: RwSignal<SteerForm>,
    steers: RwSignal<Vec<Steer>>,
    patch: RwSignal<PatchForm>,
    mean_ablation: RwSignal<bool>,
    /// Relation neurons silenced at every position (else at the answer's).
    all_positions: RwSignal<bool>,
    /// The neuron browser's layer picker.
    layer: RwSignal<u32>,
    /// The generated token under the pointer (or focused): (steered, index).
    hover: RwSignal<Option<(bool, usize)>>,
    /// Why the user's text was refused (the config in force is unchanged).
    text_error: RwSignal<Option<String>>,
    paste: RwSignal<String>,
    summary: Memo<Option<LmSummary>>,
    generated: Memo<Option<Generated>>,
    detail: Memo<Option<NeuronDetail>>,
    patched: Memo<Option<Patched>>,
    relations: Memo<Option<RelationNeurons>>,
}

impl Ui {
    /// Whether the model exists (its tools answer).
    fn built(self) -> bool {
        self.summary.with(Option::is_some)
    }

    fn word_level(self) -> bool {
        self.summary
            .with(|s| s.as_ref().is_none_or(|s| s.word_level))
    }

    /// The built model's size, or a message that it is not built yet.
    fn size(self) -> Option<LmSummary> {
        let size = self.summary.get_untracked();
        if size.is_none() {
            self.ctx
                .shell
                .say("the model is not built yet: wait for it, or press Run");
        }
        size
    }
}

pub fn panels(ctx: LabCtx<LmLab>) -> impl IntoView {
    let state = ctx.state;
    let ui = Ui {
        ctx,
        gen: RwSignal::new(GenForm::default()),
        steer_form: RwSignal::new(SteerForm::default()),
        steers: RwSignal::new(Vec::new()),
        patch: RwSignal::new(PatchForm::default()),
        mean_ablation: RwSignal::new(false),
        all_positions: RwSignal::new(false),
        layer: RwSignal::new(0),
        hover: RwSignal::new(None),
        text_error: RwSignal::new(None),
        paste: RwSignal::new(String::new()),
        summary: Memo::new(move |_| state.with(|s| s.summary.clone())),
        generated: Memo::new(move |_| state.with(|s| s.generated.clone())),
        detail: Memo::new(move |_| state.with(|s| s.detail.clone())),
        patched: Memo::new(move |_| state.with(|s| s.patched.clone())),
        relations: Memo::new(move |_| state.with(|s| s.relations.clone())),
    };
    keep_own_text(ctx);
    follow_corpus(ui);
    let shell = ctx.shell;
    view! {
        {own_text(ui)}
        {panel(shell, "charts", charts(ui))}
        {panel(shell, "generate", generate_panel(ui))}
        {panel(shell, "neurons", neuron_browser(ui))}
        {panel(shell, "patching", patch_panel(ui))}
        {panel(shell, "relations", relations_panel(ui))}
        {weights(ui)}
    }
}

// ---- your own text ----

/// A config that trains on a text but lacks it (a form edit rebuilt it from its fields, or a
/// link named it) gets the text back when the page holds the one it names.
fn keep_own_text(ctx: LabCtx<LmLab>) {
    Effect::new(move |_| {
        let wanted = ctx.shell.link.with(|l| {
            let c = LmLab::config(&l.configs);
            (c.corpus == CorpusKind::Text && c.text.is_empty()).then(|| c.text_id.clone())
        });
        let Some(id) = wanted else { return };
        let held = OWN_TEXT.with(|t| {
            t.borrow()
                .as_ref()
                .filter(|text| id.is_empty() || text_id(text) == id)
                .cloned()
        });
        if let Some(text) = held {
            ctx.apply_config(ctx.config().with_text(text));
        }
    });
}

/// Put the user's text in force (a new session on it).
fn train_on(ui: Ui, text: String, from: &str) {
    let chars = text.chars().count();
    let config = text_config(&ui.ctx.config(), text.clone());
    OWN_TEXT.with(|t| *t.borrow_mut() = Some(text));
    ui.text_error.set(None);
    ui.ctx.apply_config(config);
    ui.ctx.shell.say(format!(
        "training on {from} ({chars} characters): press Run"
    ));
}

/// A file's name and size in bytes.
fn file_meta(file: &JsValue) -> (String, f64) {
    let get = |k: &str| js_sys::Reflect::get(file, &JsValue::from_str(k)).ok();
    let name = get("name").and_then(|n| n.as_string()).unwrap_or_default();
    let size = get("size").and_then(|s| s.as_f64()).unwrap_or(0.0);
    (name, size)
}

fn js_text(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// A file's bytes (`File.arrayBuffer()`).
async fn file_bytes(file: &JsValue) -> Result<Vec<u8>, String> {
    let unable = || "this browser cannot read files".to_string();
    let read: js_sys::Function = js_sys::Reflect::get(file, &JsValue::from_str("arrayBuffer"))
        .map_err(js_text)?
        .dyn_into()
        .map_err(|_| unable())?;
    let promise: js_sys::Promise = read
        .call0(file)
        .map_err(js_text)?
        .dyn_into()
        .map_err(|_| unable())?;
    let buffer = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(js_text)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The file an `<input type=file>` holds, the input cleared (the same file picked again is read
/// again).
fn picked(ev: &leptos::ev::Event) -> Option<JsValue> {
    let input: JsValue = ev.target()?.into();
    let file = crate::browser::first_file(&input);
    let _ = js_sys::Reflect::set(&input, &JsValue::from_str("value"), &JsValue::from_str(""));
    file
}

/// Read a picked .txt file, check it, train on it (or say why not).
fn read_text_file(ui: Ui, file: JsValue) {
    leptos::task::spawn_local(async move {
        let (name, size) = file_meta(&file);
        let text = if size > TEXT_MAX_BYTES as f64 {
            Err(corpus::TextError::TooLarge(size as usize).to_string())
        } else {
            file_bytes(&file)
                .await
                .and_then(|bytes| corpus::read_text(&bytes).map_err(|e| e.to_string()))
        };
        match text {
            Ok(text) => train_on(ui, text, &name),
            Err(e) => ui.text_error.set(Some(format!("{name}: {e}"))),
        }
    });
}

fn train_on_paste(ui: Ui) {
    let text = ui.paste.get_untracked();
    match corpus::check_text(&text) {
        Ok(()) => train_on(ui, text, "the pasted text"),
        Err(e) => ui.text_error.set(Some(format!("the pasted text: {e}"))),
    }
}

fn own_text(ui: Ui) -> impl IntoView {
    let shell = ui.ctx.shell;
    let notice = move || shell.link.with(|l| text_notice(LmLab::config(&l.configs)));
    let limit = format!(
        "plain UTF-8 text up to {} MB; the model learns it by characters",
        TEXT_MAX_BYTES / 1_000_000
    );
    view! {
        <div class="lm-own-text" data-testid="lm-own-text" hidden=move || !shell.shown("config")()>
            <fieldset class="plain" disabled=shell.locked()>
                <p class="banner notice" data-testid="lm-text-notice" role="status" hidden=move || notice().is_none()>
                    {notice}
                </p>
                <div class="interventions">
                    <label class="file-pick">
                        "Train on your own text (.txt)… "
                        <input
                            type="file"
                            id="lm-text-file"
                            data-testid="lm-text-file"
                            accept=".txt,text/plain"
                            aria-label="a text file to train on"
                            on:change=move |ev| {
                                if let Some(file) = picked(&ev) {
                                    read_text_file(ui, file);
                                }
                            }
                        />
                    </label>
                    <span class="muted" data-testid="lm-text-limit">{limit}</span>
                </div>
                <textarea
                    id="lm-text-paste"
                    data-testid="lm-text-paste"
                    class="lm-paste"
                    rows="3"
                    placeholder="…or paste text here"
                    aria-label="text to train on"
                    prop:value=move || ui.paste.get()
                    on:input=move |ev| ui.paste.set(event_target_value(&ev))
                ></textarea>
                <button
                    id="lm-text-train"
                    data-testid="lm-text-train"
                    disabled=move || ui.paste.with(|p| p.trim().is_empty())
                    on:click=move |_| train_on_paste(ui)
                >
                    "Train on this text"
                </button>
                <p class="config-error" data-testid="lm-text-error" role="alert" hidden=move || ui.text_error.with(Option::is_none)>
                    {move || ui.text_error.get()}
                </p>
            </fieldset>
        </div>
    }
}

/// A new session: the prompt box starts from its corpus's words, unless the user typed a prompt
/// of their own.
fn follow_corpus(ui: Ui) {
    let link = ui.ctx.shell.link;
    Effect::new(move |_| {
        if ui.summary.with(Option::is_none) {
            return;
        }
        let prompt = link.with_untracked(|l| default_prompt(LmLab::config(&l.configs)));
        ui.gen.update(|g| {
            if page_prompt(&g.prompt) {
                g.prompt = prompt;
            }
        });
    });
}

/// Whether a prompt is one the page put there: a shipped corpus's, or the start of the text.
fn page_prompt(prompt: &str) -> bool {
    prompt.trim().is_empty()
        || prompt == GenForm::default().prompt
        || prompt == "once upon a time"
        || OWN_TEXT.with(|t| {
            t.borrow()
                .as_ref()
                .is_some_and(|text| text.starts_with(prompt))
        })
}

// ---- charts ----

fn charts(ui: Ui) -> impl IntoView {
    let ctx = ui.ctx;
    let loss = NodeRef::<Canvas>::new();
    let recall = NodeRef::<Canvas>::new();
    let steps = Memo::new(move |_| ctx.shell.link.with(|l| LmLab::config(&l.configs).steps));
    let draw = move || {
        let budget = steps.get_untracked();
        let mut failures = Vec::new();
        ctx.state.with_untracked(|s: &LmState| {
            let last = s.latest().map_or(0, |r| r.step);
            let x = curves::x_range(budget, last, false);
            if let Some(canvas) = loss.get_untracked() {
                if let Err(e) = curves::draw(canvas, &loss_curves(s), x, false) {
                    failures.push(e);
                }
            }
            if let Some(canvas) = recall.get_untracked().filter(|_| s.has_relations()) {
                if let Err(e) = curves::draw(canvas, &recall_curves(s), x, false) {
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
    let no_recall = move || !ctx.state.with(LmState::has_relations);
    view! {
        <div class="charts">
            {figure(shell, "loss", &about::LOSS, "", || false, None, view! {
                <canvas node_ref=loss width="640" height="220" data-testid="chart-loss" aria-label="loss"></canvas>
            })}
            {figure(shell, "recall", &about::RECALL, "", no_recall, None, view! {
                <canvas node_ref=recall width="640" height="220" data-testid="chart-recall" aria-label="recall per relation"></canvas>
            })}
        </div>
        {sample(ui)}
    }
}

fn loss_curves(s: &LmState) -> Curves<'static> {
    let series = [
        ("train loss", COLORS[0], s.curve(|r| r.train_loss)),
        ("validation loss", COLORS[1], s.curve(|r| r.val_loss)),
    ]
    .into_iter()
    .filter(|(_, _, points)| !points.is_empty())
    .map(|(name, color, points)| Series {
        name: name.to_string(),
        color,
        points,
        light: false,
    })
    .collect();
    Curves {
        title: "loss (nats per token, log scale)",
        series,
        y: YAxis::Decades,
        bands: Vec::new(),
        mark: None,
    }
}

fn recall_curves(s: &LmState) -> Curves<'static> {
    let mut series = Vec::new();
    for (k, c) in s.recall_curves().into_iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        series.push(Series {
            name: format!("{} seen", c.relation),
            color,
            points: c.seen,
            light: false,
        });
        series.push(Series {
            name: format!("{} held-out", c.relation),
            color,
            points: c.held_out,
            light: true,
        });
    }
    Curves {
        title: "recall per relation: seen templates (solid), held-out (light)",
        series,
        y: YAxis::Fixed(0.0, 1.02),
        bands: Vec::new(),
        mark: None,
    }
}

/// The latest sample the model wrote, and the training speed.
fn sample(ui: Ui) -> impl IntoView {
    let ctx = ui.ctx;
    let text = move || {
        ctx.state.with(|s| {
            s.latest_sample().map(|(step, sample)| {
                let sep = if ui.word_level() { " " } else { "" };
                (
                    format!("step {step}: "),
                    sample.prompt.clone(),
                    format!("{sep}{}", sample.text),
                )
            })
        })
    };
    let rate = move || {
        let (batch, ctx_len) = ctx.shell.link.with(|l| {
            let c = LmLab::config(&l.configs);
            (c.batch, c.ctx)
        });
        let running = ctx.run.with(|r| r.phase == Phase::Running);
        running
            .then(|| rate_text(tokens_per_sec(ctx.run.with(|r| r.rate), batch, ctx_len)))
            .unwrap_or_default()
    };
    view! {
        <div class="lm-sample-box">
            <p class="muted" data-testid="lm-rate">{rate}</p>
            <p class="lm-sample" id="lm-sample" data-testid="lm-sample" aria-live="polite">
                {move || match text() {
                    Some((step, prompt, rest)) => view! {
                        <span class="muted">{step}</span>
                        <span class="lm-prompt-text">{prompt}</span>
                        <span>{rest}</span>
                    }
                    .into_any(),
                    None => view! {
                        <span class="muted">"The model's samples show here as it trains."</span>
                    }
                    .into_any(),
                }}
            </p>
            <details class="explain-inline">
                <summary class="muted">"what is this?"</summary>
                <p class="muted">{about::SAMPLE.what}</p>
            </details>
        </div>
    }
}

// ---- generate ----

fn send_generate(ui: Ui) {
    if ui.size().is_none() {
        return;
    }
    let steers = ui.steers.get_untracked();
    match ui.gen.with_untracked(|g| g.parse(steers)) {
        Ok(request) => {
            ui.ctx.shell.status.set(None);
            ui.hover.set(None);
            ui.ctx.control(LmControl::Generate { request });
        }
        Err(e) => ui.ctx.shell.say(e),
    }
}

fn add_steer(ui: Ui) {
    let Some(size) = ui.size() else { return };
    match ui.steer_form.with_untracked(|f| f.parse(&size)) {
        Ok(steer) => {
            ui.ctx.shell.status.set(None);
            ui.steers.update(|s| s.push(steer));
        }
        Err(e) => ui.ctx.shell.say(e),
    }
}

fn generate_panel(ui: Ui) -> impl IntoView {
    let gen = ui.gen;
    let field = move |id: &'static str,
                      label: &'static str,
                      get: fn(&GenForm) -> String,
                      set: fn(&mut GenForm, String)| {
        text_input(
            id,
            label,
            move || gen.with(get),
            move |v| gen.update(|g| set(g, v)),
        )
    };
    view! {
        <div class="lm-generate">
            <h3>"Generate"</h3>
            <div class="interventions">
                <label class="field inline lm-prompt-field">
                    <span>"prompt"</span>
                    <input
                        type="text"
                        id="lm-prompt"
                        data-testid="lm-prompt"
                        prop:value=move || gen.with(|g| g.prompt.clone())
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            gen.update(|g| g.prompt = v);
                        }
                        on:keydown=move |ev| {
                            if ev.key() == "Enter" {
                                send_generate(ui);
                            }
                        }
                    />
                </label>
                {field("lm-temperature", "temperature", |g| g.temperature.clone(), |g, v| g.temperature = v)}
                {field("lm-top-k", "top-k", |g| g.top_k.clone(), |g, v| g.top_k = v)}
                {field("lm-length", "length", |g| g.length.clone(), |g, v| g.length = v)}
                {field("lm-seed", "seed", |g| g.seed.clone(), |g, v| g.seed = v)}
                <button
                    class="primary"
                    id="lm-generate"
                    data-testid="lm-generate"
                    disabled=move || !ui.built()
                    on:click=move |_| send_generate(ui)
                >
                    "Generate"
                </button>
            </div>
            {steer_editor(ui)}
            {figure(ui.ctx.shell, "generate", &about::GENERATE, "plain", move || ui.generated.with(Option::is_none), None, generations(ui))}
        </div>
    }
}

fn steer_editor(ui: Ui) -> impl IntoView {
    let form = ui.steer_form;
    let field = move |id: &'static str,
                      label: &'static str,
                      get: fn(&SteerForm) -> String,
                      set: fn(&mut SteerForm, String)| {
        text_input(
            id,
            label,
            move || form.with(get),
            move |v| form.update(|f| set(f, v)),
        )
    };
    let list = move || {
        ui.steers
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                view! {
                    <li>
                        {steer_text(&s)}
                        " "
                        <button
                            class="icon"
                            data-testid=format!("lm-steer-remove-{i}")
                            title="remove this steer"
                            on:click=move |_| {
                                ui.steers.update(|v| {
                                    if i < v.len() {
                                        v.remove(i);
                                    }
                                })
                            }
                        >
                            "×"
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <div class="lm-steer">
            <div class="interventions">
                <span class="muted">"steer:"</span>
                <select
                    data-testid="lm-steer-kind"
                    aria-label="clamp a neuron, or add its output direction"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| f.kind = v);
                    }
                >
                    {STEER_KINDS
                        .iter()
                        .map(|&k| {
                            view! {
                                <option value=k prop:selected=move || form.with(|f| f.kind == k)>
                                    {k}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                {field("lm-steer-layer", "layer", |f| f.layer.clone(), |f, v| f.layer = v)}
                {field("lm-steer-neuron", "neuron", |f| f.neuron.clone(), |f, v| f.neuron = v)}
                {field("lm-steer-value", "value / scale", |f| f.value.clone(), |f, v| f.value = v)}
                <button
                    id="lm-steer-add"
                    data-testid="lm-steer-add"
                    title="clamp: hold the neuron at the value; add: add scale × its output direction"
                    disabled=move || !ui.built()
                    on:click=move |_| add_steer(ui)
                >
                    "Add steer"
                </button>
                <button
                    data-testid="lm-steer-clear"
                    hidden=move || ui.steers.with(Vec::is_empty)
                    on:click=move |_| ui.steers.set(Vec::new())
                >
                    "Clear steers"
                </button>
            </div>
            <ul class="lm-steers" data-testid="lm-steers" hidden=move || ui.steers.with(Vec::is_empty)>
                {list}
            </ul>
        </div>
    }
}

/// The plain generation, and the steered one beside it, with the distribution under the
/// token hovered.
fn generations(ui: Ui) -> impl IntoView {
    let next = move || {
        let (steered, i) = ui.hover.get()?;
        ui.generated.with(|g| {
            let g = g.as_ref()?;
            let gen = if steered {
                g.steered.as_ref()?
            } else {
                &g.plain
            };
            let token = gen.tokens.get(i)?;
            let next = gen.next.get(i)?;
            Some(format!(
                "after '{}'{}: {}",
                show_token(token),
                if steered { " (steered)" } else { "" },
                next_text(next)
            ))
        })
    };
    let has_steered = move || {
        ui.generated
            .with(|g| g.as_ref().is_some_and(|g| g.steered.is_some()))
    };
    view! {
        <div class="lm-generations" class:side-by-side=has_steered>
            <div>
                <h4 hidden=move || !has_steered()>"plain"</h4>
                <p class="lm-tokens" id="lm-gen-plain" data-testid="lm-gen-plain">
                    {move || ui.generated.with(|g| g.as_ref().map(|g| tokens_view(ui, &g.plain, false)))}
                </p>
            </div>
            <div hidden=move || !has_steered()>
                <h4>
                    "steered: "
                    {move || ui.generated.with(|g| {
                        g.as_ref()
                            .map(|g| g.request.steer.iter().map(steer_text).collect::<Vec<_>>().join(", "))
                    })}
                </h4>
                <p class="lm-tokens" id="lm-gen-steered" data-testid="lm-gen-steered">
                    {move || ui.generated.with(|g| {
                        g.as_ref().and_then(|g| g.steered.as_ref()).map(|s| tokens_view(ui, s, true))
                    })}
                </p>
            </div>
        </div>
        <p class="lm-next muted" data-testid="lm-next" aria-live="polite">
            {move || next().unwrap_or_else(|| "hover or focus a token to see the model's next-token distribution after it".into())}
        </p>
    }
}

/// A generation's tokens, each hoverable and focusable; the prompt's marked.
fn tokens_view(ui: Ui, g: &Generation, steered: bool) -> impl IntoView {
    let word_level = ui.word_level();
    let prompt_len = g.prompt_len as usize;
    g.tokens
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let title = g.next.get(i).map(|n| next_text(n)).unwrap_or_default();
            let gap = (word_level && i > 0).then_some(" ");
            view! {
                {gap}
                <span
                    class="lm-token"
                    class:prompt={i < prompt_len}
                    tabindex="0"
                    data-index=i
                    title=title
                    on:mouseenter=move |_| ui.hover.set(Some((steered, i)))
                    on:focus=move |_| ui.hover.set(Some((steered, i)))
                >
                    {show_token(token)}
                </span>
            }
        })
        .collect_view()
}

// ---- neurons ----

/// List a layer's neurons (the list follows from the worker).
fn list_layer(ui: Ui, layer: u32) {
    ui.layer.set(layer);
    ui.ctx.state.update(|s| s.layer = Some(layer));
    ui.ctx.control(LmControl::Neurons { layer });
}

/// Open a neuron in the browser (its detail follows), its layer listed.
fn open_neuron(ui: Ui, layer: u32, neuron: u32) {
    if ui.ctx.state.with_untracked(|s| s.layer) != Some(layer) {
        list_layer(ui, layer);
    }
    ui.ctx.state.update(|s| s.selected = Some((layer, neuron)));
    ui.ctx.control(LmControl::Neuron { layer, neuron });
}

fn neuron_browser(ui: Ui) -> impl IntoView {
    let state = ui.ctx.state;
    let layers = move || ui.summary.with(|s| s.as_ref().map_or(0, |s| s.layers));
    let list = Memo::new(move |_| {
        state.with(|s| {
            let rows: Vec<(u32, String)> = s
                .neurons
                .iter()
                .take(LIST_MAX)
                .map(|r| {
                    (
                        r.neuron,
                        format!(
                            "max {} · promotes '{}' ({})",
                            crate::format::fmt_sig(r.max_act),
                            show_token(&r.top_token),
                            crate::format::fmt_sig(r.top_logit)
                        ),
                    )
                })
                .collect();
            (rows, s.neurons_at, s.neurons.len())
        })
    });
    let selected = Memo::new(move |_| state.with(|s| s.selected));
    let heading = move || {
        list.with(|(_, at, total)| match at {
            Some((step, layer)) => {
                format!("layer {layer}: {total} neurons, most active first (step {step})")
            }
            None => "Pick a layer to list its neurons".into(),
        })
    };
    view! {
        <div class="sae-browser lm-browser">
            <div class="feature-list-box">
                <h3>"Neurons"</h3>
                <div class="decode">
                    <label class="field inline">
                        <span>"layer"</span>
                        <select
                            id="lm-layer"
                            data-testid="lm-layer"
                            aria-label="the layer whose MLP neurons are listed"
                            disabled=move || !ui.built()
                            on:change=move |ev| {
                                if let Ok(layer) = event_target_value(&ev).parse::<u32>() {
                                    list_layer(ui, layer);
                                }
                            }
                        >
                            {move || {
                                (0..layers())
                                    .map(|l| {
                                        view! {
                                            <option value=l prop:selected=move || ui.layer.get() == l>
                                                {l}
                                            </option>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </select>
                    </label>
                    <button
                        data-testid="lm-neurons"
                        disabled=move || !ui.built()
                        on:click=move |_| list_layer(ui, ui.layer.get_untracked())
                    >
                        "List neurons"
                    </button>
                </div>
                <p class="muted">{heading}</p>
                <div class="feature-list lm-neuron-list" id="lm-neuron-list" data-testid="lm-neuron-list" role="list">
                    {move || {
                        let layer = list.with(|(_, at, _)| at.map_or(0, |a| a.1));
                        list.with(|(rows, _, _)| {
                            rows.iter()
                                .map(|(n, text)| {
                                    let n = *n;
                                    let is_selected = move || selected.get() == Some((layer, n));
                                    view! {
                                        <button
                                            class="lm-neuron-row"
                                            class:selected=is_selected
                                            data-testid=format!("lm-neuron-{n}")
                                            aria-pressed=move || is_selected().to_string()
                                            on:click=move |_| open_neuron(ui, layer, n)
                                        >
                                            <span class="idx">{format!("#{n}")}</span>
                                            <span class="lbl">{text.clone()}</span>
                                        </button>
                                    }
                                })
                                .collect_view()
                        })
                    }}
                </div>
            </div>
            {neuron_detail(ui)}
        </div>
    }
}

/// Steer generation with the open neuron: held at its largest activation.
fn steer_with(ui: Ui) {
    let Some((layer, neuron, value)) = ui
        .detail
        .with_untracked(|d| d.as_ref().map(|d| (d.layer, d.neuron, d.max_act)))
    else {
        return;
    };
    let steer = Steer::Clamp {
        layer,
        neuron,
        value,
    };
    ui.steers.update(|s| s.push(steer));
    ui.steer_form.update(|f| {
        f.layer = layer.to_string();
        f.neuron = neuron.to_string();
    });
    ui.ctx.shell.say(format!(
        "added '{}' to the generate panel: press Generate",
        steer_text(&steer)
    ));
}

fn neuron_detail(ui: Ui) -> impl IntoView {
    let hist = NodeRef::<Canvas>::new();
    let detail = ui.detail;
    plot::redraw_on(move || detail.track(), move || draw_histogram(detail, hist));
    let contexts = move || {
        let word_level = ui.word_level();
        detail.with(|d| {
            d.as_ref().map(|d| {
                d.contexts
                    .iter()
                    .map(|c| context_view(c, d.max_act, word_level))
                    .collect_view()
            })
        })
    };
    let tokens = move |promoted: bool| {
        detail.with(|d| {
            d.as_ref()
                .map(|d| token_values_text(if promoted { &d.promoted } else { &d.suppressed }))
                .unwrap_or_default()
        })
    };
    view! {
        <div class="feature-detail" id="lm-neuron-detail" data-testid="lm-neuron-detail" hidden=move || detail.with(Option::is_none)>
            <h3 data-testid="lm-neuron-title">
                {move || detail.with(|d| d.as_ref().map(detail_title).unwrap_or_default())}
            </h3>
            <button data-testid="lm-steer-with" on:click=move |_| steer_with(ui)>
                "Steer with this neuron"
            </button>
            <div class="detail-grid">
                {figure(ui.ctx.shell, "contexts", &about::NEURONS, "plain", || false, None, view! {
                    <h4>"Top-activating contexts (shaded by activation)"</h4>
                    <ol class="lm-contexts" data-testid="lm-contexts">{contexts}</ol>
                })}
                {figure(ui.ctx.shell, "neuron-hist", &about::HISTOGRAM, "plain", || false, None, view! {
                    <canvas
                        node_ref=hist
                        width="420"
                        height="180"
                        class="lm-hist"
                        data-testid="lm-neuron-hist"
                        aria-label="activation histogram"
                    ></canvas>
                })}
            </div>
            <p class="logit-effect" data-testid="lm-decoded">
                <strong>"W_out·W_U: "</strong>
                "promotes "
                <span data-testid="lm-promoted">{move || tokens(true)}</span>
                " · suppresses "
                <span data-testid="lm-suppressed">{move || tokens(false)}</span>
            </p>
        </div>
    }
}

/// One context: every token shaded by the neuron's activation there, the peak outlined.
fn context_view(c: &neurolab_core::lm::Context, max: f32, word_level: bool) -> impl IntoView {
    let tokens = c
        .tokens
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let act = c.acts.get(i).copied().unwrap_or(0.0);
            let gap = (word_level && i > 0).then_some(" ");
            view! {
                {gap}
                <span
                    class="lm-token"
                    class:peak={i == c.at as usize}
                    style:background=shade_css(shade(act, max))
                    title=format!("{}: {}", show_token(token), crate::format::fmt_sig(act))
                >
                    {show_token(token)}
                </span>
            }
        })
        .collect_view();
    view! {
        <li>
            <span class="muted">{format!("{} · ", crate::format::fmt_sig(c.activation))}</span>
            {tokens}
        </li>
    }
}

fn draw_histogram(detail: Memo<Option<NeuronDetail>>, hist: NodeRef<Canvas>) {
    let result = detail.with_untracked(|d| -> Result<(), String> {
        let (Some(d), Some(canvas)) = (d, hist.get_untracked()) else {
            return Ok(());
        };
        if canvas.client_width() == 0 {
            return Ok(());
        }
        let h = &d.histogram;
        let counts: Vec<f64> = h.counts.iter().map(|&n| f64::from(n)).collect();
        plot::bars(
            canvas,
            "activations over the corpus sample",
            &counts,
            f64::from(h.lo),
            f64::from(h.hi),
        )
    });
    if let Err(e) = result {
        leptos::logging::warn!("{e}");
    }
}

// ---- patching ----

fn send_patch(ui: Ui) {
    if ui.size().is_none() {
        return;
    }
    match ui.patch.with_untracked(PatchForm::parse) {
        Ok(request) => {
            ui.ctx.shell.say("patching every layer × position…");
            ui.ctx.control(LmControl::Patch { request });
        }
        Err(e) => ui.ctx.shell.say(e),
    }
}

fn patch_panel(ui: Ui) -> impl IntoView {
    let form = ui.patch;
    let field = move |id: &'static str,
                      label: &'static str,
                      get: fn(&PatchForm) -> String,
                      set: fn(&mut PatchForm, String)| {
        text_input(
            id,
            label,
            move || form.with(get),
            move |v| form.update(|f| set(f, v)),
        )
    };
    let patched = ui.patched;
    let csv = Callback::new(move |()| {
        patched.with_untracked(|p| {
            let r = &p.as_ref()?.result;
            let blocks: Vec<String> = r
                .sites
                .iter()
                .map(|site| {
                    let rows: Vec<String> =
                        (0..site.layers).map(|l| format!("layer {l}")).collect();
                    let cols: Vec<String> = r.clean.clone();
                    figure::matrix_csv(
                        &format!("{} layer\\token", site.site),
                        &rows,
                        &cols,
                        &site.recovered,
                    )
                })
                .collect();
            Some(blocks.join("\n"))
        })
    });
    view! {
        <div class="lm-patching">
            <h3>"Activation patching"</h3>
            <div class="interventions lm-patch-form">
                {field("lm-patch-clean", "clean prompt", |f| f.clean.clone(), |f, v| f.clean = v)}
                {field("lm-patch-corrupt", "corrupted prompt", |f| f.corrupt.clone(), |f, v| f.corrupt = v)}
                {field("lm-patch-answer-clean", "clean answer (optional)", |f| f.answer_clean.clone(), |f, v| f.answer_clean = v)}
                {field("lm-patch-answer-corrupt", "corrupted answer (optional)", |f| f.answer_corrupt.clone(), |f, v| f.answer_corrupt = v)}
                <button
                    class="primary"
                    id="lm-patch"
                    data-testid="lm-patch"
                    disabled=move || !ui.built()
                    on:click=move |_| send_patch(ui)
                >
                    "Patch"
                </button>
            </div>
            {figure(ui.ctx.shell, "patching", &about::PATCHING, "plain", move || patched.with(Option::is_none), Some(csv), view! {
                <div id="lm-patch-map" data-testid="lm-patch-map">
                    {move || patched.with(|p| p.as_ref().map(|p| patch_maps(&p.result)))}
                </div>
            })}
        </div>
    }
}

/// Every site's layers × positions map, columns named by the clean prompt's tokens.
fn patch_maps(r: &neurolab_core::lm::PatchResult) -> impl IntoView {
    let maps = r
        .sites
        .iter()
        .map(|site| {
            let n = positions(&site.recovered, site.layers);
            let head = (0..n)
                .map(|p| {
                    let token = r.clean.get(p).map(|t| show_token(t)).unwrap_or_default();
                    view! { <th scope="col">{token}</th> }
                })
                .collect_view();
            let rows = (0..site.layers as usize)
                .map(|l| {
                    let cells = (0..n)
                        .map(|p| {
                            let v = site.recovered.get(l * n + p).copied().unwrap_or(f32::NAN);
                            let token = r.clean.get(p).map(|t| show_token(t)).unwrap_or_default();
                            view! {
                                <td
                                    class:dark={dark_cell(v)}
                                    style:background=recovered_css(v)
                                    title=format!("{} layer {l}, position {p} '{token}': {}", site.site, crate::format::fmt_sig(v))
                                >
                                    {if v.is_finite() { format!("{v:.2}") } else { "—".into() }}
                                </td>
                            }
                        })
                        .collect_view();
                    view! {
                        <tr>
                            <th scope="row">{format!("L{l}")}</th>
                            {cells}
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="lm-heat" data-site=site.site.clone()>
                    <caption>{site_caption(&site.site)}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"layer"</th>
                            {head}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            }
        })
        .collect_view();
    view! {
        <p class="muted" data-testid="lm-patch-summary">{patch_summary(r)}</p>
        <div class="lm-heat-row">{maps}</div>
    }
}

fn site_caption(site: &str) -> String {
    match site {
        "resid" => "residual stream entering each layer".into(),
        "attn" => "attention output of each layer".into(),
        "mlp" => "MLP output of each layer".into(),
        other => other.to_string(),
    }
}

// ---- relations ----

fn send_relations(ui: Ui) {
    if ui.size().is_none() {
        return;
    }
    ui.ctx
        .shell
        .say("ranking every neuron per relation and ablating the top k…");
    ui.ctx.control(LmControl::RelationNeurons {
        ks: Vec::new(),
        mean_ablation: ui.mean_ablation.get_untracked(),
        all_positions: ui.all_positions.get_untracked(),
    });
}

fn relations_panel(ui: Ui) -> impl IntoView {
    // Before the model is built, what the config trains on.
    let link = ui.ctx.shell.link;
    let facts = move || {
        ui.summary.with(|s| match s {
            Some(s) => !s.relations.is_empty(),
            None => link.with(|l| LmLab::config(&l.configs).corpus == CorpusKind::Facts),
        })
    };
    let relations = ui.relations;
    let about_line = move || {
        let step = ui.ctx.state.with(|s| s.relations_step);
        relations.with(|r| {
            r.as_ref().map(|r| {
                format!(
                    "{} ablation at {} positions of each relation's top k neurons (k = {}){}",
                    r.ablation,
                    r.positions,
                    r.ks.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    step.map(|s| format!(", ranked at step {s}"))
                        .unwrap_or_default()
                )
            })
        })
    };
    let count = move || relations.with(|r| r.as_ref().map_or(0, |r| r.by_relation.len()));
    view! {
        <div class="lm-relations">
            <h3>"Relation-specific neurons"</h3>
            <p class="muted" data-testid="lm-relations-needs-facts" hidden=facts>
                "Relation neurons need the facts corpus (corpus=facts): its statements say which relation each fact belongs to."
            </p>
            <div class="interventions" hidden=move || !facts()>
                <label class="field inline">
                    <input
                        type="checkbox"
                        data-testid="lm-mean-ablation"
                        prop:checked=move || ui.mean_ablation.get()
                        on:change=move |ev| ui.mean_ablation.set(event_target_checked(&ev))
                    />
                    <span>"mean ablation (else zero)"</span>
                </label>
                <label class="field inline">
                    <input
                        type="checkbox"
                        data-testid="lm-all-positions"
                        prop:checked=move || ui.all_positions.get()
                        on:change=move |ev| ui.all_positions.set(event_target_checked(&ev))
                    />
                    <span>"at every position (else at the answer's)"</span>
                </label>
                <button
                    class="primary"
                    id="lm-relations"
                    data-testid="lm-relations"
                    disabled=move || !ui.built()
                    on:click=move |_| send_relations(ui)
                >
                    "Find relation neurons"
                </button>
            </div>
            {figure(ui.ctx.shell, "relations", &about::RELATIONS, "plain", move || !facts() || relations.with(Option::is_none), None, view! {
                <p class="muted">{about_line}</p>
                <div class="lm-relation-charts" id="lm-relations-chart" data-testid="lm-relations-chart">
                    {move || (0..count()).map(|i| relation_chart(ui, i)).collect_view()}
                </div>
            })}
        </div>
    }
}

/// Relation `i`'s ablation: recall of every relation against k, and its top neurons.
fn relation_chart(ui: Ui, i: usize) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let relations = ui.relations;
    plot::redraw_on(
        move || relations.track(),
        move || draw_relation(relations, i, canvas),
    );
    let name = move || {
        relations.with(|r| {
            r.as_ref()
                .and_then(|r| r.by_relation.get(i))
                .map(|a| a.relation.clone())
                .unwrap_or_default()
        })
    };
    let top = move || {
        relations.with(|r| {
            r.as_ref()
                .and_then(|r| r.by_relation.get(i))
                .map(|a| {
                    a.top
                        .iter()
                        .take(16)
                        .map(|n| (n.layer, n.neuron, n.score))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    view! {
        <div class="lm-relation" data-relation=name>
            <canvas
                node_ref=canvas
                width="420"
                height="200"
                data-testid=move || format!("lm-relation-{}", name())
                aria-label="recall of every relation against the neurons ablated"
            ></canvas>
            <p class="lm-top-neurons">
                <span class="muted">{move || format!("{}'s top neurons: ", name())}</span>
                {move || {
                    top()
                        .into_iter()
                        .map(|(layer, neuron, score)| {
                            view! {
                                <button
                                    class="icon lm-top-neuron"
                                    title=format!("score {}: open it in the neuron browser", crate::format::fmt_sig(score))
                                    on:click=move |_| open_neuron(ui, layer, neuron)
                                >
                                    {format!("L{layer} N{neuron}")}
                                </button>
                            }
                        })
                        .collect_view()
                }}
            </p>
        </div>
    }
}

fn draw_relation(relations: Memo<Option<RelationNeurons>>, i: usize, canvas: NodeRef<Canvas>) {
    let result = relations.with_untracked(|r| -> Result<(), String> {
        let (Some(r), Some(canvas)) = (r, canvas.get_untracked()) else {
            return Ok(());
        };
        let Some(a) = r.by_relation.get(i) else {
            return Ok(());
        };
        let lines = ablation_lines(r, i);
        let series: Vec<Line> = lines
            .iter()
            .enumerate()
            .map(|(j, (label, points))| Line {
                label,
                points: points.clone(),
                color: COLORS[j % COLORS.len()],
                dashed: j != i,
            })
            .collect();
        let lo = r.ks.iter().copied().min().unwrap_or(0);
        let hi = r.ks.iter().copied().max().unwrap_or(1).max(lo + 1);
        plot::lines(
            canvas,
            &format!("recall with {}'s top k neurons ablated", a.relation),
            &series,
            (f64::from(lo), f64::from(hi)),
            Some((0.0, 1.02)),
        )
    });
    if let Err(e) = result {
        leptos::logging::warn!("{e}");
    }
}

// ---- weights ----

/// Read a picked .safetensors file and load it into the model.
fn import_weights(ui: Ui, file: JsValue) {
    use base64::Engine as _;
    leptos::task::spawn_local(async move {
        let (name, size) = file_meta(&file);
        if size > WEIGHTS_MAX_BYTES as f64 {
            ui.ctx.shell.say(format!(
                "{name} is {size} bytes, more than the {WEIGHTS_MAX_BYTES} the page reads"
            ));
            return;
        }
        match file_bytes(&file).await {
            Ok(bytes) => {
                let safetensors = base64::engine::general_purpose::STANDARD.encode(&bytes);
                ui.ctx.shell.say(format!("loading the weights in {name}…"));
                ui.ctx.control(LmControl::Import { safetensors });
            }
            Err(e) => ui.ctx.shell.say(format!("could not read {name}: {e}")),
        }
    });
}

fn weights(ui: Ui) -> impl IntoView {
    let ctx = ui.ctx;
    let shell = ctx.shell;
    let ready = move || ctx.run.with(|r| r.phase != Phase::Starting) && ui.built();
    let imported = move || {
        ctx.state
            .with(|s| s.imported)
            .map(|p| format!("loaded weights ({p} parameters)"))
    };
    view! {
        <div class="export" hidden=move || !shell.shown("export")()>
            {crate::page::weights_button(ctx, "Download the weights (.safetensors)", ready)}
            <label class="file-pick">
                "Load weights (.safetensors)… "
                <input
                    type="file"
                    id="lm-import"
                    data-testid="lm-import"
                    accept=".safetensors"
                    aria-label="weights this lab exported, for the same config"
                    disabled=move || !ready()
                    on:change=move |ev| {
                        if let Some(file) = picked(&ev) {
                            import_weights(ui, file);
                        }
                    }
                />
            </label>
            <span class="muted" data-testid="lm-imported">{imported}</span>
        </div>
    }
}
