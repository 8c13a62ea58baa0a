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

/// The spikes of the Izhikevich 2003 network (seed 2003, 1000 neurons) over its first 300 ms on
/// the CPU engine, as (count, FNV-1a digest of every (step, neuron)): the same numbers natively
/// (scalar loops) and in the browser (SIMD128 lanes). `engine.rs` and `web.rs` assert
/// [`SPIKE_DIGEST`]; if the engine's arithmetic changes on purpose, both change with it.
pub fn izhikevich2003_spike_digest() -> (u64, u64) {
    use neurolab_spike::network::Network;
    use neurolab_spike::sim::Sim;
    let net = Network::izhikevich2003(2003);
    let mut sim = Sim::new(&net);
    let (mut count, mut digest) = (0u64, 0xcbf2_9ce4_8422_2325u64);
    sim.run(&net, 300, |t, fired| {
        for &i in fired {
            count += 1;
            for byte in t.to_le_bytes().into_iter().chain(i.to_le_bytes()) {
                digest = (digest ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
            }
        }
    });
    (count, digest)
}

/// What [`izhikevich2003_spike_digest`] gives (checked natively and in the browser).
pub const SPIKE_DIGEST: (u64, u64) = (2536, 789_381_436_373_200_960);
