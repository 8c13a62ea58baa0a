//! Native tests of the SAE lab on the CPU backend (burn-flex): sparsity mechanics, feature
//! recovery on the toy model of superposition, semi-NMF, clamping, config and link pairs.

use burn::optim::AdamConfig;
use burn::prelude::*;
use neurolab_base::field::{from_pairs, to_pairs};
use neurolab_base::LabConfig as _;
use neurolab_grok::backend_cpu;
use neurolab_sae::{
    sae_step, step_grads, top_k, top_k_rows, ClampInput, ClampOp, ClampRequest, Decomposition,
    GradPath, Sae, SaeConfig, SaeKind, SaeSource, Snmf, StepKind, Target, TransformerSite,
};
use pollster::block_on;

fn toy(kind: SaeKind) -> SaeConfig {
    let mut c = SaeConfig::preset(SaeSource::Toy);
    c.kind = kind;
    c
}

fn train(c: &SaeConfig) -> Decomposition {
    let mut s = Decomposition::new(c.clone(), backend_cpu()).unwrap();
    while !s.finished() {
        block_on(s.train_step());
    }
    s
}

fn rows(t: Tensor<2>) -> Vec<Vec<f32>> {
    let [n, d] = t.dims();
    let v: Vec<f32> = t.into_data().try_to_vec::<f32>().unwrap();
    (0..n).map(|i| v[i * d..(i + 1) * d].to_vec()).collect()
}

/// Gaussian-ish synthetic activations `[n, d]` on the plain device.
fn synthetic(n: usize, d: usize, seed: u64) -> Tensor<2> {
    let mut rng = neurolab_base::rng::SeededRng::new(seed, 9);
    let v: Vec<f32> = (0..n * d).map(|_| rng.normal() as f32).collect();
    Tensor::from_data(TensorData::new(v, [n, d]), &backend_cpu())
}

#[test]
fn topk_keeps_exactly_k_latents_per_sample() {
    let mut c = toy(SaeKind::TopK);
    c.steps = 200;
    let s = train(&c);
    let saved = block_on(s.safetensors()).unwrap();
    let st = safetensors::SafeTensors::deserialize(&saved).unwrap();
    assert_eq!(st.tensor("w_dec").unwrap().shape(), &[64, 12]);
    let r = block_on(s.metrics()).unwrap();
    // ReLU after TopK: at most k (samples with no active toy feature have fewer positive
    // pre-activations).
    assert!(r.l0 <= 4.0 + 1e-6 && r.l0 > 2.0, "L0 {}", r.l0);
    // On dense data every sample has exactly k non-zero latents.
    let device = backend_cpu();
    let sae = Sae::new(256, Tensor::zeros([8], &device), 3, &device);
    let z = sae.encode(synthetic(100, 8, 1), Some(16));
    for row in rows(z) {
        let nz = row.iter().filter(|v| **v != 0.0).count();
        assert_eq!(nz, 16);
    }
}

#[test]
fn decoder_rows_stay_unit_norm_under_relu_l1() {
    let device = backend_cpu();
    let ad = device.clone().autodiff();
    let x = synthetic(128, 16, 2);
    let mut sae = Sae::new(64, x.clone().mean_dim(0).reshape([16]), 0, &ad);
    let mut optim = AdamConfig::new().init();
    let mut since = Tensor::<1>::zeros([64], &device);
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..30 {
        let out = block_on(sae_step(
            sae,
            &mut optim,
            1e-2,
            StepKind::ReluL1 { l1: 0.5 },
            Tensor::from_inner(x.clone()),
            since,
        ));
        sae = out.sae;
        since = out.since_fired;
        let l: Vec<f32> = out.losses.into_data().try_to_vec::<f32>().unwrap();
        first.get_or_insert(l[0] + l[1]);
        last = l[0] + l[1];
    }
    for row in rows(sae.w_dec.val().inner()) {
        let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "decoder row norm {norm}");
    }
    assert!(last < first.unwrap(), "loss {} -> {last}", first.unwrap());
}

