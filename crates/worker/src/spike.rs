//! The spiking lab in the worker: one run on the CPU engine (`SpikeSession`) or on the WGSL
//! engine (`GpuSession`), simulated in chunks sized to about one `CHUNK_MS` of wall time so
//! commands stay prompt, each chunk posted as a `SpikeReport`.

use burn::backend::wgpu::wgpu;
use neurolab_core::protocol::Event;
use neurolab_core::spike::config::{Engine as SpikeEngine, SpikeConfig};
use neurolab_core::spike::gpu::{request_device, GpuInfo};
use neurolab_core::spike::gpu_session::{gpu_unsupported, GpuSession};
use neurolab_core::spike::report::SpikeReport;
use neurolab_core::spike::session::{SpikeControl, SpikeSession};

/// Simulated ms of the first chunk (then sized from the measured speed).
const FIRST_CHUNK_MS: u32 = 5;
/// Longest chunk (simulated ms): the raster should scroll, not jump.
const MAX_CHUNK_MS: u32 = 500;
/// `Step` advances this much simulated time.
pub const STEP_MS: u32 = 100;

enum Run {
    Cpu(SpikeSession),
    Gpu(GpuSession),
}

impl Run {
    async fn run_ms(&mut self, ms: u32) -> Result<SpikeReport, String> {
        match self {
            Run::Cpu(s) => Ok(s.run_ms(ms)),
            Run::Gpu(s) => s.run_ms(ms).await.map_err(|e| e.to_string()),
        }
    }
    fn apply(&mut self, control: SpikeControl) -> Result<(), String> {
        match self {
            Run::Cpu(s) => s.apply(control).map_err(|e| e.to_string()),
            Run::Gpu(s) => s.apply(control),
        }
    }
    fn t_ms(&self) -> f64 {
        match self {
            Run::Cpu(s) => s.t_ms(),
            Run::Gpu(s) => s.t_ms(),
        }
    }
    fn done(&self) -> bool {
        match self {
            Run::Cpu(s) => s.done(),
            Run::Gpu(s) => s.done(),
        }
    }
}

/// The spiking lab's state in the worker.
#[derive(Default)]
pub struct SpikeRunner {
    config: Option<SpikeConfig>,
    run: Option<Run>,
    /// The WGSL engine's device, requested once per worker (its own device, not burn's).
    gpu: Option<Result<(wgpu::Device, wgpu::Queue, GpuInfo), String>>,
    running: bool,
    chunk_ms: u32,
    /// Simulated ms per wall ms, smoothed.
    realtime_factor: f64,
    last_progress_ms: f64,
}

type Post<'a> = &'a dyn Fn(Event);

impl SpikeRunner {
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Build a fresh run for `config` (t = 0); the engine is the config's, or the CPU with a note.
    pub async fn configure(&mut self, config: SpikeConfig, post: Post<'_>) -> Result<(), String> {
        self.running = false;
        self.run = None;
        self.config = Some(config.clone());
        self.chunk_ms = FIRST_CHUNK_MS;
        self.realtime_factor = 0.0;
        let mut note = None;
        let mut run = None;
        if config.engine == SpikeEngine::Gpu {
            match gpu_unsupported(&config) {
                Some(why) => note = Some(why.to_string()),
                None => match self.gpu_device().await {
                    Ok((device, queue, info)) => {
                        match GpuSession::new(config.clone(), device, queue, info) {
                            Ok(s) => run = Some(Run::Gpu(s)),
                            Err(e) => note = Some(format!("the GPU engine could not start: {e}")),
                        }
                    }
                    Err(e) => note = Some(format!("no GPU for the spiking engine: {e}")),
                },
            }
        }
        let run = match run {
            Some(run) => run,
            None => Run::Cpu(SpikeSession::new(config).map_err(|e| e.to_string())?),
        };
        let (neurons, synapses, engine) = match &run {
            Run::Cpu(s) => (s.network().n, s.network().n_synapses(), "cpu".to_string()),
            Run::Gpu(s) => (
                s.network().n,
                s.network().n_synapses(),
                format!(
                    "gpu ({}, {} steps per submit)",
                    s.info().name,
                    s.steps_per_submit()
                ),
            ),
        };
        post(Event::SpikeConfigured {
            neurons: u32::try_from(neurons).unwrap_or(u32::MAX),
            synapses: synapses as u64,
            engine,
            note,
        });
        self.run = Some(run);
        Ok(())
    }

