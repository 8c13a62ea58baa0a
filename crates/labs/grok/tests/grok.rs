//! Native tests of the grokking session on the CPU backend (burn-flex).

use burn::module::Param;
use burn::optim::GradientsParams;
use burn::prelude::*;
use neurolab_grok::config::{Activation, GrokConfig, LossKind, ModelKind};
use neurolab_grok::params::{Decay, NamedParams};
use neurolab_grok::report::StepReport;
use neurolab_grok::{backend_cpu, GrokModel, GrokSession};
use pollster::block_on;

fn small(model: ModelKind) -> GrokConfig {
    let mut c = GrokConfig::preset_of_model(model);
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
        block_on(s.train_step());
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
/// v̂ = g². Checked on the session's path: its `Decay` map, then burn's Adam(W) without decay.
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
        .with_weight_decay(0.0)
        .init();
    let loss = (one.w.val() * Tensor::from_floats(g, &device)).sum();
    let grads = GradientsParams::from_grads(loss.backward(), &one);
    one = one.map(&mut Decay {
        factor: 1.0 - lr * wd,
    });
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
        block_on(s.train_step());
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
            block_on(s.train_step());
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

/// Every report of a session run to its end in chunks, as the worker runs it.
fn advance_all(s: &mut GrokSession) -> Vec<neurolab_grok::GrokReport> {
    use neurolab_base::lab::Chunk;
    use neurolab_base::Session as _;
    let mut out = vec![block_on(s.report()).unwrap().unwrap()];
    while !s.finished() {
        let a = block_on(s.advance(Chunk {
            units: 100,
            sync: false,
        }))
        .unwrap();
        assert!(a.diverged.is_none(), "{:?}", a.diverged);
        out.extend(a.reports);
    }
    out
}

/// The logits of the first run over all pairs, read back natively (row-major `[p², p]`).
fn all_logits(s: &GrokSession) -> Vec<f32> {
    let p = s.config().p as usize;
    let device = backend_cpu().autodiff();
    let col = |f: fn(usize, usize) -> usize| {
        let v: Vec<i32> = (0..p * p).map(|i| f(i, p) as i32).collect();
        Tensor::<1, Int>::from_data(TensorData::new(v, [p * p]), &device)
    };
    let logits = s.model().forward(col(|i, p| i / p), col(|i, p| i % p));
    logits
        .reshape([p * p * p])
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

/// The progress measures computed on the device agree with the plain CPU reference, for both
/// models and for addition and subtraction.
#[test]
fn progress_measures_on_the_device_match_the_cpu_reference() {
    use neurolab_base::Session as _;
    use neurolab_grok::analysis::progress_losses;
    use neurolab_grok::config::Op;
    for model in [ModelKind::Mlp, ModelKind::Transformer] {
        for op in [Op::Add, Op::Sub] {
            let mut c = small(model);
            c.op = op;
            c.steps = 40;
            c.analyse_every = 40;
            let mut s = GrokSession::new(c.clone(), backend_cpu()).unwrap();
            advance_all(&mut s);
            let a = block_on(s.report()).unwrap().unwrap().analysis.unwrap();
            assert!(!a.logit_freqs.is_empty(), "{model:?}/{op:?}: {a:?}");
            let train = neurolab_grok::Dataset::new(&c).train;
            let (r, e) =
                progress_losses(&all_logits(&s), c.p as usize, op, &a.logit_freqs, &train).unwrap();
            let (dr, de) = (a.restricted_loss.unwrap(), a.excluded_loss.unwrap());
            assert!(
                (dr - r).abs() < 1e-3 * r.max(1.0),
                "{model:?}/{op:?} restricted {dr} vs {r}"
            );
            assert!(
                (de - e).abs() < 1e-3 * e.max(1.0),
                "{model:?}/{op:?} excluded {de} vs {e}"
            );
        }
    }
}

/// Nanda et al.'s picture on a seeded 1-layer transformer that groks (p = 53, half the pairs):
/// at the end the excluded loss is far above the train loss (the model needs its key
/// frequencies), the restricted loss is as low as the test loss (they are all it needs), a
/// handful of frequencies carry most of the embedding's power, and the run went through the
/// three phases.
#[test]
fn a_grokking_transformer_ends_with_the_papers_progress_measures() {
    use neurolab_grok::analysis::Stage;
    let mut c = GrokConfig::preset_transformer();
    c.p = 53;
    c.train_frac = 0.5;
    c.steps = 3000;
    c.report_every = 50;
    c.analyse_every = 500;
    let mut s = GrokSession::new(c, backend_cpu()).unwrap();
    let reports = advance_all(&mut s);
    let last = reports.last().unwrap();
    let (m, a) = (last.metrics, last.analysis.as_ref().unwrap());
    assert!(m.test_acc >= 0.99, "{m:?}");
    let (r, e) = (a.restricted_loss.unwrap(), a.excluded_loss.unwrap());
    assert!(
        e > 1.0 && e > 100.0 * m.train_loss,
        "excluded {e} vs train {}",
        m.train_loss
    );
    assert!(
        (r - m.test_loss).abs() < 0.05,
        "restricted {r} vs test {}",
        m.test_loss
    );
    assert!(
        (1..=8).contains(&a.key_freqs.len()) && a.key_power_frac > 0.6,
        "keys {:?} carry {}",
        a.key_freqs,
        a.key_power_frac
    );
    // At initialisation the spectrum is flat.
    let first = reports[0].analysis.as_ref().unwrap();
    assert!(
        first.gini < 0.2 && a.gini > 0.5,
        "{} -> {}",
        first.gini,
        a.gini
    );
    let run = neurolab_grok::analysis::curve(
        reports.iter().map(|r| {
            (
                r.metrics.step,
                r.metrics.train_acc,
                r.metrics.test_acc,
                r.metrics.test_loss,
            )
        }),
        &reports
            .iter()
            .filter_map(|r| r.analysis.as_ref().map(|a| (a.step, a.restricted_loss)))
            .collect::<Vec<_>>(),
    );
    let phases: Vec<Stage> = neurolab_grok::analysis::stages(&run)
        .iter()
        .map(|s| s.stage)
        .collect();
    assert_eq!(
        phases,
        [
            Stage::Memorisation,
            Stage::CircuitFormation,
            Stage::CleanUp,
            Stage::Grokked
        ]
    );
}

/// The modular-addition paper's neurons: once the quick MLP has grokked, each live neuron
/// (not among the smallest) has most of its power at one frequency.
#[test]
fn a_grokked_mlp_has_single_frequency_neurons() {
    let mut s = GrokSession::new(GrokConfig::preset_quick(), backend_cpu()).unwrap();
    let reports = advance_all(&mut s);
    let last = reports.last().unwrap();
    assert!(last.metrics.test_acc >= 0.99, "{:?}", last.metrics);
    let a = last.analysis.as_ref().unwrap();
    let largest = a.neurons.iter().map(|n| n.norm).fold(0f32, f32::max);
    let live: Vec<_> = a
        .neurons
        .iter()
        .filter(|n| n.norm > 0.2 * largest)
        .collect();
    let single = live.iter().filter(|n| n.frac > 0.6).count();
    assert!(
        live.len() > a.neurons.len() / 2 && single * 10 >= live.len() * 9,
        "{single} of {} live neurons ({} in all) are single-frequency",
        live.len(),
        a.neurons.len()
    );
}

/// A fork from the link (config) and the same fork asked for while it runs (a control at a
/// kept checkpoint) give the same run, step for step; without weight decay its weights grow.
#[test]
fn forks_replay_exactly_and_change_the_run() {
    use neurolab_base::Session as _;
    use neurolab_grok::control::parse_forks;
    use neurolab_grok::{ForkChanges, GrokAnswer, GrokControl};
    let mut c = small(ModelKind::Mlp);
    c.steps = 40;
    c.report_every = 10;
    c.analyse_every = 10;
    let linked = GrokConfig {
        forks: parse_forks("20wd0").unwrap(),
        ..c.clone()
    };
    let mut a = GrokSession::new(linked, backend_cpu()).unwrap();
    let from_link = advance_all(&mut a);
    let mut b = GrokSession::new(c, backend_cpu()).unwrap();
    let mut live = advance_all(&mut b);
    let answer = block_on(b.apply(GrokControl::Fork {
        run: 0,
        step: 20,
        changes: ForkChanges {
            weight_decay: Some(0.0),
            ..ForkChanges::default()
        },
    }))
    .unwrap();
    assert!(
        matches!(
            answer,
            GrokAnswer::Forked {
                run: 1,
                from_step: 20,
                ..
            }
        ),
        "{answer:?}"
    );
    live.extend(advance_all(&mut b));
    let of_run = |r: &[neurolab_grok::GrokReport], run| {
        r.iter()
            .filter(|r| r.metrics.run == run && r.metrics.step > 20)
            .map(|r| r.metrics)
            .collect::<Vec<_>>()
    };
    let (x, y) = (of_run(&from_link, 1), of_run(&live, 1));
    assert_eq!(x.len(), 2);
    assert_eq!(x, y, "the fork replays exactly");
    let first = of_run(&from_link, 0);
    assert!(
        x[1].weight_norm > first[1].weight_norm,
        "{x:?} vs {first:?}"
    );
    assert!(from_link
        .iter()
        .any(|r| r.label.as_deref().is_some_and(|l| l.contains("wd 0"))));
    // Forks past the budget, and too many runs, are refused with their reason.
    let e = block_on(b.apply(GrokControl::Fork {
        run: 5,
        step: 0,
        changes: ForkChanges::default(),
    }))
    .unwrap_err();
    assert!(e.to_string().contains("run 6 does not exist"), "{e}");
}

/// Checkpoints stay under their cap (thinned, first and last kept); the mechanism at step 0 is
/// flat; a neuron's race covers every analysed step.
#[test]
fn checkpoints_thin_under_their_cap_and_the_timeline_scrubs() {
    use neurolab_base::Session as _;
    use neurolab_grok::config::CHECKPOINT_BYTES;
    use neurolab_grok::{GrokAnswer, GrokControl};
    let mut c = GrokConfig::preset_mlp();
    c.steps = 60;
    c.report_every = 1;
    c.analyse_every = 1;
    let mut s = GrokSession::new(c, backend_cpu()).unwrap();
    let reports = advance_all(&mut s);
    let a = reports.last().unwrap().analysis.as_ref().unwrap();
    assert!(
        a.checkpoint_bytes <= CHECKPOINT_BYTES,
        "{}",
        a.checkpoint_bytes
    );
    assert!(a.checkpoints.len() < 61, "{:?}", a.checkpoints);
    assert_eq!(a.checkpoints.first(), Some(&0));
    assert_eq!(a.checkpoints.last(), Some(&60));
    let GrokAnswer::Snapshot { analysis } =
        block_on(s.apply(GrokControl::Checkpoint { run: 0, step: 0 })).unwrap()
    else {
        panic!("no snapshot");
    };
    assert_eq!(analysis.step, 0);
    assert!(analysis.gini < 0.2, "{}", analysis.gini);
    let GrokAnswer::Race {
        steps,
        powers,
        freqs,
        ..
    } = block_on(s.apply(GrokControl::Race { run: 0, neuron: 3 })).unwrap()
    else {
        panic!("no race");
    };
    assert_eq!(steps, a.checkpoints);
    assert_eq!(powers.len(), freqs.len());
    assert!(powers.iter().all(|p| p.len() == steps.len()));
    let e = block_on(s.apply(GrokControl::Race {
        run: 0,
        neuron: 500,
    }))
    .unwrap_err();
    assert!(e.to_string().contains("neuron 500 does not exist"), "{e}");
}

/// Every weight of the first run, flattened in parameter order.
fn weights(s: &GrokSession) -> Vec<f32> {
    let mut named = NamedParams::default();
    s.model().visit_params(&mut named);
    named
        .tensors
        .into_iter()
        .flat_map(|(_, _, t)| t.into_data().try_to_vec::<f32>().unwrap())
        .collect()
}

/// Each preset's closed-form step (the MLP's and the transformer's gradients written out, both on
/// the host and through burn's tensor ops) equals the autodiff step: the loss after
/// each of a few AdamW steps (with weight decay and Grokfast) and every weight.
#[test]
fn closed_form_steps_equal_the_autodiff_steps_on_the_presets() {
    for (preset, grokfast) in [
        (GrokConfig::preset_mlp(), false),
        (GrokConfig::preset_mlp(), true),
        (GrokConfig::preset_transformer(), false),
        (GrokConfig::preset_transformer(), true),
    ] {
        let mut c = preset;
        c.grokfast = grokfast;
        closed_forms_match_autodiff(&c, &[], &format!("grokfast {grokfast}"));
    }
}

/// The MLP's host step and burn's closed form equal autodiff away from the preset as well:
/// ReLU and quadratic, CE and MSE, with neurons ablated, on an odd-sized model.
#[test]
fn mlp_closed_forms_equal_autodiff_with_relu_mse_and_ablation() {
    for activation in [Activation::Relu, Activation::Quadratic] {
        for loss in [LossKind::Ce, LossKind::Mse] {
            let mut c = small(ModelKind::Mlp);
            c.p = 23;
            c.hidden = 37;
            c.activation = activation;
            c.loss = loss;
            c.lr = 1e-2;
            let what = format!("{activation:?} {loss:?}");
            closed_forms_match_autodiff(&c, &[0, 5, 36], &what);
        }
    }
}

/// The transformer's host step (attention and the MLP's input layer through per-token tables)
/// and burn's closed form equal autodiff on an odd-sized model: CE and MSE, three heads, MLP
/// neurons ablated, and a training set of a fifth of the pairs (so tokens seen in few pairs).
#[test]
fn transformer_closed_forms_equal_autodiff_with_mse_and_ablation() {
    for loss in [LossKind::Ce, LossKind::Mse] {
        let mut c = small(ModelKind::Transformer);
        c.p = 17;
        c.d_model = 24;
        c.n_heads = 3;
        c.d_mlp = 37;
        c.train_frac = 0.2;
        c.loss = loss;
        c.lr = 1e-2;
        closed_forms_match_autodiff(&c, &[0, 5, 36], &format!("{loss:?}"));
    }
}

/// Three steps of `c` with `ablated` neurons: every closed-form path against autodiff, the loss
/// to 1e-5 relative and every weight to 1e-5.
fn closed_forms_match_autodiff(c: &GrokConfig, ablated: &[u32], what: &str) {
    let model = c.model;
    let session = |fused: bool, host: bool| {
        let mut s = GrokSession::new(c.clone(), backend_cpu()).unwrap();
        s.set_fused(fused);
        s.set_host(host);
        s.set_ablation(ablated).unwrap();
        s
    };
    let mut plain = session(false, false);
    let mut paths = vec![
        ("host", session(true, true)),
        ("burn ops", session(true, false)),
    ];
    for step in 1..=3 {
        block_on(plain.train_step());
        let p = block_on(plain.metrics()).unwrap();
        let wp = weights(&plain);
        for (path, fused) in &mut paths {
            block_on(fused.train_step());
            let f = block_on(fused.metrics()).unwrap();
            let gap = (f.train_loss - p.train_loss).abs() / p.train_loss;
            assert!(
                gap < 1e-5,
                "{model:?} {what} {path} step {step}: loss {f:?} vs {p:?}"
            );
            let worst = weights(fused)
                .iter()
                .zip(&wp)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(
                worst < 1e-5,
                "{model:?} {what} {path} step {step}: a weight differs by {worst}"
            );
        }
    }
}