/// Dead fraction after `steps` TopK steps from an SAE where 24 of 32 latents start with
/// encoder rows shrunk 20×: their pre-activations are positive but always lose the top-k
/// competition, so without AuxK they never fire and never get a gradient.
fn dead_after_training(aux_coef: f64) -> f32 {
    let device = backend_cpu();
    let ad = device.clone().autodiff();
    let (d, latents, n) = (16usize, 32usize, 2048usize);
    // Non-negative sparse mixtures of 32 directions: 8 live latents with k = 2 leave a large,
    // structured residual for the revived ones to explain.
    let dirs = synthetic(32, d, 11);
    let mut rng = neurolab_base::rng::SeededRng::new(4, 3);
    let codes: Vec<f32> = (0..n * 32)
        .map(|_| {
            if rng.uniform() < 0.06 {
                rng.uniform() as f32
            } else {
                0.0
            }
        })
        .collect();
    let data = Tensor::<2>::from_data(TensorData::new(codes, [n, 32]), &device).matmul(dirs);
    let mut sae = Sae::new(latents, data.clone().mean_dim(0).reshape([d]), 0, &ad);
    let shrink: Vec<f32> = (0..latents)
        .map(|i| if i < 8 { 1.0 } else { 0.05 })
        .collect();
    let shrink = Tensor::<2>::from_data(TensorData::new(shrink, [latents, 1]), &device);
    sae.w_enc = sae
        .w_enc
        .map(|w| Tensor::from_inner(w.inner() * shrink).require_grad());
    let mut optim = AdamConfig::new().init();
    let mut since = Tensor::<1>::zeros([latents], &device);
    let kind = StepKind::TopK {
        k: 2,
        k_aux: 8,
        aux_coef,
        dead_after: 1024.0,
    };
    for step in 0..400 {
        let idx: Vec<i32> = (0..256usize)
            .map(|i| ((step * 256 + i) % n) as i32)
            .collect();
        let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [256]), &device);
        let x = Tensor::from_inner(data.clone().select(0, idx));
        let out = block_on(sae_step(sae, &mut optim, 3e-3, kind, x, since));
        sae = out.sae;
        since = out.since_fired;
    }
    since
        .greater_equal_elem(1024.0)
        .float()
        .mean()
        .into_scalar()
}

#[test]
fn auxk_revives_dead_latents() {
    let without = dead_after_training(0.0);
    let with = dead_after_training(1.0 / 32.0);
    eprintln!("dead fraction: without AuxK {without}, with AuxK {with}");
    assert!(
        without >= 0.5,
        "the setting must start with dead latents: {without}"
    );
    assert!(
        with < without - 0.2,
        "dead with AuxK {with} vs without {without}"
    );
}

#[test]
fn topk_sae_recovers_the_toy_models_features() {
    let c = toy(SaeKind::TopK);
    let mut s = Decomposition::new(c.clone(), backend_cpu()).unwrap();
    let r0 = block_on(s.metrics()).unwrap();
    while !s.finished() {
        block_on(s.train_step());
    }
    let r = block_on(s.metrics()).unwrap();
    let mmcs = r.mmcs.unwrap();
    assert!(mmcs > 0.9, "MMCS {mmcs} (at init {:?})", r0.mmcs);
    assert!(r.fvu < 0.2 && r.fvu < r0.fvu, "FVU {} -> {}", r0.fvu, r.fvu);
    assert!(r.ce_loss_score.is_none());
    // Latents are labelled with the true feature they match.
    let f = block_on(s.features()).unwrap();
    assert_eq!(f.len(), 64);
    assert!(f.windows(2).all(|w| w[0].density >= w[1].density));
    let matched: std::collections::HashSet<u32> = f
        .iter()
        .filter_map(|f| f.best_true)
        .filter(|m| m.cosine > 0.9)
        .map(|m| m.feature)
        .collect();
    assert!(
        matched.len() >= 24,
        "{} true features matched",
        matched.len()
    );
}

