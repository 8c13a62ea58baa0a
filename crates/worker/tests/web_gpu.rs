//! Browser test of training on WebGPU (software SwiftShader in headless Chromium with
//! `--enable-unsafe-webgpu`, see webdriver.json). Its own file: burn's wgpu runtime starts once
//! per page, and each test file gets its own page. Sizes are tiny: software WebGPU is slow.
#![cfg(target_arch = "wasm32")]

use neurolab_core::grok::{GrokConfig, GrokSession};
use wasm_bindgen_test::*;

mod support;

wasm_bindgen_test_configure!(run_in_browser);

async fn webgpu() -> burn::tensor::Device {
    let (device, setup) = burn::tensor::Device::wgpu_options()
        .init_with_setup_async()
        .await
        .expect("a WebGPU adapter (is Chromium started with --enable-unsafe-webgpu?)");
    web_sys::console::log_1(&format!("adapter: {}", setup.adapter.get_info().name).into());
    device
}

#[wasm_bindgen_test]
async fn webgpu_training_lowers_the_loss() {
    let device = webgpu().await;
    let mut config = GrokConfig::preset_mlp();
    config.p = 7;
    config.hidden = 32;
    config.lr = 1e-2;
    let mut session = GrokSession::new(config, device.clone()).expect("valid config");
    let start = session.metrics().await.expect("readback");
    for _ in 0..5 {
        session.train_step().await;
    }
    let after = session.metrics().await.expect("readback");
    assert!(after.train_loss.is_finite() && start.train_loss.is_finite());
    assert!(
        after.train_loss < start.train_loss,
        "loss {} after 5 steps, {} at step 0",
        after.train_loss,
        start.train_loss
    );
    // One WebGPU device per page: the analysis check runs here too.
    analysis_agrees_with_the_native_numbers(device).await;
}

/// The mechanism of two small seeded models on WebGPU agrees with the native CPU numbers (to
/// float32 reduction order).
async fn analysis_agrees_with_the_native_numbers(device: burn::tensor::Device) {
    let want: Vec<neurolab_core::grok::Analysis> =
        serde_json::from_str(support::ANALYSIS_FIXTURE).unwrap();
    let got = support::small_analyses(device).await;
    assert_eq!(got.len(), 2);
    for (g, w) in got.iter().zip(&want) {
        support::agree(g, w, 2e-2).unwrap();
    }
}
