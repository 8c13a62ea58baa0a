//! Native tests of the grokking session on the CPU backend (burn-flex).

use burn::module::Param;
use burn::optim::GradientsParams;
use burn::prelude::*;
use neurolab_grok::config::{GrokConfig, LossKind, ModelKind};
use neurolab_grok::report::StepReport;
use neurolab_grok::{backend_cpu, GrokModel, GrokSession};
use pollster::block_on;

fn small(model: ModelKind) -> GrokConfig {
    let mut c = match model {
        ModelKind::Mlp => GrokConfig::preset_mlp(),
        ModelKind::Transformer => GrokConfig::preset_transformer(),
    };
    c.p = 11;
    c.hidden = 64;
    c.d_model = 32;
    c.d_mlp = 64;
    c.steps = 20;
    c
}

fn run(config: &GrokConfig, steps: u32) -> Vec<StepReport> {
    let mut s = GrokSession::new(config.clone(), backend_cpu()).unwrap();
    let mut out = vec![block_on(s.metrics()).unwrap()];
    for _ in 0..steps {
        s.train_step();
        out.push(block_on(s.metrics()).unwrap());
    }
    out
}

#[test]
fn steps_lower_the_loss_for_every_model_and_loss() {
    for model in [ModelKind::Mlp, ModelKind::Transformer] {
        for loss in [LossKind::Ce, LossKind::Mse] {
            let mut c = small(model);
            c.loss = loss;
            let r = run(&c, 10);
            assert!(
                r[10].train_loss < r[0].train_loss,
                "{model:?}/{loss:?}: {} -> {}",
                r[0].train_loss,
                r[10].train_loss
            );
            assert!(r
                .iter()
                .all(|r| r.train_loss.is_finite() && r.weight_norm > 0.0));
            assert_eq!(r[10].step, 10);
        }
    }
}

#[test]
fn same_seed_same_curve_other_seed_other_curve() {
    let c = small(ModelKind::Mlp);
    let a = run(&c, 5);
    let b = run(&c, 5);
    assert_eq!(a, b, "CPU runs replay exactly");
    let mut c2 = c.clone();
    c2.seed = 7;
    assert_ne!(run(&c2, 5), a);
}

#[test]
fn initial_loss_and_accuracy_are_chance_level() {
    let c = small(ModelKind::Transformer);
    let r = run(&c, 0)[0];
    // CE of a near-uniform guess over p classes is about ln p.
    assert!(
        (r.train_loss - (11f32).ln()).abs() < 0.5,
        "{}",
        r.train_loss
    );
    assert!(r.test_acc < 0.4);
}

#[test]
fn logits_have_shape_batch_by_p() {
    let c = small(ModelKind::Transformer);
    let s = GrokSession::new(c, backend_cpu()).unwrap();
    let device = backend_cpu();
    let a = Tensor::<1, Int>::from_data(TensorData::new(vec![1i32, 2, 3], [3]), &device);
    let b = a.clone();
    let model = match s.model() {
        GrokModel::Transformer(t) => GrokModel::Transformer(t.valid()),
        GrokModel::Mlp(m) => GrokModel::Mlp(m.valid()),
    };
    assert_eq!(model.forward(a, b).dims(), [3, 11]);
    assert_eq!(s.n_train() + s.n_test(), 121);
}

#[test]
fn bad_config_is_refused_with_its_message() {
    let mut c = small(ModelKind::Mlp);
    c.p = 12;
    let err = GrokSession::new(c, backend_cpu()).err().unwrap();
    assert_eq!(
        err.to_string(),
        "p must be a prime between 5 and 257, got 12"
    );
}

/// Decoupled weight decay: θ₁ = θ₀·(1 − lr·wd) − lr·m̂/(√v̂ + ε), and on the first step m̂ = g,
/// v̂ = g². Checked on burn's AdamW configured exactly as the session configures it.
#[test]
fn adamw_decay_matches_the_formula() {
    let device = backend_cpu().autodiff();
    #[derive(Module, Debug)]
    struct One {
        w: Param<Tensor<1>>,
    }
    let theta0 = [0.5f32, -2.0, 3.0];
    let g = [0.1f32, -0.3, 0.0]; // gradient of Σ g·θ
    let (lr, wd) = (0.01f64, 1.0f64);
    let mut one = One {
        w: Param::from_tensor(Tensor::from_floats(theta0, &device)),
    };
    let mut optim = burn::optim::AdamWConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.98)
        .with_epsilon(1e-8)
        .with_weight_decay(wd as f32)
        .init();
    let loss = (one.w.val() * Tensor::from_floats(g, &device)).sum();
    let grads = GradientsParams::from_grads(loss.backward(), &one);
    one = optim.step(lr, one, grads);
    let got: Vec<f32> = one.w.val().into_data().try_to_vec::<f32>().unwrap();
    for i in 0..3 {
        let (t, gi) = (theta0[i] as f64, g[i] as f64);
        let want = t * (1.0 - lr * wd) - lr * gi / (gi.abs() + 1e-8);
        assert!(
            (got[i] as f64 - want).abs() < 1e-5,
            "{i}: {} vs {want}",
            got[i]
        );
    }
}