#[test]
fn snmf_error_falls_and_codes_stay_nonnegative() {
    let device = backend_cpu();
    // Non-negative mixtures of 6 signed directions, plus noise.
    let dirs = synthetic(6, 10, 5);
    let mut rng = neurolab_base::rng::SeededRng::new(1, 3);
    let codes: Vec<f32> = (0..200 * 6)
        .map(|_| {
            if rng.uniform() < 0.3 {
                rng.uniform() as f32
            } else {
                0.0
            }
        })
        .collect();
    let a = Tensor::<2>::from_data(TensorData::new(codes, [200, 6]), &device).matmul(dirs)
        + synthetic(200, 10, 7).mul_scalar(0.01);
    let mut s = Snmf::new(200, 8, 10, 0, &device);
    let err = |s: &Snmf| -> f32 { (a.clone() - s.reconstruct()).square().sum().into_scalar() };
    let mut errors = vec![];
    for _ in 0..40 {
        s.step(&a);
        errors.push(err(&s));
        let zmin: f32 = s.z.clone().min().into_scalar();
        assert!(zmin >= 0.0, "Z has a negative entry {zmin}");
    }
    let total: f32 = a.clone().square().sum().into_scalar();
    assert!(errors[39] < errors[1] * 0.5, "{errors:?}");
    assert!(
        errors[39] / total < 0.05,
        "relative error {}",
        errors[39] / total
    );
    // Non-increasing up to the CG tolerance.
    for w in errors.windows(2).skip(1) {
        assert!(w[1] <= w[0] * 1.02, "{errors:?}");
    }
}

#[test]
fn snmf_session_reports_on_the_toy_model() {
    let mut c = toy(SaeKind::Snmf);
    c.latents = 40;
    c.toy_samples = 2048;
    c.steps = 60;
    let mut s = Decomposition::new(c, backend_cpu()).unwrap();
    block_on(s.train_step());
    let r1 = block_on(s.metrics()).unwrap();
    while !s.finished() {
        block_on(s.train_step());
    }
    let r = block_on(s.metrics()).unwrap();
    assert!(r.fvu < r1.fvu, "FVU {} -> {}", r1.fvu, r.fvu);
    assert!(r.mmcs.unwrap() > 0.5, "{:?}", r.mmcs);
}

/// f32 tensors of a `.safetensors` file by name: (shape, values).
fn read_tensors(bytes: &[u8]) -> std::collections::HashMap<String, (Vec<usize>, Vec<f32>)> {
    neurolab_sae::export::read_f32_tensors(bytes).unwrap()
}

#[test]
fn the_saelens_export_is_our_sae_on_raw_units_and_semi_nmf_has_none() {
    let mut c = toy(SaeKind::TopK);
    c.toy_samples = 1024;
    c.steps = 100;
    let dec = train(&c);
    let ours = block_on(dec.safetensors()).unwrap();
    let scale: f32 = safetensors::SafeTensors::read_metadata(&ours)
        .unwrap()
        .1
        .metadata()
        .as_ref()
        .unwrap()["act_scale"]
        .parse()
        .unwrap();
    let ours = read_tensors(&ours);
    let folder = block_on(dec.saelens("stem")).unwrap();
    let w = read_tensors(&folder.files[1].1);
    let (latents, d) = (64, 12);
    assert_eq!(w["W_enc"].0, [d, latents]);
    for j in 0..latents {
        for i in 0..d {
            let a = w["W_enc"].1[i * latents + j];
            let b = scale * ours["w_enc"].1[j * d + i];
            assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "W_enc[{i}, {j}]");
            let a = w["W_dec"].1[j * d + i];
            assert!((a * scale - ours["w_dec"].1[j * d + i]).abs() < 1e-6);
        }
    }
    // The firing frequencies are the feature browser's densities.
    let sparsity = &read_tensors(&folder.files[2].1)["sparsity"].1;
    for f in block_on(dec.features()).unwrap() {
        let want = f.density.max(1e-10).log10();
        assert!(
            (sparsity[f.index as usize] - want).abs() < 1e-5,
            "latent {}",
            f.index
        );
    }
    assert!(sparsity.iter().all(|v| v.is_finite()));

    // Through the session: a zip named like the weights, and none for semi-NMF.
    use neurolab_base::Session as _;
    let mut session = neurolab_sae::SaeSession::new(c.clone(), backend_cpu(), None).unwrap();
    block_on(session.prepare_steps(u32::MAX)).unwrap();
    let file = block_on(session.export("saelens")).unwrap();
    assert_eq!(file.file_name, "neurolab-sae-toy-topk-L64-step0.zip");
    assert_eq!(file.mime, "application/zip");
    assert_eq!(&file.bytes[..4], b"PK\x03\x04");
    c.kind = SaeKind::Snmf;
    c.latents = 16;
    let mut session = neurolab_sae::SaeSession::new(c, backend_cpu(), None).unwrap();
    block_on(session.prepare_steps(u32::MAX)).unwrap();
    let err = block_on(session.export("saelens")).unwrap_err().to_string();
    assert!(err.contains("semi-NMF has no encoder"), "{err}");
    let err = block_on(session.export("onnx")).unwrap_err().to_string();
    assert!(err.contains("'weights' or 'saelens', not 'onnx'"), "{err}");
}

