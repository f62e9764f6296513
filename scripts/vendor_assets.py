"""Copy the front-end files we use from node_modules into app/static/vendor/.

The list is the one place that says which npm files the browser loads; the
versions are pinned by package-lock.json.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "app" / "static" / "vendor"

# (source under node_modules, destination under app/static/vendor)
FILES: list[tuple[str, str]] = [
    ("idb/build/index.js", "idb/index.js"),
    # The QR decoder for browsers without a native BarcodeDetector: the ES build
    # is self-contained; its WebAssembly is served from our origin (never the
    # CDN the library defaults to) so scanning works offline.
    ("barcode-detector/dist/es/ponyfill.js", "barcode-detector/ponyfill.js"),
    ("barcode-detector/dist/es/zxing-exported.js", "barcode-detector/zxing-exported.js"),
    ("zxing-wasm/dist/reader/zxing_reader.wasm", "zxing-wasm/zxing_reader.wasm"),
    # Smooth signature strokes (velocity-based Bézier curves) on the driver's signature screen only.
    ("signature_pad/dist/signature_pad.min.js", "signature_pad/signature_pad.min.js"),
    ("signature_pad/dist/signature_pad.min.js.map", "signature_pad/signature_pad.min.js.map"),
    # The dispatcher's map: Leaflet draws stops and routes as SVG, so it needs no tile server.
    ("leaflet/dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet/dist/leaflet.css", "leaflet/leaflet.css"),
    ("leaflet/dist/images/layers.png", "leaflet/images/layers.png"),
    ("leaflet/dist/images/layers-2x.png", "leaflet/images/layers-2x.png"),
    ("leaflet/dist/images/marker-icon.png", "leaflet/images/marker-icon.png"),
    ("leaflet/dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
    ("leaflet/dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
]


def main() -> int:
    missing = [src for src, _ in FILES if not (NODE_MODULES / src).exists()]
    if missing:
        print("Missing from node_modules (run `npm ci`):", *missing, sep="\n  ", file=sys.stderr)
        return 1
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for src, dest in FILES:
        target = VENDOR / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE_MODULES / src, target)
    print(f"Copied {len(FILES)} front-end files into {VENDOR.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
