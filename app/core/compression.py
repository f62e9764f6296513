"""Static files read whole before flask-compress sees them.

flask-compress compresses a streamed answer by iterating it into a new generator
and drops the original iterable without closing it: for a static file that is
an open file descriptor per request (a ResourceWarning in every browser test,
and a slow fd leak in production). Our static files are small (the largest, a
WebAssembly decoder, is about 1 MB), so they are read into memory and the file
closed first; the compressor then takes its non-streamed path.
"""
from __future__ import annotations

from flask import Flask, Response, request


def register_file_buffering(app: Flask) -> None:
    """Call after ``compress.init_app``: after-request hooks run last-registered first, so this runs before it."""

    @app.after_request
    def read_static_files_whole(response: Response) -> Response:
        if request.endpoint == "static" and response.is_streamed and response.status_code == 200:
            body = response.response
            try:
                data = b"".join(body)  # type: ignore[arg-type]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
            response.direct_passthrough = False
            response.set_data(data)
        return response
