//! Browser test of the spiking GPU engine (`neurolab_spike::gpu`) on WebGPU — software SwiftShader
//! in headless Chromium with `--enable-unsafe-webgpu` (see webdriver.json) — against the CPU engine
//! in the same page. Its own file (its own page): it requests its own WebGPU device, not burn's.
//! Sizes are small: software WebGPU is slow.
//! Run: `cargo test -p neurolab-worker --target wasm32-unknown-unknown --profile wasm-release --test web_spike_gpu`.
#![cfg(target_arch = "wasm32")]

use neurolab_spike::gpu::GpuSim;
use neurolab_spike::network::{Network, NeuronModel, SparseSpec, DEFAULT_LIF};
use neurolab_spike::sim::Sim;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn small_network() -> Network {
    Network::sparse(&SparseSpec {
        model: NeuronModel::Izhikevich,
        n: 120,
        exc_frac: 0.8,
        p_conn: 0.1,
        w_exc: 6.0,
        w_inh: 12.0,
        type_mix: 1.0,
        heterogeneity: 0.1,
        noise_exc: 5.0,
        noise_inh: 2.0,
        dt_ms: 1.0,
        lif: DEFAULT_LIF,
        seed: 11,
    })
}

fn cpu_spikes(net: &Network, steps: u32, silence: std::ops::Range<usize>) -> Vec<(u32, u32)> {
    let mut sim = Sim::new(net);
    sim.set_silenced(silence.start, silence.end, true);
    let mut out = Vec::new();
    sim.run(net, steps, |t, fired| {
        out.extend(fired.iter().map(|&i| (t, i)))
    });
    out
}

async fn gpu_spikes(net: &Network, steps: u32, silence: std::ops::Range<usize>) -> Vec<(u32, u32)> {
    let (mut gpu, info) = GpuSim::with_own_device(net)
        .await
        .expect("a WebGPU adapter (is Chromium started with --enable-unsafe-webgpu?)");
    web_sys::console::log_1(
        &format!("spike GPU engine on {} ({})", info.name, info.backend).into(),
    );
    gpu.set_steps_per_submit(100)
        .expect("100 steps per submit fit");
    gpu.set_silenced_range(silence, true)
        .expect("range inside the network");
    gpu.run(steps).await.expect("GPU run").spikes
}

#[wasm_bindgen_test]
async fn webgpu_engine_rate_matches_the_cpu_engine_and_silencing_holds() {
    let net = small_network();
    let steps = 500;
    let cpu = cpu_spikes(&net, steps, 0..20);
    let gpu = gpu_spikes(&net, steps, 0..20).await;
    let rate = |s: &[(u32, u32)]| s.len() as f64 / (net.n as f64 * steps as f64 / 1000.0);
    let (rc, rg) = (rate(&cpu), rate(&gpu));
    web_sys::console::log_1(&format!("CPU {rc:.2} Hz, WebGPU {rg:.2} Hz").into());
    assert!(rc > 1.0, "the test network should fire, CPU rate {rc} Hz");
    assert!(
        (rg - rc).abs() <= 0.03 * rc,
        "WebGPU {rg} Hz vs CPU {rc} Hz"
    );
    assert!(
        gpu.iter().all(|&(_, i)| i >= 20),
        "a silenced neuron fired on WebGPU"
    );
}

#[wasm_bindgen_test]
async fn webgpu_engine_spike_trains_are_identical_to_the_cpu_engine() {
    let net = small_network();
    let steps = 300;
    let cpu = cpu_spikes(&net, steps, 0..0);
    let gpu = gpu_spikes(&net, steps, 0..0).await;
    let first = cpu.iter().zip(&gpu).position(|(a, b)| a != b);
    assert_eq!(first, None, "first differing spike (index) on WebGPU");
    assert_eq!(cpu, gpu);
}
