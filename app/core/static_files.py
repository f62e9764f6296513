"""Static files under content-hashed URLs, kept by browsers for a year; any other static URL revalidated.

``url_for("static", filename=F)`` gives ``/static/F?v=<12 hex of F's SHA-256>``. A changed file
has a new URL, so the old one can be cached as ``immutable``: the console no longer re-checks its
CSS and scripts on every page, and a release is seen at once because its pages name new URLs.

Why a query, and not renamed copies with a manifest (flask-static-digest's way): there is nothing to
build before serving and nothing that can fall out of step with the files (no ``digest compile``
at deploy time, no stale manifest under a developer's hands); ES modules and stylesheets that name
each other by relative path keep working unchanged; flask-compress keeps compressing the one copy;
and every instance of one release computes the same URL from the same bytes, so a page rendered by
one instance loads from any other.

Only a ``v`` equal to the file's current hash is cached for good. During a rolling upgrade a page
from one release may ask another instance for its files: that instance sends what it has, marked
``no-cache``, so an old URL is never pinned to new bytes (or a new URL to old ones).
"""
from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"  # may be stored, but asked about (ETag → 304) before each use
_DIGEST_LENGTH = 12

# path → (mtime_ns, size, digest): re-hashed only when the file changes, so an edit shows at once.
_digests: dict[str, tuple[int, int, str]] = {}


def static_digest(filename: str) -> str | None:
    """The short content hash of a file in the static folder, or None when there is no such file."""
    folder = current_app.static_folder
    path = safe_join(folder, filename) if folder else None
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    known = _digests.get(path)
    if known and known[0] == stat.st_mtime_ns and known[1] == stat.st_size:
        return known[2]
    try:
        with open(path, "rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()[:_DIGEST_LENGTH]
    except (IsADirectoryError, OSError):
        return None
    _digests[path] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def register_static_digests(app: Flask) -> None:
    @app.url_defaults
    def add_content_hash(endpoint: str, values: dict[str, Any]) -> None:
        # `v=None` asks for the plain URL (an import map's key); Werkzeug drops None values.
        if endpoint == "static" and "v" not in values and "filename" in values:
            digest = static_digest(values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def cache_static_files(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            asked = request.args.get("v")
            fresh = asked is not None and asked == static_digest(filename)
            response.headers["Cache-Control"] = IMMUTABLE if fresh else REVALIDATE
            response.headers.pop("Expires", None)
        return response
