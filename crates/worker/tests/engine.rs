//! Native tests of the engine and its generic runner on the CPU backend: every lab configured,
//! run, stepped, paused, reset, controlled and exported through the same commands the page
//! sends; divergence, supersession, preparation in chunks and budgets.
#![cfg(not(target_arch = "wasm32"))]

use neurolab_base::msg::{LabCommand, LabEvent};
use neurolab_base::{Finite as _, Phase, StopReason};
use neurolab_core::grok::{GrokAnswer, GrokConfig, GrokControl, GrokLab};
use neurolab_core::protocol::{BackendChoice, Command, Event};
use neurolab_core::sae::{
    ClampInput, ClampOp, ClampRequest, SaeAnswer, SaeConfig, SaeControl, SaeLab, SaeSource, Target,
};
use neurolab_core::spike::{SpikeConfig, SpikeControl, SpikeLab};
use neurolab_core::{AnyCommand, AnyEvent};
use neurolab_worker::Engine;
use pollster::block_on;

mod support;
use support::engine;

fn init(engine: &mut Engine) {
    block_on(engine.handle(Command::Init {
        backend: BackendChoice::Cpu,
    }));
}

fn grok(session: u32, command: LabCommand<GrokLab>) -> Command {
    Command::Lab {
        session,
        command: AnyCommand::Grok(command),
    }
}

fn spike(session: u32, command: LabCommand<SpikeLab>) -> Command {
    Command::Lab {
        session,
        command: AnyCommand::Spike(command),
    }
}

fn sae(session: u32, command: LabCommand<SaeLab>) -> Command {
    Command::Lab {
        session,
        command: AnyCommand::Sae(command),
    }
}

/// Work until no lab wants chunks (bounded).
fn drain(engine: &mut Engine) {
    let mut guard = 0;
    while engine.is_busy() && guard < 200_000 {
        block_on(engine.work());
        guard += 1;
    }
    assert!(!engine.is_busy(), "still busy after {guard} chunks");
}

fn grok_events(events: &[Event]) -> Vec<(u32, LabEvent<GrokLab>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Lab {
                session,
                event: AnyEvent::Grok(x),
            } => Some((*session, x.clone())),
            _ => None,
        })
        .collect()
}

fn spike_events(events: &[Event]) -> Vec<LabEvent<SpikeLab>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Lab {
                event: AnyEvent::Spike(x),
                ..
            } => Some(x.clone()),
            _ => None,
        })
        .collect()
}

fn sae_events(events: &[Event]) -> Vec<LabEvent<SaeLab>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Lab {
                event: AnyEvent::Sae(x),
                ..
            } => Some(x.clone()),
            _ => None,
        })
        .collect()
}

fn report_steps(events: &[Event]) -> Vec<u32> {
    grok_events(events)
        .into_iter()
        .filter_map(|(_, e)| match e {
            LabEvent::Report { report } => Some(report.metrics.step),
            _ => None,
        })
        .collect()
}

fn tiny() -> GrokConfig {
    let mut c = GrokConfig::preset_mlp();
    c.p = 7;
    c.hidden = 16;
    c.steps = 12;
    c.report_every = 5;
    c.lr = 1e-2;
    c
}

fn configure_grok(session: u32, config: GrokConfig) -> Command {
    grok(
        session,
        LabCommand::Configure {
            config,
            prepare: true,
        },
    )
}

#[test]
fn configure_then_init_builds_a_session_and_reports_step_0() {
    let (mut engine, events) = engine();
    block_on(engine.handle(configure_grok(1, tiny())));
    assert!(events.borrow().is_empty(), "no device yet, nothing to say");
    block_on(engine.handle(Command::Init {
        backend: BackendChoice::Auto,
    }));
    let events = events.borrow();
    match &events[0] {
        Event::Backend { info } => {
            assert_eq!(info.kind, "cpu");
            assert!(info.fallback_reason.is_some(), "auto fell back natively");
        }
        other => panic!("expected Backend first, got {other:?}"),
    }
    let n_train = tiny().n_train() as u32;
    let lab = grok_events(&events);
    assert!(matches!(&lab[0], (1, LabEvent::Configured { summary, .. })
        if summary.n_train == n_train && summary.n_train + summary.n_test == 49));
    assert_eq!(report_steps(&events), [0]);
}

