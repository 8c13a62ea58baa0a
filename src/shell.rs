//! The page shell (leptos, client-side): the app, its header (the lab picker, the backend),
//! its banners (a bad link with what was dropped and the link as typed, a fallback, a crash),
//! the worker's events routed to the labs' registry, the Benchmark panel, and the open lab's
//! page. It knows no lab.
//! It must not use burn.

use crate::browser;
use crate::browser::bridge::{WorkerLink, WORKER_URL};
use crate::context::{LinkProblem, Shell};
use crate::labs::Labs;
use leptos::prelude::*;
use neurolab_core::link::LabLink;
use neurolab_core::protocol::{BackendChoice, Command, DebugHook, Event};
use neurolab_core::LabKind;
use std::rc::Rc;

fn on_event(shell: Shell, labs: Labs, event: Event, bytes: Option<Vec<u8>>) {
    match event {
        Event::Loaded => {}
        Event::Backend { info } => shell.backend.set(Some(info)),
        Event::Lab { session, event } => labs.on_event(session, event, bytes),
        Event::Error { message } => shell.worker_error.set(Some(message)),
        Event::Bench { progress } => shell.bench.set(Some(progress)),
        Event::Crashed { message } => {
            // A new worker on the CPU, every lab rebuilt there: nothing to reload.
            let restarted = shell
                .worker
                .with_value(|w| w.as_ref().map(WorkerLink::restart))
                .unwrap_or_else(|| Err("no worker".into()));
            match restarted {
                Ok(()) => {
                    shell.worker_error.set(Some(format!(
                        "The compute worker crashed ({message}); it was restarted on the CPU and the labs were rebuilt."
                    )));
                    shell.link.update(|l| l.backend = BackendChoice::Cpu);
                    shell.send(Command::Init {
                        backend: BackendChoice::Cpu,
                    });
                    labs.rebuild();
                }
                Err(e) => shell.worker_error.set(Some(format!(
                    "The compute worker crashed ({message}) and could not be restarted: {e}"
                ))),
            }
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let fragment = browser::fragment();
    let fragment = fragment.trim_start_matches('#');
    // The start page: no experiment in the address (or `#gallery`).
    let start_on_gallery = fragment.is_empty() || fragment == "gallery";
    let mut opened = LabLink::open(fragment);
    // A lesson link without an experiment (`#lesson=grokking.2`) opens its step's experiment.
    if let Some(link) = crate::lesson::lesson_only_link(fragment) {
        opened.link = link;
        opened.problem = None;
        opened.dropped.clear();
    }
    let link = opened.link.clone();
    let shell = Shell {
        link: RwSignal::new(link.clone()),
        status: RwSignal::new(None),
        backend: RwSignal::new(None),
        problem: RwSignal::new(opened.problem.as_ref().map(|p| LinkProblem {
            message: p.to_string(),
            dropped: opened.dropped.clone(),
            original: opened.original.clone(),
        })),
        version_notice: RwSignal::new(opened.version_notice()),
        worker_error: RwSignal::new(None),
        updated: RwSignal::new(None),
        activity: RwSignal::new(Default::default()),
        gallery: RwSignal::new(start_on_gallery),
        bench_open: RwSignal::new(false),
        bench: RwSignal::new(None),
        worker: StoredValue::new_local(None),
        sessions: StoredValue::new(0),
    };
    provide_context(shell);
    let labs = Labs::new(shell, &link);
    provide_context(labs);
    let import =
        crate::context::ImportExperiment(Callback::new(move |(name, text): (String, String)| {
            labs.import(name, &text)
        }));
    provide_context(import);
    crate::experiment::accept_drops(shell, import);
    if browser::in_frame() {
        browser::listen_to_parent(move |text| {
            let lab = shell.link.with_untracked(|l| l.lab);
            match crate::embed::HostCommand::parse(&text) {
                Ok(command) => labs.host(lab, command),
                Err(message) => crate::embed::post(
                    lab.name(),
                    "error",
                    serde_json::json!({ "message": message }),
                ),
            }
        });
        crate::embed::post(link.lab.name(), "ready", serde_json::json!({}));
    }
    let handler: crate::browser::bridge::OnEvent =
        Rc::new(move |event, bytes| on_event(shell, labs, event, bytes));
    match WorkerLink::start(WORKER_URL, handler) {
        Ok(worker) => shell.worker.set_value(Some(worker)),
        Err(message) => shell.worker_error.set(Some(message)),
    }
    shell.send(Command::Init {
        backend: link.backend,
    });
    if !start_on_gallery {
        labs.open(link.lab);
    }
    browser::register_service_worker(move |version| shell.updated.set(Some(version)));
    browser::expose_debug_hook(move |hook| {
        let hook = match hook.as_str() {
            "lose_device" => DebugHook::LoseDevice,
            "panic" => DebugHook::Panic,
            _ => return,
        };
        shell.send(Command::Debug { hook });
    });

    // The address always carries the current experiment.
    Effect::new(move |_| {
        let fragment = if shell.gallery.get() {
            "gallery".to_string()
        } else {
            shell.link.with(LabLink::encode)
        };
        if let Err(e) = browser::replace_fragment(&fragment) {
            leptos::logging::warn!("could not update the address: {e}");
        }
    });

    // Memos: the page is built again only when the lab changes, not on every edit of the link
    // (a recorded intervention changes it while the lab's panels keep their state).
    let embed = Memo::new(move |_| shell.link.with(|l| l.view.embed));
    let lab = Memo::new(move |_| shell.link.with(|l| l.lab));
    view! {
        <div class="app" class:embed=move || embed.get()>
            <Show when=move || !embed.get()>
                <Header />
            </Show>
            <Banners />
            <Show when=move || shell.bench_open.get()>
                <crate::bench::BenchPanel />
            </Show>
            <Show
                when=move || !shell.gallery.get()
                fallback=|| view! { <crate::gallery::Gallery /> }
            >
                <crate::lesson::LessonPanel />
                <main class="layout" data-lab=move || lab.get().name()>
                    {move || labs.page(lab.get())}
                </main>
            </Show>
        </div>
    }
}

#[component]
fn Header() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let labs = expect_context::<Labs>();
    let badge = move || {
        shell.backend.with(|b| match b {
            Some(info) => format!("{} · {}", info.kind, info.adapter),
            None => "backend: starting…".to_string(),
        })
    };
    let badge_kind = move || {
        shell.backend.with(|b| {
            format!(
                "badge {}",
                b.as_ref().map_or("pending", |b| b.kind.as_str())
            )
        })
    };
    let on_backend = move |ev: leptos::ev::Event| {
        let Some(choice) = BackendChoice::parse(&event_target_value(&ev)) else {
            return;
        };
        shell.link.update(|l| l.backend = choice);
        shell.backend.set(None);
        labs.expect_rebuild();
        shell.send(Command::Init { backend: choice });
    };
    let backend_value = move || shell.link.with(|l| l.backend.name());
    view! {
        <header class="top">
            <h1>"neurolab"</h1>
            <button
                data-testid="open-gallery"
                aria-pressed=move || shell.gallery.get().to_string()
                on:click=move |_| {
                    shell.gallery.update(|g| *g = !*g);
                    // Leaving the start page opens the lab of the link (built only once).
                    if !shell.gallery.get_untracked() {
                        labs.open(shell.link.with_untracked(|l| l.lab));
                    }
                }
            >
                "Gallery & lessons"
            </button>
            <button
                data-testid="open-bench"
                aria-pressed=move || shell.bench_open.get().to_string()
                on:click=move |_| shell.bench_open.update(|b| *b = !*b)
            >
                "Benchmark"
            </button>
            <label class="lab-picker">
                <span class="sr">"lab"</span>
                <select
                    data-testid="lab-picker"
                    title="lab"
                    on:change=move |ev| {
                        if let Some(lab) = LabKind::parse(&event_target_value(&ev)) {
                            shell.gallery.set(false);
                            shell.link.update(|l| l.lab = lab);
                            shell.status.set(None);
                            labs.open(lab);
                        }
                    }
                >
                    {LabKind::ALL
                        .iter()
                        .map(|&lab| {
                            view! {
                                <option
                                    value=lab.name()
                                    selected=shell.link.with_untracked(|l| l.lab == lab)
                                    prop:selected=move || shell.link.with(|l| l.lab == lab)
                                >
                                    {lab.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <div class="backend" hidden=move || !shell.shown("backend")()>
                <span class=badge_kind data-testid="backend" aria-live="polite">{badge}</span>
                <label>
                    "backend "
                    <select data-testid="backend-choice" on:change=on_backend>
                        {BackendChoice::ALL
                            .into_iter()
                            .map(|b| {
                                view! {
                                    <option
                                        value=b.name()
                                        selected=shell.link.with_untracked(|l| l.backend == b)
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

/// A banner's close button: clears the signal the banner shows.
fn close<T: Send + Sync + 'static>(shown: RwSignal<Option<T>>) -> impl IntoView {
    view! {
        <button class="close" aria-label="close" on:click=move |_| shown.set(None)>
            "×"
        </button>
    }
}

#[component]
fn Banners() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let fallback = move || {
        shell
            .backend
            .with(|b| b.as_ref().and_then(|b| b.fallback_reason.clone()))
    };
    view! {
        {move || {
            shell
                .problem
                .get()
                .map(|p| {
                    let dropped = (!p.dropped.is_empty())
                        .then(|| format!(" Left out: {}.", p.dropped.join(", ")));
                    view! {
                        <div class="banner error" data-testid="link-error" role="alert">
                            <strong>"This link could not be opened as it is: "</strong>
                            {p.message}
                            {dropped}
                            " The rest of it is open below; the link as it was:"
                            <input
                                type="text"
                                readonly
                                class="original-link"
                                data-testid="original-link"
                                aria-label="the link as it was opened"
                                prop:value=p.original
                            />
                            {close(shell.problem)}
                        </div>
                    }
                })
        }}
        {move || {
            shell
                .version_notice
                .get()
                .map(|notice| {
                    view! {
                        <div class="banner" data-testid="version-notice" role="status">
                            {notice}
                            {close(shell.version_notice)}
                        </div>
                    }
                })
        }}
        {move || {
            (shell.shown("backend")())
                .then(fallback)
                .flatten()
                .map(|reason| {
                    view! {
                        <div class="banner notice" data-testid="backend-notice" role="status">
                            "WebGPU is not available, so training runs on the CPU (slower). "
                            <span class="reason">{reason}</span>
                        </div>
                    }
                })
        }}
        {move || {
            shell
                .updated
                .get()
                .map(|version| {
                    view! {
                        <div class="banner notice" data-testid="updated" role="status">
                            {format!(
                                "neurolab was updated (build {version}) and works offline again; reload the page to use the new version. "
                            )}
                            <button on:click=move |_| browser::reload()>"Reload"</button>
                            {close(shell.updated)}
                        </div>
                    }
                })
        }}
        {move || {
            shell
                .worker_error
                .get()
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
