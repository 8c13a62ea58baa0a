//! The GPU engine against the CPU engine (natively on whatever adapter wgpu finds: Mesa's lavapipe
//! software Vulkan on the build machine). Each test skips with a message only when there is no
//! adapter at all. Run: `cargo test -p neurolab-spike --features gpu --test gpu -- --nocapture`.
#![cfg(feature = "gpu")]

use neurolab_spike::gpu::GpuSim;
use neurolab_spike::network::{Network, NeuronModel, SparseSpec, DEFAULT_LIF};
use neurolab_spike::sim::Sim;
use neurolab_spike::SpikeError as GpuError;

/// The GPU engine for `net`, or `None` (with a message) when this machine has no adapter.
fn gpu(net: &Network) -> Option<GpuSim> {
    match pollster::block_on(GpuSim::with_own_device(net)) {
        Ok((sim, info)) => {
            eprintln!(
                "GPU engine on {} ({}, {})",
                info.name, info.backend, info.device_type
            );
            Some(sim)
        }
        Err(GpuError::NoAdapter(e)) => {
            eprintln!("SKIPPED: no GPU adapter on this machine ({e})");
            None
        }
        Err(e) => panic!("GPU engine failed to build: {e}"),
    }
}

fn spec(model: NeuronModel, n: usize, seed: u64) -> SparseSpec {
    SparseSpec {
        model,
        n,
        exc_frac: 0.8,
        p_conn: 0.1,
        w_exc: 6.0,
        w_inh: 12.0,
        type_mix: 1.0,
        heterogeneity: 0.1,
        noise_exc: 5.0,
        noise_inh: 2.0,
        dt_ms: 1.0,
        lif: DEFAULT_LIF,
        seed,
    }
}

/// The CPU engine's spikes for `steps` steps, as (step, neuron), continuing `sim`.
fn cpu_run(sim: &mut Sim, net: &Network, steps: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    sim.run(net, steps, |t, fired| {
        out.extend(fired.iter().map(|&i| (t, i)))
    });
    out
}

/// The first step at which two spike lists differ, if any.
fn first_difference(a: &[(u32, u32)], b: &[(u32, u32)]) -> Option<u32> {
    let k = a.iter().zip(b).position(|(x, y)| x != y);
    match k {
        Some(k) => Some(a[k].0.min(b[k].0)),
        None if a.len() != b.len() => Some(a.get(b.len()).or(b.get(a.len())).map_or(0, |s| s.0)),
        None => None,
    }
}

fn rate_hz(spikes: usize, n: usize, steps: u32, dt_ms: f32) -> f64 {
    spikes as f64 / (n as f64 * steps as f64 * dt_ms as f64 / 1000.0)
}

#[test]
fn izhikevich_spike_trains_are_identical_to_the_cpu_engine() {
    let net = Network::sparse(&spec(NeuronModel::Izhikevich, 200, 11));
    let Some(mut g) = gpu(&net) else { return };
    let mut cpu = Sim::new(&net);
    let steps = 2000;
    let c = cpu_run(&mut cpu, &net, steps);
    let chunk = pollster::block_on(g.run(steps)).unwrap();
    let rate = rate_hz(c.len(), net.n, steps, net.dt_ms);
    eprintln!(
        "200 Izhikevich neurons, {} synapses, {steps} ms: CPU {} spikes ({rate:.1} Hz), GPU {} spikes, first difference at {:?} ms, {} submits",
        net.n_synapses(),
        c.len(),
        chunk.spikes.len(),
        first_difference(&c, &chunk.spikes),
        chunk.submits,
    );
    assert!(
        rate > 1.0 && rate < 100.0,
        "the test network should be active, rate {rate} Hz"
    );
    // The shader blocks FMA contraction and both engines add in the same order, so the two
    // engines compute bit-identical f32 states: the spike trains are the same, spike for spike.
    assert_eq!(first_difference(&c, &chunk.spikes), None);
    assert_eq!(c, chunk.spikes);
    let counts: u32 = chunk.counts.iter().sum();
    assert_eq!(counts as usize, chunk.spikes.len());
    let (v, u) = pollster::block_on(g.read_state()).unwrap();
    assert_eq!(v, cpu.v, "membrane potentials after {steps} steps");
    assert_eq!(u, cpu.u, "recovery variables after {steps} steps");
}

