//! Browser test of losing the WebGPU device (`GPUDevice.destroy()` through the test hook):
//! the engine notices, says why, rebuilds the lab on the CPU and runs it there. Its own file
//! (its own page): burn's wgpu runtime starts once per page.
#![cfg(target_arch = "wasm32")]

use neurolab_base::msg::{LabCommand, LabEvent};
use neurolab_base::StopReason;
use neurolab_core::grok::GrokConfig;
use neurolab_core::protocol::{BackendChoice, Command, DebugHook, Event};
use neurolab_core::{AnyCommand, AnyEvent};
use wasm_bindgen_test::*;

mod support;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_lost_device_falls_back_to_the_cpu_and_the_lab_runs_there() {
    let (mut engine, events) = support::engine();
    engine
        .handle(Command::Init {
            backend: BackendChoice::Webgpu,
        })
        .await;
    assert!(
        matches!(&events.borrow()[0], Event::Backend { info } if info.kind == "webgpu"),
        "WebGPU started: {:?}",
        events.borrow()[0]
    );
    let mut config = GrokConfig::preset_mlp();
    config.p = 7;
    config.hidden = 16;
    config.steps = 6;
    config.report_every = 2;
    let lab = |command| Command::Lab {
        session: 4,
        command: AnyCommand::Grok(command),
    };
    engine
        .handle(lab(LabCommand::Configure {
            config,
            prepare: true,
        }))
        .await;
    engine.handle(lab(LabCommand::Step)).await;
    engine.work().await;
    engine
        .handle(Command::Debug {
            hook: DebugHook::LoseDevice,
        })
        .await;
    // The engine is on the CPU now, with the lab rebuilt (same session id).
    let fallback = events.borrow().iter().rev().find_map(|e| match e {
        Event::Backend { info } => Some(info.clone()),
        _ => None,
    });
    let info = fallback.expect("a backend event");
    assert_eq!(info.kind, "cpu");
    assert!(
        info.fallback_reason
            .as_deref()
            .unwrap_or("")
            .contains("lost"),
        "{info:?}"
    );
    events.borrow_mut().clear();
    engine.handle(lab(LabCommand::Run)).await;
    let mut guard = 0;
    while engine.is_busy() && guard < 10_000 {
        engine.work().await;
        guard += 1;
    }
    let finished = events.borrow().iter().any(|e| {
        matches!(
            e,
            Event::Lab {
                session: 4,
                event: AnyEvent::Grok(LabEvent::Stopped {
                    reason: StopReason::Finished,
                    ..
                })
            }
        )
    });
    assert!(
        finished,
        "the lab ran to its end on the CPU: {:?}",
        events.borrow()
    );
}
