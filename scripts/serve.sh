#!/usr/bin/env bash
# Build the web app (size-optimised `wasm-release` profile, wasm-opt -Oz) and serve it on
# http://127.0.0.1:${PORT:-8080}/, rebuilding on changes. Installs the missing tools first
# (scripts/web-setup.sh). The first build compiles burn for wasm: ~15 min on 2 cores; a rebuild
# after an edit ~3-4 min (LTO link + wasm-opt). WASM_PROFILE=release links faster (bigger wasm).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/web-setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
cargo fetch --quiet   # trunk runs cargo --offline
exec trunk serve --release --cargo-profile "${WASM_PROFILE:-wasm-release}" \
  --address 127.0.0.1 --port "${PORT:-8080}" "$@"
