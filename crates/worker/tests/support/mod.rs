//! What the engine tests share (natively and in the browser): an engine whose events are kept.

use neurolab_core::protocol::Event;
use neurolab_worker::env::now_ms;
use neurolab_worker::Engine;
use std::cell::RefCell;
use std::rc::Rc;

pub type Events = Rc<RefCell<Vec<Event>>>;

/// An engine that keeps every event it posts.
pub fn engine() -> (Engine, Events) {
    let events: Events = Rc::new(RefCell::new(Vec::new()));
    let sink = events.clone();
    (
        Engine::new(move |e| sink.borrow_mut().push(e), now_ms),
        events,
    )
}
