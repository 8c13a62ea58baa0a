#!/usr/bin/env python3
"""Read an SAE in SAELens's saved layout, as neurolab's "saelens" export writes it, without SAELens.

    read_saelens.py PATH [--neurolab WEIGHTS.safetensors] [--samples N] [--seed S]

PATH is the folder (cfg.json, sae_weights.safetensors, sparsity.safetensors) or a .zip holding
exactly one such folder. The reader checks what SAELens's `SAE.load_from_disk` relies on (the
config's keys, the tensors' names, shapes and dtypes, finite values), then encodes and decodes
random inputs with SAELens's forward pass:

    z = act((x - b_dec) @ W_enc + b_enc)      act: relu, or for "topk" relu of the k largest
    x_hat = z @ W_dec + b_dec

With --neurolab (our own export, in normalised units with `act_scale` in its metadata) it also
checks that the SAELens layout on raw x gives our latents on x * act_scale, and our
reconstruction divided by act_scale, to 1e-4 relative.

Prints one JSON object; exits 1 when a check fails, 3 when safetensors or numpy is missing.
Needs only numpy and safetensors (pip install safetensors numpy).
"""

import argparse
import io
import json
import os
import struct
import sys
import zipfile

try:
    import numpy as np
    from safetensors.numpy import load as load_safetensors
except ImportError as e:  # the test says how to install them
    sys.stderr.write(
        f"read_saelens.py needs numpy and safetensors ({e}): "
        "pip install safetensors numpy (scripts/test.sh makes a venv with them)\n"
    )
    sys.exit(3)

CFG = "cfg.json"
WEIGHTS = "sae_weights.safetensors"
SPARSITY = "sparsity.safetensors"
TOLERANCE = 1e-4


def read_folder(path):
    """The three files' bytes and the folder's name, from a folder or a zip of one folder."""
    if os.path.isdir(path):
        files = {}
        for name in (CFG, WEIGHTS, SPARSITY):
            with open(os.path.join(path, name), "rb") as f:
                files[name] = f.read()
        return os.path.basename(os.path.normpath(path)), files
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        tops = {n.split("/", 1)[0] for n in z.namelist()}
        if len(tops) != 1 or any(n.count("/") != 1 for n in names):
            raise ValueError(f"the zip must hold one folder of files, it holds {z.namelist()}")
        (top,) = tops
        for info in z.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{info.filename} is compressed; neurolab stores its entries")
        return top, {n.split("/", 1)[1]: z.read(n) for n in names}


def metadata(data):
    """A .safetensors file's string metadata (its header's `__metadata__`)."""
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]).get("__metadata__", {}) or {}


def encode(x, w_enc, b_enc, b_dec, architecture, k):
    """SAELens's encoder: `(x - b_dec) @ W_enc + b_enc`, then ReLU or TopK (ReLU of the top k)."""
    pre = (x - b_dec) @ w_enc + b_enc
    if architecture == "standard":
        return np.maximum(pre, 0.0)
    z = np.zeros_like(pre)
    top = np.argpartition(-pre, k - 1, axis=1)[:, :k]
    rows = np.arange(pre.shape[0])[:, None]
    z[rows, top] = np.maximum(pre[rows, top], 0.0)
    return z