    async fn gpu_device(&mut self) -> Result<(wgpu::Device, wgpu::Queue, GpuInfo), String> {
        if self.gpu.is_none() {
            self.gpu = Some(request_device().await.map_err(|e| e.to_string()));
        }
        match &self.gpu {
            Some(Ok((d, q, i))) => Ok((d.clone(), q.clone(), i.clone())),
            Some(Err(e)) => Err(e.clone()),
            None => Err("no GPU device".into()),
        }
    }

    pub async fn reset(&mut self, post: Post<'_>) -> Result<(), String> {
        match self.config.clone() {
            Some(config) => self.configure(config, post).await,
            None => Ok(()),
        }
    }

    pub fn apply(&mut self, control: SpikeControl) -> Result<(), String> {
        let run = self
            .run
            .as_mut()
            .ok_or_else(|| "the network is not built yet".to_string())?;
        run.apply(control)
    }

    pub fn start(&mut self, post: Post<'_>) -> Result<(), String> {
        let run = self
            .run
            .as_ref()
            .ok_or_else(|| "the network is not built yet".to_string())?;
        if run.done() {
            post(Event::SpikeStopped {
                t_ms: run.t_ms(),
                finished: true,
            });
            return Ok(());
        }
        self.running = true;
        Ok(())
    }

    pub fn stop(&mut self, post: Post<'_>) {
        self.running = false;
        if let Some(run) = &self.run {
            post(Event::SpikeProgress {
                t_ms: run.t_ms(),
                realtime_factor: self.realtime_factor,
                running: false,
            });
            post(Event::SpikeStopped {
                t_ms: run.t_ms(),
                finished: run.done(),
            });
        }
    }

    /// `Step`: one short chunk, reported, then stopped.
    pub async fn step(&mut self, post: Post<'_>) -> Result<(), String> {
        self.running = false;
        let run = self
            .run
            .as_mut()
            .ok_or_else(|| "the network is not built yet".to_string())?;
        let duration_ms = self.config.as_ref().map_or(0, |c| c.duration_ms);
        let left_ms = (f64::from(duration_ms) - run.t_ms()).ceil().max(1.0) as u32;
        let report = run.run_ms(STEP_MS.min(left_ms)).await?;
        post(Event::SpikeReport { report });
        self.stop(post);
        Ok(())
    }

    /// Simulate for about `budget_ms` of wall time while running: one chunk, sized from the
    /// speed measured so far, then its report (and progress now and then).
    pub async fn chunk(
        &mut self,
        budget_ms: f64,
        clock_ms: fn() -> f64,
        post: Post<'_>,
    ) -> Result<(), String> {
        let Some(run) = self.run.as_mut() else {
            self.running = false;
            return Ok(());
        };
        if !self.running {
            return Ok(());
        }
        // Stop exactly at the configured duration.
        let duration_ms = self.config.as_ref().map_or(0, |c| c.duration_ms);
        let left_ms = (f64::from(duration_ms) - run.t_ms()).ceil().max(1.0) as u32;
        let ms = self.chunk_ms.clamp(1, left_ms);
        let start = clock_ms();
        let report = run.run_ms(ms).await?;
        let wall_ms = (clock_ms() - start).max(0.01);
        let done = report.done;
        post(Event::SpikeReport { report });
        let speed = f64::from(ms) / wall_ms;
        self.realtime_factor = if self.realtime_factor > 0.0 {
            0.7 * self.realtime_factor + 0.3 * speed
        } else {
            speed
        };
        self.chunk_ms = ((self.realtime_factor * budget_ms) as u32).clamp(1, MAX_CHUNK_MS);
        if done {
            self.stop(post);
        } else if clock_ms() - self.last_progress_ms >= super::compute::PROGRESS_EVERY_MS {
            self.last_progress_ms = clock_ms();
            post(Event::SpikeProgress {
                t_ms: run.t_ms(),
                realtime_factor: self.realtime_factor,
                running: true,
            });
        }
        Ok(())
    }
}
