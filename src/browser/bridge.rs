//! The page's end of the compute worker: start it, send [`Command`]s, receive [`Event`]s (with
//! an export's bytes, which arrive as a transferable buffer beside the JSON), and start a new
//! worker when one crashes.
//!
//! Commands sent before the worker's wasm has loaded are queued until its `Loaded` event (a
//! worker drops messages that arrive before its handler exists).

use neurolab_core::protocol::{Command, Event};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The script trunk emits for the `worker` bin (`data-loader-shim`), next to index.html.
pub const WORKER_URL: &str = "./worker_loader.js";

/// What the page gets: an event and, for an export, its bytes.
pub type OnEvent = Rc<dyn Fn(Event, Option<Vec<u8>>)>;

struct Inner {
    worker: Option<web_sys::Worker>,
    /// `Some(queue)` until the worker has loaded.
    queue: Option<Vec<Command>>,
    /// The handlers of the current worker (dropped with it).
    handlers: Vec<Closure<dyn Fn(JsValue)>>,
}

#[derive(Clone)]
pub struct WorkerLink {
    url: &'static str,
    inner: Rc<RefCell<Inner>>,
    on_event: OnEvent,
}

/// An event from a worker message: `[json]` or `[json, ArrayBuffer]`.
fn decode(data: JsValue) -> (Event, Option<Vec<u8>>) {
    let parts = js_sys::Array::from(&data);
    let json = parts.get(0).as_string();
    let bytes = (parts.length() > 1).then(|| js_sys::Uint8Array::new(&parts.get(1)).to_vec());
    let event = json
        .ok_or_else(|| "the worker sent a message that is not text".to_string())
        .and_then(|s| Event::from_json(&s).map_err(|e| e.to_string()))
        .unwrap_or_else(|message| Event::Error { message });
    (event, bytes)
}

impl WorkerLink {
    /// Start the worker; `on_event` gets every event it posts (`Crashed` when it dies).
    pub fn start(url: &'static str, on_event: OnEvent) -> Result<Self, String> {
        let link = Self {
            url,
            inner: Rc::new(RefCell::new(Inner {
                worker: None,
                queue: Some(Vec::new()),
                handlers: Vec::new(),
            })),
            on_event,
        };
        link.spawn()?;
        Ok(link)
    }

    fn spawn(&self) -> Result<(), String> {
        let worker = web_sys::Worker::new(self.url)
            .map_err(|e| format!("the compute worker could not start: {e:?}"))?;
        let on_message = {
            let link = self.clone();
            Closure::<dyn Fn(JsValue)>::new(move |msg: JsValue| {
                let data = js_sys::Reflect::get(&msg, &"data".into()).unwrap_or_default();
                let (event, bytes) = decode(data);
                if event == Event::Loaded {
                    link.flush();
                }
                (link.on_event)(event, bytes);
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let on_error = {
            let on_event = self.on_event.clone();
            Closure::<dyn Fn(JsValue)>::new(move |e: JsValue| {
                let message = js_sys::Reflect::get(&e, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
                    .unwrap_or_else(|| "unknown error".into());
                on_event(Event::Crashed { message }, None);
            })
        };
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let mut inner = self.inner.borrow_mut();
        inner.worker = Some(worker);
        inner.queue = Some(Vec::new());
        inner.handlers = vec![on_message, on_error];
        Ok(())
    }

    /// End the current worker and start a fresh one (commands queue until it has loaded).
    pub fn restart(&self) -> Result<(), String> {
        let old = self.inner.borrow_mut().worker.take();
        if let Some(worker) = old {
            worker.set_onmessage(None);
            worker.set_onerror(None);
            worker.terminate();
        }
        self.spawn()
    }

    pub fn send(&self, command: Command) {
        let mut inner = self.inner.borrow_mut();
        if let Some(queue) = inner.queue.as_mut() {
            queue.push(command);
            return;
        }
        if let Some(worker) = &inner.worker {
            // Posting a string to a live worker does not fail; a dead one reports through
            // onerror.
            let _ = worker.post_message(&JsValue::from_str(&command.to_json()));
        }
    }

    fn flush(&self) {
        let mut inner = self.inner.borrow_mut();
        let queued = inner.queue.take().unwrap_or_default();
        if let Some(worker) = &inner.worker {
            for command in &queued {
                let _ = worker.post_message(&JsValue::from_str(&command.to_json()));
            }
        }
    }
}
