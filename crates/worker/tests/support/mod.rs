//! What the worker tests share (natively and in the browser): an engine whose events are kept,
//! and the small analyses native and browser runs must agree on.
#![allow(dead_code)]

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

use neurolab_base::lab::Chunk;
use neurolab_base::Session as _;
use neurolab_core::grok::config::ModelKind;
use neurolab_core::grok::{Analysis, GrokConfig, GrokSession};

/// The analyses native and browser runs must agree on (written by a native run with
/// `NEUROLAB_BLESS=1`, see `engine.rs`).
pub const ANALYSIS_FIXTURE: &str = include_str!("grok-analysis.json");

/// A small seeded model of each kind, 20 steps on `device`, then its mechanism.
pub async fn small_analyses(device: burn::tensor::Device) -> Vec<Analysis> {
    let mut out = Vec::new();
    for model in [ModelKind::Mlp, ModelKind::Transformer] {
        let mut c = GrokConfig::preset_of_model(model);
        c.p = 11;
        c.hidden = 32;
        c.d_model = 32;
        c.d_mlp = 64;
        c.lr = 1e-2;
        c.steps = 20;
        c.report_every = 20;
        c.analyse_every = 20;
        let mut s = GrokSession::new(c, device.clone()).expect("a valid config");
        let mut last = None;
        while !s.finished() {
            let a = s
                .advance(Chunk {
                    units: 20,
                    sync: false,
                })
                .await
                .expect("training");
            last = a.reports.into_iter().last().or(last);
        }
        out.push(
            *last
                .and_then(|r| r.analysis)
                .expect("an analysis at the last step"),
        );
    }
    out
}

/// Whether two analyses of the same model agree: every number within `tol` (relative to the
/// largest of its kind), the key frequencies and nine in ten neurons' frequencies the same.
pub fn agree(a: &Analysis, b: &Analysis, tol: f32) -> Result<(), String> {
    let close = |what: &str, x: &[f32], y: &[f32]| -> Result<(), String> {
        let scale = x.iter().chain(y).fold(1e-12f32, |m, v| m.max(v.abs()));
        if x.len() != y.len() {
            return Err(format!("{what}: {} values vs {}", x.len(), y.len()));
        }
        match x
            .iter()
            .zip(y)
            .position(|(p, q)| (p - q).abs() > tol * scale)
        {
            Some(i) => Err(format!("{what}[{i}]: {} vs {}", x[i], y[i])),
            None => Ok(()),
        }
    };
    let opt = |v: Option<f32>| v.into_iter().collect::<Vec<_>>();
    close("spectrum", &a.spectrum.power(), &b.spectrum.power())?;
    close("gini", &[a.gini], &[b.gini])?;
    close("key share", &[a.key_power_frac], &[b.key_power_frac])?;
    close(
        "restricted loss",
        &opt(a.restricted_loss),
        &opt(b.restricted_loss),
    )?;
    close(
        "excluded loss",
        &opt(a.excluded_loss),
        &opt(b.excluded_loss),
    )?;
    close("cka", &opt(a.cka), &opt(b.cka))?;
    let changes = |x: &Analysis| {
        x.weight_change
            .iter()
            .map(|c| c.relative)
            .collect::<Vec<_>>()
    };
    close("weight change", &changes(a), &changes(b))?;
    if a.key_freqs != b.key_freqs || a.logit_freqs != b.logit_freqs {
        return Err(format!(
            "key frequencies {:?}/{:?} vs {:?}/{:?}",
            a.key_freqs, a.logit_freqs, b.key_freqs, b.logit_freqs
        ));
    }
    let same = a
        .neurons
        .iter()
        .zip(&b.neurons)
        .filter(|(x, y)| x.freq == y.freq)
        .count();
    if same * 10 < a.neurons.len() * 9 || a.neurons.len() != b.neurons.len() {
        return Err(format!(
            "only {same} of {} neurons agree on their frequency",
            a.neurons.len()
        ));
    }
    Ok(())
}
