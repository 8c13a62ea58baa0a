#!/usr/bin/env bash
# Build the web app and run its browser tests, exactly as CI does:
#   1. trunk build --release --cargo-profile wasm-release  → dist/ (both wasm files, wasm-opt -Oz)
#   2. wasm-bindgen tests in headless Chromium: crates/worker/tests/web.rs (CPU), web_gpu.rs (WebGPU)
#      and web_spike_gpu.rs (the spiking WGSL engine on WebGPU against the CPU engine)
#   3. Playwright end-to-end journeys: tests/e2e/*.test.mjs (screenshots in artifacts/)
# Exits non-zero when any step fails. Installs what is missing first (scripts/web-setup.sh).
# The wasm tests use the same cargo profile as dist/, so burn is compiled for wasm only once
# (cold: ~15 min on 2 cores; each test binary's LTO link then takes ~2 min).
# WASM_PROFILE=release: faster links, bigger wasm. SKIP_BUILD=1 reuses an existing dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/web-setup.sh --browser
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
cargo fetch --quiet   # trunk and the tests run cargo --offline

step() { printf '\n== %s\n' "$*"; }
start=$SECONDS
profile="${WASM_PROFILE:-wasm-release}"

if [ -z "${SKIP_BUILD:-}" ]; then
  step "trunk build --release --cargo-profile $profile"
  trunk build --release --cargo-profile "$profile"
fi
scripts/wasm-size.sh dist

step "wasm-bindgen tests in headless Chromium (CPU and WebGPU)"
CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}" WASM_BINDGEN_TEST_TIMEOUT=180 \
  cargo test --offline --target wasm32-unknown-unknown --profile "$profile" -p neurolab-worker --test web --test web_gpu --test web_gpu_lost --test web_spike_gpu

step "end-to-end tests (Playwright, system Chromium)"
mkdir -p artifacts
node --test --test-concurrency=1 tests/e2e/

step "all web tests passed in $((SECONDS - start)) s; screenshots in artifacts/"