fn small_grok(source: SaeSource) -> SaeConfig {
    let mut c = SaeConfig::preset(source);
    c.grok_p = 23;
    c.grok_steps = 300;
    c.latents = 128;
    c.k = 8;
    c.k_aux = 32;
    c.steps = 300;
    c.batch = 256;
    c
}

#[test]
fn grok_mlp_sae_ce_score_features_and_clamps() {
    let c = small_grok(SaeSource::GrokMlp);
    let mut s = Decomposition::new(c, backend_cpu()).unwrap();
    assert_eq!((s.n_samples(), s.d(), s.p()), (529, 500, 23));
    let r0 = block_on(s.metrics()).unwrap();
    while !s.finished() {
        block_on(s.train_step());
    }
    let r = block_on(s.metrics()).unwrap();
    let (clean, zero) = (r.ce_clean.unwrap(), r.ce_zero_abl.unwrap());
    assert!(
        clean < zero,
        "the model beats zero ablation: {clean} vs {zero}"
    );
    let score = r.ce_loss_score.unwrap();
    assert!(
        score > r0.ce_loss_score.unwrap() && score > 0.5,
        "CE score {:?} -> {score}",
        r0.ce_loss_score
    );

    // Feature browser data: heat-map, a Fourier label, logit effect.
    let feats = block_on(s.features()).unwrap();
    let top = feats[0].index;
    assert!(feats[0].fourier.is_some() && !feats[0].label.is_empty());
    let detail = block_on(s.feature(Target::Feature(top))).unwrap();
    assert_eq!(detail.heatmap.as_ref().unwrap().len(), 529);
    assert_eq!(detail.logit_effect.promoted.len(), 8);
    assert!(detail.logit_effect.promoted[0].delta > detail.logit_effect.suppressed[0].delta);

    // Clamping a raw neuron high raises the logit its output weights promote most, and by
    // exactly (new − old) × that weight.
    let neuron = block_on(s.neuron_logit_effect(7)).unwrap();
    let (out, w) = (neuron.promoted[0].output, neuron.promoted[0].delta);
    let req = ClampRequest {
        input: ClampInput::Pair { a: 3, b: 5 },
        target: Target::Neuron(7),
        op: ClampOp::Set(50.0),
    };
    let resp = block_on(s.clamp(&req)).unwrap();
    let o = out as usize;
    let dl = resp.outputs_after[o] - resp.outputs_before[o];
    let want = (50.0 - resp.value_before) * w;
    assert!(
        (dl - want).abs() < 1e-2 * want.abs().max(1.0),
        "{dl} vs {want}"
    );
    assert!(resp.probs_after.as_ref().unwrap()[o] > resp.probs_before.as_ref().unwrap()[o]);

    // Clamping an SAE feature up raises the outputs its decoder direction promotes; zeroing
    // a feature that is active at an input lowers them.
    let fo = detail.logit_effect.promoted[0].output as usize;
    let input = detail.top_inputs[0].sample;
    let up = block_on(s.clamp(&ClampRequest {
        input: ClampInput::Sample(input),
        target: Target::Feature(top),
        op: ClampOp::Scale(3.0),
    }))
    .unwrap();
    assert!(up.value_before > 0.0);
    assert!(up.outputs_after[fo] > up.outputs_before[fo]);
    let zero = block_on(s.clamp(&ClampRequest {
        input: ClampInput::Sample(input),
        target: Target::Feature(top),
        op: ClampOp::Zero,
    }))
    .unwrap();
    assert_eq!(zero.value_after, 0.0);
    assert!(zero.outputs_after[fo] < zero.outputs_before[fo]);
    // Bad requests are errors naming the limit.
    let bad = block_on(s.clamp(&ClampRequest {
        input: ClampInput::Pair { a: 23, b: 0 },
        ..req
    }));
    assert_eq!(
        bad.unwrap_err().to_string(),
        "a index must be below 23, got 23"
    );
}

