//! The compute side: owns the burn device and the labs' sessions (grokking here, the spiking
//! lab in [`crate::spike`]), answers each [`Command`] with [`Event`]s. `Run`, `Pause`, `Step`
//! and `Reset` address the lab chosen with `Command::Lab`.
//!
//! [`Engine`] is plain async code (tested natively on the CPU backend); [`start_worker`] wires it
//! to a `DedicatedWorkerGlobalScope` and runs it with short chunks of training between
//! event-loop turns, so Pause/Step/Reset are handled promptly.

use base64::Engine as _;
use burn::tensor::Device;
use neurolab_core::config::{BackendChoice, GrokConfig};
use neurolab_core::grok::{backend_cpu, GrokSession, CPU_BACKEND_NAME};
use neurolab_core::link::LabKind;
use neurolab_core::protocol::{BackendInfo, Command, Event};

use crate::sae::SaeRunner;
use crate::spike::SpikeRunner;

/// Train this long before letting the event loop run (and commands arrive).
pub const CHUNK_MS: f64 = 30.0;
/// Post `Progress` at most this often.
pub const PROGRESS_EVERY_MS: f64 = 100.0;
/// On WebGPU, `train_step` only queues work, so the time a chunk takes on the page's clock says
/// nothing about the GPU. The worker waits for the GPU (a readback) after about `CHUNK_MS` of
/// GPU work, estimated from the previous waits, and after at most this many steps.
pub const GPU_MAX_STEPS_PER_SYNC: u32 = 64;

/// The worker's state: backend, session, and whether it is training.
pub struct Engine {
    post: Box<dyn Fn(Event)>,
    clock_ms: fn() -> f64,
    backend: Option<(Device, BackendInfo)>,
    /// burn's wgpu runtime starts once per worker: keep the first answer.
    webgpu: Option<Result<(Device, String), String>>,
    config: Option<GrokConfig>,
    session: Option<GrokSession>,
    running: bool,
    /// Steps since the device last answered a read, and when it did.
    steps_since_sync: u32,
    last_sync_ms: f64,
    /// Estimated device time per step (from the waits on WebGPU).
    ms_per_step: Option<f64>,
    last_progress_ms: f64,
    rate: Rate,
    /// The lab that `Run`/`Pause`/`Step`/`Reset` address.
    lab: LabKind,
    spike: SpikeRunner,
    sae: SaeRunner,
}

/// Steps per second, smoothed over progress windows.
#[derive(Default)]
struct Rate {
    since_ms: f64,
    since_step: u32,
    steps_per_s: f64,
}

impl Rate {
    fn restart(&mut self, now_ms: f64, step: u32) {
        self.since_ms = now_ms;
        self.since_step = step;
    }

    fn update(&mut self, now_ms: f64, step: u32) -> f64 {
        let dt_ms = now_ms - self.since_ms;
        if dt_ms > 0.0 && step > self.since_step {
            let now = f64::from(step - self.since_step) * 1000.0 / dt_ms;
            self.steps_per_s = if self.steps_per_s > 0.0 {
                0.6 * self.steps_per_s + 0.4 * now
            } else {
                now
            };
        }
        self.restart(now_ms, step);
        self.steps_per_s
    }
}

