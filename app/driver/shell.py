"""What the service worker precaches, and the version that names its cache.

The version is a hash of every precached file, so any change to the shell makes
a new ``sw.js`` byte-for-byte, which is how browsers notice an update.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"

# Loaded by the shell page on first paint (and measured against the 100 KB budget).
SHELL_MODULES = (
    "driver/app.js",
    "driver/api.js",
    "driver/db.js",
    "driver/outbox.js",
    "driver/sync.js",
    "driver/ui.js",
    "driver/labelcode.js",
    "driver/location.js",
    "driver/photos.js",
    "driver/screens/route.js",
    "driver/screens/pickup.js",
    "driver/screens/login.js",
    "vendor/idb/index.js",
)
SHELL_STYLES = ("driver/app.css",)
# Loaded when a screen first needs them; precached so they work offline.
LAZY_FILES = (
    "driver/scanner.js",
    "driver/signature.js",
    "driver/screens/scan.js",
    "driver/screens/collect.js",
    "driver/screens/sign.js",
    "driver/screens/fail.js",
    "driver/screens/label.js",
    "driver/screens/photos.js",
    "vendor/barcode-detector/ponyfill.js",
    "vendor/barcode-detector/zxing-exported.js",
    "vendor/zxing-wasm/zxing_reader.wasm",
)
ICONS = (
    "driver/icons/icon-192.png",
    "driver/icons/icon-512.png",
    "driver/icons/maskable-512.png",
    "driver/icons/apple-touch-icon.png",
)
STATIC_FILES = SHELL_MODULES + SHELL_STYLES + LAZY_FILES + ICONS


@lru_cache(maxsize=8)
def shell_version(release: str = "") -> str:
    """A short hash of every precached file plus the deployment's release label."""
    digest = hashlib.sha256(release.encode())
    for name in STATIC_FILES:
        path = STATIC_ROOT / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"missing")
    for template in ("shell.html", "sw.js", "manifest.webmanifest"):
        digest.update((Path(__file__).resolve().parent.parent / "templates" / "driver" / template).read_bytes())
    return digest.hexdigest()[:12]
