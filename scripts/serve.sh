#!/usr/bin/env bash
# Build the web app (release, size-optimised) and serve it on http://127.0.0.1:${PORT:-8080}/,
# rebuilding on changes. Installs the missing tools first (scripts/web-setup.sh).
# The first build compiles burn for wasm: ~10 min on 2 cores; later ones take seconds plus
# wasm-opt -Oz (~3 min for the worker with npm's binaryen).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/web-setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
cargo fetch --quiet   # trunk runs cargo --offline
exec trunk serve --release --address 127.0.0.1 --port "${PORT:-8080}" "$@"