impl Engine {
    pub fn new(post: impl Fn(Event) + 'static, clock_ms: fn() -> f64) -> Self {
        Self {
            post: Box::new(post),
            clock_ms,
            backend: None,
            webgpu: None,
            config: None,
            session: None,
            running: false,
            steps_since_sync: 0,
            last_sync_ms: 0.0,
            ms_per_step: None,
            last_progress_ms: f64::NEG_INFINITY,
            rate: Rate::default(),
            lab: LabKind::Grok,
            spike: SpikeRunner::default(),
            sae: SaeRunner::default(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.running || self.spike.is_running() || self.sae.is_running()
    }

    fn post(&self, event: Event) {
        (self.post)(event)
    }

    /// Handle one command; a failure becomes an `Error` event and stops training.
    pub async fn handle(&mut self, command: Command) {
        let post = &*self.post;
        let result = match (command, self.lab) {
            (Command::Init { backend }, _) => self.init(backend).await,
            (Command::Lab { lab }, _) => {
                self.pause_all();
                self.lab = lab;
                Ok(())
            }
            (Command::Configure { config }, _) => self.configure(config).await,
            (Command::SpikeConfigure { config }, _) => self.spike.configure(config, post).await,
            (Command::SpikeControl { control }, _) => self.spike.apply(control),
            (Command::Run, LabKind::Spike) => self.spike.start(post),
            (Command::Pause, LabKind::Spike) => {
                self.spike.stop(post);
                Ok(())
            }
            (Command::Step, LabKind::Spike) => self.spike.step(post).await,
            (Command::Reset, LabKind::Spike) => self.spike.reset(post).await,
            // The SAE lab (its runner; a grok source may use the grokking lab's session).
            (Command::SaeConfigure { config }, _) => match self.device() {
                Ok(device) => {
                    self.sae
                        .configure(config, &device, self.session.as_ref(), post)
                        .await
                }
                // Before `Init`: build it when the backend is ready.
                Err(_) => {
                    self.sae.remember(config);
                    Ok(())
                }
            },
            (Command::SaeFeatures, _) => self.sae.features(post).await,
            (Command::SaeFeature { target }, _) => self.sae.feature(target, post).await,
            (Command::SaeClamp { request }, _) => self.sae.clamp(request, post).await,
            (Command::Run, LabKind::Sae) => self.sae.start((self.clock_ms)(), post),
            (Command::Pause, LabKind::Sae) => self.sae.stop(post).await,
            (Command::Step, LabKind::Sae) => self.sae.step(post).await,
            (Command::Reset, LabKind::Sae) => match self.device() {
                Ok(device) => self.sae.reset(&device, self.session.as_ref(), post).await,
                Err(e) => Err(e),
            },
            (Command::ExportWeights, LabKind::Sae) => self.sae.export(post).await,
            (Command::Run, _) => self.run(),
            (Command::Pause, _) => {
                self.stop();
                Ok(())
            }
            (Command::Step, _) => self.step().await,
            (Command::Reset, _) => match self.config.clone() {
                Some(config) => self.configure(config).await,
                None => Ok(()),
            },
            (Command::ExportWeights, _) => self.export().await,
            (Command::Ablate { neurons }, _) => {
                let what = if neurons.is_empty() {
                    "all neurons restored".to_string()
                } else {
                    format!("{} neurons ablated", neurons.len())
                };
                self.ablate(neurons, what).await
            }
            (Command::AblateFrequency { k }, _) => self.ablate_frequency(k).await,
        };
        if let Err(message) = result {
            self.pause_all();
            self.post(Event::Error { message });
        }
    }

    /// Stop whatever runs (switching labs, or after an error).
    fn pause_all(&mut self) {
        if self.running {
            self.stop();
        }
        if self.spike.is_running() {
            self.spike.stop(&*self.post);
        }
        if self.sae.is_running() {
            self.sae.halt(&*self.post);
        }
    }

    /// The device the labs' sessions live on (after `Init`).
    fn device(&self) -> Result<Device, String> {
        self.backend
            .as_ref()
            .map(|(d, _)| d.clone())
            .ok_or_else(|| "the backend is not ready yet".to_string())
    }

    async fn init(&mut self, choice: BackendChoice) -> Result<(), String> {
        self.running = false;
        let (device, info) = self.device_for(choice).await;
        self.post(Event::Backend { info: info.clone() });
        // Drop the old session before building one on the new device.
        self.session = None;
        self.backend = Some((device, info));
        if let Some(config) = self.config.clone() {
            self.configure(config).await?;
        }
        // The SAE lab's session moves to the new device too.
        self.sae.forget_source();
        if let Some(config) = self.sae.config().cloned() {
            let device = self.device()?;
            self.sae
                .configure(config, &device, self.session.as_ref(), &*self.post)
                .await?;
        }
        Ok(())
    }

    async fn device_for(&mut self, choice: BackendChoice) -> (Device, BackendInfo) {
        let cpu = |fallback_reason| {
            (
                backend_cpu(),
                BackendInfo {
                    kind: "cpu".into(),
                    adapter: CPU_BACKEND_NAME.into(),
                    fallback_reason,
                },
            )
        };
        if choice == BackendChoice::Cpu {
            return cpu(None);
        }
        if self.webgpu.is_none() {
            self.webgpu = Some(init_webgpu().await);
        }
        match &self.webgpu {
            Some(Ok((device, adapter))) => (
                device.clone(),
                BackendInfo {
                    kind: "webgpu".into(),
                    adapter: adapter.clone(),
                    fallback_reason: None,
                },
            ),
            Some(Err(reason)) => cpu(Some(reason.clone())),
            None => cpu(Some("WebGPU was not tried".into())),
        }
    }

    async fn configure(&mut self, config: GrokConfig) -> Result<(), String> {
        self.running = false;
        self.config = Some(config.clone());
        // Before the first Init there is no device yet; Init builds the session then.
        let Some((device, _)) = &self.backend else {
            return Ok(());
        };
        self.session = None;
        let session = GrokSession::new(config, device.clone()).map_err(|e| e.to_string())?;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        self.post(Event::Configured {
            n_train: count(session.n_train()),
            n_test: count(session.n_test()),
            n_params: count(session.n_params()),
        });
        self.session = Some(session);
        self.report().await?;
        self.rate = Rate::default();
        self.post_progress();
        Ok(())
    }

    fn session(&self) -> Result<&GrokSession, String> {
        self.session
            .as_ref()
            .ok_or_else(|| "the session is not ready yet".to_string())
    }

    fn run(&mut self) -> Result<(), String> {
        let session = self.session()?;
        if session.finished() {
            let step = session.step_count();
            self.post(Event::Stopped {
                step,
                finished: true,
            });
            return Ok(());
        }
        let step = session.step_count();
        self.running = true;
        self.rate.restart((self.clock_ms)(), step);
        self.steps_since_sync = 0;
        self.last_sync_ms = (self.clock_ms)();
        self.post_progress();
        Ok(())
    }

    /// Stop training (answers Pause even when already stopped).
    fn stop(&mut self) {
        self.running = false;
        if let Some(session) = &self.session {
            let (step, finished) = (session.step_count(), session.finished());
            self.post_progress();
            self.post(Event::Stopped { step, finished });
        }
    }

    async fn step(&mut self) -> Result<(), String> {
        self.running = false;
        if !self.session()?.finished() {
            self.train_one().await?;
            // `train_one` reports at report steps; a single step always shows its result.
            let session = self.session()?;
            if !is_report_step(session) {
                self.report().await?;
            }
        }
        self.stop();
        Ok(())
    }

    /// Ablate (or restore) grokking neurons and report at once, so the curves show the effect.
    async fn ablate(&mut self, neurons: Vec<u32>, what: String) -> Result<(), String> {
        let session = self
            .session
            .as_mut()
            .ok_or_else(|| "the session is not ready yet".to_string())?;
        session.set_ablation(&neurons).map_err(|e| e.to_string())?;
        let neurons = session.ablated().to_vec();
        self.post(Event::Ablated { neurons, what });
        self.report().await
    }

    async fn ablate_frequency(&mut self, k: u32) -> Result<(), String> {
        let neurons = self
            .session()?
            .neurons_of_frequency(k)
            .await
            .map_err(|e| e.to_string())?;
        let what = format!("frequency {k}: {} neurons ablated", neurons.len());
        self.ablate(neurons, what).await
    }

    async fn export(&mut self) -> Result<(), String> {
        let session = self.session()?;
        let bytes = session.safetensors().await.map_err(|e| e.to_string())?;
        let c = session.config();
        let file_name = format!(
            "neurolab-grok-{}-p{}-{}-step{}.safetensors",
            c.model.name(),
            c.p,
            c.op.name(),
            session.step_count()
        );
        self.post(Event::Weights {
            file_name,
            base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        });
        Ok(())
    }

    /// Train while running for about `budget_ms`, reporting at report steps and stopping at the
    /// budget.
    pub async fn train_chunk(&mut self, budget_ms: f64) {
        if self.spike.is_running() {
            let result = self
                .spike
                .chunk(budget_ms, self.clock_ms, &*self.post)
                .await;
            if let Err(message) = result {
                self.pause_all();
                self.post(Event::Error { message });
            }
            return;
        }
        if self.sae.is_running() {
            let on_gpu = self.on_gpu();
            let result = self
                .sae
                .chunk(budget_ms, on_gpu, self.clock_ms, &*self.post)
                .await;
            if let Err(message) = result {
                self.pause_all();
                self.post(Event::Error { message });
            }
            return;
        }
        let start_ms = (self.clock_ms)();
        while self.running {
            if let Err(message) = self.train_one().await {
                self.running = false;
                self.post(Event::Error { message });
                return;
            }
            let finished = self.session.as_ref().is_some_and(GrokSession::finished);
            if finished {
                self.stop();
                return;
            }
            if (self.clock_ms)() - start_ms >= budget_ms {
                break;
            }
        }
        if (self.clock_ms)() - self.last_progress_ms >= PROGRESS_EVERY_MS {
            self.post_progress();
        }
    }

    /// One step, then a report when it is a report step (or the last one).
    async fn train_one(&mut self) -> Result<(), String> {
        let on_gpu = self.on_gpu();
        let session = self
            .session
            .as_mut()
            .ok_or_else(|| "the session is not ready yet".to_string())?;
        session.train_step();
        self.steps_since_sync += 1;
        if is_report_step(session) {
            self.report().await?;
        } else if on_gpu && self.steps_since_sync >= steps_per_sync(self.ms_per_step) {
            // A read is the only way to wait for the GPU in the browser.
            self.session()?.report().await.map_err(|e| e.to_string())?;
            self.note_sync();
        }
        Ok(())
    }

    /// The device has caught up: update the estimate of its time per step.
    fn note_sync(&mut self) {
        let now_ms = (self.clock_ms)();
        if self.steps_since_sync > 0 && self.running {
            let ms = (now_ms - self.last_sync_ms) / f64::from(self.steps_since_sync);
            self.ms_per_step = Some(match self.ms_per_step {
                Some(old) => 0.5 * old + 0.5 * ms,
                None => ms,
            });
        }
        self.steps_since_sync = 0;
        self.last_sync_ms = now_ms;
    }

    fn on_gpu(&self) -> bool {
        self.backend
            .as_ref()
            .is_some_and(|(_, info)| info.kind == "webgpu")
    }

    async fn report(&mut self) -> Result<(), String> {
        let report = self.session()?.report().await.map_err(|e| e.to_string())?;
        self.note_sync();
        self.post(Event::Report { report });
        Ok(())
    }

    fn post_progress(&mut self) {
        let Some(session) = &self.session else {
            return;
        };
        let now_ms = (self.clock_ms)();
        let step = session.step_count();
        let steps_per_s = if self.running {
            self.rate.update(now_ms, step)
        } else {
            self.rate.steps_per_s
        };
        self.last_progress_ms = now_ms;
        self.post(Event::Progress {
            step,
            steps_per_s,
            running: self.running,
        });
    }
}

/// Steps to queue on the GPU before waiting for it: about `CHUNK_MS` of its work.
fn steps_per_sync(ms_per_step: Option<f64>) -> u32 {
    match ms_per_step {
        // Until measured, wait after every step.
        None => 1,
        Some(ms) if ms > 0.0 => {
            (CHUNK_MS / ms).clamp(1.0, f64::from(GPU_MAX_STEPS_PER_SYNC)) as u32
        }
        Some(_) => GPU_MAX_STEPS_PER_SYNC,
    }
}

fn is_report_step(session: &GrokSession) -> bool {
    let every = session.config().report_every.max(1);
    session.step_count().is_multiple_of(every) || session.finished()
}

/// burn's wgpu device on the browser's WebGPU, with the adapter's name; `Err` says why not.
#[cfg(target_arch = "wasm32")]
async fn init_webgpu() -> Result<(Device, String), String> {
    use wasm_bindgen::JsCast as _;
    // Without WebGPU, wgpu may pick another path or fail in ways that are hard to read.
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let gpu = js_sys::Reflect::get(&scope.navigator(), &"gpu".into()).unwrap_or_default();
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser has no WebGPU (navigator.gpu is missing)".into());
    }
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            let info = setup.adapter.get_info();
            web_sys::console::info_1(&format!("neurolab: WebGPU adapter {info:?}").into());
            // Browsers may hide the adapter's name; then say what kind of device it is.
            let label = [&info.name, &info.driver, &info.driver_info]
                .into_iter()
                .find(|s| !s.trim().is_empty())
                .cloned()
                .unwrap_or_else(|| device_kind(info.device_type).to_string());
            Ok((device, label))
        }
        Err(e) => {
            web_sys::console::warn_1(&format!("neurolab: WebGPU could not start: {e}").into());
            use burn::tensor::wgpu::WgpuInitError;
            Err(match e {
                WgpuInitError::AdapterUnavailable { .. } => {
                    "the browser offers no WebGPU adapter (WebGPU is off or unsupported here)"
                        .to_string()
                }
                WgpuInitError::RequestDevice { message } => {
                    format!("the WebGPU adapter would not create a device: {message}")
                }
                other => format!("WebGPU could not start: {other}"),
            })
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn device_kind(kind: burn::backend::wgpu::wgpu::DeviceType) -> &'static str {
    use burn::backend::wgpu::wgpu::DeviceType;
    match kind {
        DeviceType::Cpu => "software renderer",
        DeviceType::DiscreteGpu => "discrete GPU",
        DeviceType::IntegratedGpu => "integrated GPU",
        DeviceType::VirtualGpu => "virtual GPU",
        DeviceType::Other => "GPU",
    }
}

#[cfg(not(target_arch = "wasm32"))]
async fn init_webgpu() -> Result<(Device, String), String> {
    Err("WebGPU is used only in the browser".into())
}

/// Milliseconds from a fixed origin.
#[cfg(target_arch = "wasm32")]
pub fn now_ms() -> f64 {
    use wasm_bindgen::JsCast as _;
    js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .performance()
        .map_or(0.0, |p| p.now())
}

#[cfg(not(target_arch = "wasm32"))]
pub fn now_ms() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// Entry point of the worker bin: answer commands from the page until it goes away.
#[cfg(target_arch = "wasm32")]
pub fn start_worker() {
    use futures_channel::mpsc;
    use futures_util::StreamExt as _;
    use wasm_bindgen::prelude::*;

    console_error_panic_hook::set_once();
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let post = {
        let scope = scope.clone();
        move |event: Event| {
            // Posting a string cannot fail while the worker lives.
            let _ = scope.post_message(&JsValue::from_str(&event.to_json()));
        }
    };
    let (tx, mut rx) = mpsc::unbounded::<Command>();
    let on_message = {
        let post = post.clone();
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |msg: web_sys::MessageEvent| {
            let command = msg
                .data()
                .as_string()
                .ok_or_else(|| "a command must be a JSON string".to_string())
                .and_then(|s| Command::from_json(&s));
            match command {
                Ok(command) => {
                    let _ = tx.unbounded_send(command);
                }
                Err(message) => post(Event::Error { message }),
            }
        })
    };
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(Event::Loaded);

