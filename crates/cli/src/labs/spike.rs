//! `neurolab spike`: the spiking reservoir lab on the command line — the CPU engine (network,
//! plasticity, task, readout) or the WGSL engine (`--eng gpu`: the network alone); `--raster`
//! writes every spike as CSV; with `--json` one line per learning-curve point, then the final
//! figures. `neurolab bench spike`: real-time factors of the engines.

use super::CliLab;
use crate::CliError;
use clap::{Arg, ArgMatches, Command};
use neurolab_core::spike::network::Network;
use neurolab_core::spike::sim::Sim;
use neurolab_core::spike::{SpikeConfig, SpikeLab, SpikeReport, SpikeRun, SpikeSession};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::time::Instant;

pub struct Out {
    raster: Option<std::io::BufWriter<std::fs::File>>,
    dropped: u64,
    json: bool,
}

impl CliLab for SpikeLab {
    const ABOUT: &'static str =
        "Simulate a spiking network (Izhikevich / LIF), optionally with a readout task (flags are the link's keys)";
    type Out = Out;

    fn extra_args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new("raster")
                .long("raster")
                .value_name("FILE")
                .help("write every spike to this CSV file (t_ms,neuron)"),
        )
    }

    fn bench_args(cmd: Command) -> Command {
        cmd.about("real-time factors of the spiking engines")
            .arg(
                Arg::new("seconds")
                    .long("seconds")
                    .value_parser(clap::value_parser!(f64))
                    .default_value("5")
                    .help("simulated seconds per measurement"),
            )
            .arg(
                Arg::new("gpu")
                    .long("gpu")
                    .action(clap::ArgAction::SetTrue)
                    .help("also measure the GPU engine (needs an adapter; lavapipe works, slowly)"),
            )
    }

    fn bench(m: &ArgMatches) -> Result<(), CliError> {
        bench(
            m.get_one::<f64>("seconds").copied().unwrap_or(5.0),
            m.get_flag("gpu"),
        )
        .map(|_| ())
    }

    fn bench_all(quick: bool) -> Result<Value, CliError> {
        Ok(json!({ "real_time": bench(if quick { 0.2 } else { 5.0 }, false)? }))
    }

    fn start(m: &ArgMatches) -> Result<Out, CliError> {
        let raster = match m.get_one::<String>("raster") {
            None => None,
            Some(p) => {
                let f = std::fs::File::create(p)
                    .map_err(|e| CliError::Io(format!("cannot create {p}: {e}")))?;
                let mut w = std::io::BufWriter::new(f);
                writeln!(w, "t_ms,neuron").map_err(|e| CliError::Io(e.to_string()))?;
                Some(w)
            }
        };
        Ok(Out {
            raster,
            dropped: 0,
            json: m.get_flag("json"),
        })
    }

    fn report(out: &mut Out, rep: &SpikeReport, json: bool) -> Result<bool, CliError> {
        out.dropped += rep.spikes_dropped;
        if let Some(w) = &mut out.raster {
            for (t, i) in rep.spike_t_ms.iter().zip(&rep.spike_neuron) {
                writeln!(w, "{t},{i}").map_err(|e| CliError::Io(e.to_string()))?;
            }
        }
        if let Some(ro) = &rep.readout {
            for tr in &ro.trials {
                if json {
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
        Ok(true)
    }

    fn finish(
        out: &mut Out,
        session: &SpikeRun,
        _m: &ArgMatches,
        fin: &mut Map<String, Value>,
    ) -> Result<(), CliError> {
        if let Some(w) = &mut out.raster {
            w.flush().map_err(|e| CliError::Io(e.to_string()))?;
        }
        let s = session.final_summary();
        let engine = match session {
            SpikeRun::Cpu(_) => "cpu",
            _ => "gpu",
        };
        let figures = json!({
            "engine": engine,
            "preset": session.config().preset,
            "neurons": s.neurons,
            "synapses": s.synapses,
            "sim_s": s.sim_s,
            "spikes": s.spikes,
            "rate_hz": s.rate_hz,
            "rate_exc_hz": s.rate_exc_hz,
            "rate_inh_hz": s.rate_inh_hz,
            "trials": s.trials,
            "final_pred_mse": s.final_pred_mse,
            "raster_spikes_dropped": out.dropped,
        });
        if let Value::Object(f) = figures {
            fin.extend(f);
        }
        if !out.json {
            println!(
                "{} neurons, {} synapses: {:.2} s simulated; {} spikes, {:.2} Hz (exc {:.2}, inh {:.2}){}",
                s.neurons,
                s.synapses,
                s.sim_s,
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

/// Real-time factors of the engines on the paper's network and a 10k reservoir, printed and as
/// rows.
pub fn bench(seconds: f64, gpu: bool) -> Result<Vec<Value>, CliError> {
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 600.0) {
        return Err(CliError::Usage(format!(
            "--seconds must be between 0 and 600, got {seconds}"
        )));
    }
    let lab = |e: neurolab_core::spike::SpikeError| CliError::Lab(e.to_string());
    println!(
        "{:<44} {:>8} {:>10} {:>9} {:>12}",
        "network / engine", "neurons", "synapses", "rate Hz", "× real time"
    );
    let mut rows = Vec::new();
    let mut row = |name: &str, n: usize, synapses: usize, rate: f64, rtf: f64, extra: &str| {
        println!("{name:<44} {n:>8} {synapses:>10} {rate:>9.2} {rtf:>12.1}{extra}");
        rows.push(json!({
            "network": name,
            "neurons": n,
            "synapses": synapses,
            "rate_hz": rate,
            "real_time_factor": rtf,
        }));
    };
    let paper = Network::izhikevich2003(1);
    let (rtf, rate) = bench_cpu(&paper, seconds);
    row(
        "izhikevich2003 / cpu (1 core)",
        paper.n,
        paper.n_synapses(),
        rate,
        rtf,
        "",
    );
    // The full session (reports, avalanches) on the same network, as the UI runs it.
    let mut s = SpikeSession::new(SpikeConfig::izhikevich2003()).map_err(lab)?;
    s.run_ms(200);
    let t = Instant::now();
    let ms = (seconds * 1000.0) as u32;
    let mut left = ms;
    while left > 0 {
        let c = left.min(50);
        s.run_ms(c);
        left -= c;
    }
    let wall = t.elapsed().as_secs_f64();
    row(
        "izhikevich2003 / cpu session (50 ms chunks)",
        paper.n,
        paper.n_synapses(),
        f64::from(s.final_summary().rate_hz),
        ms as f64 / 1000.0 / wall.max(1e-9),
        "",
    );
    let big = reservoir_10k().build_network();
    let (rtf, rate) = bench_cpu(&big, seconds);
    row(
        "reservoir 10k (p = 0.01) / cpu (1 core)",
        big.n,
        big.n_synapses(),
        rate,
        rtf,
        "",
    );
    if gpu {
        for (name, net) in [("izhikevich2003", &paper), ("reservoir 10k", &big)] {
            match pollster::block_on(neurolab_core::spike::gpu::GpuSim::with_own_device(net)) {
                Err(e) => println!("{name} / gpu: not available ({e})"),
                Ok((mut gpu, info)) => {
                    pollster::block_on(gpu.run(200)).map_err(lab)?;
                    let steps = (seconds * 1000.0 / net.dt_ms as f64) as u32;
                    let t = Instant::now();
                    let chunk = pollster::block_on(gpu.run(steps)).map_err(lab)?;
                    let wall = t.elapsed().as_secs_f64();
                    let sim_s = steps as f64 * net.dt_ms as f64 / 1000.0;
                    row(
                        &format!("{name} / gpu"),
                        net.n,
                        net.n_synapses(),
                        f64::from(chunk.rate_hz(net.n)),
                        sim_s / wall.max(1e-9),
                        &format!(
                            "   ({} steps/submit, {})",
                            gpu.steps_per_submit(),
                            info.name
                        ),
                    );
                }
            }
        }
    }
    Ok(rows)
}
