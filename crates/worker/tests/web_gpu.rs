//! Browser test of training on WebGPU (software SwiftShader in headless Chromium with
//! `--enable-unsafe-webgpu`, see webdriver.json). Its own file: burn's wgpu runtime starts once
//! per page, and each test file gets its own page. Sizes are tiny: software WebGPU is slow.
#![cfg(target_arch = "wasm32")]

use neurolab_core::grok::{GrokConfig, GrokSession};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn webgpu_training_lowers_the_loss() {
    let (device, setup) = burn::tensor::Device::wgpu_options()
        .init_with_setup_async()
        .await
        .expect("a WebGPU adapter (is Chromium started with --enable-unsafe-webgpu?)");
    web_sys::console::log_1(&format!("adapter: {}", setup.adapter.get_info().name).into());
    let mut config = GrokConfig::preset_mlp();
    config.p = 7;
    config.hidden = 32;
    config.lr = 1e-2;
    let mut session = GrokSession::new(config, device).expect("valid config");
    let start = session.metrics().await.expect("readback");
    for _ in 0..5 {
        session.train_step();
    }
    let after = session.metrics().await.expect("readback");
    assert!(after.train_loss.is_finite() && start.train_loss.is_finite());
    assert!(
        after.train_loss < start.train_loss,
        "loss {} after 5 steps, {} at step 0",
        after.train_loss,
        start.train_loss
    );
}