#[test]
fn chunking_and_steps_per_submit_do_not_change_the_run() {
    let net = Network::sparse(&spec(NeuronModel::Izhikevich, 150, 5));
    let Some(mut a) = gpu(&net) else { return };
    let Some(mut b) = gpu(&net) else { return };
    let whole = pollster::block_on(a.run(900)).unwrap();
    b.set_steps_per_submit(64).unwrap();
    let mut parts = pollster::block_on(b.run(300)).unwrap();
    assert_eq!(parts.submits, 5);
    let rest = pollster::block_on(b.run(600)).unwrap();
    assert_eq!(rest.first_step, 300);
    parts.spikes.extend(rest.spikes);
    assert_eq!(whole.spikes, parts.spikes);
    assert!(!whole.spikes.is_empty());
}

#[test]
fn silencing_and_injected_current_act_the_same_on_both_engines() {
    let net = Network::sparse(&spec(NeuronModel::Izhikevich, 120, 3));
    let Some(mut g) = gpu(&net) else { return };
    let mut cpu = Sim::new(&net);
    let mut c = cpu_run(&mut cpu, &net, 300);
    let mut gs = pollster::block_on(g.run(300)).unwrap().spikes;

    // Silence 0..40 and drive 100..110 with 15 (pA-like units of the model) for 500 ms.
    cpu.set_silenced(0, 40, true);
    for x in &mut cpu.i_ext[100..110] {
        *x = 15.0;
    }
    g.set_silenced_range(0..40, true).unwrap();
    g.set_i_ext_range(100..110, 15.0).unwrap();
    let c_mid = cpu_run(&mut cpu, &net, 500);
    let g_mid = pollster::block_on(g.run(500)).unwrap();
    assert!(
        g_mid.spikes.iter().all(|&(_, i)| i >= 40),
        "a silenced neuron fired on the GPU"
    );
    let driven = |s: &[(u32, u32)]| s.iter().filter(|&&(_, i)| (100..110).contains(&i)).count();
    let before = driven(&gs) as f64 / 300.0;
    let during = driven(&g_mid.spikes) as f64 / 500.0;
    eprintln!("driven group: {before:.3} spikes/ms before, {during:.3} during the injection");
    assert!(
        during > 2.0 * before,
        "injection should raise the driven group's rate"
    );

    // Release: silenced neurons fire again.
    cpu.set_silenced(0, 40, false);
    g.set_silenced(&vec![false; net.n]).unwrap();
    let c_after = cpu_run(&mut cpu, &net, 500);
    let g_after = pollster::block_on(g.run(500)).unwrap();
    assert!(
        g_after.spikes.iter().any(|&(_, i)| i < 40),
        "released neurons stayed quiet"
    );

    c.extend(c_mid);
    c.extend(c_after);
    gs.extend(g_mid.spikes);
    gs.extend(g_after.spikes);
    assert_eq!(first_difference(&c, &gs), None);
}

#[test]
fn probed_membrane_traces_match_the_cpu_engine() {
    let net = Network::sparse(&spec(NeuronModel::Izhikevich, 100, 8));
    let Some(mut g) = gpu(&net) else { return };
    let probes = [3u32, 50, 99];
    g.set_probes(&probes).unwrap();
    let chunk = pollster::block_on(g.run(250)).unwrap();
    let mut cpu = Sim::new(&net);
    for s in 0..250usize {
        cpu.step(&net);
        for (k, &i) in probes.iter().enumerate() {
            assert_eq!(
                chunk.traces_mv[s * probes.len() + k],
                cpu.v[i as usize],
                "v of {i} at {s} ms"
            );
        }
    }
}

#[test]
fn lif_network_matches_the_cpu_engine() {
    let mut sp = spec(NeuronModel::Lif, 200, 21);
    sp.w_exc = 3.0;
    sp.w_inh = 6.0;
    sp.noise_exc = 8.0;
    sp.noise_inh = 8.0;
    sp.dt_ms = 0.5;
    let net = Network::sparse(&sp);
    let Some(mut g) = gpu(&net) else { return };
    let mut cpu = Sim::new(&net);
    for x in &mut cpu.i_ext {
        *x = 20.5;
    }
    g.set_i_ext(&vec![20.5; net.n]).unwrap();
    let steps = 2000;
    let c = cpu_run(&mut cpu, &net, steps);
    let chunk = pollster::block_on(g.run(steps)).unwrap();
    let rate = rate_hz(c.len(), net.n, steps, net.dt_ms);
    eprintln!(
        "200 LIF neurons, {steps} steps of 0.5 ms: CPU {} spikes ({rate:.1} Hz), GPU {}, first difference {:?}",
        c.len(),
        chunk.spikes.len(),
        first_difference(&c, &chunk.spikes)
    );
    assert!(
        rate > 1.0,
        "the LIF test network should fire, rate {rate} Hz"
    );
    assert_eq!(first_difference(&c, &chunk.spikes), None);
}

