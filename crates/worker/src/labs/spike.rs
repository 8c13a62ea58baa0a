//! The spiking lab in the worker: the CPU engine, or the WGSL engine on a WebGPU device of its
//! own (requested once per worker). A config the GPU engine cannot run, or a GPU that fails,
//! falls back to the CPU engine with a note — re-validated against the CPU engine's limits.

use super::{Created, WorkerLab};
use crate::env::Env;
use crate::error::WorkerError;
use burn::backend::wgpu::wgpu;
use neurolab_base::LabConfig as _;
use neurolab_core::spike::config::Engine;
use neurolab_core::spike::gpu::{request_device, GpuInfo};
use neurolab_core::spike::gpu_session::{gpu_unsupported, GpuSession};
use neurolab_core::spike::{SpikeConfig, SpikeLab, SpikeRun, SpikeSession};

type GpuDevice = (wgpu::Device, wgpu::Queue, GpuInfo);

impl WorkerLab for SpikeLab {
    type Session = SpikeRun;
    /// The WGSL engine's device, requested once per worker (not burn's).
    type Shared = Option<Result<GpuDevice, String>>;

    async fn create(
        config: SpikeConfig,
        _env: &Env,
        shared: &mut Self::Shared,
    ) -> Result<Created<SpikeRun>, WorkerError> {
        let mut note = None;
        if config.engine == Engine::Gpu {
            match gpu_unsupported(&config) {
                Some(why) => note = Some(why.to_string()),
                None => {
                    if shared.is_none() {
                        *shared = Some(request_device().await.map_err(|e| e.to_string()));
                    }
                    match shared {
                        Some(Ok((device, queue, info))) => {
                            match GpuSession::new(
                                config.clone(),
                                device.clone(),
                                queue.clone(),
                                info.clone(),
                            ) {
                                Ok(s) => {
                                    return Ok(Created {
                                        session: SpikeRun::Gpu(Box::new(s)),
                                        note: None,
                                    })
                                }
                                Err(e) => {
                                    note = Some(format!("the GPU engine could not start: {e}"))
                                }
                            }
                        }
                        Some(Err(e)) => note = Some(format!("no GPU for the spiking engine: {e}")),
                        None => note = Some("no GPU for the spiking engine".into()),
                    }
                }
            }
        }
        let mut cpu = config;
        cpu.engine = Engine::Cpu;
        // The CPU engine's limits are lower: say so rather than start something else.
        cpu.validate()?;
        Ok(Created {
            session: SpikeRun::Cpu(Box::new(SpikeSession::new(cpu)?)),
            note,
        })
    }

    fn fallback(config: &SpikeConfig, error: &WorkerError) -> Option<(SpikeConfig, String)> {
        if config.engine != Engine::Gpu || !matches!(error, WorkerError::Spike(_)) {
            return None;
        }
        let mut cpu = config.clone();
        cpu.engine = Engine::Cpu;
        Some((
            cpu,
            format!("the GPU engine failed ({error}); restarted on the CPU engine"),
        ))
    }
}
