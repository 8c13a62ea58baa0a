//! Property test of the share-link codec: any valid config survives its link pairs and back unchanged (bit-exact floats), and garbage never panics.

use neurolab_base::field::{from_pairs, to_pairs};
use neurolab_base::LabConfig as _;
use neurolab_spike::config::SpikeConfig;
use neurolab_spike::plasticity::HomeostasisKind;
use neurolab_spike::readout::{ForceParams, ReadoutConfig, RidgeParams, ThreeFactorParams};
use neurolab_spike::task::{BarsParams, SeriesParams, TaskConfig, WhatWhenParams};
use proptest::prelude::*;

fn owned(p: Vec<(&'static str, String)>) -> Vec<(String, String)> {
    p.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn valid_configs_round_trip(
        preset in 0usize..3,
        n in 100usize..3000,
        p_conn in 0.0f32..0.3,
        w_exc in 0.0f32..10.0,
        w_inh in 0.0f32..10.0,
        mix in 0.0f32..1.0,
        het in 0.0f32..0.9,
        dt in 0.05f32..2.0,
        noise in 0.0f32..20.0,
        seed in any::<u64>(),
        stdp in any::<bool>(),
        a_plus in 0.0f32..0.1,
        hom in 0usize..4,
        target in 0.5f32..50.0,
        task in 0usize..4,
        ro in 0usize..3,
        eta in 0.0f32..0.1,
        dur in 1u32..100_000,
    ) {
        let mut c = SpikeConfig::preset(["izhikevich2003", "reservoir", "lif"][preset]).unwrap();
        c.n = n;
        c.dense = false;
        c.p_conn = p_conn;
        c.w_exc = w_exc;
        c.w_inh = w_inh;
        c.type_mix = mix;
        c.heterogeneity = het;
        c.dt_ms = dt;
        c.noise_exc = noise;
        c.seed = seed;
        c.plasticity.stdp.enabled = stdp;
        c.plasticity.stdp.a_plus = a_plus;
        c.plasticity.homeostasis.kind = [HomeostasisKind::Off, HomeostasisKind::Scaling, HomeostasisKind::Intrinsic, HomeostasisKind::Both][hom];
        c.plasticity.homeostasis.target_rate_hz = target;
        c.trace_neurons.retain(|&i| (i as usize) < n);
        c.task = match task {
            0 => None,
            1 => Some(TaskConfig::WhatWhen(WhatWhenParams::default())),
            2 => Some(TaskConfig::Bars(BarsParams::default())),
            _ => Some(TaskConfig::Series(SeriesParams::default())),
        };
        c.readout = match ro {
            0 => ReadoutConfig::ThreeFactor(ThreeFactorParams { eta, ..Default::default() }),
            1 => ReadoutConfig::Ridge(RidgeParams::default()),
            _ => ReadoutConfig::Force(ForceParams::default()),
        };
        c.duration_ms = dur;
        prop_assume!(c.validate().is_ok());
        let back = from_pairs::<SpikeConfig>(&owned(to_pairs(&c))).unwrap();
        prop_assert_eq!(back, c);
    }

    #[test]
    fn garbage_links_are_errors_not_panics(pairs in proptest::collection::vec(("[a-z]{1,5}", "[-0-9a-z._]{0,8}"), 0..8)) {
        let _ = from_pairs::<SpikeConfig>(&pairs);
    }
}
