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

mod homeostasis {
    use super::*;
    use neurolab_spike::plasticity::{
        HomeostasisKind, HomeostasisParams, Plasticity, PlasticityParams,
    };

    fn params(kind: HomeostasisKind) -> PlasticityParams {
        PlasticityParams {
            homeostasis: HomeostasisParams {
                kind,
                target_rate_hz: 10.0,
                tau_rate_ms: 500.0,
                scaling_per_s: 2.0,
                scaling_period_ms: 50.0,
                intrinsic_per_s: 0.5,
                max_bias: 30.0,
            },
            ..PlasticityParams::default()
        }
    }

    /// Mean rate (Hz) of `from..to` over `ms` steps, with plasticity running.
    fn run(
        net: &mut Network,
        sim: &mut Sim,
        p: &mut Plasticity,
        base: &[f32],
        ms: u32,
        range: std::ops::Range<usize>,
    ) -> f32 {
        let mut count = 0u32;
        for _ in 0..ms {
            for ((x, &b), &bias) in sim.i_ext.iter_mut().zip(base).zip(&p.bias) {
                *x = b + bias;
            }
            sim.step(net);
            count += sim
                .fired()
                .iter()
                .filter(|&&i| range.contains(&(i as usize)))
                .count() as u32;
            let fired = sim.fired().to_vec();
            p.after_step(net, &fired);
        }
        count as f32 * 1000.0 / ms as f32 / range.len() as f32
    }

    #[test]
    fn intrinsic_plasticity_pulls_high_and_low_rates_to_target() {
        // 0..50 driven hard (≈ 28 Hz), 50..100 noise only (≈ 3 Hz); target 10 Hz.
        let mut net = Network::sparse(&SparseSpec {
            model: NeuronModel::Izhikevich,
            noise_exc: 2.0,
            noise_inh: 2.0,
            dt_ms: 1.0,
            ..lif_spec(100)
        });
        let base: Vec<f32> = (0..100).map(|i| if i < 50 { 14.0 } else { 0.0 }).collect();
        let mut sim = Sim::new(&net);
        let mut p = Plasticity::new(&net, params(HomeostasisKind::Off));
        let high0 = run(&mut net, &mut sim, &mut p, &base, 1000, 0..50);
        let low0 = run(&mut net, &mut sim, &mut p, &base, 1000, 50..100);
        assert!(high0 > 20.0 && low0 < 5.0, "setup: {high0} {low0}");
        p.set_params(params(HomeostasisKind::Intrinsic));
        run(&mut net, &mut sim, &mut p, &base, 20_000, 0..100);
        let high1 = run(&mut net, &mut sim, &mut p, &base, 3000, 0..50);
        let low1 = run(&mut net, &mut sim, &mut p, &base, 3000, 50..100);
        assert!(
            (high1 - 10.0).abs() < 0.5 * (high0 - 10.0).abs(),
            "high {high0} → {high1}"
        );
        assert!(
            (low1 - 10.0).abs() < 0.5 * (low0 - 10.0).abs(),
            "low {low0} → {low1}"
        );
        assert!(
            (5.0..=15.0).contains(&high1) && (5.0..=15.0).contains(&low1),
            "{high1} {low1}"
        );
    }

    #[test]
    fn synaptic_scaling_pulls_a_too_high_and_a_too_low_rate_to_target() {
        // Recurrent excitation drives the rate; scaling the incoming excitatory weights moves it.
        let spec = SparseSpec {
            model: NeuronModel::Izhikevich,
            n: 400,
            exc_frac: 0.8,
            p_conn: 0.1,
            w_exc: 0.0,
            w_inh: 1.0,
            type_mix: 0.0,
            heterogeneity: 0.0,
            noise_exc: 3.0,
            noise_inh: 3.0,
            dt_ms: 1.0,
            lif: DEFAULT_LIF,
            seed: 4,
        };
        for w_exc in [3.0f32, 0.4] {
            let mut net = Network::sparse(&SparseSpec { w_exc, ..spec });
            let base = vec![0.0; net.n];
            let mut sim = Sim::new(&net);
            let mut p = Plasticity::new(&net, params(HomeostasisKind::Off));
            let r0 = run(&mut net, &mut sim, &mut p, &base, 2000, 0..320);
            p.set_params(params(HomeostasisKind::Scaling));
            run(&mut net, &mut sim, &mut p, &base, 20_000, 0..320);
            let r1 = run(&mut net, &mut sim, &mut p, &base, 3000, 0..320);
            assert!((r0 - 10.0).abs() > 4.0, "setup w_exc {w_exc}: rate {r0}");
            assert!(
                (r1 - 10.0).abs() < 0.5 * (r0 - 10.0).abs(),
                "w_exc {w_exc}: {r0} → {r1} Hz"
            );
        }
    }
}

#[test]
fn izhikevich2003_population_rate_is_rhythmic() {
    // The paper's raster shows population bursts in the alpha–gamma range. Measured periodograms
    // of the population spike count (4 s, seeds 1–3) peak at 8, 30 and 36 Hz with 60–500× the
    // power of the 150–250 Hz band; asynchronous (Poisson-like) firing would be flat.
    let net = Network::izhikevich2003(1);
    let mut sim = Sim::new(&net);
    for _ in 0..500 {
        sim.step(&net);
    }
    let x: Vec<f64> = (0..4096).map(|_| sim.step(&net).len() as f64).collect();
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let power = |f: f64| {
        let (mut re, mut im) = (0.0, 0.0);
        for (k, &v) in x.iter().enumerate() {
            let ph = std::f64::consts::TAU * f * k as f64 / 1000.0;
            re += (v - mean) * ph.cos();
            im += (v - mean) * ph.sin();
        }
        (re * re + im * im) / x.len() as f64
    };
    let (peak_f, peak) = (4..=60)
        .map(|f| (f, power(f as f64)))
        .fold((0, 0.0), |b, p| if p.1 > b.1 { p } else { b });
    let high = (150..250).step_by(5).map(|f| power(f as f64)).sum::<f64>() / 20.0;
    assert!(
        peak > 20.0 * high,
        "peak {peak} at {peak_f} Hz vs high band {high}"
    );
}
