//! The CLI end to end: its flags are the link's keys, decoded and validated like a link; it runs
//! each lab through the same engine as the page and prints JSON reports and a final object.

use std::process::Command;

fn neurolab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_neurolab"))
        .args(args)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("the neurolab binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn grok_runs_with_the_links_keys_and_prints_json() {
    let (code, out, err) = neurolab(&[
        "grok", "--p", "7", "--hidden", "16", "--steps", "20", "--every", "10", "--lr", "0.01",
        "--b1", "0.8", "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    let steps: Vec<u64> = lines
        .iter()
        .filter(|l| l.get("final").is_none())
        .map(|l| l["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [0, 10, 20]);
    let fin = lines.last().unwrap();
    assert_eq!(fin["final"], true);
    assert_eq!(fin["step"], 20);
    assert_eq!(fin["diverged"], false);
    assert!(fin["steps_per_s"].as_f64().unwrap() > 0.0);
    assert!(fin["backend"].as_str().unwrap().contains("flex"));
}

#[test]
fn flags_are_validated_like_links() {
    // The old long names are not flags any more: the link's keys are.
    let (code, _, err) = neurolab(&["grok", "--beta1", "0.8"]);
    assert_ne!(code, 0);
    assert!(err.contains("--beta1"), "{err}");
    let (code, _, err) = neurolab(&["grok", "--p", "300"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("p must be between 5 and 257, got 300"),
        "{err}"
    );
    let (code, _, err) = neurolab(&["grok", "--lr", "nan"]);
    assert_eq!(code, 2);
    assert!(err.contains("'lr' has a bad value 'nan'"), "{err}");
    let (code, _, err) = neurolab(&[
        "sae",
        "--toy_samples",
        "1000000",
        "--toy_n",
        "1024",
        "--toy_m",
        "1000",
        "--latents",
        "65536",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("this SAE needs ~"), "{err}");
    let (code, _, err) = neurolab(&["grok", "--preset", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("one of mlp, delayed, quick, transformer"),
        "{err}"
    );
}

#[test]
fn a_diverging_run_says_so_in_its_final_object() {
    let (code, out, err) = neurolab(&[
        "grok", "--p", "7", "--hidden", "16", "--steps", "300", "--every", "1", "--lr", "1",
        "--wd", "10", "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let fin = json_lines(&out).pop().unwrap();
    assert_eq!(fin["diverged"], true, "{fin}");
    assert!(fin["divergence"].as_str().unwrap().contains("NaN"));
    assert!(fin["step"].as_u64().unwrap() < 300);
}

#[test]
fn spike_and_sae_run_through_the_same_engine() {
    let (code, out, err) = neurolab(&[
        "spike",
        "--preset",
        "izhikevich2003",
        "--n",
        "100",
        "--tr",
        "0",
        "--dur",
        "300",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let fin = json_lines(&out).pop().unwrap();
    assert_eq!(fin["neurons"], 100);
    assert_eq!(fin["engine"], "cpu");
    assert!((fin["sim_s"].as_f64().unwrap() - 0.3).abs() < 1e-9, "{fin}");
    assert!(fin["realtime_factor"].as_f64().unwrap() > 0.0);
    assert!(fin["spikes"].as_u64().unwrap() > 0);

    let dir = std::env::temp_dir().join(format!("neurolab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let weights = dir.join("sae.safetensors");
    let (code, out, err) = neurolab(&[
        "sae",
        "--preset",
        "toy",
        "--toy_n",
        "16",
        "--toy_m",
        "6",
        "--toy_steps",
        "50",
        "--toy_samples",
        "256",
        "--latents",
        "16",
        "--k",
        "2",
        "--k_aux",
        "4",
        "--steps",
        "20",
        "--report_every",
        "10",
        "--json",
        "--save-weights",
        weights.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    let fin = lines.last().unwrap();
    assert_eq!(fin["step"], 20);
    assert_eq!(fin["latents"], 16);
    assert_eq!(fin["n_samples"], 256);
    assert!(fin["samples_per_s"].as_f64().unwrap() > 0.0);
    assert!(fin["mmcs"].as_f64().is_some());
    let bytes = std::fs::read(&weights).unwrap();
    assert!(bytes.len() > 16 * 6 * 4, "{} bytes", bytes.len());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn run_link_replays_a_links_config_and_interventions() {
    // The same link the page writes: a small MLP, neurons 0–31 ablated at step 20.
    let mut script = neurolab_base::Script::default();
    script
        .push(
            20.0,
            neurolab_core::grok::GrokControl::Ablate {
                neurons: (0..32).collect(),
            },
        )
        .unwrap();
    let base = "v=1&lab=grok&model=mlp&p=11&hidden=32&steps=40&every=10&lr=0.01&backend=cpu";
    let scripted = format!("https://example.org/#{base}&ev={}", script.encode());
    let final_of = |args: &[&str]| -> serde_json::Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_neurolab"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        serde_json::from_str(text.lines().last().unwrap()).unwrap()
    };
    let with = final_of(&["run", "--link", &scripted, "--json"]);
    let again = final_of(&["run", "--link", &scripted, "--json"]);
    let without = final_of(&["run", "--link", &format!("#{base}"), "--json"]);
    let by_flags = final_of(&[
        "grok", "--model", "mlp", "--p", "11", "--hidden", "32", "--steps", "40", "--every", "10",
        "--lr", "0.01", "--json",
    ]);
    assert_eq!(with["step"], 40);
    assert_eq!(
        with["train_loss"], again["train_loss"],
        "a link replays the same numbers"
    );
    assert_ne!(
        with["train_loss"], without["train_loss"],
        "the ablation at step 20 changed the run"
    );
    assert_eq!(
        without["train_loss"], by_flags["train_loss"],
        "the link's keys are the flags"
    );
    // A bad link says why and exits with 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_neurolab"))
        .args(["run", "--link", "#v=1&lab=grok&p=91"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("p must be a prime"));
}

#[test]
fn a_sweep_runs_its_grid_in_parallel_resumes_and_summarises() {
    let out = std::env::temp_dir().join(format!("neurolab-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let link = "#v=1&lab=grok&model=mlp&p=11&hidden=16&steps=30&every=10&lr=0.01&backend=cpu";
    let sweep = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_neurolab"))
            .args([
                "sweep", "--link", link, "--seeds", "0..2", "--set", "wd=0.1,1", "--jobs", "2",
            ])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    };
    let first = sweep();
    let log = String::from_utf8_lossy(&first.stderr).to_string();
    assert!(first.status.success(), "{log}");
    assert!(log.contains("4 points: 0 done before, 4 to run"), "{log}");
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("point,wd,seed,"), "{csv}");
    assert!(lines[0].contains("test_acc"), "{csv}");
    assert!(lines[1].starts_with("wd=0.1;seed=0,0.1,0,"), "{csv}");
    let svg = std::fs::read_to_string(out.join("test_acc.svg")).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("wd=0.1"),
        "the plot labels the grid"
    );
    // sweep.json: every point's values, final numbers and curves, for the page.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(summary["format"], "neurolab-sweep");
    let points = summary["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    let acc = points[0]["curves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "test_acc")
        .expect("a test_acc curve");
    assert_eq!(
        acc["points"].as_array().unwrap().len(),
        4,
        "steps 0, 10, 20, 30"
    );
    // Seeds differ; the same point run twice gives the same numbers.
    assert_ne!(
        lines[1].split(',').skip(3).collect::<Vec<_>>(),
        lines[2].split(',').skip(3).collect::<Vec<_>>()
    );
    // Resume: finished points are kept; a removed one is run again, alone.
    std::fs::remove_file(out.join("points/wd=1,seed=1.jsonl")).unwrap();
    let second = sweep();
    let log = String::from_utf8_lossy(&second.stderr).to_string();
    assert!(second.status.success(), "{log}");
    assert!(log.contains("4 points: 3 done before, 1 to run"), "{log}");
    let again = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    // The re-run point has the same numbers, timings aside.
    assert_eq!(sweep_numbers(&again), sweep_numbers(&csv));
    // A key the lab does not have is refused with the lab's keys.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_neurolab"))
        .args(["sweep", "--link", link, "--set", "beta=1,2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a key of the grok lab's link"));
    let _ = std::fs::remove_dir_all(&out);
}

/// A sweep's numbers without its timings, row by row.
fn sweep_numbers(csv: &str) -> Vec<Vec<String>> {
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    csv.lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .zip(&header)
                .filter(|(_, h)| !["wall_s", "steps_per_s", "setup_s"].contains(h))
                .map(|(c, _)| c.to_string())
                .collect()
        })
        .collect()
}

/// Against a real Slurm cluster: scripts/test.sh starts a single-node one on localhost
/// (scripts/slurm-local.sh) and sets NEUROLAB_SLURM=1.
#[test]
fn a_sweep_runs_as_a_slurm_job_array_with_the_numbers_of_a_local_one() {
    if std::env::var("NEUROLAB_SLURM").is_err() {
        eprintln!("skipped: NEUROLAB_SLURM is not set (scripts/test.sh starts a local Slurm cluster and sets it)");
        return;
    }
    let base = std::env::temp_dir().join(format!("neurolab-slurm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let link = "#v=1&lab=grok&model=mlp&p=11&hidden=16&steps=30&every=10&lr=0.01&backend=cpu";
    let sweep = |out: &std::path::Path, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_neurolab"))
            .args([
                "sweep", "--link", link, "--seeds", "0..2", "--set", "wd=0.1,1",
            ])
            .args(extra)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let on_slurm = sweep(
        &base.join("slurm"),
        &["--slurm", "--slurm-args", "--time=10"],
    );
    let log = String::from_utf8_lossy(&on_slurm.stderr).to_string();
    assert!(on_slurm.status.success(), "{log}");
    assert!(log.contains("4 to run, as a Slurm job array"), "{log}");
    assert!(
        log.contains("Slurm job ") && log.contains(": finished"),
        "{log}"
    );
    let tasks = std::fs::read_to_string(base.join("slurm/slurm/tasks-0.json")).unwrap();
    assert_eq!(
        tasks.matches("\"name\"").count(),
        4,
        "one array task per point"
    );
    let local = sweep(&base.join("local"), &["--jobs", "2"]);
    assert!(local.status.success());
    let a = std::fs::read_to_string(base.join("slurm/summary.csv")).unwrap();
    let b = std::fs::read_to_string(base.join("local/summary.csv")).unwrap();
    assert_eq!(a.lines().count(), 5, "{a}");
    assert_eq!(sweep_numbers(&a), sweep_numbers(&b));
    // Run again: every point is done, nothing is submitted, the summary is the same.
    let again = sweep(&base.join("slurm"), &["--slurm"]);
    let log = String::from_utf8_lossy(&again.stderr).to_string();
    assert!(again.status.success(), "{log}");
    assert!(
        log.contains("4 done before, 0 to run") && !log.contains(": finished"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn an_experiment_file_reruns_with_the_same_numbers_and_a_tampered_one_is_named() {
    let dir = std::env::temp_dir().join(format!("neurolab-exp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("e.json");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_neurolab"))
            .args(args)
            .output()
            .unwrap()
    };
    let script = {
        let mut s = neurolab_base::Script::default();
        s.push(
            10.0,
            neurolab_core::grok::GrokControl::Ablate {
                neurons: vec![0, 1, 2],
            },
        )
        .unwrap();
        s.encode()
    };
    let ev = format!("--ev={script}");
    let made = run(&[
        "grok",
        "--p",
        "11",
        "--hidden",
        "16",
        "--steps",
        "30",
        "--every",
        "5",
        &ev,
        "--experiment-out",
        file.to_str().unwrap(),
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let (experiment, link) = neurolab_core::experiment::Experiment::read(&text).unwrap();
    assert!(
        experiment.reports.len() >= 7,
        "{} reports",
        experiment.reports.len()
    );
    assert_eq!(
        link.script_text(),
        Some(script.as_str()),
        "the script is in the file's link"
    );
    let again = run(&["run", "--experiment", file.to_str().unwrap(), "--json"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let out = String::from_utf8(again.stdout).unwrap();
    let fin: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(
        fin["max_difference"], 0.0,
        "natively the re-run is bit-identical"
    );
    assert_eq!(fin["recorded_reports"], experiment.reports.len());
    // Tampered: the message names the field.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, text.replace("p=11", "p=12")).unwrap();
    let refused = run(&["run", "--experiment", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(
        msg.contains("field 'link'") && msg.contains("prime"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_all_writes_every_figure_in_one_json_file() {
    let dir = std::env::temp_dir().join(format!("neurolab-bench-all-{}", std::process::id()));
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    // Two stand-in wasm files: compressible and not.
    std::fs::write(dist.join("app-0123_bg.wasm"), vec![7u8; 100_000]).unwrap();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..50_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(dist.join("worker_bg.wasm"), &noise).unwrap();
    let file = dir.join("bench.json");
    let (code, _out, err) = neurolab(&[
        "bench",
        "all",
        "--quick",
        "--json",
        file.to_str().unwrap(),
        "--dist",
        dist.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(b["machine"]["cores"].as_u64().unwrap() >= 1);
    let grok = b["grok"]["steps_per_s"].as_array().unwrap();
    for preset in ["mlp-p97", "transformer-p113"] {
        let row = grok
            .iter()
            .find(|r| r["preset"] == preset && r["analysis_every"] == 0)
            .unwrap();
        assert!(row["steps_per_s"].as_f64().unwrap() > 0.0, "{row}");
    }
    assert!(b["lm"]["tokens_per_s"][0]["tokens_per_s"].as_f64().unwrap() > 0.0);
    let sae = &b["sae"]["topk_samples_per_s"][0];
    assert_eq!(
        (sae["d"].as_u64(), sae["latents"].as_u64()),
        (Some(128), Some(1024))
    );
    assert!(sae["samples_per_s"].as_f64().unwrap() > 0.0);
    let spike = b["spike"]["real_time"].as_array().unwrap();
    assert!(spike.iter().any(
        |r| r["network"].as_str().unwrap().starts_with("izhikevich2003")
            && r["real_time_factor"].as_f64().unwrap() > 0.0
    ));
    assert_eq!(b["dispatches"]["skipped"], "--quick");
    // The page's Benchmark panel cases, timed here by the worker's engine.
    let page = b["page_cases"]["rows"].as_array().unwrap();
    assert_eq!(page.len(), 5, "{page:?}");
    assert!(page.iter().all(|r| r["rate"].as_f64().unwrap() > 0.0));
    assert_eq!(b["page_cases"]["backend"], "cpu");
    // The peers: their figures, or why they are missing.
    for peer in [&b["torch"]["sae"], &b["torch"]["grok"], &b["brian2"]] {
        assert!(
            peer.get("skipped").is_some() || peer.as_object().is_some_and(|o| o.len() >= 1),
            "{peer}"
        );
    }
    let size = &b["size"];
    let page = size["wasm"]["page"]["gzip"].as_u64().unwrap();
    let worker = size["wasm"]["worker"]["gzip"].as_u64().unwrap();
    assert!(page < 2_000, "100 kB of one byte gzips small: {page}");
    assert!(worker > 40_000, "noise does not: {worker}");
    assert_eq!(size["gzip_total"].as_u64(), Some(page + worker));
    assert!(size["wasm"]["worker"]["brotli"].as_u64().unwrap() > 40_000);
    std::fs::remove_dir_all(&dir).ok();
}

/// `bench dispatches` counts kernel launches per step on the wgpu adapter (lavapipe here): every
/// workload launches some, and the MLP's closed-form step launches fewer than its autodiff step.
#[test]
fn bench_dispatches_counts_fewer_launches_for_the_closed_form_mlp_step() {
    let (code, out, err) = neurolab(&["bench", "dispatches", "--steps", "2"]);
    if code != 0 && err.contains("wgpu could not start") {
        eprintln!("skipped: no wgpu adapter here ({err})");
        return;
    }
    assert_eq!(code, 0, "{err}");
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let rows = last["rows"].as_array().unwrap();
    let per = |name: &str| {
        rows.iter()
            .find(|r| r["workload"].as_str().unwrap().starts_with(name))
            .and_then(|r| r["dispatches_per_step"].as_f64())
            .unwrap()
    };
    assert!(
        rows.iter()
            .all(|r| r["dispatches_per_step"].as_f64().unwrap() >= 1.0),
        "{rows:?}"
    );
    assert!(
        per("grok mlp-p97 (closed-form") < per("grok mlp-p97 (autodiff)"),
        "{rows:?}"
    );
    assert!(per("sae") >= 1.0);
}

#[test]
fn lm_trains_saves_and_its_tools_read_the_weights() {
    let dir = std::env::temp_dir().join(format!("neurolab-lm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let weights = dir.join("lm.safetensors");
    let w = weights.to_str().unwrap();
    let (code, out, err) = neurolab(&[
        "lm",
        "--corpus",
        "facts",
        "--steps",
        "600",
        "--report_every",
        "100",
        "--seed",
        "0",
        "--json",
        "--save-weights",
        w,
    ]);
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    let fin = lines.last().unwrap();
    assert_eq!(fin["final"], true);
    assert!(fin["tokens_per_s"].as_f64().unwrap() > 0.0, "{fin}");
    assert!(fin["train_loss"].as_f64().unwrap() < lines[0]["train_loss"].as_f64().unwrap());
    assert!(fin["recall"]["capital"]["seen"].as_f64().is_some(), "{fin}");
    let (code, out, err) = neurolab(&[
        "lm",
        "--corpus",
        "facts",
        "--seed",
        "0",
        "--load",
        w,
        "--generate",
        "the capital of",
        "--length",
        "4",
        "--clamp",
        "1.3=5",
    ]);
    assert_eq!(code, 0, "{err}");
    let g: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(g["plain"]["tokens"].as_array().unwrap().len(), 8);
    assert_eq!(g["steered"]["tokens"].as_array().unwrap().len(), 8);
    let (code, out, err) = neurolab(&[
        "lm",
        "--corpus",
        "facts",
        "--seed",
        "0",
        "--load",
        w,
        "--patch",
        "--clean",
        "the capital of france is",
        "--corrupt",
        "the capital of spain is",
    ]);
    assert_eq!(code, 0, "{err}");
    let p: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(p["sites"].as_array().unwrap().len(), 3);
    // Another model's flags: the first tensor that differs is named.
    let (code, _, err) = neurolab(&[
        "lm",
        "--corpus",
        "facts",
        "--d_mlp",
        "128",
        "--load",
        w,
        "--generate",
        "the",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("'blocks.0.mlp.W_in' is [64, 256]; this config needs [64, 128]"),
        "{err}"
    );
    // Bad text files get their message.
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let (code, _, err) = neurolab(&["lm", "--corpus", empty.to_str().unwrap(), "--steps", "1"]);
    assert_ne!(code, 0);
    assert!(err.contains("the file is empty"), "{err}");
    let binary = dir.join("binary.txt");
    std::fs::write(&binary, [0u8, 1, 2, 3, 0, 0, 7, 8]).unwrap();
    let (_, _, err) = neurolab(&["lm", "--corpus", binary.to_str().unwrap(), "--steps", "1"]);
    assert!(err.contains("looks binary"), "{err}");
    let text = dir.join("text.txt");
    std::fs::write(&text, "a small text to learn by characters. ".repeat(20)).unwrap();
    let (code, out, err) = neurolab(&[
        "lm",
        "--corpus",
        text.to_str().unwrap(),
        "--steps",
        "20",
        "--ctx",
        "16",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(json_lines(&out).last().unwrap()["corpus"]
        .as_str()
        .unwrap()
        .starts_with("your text"));
    std::fs::remove_dir_all(&dir).ok();
}
