//! Browser tests of the compute path on the CPU backend (burn-flex in wasm): what only the
//! browser can show, i.e. that training and the async readback work in wasm.
//! Run: see scripts/web-test.sh (`cargo test --target wasm32-unknown-unknown --test web`).
#![cfg(target_arch = "wasm32")]

use neurolab_core::config::GrokConfig;
use neurolab_core::grok::{backend_cpu, GrokSession};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn tiny() -> GrokConfig {
    let mut c = GrokConfig::preset_mlp();
    c.p = 7;
    c.hidden = 32;
    c.lr = 1e-2;
    c.steps = 50;
    c
}

#[wasm_bindgen_test]
async fn cpu_training_lowers_the_loss() {
    let mut session = GrokSession::new(tiny(), backend_cpu()).expect("valid config");
    let start = session.report().await.expect("readback");
    assert_eq!(start.step, 0);
    assert!(start.train_loss.is_finite());
    for _ in 0..5 {
        session.train_step();
    }
    let after = session.report().await.expect("readback");
    assert_eq!(after.step, 5);
    assert!(
        after.train_loss < start.train_loss,
        "loss {} after 5 steps, {} at step 0",
        after.train_loss,
        start.train_loss
    );
}

#[wasm_bindgen_test]
async fn cpu_weights_export_as_safetensors() {
    let session = GrokSession::new(tiny(), backend_cpu()).expect("valid config");
    let bytes = session.safetensors().await.expect("export");
    // safetensors: 8-byte little-endian header length, then a JSON header.
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    assert!(
        header.contains("w_in") && header.contains("w_out"),
        "{header}"
    );
}
