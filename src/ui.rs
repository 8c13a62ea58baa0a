//! The page shell (leptos, client-side): header with the lab picker and backend, banners, the
//! share link, and the grokking lab's page. The spiking lab's page is [`crate::spike_ui`].
//! Thin components over plain state: the link ([`LabLink`]), the forms, the runs ([`LabState`],
//! [`crate::spike_lab::SpikeLabState`]). Compute happens in the worker; this module only sends
//! [`Command`]s and folds [`Event`]s. It must not use burn.

use crate::bridge::{WorkerLink, WORKER_URL};
use crate::browser;
use crate::chart::{self, ChartKind, Geometry};
use crate::form::{flag, Field, FormState, Input};
use crate::lab::{fmt_pct, fmt_sig, metric_items, LabState, Phase};
use crate::sae_ui::{SaeCtx, SaeLab};
use crate::spike_ui::{SpikeCtx, SpikeLab};
use base64::Engine as _;
use leptos::prelude::*;
use neurolab_core::config::{BackendChoice, Preset};
use neurolab_core::link::{LabKind, LabLink, LinkError};
use neurolab_core::protocol::{Command, Event};
use neurolab_core::report::{curves_csv, StepReport};

/// Controls an embedded page keeps: the charts and the run buttons.
const EMBED_HIDES: [&str; 6] = [
    "config", "backend", "share", "export", "progress", "metrics",
];

/// The link a page opens with: the fragment's, or the defaults and the reason when it is bad.
pub fn initial_link(fragment: &str) -> (LabLink, Option<String>) {
    match LabLink::decode(fragment) {
        Ok(link) => (link, None),
        Err(LinkError::Empty) => (LabLink::default(), None),
        Err(e) => (LabLink::default(), Some(e.to_string())),
    }
}

/// Whether a control is visible under these view options.
pub fn shown(link: &LabLink, control: &str) -> bool {
    let hidden = link.view.hide.iter().any(|h| h == control);
    let embedded_away = link.view.embed && EMBED_HIDES.contains(&control);
    !(hidden || embedded_away)
}

/// The same experiment as a full page (for the embed's "open in neurolab").
pub fn full_page_link(link: &LabLink) -> LabLink {
    let mut full = link.clone();
    full.view.embed = false;
    full.view.hide.clear();
    full
}

/// What the pointer is over: the nearest report and where each chart marks it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hover {
    report: StepReport,
    /// Marker position per chart, in percent of the canvas width.
    left_pct: [Option<f64>; 3],
}

/// The page's state, shared by its components (all handles are `Copy`).
#[derive(Clone, Copy)]
pub struct Ctx {
    pub link: RwSignal<LabLink>,
    link_error: RwSignal<Option<String>>,
    form: RwSignal<FormState>,
    form_error: RwSignal<Option<String>>,
    lab: RwSignal<LabState>,
    hover: RwSignal<Option<Hover>>,
    pub status: RwSignal<Option<String>>,
    geometry: StoredValue<[Option<Geometry>; 3]>,
    worker: StoredValue<Option<WorkerLink>, LocalStorage>,
    /// The spiking lab's page state.
    pub spike: SpikeCtx,
    /// The SAE lab's page state.
    pub sae: SaeCtx,
    /// Labs whose session the worker has been asked to build.
    configured: RwSignal<Vec<LabKind>>,
}

impl Ctx {
    pub fn send(self, command: Command) {
        self.worker.with_value(|w| {
            if let Some(w) = w {
                w.send(command)
            }
        });
    }

