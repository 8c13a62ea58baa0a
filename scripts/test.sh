#!/usr/bin/env bash
# Every test, as CI runs it (.ci/run calls this):
#   1. native: the core (unit, property, golden grokking run) and the CLI, plus the web crate's
#      plain modules — `cargo test --release`
#   2. browser: trunk build, wasm-bindgen tests (CPU + WebGPU) and Playwright journeys in headless
#      Debian Chromium — scripts/web-test.sh
# Installs what is missing (Rust wasm target, trunk, wasm-bindgen-cli, npm packages, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
start=$SECONDS

printf '\n== native tests (cargo test --release)\n'
cargo test --release -p neurolab-spike -p neurolab-core -p neurolab-cli -p neurolab-web -p neurolab-worker

scripts/web-test.sh

printf '\n== all tests passed in %d s\n' "$((SECONDS - start))"
