//! The Web Worker's glue: commands arrive as JSON strings through `onmessage`, events leave
//! through `postMessage` (an export's bytes as a transferable `ArrayBuffer` beside the JSON),
//! and the engine works in chunks between event-loop turns, so Pause, Step and new configs are
//! handled promptly. A panic posts `Crashed` before the wasm traps: the page starts a new worker.

use crate::engine::Engine;
use crate::env::now_ms;
use futures_channel::mpsc;
use futures_util::StreamExt as _;
use neurolab_core::protocol::{Command, Event};
use wasm_bindgen::prelude::*;

/// Post one event: `[json]`, or `[json, ArrayBuffer]` for an export (transferred, not copied).
fn post_event(scope: &web_sys::DedicatedWorkerGlobalScope, mut event: Event) {
    let bytes = event.export_bytes_mut().map(std::mem::take);
    let json = JsValue::from_str(&event.to_json());
    let message = js_sys::Array::new();
    message.push(&json);
    match bytes {
        Some(bytes) => {
            let buffer = js_sys::Uint8Array::from(bytes.as_slice()).buffer();
            message.push(&buffer);
            let transfer = js_sys::Array::of1(&buffer);
            // Posting cannot fail while the worker lives.
            let _ = scope.post_message_with_transfer(&message, &transfer);
        }
        None => {
            let _ = scope.post_message(&message);
        }
    }
}

/// Entry point of the worker bin: answer commands from the page until it goes away.
pub fn start_worker() {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    {
        let scope = scope.clone();
        std::panic::set_hook(Box::new(move |info| {
            console_error_panic_hook::hook(info);
            post_event(
                &scope,
                Event::Crashed {
                    message: info.to_string(),
                },
            );
        }));
    }
    let post = {
        let scope = scope.clone();
        move |event: Event| post_event(&scope, event)
    };
    let (tx, mut rx) = mpsc::unbounded::<Command>();
    let on_message = {
        let post = post.clone();
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |msg: web_sys::MessageEvent| {
            let command = match msg.data().as_string() {
                Some(s) => Command::from_json(&s).map_err(|e| e.to_string()),
                None => Err("a command must be a JSON string".to_string()),
            };
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
            if engine.is_busy() {
                match rx.try_recv() {
                    Ok(command) => engine.handle(command).await,
                    Err(mpsc::TryRecvError::Closed) => return,
                    Err(mpsc::TryRecvError::Empty) => {
                        engine.work().await;
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
async fn yield_to_event_loop() {
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