#[test]
fn grokfast_filter_changes_the_trajectory_after_the_first_step() {
    let c = small(ModelKind::Mlp);
    let mut g = c.clone();
    g.grokfast = true;
    let plain = run(&c, 10);
    let fast = run(&g, 10);
    // The EMA starts at the first gradient, so step 1 sees (1+λ)·g: Adam is scale-invariant
    // (up to ε), the first step matches; later steps amplify the slow component and differ.
    assert!((plain[1].train_loss - fast[1].train_loss).abs() < 1e-4);
    let moved = (plain[10].train_loss - fast[10].train_loss).abs()
        + (plain[10].weight_norm - fast[10].weight_norm).abs();
    assert!(moved > 1e-3, "grokfast had no effect: {moved}");
}

#[test]
fn safetensors_export_names_and_shapes() {
    let c = small(ModelKind::Transformer);
    let s = GrokSession::new(c, backend_cpu()).unwrap();
    let bytes = block_on(s.safetensors()).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<_> = st.names().into_iter().map(|s| s.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        ["b_in", "b_out", "w_e", "w_in", "w_k", "w_o", "w_out", "w_pos", "w_q", "w_u", "w_v"]
    );
    assert_eq!(st.tensor("w_e").unwrap().shape(), &[12, 32]);
    assert_eq!(st.tensor("w_u").unwrap().shape(), &[32, 11]);
    assert_eq!(st.tensor("w_in").unwrap().shape(), &[32, 64]);
}

/// The real thing: the "MLP p=97" preset groks (test accuracy ≥ 99%) within its step budget.
#[test]
fn mlp_preset_groks_within_its_budget() {
    let config = GrokConfig::preset_mlp();
    let mut s = GrokSession::new(config.clone(), backend_cpu()).unwrap();
    let mut best = 0.0f32;
    while !s.finished() {
        s.train_step();
        if s.step_count() % 25 == 0 {
            let r = block_on(s.metrics()).unwrap();
            best = best.max(r.test_acc);
            if r.test_acc >= 0.99 {
                assert!(r.train_acc >= 0.99);
                return;
            }
        }
    }
    panic!(
        "no grokking within {} steps: best test accuracy {best}",
        config.steps
    );
}

#[test]
fn ablating_neurons_mid_run_moves_the_curves_and_restores() {
    for model in [ModelKind::Mlp, ModelKind::Transformer] {
        let mut c = small(model);
        c.lr = 1e-2;
        let mut s = GrokSession::new(c.clone(), backend_cpu()).unwrap();
        for _ in 0..30 {
            s.train_step();
        }
        let clean = block_on(s.metrics()).unwrap();
        let size = s.model().hidden_size() as u32;
        // All of them: the logits are constant (MLP) or the MLP's part vanishes.
        s.set_ablation(&(0..size).collect::<Vec<_>>()).unwrap();
        let ablated = block_on(s.metrics()).unwrap();
        assert_eq!(ablated.step, clean.step);
        assert!(
            ablated.train_loss > clean.train_loss + 0.05,
            "{model:?}: ablating every neuron left the loss at {} (clean {})",
            ablated.train_loss,
            clean.train_loss
        );
        if model == ModelKind::Mlp {
            // Zero hidden layer ⇒ all logits 0 ⇒ cross-entropy ln p exactly.
            assert!((ablated.train_loss - (c.p as f32).ln()).abs() < 1e-4);
        }
        // Training goes on with the neurons ablated; restoring gives the clean model back.
        s.set_ablation(&[]).unwrap();
        assert_eq!(block_on(s.metrics()).unwrap().train_loss, clean.train_loss);
        assert!(s.ablated().is_empty());
        let err = s.set_ablation(&[size]).unwrap_err().to_string();
        assert!(err.contains(&format!("has {size} neurons")), "{err}");
    }
}

#[test]
fn every_neuron_has_one_dominant_frequency() {
    let c = small(ModelKind::Mlp);
    let s = GrokSession::new(c.clone(), backend_cpu()).unwrap();
    let max = (c.p - 1) / 2;
    let mut all: Vec<u32> = (1..=max)
        .flat_map(|k| block_on(s.neurons_of_frequency(k)).unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..c.hidden).collect::<Vec<_>>());
    assert!(block_on(s.neurons_of_frequency(max + 1))
        .unwrap_err()
        .to_string()
        .contains(&format!("1 to {max}")));
    // A pure cosine at frequency 3 is found as frequency 3.
    let p = 11usize;
    let values: Vec<f32> = (0..p)
        .map(|a| (std::f32::consts::TAU * 3.0 * a as f32 / p as f32 + 0.4).cos())
        .collect();
    assert_eq!(neurolab_grok::dominant_frequencies(&values, p, 1), vec![3]);
}