#[test]
fn runs_to_the_budget_reporting_every_n_steps() {
    let (mut engine, events) = engine();
    init(&mut engine);
    block_on(engine.handle(configure_grok(1, tiny())));
    block_on(engine.handle(grok(1, LabCommand::Run)));
    drain(&mut engine);
    let events = events.borrow();
    assert_eq!(report_steps(&events), [0, 5, 10, 12]);
    let last = grok_events(&events).pop().unwrap().1;
    assert!(
        matches!(&last, LabEvent::Stopped { position, reason: StopReason::Finished } if position.done == 12.0),
        "{last:?}"
    );
    // Every message survives the JSON round trip the page does.
    for e in events.iter() {
        assert_eq!(&Event::from_json(&e.to_json()).unwrap(), e);
    }
}

#[test]
fn step_pause_reset_and_export() {
    let (mut engine, events) = engine();
    init(&mut engine);
    block_on(engine.handle(configure_grok(1, tiny())));
    block_on(engine.handle(grok(1, LabCommand::Step)));
    drain(&mut engine);
    block_on(engine.handle(grok(1, LabCommand::Step)));
    drain(&mut engine);
    block_on(engine.handle(grok(1, LabCommand::Pause)));
    block_on(engine.handle(grok(
        1,
        LabCommand::Export {
            what: "weights".into(),
        },
    )));
    block_on(engine.handle(grok(2, LabCommand::Reset { prepare: true })));
    let events = events.borrow();
    // A step always shows its result (1 and 2 are not report steps); the reset reports 0 again.
    assert_eq!(report_steps(&events), [0, 1, 2, 0]);
    let lab = grok_events(&events);
    assert!(lab.iter().any(|(_, e)| matches!(e,
        LabEvent::Stopped { position, reason: StopReason::Paused } if position.done == 2.0)));
    let (name, size) = lab
        .iter()
        .find_map(|(_, e)| match e {
            LabEvent::Exported {
                file_name,
                size,
                bytes,
                ..
            } => Some((file_name.clone(), (*size, bytes.len()))),
            _ => None,
        })
        .expect("weights were exported");
    assert_eq!(name, "neurolab-grok-mlp-p7-add-step2.safetensors");
    assert!(size.0 > 0 && size.0 as usize == size.1);
    // The reset's events carry the new session id.
    assert_eq!(lab.last().unwrap().0, 2);
}

#[test]
fn commands_before_a_session_are_errors_not_panics() {
    let (mut engine, events) = engine();
    init(&mut engine);
    block_on(engine.handle(grok(1, LabCommand::Run)));
    let events = events.borrow();
    assert!(grok_events(&events).iter().any(|(_, e)| matches!(e,
        LabEvent::Failed { message } if message.contains("no session"))));
}

#[test]
fn a_run_that_diverges_stops_with_a_message_and_posts_no_nan() {
    let (mut engine, events) = engine();
    init(&mut engine);
    let mut c = tiny();
    c.steps = 400;
    c.report_every = 1;
    // AdamW's decoupled decay multiplies the weights by 1 − lr·wd = −9 every step.
    c.lr = 1.0;
    c.weight_decay = 10.0;
    block_on(engine.handle(configure_grok(1, c)));
    block_on(engine.handle(grok(1, LabCommand::Run)));
    drain(&mut engine);
    let events = events.borrow();
    let lab = grok_events(&events);
    let stop = lab
        .iter()
        .rev()
        .find_map(|(_, e)| match e {
            LabEvent::Stopped { position, reason } => Some((*position, reason.clone())),
            _ => None,
        })
        .unwrap();
    assert!(
        matches!(&stop.1, StopReason::Diverged { message, .. } if message.contains("NaN")),
        "{stop:?}"
    );
    assert_eq!(stop.1.phase(&stop.0), Phase::Diverged);
    assert!(stop.0.done < 400.0, "stopped at the divergence");
    for (_, e) in &lab {
        if let LabEvent::Report { report } = e {
            assert!(report.all_finite(), "a NaN report was posted: {report:?}");
        }
    }
    // Every event reads back as it was sent (a NaN would have become `null` and failed).
    for e in events.iter() {
        assert_eq!(&Event::from_json(&e.to_json()).unwrap(), e);
    }
}

