#!/usr/bin/env bash
# Every test, as CI runs it (.ci/run calls this):
#   1. native: the core (unit, property, golden grokking run), the spiking crate (incl. its WGSL
#      engine on lavapipe), the CLI (its SAELens export read back by tests/python/ in a venv),
#      the worker, and the page crate's plain modules — `cargo test --release`
#   2. browser: trunk build, wasm-bindgen tests (CPU + WebGPU) and Playwright journeys in headless
#      Debian Chromium — scripts/web-test.sh
# Installs what is missing (Rust wasm target, trunk, wasm-bindgen-cli, npm packages, Chromium,
# a Python venv with safetensors and numpy).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
start=$SECONDS

# The spiking lab's WGSL engine is tested natively on Mesa's software Vulkan (lavapipe) when the
# machine has no GPU driver; without any adapter those tests say so and skip.
if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends mesa-vulkan-drivers || \
    echo "warning: mesa-vulkan-drivers could not be installed; native GPU tests will skip" >&2
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

# `neurolab sweep --slurm` is tested against a real single-node Slurm cluster on localhost
# (Debian's slurm-wlm and munge, installed and started here, stopped at the end).
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
printf '\n== local Slurm cluster (scripts/slurm-local.sh)\n'
$SUDO scripts/slurm-local.sh start
trap '$SUDO scripts/slurm-local.sh stop >/dev/null 2>&1 || true' EXIT
export NEUROLAB_SLURM=1

# The SAELens export is read back by tests/python/read_saelens.py (numpy and safetensors from
# PyPI) in a venv of its own; the CLI's test (crates/cli/tests/saelens.rs) runs it with
# $NEUROLAB_PYTHON and fails, saying how to install them, when they are missing.
printf '\n== Python for the SAELens reader (%s)\n' "$HOME/.cache/neurolab/py"
py_venv="$HOME/.cache/neurolab/py"
if ! "$py_venv/bin/python" -c 'import numpy, safetensors' 2>/dev/null; then
  # Debian's python3 makes venvs only with python3-venv (ensurepip); a failed try leaves a
  # venv without pip behind.
  if ! command -v python3 >/dev/null || ! python3 -m venv --clear "$py_venv"; then
    $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends python3 python3-venv
    python3 -m venv --clear "$py_venv"
  fi
  "$py_venv/bin/pip" install --quiet safetensors numpy || \
    echo "warning: safetensors/numpy could not be installed; the SAELens reader test will fail" >&2
fi
export NEUROLAB_PYTHON="$py_venv/bin/python"

printf '\n== native tests (cargo test --release)\n'
cargo test --release --workspace

scripts/web-test.sh

printf '\n== all tests passed in %d s\n' "$((SECONDS - start))"
