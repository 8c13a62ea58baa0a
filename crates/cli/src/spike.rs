//! `neurolab spike` and `neurolab bench spike`: the spiking reservoir lab on the command line.
//!
//! `neurolab spike` runs a `SpikeSession` (CPU engine: network, plasticity, task, readout) or the
//! WGSL engine (`--engine gpu`: the network alone), optionally writes the raster as CSV, and with
//! `--json` prints one JSON object per line: learning-curve points of a task while it runs, then
//! `{"final": true, ...}`. `neurolab bench spike` prints the real-time factors of the engines.

use clap::{Args, ValueEnum};
use neurolab_spike::config::{Engine, SpikeConfig, PRESETS};
use neurolab_spike::network::Network;
use neurolab_spike::plasticity::HomeostasisKind;
use neurolab_spike::readout::{ForceParams, ReadoutConfig, RidgeParams, ThreeFactorParams};
use neurolab_spike::session::SpikeSession;
use neurolab_spike::sim::Sim;
use neurolab_spike::task::{BarsParams, SeriesParams, TaskConfig, WhatWhenParams};
use serde_json::json;
use std::io::Write;
use std::time::Instant;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
pub enum EngineArg {
    Cpu,
    Gpu,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
pub enum TaskArg {
    None,
    Whatwhen,
    Bars,
    Series,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
pub enum ReadoutArg {
    ThreeFactor,
    Ridge,
    Force,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
pub enum HomeostasisArg {
    Off,
    Scaling,
    Intrinsic,
    Both,
}

#[derive(Args, Debug)]
pub struct SpikeArgs {
    /// izhikevich2003 (the paper's 1000-neuron network), reservoir, or lif.
    #[arg(long, default_value = "izhikevich2003")]
    preset: String,
    /// Simulated seconds (default: the preset's duration).
    #[arg(long)]
    seconds: Option<f64>,
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long, value_enum, default_value = "cpu")]
    engine: EngineArg,
    /// One JSON object per line (learning curve points, then the final figures).
    #[arg(long)]
    json: bool,
    /// Write every spike to this CSV file (`t_ms,neuron`).
    #[arg(long)]
    raster: Option<String>,
    /// Readout task (CPU engine).
    #[arg(long, value_enum)]
    task: Option<TaskArg>,
    #[arg(long, value_enum)]
    readout: Option<ReadoutArg>,
    /// Number of neurons.
    #[arg(long)]
    n: Option<usize>,
    /// Connection probability (makes the network sparse).
    #[arg(long)]
    p_conn: Option<f32>,
    #[arg(long)]
    dt_ms: Option<f32>,
    #[arg(long)]
    w_exc: Option<f32>,
    #[arg(long)]
    w_inh: Option<f32>,
    /// Input noise std of excitatory neurons.
    #[arg(long)]
    noise_exc: Option<f32>,
    #[arg(long)]
    noise_inh: Option<f32>,
    /// Turn on STDP on excitatory synapses.
    #[arg(long)]
    stdp: bool,
    #[arg(long, value_enum)]
    homeostasis: Option<HomeostasisArg>,
    /// Target rate of homeostasis (Hz).
    #[arg(long)]
    target_rate_hz: Option<f32>,
    /// Simulated ms per session chunk (CPU) or per GPU readback.
    #[arg(long, default_value_t = 100)]
    chunk_ms: u32,
    /// GPU engine: steps per command-buffer submit.
    #[arg(long)]
    steps_per_submit: Option<u32>,
}

#[derive(Args, Debug)]
pub struct BenchSpikeArgs {
    /// Simulated seconds per measurement.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Also measure the GPU engine (needs an adapter; lavapipe works, slowly).
    #[arg(long)]
    gpu: bool,
}

fn build_config(a: &SpikeArgs) -> Result<SpikeConfig, String> {
    let mut c = SpikeConfig::preset(&a.preset).map_err(|e| e.to_string())?;
    if let Some(s) = a.seed {
        c.seed = s;
    }
    c.engine = match a.engine {
        EngineArg::Cpu => Engine::Cpu,
        EngineArg::Gpu => Engine::Gpu,
    };
    if let Some(n) = a.n {
        c.n = n;
        // Keep the trace neurons inside the network.
        c.trace_neurons.retain(|&i| (i as usize) < n);
    }
    if let Some(p) = a.p_conn {
        c.dense = false;
        c.p_conn = p;
    }
    if let Some(x) = a.dt_ms {
        c.dt_ms = x;
    }
    if let Some(x) = a.w_exc {
        c.w_exc = x;
    }
    if let Some(x) = a.w_inh {
        c.w_inh = x;
    }
    if let Some(x) = a.noise_exc {
        c.noise_exc = x;
    }
    if let Some(x) = a.noise_inh {
        c.noise_inh = x;
    }
    if a.stdp {
        c.plasticity.stdp.enabled = true;
    }
    if let Some(h) = a.homeostasis {
        c.plasticity.homeostasis.kind = match h {
            HomeostasisArg::Off => HomeostasisKind::Off,
            HomeostasisArg::Scaling => HomeostasisKind::Scaling,
            HomeostasisArg::Intrinsic => HomeostasisKind::Intrinsic,
            HomeostasisArg::Both => HomeostasisKind::Both,
        };
    }
    if let Some(r) = a.target_rate_hz {
        c.plasticity.homeostasis.target_rate_hz = r;
    }
    if let Some(t) = a.task {
        c.task = match t {
            TaskArg::None => None,
            TaskArg::Whatwhen => Some(TaskConfig::WhatWhen(WhatWhenParams::default())),
            TaskArg::Bars => Some(TaskConfig::Bars(BarsParams::default())),
            TaskArg::Series => Some(TaskConfig::Series(SeriesParams::default())),
        };
    }
    if let Some(r) = a.readout {
        c.readout = match r {
            ReadoutArg::ThreeFactor => ReadoutConfig::ThreeFactor(ThreeFactorParams::default()),
            ReadoutArg::Ridge => ReadoutConfig::Ridge(RidgeParams::default()),
            ReadoutArg::Force => ReadoutConfig::Force(ForceParams::default()),
        };
    }
    if let Some(s) = a.seconds {
        if !(s.is_finite() && s > 0.0 && s * 1000.0 <= 3_600_000.0) {
            return Err(format!("--seconds must be between 0.001 and 3600, got {s}"));
        }
        c.duration_ms = ((s * 1000.0).round() as u32).max(1);
    }
    c.validate().map_err(|e| e.to_string())?;
    Ok(c)
}

fn open_raster(path: &Option<String>) -> Result<Option<std::io::BufWriter<std::fs::File>>, String> {
    match path {
        None => Ok(None),
        Some(p) => {
            let f = std::fs::File::create(p).map_err(|e| format!("cannot create {p}: {e}"))?;
            let mut w = std::io::BufWriter::new(f);
            writeln!(w, "t_ms,neuron").map_err(|e| e.to_string())?;
            Ok(Some(w))
        }
    }
}

pub fn run(args: &SpikeArgs) -> Result<(), String> {
    if !PRESETS.contains(&args.preset.as_str()) {
        return Err(format!(
            "unknown preset {:?}; expected one of {}",
            args.preset,
            PRESETS.join(", ")
        ));
    }
    if args.chunk_ms == 0 || args.chunk_ms > 60_000 {
        return Err(format!(
            "--chunk-ms must be between 1 and 60000, got {}",
            args.chunk_ms
        ));
    }
    let config = build_config(args)?;
    match args.engine {
        EngineArg::Cpu => run_cpu(args, config),
        EngineArg::Gpu => run_gpu(args, config),
    }
}

fn run_cpu(args: &SpikeArgs, config: SpikeConfig) -> Result<(), String> {
    let mut raster = open_raster(&args.raster)?;
    let build = Instant::now();
    let mut session = SpikeSession::new(config.clone()).map_err(|e| e.to_string())?;
    let build_s = build.elapsed().as_secs_f64();
    let total_ms = config.duration_ms;
    let mut done_ms = 0u32;
    let mut sim_wall = 0.0f64;
    let mut dropped = 0u64;
    while done_ms < total_ms {
        let ms = args.chunk_ms.min(total_ms - done_ms);
        let t = Instant::now();
        let rep = session.run_ms(ms);
        sim_wall += t.elapsed().as_secs_f64();
        done_ms += ms;
        dropped += rep.spikes_dropped;
        if let Some(w) = &mut raster {
            for (t, i) in rep.spike_t_ms.iter().zip(&rep.spike_neuron) {
                writeln!(w, "{t},{i}").map_err(|e| e.to_string())?;
            }
        }
        if let Some(ro) = &rep.readout {
            for tr in &ro.trials {
                if args.json {
                    println!(
                        "{}",
                        json!({
                            "trial": tr.trial,
                            "t_ms": tr.end_ms,
                            "mse": tr.mse,
                            "pred_mse": tr.pred_mse,
                            "correct": tr.correct,
                            "window_mean": tr.window_mean,
                            "running_pred_mse": ro.running_pred_mse,
                        })
                    );
                } else if tr.trial % 10 == 9 || tr.trial == 0 {
                    println!(
                        "trial {:>5}  t {:>9.0} ms  pred_mse {:.4}  running {:.4}{}",
                        tr.trial,
                        tr.end_ms,
                        tr.pred_mse,
                        ro.running_pred_mse.unwrap_or(f32::NAN),
                        tr.correct
                            .map(|c| if c { "  correct" } else { "  wrong" })
                            .unwrap_or("")
                    );
                }
            }
        }
    }
    if let Some(w) = &mut raster {
        w.flush().map_err(|e| e.to_string())?;
    }
    let s = session.final_summary();
    let rtf = if sim_wall > 0.0 {
        s.sim_s / sim_wall
    } else {
        0.0
    };
    if args.json {
        println!(
            "{}",
            json!({
                "final": true,
                "engine": "cpu",
                "preset": config.preset,
                "neurons": s.neurons,
                "synapses": s.synapses,
                "sim_s": s.sim_s,
                "wall_s": sim_wall,
                "build_s": build_s,
                "realtime_factor": rtf,
                "spikes": s.spikes,
                "rate_hz": s.rate_hz,
                "rate_exc_hz": s.rate_exc_hz,
                "rate_inh_hz": s.rate_inh_hz,
                "trials": s.trials,
                "final_pred_mse": s.final_pred_mse,
                "raster_spikes_dropped": dropped,
            })
        );
    } else {
        println!(
            "{} neurons, {} synapses: {:.2} s simulated in {:.2} s ({:.1}× real time); {} spikes, \
             {:.2} Hz (exc {:.2}, inh {:.2}){}",
            s.neurons,
            s.synapses,
            s.sim_s,
            sim_wall,
            rtf,
            s.spikes,
            s.rate_hz,
            s.rate_exc_hz,
            s.rate_inh_hz,
            s.final_pred_mse
                .map(|m| format!("; last trials' pred_mse {m:.4}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

fn run_gpu(args: &SpikeArgs, config: SpikeConfig) -> Result<(), String> {
    if config.task.is_some() {
        return Err(
            "tasks and readouts run on the CPU engine; use --engine cpu (or --task none)".into(),
        );
    }
    if config.plasticity.any_on() {
        return Err("plasticity runs on the CPU engine; use --engine cpu".into());
    }
    let mut raster = open_raster(&args.raster)?;
    let net = config.build_network();
    let (mut gpu, info) = pollster::block_on(neurolab_spike::gpu::GpuSim::with_own_device(&net))
        .map_err(|e| format!("GPU engine: {e}"))?;
    if let Some(s) = args.steps_per_submit {
        gpu.set_steps_per_submit(s).map_err(|e| e.to_string())?;
    }
    if config.drive != 0.0 {
        gpu.set_i_ext(&vec![config.drive; net.n])
            .map_err(|e| e.to_string())?;
    }
    let total_steps = ((config.duration_ms as f64 / config.dt_ms as f64).round() as u64)
        .min(u32::MAX as u64) as u32;
    let chunk_steps = ((args.chunk_ms as f64 / config.dt_ms as f64).round() as u32).max(1);
    let (mut done, mut spikes, mut exc, mut submits) = (0u32, 0u64, 0u64, 0u64);
    let t0 = Instant::now();
    while done < total_steps {
        let steps = chunk_steps.min(total_steps - done);
        let chunk = pollster::block_on(gpu.run(steps)).map_err(|e| format!("GPU engine: {e}"))?;
        done += steps;
        submits += chunk.submits as u64;
        spikes += chunk.spikes.len() as u64;
        exc += chunk
            .spikes
            .iter()
            .filter(|&&(_, i)| (i as usize) < net.n_exc)
            .count() as u64;
        if let Some(w) = &mut raster {
            for (t, i) in chunk.spike_times_ms() {
                writeln!(w, "{},{i}", t.floor() as u64).map_err(|e| e.to_string())?;
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    if let Some(w) = &mut raster {
        w.flush().map_err(|e| e.to_string())?;
    }
    let sim_s = done as f64 * config.dt_ms as f64 / 1000.0;
    let rate = |k: u64, n: usize| {
        if sim_s > 0.0 && n > 0 {
            k as f64 / sim_s / n as f64
        } else {
            0.0
        }
    };
    let rtf = if wall > 0.0 { sim_s / wall } else { 0.0 };
    if args.json {
        println!(
            "{}",
            json!({
                "final": true,
                "engine": "gpu",
                "adapter": info.name,
                "backend": info.backend,
                "preset": config.preset,
                "neurons": net.n,
                "synapses": net.n_synapses(),
                "sim_s": sim_s,
                "wall_s": wall,
                "realtime_factor": rtf,
                "steps_per_submit": gpu.steps_per_submit(),
                "submits": submits,
                "spikes": spikes,
                "rate_hz": rate(spikes, net.n),
                "rate_exc_hz": rate(exc, net.n_exc),
                "rate_inh_hz": rate(spikes - exc, net.n - net.n_exc),
            })
        );
    } else {
        println!(
            "GPU ({}, {}): {} neurons, {} synapses: {:.2} s simulated in {:.2} s ({:.1}× real time, \
             {} steps per submit); {} spikes, {:.2} Hz",
            info.name,
            info.backend,
            net.n,
            net.n_synapses(),
            sim_s,
            wall,
            rtf,
            gpu.steps_per_submit(),
            spikes,
            rate(spikes, net.n)
        );
    }
    Ok(())
}

/// Real-time factor of the raw CPU engine on `net` for `seconds` (after 200 ms warm-up).
fn bench_cpu(net: &Network, seconds: f64) -> (f64, f64) {
    let mut sim = Sim::new(net);
    for _ in 0..(200.0 / net.dt_ms) as u32 {
        sim.step(net);
    }
    let steps = (seconds * 1000.0 / net.dt_ms as f64).round() as u32;
    let mut spikes = 0u64;
    let t = Instant::now();
    for _ in 0..steps {
        spikes += sim.step(net).len() as u64;
    }
    let wall = t.elapsed().as_secs_f64();
    let sim_s = steps as f64 * net.dt_ms as f64 / 1000.0;
    (sim_s / wall.max(1e-9), spikes as f64 / sim_s / net.n as f64)
}

/// The 10,000-neuron sparse reservoir of the benchmark: p = 0.01 (≈ 10⁶ synapses).
fn reservoir_10k() -> SpikeConfig {
    SpikeConfig {
        n: 10_000,
        p_conn: 0.01,
        task: None,
        trace_neurons: vec![],
        ..SpikeConfig::reservoir()
    }
}

pub fn bench(args: &BenchSpikeArgs) -> Result<(), String> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 600.0) {
        return Err(format!(
            "--seconds must be between 0 and 600, got {}",
            args.seconds
        ));
    }
    println!(
        "{:<44} {:>8} {:>10} {:>9} {:>12}",
        "network / engine", "neurons", "synapses", "rate Hz", "× real time"
    );
    let paper = Network::izhikevich2003(1);
    let (rtf, rate) = bench_cpu(&paper, args.seconds);
    println!(
        "{:<44} {:>8} {:>10} {:>9.2} {:>12.1}",
        "izhikevich2003 / cpu (1 core)",
        paper.n,
        paper.n_synapses(),
        rate,
        rtf
    );
    // The full session (reports, avalanches) on the same network, as the UI runs it.
    let mut s = SpikeSession::new(SpikeConfig::izhikevich2003()).map_err(|e| e.to_string())?;
    s.run_ms(200);
    let t = Instant::now();
    let ms = (args.seconds * 1000.0) as u32;
    let mut left = ms;
    while left > 0 {
        let c = left.min(50);
        s.run_ms(c);
        left -= c;
    }
    let wall = t.elapsed().as_secs_f64();
    println!(
        "{:<44} {:>8} {:>10} {:>9.2} {:>12.1}",
        "izhikevich2003 / cpu session (50 ms chunks)",
        paper.n,
        paper.n_synapses(),
        s.final_summary().rate_hz,
        ms as f64 / 1000.0 / wall.max(1e-9)
    );
    let big_cfg = reservoir_10k();
    let big = big_cfg.build_network();
    let (rtf, rate) = bench_cpu(&big, args.seconds);
    println!(
        "{:<44} {:>8} {:>10} {:>9.2} {:>12.1}",
        "reservoir 10k (p = 0.01) / cpu (1 core)",
        big.n,
        big.n_synapses(),
        rate,
        rtf
    );
    if args.gpu {
        for (name, net) in [("izhikevich2003", &paper), ("reservoir 10k", &big)] {
            match pollster::block_on(neurolab_spike::gpu::GpuSim::with_own_device(net)) {
                Err(e) => println!("{name} / gpu: not available ({e})"),
                Ok((mut gpu, info)) => {
                    let warm = pollster::block_on(gpu.run(200)).map_err(|e| e.to_string())?;
                    drop(warm);
                    let steps = (args.seconds * 1000.0 / net.dt_ms as f64) as u32;
                    let t = Instant::now();
                    let chunk = pollster::block_on(gpu.run(steps)).map_err(|e| e.to_string())?;
                    let wall = t.elapsed().as_secs_f64();
                    let sim_s = steps as f64 * net.dt_ms as f64 / 1000.0;
                    println!(
                        "{:<44} {:>8} {:>10} {:>9.2} {:>12.1}   ({} steps/submit, {})",
                        format!("{name} / gpu"),
                        net.n,
                        net.n_synapses(),
                        chunk.rate_hz(net.n),
                        sim_s / wall.max(1e-9),
                        gpu.steps_per_submit(),
                        info.name
                    );
                }
            }
        }
    }
    Ok(())
}
