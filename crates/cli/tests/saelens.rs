//! `--save-saelens`: a tiny toy SAE exported in SAELens's saved layout (as a folder and as the
//! page's zip) and read back by `tests/python/read_saelens.py`, which runs SAELens's forward pass
//! on raw activations and compares it with our own export on normalised ones.
//!
//! Python 3 with `safetensors` and `numpy` is required, not optional: `scripts/test.sh` makes a
//! venv with them and names its interpreter in `NEUROLAB_PYTHON` (without it: that venv when it
//! is there, else `python3`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The toy source of tests/e2e/sae.test.mjs: 16 features in 6 dims, 32 latents.
const TOY: &[&str] = &[
    "sae",
    "--source",
    "toy",
    "--latents",
    "32",
    "--k",
    "3",
    "--k_aux",
    "4",
    "--steps",
    "200",
    "--batch",
    "128",
    "--report_every",
    "100",
    "--seed",
    "4",
    "--toy_n",
    "16",
    "--toy_m",
    "6",
    "--toy_steps",
    "400",
    "--toy_samples",
    "1024",
    "--json",
];

fn neurolab(kind: &str, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_neurolab"))
        .args(TOY)
        .args(["--kind", kind])
        .args(extra)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("the neurolab binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `$NEUROLAB_PYTHON`, else the venv scripts/test.sh makes when it is there, else `python3`.
fn python() -> String {
    std::env::var("NEUROLAB_PYTHON").unwrap_or_else(|_| {
        let venv = std::env::var("HOME").map(|h| format!("{h}/.cache/neurolab/py/bin/python"));
        match venv {
            Ok(v) if Path::new(&v).exists() => v,
            _ => "python3".into(),
        }
    })
}

const INSTALL: &str = "run scripts/test.sh (it makes the venv $HOME/.cache/neurolab/py with them \
    and sets NEUROLAB_PYTHON), or: python3 -m venv ~/.cache/neurolab/py && \
    ~/.cache/neurolab/py/bin/pip install safetensors numpy && \
    export NEUROLAB_PYTHON=~/.cache/neurolab/py/bin/python";

/// `read_saelens.py PATH [--neurolab WEIGHTS]`'s JSON summary; fails (never skips) when Python or
/// its packages are missing.
fn read_saelens(path: &Path, neurolab: Option<&Path>) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/read_saelens.py");
    let mut cmd = Command::new(python());
    cmd.arg(&script).arg(path);
    if let Some(w) = neurolab {
        cmd.arg("--neurolab").arg(w);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {} ({e}): the SAELens reader needs Python 3 with safetensors and numpy; {INSTALL}", python())
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        Some(3) => panic!("{stderr}the SAELens reader needs safetensors and numpy; {INSTALL}"),
        code => panic!(
            "read_saelens.py {} failed ({code:?}): {stdout}{stderr}",
            path.display()
        ),
    }
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neurolab-saelens-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_topk_sae_in_saelens_layout_reads_back_as_ours_on_raw_activations() {
    let dir = scratch("topk");
    let (weights, folder, zip) = (
        dir.join("sae.safetensors"),
        dir.join("sae"),
        dir.join("sae.zip"),
    );
    let (code, err) = neurolab(
        "topk",
        &[
            "--save-weights",
            arg(&weights),
            "--save-saelens",
            arg(&folder),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, err) = neurolab("topk", &["--save-saelens", arg(&zip)]);
    assert_eq!(code, 0, "{err}");
    let zip_bytes = std::fs::read(&zip).unwrap();
    assert!(zip_bytes.starts_with(b"PK\x03\x04"));
    eprintln!("zip of the 32-latent SAE: {} bytes", zip_bytes.len());

    for (path, zipped) in [(&folder, false), (&zip, true)] {
        let s = read_saelens(path, Some(&weights));
        assert_eq!(s["ok"], true, "{s}");
        assert_eq!(s["zip"], zipped);
        assert_eq!(s["architecture"], "topk");
        assert_eq!(
            (s["d_in"].as_u64(), s["d_sae"].as_u64()),
            (Some(6), Some(32))
        );
        assert_eq!(s["k"], 3);
        assert!(s["forward"]["l0_max"].as_u64().unwrap() <= 3, "{s}");
        assert_eq!(s["model_name"], "neurolab/toy-superposition-n16-m6");
        let ours = &s["neurolab"];
        assert_eq!(ours["same_active"], true, "{s}");
        assert_eq!(ours["step"], 200);
        for key in ["latents_rel_diff", "recon_rel_diff"] {
            let diff = ours[key].as_f64().unwrap();
            assert!(diff < 1e-4, "{key} {diff}: {s}");
            eprintln!("{} {key}: {diff:e}", if zipped { "zip" } else { "folder" });
        }
        // A latent that fired on the toy data has a log10 frequency above the floor.
        assert!(s["sparsity"]["max"].as_f64().unwrap() > -10.0, "{s}");
    }
    let s = read_saelens(&zip, None);
    assert_eq!(s["folder"], "neurolab-sae-toy-topk-L32-step200");
    // The folder is the zip's, byte for byte (the same seed trains the same SAE).
    for file in [
        "cfg.json",
        "sae_weights.safetensors",
        "sparsity.safetensors",
    ] {
        assert_eq!(
            s["bytes"][file],
            std::fs::metadata(folder.join(file)).unwrap().len(),
            "{file}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn relu_l1_is_a_standard_sae_and_semi_nmf_is_refused() {
    let dir = scratch("relu");
    let (weights, folder) = (dir.join("sae.safetensors"), dir.join("sae"));
    let (code, err) = neurolab(
        "relu-l1",
        &[
            "--save-weights",
            arg(&weights),
            "--save-saelens",
            arg(&folder),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let s = read_saelens(&folder, Some(&weights));
    assert_eq!(s["ok"], true, "{s}");
    assert_eq!(s["architecture"], "standard");
    assert_eq!(s["k"], Value::Null);
    assert!(
        s["neurolab"]["recon_rel_diff"].as_f64().unwrap() < 1e-4,
        "{s}"
    );

    let (code, err) = neurolab("snmf", &["--save-saelens", arg(&dir.join("snmf"))]);
    assert_ne!(code, 0);
    assert!(err.contains("semi-NMF has no encoder"), "{err}");
    assert!(!dir.join("snmf").exists());
    std::fs::remove_dir_all(&dir).ok();
}