#[test]
fn izhikevich2003_rate_matches_the_cpu_engine() {
    let net = Network::izhikevich2003(2003);
    let Some(mut g) = gpu(&net) else { return };
    let mut cpu = Sim::new(&net);
    let steps = 1000;
    let t = std::time::Instant::now();
    let c = cpu_run(&mut cpu, &net, steps);
    let cpu_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let chunk = pollster::block_on(g.run(steps)).unwrap();
    let gpu_s = t.elapsed().as_secs_f64();
    let (rc, rg) = (rate_hz(c.len(), net.n, steps, 1.0), chunk.rate_hz(net.n));
    eprintln!(
        "izhikevich2003 (1000 neurons, {} synapses), 1 s: CPU {rc:.2} Hz ({cpu_s:.2} s, debug build), GPU {rg:.2} Hz ({gpu_s:.2} s, {} steps/submit), first difference {:?}",
        net.n_synapses(),
        g.steps_per_submit(),
        first_difference(&c, &chunk.spikes)
    );
    assert!((rg - rc).abs() <= 0.03 * rc, "GPU {rg} Hz vs CPU {rc} Hz");
    assert!(rc > 2.0 && rc < 40.0, "the 2003 network's rate {rc} Hz");
    // Stronger than the rates: with 1000 inputs per neuron the sums are still added in the same
    // order with the same roundings, so the whole second is spike-for-spike identical.
    assert_eq!(first_difference(&c, &chunk.spikes), None);
}

#[test]
fn bad_inputs_are_errors_that_name_the_limit() {
    let net = Network::sparse(&spec(NeuronModel::Izhikevich, 50, 1));
    let Some(mut g) = gpu(&net) else { return };
    let e = g.set_i_ext(&[1.0; 3]).unwrap_err().to_string();
    assert!(e.contains("50") && e.contains('3'), "{e}");
    let e = g.set_probes(&[50]).unwrap_err().to_string();
    assert!(e.contains("50 neurons"), "{e}");
    let e = g.set_steps_per_submit(0).unwrap_err().to_string();
    assert!(e.contains("between 1 and"), "{e}");
    assert!(g.set_silenced_range(10..60, true).is_err());
    let mut bad = net.clone();
    bad.in_pre[0] = 999;
    let Err(e) = GpuSim::new(g.device().clone(), queue_of(&net), &bad) else {
        panic!("a network naming neuron 999 was accepted")
    };
    assert!(e.to_string().contains("999"), "{e}");
}

fn queue_of(net: &Network) -> wgpu::Queue {
    let (_, q, _) = pollster::block_on(neurolab_spike::gpu::request_device()).unwrap();
    let _ = net;
    q
}

/// Steps per second of the GPU engine (not asserted): sparse Izhikevich networks of 100, 1,000 and
/// 10,000 neurons (100 synapses per neuron), and the dense 2003 network.
#[test]
fn speed_report() {
    for (n, p) in [(100usize, 0.1f32), (1_000, 0.1), (10_000, 0.01)] {
        let mut sp = spec(NeuronModel::Izhikevich, n, 9);
        sp.p_conn = p;
        sp.w_exc = 0.5 / p * 0.1;
        sp.w_inh = 1.0 / p * 0.1;
        let net = Network::sparse(&sp);
        let Some(mut g) = gpu(&net) else { return };
        let _ = pollster::block_on(g.run(10)).unwrap(); // warm-up (pipeline compilation)
        let steps = if n > 5000 { 500 } else { 2000 };
        let t = std::time::Instant::now();
        let chunk = pollster::block_on(g.run(steps)).unwrap();
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "SPEED N={n}, {} synapses: {:.0} steps/s ({:.1}x real time at 1 ms), {} steps/submit, rate {:.1} Hz",
            net.n_synapses(),
            steps as f64 / s,
            steps as f64 / s / 1000.0,
            g.steps_per_submit(),
            chunk.rate_hz(n)
        );
    }
}
