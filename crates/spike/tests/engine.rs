//! Behaviour of the CPU engine: single-neuron firing patterns of the Izhikevich (2003) presets,
//! the paper's 1000-neuron network, determinism, interventions, plasticity and the LIF model.

use neurolab_spike::network::{Network, NeuronModel, SparseSpec, DEFAULT_LIF};
use neurolab_spike::neuron::{bursts, isis_ms, rate_hz, simulate, Current, Preset};
use neurolab_spike::sim::Sim;

fn tonic_rate(p: Preset, i: f32) -> f32 {
    let tr = simulate(p.params(), Current::Constant { i }, 3000.0, 1.0);
    rate_hz(&tr.spike_times_ms, 1000.0, 3000.0)
}

#[test]
fn rs_tonic_rate_for_i10_is_in_range() {
    // Measured 20 Hz with dt = 1 ms (22 Hz with dt = 0.25 ms); regular spiking: no bursts.
    let tr = simulate(
        Preset::Rs.params(),
        Current::Constant { i: 10.0 },
        3000.0,
        1.0,
    );
    let r = rate_hz(&tr.spike_times_ms, 1000.0, 3000.0);
    assert!((15.0..=30.0).contains(&r), "RS rate {r} Hz");
    let isis = isis_ms(&tr.spike_times_ms[20..]);
    let mean = isis.iter().sum::<f32>() / isis.len() as f32;
    let var = isis.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / isis.len() as f32;
    let cv = var.sqrt() / mean;
    assert!(cv < 0.15, "RS should be regular: ISI CV {cv}");
    assert!(bursts(&tr.spike_times_ms[20..], 10.0).is_empty());
    // Rate grows with current.
    assert!(tonic_rate(Preset::Rs, 15.0) > r);
}

#[test]
fn ch_fires_bursts_with_bimodal_isis() {
    let tr = simulate(
        Preset::Ch.params(),
        Current::Constant { i: 10.0 },
        2000.0,
        1.0,
    );
    let isis = isis_ms(&tr.spike_times_ms);
    let short = isis.iter().filter(|&&x| x <= 6.0).count();
    let long = isis.iter().filter(|&&x| x >= 25.0).count();
    let middle = isis.len() - short - long;
    assert!(short >= 20 && long >= 20, "short {short} long {long}");
    assert!(
        middle * 20 <= isis.len(),
        "ISIs not bimodal: {middle} of {}",
        isis.len()
    );
    let b = bursts(&tr.spike_times_ms, 6.0);
    assert!(b.len() >= 20 && b.iter().all(|b| b.n_spikes >= 2));
}

#[test]
fn fs_fires_faster_than_rs_and_lts_ib_are_sane() {
    let (rs, fs) = (tonic_rate(Preset::Rs, 10.0), tonic_rate(Preset::Fs, 10.0));
    assert!(fs > 2.0 * rs, "FS {fs} vs RS {rs}");
    let lts = tonic_rate(Preset::Lts, 10.0);
    assert!(lts > rs && lts < fs * 1.5, "LTS {lts}");
    // IB: an initial burst, then tonic spikes.
    let tr = simulate(
        Preset::Ib.params(),
        Current::Step {
            t_on_ms: 10.0,
            i: 10.0,
        },
        1000.0,
        0.25,
    );
    let first = isis_ms(&tr.spike_times_ms[..4.min(tr.spike_times_ms.len())]);
    assert!(
        first.first().is_some_and(|&x| x < 10.0),
        "IB no initial burst: {first:?}"
    );
    let late = isis_ms(&tr.spike_times_ms[tr.spike_times_ms.len() - 5..]);
    assert!(late.iter().all(|&x| x > 15.0), "IB late isis {late:?}");
    for p in Preset::ALL {
        let r = tonic_rate(p, 10.0);
        assert!(r > 1.0 && r < 400.0, "{p:?} rate {r}");
        assert_eq!(tonic_rate(p, 0.0), 0.0, "{p:?} fires without input");
    }
}

fn run_counts(net: &Network, sim: &mut Sim, steps: u32) -> Vec<u32> {
    let mut counts = vec![0u32; net.n];
    for _ in 0..steps {
        for &i in sim.step(net) {
            counts[i as usize] += 1;
        }
    }
    counts
}

