"""trunk post-build hook: fill the Content-Security-Policy of the built index.html with the
SHA-256 hashes of its inline scripts (trunk's wasm loader), so that no other inline script runs;
and fill the service worker (sw.js) with the build's files and a version hashed from them.

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
    service_worker(folder)


def service_worker(folder):
    """Fill sw.js with the build's files and a version (a hash of all of them)."""
    path = os.path.join(folder, "sw.js")
    if not os.path.exists(path):
        return
    files, digest = [], hashlib.sha256()
    for root, _, names in os.walk(folder):
        for name in sorted(names):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, folder).replace(os.sep, "/")
            if rel == "sw.js":
                continue
            files.append("./" + rel)
            with open(full, "rb") as f:
                digest.update(rel.encode() + b"\0" + f.read())
    files.sort()
    with open(path, encoding="utf-8") as f:
        js = f.read()
    js = js.replace("__NEUROLAB_BUILD__", digest.hexdigest()[:16])
    js = js.replace("__NEUROLAB_FILES__", repr(files).replace("'", '"'))
    with open(path, "w", encoding="utf-8") as f:
        f.write(js)
    print(f"csp.py: sw.js caches {len(files)} files")

main()