    wasm_bindgen_futures::spawn_local(async move {
        let mut engine = Engine::new(post, now_ms);
        loop {
            if engine.is_running() {
                match rx.try_recv() {
                    Ok(command) => engine.handle(command).await,
                    Err(mpsc::TryRecvError::Closed) => return,
                    Err(mpsc::TryRecvError::Empty) => {
                        engine.train_chunk(CHUNK_MS).await;
                        yield_to_event_loop().await;
                    }
                }
            } else {
                match rx.next().await {
                    Some(command) => engine.handle(command).await,
                    None => return,
                }
            }
        }
    });
}

/// Let the worker's event loop run (so `onmessage` fires) and come back at once. A
/// `MessageChannel` round trip, unlike `setTimeout(0)`, is not clamped to 4 ms.
#[cfg(target_arch = "wasm32")]
async fn yield_to_event_loop() {
    use wasm_bindgen::prelude::*;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let Ok(channel) = web_sys::MessageChannel::new() else {
            let _ = resolve.call0(&JsValue::NULL);
            return;
        };
        let (receiver, sender) = (channel.port1(), channel.port2());
        let on_message = Closure::once_into_js(move || {
            // Keep the channel alive until its message arrives.
            let _channel = channel;
            let _ = resolve.call0(&JsValue::NULL);
        });
        receiver.set_onmessage(Some(on_message.unchecked_ref()));
        let _ = sender.post_message(&JsValue::NULL);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    fn tiny() -> GrokConfig {
        let mut c = GrokConfig::preset_mlp();
        c.p = 7;
        c.hidden = 16;
        c.steps = 12;
        c.report_every = 5;
        c.lr = 1e-2;
        c
    }

    fn engine() -> (Engine, Rc<RefCell<Vec<Event>>>) {
        let events = Rc::new(RefCell::new(Vec::new()));
        let sink = events.clone();
        (
            Engine::new(move |e| sink.borrow_mut().push(e), now_ms),
            events,
        )
    }

    fn reports(events: &[Event]) -> Vec<u32> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Report { report } => Some(report.step),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn configure_then_init_builds_a_session_and_reports_step_0() {
        let (mut engine, events) = engine();
        pollster::block_on(async {
            engine.handle(Command::Configure { config: tiny() }).await;
            assert!(events.borrow().is_empty(), "no device yet, nothing to say");
            engine
                .handle(Command::Init {
                    backend: BackendChoice::Auto,
                })
                .await;
        });
        let events = events.borrow();
        match &events[0] {
            Event::Backend { info } => {
                assert_eq!(info.kind, "cpu");
                assert!(info.fallback_reason.is_some(), "auto fell back natively");
            }
            other => panic!("expected Backend first, got {other:?}"),
        }
        let n_train = tiny().n_train() as u32;
        assert!(
            matches!(events[1], Event::Configured { n_train: t, n_test, .. }
            if t == n_train && t + n_test == 49)
        );
        assert_eq!(reports(&events), [0]);
    }

    #[test]
    fn runs_to_the_budget_reporting_every_n_steps() {
        let (mut engine, events) = engine();
        pollster::block_on(async {
            engine
                .handle(Command::Init {
                    backend: BackendChoice::Cpu,
                })
                .await;
            engine.handle(Command::Configure { config: tiny() }).await;
            engine.handle(Command::Run).await;
            while engine.is_running() {
                engine.train_chunk(1.0).await;
            }
        });
        let events = events.borrow();
        assert_eq!(reports(&events), [0, 5, 10, 12]);
        assert!(matches!(
            events.last(),
            Some(Event::Stopped {
                step: 12,
                finished: true
            })
        ));
    }

    #[test]
    fn step_pause_reset_and_export() {
        let (mut engine, events) = engine();
        pollster::block_on(async {
            engine
                .handle(Command::Init {
                    backend: BackendChoice::Cpu,
                })
                .await;
            engine.handle(Command::Configure { config: tiny() }).await;
            engine.handle(Command::Step).await;
            engine.handle(Command::Step).await;
            engine.handle(Command::Pause).await;
            engine.handle(Command::ExportWeights).await;
            engine.handle(Command::Reset).await;
        });
        let events = events.borrow();
        assert_eq!(reports(&events), [0, 1, 2, 0]);
        assert!(events.iter().any(|e| matches!(
            e,
            Event::Stopped {
                step: 2,
                finished: false
            }
        )));
        let weights = events.iter().find_map(|e| match e {
            Event::Weights { file_name, base64 } => Some((file_name, base64)),
            _ => None,
        });
        let (name, data) = weights.expect("weights were exported");
        assert_eq!(name, "neurolab-grok-mlp-p7-add-step2.safetensors");
        assert!(!data.is_empty());
    }

    #[test]
    fn gpu_waits_after_about_a_chunk_of_work() {
        assert_eq!(steps_per_sync(None), 1);
        assert_eq!(steps_per_sync(Some(500.0)), 1);
        assert_eq!(steps_per_sync(Some(3.0)), 10);
        assert_eq!(steps_per_sync(Some(0.01)), GPU_MAX_STEPS_PER_SYNC);
        assert_eq!(steps_per_sync(Some(0.0)), GPU_MAX_STEPS_PER_SYNC);
    }

    #[test]
    fn commands_before_a_session_are_errors_not_panics() {
        let (mut engine, events) = engine();
        pollster::block_on(engine.handle(Command::Run));
        assert!(
            matches!(&events.borrow()[0], Event::Error { message } if message.contains("not ready"))
        );
    }

    #[test]
    fn the_spiking_lab_runs_to_its_duration_and_obeys_controls() {
        use neurolab_core::spike::config::SpikeConfig;
        use neurolab_core::spike::session::SpikeControl;
        let (mut engine, events) = engine();
        let mut config = SpikeConfig::izhikevich2003();
        config.n = 200;
        config.trace_neurons = vec![0, 199];
        config.duration_ms = 300;
        pollster::block_on(async {
            engine
                .handle(Command::Lab {
                    lab: LabKind::Spike,
                })
                .await;
            engine
                .handle(Command::SpikeConfigure {
                    config: config.clone(),
                })
                .await;
            engine
                .handle(Command::SpikeControl {
                    control: SpikeControl::Silence {
                        from: 0,
                        to: 50,
                        on: true,
                    },
                })
                .await;
            engine.handle(Command::Run).await;
            let mut guard = 0;
            while engine.is_running() && guard < 10_000 {
                engine.train_chunk(CHUNK_MS).await;
                guard += 1;
            }
            // A bad control is a message, not a panic, and the run survives it.
            engine
                .handle(Command::SpikeControl {
                    control: SpikeControl::Silence {
                        from: 0,
                        to: 5000,
                        on: true,
                    },
                })
                .await;
        });
        let events = events.borrow();
        assert!(matches!(
            events.first(),
            Some(Event::SpikeConfigured { neurons: 200, engine, .. }) if engine == "cpu"
        ));
        let mut t_end = 0.0;
        let mut spikes = 0;
        for e in events.iter() {
            if let Event::SpikeReport { report } = e {
                assert!(
                    report.spike_neuron.iter().all(|&i| i >= 50),
                    "a silenced neuron fired"
                );
                spikes += report.spike_neuron.len();
                t_end = report.t_ms;
            }
        }
        assert_eq!(t_end, 300.0);
        assert!(spikes > 100, "only {spikes} spikes in 300 ms");
        assert!(events
            .iter()
            .any(|e| matches!(e, Event::SpikeStopped { finished: true, .. })));
        assert!(matches!(
            events.last(),
            Some(Event::Error { message }) if message.contains("200")
        ));
    }

    /// A small toy-source SAE the worker tests train in a second or two.
    fn tiny_sae() -> neurolab_core::sae::SaeConfig {
        let mut c = neurolab_core::sae::SaeConfig::preset(neurolab_core::sae::SaeSource::Toy);
        c.toy_n = 16;
        c.toy_m = 6;
        c.toy_steps = 600;
        c.toy_samples = 2048;
        c.latents = 32;
        c.k = 3;
        c.k_aux = 4;
        c.steps = 400;
        c.report_every = 100;
        c
    }

    #[test]
    fn the_sae_lab_trains_browses_and_clamps() {
        use neurolab_core::sae::{ClampInput, ClampOp, ClampRequest, Target};
        let (mut engine, events) = engine();
        pollster::block_on(async {
            engine
                .handle(Command::Init {
                    backend: BackendChoice::Cpu,
                })
                .await;
            engine.handle(Command::Lab { lab: LabKind::Sae }).await;
            engine
                .handle(Command::SaeConfigure { config: tiny_sae() })
                .await;
            engine.handle(Command::Run).await;
            let mut guard = 0;
            while engine.is_running() && guard < 100_000 {
                engine.train_chunk(CHUNK_MS).await;
                guard += 1;
            }
        });
        let (first, last, top) = {
            let ev = events.borrow();
            assert!(matches!(
                ev.iter().find(|e| matches!(e, Event::SaeConfigured { .. })),
                Some(Event::SaeConfigured {
                    n_samples: 2048,
                    d: 6,
                    latents: 32,
                    p: None,
                    ..
                })
            ));
            let steps: Vec<u32> = ev
                .iter()
                .filter_map(|e| match e {
                    Event::SaeReport { report } => Some(report.step),
                    _ => None,
                })
                .collect();
            assert_eq!(steps, [0, 100, 200, 300, 400]);
            let mmcs: Vec<f32> = ev
                .iter()
                .filter_map(|e| match e {
                    Event::SaeReport { report } => report.mmcs,
                    _ => None,
                })
                .collect();
            assert!(ev.iter().any(|e| matches!(
                e,
                Event::SaeStopped {
                    step: 400,
                    finished: true
                }
            )));
            // The list arrives after the stop, densest first.
            let list = ev
                .iter()
                .rev()
                .find_map(|e| match e {
                    Event::SaeFeatureList { features } => Some(features.clone()),
                    _ => None,
                })
                .expect("a feature list");
            assert_eq!(list.len(), 32);
            assert!(list.windows(2).all(|w| w[0].density >= w[1].density));
            assert!(list[0].best_true.is_some() && !list[0].label.is_empty());
            (mmcs[0], *mmcs.last().unwrap(), list[0].index)
        };
        assert!(last > first + 0.1 && last > 0.6, "MMCS {first} -> {last}");
        events.borrow_mut().clear();
        let request = ClampRequest {
            input: ClampInput::Sample(0),
            target: Target::Feature(top),
            op: ClampOp::Set(5.0),
        };
        pollster::block_on(async {
            engine
                .handle(Command::SaeFeature {
                    target: Target::Feature(top),
                })
                .await;
            engine.handle(Command::SaeClamp { request }).await;
            // A bad index is a message naming the limit, not a panic.
            engine
                .handle(Command::SaeFeature {
                    target: Target::Feature(99),
                })
                .await;
        });
        let ev = events.borrow();
        assert!(matches!(&ev[0], Event::SaeFeatureDetail { detail }
            if detail.target == Target::Feature(top) && detail.top_inputs.len() > 3 && detail.density > 0.0));
        match &ev[1] {
            Event::SaeClamped { response, .. } => {
                assert_eq!(response.value_after, 5.0);
                let moved: f32 = response
                    .outputs_before
                    .iter()
                    .zip(&response.outputs_after)
                    .map(|(a, b)| (a - b).abs())
                    .sum();
                assert!(
                    moved > 0.1,
                    "setting a feature to 5 moved the outputs by {moved}"
                );
            }
            other => panic!("expected SaeClamped, got {other:?}"),
        }
        assert!(matches!(&ev[2], Event::Error { message } if message.contains("below 32")));
    }

    #[test]
    fn a_grok_sae_decomposes_the_grokking_labs_run() {
        use neurolab_core::sae::{SaeConfig, SaeSource};
        let (mut engine, events) = engine();
        let mut c = SaeConfig::preset(SaeSource::GrokMlp);
        c.latents = 16;
        c.k = 2;
        c.k_aux = 4;
        c.batch = 16;
        c.steps = 3;
        c.grok_p = 13;
        pollster::block_on(async {
            engine
                .handle(Command::Init {
                    backend: BackendChoice::Cpu,
                })
                .await;
            engine.handle(Command::Configure { config: tiny() }).await;
            engine.handle(Command::Step).await;
            engine.handle(Command::Lab { lab: LabKind::Sae }).await;
            engine.handle(Command::SaeConfigure { config: c }).await;
            engine.handle(Command::Step).await;
        });
        let ev = events.borrow();
        let configured = ev.iter().find_map(|e| match e {
            Event::SaeConfigured {
                n_samples,
                p,
                source,
                ..
            } => Some((*n_samples, *p, source.clone())),
            _ => None,
        });
        let (n, p, source) = configured.expect("configured");
        // The run's p (7), not the link's 13.
        assert_eq!((n, p), (49, Some(7)));
        assert!(source.contains("grokking lab's run"), "{source}");
        assert!(ev
            .iter()
            .any(|e| matches!(e, Event::SaeReport { report } if report.step == 1 && report.ce_loss_score.is_some())));
    }

    #[test]
    fn a_grok_preset_is_trained_once_for_several_sae_configs() {
        use neurolab_core::sae::{SaeConfig, SaeSource};
        let (mut engine, events) = engine();
        let mut c = SaeConfig::preset(SaeSource::GrokMlp);
        c.latents = 16;
        c.k = 2;
        c.k_aux = 4;
        c.batch = 16;
        c.steps = 2;
        c.grok_p = 7;
        c.grok_steps = 20;
        let preparing = |events: &[Event]| {
            events
                .iter()
                .filter(|e| matches!(e, Event::SaePreparing { .. }))
                .count()
        };
        pollster::block_on(async {
            engine
                .handle(Command::Init {
                    backend: BackendChoice::Cpu,
                })
                .await;
            engine.handle(Command::Lab { lab: LabKind::Sae }).await;
            engine
                .handle(Command::SaeConfigure { config: c.clone() })
                .await;
        });
        let first = preparing(&events.borrow());
        assert_eq!(first, 21, "a note at 0 and after each of 20 steps");
        let mut c2 = c.clone();
        c2.latents = 24;
        pollster::block_on(engine.handle(Command::SaeConfigure { config: c2 }));
        assert_eq!(preparing(&events.borrow()), first, "the preset was reused");
        assert!(matches!(
            events.borrow().iter().rev().find(|e| matches!(e, Event::SaeConfigured { .. })),
            Some(Event::SaeConfigured { latents: 24, source, .. }) if source.contains("preset trained here")
        ));
        // A different preset (another seed) trains again.
        c.seed = 9;
        pollster::block_on(engine.handle(Command::SaeConfigure { config: c }));
        assert_eq!(preparing(&events.borrow()), 2 * first);
    }

    #[test]
    fn ablating_grokking_neurons_reports_at_once() {
        let (mut engine, events) = engine();
        pollster::block_on(async {
            engine
                .handle(Command::Init {
                    backend: BackendChoice::Cpu,
                })
                .await;
            engine.handle(Command::Configure { config: tiny() }).await;
            engine
                .handle(Command::Ablate {
                    neurons: (0..16).collect(),
                })
                .await;
            engine.handle(Command::AblateFrequency { k: 2 }).await;
            engine.handle(Command::Ablate { neurons: vec![99] }).await;
        });
        let events = events.borrow();
        let ablated: Vec<&Event> = events
            .iter()
            .filter(|e| matches!(e, Event::Ablated { .. }))
            .collect();
        assert!(matches!(ablated[0], Event::Ablated { neurons, .. } if neurons.len() == 16));
        assert!(
            matches!(ablated[1], Event::Ablated { what, .. } if what.starts_with("frequency 2"))
        );
        // Every hidden neuron ablated: constant logits, cross-entropy ln 7.
        let after: Vec<f32> = events
            .iter()
            .filter_map(|e| match e {
                Event::Report { report } => Some(report.train_loss),
                _ => None,
            })
            .collect();
        assert!((after[1] - 7f32.ln()).abs() < 1e-4, "{after:?}");
        assert!(matches!(
            events.last(),
            Some(Event::Error { message }) if message.contains("neuron 99 does not exist")
        ));
    }
}