#[test]
fn ablating_grokking_neurons_answers_and_reports_at_once() {
    let (mut engine, events) = engine();
    init(&mut engine);
    block_on(engine.handle(configure_grok(1, tiny())));
    let control = |control| grok(1, LabCommand::Control { control: control });
    block_on(engine.handle(control(GrokControl::Ablate {
        neurons: (0..16).collect(),
    })));
    block_on(engine.handle(control(GrokControl::AblateFrequency { k: 2 })));
    block_on(engine.handle(control(GrokControl::Ablate { neurons: vec![99] })));
    let events = events.borrow();
    let lab = grok_events(&events);
    let answers: Vec<_> = lab
        .iter()
        .filter_map(|(_, e)| match e {
            LabEvent::Answer { answer } => Some(answer.clone()),
            _ => None,
        })
        .collect();
    assert!(
        matches!(&answers[0], GrokAnswer::Ablated { ablated, .. } if ablated.len() == 16),
        "{answers:?}"
    );
    assert!(
        matches!(&answers[1], GrokAnswer::Ablated { what, .. } if what.starts_with("frequency 2")),
        "{answers:?}"
    );
    // Every hidden neuron ablated: constant logits, cross-entropy ln 7.
    let losses: Vec<f32> = lab
        .iter()
        .filter_map(|(_, e)| match e {
            LabEvent::Report { report } => Some(report.metrics.train_loss),
            _ => None,
        })
        .collect();
    assert!((losses[1] - 7f32.ln()).abs() < 1e-4, "{losses:?}");
    assert!(matches!(&lab.last().unwrap().1,
        LabEvent::Failed { message } if message.contains("neuron 99 does not exist")));
}

#[test]
fn the_spiking_lab_runs_to_its_duration_and_answers_controls() {
    let (mut engine, events) = engine();
    init(&mut engine);
    let mut config = SpikeConfig::izhikevich2003();
    config.n = 200;
    config.trace_neurons = vec![0, 199];
    config.duration_ms = 300;
    block_on(engine.handle(spike(
        1,
        LabCommand::Configure {
            config,
            prepare: true,
        },
    )));
    let silence = |from, to| {
        spike(
            1,
            LabCommand::Control {
                control: SpikeControl::Silence { from, to, on: true },
            },
        )
    };
    block_on(engine.handle(silence(0, 50)));
    block_on(engine.handle(spike(1, LabCommand::Run)));
    drain(&mut engine);
    // A bad control is a message, not a panic, and the run survives it.
    block_on(engine.handle(silence(0, 5000)));
    let events = spike_events(&events.borrow());
    assert!(matches!(&events[0], LabEvent::Configured { summary, .. }
        if summary.neurons == 200 && summary.engine == "cpu"));
    // The answer is the engine's truth: the silenced range.
    assert!(events
        .iter()
        .any(|e| matches!(e, LabEvent::Answer { answer }
        if answer.silenced.len() == 1 && answer.silenced[0].to == 50)));
    let mut t_end = 0.0;
    let mut spikes = 0;
    let mut chunks = 0;
    for e in &events {
        if let LabEvent::Report { report } = e {
            assert!(
                report.spike_neuron.iter().all(|&i| i >= 50),
                "a silenced neuron fired"
            );
            spikes += report.spike_neuron.len();
            t_end = report.t_ms;
            chunks += 1;
        }
    }
    assert_eq!(t_end, 300.0);
    assert!(chunks > 1, "the run came in chunks");
    assert!(spikes > 100, "only {spikes} spikes in 300 ms");
    assert!(events.iter().any(|e| matches!(
        e,
        LabEvent::Stopped {
            reason: StopReason::Finished,
            ..
        }
    )));
    assert!(matches!(events.last(),
        Some(LabEvent::Failed { message }) if message.contains("200")));
}

#[test]
fn a_spiking_step_runs_100_ms_in_chunks() {
    let (mut engine, events) = engine();
    init(&mut engine);
    let mut config = SpikeConfig::izhikevich2003();
    config.n = 100;
    config.trace_neurons = vec![0];
    block_on(engine.handle(spike(
        1,
        LabCommand::Configure {
            config,
            prepare: true,
        },
    )));
    block_on(engine.handle(spike(1, LabCommand::Step)));
    drain(&mut engine);
    let events = spike_events(&events.borrow());
    let reports: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            LabEvent::Report { report } => Some(report.t_ms),
            _ => None,
        })
        .collect();
    assert_eq!(reports.last(), Some(&100.0));
    assert!(reports.len() > 1, "one chunk: {reports:?}");
    assert!(matches!(events.last(),
        Some(LabEvent::Stopped { position, reason: StopReason::Paused }) if position.done == 100.0));
}

/// A small toy-source SAE the worker tests train in a second or two.
fn tiny_sae() -> SaeConfig {
    let mut c = SaeConfig::preset(SaeSource::Toy);
    c.toy_n = 16;
    c.toy_m = 6;
    c.toy_steps = 600;
    c.toy_samples = 2048;
    c.latents = 32;
    c.k = 3;
    c.k_aux = 4;
    c.steps = 400;
    c.report_every = 100;
    c
}

