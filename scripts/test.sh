#!/usr/bin/env bash
# Every test, as CI runs it (.ci/run calls this):
#   1. native: the core (unit, property, golden grokking run), the spiking crate (incl. its WGSL
#      engine on lavapipe), the CLI, the worker, and the page crate's
#      plain modules — `cargo test --release`
#   2. browser: trunk build, wasm-bindgen tests (CPU + WebGPU) and Playwright journeys in headless
#      Debian Chromium — scripts/web-test.sh
# Installs what is missing (Rust wasm target, trunk, wasm-bindgen-cli, npm packages, Chromium).
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

printf '\n== native tests (cargo test --release)\n'
cargo test --release --workspace

scripts/web-test.sh

printf '\n== all tests passed in %d s\n' "$((SECONDS - start))"