def rel(a, b):
    """Largest difference relative to the largest value of b."""
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-30))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path")
    ap.add_argument("--neurolab", help="our own .safetensors export of the same SAE")
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    errors = []

    def check(ok, what):
        if not ok:
            errors.append(what)
        return ok

    folder, files = read_folder(args.path)
    missing = [n for n in (CFG, WEIGHTS, SPARSITY) if n not in files]
    if missing:
        print(json.dumps({"ok": False, "errors": [f"missing {missing}"]}))
        return 1
    cfg = json.loads(files[CFG])
    for key in ("architecture", "d_in", "d_sae", "dtype", "device", "apply_b_dec_to_input",
                "normalize_activations", "reshape_activations", "metadata"):
        check(key in cfg, f"cfg.json has no {key}")
    arch = cfg.get("architecture")
    check(arch in ("topk", "standard"), f"architecture {arch!r} is not topk or standard")
    d_in, d_sae = cfg.get("d_in"), cfg.get("d_sae")
    check(isinstance(d_in, int) and isinstance(d_sae, int) and d_in > 0 and d_sae > 0,
          "d_in and d_sae are positive integers")
    check(cfg.get("dtype") == "float32", "dtype is float32")
    check(cfg.get("apply_b_dec_to_input") is True, "apply_b_dec_to_input is true")
    check(cfg.get("normalize_activations") == "none", "normalize_activations is none")
    check(cfg.get("reshape_activations") == "none", "reshape_activations is none")
    meta = cfg.get("metadata") or {}
    for key in ("model_name", "hook_name", "sae_lens_training_version"):
        check(key in meta, f"metadata has no {key}")
    k = cfg.get("k")
    if arch == "topk":
        check(isinstance(k, int) and 0 < k <= (d_sae or 0), f"k {k!r} is in 1..d_sae")
        check(cfg.get("rescale_acts_by_decoder_norm", False) is False,
              "rescale_acts_by_decoder_norm is false")
    if errors:
        print(json.dumps({"ok": False, "errors": errors}))
        return 1

    w = load_safetensors(files[WEIGHTS])
    want = {"W_enc": (d_in, d_sae), "b_enc": (d_sae,), "W_dec": (d_sae, d_in), "b_dec": (d_in,)}
    check(sorted(w) == sorted(want), f"weights are {sorted(want)}, got {sorted(w)}")
    for name, shape in want.items():
        t = w.get(name)
        if check(t is not None, f"no {name}"):
            check(t.shape == shape, f"{name} is {shape}, got {t.shape}")
            check(t.dtype == np.float32, f"{name} is float32, got {t.dtype}")
            check(bool(np.all(np.isfinite(t))), f"{name} is finite")
    s = load_safetensors(files[SPARSITY])
    sparsity = s.get("sparsity")
    if check(sparsity is not None and sorted(s) == ["sparsity"], "sparsity.safetensors holds sparsity"):
        check(sparsity.shape == (d_sae,), f"sparsity is ({d_sae},), got {sparsity.shape}")
        check(sparsity.dtype == np.float32, "sparsity is float32")
        check(bool(np.all(np.isfinite(sparsity)) and np.all(sparsity <= 0.0)),
              "sparsity is a finite log10 frequency (<= 0)")
    if errors:
        print(json.dumps({"ok": False, "errors": errors}))
        return 1

    # Raw inputs around b_dec, each coordinate spread like a decoder row's length (the SAE's
    # own unit). Computed in float64: what is measured is the export, not float32 rounding.
    f64 = {n: t.astype(np.float64) for n, t in w.items()}
    rng = np.random.default_rng(args.seed)
    spread = float(np.mean(np.linalg.norm(f64["W_dec"], axis=1)))
    x = f64["b_dec"] + spread * rng.standard_normal((args.samples, d_in))
    z = encode(x, f64["W_enc"], f64["b_enc"], f64["b_dec"], arch, k)
    x_hat = z @ f64["W_dec"] + f64["b_dec"]
    l0 = (z > 0).sum(axis=1)
    check(bool(np.all(np.isfinite(z)) and np.all(np.isfinite(x_hat))), "forward pass is finite")
    if arch == "topk":
        check(int(l0.max()) <= k, f"at most k = {k} latents fire, got {int(l0.max())}")
    summary = {
        "folder": folder,
        "zip": not os.path.isdir(args.path),
        "architecture": arch,
        "d_in": d_in,
        "d_sae": d_sae,
        "k": k,
        "model_name": meta.get("model_name"),
        "hook_name": meta.get("hook_name"),
        "bytes": {n: len(b) for n, b in sorted(files.items())},
        "sparsity": {
            "min": float(sparsity.min()),
            "max": float(sparsity.max()),
            "never_fired": int((sparsity <= -10.0).sum()),
        },
        "forward": {
            "samples": args.samples,
            "l0_mean": float(l0.mean()),
            "l0_max": int(l0.max()),
            "rel_error": float(np.linalg.norm(x_hat - x) / np.linalg.norm(x - x.mean(axis=0))),
        },
    }

    if args.neurolab:
        with open(args.neurolab, "rb") as f:
            data = f.read()
        ours = {n: t.astype(np.float64) for n, t in load_safetensors(data).items()}
        scale = float(np.float32(metadata(data)["act_scale"]))
        z_ours = encode(x * scale, ours["w_enc"].T, ours["b_enc"], ours["b_dec"], arch, k)
        x_hat_ours = (z_ours @ ours["w_dec"] + ours["b_dec"]) / scale
        latents = rel(z, z_ours)
        recon = rel(x_hat, x_hat_ours)
        same_active = bool(np.array_equal(z > 0, z_ours > 0))
        check(same_active, "the same latents fire as in ours on x * act_scale")
        check(latents <= TOLERANCE, f"latents differ from ours by {latents:.3g} (relative)")
        check(recon <= TOLERANCE, f"reconstructions differ from ours by {recon:.3g} (relative)")
        summary["neurolab"] = {
            "act_scale": scale,
            "step": int(metadata(data).get("step", -1)),
            "same_active": same_active,
            "latents_rel_diff": latents,
            "recon_rel_diff": recon,
            "tolerance": TOLERANCE,
        }

    summary["ok"] = not errors
    summary["errors"] = errors
    print(json.dumps(summary))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