#[test]
fn the_sae_lab_prepares_trains_browses_and_clamps() {
    let (mut engine, events) = engine();
    init(&mut engine);
    block_on(engine.handle(sae(
        1,
        LabCommand::Configure {
            config: tiny_sae(),
            prepare: true,
        },
    )));
    // The toy model trains in chunks before anything else.
    drain(&mut engine);
    block_on(engine.handle(sae(1, LabCommand::Run)));
    drain(&mut engine);
    let top = {
        let ev = sae_events(&events.borrow());
        let preparing = ev
            .iter()
            .filter(|e| matches!(e, LabEvent::Preparing { .. }))
            .count();
        assert!(preparing >= 1, "no preparation notes");
        assert!(ev.iter().any(|e| matches!(
            e,
            LabEvent::Stopped {
                reason: StopReason::Prepared,
                ..
            }
        )));
        let configured: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                LabEvent::Configured { summary, .. } => Some(summary.clone()),
                _ => None,
            })
            .collect();
        // Once when built, once when prepared (now with its sizes and source).
        assert_eq!(configured.len(), 2);
        assert_eq!(
            (
                configured[1].n_samples,
                configured[1].d,
                configured[1].latents
            ),
            (2048, 6, 32)
        );
        assert!(configured[1].source.contains("toy model"));
        let reports: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                LabEvent::Report { report } => Some(report.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            reports.iter().map(|r| r.step).collect::<Vec<_>>(),
            [0, 100, 200, 300, 400]
        );
        let (first, last) = (reports[0].mmcs.unwrap(), reports[4].mmcs.unwrap());
        assert!(last > first + 0.1 && last > 0.6, "MMCS {first} -> {last}");
        // The page asks for the list: densest first.
        drop(ev);
        block_on(engine.handle(sae(
            1,
            LabCommand::Control {
                control: SaeControl::Features,
            },
        )));
        let ev = sae_events(&events.borrow());
        match ev.last() {
            Some(LabEvent::Answer {
                answer: SaeAnswer::FeatureList { features, step },
            }) => {
                assert_eq!((features.len(), *step), (32, 400));
                assert!(features.windows(2).all(|w| w[0].density >= w[1].density));
                assert!(features[0].best_true.is_some() && !features[0].label.is_empty());
                features[0].index
            }
            other => panic!("expected the feature list, got {other:?}"),
        }
    };
    events.borrow_mut().clear();
    let control = |control| sae(1, LabCommand::Control { control });
    block_on(engine.handle(control(SaeControl::Feature {
        target: Target::Feature(top),
    })));
    block_on(engine.handle(control(SaeControl::Clamp {
        request: ClampRequest {
            input: ClampInput::Sample(0),
            target: Target::Feature(top),
            op: ClampOp::Set(5.0),
        },
    })));
    // A bad index is a message naming the limit, not a panic; so is a non-finite clamp value.
    block_on(engine.handle(control(SaeControl::Feature {
        target: Target::Feature(99),
    })));
    block_on(engine.handle(control(SaeControl::Clamp {
        request: ClampRequest {
            input: ClampInput::Sample(0),
            target: Target::Feature(top),
            op: ClampOp::Set(f32::INFINITY),
        },
    })));
    // The feature shown and the clamp go into the script; the refused ones do not.
    let (recorded, ev): (Vec<_>, Vec<_>) = sae_events(&events.borrow())
        .into_iter()
        .partition(|e| matches!(e, LabEvent::Recorded { .. }));
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert!(
        matches!(&ev[0], LabEvent::Answer { answer: SaeAnswer::FeatureDetail { detail } }
        if detail.target == Target::Feature(top) && detail.top_inputs.len() > 3 && detail.density > 0.0)
    );
    match &ev[1] {
        LabEvent::Answer {
            answer: SaeAnswer::Clamped { response, .. },
        } => {
            assert_eq!(response.value_after, 5.0);
            let moved: f32 = response
                .outputs_before
                .iter()
                .zip(&response.outputs_after)
                .map(|(a, b)| (a - b).abs())
                .sum();
            assert!(
                moved > 0.1,
                "setting a feature to 5 moved the outputs by {moved}"
            );
        }
        other => panic!("expected Clamped, got {other:?}"),
    }
    assert!(matches!(&ev[2], LabEvent::Failed { message } if message.contains("below 32")));
    assert!(matches!(&ev[3], LabEvent::Failed { message } if message.contains("clamp value")));
}

