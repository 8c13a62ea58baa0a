//! The session as the UI drives it: chunked runs with reports, interventions while running,
//! plasticity changes, and the reservoir learning the what/when task end to end.

use neurolab_spike::config::SpikeConfig;
use neurolab_spike::control::SpikeControl;
use neurolab_spike::plasticity::{HomeostasisKind, PlasticityParams, StdpParams};
use neurolab_spike::session::SpikeSession;
use neurolab_spike::task::{TaskConfig, WhatWhenParams};

fn count_in(r: &neurolab_spike::report::SpikeReport, from: u32, to: u32) -> usize {
    r.spike_neuron
        .iter()
        .filter(|&&i| i >= from && i < to)
        .count()
}

#[test]
fn silencing_and_injection_while_running() {
    let mut s = SpikeSession::new(SpikeConfig::izhikevich2003()).unwrap();
    let before = s.run_ms(500);
    assert!(count_in(&before, 0, 100) > 50);
    s.apply(SpikeControl::Silence {
        from: 0,
        to: 100,
        on: true,
    })
    .unwrap();
    s.apply(SpikeControl::Inject {
        from: 200,
        to: 300,
        current: 10.0,
    })
    .unwrap();
    let during = s.run_ms(500);
    assert_eq!(count_in(&during, 0, 100), 0, "silenced rows must be empty");
    assert!(count_in(&during, 200, 300) > 2 * count_in(&during, 300, 400));
    s.apply(SpikeControl::Silence {
        from: 0,
        to: 100,
        on: false,
    })
    .unwrap();
    s.apply(SpikeControl::Inject {
        from: 200,
        to: 300,
        current: 0.0,
    })
    .unwrap();
    let after = s.run_ms(500);
    assert!(count_in(&after, 0, 100) > 50);
    // Report shape: 1 ms bins, 4 traces, population rate in Hz consistent with the spike list.
    assert_eq!(after.rate_hz.len(), 500);
    assert_eq!(after.traces_mv.len(), 4);
    assert!(after
        .traces_mv
        .iter()
        .all(|t| t.len() == 500 && t.iter().all(|&v| v <= 30.0)));
    let mean_rate = after.rate_hz.iter().sum::<f32>() / 500.0;
    let from_list = after.spike_neuron.len() as f32 / 1000.0 / 0.5;
    assert!((mean_rate - from_list).abs() < 1e-3 * from_list.max(1.0));
    assert!(after.spike_t_ms.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(after.t0_ms, 1000.0);
    // A 50 ms report is small enough to post as JSON every ~50 ms.
    let r = s.run_ms(50);
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.len() < 40_000, "report of {} bytes", json.len());
}

#[test]
fn noise_control_changes_the_rate() {
    let mut s = SpikeSession::new(SpikeConfig::izhikevich2003()).unwrap();
    let normal = s.run_ms(1000).rate_exc_hz;
    s.apply(SpikeControl::Noise { exc: 0.0, inh: 0.0 }).unwrap();
    s.run_ms(200);
    let quiet = s.run_ms(1000).rate_exc_hz;
    assert!(normal > 3.0 && quiet < 0.5, "{normal} → {quiet}");
}

#[test]
fn stdp_switched_on_mid_run_moves_the_weights() {
    let mut c = SpikeConfig::reservoir();
    c.task = None;
    let mut s = SpikeSession::new(c).unwrap();
    let r = s.run_ms(200);
    assert!(
        r.weights.is_none(),
        "no histogram without plasticity or a request"
    );
    let w0 = s.weight_histogram().mean;
    s.apply(SpikeControl::Plasticity {
        params: PlasticityParams {
            stdp: StdpParams {
                enabled: true,
                w_max: 4.0,
                a_plus: 0.05,
                a_minus: 0.06,
                ..StdpParams::default()
            },
            ..PlasticityParams::default()
        },
    })
    .unwrap();
    let before = s.network().out_w.clone();
    let r = s.run_ms(3000);
    let h = r.weights.expect("histogram while plasticity is on");
    assert_eq!(h.counts.len(), 32);
    assert_eq!(h.hi, 4.0);
    let ne_end = s.network().out_ptr[s.network().n_exc] as usize;
    let after = &s.network().out_w;
    let moved = (0..ne_end).filter(|&k| after[k] != before[k]).count();
    let mean_abs = (0..ne_end)
        .map(|k| (after[k] - before[k]).abs())
        .sum::<f32>()
        / ne_end as f32;
    assert!(
        moved > ne_end / 2,
        "only {moved} of {ne_end} excitatory weights changed"
    );
    assert!(mean_abs > 0.005 * w0, "mean |Δw| {mean_abs}");
    // Inhibitory weights are not plastic.
    assert_eq!(&after[ne_end..], &before[ne_end..]);
    // Bad parameters are refused and change nothing.
    let bad = PlasticityParams {
        stdp: StdpParams {
            enabled: true,
            tau_plus_ms: -1.0,
            ..StdpParams::default()
        },
        ..PlasticityParams::default()
    };
    let e = s
        .apply(SpikeControl::Plasticity { params: bad })
        .unwrap_err();
    assert!(e.to_string().contains("(tp)"), "{e}");
    // Homeostasis can be switched on too.
    let mut p = s.config().plasticity;
    p.homeostasis.kind = HomeostasisKind::Scaling;
    s.apply(SpikeControl::Plasticity { params: p }).unwrap();
    s.run_ms(100);
}

#[test]
fn reservoir_learns_what_when_and_the_error_falls() {
    // The reservoir preset (1000 sparse heterogeneous Izhikevich neurons) with the three-factor
    // readout on the what/when task: the per-trial prediction error falls.
    let mut c = SpikeConfig::reservoir();
    c.task = Some(TaskConfig::WhatWhen(WhatWhenParams::default()));
    let trials = |s: &mut SpikeSession, k: usize| {
        let mut pred = Vec::new();
        while pred.len() < k {
            let r = s.run_ms(1000);
            pred.extend(r.readout.unwrap().trials.iter().map(|t| t.pred_mse));
        }
        pred
    };
    // Baseline: the same run with learning paused (the readout stays at zero).
    let mut frozen = SpikeSession::new(c.clone()).unwrap();
    frozen.apply(SpikeControl::Learning { on: false }).unwrap();
    let base = trials(&mut frozen, 10);
    let untrained = base.iter().sum::<f32>() / base.len() as f32;
    let mut s = SpikeSession::new(c).unwrap();
    let pred = trials(&mut s, 40);
    let first = pred[..3].iter().sum::<f32>() / 3.0;
    let last = pred[30..40].iter().sum::<f32>() / 10.0;
    eprintln!(
        "what/when via session: untrained {untrained:.4}, first 3 trials {first:.4}, trials 30–40 {last:.4}"
    );
    assert!(last < 0.75 * first, "first {first} last {last}");
    assert!(last < 0.6 * untrained, "untrained {untrained} last {last}");
    let summary = s.final_summary();
    assert_eq!(summary.trials, pred.len() as u64);
    assert!(summary.final_pred_mse.is_some());
}
