"""Photo files on disk: server-made names, atomic writes, nothing half-written.

A file appears under its final name only when it is complete (temp file in the
same folder, fsync, ``os.replace``), so an upload cut at any point leaves no
photo behind; stray temp files from a killed process are swept by
``remove_stray_uploads``.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

from flask import current_app

TEMP_PREFIX = ".upload-"


def storage_root() -> Path:
    return Path(current_app.config["PHOTO_STORAGE_DIR"])


def photo_file_names(photo_id: str, sha256: str) -> tuple[str, str]:
    """The photo's and its thumbnail's names; the hash in the name keeps two different uploads apart."""
    stem = f"{photo_id[:2]}/{photo_id}-{sha256[:16]}"
    return f"{stem}.jpg", f"{stem}.thumb.jpg"


def path_of(name: str) -> Path:
    root = storage_root().resolve()
    path = (root / name).resolve()
    if root not in path.parents:  # names are ours, but never trust a path
        raise ValueError(f"photo file name outside the storage folder: {name!r}")
    return path


def write_atomically(name: str, data: bytes) -> None:
    """Write ``data`` under ``name`` so that readers see the whole file or none of it."""
    path = path_of(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def remove_files(*names: str) -> None:
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            path_of(name).unlink()


def remove_stray_uploads(older_than_seconds: int = 3600) -> int:
    """Delete temp files left by a process killed mid-write; answer how many."""
    root = storage_root()
    if not root.exists():
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in root.rglob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed
