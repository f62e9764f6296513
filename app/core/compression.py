"""Responses compressed by the app (flask-compress: brotli, else gzip).

Static files come from ``send_file`` as a stream over an open file. flask-compress
wraps such a stream in a generator of its own and never closes the file under it
(one leaked file handle per compressed CSS or JS request), and it picks its
streaming algorithms instead of the configured ones. Static files are small, so
they are read into memory first (the file is closed when the response is) and
compressed like any other body, with a Content-Length.
"""
from __future__ import annotations

from flask import Flask, Response

from app.extensions import compress


def register_compression(app: Flask) -> None:
    compress.init_app(app)
    # Registered after flask-compress's own hook, so it runs before it (Flask runs them last first).
    app.after_request(_read_compressible_files)


def _read_compressible_files(response: Response) -> Response:
    if response.direct_passthrough and response.mimetype in compress.compress_mimetypes_set:
        response.direct_passthrough = False
        response.make_sequence()  # closes the file when the response is closed
    return response