#[test]
fn grok_transformer_sites_splice_back_exactly() {
    for site in [TransformerSite::Resid, TransformerSite::Mlp] {
        let mut c = small_grok(SaeSource::GrokTransformer);
        c.site = site;
        c.grok_steps = 50;
        c.steps = 1;
        let s = Decomposition::new(c, backend_cpu()).unwrap();
        let r = block_on(s.metrics()).unwrap();
        // The clean CE is the model's own loss on all pairs (finite, below zero-ablation's).
        assert!(r.ce_clean.unwrap().is_finite());
        assert!(r.ce_loss_score.unwrap().is_finite());
        // Clamping with Scale(1) leaves the output unchanged (the splice is exact).
        let same = block_on(s.clamp(&ClampRequest {
            input: ClampInput::Pair { a: 1, b: 2 },
            target: Target::Neuron(0),
            op: ClampOp::Scale(1.0),
        }))
        .unwrap();
        for (x, y) in same.outputs_before.iter().zip(&same.outputs_after) {
            assert!((x - y).abs() < 1e-5);
        }
    }
}

#[test]
fn same_seed_same_report() {
    let mut c = toy(SaeKind::ReluL1);
    c.steps = 30;
    c.toy_steps = 50;
    let a = block_on(train(&c).metrics()).unwrap();
    let b = block_on(train(&c).metrics()).unwrap();
    assert_eq!(a, b);
    c.seed = 1;
    assert_ne!(block_on(train(&c).metrics()).unwrap(), a);
}

#[test]
fn config_validation_names_the_limit() {
    let mut c = SaeConfig::preset(SaeSource::Toy);
    c.k = 100;
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "k must be between 1 and 64, got 100"
    );
    let mut c = SaeConfig::preset(SaeSource::Toy);
    c.toy_m = 40;
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "toy_m must be between 1 and 31, got 40 (the toy model squeezes n features into m < n dims)"
    );
    let mut c = SaeConfig::preset(SaeSource::GrokMlp);
    c.grok_p = 100;
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "grok_p must be a prime between 5 and 257, got 100"
    );
    let mut c = SaeConfig::preset(SaeSource::GrokMlp);
    c.lr = 0.0;
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "learning rate (lr) must be above 0 and at most 1, got 0"
    );
    let mut c = SaeConfig::preset(SaeSource::GrokMlp);
    c.kind = SaeKind::Snmf;
    c.latents = 5000;
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "latents must be between 2 and 2048, got 5000 (semi-NMF solves an L×L system every step)"
    );
    let mut c = SaeConfig::preset(SaeSource::GrokMlp);
    c.grok_p = 257;
    // The grokking run is held to the grokking lab's own budget.
    let e = c.validate().unwrap_err().to_string();
    assert!(
        e.starts_with("the grokking run: this grokking model needs"),
        "{e}"
    );
    let mut c = SaeConfig::preset(SaeSource::GrokMlp);
    c.grok_p = 113;
    c.latents = 65536;
    // The full latent matrix (12769 × 65536 floats) is over the budget.
    let e = c.validate().unwrap_err().to_string();
    assert!(e.starts_with("this SAE"), "{e}");
    assert!(e.contains("GB") && e.contains("lower the latents"), "{e}");
    let err = Decomposition::new(
        SaeConfig {
            batch: 0,
            ..SaeConfig::default()
        },
        backend_cpu(),
    )
    .err()
    .unwrap();
    assert_eq!(err.to_string(), "batch must be between 1 and 65536, got 0");
    // Every float must be finite, even one the decomposition does not use.
    let c = SaeConfig {
        l1: f64::NAN,
        ..SaeConfig::default()
    };
    assert!(c.validate().unwrap_err().to_string().contains("L1 λ (l1)"));
    for s in SaeSource::ALL {
        SaeConfig::preset(s).validate().unwrap();
    }
}