#[test]
fn preparation_pauses_resumes_and_is_superseded() {
    let (mut engine, events) = engine();
    init(&mut engine);
    let mut c = tiny_sae();
    c.toy_steps = 3000;
    block_on(engine.handle(sae(
        1,
        LabCommand::Configure {
            config: c.clone(),
            prepare: true,
        },
    )));
    for _ in 0..3 {
        block_on(engine.work());
    }
    block_on(engine.handle(sae(1, LabCommand::Pause)));
    assert!(!engine.is_busy(), "a paused preparation does no work");
    let paused_at = sae_events(&events.borrow())
        .iter()
        .rev()
        .find_map(|e| match e {
            LabEvent::Preparing {
                done,
                running: false,
                ..
            } => Some(*done),
            _ => None,
        })
        .expect("a paused preparation note");
    assert!(paused_at > 0 && paused_at < 3000, "{paused_at}");
    // Commands never wait behind it: a new config supersedes it at once (a new session id).
    let mut c2 = c.clone();
    c2.toy_steps = 50;
    block_on(engine.handle(sae(
        2,
        LabCommand::Configure {
            config: c2,
            prepare: false,
        },
    )));
    assert!(!engine.is_busy(), "an embed's config waits for Run");
    block_on(engine.handle(sae(2, LabCommand::Run)));
    drain(&mut engine);
    let all = events.borrow();
    let last = all.last().unwrap();
    assert!(
        matches!(
            last,
            Event::Lab {
                session: 2,
                event: AnyEvent::Sae(LabEvent::Stopped {
                    reason: StopReason::Finished,
                    ..
                })
            }
        ),
        "Run prepared and then trained to the end: {last:?}"
    );
}

#[test]
fn a_grok_source_is_prepared_once_for_several_sae_configs() {
    let (mut engine, events) = engine();
    init(&mut engine);
    let mut c = SaeConfig::preset(SaeSource::GrokMlp);
    c.latents = 16;
    c.k = 2;
    c.k_aux = 4;
    c.batch = 16;
    c.steps = 2;
    c.grok_p = 7;
    c.grok_steps = 20;
    let configure = |id, config| {
        sae(
            id,
            LabCommand::Configure {
                config,
                prepare: true,
            },
        )
    };
    let preparing = |events: &[Event]| {
        sae_events(events)
            .iter()
            .filter(|e| matches!(e, LabEvent::Preparing { .. }))
            .count()
    };
    block_on(engine.handle(configure(1, c.clone())));
    drain(&mut engine);
    let first = preparing(&events.borrow());
    assert!(first >= 1);
    let mut c2 = c.clone();
    c2.latents = 24;
    block_on(engine.handle(configure(2, c2)));
    assert_eq!(preparing(&events.borrow()), first, "the source was reused");
    assert!(matches!(
        sae_events(&events.borrow()).iter().rev().find(|e| matches!(e, LabEvent::Configured { .. })),
        Some(LabEvent::Configured { summary, .. }) if summary.latents == 24 && summary.source.contains("preset trained here")
    ));
    // Another preset (another seed) is prepared again.
    c.seed = 9;
    block_on(engine.handle(configure(3, c)));
    drain(&mut engine);
    assert!(preparing(&events.borrow()) > first);
}

#[test]
fn running_one_lab_pauses_the_others() {
    let (mut engine, events) = engine();
    init(&mut engine);
    let mut long = tiny();
    long.steps = 100_000;
    block_on(engine.handle(configure_grok(1, long)));
    block_on(engine.handle(grok(1, LabCommand::Run)));
    block_on(engine.work());
    let mut config = SpikeConfig::izhikevich2003();
    config.n = 100;
    config.trace_neurons = vec![0];
    config.duration_ms = 50;
    block_on(engine.handle(spike(
        1,
        LabCommand::Configure {
            config,
            prepare: true,
        },
    )));
    block_on(engine.handle(spike(1, LabCommand::Run)));
    drain(&mut engine);
    let events = events.borrow();
    assert!(grok_events(&events).iter().any(|(_, e)| matches!(
        e,
        LabEvent::Stopped {
            reason: StopReason::Paused,
            ..
        }
    )));
}

