//! The memory budget holds: over random configs of every lab, one that validates has an
//! estimate within the budget, and the estimate bounds what its session really allocates
//! (measured natively with a counting allocator on a sample: built, a few steps, a report).
#![cfg(not(target_arch = "wasm32"))]

use neurolab_base::budget::{self, MEMORY_BYTES};
use neurolab_base::lab::Chunk;
use neurolab_base::{LabConfig, Session};
use neurolab_core::grok::{backend_cpu, GrokConfig, GrokSession};
use neurolab_core::sae::{SaeConfig, SaeSession, SaeSource};
use neurolab_core::spike::{SpikeConfig, SpikeRun, SpikeSession};
use pollster::block_on;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = CURRENT.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measurement at a time (the counters are global).
static MEASURE: Mutex<()> = Mutex::new(());

/// Bytes allocated at the peak of `work`, above what was allocated before it. A backend's worker
/// threads may still be freeing an earlier test's buffers while `work` runs (the counters are
/// process-wide), which can hide the whole peak; such a measurement (≤ 1 KiB) is taken again, at
/// most three times.
fn peak_of(work: impl Fn()) -> usize {
    let _guard = MEASURE.lock().unwrap_or_else(|e| e.into_inner());
    let mut peak = 0;
    for _ in 0..3 {
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        work();
        peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        if peak > 1024 {
            break;
        }
    }
    peak
}

fn assert_bounded<C: LabConfig>(config: &C, measured: usize) {
    let e = config.estimate();
    // The allocator saw the session's work (a measurement of nothing would prove nothing).
    assert!(measured > 1024, "{config:?}: only {measured} bytes counted");
    assert!(
        measured as u64 <= e.bytes,
        "{config:?}: allocated {} but the estimate is {}",
        budget::fmt_bytes(measured as u64),
        budget::fmt_bytes(e.bytes)
    );
}

fn valid<C: LabConfig>(c: &C) -> bool {
    let ok = c.validate().is_ok();
    if ok {
        // What validates fits the budget.
        assert!(budget::check(&c.estimate()).is_ok() && c.estimate().bytes <= MEMORY_BYTES);
    }
    ok
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]

    #[test]
    fn grokking_sessions_stay_within_their_estimate(
        transformer in any::<bool>(),
        p in prop::sample::select(vec![5u32, 7, 11, 23, 31]),
        hidden in 1u32..200,
        d_model in prop::sample::select(vec![8u32, 16, 32]),
        d_mlp in 1u32..128,
        frac in 0.1f64..0.9,
        grokfast in any::<bool>(),
    ) {
        let mut c = if transformer { GrokConfig::preset_transformer() } else { GrokConfig::preset_mlp() };
        c.p = p;
        c.hidden = hidden;
        c.d_model = d_model;
        c.n_heads = 4;
        c.d_mlp = d_mlp;
        c.train_frac = frac;
        c.grokfast = grokfast;
        c.steps = 3;
        c.report_every = 1;
        prop_assume!(valid(&c));
        let measured = peak_of(|| {
            let mut s = GrokSession::new(c.clone(), backend_cpu()).unwrap();
            block_on(s.advance(Chunk { units: 3, sync: true })).unwrap();
            block_on(s.metrics()).unwrap();
        });
        assert_bounded(&c, measured);
    }

    #[test]
    fn spiking_sessions_stay_within_their_estimate(
        preset in prop::sample::select(vec!["izhikevich2003", "reservoir", "lif"]),
        n in 50usize..1500,
        p_conn in 0.01f32..0.3,
        stdp in any::<bool>(),
        ridge in any::<bool>(),
    ) {
        let mut c = SpikeConfig::preset(preset).unwrap();
        c.n = n;
        if !c.dense {
            c.p_conn = p_conn;
        }
        c.plasticity.stdp.enabled = stdp;
        if ridge && c.task.is_some() {
            c.readout = neurolab_core::spike::readout::ReadoutConfig::Ridge(Default::default());
        }
        c.trace_neurons.retain(|&i| (i as usize) < n);
        c.duration_ms = 100;
        prop_assume!(valid(&c));
        let measured = peak_of(|| {
            let mut s = SpikeRun::Cpu(Box::new(SpikeSession::new(c.clone()).unwrap()));
            block_on(s.advance(Chunk { units: 100, sync: false })).unwrap();
        });
        assert_bounded(&c, measured);
    }

    #[test]
    fn sae_sessions_stay_within_their_estimate(
        grok in any::<bool>(),
        latents in 4u32..256,
        k in 1u32..8,
        batch in 8u32..256,
        samples in 64u32..4096,
        kind in prop::sample::select(vec!["topk", "relu-l1", "snmf"]),
    ) {
        let mut c = SaeConfig::preset(if grok { SaeSource::GrokMlp } else { SaeSource::Toy });
        c.kind = neurolab_core::sae::SaeKind::parse(kind).unwrap();
        c.latents = latents;
        c.k = k.min(latents);
        c.k_aux = (latents / 2).max(1);
        c.batch = batch;
        c.toy_samples = samples;
        c.toy_steps = 5;
        c.grok_p = 11;
        c.grok_steps = 3;
        c.steps = 2;
        c.report_every = 1;
        prop_assume!(valid(&c));
        let measured = peak_of(|| {
            let mut s = SaeSession::new(c.clone(), backend_cpu(), None).unwrap();
            while s.preparing().is_some() {
                block_on(s.prepare(100)).unwrap();
            }
            block_on(s.advance(Chunk { units: 2, sync: true })).unwrap();
            block_on(s.apply(neurolab_core::sae::SaeControl::Features)).unwrap();
        });
        assert_bounded(&c, measured);
    }
}