#[test]
fn link_pairs_round_trip_and_reject_unknowns() {
    let mut c = SaeConfig::preset(SaeSource::GrokTransformer);
    c.kind = SaeKind::ReluL1;
    c.site = TransformerSite::Mlp;
    c.l1 = 0.37;
    c.seed = 99;
    c.lr = 2.5e-4;
    let pairs: Vec<(String, String)> = to_pairs(&c)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(pairs[0], ("source".into(), "grok-transformer".into()));
    assert_eq!(from_pairs::<SaeConfig>(&pairs).unwrap(), c);
    // Only a few keys: the rest from the source's preset.
    let few = vec![
        ("source".to_string(), "grok-mlp".to_string()),
        ("k".to_string(), "8".to_string()),
    ];
    let d = from_pairs::<SaeConfig>(&few).unwrap();
    assert_eq!(d.k, 8);
    assert_eq!(d.latents, SaeConfig::preset(SaeSource::GrokMlp).latents);
    let unknown = vec![("lamda".to_string(), "1".to_string())];
    assert_eq!(
        from_pairs::<SaeConfig>(&unknown).unwrap_err().to_string(),
        "unknown SAE link parameter 'lamda'"
    );
    let bad = vec![("kind".to_string(), "gated".to_string())];
    assert_eq!(
        from_pairs::<SaeConfig>(&bad).unwrap_err().to_string(),
        "link parameter 'kind' has a bad value 'gated': expected one of topk, relu-l1, snmf"
    );
    let out_of_range = vec![("latents".to_string(), "1".to_string())];
    assert_eq!(
        from_pairs::<SaeConfig>(&out_of_range)
            .unwrap_err()
            .to_string(),
        "latents L (latents) must be between 2 and 65536, got 1"
    );
    // The grokking source is pinned in the link: all of its run, not whatever a preset says.
    let link = to_pairs(&c);
    let (_, pinned) = link.iter().find(|(k, _)| *k == "grok").unwrap();
    assert!(
        pinned.contains("lr-0.001") && pinned.contains("dmodel-128"),
        "{pinned}"
    );
    let mut edited = pairs.clone();
    edited.retain(|(k, _)| k != "grok");
    edited.push(("grok".into(), pinned.replace("lr-0.001", "lr-0.003")));
    let e = from_pairs::<SaeConfig>(&edited).unwrap();
    assert_eq!(e.grok_preset().lr, 0.003);
    assert_eq!(e.grok_preset().seed, 99);
    let tampered = vec![
        ("source".to_string(), "grok-mlp".to_string()),
        ("grok".to_string(), "hidden-0".to_string()),
    ];
    assert_eq!(
        from_pairs::<SaeConfig>(&tampered).unwrap_err().to_string(),
        "link parameter 'grok' has a bad value 'hidden-0': expected the grokking run's keys within their limits: hidden units (hidden) must be between 1 and 4096, got 0"
    );
    let toy = vec![("grok".to_string(), "lr-0.1".to_string())];
    assert!(from_pairs::<SaeConfig>(&toy)
        .unwrap_err()
        .to_string()
        .contains("source=grok-mlp"));
    // Serde names match the link names.
    assert_eq!(
        serde_json::to_value(SaeSource::GrokMlp).unwrap(),
        serde_json::json!("grok-mlp")
    );
}

