"""What the service worker precaches, and the version that names its cache.

The version is a hash of every precached file, so any change to the shell makes
a new ``sw.js`` byte-for-byte, which is how browsers notice an update.
"""
from __future__ import annotations

import hashlib
import posixpath
import re
from functools import lru_cache
from pathlib import Path

STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"

# Loaded by the shell page on first paint (and measured against the 100 KB budget).
SHELL_MODULES = (
    "driver/app.js",
    "driver/api.js",
    "driver/db.js",
    "driver/dom.js",
    "driver/events.js",
    "driver/words.js",
    "driver/settings.js",
    "driver/outbox.js",
    "driver/sync.js",
    "driver/push.js",
    "driver/pull.js",
    "driver/photo-upload.js",
    "driver/label-prefetch.js",
    "driver/triggers.js",
    "driver/widgets.js",
    "driver/labelcode.js",
    "driver/location.js",
    "driver/stops.js",
    "driver/screens/route.js",
    "driver/screens/pickup.js",
    "driver/screens/login.js",
    "vendor/idb/index.js",
)
SHELL_STYLES = ("driver/app.css",)
# Loaded when a screen first needs them; precached so they work offline.
LAZY_FILES = (
    "driver/actions.js",
    "driver/photos.js",
    "driver/scanner.js",
    "driver/signature.js",
    "driver/screens/scan.js",
    "driver/screens/collect.js",
    "driver/screens/sign.js",
    "driver/screens/fail.js",
    "driver/screens/label.js",
    "driver/screens/photos.js",
    "driver/screens/stop.js",
    "vendor/barcode-detector/ponyfill.js",
    "vendor/barcode-detector/zxing-exported.js",
    "vendor/zxing-wasm/zxing_reader.wasm",
    "vendor/signature_pad/signature_pad.min.js",
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


_STATIC_IMPORT = re.compile(r"""^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']""", re.MULTILINE)


def static_import_graph(entry: str = "driver/app.js") -> set[str]:
    """Every module reachable from ``entry`` by static imports (what the first load needs)."""
    seen: set[str] = set()
    pending = [entry]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        source = (STATIC_ROOT / name).read_text()
        for target in _STATIC_IMPORT.findall(source):
            pending.append(posixpath.normpath(posixpath.join(posixpath.dirname(name), target)))
    return seen