#[test]
fn over_budget_configs_are_refused_with_the_estimate() {
    let (mut engine, events) = engine();
    init(&mut engine);
    let mut c = SaeConfig::preset(SaeSource::Toy);
    c.toy_samples = 1_000_000;
    c.toy_n = 1024;
    c.toy_m = 1000;
    c.latents = 65_536;
    block_on(engine.handle(sae(
        1,
        LabCommand::Configure {
            config: c,
            prepare: true,
        },
    )));
    let ev = sae_events(&events.borrow());
    assert!(
        matches!(&ev[0], LabEvent::Failed { message }
        if message.starts_with("this SAE needs ~") && message.contains("the browser allows 1 GB")),
        "{ev:?}"
    );
    assert!(!engine.is_busy());
}

/// The mechanism of two small seeded models, natively: the numbers the browser tests compare
/// theirs with (`support/grok-analysis.json`; rewrite it with `NEUROLAB_BLESS=1` after a change
/// that is meant to move them).
#[test]
fn small_analyses_match_the_fixture_the_browser_checks() {
    let got = block_on(support::small_analyses(neurolab_core::grok::backend_cpu()));
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/grok-analysis.json"
    );
    if std::env::var_os("NEUROLAB_BLESS").is_some() {
        std::fs::write(path, serde_json::to_string_pretty(&got).unwrap()).unwrap();
    }
    let want: Vec<neurolab_core::grok::Analysis> =
        serde_json::from_str(support::ANALYSIS_FIXTURE).unwrap();
    assert_eq!(want.len(), 2);
    for (g, w) in got.iter().zip(&want) {
        support::agree(g, w, 1e-4).unwrap();
        assert!(g.restricted_loss.is_some() && g.cka.is_some(), "{g:?}");
    }
}

/// Every report of a session's run, in order, and the controls the worker recorded.
fn grok_run_record(
    events: &[Event],
) -> (
    Vec<neurolab_core::grok::GrokReport>,
    Vec<(f64, GrokControl)>,
) {
    let mut reports = Vec::new();
    let mut recorded = Vec::new();
    for (_, e) in grok_events(events) {
        match e {
            LabEvent::Report { report } => reports.push(report),
            LabEvent::Recorded { at, control } => recorded.push((at, control)),
            _ => {}
        }
    }
    (reports, recorded)
}

#[test]
fn interventions_are_recorded_with_their_step_and_a_script_replays_the_run_exactly() {
    let mut config = tiny();
    config.steps = 300;
    config.report_every = 7;
    // The original: ablations sent while it runs, wherever the chunks happen to be.
    let (mut engine, events) = support::engine();
    init(&mut engine);
    block_on(engine.handle(configure_grok(1, config.clone())));
    block_on(engine.handle(grok(1, LabCommand::Run)));
    for _ in 0..3 {
        block_on(engine.work());
    }
    block_on(engine.handle(grok(
        1,
        LabCommand::Control {
            control: GrokControl::Ablate {
                neurons: (0..8).collect(),
            },
        },
    )));
    // A view is answered but not recorded.
    block_on(engine.handle(grok(
        1,
        LabCommand::Control {
            control: GrokControl::Race { run: 0, neuron: 1 },
        },
    )));
    for _ in 0..3 {
        block_on(engine.work());
    }
    block_on(engine.handle(grok(
        1,
        LabCommand::Control {
            control: GrokControl::Ablate { neurons: vec![] },
        },
    )));
    drain(&mut engine);
    let (original, recorded) = grok_run_record(&events.borrow());
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert!(recorded[0].0 > 0.0 && recorded[0].0 < 300.0, "{recorded:?}");
    assert!(recorded[0].0 <= recorded[1].0);
    assert_eq!(original.last().unwrap().metrics.step, 300);

    // The link's text of that script replays the same reports, bit for bit.
    let mut script = neurolab_base::Script::default();
    for (at, control) in &recorded {
        script.push(*at, control.clone()).unwrap();
    }
    let text = script.encode();
    let script = neurolab_base::Script::<GrokControl>::decode(&text).unwrap();
    let (mut engine, events) = support::engine();
    init(&mut engine);
    block_on(engine.handle(configure_grok(2, config.clone())));
    block_on(engine.handle(grok(2, LabCommand::Script { script })));
    block_on(engine.handle(grok(2, LabCommand::Run)));
    drain(&mut engine);
    let (replayed, again) = grok_run_record(&events.borrow());
    assert!(again.is_empty(), "a replay records nothing new");
    assert_eq!(replayed.len(), original.len());
    for (a, b) in original.iter().zip(&replayed) {
        assert_eq!(a.metrics, b.metrics);
    }
    // The ablation shows at once: a report at the recorded step.
    let at = recorded[0].0 as u32;
    assert!(
        original.iter().any(|r| r.metrics.step == at),
        "a report at step {at}"
    );
    // A reset replays the script again.
    events.borrow_mut().clear();
    block_on(engine.handle(grok(2, LabCommand::Reset { prepare: true })));
    block_on(engine.handle(grok(2, LabCommand::Run)));
    drain(&mut engine);
    let (reset, _) = grok_run_record(&events.borrow());
    assert_eq!(
        reset.last().unwrap().metrics,
        original.last().unwrap().metrics
    );

    // Without the script the run differs.
    let (mut engine, events) = support::engine();
    init(&mut engine);
    block_on(engine.handle(configure_grok(3, config)));
    block_on(engine.handle(grok(3, LabCommand::Run)));
    drain(&mut engine);
    let (plain, _) = grok_run_record(&events.borrow());
    assert_ne!(
        plain.last().unwrap().metrics,
        original.last().unwrap().metrics
    );
}