fn flat<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// The CPU backend's closed-form TopK step (gradients written out, computed on the host) equals
/// burn's autodiff through the same selection: both loss terms, the fired latents and every
/// gradient, with and without AuxK, with winners that ReLU zeroes (k near L) and ties.
#[test]
fn closed_form_topk_gradients_equal_autodiff() {
    let device = backend_cpu();
    let ad = device.clone().autodiff();
    for (d, latents, k, k_aux, aux_coef, ties) in [
        (16usize, 64usize, 4usize, 8usize, 0.0, false),
        (16, 64, 4, 8, 1.0 / 32.0, false),
        (32, 96, 7, 16, 0.5, false),
        (8, 16, 13, 6, 1.0, false),
        (8, 24, 5, 6, 0.25, true),
    ] {
        let mut x = synthetic(40, d, 7 + d as u64);
        if ties {
            // Few levels: many equal pre-activations within a row.
            x = x.mul_scalar(1.5).round().div_scalar(1.5);
        }
        let sae = Sae::new(latents, x.clone().mean_dim(0).reshape([d]), 1, &ad);
        // Every other latent counts as dead, so AuxK has work.
        let since: Vec<f32> = (0..latents)
            .map(|i| if i % 2 == 0 { 5000.0 } else { 0.0 })
            .collect();
        let since = Tensor::<1>::from_data(TensorData::new(since, [latents]), &device);
        let kind = StepKind::TopK {
            k,
            k_aux,
            aux_coef,
            dead_after: 1000.0,
        };
        let xa = Tensor::<2>::from_inner(x);
        let a = block_on(step_grads(
            &sae,
            kind,
            xa.clone(),
            &since,
            GradPath::Autodiff,
        ));
        let c = block_on(step_grads(&sae, kind, xa, &since, GradPath::ClosedForm));
        let case = format!("d {d}, L {latents}, k {k}, aux {aux_coef}, ties {ties}");
        let close = |what: &str, want: Vec<f32>, got: Vec<f32>| {
            assert_eq!(want.len(), got.len(), "{what} ({case})");
            let scale = want.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
            let worst = want
                .iter()
                .zip(&got)
                .map(|(w, g)| (w - g).abs())
                .fold(0f32, f32::max);
            assert!(
                worst <= 1e-5 * scale,
                "{what}: worst difference {worst:e} against a largest magnitude {scale:e} ({case})"
            );
        };
        close("losses", flat(a.losses), flat(c.losses));
        close("w_enc", flat(a.w_enc), flat(c.w_enc));
        close("b_enc", flat(a.b_enc), flat(c.b_enc));
        close("w_dec", flat(a.w_dec), flat(c.w_dec));
        close("b_dec", flat(a.b_dec), flat(c.b_dec));
        let fired = |t: Tensor<1, Bool>| t.into_data().try_to_vec::<bool>().unwrap();
        assert_eq!(fired(a.fired), fired(c.fired), "fired ({case})");
    }
}

/// The CPU's partial top-k selection picks what a stable descending sort picks, in its order —
/// on random rows and on rows full of ties — and the same values as burn's `topk`.
#[test]
fn partial_top_k_equals_the_sort_including_ties() {
    let mut rng = neurolab_base::rng::SeededRng::new(5, 0);
    for (cols, k, levels) in [
        (50usize, 7usize, 0u32),
        (64, 16, 3),
        (10, 10, 2),
        (33, 1, 0),
        (8, 3, 1),
        // Wide rows (the 16-entry blocks, the parallel rows) and a ragged tail.
        (1024, 32, 0),
        (300, 20, 4),
        // Signed zeros: -0.0 sorts below 0.0 in total order, and ±1 around them.
        (100, 12, u32::MAX),
    ] {
        let rows = 37;
        // levels > 0: values from a few levels only (many ties); 0: continuous; MAX: ±0, ±1.
        let values: Vec<f32> = (0..rows * cols)
            .map(|_| match levels {
                0 => rng.normal() as f32,
                u32::MAX => [-0.0, 0.0, 1.0, -1.0][(rng.uniform() * 4.0) as usize % 4],
                n => (rng.uniform() * f64::from(n)).floor() as f32,
            })
            .collect();
        let (vals, idx) = top_k_rows(&values, cols, k);
        for r in 0..rows {
            let row = &values[r * cols..(r + 1) * cols];
            let mut sorted: Vec<usize> = (0..cols).collect();
            // Stable: equal values keep their column order.
            sorted.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
            let want: Vec<i32> = sorted[..k].iter().map(|&j| j as i32).collect();
            assert_eq!(
                &idx[r * k..(r + 1) * k],
                &want[..],
                "row {r} of {cols} (k {k}, levels {levels})"
            );
            let want_vals: Vec<f32> = sorted[..k].iter().map(|&j| row[j]).collect();
            assert_eq!(&vals[r * k..(r + 1) * k], &want_vals[..]);
        }
        // Through tensors on the CPU backend: the values equal burn's topk (its order of ties
        // may differ, its values cannot).
        let device = backend_cpu();
        let x = Tensor::<2>::from_data(TensorData::new(values.clone(), [rows, cols]), &device);
        let (v, i) = block_on(top_k(x.clone(), k));
        let (burn_v, _) = x.topk_with_indices(k, 1);
        let flat = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(flat(v), flat(burn_v));
        let i: Vec<i64> = i.into_data().convert::<i64>().try_to_vec::<i64>().unwrap();
        assert_eq!(i, idx.iter().map(|&j| i64::from(j)).collect::<Vec<_>>());
    }
}

