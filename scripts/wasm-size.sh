#!/usr/bin/env bash
# Print raw and gzip -9 sizes of the wasm files in a dist directory (default dist/).
set -euo pipefail
dir="${1:-dist}"
for f in "$dir"/*.wasm; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  awk -v f="$(basename "$f")" -v r="$raw" -v g="$gz" \
    'BEGIN { printf "%-36s raw %7.2f MB   gzip %6.2f MB\n", f, r / 1e6, g / 1e6 }'
done
