#!/usr/bin/env bash
# Install what the web build needs, each only when missing: the wasm32 target, trunk 0.21.14,
# wasm-bindgen-cli 0.2.130 and the npm packages (playwright-core; binaryen for wasm-opt; axe-core for the accessibility scan).
# With --browser also Debian's chromium + chromium-driver (apt-get; needs root or sudo).
# Needs only rustup/cargo/node/npm. Never downloads a browser through Playwright.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if ! trunk --version 2>/dev/null | grep -q ' 0\.21\.14'; then
  # trunk 0.22 needs a newer rustc; 0.21.14 is the verified one (~9 min to build on 2 cores).
  cargo install trunk --version 0.21.14 --locked
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q ' 0\.2\.130'; then
  # Must equal the wasm-bindgen crate in Cargo.lock. No --locked: its lock file names a
  # webpki-roots version the registry no longer has.
  cargo install wasm-bindgen-cli --version 0.2.130
fi
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] || [ ! -f node_modules/axe-core/axe.min.js ]; then
  npm ci --no-audit --no-fund
fi
if [ -x /usr/bin/wasm-opt ] && ! /usr/bin/wasm-opt --version | grep -q 'version 1[2-9][0-9]'; then
  echo "warning: /usr/bin/wasm-opt ($(/usr/bin/wasm-opt --version)) is old and breaks the wasm;" \
       "the scripts put node_modules/.bin first on PATH" >&2
fi

if [ "${1:-}" = "--browser" ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends chromium chromium-driver
  fi
fi