#[test]
fn lm_source_sae_splices_back_and_its_features_show_tokens() {
    let mut c = SaeConfig::preset(SaeSource::Lm);
    c.lm_steps = 500;
    c.lm_tokens = 2048;
    c.latents = 256;
    c.k = 8;
    c.k_aux = 64;
    c.steps = 400;
    c.batch = 256;
    c.report_every = 100;
    // The link pins the language model: its keys round-trip.
    let pairs: Vec<(String, String)> = to_pairs(&c)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let lm_text = &pairs.iter().find(|(k, _)| k == "lm").unwrap().1;
    assert!(
        lm_text.contains("corpus:facts") && lm_text.contains("d_model:64"),
        "{lm_text}"
    );
    assert_eq!(from_pairs::<SaeConfig>(&pairs).unwrap(), c);
    let mut bad = c.clone();
    bad.lm_layer = 3;
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("lm_layer must be between 0 and 1"));
    let mut s = Decomposition::new(c.clone(), backend_cpu()).unwrap();
    assert_eq!(s.n_samples(), 2048);
    assert_eq!(s.d(), 256, "layer 1's MLP neurons");
    let first = block_on(s.metrics()).unwrap();
    // Splicing the activations back in is the clean model, exactly as the CE says.
    assert!(first.ce_clean.unwrap() < first.ce_zero_abl.unwrap());
    while !s.finished() {
        block_on(s.train_step());
    }
    let r = block_on(s.metrics()).unwrap();
    assert!(r.fvu < first.fvu && r.fvu < 0.5, "{first:?} → {r:?}");
    let score = r.ce_loss_score.unwrap();
    assert!(score > 0.5 && score <= 1.01, "CE-loss score {score}");
    let list = block_on(s.features()).unwrap();
    assert!(list[0].label.starts_with("promotes '"), "{:?}", list[0]);
    let detail = block_on(s.feature(Target::Feature(list[0].index))).unwrap();
    let top = &detail.top_inputs[0];
    let ctx = top.context.as_ref().unwrap();
    assert_eq!(ctx.len(), top.context_acts.as_ref().unwrap().len());
    assert!(
        (top.context_acts.as_ref().unwrap()[top.at.unwrap() as usize] - top.activation).abs()
            < 1e-5
    );
    assert!(detail.logit_effect.promoted[0].token.is_some());
    // Clamping a feature at its top sample changes that token's next-token logits.
    let req = ClampRequest {
        input: ClampInput::Sample(top.sample),
        target: Target::Feature(list[0].index),
        op: ClampOp::Set(top.activation * 4.0),
    };
    let out = block_on(s.clamp(&req)).unwrap();
    assert_eq!(out.labels.as_ref().unwrap().len(), out.outputs_before.len());
    assert_ne!(out.outputs_before, out.outputs_after);
    let zero = ClampRequest {
        op: ClampOp::Set(top.activation),
        ..req
    };
    let same = block_on(s.clamp(&zero)).unwrap();
    let d: f32 = same
        .outputs_before
        .iter()
        .zip(&same.outputs_after)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(
        d < 1e-3,
        "setting a feature to its own value changes nothing: {d}"
    );
}
