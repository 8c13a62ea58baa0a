//! Browser tests of the compute path on the CPU backend (burn-flex in wasm): what only the
//! browser can show, i.e. that training and the async readback work in wasm.
//! Run: see scripts/web-test.sh (`cargo test --target wasm32-unknown-unknown --test web`).
#![cfg(target_arch = "wasm32")]

use neurolab_core::grok::{backend_cpu, GrokConfig, GrokSession};
use wasm_bindgen_test::*;

mod support;

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
    let start = session.metrics().await.expect("readback");
    assert_eq!(start.step, 0);
    assert!(start.train_loss.is_finite());
    for _ in 0..5 {
        session.train_step().await;
    }
    let after = session.metrics().await.expect("readback");
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

/// The engine and its generic runner in the browser: a lab configured, run to its budget in
/// chunks, every event readable by the page.
#[wasm_bindgen_test]
async fn the_engine_runs_a_lab_to_its_budget() {
    use neurolab_base::msg::{LabCommand, LabEvent};
    use neurolab_base::StopReason;
    use neurolab_core::protocol::{BackendChoice, Command, Event};
    use neurolab_core::AnyCommand;
    let (mut engine, events) = support::engine();
    engine
        .handle(Command::Init {
            backend: BackendChoice::Cpu,
        })
        .await;
    let mut config = tiny();
    config.steps = 30;
    config.report_every = 10;
    let lab = |command| Command::Lab {
        session: 1,
        command: AnyCommand::Grok(command),
    };
    engine
        .handle(lab(LabCommand::Configure {
            config,
            prepare: true,
        }))
        .await;
    engine.handle(lab(LabCommand::Run)).await;
    let mut chunks = 0;
    while engine.is_busy() && chunks < 10_000 {
        engine.work().await;
        chunks += 1;
    }
    let events = events.borrow();
    let mut steps = Vec::new();
    let mut finished = false;
    for e in events.iter() {
        assert_eq!(&Event::from_json(&e.to_json()).unwrap(), e);
        if let Event::Lab {
            event: neurolab_core::AnyEvent::Grok(e),
            ..
        } = e
        {
            match e {
                LabEvent::Report { report } => steps.push(report.metrics.step),
                LabEvent::Stopped {
                    reason: StopReason::Finished,
                    ..
                } => finished = true,
                _ => {}
            }
        }
    }
    assert_eq!(steps, [0, 10, 20, 30]);
    assert!(finished);
}

/// The mechanism (spectra, neurons, progress measures, rich/lazy measures) of two small seeded
/// models on the browser's CPU backend agrees with the native run's numbers.
#[wasm_bindgen_test]
async fn cpu_analysis_agrees_with_the_native_numbers() {
    let want: Vec<neurolab_core::grok::Analysis> =
        serde_json::from_str(support::ANALYSIS_FIXTURE).unwrap();
    let got = support::small_analyses(backend_cpu()).await;
    for (g, w) in got.iter().zip(&want) {
        support::agree(g, w, 1e-3).unwrap();
    }
    assert_eq!(got.len(), 2);
}

/// The spiking CPU engine in the browser (its SIMD128 lanes) gives the native engine's spikes.
#[wasm_bindgen_test]
fn spiking_engine_gives_the_native_spikes() {
    assert_eq!(
        support::izhikevich2003_spike_digest(),
        support::SPIKE_DIGEST
    );
}
