//! Where sessions compute: the burn device (WebGPU in the browser when it starts, else the CPU
//! backend; natively whatever the CLI picked), what to tell the user about it, and the clock.

use burn::tensor::Device;
use neurolab_core::grok::{backend_cpu, CPU_BACKEND_NAME};
use neurolab_core::protocol::{BackendChoice, BackendInfo};
use std::sync::{Arc, Mutex};

/// burn's wgpu device underneath, for the device-lost path and the test hook.
#[derive(Clone)]
pub struct GpuHandle {
    pub device: burn::backend::wgpu::wgpu::Device,
    /// Set when the device is known to be gone.
    pub lost: Arc<Mutex<Option<String>>>,
}

/// The device the labs' sessions live on.
#[derive(Clone)]
pub struct Env {
    pub device: Device,
    pub info: BackendInfo,
    pub gpu: Option<GpuHandle>,
}

impl Env {
    /// The CPU backend (burn-flex), with the reason when WebGPU was wanted.
    pub fn cpu(fallback_reason: Option<String>) -> Env {
        Env {
            device: backend_cpu(),
            info: BackendInfo {
                kind: "cpu".into(),
                adapter: CPU_BACKEND_NAME.into(),
                fallback_reason,
            },
            gpu: None,
        }
    }

    /// Any device, named (the CLI's ndarray or native wgpu).
    pub fn native(device: Device, kind: &str, adapter: String) -> Env {
        Env {
            device,
            info: BackendInfo {
                kind: kind.into(),
                adapter,
                fallback_reason: None,
            },
            gpu: None,
        }
    }

    /// Work is queued on a GPU (reads are the only way to wait for it).
    pub fn on_gpu(&self) -> bool {
        self.info.kind != "cpu"
    }

    /// Why the GPU device is gone, if it is.
    pub fn lost(&self) -> Option<String> {
        let gpu = self.gpu.as_ref()?;
        gpu.lost.lock().ok()?.clone()
    }

    /// Destroy the GPU device (the browser tests' hook for a device loss).
    pub fn lose_device(&self, why: &str) -> bool {
        let Some(gpu) = &self.gpu else {
            return false;
        };
        if let Ok(mut lost) = gpu.lost.lock() {
            *lost = Some(why.to_string());
        }
        gpu.device.destroy();
        true
    }
}

/// The device for `choice`: WebGPU when asked for (or `auto`) and it starts, else the CPU with
/// the reason. `webgpu` caches the first attempt: burn's wgpu runtime starts once per worker.
pub async fn env_for(choice: BackendChoice, webgpu: &mut Option<Result<Env, String>>) -> Env {
    if choice == BackendChoice::Cpu {
        return Env::cpu(None);
    }
    if webgpu.is_none() {
        *webgpu = Some(init_webgpu().await);
    }
    match webgpu {
        Some(Ok(env)) if env.lost().is_none() => env.clone(),
        Some(Ok(env)) => Env::cpu(Some(format!(
            "the WebGPU device was lost ({}); running on the CPU",
            env.lost().unwrap_or_default()
        ))),
        Some(Err(reason)) => Env::cpu(Some(reason.clone())),
        None => Env::cpu(Some("WebGPU was not tried".into())),
    }
}

/// burn's wgpu device on the browser's WebGPU, with the adapter's name; `Err` says why not.
#[cfg(target_arch = "wasm32")]
async fn init_webgpu() -> Result<Env, String> {
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
            Ok(Env {
                device,
                info: BackendInfo {
                    kind: "webgpu".into(),
                    adapter: label,
                    fallback_reason: None,
                },
                gpu: Some(GpuHandle {
                    device: setup.device.clone(),
                    lost: Arc::new(Mutex::new(None)),
                }),
            })
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
async fn init_webgpu() -> Result<Env, String> {
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
