//! The GPU session reports like the CPU session: on a small network the same spikes, rates and
//! traces (natively on whatever adapter wgpu finds; lavapipe here). Skips, saying so, when the
//! machine has no adapter at all.
#![cfg(feature = "gpu")]

use neurolab_spike::config::SpikeConfig;
use neurolab_spike::control::SpikeControl;
use neurolab_spike::gpu::request_device;
use neurolab_spike::gpu_session::{gpu_unsupported, GpuSession};
use neurolab_spike::session::SpikeSession;

fn small() -> SpikeConfig {
    let mut c = SpikeConfig::reservoir();
    c.n = 150;
    c.task = None;
    c.plasticity = SpikeConfig::default_plasticity();
    c.trace_neurons = vec![0, 149];
    c.duration_ms = 400;
    c.seed = 5;
    c
}

#[test]
fn gpu_session_matches_the_cpu_session() {
    std::env::set_var("XDG_RUNTIME_DIR", "/tmp");
    let config = small();
    assert_eq!(gpu_unsupported(&config), None, "{config:?}");
    let Ok((device, queue, info)) = pollster::block_on(request_device()) else {
        eprintln!("no wgpu adapter here: GPU session test skipped");
        return;
    };
    let mut gpu = GpuSession::new(config.clone(), device, queue, info).expect("gpu session");
    let mut cpu = SpikeSession::new(config).expect("cpu session");
    let silence = SpikeControl::Silence {
        from: 0,
        to: 30,
        on: true,
    };
    gpu.apply(silence.clone()).unwrap();
    cpu.apply(silence).unwrap();
    for chunk in [100, 50, 250] {
        let g = pollster::block_on(gpu.run_ms(chunk)).expect("gpu run");
        let c = cpu.run_ms(chunk);
        assert_eq!(g.t_ms, c.t_ms);
        assert_eq!(
            g.spike_neuron, c.spike_neuron,
            "spikes differ by t = {}",
            c.t_ms
        );
        assert_eq!(g.spike_t_ms, c.spike_t_ms);
        assert_eq!(g.rate_hz, c.rate_hz);
        assert_eq!(g.traces_mv, c.traces_mv);
        assert!(
            g.spike_neuron.iter().all(|&i| i >= 30),
            "a silenced neuron fired"
        );
    }
    assert!(gpu.done());
    assert_eq!(gpu.final_summary().spikes, cpu.final_summary().spikes);
    assert!(gpu.final_summary().spikes > 0);
}

#[test]
fn plasticity_and_tasks_are_refused_with_a_reason() {
    let mut c = small();
    c.plasticity.stdp.enabled = true;
    assert!(gpu_unsupported(&c).unwrap().contains("CPU engine"));
    let c = SpikeConfig::reservoir();
    if c.task.is_some() {
        assert!(gpu_unsupported(&c).unwrap().contains("task"));
    }
}