/// A spiking run silenced mid-run, and an SAE clamped mid-run: the recorded script replays the
/// same curves (by time or step, whatever the chunks), the same spikes and the same answers.
#[test]
fn spike_and_sae_scripts_replay_their_runs() {
    use neurolab_base::Lab as _;
    // Spiking: silence half the network while it runs.
    let mut config = SpikeConfig::izhikevich2003();
    config.n = 200;
    config.trace_neurons = vec![0];
    config.duration_ms = 400;
    let run = |session: u32, script: Option<neurolab_base::Script<SpikeControl>>, live: bool| {
        let (mut engine, events) = engine();
        init(&mut engine);
        block_on(engine.handle(spike(
            session,
            LabCommand::Configure {
                config: config.clone(),
                prepare: true,
            },
        )));
        if let Some(script) = script {
            block_on(engine.handle(spike(session, LabCommand::Script { script })));
        }
        block_on(engine.handle(spike(session, LabCommand::Run)));
        if live {
            for _ in 0..2 {
                block_on(engine.work());
            }
            let control = SpikeControl::Silence {
                from: 0,
                to: 100,
                on: true,
            };
            block_on(engine.handle(spike(session, LabCommand::Control { control })));
        }
        drain(&mut engine);
        let mut reports = Vec::new();
        let mut recorded = neurolab_base::Script::default();
        for e in spike_events(&events.borrow()) {
            match e {
                LabEvent::Report { report } => reports.push(report),
                LabEvent::Recorded { at, control } => recorded.push(at, control).unwrap(),
                _ => {}
            }
        }
        (reports, recorded)
    };
    let (original, script) = run(1, None, true);
    assert_eq!(script.events.len(), 1);
    let at = script.events[0].at;
    assert!(at > 0.0 && at < 400.0, "silenced at {at} ms");
    let text = script.encode();
    let (replayed, again) = run(
        2,
        Some(neurolab_base::Script::decode(&text).unwrap()),
        false,
    );
    assert!(again.events.is_empty(), "a replay records nothing new");
    let curves = SpikeLab::curves(&original);
    assert_eq!(curves, SpikeLab::curves(&replayed));
    assert_eq!(curves[0].points.len(), 400);
    let spikes = |r: &[neurolab_core::spike::SpikeReport]| -> Vec<(u32, u32)> {
        r.iter()
            .flat_map(|r| {
                r.spike_t_ms
                    .iter()
                    .copied()
                    .zip(r.spike_neuron.iter().copied())
            })
            .collect()
    };
    assert_eq!(spikes(&original), spikes(&replayed));
    // After the silencing, neurons 0..100 are quiet.
    assert!(!spikes(&original)
        .iter()
        .any(|&(t, n)| f64::from(t) > at + 1.0 && n < 100));

    // SAE: a clamp while it trains is answered again, the same, at the same step.
    let mut c = tiny_sae();
    c.steps = 1500;
    let run = |session: u32, script: Option<neurolab_base::Script<SaeControl>>, live: bool| {
        let (mut engine, events) = engine();
        init(&mut engine);
        block_on(engine.handle(sae(
            session,
            LabCommand::Configure {
                config: c.clone(),
                prepare: true,
            },
        )));
        drain(&mut engine);
        if let Some(script) = script {
            block_on(engine.handle(sae(session, LabCommand::Script { script })));
        }
        block_on(engine.handle(sae(session, LabCommand::Run)));
        if live {
            for _ in 0..2 {
                block_on(engine.work());
            }
            let control = SaeControl::Clamp {
                request: ClampRequest {
                    input: ClampInput::Sample(3),
                    target: Target::Feature(1),
                    op: ClampOp::Set(4.0),
                },
            };
            block_on(engine.handle(sae(session, LabCommand::Control { control })));
        }
        drain(&mut engine);
        let mut reports = Vec::new();
        let mut clamps = Vec::new();
        let mut recorded = neurolab_base::Script::default();
        for e in sae_events(&events.borrow()) {
            match e {
                LabEvent::Report { report } => reports.push(report),
                LabEvent::Answer {
                    answer: SaeAnswer::Clamped { response, .. },
                } => clamps.push(response),
                LabEvent::Recorded { at, control } => recorded.push(at, control).unwrap(),
                _ => {}
            }
        }
        (reports, clamps, recorded)
    };
    let (original, clamped, script) = run(1, None, true);
    assert_eq!((script.events.len(), clamped.len()), (1, 1));
    let text = script.encode();
    let (replayed, clamped_again, again) = run(
        2,
        Some(neurolab_base::Script::decode(&text).unwrap()),
        false,
    );
    assert!(again.events.is_empty());
    assert_eq!(clamped_again, clamped, "the clamp's answer, bit for bit");
    assert_eq!(
        neurolab_core::sae::SaeLab::curves(&original),
        neurolab_core::sae::SaeLab::curves(&replayed)
    );
    assert_eq!(original, replayed);
}

