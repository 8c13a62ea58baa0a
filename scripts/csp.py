"""trunk post-build hook: fill the Content-Security-Policy of the built index.html with the
SHA-256 hashes of its inline scripts (trunk's wasm loader), so that no other inline script runs.

Run by trunk (Trunk.toml [[hooks]], TRUNK_STAGING_DIR set) or by hand: python3 scripts/csp.py dist
"""
import base64
import hashlib
import os
import re
import sys

PLACEHOLDER = "INLINE_SCRIPT_HASHES"

def main():
    folder = os.environ.get("TRUNK_STAGING_DIR") or (sys.argv[1] if len(sys.argv) > 1 else "dist")
    path = os.path.join(folder, "index.html")
    with open(path, encoding="utf-8") as f:
        html = f.read()
    if PLACEHOLDER not in html:
        sys.exit(f"csp.py: {path} has no {PLACEHOLDER} in its Content-Security-Policy")
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)
    hashes = " ".join(
        "'sha256-%s'" % base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode()
        for s in scripts
    )
    with open(path, "w", encoding="utf-8") as f:
        f.write(html.replace(PLACEHOLDER, hashes))
    print(f"csp.py: {len(scripts)} inline script(s) allowed by hash in {path}")

main()