    fn on_event(self, event: Event) {
        if let Event::Weights { file_name, base64 } = &event {
            let result = base64::engine::general_purpose::STANDARD
                .decode(base64)
                .map_err(|e| format!("the weights arrived damaged: {e}"))
                .and_then(|bytes| browser::download(file_name, "application/octet-stream", &bytes));
            self.status.set(Some(match result {
                Ok(()) => format!("downloaded {file_name}"),
                Err(e) => e,
            }));
            return;
        }
        if matches!(event, Event::Configured { .. }) {
            self.hover.set(None);
        }
        let spike_event = matches!(
            event,
            Event::SpikeConfigured { .. }
                | Event::SpikeReport { .. }
                | Event::SpikeProgress { .. }
                | Event::SpikeStopped { .. }
        );
        let lab = self.link.with_untracked(|l| l.lab);
        // The SAE lab's events (and errors while it is shown) go to its state.
        let sae_event = matches!(
            event,
            Event::SaePreparing { .. }
                | Event::SaeConfigured { .. }
                | Event::SaeReport { .. }
                | Event::SaeProgress { .. }
                | Event::SaeStopped { .. }
                | Event::SaeFeatureList { .. }
                | Event::SaeFeatureDetail { .. }
                | Event::SaeClamped { .. }
        );
        if sae_event || (lab == LabKind::Sae && matches!(event, Event::Error { .. })) {
            if let Event::Error { message } = &event {
                self.status.set(Some(message.clone()));
            }
            self.sae.state.update(|s| s.apply(&event));
            return;
        }
        if spike_event || (lab == LabKind::Spike && matches!(event, Event::Error { .. })) {
            if let Event::Error { message } = &event {
                self.status.set(Some(message.clone()));
            }
            self.spike.state.update(|s| s.apply(&event));
            // The backend badge and load errors stay with the shell's state.
            if !spike_event && lab != LabKind::Spike {
                self.lab.update(|l| l.apply(&event));
            }
            return;
        }
        self.lab.update(|lab| lab.apply(&event));
    }

    /// Show another lab: the worker addresses it, building its session the first time.
    pub fn switch_lab(self, lab: LabKind) {
        self.link.update(|l| l.lab = lab);
        self.status.set(None);
        self.send(Command::Lab { lab });
        if !self.configured.with_untracked(|c| c.contains(&lab)) {
            self.configure_lab(lab);
        }
    }

    fn configure_lab(self, lab: LabKind) {
        self.configured.update(|c| {
            if !c.contains(&lab) {
                c.push(lab)
            }
        });
        match lab {
            LabKind::Grok => {
                let config = self.link.with_untracked(|l| l.config.clone());
                self.restart(Command::Configure { config });
            }
            LabKind::Spike => {
                let config = self.link.with_untracked(|l| l.spike.clone());
                crate::spike_ui::restart(self, Command::SpikeConfigure { config });
            }
            LabKind::Sae => {
                let config = self.link.with_untracked(|l| l.sae.clone());
                crate::sae_ui::restart(self, Command::SaeConfigure { config });
            }
        }
    }

    /// A new session is coming (config, reset or backend change).
    fn restart(self, command: Command) {
        let budget = self.link.with_untracked(|l| l.config.steps);
        self.hover.set(None);
        self.lab.update(|lab| lab.expect_session(budget));
        self.send(command);
    }

    /// Apply the form when it parses and validates; otherwise show why and keep the text.
    fn apply_form(self) {
        match self.form.with_untracked(FormState::to_config) {
            Ok(config) => {
                self.form_error.set(None);
                if self.link.with_untracked(|l| l.config != config) {
                    self.link.update(|l| l.config = config.clone());
                    self.restart(Command::Configure { config });
                }
            }
            Err(e) => self.form_error.set(Some(e.to_string())),
        }
    }

    fn edit(self, field: Field, value: String) {
        self.form.update(|f| f.set(field, value));
        self.apply_form();
    }

    pub fn shown(self, control: &'static str) -> impl Fn() -> bool + Copy {
        move || self.link.with(|l| shown(l, control))
    }
}