fn bench_progress(events: &[Event]) -> Vec<neurolab_base::bench::BenchProgress> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Bench { progress } => Some(progress.clone()),
            _ => None,
        })
        .collect()
}

/// The benchmark times every lab's cases (every case's config is valid), one row each with a
/// positive finite rate, and posts its progress after each case.
#[test]
fn the_benchmark_times_every_labs_cases() {
    use neurolab_base::{Lab as _, LabConfig as _};
    for case in GrokLab::bench_cases() {
        case.config.validate().unwrap();
    }
    for case in SaeLab::bench_cases() {
        case.config.validate().unwrap();
    }
    for case in SpikeLab::bench_cases() {
        case.config.validate().unwrap();
    }
    for case in neurolab_core::lm::LmLab::bench_cases() {
        case.config.validate().unwrap();
    }
    let (mut engine, events) = engine();
    init(&mut engine);
    block_on(engine.handle(Command::Bench { seconds: 0.05 }));
    drain(&mut engine);
    let progress = bench_progress(&events.borrow());
    let last = progress.last().expect("progress events");
    let of = GrokLab::bench_cases().len()
        + SaeLab::bench_cases().len()
        + SpikeLab::bench_cases().len()
        + neurolab_core::lm::LmLab::bench_cases().len();
    assert_eq!(last.of as usize, of);
    assert_eq!(last.rows.len(), of, "{last:?}");
    assert!(last.finished() && last.stopped.is_none(), "{last:?}");
    assert_eq!(progress.len(), of + 1, "one at the start, one per case");
    for row in &last.rows {
        assert!(row.rate.is_finite() && row.rate > 0.0, "{row:?}");
        assert!(row.timed > 0.0 && row.seconds >= 0.05, "{row:?}");
    }
    let labs: Vec<&str> = last.rows.iter().map(|r| r.lab.as_str()).collect();
    assert!(labs.contains(&"grok") && labs.contains(&"sae") && labs.contains(&"spike"));
    assert_eq!(last.backend, "cpu");
}

/// Starting a lab stops the benchmark with the reason, and the lab runs.
#[test]
fn starting_a_lab_stops_the_benchmark() {
    let (mut engine, events) = engine();
    block_on(engine.handle(configure_grok(1, tiny())));
    init(&mut engine);
    block_on(engine.handle(Command::Bench { seconds: 30.0 }));
    for _ in 0..3 {
        block_on(engine.work());
    }
    block_on(engine.handle(grok(1, LabCommand::Run)));
    let progress = bench_progress(&events.borrow());
    let last = progress.last().unwrap();
    assert_eq!(
        last.stopped.as_deref(),
        Some("stopped: the grok lab was started")
    );
    drain(&mut engine);
    assert!(report_steps(&events.borrow()).contains(&tiny().steps));
}

/// The spiking CPU engine's spikes natively are the fixture the browser test checks too.
#[test]
fn spiking_engine_spikes_are_the_fixture() {
    let got = support::izhikevich2003_spike_digest();
    assert!(
        got.0 > 1000,
        "the 2003 network fired only {} spikes in 300 ms",
        got.0
    );
    assert_eq!(got, support::SPIKE_DIGEST);
}
