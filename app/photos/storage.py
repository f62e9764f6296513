"""Photo files on disk: server-made names, atomic writes, nothing half-written.

A file appears under its final name only when it is complete (temp file in the
same folder, fsync, ``os.replace``), so an upload cut at any point leaves no
photo behind; stray temp files from a killed process are swept by
``remove_stray_files`` (run by ``flask --app wsgi sync purge``).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask import current_app

TEMP_PREFIX = ".upload-"


def storage_root() -> Path:
    """The folder that holds every photo file (``PHOTO_STORAGE_DIR``)."""
    return Path(current_app.config["PHOTO_STORAGE_DIR"])


def photo_file_names(photo_id: str, sha256: str) -> tuple[str, str]:
    """The photo's and its thumbnail's names; the hash in the name keeps two different uploads apart."""
    stem = f"{photo_id[:2]}/{photo_id}-{sha256[:16]}"
    return f"{stem}.jpg", f"{stem}.thumb.jpg"


def path_of(name: str) -> Path:
    """The absolute path of a stored file name, refusing anything outside the storage folder."""
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
    """Delete these stored files; missing ones are fine."""
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            path_of(name).unlink()


def remove_stray_files(kept: Callable[[list[str]], set[str]], older_than_seconds: int = 3600) -> int:
    """Delete what a process killed mid-upload left behind; answer how many files.

    Temp files, and photo files whose database row was never committed (the
    process died between writing the file and committing). ``kept`` answers
    which of the given names the database knows. Young files are left alone:
    their upload may still be running.
    """
    root = storage_root()
    if not root.exists():
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    candidates: list[Path] = []
    for path in root.rglob("*"):
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                if path.name.startswith(TEMP_PREFIX):
                    path.unlink()
                    removed += 1
                else:
                    candidates.append(path)
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        names = [path.relative_to(root).as_posix() for path in chunk]
        known = kept(names)
        for path, name in zip(chunk, names, strict=True):
            if name not in known:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
    return removed