#[component]
pub fn App() -> impl IntoView {
    let (link, link_error) = initial_link(&browser::fragment());
    let ctx = Ctx {
        form: RwSignal::new(FormState::from_config(&link.config)),
        lab: RwSignal::new(LabState::new(link.config.steps)),
        link: RwSignal::new(link.clone()),
        link_error: RwSignal::new(link_error),
        form_error: RwSignal::new(None),
        hover: RwSignal::new(None),
        status: RwSignal::new(None),
        geometry: StoredValue::new([None; 3]),
        worker: StoredValue::new_local(None),
        spike: SpikeCtx::new(&link.spike),
        sae: SaeCtx::new(&link.sae),
        configured: RwSignal::new(Vec::new()),
    };
    match WorkerLink::start(WORKER_URL, move |event| ctx.on_event(event)) {
        Ok(worker) => ctx.worker.set_value(Some(worker)),
        Err(message) => ctx.lab.update(|lab| lab.apply(&Event::Error { message })),
    }
    ctx.send(Command::Init {
        backend: link.backend,
    });
    ctx.send(Command::Lab { lab: link.lab });
    ctx.configure_lab(link.lab);

    // The address always carries the current experiment.
    Effect::new(move |_| {
        let fragment = ctx.link.with(LabLink::encode);
        if let Err(e) = browser::replace_fragment(&fragment) {
            leptos::logging::warn!("could not update the address: {e}");
        }
    });

    let embed = move || ctx.link.with(|l| l.view.embed);
    let lab = move || ctx.link.with(|l| l.lab);
    view! {
        <div class="app" class:embed=embed>
            <Show when=move || !embed()>
                <Header ctx=ctx />
            </Show>
            <Banners ctx=ctx />
            <main class="layout" data-lab=move || lab().name()>
                {move || match lab() {
                    LabKind::Grok => view! { <GrokLab ctx=ctx /> }.into_any(),
                    LabKind::Spike => view! { <SpikeLab ctx=ctx /> }.into_any(),
                    LabKind::Sae => view! { <SaeLab ctx=ctx /> }.into_any(),
                }}
            </main>
        </div>
    }
}

#[component]
fn GrokLab(ctx: Ctx) -> impl IntoView {
    view! {
        <aside class="panel config" hidden=move || !ctx.shown("config")()>
            <ConfigForm ctx=ctx />
        </aside>
        <section class="panel run">
            <Controls ctx=ctx />
            <Progress ctx=ctx />
            <Metrics ctx=ctx />
            <Ablation ctx=ctx />
            <Charts ctx=ctx />
            <Export ctx=ctx />
            <ShareBlock ctx=ctx />
        </section>
    }
}

/// Ablate hidden neurons, or every neuron of one Fourier frequency, while it trains; the
/// next report shows the effect on the curves.
#[component]
fn Ablation(ctx: Ctx) -> impl IntoView {
    let neurons = RwSignal::new(String::new());
    let frequency = RwSignal::new(String::new());
    let ready = move || ctx.lab.with(|lab| lab.phase != Phase::Starting);
    let ablate = move |_| match crate::lab::parse_neurons(&neurons.get_untracked()) {
        Ok(list) if list.is_empty() => ctx
            .status
            .set(Some("type the neurons to ablate, e.g. 0-49, 77".into())),
        Ok(list) => ctx.send(Command::Ablate { neurons: list }),
        Err(e) => ctx.status.set(Some(e)),
    };
    let ablate_frequency = move |_| {
        let text = frequency.get_untracked();
        let max = ctx.link.with_untracked(|l| (l.config.p - 1) / 2);
        match text.trim().parse::<u32>() {
            Ok(k) => ctx.send(Command::AblateFrequency { k }),
            Err(_) => ctx.status.set(Some(format!(
                "the frequency must be a whole number from 1 to {max}, got '{text}'"
            ))),
        }
    };
    view! {
        <div class="interventions" hidden=move || !ctx.shown("config")()>
            <span class="muted">"Ablate while it trains:"</span>
            <label class="field inline">
                <span>"neurons"</span>
                <input
                    type="text"
                    data-testid="ablate-neurons"
                    placeholder="0-49, 77"
                    prop:value=move || neurons.get()
                    on:change=move |ev| neurons.set(event_target_value(&ev))
                />
            </label>
            <button data-testid="ablate" disabled=move || !ready() on:click=ablate>"Ablate"</button>
            <label class="field inline">
                <span>"frequency k"</span>
                <input
                    type="text"
                    data-testid="ablate-frequency"
                    prop:value=move || frequency.get()
                    on:change=move |ev| frequency.set(event_target_value(&ev))
                />
            </label>
            <button data-testid="ablate-k" disabled=move || !ready() on:click=ablate_frequency>
                "Ablate frequency"
            </button>
            <button
                data-testid="restore"
                disabled=move || ctx.lab.with(|lab| lab.ablated.is_empty())
                on:click=move |_| ctx.send(Command::Ablate { neurons: Vec::new() })
            >
                "Restore"
            </button>
            <span class="muted" data-testid="ablation">
                {move || ctx.lab.with(|lab| lab.ablation_note.clone().unwrap_or_default())}
            </span>
        </div>
    }
}

/// The share link, and in an embed the way out to the full page.
#[component]
pub fn ShareBlock(ctx: Ctx) -> impl IntoView {
    let embed = move || ctx.link.with(|l| l.view.embed);
    view! {
        <Share ctx=ctx />
        <Show when=embed>
            <a
                class="open-full"
                data-testid="open-full"
                target="_blank"
                rel="noopener"
                href=move || {
                    browser::page_url(&ctx.link.with(|l| full_page_link(l).encode()))
                }
            >
                "open in neurolab ↗"
            </a>
        </Show>
    }
}

#[component]
fn Header(ctx: Ctx) -> impl IntoView {
    let badge = move || {
        ctx.lab.with(|lab| match &lab.backend {
            Some(info) => format!("{} · {}", info.kind, info.adapter),
            None => "backend: starting…".to_string(),
        })
    };
    let badge_kind = move || {
        ctx.lab.with(|lab| {
            format!(
                "badge {}",
                lab.backend.as_ref().map_or("pending", |b| b.kind.as_str())
            )
        })
    };
    let on_backend = move |ev: leptos::ev::Event| {
        let Some(choice) = BackendChoice::parse(&event_target_value(&ev)) else {
            return;
        };
        ctx.link.update(|l| l.backend = choice);
        ctx.restart(Command::Init { backend: choice });
    };
    let backend_value = move || ctx.link.with(|l| l.backend.name());
    view! {
        <header class="top">
            <h1>"neurolab"</h1>
            <label class="lab-picker">
                <span class="sr">"lab"</span>
                <select
                    data-testid="lab-picker"
                    title="lab"
                    on:change=move |ev| {
                        if let Some(lab) = LabKind::parse(&event_target_value(&ev)) {
                            ctx.switch_lab(lab);
                        }
                    }
                >
                    {LabKind::ALL
                        .into_iter()
                        .map(|lab| {
                            view! {
                                <option
                                    value=lab.name()
                                    selected=ctx.link.with_untracked(|l| l.lab == lab)
                                    prop:selected=move || ctx.link.with(|l| l.lab == lab)
                                >
                                    {lab.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <div class="backend" hidden=move || !ctx.shown("backend")()>
                <span class=badge_kind data-testid="backend">{badge}</span>
                <label>
                    "backend "
                    <select data-testid="backend-choice" on:change=on_backend>
                        {[BackendChoice::Auto, BackendChoice::Webgpu, BackendChoice::Cpu]
                            .into_iter()
                            .map(|b| {
                                view! {
                                    <option
                                        value=b.name()
                                        selected=ctx.link.with_untracked(|l| l.backend == b)
                                        prop:selected=move || backend_value() == b.name()
                                    >
                                        {b.name()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
            </div>
        </header>
    }
}

#[component]
fn Banners(ctx: Ctx) -> impl IntoView {
    let fallback = move || {
        ctx.lab
            .with(|lab| lab.backend.as_ref().and_then(|b| b.fallback_reason.clone()))
    };
    view! {
        {move || {
            ctx.link_error
                .get()
                .map(|message| {
                    view! {
                        <div class="banner error" data-testid="link-error" role="alert">
                            <strong>"This link could not be opened: "</strong>
                            {message}
                            " — showing the default experiment instead."
                            <button class="close" on:click=move |_| ctx.link_error.set(None)>
                                "×"
                            </button>
                        </div>
                    }
                })
        }}
        {move || {
            (ctx.shown("backend")())
                .then(fallback)
                .flatten()
                .map(|reason| {
                    view! {
                        <div class="banner notice" data-testid="backend-notice">
                            "WebGPU is not available, so training runs on the CPU (slower). "
                            <span class="reason">{reason}</span>
                        </div>
                    }
                })
        }}
        {move || {
            ctx.lab
                .with(|lab| lab.error.clone())
                .map(|message| {
                    view! {
                        <div class="banner error" data-testid="worker-error" role="alert">
                            {message}
                        </div>
                    }
                })
        }}
    }
}

#[component]
fn ConfigForm(ctx: Ctx) -> impl IntoView {
    let preset_value = move || {
        ctx.link.with(|l| {
            Preset::ALL
                .iter()
                .position(|p| p.config() == l.config)
                .map_or(String::new(), |i| i.to_string())
        })
    };
    let on_preset = move |ev: leptos::ev::Event| {
        let Some(preset) = event_target_value(&ev)
            .parse::<usize>()
            .ok()
            .and_then(|i| Preset::ALL.get(i))
        else {
            return;
        };
        ctx.form.set(FormState::from_config(&preset.config()));
        ctx.apply_form();
    };
    let groups = ["task", "model", "optimiser", "budget"];
    view! {
        <h2>"Experiment"</h2>
        <label class="field preset">
            <span>"preset"</span>
            <select data-testid="preset" on:change=on_preset>
                <option value="" prop:selected=move || preset_value().is_empty()>
                    "custom"
                </option>
                {Preset::ALL
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        view! {
                            <option
                                value=i.to_string()
                                prop:selected=move || preset_value() == i.to_string()
                            >
                                {p.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
        <form class="config-form" on:submit=|ev| ev.prevent_default()>
            {groups
                .into_iter()
                .map(|group| {
                    view! {
                        <fieldset>
                            <legend>{group}</legend>
                            {Field::ALL
                                .into_iter()
                                .filter(|f| f.group() == group)
                                .map(|field| field_row(ctx, field))
                                .collect_view()}
                        </fieldset>
                    }
                })
                .collect_view()}
        </form>
        <p class="config-error" data-testid="config-error" hidden=move || ctx.form_error.with(Option::is_none)>
            {move || ctx.form_error.get().unwrap_or_default()}
        </p>
    }
}

fn field_row(ctx: Ctx, field: Field) -> impl IntoView {
    let value = move || ctx.form.with(|f| f.get(field).to_string());
    let applies = move || ctx.form.with(|f| field.applies_to(f.model()));
    let id = field.test_id();
    let input = match field.input() {
        Input::Choice(options) => view! {
            <select
                id=id
                data-testid=id
                on:change=move |ev| ctx.edit(field, event_target_value(&ev))
            >
                {options
                    .iter()
                    .map(|o| {
                        view! {
                            <option value=*o prop:selected=move || value() == *o>
                                {*o}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        }
        .into_any(),
        Input::Flag => view! {
            <input
                type="checkbox"
                id=id
                data-testid=id
                prop:checked=move || value() == "1"
                on:change=move |ev| ctx.edit(field, flag(event_target_checked(&ev)).to_string())
            />
        }
        .into_any(),
        Input::Integer | Input::Number => view! {
            <input
                type="text"
                id=id
                data-testid=id
                inputmode=if field.input() == Input::Integer { "numeric" } else { "decimal" }
                autocomplete="off"
                spellcheck="false"
                prop:value=value
                on:change=move |ev| ctx.edit(field, event_target_value(&ev))
            />
        }
        .into_any(),
    };
    view! {
        <label class="field" for=id hidden=move || !applies()>
            <span>{field.label()}</span>
            {input}
        </label>
    }
}

#[component]
fn Controls(ctx: Ctx) -> impl IntoView {
    let phase = move || ctx.lab.with(|lab| lab.phase);
    let log_x = move || ctx.link.with(|l| l.view.log_x);
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
            <button
                data-testid="pause"
                disabled=move || phase() != Phase::Running
                on:click=move |_| ctx.send(Command::Pause)
            >
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
            <button
                data-testid="reset"
                disabled=move || phase() == Phase::Starting
                on:click=move |_| ctx.restart(Command::Reset)
            >
                "Reset"
            </button>
            <span class=move || format!("state {}", phase().name()) data-testid="run-state">
                {move || phase().name()}
            </span>
            <label class="toggle">
                <input
                    type="checkbox"
                    data-testid="logx"
                    prop:checked=log_x
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        ctx.link.update(|l| l.view.log_x = on);
                    }
                />
                " log step axis"
            </label>
        </div>
    }
}

#[component]
fn Progress(ctx: Ctx) -> impl IntoView {
    view! {
        <div class="progress" data-testid="progress" hidden=move || !ctx.shown("progress")()>
            <div class="bar">
                <div
                    class="fill"
                    style:width=move || {
                        format!("{:.1}%", 100.0 * ctx.lab.with(LabState::progress_fraction))
                    }
                ></div>
            </div>
            <span>{move || ctx.lab.with(LabState::progress_text)}</span>
        </div>
    }
}

#[component]
fn Metrics(ctx: Ctx) -> impl IntoView {
    let size = move || {
        ctx.lab.with(|lab| {
            lab.size.map(|s| {
                format!(
                    "{} parameters · {} train / {} test pairs",
                    s.n_params, s.n_train, s.n_test
                )
            })
        })
    };
    view! {
        <div class="metrics" data-testid="metrics" hidden=move || !ctx.shown("metrics")()>
            {move || {
                ctx.lab
                    .with(|lab| lab.latest().copied())
                    .map(|r| {
                        metric_items(&r)
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
                    })
                    .unwrap_or_else(|| view! { <span class="muted">"no metrics yet"</span> }.into_any())
            }}
            <span class="muted size">{size}</span>
        </div>
    }
}

#[component]
fn Charts(ctx: Ctx) -> impl IntoView {
    let canvases: [NodeRef<leptos::html::Canvas>; 3] =
        [NodeRef::new(), NodeRef::new(), NodeRef::new()];

    // Redraw at most once per animation frame, whatever the rate of reports.
    let frame_pending = StoredValue::new(false);
    let schedule_redraw = move || {
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
        ctx.lab.track();
        ctx.link.track();
        schedule_redraw();
    });
    // The canvases follow the page's width.
    let on_resize = window_event_listener(leptos::ev::resize, move |_| schedule_redraw());
    on_cleanup(move || on_resize.remove());

    let charts = ChartKind::ALL
        .into_iter()
        .enumerate()
        .map(|(i, kind)| {
            let canvas = canvases[i];
            let on_move = move |ev: leptos::ev::MouseEvent| {
                let Some(el) = canvas.get_untracked() else {
                    return;
                };
                let geometry = ctx.geometry.get_value();
                let Some(g) = geometry[i] else {
                    return;
                };
                let scale = f64::from(el.width()) / f64::from(el.client_width().max(1));
                let px = f64::from(ev.offset_x()) * scale;
                let width = f64::from(el.width().max(1));
                let hover = ctx.lab.with_untracked(|lab| {
                    g.nearest(&lab.reports, px).map(|idx| {
                        let report = lab.reports[idx];
                        let left_pct = geometry
                            .map(|g| g.map(|g| 100.0 * g.px_at(f64::from(report.step)) / width));
                        Hover { report, left_pct }
                    })
                });
                ctx.hover.set(hover);
            };
            view! {
                <div class="chart">
                    <canvas
                        node_ref=canvas
                        width="640"
                        height="250"
                        data-testid=kind.test_id()
                        on:mousemove=on_move
                        on:mouseleave=move |_| ctx.hover.set(None)
                    ></canvas>
                    {move || {
                        ctx.hover
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
        <div class="charts">{charts}</div>
        <p class="hover" data-testid="hover">
            {move || match ctx.hover.get() {
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

fn redraw(ctx: Ctx, canvases: [NodeRef<leptos::html::Canvas>; 3]) {
    let log_x = ctx.link.with_untracked(|l| l.view.log_x);
    let mut geometry = [None; 3];
    let mut failure = None;
    ctx.lab.with_untracked(|lab| {
        for (i, kind) in ChartKind::ALL.into_iter().enumerate() {
            let Some(canvas) = canvases[i].get_untracked() else {
                continue;
            };
            match chart::draw(canvas, kind, &lab.reports, lab.budget, log_x) {
                Ok(g) => geometry[i] = Some(g),
                Err(e) => failure = Some(e),
            }
        }
    });
    ctx.geometry.set_value(geometry);
    if let Some(e) = failure {
        leptos::logging::warn!("{e}");
    }
}

#[component]
fn Export(ctx: Ctx) -> impl IntoView {
    let busy = move || ctx.lab.with(|lab| lab.phase == Phase::Starting);
    let export_csv = move |_| {
        let (csv, name) = ctx.lab.with_untracked(|lab| {
            let c = ctx.link.with_untracked(|l| l.config.clone());
            (
                curves_csv(&lab.reports),
                format!(
                    "neurolab-grok-{}-p{}-{}-curves.csv",
                    c.model.name(),
                    c.p,
                    c.op.name()
                ),
            )
        });
        let result = browser::download(&name, "text/csv", csv.as_bytes());
        ctx.status.set(Some(match result {
            Ok(()) => format!("downloaded {name}"),
            Err(e) => e,
        }));
    };
    view! {
        <div class="export" hidden=move || !ctx.shown("export")()>
            <button
                data-testid="export-weights"
                disabled=busy
                on:click=move |_| {
                    ctx.status.set(Some("preparing the weights…".into()));
                    ctx.send(Command::ExportWeights);
                }
            >
                "Download weights (.safetensors)"
            </button>
            <button data-testid="export-csv" on:click=export_csv>
                "Download curves (CSV)"
            </button>
        </div>
    }
}

#[component]
fn Share(ctx: Ctx) -> impl IntoView {
    let url = move || browser::page_url(&ctx.link.with(LabLink::encode));
    let input = NodeRef::<leptos::html::Input>::new();
    let copy = move |_| {
        let text = url();
        leptos::task::spawn_local(async move {
            let result = browser::copy_text(&text).await;
            ctx.status.set(Some(match result {
                Ok(()) => "link copied".to_string(),
                Err(e) => {
                    // Select it so that Ctrl+C works.
                    if let Some(el) = input.get_untracked() {
                        el.select();
                    }
                    format!("could not copy ({e}); the link is selected: copy it by hand")
                }
            }));
        });
    };
    view! {
        <div class="share" hidden=move || !ctx.shown("share")()>
            <button data-testid="share" on:click=copy>
                "Copy link"
            </button>
            <input
                node_ref=input
                type="text"
                readonly
                data-testid="share-link"
                aria-label="link to this experiment"
                prop:value=url
                on:focus=move |_| {
                    if let Some(el) = input.get_untracked() {
                        el.select();
                    }
                }
            />
        </div>
        <p class="status" data-testid="status">
            {move || ctx.status.get().unwrap_or_default()}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_links_fall_back_to_defaults_with_the_reason() {
        let (link, error) = initial_link("");
        assert_eq!((link, error), (LabLink::default(), None));
        let bad = LabLink::default().encode().replace("p=97", "p=300");
        let (link, error) = initial_link(&bad);
        assert_eq!(link, LabLink::default());
        assert_eq!(
            error.unwrap(),
            "p must be a prime between 5 and 257, got 300"
        );
        let (_, error) = initial_link("v=9");
        assert!(error.unwrap().contains("newer neurolab"));
    }

    #[test]
    fn embed_and_hide_choose_the_controls() {
        let mut link = LabLink::default();
        assert!(shown(&link, "config") && shown(&link, "step"));
        link.view.hide = vec!["step".into()];
        assert!(!shown(&link, "step") && shown(&link, "config"));
        link.view.embed = true;
        assert!(!shown(&link, "config") && !shown(&link, "metrics"));
        let full = full_page_link(&link);
        assert!(!full.view.embed && full.view.hide.is_empty());
        assert_eq!(full.config, link.config);
    }
}
