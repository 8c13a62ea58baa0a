//! The page's end of the compute worker: start it, send [`Command`]s, receive [`Event`]s.
//!
//! Commands sent before the worker's wasm has loaded are queued until its `Loaded` event (a
//! worker drops messages that arrive before its handler exists).

use neurolab_core::protocol::{Command, Event};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The script trunk emits for the `worker` bin (`data-loader-shim`), next to index.html.
pub const WORKER_URL: &str = "./worker_loader.js";

#[derive(Clone)]
pub struct WorkerLink {
    worker: web_sys::Worker,
    queue: Rc<RefCell<Option<Vec<Command>>>>,
}

impl WorkerLink {
    /// Start the worker; `on_event` gets every event it posts (and an `Error` if it dies).
    pub fn start(url: &str, on_event: impl Fn(Event) + 'static) -> Result<Self, String> {
        let worker = web_sys::Worker::new(url)
            .map_err(|e| format!("the compute worker could not start: {e:?}"))?;
        let link = Self {
            worker: worker.clone(),
            // `Some(queue)` until the worker has loaded.
            queue: Rc::new(RefCell::new(Some(Vec::new()))),
        };
        let on_event = Rc::new(on_event);
        let on_message = {
            let link = link.clone();
            let on_event = on_event.clone();
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |msg: web_sys::MessageEvent| {
                let event = msg
                    .data()
                    .as_string()
                    .ok_or_else(|| "the worker sent a message that is not text".to_string())
                    .and_then(|s| Event::from_json(&s))
                    .unwrap_or_else(|message| Event::Error { message });
                if event == Event::Loaded {
                    link.flush();
                }
                on_event(event);
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let on_error =
            Closure::<dyn Fn(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
                on_event(Event::Error {
                    message: format!(
                        "the compute worker stopped: {} (reload the page to start again)",
                        e.message()
                    ),
                });
            });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // Both handlers live as long as the page.
        on_message.forget();
        on_error.forget();
        Ok(link)
    }

    pub fn send(&self, command: Command) {
        if let Some(queue) = self.queue.borrow_mut().as_mut() {
            queue.push(command);
            return;
        }
        self.post(&command);
    }

    fn post(&self, command: &Command) {
        // Posting a string to a live worker does not fail; a dead one reports through onerror.
        let _ = self
            .worker
            .post_message(&JsValue::from_str(&command.to_json()));
    }

    fn flush(&self) {
        let queued = self.queue.borrow_mut().take().unwrap_or_default();
        for command in &queued {
            self.post(command);
        }
    }
}