#[test]
fn izhikevich2003_rates_are_in_the_papers_range() {
    // Measured (seed 1, 5 s): 7.4 Hz excitatory, 6.9 Hz inhibitory, with the paper's ~10 Hz
    // alpha and ~40 Hz gamma population bursts.
    let net = Network::izhikevich2003(1);
    let mut sim = Sim::new(&net);
    run_counts(&net, &mut sim, 200);
    let counts = run_counts(&net, &mut sim, 2000);
    let exc = counts[..800].iter().sum::<u32>() as f32 / 800.0 / 2.0;
    let inh = counts[800..].iter().sum::<u32>() as f32 / 200.0 / 2.0;
    assert!((4.0..=12.0).contains(&exc), "exc {exc} Hz");
    assert!((3.0..=15.0).contains(&inh), "inh {inh} Hz");
}

#[test]
fn same_seed_same_spikes_under_any_chunking() {
    let net = Network::izhikevich2003(5);
    let record = |chunks: &[u32]| {
        let mut sim = Sim::new(&net);
        let mut out = Vec::new();
        for &c in chunks {
            sim.run(&net, c, |t, f| out.extend(f.iter().map(|&i| (t, i))));
        }
        out
    };
    let a = record(&[600]);
    let b = record(&[1, 99, 250, 250]);
    assert!(a.len() > 1000);
    assert_eq!(a, b);
    let other = Network::izhikevich2003(6);
    let mut sim = Sim::new(&other);
    let mut c = Vec::new();
    sim.run(&other, 600, |t, f| c.extend(f.iter().map(|&i| (t, i))));
    assert_ne!(a, c);
}

#[test]
fn silencing_a_range_removes_its_spikes_and_injection_raises_rate() {
    let net = Network::izhikevich2003(2);
    let mut sim = Sim::new(&net);
    sim.set_silenced(100, 200, true);
    for i in 300..400 {
        sim.i_ext[i] = 8.0;
    }
    let counts = run_counts(&net, &mut sim, 1000);
    assert_eq!(counts[100..200].iter().sum::<u32>(), 0);
    let injected = counts[300..400].iter().sum::<u32>() as f32;
    let control = counts[400..500].iter().sum::<u32>() as f32;
    assert!(
        injected > 1.5 * control,
        "injected {injected} vs control {control}"
    );
    sim.set_silenced(100, 200, false);
    let counts = run_counts(&net, &mut sim, 1000);
    assert!(counts[100..200].iter().sum::<u32>() > 100);
}

fn lif_spec(n: usize) -> SparseSpec {
    SparseSpec {
        model: NeuronModel::Lif,
        n,
        exc_frac: 0.8,
        p_conn: 0.0,
        w_exc: 0.0,
        w_inh: 0.0,
        type_mix: 0.0,
        heterogeneity: 0.0,
        noise_exc: 0.0,
        noise_inh: 0.0,
        dt_ms: 0.1,
        lif: DEFAULT_LIF,
        seed: 1,
    }
}

#[test]
fn lif_fires_at_the_analytic_rate() {
    let net = Network::sparse(&lif_spec(3));
    let p = net.lif;
    let mut sim = Sim::new(&net);
    let currents = [25.0f32, 30.0, 50.0];
    for (i, &c) in currents.iter().enumerate() {
        sim.i_ext[i] = c;
    }
    let counts = run_counts(&net, &mut sim, 20_000); // 2 s
    for (i, &c) in currents.iter().enumerate() {
        let ri = p.r_m * c;
        let t_int = p.tau_m_ms
            * ((ri - (p.v_reset_mv - p.v_rest_mv)) / (ri - (p.v_th_mv - p.v_rest_mv))).ln();
        let analytic = 1000.0 / (p.t_ref_ms + t_int);
        let measured = counts[i] as f32 / 2.0;
        assert!(
            (measured - analytic).abs() <= 0.03 * analytic + 0.5,
            "I={c}: measured {measured} Hz, analytic {analytic} Hz"
        );
    }
    // Subthreshold current: silent.
    let mut sim = Sim::new(&net);
    sim.i_ext[0] = 19.0;
    assert_eq!(run_counts(&net, &mut sim, 5000)[0], 0);
}
